//! `netgear send`: connect and send synthetic frames.

use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::Args;
use netgear::json::{Map, Value};
use netgear::transport::zmq::{Error, Server, ServerOptions};
use netgear::{Dtype, ReturnData};

use crate::args::{parse_json_arg, parse_shape, ConnArgs, Shape};
use crate::output::{describe_payload, JsonLines, Stats};
use crate::synth::Synth;
use crate::{interrupted, CliError, StopFlag};

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

    /// Send at most this many frames per second (default: as fast as the
    /// lockstep allows)
    #[arg(long, value_name = "FPS", value_parser = parse_fps)]
    pub fps: Option<f64>,
}

fn parse_fps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!(
            "{text:?} is not a positive number of frames per second"
        )),
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
    } = args;
    let config = conn.config();
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let synth = Synth::new(dtype, shape.0).map_err(CliError::Usage)?;
    let message = message.unwrap_or(Value::Null);
    let multiclient = config.multiclient;
    let mut server = Server::new(ServerOptions {
        address: conn.address.clone().unwrap_or_else(|| "localhost".into()),
        ports: conn.port.0.clone(),
        protocol: conn.protocol(),
        config,
    })?;
    tracing::info!(endpoints = ?server.endpoints(), "connected");

    let mut out = JsonLines::new(conn.json);
    let mut stats = Stats::new("sent", "round trip", quiet);
    let mut failure = None;
    let mut k: u64 = 0;
    let period = fps.map(|f| std::time::Duration::from_secs_f64(1.0 / f));
    let paced_from = Instant::now();
    while conn.frames.is_none_or(|n| k < n) && !stop.load(Ordering::SeqCst) {
        if let Some(period) = period {
            // Frame k leaves no earlier than k periods after the first.
            let due = paced_from + period.mul_f64(k as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let frame = synth.frame(k);
        let started = Instant::now();
        let written = match server.send(frame, message.clone()) {
            Ok(sent) => {
                stats.frame(Some(started.elapsed()));
                out.line(|| {
                    let mut m = Map::new();
                    m.insert("seq", sent.seq);
                    m.insert("reply", reply_json(sent.reply));
                    if multiclient {
                        m.insert("port", sent.port.unwrap_or(Value::Null));
                    }
                    m
                })
            }
            Err(e) if !e.is_fatal() => {
                // Rejected or a malformed answer: the frame was handed over.
                eprintln!("netgear: {e}");
                stats.error();
                stats.frame(None);
                let seq = match &e {
                    Error::Rejected { seq, .. } | Error::BadReply { seq, .. } => *seq,
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
    }
    // The termination handshake (skipped by the library when the peer is gone).
    match server.close() {
        Ok(acknowledged) => tracing::info!(acknowledged, "closed"),
        Err(e) if failure.is_none() && !interrupted(&e) => failure = Some(e.into()),
        Err(e) => tracing::warn!(error = %e, "termination handshake failed"),
    }
    stats.summary();
    failure.map_or(Ok(()), Err)
}
