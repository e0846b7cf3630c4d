//! What the tool prints: JSON lines on stdout, progress and the closing
//! summary on stderr.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use netgear::json::{Map, Value};
use netgear::Payload;
use sha2::{Digest, Sha256};

/// The JSON-lines writer (stdout). Each line is flushed at once, so a script
/// reading the pipe sees frames as they come.
pub struct JsonLines {
    enabled: bool,
    out: io::Stdout,
}

impl JsonLines {
    pub fn new(enabled: bool) -> JsonLines {
        JsonLines {
            enabled,
            out: io::stdout(),
        }
    }

    /// Writes one object built by `make` (only called when `--json` is on).
    pub fn line(&mut self, make: impl FnOnce() -> Map) -> io::Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let mut text = Value::Object(make()).to_python_json();
        text.push('\n');
        let mut out = self.out.lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

/// `{"shape": [...], "dtype": "...", "sha256": "..."}` members describing a
/// payload (`"shape": null, "dtype": "jpeg"` for a JPEG bitstream).
pub fn describe_payload(map: &mut Map, payload: &Payload) {
    match payload {
        Payload::Raw(frame) => {
            map.insert("shape", Value::from(frame.shape().to_vec()));
            map.insert("dtype", frame.dtype().name());
        }
        Payload::Jpeg { .. } => {
            map.insert("shape", Value::Null);
            map.insert("dtype", "jpeg");
        }
    }
    map.insert("sha256", hex::encode(Sha256::digest(payload.bytes())));
}

/// A log-linear latency histogram (under 1 % error, fixed memory), so a
/// run of any length can report percentiles.
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

const SUB: u64 = 128;

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; 8192],
            total: 0,
        }
    }

    fn index(micros: u64) -> usize {
        if micros < 2 * SUB {
            return micros as usize;
        }
        let shift = 63 - u64::from(micros.leading_zeros()) - 7;
        let top = micros >> shift; // SUB..2*SUB
        (2 * SUB + (shift - 1) * SUB + (top - SUB)) as usize
    }

    fn value(index: usize) -> u64 {
        let index = index as u64;
        if index < 2 * SUB {
            return index;
        }
        let shift = (index - 2 * SUB) / SUB + 1;
        let top = (index - 2 * SUB) % SUB + SUB;
        (top << shift) + (1 << (shift - 1))
    }

    pub fn record(&mut self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = Self::index(micros).min(self.counts.len() - 1);
        self.counts[i] += 1;
        self.total += 1;
    }

    /// The `q` quantile in milliseconds, or `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Self::value(i) as f64 / 1000.0);
            }
        }
        None
    }
}

/// Counts frames, prints a progress line at most once a second and the
/// closing summary, all on stderr.
pub struct Stats {
    verb: &'static str,
    latency_label: &'static str,
    quiet: bool,
    start: Instant,
    last_report: Instant,
    frames: u64,
    errors: u64,
    latency: Histogram,
}

impl Stats {
    /// `verb` is "sent" or "received"; `latency_label` names what the
    /// recorded durations are.
    pub fn new(verb: &'static str, latency_label: &'static str, quiet: bool) -> Stats {
        let now = Instant::now();
        Stats {
            verb,
            latency_label,
            quiet,
            start: now,
            last_report: now,
            frames: 0,
            errors: 0,
            latency: Histogram::new(),
        }
    }

    /// Restarts the clock (a receiver counts from its first frame, not from
    /// the wait for a sender).
    pub fn restart(&mut self) {
        self.start = Instant::now();
        self.last_report = self.start;
    }

    pub fn frame(&mut self, latency: Option<Duration>) {
        self.frames += 1;
        if let Some(d) = latency {
            self.latency.record(d);
        }
        self.progress();
    }

    pub fn error(&mut self) {
        self.errors += 1;
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn progress(&mut self) {
        let now = Instant::now();
        if self.quiet || now.duration_since(self.last_report) < Duration::from_secs(1) {
            return;
        }
        self.last_report = now;
        let secs = now.duration_since(self.start).as_secs_f64();
        eprintln!(
            "netgear: {} {} frames in {secs:.1} s ({:.1} fps)",
            self.verb,
            self.frames,
            self.frames as f64 / secs
        );
    }

    /// The closing summary.
    pub fn summary(&self) {
        if self.quiet {
            return;
        }
        let secs = self.start.elapsed().as_secs_f64();
        let fps = if secs > 0.0 {
            self.frames as f64 / secs
        } else {
            0.0
        };
        let mut line = format!(
            "netgear: {} {} frames in {secs:.3} s, {fps:.1} fps",
            self.verb, self.frames
        );
        if let (Some(p50), Some(p99)) = (
            self.latency.quantile_ms(0.5),
            self.latency.quantile_ms(0.99),
        ) {
            line.push_str(&format!(
                ", {} p50 {p50:.3} ms, p99 {p99:.3} ms",
                self.latency_label
            ));
        }
        if self.errors > 0 {
            line.push_str(&format!(", {} error(s)", self.errors));
        }
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_index_round_trips_within_one_percent() {
        for v in [
            0u64,
            1,
            255,
            256,
            257,
            1000,
            12_345,
            999_999,
            10_000_000_000,
        ] {
            let back = Histogram::value(Histogram::index(v));
            assert!(
                (back as f64 - v as f64).abs() <= v as f64 * 0.01 + 1.0,
                "{v} -> {back}"
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::new();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        let p99 = h.quantile_ms(0.99).unwrap();
        assert!((p50 - 50.0).abs() < 0.6, "{p50}");
        assert!((p99 - 99.0).abs() < 1.0, "{p99}");
        assert_eq!(Histogram::new().quantile_ms(0.5), None);
    }
}
