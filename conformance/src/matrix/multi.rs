//! The multi-mode cells (spec/06 §6.2, §6.3): several servers on one
//! receiving hub (Multi-Server mode) and one server sending to several
//! clients (Multi-Client mode), with netgear and vidgear in every role.
//!
//! Multi-Server: the hub binds N ports; server i connects to port i and
//! sends frames of its own shape (24 × (32 + i)) with the message
//! `{"server": "<its port>"}`, paced at 25 fps, until the hub has shown
//! `--frames` frames from every port; then the harness stops every server
//! (SIGINT for netgear, SIGTERM for peer.py), which closes it and so sends
//! its termination message. Checked per port: every frame the server
//! reports sent arrived under that port, in order, with its own pixels
//! (sha256), shape and message, so none is delivered under the wrong port
//! and none is lost; on pattern 1 every server got the hub's return data;
//! the hub exits 0 once every server has terminated.
//!
//! Multi-Client: N clients bind a port each; the server connects to all.
//! Pattern 1 (bidirectional): each client answers with
//! `{"client": "<its port>"}`; every frame reaches exactly one client, and
//! the server's reply to frame k names, in `port` and in the data, the
//! client that printed frame k. Pattern 2: every client gets every frame
//! published after it joined. Every client must end at the server's
//! termination.
//!
//! vidgear's own quirks (spec/06, spec/07) are reported as notes, not as
//! failures.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

use super::cases::Impl;
use super::check::{same, show, synthetic_sha256};
use super::runner::{free_port, spawn_piped, tail, wait_bound, CellResult, Env};

/// Which side is many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Many servers (senders), one client (the receiving hub).
    Servers,
    /// One server (the sending hub), many clients.
    Clients,
}

/// One multi-mode cell.
#[derive(Debug, Clone)]
pub struct MultiCell {
    pub mode: Mode,
    /// The single end: the receiving hub (`Servers`) or the server (`Clients`).
    pub hub: Impl,
    /// The many ends, one port each.
    pub peers: Vec<Impl>,
    /// 1 (bidirectional) or 2.
    pub pattern: u8,
    /// Multi-Server: every server's message is the falsy `0` (the frames
    /// still tell the servers apart by their shapes).
    pub falsy: bool,
}

impl MultiCell {
    /// `multi/servers/<servers>-<hub>/pN` or `multi/clients/<server>-<clients>/pN`
    /// (sender first, as in the other cells).
    pub fn id(&self) -> String {
        let peers = if self.peers.iter().all(|p| *p == self.peers[0]) {
            self.peers[0].to_string()
        } else {
            "mixed".to_owned()
        };
        let id = match self.mode {
            Mode::Servers => format!("multi/servers/{peers}-{}/p{}", self.hub, self.pattern),
            Mode::Clients => format!("multi/clients/{}-{peers}/p{}", self.hub, self.pattern),
        };
        if self.falsy {
            id + "/falsy-message"
        } else {
            id
        }
    }

    pub fn uses_python(&self) -> bool {
        self.hub == Impl::Python || self.peers.contains(&Impl::Python)
    }
}

/// The multi-mode cells of the matrix.
pub fn cells() -> Vec<MultiCell> {
    use Impl::{Python as P, Rust as R};
    let cell = |mode, hub, peers: &[Impl], pattern| MultiCell {
        mode,
        hub,
        peers: peers.to_vec(),
        pattern,
        falsy: false,
    };
    let falsy = |hub, peers: &[Impl]| MultiCell {
        falsy: true,
        ..cell(Mode::Servers, hub, peers, 1)
    };
    vec![
        // Multi-Server: vidgear servers on a netgear hub, mixed, controls.
        cell(Mode::Servers, R, &[P, P, P], 1),
        cell(Mode::Servers, R, &[P, P, P], 2),
        cell(Mode::Servers, R, &[R, P, R, P], 1),
        cell(Mode::Servers, R, &[R, P, R, P], 2),
        cell(Mode::Servers, P, &[R, R, R], 1),
        cell(Mode::Servers, P, &[P, P, P], 1),
        cell(Mode::Servers, R, &[R, R, R], 1),
        cell(Mode::Servers, R, &[R, R, R], 2),
        falsy(R, &[P, P, P]),
        falsy(P, &[R, R, R]),
        // Multi-Client: a netgear server to vidgear clients, mixed, controls.
        cell(Mode::Clients, R, &[P, P, P], 1),
        cell(Mode::Clients, R, &[P, P, P], 2),
        cell(Mode::Clients, R, &[P, R, P], 1),
        cell(Mode::Clients, P, &[R, R, R], 1),
        cell(Mode::Clients, P, &[P, P, P], 1),
        cell(Mode::Clients, R, &[R, R, R], 1),
        cell(Mode::Clients, R, &[R, R, R], 2),
    ]
}

