//! `netgear receive`: bind and receive frames, answering each one.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use netgear::json::{Map, Value};
use netgear::media::{Media, MediaError};
use netgear::reducer::reducer;
use netgear::session::{ClientEvent, Config, Delivery};
use netgear::transport::zmq::{Client, ClientOptions, Error};
use netgear::{Dtype, Frame, Payload, ReturnData};

use crate::args::{
    check_jpeg_fits, parse_json_arg, parse_percentage, parse_secs, parse_shape, ConnArgs, Content,
    JpegArgs, Shape,
};
use crate::natural::natural_frame;
use crate::output::{describe_payload, JsonLines, Stats};
use crate::preview::Preview;
use crate::runstats::{RunStats, StatsArgs};
use crate::synth::Synth;
use crate::{npy, CliError, StopFlag};

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Return data sent back with every frame (bidirectional mode): JSON
    /// (Python's dialect), or @PATH to read it from a file
    #[arg(long = "return", value_name = "JSON", value_parser = parse_json_arg, allow_hyphen_values = true, conflicts_with = "return_frame")]
    pub return_data: Option<Value>,

    /// Send back a synthetic frame of this shape with every frame
    /// (bidirectional mode); element i is i mod 251 (see --content)
    #[arg(long, value_name = "H,W[,C]", value_parser = parse_shape)]
    pub return_frame: Option<Shape>,

    /// Element type of --return-frame, by numpy name
    #[arg(long, value_name = "DTYPE", default_value = "uint8")]
    pub return_dtype: Dtype,

    /// What the --return-frame looks like (natural: frame 0 of the natural
    /// pattern)
    #[arg(long, value_enum, default_value_t = Content::Ramp, requires = "return_frame")]
    pub content: Content,

    /// Shrink the --return-frame by P percent (0 < P < 90), as vidgear's
    /// reducer()
    #[arg(long, value_name = "P", value_parser = parse_percentage, requires = "return_frame")]
    pub reduce: Option<f64>,

    /// Write every received frame to DIR/frame_NNNNNN.npy (NNNNNN = the
    /// frame's sequence number; JPEG frames decoded); a JPEG that cannot be
    /// decoded goes to frame_NNNNNN.jpg as it came
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,

    /// Pattern 2: give up when no message has come for SECS seconds
    /// (fractions allowed), as vidgear's subscriber_timeout; the run then
    /// ends with an error and exit status 1 (default: wait for ever)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub subscriber_timeout: Option<Duration>,

    /// Serve a live view on ADDR (e.g. 127.0.0.1:8080): an HTML page with
    /// the frames as an MJPEG stream, the latest message and the timing
    #[arg(long, value_name = "ADDR")]
    pub preview: Option<String>,

    #[command(flatten)]
    pub jpeg: JpegArgs,

    #[command(flatten)]
    pub stats: StatsArgs,

    #[command(flatten)]
    pub secure: crate::secure::ReceiveSecureArgs,

    /// With --stats: every frame's message is its send time (the sender's
    /// CLOCK_MONOTONIC in ns, an integer, as the scale bench's senders
    /// write it); the summary gets each frame's latency, send to delivery
    #[arg(long, requires = "stats")]
    pub stats_latency: bool,
}

