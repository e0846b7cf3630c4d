//! `netgear receive`: bind and receive frames, answering each one.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::Args;
use netgear::json::{Map, Value};
use netgear::transport::zmq::{Client, ClientOptions, Error};
use netgear::{Dtype, Payload, ReturnData};

use crate::args::{parse_json_arg, parse_shape, ConnArgs, Shape};
use crate::output::{describe_payload, JsonLines, Stats};
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
    /// (bidirectional mode); element i is i mod 251
    #[arg(long, value_name = "H,W[,C]", value_parser = parse_shape)]
    pub return_frame: Option<Shape>,

    /// Element type of --return-frame, by numpy name
    #[arg(long, value_name = "DTYPE", default_value = "uint8")]
    pub return_dtype: Dtype,

    /// Write every received frame to DIR/frame_NNNNNN.npy (NNNNNN = the
    /// frame's sequence number); JPEG frames go to frame_NNNNNN.jpg
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
}

pub fn run(args: ReceiveArgs, quiet: bool, stop: StopFlag) -> Result<(), CliError> {
    let ReceiveArgs {
        conn,
        return_data,
        return_frame,
        return_dtype,
        save_dir,
    } = args;
    let config = conn.config();
    config
        .validate()
        .map_err(|e| CliError::Usage(Error::Config(e).to_string()))?;
    let replies_with_data = config.bidirectional || config.multiclient;
    let return_data = match (return_data, return_frame) {
        (Some(v), _) => Some(ReturnData::Json(v)),
        (None, Some(shape)) => Some(ReturnData::from(
            Synth::new(return_dtype, shape.0)
                .map_err(CliError::Usage)?
                .frame(0),
        )),
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
    let multiserver = config.multiserver;
    let mut client = Client::new(ClientOptions {
        address: conn.address.clone().unwrap_or_else(|| "*".into()),
        ports: conn.port.0.clone(),
        protocol: conn.protocol(),
        config,
        device_id: None,
    })?;
    tracing::info!(endpoint = ?client.bound_endpoint(), "bound");

    let mut out = JsonLines::new(conn.json);
    let mut stats = Stats::new("received", "frame interval", quiet);
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
        stats.frame(last_frame.map(|t| now - t));
        last_frame = Some(now);
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
    }
    // Dropping the client lets the last answer leave before the socket closes.
    client.close();
    stats.summary();
    failure.map_or(Ok(()), Err)
}
