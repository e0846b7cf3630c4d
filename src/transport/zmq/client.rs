//! The blocking client (vidgear's `NetGear` in receive mode).

use std::time::Instant;

use serde::Serialize;

use super::security::Curve;
use super::socket::Socket;
use super::{ClientOptions, Error};
use crate::json;
use crate::session::{self, ClientEvent, ClientState, Config, Role};
use crate::wire::ReturnData;

/// A NetGear client over libzmq: it binds, receives frames and answers each
/// one at once (before the application sees it, as vidgear does).
///
/// [`Client::recv`] hands over the client machine's events. A malformed
/// message is one of them ([`ClientEvent::Rejected`], already answered), so
/// the loop below survives anything a peer sends; only the end of the
/// session (`None`) or its failure (`Err`) stops it.
///
/// ```no_run
/// use netgear::session::{ClientEvent, Config};
/// use netgear::transport::zmq::{Client, ClientOptions};
/// let options = ClientOptions::new().config(Config::new().bidirectional(true));
/// let mut client = Client::bind(options)?;
/// client.set_return("Hi, I am a Client here.")?;
/// while let Some(event) = client.recv()? {
///     match event {
///         ClientEvent::Frame(frame) => println!("frame {}: {}", frame.seq, frame.message.to_python_json()),
///         ClientEvent::Rejected { error } => eprintln!("a malformed message: {error}"),
///         _ => {}
///     }
/// }
/// client.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client {
    machine: session::Client,
    socket: Socket,
    closed: bool,
}

/// 8 characters from A–Z and 0–9, like vidgear's device ids.
fn random_device_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..crate::wire::DEVICE_ID_LEN)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

impl Client {
    /// Validates the options and binds.
    pub fn bind(options: ClientOptions) -> Result<Client, Error> {
        let ClientOptions {
            address,
            ports,
            protocol,
            mut config,
            device_id,
            security,
        } = options;
        config.check_ports(Role::Client, &ports)?;
        let device_id = device_id.unwrap_or_else(random_device_id);
        let machine = session::Client::new(config, device_id, Instant::now())?;
        let endpoints = super::endpoints(protocol, &address, &ports);
        let curve = security.map(Curve::Binding);
        let socket = Socket::open(Role::Client, machine.config(), endpoints, curve)?;
        Ok(Client {
            machine,
            socket,
            closed: false,
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

    /// Frames delivered so far.
    pub fn frames_received(&self) -> u64 {
        self.machine.frames_received()
    }

    /// Sets the return data that answers every following frame until it is
    /// set again (bidirectional and multi-client modes; as vidgear, it
    /// stays until replaced). A frame goes back as it is: to return it
    /// JPEG-compressed, pass it through [`crate::media::Media`] first.
    pub fn set_return_data(&mut self, data: impl Into<ReturnData>) {
        self.machine.set_return_data(data.into());
    }

    /// Sets JSON return data from anything serde can serialise (see
    /// [`Client::set_return_data`]); on an error the previous data stays.
    pub fn set_return<T: Serialize + ?Sized>(&mut self, data: &T) -> Result<(), Error> {
        let value = json::to_value(data)?;
        self.machine.set_return_data(ReturnData::Json(value));
        Ok(())
    }

    /// Blocks for the client's next event: a frame ([`ClientEvent::Frame`],
    /// already answered), a malformed message ([`ClientEvent::Rejected`],
    /// already answered with a rejection), or news of the servers (silence,
    /// a reset, one server of several leaving). `Ok(None)` once the server
    /// has terminated; `Err` when the session has failed (the server stayed
    /// silent through the retries) or the socket failed.
    pub fn recv(&mut self) -> Result<Option<ClientEvent>, Error> {
        loop {
            if let Some(event) = self.machine.poll_event() {
                // Answer before handing anything over.
                self.flush()?;
                return self.hand_over(event);
            }
            self.flush()?;
            match self.machine.state() {
                ClientState::Open => {}
                ClientState::Terminated => return Ok(None),
                _ => return Err(Error::Closed),
            }
            let deadline = self.machine.poll_timeout();
            match self.socket.recv_until(deadline)? {
                Some(parts) => self.machine.handle_message(parts, Instant::now()),
                None => self.machine.handle_timeout(Instant::now()),
            }
        }
    }

    /// What [`Client::recv`] makes of one machine event.
    fn hand_over(&self, event: ClientEvent) -> Result<Option<ClientEvent>, Error> {
        let config = self.machine.config();
        let frames_received = self.machine.frames_received();
        match event {
            ClientEvent::Terminated => Ok(None),
            ClientEvent::GaveUp => Err(Error::ServerGone {
                frames_received,
                retries: config.max_retries,
                timeout_secs: (config.request_timeout * 3).as_secs_f64(),
            }),
            ClientEvent::PublisherSilent => Err(Error::PublisherSilent {
                frames_received,
                timeout_secs: config.subscriber_timeout.map_or(0.0, |t| t.as_secs_f64()),
            }),
            other => Ok(Some(other)),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        let machine = &mut self.machine;
        self.socket.carry_out(|| machine.poll_transmit())
    }

    /// Closes the client: sends what is still owed (an answer, a
    /// termination acknowledgement) and gives it a fifth of the request
    /// timeout to leave. Dropping a client does the same, without the
    /// report.
    pub fn close(mut self) -> Result<(), Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.socket
            .set_linger(self.machine.config().termination_ack_timeout());
        self.flush()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(error = %e, "could not send the last answer on drop");
        }
    }
}
