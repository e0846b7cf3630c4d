//! The server and client state machines (sans-IO).
//!
//! Feed a machine what happened — `handle_message(parts, now)`,
//! `handle_timeout(now)`, user actions such as `send_frame` — and drain what
//! it wants: `poll_transmit()` (parts to send, or a socket reset),
//! `poll_event()` (what the application should learn) and `poll_timeout()`
//! (when to call `handle_timeout` next). Time is always a parameter; the
//! machines never read a clock, touch a socket or spawn a thread.
//!
//! The states and transitions are the tables of spec/05-session.md.

mod client;
mod config;
mod server;
mod servers;

pub use client::{Client, ClientEvent, ClientState, Delivery};
pub use config::{Config, ConfigError, Pattern, Role, UnknownPattern};
pub use server::{SendError, Server, ServerEvent, ServerState};

use crate::wire::Parts;

/// What a machine asks its transport to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Transmit {
    /// Send these parts as one multipart message.
    Send(Parts),
    /// Close the socket and open a fresh one at the same endpoint(s)
    /// (reconnect for a server, rebind for a client): the Lazy Pirate reset.
    ResetSocket,
}