/// Frames per second each sender is paced at: slower on pattern 2, where a
/// `PUB` with HWM 1 drops what the network has not taken yet.
fn fps(pattern: u8) -> &'static str {
    if pattern == 1 {
        "25"
    } else {
        "10"
    }
}
/// The value every Multi-Server hub returns (pattern 1).
const HUB_RETURN: &str = r#"{"hub": "ack"}"#;
/// The message of the Multi-Client server (pattern 1).
const CLIENTS_MESSAGE: &str = r#""to all""#;

/// Runs one cell.
pub fn run(env: &Env, result: &mut CellResult, cell: &MultiCell) -> Result<(), String> {
    let mut procs = Vec::new();
    let outcome = match cell.mode {
        Mode::Servers => servers(env, result, cell, &mut procs),
        Mode::Clients => clients(env, result, cell, &mut procs),
    };
    // Whatever happened, leave no process behind.
    let procs: Vec<Done> = procs
        .into_iter()
        .map(|p: Live| p.finish(Duration::ZERO, false))
        .collect();
    if outcome.is_err() || !result.failures.is_empty() {
        save_logs(env, &result.id, &procs);
    }
    outcome
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// A child whose stdout lines are read as they come.
struct Live {
    role: String,
    who: Impl,
    child: Child,
    rx: Receiver<String>,
    lines: Vec<String>,
    stderr: thread::JoinHandle<String>,
}

/// A child that has exited (or was killed).
struct Done {
    role: String,
    who: Impl,
    code: Option<i32>,
    lines: Vec<String>,
    stderr: String,
    /// The harness had to stop it (it did not end by itself).
    stopped: bool,
}

impl Live {
    fn start(role: String, who: Impl, cmd: Command) -> Result<Live, String> {
        let (child, stdout, stderr) = spawn_piped(cmd)?;
        let (tx, rx) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Live {
            role,
            who,
            child,
            rx,
            lines: Vec::new(),
            stderr,
        })
    }

    /// Takes the lines printed so far, waiting up to `wait` for one.
    fn pump(&mut self, wait: Duration) {
        match self.rx.recv_timeout(wait) {
            Ok(line) => self.lines.push(line),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
        while let Ok(line) = self.rx.try_recv() {
            self.lines.push(line);
        }
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the process to stop as Ctrl-C would: it then closes its session
    /// normally (netgear catches SIGINT; peer.py turns SIGTERM into
    /// KeyboardInterrupt, and Python ignores SIGINT when started in the
    /// background).
    fn stop(&self) {
        let signal = match self.who {
            Impl::Rust => "-INT",
            Impl::Python => "-TERM",
        };
        let _ = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits up to `limit` for the exit; then, if `stop`, signals and waits
    /// 5 s more; then kills.
    fn finish(mut self, limit: Duration, stop: bool) -> Done {
        let mut stopped = false;
        let mut give_up = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < give_up => thread::sleep(Duration::from_millis(20)),
                Ok(None) if stop && !stopped => {
                    stopped = true;
                    self.stop();
                    give_up = Instant::now() + Duration::from_secs(5);
                }
                _ => {
                    stopped = true;
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        // The reader thread ends at EOF, when the child is gone.
        while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(5)) {
            self.lines.push(line);
        }
        Done {
            role: self.role,
            who: self.who,
            code: status.and_then(|s| s.code()),
            lines: self.lines,
            stderr: self.stderr.join().unwrap_or_default(),
            stopped,
        }
    }
}

fn save_logs(env: &Env, id: &str, procs: &[Done]) {
    let dir = env.out.join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let stem = id.replace('/', "_");
    for p in procs {
        let _ = std::fs::write(dir.join(format!("{stem}.{}.stderr", p.role)), &p.stderr);
        let _ = std::fs::write(
            dir.join(format!("{stem}.{}.stdout", p.role)),
            p.lines.join("\n"),
        );
    }
}

/// The exit check: 0, and by itself.
fn exit_problem(p: &Done) -> Option<String> {
    if p.code == Some(0) && !p.stopped {
        None
    } else {
        Some(format!(
            "{} ({}) exit {:?}{}: {}",
            p.role,
            p.who,
            p.code,
            if p.stopped {
                " after the harness stopped it"
            } else {
                ""
            },
            tail(&p.stderr)
        ))
    }
}

fn json_lines(failures: &mut Vec<String>, p: &Done) -> Vec<Value> {
    let mut out = Vec::new();
    for (j, text) in p.lines.iter().enumerate() {
        match parse(text.as_bytes()) {
            Ok(v) => out.push(v),
            Err(e) => failures.push(format!("{} line {j} is not JSON: {e}", p.role)),
        }
    }
    out
}

fn value(text: &str) -> Value {
    parse(text.as_bytes()).expect("valid JSON in the cell definition")
}

/// sha256 of synthetic frame k (uint8), memoised; frames repeat every 251.
struct Shas {
    shape: Vec<usize>,
    cache: HashMap<u64, String>,
}

impl Shas {
    fn new(shape: Vec<usize>) -> Shas {
        Shas {
            shape,
            cache: HashMap::new(),
        }
    }

    fn get(&mut self, k: u64) -> &str {
        let shape = &self.shape;
        self.cache
            .entry(k % 251)
            .or_insert_with(|| synthetic_sha256(k % 251, shape, "uint8"))
    }

    /// The smallest frame index ≥ `from` (within 251) whose pixels are `sha`.
    fn find(&mut self, from: u64, sha: &str) -> Option<u64> {
        (from..from + 251).find(|&k| self.get(k) == sha)
    }
}

fn sha_of(line: &Value) -> &str {
    line.get("sha256").and_then(Value::as_str).unwrap_or("")
}

fn check_seq(failures: &mut Vec<String>, role: &str, lines: &[Value]) {
    for (j, line) in lines.iter().enumerate() {
        if line.get("seq").and_then(Value::as_i64) != Some(j as i64) {
            failures.push(format!(
                "{role} line {j} has seq {:?}",
                line.get("seq").map(show)
            ));
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// Multi-Server
// ---------------------------------------------------------------------------

/// What the server at `port` sends with every frame.
fn server_message(cell: &MultiCell, port: &str) -> String {
    if cell.falsy {
        "0".to_owned()
    } else {
        format!(r#"{{"server": "{port}"}}"#)
    }
}

fn servers(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiCell,
    procs: &mut Vec<Live>,
) -> Result<(), String> {
    let n = cell.peers.len();
    let p1 = cell.pattern == 1;
    let ports: Vec<String> = (0..n).map(|_| free_port().to_string()).collect();
    let shapes: Vec<Vec<usize>> = (0..n).map(|i| vec![24, 32 + i]).collect();
    let frames = env.frames.max(1) as usize;

    let mut hub = env.command(cell.hub, "receive");
    hub.args(["--multiserver", "--port", &ports.join(",")]);
    hub.args(["--pattern", &cell.pattern.to_string(), "--json"]);
    if p1 {
        hub.args(["--bidirectional", "--return", HUB_RETURN]);
    }
    let mut hub = Live::start("hub".into(), cell.hub, hub)?;
    for port in &ports {
        if !wait_bound(port.parse().expect("a port"), None, Duration::from_secs(30)) {
            let done = hub.finish(Duration::from_secs(1), false);
            return Err(format!(
                "the hub never bound {port}: {}",
                tail(&done.stderr)
            ));
        }
    }
    for (i, who) in cell.peers.iter().enumerate() {
        let port = &ports[i];
        let mut tx = env.command(*who, "send");
        tx.args(["--multiserver", "--port", port]);
        tx.args(["--pattern", &cell.pattern.to_string(), "--json"]);
        if p1 {
            tx.arg("--bidirectional");
        }
        let shape = format!("{},{}", shapes[i][0], shapes[i][1]);
        tx.args([
            "--fps",
            fps(cell.pattern),
            "--frames",
            "5000",
            "--shape",
            &shape,
        ]);
        tx.args(["--message", &server_message(cell, port)]);
        procs.push(Live::start(format!("server{i}"), *who, tx)?);
    }

    // Let every server stream until the hub has shown `frames` of its frames.
    let give_up = Instant::now() + Duration::from_secs(90);
    loop {
        hub.pump(Duration::from_millis(50));
        let mut counts = vec![0usize; n];
        for text in &hub.lines {
            if let Ok(line) = parse(text.as_bytes()) {
                let port = line.get("port").and_then(Value::as_str).unwrap_or("");
                if let Some(i) = ports.iter().position(|p| p == port) {
                    counts[i] += 1;
                }
            }
        }
        if counts.iter().all(|&c| c >= frames) {
            break;
        }
        let exited = procs.iter_mut().position(|p| !p.running());
        if Instant::now() > give_up || exited.is_some() || !hub.running() {
            let why = match exited {
                Some(i) => format!("server{i} exited early"),
                None if !hub.running() => "the hub exited early".to_owned(),
                None => "timeout".to_owned(),
            };
            procs.push(hub);
            return Err(format!(
                "not every server got {frames} frames to the hub ({why}); frames per port: {counts:?}"
            ));
        }
    }
    for p in procs.iter() {
        p.stop();
    }
    let servers: Vec<Done> = procs
        .drain(..)
        .map(|p| p.finish(Duration::from_secs(30), false))
        .collect();
    let hub = hub.finish(Duration::from_secs(if p1 { 20 } else { 8 }), true);

    let failures = &mut result.failures;
    let notes = &mut result.notes;
    for s in &servers {
        failures.extend(exit_problem(s));
    }
    if let Some(problem) = exit_problem(&hub) {
        let vidgear_servers = cell.peers.contains(&Impl::Python);
        if hub.stopped && !p1 && vidgear_servers && hub.code == Some(0) {
            notes.push(
                "the hub never saw every termination: vidgear closes a pattern-2 server with \
                 linger 0 right after sending it, so it can be lost (spec/05 §5.3.1, 07 §7.12); \
                 the harness stopped the hub"
                    .into(),
            );
        } else {
            failures.push(problem);
        }
    }

    // The hub's lines: consecutive seq, a known port, sorted per port.
    let hub_lines = json_lines(failures, &hub);
    check_seq(failures, "hub", &hub_lines);
    let mut per_port: Vec<Vec<&Value>> = vec![Vec::new(); n];
    for (j, line) in hub_lines.iter().enumerate() {
        let port = line.get("port").and_then(Value::as_str).unwrap_or("");
        match ports.iter().position(|p| p == port) {
            Some(i) => per_port[i].push(line),
            None => {
                failures.push(format!(
                    "hub line {j}: port {:?} is none of the servers' ports",
                    line.get("port").map(show)
                ));
                return Ok(());
            }
        }
    }

    let want_reply = if p1 { value(HUB_RETURN) } else { Value::Null };
    let mut dropped = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let port = &ports[i];
        let sent = json_lines(failures, server);
        check_seq(failures, &server.role, &sent);
        if let Some((j, line)) = sent
            .iter()
            .enumerate()
            .find(|(_, l)| !same(l.get("reply").unwrap_or(&Value::Null), &want_reply))
        {
            failures.push(format!(
                "{} (port {port}) frame {j}: reply {} != {}",
                server.role,
                line.get("reply").map(show).unwrap_or_default(),
                show(&want_reply)
            ));
        }
        let got = &per_port[i];
        let mut want_message = value(&server_message(cell, port));
        if cell.falsy && cell.hub == Impl::Python {
            // Noted once, below.
            want_message = Value::Null;
        }
        let want_shape = Value::from(shapes[i].clone());
        for (j, line) in got.iter().enumerate() {
            let message = line.get("message").cloned().unwrap_or(Value::Null);
            if !same(&message, &want_message) || line.get("shape") != Some(&want_shape) {
                failures.push(format!(
                    "frame {j} under port {port} has message {} and shape {:?}: it is another \
                     server's frame (delivered under the wrong port)",
                    show(&message),
                    line.get("shape").map(show)
                ));
                break;
            }
        }
        if got.is_empty() {
            failures.push(format!("no frame arrived under port {port}"));
            continue;
        }
        let mut shas = Shas::new(shapes[i].clone());
        let m = sent.len() as u64;
        if p1 {
            // Lockstep: frames 0, 1, 2, ... each exactly once.
            if let Some(j) = (0..got.len()).find(|&j| shas.get(j as u64) != sha_of(got[j])) {
                failures.push(format!(
                    "port {port}: its frame {j} is not frame {j} of its server: frames lost, \
                     duplicated or reordered"
                ));
                continue;
            }
            // A frame in flight when the server was stopped may have arrived
            // without being printed by the server.
            let n_got = got.len() as u64;
            if n_got < m || n_got > m + 1 {
                failures.push(format!(
                    "port {port}: the hub has {n_got} frames, the server printed {m}"
                ));
            }
        } else {
            // PUB (HWM 1) may drop frames, but never duplicates or reorders.
            let mut next = 0;
            let mut ks = Vec::new();
            for (j, line) in got.iter().enumerate() {
                match shas.find(next, sha_of(line)).filter(|&k| k <= m) {
                    Some(k) => {
                        ks.push(k);
                        next = k + 1;
                    }
                    None => {
                        failures.push(format!(
                            "port {port}: its frame {j} is none of its server's frames still to \
                             come (duplicated, reordered or another server's)"
                        ));
                        break;
                    }
                }
            }
            let missing: Vec<u64> = (0..m).filter(|k| !ks.contains(k)).collect();
            if !missing.is_empty() {
                dropped.push(format!("{port}: {missing:?}"));
            }
        }
    }
    if cell.falsy && cell.hub == Impl::Python {
        notes.push(
            "vidgear's hub delivers the falsy message 0 as None: its recv() returns \
             (port, frame) instead of (port, message, frame) (spec/06 §6.2.4, 07 §7.1)"
                .into(),
        );
    }
    if !dropped.is_empty() {
        notes.push(format!(
            "PUB (HWM 1) dropped frames: before the hub's subscription arrived (ZeroMQ's slow \
             joiner) or behind a full queue (spec/05 §5.1); missing per port: {}",
            dropped.join(", ")
        ));
    }
    let mut all = servers;
    all.push(hub);
    if !result.failures.is_empty() {
        save_logs(env, &result.id, &all);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-Client
// ---------------------------------------------------------------------------

fn clients(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiCell,
    procs: &mut Vec<Live>,
) -> Result<(), String> {
    let n = cell.peers.len();
    let p1 = cell.pattern == 1;
    let ports: Vec<String> = (0..n).map(|_| free_port().to_string()).collect();
    let shape = vec![24usize, 32];
    let per_client = env.frames.max(1);
    // Pattern 1 deals the frames out; pattern 2 gives every client all.
    let total = if p1 {
        per_client * n as u64
    } else {
        per_client
    };

    for (i, who) in cell.peers.iter().enumerate() {
        let port = &ports[i];
        let mut rx = env.command(*who, "receive");
        rx.args(["--multiclient", "--port", port]);
        rx.args(["--pattern", &cell.pattern.to_string(), "--json"]);
        if p1 {
            rx.args(["--bidirectional", "--return"]);
            rx.arg(format!(r#"{{"client": "{port}"}}"#));
        }
        procs.push(Live::start(format!("client{i}"), *who, rx)?);
    }
    for (i, port) in ports.iter().enumerate() {
        if !wait_bound(port.parse().expect("a port"), None, Duration::from_secs(30)) {
            return Err(format!("client{i} never bound {port}"));
        }
    }
    let mut tx = env.command(cell.hub, "send");
    tx.args(["--multiclient", "--port", &ports.join(",")]);
    tx.args(["--pattern", &cell.pattern.to_string(), "--json"]);
    tx.args(["--frames", &total.to_string(), "--shape", "24,32"]);
    if p1 {
        tx.args(["--bidirectional", "--message", CLIENTS_MESSAGE]);
    } else {
        tx.args(["--fps", fps(cell.pattern)]);
    }
    let server = Live::start("server".into(), cell.hub, tx)?.finish(Duration::from_secs(90), false);
    let clients: Vec<Done> = procs
        .drain(..)
        .map(|p| p.finish(Duration::from_secs(10), true))
        .collect();

    let failures = &mut result.failures;
    let notes = &mut result.notes;
    failures.extend(exit_problem(&server));
    for c in &clients {
        if let Some(problem) = exit_problem(c) {
            if c.stopped && cell.hub == Impl::Python && c.code == Some(0) {
                notes.push(format!(
                    "{} never got a termination message: vidgear sends one per client port \
                     seen, back to back (spec/06 §6.3.4); the harness stopped it",
                    c.role
                ));
            } else {
                failures.push(problem);
            }
        }
    }

    // The server's lines: one per frame, and (pattern 1) who answered it.
    let sent = json_lines(failures, &server);
    check_seq(failures, "server", &sent);
    if sent.len() as u64 != total {
        failures.push(format!(
            "server printed {} lines, expected {total}",
            sent.len()
        ));
    }
    let mut owner: Vec<Option<usize>> = Vec::new();
    for (k, line) in sent.iter().enumerate() {
        let reply = line.get("reply").cloned().unwrap_or(Value::Null);
        if !p1 {
            if !reply.is_null() {
                failures.push(format!(
                    "server line {k}: reply {} on pattern 2",
                    show(&reply)
                ));
            }
            continue;
        }
        let port = line.get("port").and_then(Value::as_str).unwrap_or("");
        let Some(i) = ports.iter().position(|p| p == port) else {
            failures.push(format!(
                "server line {k}: port {:?} is none of the clients' ports",
                line.get("port").map(show)
            ));
            return Ok(());
        };
        let want = value(&format!(r#"{{"client": "{port}"}}"#));
        if !same(&reply, &want) {
            failures.push(format!(
                "server line {k}: the reply {} came with port {port}: port and return data \
                 disagree",
                show(&reply)
            ));
        }
        owner.push(Some(i));
    }

    // The clients' lines: each frame at most once, in order, with its pixels.
    let want_message = if p1 {
        value(CLIENTS_MESSAGE)
    } else {
        Value::Null
    };
    let mut shas = Shas::new(shape.clone());
    let mut delivered = vec![0u32; total as usize];
    let mut dropped = Vec::new();
    let mut counts = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let port = &ports[i];
        let lines = json_lines(failures, client);
        check_seq(failures, &client.role, &lines);
        counts.push(lines.len());
        let mut next = 0u64;
        let mut ks = Vec::new();
        for (j, line) in lines.iter().enumerate() {
            let message = line.get("message").cloned().unwrap_or(Value::Null);
            if !same(&message, &want_message) {
                failures.push(format!(
                    "{} line {j}: message {} != {}",
                    client.role,
                    show(&message),
                    show(&want_message)
                ));
                break;
            }
            match shas.find(next, sha_of(line)).filter(|&k| k < total) {
                Some(k) => {
                    ks.push(k);
                    next = k + 1;
                }
                None => {
                    failures.push(format!(
                        "{} line {j}: the pixels are none of the frames still to come",
                        client.role
                    ));
                    break;
                }
            }
        }
        for &k in &ks {
            delivered[k as usize] += 1;
            if p1 {
                if let Some(Some(o)) = owner.get(k as usize) {
                    if *o != i {
                        failures.push(format!(
                            "frame {k} reached {} (port {port}) but the server's reply to it \
                             names port {}",
                            client.role, ports[*o]
                        ));
                    }
                }
            }
        }
        if !p1 {
            // PUB (HWM 1) may drop frames; each client gets the rest in order.
            if ks.is_empty() {
                failures.push(format!("{} (port {port}) got no frame", client.role));
            }
            let missing: Vec<u64> = (0..total).filter(|k| !ks.contains(k)).collect();
            if !missing.is_empty() {
                dropped.push(format!("{}: {missing:?}", client.role));
            }
        }
    }
    if p1 {
        let lost: Vec<usize> = (0..delivered.len())
            .filter(|&k| delivered[k] == 0)
            .collect();
        let twice: Vec<usize> = (0..delivered.len()).filter(|&k| delivered[k] > 1).collect();
        if !lost.is_empty() || !twice.is_empty() {
            failures.push(format!(
                "frames reaching no client: {lost:?}; reaching several: {twice:?}"
            ));
        }
        notes.push(format!("round robin: frames per client {counts:?}"));
    } else if !dropped.is_empty() {
        notes.push(format!(
            "PUB (HWM 1) dropped frames: before the client's subscription arrived (ZeroMQ's slow \
             joiner) or behind a full queue (spec/05 §5.1); missing per client: {}",
            dropped.join(", ")
        ));
    }
    let mut all = clients;
    all.push(server);
    if !result.failures.is_empty() {
        save_logs(env, &result.id, &all);
    }
    Ok(())
}