pub fn run(args: ReceiveArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let config = args
        .conn
        .config()
        .subscriber_timeout(args.subscriber_timeout);
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let media = args.jpeg.media();
    let return_data = return_data(&args, &config, &media)?;
    if let Some(dir) = &args.save_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::Usage(format!(
                "cannot create the save directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let preview = match &args.preview {
        Some(addr) => {
            let p = Preview::start(addr).map_err(CliError::Usage)?;
            if !quiet {
                eprintln!("netgear: preview on http://{}/", p.local_addr());
            }
            Some(p)
        }
        None => None,
    };
    let mut client = Client::bind(
        ClientOptions::new()
            .address(args.conn.address.clone().unwrap_or_else(|| "*".into()))
            .ports(args.conn.port.0.clone())
            .protocol(args.conn.protocol())
            .config(config)
            .security(args.secure.security()?),
    )?;
    tracing::info!(endpoint = ?client.bound_endpoint(), "bound");
    if let Some(data) = return_data {
        client.set_return_data(data);
    }
    let mut receiving = Receiving {
        out: JsonLines::new(args.conn.json),
        stats: Stats::new("received", "frame interval", quiet),
        run_stats: {
            let mut stats = RunStats::new("receive", &args.stats);
            if args.stats_latency {
                stats.record_latency();
            }
            stats
        },
        media,
        preview,
        save_dir: args.save_dir,
        multiserver: client.config().multiserver,
        last_frame: None,
    };
    let ended = receiving.run(&mut client, args.conn.frames, &stop);
    receiving.finish(client, ended, args.conn.frames)
}

/// The return data the flags ask for, JPEG-compressed as `media` says.
fn return_data(
    args: &ReceiveArgs,
    config: &Config,
    media: &Media,
) -> Result<Option<ReturnData>, CliError> {
    let data = match (&args.return_data, &args.return_frame) {
        (Some(v), _) => Some(ReturnData::Json(v.clone())),
        (None, Some(shape)) => {
            let frame = return_frame(args, &shape.0)?;
            if let Some(cs) = args.jpeg.jpeg {
                check_jpeg_fits(frame.shape(), frame.dtype(), cs).map_err(CliError::Usage)?;
            }
            let data = media
                .encode_return(frame)
                .map_err(|e| CliError::Usage(format!("cannot compress --return-frame: {e}")))?;
            Some(data)
        }
        (None, None) => None,
    };
    if data.is_some() && !config.replies_with_data() {
        eprintln!("netgear: warning: return data is only sent in bidirectional (or multi-client) mode; ignoring it");
    }
    Ok(data)
}

/// The synthetic frame of `--return-frame`, shrunk by `--reduce`.
fn return_frame(args: &ReceiveArgs, shape: &[usize]) -> Result<Frame, CliError> {
    let frame = match args.content {
        Content::Natural => {
            if args.return_dtype != Dtype::Uint8 || !(2..=3).contains(&shape.len()) {
                return Err(CliError::Usage(
                    "--content natural makes uint8 frames of shape H,W or H,W,C".into(),
                ));
            }
            natural_frame(shape, 0)
        }
        Content::Ramp => Synth::new(args.return_dtype, shape.to_vec())
            .map_err(CliError::Usage)?
            .frame(0),
    };
    match args.reduce {
        Some(p) => reducer(&frame, p).map_err(|e| CliError::Usage(e.to_string())),
        None => Ok(frame),
    }
}

/// Why the receive loop ended.
enum Ended {
    /// The server terminated, or --frames intact frames arrived, or Ctrl-C.
    Normally,
    /// A fatal error: the session or the output failed.
    Failed(CliError),
}

/// What a receive run keeps between frames.
struct Receiving {
    out: JsonLines,
    stats: Stats,
    run_stats: RunStats,
    media: Media,
    preview: Option<Preview>,
    save_dir: Option<PathBuf>,
    multiserver: bool,
    last_frame: Option<Instant>,
}

impl Receiving {
    /// Receives until the server terminates, `frames` intact frames have
    /// arrived, Ctrl-C, or a failure. A message or frame that cannot be
    /// decoded is reported and the loop goes on.
    fn run(&mut self, client: &mut Client, frames: Option<u64>, stop: &StopFlag) -> Ended {
        while frames.is_none_or(|n| self.stats.frames() < n) && !stop.load(Ordering::SeqCst) {
            let event = match client.recv() {
                Ok(Some(event)) => event,
                Ok(None) => {
                    tracing::info!("the server terminated");
                    break;
                }
                Err(e) if e.is_interrupted() => break,
                Err(e) => return Ended::Failed(CliError::from(e)),
            };
            if let Err(ended) = self.event(event) {
                return ended;
            }
        }
        Ended::Normally
    }

    /// One event of the client; `Err` ends the run.
    fn event(&mut self, event: ClientEvent) -> Result<(), Ended> {
        match event {
            ClientEvent::Frame(delivery) => self.frame(delivery),
            ClientEvent::Rejected { error } => {
                eprintln!("netgear: received a malformed message: {error}");
                self.stats.error();
                Ok(())
            }
            ClientEvent::ServerTerminated { port } => {
                tracing::info!(port = %port.to_python_json(), "a server terminated");
                Ok(())
            }
            ClientEvent::ServerSilent { port } => {
                tracing::warn!(port = %port.to_python_json(), "server went silent while others keep sending");
                Ok(())
            }
            ClientEvent::ServerResumed { port } => {
                tracing::warn!(port = %port.to_python_json(), "silent server is back");
                Ok(())
            }
            ClientEvent::PeerSilent { retries_left } => {
                tracing::warn!(retries_left, "no frame from the server; rebinding");
                Ok(())
            }
            other => {
                tracing::debug!(?other, "event");
                Ok(())
            }
        }
    }

    /// One delivered frame: decoded, shown, saved and printed when intact;
    /// reported (and saved as it came) when it cannot be decoded.
    fn frame(&mut self, delivery: Delivery) -> Result<(), Ended> {
        let Delivery {
            seq,
            port,
            message,
            payload,
            ..
        } = delivery;
        let compression = match &payload {
            Payload::Jpeg { compression, .. } => Some(*compression),
            Payload::Raw(_) => None,
        };
        let (payload, error) = match self.media.decode(payload.clone()) {
            Ok(frame) => (Payload::Raw(frame), None),
            Err(e) => (payload, Some(e)),
        };
        let interval = match &error {
            None => Some(self.intact_frame()),
            Some(e) => {
                self.bad_frame(seq, e);
                None
            }
        };
        if let (Some(p), Payload::Raw(frame)) = (&self.preview, &payload) {
            let colorspace = compression.map(|c| c.colorspace);
            p.publish(seq, frame, colorspace, &message, interval.flatten());
        }
        if let Some(sent) = message.as_i64().and_then(|ns| u64::try_from(ns).ok()) {
            self.run_stats.sent_at(sent);
        }
        self.save(seq, &payload).map_err(Ended::Failed)?;
        let multiserver = self.multiserver;
        let written = self.out.line(|| {
            let mut m = Map::new();
            m.insert("seq", seq);
            m.insert("message", message);
            describe_payload(&mut m, &payload);
            if let Some(e) = &error {
                m.insert(
                    "error",
                    format!("the JPEG frame of frame {seq} cannot be decoded: {e}"),
                );
                m.insert("code", e.code());
            }
            if multiserver {
                m.insert("port", port.unwrap_or(Value::Null));
            }
            m
        });
        if let Err(e) = written {
            return Err(stdout_failure(e));
        }
        self.run_stats.frame(None);
        Ok(())
    }

    /// Counts an intact frame; returns the interval since the last one.
    fn intact_frame(&mut self) -> Option<std::time::Duration> {
        let now = Instant::now();
        if self.last_frame.is_none() {
            self.stats.restart();
        }
        let interval = self.last_frame.map(|t| now - t);
        self.stats.frame(interval);
        self.last_frame = Some(now);
        interval
    }

    fn bad_frame(&mut self, seq: u64, error: &MediaError) {
        eprintln!("netgear: the JPEG frame of frame {seq} cannot be decoded: {error}");
        self.stats.error();
    }

    /// `--save-dir`: a decoded frame as .npy, an undecodable JPEG as .jpg.
    fn save(&self, seq: u64, payload: &Payload) -> Result<(), CliError> {
        let Some(dir) = &self.save_dir else {
            return Ok(());
        };
        let saved = match payload {
            Payload::Raw(frame) => npy::save(&dir.join(format!("frame_{seq:06}.npy")), frame),
            Payload::Jpeg { data, .. } => {
                std::fs::write(dir.join(format!("frame_{seq:06}.jpg")), data)
            }
        };
        saved.map_err(|e| {
            CliError::Runtime(format!("cannot save frame {seq} in {}: {e}", dir.display()))
        })
    }

    /// The stats file, the closing handshake, the summary and the status:
    /// with --frames N, success means N intact frames arrived.
    fn finish(self, client: Client, ended: Ended, frames: Option<u64>) -> Result<(), CliError> {
        let mut failure = match ended {
            Ended::Failed(e) => Some(e),
            Ended::Normally => None,
        };
        if let Err(e) = self.run_stats.finish() {
            failure.get_or_insert(CliError::Runtime(format!("cannot write --stats: {e}")));
        }
        if let Err(e) = client.close() {
            failure.get_or_insert(CliError::from(e));
        }
        self.stats.summary();
        let intact = self.stats.frames();
        if let (None, Some(n)) = (&failure, frames) {
            if intact < n {
                failure = Some(CliError::Runtime(format!(
                    "only {intact} of the {n} frames asked for arrived intact"
                )));
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// A failed write to stdout ends the run; a closed pipe ends it quietly.
fn stdout_failure(e: std::io::Error) -> Ended {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ended::Normally
    } else {
        Ended::Failed(CliError::Runtime(format!("cannot write to stdout: {e}")))
    }
}
