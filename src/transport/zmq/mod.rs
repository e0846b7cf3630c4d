//! Blocking adapters over libzmq (the `zmq` crate), the engine pyzmq and
//! therefore vidgear use.
//!
//! [`Server`] and [`Client`] mirror vidgear's `NetGear` in send and receive
//! mode. They own a socket and a state machine and do nothing but carry
//! parts between the two, wait on the socket until the machine's next
//! deadline (no polling loop, no sleeping), and carry out socket resets.

mod client;
mod error;
mod server;
mod socket;

pub use client::{Client, ClientOptions, Received};
pub use error::Error;
pub use server::{Sent, Server, ServerOptions};

use std::fmt;
use std::str::FromStr;

/// The transport protocol of the endpoint (`tcp` or `ipc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// `tcp://address:port`
    #[default]
    Tcp,
    /// `ipc://address:port` — vidgear joins address and port with a colon for
    /// ipc too, so the socket file is named `address:port`.
    Ipc,
}

impl Protocol {
    /// The scheme name.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Ipc => "ipc",
        }
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Protocol, String> {
        match s {
            "tcp" => Ok(Protocol::Tcp),
            "ipc" => Ok(Protocol::Ipc),
            other => Err(format!("unknown protocol {other:?} (expected tcp or ipc)")),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The endpoint strings for `address` and each port, as vidgear forms them.
///
/// ```
/// use netgear::transport::zmq::{endpoints, Protocol};
/// assert_eq!(endpoints(Protocol::Tcp, "localhost", &["5555".into()]), ["tcp://localhost:5555"]);
/// ```
pub fn endpoints(protocol: Protocol, address: &str, ports: &[String]) -> Vec<String> {
    ports
        .iter()
        .map(|p| format!("{}://{}:{}", protocol.name(), address, p))
        .collect()
}
