//! netgear's benchmarks: see `benches/`, `src/bin/bare-peer.rs` and
//! `src/bin/scale-sender.rs`. This library holds what the process benches
//! share: reaping a child with its resource usage, the machine's busy time,
//! and reading a `--stats` file.

use std::path::Path;

use netgear::json::{self, Value};

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
