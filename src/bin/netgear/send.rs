//! `netgear send`: connect and send synthetic frames or a video's frames.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::natural::natural_frame;
use clap::Args;
use netgear::jpeg::{self, JpegOptions};
use netgear::json::{Map, Value};
use netgear::reducer::reducer;
use netgear::source::{SourceOptions, VideoSource};
use netgear::transport::zmq::{Error, Server, ServerOptions};
use netgear::{Dtype, Frame, Payload, ReturnData};

use crate::args::{
    check_jpeg_fits, parse_json_arg, parse_percentage, parse_secs, parse_shape, ConnArgs, Content,
    JpegArgs, Shape,
};
use crate::output::{describe_payload, JsonLines, Stats};
use crate::runstats::{RunStats, StatsArgs};
use crate::synth::Synth;
use crate::{interrupted, npy, CliError, StopFlag};

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
    #[arg(long, value_name = "JSON", value_parser = parse_json_arg)]
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

    #[command(flatten)]
    pub stats: StatsArgs,
}

fn parse_fps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(format!(
            "{text:?} is not a number of frames per second (0 or more)"
        )),
    }
}

/// Where the frames come from.
enum Frames {
    Synth(Synth),
    Natural(Vec<usize>),
    Video(VideoSource),
}

impl Frames {
    /// Frame k, or `None` at the end of the video.
    fn next(&mut self, k: u64) -> Option<Result<Frame, CliError>> {
        match self {
            Frames::Synth(s) => Some(Ok(s.frame(k))),
            Frames::Natural(shape) => Some(Ok(natural_frame(shape, k))),
            Frames::Video(v) => v
                .next()
                .map(|r| r.map_err(|e| CliError::Runtime(e.to_string()))),
        }
    }
}

/// Why a frame could not be made.
enum Unmade {
    /// The end of the run (the source failed).
    Fatal(CliError),
    /// This frame only (JPEG compression failed): go on with the next.
    Skipped(Error),
}

/// Frame k, ready to send: made, reduced, kept for `--cycle`, compressed.
struct Maker {
    frames: Frames,
    reduce: Option<f64>,
    cycle: Option<u64>,
    kept: Vec<Frame>,
    jpeg: Option<JpegOptions>,
}

impl Maker {
    /// Payload k, or `None` at the end of the video.
    fn make(&mut self, k: u64) -> Option<Result<Payload, Unmade>> {
        let frame = match self.cycle {
            Some(c) if k >= c => self.kept[(k % c) as usize].clone(),
            _ => {
                let frame = match self.frames.next(k)? {
                    Ok(frame) => frame,
                    Err(e) => return Some(Err(Unmade::Fatal(e))),
                };
                let frame = match self.reduce.map(|p| reducer(&frame, p)) {
                    None => frame,
                    Some(Ok(small)) => small,
                    Some(Err(e)) => {
                        return Some(Err(Unmade::Fatal(CliError::Runtime(e.to_string()))))
                    }
                };
                if self.cycle.is_some() {
                    self.kept.push(frame.clone());
                }
                frame
            }
        };
        Some(match &self.jpeg {
            Some(options) => {
                jpeg::encode(&frame, options).map_err(|e| Unmade::Skipped(Error::JpegEncode(e)))
            }
            None => Ok(Payload::Raw(frame)),
        })
    }
}

/// Where the send loop takes its payloads from. When making a frame costs
/// real work (JPEG, --reduce, a video, natural frames), a thread makes frame
/// k + 1 while frame k is on its way and answered (the lockstep allows no
/// more), through a queue of one: it runs at most two frames ahead.
enum Payloads {
    Inline(Box<Maker>),
    Pipelined {
        queue: mpsc::Receiver<Option<Result<Payload, Unmade>>>,
        maker: JoinHandle<()>,
    },
}

