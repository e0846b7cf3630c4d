//! Session configuration and the rules that make a configuration valid.

use std::fmt;
use std::time::Duration;

use crate::json::Value;
use crate::wire::{Limits, ReplyKind};

/// The ZeroMQ messaging pattern of a connection (vidgear's `pattern`:
/// 0, 1 or 2; see [`Pattern::try_from`]).
///
/// ```
/// use netgear::session::Pattern;
/// assert_eq!(Pattern::try_from(1), Ok(Pattern::ReqRep));
/// assert!(Pattern::try_from(3).is_err());
/// assert_eq!(Pattern::PubSub.number(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pattern {
    /// 0: PAIR on both ends. Lockstep: every frame is answered.
    #[default]
    Pair,
    /// 1: REQ on the server, REP on the client. Lockstep.
    ReqRep,
    /// 2: PUB on the server, SUB on the client. Nothing comes back.
    PubSub,
}

/// A pattern number other than 0, 1 and 2.
///
/// ```
/// use netgear::session::{Pattern, UnknownPattern};
/// assert_eq!(Pattern::try_from(7), Err(UnknownPattern(7)));
/// assert_eq!(UnknownPattern(7).to_string(), "unknown pattern 7 (expected 0, 1 or 2)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown pattern {0} (expected 0, 1 or 2)")]
pub struct UnknownPattern(pub u8);

impl TryFrom<u8> for Pattern {
    type Error = UnknownPattern;

    /// The pattern from vidgear's number.
    fn try_from(n: u8) -> Result<Pattern, UnknownPattern> {
        match n {
            0 => Ok(Pattern::Pair),
            1 => Ok(Pattern::ReqRep),
            2 => Ok(Pattern::PubSub),
            _ => Err(UnknownPattern(n)),
        }
    }
}

impl Pattern {
    /// vidgear's number for the pattern.
    pub fn number(self) -> u8 {
        match self {
            Pattern::Pair => 0,
            Pattern::ReqRep => 1,
            Pattern::PubSub => 2,
        }
    }

    /// vidgear's number for the pattern as the text headers carry.
    pub(crate) fn digit(self) -> &'static str {
        ["0", "1", "2"][usize::from(self.number())]
    }

    /// True for the lockstep patterns, where the client answers every frame.
    ///
    /// ```
    /// use netgear::session::Pattern;
    /// assert!(Pattern::Pair.is_synchronous() && !Pattern::PubSub.is_synchronous());
    /// ```
    pub fn is_synchronous(self) -> bool {
        self != Pattern::PubSub
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// How a session behaves. The defaults are vidgear's; the fields can be
/// read directly and are set through the builder methods of the same name
/// (the struct is `#[non_exhaustive]`, so that a new option is not a
/// breaking change).
///
/// ```
/// use std::time::Duration;
/// use netgear::session::{Config, Pattern};
/// let c = Config::new();
/// assert_eq!((c.pattern, c.max_retries, c.request_timeout), (Pattern::Pair, 3, Duration::from_secs(4)));
/// let bad = Config::new().bidirectional(true).pattern(Pattern::PubSub);
/// assert!(bad.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// The messaging pattern.
    pub pattern: Pattern,
    /// Bidirectional mode: messages with frames, return data with replies.
    pub bidirectional: bool,
    /// Multi-server mode (many servers, one client).
    pub multiserver: bool,
    /// Multi-client mode (one server, many clients).
    pub multiclient: bool,
    /// How many consecutive silent periods end the session (vidgear: 3).
    pub max_retries: u32,
    /// How long a server waits for a reply (a client waits three times as
    /// long for a frame) before it resets the socket (vidgear: 4 s).
    pub request_timeout: Duration,
    /// The port this peer announces: a multi-server server writes it in every
    /// header, a multi-client client in every reply.
    pub port: Option<Value>,
    /// Bounds on received messages.
    pub limits: Limits,
    /// Pattern 2 only: how long a subscriber waits for the next frame
    /// before it gives up (vidgear's `subscriber_timeout`); `None` waits
    /// forever, as vidgear does by default.
    pub subscriber_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pattern: Pattern::Pair,
            bidirectional: false,
            multiserver: false,
            multiclient: false,
            max_retries: 3,
            request_timeout: Duration::from_secs(4),
            port: None,
            limits: Limits::default(),
            subscriber_timeout: None,
        }
    }
}

