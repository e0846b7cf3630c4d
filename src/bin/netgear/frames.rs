//! Where `netgear send` takes its frames from: synthetic ramps, the natural
//! video, or a video file; shrunk, repeated (`--cycle`) and compressed,
//! ahead of the send loop when that costs real work.

use std::num::NonZeroUsize;
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

/// What [`Payloads::next`] hands over: payload k, or why there is none.
type Made = Option<Result<Payload, Unmade>>;

impl Maker {
    /// Payload k, or `None` at the end of the video.
    fn make(&mut self, k: u64) -> Made {
        match self.frame(k)? {
            Ok(frame) => Some(self.media.encode(frame).map_err(Unmade::Skipped)),
            Err(e) => Some(Err(Unmade::Fatal(e))),
        }
    }

    /// Frame k before compression (the part that must run in order), or
    /// `None` at the end of the video.
    fn frame(&mut self, k: u64) -> Option<Result<Frame, CliError>> {
        let frame = match self.cycle {
            Some(c) if k >= c => self.kept[(k % c) as usize].clone(),
            _ => {
                let frame = match self.frames.next(k)? {
                    Ok(frame) => frame,
                    Err(e) => return Some(Err(e)),
                };
                let frame = match self.reduce.map(|p| reducer(&frame, p)) {
                    None => frame,
                    Some(Ok(small)) => small,
                    Some(Err(e)) => return Some(Err(CliError::Runtime(e.to_string()))),
                };
                if self.cycle.is_some() {
                    self.kept.push(frame.clone());
                }
                frame
            }
        };
        Some(Ok(frame))
    }
}

/// Where the send loop takes its payloads from. When making a frame costs
/// real work (JPEG, --reduce, a video, natural frames), it is made ahead of
/// the send loop, which the lockstep keeps to one frame at a time:
///
/// * without compression, a thread makes frame k + 1 while frame k is on
///   its way and answered, through a queue of one;
/// * with JPEG compression, a thread makes the frames in order and hands
///   frame k to compressing worker k mod W, which hands it on through a
///   queue of its own; the send loop takes frame k from worker k mod W, so
///   the frames leave in order with no reordering, and W workers compress
///   W frames at once. Each worker holds at most three frames (one waiting,
///   one in hand, one done), so the pool runs at most 3W + 1 frames ahead.
pub enum Payloads {
    Inline(Box<Maker>),
    Pipelined {
        queue: mpsc::Receiver<Made>,
        maker: JoinHandle<()>,
    },
    Pool {
        /// Worker i's compressed frames, in order.
        done: Vec<mpsc::Receiver<Made>>,
        threads: Vec<JoinHandle<()>>,
    },
}

/// The default number of compressing workers: the cores available.
pub fn default_jpeg_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

impl Payloads {
    /// Payloads from `maker`; `workers` compress JPEG frames ahead (when
    /// `maker` compresses).
    pub fn new(maker: Maker, workers: NonZeroUsize) -> Payloads {
        let costly = maker.media.compresses()
            || maker.reduce.is_some()
            || !matches!(maker.frames, Frames::Synth(_));
        if !costly {
            return Payloads::Inline(Box::new(maker));
        }
        if maker.media.compresses() {
            return Payloads::pool(maker, workers.get());
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

    /// The maker thread and `workers` compressing threads (see the type).
    fn pool(mut maker: Maker, workers: usize) -> Payloads {
        let mut jobs = Vec::with_capacity(workers);
        let mut done = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers + 1);
        for _ in 0..workers {
            let (job_tx, job_rx) = mpsc::sync_channel::<Option<Result<Frame, CliError>>>(1);
            let (done_tx, done_rx) = mpsc::sync_channel::<Made>(1);
            let media = maker.media.clone();
            threads.push(std::thread::spawn(move || {
                // A job is a frame to compress, or the end (in its place).
                for job in job_rx {
                    let item = job.map(|made| match made {
                        Ok(frame) => media.encode(frame).map_err(Unmade::Skipped),
                        Err(e) => Err(Unmade::Fatal(e)),
                    });
                    if done_tx.send(item).is_err() {
                        return;
                    }
                }
            }));
            jobs.push(job_tx);
            done.push(done_rx);
        }
        threads.push(std::thread::spawn(move || {
            for k in 0.. {
                let job = maker.frame(k);
                let last = matches!(job, None | Some(Err(_)));
                if jobs[(k % jobs.len() as u64) as usize].send(job).is_err() || last {
                    return;
                }
            }
        }));
        Payloads::Pool { done, threads }
    }

    pub fn next(&mut self, k: u64) -> Made {
        match self {
            Payloads::Inline(maker) => maker.make(k),
            Payloads::Pipelined { queue, .. } => queue.recv().ok().flatten(),
            Payloads::Pool { done, .. } => {
                let worker = (k % done.len() as u64) as usize;
                done[worker].recv().ok().flatten()
            }
        }
    }

    /// Stops the making threads (each ends at its next hand-over).
    pub fn finish(self) {
        match self {
            Payloads::Inline(_) => {}
            Payloads::Pipelined { queue, maker } => {
                drop(queue);
                let _ = maker.join();
            }
            Payloads::Pool { done, threads } => {
                drop(done);
                for thread in threads {
                    let _ = thread.join();
                }
            }
        }
    }
}
