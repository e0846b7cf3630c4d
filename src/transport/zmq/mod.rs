//! Blocking adapters over libzmq (the `zmq` crate), the engine pyzmq and
//! therefore vidgear use.
//!
//! [`Server`] and [`Client`] mirror vidgear's `NetGear` in send and receive
//! mode. They own a socket and a state machine and do nothing but carry
//! parts between the two, wait on the socket until the machine's next
//! deadline (no polling loop, no sleeping), and carry out socket resets.

mod client;
mod error;
pub mod keys;
mod options;
mod security;
mod server;
mod socket;
mod zap;

pub use client::Client;
pub use error::{Error, SocketError};
pub use options::{endpoints, ClientOptions, Protocol, ServerOptions, UnknownProtocol};
pub use security::{curve_available, ClientSecurity, SecurityError, ServerSecurity};
pub use server::{Outcome, Sent, Server};
