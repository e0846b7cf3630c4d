//! One libzmq socket with the options vidgear sets, and the byte moving.

use std::cell::Cell;
use std::ffi::c_void;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::security::{curve_available, Curve};
use super::zap::ZapHandler;
use super::{Error, SecurityError, SocketError};
use crate::session::{Config, Pattern, Role, Transmit};
use crate::wire::Parts;

/// A received `zmq::Message`, owned by a [`Bytes`] without copying.
struct ZmqBuffer(zmq::Message);

impl AsRef<[u8]> for ZmqBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Parts up to this size are copied into their message: a copy this small
/// costs less than the two allocations of handing the buffer over.
const COPY_BELOW: usize = 1024;

/// Sends one part, handing the bytes of `bytes` to libzmq without copying
/// them, however many other owners the buffer has (the server keeps every
/// frame for a resend; a frame is often a slice of a larger buffer).
///
/// The message holds one reference, a boxed clone of the `Bytes`, and libzmq
/// gives it back through [`release_bytes`] once it is done with the data (on
/// its I/O thread, after the last byte has been written to the socket).
///
/// Why this is sound:
/// * the pointer and length are those of the boxed `Bytes`, whose storage
///   neither moves nor changes while the `Bytes` is alive, and the box lives
///   until libzmq calls `release_bytes`, exactly once, as
///   `zmq_msg_init_data` promises (on a failed send we close the message
///   ourselves, which calls it);
/// * `Bytes` is `Send + Sync`, so dropping it on libzmq's thread is fine;
/// * libzmq only reads the data of a message it sends over `tcp` or `ipc`,
///   the only transports this module connects (an `inproc` receiver would
///   share the buffer), and the raw message never leaves this function.
fn send_part(socket: &mut zmq::Socket, bytes: Bytes, flags: i32) -> zmq::Result<()> {
    if bytes.len() < COPY_BELOW {
        return socket.send(&bytes[..], flags);
    }
    let len = bytes.len();
    let data = bytes.as_ptr().cast_mut().cast::<c_void>();
    let hint = Box::into_raw(Box::new(bytes)).cast::<c_void>();
    let mut message = zmq_sys::zmq_msg_t::default();
    // SAFETY: `message` is ours to initialise; `data`/`len` stay valid until
    // `release_bytes` runs (see above), and `hint` is the box it takes back.
    let rc =
        unsafe { zmq_sys::zmq_msg_init_data(&mut message, data, len, Some(release_bytes), hint) };
    if rc != 0 {
        // libzmq could not allocate its bookkeeping and did not take the
        // box: take it back and send a copy.
        // SAFETY: `hint` came from `Box::into_raw` above and was not kept.
        let bytes = unsafe { *Box::from_raw(hint.cast::<Bytes>()) };
        return socket.send(&bytes[..], flags);
    }
    // SAFETY: `message` is initialised and the socket pointer is live (we
    // hold `&mut` to its owner). On success libzmq owns the message; on
    // failure we still do and close it, which releases the bytes.
    unsafe {
        if zmq_sys::zmq_msg_send(&mut message, socket.as_mut_ptr(), flags) == -1 {
            let error = zmq::Error::from_raw(zmq_sys::zmq_errno());
            zmq_sys::zmq_msg_close(&mut message);
            return Err(error);
        }
    }
    Ok(())
}

