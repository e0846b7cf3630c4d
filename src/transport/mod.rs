//! Transports (filled below).
