//! Many cameras, one hub: netgear's multi-server hub next to vidgear 0.3.6's
//! and imagezmq's `ImageHub`, fed by N senders, and one multi-client server
//! fanning out to N clients. See bench/README.md.
//!
//! ```text
//! cargo bench -p netgear-bench --bench scale              # everything (~30 min)
//! cargo bench -p netgear-bench --bench scale -- --quick   # N = 1 and 2, 1 s each
//! cargo bench -p netgear-bench --bench scale -- hub raw   # only points whose name has every word
//! ```
//!
//! Writes target/bench/scale.md (tables and the targets), scale.svg and
//! scale.json.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netgear_bench::chart::{self, LogLog};
use netgear_bench::{
    bench_args, listening, load_average, machine_busy_secs, output_dirs, quantile, read_stats,
    wait4, write_results, Options, RunStats, Watchdog,
};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const SENDER: &str = env!("CARGO_BIN_EXE_scale-sender");
const BARE_PEER: &str = env!("CARGO_BIN_EXE_bare-peer");
const NS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Impl {
    Netgear,
    /// netgear's hub built with libjpeg-turbo (`$NETGEAR_TURBO_BIN`), for
    /// the JPEG load.
    NetgearTurbo,
    Vidgear,
    Imagezmq,
    /// Bare libzmq: the hub's sockets and bytes, no protocol work.
    Bare,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Netgear => "netgear",
            Impl::NetgearTurbo => "netgear+turbo",
            Impl::Vidgear => "vidgear",
            Impl::Imagezmq => "imagezmq",
            Impl::Bare => "bare libzmq",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Load {
    /// 240×320×3 raw at 30 fps per sender.
    Raw30,
    /// 480×640×3 JPEG at 15 fps per sender.
    Jpeg15,
    /// 240×320×3 raw, each sender as fast as the lockstep allows.
    Flat,
}

impl Load {
    const ALL: [Load; 3] = [Load::Raw30, Load::Jpeg15, Load::Flat];

    fn name(self) -> &'static str {
        match self {
            Load::Raw30 => "raw 240x320 30fps",
            Load::Jpeg15 => "jpeg 480x640 15fps",
            Load::Flat => "raw 240x320 flat-out",
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Load::Jpeg15 => "480,640,3",
            _ => "240,320,3",
        }
    }

    fn fps(self) -> f64 {
        match self {
            Load::Raw30 => 30.0,
            Load::Jpeg15 => 15.0,
            Load::Flat => 0.0,
        }
    }

    /// Warm-up frames per sender, left out of the hub's window.
    fn warm_up(self) -> usize {
        match self {
            Load::Flat => 20,
            _ => 5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// N senders, one multi-server hub (REQ/REP).
    Hub,
    /// One multi-client server, N clients (PUB/SUB: every frame to all).
    Fanout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    kind: Kind,
    load: Load,
    imp: Impl,
    n: usize,
}

impl Point {
    fn name(&self) -> String {
        format!(
            "{} {} {} n{}",
            match self.kind {
                Kind::Hub => "hub",
                Kind::Fanout => "fanout",
            },
            self.load.name(),
            self.imp.name(),
            self.n
        )
    }
}

/// The figures of one point.
#[derive(Debug, Clone, Default)]
struct Figures {
    /// Frames delivered per second (all senders, or all clients).
    fps: f64,
    /// Frames the senders sent (fan-out: times the clients) less the frames
    /// delivered, over the whole run.
    lost: i64,
    sent: u64,
    /// The hub's (fan-out: the server's) CPU time per frame, µs.
    cpu_us: f64,
    p50_us: f64,
    p99_us: f64,
    /// The hub's (fan-out: the server's) peak RSS, KiB.
    peak_kb: u64,
    /// CPU the rest of the machine used meanwhile, in cores.
    foreign: f64,
}

impl Figures {
    /// Keeps the best of each figure over rounds (other load on the
    /// machine only ever makes one worse), and the most frames lost.
    fn merge(&mut self, other: &Figures) {
        if other.fps > self.fps {
            self.fps = other.fps;
        }
        self.lost = self.lost.max(other.lost);
        self.cpu_us = self.cpu_us.min(other.cpu_us);
        self.p50_us = self.p50_us.min(other.p50_us);
        self.p99_us = self.p99_us.min(other.p99_us);
        self.peak_kb = self.peak_kb.min(other.peak_kb);
        self.foreign = self.foreign.min(other.foreign);
    }
}

struct Settings {
    secs: f64,
    /// Rounds over all points; each figure is its best over them.
    repeat: usize,
    ns: Vec<usize>,
    filter: Vec<String>,
    python: Option<PathBuf>,
    /// `$NETGEAR_TURBO_BIN`: a `netgear` built with `--features jpeg-turbo`.
    turbo: Option<PathBuf>,
    work: PathBuf,
}

fn main() {
    let Some(args) = bench_args("scale: run it with `cargo bench -p netgear-bench --bench scale`")
    else {
        return;
    };
    let quick = args.iter().any(|a| a == "--quick");
    let Options {
        secs,
        repeat,
        filter,
    } = Options::parse(&args, if quick { 1.0 } else { 3.0 }, 1);
    let (out_dir, work) = output_dirs(ROOT, "scale");
    let settings = Settings {
        secs,
        repeat,
        ns: if quick { vec![1, 2] } else { NS.to_vec() },
        filter,
        python: python(&out_dir),
        turbo: std::env::var_os("NETGEAR_TURBO_BIN").map(PathBuf::from),
        work,
    };
    let points = points(&settings);
    eprintln!(
        "scale: {} points of {secs} s, {repeat} round(s) (load average: {})",
        points.len(),
        load_average()
    );
    let started = Instant::now();
    let mut results: BTreeMap<Point, Figures> = BTreeMap::new();
    let mut port = 21000 + (std::process::id() % 4000) as u16 * 2;
    let rounds = (0..repeat).flat_map(|_| points.iter().enumerate());
    for (i, point) in rounds {
        let ports = free_ports(&mut port, point.n);
        let outcome = match point.kind {
            Kind::Hub => run_hub(point, &ports, &settings),
            Kind::Fanout => run_fanout(point, &ports, &settings),
        };
        match outcome {
            Ok(f) => {
                eprintln!(
                    "[{}/{}] {}: {:.0} fps, lost {}, cpu/frame {:.0} µs, latency p50 {:.0} p99 {:.0} µs, peak {:.1} MiB, other load {:.2}",
                    i + 1,
                    points.len(),
                    point.name(),
                    f.fps,
                    f.lost,
                    f.cpu_us,
                    f.p50_us,
                    f.p99_us,
                    f.peak_kb as f64 / 1024.0,
                    f.foreign
                );
                results
                    .entry(*point)
                    .and_modify(|best| best.merge(&f))
                    .or_insert(f);
            }
            Err(e) => eprintln!("[{}/{}] {}: FAILED: {e}", i + 1, points.len(), point.name()),
        }
    }
    let elapsed = started.elapsed();
    let md = report(&results, &settings, elapsed);
    write_results(&out_dir, "scale", &md, &to_json(&results), |path| {
        chart(path, &results)
    });
    eprintln!(
        "scale: {} points in {:.0} s; wrote target/bench/scale.md, scale.svg, scale.json",
        results.len(),
        elapsed.as_secs_f64()
    );
}

/// Every point, hub points first, N growing within each load and hub.
fn points(s: &Settings) -> Vec<Point> {
    let mut out = Vec::new();
    for load in Load::ALL {
        for imp in [
            Impl::Netgear,
            Impl::NetgearTurbo,
            Impl::Vidgear,
            Impl::Imagezmq,
            Impl::Bare,
        ] {
            let jpeg = load == Load::Jpeg15;
            if (imp == Impl::Bare && jpeg)
                || (imp == Impl::NetgearTurbo && (!jpeg || s.turbo.is_none()))
            {
                continue;
            }
            for &n in &s.ns {
                out.push(Point {
                    kind: Kind::Hub,
                    load,
                    imp,
                    n,
                });
            }
        }
    }
    // Fan-out at a fixed rate only: flat out, PUB drops whatever its
    // queue cannot hold, and the figures measure the drops (bench/README.md).
    for load in [Load::Raw30] {
        for imp in [Impl::Netgear, Impl::Vidgear, Impl::Imagezmq] {
            for &n in &s.ns {
                out.push(Point {
                    kind: Kind::Fanout,
                    load,
                    imp,
                    n,
                });
            }
        }
    }
    out.retain(|p| {
        let name = p.name().to_lowercase();
        s.filter.iter().all(|w| name.contains(w.as_str()))
            && (s.python.is_some() || !matches!(p.imp, Impl::Vidgear | Impl::Imagezmq))
    });
    out
}

/// `n` consecutive ports nobody listens on, from `next` on.
fn free_ports(next: &mut u16, n: usize) -> Vec<u16> {
    loop {
        if *next > 32000 - n as u16 {
            *next = 21000;
        }
        let ports: Vec<u16> = (*next..*next + n as u16).collect();
        *next += n as u16 + 1;
        let free = ports
            .iter()
            .all(|&p| std::net::TcpListener::bind(("0.0.0.0", p)).is_ok());
        if free {
            return ports;
        }
    }
}

/// The bench's venv (bench/python/requirements.txt in target/bench/venv),
/// made on first use, or `$NETGEAR_BENCH_PYTHON`.
fn python(out_dir: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETGEAR_BENCH_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let requirements = PathBuf::from(ROOT).join("bench/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).ok()?;
    let venv = out_dir.join("venv");
    let python = venv.join("bin/python");
    let stamp = venv.join(".requirements");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Some(python);
    }
    eprintln!("scale: creating {} (first use only)", venv.display());
    let ok = |cmd: &mut Command| cmd.status().is_ok_and(|s| s.success());
    if !python.exists() && !ok(Command::new("python3").arg("-m").arg("venv").arg(&venv)) {
        eprintln!("scale: cannot create the venv: vidgear and imagezmq skipped");
        return None;
    }
    let pip = ok(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    if !pip {
        eprintln!("scale: pip install failed: vidgear and imagezmq skipped");
        return None;
    }
    let _ = std::fs::write(&stamp, wanted);
    Some(python)
}

/// A child process with its stdout lines on a channel (for `ready`).
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(mut cmd: Command, log: &Path) -> Result<Proc, String> {
        let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let mut child = cmd
            .current_dir(ROOT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Proc { child, lines })
    }

    fn wait_ready(&self, until: Instant) -> Result<(), String> {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim() == "ready" => return Ok(()),
                Ok(_) => {}
                Err(_) => return Err("not ready in time".into()),
            }
        }
    }

    fn go(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"go\n");
        }
    }
}

