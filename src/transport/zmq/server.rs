//! The blocking server (vidgear's `NetGear` in send mode).

use std::time::Instant;

use super::socket::{Role, Socket};
use super::{check_options, endpoints, Error, Protocol};
#[cfg(feature = "jpeg")]
use crate::jpeg::{self, JpegOptions};
use crate::json::Value;
use crate::session::{self, Config, ServerEvent, ServerState};
use crate::wire::{Payload, ReturnData};

/// Where and how a [`Server`] connects. Defaults are vidgear's.
///
/// ```
/// use netgear::transport::zmq::ServerOptions;
/// let o = ServerOptions::default();
/// assert_eq!((o.address.as_str(), o.ports.as_slice()), ("localhost", &["5555".to_string()][..]));
/// ```
#[derive(Debug, Clone)]
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
    /// JPEG-compress every raw frame handed to [`Server::send`] with these
    /// options (vidgear's `jpeg_compression*`); `None` (the default) sends
    /// frames raw (spec/03 §3.3.1).
    #[cfg(feature = "jpeg")]
    pub jpeg: Option<JpegOptions>,
    /// Decompress JPEG frames the client returns (default on), with the
    /// local flags of `jpeg` (vidgear's defaults when `None`) OR the
    /// client's header flags. Off, they arrive as [`Payload::Jpeg`].
    #[cfg(feature = "jpeg")]
    pub decode_jpeg: bool,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            address: "localhost".into(),
            ports: vec!["5555".into()],
            protocol: Protocol::Tcp,
            config: Config::default(),
            #[cfg(feature = "jpeg")]
            jpeg: None,
            #[cfg(feature = "jpeg")]
            decode_jpeg: true,
        }
    }
}

/// What became of one frame handed to [`Server::send`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The frame's sequence number (0, 1, 2, ...).
    pub seq: u64,
    /// The answering client's port (multi-client mode).
    pub port: Option<Value>,
    /// The return data (bidirectional and multi-client modes), else `None`.
    pub reply: Option<ReturnData>,
}

/// A NetGear server over libzmq: it connects, sends frames, and (on patterns
/// 0 and 1) waits for each answer.
///
/// ```no_run
/// use netgear::transport::zmq::{Client, ClientOptions, Server, ServerOptions};
/// use netgear::{json::Value, session::Config, Dtype, Frame};
/// let config = Config { bidirectional: true, ..Config::default() };
/// let mut server = Server::new(ServerOptions { config, ..ServerOptions::default() })?;
/// let frame = Frame::new(Dtype::Uint8, vec![480, 640, 3], vec![0u8; 480 * 640 * 3])?;
/// let sent = server.send(frame, Value::from("Hello, I am a Server."))?;
/// println!("client said {:?}", sent.reply);
/// server.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server {
    machine: session::Server,
    socket: Socket,
    closed: bool,
    #[cfg(feature = "jpeg")]
    jpeg: Option<JpegOptions>,
    #[cfg(feature = "jpeg")]
    decode_jpeg: bool,
}

impl Server {
    /// Validates the configuration and connects.
    pub fn new(options: ServerOptions) -> Result<Server, Error> {
        let ServerOptions {
            address,
            ports,
            protocol,
            mut config,
            #[cfg(feature = "jpeg")]
            jpeg,
            #[cfg(feature = "jpeg")]
            decode_jpeg,
        } = options;
        check_options(
            Role::Server,
            &ports,
            &mut config,
            #[cfg(feature = "jpeg")]
            jpeg.as_ref(),
        )?;
        let machine = session::Server::new(config)?;
        let socket = Socket::open(
            Role::Server,
            machine.config(),
            endpoints(protocol, &address, &ports),
        )?;
        Ok(Server {
            machine,
            socket,
            closed: false,
            #[cfg(feature = "jpeg")]
            jpeg,
            #[cfg(feature = "jpeg")]
            decode_jpeg,
        })
    }

    /// The session configuration.
    pub fn config(&self) -> &Config {
        self.machine.config()
    }

