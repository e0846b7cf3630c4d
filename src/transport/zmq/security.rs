//! Secure mode: vidgear's StoneHouse and IronHouse, CURVE by libzmq
//! (spec/10).
//!
//! The ends are the other way round from their names: the binding end (a
//! NetGear *client*, the receiver) is the CURVE *server* and holds the
//! server key pair; the connecting end (a NetGear *server*, the sender) is
//! the CURVE client, with the client key pair and the server's public key.
//! Hence [`ClientSecurity`] holds the server keys and [`ServerSecurity`]
//! the client keys.
//!
//! Secure mode never falls back to plaintext: a build whose libzmq has no
//! CURVE, a key that cannot be read, a handler that cannot start, each is
//! an [`Error::Security`](super::Error::Security) from `connect`/`bind`.

use std::collections::BTreeSet;

use super::keys::{read_pair, read_public, read_public_dir, KeyDir, KeyError, KeyPair, PublicKey};
use super::zap::Policy;
use super::SocketError;

/// Secure mode for a [`super::Server`] (the sending, connecting end):
/// its own key pair (vidgear's `client` keys) and the public key the
/// receiver must prove it holds (vidgear's `server.key`).
///
/// ```
/// use netgear::transport::zmq::keys::KeyPair;
/// use netgear::transport::zmq::{ServerOptions, ServerSecurity};
/// let (client, server) = (KeyPair::generate(), KeyPair::generate());
/// let options = ServerOptions::new().security(ServerSecurity::new(client, *server.public()));
/// assert!(options.security.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct ServerSecurity {
    pub(crate) own: KeyPair,
    pub(crate) server_key: PublicKey,
}

impl ServerSecurity {
    /// Connect with `own` keys to the receiver whose public key is `server_key`.
    pub fn new(own: KeyPair, server_key: PublicKey) -> ServerSecurity {
        ServerSecurity { own, server_key }
    }

    /// The keys as vidgear's sender reads them from its key directory:
    /// `private_keys/client.key_secret` and `public_keys/server.key`.
    ///
    /// ```
    /// # let tmp = tempfile::tempdir()?;
    /// use netgear::transport::zmq::keys::KeyDir;
    /// use netgear::transport::zmq::ServerSecurity;
    /// let dir = KeyDir::new(tmp.path());
    /// dir.generate()?;
    /// let security = ServerSecurity::from_dir(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_dir(dir: &KeyDir) -> Result<ServerSecurity, KeyError> {
        Ok(ServerSecurity {
            own: read_pair(&dir.client_secret())?,
            server_key: read_public(&dir.server_public())?,
        })
    }
}

/// Secure mode for a [`super::Client`] (the receiving, binding end): its
/// key pair (vidgear's `server` keys) and who may connect.
///
/// StoneHouse lets in any client that completes the CURVE handshake with
/// this end's public key; IronHouse only clients whose public key is
/// listed. Either may also restrict the peers' addresses.
///
/// ```
/// use netgear::transport::zmq::keys::KeyPair;
/// use netgear::transport::zmq::{ClientOptions, ClientSecurity};
/// let (server, camera) = (KeyPair::generate(), KeyPair::generate());
/// let security = ClientSecurity::ironhouse(server, [*camera.public()]).allow_address("127.0.0.1");
/// let options = ClientOptions::new().security(security);
/// assert!(options.security.as_ref().is_some_and(|s| s.is_ironhouse()));
/// ```
#[derive(Debug, Clone)]
pub struct ClientSecurity {
    pub(crate) own: KeyPair,
    pub(crate) policy: Policy,
}

impl ClientSecurity {
    /// StoneHouse: encrypted, any client key accepted.
    pub fn stonehouse(own: KeyPair) -> ClientSecurity {
        ClientSecurity {
            own,
            policy: Policy::default(),
        }
    }

    /// IronHouse: encrypted, only the `allowed` client keys accepted.
    pub fn ironhouse(own: KeyPair, allowed: impl IntoIterator<Item = PublicKey>) -> ClientSecurity {
        ClientSecurity {
            own,
            policy: Policy {
                keys: Some(allowed.into_iter().collect()),
                ..Policy::default()
            },
        }
    }

