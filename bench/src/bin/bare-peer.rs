//! `bare-peer send|receive`: bare libzmq carrying what a NetGear frame
//! exchange carries, with nothing else — the bound that
//! `cargo bench -p netgear-bench --bench e2e` measures NetGear against.
//!
//! The sender sends the very header bytes NetGear writes for the frame
//! (copied into the message, as `zmq_send` would) and the frame's bytes
//! without a copy (a constant message over one buffer made at start), then
//! waits for the receiver's one-part confirmation (the text NetGear's plain
//! mode sends). Sockets as NetGear sets them: PAIR on both ends (pattern 0),
//! or REQ with `ZMQ_REQ_RELAXED` and `ZMQ_REQ_CORRELATE` against REP
//! (pattern 1). The receiver binds, answers each two-part message at once
//! and stops at a one-part message (answering it on pattern 1). No header is
//! parsed, no state kept: blocking sends and receives only.
//!
//! `receive --multiserver --port P1,P2,...` is the bare hub of
//! `cargo bench --bench scale`: one REP socket bound to every port, as
//! NetGear's multi-server client binds them, answering each frame the same
//! way and each termination with the multi-server acknowledgement, until
//! as many terminations as ports have come.

use std::ffi::c_void;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use netgear::json::Value;
use netgear::transport::zmq::{endpoints, Protocol};
use netgear::wire::{
    confirmation_text, encode_frame_header, encode_terminate, FrameMessage, TERMINATE_ACK,
    TERMINATE_ACK_MULTISERVER,
};
use netgear::{Dtype, Frame};

// The command's own parsers, `--stats` file and ramp period, so that the
// bound is measured exactly as `netgear send|receive` are.
#[path = "../../../src/bin/netgear/alloc.rs"]
mod alloc;
#[allow(dead_code)]
#[path = "../../../src/bin/netgear/args.rs"]
mod args;
#[allow(dead_code)]
#[path = "../../../src/bin/netgear/runstats.rs"]
mod runstats;
#[allow(dead_code)]
#[path = "../../../src/bin/netgear/synth.rs"]
mod synth;

use args::{parse_secs, parse_shape, Shape};
use runstats::{RunStats, StatsArgs};
use synth::PERIOD;

/// Why the peer stopped (exit 2 for bad arguments, 1 otherwise).
#[derive(Debug)]
enum CliError {
    Usage(String),
    Runtime(String),
}

