//! `--stats PATH`: a machine-readable summary of a run, written at exit,
//! for benchmarks (`cargo bench --bench e2e`) and scripts.
//!
//! The first `--stats-skip` frames are a warm-up (connection set-up, caches)
//! left out of the window; the window runs from the end of frame `skip - 1`
//! (or the start of the first frame) to the end of the last frame:
//!
//! ```json
//! {"role": "send", "frames": 1020, "window_frames": 1000, "window_secs": 0.51,
//!  "cpu_secs": 0.12, "maxrss_kb": 5120, "rtt_us": [48.1, 47.9, ...]}
//! ```
//!
//! `cpu_secs` is the process's CPU time (all threads, user + system) spent
//! in the window; `maxrss_kb` its peak resident memory so far; `rtt_us` (a
//! sender's) the round trip of every frame in the window; `latency_us` (a
//! receiver's, with `receive --stats-latency`) the time from send to
//! delivery of every frame in the window, read from messages that carry
//! their send time ([`monotonic_ns`] of the sender).
//! `conformance/python/peer.py` writes the same file.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

/// The flags, shared by `send`, `receive` and `bench-peer`.
#[derive(Args, Debug, Clone, Default)]
pub struct StatsArgs {
    /// Write a JSON summary of the run to PATH at exit: frames, the timing
    /// window, CPU time, peak memory and (send) every round trip
    #[arg(long, value_name = "PATH")]
    pub stats: Option<PathBuf>,

    /// Leave the first N frames out of the --stats window (warm-up)
    #[arg(long, value_name = "N", default_value_t = 0, requires = "stats")]
    pub stats_skip: u64,
}

/// The time of clock `id`, or `None` when the system cannot read it.
fn clock_gettime(id: libc::clockid_t) -> Option<libc::timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    (rc == 0).then_some(ts)
}

/// CPU time of the whole process (all threads), user + system.
pub fn process_cpu_time() -> Duration {
    clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID).map_or(Duration::ZERO, |ts| {
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    })
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`, the same in every
/// process of the machine), in nanoseconds: the send times that
/// `--stats-latency` reads.
pub fn monotonic_ns() -> u64 {
    clock_gettime(libc::CLOCK_MONOTONIC).map_or(0, |ts| {
        (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
    })
}

/// Peak resident memory of this process so far, in KiB.
pub fn peak_rss_kb() -> u64 {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage to write to.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

/// Collects the window of a run; cheap per frame (no system call).
pub struct RunStats {
    role: &'static str,
    path: Option<PathBuf>,
    skip: u64,
    frames: u64,
    /// When and at what CPU time the window opened.
    opened: Option<(Instant, Duration)>,
    last_end: Option<Instant>,
    rtt_us: Vec<f32>,
    /// Send-to-delivery latencies, when recorded (`--stats-latency`).
    latency_us: Option<Vec<f32>>,
}

impl RunStats {
    pub fn new(role: &'static str, args: &StatsArgs) -> RunStats {
        let mut stats = RunStats {
            role,
            path: args.stats.clone(),
            skip: args.stats_skip,
            frames: 0,
            opened: None,
            last_end: None,
            rtt_us: Vec::new(),
            latency_us: None,
        };
        stats.open_if_due();
        stats
    }

    fn open_if_due(&mut self) {
        if self.path.is_some() && self.opened.is_none() && self.frames >= self.skip {
            self.opened = Some((Instant::now(), process_cpu_time()));
        }
    }

    /// Records a latency for every frame in the window (see
    /// [`RunStats::sent_at`]), written as `latency_us`.
    pub fn record_latency(&mut self) {
        self.latency_us = Some(Vec::new());
    }

    /// The frame being delivered was sent at `sent_ns` ([`monotonic_ns`]);
    /// call just before [`RunStats::frame`].
    pub fn sent_at(&mut self, sent_ns: u64) {
        if let (Some(latencies), Some(_)) = (&mut self.latency_us, self.opened) {
            let age = monotonic_ns().saturating_sub(sent_ns);
            latencies.push(age as f32 / 1e3);
        }
    }

    /// Frame done (`rtt`: its round trip, for a sender).
    pub fn frame(&mut self, rtt: Option<Duration>) {
        if self.path.is_none() {
            return;
        }
        self.frames += 1;
        if self.opened.is_some() {
            self.last_end = Some(Instant::now());
            if let Some(rtt) = rtt {
                self.rtt_us.push(rtt.as_secs_f32() * 1e6);
            }
        } else {
            self.open_if_due();
        }
    }

    /// Writes the summary (call right after the last frame, before closing,
    /// so that the CPU time is the window's).
    pub fn finish(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let cpu_now = process_cpu_time();
        let (window_frames, window_secs, cpu_secs) = match (self.opened, self.last_end) {
            (Some((t0, cpu0)), Some(t1)) => (
                self.frames - self.skip,
                (t1 - t0).as_secs_f64(),
                (cpu_now.saturating_sub(cpu0)).as_secs_f64(),
            ),
            _ => (0, 0.0, 0.0),
        };
        let mut text = format!(
            "{{\"role\": \"{}\", \"frames\": {}, \"window_frames\": {window_frames}, \
             \"window_secs\": {window_secs:.6}, \"cpu_secs\": {cpu_secs:.6}, \
             \"maxrss_kb\": {}, \"rtt_us\": [",
            self.role,
            self.frames,
            peak_rss_kb()
        );
        for (i, r) in self.rtt_us.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("{r:.1}"));
        }
        text.push(']');
        if let Some(latencies) = &self.latency_us {
            text.push_str(", \"latency_us\": [");
            for (i, r) in latencies.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                text.push_str(&format!("{r:.1}"));
            }
            text.push(']');
        }
        text.push_str("}\n");
        let mut file = std::fs::File::create(path)?;
        file.write_all(text.as_bytes())
    }
}
