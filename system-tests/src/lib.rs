//! netgear's tests that need the system: see `tests/`.
