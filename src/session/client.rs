//! The client (receiver) state machine.
//!
//! ```text
//!          frame: answer at once, then deliver      termination (last server)
//!   Open ◀──────────────────────────────────┐  ─────────────────────────────▶ Terminated
//!    │  bad message: answer with a rejection ┘
//!    │ silence (3 × request_timeout): ResetSocket, budget left
//!    ├ silence, budget spent ───────────────────────────────────────────────▶ Failed
//!    └ pattern 2: no frame for the subscriber timeout ──────────────────────▶ Failed
//! ```
//!
//! In multi-server mode the client also keeps the live set of servers and,
//! for each, when its last frame came: one server falling silent while
//! another keeps sending is reported (`ServerSilent`) without a reset; it
//! rejoins with its next frame (`ServerResumed`).

use std::collections::VecDeque;
use std::time::Instant;

use serde::de::DeserializeOwned;

use super::servers::{Heard, Servers, MAX_SERVERS};
use super::{Config, ConfigError, Transmit};
use crate::json::{self, DeserializeError, Value};
use crate::wire::{
    decode_server_message, encode_confirmation, encode_rejection, encode_reply,
    encode_terminate_ack, DecodeError, FrameMessage, Parts, Payload, Reply, ReturnData,
    ServerMessage,
};

/// Where the client is (spec/05, client table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientState {
    /// Receiving frames.
    Open,
    /// Every server it heard from has terminated.
    Terminated,
    /// The retry budget is spent; the server is considered gone.
    Failed,
}

/// A frame delivered by a client, with the message that came with it.
///
/// ```
/// use std::time::Instant;
/// use netgear::session::{Client, ClientEvent, Config};
/// use netgear::wire::{encode_frame_message, FrameMessage};
/// use netgear::{json::Value, Dtype, Frame};
///
/// let mut client = Client::new(Config::new(), "TESTID01", Instant::now()).unwrap();
/// let frame = Frame::new(Dtype::Uint8, vec![2], vec![1, 2]).unwrap();
/// let parts = encode_frame_message(&FrameMessage::new(frame.clone(), Value::from("hi")));
/// client.handle_message(parts, Instant::now());
/// let Some(ClientEvent::Frame(delivery)) = client.poll_event() else { panic!() };
/// assert_eq!((delivery.seq, delivery.message, delivery.payload), (0, Value::from("hi"), frame.into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// 0 for the first frame of the session, then 1, 2, ...
    pub seq: u64,
    /// The server's port (multi-server mode).
    pub port: Option<Value>,
    /// The message sent with the frame, exactly as sent (`null` if none).
    pub message: Value,
    /// The frame: raw, or JPEG as it travelled (see `netgear::media`).
    pub payload: Payload,
}

impl Delivery {
    /// The message as an application type (any `T: Deserialize`), read by
    /// the rules of Python's `json.loads`; a mismatch names the path of the
    /// field that did not fit.
    ///
    /// ```
    /// use std::time::Instant;
    /// use netgear::session::{Client, ClientEvent, Config};
    /// use netgear::wire::{encode_frame_message, FrameMessage};
    /// use netgear::{json, Dtype, Frame};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Hello { id: u32, who: String }
    ///
    /// let mut client = Client::new(Config::new(), "TESTID01", Instant::now()).unwrap();
    /// let message = json::parse(br#"{"id": 7, "who": "cam A"}"#).unwrap();
    /// let frame = Frame::new(Dtype::Uint8, vec![1], vec![0]).unwrap();
    /// client.handle_message(encode_frame_message(&FrameMessage::new(frame, message)), Instant::now());
    /// let Some(ClientEvent::Frame(delivery)) = client.poll_event() else { panic!() };
    /// let hello: Hello = delivery.message_as().unwrap();
    /// assert_eq!((hello.id, hello.who.as_str()), (7, "cam A"));
    /// let err = delivery.message_as::<Vec<u8>>().unwrap_err();
    /// assert_eq!(err.code(), "json-deserialize");
    /// ```
    pub fn message_as<T: DeserializeOwned>(&self) -> Result<T, DeserializeError> {
        json::from_value_ref::<T>(&self.message)
    }
}

/// What the application learns from a client.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A frame arrived (it has already been answered).
    Frame(Delivery),
    /// A message could not be decoded; it was answered with a rejection
    /// (patterns 0 and 1) and the session goes on.
    Rejected {
        /// What was wrong.
        error: DecodeError,
    },
    /// One server of several terminated (multi-server mode); others remain.
    ServerTerminated {
        /// Its port.
        port: Value,
    },
    /// Multi-server mode: a live server sent no frame for 3 × request
    /// timeout while another server was heard from more recently. It leaves
    /// the live set (it no longer keeps the session open); no reset.
    ServerSilent {
        /// Its port.
        port: Value,
    },
    /// Multi-server mode: a server reported silent sent a frame again and is
    /// live again. Queued just before that frame's `Frame` event.
    ServerResumed {
        /// Its port.
        port: Value,
    },
    /// The session is over: the (last) server terminated.
    Terminated,
    /// No frame for 3 × request timeout: the socket is being reset.
    PeerSilent {
        /// Silent periods still tolerated before giving up.
        retries_left: u32,
    },
    /// The retry budget ran out; the session has failed.
    GaveUp,
    /// Pattern 2: no frame came for the subscriber timeout; the session has
    /// failed (the publisher is gone or silent).
    PublisherSilent,
    /// A message arrived after the session ended; it was not delivered.
    Stray {
        /// Its size in parts.
        parts: usize,
    },
}

