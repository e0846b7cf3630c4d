//! netgear's benchmarks: see `benches/`, `src/bin/bare-peer.rs` and
//! `src/bin/scale-sender.rs`. This library holds what the process benches
//! share: the command line and the output files, reaping a child with its
//! resource usage and a watchdog over children, the machine's busy time,
//! reading a `--stats` file, and the charts' common parts.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use netgear::json::{self, Value};

/// This process's arguments when `cargo bench` runs it, or `None` after
/// printing `usage`: `cargo test --benches` runs bench binaries without
/// `--bench`, and a process bench takes minutes.
pub fn bench_args(usage: &str) -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--bench") {
        Some(args)
    } else {
        println!("{usage}");
        None
    }
}

/// What every process bench takes after `--`: `--secs S` and `--repeat N`,
/// and words (lowercased) that keep only the cases whose name has every
/// one. Other flags (`--bench`, `--quick`) are left to the bench.
#[derive(Debug, Clone)]
pub struct Options {
    pub secs: f64,
    pub repeat: usize,
    pub filter: Vec<String>,
}

impl Options {
    /// Reads `args`; `secs` and `repeat` are the bench's defaults.
    pub fn parse(args: &[String], secs: f64, repeat: usize) -> Options {
        let mut o = Options {
            secs,
            repeat,
            filter: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--secs" => {
                    o.secs = it
                        .next()
                        .and_then(|s| s.parse().ok())
                        .expect("--secs SECONDS")
                }
                "--repeat" => {
                    o.repeat = it
                        .next()
                        .and_then(|s| s.parse().ok())
                        .filter(|&r| r > 0)
                        .expect("--repeat N (1 or more)")
                }
                other if other.starts_with("--") => {}
                word => o.filter.push(word.to_lowercase()),
            }
        }
        o
    }
}

/// `target/bench` of the workspace at `root`, where a bench writes its
/// results, and in it `<bench>-work`, emptied: the logs and `--stats` files
/// of this run only, left there to look at after a failure.
pub fn output_dirs(root: &str, bench: &str) -> (PathBuf, PathBuf) {
    let out_dir = PathBuf::from(root).join("target/bench");
    let work = out_dir.join(format!("{bench}-work"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)
        .unwrap_or_else(|e| panic!("create target/bench/{bench}-work: {e:?}"));
    (out_dir, work)
}

/// Writes `<bench>.md` and `<bench>.json` into `out_dir`, draws
/// `<bench>.svg` with `chart`, and prints the tables. A chart that cannot
/// be drawn is reported, not fatal: the tables are the result.
pub fn write_results(
    out_dir: &Path,
    bench: &str,
    markdown: &str,
    json: &str,
    chart: impl FnOnce(&Path) -> Result<(), Box<dyn Error>>,
) {
    for (ext, text) in [("md", markdown), ("json", json)] {
        std::fs::write(out_dir.join(format!("{bench}.{ext}")), text)
            .unwrap_or_else(|e| panic!("write {bench}.{ext}: {e:?}"));
    }
    if let Err(e) = chart(&out_dir.join(format!("{bench}.svg"))) {
        eprintln!("{bench}: cannot draw the chart: {e}");
    }
    println!("{markdown}");
}

/// Waits for `pid`: its exit status, peak resident memory (KiB) and CPU
/// time (s, whole life).
pub fn wait4(pid: u32) -> Result<(i32, u64, f64), String> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid out-pointers; `pid` is our own unreaped child.
        let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if rc == pid as libc::pid_t {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Ok((
        code,
        u64::try_from(usage.ru_maxrss).unwrap_or(0),
        secs(usage.ru_utime) + secs(usage.ru_stime),
    ))
}

/// Kills our own child `pid` (SIGKILL).
pub fn kill(pid: u32) {
    // SAFETY: a plain kill of our own (unreaped) child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Kills our own children `pids` unless disarmed within `limit`: a peer
/// that hangs must fail its run, not hang the bench.
pub struct Watchdog {
    done: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    /// Starts the clock.
    pub fn arm(pids: Vec<u32>, limit: Duration) -> Watchdog {
        let (done, watch) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if watch.recv_timeout(limit).is_err() {
                pids.into_iter().for_each(kill);
            }
        });
        Watchdog { done, thread }
    }

    /// Stops it; call it once the children are reaped.
    pub fn disarm(self) {
        let _ = self.done.send(());
        let _ = self.thread.join();
    }
}

