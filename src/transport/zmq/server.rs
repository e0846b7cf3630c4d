//! The blocking server (vidgear's `NetGear` in send mode).

use std::time::Instant;

use serde::Serialize;

use super::security::Curve;
use super::socket::Socket;
use super::{Error, ServerOptions};
use crate::json::{self, Value};
use crate::session::{self, Config, Role, ServerEvent, ServerState};
use crate::wire::{DecodeError, Payload, ReturnData};

/// What became of one frame handed to [`Server::send`].
///
/// ```no_run
/// use netgear::transport::zmq::{Outcome, Server, ServerOptions};
/// use netgear::{Dtype, Frame};
/// let mut server = Server::connect(ServerOptions::new())?;
/// let sent = server.send(Frame::new(Dtype::Uint8, vec![1], vec![7])?, &())?;
/// match sent.outcome {
///     Outcome::Delivered => println!("frame {} confirmed", sent.seq),
///     other => println!("frame {}: {other:?}", sent.seq),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Sent {
    /// The frame's sequence number (0, 1, 2, ...).
    pub seq: u64,
    /// The answering client's port (multi-client mode).
    pub port: Option<Value>,
    /// How the client answered.
    pub outcome: Outcome,
}

impl Sent {
    /// The return data, when the client answered with some.
    ///
    /// ```
    /// use netgear::transport::zmq::{Outcome, Sent};
    /// # fn check(sent: Sent) {
    /// if let Some(data) = sent.reply() { println!("{data:?}") }
    /// # }
    /// ```
    pub fn reply(&self) -> Option<&ReturnData> {
        match &self.outcome {
            Outcome::Reply(data) => Some(data),
            _ => None,
        }
    }
}

/// How the client answered a frame: every answer, good or bad, is a value,
/// so a bad answer never ends the sender's loop.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Return data (bidirectional and multi-client modes).
    Reply(ReturnData),
    /// Confirmed (plain mode).
    Delivered,
    /// Sent on pattern 2, where nothing answers.
    Published,
    /// The client said it could not decode the frame (`"<code>: <text>"`).
    Rejected {
        /// The client's reason.
        reason: String,
    },
    /// The client's answer could not be decoded.
    BadReply(DecodeError),
}

/// A NetGear server over libzmq: it connects, sends frames, and (on patterns
/// 0 and 1) waits for each answer.
///
/// ```no_run
/// use netgear::session::Config;
/// use netgear::transport::zmq::{Server, ServerOptions};
/// use netgear::{Dtype, Frame};
/// let options = ServerOptions::new().config(Config::new().bidirectional(true));
/// let mut server = Server::connect(options)?;
/// let frame = Frame::new(Dtype::Uint8, vec![480, 640, 3], vec![0u8; 480 * 640 * 3])?;
/// let sent = server.send(frame, "Hello, I am a Server.")?;
/// println!("client said {:?}", sent.reply());
/// server.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server {
    machine: session::Server,
    socket: Socket,
    closed: bool,
}

impl Server {
    /// Validates the options and connects (libzmq connects in the
    /// background: the client may start later).
    pub fn connect(options: ServerOptions) -> Result<Server, Error> {
        let ServerOptions {
            address,
            ports,
            protocol,
            mut config,
            security,
        } = options;
        config.check_ports(Role::Server, &ports)?;
        let machine = session::Server::new(config)?;
        let endpoints = super::endpoints(protocol, &address, &ports);
        let curve = security.map(Curve::Connecting);
        let socket = Socket::open(Role::Server, machine.config(), endpoints, curve)?;
        Ok(Server {
            machine,
            socket,
            closed: false,
        })
    }

    /// The session configuration.
    pub fn config(&self) -> &Config {
        self.machine.config()
    }

    /// The endpoints this server connects to.
    pub fn endpoints(&self) -> &[String] {
        self.socket.endpoints()
    }

    /// Sends `payload` with `message` (anything serde can serialise, written
    /// as Python's `json.dumps` would) and, on patterns 0 and 1, waits for
    /// the answer, resetting the socket and resending on silence as the
    /// retry budget allows. How the client answered is [`Sent::outcome`].
    ///
    /// Errors end the session ([`Error::PeerGone`]: the frame is lost) or
    /// refuse the call before anything is sent ([`Error::Message`],
    /// [`Error::Closed`]).
    pub fn send<M: Serialize + ?Sized>(
        &mut self,
        payload: impl Into<Payload>,
        message: &M,
    ) -> Result<Sent, Error> {
        let message = json::to_value(message)?;
        self.send_value(payload, message)
    }

