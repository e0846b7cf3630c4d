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

#[cfg(feature = "jpeg")]
use crate::jpeg::JpegOptions;
use crate::json::Value;
use crate::session::Config;
use socket::Role;

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

/// The checks both adapters make of their options, in mirror image: a
/// server may connect to several ports only in multi-client mode, a client
/// bind several only in multi-server mode, and the end that announces its
/// port in every message (a multi-server server, a multi-client client)
/// announces the first one unless told otherwise.
fn check_options(
    role: Role,
    ports: &[String],
    config: &mut Config,
    #[cfg(feature = "jpeg")] jpeg: Option<&JpegOptions>,
) -> Result<(), Error> {
    #[cfg(feature = "jpeg")]
    if let Some(options) = jpeg {
        options
            .validate()
            .map_err(|e| Error::Options(e.to_string()))?;
    }
    let (several_allowed, mode, announces) = match role {
        Role::Server => (config.multiclient, "multi-client", config.multiserver),
        Role::Client => (config.multiserver, "multi-server", config.multiclient),
    };
    let Some(first) = ports.first() else {
        return Err(Error::Options("no port given".into()));
    };
    if ports.len() > 1 && !several_allowed {
        return Err(Error::Options(format!("several ports need {mode} mode")));
    }
    if announces && config.port.is_none() {
        config.port = Some(Value::String(first.clone()));
    }
    Ok(())
}