/// libzmq's free function for [`send_part`]: drops the reference.
unsafe extern "C" fn release_bytes(_data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Box<Bytes>` leaked by `send_part`;
    // libzmq calls this once per message.
    drop(unsafe { Box::from_raw(hint.cast::<Bytes>()) });
}

pub(crate) struct Socket {
    context: zmq::Context,
    socket: zmq::Socket,
    role: Role,
    pattern: Pattern,
    endpoints: Vec<String>,
    max_message_bytes: usize,
    /// The socket's `ZMQ_RCVTIMEO` in ms (-1, libzmq's default: forever).
    receive_timeout: Cell<i32>,
    /// Secure mode, set again on every fresh socket.
    curve: Option<Curve>,
    /// The server on patterns 0 and 1: how long a send may wait to be
    /// queued (the request timeout). A connecting socket whose handshake
    /// failed (secure mode on one end only, a wrong key) has no peer to
    /// queue for, and a send would otherwise block for ever instead of
    /// letting the retry rules run (spec/10 §10.5).
    send_timeout: Option<Duration>,
    /// A send gave up on the send timeout: nothing is outstanding, so
    /// there is nothing to receive (a `REQ` socket would refuse to), only
    /// the deadline to wait for.
    unsent: Cell<bool>,
    /// The binding end's authentication handler (secure mode), stopped
    /// when the socket goes.
    _zap: Option<ZapHandler>,
}

fn zmq_err<'a>(
    operation: &'static str,
    endpoint: &'a str,
) -> impl FnOnce(zmq::Error) -> Error + 'a {
    move |source| Error::Socket {
        operation,
        endpoint: endpoint.to_owned(),
        source: SocketError(source),
    }
}

impl Socket {
    pub(crate) fn open(
        role: Role,
        config: &Config,
        endpoints: Vec<String>,
        curve: Option<Curve>,
    ) -> Result<Socket, Error> {
        let context = zmq::Context::new();
        let zap = Self::secure(&context, curve.as_ref())?;
        let send_timeout = (role == Role::Server && config.pattern != Pattern::PubSub)
            .then_some(config.request_timeout);
        let socket = Self::make(
            &context,
            role,
            config.pattern,
            &endpoints,
            config.limits.max_message_bytes,
            curve.as_ref(),
            send_timeout,
        )?;
        Self::attach(&socket, role, &endpoints)?;
        Ok(Socket {
            context,
            socket,
            role,
            pattern: config.pattern,
            endpoints,
            max_message_bytes: config.limits.max_message_bytes,
            receive_timeout: Cell::new(-1),
            curve,
            send_timeout,
            unsent: Cell::new(false),
            _zap: zap,
        })
    }

    /// Checks that secure mode can work, and starts the binding end's
    /// authentication handler before anything binds (libzmq lets every
    /// client in when no handler is bound).
    fn secure(
        context: &zmq::Context,
        curve: Option<&Curve>,
    ) -> Result<Option<ZapHandler>, SecurityError> {
        let Some(curve) = curve else {
            return Ok(None);
        };
        if !curve_available() {
            return Err(SecurityError::NoCurve);
        }
        match curve {
            Curve::Binding(security) => ZapHandler::start(context, security.policy.clone())
                .map(Some)
                .map_err(|e| SecurityError::Handler(SocketError(e))),
            Curve::Connecting(_) => Ok(None),
        }
    }

    fn make(
        context: &zmq::Context,
        role: Role,
        pattern: Pattern,
        endpoints: &[String],
        max_message_bytes: usize,
        curve: Option<&Curve>,
        send_timeout: Option<Duration>,
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
        if let Some(curve) = curve {
            set(curve.apply(&socket))?;
        }
        if let Some(timeout) = send_timeout {
            set(socket.set_sndtimeo(i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX)))?;
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
            self.curve.as_ref(),
            self.send_timeout,
        )?;
        // Close the old socket (linger 0) before the fresh one binds: a
        // client's address must be released before it can be bound again.
        drop(std::mem::replace(&mut self.socket, fresh));
        self.receive_timeout.set(-1);
        self.unsent.set(false);
        Self::attach(&self.socket, self.role, &self.endpoints)
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The endpoint libzmq actually bound last (useful with port 0 / `*`).
    pub(crate) fn last_endpoint(&self) -> Option<String> {
        self.socket.get_last_endpoint().ok().and_then(Result::ok)
    }

    /// Carries out, in order, what a state machine asks of its transport.
    pub(crate) fn carry_out(
        &mut self,
        mut next: impl FnMut() -> Option<Transmit>,
    ) -> Result<(), Error> {
        while let Some(t) = next() {
            match t {
                Transmit::Send(parts) => self.send(parts)?,
                Transmit::ResetSocket => self.reset()?,
            }
        }
        Ok(())
    }

    pub(crate) fn send(&mut self, parts: Parts) -> Result<(), Error> {
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.into_iter().enumerate() {
            let flags = if i < last { zmq::SNDMORE } else { 0 };
            match send_part(&mut self.socket, part, flags) {
                Ok(()) => {}
                // No peer has passed the handshake: the message is not
                // sent, as if lost; the machine's deadline runs as usual
                // (reset, resend, and in the end the retry error naming
                // the frame).
                Err(zmq::Error::EAGAIN) if self.send_timeout.is_some() && i == 0 => {
                    tracing::warn!(endpoints = ?self.endpoints, "no peer has completed the handshake (secure mode on one end only, or a wrong key?); the message waits for the retry");
                    self.unsent.set(true);
                    return Ok(());
                }
                Err(source) => {
                    return Err(Error::Socket {
                        operation: "send",
                        endpoint: self.endpoints.join(", "),
                        source: SocketError(source),
                    })
                }
            }
        }
        self.unsent.set(false);
        Ok(())
    }

    /// Waits until a message arrives or `deadline` passes, and returns the
    /// whole multipart message if one came. A blocking receive with a
    /// timeout (`ZMQ_RCVTIMEO`): no poll before it, no polling loop.
    pub(crate) fn recv_until(&self, deadline: Option<Instant>) -> Result<Option<Parts>, Error> {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so we never wake a hair before the deadline.
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        if timeout_ms != self.receive_timeout.get() {
            self.socket
                .set_rcvtimeo(timeout_ms)
                .map_err(zmq_err("setsockopt", &self.endpoints.join(", ")))?;
            self.receive_timeout.set(timeout_ms);
        }
        if self.unsent.get() {
            // Waits on the socket for the deadline; nothing can be received.
            self.socket
                .poll(zmq::POLLIN, i64::from(timeout_ms))
                .map_err(zmq_err("poll", &self.endpoints.join(", ")))?;
            return Ok(None);
        }
        let recv_err = |source| Error::Socket {
            operation: "recv",
            endpoint: self.endpoints.join(", "),
            source: SocketError(source),
        };
        let first = match self.socket.recv_msg(0) {
            Ok(m) => m,
            Err(zmq::Error::EAGAIN) => return Ok(None),
            Err(source) => return Err(recv_err(source)),
        };
        let mut more = first.get_more();
        let mut parts = Vec::with_capacity(2);
        parts.push(Bytes::from_owner(ZmqBuffer(first)));
        // The other parts of a multipart message arrive with the first one.
        while more {
            let msg = self.socket.recv_msg(0).map_err(recv_err)?;
            more = msg.get_more();
            parts.push(Bytes::from_owner(ZmqBuffer(msg)));
        }
        Ok(Some(parts))
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
                return Err(Error::Socket {
                    operation: "bind",
                    endpoint: endpoint.to_owned(),
                    source: SocketError(source),
                })
            }
        }
    }
}
