//! One libzmq socket with the options vidgear sets, and the byte moving.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Error;
use crate::session::{Config, Pattern};
use crate::wire::Parts;

/// Which end of the connection: the server connects, the client binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

/// A received `zmq::Message`, owned by a [`Bytes`] without copying.
struct ZmqBuffer(zmq::Message);

impl AsRef<[u8]> for ZmqBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

pub(crate) struct Socket {
    context: zmq::Context,
    socket: zmq::Socket,
    role: Role,
    pattern: Pattern,
    endpoints: Vec<String>,
    max_message_bytes: usize,
}

fn zmq_err<'a>(
    operation: &'static str,
    endpoint: &'a str,
) -> impl FnOnce(zmq::Error) -> Error + 'a {
    move |source| Error::Zmq {
        operation,
        endpoint: endpoint.to_owned(),
        source,
    }
}

impl Socket {
    pub(crate) fn open(
        role: Role,
        config: &Config,
        endpoints: Vec<String>,
    ) -> Result<Socket, Error> {
        let context = zmq::Context::new();
        let socket = Self::make(
            &context,
            role,
            config.pattern,
            &endpoints,
            config.limits.max_message_bytes,
        )?;
        Self::attach(&socket, role, &endpoints)?;
        Ok(Socket {
            context,
            socket,
            role,
            pattern: config.pattern,
            endpoints,
            max_message_bytes: config.limits.max_message_bytes,
        })
    }

    fn make(
        context: &zmq::Context,
        role: Role,
        pattern: Pattern,
        endpoints: &[String],
        max_message_bytes: usize,
    ) -> Result<zmq::Socket, Error> {
        let all = endpoints.join(", ");
        let kind = match (pattern, role) {
            (Pattern::Pair, _) => zmq::PAIR,
            (Pattern::ReqRep, Role::Server) => zmq::REQ,
            (Pattern::ReqRep, Role::Client) => zmq::REP,
            (Pattern::PubSub, Role::Server) => zmq::PUB,
            (Pattern::PubSub, Role::Client) => zmq::SUB,
        };
        let socket = context.socket(kind).map_err(zmq_err("socket", &all))?;
        let set = |r: zmq::Result<()>| r.map_err(zmq_err("setsockopt", &all));
        set(socket.set_linger(0))?;
        set(socket.set_maxmsgsize(i64::try_from(max_message_bytes).unwrap_or(i64::MAX)))?;
        match (pattern, role) {
            (Pattern::ReqRep, Role::Server) => {
                set(socket.set_req_relaxed(true))?;
                set(socket.set_req_correlate(true))?;
            }
            (Pattern::PubSub, _) => {
                set(socket.set_sndhwm(1))?;
                set(socket.set_rcvhwm(1))?;
                if role == Role::Client {
                    set(socket.set_subscribe(b""))?;
                }
            }
            _ => {}
        }
        Ok(socket)
    }

    /// Connects (server) or binds (client) to every endpoint.
    fn attach(socket: &zmq::Socket, role: Role, endpoints: &[String]) -> Result<(), Error> {
        for endpoint in endpoints {
            match role {
                Role::Server => socket
                    .connect(endpoint)
                    .map_err(zmq_err("connect", endpoint))?,
                Role::Client => bind_with_patience(socket, endpoint)?,
            }
        }
        Ok(())
    }

    /// The Lazy Pirate reset: drop the socket, make a fresh one.
    pub(crate) fn reset(&mut self) -> Result<(), Error> {
        let fresh = Self::make(
            &self.context,
            self.role,
            self.pattern,
            &self.endpoints,
            self.max_message_bytes,
        )?;
        // Close the old socket (linger 0) before the fresh one binds: a
        // client's address must be released before it can be bound again.
        drop(std::mem::replace(&mut self.socket, fresh));
        Self::attach(&self.socket, self.role, &self.endpoints)
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The endpoint libzmq actually bound last (useful with port 0 / `*`).
    pub(crate) fn last_endpoint(&self) -> Option<String> {
        self.socket.get_last_endpoint().ok().and_then(Result::ok)
    }

    pub(crate) fn send(&self, parts: Parts) -> Result<(), Error> {
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.into_iter().enumerate() {
            let flags = if i < last { zmq::SNDMORE } else { 0 };
            // Unshared buffers move into libzmq without a copy.
            let message = zmq::Message::from(Vec::<u8>::from(part));
            self.socket
                .send(message, flags)
                .map_err(|source| Error::Zmq {
                    operation: "send",
                    endpoint: self.endpoints.join(", "),
                    source,
                })?;
        }
        Ok(())
    }

    /// Waits until a message is readable or `deadline` passes, then reads
    /// one whole multipart message if there is one.
    pub(crate) fn recv_until(&self, deadline: Option<Instant>) -> Result<Option<Parts>, Error> {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so we never wake a hair before the deadline.
                i64::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i64::MAX)
            }
        };
        let ready = self
            .socket
            .poll(zmq::POLLIN, timeout_ms)
            .map_err(|source| Error::Zmq {
                operation: "poll",
                endpoint: self.endpoints.join(", "),
                source,
            })?;
        if ready == 0 {
            return Ok(None);
        }
        let mut parts = Vec::with_capacity(2);
        loop {
            let msg = match self.socket.recv_msg(zmq::DONTWAIT) {
                Ok(m) => m,
                Err(zmq::Error::EAGAIN) if parts.is_empty() => return Ok(None),
                Err(source) => {
                    return Err(Error::Zmq {
                        operation: "recv",
                        endpoint: self.endpoints.join(", "),
                        source,
                    })
                }
            };
            let more = msg.get_more();
            parts.push(Bytes::from_owner(ZmqBuffer(msg)));
            if !more {
                return Ok(Some(parts));
            }
        }
    }

    /// Gives queued outgoing messages up to `linger` to leave before the
    /// socket closes (termination messages must not be lost on close).
    pub(crate) fn set_linger(&self, linger: Duration) {
        let _ = self
            .socket
            .set_linger(i32::try_from(linger.as_millis()).unwrap_or(i32::MAX));
    }

    /// Lifts the send high-water mark of 1 that a pattern-2 socket streams
    /// with (libzmq applies it to the existing connections too), so that a
    /// last message queued right behind a frame is not dropped by `PUB`.
    pub(crate) fn unbound_send_queue(&self) {
        if self.pattern == Pattern::PubSub {
            let _ = self.socket.set_sndhwm(0);
        }
    }
}

/// Binds, waiting briefly if the address is still held by the socket we
/// just closed (libzmq releases it asynchronously during a reset).
fn bind_with_patience(socket: &zmq::Socket, endpoint: &str) -> Result<(), Error> {
    let give_up = Instant::now() + Duration::from_secs(2);
    loop {
        match socket.bind(endpoint) {
            Ok(()) => return Ok(()),
            Err(zmq::Error::EADDRINUSE) if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(Error::Zmq {
                    operation: "bind",
                    endpoint: endpoint.to_owned(),
                    source,
                })
            }
        }
    }
}