impl Payloads {
    fn new(maker: Maker) -> Payloads {
        let costly = maker.jpeg.is_some()
            || maker.reduce.is_some()
            || !matches!(maker.frames, Frames::Synth(_));
        if !costly {
            return Payloads::Inline(Box::new(maker));
        }
        let (tx, queue) = mpsc::sync_channel(1);
        let mut maker = maker;
        let handle = std::thread::spawn(move || {
            for k in 0.. {
                let item = maker.make(k);
                let last = matches!(item, None | Some(Err(Unmade::Fatal(_))));
                if tx.send(item).is_err() || last {
                    return;
                }
            }
        });
        Payloads::Pipelined {
            queue,
            maker: handle,
        }
    }

    fn next(&mut self, k: u64) -> Option<Result<Payload, Unmade>> {
        match self {
            Payloads::Inline(maker) => maker.make(k),
            Payloads::Pipelined { queue, .. } => queue.recv().ok().flatten(),
        }
    }

    /// Stops the making thread (it ends at its next hand-over).
    fn finish(self) {
        if let Payloads::Pipelined { queue, maker } = self {
            drop(queue);
            let _ = maker.join();
        }
    }
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

pub fn run(args: SendArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let SendArgs {
        conn,
        shape,
        dtype,
        message,
        fps,
        duration,
        cycle,
        content,
        source,
        looping,
        reduce,
        save_dir,
        jpeg,
        stats: stats_args,
    } = args;
    let config = conn.config();
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let (frames, frame_shape, frame_dtype, mut fps) = match &source {
        Some(path) => {
            let options = SourceOptions {
                looping,
                ..SourceOptions::default()
            };
            let video = VideoSource::open(path, &options).map_err(|e| {
                if e.is_bad_input() {
                    CliError::Usage(e.to_string())
                } else {
                    CliError::Runtime(e.to_string())
                }
            })?;
            tracing::info!(
                width = video.width(),
                height = video.height(),
                rate = ?video.frame_rate(),
                "video opened"
            );
            let shape = vec![video.height(), video.width(), 3];
            let rate = video.frame_rate();
            (Frames::Video(video), shape, Dtype::Uint8, fps.or(rate))
        }
        None if content == Content::Natural => {
            if dtype != Dtype::Uint8 || !(2..=3).contains(&shape.0.len()) {
                return Err(CliError::Usage(
                    "--content natural makes uint8 frames of shape H,W or H,W,C".into(),
                ));
            }
            let s = shape.0.clone();
            (Frames::Natural(s.clone()), s, dtype, fps)
        }
        None => {
            let s = shape.0.clone();
            let synth = Synth::new(dtype, shape.0).map_err(CliError::Usage)?;
            (Frames::Synth(synth), s, dtype, fps)
        }
    };
    if fps == Some(0.0) {
        fps = None;
    }
    let mut sent_shape = frame_shape.clone();
    if let Some(p) = reduce {
        let (h, w) = match frame_shape[..] {
            [h, w] | [h, w, _] => (h, w),
            _ => {
                return Err(CliError::Usage(
                    "--reduce needs frames of shape H,W or H,W,C".into(),
                ))
            }
        };
        let (h, w) =
            netgear::reducer::reduced_size(h, w, p).map_err(|e| CliError::Usage(e.to_string()))?;
        sent_shape[0] = h;
        sent_shape[1] = w;
        if !matches!(frame_dtype, Dtype::Uint8 | Dtype::Uint16 | Dtype::Float32)
            || frame_shape.get(2).is_some_and(|&c| c > 4)
        {
            return Err(CliError::Usage(format!(
                "--reduce works on uint8, uint16 and float32 frames of up to 4 channels, not {frame_dtype} {frame_shape:?}"
            )));
        }
    }
    if let Some(cs) = jpeg.jpeg {
        check_jpeg_fits(&sent_shape, frame_dtype, cs).map_err(CliError::Usage)?;
    }
    if let Some(dir) = &save_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::Usage(format!(
                "cannot create the save directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let message = message.unwrap_or(Value::Null);
    let multiclient = config.multiclient;
    let mut server = Server::new(ServerOptions {
        address: conn.address.clone().unwrap_or_else(|| "localhost".into()),
        ports: conn.port.0.clone(),
        protocol: conn.protocol(),
        config,
        jpeg: jpeg.options(),
        decode_jpeg: true,
    })?;
    tracing::info!(endpoints = ?server.endpoints(), "connected");

    let mut out = JsonLines::new(conn.json);
    let mut stats = Stats::new("sent", "round trip", quiet);
    let mut run_stats = RunStats::new("send", &stats_args);
    let mut failure = None;
    let mut k: u64 = 0;
    let period = fps.map(|f| Duration::from_secs_f64(1.0 / f));
    let paced_from = Instant::now();
    let mut first_frame: Option<Instant> = None;
    let mut payloads = Payloads::new(Maker {
        frames,
        reduce,
        cycle,
        kept: Vec::new(),
        jpeg: jpeg.options(),
    });
    while conn.frames.is_none_or(|n| k < n) && !stop.load(Ordering::SeqCst) {
        if let (Some(d), Some(t0)) = (duration, first_frame) {
            if t0.elapsed() >= d {
                break;
            }
        }
        let payload = match payloads.next(k) {
            None => break, // the end of the video
            Some(Err(Unmade::Fatal(e))) => {
                failure = Some(e);
                break;
            }
            Some(Err(Unmade::Skipped(e))) => Err(e),
            Some(Ok(payload)) => Ok(payload),
        };
        if let Some(period) = period {
            // Frame k leaves no earlier than k periods after the first.
            let due = paced_from + period.mul_f64(k as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let started = Instant::now();
        let sent = payload.and_then(|p| server.send(p, message.clone()));
        let written = match sent {
            Ok(sent) => {
                let rtt = started.elapsed();
                stats.frame(Some(rtt));
                run_stats.frame(Some(rtt));
                if let (Some(dir), Some(ReturnData::Frame(Payload::Raw(f)))) =
                    (&save_dir, &sent.reply)
                {
                    let path = dir.join(format!("reply_{:06}.npy", sent.seq));
                    if let Err(e) = npy::save(&path, f) {
                        failure = Some(CliError::Runtime(format!(
                            "cannot save {}: {e}",
                            path.display()
                        )));
                        break;
                    }
                }
                out.line(|| {
                    let mut m = Map::new();
                    m.insert("seq", sent.seq);
                    m.insert("reply", reply_json(sent.reply));
                    if multiclient {
                        m.insert("port", sent.port.unwrap_or(Value::Null));
                    }
                    m.insert("rtt_us", (rtt.as_secs_f64() * 1e7).round() / 10.0);
                    m
                })
            }
            Err(e) if !e.is_fatal() => {
                // Rejected or a malformed answer: the frame was handed over.
                eprintln!("netgear: {e}");
                stats.error();
                stats.frame(None);
                run_stats.frame(Some(started.elapsed()));
                let seq = match &e {
                    Error::Rejected { seq, .. }
                    | Error::BadReply { seq, .. }
                    | Error::BadJpeg { seq, .. } => *seq,
                    _ => k,
                };
                out.line(|| {
                    let mut m = Map::new();
                    m.insert("seq", seq);
                    m.insert("reply", Value::Null);
                    m.insert("error", e.to_string());
                    m
                })
            }
            Err(e) if interrupted(&e) => break,
            Err(e) => {
                failure = Some(CliError::from(e));
                break;
            }
        };
        if let Err(e) = written {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                failure = Some(CliError::Runtime(format!("cannot write to stdout: {e}")));
            }
            break;
        }
        k += 1;
        first_frame.get_or_insert_with(Instant::now);
    }
    // The CPU time of the window: before the making thread stops (it runs
    // as far ahead of the window's end as it ran ahead of its start).
    if let Err(e) = run_stats.finish() {
        failure.get_or_insert(CliError::Runtime(format!("cannot write --stats: {e}")));
    }
    payloads.finish();
    // The termination handshake (skipped by the library when the peer is gone).
    match server.close() {
        Ok(acknowledged) => tracing::info!(acknowledged, "closed"),
        Err(e) if failure.is_none() && !interrupted(&e) => failure = Some(e.into()),
        Err(e) => tracing::warn!(error = %e, "termination handshake failed"),
    }
    stats.summary();
    failure.map_or(Ok(()), Err)
}
