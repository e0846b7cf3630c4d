//! The server (sender) state machine.
//!
//! ```text
//!            send_frame                    reply / confirmation / bad reply
//!   Idle ───────────────▶ AwaitingReply ───────────────────────────────▶ Idle
//!    │  (pattern 2: stays Idle)   │ silence: ResetSocket + resend (budget left)
//!    │                            └─ silence, budget spent ─────────────▶ Failed
//!    │ close (pattern 1)                     ack or timeout/5
//!    ├───────────────────▶ Closing ─────────────────────────────────────▶ Closed
//!    └ close (pattern 0, 2) ─────────────────────────────────────────────▶ Closed
//! ```

use std::collections::VecDeque;
use std::time::Instant;

use super::{Config, ConfigError, Transmit};
use crate::json::Value;
use crate::wire::encode::frame_message_parts;
use crate::wire::{
    decode_client_message, encode_terminate, ClientMessage, DecodeError, Parts, Payload, ReturnData,
};

/// Where the server is in its lockstep (spec/05, server table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerState {
    /// Ready to send a frame or to close.
    Idle,
    /// A frame is out; its answer has not come.
    AwaitingReply,
    /// The termination message is out (pattern 1); waiting for its ack.
    Closing,
    /// Terminated; nothing more will be sent.
    Closed,
    /// The retry budget is spent; the peer is considered gone.
    Failed,
}

/// What the application learns from a server.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// Return data for frame `seq` (bidirectional or multi-client mode).
    Reply {
        /// The frame this answers.
        seq: u64,
        /// The client's port (multi-client mode).
        port: Option<Value>,
        /// The return data.
        data: ReturnData,
    },
    /// Frame `seq` was confirmed (plain mode).
    Delivered {
        /// The frame.
        seq: u64,
    },
    /// Frame `seq` left the server on pattern 2, where nothing answers.
    Published {
        /// The frame.
        seq: u64,
    },
    /// The client answered frame `seq` by saying it could not decode it.
    Rejected {
        /// The frame.
        seq: u64,
        /// The client's reason (`"<code>: <text>"`).
        reason: String,
    },
    /// The client answered frame `seq`, but the answer could not be decoded.
    BadReply {
        /// The frame.
        seq: u64,
        /// What was wrong with the answer.
        error: DecodeError,
    },
    /// No answer to frame `seq` within the request timeout: the socket is
    /// being reset and the frame sent again.
    PeerSilent {
        /// The frame.
        seq: u64,
        /// Silent periods still tolerated before giving up.
        retries_left: u32,
    },
    /// The retry budget ran out while waiting for frame `seq`: that frame is
    /// lost and the session has failed.
    GaveUp {
        /// The frame.
        seq: u64,
    },
    /// `close` was called while frame `seq` was unanswered: it is lost.
    Abandoned {
        /// The frame.
        seq: u64,
    },
    /// A message arrived when none was expected (a late duplicate, say).
    Stray {
        /// Its size in parts.
        parts: usize,
    },
    /// The session is over.
    Closed {
        /// Whether the client acknowledged the termination (pattern 1).
        acknowledged: bool,
    },
}

/// Why `send_frame` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The previous frame has not been answered yet (lockstep).
    #[error("frame {seq} is still waiting for its reply")]
    AwaitingReply {
        /// The unanswered frame.
        seq: u64,
    },
    /// The session was closed.
    #[error("the session is closed")]
    Closed,
    /// The session failed (the peer stayed silent).
    #[error("the session failed: the client stopped answering")]
    Failed,
}

#[derive(Debug)]
enum State {
    Idle,
    AwaitingReply {
        seq: u64,
        parts: Parts,
        deadline: Instant,
    },
    /// `remaining` more termination messages follow this one (multi-client
    /// mode sends one per client, each after the previous was answered).
    Closing {
        remaining: usize,
        acknowledged: bool,
        deadline: Instant,
    },
    Closed,
    Failed,
}

