//! The receiving half of a Bidirectional-Mode pair (the other is `send.rs`):
//! it checks every frame against the message sent with it and answers with
//! a JPEG thumbnail of the frame.
//!
//! ```text
//! cargo run --example receive               # binds tcp://*:5555
//! cargo run --example receive -- --ipc DIR  # binds ipc://DIR/netgear:5555
//! ```
//!
//! It runs until the sender ends the session (or stays silent for 3 × 3 ×
//! 4 s, vidgear's defaults), prints a summary, and exits 0 when every frame
//! arrived intact.

use std::error::Error;
use std::process::ExitCode;

use netgear::jpeg::JpegOptions;
use netgear::media::Media;
use netgear::session::{ClientEvent, Config, Delivery, Pattern};
use netgear::transport::zmq::{Client, ClientOptions, Protocol};
use netgear::Frame;

/// What the sender says about each frame. The two examples share the JSON,
/// not the type: any serde type that fits the message would do.
#[derive(serde::Deserialize)]
struct FrameInfo {
    camera: String,
    frame_no: u64,
    pixel_sum: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("receive: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Receives until the sender terminates; true when every frame was intact.
fn run() -> Result<bool, Box<dyn Error>> {
    // Both ends must agree on the pattern and the mode.
    let config = Config::new().pattern(Pattern::ReqRep).bidirectional(true);
    let mut options = ClientOptions::new().config(config);
    if let Some(dir) = ipc_dir()? {
        options = options
            .protocol(Protocol::Ipc)
            .address(format!("{dir}/netgear"));
    }
    let mut client = Client::bind(options)?;
    println!(
        "receive: bound {}",
        client.bound_endpoint().unwrap_or_default()
    );

    // A frame is answered the moment it arrives, with the return data set
    // after the frame before; so the first frame finds no thumbnail yet.
    client.set_return("no thumbnail yet")?;
    // vidgear's `reducer(frame, 50)` (half the width and height), then JPEG.
    let thumbnails = Media::new().reduce(50.0).jpeg(JpegOptions::default());
    let (mut intact, mut bad) = (0u64, 0u64);
    while let Some(event) = client.recv()? {
        match event {
            ClientEvent::Frame(f) => {
                let seq = f.seq;
                match check(f).and_then(|frame| Ok(thumbnails.encode_return(frame)?)) {
                    Ok(thumbnail) => {
                        intact += 1;
                        client.set_return_data(thumbnail);
                    }
                    // A bad frame ends nothing: the sender learns why instead.
                    Err(why) => {
                        bad += 1;
                        eprintln!("receive: frame {seq}: {why}");
                        client.set_return(&format!("frame {seq}: {why}"))?;
                    }
                }
            }
            // Already answered with a rejection; the session goes on.
            ClientEvent::Rejected { error } => {
                bad += 1;
                eprintln!("receive: a malformed message: {error}");
            }
            _ => {}
        }
    }
    client.close()?;
    let received = intact + bad;
    println!("receive: {received} frames received, {intact} intact, {bad} bad");
    Ok(bad == 0)
}

/// The frame, if it is what its message says it is.
fn check(f: Delivery) -> Result<Frame, Box<dyn Error>> {
    let info: FrameInfo = f.message_as()?;
    // Media::new() decodes whatever arrives, raw or JPEG.
    let frame = Media::new().decode(f.payload)?;
    let pixel_sum: u64 = frame.data().iter().map(|&b| u64::from(b)).sum();
    if (info.frame_no, info.pixel_sum) != (f.seq, pixel_sum) {
        return Err(format!(
            "{} says frame {} with pixel sum {}, but it is frame {} with pixel sum {pixel_sum}",
            info.camera, info.frame_no, info.pixel_sum, f.seq
        )
        .into());
    }
    Ok(frame)
}

/// `--ipc DIR`, the only argument: a socket file in DIR instead of tcp.
fn ipc_dir() -> Result<Option<String>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, dir] if flag == "--ipc" => Ok(Some(dir.clone())),
        _ => Err(format!("usage: receive [--ipc DIR], not {args:?}")),
    }
}