fn python_cmd(s: &Settings, args: &[String]) -> Command {
    let mut cmd = Command::new(s.python.as_ref().expect("python points need the venv"));
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(format!("{ROOT}/bench/python/scale.py"))
        .args(args);
    cmd
}

/// scale.py's `--kind` for a Python end.
fn python_kind(imp: Impl) -> &'static str {
    if imp == Impl::Vidgear {
        "vidgear"
    } else {
        "imagezmq"
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What a receiving end of netgear or of the bare peer takes: `mode`
/// (`--multiserver`, `--multiclient`) on `pattern`, bound to `ports`,
/// writing `--stats` after `skip` warm-up frames.
fn receive_args(mode: &str, pattern: &str, ports: &str, stats: &str, skip: &str) -> Vec<String> {
    strings(&[
        "-q",
        "receive",
        mode,
        "--pattern",
        pattern,
        "--port",
        ports,
        "--stats",
        stats,
        "--stats-skip",
        skip,
    ])
}

/// The hub's command line.
fn hub_command(p: &Point, ports: &[u16], stats: &Path, s: &Settings) -> Command {
    let skip = (p.n * p.load.warm_up()).to_string();
    let stats = stats.display().to_string();
    match p.imp {
        Impl::Netgear | Impl::NetgearTurbo | Impl::Bare => {
            let mut cmd = match (&s.turbo, p.imp) {
                (_, Impl::Bare) => Command::new(BARE_PEER),
                (Some(turbo), Impl::NetgearTurbo) => Command::new(turbo),
                _ => Command::new(netgear_testkit::netgear_bin()),
            };
            let ports = list(ports);
            cmd.args(receive_args("--multiserver", "1", &ports, &stats, &skip));
            if p.imp != Impl::Bare {
                cmd.args(["--request-timeout", "10", "--stats-latency"]);
            }
            cmd
        }
        Impl::Vidgear | Impl::Imagezmq => {
            let mut args = strings(&[
                "hub",
                "--kind",
                python_kind(p.imp),
                "--ports",
                &list(ports),
                "--senders",
                &p.n.to_string(),
                "--stats",
                &stats,
                "--stats-skip",
                &skip,
            ]);
            if p.load == Load::Jpeg15 {
                args.push("--jpeg".into());
            }
            python_cmd(s, &args)
        }
    }
}

/// Sender `i` of `p.n`: netgear's (scale-sender) for every NetGear hub,
/// imagezmq's own for imagezmq's.
fn sender_command(p: &Point, i: usize, port: u16, stats: &Path, s: &Settings) -> Command {
    let mut args = strings(&[
        "--port",
        &port.to_string(),
        "--shape",
        p.load.shape(),
        "--fps",
        &p.load.fps().to_string(),
        "--secs",
        &s.secs.to_string(),
        "--wait-go",
        "--phase",
        &(i as f64 / p.n as f64).to_string(),
        "--stats",
        &stats.display().to_string(),
    ]);
    if p.load == Load::Jpeg15 {
        args.push("--jpeg".into());
    }
    if p.imp == Impl::Imagezmq {
        let mut all = vec!["send".to_owned()];
        all.extend(args);
        python_cmd(s, &all)
    } else {
        let mut cmd = Command::new(SENDER);
        cmd.args(args);
        cmd
    }
}

/// Waits until every port is bound (a Rust hub prints nothing).
fn wait_bound(ports: &[u16], until: Instant) -> Result<(), String> {
    while !ports.iter().all(|&p| listening(p)) {
        if Instant::now() > until {
            return Err("the hub did not bind in time".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Starts `senders` (each prints `ready`), then starts them all at once,
/// and waits for them and then for `central`, with a watchdog. Returns
/// the central process's peak RSS and the other load in cores.
fn run_together(
    central: &Proc,
    mut senders: Vec<Proc>,
    secs: f64,
    busy_before: f64,
    started: Instant,
) -> Result<(u64, f64), String> {
    let until = Instant::now() + Duration::from_secs(60);
    for p in &senders {
        p.wait_ready(until)?;
    }
    for p in &mut senders {
        p.go();
    }
    let mut pids: Vec<u32> = senders.iter().map(|p| p.child.id()).collect();
    pids.push(central.child.id());
    reap(&pids, pids.len() - 1, secs, busy_before, started)
}

/// Waits for `pids` in turn, with a watchdog in case one hangs. Returns
/// the peak RSS of `pids[central]` and the other load in cores since
/// `busy_before` and `started`; a process that failed fails the point.
fn reap(
    pids: &[u32],
    central: usize,
    secs: f64,
    busy_before: f64,
    started: Instant,
) -> Result<(u64, f64), String> {
    let watchdog = Watchdog::arm(pids.to_vec(), Duration::from_secs_f64(secs * 3.0 + 60.0));
    let mut failures = Vec::new();
    let mut own_cpu = 0.0;
    let mut central_peak = 0;
    for (k, &pid) in pids.iter().enumerate() {
        match wait4(pid) {
            Ok((0, peak, cpu)) => {
                own_cpu += cpu;
                if k == central {
                    central_peak = peak;
                }
            }
            Ok((code, _, _)) => failures.push(format!("process {k} exited with {code}")),
            Err(e) => failures.push(e),
        }
    }
    watchdog.disarm();
    let wall = started.elapsed().as_secs_f64();
    let foreign = ((machine_busy_secs() - busy_before - own_cpu) / wall).max(0.0);
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok((central_peak, foreign))
}

/// The point's work directory, made, and the ports its central process
/// binds: imagezmq's, one socket, only the first (its own topology).
fn prepare<'a>(p: &Point, ports: &'a [u16], s: &Settings) -> Result<(PathBuf, &'a [u16]), String> {
    let dir = s.work.join(p.name().replace(' ', "_"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let ports = if p.imp == Impl::Imagezmq {
        &ports[..1]
    } else {
        ports
    };
    Ok((dir, ports))
}

fn run_hub(p: &Point, ports: &[u16], s: &Settings) -> Result<Figures, String> {
    let (dir, hub_ports) = prepare(p, ports, s)?;
    let busy_before = machine_busy_secs();
    let started = Instant::now();
    let hub_stats = dir.join("hub.json");
    let hub = Proc::spawn(
        hub_command(p, hub_ports, &hub_stats, s),
        &dir.join("hub.log"),
    )?;
    let until = Instant::now() + Duration::from_secs(30);
    match p.imp {
        Impl::Netgear | Impl::NetgearTurbo | Impl::Bare => wait_bound(hub_ports, until)?,
        _ => hub.wait_ready(until)?,
    }
    let mut senders = Vec::new();
    for i in 0..p.n {
        let port = hub_ports[i.min(hub_ports.len() - 1)];
        let stats = dir.join(format!("send{i}.json"));
        let cmd = sender_command(p, i, port, &stats, s);
        senders.push(Proc::spawn(cmd, &dir.join(format!("send{i}.log")))?);
    }
    let (peak_kb, foreign) = run_together(&hub, senders, s.secs, busy_before, started)?;
    let hub = read_stats(&hub_stats)?;
    let sent: f64 = (0..p.n)
        .map(|i| read_stats(&dir.join(format!("send{i}.json"))).map(|r| r.frames))
        .sum::<Result<f64, String>>()?;
    Ok(figures(
        std::slice::from_ref(&hub),
        &hub,
        sent,
        peak_kb,
        foreign,
    ))
}

/// The figures from what the receiving ends and the central process wrote.
fn figures(
    receivers: &[RunStats],
    central: &RunStats,
    expected: f64,
    peak_kb: u64,
    foreign: f64,
) -> Figures {
    let mut latency: Vec<f64> = receivers
        .iter()
        .flat_map(|r| r.latency_us.iter().copied())
        .collect();
    latency.sort_by(f64::total_cmp);
    let delivered: f64 = receivers.iter().map(|r| r.frames).sum();
    Figures {
        // A client that got nothing in its window adds no rate.
        fps: receivers
            .iter()
            .map(RunStats::fps)
            .filter(|f| f.is_finite())
            .sum(),
        lost: expected as i64 - delivered as i64,
        sent: expected as u64,
        cpu_us: central.cpu_us_per_frame(),
        p50_us: quantile(&latency, 0.5),
        p99_us: quantile(&latency, 0.99),
        peak_kb,
        foreign,
    }
}

fn run_fanout(p: &Point, ports: &[u16], s: &Settings) -> Result<Figures, String> {
    let (dir, ports) = prepare(p, ports, s)?;
    let busy_before = machine_busy_secs();
    let started = Instant::now();
    let skip = (2 * p.load.warm_up()).to_string();
    let mut clients = Vec::new();
    for i in 0..p.n {
        let stats = dir.join(format!("client{i}.json"));
        let port = ports[i.min(ports.len() - 1)];
        let cmd = fanout_client_command(p, port, &stats, &skip, s);
        clients.push(Proc::spawn(cmd, &dir.join(format!("client{i}.log")))?);
    }
    let until = Instant::now() + Duration::from_secs(120);
    match p.imp {
        Impl::Netgear => wait_bound(ports, until)?,
        _ => {
            // Imported; then bound (see scale.py's fanout-client).
            for c in &clients {
                c.wait_ready(until)?;
            }
            for c in &mut clients {
                c.go();
            }
            for c in &clients {
                c.wait_ready(until)?;
            }
        }
    }
    let server_stats = dir.join("server.json");
    let mut args = strings(&[
        "--fps",
        &p.load.fps().to_string(),
        "--secs",
        &s.secs.to_string(),
        "--shape",
        p.load.shape(),
        "--wait-go",
        "--stats",
        &server_stats.display().to_string(),
    ]);
    let cmd = match p.imp {
        Impl::Netgear => {
            args.extend(strings(&[
                "--multiclient",
                "--pattern",
                "2",
                "--port",
                &list(ports),
            ]));
            let mut cmd = Command::new(SENDER);
            cmd.args(args);
            cmd
        }
        _ => {
            let mut all = strings(&[
                "fanout-server",
                "--kind",
                python_kind(p.imp),
                "--ports",
                &list(ports),
            ]);
            all.extend(args);
            python_cmd(s, &all)
        }
    };
    let server = Proc::spawn(cmd, &dir.join("server.log"))?;
    // The server is the one started on "go"; the clients are waited for
    // after it (they end at its termination, or when idle).
    let (peak_kb, foreign) = run_fanout_together(server, clients, s, busy_before, started)?;
    let server = read_stats(&server_stats)?;
    let receivers: Vec<RunStats> = (0..p.n)
        .map(|i| read_stats(&dir.join(format!("client{i}.json"))))
        .collect::<Result<_, _>>()?;
    let expected = server.frames * p.n as f64;
    Ok(figures(&receivers, &server, expected, peak_kb, foreign))
}

/// Fan-out client command: netgear's `receive --multiclient`, or the
/// Python client of vidgear or imagezmq.
fn fanout_client_command(p: &Point, port: u16, stats: &Path, skip: &str, s: &Settings) -> Command {
    let stats = stats.display().to_string();
    let port = port.to_string();
    let skip = skip.to_owned();
    match p.imp {
        Impl::Netgear => {
            let mut cmd = Command::new(netgear_testkit::netgear_bin());
            cmd.args(receive_args("--multiclient", "2", &port, &stats, &skip))
                .arg("--stats-latency");
            cmd
        }
        _ => python_cmd(
            s,
            &strings(&[
                "fanout-client",
                "--kind",
                python_kind(p.imp),
                "--port",
                &port,
                // Time for the other clients and the server to start.
                "--idle",
                "20",
                "--wait-go",
                "--stats",
                &stats,
                "--stats-skip",
                &skip,
            ]),
        ),
    }
}

/// [`run_together`] for fan-out: one server started on "go", N clients
/// that end after it; the server's peak RSS.
fn run_fanout_together(
    mut server: Proc,
    clients: Vec<Proc>,
    s: &Settings,
    busy_before: f64,
    started: Instant,
) -> Result<(u64, f64), String> {
    server.wait_ready(Instant::now() + Duration::from_secs(60))?;
    server.go();
    let mut pids = vec![server.child.id()];
    pids.extend(clients.iter().map(|c| c.child.id()));
    reap(&pids, 0, s.secs, busy_before, started)
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One table per kind and load: a row per N, each cell the hubs' figures
/// side by side.
fn tables(md: &mut String, results: &BTreeMap<Point, Figures>) {
    for kind in [Kind::Hub, Kind::Fanout] {
        for load in Load::ALL {
            let imps: Vec<Impl> = [
                Impl::Netgear,
                Impl::NetgearTurbo,
                Impl::Vidgear,
                Impl::Imagezmq,
                Impl::Bare,
            ]
            .into_iter()
            .filter(|&imp| {
                results
                    .keys()
                    .any(|p| p.kind == kind && p.load == load && p.imp == imp)
            })
            .collect();
            if imps.is_empty() {
                continue;
            }
            let names: Vec<&str> = imps.iter().map(|i| i.name()).collect();
            let _ = writeln!(
                md,
                "\n### {} · {}\n\nEach cell: {}.\n\n\
                 | N | fps delivered | frames lost | CPU µs/frame | latency p50 µs | latency p99 µs | peak RSS MiB |\n\
                 |--:|--:|--:|--:|--:|--:|--:|",
                match kind {
                    Kind::Hub => "N senders → one hub (REQ/REP)",
                    Kind::Fanout => "one server → N clients (PUB/SUB)",
                },
                load.name(),
                names.join(" / ")
            );
            let ns: std::collections::BTreeSet<usize> = results
                .keys()
                .filter(|p| p.kind == kind && p.load == load)
                .map(|p| p.n)
                .collect();
            for n in ns {
                let cell = |f: &dyn Fn(&Figures) -> String| {
                    imps.iter()
                        .map(|&imp| {
                            results
                                .get(&Point { kind, load, imp, n })
                                .map_or("–".into(), f)
                        })
                        .collect::<Vec<_>>()
                        .join(" / ")
                };
                let _ = writeln!(
                    md,
                    "| {n} | {} | {} | {} | {} | {} | {} |",
                    cell(&|f| fmt(f.fps)),
                    cell(&|f| f.lost.to_string()),
                    cell(&|f| fmt(f.cpu_us)),
                    cell(&|f| fmt(f.p50_us)),
                    cell(&|f| fmt(f.p99_us)),
                    cell(&|f| format!("{:.1}", f.peak_kb as f64 / 1024.0)),
                );
            }
        }
    }
}

/// The issue's targets, as ratios within this run.
fn targets(md: &mut String, r: &BTreeMap<Point, Figures>) {
    let get = |load, imp, n| {
        r.get(&Point {
            kind: Kind::Hub,
            load,
            imp,
            n,
        })
    };
    let cpu = |load, imp, n| get(load, imp, n).map_or(f64::NAN, |f| f.cpu_us);
    let mut rows: Vec<(String, String, f64, f64, bool)> = Vec::new();
    let mut row = |name: String, goal: &str, value: f64, bound: f64, less: bool| {
        rows.push((name, goal.to_owned(), value, bound, less));
    };
    for load in [Load::Raw30, Load::Jpeg15] {
        let l = load.name();
        row(
            format!("hub CPU/frame at N=64 ÷ netgear's at N=8 ({l})"),
            "≤ 1",
            cpu(load, Impl::Netgear, 64) / cpu(load, Impl::Netgear, 8),
            1.0,
            true,
        );
        let ours = if load == Load::Jpeg15 && r.keys().any(|p| p.imp == Impl::NetgearTurbo) {
            vec![Impl::Netgear, Impl::NetgearTurbo]
        } else {
            vec![Impl::Netgear]
        };
        for n in [32, 64] {
            for &us in &ours {
                let who = if us == Impl::NetgearTurbo {
                    " netgear+turbo"
                } else {
                    ""
                };
                row(
                    format!("hub CPU/frame at N={n}{who} ÷ vidgear's ({l})"),
                    "≤ 0.3",
                    cpu(load, us, n) / cpu(load, Impl::Vidgear, n),
                    0.3,
                    true,
                );
                row(
                    format!("hub CPU/frame at N={n}{who} ÷ imagezmq's ({l})"),
                    "≤ 0.5",
                    cpu(load, us, n) / cpu(load, Impl::Imagezmq, n),
                    0.5,
                    true,
                );
            }
        }
    }
    let fps = |imp| get(Load::Flat, imp, 32).map_or(f64::NAN, |f| f.fps);
    row(
        "aggregate fps at N=32, flat out ÷ bare libzmq hub".into(),
        "≥ 0.9",
        fps(Impl::Netgear) / fps(Impl::Bare),
        0.9,
        false,
    );
    let p99 = |n| get(Load::Raw30, Impl::Netgear, n).map_or(f64::NAN, |f| f.p99_us);
    row(
        "p99 latency at N=32 ÷ netgear's at N=1 (raw 30 fps)".into(),
        "≤ 2",
        p99(32) / p99(1),
        2.0,
        true,
    );
    let lost: i64 = r
        .iter()
        .filter(|(p, _)| p.kind == Kind::Hub && p.imp == Impl::Netgear && p.load != Load::Flat)
        .map(|(_, f)| f.lost.abs())
        .sum();
    row(
        "netgear frames lost at fixed rates, every N (REQ/REP)".into(),
        "= 0",
        lost as f64,
        0.0,
        true,
    );
    let rss = |imp| get(Load::Raw30, imp, 64).map_or(f64::NAN, |f| f.peak_kb as f64);
    row(
        "hub peak RSS at N=64 ÷ vidgear's (raw 30 fps)".into(),
        "≤ 0.25",
        rss(Impl::Netgear) / rss(Impl::Vidgear),
        0.25,
        true,
    );
    let _ = writeln!(
        md,
        "\n## Targets\n\n| target | goal | this run | met |\n|---|---|--:|---|"
    );
    for (name, goal, value, bound, less) in rows {
        let met = if !value.is_finite() {
            "–"
        } else if (less && value <= bound) || (!less && value >= bound) {
            "yes"
        } else {
            "**no**"
        };
        let _ = writeln!(md, "| {name} | {goal} | {value:.2} | {met} |");
    }
}

fn report(results: &BTreeMap<Point, Figures>, s: &Settings, elapsed: Duration) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Many cameras, one hub: netgear, vidgear 0.3.6, imagezmq\n\n\
         `cargo bench -p netgear-bench --bench scale`: {} points of {} s each (after the \
         warm-up), one after the other, {} round(s), each figure its best over the rounds \
         (frames lost: the most), in {:.0} s on {} CPU(s) (load average at the end: {}). \
         Senders: `scale-sender` (netgear's server; one program for the netgear, vidgear and \
         bare hubs), imagezmq's own ImageSender for imagezmq's hub; fixed-rate senders spread \
         evenly over the frame period. The hub's CPU time and latencies cover its window \
         (the first 5 frames per sender, 20 flat out, left out); frames lost cover the whole \
         run; peak RSS is the hub's ru_maxrss. Fan-out: CPU and peak RSS are the server's, \
         fps and latency the clients' together. See bench/README.md.",
        results.len(),
        s.secs,
        s.repeat,
        elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    targets(&mut md, results);
    let _ = writeln!(md, "\n## Every figure");
    tables(&mut md, results);
    let _ = writeln!(
        md,
        "\n## Other load\n\nCPU the rest of the machine used during each point, in cores \
         (max over the points): {:.2}.",
        results.values().map(|f| f.foreign).fold(0.0, f64::max)
    );
    md
}

fn to_json(results: &BTreeMap<Point, Figures>) -> String {
    let mut out = String::from("[\n");
    for (i, (p, f)) in results.iter().enumerate() {
        let num = |v: f64| {
            if v.is_finite() {
                format!("{v:.1}")
            } else {
                "null".into()
            }
        };
        let _ = write!(
            out,
            "{}  {{\"point\": \"{}\", \"fps\": {}, \"lost\": {}, \"sent\": {}, \"cpu_us_per_frame\": {}, \
             \"p50_us\": {}, \"p99_us\": {}, \"peak_kb\": {}, \"other_load\": {:.3}}}",
            if i > 0 { ",\n" } else { "" },
            p.name(),
            num(f.fps),
            f.lost,
            f.sent,
            num(f.cpu_us),
            num(f.p50_us),
            num(f.p99_us),
            f.peak_kb,
            f.foreign
        );
    }
    out.push_str("\n]\n");
    out
}

/// Hub CPU per frame, p99 latency and fps against N (log-log), one column
/// per load.
fn chart(
    path: &Path,
    results: &BTreeMap<Point, Figures>,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;

    let root = chart::canvas(
        path,
        (1500, 1200),
        "N senders → one hub: CPU per frame, p99 latency, fps delivered (log-log; 2-core machine)",
    )?;
    let panels = root.split_evenly((3, 3));
    let colors = [
        (Impl::Netgear, RGBColor(200, 60, 20)),
        (Impl::NetgearTurbo, RGBColor(230, 150, 0)),
        (Impl::Vidgear, RGBColor(40, 90, 200)),
        (Impl::Imagezmq, RGBColor(40, 160, 80)),
        (Impl::Bare, RGBColor(120, 120, 120)),
    ];
    type Pick = fn(&Figures) -> f64;
    type Series = (Impl, RGBColor, Vec<(f64, f64)>);
    let rows: [(&str, Pick); 3] = [
        ("hub CPU µs per frame", |f| f.cpu_us),
        ("latency p99 µs", |f| f.p99_us),
        ("fps delivered", |f| f.fps),
    ];
    for (r, (label, pick)) in rows.iter().enumerate() {
        for (c, load) in Load::ALL.into_iter().enumerate() {
            let series: Vec<Series> = colors
                .iter()
                .map(|&(imp, color)| {
                    let pts = results
                        .iter()
                        .filter(|(p, _)| p.kind == Kind::Hub && p.load == load && p.imp == imp)
                        .map(|(p, f)| (p.n as f64, pick(f)))
                        .filter(|(_, v)| v.is_finite() && *v > 0.0)
                        .collect();
                    (imp, color, pts)
                })
                .collect();
            let values = series
                .iter()
                .flat_map(|(_, _, pts)| pts.iter().map(|p| p.1));
            let (lo, hi) = values.fold((f64::MAX, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if hi <= 0.0 {
                continue;
            }
            let mut panel: LogLog = ChartBuilder::on(&panels[r * 3 + c])
                .caption(format!("{label} · {}", load.name()), ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .build_cartesian_2d((0.8f64..80.0).log_scale(), (lo / 1.5..hi * 1.5).log_scale())?;
            panel
                .configure_mesh()
                .x_desc("N")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .draw()?;
            for (imp, color, pts) in series {
                if !pts.is_empty() {
                    chart::series(&mut panel, imp.name(), color, pts)?;
                }
            }
            chart::legend(&mut panel, SeriesLabelPosition::UpperRight)?;
        }
    }
    root.present()?;
    Ok(())
}