/// The sending side of a NetGear connection.
///
/// ```
/// use std::time::{Duration, Instant};
/// use netgear::session::{Config, Server, ServerEvent, ServerState, Transmit};
/// use netgear::{json::Value, Dtype, Frame};
///
/// let config = Config::new().request_timeout(Duration::from_secs(1)).max_retries(2);
/// let mut server = Server::new(config).unwrap();
/// let t0 = Instant::now();
/// let frame = Frame::new(Dtype::Uint8, vec![1], vec![7]).unwrap();
/// server.send_frame(frame, Value::Null, t0).unwrap();
/// assert!(matches!(server.poll_transmit(), Some(Transmit::Send(_))));
/// // Nobody answers: the server resets the socket and resends...
/// server.handle_timeout(t0 + Duration::from_secs(1));
/// assert_eq!(server.poll_transmit(), Some(Transmit::ResetSocket));
/// assert!(matches!(server.poll_event(), Some(ServerEvent::PeerSilent { seq: 0, retries_left: 1 })));
/// // ...and after the budget is spent it gives up, reporting the frame lost.
/// server.handle_timeout(t0 + Duration::from_secs(3));
/// assert_eq!(server.state(), ServerState::Failed);
/// ```
#[derive(Debug)]
pub struct Server {
    config: Config,
    state: State,
    next_seq: u64,
    silent_periods: u32,
    /// Client ports seen in replies (multi-client mode), in order of arrival.
    clients_seen: Vec<Value>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
}