    /// [`Server::send`] with a message that is already a [`Value`].
    pub fn send_value(
        &mut self,
        payload: impl Into<Payload>,
        message: Value,
    ) -> Result<Sent, Error> {
        // After a failure or close, every send is refused the same way.
        self.machine
            .send_frame(payload, message, Instant::now())
            .map_err(|_| Error::Closed)?;
        loop {
            self.flush()?;
            while let Some(event) = self.machine.poll_event() {
                if let Some(sent) = self.answer(event)? {
                    return Ok(sent);
                }
            }
            self.wait_once()?;
        }
    }

    /// The frame's outcome, if `event` is one; the end of the session if
    /// it failed; nothing for the events on the way (a silence, a stray).
    fn answer(&self, event: ServerEvent) -> Result<Option<Sent>, Error> {
        let sent = |seq, port, outcome| Ok(Some(Sent { seq, port, outcome }));
        match event {
            ServerEvent::Reply { seq, port, data } => sent(seq, port, Outcome::Reply(data)),
            ServerEvent::Delivered { seq } => sent(seq, None, Outcome::Delivered),
            ServerEvent::Published { seq } => sent(seq, None, Outcome::Published),
            ServerEvent::Rejected { seq, reason } => sent(seq, None, Outcome::Rejected { reason }),
            ServerEvent::BadReply { seq, error } => sent(seq, None, Outcome::BadReply(error)),
            ServerEvent::PeerSilent { seq, retries_left } => {
                tracing::warn!(seq, retries_left, "no answer; reconnecting and resending");
                Ok(None)
            }
            ServerEvent::GaveUp { seq } => {
                let config = self.machine.config();
                Err(Error::PeerGone {
                    seq,
                    retries: config.max_retries,
                    timeout_secs: config.request_timeout.as_secs_f64(),
                })
            }
            ServerEvent::Abandoned { .. } | ServerEvent::Closed { .. } => Err(Error::Closed),
            other => {
                tracing::debug!(?other, "ignored while sending");
                Ok(None)
            }
        }
    }

    /// Carries out what the machine wants sent or reset.
    fn flush(&mut self) -> Result<(), Error> {
        let machine = &mut self.machine;
        self.socket.carry_out(|| machine.poll_transmit())
    }

    /// Blocks until a message arrives or the machine's deadline passes.
    fn wait_once(&mut self) -> Result<(), Error> {
        let deadline = self.machine.poll_timeout();
        match self.socket.recv_until(deadline)? {
            Some(parts) => self.machine.handle_message(parts, Instant::now()),
            None => self.machine.handle_timeout(Instant::now()),
        }
        Ok(())
    }

    /// Terminates the session: sends the termination message and, on
    /// pattern 1, waits up to a fifth of the request timeout for the
    /// acknowledgement. Returns whether the client acknowledged. Dropping a
    /// server does the same, without the report.
    pub fn close(mut self) -> Result<bool, Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<bool, Error> {
        if self.closed {
            return Ok(false);
        }
        self.closed = true;
        // Give the termination message time to leave before the socket goes.
        self.socket
            .set_linger(self.machine.config().termination_ack_timeout());
        // On pattern 2 the termination message would otherwise be dropped
        // whenever the last frame is still queued (HWM 1).
        self.socket.unbound_send_queue();
        self.machine.close(Instant::now());
        loop {
            self.flush()?;
            while let Some(event) = self.machine.poll_event() {
                match event {
                    ServerEvent::Closed { acknowledged } => return Ok(acknowledged),
                    ServerEvent::Abandoned { seq } => {
                        tracing::warn!(seq, "frame abandoned by close")
                    }
                    other => tracing::debug!(?other, "event while closing"),
                }
            }
            if matches!(
                self.machine.state(),
                ServerState::Closed | ServerState::Failed
            ) {
                return Ok(false);
            }
            self.wait_once()?;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(error = %e, "termination handshake failed on drop");
        }
    }
}