    /// StoneHouse with vidgear's receiver keys: `private_keys/server.key_secret`.
    pub fn stonehouse_from(dir: &KeyDir) -> Result<ClientSecurity, KeyError> {
        Ok(ClientSecurity::stonehouse(read_pair(&dir.server_secret())?))
    }

    /// IronHouse as vidgear's receiver: `private_keys/server.key_secret`,
    /// and every `public_keys/*.key` allowed.
    ///
    /// ```
    /// # let tmp = tempfile::tempdir()?;
    /// use netgear::transport::zmq::keys::{read_public, KeyDir};
    /// use netgear::transport::zmq::ClientSecurity;
    /// let dir = KeyDir::new(tmp.path());
    /// dir.generate()?;
    /// let security = ClientSecurity::ironhouse_from(&dir)?;
    /// let client = read_public(&dir.public_dir().join("client.key"))?;
    /// assert!(security.allowed_keys().is_some_and(|keys| keys.contains(&client)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ironhouse_from(dir: &KeyDir) -> Result<ClientSecurity, KeyError> {
        let own = read_pair(&dir.server_secret())?;
        Ok(ClientSecurity::ironhouse(
            own,
            read_public_dir(&dir.public_dir())?,
        ))
    }

    /// Lets in only peers at `address` (an IP address as text, e.g.
    /// `127.0.0.1`); may be given several times. Without it, any address.
    #[must_use]
    pub fn allow_address(mut self, address: impl Into<String>) -> ClientSecurity {
        self.policy.addresses.insert(address.into());
        self
    }

    /// True in IronHouse (only listed keys).
    pub fn is_ironhouse(&self) -> bool {
        self.policy.keys.is_some()
    }

    /// IronHouse's allowed client keys (`None` in StoneHouse).
    pub fn allowed_keys(&self) -> Option<&BTreeSet<PublicKey>> {
        self.policy.keys.as_ref()
    }

    /// The addresses allowed (empty: any).
    pub fn allowed_addresses(&self) -> &BTreeSet<String> {
        &self.policy.addresses
    }
}

/// Why secure mode could not be set up; nothing was bound or connected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// This build's libzmq has no CURVE.
    #[error("this build's libzmq has no CURVE: build netgear with `--features curve` (in a project of your own, also copy netgear's [patch.crates-io] of zmq-sys)")]
    NoCurve,
    /// A key file or directory cannot be used.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The authentication handler (ZAP) could not start: another one is
    /// bound in the same context, or libzmq refused.
    #[error("cannot start the ZAP authentication handler: {0}")]
    Handler(SocketError),
}

impl SecurityError {
    /// A stable identifier of the error (spec/08 §8.6).
    ///
    /// ```
    /// use netgear::transport::zmq::SecurityError;
    /// assert_eq!(SecurityError::NoCurve.code(), "security-no-curve");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            SecurityError::NoCurve => "security-no-curve",
            SecurityError::Keys(e) => e.code(),
            SecurityError::Handler(_) => "security-handler",
        }
    }
}

/// Whether this build's libzmq can do CURVE (secure mode).
///
/// ```
/// let secure = netgear::transport::zmq::curve_available();
/// assert_eq!(secure, cfg!(feature = "curve"));
/// ```
pub fn curve_available() -> bool {
    zmq::has("curve") == Some(true)
}

/// Secure mode as one socket applies it.
#[derive(Debug, Clone)]
pub(crate) enum Curve {
    /// The connecting end (a NetGear server): CURVE client.
    Connecting(ServerSecurity),
    /// The binding end (a NetGear client): CURVE server.
    Binding(ClientSecurity),
}

impl Curve {
    /// Sets the CURVE options on a fresh socket (also after every reset).
    pub(crate) fn apply(&self, socket: &zmq::Socket) -> zmq::Result<()> {
        match self {
            Curve::Connecting(s) => {
                socket.set_curve_serverkey(s.server_key.as_bytes())?;
                socket.set_curve_publickey(s.own.public().as_bytes())?;
                socket.set_curve_secretkey(s.own.secret().expose())
            }
            Curve::Binding(c) => {
                socket.set_curve_server(true)?;
                socket.set_curve_publickey(c.own.public().as_bytes())?;
                socket.set_curve_secretkey(c.own.secret().expose())?;
                socket.set_zap_domain("netgear")
            }
        }
    }
}