impl Server {
    /// A server for `config`, or the rule the configuration breaks.
    pub fn new(config: Config) -> Result<Server, ConfigError> {
        config.validate()?;
        Ok(Server {
            config,
            state: State::Idle,
            next_seq: 0,
            silent_periods: 0,
            clients_seen: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        match self.state {
            State::Idle => ServerState::Idle,
            State::AwaitingReply { .. } => ServerState::AwaitingReply,
            State::Closing { .. } => ServerState::Closing,
            State::Closed => ServerState::Closed,
            State::Failed => ServerState::Failed,
        }
    }

    /// Client ports seen so far (multi-client mode).
    pub fn clients_seen(&self) -> &[Value] {
        &self.clients_seen
    }

    /// Queues a frame with its message and returns the frame's sequence
    /// number. Only allowed in [`ServerState::Idle`]: the patterns are
    /// lockstep.
    pub fn send_frame(
        &mut self,
        payload: impl Into<Payload>,
        message: Value,
        now: Instant,
    ) -> Result<u64, SendError> {
        match &self.state {
            State::Idle => {}
            State::AwaitingReply { seq, .. } => return Err(SendError::AwaitingReply { seq: *seq }),
            State::Closing { .. } | State::Closed => return Err(SendError::Closed),
            State::Failed => return Err(SendError::Failed),
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let payload = payload.into();
        let parts = frame_message_parts(
            self.config.port_in_headers(),
            &message,
            self.config.pattern.digit(),
            &payload,
        );
        self.transmits.push_back(Transmit::Send(parts.clone()));
        if self.config.pattern.is_synchronous() {
            let deadline = now + self.config.request_timeout;
            self.state = State::AwaitingReply {
                seq,
                parts,
                deadline,
            };
        } else {
            self.events.push_back(ServerEvent::Published { seq });
        }
        Ok(seq)
    }

    /// Starts the termination handshake. A frame still unanswered is
    /// reported as [`ServerEvent::Abandoned`]. Closing twice is harmless.
    pub fn close(&mut self, now: Instant) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::AwaitingReply { seq, .. } => {
                self.events.push_back(ServerEvent::Abandoned { seq })
            }
            State::Idle => {}
            State::Failed => {
                // The peer is gone: no handshake (as vidgear); the state
                // stays Closed (set above), so a second close is a no-op.
                self.events.push_back(ServerEvent::Closed {
                    acknowledged: false,
                });
                return;
            }
            other => {
                self.state = other;
                return;
            }
        }
        // A multi-client server terminates every client it has heard from
        // (on pattern 2 it has heard from none, and sends one anyway).
        let copies = if self.config.multiclient {
            self.clients_seen.len().max(1)
        } else {
            1
        };
        if self.config.acknowledges_termination() {
            self.send_terminate();
            self.state = State::Closing {
                remaining: copies - 1,
                acknowledged: true,
                deadline: now + self.config.termination_ack_timeout(),
            };
        } else {
            for _ in 0..copies {
                self.send_terminate();
            }
            self.events.push_back(ServerEvent::Closed {
                acknowledged: false,
            });
        }
    }

    fn send_terminate(&mut self) {
        let parts = encode_terminate(self.config.port_in_headers());
        self.transmits.push_back(Transmit::Send(parts));
    }

    /// One termination was answered (or timed out): send the next or finish.
    fn termination_step(&mut self, remaining: usize, acknowledged: bool, now: Instant) {
        if remaining == 0 {
            self.state = State::Closed;
            self.events.push_back(ServerEvent::Closed { acknowledged });
        } else {
            self.send_terminate();
            let deadline = now + self.config.termination_ack_timeout();
            self.state = State::Closing {
                remaining: remaining - 1,
                acknowledged,
                deadline,
            };
        }
    }

    /// Feeds a message received from the client.
    pub fn handle_message(&mut self, parts: Parts, now: Instant) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::AwaitingReply { seq, .. } => {
                self.silent_periods = 0;
                let kind = self.config.reply_kind();
                let event = match decode_client_message(&parts, kind, &self.config.limits) {
                    Ok(ClientMessage::Reply(reply)) => {
                        if self.config.multiclient {
                            if let Some(port) = &reply.port {
                                if !self.clients_seen.contains(port) {
                                    self.clients_seen.push(port.clone());
                                }
                            }
                        }
                        match reply.error {
                            Some(reason) => ServerEvent::Rejected { seq, reason },
                            None => ServerEvent::Reply {
                                seq,
                                port: reply.port,
                                data: reply.data,
                            },
                        }
                    }
                    Ok(ClientMessage::Rejection(reason)) => ServerEvent::Rejected { seq, reason },
                    Ok(_) => ServerEvent::Delivered { seq },
                    Err(error) => ServerEvent::BadReply { seq, error },
                };
                self.events.push_back(event);
            }
            State::Closing {
                remaining,
                acknowledged,
                ..
            } => self.termination_step(remaining, acknowledged, now),
            other => {
                self.state = other;
                self.events
                    .push_back(ServerEvent::Stray { parts: parts.len() });
            }
        }
    }

    /// Tells the machine the time; acts on an expired deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.state {
            State::AwaitingReply {
                seq,
                parts,
                deadline,
            } if now >= *deadline => {
                let seq = *seq;
                self.silent_periods += 1;
                if self.silent_periods >= self.config.max_retries {
                    self.state = State::Failed;
                    self.events.push_back(ServerEvent::GaveUp { seq });
                } else {
                    *deadline = now + self.config.request_timeout;
                    self.transmits.push_back(Transmit::ResetSocket);
                    self.transmits.push_back(Transmit::Send(parts.clone()));
                    let retries_left = self.config.max_retries - self.silent_periods;
                    self.events
                        .push_back(ServerEvent::PeerSilent { seq, retries_left });
                }
            }
            State::Closing {
                remaining,
                deadline,
                ..
            } if now >= *deadline => {
                let remaining = *remaining;
                self.termination_step(remaining, false, now);
            }
            _ => {}
        }
    }

    /// The next thing to send, or a socket reset.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Server::handle_timeout`] must be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::AwaitingReply { deadline, .. } | State::Closing { deadline, .. } => {
                Some(*deadline)
            }
            _ => None,
        }
    }
}