/// CPU time the whole machine spent busy so far (all CPUs, including time
/// stolen by the hypervisor), in seconds.
pub fn machine_busy_secs() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().next() else {
        return 0.0;
    };
    // cpu user nice system idle iowait irq softirq steal ...: our own
    // network work can show as irq/softirq, so those are left out.
    let f: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy: f64 = [0, 1, 2, 7].iter().filter_map(|&i| f.get(i)).sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    busy / hz
}

/// The load average over the last 1, 5 and 15 minutes, as text.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A `--stats` file (src/bin/netgear/runstats.rs).
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub frames: f64,
    pub window_frames: f64,
    pub window_secs: f64,
    pub cpu_secs: f64,
    pub rtt_us: Vec<f64>,
    pub latency_us: Vec<f64>,
}

impl RunStats {
    /// CPU time per frame in the window, µs.
    pub fn cpu_us_per_frame(&self) -> f64 {
        if self.window_frames > 0.0 {
            self.cpu_secs * 1e6 / self.window_frames
        } else {
            f64::NAN
        }
    }

    /// Frames per second in the window.
    pub fn fps(&self) -> f64 {
        if self.window_secs > 0.0 {
            self.window_frames / self.window_secs
        } else {
            f64::NAN
        }
    }
}

/// Reads a `--stats` file.
pub fn read_stats(path: &Path) -> Result<RunStats, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value = json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let num = |k: &str| match value.get(k) {
        Some(Value::Number(n)) => n.as_f64(),
        _ => 0.0,
    };
    let list = |k: &str| match value.get(k) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) => Some(n.as_f64()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(RunStats {
        frames: num("frames"),
        window_frames: num("window_frames"),
        window_secs: num("window_secs"),
        cpu_secs: num("cpu_secs"),
        rtt_us: list("rtt_us"),
        latency_us: list("latency_us"),
    })
}

/// The `q` quantile of `sorted` (nearest rank), NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Whether something listens on TCP `port` (any address), from
/// /proc/net/tcp and tcp6: a way to wait for a hub to bind without
/// connecting to it.
pub fn listening(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|file| {
        std::fs::read_to_string(file).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let mut fields = line.split_whitespace();
                let local = fields.nth(1).unwrap_or("");
                let state = fields.nth(1).unwrap_or("");
                local.ends_with(&wanted) && state == "0A"
            })
        })
    })
}

/// The parts the benches' SVG charts share, so that they look alike.
pub mod chart {
    use std::error::Error;
    use std::path::Path;

    use plotters::coord::Shift;
    use plotters::prelude::*;

    /// A panel with both axes logarithmic, as every chart here has.
    pub type LogLog<'a, 'b> =
        ChartContext<'a, SVGBackend<'b>, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>;

    /// A white SVG canvas of `size` at `path` under `title`; `present()` it
    /// when drawn.
    pub fn canvas<'a>(
        path: &'a Path,
        size: (u32, u32),
        title: &str,
    ) -> Result<DrawingArea<SVGBackend<'a>, Shift>, Box<dyn Error>> {
        let root = SVGBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE)?;
        Ok(root.titled(title, ("sans-serif", 22))?)
    }

    /// One series: a line through `pts` with a dot at each, and its entry
    /// in the legend.
    pub fn series(
        chart: &mut LogLog,
        name: &str,
        color: RGBColor,
        pts: Vec<(f64, f64)>,
    ) -> Result<(), Box<dyn Error>> {
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        Ok(())
    }

    /// The legend, at `position`, over a mostly opaque white box.
    pub fn legend<'a, 'b: 'a>(
        chart: &mut LogLog<'a, 'b>,
        position: SeriesLabelPosition,
    ) -> Result<(), Box<dyn Error>> {
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()?;
        Ok(())
    }
}
