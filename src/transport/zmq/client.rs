//! The blocking client (vidgear's `NetGear` in receive mode).

use std::time::Instant;

use super::socket::{Role, Socket};
use super::{check_options, endpoints, Error, Protocol};
#[cfg(feature = "jpeg")]
use crate::jpeg::{self, JpegOptions};
use crate::json::Value;
use crate::session::{self, ClientEvent, ClientState, Config};
use crate::wire::{Compression, Payload, ReturnData};

/// Where and how a [`Client`] binds. Defaults are vidgear's.
///
/// ```
/// use netgear::transport::zmq::ClientOptions;
/// assert_eq!(ClientOptions::default().address, "*");
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Interface to bind (`*` for all) or ipc path prefix.
    pub address: String,
    /// One port, or the servers' ports in multi-server mode. In multi-client
    /// mode, the single port is also announced in every reply.
    pub ports: Vec<String>,
    /// `tcp` or `ipc`.
    pub protocol: Protocol,
    /// The session rules.
    pub config: Config,
    /// The id in plain-mode confirmations; random when `None`.
    pub device_id: Option<String>,
    /// JPEG-compress raw frames given as return data with these options
    /// (vidgear's `jpeg_compression*` on the client); `None` (the default)
    /// returns them raw. Their fast-DCT and fast-upsampling flags also
    /// apply when decoding received frames (vidgear's defaults when `None`).
    #[cfg(feature = "jpeg")]
    pub jpeg: Option<JpegOptions>,
    /// Decompress JPEG frames as they arrive (default on). Off, they are
    /// delivered as [`Payload::Jpeg`].
    #[cfg(feature = "jpeg")]
    pub decode_jpeg: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            address: "*".into(),
            ports: vec!["5555".into()],
            protocol: Protocol::Tcp,
            config: Config::default(),
            device_id: None,
            #[cfg(feature = "jpeg")]
            jpeg: None,
            #[cfg(feature = "jpeg")]
            decode_jpeg: true,
        }
    }
}

/// A frame delivered by [`Client::recv`].
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// 0 for the first frame, then 1, 2, ...
    pub seq: u64,
    /// The sending server's port (multi-server mode).
    pub port: Option<Value>,
    /// The message sent with the frame (`null` if none).
    pub message: Value,
    /// The frame: raw, or decompressed from JPEG (unless decoding is off).
    pub payload: Payload,
    /// The header's JPEG parameters when the frame travelled compressed.
    pub compression: Option<Compression>,
}

/// A NetGear client over libzmq: it binds, receives frames and answers each
/// one at once.
///
/// ```no_run
/// use netgear::transport::zmq::{Client, ClientOptions};
/// use netgear::{json::Value, session::Config, ReturnData};
/// let config = Config { bidirectional: true, ..Config::default() };
/// let mut client = Client::new(ClientOptions { config, ..ClientOptions::default() })?;
/// let reply = ReturnData::Json(Value::from("Hi, I am a Client here."));
/// while let Some(frame) = client.recv(Some(reply.clone()))? {
///     println!("frame {} with message {}", frame.seq, frame.message.to_python_json());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client {
    machine: session::Client,
    socket: Socket,
    #[cfg(feature = "jpeg")]
    jpeg: Option<JpegOptions>,
    #[cfg(feature = "jpeg")]
    decode_jpeg: bool,
}

/// 8 characters from A–Z and 0–9, like vidgear's device ids.
fn random_device_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..8)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

