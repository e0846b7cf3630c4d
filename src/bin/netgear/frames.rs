//! Where `netgear send` takes its frames from: synthetic ramps, the natural
//! video, or a video file; shrunk, repeated (`--cycle`) and compressed,
//! ahead of the send loop when that costs real work.

use std::sync::mpsc;
use std::thread::JoinHandle;

use netgear::media::{Media, MediaError};
use netgear::reducer::reducer;
use netgear::source::VideoSource;
use netgear::{Frame, Payload};

use crate::natural::natural_frame;
use crate::synth::Synth;
use crate::CliError;

/// Where the frames come from.
pub enum Frames {
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
pub enum Unmade {
    /// The end of the run (the source failed).
    Fatal(CliError),
    /// This frame only (JPEG compression failed): go on with the next.
    Skipped(MediaError),
}

/// Frame k, ready to send: made, reduced, kept for `--cycle`, compressed.
pub struct Maker {
    pub frames: Frames,
    pub reduce: Option<f64>,
    pub cycle: Option<u64>,
    pub kept: Vec<Frame>,
    /// JPEG compression, when asked for (the reduction is done above, so
    /// that `--cycle` keeps reduced frames and compresses each time).
    pub media: Media,
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
        Some(self.media.encode(frame).map_err(Unmade::Skipped))
    }
}

/// Where the send loop takes its payloads from. When making a frame costs
/// real work (JPEG, --reduce, a video, natural frames), a thread makes frame
/// k + 1 while frame k is on its way and answered (the lockstep allows no
/// more), through a queue of one: it runs at most two frames ahead.
pub enum Payloads {
    Inline(Box<Maker>),
    Pipelined {
        queue: mpsc::Receiver<Option<Result<Payload, Unmade>>>,
        maker: JoinHandle<()>,
    },
}

impl Payloads {
    pub fn new(maker: Maker) -> Payloads {
        let costly = maker.media.compresses()
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

    pub fn next(&mut self, k: u64) -> Option<Result<Payload, Unmade>> {
        match self {
            Payloads::Inline(maker) => maker.make(k),
            Payloads::Pipelined { queue, .. } => queue.recv().ok().flatten(),
        }
    }

    /// Stops the making thread (it ends at its next hand-over).
    pub fn finish(self) {
        if let Payloads::Pipelined { queue, maker } = self {
            drop(queue);
            let _ = maker.join();
        }
    }
}
