//! `netgear record`: a relay between a server and a client that writes every
//! message it forwards to a session file (spec/09-session-files.md).
//!
//! Pattern 0: a PAIR socket bound at --listen (the server connects to it)
//! and a PAIR socket connected to --forward (where the client is bound).
//! Pattern 1: a ROUTER at --listen and a DEALER towards --forward; the REQ
//! envelope (identity, request id, empty delimiter) is forwarded untouched
//! but not recorded. Several comma-separated endpoints make several links
//! (one relay per port), for the multi modes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::Args;
use netgear::session::{Config, Pattern};
use netgear::session_file::{
    Change, DeviceIds, Direction, Header, JpegSettings, LinkInfo, PeerInfo, SessionFile, Side,
};
use netgear::wire::{decode_server_message, Limits, ServerMessage};

use crate::args::parse_secs;
use crate::{CliError, StopFlag};

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Where the relay binds for the server to connect: tcp://HOST:PORT,
    /// HOST:PORT or PORT (= tcp://*:PORT); a comma-separated list makes one
    /// link per entry (multi modes)
    #[arg(
        long,
        value_name = "ADDR[,ADDR...]",
        value_delimiter = ',',
        required = true
    )]
    pub listen: Vec<String>,

    /// Where the client is bound, one per --listen entry: tcp://HOST:PORT,
    /// HOST:PORT or PORT (= tcp://127.0.0.1:PORT)
    #[arg(
        long,
        value_name = "ADDR[,ADDR...]",
        value_delimiter = ',',
        required = true
    )]
    pub forward: Vec<String>,

    /// The session file to write
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Messaging pattern: 0 = PAIR, 1 = REQ/REP
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub pattern: u8,

    /// Stop after this many seconds even if no termination handshake passed
    /// (the file is written, marked incomplete; exit status 1)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,

    /// The peers run in bidirectional mode (written to the header)
    #[arg(long)]
    pub bidirectional: bool,

    /// The peers run in multi-server mode (written to the header)
    #[arg(long, conflicts_with = "multiclient")]
    pub multiserver: bool,

    /// The peers run in multi-client mode (written to the header)
    #[arg(long)]
    pub multiclient: bool,

    /// The peers' max_retries (written to the header)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_retries: u32,

    /// The peers' request timeout in seconds (written to the header; also
    /// sets how long to wait for a termination acknowledgement)
    #[arg(long, value_name = "SECS", default_value = "4", value_parser = parse_secs)]
    pub request_timeout: Duration,

    /// A short name for the session (default: the file stem)
    #[arg(long)]
    pub name: Option<String>,

    /// What the session exercises
    #[arg(long, default_value = "")]
    pub description: String,

    /// The server's implementation and version, e.g. "vidgear 0.3.6"
    #[arg(long, value_name = "IMPL [VERSION]", default_value = "unknown")]
    pub server_impl: String,

    /// How the server was started (free text)
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub server_args: String,

    /// The server's JPEG settings: COLORSPACE[:QUALITY[:FASTDCT[:FASTUPSAMPLE]]]
    #[arg(long, value_name = "SPEC", value_parser = parse_jpeg)]
    pub server_jpeg: Option<JpegSettings>,

    /// The client's implementation and version, e.g. "vidgear 0.3.6"
    #[arg(long, value_name = "IMPL [VERSION]", default_value = "unknown")]
    pub client_impl: String,

    /// How the client was started (free text)
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub client_args: String,

    /// The client's JPEG settings: COLORSPACE[:QUALITY[:FASTDCT[:FASTUPSAMPLE]]]
    #[arg(long, value_name = "SPEC", value_parser = parse_jpeg)]
    pub client_jpeg: Option<JpegSettings>,

    /// Keep the device ids of confirmations as they were (default: replace
    /// them by DEVICE01, DEVICE02, ... in order of appearance)
    #[arg(long)]
    pub raw: bool,
}

