//! `scale-sender`: one sender of `cargo bench -p netgear-bench --bench scale`,
//! the same program for every NetGear hub (netgear's, vidgear's, bare
//! libzmq's) and the multi-client server of the fan-out runs.
//!
//! It is netgear's own server (`netgear::transport::zmq::Server`, what
//! `netgear send` runs) with everything but the send loop taken out, so that
//! 64 of them fit on a small machine next to the hub they feed: the frames
//! are made once at start (a ramp for raw frames; two natural frames,
//! JPEG-compressed once with vidgear's defaults, for `--jpeg`) and sent in
//! turn, each with its send time as the message (the system's monotonic
//! clock in ns, an integer, which the hubs subtract from theirs at
//! delivery: `receive --stats-latency`, bench/python/hub.py).
//!
//! It prints `ready` once connected, waits for a line on stdin when
//! `--wait-go` is given (so that all senders start together), sends for
//! `--secs` at `--fps` (0: as fast as the lockstep allows), terminates, and
//! writes `--stats` (netgear's `--stats` file: `frames` = frames sent and
//! answered, or published on pattern 2).

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use clap::Parser;
use netgear::jpeg::JpegOptions;
use netgear::json::Value;
use netgear::media::Media;
use netgear::session::{Config, Pattern};
use netgear::transport::zmq::{Protocol, Server, ServerOptions};
use netgear::{Dtype, Frame, Payload};

#[path = "../../../src/bin/netgear/alloc.rs"]
mod alloc;
#[allow(dead_code)]
#[path = "../../../src/bin/netgear/natural.rs"]
mod natural;
#[allow(dead_code)]
#[path = "../../../src/bin/netgear/runstats.rs"]
mod runstats;

use runstats::{monotonic_ns, RunStats, StatsArgs};

/// One sender of the scale bench
#[derive(Parser, Debug)]
#[command(name = "scale-sender")]
struct Args {
    /// The hub's port (with --multiclient: the clients' ports, comma-separated)
    #[arg(long)]
    port: String,
    #[arg(long, default_value = "localhost")]
    address: String,
    #[arg(long, default_value = "tcp")]
    protocol: Protocol,
    /// 1 = REQ/REP, 2 = PUB/SUB
    #[arg(long, default_value_t = 1)]
    pattern: u8,
    /// Multi-client server (fan-out) instead of a multi-server hub's sender
    #[arg(long)]
    multiclient: bool,
    /// Frame shape, uint8
    #[arg(long, default_value = "240,320,3")]
    shape: String,
    /// JPEG-compressed natural frames (quality 90, 4:2:2, fast DCT, BGR)
    #[arg(long)]
    jpeg: bool,
    /// Frames per second; 0: flat out
    #[arg(long, default_value_t = 30.0)]
    fps: f64,
    /// How long to send, from the first frame
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Wait for a line on stdin before the first frame
    #[arg(long)]
    wait_go: bool,
    /// Start this fraction of a frame period late (spreads N cameras over
    /// the period, as independent cameras are)
    #[arg(long, default_value_t = 0.0)]
    phase: f64,
    #[arg(long)]
    stats: Option<std::path::PathBuf>,
}

fn main() -> Result<(), String> {
    alloc::keep_freed_frames();
    let args = Args::parse();
    let shape: Vec<usize> = args
        .shape
        .split(',')
        .map(|d| d.trim().parse().map_err(|e| format!("--shape: {e}")))
        .collect::<Result<_, _>>()?;
    let payloads = payloads(&shape, args.jpeg)?;
    let pattern = Pattern::try_from(args.pattern).map_err(|e| e.to_string())?;
    let ports: Vec<String> = args.port.split(',').map(str::to_owned).collect();
    let config = Config::new()
        .pattern(pattern)
        .multiserver(!args.multiclient)
        .multiclient(args.multiclient)
        .request_timeout(Duration::from_secs(10));
    let mut server = Server::connect(
        ServerOptions::new()
            .address(args.address.clone())
            .ports(ports)
            .protocol(args.protocol)
            .config(config),
    )
    .map_err(|e| e.to_string())?;
    if pattern == Pattern::PubSub {
        // Let the subscribers' connections come up before the first frame.
        std::thread::sleep(Duration::from_millis(300));
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    if args.wait_go {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }
    let mut stats = RunStats::new(
        "send",
        &StatsArgs {
            stats: args.stats.clone(),
            stats_skip: 0,
        },
    );
    let period = (args.fps > 0.0).then(|| Duration::from_secs_f64(1.0 / args.fps));
    if let Some(period) = period {
        std::thread::sleep(period.mul_f64(args.phase.clamp(0.0, 1.0)));
    }
    let started = Instant::now();
    let secs = Duration::from_secs_f64(args.secs);
    let mut k: u64 = 0;
    while started.elapsed() < secs {
        if let Some(period) = period {
            let due = started + period.mul_f64(k as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let payload = payloads[(k % payloads.len() as u64) as usize].clone();
        let began = Instant::now();
        let sent = server.send_value(payload, Value::from(monotonic_ns()));
        if let Err(e) = sent {
            eprintln!("scale-sender: frame {k}: {e}");
            break;
        }
        stats.frame(Some(began.elapsed()));
        k += 1;
    }
    stats.finish().map_err(|e| format!("--stats: {e}"))?;
    server.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// The frames sent in turn: two ramps, or two natural frames compressed.
fn payloads(shape: &[usize], jpeg: bool) -> Result<Vec<Payload>, String> {
    let n: usize = shape.iter().product();
    (0..2u64)
        .map(|k| {
            if jpeg {
                let media = Media::new().jpeg(JpegOptions::default());
                media
                    .encode(natural::natural_frame(shape, k))
                    .map_err(|e| e.to_string())
            } else {
                let data: Vec<u8> = (0..n).map(|i| ((i as u64 + k) % 251) as u8).collect();
                Frame::new(Dtype::Uint8, shape.to_vec(), data)
                    .map(Payload::from)
                    .map_err(|e| e.to_string())
            }
        })
        .collect()
}
