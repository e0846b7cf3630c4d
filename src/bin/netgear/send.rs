//! `netgear send`: connect and send synthetic frames or a video's frames.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use netgear::json::{Map, Value};
use netgear::media::Media;
use netgear::source::{SourceOptions, VideoSource};
use netgear::transport::zmq::{Error, Outcome, Sent, Server, ServerOptions};
use netgear::{Dtype, Payload, ReturnData};

use crate::args::{
    check_jpeg_fits, parse_json_arg, parse_percentage, parse_secs, parse_shape, ConnArgs, Content,
    JpegArgs, Shape,
};
use crate::frames::{default_jpeg_workers, Frames, Maker, Payloads, Unmade};
use crate::output::{describe_payload, JsonLines, Stats};
use crate::runstats::{RunStats, StatsArgs};
use crate::synth::Synth;
use crate::{npy, CliError, StopFlag};

#[derive(Args, Debug)]
pub struct SendArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Frame shape, comma-separated dimensions (e.g. 480,640,3; 480,640; 7)
    #[arg(long, value_name = "H,W[,C]", default_value = "480,640,3", value_parser = parse_shape)]
    pub shape: Shape,

    /// Element type, by numpy name: bool, int8, int16, int32, int64, uint8,
    /// uint16, uint32, uint64, float16, float32, float64
    #[arg(long, value_name = "DTYPE", default_value = "uint8")]
    pub dtype: Dtype,

    /// Message sent with every frame: JSON (Python's dialect: NaN, Infinity
    /// and big integers are kept), or @PATH to read it from a file
    #[arg(long, value_name = "JSON", value_parser = parse_json_arg, allow_hyphen_values = true)]
    pub message: Option<Value>,

    /// Send at most this many frames per second; 0: as fast as the lockstep
    /// allows (the default, except with --source: the video's frame rate)
    #[arg(long, value_name = "FPS", value_parser = parse_fps)]
    pub fps: Option<f64>,

    /// Stop after SECS seconds (counted from the end of the first frame,
    /// once the receiver is there; with --frames, whichever comes first)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub duration: Option<Duration>,

    /// Keep the first K frames (after --reduce) and send them over and over:
    /// frame k is frame k mod K (e.g. to send natural frames faster than
    /// they can be drawn)
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub cycle: Option<u64>,

    /// What the synthetic frames look like
    #[arg(long, value_enum, default_value_t = Content::Ramp, conflicts_with = "source")]
    pub content: Content,

    /// Send the frames of this video file or camera device (decoded by
    /// ffmpeg, uint8 H,W,3 BGR) instead of synthetic ones
    #[arg(long, value_name = "PATH", conflicts_with_all = ["shape", "dtype"])]
    pub source: Option<PathBuf>,

    /// With --source: start the video again at its end, forever
    #[arg(long = "loop", requires = "source")]
    pub looping: bool,

    /// Shrink every frame by P percent (0 < P < 90) before sending, as
    /// vidgear's reducer()
    #[arg(long, value_name = "P", value_parser = parse_percentage)]
    pub reduce: Option<f64>,

    /// Write every frame returned by the receiver to DIR/reply_NNNNNN.npy
    /// (NNNNNN = the sequence number of the frame it answers)
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,

    #[command(flatten)]
    pub jpeg: JpegArgs,

    /// Compress JPEG frames ahead on N threads (default: the cores
    /// available); frames still leave in order, one at a time
    #[arg(long, value_name = "N")]
    pub jpeg_workers: Option<NonZeroUsize>,

    #[command(flatten)]
    pub stats: StatsArgs,

    #[command(flatten)]
    pub secure: crate::secure::SendSecureArgs,
}

fn parse_fps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(format!(
            "{text:?} is not a number of frames per second (0 or more)"
        )),
    }
}

/// The frames a run sends: where from, their shape and type after
/// `--reduce`, and the rate.
struct Source {
    frames: Frames,
    shape: Vec<usize>,
    dtype: Dtype,
    fps: Option<f64>,
}

/// Opens the video, or sets up the synthetic frames.
fn open_source(args: &SendArgs) -> Result<Source, CliError> {
    let (frames, shape, dtype, fps) = match &args.source {
        Some(path) => {
            let options = SourceOptions::default().looping(args.looping);
            let video = VideoSource::open(path, &options).map_err(|e| {
                if e.is_bad_input() {
                    CliError::Usage(e.to_string())
                } else {
                    CliError::Runtime(e.to_string())
                }
            })?;
            tracing::info!(width = video.width(), height = video.height(), rate = ?video.frame_rate(), "video opened");
            let shape = vec![video.height(), video.width(), 3];
            let rate = video.frame_rate();
            (Frames::Video(video), shape, Dtype::Uint8, args.fps.or(rate))
        }
        None if args.content == Content::Natural => {
            if args.dtype != Dtype::Uint8 || !(2..=3).contains(&args.shape.0.len()) {
                return Err(CliError::Usage(
                    "--content natural makes uint8 frames of shape H,W or H,W,C".into(),
                ));
            }
            let s = args.shape.0.clone();
            (Frames::Natural(s.clone()), s, args.dtype, args.fps)
        }
        None => {
            let synth = Synth::new(args.dtype, args.shape.0.clone()).map_err(CliError::Usage)?;
            (
                Frames::Synth(synth),
                args.shape.0.clone(),
                args.dtype,
                args.fps,
            )
        }
    };
    let shape = reduced_shape(args.reduce, shape, dtype)?;
    if let Some(cs) = args.jpeg.jpeg {
        check_jpeg_fits(&shape, dtype, cs).map_err(CliError::Usage)?;
    }
    let fps = fps.filter(|&f| f != 0.0);
    Ok(Source {
        frames,
        shape,
        dtype,
        fps,
    })
}