impl Client {
    /// Validates the configuration and binds.
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        let ClientOptions {
            address,
            ports,
            protocol,
            mut config,
            device_id,
            #[cfg(feature = "jpeg")]
            jpeg,
            #[cfg(feature = "jpeg")]
            decode_jpeg,
        } = options;
        check_options(
            Role::Client,
            &ports,
            &mut config,
            #[cfg(feature = "jpeg")]
            jpeg.as_ref(),
        )?;
        let device_id = device_id.unwrap_or_else(random_device_id);
        let machine = session::Client::new(config, device_id, Instant::now())?;
        let socket = Socket::open(
            Role::Client,
            machine.config(),
            endpoints(protocol, &address, &ports),
        )?;
        Ok(Client {
            machine,
            socket,
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

    /// The endpoint actually bound last (resolves port 0 and `*`).
    pub fn bound_endpoint(&self) -> Option<String> {
        self.socket.last_endpoint()
    }

    /// Blocks for the next frame. `return_data`, when given, answers this
    /// and every later frame until replaced (`None` keeps the previous data,
    /// as in vidgear). Returns `Ok(None)` once the server has terminated.
    /// [`Error::BadMessage`] reports one malformed message (already answered
    /// with a rejection); the next call goes on receiving.
    ///
    /// With [`ClientOptions::jpeg`] set, a raw frame given as return data is
    /// JPEG-compressed once, here ([`Error::JpegEncode`] if it cannot be; the
    /// previous return data stays). A JPEG frame is decompressed on arrival;
    /// [`Error::BadJpeg`] names a frame that cannot be (it was answered
    /// already), and the next call goes on receiving.
    pub fn recv(&mut self, return_data: Option<ReturnData>) -> Result<Option<Received>, Error> {
        if let Some(data) = return_data {
            #[cfg(feature = "jpeg")]
            let data = match (&self.jpeg, data) {
                (Some(options), ReturnData::Frame(Payload::Raw(frame))) => {
                    ReturnData::Frame(jpeg::encode(&frame, options).map_err(Error::JpegEncode)?)
                }
                (_, data) => data,
            };
            self.machine.set_return_data(data);
        }
        loop {
            while let Some(event) = self.machine.poll_event() {
                match event {
                    ClientEvent::Frame {
                        seq,
                        port,
                        message,
                        payload,
                    } => {
                        // Answer before handing the frame over.
                        self.flush()?;
                        let compression = match &payload {
                            Payload::Jpeg { compression, .. } => Some(*compression),
                            Payload::Raw(_) => None,
                        };
                        #[cfg(feature = "jpeg")]
                        let payload = self.decode_frame(seq, payload)?;
                        return Ok(Some(Received {
                            seq,
                            port,
                            message,
                            payload,
                            compression,
                        }));
                    }
                    ClientEvent::Rejected { error } => {
                        self.flush()?;
                        return Err(Error::BadMessage(error));
                    }
                    ClientEvent::ServerTerminated { port } => {
                        tracing::info!(port = %port.to_python_json(), "a server terminated");
                    }
                    ClientEvent::ServerSilent { port } => {
                        let silence = self.machine.config().request_timeout * 3;
                        tracing::warn!(
                            port = %port.to_python_json(),
                            "server went silent: no frame from it for {silence:?} while others keep sending"
                        );
                    }
                    ClientEvent::ServerResumed { port } => {
                        tracing::warn!(port = %port.to_python_json(), "silent server is back");
                    }
                    ClientEvent::Terminated => {
                        self.flush()?;
                        return Ok(None);
                    }
                    ClientEvent::PeerSilent { retries_left } => {
                        tracing::warn!(retries_left, "no frame from the server; rebinding");
                    }
                    ClientEvent::GaveUp => {
                        let config = self.machine.config();
                        return Err(Error::ServerGone {
                            frames_received: self.machine.frames_received(),
                            retries: config.max_retries,
                            timeout_secs: (config.request_timeout * 3).as_secs_f64(),
                        });
                    }
                    ClientEvent::Stray { .. } => {}
                }
            }
            self.flush()?;
            match self.machine.state() {
                ClientState::Open => {}
                ClientState::Terminated => return Ok(None),
                ClientState::Failed => return Err(Error::Closed),
            }
            let deadline = self.machine.poll_timeout();
            match self.socket.recv_until(deadline)? {
                Some(parts) => self.machine.handle_message(parts, Instant::now()),
                None => self.machine.handle_timeout(Instant::now()),
            }
        }
    }

    /// Decompresses JPEG frame `seq`, if asked to.
    #[cfg(feature = "jpeg")]
    fn decode_frame(&self, seq: u64, payload: Payload) -> Result<Payload, Error> {
        match payload {
            Payload::Jpeg { .. } if self.decode_jpeg => {
                let local = self.jpeg.unwrap_or_default();
                let limit = self.machine.config().limits.max_message_bytes;
                jpeg::decode_with_limit(&payload, &local, limit)
                    .map(Payload::Raw)
                    .map_err(|error| Error::BadJpeg {
                        seq,
                        what: "frame",
                        error,
                    })
            }
            other => Ok(other),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        let machine = &mut self.machine;
        self.socket.carry_out(|| machine.poll_transmit())
    }

    /// Closes the socket, giving a pending acknowledgement time to leave.
    pub fn close(self) {}
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.flush();
        self.socket
            .set_linger(self.machine.config().request_timeout / 5);
    }
}
