//! Where and how the adapters bind and connect. The session rules live in
//! [`Config`]; these are the socket's address, ports and protocol only.

use std::fmt;
use std::str::FromStr;

use super::{ClientSecurity, ServerSecurity};
use crate::session::Config;

/// The transport protocol of the endpoint (`tcp` or `ipc`).
///
/// ```
/// use netgear::transport::zmq::Protocol;
/// assert_eq!("ipc".parse::<Protocol>(), Ok(Protocol::Ipc));
/// assert_eq!(Protocol::Tcp.to_string(), "tcp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `tcp://address:port`
    #[default]
    Tcp,
    /// `ipc://address:port` — vidgear joins address and port with a colon for
    /// ipc too, so the socket file is named `address:port`.
    Ipc,
}

/// A protocol name other than `tcp` and `ipc`.
///
/// ```
/// use netgear::transport::zmq::Protocol;
/// let err = "udp".parse::<Protocol>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown protocol \"udp\" (expected tcp or ipc)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?} (expected tcp or ipc)")]
pub struct UnknownProtocol(pub String);

impl Protocol {
    /// The scheme name.
    ///
    /// ```
    /// assert_eq!(netgear::transport::zmq::Protocol::Ipc.name(), "ipc");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Ipc => "ipc",
        }
    }
}

impl FromStr for Protocol {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Protocol, UnknownProtocol> {
        match s {
            "tcp" => Ok(Protocol::Tcp),
            "ipc" => Ok(Protocol::Ipc),
            other => Err(UnknownProtocol(other.to_owned())),
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

/// Where and how a [`super::Server`] connects. Defaults are vidgear's:
/// `tcp://localhost:5555`, pattern 0, plain mode.
///
/// ```
/// use netgear::session::Config;
/// use netgear::transport::zmq::ServerOptions;
/// let o = ServerOptions::new().address("10.0.0.7").port(5566).config(Config::new().bidirectional(true));
/// assert_eq!((o.address.as_str(), o.ports.as_slice()), ("10.0.0.7", &["5566".to_string()][..]));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Host (tcp) or path prefix (ipc) of the client(s).
    pub address: String,
    /// One port, or the clients' ports in multi-client mode. In multi-server
    /// mode, the single port is also announced in every header.
    pub ports: Vec<String>,
    /// `tcp` or `ipc`.
    pub protocol: Protocol,
    /// The session rules.
    pub config: Config,
    /// Secure mode (vidgear's `secure_mode` 1 and 2); `None`: plain
    /// (Grasslands).
    pub security: Option<ServerSecurity>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            address: "localhost".into(),
            ports: vec!["5555".into()],
            protocol: Protocol::Tcp,
            config: Config::default(),
            security: None,
        }
    }
}

/// Where and how a [`super::Client`] binds. Defaults are vidgear's:
/// `tcp://*:5555`, pattern 0, plain mode, a random device id.
///
/// ```
/// use netgear::transport::zmq::{ClientOptions, Protocol};
/// let o = ClientOptions::new().protocol(Protocol::Ipc).address("/tmp/cam").port(5555);
/// assert_eq!(o.address, "/tmp/cam");
/// assert_eq!(ClientOptions::default().address, "*");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Interface to bind (`*` for all) or ipc path prefix.
    pub address: String,
    /// One port, or the servers' ports in multi-server mode. In multi-client
    /// mode, the single port is also announced in every reply.
    pub ports: Vec<String>,
    /// `tcp` or `ipc`.
    pub protocol: Protocol,
    /// The session rules.
    pub config: Config,
    /// The id in plain-mode confirmations; random when `None`.
    pub device_id: Option<String>,
    /// Secure mode (vidgear's `secure_mode` 1 and 2); `None`: plain
    /// (Grasslands).
    pub security: Option<ClientSecurity>,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            address: "*".into(),
            ports: vec!["5555".into()],
            protocol: Protocol::Tcp,
            config: Config::default(),
            device_id: None,
            security: None,
        }
    }
}

/// The builder methods both option structs share.
macro_rules! endpoint_builders {
    ($options:ident) => {
        impl $options {
            /// vidgear's defaults.
            pub fn new() -> $options {
                $options::default()
            }

            /// Sets the host (tcp) or path prefix (ipc).
            #[must_use]
            pub fn address(mut self, address: impl Into<String>) -> $options {
                self.address = address.into();
                self
            }

            /// Sets the one port.
            #[must_use]
            pub fn port(mut self, port: impl ToString) -> $options {
                self.ports = vec![port.to_string()];
                self
            }

            /// Sets several ports (the multi modes).
            #[must_use]
            pub fn ports<P: ToString>(mut self, ports: impl IntoIterator<Item = P>) -> $options {
                self.ports = ports.into_iter().map(|p| p.to_string()).collect();
                self
            }

            /// Sets the protocol.
            #[must_use]
            pub fn protocol(mut self, protocol: Protocol) -> $options {
                self.protocol = protocol;
                self
            }

            /// Sets the session rules.
            #[must_use]
            pub fn config(mut self, config: Config) -> $options {
                self.config = config;
                self
            }

            /// The endpoints these options name.
            pub fn endpoints(&self) -> Vec<String> {
                endpoints(self.protocol, &self.address, &self.ports)
            }
        }
    };
}

endpoint_builders!(ServerOptions);
endpoint_builders!(ClientOptions);

impl ClientOptions {
    /// Sets the id written in plain-mode confirmations.
    ///
    /// ```
    /// let o = netgear::transport::zmq::ClientOptions::new().device_id("CAMERA01");
    /// assert_eq!(o.device_id.as_deref(), Some("CAMERA01"));
    /// ```
    #[must_use]
    pub fn device_id(mut self, id: impl Into<String>) -> ClientOptions {
        self.device_id = Some(id.into());
        self
    }

    /// Sets secure mode (or, with `None`, plain mode): this end binds as
    /// the CURVE server and checks who connects.
    ///
    /// ```
    /// use netgear::transport::zmq::keys::KeyPair;
    /// use netgear::transport::zmq::{ClientOptions, ClientSecurity};
    /// let o = ClientOptions::new().security(ClientSecurity::stonehouse(KeyPair::generate()));
    /// assert!(o.security.is_some());
    /// ```
    #[must_use]
    pub fn security(mut self, security: impl Into<Option<ClientSecurity>>) -> ClientOptions {
        self.security = security.into();
        self
    }
}

impl ServerOptions {
    /// Sets secure mode (or, with `None`, plain mode): this end connects
    /// as the CURVE client and checks the receiver's key.
    ///
    /// ```
    /// use netgear::transport::zmq::keys::KeyPair;
    /// use netgear::transport::zmq::{ServerOptions, ServerSecurity};
    /// let server_key = *KeyPair::generate().public();
    /// let o = ServerOptions::new().security(ServerSecurity::new(KeyPair::generate(), server_key));
    /// assert!(o.security.is_some());
    /// ```
    #[must_use]
    pub fn security(mut self, security: impl Into<Option<ServerSecurity>>) -> ServerOptions {
        self.security = security.into();
        self
    }
}
