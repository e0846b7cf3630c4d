//! Transports: code that only moves bytes and time between sockets and the
//! sans-IO machines of [`crate::session`].

pub mod zmq;
