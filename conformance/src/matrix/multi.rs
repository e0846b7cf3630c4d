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
use std::process::Command;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

use super::cases::Impl;
use super::check::{same, show, synthetic_sha256};
use super::live::{Done, Live};
use super::runner::{save_process_log, tail, wait_bound, CellResult, Env};

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

pub(super) fn save_logs(env: &Env, id: &str, procs: &[Done]) {
    for p in procs {
        let lines: Vec<&str> = p.lines.iter().map(String::as_str).collect();
        save_process_log(&env.out, id, &p.role, &p.stderr, &lines);
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

/// The lines `p` printed, as JSON, checked to count `seq` 0, 1, ...
fn seq_lines(failures: &mut Vec<String>, p: &Done) -> Vec<Value> {
    let lines = json_lines(failures, p);
    check_seq(failures, &p.role, &lines);
    lines
}

/// Walks `lines` as frames of one sender, each later than the one before:
/// the frame indices (below `limit`) their pixels show, and the first line
/// that shows none of the frames still to come, if any (the walk stops there).
fn frames_in_order<'a>(
    shas: &mut Shas,
    lines: impl IntoIterator<Item = &'a Value>,
    limit: u64,
) -> (Vec<u64>, Option<usize>) {
    let mut next = 0;
    let mut ks = Vec::new();
    for (j, line) in lines.into_iter().enumerate() {
        match shas.find(next, sha_of(line)).filter(|&k| k < limit) {
            Some(k) => {
                ks.push(k);
                next = k + 1;
            }
            None => return (ks, Some(j)),
        }
    }
    (ks, None)
}

/// The frames of `0..total` not in `ks`.
fn missing(ks: &[u64], total: u64) -> Vec<u64> {
    (0..total).filter(|k| !ks.contains(k)).collect()
}

/// The note for the frames PUB dropped, per `whose` (port or client).
fn pub_dropped_note(receiver: &str, whose: &str, dropped: &[String]) -> String {
    format!(
        "PUB (HWM 1) dropped frames: before the {receiver}'s subscription arrived (ZeroMQ's slow \
         joiner) or behind a full queue (spec/05 §5.1); missing per {whose}: {}",
        dropped.join(", ")
    )
}

/// A `netgear` or peer.py command for `role` (`send` or `receive`) in the
/// cell's multi mode on `ports`, printing JSON lines.
fn multi_command(env: &Env, cell: &MultiCell, who: Impl, role: &str, ports: &str) -> Command {
    let mode = match cell.mode {
        Mode::Servers => "--multiserver",
        Mode::Clients => "--multiclient",
    };
    let mut cmd = env.command(who, role);
    cmd.args([mode, "--port", ports]);
    cmd.args(["--pattern", &cell.pattern.to_string(), "--json"]);
    cmd
}

/// One free port per peer.
pub(super) fn free_ports(n: usize) -> Vec<String> {
    netgear_testkit::free_ports(n)
        .iter()
        .map(u16::to_string)
        .collect()
}

/// The first of `ports` nothing binds within 30 s.
pub(super) fn first_unbound(ports: &[String]) -> Option<usize> {
    ports
        .iter()
        .position(|port| !wait_bound(port.parse().expect("a port"), None, Duration::from_secs(30)))
}

/// Saves every process's output when the cell failed.
fn save_if_failed(env: &Env, result: &CellResult, mut all: Vec<Done>, last: Done) {
    all.push(last);
    if !result.failures.is_empty() {
        save_logs(env, &result.id, &all);
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

/// Start the hub, start the servers, let them stream, stop them, check.
fn servers(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiCell,
    procs: &mut Vec<Live>,
) -> Result<(), String> {
    let ports = free_ports(cell.peers.len());
    let shapes: Vec<Vec<usize>> = (0..ports.len()).map(|i| vec![24, 32 + i]).collect();
    let hub = start_hub(env, cell, &ports)?;
    for (i, who) in cell.peers.iter().enumerate() {
        let tx = server_command(env, cell, *who, &ports[i], &shapes[i]);
        procs.push(Live::start(format!("server{i}"), *who, tx)?);
    }
    let hub = stream_until_hub_shows(env.frames.max(1) as usize, hub, procs, &ports)?;
    for p in procs.iter() {
        p.stop();
    }
    let servers: Vec<Done> = procs
        .drain(..)
        .map(|p| p.finish(Duration::from_secs(30), false))
        .collect();
    let p1 = cell.pattern == 1;
    let hub = hub.finish(Duration::from_secs(if p1 { 20 } else { 8 }), true);
    check_servers_cell(result, cell, &ports, &shapes, &servers, &hub);
    save_if_failed(env, result, servers, hub);
    Ok(())
}

/// The receiving hub on every port, once it has bound them all.
fn start_hub(env: &Env, cell: &MultiCell, ports: &[String]) -> Result<Live, String> {
    let mut cmd = multi_command(env, cell, cell.hub, "receive", &ports.join(","));
    if cell.pattern == 1 {
        cmd.args(["--bidirectional", "--return", HUB_RETURN]);
    }
    let hub = Live::start("hub".into(), cell.hub, cmd)?;
    match first_unbound(ports) {
        None => Ok(hub),
        Some(i) => {
            let done = hub.finish(Duration::from_secs(1), false);
            Err(format!(
                "the hub never bound {}: {}",
                ports[i],
                tail(&done.stderr)
            ))
        }
    }
}

/// A server sending frames of `shape` to the hub's `port`, for longer than
/// the cell needs (the harness stops it).
fn server_command(env: &Env, cell: &MultiCell, who: Impl, port: &str, shape: &[usize]) -> Command {
    let mut tx = multi_command(env, cell, who, "send", port);
    if cell.pattern == 1 {
        tx.arg("--bidirectional");
    }
    let shape = format!("{},{}", shape[0], shape[1]);
    tx.args([
        "--fps",
        fps(cell.pattern),
        "--frames",
        "5000",
        "--shape",
        &shape,
    ]);
    tx.args(["--message", &server_message(cell, port)]);
    tx
}

/// Lets every server stream until the hub has shown `frames` of its
/// frames; an error if one of them (or the hub) ends first, or 90 s pass.
pub(super) fn stream_until_hub_shows(
    frames: usize,
    mut hub: Live,
    procs: &mut Vec<Live>,
    ports: &[String],
) -> Result<Live, String> {
    let give_up = Instant::now() + Duration::from_secs(90);
    loop {
        hub.pump(Duration::from_millis(50));
        let counts = frames_per_port(&hub.lines, ports);
        if counts.iter().all(|&c| c >= frames) {
            return Ok(hub);
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
}

/// How many of the hub's lines so far name each port.
fn frames_per_port(lines: &[String], ports: &[String]) -> Vec<usize> {
    let mut counts = vec![0usize; ports.len()];
    for text in lines {
        if let Ok(line) = parse(text.as_bytes()) {
            let port = line.get("port").and_then(Value::as_str).unwrap_or("");
            if let Some(i) = ports.iter().position(|p| p == port) {
                counts[i] += 1;
            }
        }
    }
    counts
}

/// Checks a Multi-Server run: the exits, the hub's lines, and per port what
/// its server sent against what the hub showed under that port.
fn check_servers_cell(
    result: &mut CellResult,
    cell: &MultiCell,
    ports: &[String],
    shapes: &[Vec<usize>],
    servers: &[Done],
    hub: &Done,
) {
    check_servers_exits(result, cell, servers, hub);
    let failures = &mut result.failures;
    let hub_lines = seq_lines(failures, hub);
    let Some(per_port) = hub_lines_per_port(failures, &hub_lines, ports) else {
        return;
    };
    let mut dropped = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let missing = check_port(failures, cell, &ports[i], &shapes[i], server, &per_port[i]);
        if let Some(missing) = missing.filter(|m| !m.is_empty()) {
            dropped.push(format!("{}: {missing:?}", ports[i]));
        }
    }
    let notes = &mut result.notes;
    if cell.falsy && cell.hub == Impl::Python {
        notes.push(
            "vidgear's hub delivers the falsy message 0 as None: its recv() returns \
             (port, frame) instead of (port, message, frame) (spec/06 §6.2.4, 07 §7.1)"
                .into(),
        );
    }
    if !dropped.is_empty() {
        notes.push(pub_dropped_note("hub", "port", &dropped));
    }
}

/// Every server and the hub exit 0 by themselves; vidgear's pattern-2
/// servers may lose their termination, so the hub may have to be stopped.
fn check_servers_exits(result: &mut CellResult, cell: &MultiCell, servers: &[Done], hub: &Done) {
    for s in servers {
        result.failures.extend(exit_problem(s));
    }
    if let Some(problem) = exit_problem(hub) {
        let vidgear_servers = cell.peers.contains(&Impl::Python);
        if hub.stopped && cell.pattern != 1 && vidgear_servers && hub.code == Some(0) {
            result.notes.push(
                "the hub never saw every termination: vidgear closes a pattern-2 server with \
                 linger 0 right after sending it, so it can be lost (spec/05 §5.3.1, 07 §7.12); \
                 the harness stopped the hub"
                    .into(),
            );
        } else {
            result.failures.push(problem);
        }
    }
}

/// The hub's lines sorted by port; `None` (a failure) when one names a
/// port no server has.
fn hub_lines_per_port<'a>(
    failures: &mut Vec<String>,
    hub_lines: &'a [Value],
    ports: &[String],
) -> Option<Vec<Vec<&'a Value>>> {
    let mut per_port: Vec<Vec<&Value>> = vec![Vec::new(); ports.len()];
    for (j, line) in hub_lines.iter().enumerate() {
        let port = line.get("port").and_then(Value::as_str).unwrap_or("");
        match ports.iter().position(|p| p == port) {
            Some(i) => per_port[i].push(line),
            None => {
                failures.push(format!(
                    "hub line {j}: port {:?} is none of the servers' ports",
                    line.get("port").map(show)
                ));
                return None;
            }
        }
    }
    Some(per_port)
}

/// Checks one port: its server got the hub's return data for every frame,
/// and the hub showed under that port that server's frames only, in order
/// (on pattern 1 every one; on pattern 2 some may be dropped: returned).
fn check_port(
    failures: &mut Vec<String>,
    cell: &MultiCell,
    port: &str,
    shape: &[usize],
    server: &Done,
    got: &[&Value],
) -> Option<Vec<u64>> {
    let sent = seq_lines(failures, server);
    let want_reply = if cell.pattern == 1 {
        value(HUB_RETURN)
    } else {
        Value::Null
    };
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
    check_port_messages(failures, cell, port, shape, got);
    if got.is_empty() {
        failures.push(format!("no frame arrived under port {port}"));
        return None;
    }
    let mut shas = Shas::new(shape.to_vec());
    let m = sent.len() as u64;
    if cell.pattern == 1 {
        check_lockstep_port(failures, port, &mut shas, got, m);
        return None;
    }
    // PUB (HWM 1) may drop frames, but never duplicates or reorders.
    let (ks, bad) = frames_in_order(&mut shas, got.iter().copied(), m + 1);
    if let Some(j) = bad {
        failures.push(format!(
            "port {port}: its frame {j} is none of its server's frames still to \
             come (duplicated, reordered or another server's)"
        ));
    }
    Some(missing(&ks, m))
}

/// Every frame under `port` has that port's server's message and shape.
fn check_port_messages(
    failures: &mut Vec<String>,
    cell: &MultiCell,
    port: &str,
    shape: &[usize],
    got: &[&Value],
) {
    let want_message = if cell.falsy && cell.hub == Impl::Python {
        // Noted once, by the caller.
        Value::Null
    } else {
        value(&server_message(cell, port))
    };
    let want_shape = Value::from(shape.to_vec());
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
}

/// Lockstep: frames 0, 1, 2, ... each exactly once, as many as the server
/// printed (`m`).
fn check_lockstep_port(
    failures: &mut Vec<String>,
    port: &str,
    shas: &mut Shas,
    got: &[&Value],
    m: u64,
) {
    if let Some(j) = (0..got.len()).find(|&j| shas.get(j as u64) != sha_of(got[j])) {
        failures.push(format!(
            "port {port}: its frame {j} is not frame {j} of its server: frames lost, \
             duplicated or reordered"
        ));
        return;
    }
    // A frame in flight when the server was stopped may have arrived
    // without being printed by the server.
    let n_got = got.len() as u64;
    if n_got < m || n_got > m + 1 {
        failures.push(format!(
            "port {port}: the hub has {n_got} frames, the server printed {m}"
        ));
    }
}

// ---------------------------------------------------------------------------
// Multi-Client
// ---------------------------------------------------------------------------

/// What the client at `port` returns (pattern 1).
fn client_return(port: &str) -> String {
    format!(r#"{{"client": "{port}"}}"#)
}

/// Start the clients, run the server to its end, stop the clients, check.
fn clients(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiCell,
    procs: &mut Vec<Live>,
) -> Result<(), String> {
    let ports = free_ports(cell.peers.len());
    let per_client = env.frames.max(1);
    // Pattern 1 deals the frames out; pattern 2 gives every client all.
    let total = if cell.pattern == 1 {
        per_client * ports.len() as u64
    } else {
        per_client
    };
    for (i, who) in cell.peers.iter().enumerate() {
        let mut rx = multi_command(env, cell, *who, "receive", &ports[i]);
        if cell.pattern == 1 {
            rx.args(["--bidirectional", "--return"]);
            rx.arg(client_return(&ports[i]));
        }
        procs.push(Live::start(format!("client{i}"), *who, rx)?);
    }
    if let Some(i) = first_unbound(&ports) {
        return Err(format!("client{i} never bound {}", ports[i]));
    }
    let mut tx = multi_command(env, cell, cell.hub, "send", &ports.join(","));
    tx.args(["--frames", &total.to_string(), "--shape", "24,32"]);
    if cell.pattern == 1 {
        tx.args(["--bidirectional", "--message", CLIENTS_MESSAGE]);
    } else {
        tx.args(["--fps", fps(cell.pattern)]);
    }
    let server = Live::start("server".into(), cell.hub, tx)?.finish(Duration::from_secs(90), false);
    let clients: Vec<Done> = procs
        .drain(..)
        .map(|p| p.finish(Duration::from_secs(10), true))
        .collect();
    check_clients_cell(result, cell, &ports, total, &server, &clients);
    save_if_failed(env, result, clients, server);
    Ok(())
}

/// Checks a Multi-Client run: the exits, who answered each frame (pattern
/// 1), and what every client showed.
fn check_clients_cell(
    result: &mut CellResult,
    cell: &MultiCell,
    ports: &[String],
    total: u64,
    server: &Done,
    clients: &[Done],
) {
    check_clients_exits(result, cell, server, clients);
    let failures = &mut result.failures;
    let Some(owner) = check_sender_lines(failures, cell, ports, total, server) else {
        return;
    };
    // The clients' lines: each frame at most once, in order, with its pixels.
    let p1 = cell.pattern == 1;
    let mut shas = Shas::new(vec![24, 32]);
    let mut delivered = vec![0u32; total as usize];
    let mut dropped = Vec::new();
    let mut counts = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let lines = seq_lines(failures, client);
        counts.push(lines.len());
        let ks = client_frames(failures, cell, client, &lines, &mut shas, total);
        for &k in &ks {
            delivered[k as usize] += 1;
            match owner.get(k as usize) {
                Some(&o) if p1 && o != i => failures.push(format!(
                    "frame {k} reached {} (port {}) but the server's reply to it \
                     names port {}",
                    client.role, ports[i], ports[o]
                )),
                _ => {}
            }
        }
        if !p1 {
            // PUB (HWM 1) may drop frames; each client gets the rest in order.
            if ks.is_empty() {
                failures.push(format!("{} (port {}) got no frame", client.role, ports[i]));
            }
            let missing = missing(&ks, total);
            if !missing.is_empty() {
                dropped.push(format!("{}: {missing:?}", client.role));
            }
        }
    }
    if p1 {
        check_round_robin(failures, &delivered);
        result
            .notes
            .push(format!("round robin: frames per client {counts:?}"));
    } else if !dropped.is_empty() {
        result
            .notes
            .push(pub_dropped_note("client", "client", &dropped));
    }
}

/// The server and every client exit 0 by themselves; a vidgear server may
/// leave a client without its termination (then the harness stops it).
fn check_clients_exits(result: &mut CellResult, cell: &MultiCell, server: &Done, clients: &[Done]) {
    result.failures.extend(exit_problem(server));
    for c in clients {
        if let Some(problem) = exit_problem(c) {
            if c.stopped && cell.hub == Impl::Python && c.code == Some(0) {
                result.notes.push(format!(
                    "{} never got a termination message: vidgear sends one per client port \
                     seen, back to back (spec/06 §6.3.4); the harness stopped it",
                    c.role
                ));
            } else {
                result.failures.push(problem);
            }
        }
    }
}

/// The server's lines: one per frame, and (pattern 1) who answered it: the
/// index of the client port that answered each frame; `None` (a failure)
/// when a reply names a port no client has.
fn check_sender_lines(
    failures: &mut Vec<String>,
    cell: &MultiCell,
    ports: &[String],
    total: u64,
    server: &Done,
) -> Option<Vec<usize>> {
    let sent = seq_lines(failures, server);
    if sent.len() as u64 != total {
        failures.push(format!(
            "server printed {} lines, expected {total}",
            sent.len()
        ));
    }
    let mut owner = Vec::new();
    for (k, line) in sent.iter().enumerate() {
        let reply = line.get("reply").cloned().unwrap_or(Value::Null);
        if cell.pattern != 1 {
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
            return None;
        };
        if !same(&reply, &value(&client_return(port))) {
            failures.push(format!(
                "server line {k}: the reply {} came with port {port}: port and return data \
                 disagree",
                show(&reply)
            ));
        }
        owner.push(i);
    }
    Some(owner)
}

/// The frames (of `0..total`) a client showed, in order, each with the
/// server's message; the walk stops at the first line that is wrong.
fn client_frames(
    failures: &mut Vec<String>,
    cell: &MultiCell,
    client: &Done,
    lines: &[Value],
    shas: &mut Shas,
    total: u64,
) -> Vec<u64> {
    let want_message = if cell.pattern == 1 {
        value(CLIENTS_MESSAGE)
    } else {
        Value::Null
    };
    let wrong_message = lines
        .iter()
        .position(|line| !same(line.get("message").unwrap_or(&Value::Null), &want_message));
    let checked = &lines[..wrong_message.unwrap_or(lines.len())];
    let (ks, bad) = frames_in_order(shas, checked, total);
    if let Some(j) = bad {
        failures.push(format!(
            "{} line {j}: the pixels are none of the frames still to come",
            client.role
        ));
    } else if let Some(j) = wrong_message {
        let message = lines[j].get("message").cloned().unwrap_or(Value::Null);
        failures.push(format!(
            "{} line {j}: message {} != {}",
            client.role,
            show(&message),
            show(&want_message)
        ));
    }
    ks
}

/// Pattern 1: every frame reached exactly one client.
fn check_round_robin(failures: &mut Vec<String>, delivered: &[u32]) {
    let lost: Vec<usize> = (0..delivered.len())
        .filter(|&k| delivered[k] == 0)
        .collect();
    let twice: Vec<usize> = (0..delivered.len()).filter(|&k| delivered[k] > 1).collect();
    if !lost.is_empty() || !twice.is_empty() {
        failures.push(format!(
            "frames reaching no client: {lost:?}; reaching several: {twice:?}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(role: &str, lines: Vec<String>) -> Done {
        Done {
            role: role.into(),
            who: Impl::Rust,
            code: Some(0),
            lines,
            stderr: String::new(),
            stopped: false,
        }
    }

    fn result() -> CellResult {
        CellResult {
            id: "multi/test".into(),
            failures: Vec::new(),
            notes: Vec::new(),
            fps: None,
            seconds: 0.0,
        }
    }

    fn cell(mode: Mode, pattern: u8, peers: usize) -> MultiCell {
        MultiCell {
            mode,
            hub: Impl::Rust,
            peers: vec![Impl::Rust; peers],
            pattern,
            falsy: false,
        }
    }

    /// A hub line: frame `k` of the server at `port` (shape 24 × `width`).
    fn hub_line(seq: usize, port: &str, width: usize, k: u64) -> String {
        let sha = synthetic_sha256(k, &[24, width], "uint8");
        format!(
            r#"{{"seq": {seq}, "port": "{port}", "message": {{"server": "{port}"}}, "shape": [24, {width}], "sha256": "{sha}"}}"#
        )
    }

    fn sender_lines(n: usize, reply: &str) -> Vec<String> {
        (0..n)
            .map(|j| format!(r#"{{"seq": {j}, "reply": {reply}}}"#))
            .collect()
    }

    #[test]
    fn multi_server_frames_dropped_by_pub_are_a_note_and_a_frame_under_the_wrong_port_a_failure() {
        let cell = cell(Mode::Servers, 2, 2);
        let ports = vec!["5001".to_owned(), "5002".to_owned()];
        let shapes = vec![vec![24, 32], vec![24, 33]];
        let servers = [
            done("server0", sender_lines(3, "null")),
            done("server1", sender_lines(3, "null")),
        ];
        // Port 5001 lost frame 1; port 5002 got everything.
        let hub = done(
            "hub",
            vec![
                hub_line(0, "5001", 32, 0),
                hub_line(1, "5002", 33, 0),
                hub_line(2, "5001", 32, 2),
                hub_line(3, "5002", 33, 1),
                hub_line(4, "5002", 33, 2),
            ],
        );
        let mut r = result();
        check_servers_cell(&mut r, &cell, &ports, &shapes, &servers, &hub);
        assert_eq!(r.failures, Vec::<String>::new());
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(
            r.notes[0].ends_with("missing per port: 5001: [1]"),
            "{:?}",
            r.notes
        );

        // Server 1's frame under server 0's port.
        let mut lines = hub.lines.clone();
        lines[2] = hub_line(2, "5001", 33, 2).replace(r#""server": "5001""#, r#""server": "5002""#);
        let hub = done("hub", lines);
        let mut r = result();
        check_servers_cell(&mut r, &cell, &ports, &shapes, &servers, &hub);
        assert_eq!(r.failures.len(), 2, "{:?}", r.failures);
        assert!(
            r.failures[0].starts_with("frame 1 under port 5001 has message"),
            "{:?}",
            r.failures
        );
        assert!(
            r.failures[1].starts_with("port 5001: its frame 1 is none of"),
            "{:?}",
            r.failures
        );
    }

    #[test]
    fn multi_server_lockstep_needs_every_frame_once_and_the_hubs_reply() {
        let cell = cell(Mode::Servers, 1, 1);
        let ports = vec!["5001".to_owned()];
        let shapes = vec![vec![24, 32]];
        let servers = [done("server0", sender_lines(3, HUB_RETURN))];
        let hub = done(
            "hub",
            (0..3).map(|k| hub_line(k, "5001", 32, k as u64)).collect(),
        );
        let mut r = result();
        check_servers_cell(&mut r, &cell, &ports, &shapes, &servers, &hub);
        assert_eq!((r.failures.len(), r.notes.len()), (0, 0), "{r:?}");

        let servers = [done("server0", sender_lines(3, "null"))];
        let hub = done(
            "hub",
            [0, 2, 1]
                .iter()
                .enumerate()
                .map(|(j, &k)| hub_line(j, "5001", 32, k))
                .collect(),
        );
        let mut r = result();
        check_servers_cell(&mut r, &cell, &ports, &shapes, &servers, &hub);
        assert_eq!(
            r.failures,
            [
                r#"server0 (port 5001) frame 0: reply null != {"hub": "ack"}"#,
                "port 5001: its frame 1 is not frame 1 of its server: frames lost, duplicated or reordered",
            ]
        );
    }

    /// A client line: frame `k` of shape 24 × 32 with `message`.
    fn client_line(seq: usize, k: u64, message: &str) -> String {
        let sha = synthetic_sha256(k, &[24, 32], "uint8");
        format!(r#"{{"seq": {seq}, "message": {message}, "sha256": "{sha}"}}"#)
    }

    #[test]
    fn multi_client_round_robin_reports_a_frame_that_reached_two_clients_or_the_wrong_one() {
        let cell = cell(Mode::Clients, 1, 2);
        let ports = vec!["6001".to_owned(), "6002".to_owned()];
        let replies = ["6001", "6002", "6001", "6002"];
        let server = done(
            "server",
            replies
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    format!(
                        r#"{{"seq": {k}, "port": "{p}", "reply": {}}}"#,
                        client_return(p)
                    )
                })
                .collect(),
        );
        let clients = [
            done(
                "client0",
                vec![
                    client_line(0, 0, CLIENTS_MESSAGE),
                    client_line(1, 2, CLIENTS_MESSAGE),
                ],
            ),
            done(
                "client1",
                vec![
                    client_line(0, 1, CLIENTS_MESSAGE),
                    client_line(1, 3, CLIENTS_MESSAGE),
                ],
            ),
        ];
        let mut r = result();
        check_clients_cell(&mut r, &cell, &ports, 4, &server, &clients);
        assert_eq!(r.failures, Vec::<String>::new());
        assert_eq!(r.notes, ["round robin: frames per client [2, 2]"]);

        // Frame 2 reaches client 1 as well (and its reply named client 0).
        let clients = [
            clients[0].lines.clone(),
            vec![
                client_line(0, 1, CLIENTS_MESSAGE),
                client_line(1, 2, CLIENTS_MESSAGE),
                client_line(2, 3, CLIENTS_MESSAGE),
            ],
        ]
        .into_iter()
        .enumerate()
        .map(|(i, lines)| done(&format!("client{i}"), lines))
        .collect::<Vec<_>>();
        let mut r = result();
        check_clients_cell(&mut r, &cell, &ports, 4, &server, &clients);
        assert_eq!(
            r.failures,
            [
                "frame 2 reached client1 (port 6002) but the server's reply to it names port 6001",
                "frames reaching no client: []; reaching several: [2]",
            ]
        );
    }

    #[test]
    fn multi_client_lines_stop_at_the_first_wrong_message_or_unknown_pixels() {
        let cell = cell(Mode::Clients, 2, 1);
        let ports = vec!["6001".to_owned()];
        let server = done("server", sender_lines(3, "null"));
        let client = |lines| [done("client0", lines)];
        let mut r = result();
        let lines = vec![client_line(0, 1, "null"), client_line(1, 2, "7")];
        check_clients_cell(&mut r, &cell, &ports, 3, &server, &client(lines));
        assert_eq!(r.failures, ["client0 line 1: message 7 != null"]);
        assert!(
            r.notes[0].ends_with("missing per client: client0: [0, 2]"),
            "{:?}",
            r.notes
        );

        let mut r = result();
        // (Line 2's message is wrong too, but the walk stops at line 1.)
        let lines = vec![
            client_line(0, 2, "null"),
            client_line(1, 1, "null"),
            client_line(2, 2, "7"),
        ];
        check_clients_cell(&mut r, &cell, &ports, 3, &server, &client(lines));
        assert_eq!(
            r.failures,
            ["client0 line 1: the pixels are none of the frames still to come"]
        );
    }
}