/// The receiving side of a NetGear connection.
///
/// It answers every frame the moment it arrives (before the application
/// sees it, as vidgear does) with the current return data, which
/// [`Client::set_return_data`] replaces and which otherwise stays as it was.
///
/// ```
/// use std::time::Instant;
/// use netgear::session::{Client, ClientEvent, Config, Transmit};
/// use netgear::wire::encode_terminate;
///
/// let mut client = Client::new(Config::default(), "TESTID01", Instant::now()).unwrap();
/// client.handle_message(encode_terminate(None), Instant::now());
/// assert_eq!(client.poll_event(), Some(ClientEvent::Terminated));
/// assert_eq!(client.poll_transmit(), None); // no acknowledgement on pattern 0
/// ```
#[derive(Debug)]
pub struct Client {
    config: Config,
    device_id: String,
    state: ClientState,
    next_seq: u64,
    /// What answers every frame, encoded once: the confirmation in plain
    /// mode, else the reply carrying the current return data (re-encoded
    /// only when the return data changes).
    answer: Parts,
    silent_periods: u32,
    deadline: Option<Instant>,
    /// Server ports seen in headers (multi-server mode): the live set (not
    /// terminated, not silent) with when each was last heard, and the
    /// servers reported silent (`ServerSilent`) that have not come back.
    servers: Servers,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

impl Client {
    /// A client for `config`. `device_id` appears in plain-mode confirmations
    /// (vidgear uses 8 random characters from A–Z and 0–9); `now` starts the
    /// silence timer.
    pub fn new(
        config: Config,
        device_id: impl Into<String>,
        now: Instant,
    ) -> Result<Client, ConfigError> {
        config.validate()?;
        let device_id = device_id.into();
        let answer = encode_answer(&config, &device_id, ReturnData::default());
        let mut client = Client {
            config,
            device_id,
            state: ClientState::Open,
            next_seq: 0,
            answer,
            silent_periods: 0,
            deadline: None,
            servers: Servers::new(MAX_SERVERS),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        client.restart_silence_timer(now);
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Frames delivered so far (the next frame's `seq`).
    pub fn frames_received(&self) -> u64 {
        self.next_seq
    }

    /// The device id used in confirmations.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The live servers (multi-server mode): ports seen in frames, not
    /// terminated and not silent since their last frame, in the order they
    /// (last) joined. Made on each call (it is not on the per-frame path).
    pub fn servers_seen(&self) -> Vec<Value> {
        self.servers.live()
    }

    /// Servers reported silent (multi-server mode) that have not sent a
    /// frame since, in the order they fell silent.
    pub fn silent_servers(&self) -> Vec<Value> {
        self.servers.silent()
    }

    /// How many server entries the multi-server bookkeeping has examined so
    /// far: a deterministic count of its work, which stays the same per
    /// frame however many servers there are (tests/multi.rs compares it at
    /// 1 and 64 servers; timing would be flaky and prove less).
    ///
    /// ```
    /// use std::time::Instant;
    /// use netgear::session::{Client, Config, Pattern};
    /// let hub = Client::new(Config::new().pattern(Pattern::ReqRep).multiserver(true), "ID", Instant::now()).unwrap();
    /// assert_eq!(hub.server_entries_visited(), 0);
    /// ```
    pub fn server_entries_visited(&self) -> u64 {
        self.servers.visits()
    }

    /// Sets the return data that answers every following frame until it is
    /// set again (bidirectional and multi-client modes).
    pub fn set_return_data(&mut self, data: ReturnData) {
        if self.config.replies_with_data() {
            self.answer = encode_answer(&self.config, &self.device_id, data);
        }
    }

    /// The silence timer restarts with every message: 3 × the request
    /// timeout on the lockstep patterns, the subscriber timeout (if any) on
    /// pattern 2.
    fn restart_silence_timer(&mut self, now: Instant) {
        self.deadline = if self.config.pattern.is_synchronous() {
            Some(now + self.config.frame_timeout())
        } else {
            self.config.subscriber_timeout.map(|t| now + t)
        };
    }

    /// Feeds a message received from a server.
    pub fn handle_message(&mut self, parts: Parts, now: Instant) {
        if self.state != ClientState::Open {
            self.events
                .push_back(ClientEvent::Stray { parts: parts.len() });
            return;
        }
        self.silent_periods = 0;
        self.restart_silence_timer(now);
        match decode_server_message(&parts, &self.config.limits) {
            Ok(ServerMessage::Terminate { port }) => self.handle_terminate(port),
            Ok(ServerMessage::Frame(frame)) => self.handle_frame(frame, now),
            Err(error) => self.reject(error),
        }
    }

    /// A termination: always acknowledged on pattern 1 (so a REQ peer is
    /// never left hanging); it ends the session unless other servers of a
    /// multi-server hub are still live.
    fn handle_terminate(&mut self, port: Option<Value>) {
        if self.config.acknowledges_termination() {
            let ack = encode_terminate_ack(self.config.multiserver);
            self.transmits.push_back(Transmit::Send(ack));
        }
        let Some(port) = self.config.server_port(port) else {
            return self.finish();
        };
        self.servers.terminated(&port);
        if self.servers.none_live() {
            self.finish();
        } else {
            self.events
                .push_back(ClientEvent::ServerTerminated { port });
        }
    }

    /// A frame: answered at once, then delivered.
    fn handle_frame(&mut self, frame: FrameMessage, now: Instant) {
        if self.config.pattern.is_synchronous() {
            self.transmits
                .push_back(Transmit::Send(self.answer.clone()));
        }
        let port = self.config.server_port(frame.port);
        if let Some(port) = &port {
            self.heard_from(port, now);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push_back(ClientEvent::Frame(Delivery {
            seq,
            port,
            message: frame.message,
            payload: frame.payload,
        }));
    }

    /// A message that cannot be decoded: answered with a rejection on the
    /// lockstep patterns (spec/02 §2.4.5), reported, and the session goes on.
    fn reject(&mut self, error: DecodeError) {
        if self.config.pattern.is_synchronous() {
            let reason = rejection_reason(&error);
            let parts = if self.config.replies_with_data() {
                let mut reply = Reply::new(ReturnData::Json(Value::Null));
                reply.port = self.config.port_in_replies().cloned();
                reply.error = Some(reason);
                encode_reply(&reply)
            } else {
                encode_rejection(&self.device_id, &reason)
            };
            self.transmits.push_back(Transmit::Send(parts));
        }
        self.events.push_back(ClientEvent::Rejected { error });
    }

    /// A frame from server `port` arrived at `now`: it is live (again).
    fn heard_from(&mut self, port: &Value, now: Instant) {
        if self.servers.heard(port, now) == Heard::Resumed {
            self.events
                .push_back(ClientEvent::ServerResumed { port: port.clone() });
        }
    }

    /// The earliest per-server silence deadline (multi-server mode): the
    /// last frame + 3T of the server heard longest ago, if another has been
    /// heard since.
    fn server_deadline(&self) -> Option<Instant> {
        self.servers.deadline(self.config.frame_timeout())
    }

    /// Reports and removes the live servers whose deadline has passed.
    fn check_servers(&mut self, now: Instant) {
        let limit = self.config.frame_timeout();
        while let Some(port) = self.servers.next_silent(now, limit) {
            self.events.push_back(ClientEvent::ServerSilent { port });
        }
    }

    fn finish(&mut self) {
        self.state = ClientState::Terminated;
        self.deadline = None;
        self.events.push_back(ClientEvent::Terminated);
    }

    fn fail(&mut self, event: ClientEvent) {
        self.state = ClientState::Failed;
        self.deadline = None;
        self.events.push_back(event);
    }

    /// Tells the machine the time; acts on an expired silence deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != ClientState::Open {
            return;
        }
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            // No total silence: perhaps one server of several went quiet.
            _ => return self.check_servers(now),
        }
        if !self.config.pattern.is_synchronous() {
            // Pattern 2 has no reset: the subscriber timeout ends it.
            return self.fail(ClientEvent::PublisherSilent);
        }
        self.silent_periods += 1;
        if self.silent_periods >= self.config.max_retries {
            self.fail(ClientEvent::GaveUp);
        } else {
            self.deadline = Some(now + self.config.frame_timeout());
            self.transmits.push_back(Transmit::ResetSocket);
            let retries_left = self.config.max_retries - self.silent_periods;
            self.events
                .push_back(ClientEvent::PeerSilent { retries_left });
        }
    }

    /// The next thing to send, or a socket reset.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] must be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != ClientState::Open {
            return None;
        }
        match (self.deadline, self.server_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The text of a rejection: `"<code>: <message>"` in printable ASCII, on
/// one line (spec/02 §2.4.5).
fn rejection_reason(error: &DecodeError) -> String {
    format!("{}: {}", error.code(), error)
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

/// The answer to a frame: the reply carrying `data` when replies carry
/// data, the plain confirmation otherwise.
fn encode_answer(config: &Config, device_id: &str, data: ReturnData) -> Parts {
    if config.replies_with_data() {
        let mut reply = Reply::new(data);
        reply.port = config.port_in_replies().cloned();
        encode_reply(&reply)
    } else {
        encode_confirmation(device_id)
    }
}