/// The shape frames have after `--reduce`, or why they cannot be reduced.
fn reduced_shape(
    reduce: Option<f64>,
    mut shape: Vec<usize>,
    dtype: Dtype,
) -> Result<Vec<usize>, CliError> {
    let Some(p) = reduce else {
        return Ok(shape);
    };
    let (h, w) = match shape[..] {
        [h, w] | [h, w, _] => (h, w),
        _ => {
            return Err(CliError::Usage(
                "--reduce needs frames of shape H,W or H,W,C".into(),
            ))
        }
    };
    if !matches!(dtype, Dtype::Uint8 | Dtype::Uint16 | Dtype::Float32)
        || shape.get(2).is_some_and(|&c| c > 4)
    {
        return Err(CliError::Usage(format!(
            "--reduce works on uint8, uint16 and float32 frames of up to 4 channels, not {dtype} {shape:?}"
        )));
    }
    let (h, w) =
        netgear::reducer::reduced_size(h, w, p).map_err(|e| CliError::Usage(e.to_string()))?;
    shape[0] = h;
    shape[1] = w;
    Ok(shape)
}

pub fn run(args: SendArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let config = args.conn.config();
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let source = open_source(&args)?;
    tracing::debug!(shape = ?source.shape, dtype = %source.dtype, "frames");
    if let Some(dir) = &args.save_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::Usage(format!(
                "cannot create the save directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let media = args.jpeg.media();
    let server = Server::connect(
        ServerOptions::new()
            .address(
                args.conn
                    .address
                    .clone()
                    .unwrap_or_else(|| "localhost".into()),
            )
            .ports(args.conn.port.0.clone())
            .protocol(args.conn.protocol())
            .config(config)
            .security(args.secure.security()?),
    )?;
    tracing::info!(endpoints = ?server.endpoints(), "connected");
    let workers = args.jpeg_workers.unwrap_or_else(default_jpeg_workers);
    let payloads = Payloads::new(
        Maker {
            frames: source.frames,
            reduce: args.reduce,
            cycle: args.cycle,
            kept: Vec::new(),
            media: media.clone(),
        },
        workers,
    );
    let mut sending = Sending {
        message: args.message.clone().unwrap_or(Value::Null),
        multiclient: server.config().multiclient,
        media,
        save_dir: args.save_dir.clone(),
        out: JsonLines::new(args.conn.json),
        stats: Stats::new("sent", "round trip", quiet),
        run_stats: RunStats::new("send", &args.stats),
    };
    let limits = RunLimits {
        frames: args.conn.frames,
        duration: args.duration,
        period: source.fps.map(|f| Duration::from_secs_f64(1.0 / f)),
    };
    sending.run(server, payloads, &limits, &stop)
}

/// When a run stops, and how fast it goes.
struct RunLimits {
    frames: Option<u64>,
    duration: Option<Duration>,
    /// The frame period (`--fps`), if paced.
    period: Option<Duration>,
}

/// What a send run keeps between frames.
struct Sending {
    message: Value,
    multiclient: bool,
    /// Decodes JPEG frames the receiver returns.
    media: Media,
    save_dir: Option<PathBuf>,
    out: JsonLines,
    stats: Stats,
    run_stats: RunStats,
}

impl Sending {
    /// Sends until the limits, the end of the video, Ctrl-C or a failure,
    /// then closes and summarises.
    fn run(
        &mut self,
        mut server: Server,
        mut payloads: Payloads,
        limits: &RunLimits,
        stop: &StopFlag,
    ) -> Result<(), CliError> {
        let mut failure = self
            .send_all(&mut server, &mut payloads, limits, stop)
            .err();
        // The CPU time of the window: before the making thread stops (it runs
        // as far ahead of the window's end as it ran ahead of its start).
        if let Err(e) = self.run_stats.finish() {
            failure.get_or_insert(CliError::Runtime(format!("cannot write --stats: {e}")));
        }
        payloads.finish();
        // The termination handshake (skipped by the library when the peer is gone).
        match server.close() {
            Ok(acknowledged) => tracing::info!(acknowledged, "closed"),
            Err(e) if failure.is_none() && !e.is_interrupted() => failure = Some(e.into()),
            Err(e) => tracing::warn!(error = %e, "termination handshake failed"),
        }
        self.stats.summary();
        failure.map_or(Ok(()), Err)
    }

    fn send_all(
        &mut self,
        server: &mut Server,
        payloads: &mut Payloads,
        limits: &RunLimits,
        stop: &StopFlag,
    ) -> Result<(), CliError> {
        let paced_from = Instant::now();
        let mut first_frame: Option<Instant> = None;
        let mut k: u64 = 0;
        while limits.frames.is_none_or(|n| k < n) && !stop.load(Ordering::SeqCst) {
            if let (Some(d), Some(t0)) = (limits.duration, first_frame) {
                if t0.elapsed() >= d {
                    break;
                }
            }
            let payload = match payloads.next(k) {
                None => break, // the end of the video
                Some(Err(Unmade::Fatal(e))) => return Err(e),
                Some(Err(Unmade::Skipped(e))) => Err(e),
                Some(Ok(payload)) => Ok(payload),
            };
            if let Some(period) = limits.period {
                // Frame k leaves no earlier than k periods after the first.
                let due = paced_from + period.mul_f64(k as f64);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            let started = Instant::now();
            let line = match payload {
                Err(e) => self.unsendable(k, &e.to_string(), started),
                Ok(payload) => match server.send_value(payload, self.message.clone()) {
                    Ok(sent) => self.answered(sent, started)?,
                    Err(e) if e.is_interrupted() => break,
                    Err(e) => return Err(CliError::from(e)),
                },
            };
            match self.out.line(|| line) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                Err(e) => return Err(CliError::Runtime(format!("cannot write to stdout: {e}"))),
            }
            k += 1;
            first_frame.get_or_insert_with(Instant::now);
        }
        Ok(())
    }

    /// Frame `k` could not be compressed: reported, nothing sent.
    fn unsendable(&mut self, k: u64, error: &str, started: Instant) -> Map {
        eprintln!("netgear: cannot JPEG-compress frame {k}: {error}");
        self.stats.error();
        self.stats.frame(None);
        self.run_stats.frame(Some(started.elapsed()));
        error_line(
            k,
            "media-cannot-compress",
            format!("cannot JPEG-compress the frame: {error}"),
        )
    }

    /// The JSON line of an answered frame; a bad answer or an undecodable
    /// returned frame is reported in it (and on stderr), and the run goes on.
    fn answered(&mut self, sent: Sent, started: Instant) -> Result<Map, CliError> {
        let rtt = started.elapsed();
        self.run_stats.frame(Some(rtt));
        let seq = sent.seq;
        let (code, problem) = match sent.outcome {
            Outcome::Reply(data) => match self.media.decode_return(data) {
                Ok(data) => {
                    self.save_reply(seq, &data)?;
                    self.stats.frame(Some(rtt));
                    return Ok(self.reply_line(seq, sent.port, Some(data), rtt));
                }
                Err(e) => (
                    e.code(),
                    format!("the JPEG returned frame of frame {seq} cannot be decoded: {e}"),
                ),
            },
            Outcome::Rejected { reason } => (
                "rejected",
                format!("the client rejected frame {seq}: {reason}"),
            ),
            Outcome::BadReply(e) => (
                e.code(),
                format!("the reply to frame {seq} is malformed: {e}"),
            ),
            _ => {
                self.stats.frame(Some(rtt));
                return Ok(self.reply_line(seq, sent.port, None, rtt));
            }
        };
        eprintln!("netgear: {problem}");
        self.stats.error();
        self.stats.frame(None);
        Ok(error_line(seq, code, problem))
    }

    fn reply_line(
        &self,
        seq: u64,
        port: Option<Value>,
        reply: Option<ReturnData>,
        rtt: Duration,
    ) -> Map {
        let mut m = Map::new();
        m.insert("seq", seq);
        m.insert("reply", reply_json(reply));
        if self.multiclient {
            m.insert("port", port.unwrap_or(Value::Null));
        }
        m.insert("rtt_us", (rtt.as_secs_f64() * 1e7).round() / 10.0);
        m
    }

    /// `--save-dir`: a returned frame as reply_NNNNNN.npy.
    fn save_reply(&self, seq: u64, data: &ReturnData) -> Result<(), CliError> {
        let (Some(dir), ReturnData::Frame(Payload::Raw(frame))) = (&self.save_dir, data) else {
            return Ok(());
        };
        let path = dir.join(format!("reply_{seq:06}.npy"));
        npy::save(&path, frame)
            .map_err(|e| CliError::Runtime(format!("cannot save {}: {e}", path.display())))
    }
}

/// The JSON line of a frame that went wrong: `error` says what, `code`
/// is its stable identifier (spec/08; `rejected` when the client said it
/// could not decode the frame).
fn error_line(seq: u64, code: &str, error: String) -> Map {
    let mut m = Map::new();
    m.insert("seq", seq);
    m.insert("reply", Value::Null);
    m.insert("error", error);
    m.insert("code", code);
    m
}

/// The JSON form of return data: the value itself, or a description of a
/// returned frame.
fn reply_json(reply: Option<ReturnData>) -> Value {
    match reply {
        None => Value::Null,
        Some(ReturnData::Json(v)) => v,
        Some(ReturnData::Frame(payload)) => {
            let mut m = Map::new();
            describe_payload(&mut m, &payload);
            Value::Object(m)
        }
    }
}