    /// Sends `payload` with `message` and, on patterns 0 and 1, waits for
    /// the answer, resetting the socket and resending on silence as the
    /// retry budget allows. Errors: [`Error::PeerGone`] when the budget is
    /// spent (the frame is lost), [`Error::Rejected`] / [`Error::BadReply`]
    /// for an answer that is not return data (the session goes on).
    ///
    /// With [`ServerOptions::jpeg`] set, a raw payload is JPEG-compressed
    /// first ([`Error::JpegEncode`] if it cannot be: nothing is sent), and
    /// a JPEG frame returned by the client is decompressed
    /// ([`Error::BadJpeg`] if it cannot be).
    pub fn send(
        &mut self,
        payload: impl Into<Payload>,
        message: impl Into<Value>,
    ) -> Result<Sent, Error> {
        let payload = payload.into();
        #[cfg(feature = "jpeg")]
        let payload = match (&self.jpeg, payload) {
            (Some(options), Payload::Raw(frame)) => {
                jpeg::encode(&frame, options).map_err(Error::JpegEncode)?
            }
            (_, payload) => payload,
        };
        // After a failure or close, every send is refused the same way.
        self.machine
            .send_frame(payload, message.into(), Instant::now())
            .map_err(|_| Error::Closed)?;
        loop {
            self.flush()?;
            while let Some(event) = self.machine.poll_event() {
                match event {
                    ServerEvent::Reply { seq, port, data } => {
                        #[cfg(feature = "jpeg")]
                        let data = self.decode_reply(seq, data)?;
                        return Ok(Sent {
                            seq,
                            port,
                            reply: Some(data),
                        });
                    }
                    ServerEvent::Delivered { seq } | ServerEvent::Published { seq } => {
                        return Ok(Sent {
                            seq,
                            port: None,
                            reply: None,
                        })
                    }
                    ServerEvent::Rejected { seq, reason } => {
                        return Err(Error::Rejected { seq, reason })
                    }
                    ServerEvent::BadReply { seq, error } => {
                        return Err(Error::BadReply { seq, error })
                    }
                    ServerEvent::PeerSilent { seq, retries_left } => {
                        tracing::warn!(
                            seq,
                            retries_left,
                            "no answer from the client; reconnecting and resending"
                        );
                    }
                    ServerEvent::GaveUp { seq } => return Err(self.gone(seq)),
                    ServerEvent::Stray { parts } => {
                        tracing::debug!(parts, "ignored a stray message")
                    }
                    ServerEvent::Abandoned { .. } | ServerEvent::Closed { .. } => {
                        return Err(Error::Closed)
                    }
                }
            }
            self.wait_once()?;
        }
    }

    /// Decompresses a JPEG frame returned for frame `seq`, if asked to.
    #[cfg(feature = "jpeg")]
    fn decode_reply(&self, seq: u64, data: ReturnData) -> Result<ReturnData, Error> {
        match data {
            ReturnData::Frame(payload @ Payload::Jpeg { .. }) if self.decode_jpeg => {
                let local = self.jpeg.unwrap_or_default();
                let limit = self.machine.config().limits.max_message_bytes;
                jpeg::decode_with_limit(&payload, &local, limit)
                    .map(|frame| ReturnData::Frame(Payload::Raw(frame)))
                    .map_err(|error| Error::BadJpeg {
                        seq,
                        what: "returned frame",
                        error,
                    })
            }
            other => Ok(other),
        }
    }

    fn gone(&self, seq: u64) -> Error {
        let config = self.machine.config();
        Error::PeerGone {
            seq,
            retries: config.max_retries,
            timeout_secs: config.request_timeout.as_secs_f64(),
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
    /// acknowledgement. Returns whether the client acknowledged.
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
            .set_linger(self.machine.config().request_timeout / 5);
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

    /// The endpoints this server connects to.
    pub fn endpoints(&self) -> &[String] {
        self.socket.endpoints()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(error = %e, "termination handshake failed on drop");
        }
    }
}
