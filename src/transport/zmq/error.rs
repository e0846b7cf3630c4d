//! Errors of the zmq adapters: only what ends a session or refuses a call.
//! What becomes of one frame (a rejection, a malformed answer) is an
//! outcome, not an error: see [`super::Outcome`] and
//! [`crate::session::ClientEvent`].

use std::fmt;

use super::SecurityError;
use crate::json::SerializeError;
use crate::session::ConfigError;

/// An error libzmq reported. Its errno and text are available; the
/// underlying `zmq::Error` is not part of netgear's API, but it is the
/// [`std::error::Error::source`] of [`Error::Socket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketError(pub(crate) zmq::Error);

impl SocketError {
    /// The POSIX errno libzmq gave.
    ///
    /// ```
    /// # use netgear::transport::zmq::{ClientOptions, Client, Error, Protocol};
    /// // Binding an ipc endpoint in a directory that does not exist fails.
    /// let options = ClientOptions::new()
    ///     .protocol(Protocol::Ipc)
    ///     .address("/nonexistent-netgear-dir/cam")
    ///     .port(5555);
    /// let Err(Error::Socket { source, .. }) = Client::bind(options) else { panic!() };
    /// assert!(source.errno() > 0);
    /// ```
    pub fn errno(&self) -> i32 {
        self.0.to_raw()
    }

    /// True when a blocking call was cut short by a signal (Ctrl-C).
    ///
    /// ```
    /// # use netgear::transport::zmq::{ClientOptions, Client, Error, Protocol};
    /// let options = ClientOptions::new()
    ///     .protocol(Protocol::Ipc)
    ///     .address("/nonexistent-netgear-dir/cam")
    ///     .port(5555);
    /// let Err(Error::Socket { source, .. }) = Client::bind(options) else { panic!() };
    /// assert!(!source.is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        self.0 == zmq::Error::EINTR
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// What went wrong in a zmq adapter: the session cannot go on, or the call
/// was refused before anything was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration (or the ports) break a protocol rule.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// libzmq refused an operation.
    #[error("zmq {operation} failed on {endpoint}: {source}")]
    Socket {
        /// What was being done (`bind`, `connect`, `send`, ...).
        operation: &'static str,
        /// The endpoint(s) concerned.
        endpoint: String,
        /// libzmq's error.
        source: SocketError,
    },
    /// The message could not be turned into JSON; nothing was sent.
    #[error("the message cannot be sent as JSON: {0}")]
    Message(#[from] SerializeError),
    /// The client stayed silent through the whole retry budget: frame `seq`
    /// is lost.
    #[error("the peer stopped answering: no reply to frame {seq} after {retries} silent period(s) of {timeout_secs} s")]
    PeerGone {
        /// The frame that was lost.
        seq: u64,
        /// Silent periods endured.
        retries: u32,
        /// The request timeout in seconds.
        timeout_secs: f64,
    },
    /// No frame came from the server(s) through the whole retry budget.
    #[error("the server stopped sending: no frame for {retries} silent period(s) of {timeout_secs} s ({frames_received} frame(s) received)")]
    ServerGone {
        /// Frames received before the silence.
        frames_received: u64,
        /// Silent periods endured.
        retries: u32,
        /// The silence period in seconds (3 × the request timeout).
        timeout_secs: f64,
    },
    /// Pattern 2: no frame came for the subscriber timeout.
    #[error("the publisher fell silent: no frame for {timeout_secs} s ({frames_received} frame(s) received)")]
    PublisherSilent {
        /// Frames received before the silence.
        frames_received: u64,
        /// The subscriber timeout in seconds.
        timeout_secs: f64,
    },
    /// The session is closed (or failed earlier): nothing more can be sent.
    #[error("the session is closed")]
    Closed,
    /// Secure mode cannot be set up; nothing was bound or connected, and
    /// nothing is ever sent in plaintext instead.
    #[error("secure mode cannot be set up: {0}")]
    Security(#[from] SecurityError),
}

impl Error {
    /// A stable identifier of the error (spec/08 lists them).
    ///
    /// ```
    /// assert_eq!(netgear::transport::zmq::Error::Closed.code(), "transport-closed");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(e) => e.code(),
            Error::Socket { .. } => "transport-socket",
            Error::Message(_) => "transport-message",
            Error::PeerGone { .. } => "transport-peer-gone",
            Error::ServerGone { .. } => "transport-server-gone",
            Error::PublisherSilent { .. } => "transport-publisher-silent",
            Error::Closed => "transport-closed",
            Error::Security(e) => e.code(),
        }
    }

    /// True when the call was refused before anything happened (a bad
    /// configuration or message, secure mode that cannot be set up)
    /// rather than the session failing.
    ///
    /// ```
    /// use netgear::session::ConfigError;
    /// use netgear::transport::zmq::Error;
    /// assert!(Error::Config(ConfigError::ZeroTimeout).is_usage());
    /// assert!(!Error::Closed.is_usage());
    /// ```
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Config(_) | Error::Message(_) | Error::Security(_)
        )
    }

    /// True when a blocking wait was cut short by a signal (Ctrl-C).
    ///
    /// ```
    /// assert!(!netgear::transport::zmq::Error::Closed.is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Socket { source, .. } if source.is_interrupted())
    }
}