impl Config {
    /// vidgear's defaults: pattern 0, plain mode, 3 retries of 4 s.
    pub fn new() -> Config {
        Config::default()
    }

    /// Sets the messaging pattern.
    ///
    /// ```
    /// use netgear::session::{Config, Pattern};
    /// assert_eq!(Config::new().pattern(Pattern::ReqRep).pattern, Pattern::ReqRep);
    /// ```
    #[must_use]
    pub fn pattern(mut self, pattern: Pattern) -> Config {
        self.pattern = pattern;
        self
    }

    /// Turns bidirectional mode on or off.
    ///
    /// ```
    /// assert!(netgear::session::Config::new().bidirectional(true).bidirectional);
    /// ```
    #[must_use]
    pub fn bidirectional(mut self, on: bool) -> Config {
        self.bidirectional = on;
        self
    }

    /// Turns multi-server mode on or off.
    ///
    /// ```
    /// assert!(netgear::session::Config::new().multiserver(true).multiserver);
    /// ```
    #[must_use]
    pub fn multiserver(mut self, on: bool) -> Config {
        self.multiserver = on;
        self
    }

    /// Turns multi-client mode on or off.
    ///
    /// ```
    /// assert!(netgear::session::Config::new().multiclient(true).multiclient);
    /// ```
    #[must_use]
    pub fn multiclient(mut self, on: bool) -> Config {
        self.multiclient = on;
        self
    }

    /// Sets how many consecutive silent periods end the session.
    ///
    /// ```
    /// assert_eq!(netgear::session::Config::new().max_retries(5).max_retries, 5);
    /// ```
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Config {
        self.max_retries = n;
        self
    }

    /// Sets the request timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = netgear::session::Config::new().request_timeout(Duration::from_millis(500));
    /// assert_eq!(c.request_timeout, Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Config {
        self.request_timeout = timeout;
        self
    }

    /// Sets the port this peer announces (multi-server server, multi-client
    /// client); the zmq adapters default it to their first port.
    ///
    /// ```
    /// use netgear::json::Value;
    /// let c = netgear::session::Config::new().port(Value::from("5566"));
    /// assert_eq!(c.port, Some(Value::from("5566")));
    /// ```
    #[must_use]
    pub fn port(mut self, port: impl Into<Value>) -> Config {
        self.port = Some(port.into());
        self
    }

    /// Sets the bounds on received messages.
    ///
    /// ```
    /// use netgear::wire::Limits;
    /// let c = netgear::session::Config::new().limits(Limits::default().max_message_bytes(1 << 20));
    /// assert_eq!(c.limits.max_message_bytes, 1 << 20);
    /// ```
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Config {
        self.limits = limits;
        self
    }

    /// Sets the subscriber timeout (pattern 2; see the field).
    ///
    /// ```
    /// use std::time::Duration;
    /// use netgear::session::{Config, Pattern};
    /// let c = Config::new().pattern(Pattern::PubSub).subscriber_timeout(Some(Duration::from_secs(2)));
    /// assert!(c.validate().is_ok());
    /// ```
    #[must_use]
    pub fn subscriber_timeout(mut self, timeout: Option<Duration>) -> Config {
        self.subscriber_timeout = timeout;
        self
    }
}

/// A configuration that breaks a rule of the protocol (spec/01).
///
/// ```
/// use netgear::session::{Config, ConfigError, Pattern};
/// let err = Config::new().multiserver(true).validate().unwrap_err();
/// assert_eq!(err.code(), "config-multi-mode-pattern");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Bidirectional mode needs a pattern that carries replies.
    #[error("bidirectional mode needs pattern 0 (PAIR) or 1 (REQ/REP), not pattern {pattern}")]
    BidirectionalNeedsSynchronousPattern {
        /// The pattern asked for.
        pattern: Pattern,
    },
    /// Multi-server and multi-client modes need pattern 1 or 2.
    #[error("{mode} mode needs pattern 1 (REQ/REP) or 2 (PUB/SUB), not pattern {pattern}")]
    MultiModeNeedsPattern1Or2 {
        /// `"multi-server"` or `"multi-client"`.
        mode: &'static str,
        /// The pattern asked for.
        pattern: Pattern,
    },
    /// The two multi modes exclude each other.
    #[error("multi-server and multi-client modes cannot be enabled together")]
    MultiServerAndMultiClient,
    /// A zero request timeout would make every wait a silence.
    #[error("request timeout must be longer than zero")]
    ZeroTimeout,
    /// A subscriber timeout is for pattern 2 only (the lockstep patterns
    /// have the request timeout), and must be longer than zero.
    #[error("a subscriber timeout needs pattern 2 and a duration above zero")]
    SubscriberTimeout,
    /// No port to bind or connect to.
    #[error("no port given")]
    NoPort,
    /// Only the end facing many peers takes several ports: a server in
    /// multi-client mode, a client in multi-server mode.
    #[error("several ports need {mode} mode")]
    SeveralPortsNeedMultiMode {
        /// `"multi-client"` (server) or `"multi-server"` (client).
        mode: &'static str,
    },
}

