//! `netgear receive`: bind and receive frames, answering each one.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::natural::natural_frame;
use clap::Args;
use netgear::jpeg;
use netgear::json::{Map, Value};
use netgear::reducer::reducer;
use netgear::transport::zmq::{Client, ClientOptions, Error};
use netgear::{Dtype, Payload, ReturnData};

use crate::args::{
    check_jpeg_fits, parse_json_arg, parse_percentage, parse_shape, ConnArgs, Content, JpegArgs,
    Shape,
};
use crate::output::{describe_payload, JsonLines, Stats};
use crate::preview::Preview;
use crate::runstats::{RunStats, StatsArgs};
use crate::synth::Synth;
use crate::{interrupted, npy, CliError, StopFlag};

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Return data sent back with every frame (bidirectional mode): JSON
    /// (Python's dialect), or @PATH to read it from a file
    #[arg(long = "return", value_name = "JSON", value_parser = parse_json_arg, conflicts_with = "return_frame")]
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

    /// Serve a live view on ADDR (e.g. 127.0.0.1:8080): an HTML page with
    /// the frames as an MJPEG stream, the latest message and the timing
    #[arg(long, value_name = "ADDR")]
    pub preview: Option<String>,

    #[command(flatten)]
    pub jpeg: JpegArgs,

    #[command(flatten)]
    pub stats: StatsArgs,
}

pub fn run(args: ReceiveArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let ReceiveArgs {
        conn,
        return_data,
        return_frame,
        return_dtype,
        content,
        reduce,
        save_dir,
        preview,
        jpeg,
        stats: stats_args,
    } = args;
    let config = conn.config();
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let replies_with_data = config.bidirectional || config.multiclient;
    let return_data = match (return_data, return_frame) {
        (Some(v), _) => Some(ReturnData::Json(v)),
        (None, Some(shape)) => {
            let frame = match content {
                Content::Natural => {
                    if return_dtype != Dtype::Uint8 || !(2..=3).contains(&shape.0.len()) {
                        return Err(CliError::Usage(
                            "--content natural makes uint8 frames of shape H,W or H,W,C".into(),
                        ));
                    }
                    natural_frame(&shape.0, 0)
                }
                Content::Ramp => Synth::new(return_dtype, shape.0)
                    .map_err(CliError::Usage)?
                    .frame(0),
            };
            let frame = match reduce {
                Some(p) => reducer(&frame, p).map_err(|e| CliError::Usage(e.to_string()))?,
                None => frame,
            };
            if let Some(cs) = jpeg.jpeg {
                check_jpeg_fits(frame.shape(), frame.dtype(), cs).map_err(CliError::Usage)?;
            }
            Some(ReturnData::from(frame))
        }
        (None, None) => None,
    };
    if return_data.is_some() && !replies_with_data {
        eprintln!("netgear: warning: return data is only sent in bidirectional (or multi-client) mode; ignoring it");
    }
    if let Some(dir) = &save_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::Usage(format!(
                "cannot create the save directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let preview = match &preview {
        Some(addr) => {
            let p = Preview::start(addr).map_err(CliError::Usage)?;
            if !quiet {
                eprintln!("netgear: preview on http://{}/", p.local_addr());
            }
            Some(p)
        }
        None => None,
    };
    let multiserver = config.multiserver;
    let limit = config.limits.max_message_bytes;
    let local_jpeg = jpeg.local();
    let mut client = Client::new(ClientOptions {
        address: conn.address.clone().unwrap_or_else(|| "*".into()),
        ports: conn.port.0.clone(),
        protocol: conn.protocol(),
        config,
        device_id: None,
        jpeg: jpeg.options(),
        // Decoded here, so that an undecodable JPEG can still be described.
        decode_jpeg: false,
    })?;
    tracing::info!(endpoint = ?client.bound_endpoint(), "bound");

    let mut out = JsonLines::new(conn.json);
    let mut stats = Stats::new("received", "frame interval", quiet);
    let mut run_stats = RunStats::new("receive", &stats_args);
    let mut return_data = return_data;
    let mut last_frame: Option<Instant> = None;
    let mut failure = None;
    while conn.frames.is_none_or(|n| stats.frames() < n) && !stop.load(Ordering::SeqCst) {
        let received = match client.recv(return_data.take()) {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::info!("the server terminated");
                break;
            }
            Err(e) if !e.is_fatal() => {
                eprintln!("netgear: {e}");
                stats.error();
                continue;
            }
            Err(e) if interrupted(&e) => break,
            Err(e) => {
                failure = Some(CliError::from(e));
                break;
            }
        };
        let now = Instant::now();
        if last_frame.is_none() {
            stats.restart();
        }
        let interval = last_frame.map(|t| now - t);
        stats.frame(interval);
        last_frame = Some(now);
        let mut received = received;
        let mut jpeg_error = None;
        if matches!(received.payload, Payload::Jpeg { .. }) {
            match jpeg::decode_with_limit(&received.payload, &local_jpeg, limit) {
                Ok(frame) => received.payload = Payload::Raw(frame),
                Err(error) => {
                    let e = Error::BadJpeg {
                        seq: received.seq,
                        what: "frame",
                        error,
                    };
                    eprintln!("netgear: {e}");
                    stats.error();
                    jpeg_error = Some(e.to_string());
                }
            }
        }
        if let (Some(p), Payload::Raw(frame)) = (&preview, &received.payload) {
            let colorspace = received.compression.map(|c| c.colorspace);
            p.publish(received.seq, frame, colorspace, &received.message, interval);
        }
        if let Some(dir) = &save_dir {
            let saved = match &received.payload {
                Payload::Raw(frame) => {
                    npy::save(&dir.join(format!("frame_{:06}.npy", received.seq)), frame)
                }
                Payload::Jpeg { data, .. } => {
                    std::fs::write(dir.join(format!("frame_{:06}.jpg", received.seq)), data)
                }
            };
            if let Err(e) = saved {
                failure = Some(CliError::Runtime(format!(
                    "cannot save frame {} in {}: {e}",
                    received.seq,
                    dir.display()
                )));
                break;
            }
        }
        let written = out.line(|| {
            let mut m = Map::new();
            m.insert("seq", received.seq);
            m.insert("message", received.message);
            describe_payload(&mut m, &received.payload);
            if let Some(e) = jpeg_error {
                m.insert("error", e);
            }
            if multiserver {
                m.insert("port", received.port.unwrap_or(Value::Null));
            }
            m
        });
        if let Err(e) = written {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                failure = Some(CliError::Runtime(format!("cannot write to stdout: {e}")));
            }
            break;
        }
        run_stats.frame(None);
    }
    if let Err(e) = run_stats.finish() {
        failure.get_or_insert(CliError::Runtime(format!("cannot write --stats: {e}")));
    }
    // Dropping the client lets the last answer leave before the socket closes.
    client.close();
    stats.summary();
    failure.map_or(Ok(()), Err)
}