fn main() -> std::process::ExitCode {
    alloc::keep_freed_frames();
    let args = BenchPeerArgs::parse();
    let quiet = args.quiet;
    match run(args, quiet) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(CliError::Usage(e)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
        Err(CliError::Runtime(e)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connect and send frames (the NetGear server's place)
    Send,
    /// Bind and answer frames (the NetGear client's place)
    Receive,
}

/// Bare libzmq carrying NetGear's bytes: the bound of the e2e bench
#[derive(Parser, Debug)]
#[command(name = "bare-peer")]
pub struct BenchPeerArgs {
    /// No closing line on stderr
    #[arg(short, long)]
    pub quiet: bool,

    /// Which end
    #[arg(value_enum)]
    pub role: Role,

    /// Address (default: localhost to send, * to receive; ipc: path prefix)
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,

    /// Port (receive --multiserver: a comma-separated list)
    #[arg(long, default_value = "5555")]
    pub port: String,

    /// receive: bind every port of --port and stop after one termination
    /// per port (pattern 1)
    #[arg(long)]
    pub multiserver: bool,

    #[arg(long, default_value = "tcp", value_parser = ["tcp", "ipc"])]
    pub protocol: String,

    /// 0 = PAIR, 1 = REQ/REP
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub pattern: u8,

    /// Frame shape (uint8)
    #[arg(long, value_name = "H,W[,C]", default_value = "480,640,3", value_parser = parse_shape)]
    pub shape: Shape,

    /// Stop sending after N frames
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,

    /// Stop sending after SECS seconds (from the end of the first frame)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub duration: Option<Duration>,

    #[command(flatten)]
    pub stats: StatsArgs,
}

fn zmq_error(what: &str) -> impl FnOnce(zmq::Error) -> CliError + '_ {
    move |e| CliError::Runtime(format!("bench-peer: {what}: {e}"))
}

/// Sends `data` as one part without copying it: a constant message
/// (`zmq_msg_init_data` without a free function).
fn send_static(socket: &mut zmq::Socket, data: &'static [u8], flags: i32) -> zmq::Result<()> {
    let mut message = zmq_sys::zmq_msg_t::default();
    // SAFETY: `data` lives (and stays unchanged) for the rest of the
    // process, and libzmq only reads a message it sends over tcp or ipc.
    unsafe {
        let ptr = data.as_ptr().cast_mut().cast::<c_void>();
        if zmq_sys::zmq_msg_init_data(&mut message, ptr, data.len(), None, std::ptr::null_mut())
            != 0
        {
            return Err(zmq::Error::from_raw(zmq_sys::zmq_errno()));
        }
        if zmq_sys::zmq_msg_send(&mut message, socket.as_mut_ptr(), flags) == -1 {
            let error = zmq::Error::from_raw(zmq_sys::zmq_errno());
            zmq_sys::zmq_msg_close(&mut message);
            return Err(error);
        }
    }
    Ok(())
}

fn run(args: BenchPeerArgs, quiet: bool) -> Result<(), CliError> {
    let protocol: Protocol = args
        .protocol
        .parse()
        .map_err(|e: netgear::transport::zmq::UnknownProtocol| CliError::Usage(e.to_string()))?;
    let address = args.address.clone().unwrap_or_else(|| match args.role {
        Role::Send => "localhost".into(),
        Role::Receive => "*".into(),
    });
    let ports: Vec<String> = if args.multiserver {
        args.port.split(',').map(|p| p.trim().to_owned()).collect()
    } else {
        vec![args.port.clone()]
    };
    let all = endpoints(protocol, &address, &ports);
    let endpoint = all[0].clone();
    let context = zmq::Context::new();
    let kind = match (args.pattern, args.role) {
        (0, _) => zmq::PAIR,
        (_, Role::Send) => zmq::REQ,
        (_, Role::Receive) => zmq::REP,
    };
    let mut socket = context.socket(kind).map_err(zmq_error("socket"))?;
    socket.set_linger(1000).map_err(zmq_error("setsockopt"))?;
    let mut stats = RunStats::new(
        match args.role {
            Role::Send => "send",
            Role::Receive => "receive",
        },
        &args.stats,
    );
    match args.role {
        Role::Send => {
            if kind == zmq::REQ {
                socket
                    .set_req_relaxed(true)
                    .map_err(zmq_error("setsockopt"))?;
                socket
                    .set_req_correlate(true)
                    .map_err(zmq_error("setsockopt"))?;
            }
            socket.connect(&endpoint).map_err(zmq_error("connect"))?;
            send(&mut socket, &args, &mut stats, quiet)
        }
        Role::Receive => {
            for endpoint in &all {
                socket.bind(endpoint).map_err(zmq_error("bind"))?;
            }
            let ack: &[u8] = if args.multiserver {
                TERMINATE_ACK_MULTISERVER.as_bytes()
            } else {
                TERMINATE_ACK.as_bytes()
            };
            receive(&mut socket, kind, (ack, all.len()), &mut stats, quiet)
        }
    }
}

fn send(
    socket: &mut zmq::Socket,
    args: &BenchPeerArgs,
    stats: &mut RunStats,
    quiet: bool,
) -> Result<(), CliError> {
    let shape = args.shape.0.clone();
    let n: usize = shape.iter().product();
    // The ramp of `netgear send` (frame k = window k mod 251), made once.
    let buffer: &'static [u8] = Box::leak(
        (0..n + PERIOD)
            .map(|j| (j % PERIOD) as u8)
            .collect::<Vec<u8>>()
            .into_boxed_slice(),
    );
    let frame = Frame::new(Dtype::Uint8, shape, &buffer[..n])
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let header = encode_frame_header(&FrameMessage {
        port: None,
        message: Value::Null,
        pattern: args.pattern.to_string(),
        payload: frame.into(),
    });
    let mut k: u64 = 0;
    let mut first: Option<Instant> = None;
    loop {
        if args.frames.is_some_and(|f| k >= f) {
            break;
        }
        if let (Some(d), Some(t0)) = (args.duration, first) {
            if t0.elapsed() >= d {
                break;
            }
        }
        let start = Instant::now();
        let offset = (k % PERIOD as u64) as usize;
        socket
            .send(&header[..], zmq::SNDMORE)
            .map_err(zmq_error("send"))?;
        send_static(socket, &buffer[offset..offset + n], 0).map_err(zmq_error("send"))?;
        socket.recv_msg(0).map_err(zmq_error("recv"))?;
        stats.frame(Some(start.elapsed()));
        k += 1;
        first.get_or_insert_with(Instant::now);
    }
    stats
        .finish()
        .map_err(|e| CliError::Runtime(format!("cannot write the stats: {e}")))?;
    socket
        .send(&encode_terminate(None)[0][..], 0)
        .map_err(zmq_error("send"))?;
    if socket.get_socket_type().ok() == Some(zmq::REQ)
        && socket.poll(zmq::POLLIN, 1000).map_err(zmq_error("poll"))? > 0
    {
        socket.recv_msg(0).map_err(zmq_error("recv"))?;
    }
    if !quiet {
        let secs = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
        eprintln!("bench-peer: sent {k} frames in {secs:.3} s");
    }
    Ok(())
}

/// Answers frames until `senders` termination messages have come (each
/// answered with `ack` on pattern 1).
fn receive(
    socket: &mut zmq::Socket,
    kind: zmq::SocketType,
    (ack, senders): (&[u8], usize),
    stats: &mut RunStats,
    quiet: bool,
) -> Result<(), CliError> {
    let confirmation = confirmation_text("BENCHPER");
    let mut k: u64 = 0;
    let mut terminated = 0;
    loop {
        let header = socket.recv_msg(0).map_err(zmq_error("recv"))?;
        if !header.get_more() {
            // A termination message.
            if kind == zmq::REP {
                socket.send(ack, 0).map_err(zmq_error("send"))?;
            }
            terminated += 1;
            if terminated >= senders {
                break;
            }
            continue;
        }
        let payload = socket.recv_msg(0).map_err(zmq_error("recv"))?;
        socket
            .send(confirmation.as_bytes(), 0)
            .map_err(zmq_error("send"))?;
        drop((header, payload));
        stats.frame(None);
        k += 1;
    }
    stats
        .finish()
        .map_err(|e| CliError::Runtime(format!("cannot write the stats: {e}")))?;
    if !quiet {
        eprintln!("bench-peer: received {k} frames");
    }
    Ok(())
}