fn parse_jpeg(s: &str) -> Result<JpegSettings, String> {
    let mut it = s.split(':');
    let colorspace: netgear::wire::Colorspace = it
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|e| format!("{e}"))?;
    let quality = match it.next() {
        Some(q) => q
            .parse::<u8>()
            .ok()
            .filter(|q| (10..=100).contains(q))
            .ok_or_else(|| format!("quality {q:?} is not an integer from 10 to 100"))?,
        None => 90,
    };
    let flag = |v: Option<&str>, default: bool| match v {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(format!("{other:?} is not true or false")),
    };
    let fast_dct = flag(it.next(), true)?;
    let fast_upsample = flag(it.next(), false)?;
    Ok(JpegSettings {
        colorspace: colorspace.name().to_owned(),
        quality,
        fast_dct,
        fast_upsample,
    })
}

fn endpoint(s: &str, default_host: &str) -> String {
    let s = s.trim();
    if s.contains("://") {
        s.to_owned()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("tcp://{default_host}:{s}")
    } else {
        format!("tcp://{s}")
    }
}

fn peer(implementation: &str, args: &str, jpeg: Option<JpegSettings>) -> PeerInfo {
    let (implementation, version) = match implementation.trim().split_once(' ') {
        Some((i, v)) => (i.to_owned(), v.trim().to_owned()),
        None => (implementation.trim().to_owned(), String::new()),
    };
    PeerInfo {
        implementation,
        version,
        args: args.to_owned(),
        jpeg,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for now, in UTC.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// One relayed port pair and its termination bookkeeping.
struct Link {
    /// Faces the server (bound at --listen).
    server_side: zmq::Socket,
    /// Faces the client (connected to --forward).
    client_side: zmq::Socket,
    server_monitor: zmq::Socket,
    client_monitor: zmq::Socket,
    /// Connections established and not yet lost, per side.
    server_up: usize,
    client_up: usize,
    /// Pattern 1: which ROUTER identity sent the request with this envelope.
    routes: HashMap<Vec<u8>, Vec<u8>>,
    last_identity: Option<Vec<u8>>,
    /// When a termination message last passed (reset by a frame).
    terminated: Option<Instant>,
    /// Whether something came back after it.
    acked: Option<Instant>,
}

struct Recorder {
    file: SessionFile,
    start: Option<Instant>,
    ids: Option<DeviceIds>,
    counts: [usize; 2],
}

impl Recorder {
    fn t_ms(&mut self) -> u64 {
        let start = *self.start.get_or_insert_with(Instant::now);
        start.elapsed().as_millis() as u64
    }

    fn message(&mut self, link: u32, dir: Direction, mut parts: Vec<Bytes>, forwarded: bool) {
        if let (Direction::ClientToServer, Some(ids)) = (dir, self.ids.as_mut()) {
            ids.normalise(&mut parts);
        }
        let t = self.t_ms();
        self.counts[usize::from(dir == Direction::ClientToServer)] += 1;
        self.file.push_message(t, link, dir, &parts);
        if !forwarded {
            self.file.mark_last_unforwarded();
        }
    }

    fn link(&mut self, link: u32, side: Side, change: Change) {
        let t = self.t_ms();
        self.file.push_link(t, link, side, change);
    }
}

fn zerr<'a>(what: &'a str, endpoint: &'a str) -> impl FnOnce(zmq::Error) -> CliError + 'a {
    move |e| CliError::Runtime(format!("{what} {endpoint}: {e}"))
}

fn open_link(
    ctx: &zmq::Context,
    i: usize,
    pattern: u8,
    listen: &str,
    forward: &str,
) -> Result<Link, CliError> {
    let (server_kind, client_kind) = if pattern == 0 {
        (zmq::PAIR, zmq::PAIR)
    } else {
        (zmq::ROUTER, zmq::DEALER)
    };
    let server_side = ctx
        .socket(server_kind)
        .map_err(zerr("cannot create a socket for", listen))?;
    let client_side = ctx
        .socket(client_kind)
        .map_err(zerr("cannot create a socket for", forward))?;
    for s in [&server_side, &client_side] {
        // Let the last forwarded message (an acknowledgement) get out.
        s.set_linger(1000)
            .map_err(zerr("cannot set linger on", listen))?;
    }
    if pattern == 1 {
        // An answer for a server that has gone must fail visibly, so that it
        // is recorded as not forwarded.
        server_side
            .set_router_mandatory(true)
            .map_err(zerr("cannot set ZMQ_ROUTER_MANDATORY on", listen))?;
    }
    server_side
        .bind(listen)
        .map_err(zerr("cannot bind", listen))?;
    client_side
        .connect(forward)
        .map_err(zerr("cannot connect to", forward))?;
    let events = zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw() as i32
        | zmq::SocketEvent::DISCONNECTED.to_raw() as i32;
    let mut monitors = Vec::new();
    for (side, socket) in [("server", &server_side), ("client", &client_side)] {
        let ep = format!("inproc://netgear-record-{i}-{side}");
        socket
            .monitor(&ep, events)
            .map_err(zerr("cannot monitor", &ep))?;
        let m = ctx
            .socket(zmq::PAIR)
            .map_err(zerr("cannot create a monitor for", &ep))?;
        m.connect(&ep).map_err(zerr("cannot connect to", &ep))?;
        monitors.push(m);
    }
    let client_monitor = monitors.pop().expect("two monitors");
    let server_monitor = monitors.pop().expect("two monitors");
    Ok(Link {
        server_side,
        client_side,
        server_monitor,
        client_monitor,
        server_up: 0,
        client_up: 0,
        routes: HashMap::new(),
        last_identity: None,
        terminated: None,
        acked: None,
    })
}

/// Everything queued on `socket`, without waiting.
fn drain(socket: &zmq::Socket) -> Result<Vec<Vec<Vec<u8>>>, zmq::Error> {
    let mut out = Vec::new();
    loop {
        match socket.recv_multipart(zmq::DONTWAIT) {
            Ok(m) => out.push(m),
            Err(zmq::Error::EAGAIN) => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

/// Everything queued on a relay socket.
fn receive_all(socket: &zmq::Socket) -> Result<Vec<Vec<Vec<u8>>>, CliError> {
    drain(socket).map_err(|e| CliError::Runtime(format!("receive failed: {e}")))
}

/// Forwards without blocking; false if the message could not be passed on.
fn send(socket: &zmq::Socket, parts: &[Vec<u8>], what: &str) -> bool {
    match socket.send_multipart(parts, zmq::DONTWAIT) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "could not forward a message {what}; recorded, not delivered");
            false
        }
    }
}

/// Splits a ROUTER/DEALER message into its envelope (up to and including
/// the empty delimiter) and its body.
fn split_envelope(parts: &[Vec<u8>]) -> (&[Vec<u8>], &[Vec<u8>]) {
    match parts.iter().position(Vec::is_empty) {
        Some(d) => parts.split_at(d + 1),
        None => (&[], parts),
    }
}

fn to_bytes(parts: &[Vec<u8>]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

pub fn run(args: RecordArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let (listen, forward) = endpoints(&args)?;
    let rec = Recorder {
        file: SessionFile::new(header(&args, &listen, &forward)),
        start: None,
        ids: (!args.raw).then(DeviceIds::default),
        counts: [0, 0],
    };
    let ctx = zmq::Context::new();
    let mut links = Vec::new();
    for (i, (l, f)) in listen.iter().zip(&forward).enumerate() {
        links.push(open_link(&ctx, i, args.pattern, l, f)?);
    }
    if !quiet {
        for (l, f) in listen.iter().zip(&forward) {
            eprintln!("netgear record: relaying {l} <-> {f}");
        }
        eprintln!("netgear record: ready");
    }
    let config = Config::new()
        .pattern(Pattern::try_from(args.pattern).map_err(|e| CliError::Usage(e.to_string()))?)
        .request_timeout(args.request_timeout);
    let mut relay = Relay {
        links,
        rec,
        pattern: args.pattern,
        limits: Limits::default(),
        acknowledged: config.acknowledges_termination(),
        ack_wait: config.termination_ack_timeout() + Duration::from_secs(1),
    };
    let timed_out = relay.run(args.timeout, &stop)?;
    write(relay.rec, &args, quiet, timed_out)
}

/// The --listen and --forward endpoints, checked to pair up.
fn endpoints(args: &RecordArgs) -> Result<(Vec<String>, Vec<String>), CliError> {
    if args.listen.len() != args.forward.len() {
        return Err(CliError::Usage(format!(
            "--listen has {} endpoint(s) and --forward {}; they pair up one to one",
            args.listen.len(),
            args.forward.len()
        )));
    }
    if args.listen.len() > 1 && !(args.multiserver || args.multiclient) {
        return Err(CliError::Usage(
            "several links are for the multi modes: add --multiserver or --multiclient".into(),
        ));
    }
    let listen = args.listen.iter().map(|s| endpoint(s, "*")).collect();
    let forward = args
        .forward
        .iter()
        .map(|s| endpoint(s, "127.0.0.1"))
        .collect();
    Ok((listen, forward))
}

/// The session file's header, from the command line.
fn header(args: &RecordArgs, listen: &[String], forward: &[String]) -> Header {
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut normalised = vec!["timing".to_owned()];
    if !args.raw {
        normalised.push("device-id".to_owned());
    }
    Header {
        name,
        description: args.description.clone(),
        pattern: args.pattern,
        bidirectional: args.bidirectional,
        multiserver: args.multiserver,
        multiclient: args.multiclient,
        max_retries: args.max_retries,
        request_timeout_ms: args.request_timeout.as_millis() as u64,
        links: listen
            .iter()
            .zip(forward)
            .map(|(l, f)| LinkInfo {
                listen: l.clone(),
                forward: f.clone(),
            })
            .collect(),
        server: peer(
            &args.server_impl,
            &args.server_args,
            args.server_jpeg.clone(),
        ),
        client: peer(
            &args.client_impl,
            &args.client_args,
            args.client_jpeg.clone(),
        ),
        recorded_at: utc_now(),
        normalised,
        complete: false,
        ..Header::default()
    }
}

/// The relay loop: every link's sockets and monitors, polled together.
struct Relay {
    links: Vec<Link>,
    rec: Recorder,
    /// 0 (PAIR) or 1 (ROUTER/DEALER).
    pattern: u8,
    limits: Limits,
    /// Whether the client acknowledges a termination.
    acknowledged: bool,
    /// How long to wait for a termination acknowledgement.
    ack_wait: Duration,
}

impl Relay {
    /// Relays until the termination handshake passed on every link, a stop
    /// is asked for, or `timeout` ran out (then true).
    fn run(&mut self, timeout: Option<Duration>, stop: &StopFlag) -> Result<bool, CliError> {
        let started = Instant::now();
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(false);
            }
            if timeout.is_some_and(|t| started.elapsed() >= t) {
                return Ok(true);
            }
            if self.handshake_done(Instant::now()) {
                self.rec.file.header.complete = true;
                return Ok(false);
            }
            let Some(ready) = self.poll()? else {
                continue;
            };
            for (i, r) in ready.chunks(4).enumerate() {
                if r[0] {
                    self.relay_server_messages(i)?;
                }
                if r[1] {
                    self.relay_client_messages(i)?;
                }
                for (k, side) in [(2, Side::Server), (3, Side::Client)] {
                    if r[k] {
                        self.connections(i, side)?;
                    }
                }
            }
        }
    }

    /// Done when a termination passed on every link and, where it is
    /// acknowledged, was answered (or its wait ran out); a short linger
    /// catches stragglers.
    fn handshake_done(&self, now: Instant) -> bool {
        self.links.iter().all(|l| match l.terminated {
            None => false,
            Some(t) if !self.acknowledged => now >= t + self.ack_wait,
            Some(t) => match l.acked {
                Some(a) => now >= a + Duration::from_millis(300),
                None => now >= t + self.ack_wait,
            },
        })
    }

    /// Waits a little for anything to read; per link, which of its server
    /// side, client side, server monitor and client monitor can be read
    /// (`None` when the wait was interrupted).
    fn poll(&self) -> Result<Option<Vec<bool>>, CliError> {
        let mut items: Vec<zmq::PollItem> = Vec::with_capacity(self.links.len() * 4);
        for l in &self.links {
            items.push(l.server_side.as_poll_item(zmq::POLLIN));
            items.push(l.client_side.as_poll_item(zmq::POLLIN));
            items.push(l.server_monitor.as_poll_item(zmq::POLLIN));
            items.push(l.client_monitor.as_poll_item(zmq::POLLIN));
        }
        match zmq::poll(&mut items, 50) {
            Ok(_) => Ok(Some(items.iter().map(zmq::PollItem::is_readable).collect())),
            Err(zmq::Error::EINTR) => Ok(None),
            Err(e) => Err(CliError::Runtime(format!("poll failed: {e}"))),
        }
    }

    /// Forwards and records what the server of link `i` sent.
    fn relay_server_messages(&mut self, i: usize) -> Result<(), CliError> {
        let l = &mut self.links[i];
        for m in receive_all(&l.server_side)? {
            let forwarded;
            let body: Vec<Bytes> = if self.pattern == 0 {
                forwarded = send(&l.client_side, &m, "to the client");
                to_bytes(&m)
            } else {
                let Some((identity, rest)) = m.split_first() else {
                    continue;
                };
                let (envelope, body) = split_envelope(rest);
                l.routes.insert(envelope.concat(), identity.clone());
                l.last_identity = Some(identity.clone());
                forwarded = send(&l.client_side, rest, "to the client");
                to_bytes(body)
            };
            match decode_server_message(&body, &self.limits) {
                Ok(ServerMessage::Terminate { .. }) => {
                    l.terminated = Some(Instant::now());
                    l.acked = None;
                }
                _ => l.terminated = None,
            }
            self.rec
                .message(i as u32, Direction::ServerToClient, body, forwarded);
        }
        Ok(())
    }

    /// Forwards and records what the client of link `i` sent.
    fn relay_client_messages(&mut self, i: usize) -> Result<(), CliError> {
        let l = &mut self.links[i];
        for m in receive_all(&l.client_side)? {
            let mut forwarded = false;
            let body = if self.pattern == 0 {
                forwarded = send(&l.server_side, &m, "to the server");
                to_bytes(&m)
            } else {
                let (envelope, body) = split_envelope(&m);
                let identity = l
                    .routes
                    .get(&envelope.concat())
                    .or(l.last_identity.as_ref())
                    .cloned();
                match identity {
                    Some(id) => {
                        let mut out = Vec::with_capacity(m.len() + 1);
                        out.push(id);
                        out.extend(m.iter().cloned());
                        forwarded = send(&l.server_side, &out, "to the server");
                    }
                    None => tracing::warn!("an answer with no server to route it to"),
                }
                to_bytes(body)
            };
            if l.terminated.is_some() {
                l.acked = Some(Instant::now());
            }
            self.rec
                .message(i as u32, Direction::ClientToServer, body, forwarded);
        }
        Ok(())
    }

    /// Records the connections and disconnections the monitor of `side` of
    /// link `i` reported.
    fn connections(&mut self, i: usize, side: Side) -> Result<(), CliError> {
        let link = i as u32;
        let l = &mut self.links[i];
        let (monitor, up) = if side == Side::Server {
            (&l.server_monitor, &mut l.server_up)
        } else {
            (&l.client_monitor, &mut l.client_up)
        };
        let events =
            drain(monitor).map_err(|e| CliError::Runtime(format!("monitor failed: {e}")))?;
        for ev in events {
            let Some(id) = ev.first().filter(|p| p.len() >= 2) else {
                continue;
            };
            let id = u16::from_le_bytes([id[0], id[1]]);
            let change = if id == zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw() {
                *up += 1;
                Change::Connected
            } else if id == zmq::SocketEvent::DISCONNECTED.to_raw() && *up > 0 {
                // (A disconnection without a handshake was a probe.)
                *up -= 1;
                Change::Disconnected
            } else {
                continue;
            };
            self.rec.link(link, side, change);
        }
        Ok(())
    }
}

/// Writes the session file and says what it holds; a timeout is an error
/// after the file is written.
fn write(rec: Recorder, args: &RecordArgs, quiet: bool, timed_out: bool) -> Result<(), CliError> {
    let file = rec.file;
    file.write(&args.out)
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    if !quiet {
        eprintln!(
            "netgear record: wrote {}: {} server→client and {} client→server message(s), {} blob(s), {} event(s){}",
            args.out.display(),
            rec.counts[0],
            rec.counts[1],
            file.blobs.len(),
            file.events.len(),
            if file.header.complete {
                ""
            } else {
                " (incomplete: no termination handshake)"
            }
        );
    }
    if timed_out {
        return Err(CliError::Runtime(format!(
            "timed out after {:?} before the termination handshake; {} written anyway",
            args.timeout.unwrap_or_default(),
            args.out.display()
        )));
    }
    Ok(())
}
