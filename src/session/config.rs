//! Session configuration and the rules that make a configuration valid.

use std::fmt;
use std::time::Duration;

use crate::json::Value;
use crate::wire::Limits;

/// The ZeroMQ messaging pattern of a connection.
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

impl Pattern {
    /// The pattern from vidgear's number.
    pub fn from_number(n: u8) -> Option<Pattern> {
        match n {
            0 => Some(Pattern::Pair),
            1 => Some(Pattern::ReqRep),
            2 => Some(Pattern::PubSub),
            _ => None,
        }
    }

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
    pub fn is_synchronous(self) -> bool {
        self != Pattern::PubSub
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// How a session behaves. The defaults are vidgear's.
///
/// ```
/// use std::time::Duration;
/// use netgear::session::{Config, Pattern};
/// let c = Config::default();
/// assert_eq!((c.pattern, c.max_retries, c.request_timeout), (Pattern::Pair, 3, Duration::from_secs(4)));
/// let bad = Config { bidirectional: true, pattern: Pattern::PubSub, ..Config::default() };
/// assert!(bad.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
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
        }
    }
}

/// A configuration that breaks a rule of the protocol (spec/01).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}

impl Config {
    /// Checks the protocol's rules; the session constructors call this.
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
        Ok(())
    }

    /// True when the client answers with JSON replies (not the plain string).
    pub(crate) fn replies_with_data(&self) -> bool {
        self.bidirectional || self.multiclient
    }
}
