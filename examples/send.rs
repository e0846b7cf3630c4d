//! The sending half of a Bidirectional-Mode pair (the other is
//! `receive.rs`): it sends a synthetic 240×320 video, each frame with a
//! message, and checks every thumbnail the receiver sends back.
//!
//! ```text
//! cargo run --example send                        # to tcp://localhost:5555
//! cargo run --example send -- --address 10.0.0.7  # to another machine
//! cargo run --example send -- --ipc DIR --frames 10
//! ```
//!
//! It prints a summary and exits 0 when every reply checked out and the
//! receiver acknowledged the end of the session. Either end may start
//! first. Add `--release` to both for full speed: unoptimised, the JPEG
//! and shrinking work takes about 0.2 s per frame.

use std::error::Error;
use std::process::ExitCode;

use netgear::media::Media;
use netgear::reducer::reducer;
use netgear::session::{Config, Pattern};
use netgear::transport::zmq::{Outcome, Protocol, Server, ServerOptions};
use netgear::{Dtype, Frame, ReturnData};

const HEIGHT: usize = 240;
const WIDTH: usize = 320;

/// What travels with each frame: any `Serialize` type, written as Python's
/// `json.dumps` would write it, so vidgear reads it too.
#[derive(serde::Serialize)]
struct FrameInfo<'a> {
    camera: &'a str,
    frame_no: u64,
    pixel_sum: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("send: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends the video; true when every reply checked out.
fn run() -> Result<bool, Box<dyn Error>> {
    let args = Args::parse()?;
    let config = Config::new().pattern(Pattern::ReqRep).bidirectional(true);
    let mut options = ServerOptions::new().address(args.address).config(config);
    if let Some(dir) = args.ipc {
        options = options
            .protocol(Protocol::Ipc)
            .address(format!("{dir}/netgear"));
    }
    let mut server = Server::connect(options)?;
    println!("send: {} frames to {}", args.frames, server.endpoints()[0]);

    let (mut thumbnails, mut bad) = (0u64, 0u64);
    let mut previous: Option<Frame> = None;
    for frame_no in 0..args.frames {
        let frame = video_frame(frame_no);
        let pixel_sum = frame.data().iter().map(|&b| u64::from(b)).sum();
        let info = FrameInfo {
            camera: "synthetic",
            frame_no,
            pixel_sum,
        };
        // Blocks until the receiver answers (Err only if it is gone).
        let sent = server.send(frame.clone(), &info)?;
        match check_reply(sent.outcome, previous.as_ref()) {
            Ok(was_thumbnail) => thumbnails += u64::from(was_thumbnail),
            Err(why) => {
                eprintln!("send: reply to frame {frame_no}: {why}");
                bad += 1;
            }
        }
        previous = Some(frame);
    }
    let acknowledged = server.close()?;
    println!(
        "send: {} frames sent, {} replies good, {bad} bad, {thumbnails} thumbnails checked",
        args.frames,
        args.frames - bad
    );
    Ok(bad == 0 && acknowledged)
}

/// Frame `n` of the video: a gradient whose blue level jumps by 37 each
/// frame, so that the thumbnail of the wrong frame cannot pass for the
/// right one.
fn video_frame(n: u64) -> Frame {
    let blue = (n * 37 % 256) as u8;
    let mut bgr = Vec::with_capacity(HEIGHT * WIDTH * 3);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            bgr.extend([blue, (y * 255 / HEIGHT) as u8, (x * 255 / WIDTH) as u8]);
        }
    }
    Frame::new(Dtype::Uint8, vec![HEIGHT, WIDTH, 3], bgr).expect("the pixels fill the shape")
}

/// Checks the answer to a frame. The receiver answers each frame as soon as
/// it arrives, with the return data it set after the frame before: so the
/// first answer has no thumbnail, and each later one carries the thumbnail
/// of `previous`. Returns whether it was a thumbnail.
fn check_reply(outcome: Outcome, previous: Option<&Frame>) -> Result<bool, String> {
    let data = match outcome {
        Outcome::Reply(data) => data,
        other => return Err(format!("expected return data, got {other:?}")),
    };
    match (data, previous) {
        (ReturnData::Json(text), None) if text.as_str() == Some("no thumbnail yet") => Ok(false),
        (ReturnData::Frame(payload), Some(previous)) => {
            let thumbnail = Media::new().decode(payload).map_err(|e| e.to_string())?;
            let expected = reducer(previous, 50.0).map_err(|e| e.to_string())?;
            if thumbnail.shape() != expected.shape() {
                return Err(format!("thumbnail of shape {:?}", thumbnail.shape()));
            }
            // JPEG is lossy: a few levels of difference on average at most.
            let distance = mean_difference(thumbnail.data(), expected.data());
            if distance > 4.0 {
                return Err(format!("thumbnail {distance:.1} levels off on average"));
            }
            Ok(true)
        }
        (ReturnData::Json(said), _) => Err(format!("the receiver said {}", said.to_python_json())),
        (ReturnData::Frame(_), None) => Err("a thumbnail before any frame".into()),
    }
}

fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| u64::from(p.abs_diff(*q)))
        .sum();
    total as f64 / a.len().max(1) as f64
}

/// The command line: `--frames N` (100), `--address HOST` (localhost),
/// `--ipc DIR` (a socket file in DIR instead of tcp).
struct Args {
    frames: u64,
    address: String,
    ipc: Option<String>,
}

impl Args {
    fn parse() -> Result<Args, Box<dyn Error>> {
        let mut args = Args {
            frames: 100,
            address: "localhost".into(),
            ipc: None,
        };
        let mut words = std::env::args().skip(1);
        while let Some(flag) = words.next() {
            let value = words.next().ok_or(format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--frames" => args.frames = value.parse()?,
                "--address" => args.address = value,
                "--ipc" => args.ipc = Some(value),
                _ => return Err(format!("unknown option {flag}").into()),
            }
        }
        Ok(args)
    }
}