impl ConfigError {
    /// A stable identifier of the rule broken (spec/08 lists them).
    ///
    /// ```
    /// use netgear::session::ConfigError;
    /// assert_eq!(ConfigError::ZeroTimeout.code(), "config-zero-timeout");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::BidirectionalNeedsSynchronousPattern { .. } => {
                "config-bidirectional-pattern"
            }
            ConfigError::MultiModeNeedsPattern1Or2 { .. } => "config-multi-mode-pattern",
            ConfigError::MultiServerAndMultiClient => "config-multi-modes-together",
            ConfigError::ZeroTimeout => "config-zero-timeout",
            ConfigError::SubscriberTimeout => "config-subscriber-timeout",
            ConfigError::NoPort => "config-no-port",
            ConfigError::SeveralPortsNeedMultiMode { .. } => "config-several-ports",
        }
    }
}

/// Which end of a connection: the server sends frames (and connects), the
/// client receives them (and binds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The sender (vidgear's `NetGear` in send mode).
    Server,
    /// The receiver (vidgear's `NetGear` in receive mode).
    Client,
}

impl Config {
    /// Checks the protocol's rules; the session constructors call this.
    ///
    /// ```
    /// use netgear::session::{Config, ConfigError};
    /// assert_eq!(Config::new().multiserver(true).multiclient(true).validate(), Err(ConfigError::MultiServerAndMultiClient));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.multiserver && self.multiclient {
            return Err(ConfigError::MultiServerAndMultiClient);
        }
        if self.bidirectional && !self.pattern.is_synchronous() {
            return Err(ConfigError::BidirectionalNeedsSynchronousPattern {
                pattern: self.pattern,
            });
        }
        for (on, mode) in [
            (self.multiserver, "multi-server"),
            (self.multiclient, "multi-client"),
        ] {
            if on && self.pattern == Pattern::Pair {
                return Err(ConfigError::MultiModeNeedsPattern1Or2 {
                    mode,
                    pattern: self.pattern,
                });
            }
        }
        if self.request_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        if let Some(t) = self.subscriber_timeout {
            if self.pattern != Pattern::PubSub || t.is_zero() {
                return Err(ConfigError::SubscriberTimeout);
            }
        }
        Ok(())
    }

    /// Checks the ports an end of `role` binds or connects to, and makes the
    /// end that announces its port in every message (a multi-server server,
    /// a multi-client client) announce the first one, unless a port was set.
    ///
    /// ```
    /// use netgear::json::Value;
    /// use netgear::session::{Config, ConfigError, Pattern, Role};
    /// let mut hub = Config::new().pattern(Pattern::ReqRep).multiserver(true);
    /// assert!(hub.check_ports(Role::Client, &["5566", "5567"]).is_ok());
    /// let mut camera = hub.clone();
    /// camera.check_ports(Role::Server, &["5566"]).unwrap();
    /// assert_eq!(camera.port, Some(Value::from("5566")));
    /// assert_eq!(
    ///     Config::new().check_ports(Role::Client, &["1", "2"]),
    ///     Err(ConfigError::SeveralPortsNeedMultiMode { mode: "multi-server" })
    /// );
    /// ```
    pub fn check_ports(
        &mut self,
        role: Role,
        ports: &[impl AsRef<str>],
    ) -> Result<(), ConfigError> {
        let (several_allowed, mode, announces) = match role {
            Role::Server => (self.multiclient, "multi-client", self.multiserver),
            Role::Client => (self.multiserver, "multi-server", self.multiclient),
        };
        let Some(first) = ports.first() else {
            return Err(ConfigError::NoPort);
        };
        if ports.len() > 1 && !several_allowed {
            return Err(ConfigError::SeveralPortsNeedMultiMode { mode });
        }
        if announces && self.port.is_none() {
            self.port = Some(Value::String(first.as_ref().to_owned()));
        }
        Ok(())
    }

    /// True when the client answers with JSON replies carrying return data
    /// (bidirectional and multi-client modes), false when it answers with
    /// the plain confirmation string (spec/02 §2.4).
    ///
    /// ```
    /// use netgear::session::Config;
    /// assert!(!Config::new().replies_with_data());
    /// assert!(Config::new().bidirectional(true).replies_with_data());
    /// ```
    pub fn replies_with_data(&self) -> bool {
        self.bidirectional || self.multiclient
    }

    /// What a server expects in answer to a frame, as the decoder must be
    /// told (the answers carry no type tag).
    ///
    /// ```
    /// use netgear::session::Config;
    /// use netgear::wire::ReplyKind;
    /// assert_eq!(Config::new().reply_kind(), ReplyKind::Confirmation);
    /// ```
    pub fn reply_kind(&self) -> ReplyKind {
        if self.replies_with_data() {
            ReplyKind::Reply
        } else {
            ReplyKind::Confirmation
        }
    }

    /// True when a client answers a termination message with an
    /// acknowledgement and the server waits for it: pattern 1 only (a REQ
    /// socket must get an answer to every request; spec/05 §5.3).
    ///
    /// ```
    /// use netgear::session::{Config, Pattern};
    /// assert!(Config::new().pattern(Pattern::ReqRep).acknowledges_termination());
    /// assert!(!Config::new().acknowledges_termination());
    /// ```
    pub fn acknowledges_termination(&self) -> bool {
        self.pattern == Pattern::ReqRep
    }

    /// How long a server waits for the acknowledgement of each termination
    /// message before it sends the next or closes: a fifth of the request
    /// timeout, as vidgear's server does.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = netgear::session::Config::new();
    /// assert_eq!(c.termination_ack_timeout(), Duration::from_millis(800));
    /// ```
    pub fn termination_ack_timeout(&self) -> Duration {
        self.request_timeout / 5
    }

    /// How long a client on a lockstep pattern waits for the next frame
    /// before it counts a silent period: three times the request timeout,
    /// so that a server's own timeout and reset run out first.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(netgear::session::Config::new().frame_timeout(), Duration::from_secs(12));
    /// ```
    pub fn frame_timeout(&self) -> Duration {
        self.request_timeout * 3
    }

    /// The port a server writes in its headers: its own, in multi-server
    /// mode only.
    ///
    /// ```
    /// use netgear::json::Value;
    /// use netgear::session::{Config, Pattern};
    /// let c = Config::new().pattern(Pattern::ReqRep).port("5566");
    /// assert_eq!(c.port_in_headers(), None);
    /// assert_eq!(c.multiserver(true).port_in_headers(), Some(&Value::from("5566")));
    /// ```
    pub fn port_in_headers(&self) -> Option<&Value> {
        self.port.as_ref().filter(|_| self.multiserver)
    }

    /// The port a client writes in its replies: its own, in multi-client
    /// mode only.
    ///
    /// ```
    /// use netgear::json::Value;
    /// use netgear::session::{Config, Pattern};
    /// let c = Config::new().pattern(Pattern::ReqRep).multiclient(true).port("5577");
    /// assert_eq!(c.port_in_replies(), Some(&Value::from("5577")));
    /// ```
    pub fn port_in_replies(&self) -> Option<&Value> {
        self.port.as_ref().filter(|_| self.multiclient)
    }

    /// The server port a client reads from a message: a header's or a
    /// termination's port counts in multi-server mode only (elsewhere
    /// vidgear ignores it).
    ///
    /// ```
    /// use netgear::json::Value;
    /// use netgear::session::{Config, Pattern};
    /// assert_eq!(Config::new().server_port(Some(Value::from(1))), None);
    /// let hub = Config::new().pattern(Pattern::ReqRep).multiserver(true);
    /// assert_eq!(hub.server_port(Some(Value::from(1))), Some(Value::from(1)));
    /// ```
    pub fn server_port(&self, port: Option<Value>) -> Option<Value> {
        port.filter(|_| self.multiserver)
    }
}
