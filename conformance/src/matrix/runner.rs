//! Running cells: processes, output capture, checks.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

use super::cases::{Case, Cell, Datum, Impl, Kind, Return};
use super::check::{parse_shape, same, show, synthetic_sha256};
use super::ConformArgs;

/// Everything a cell needs to start processes.
pub struct Env {
    netgear: PathBuf,
    python: Option<PathBuf>,
    peer: PathBuf,
    pub(super) out: PathBuf,
    pub(super) frames: u64,
    /// The `netgear` built with `curve`, for the secure cells (built on
    /// first use unless given).
    netgear_curve: OnceLock<PathBuf>,
}

impl Env {
    pub fn new(args: &ConformArgs, python: Option<PathBuf>) -> Env {
        Env {
            netgear: args
                .netgear
                .clone()
                .unwrap_or_else(|| netgear_testkit::netgear_bin().to_path_buf()),
            python,
            peer: args.repo.join("conformance/python/peer.py"),
            out: args.out.clone(),
            frames: args.frames,
            netgear_curve: args
                .netgear_curve
                .clone()
                .map(OnceLock::from)
                .unwrap_or_default(),
        }
    }

    /// As [`Env::command`], with the Rust peer built with CURVE.
    pub(super) fn secure_command(&self, who: Impl, role: &str) -> Command {
        match who {
            Impl::Rust => {
                let bin = self
                    .netgear_curve
                    .get_or_init(|| netgear_testkit::netgear_curve_bin().to_path_buf());
                let mut c = Command::new(bin);
                c.arg(role);
                c
            }
            Impl::Python => self.command(who, role),
        }
    }

    pub(super) fn command(&self, who: Impl, role: &str) -> Command {
        match who {
            Impl::Rust => {
                let mut c = Command::new(&self.netgear);
                c.arg(role);
                c
            }
            Impl::Python => {
                let mut c = Command::new(
                    self.python
                        .as_ref()
                        .expect("venv provisioned for python cells"),
                );
                c.arg(&self.peer).arg(role);
                c
            }
        }
    }
}

/// The outcome of one cell.
#[derive(Debug)]
pub struct CellResult {
    pub id: String,
    pub failures: Vec<String>,
    pub notes: Vec<String>,
    pub fps: Option<f64>,
    pub seconds: f64,
}

impl CellResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs `cells` on `jobs` threads; results come back in matrix order.
pub fn run_all(env: &Env, cells: Vec<Cell>, jobs: usize) -> Vec<CellResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CellResult>>> =
        Mutex::new((0..cells.len()).map(|_| None).collect());
    thread::scope(|s| {
        for _ in 0..jobs.min(cells.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(cell) = cells.get(i) else { break };
                let result = run_cell(env, cell);
                eprintln!(
                    "conform: {:52} {}",
                    result.id,
                    if result.passed() { "pass" } else { "FAIL" }
                );
                results.lock().expect("results lock")[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every cell ran"))
        .collect()
}

/// What libzmq prints when one of its internal assertions aborts the
/// process. pyzmq's libzmq hits one now and then while vidgear closes its
/// socket (a known race: zeromq/libzmq#1307, #4644), after the session's
/// frames are through.
const LIBZMQ_ABORT: &str = "Assertion failed: ";

fn run_cell(env: &Env, cell: &Cell) -> CellResult {
    let started = Instant::now();
    let mut result = CellResult {
        id: cell.id(),
        failures: Vec::new(),
        notes: Vec::new(),
        fps: None,
        seconds: 0.0,
    };
    run_kind(env, &mut result, cell);
    // One more run when a peer died of a libzmq assertion: that is libzmq's
    // bug, not a verdict on the cell; the note keeps it visible.
    if cell.uses_python() && result.failures.iter().any(|f| f.contains(LIBZMQ_ABORT)) {
        let first = std::mem::take(&mut result.failures).join("; ");
        result.notes.clear();
        result.fps = None;
        result.notes.push(format!(
            "ran again: a peer's libzmq aborted (zeromq/libzmq#1307): {}",
            tail(&first)
        ));
        run_kind(env, &mut result, cell);
    }
    result.seconds = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
    result
}

/// Runs the cell's kind once, recording into `result`.
fn run_kind(env: &Env, result: &mut CellResult, cell: &Cell) {
    match &cell.kind {
        Kind::Stream {
            sender,
            receiver,
            pattern,
            case,
        } => {
            if let Err(e) = stream(env, result, *sender, *receiver, *pattern, case) {
                result.failures.push(e);
            }
        }
        Kind::Refusal { who, role } => {
            if let Err(e) = refusal(env, *who, role) {
                result.failures.push(e);
            }
        }
        Kind::Jpeg(cell) => {
            if let Err(e) = super::jpeg::run(env, result, cell) {
                result.failures.push(e);
            }
        }
        Kind::Multi(cell) => {
            if let Err(e) = super::multi::run(env, result, cell) {
                result.failures.push(e);
            }
        }
        Kind::Secure(cell) => {
            if let Err(e) = super::secure::run(env, result, cell) {
                result.failures.push(e);
            }
        }
        Kind::MultiJpeg(cell) => {
            if let Err(e) = super::multi_jpeg::run(env, result, cell) {
                result.failures.push(e);
            }
        }
        Kind::InFlight(cell) => {
            if let Err(e) = super::inflight::run(env, result, cell) {
                result.failures.push(e);
            }
        }
    }
}

pub(super) fn free_port() -> u16 {
    netgear_testkit::free_port()
}

/// A child whose stdout lines are timestamped as they arrive.
pub struct Running {
    child: Child,
    lines: thread::JoinHandle<Vec<(Instant, String)>>,
    stderr: thread::JoinHandle<String>,
}

/// Starts `cmd` with stdout piped to the caller and stderr collected by a
/// thread of its own (so a chatty child never blocks on a full pipe).
pub(super) fn spawn_piped(
    mut cmd: Command,
) -> Result<(Child, ChildStdout, thread::JoinHandle<String>), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    Ok((child, stdout, stderr))
}

/// Starts `cmd` with its stdout lines sent down a channel as they come,
/// for cells that watch a peer while it runs; also its stderr, read to
/// the end.
pub(super) fn spawn_line_channel(
    cmd: Command,
) -> Result<(Child, Receiver<String>, thread::JoinHandle<String>), String> {
    let (child, stdout, stderr) = spawn_piped(cmd)?;
    let (tx, rx) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok((child, rx, stderr))
}

impl Running {
    /// True while the process has not exited.
    pub(super) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

pub(super) fn start(cmd: Command) -> Result<Running, String> {
    let (child, stdout, stderr) = spawn_piped(cmd)?;
    let lines = thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .map(|l| (Instant::now(), l))
            .collect()
    });
    Ok(Running {
        child,
        lines,
        stderr,
    })
}

pub(super) struct Finished {
    pub(super) code: Option<i32>,
    pub(super) lines: Vec<(Instant, String)>,
    pub(super) stderr: String,
}

pub(super) fn finish(mut r: Running, limit: Duration) -> Finished {
    let give_up = Instant::now() + limit;
    let mut timed_out = false;
    loop {
        match r.child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < give_up => thread::sleep(Duration::from_millis(20)),
            _ => {
                timed_out = true;
                let _ = r.child.kill();
                break;
            }
        }
    }
    let status = r.child.wait().ok();
    let lines = r.lines.join().unwrap_or_default();
    let mut stderr = r.stderr.join().unwrap_or_default();
    if timed_out {
        stderr.push_str(&format!("\n[conform: killed after {} s]", limit.as_secs()));
    }
    Finished {
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        lines,
        stderr,
    }
}

pub(super) fn wait_bound(port: u16, ipc: Option<&Path>, limit: Duration) -> bool {
    let give_up = Instant::now() + limit;
    while Instant::now() < give_up {
        let ready = match ipc {
            Some(path) => path.exists(),
            None => TcpStream::connect(("127.0.0.1", port)).is_ok(),
        };
        if ready {
            return true;
        }
        thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Passes `datum` to `who` as `flag` (JSON text, a file for large values,
/// or the Python literal where the Python side has one).
fn datum_args(
    cmd: &mut Command,
    who: Impl,
    flag: &str,
    datum: &Datum,
    scratch: &Path,
) -> Result<(), String> {
    if let (Impl::Python, Some(literal)) = (who, datum.python) {
        cmd.arg(format!("{flag}-python")).arg(literal);
    } else if datum.json.len() > 64 * 1024 {
        let path = scratch.join(format!("{}.json", flag.trim_start_matches('-')));
        std::fs::write(&path, &datum.json)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        cmd.arg(flag).arg(format!("@{}", path.display()));
    } else {
        cmd.arg(flag).arg(&datum.json);
    }
    Ok(())
}

fn expected(text: &str) -> Value {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("matrix JSON {text:?} is invalid: {e}"))
}

/// A stream cell: start the receiver, run the sender to its end, then
/// check both ends.
fn stream(
    env: &Env,
    result: &mut CellResult,
    sender: Impl,
    receiver: Impl,
    pattern: u8,
    case: &Case,
) -> Result<(), String> {
    let scratch = tempdir_in(&env.out)?;
    let port = free_port();
    let ipc_path = case.ipc.then(|| scratch.join("sock"));
    let link = Link {
        port,
        pattern,
        ipc: ipc_path.as_deref(),
        case,
    };
    let rx = receiver_command(env, receiver, &link, &scratch)?;
    let tx = sender_command(env, sender, &link, &scratch)?;
    // vidgear joins address and port with ':' for ipc as well.
    let ipc_file = ipc_path
        .as_ref()
        .map(|p| PathBuf::from(format!("{}:{port}", p.display())));
    let (tx_done, rx_done) = run_pair(rx, tx, port, ipc_file.as_deref())?;
    let _ = std::fs::remove_dir_all(&scratch);

    if pattern == 2 {
        pubsub_checks(
            result,
            (sender, receiver),
            case,
            env.frames,
            (&tx_done, &rx_done),
        );
    } else {
        lockstep_checks(result, receiver, case, env.frames, (&tx_done, &rx_done));
    }
    result.fps = lines_per_second(&tx_done.lines);
    if !result.failures.is_empty() {
        save_logs(&env.out, &result.id, &tx_done, &rx_done);
    }
    Ok(())
}

/// Starts the receiver, waits until it has bound `port` (or made
/// `ipc_file`), then runs the sender to its end (2 min at most) and gives
/// the receiver 30 s more to end; the sender's outcome, then the receiver's.
pub(super) fn run_pair(
    rx: Command,
    tx: Command,
    port: u16,
    ipc_file: Option<&Path>,
) -> Result<(Finished, Finished), String> {
    let rx_run = start(rx)?;
    if !wait_bound(port, ipc_file, Duration::from_secs(30)) {
        let rx_done = finish(rx_run, Duration::from_secs(1));
        return Err(format!("receiver never bound: {}", tail(&rx_done.stderr)));
    }
    let tx_done = finish(start(tx)?, Duration::from_secs(120));
    let rx_done = finish(rx_run, Duration::from_secs(30));
    Ok((tx_done, rx_done))
}

/// What both ends of a stream cell are told about the connection.
struct Link<'a> {
    port: u16,
    pattern: u8,
    ipc: Option<&'a Path>,
    case: &'a Case,
}

impl Link<'_> {
    fn args(&self, cmd: &mut Command) {
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--pattern",
            &self.pattern.to_string(),
            "--json",
        ]);
        if self.case.bidirectional {
            cmd.arg("--bidirectional");
        }
        if let Some(path) = self.ipc {
            cmd.args(["--protocol", "ipc", "--address"]).arg(path);
        }
    }
}

/// The receiving end, answering as the case says.
fn receiver_command(
    env: &Env,
    receiver: Impl,
    link: &Link,
    scratch: &Path,
) -> Result<Command, String> {
    let mut rx = env.command(receiver, "receive");
    link.args(&mut rx);
    match &link.case.ret {
        Return::Nothing => {}
        Return::Data(d) => datum_args(&mut rx, receiver, "--return", d, scratch)?,
        Return::Frame { shape, dtype } => {
            rx.args(["--return-frame", shape, "--return-dtype", dtype]);
        }
    }
    if link.pattern == 2 {
        // A receiver whose publisher's termination is lost ends by this.
        rx.args(["--subscriber-timeout", "3"]);
    }
    Ok(rx)
}

/// The sending end: `--frames` synthetic frames with the case's message.
fn sender_command(env: &Env, sender: Impl, link: &Link, scratch: &Path) -> Result<Command, String> {
    let case = link.case;
    let mut tx = env.command(sender, "send");
    link.args(&mut tx);
    tx.args([
        "--frames",
        &env.frames.to_string(),
        "--shape",
        case.shape,
        "--dtype",
        case.dtype,
    ]);
    if let Some(m) = &case.message {
        datum_args(&mut tx, sender, "--message", m, scratch)?;
    }
    if link.pattern == 2 {
        // Paced, so that PUB's HWM of 1 drops little.
        tx.args(["--fps", "50"]);
    }
    Ok(tx)
}

/// Patterns 0 and 1: both ends exit 0, every frame arrives, in order,
/// and every reply is the receiver's return data.
fn lockstep_checks(
    result: &mut CellResult,
    receiver: Impl,
    case: &Case,
    frames: u64,
    (tx, rx): (&Finished, &Finished),
) {
    check_stream_exits(&mut result.failures, tx, rx);
    check_receiver(result, receiver, case, frames, rx);
    let want_reply = expected_reply(case);
    check_lines(
        &mut result.failures,
        "sender",
        &tx.lines,
        frames,
        |_, line| {
            let got = line.get("reply").cloned().unwrap_or(Value::Null);
            if same(&got, &want_reply) {
                Vec::new()
            } else {
                vec![format!("reply {} != {}", show(&got), show(&want_reply))]
            }
        },
    );
}

/// Both ends exit 0 (the receiver only once it saw the termination).
pub(super) fn check_stream_exits(failures: &mut Vec<String>, tx: &Finished, rx: &Finished) {
    if tx.code != Some(0) {
        failures.push(format!("sender exit {:?}: {}", tx.code, tail(&tx.stderr)));
    }
    if rx.code != Some(0) {
        failures.push(format!(
            "receiver exit {:?} (termination not seen?): {}",
            rx.code,
            tail(&rx.stderr)
        ));
    }
}

/// The receiving end: message, shape, dtype and hash of every frame.
fn check_receiver(
    result: &mut CellResult,
    receiver: Impl,
    case: &Case,
    frames: u64,
    rx: &Finished,
) {
    let shape = parse_shape(case.shape);
    let shape_value = Value::from(shape.clone());
    let mut want_message = case
        .message
        .as_ref()
        .map_or(Value::Null, |m| expected(m.expected_json()));
    if !case.bidirectional {
        want_message = Value::Null;
    }
    if receiver == Impl::Python && !want_message.is_truthy() && !want_message.is_null() {
        result
            .notes
            .push("vidgear delivers a falsy message as None (spec/07 §1)".into());
        want_message = Value::Null;
    }
    check_lines(
        &mut result.failures,
        "receiver",
        &rx.lines,
        frames,
        |k, line| {
            let mut problems = Vec::new();
            let got = line.get("message").cloned().unwrap_or(Value::Null);
            if !same(&got, &want_message) {
                problems.push(format!("message {} != {}", show(&got), show(&want_message)));
            }
            if line.get("shape") != Some(&shape_value) {
                problems.push(format!("shape {:?}", line.get("shape").map(show)));
            }
            if line.get("dtype").and_then(Value::as_str) != Some(case.dtype) {
                problems.push(format!("dtype {:?}", line.get("dtype").map(show)));
            }
            let want_sha = synthetic_sha256(k, &shape, case.dtype);
            if line.get("sha256").and_then(Value::as_str) != Some(want_sha.as_str()) {
                problems.push(format!("frame {k} pixels differ (sha256)"));
            }
            problems
        },
    );
}

/// The reply the sending end must print for every frame.
fn expected_reply(case: &Case) -> Value {
    if !case.bidirectional {
        return Value::Null;
    }
    match &case.ret {
        Return::Nothing => Value::Null,
        Return::Data(d) => expected(d.expected_json()),
        Return::Frame { shape, dtype } => {
            let s = parse_shape(shape);
            let mut m = netgear::json::Map::new();
            m.insert("shape", Value::from(s.clone()));
            m.insert("dtype", *dtype);
            m.insert("sha256", synthetic_sha256(0, &s, dtype));
            Value::Object(m)
        }
    }
}

/// How a pattern-2 receiver must end: by the termination message (exit
/// 0). vidgear's publisher can lose it (linger 0 at close, spec/07
/// §7.12); then the receiver's subscriber timeout ends it (spec/07 §7.16:
/// netgear with an error and exit status 1, vidgear as if terminated),
/// which is noted. netgear's own termination is never lost.
pub(super) fn check_pubsub_receiver_end(
    result: &mut CellResult,
    (sender, receiver): (Impl, Impl),
    code: Option<i32>,
    stderr: &str,
) {
    let timed_out = match receiver {
        Impl::Rust => code == Some(1) && stderr.contains("the publisher fell silent"),
        Impl::Python => code == Some(0) && stderr.contains("Connection Timeout"),
    };
    if timed_out && sender == Impl::Python {
        result.notes.push(
            "vidgear's termination message was lost (linger 0 at close, spec/07 §7.12): the \
             receiver ended by its subscriber timeout (§7.16)"
                .into(),
        );
    } else if timed_out {
        result.failures.push(
            "netgear's termination message never arrived: the receiver ended by its subscriber \
             timeout"
                .into(),
        );
    } else if code != Some(0) {
        result.failures.push(format!(
            "the receiver did not end by the termination: exit {code:?}: {}",
            tail(stderr)
        ));
    }
}

/// The rate the lines arrived at, when it can be told.
pub(super) fn lines_per_second(lines: &[(Instant, String)]) -> Option<f64> {
    if lines.len() < 2 {
        return None;
    }
    let secs = lines[lines.len() - 1]
        .0
        .duration_since(lines[0].0)
        .as_secs_f64();
    // Lines arriving within a couple of milliseconds come in one pipe
    // read, and their arrival times say nothing about the rate.
    (secs >= 0.002).then(|| (lines.len() - 1) as f64 / secs)
}

/// Pattern 2: PUB (HWM 1) may drop frames (the slow joiner, a full
/// queue), which are counted, never taken for corrupt ones: what arrives
/// is the sender's frames in order, intact. The receiver ends at the
/// termination message; vidgear's can be lost (spec/07 §7.12), and then
/// the receiver's subscriber timeout ends it (spec/07 §7.16: netgear with
/// an error and exit status 1, vidgear as if terminated).
fn pubsub_checks(
    result: &mut CellResult,
    (sender, receiver): (Impl, Impl),
    case: &Case,
    frames: u64,
    (tx_done, rx_done): (&Finished, &Finished),
) {
    if tx_done.code != Some(0) {
        result.failures.push(format!(
            "sender exit {:?}: {}",
            tx_done.code,
            tail(&tx_done.stderr)
        ));
    }
    check_pubsub_receiver_end(result, (sender, receiver), rx_done.code, &rx_done.stderr);
    let shape = parse_shape(case.shape);
    let shape_value = Value::from(shape.clone());
    let mut next = 0u64;
    for (j, (_, text)) in rx_done.lines.iter().enumerate() {
        let line = parse(text.as_bytes()).unwrap_or_default();
        let sha = line.get("sha256").and_then(Value::as_str).unwrap_or("");
        let found = (next..frames).find(|&k| synthetic_sha256(k, &shape, case.dtype) == sha);
        let problem = if line.get("seq").and_then(Value::as_i64) != Some(j as i64) {
            Some(format!("has seq {:?}", line.get("seq").map(show)))
        } else if line.get("shape") != Some(&shape_value)
            || line.get("dtype").and_then(Value::as_str) != Some(case.dtype)
        {
            Some(format!(
                "is {:?} {:?}",
                line.get("dtype").map(show),
                line.get("shape").map(show)
            ))
        } else if found.is_none() {
            Some("is none of the frames still to come (duplicated, reordered or corrupt)".into())
        } else {
            None
        };
        if let Some(p) = problem {
            result.failures.push(format!("receiver line {j} {p}"));
            return;
        }
        next = found.map_or(next, |k| k + 1);
    }
    count_published(result, rx_done.lines.len() as u64, frames);
    check_lines(
        &mut result.failures,
        "sender",
        &tx_done.lines,
        frames,
        |_, line| match line.get("reply") {
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![format!("reply {} on pattern 2", show(other))],
        },
    );
}

/// Pattern 2: of the `frames` published, `got` arrived. None is a failure;
/// fewer is PUB/SUB's drops by design, counted in the notes, never taken
/// for a fault.
pub(super) fn count_published(result: &mut CellResult, got: u64, frames: u64) {
    if got == 0 {
        result.failures.push("no frame arrived".into());
    } else if got < frames {
        result.notes.push(format!(
            "PUB/SUB dropped {} of {frames} frames (HWM 1, slow joiner; spec/05 §5.1)",
            frames - got
        ));
    }
}

/// Checks that `lines` are exactly `frames` JSON objects with `seq` 0, 1, ...
pub(super) fn check_lines(
    failures: &mut Vec<String>,
    who: &str,
    lines: &[(Instant, String)],
    frames: u64,
    mut check: impl FnMut(u64, &Value) -> Vec<String>,
) {
    if lines.len() as u64 != frames {
        failures.push(format!(
            "{who} printed {} lines, expected {frames}",
            lines.len()
        ));
    }
    for (k, (_, text)) in lines.iter().enumerate() {
        let k = k as u64;
        let line = match parse(text.as_bytes()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{who} line {k} is not JSON: {e}"));
                continue;
            }
        };
        if line.get("seq").and_then(Value::as_i64) != Some(k as i64) {
            failures.push(format!(
                "{who} line {k} has seq {:?}",
                line.get("seq").map(show)
            ));
        }
        let problems = check(k, &line);
        if let Some(first) = problems.first() {
            failures.push(format!("{who} line {k}: {first}"));
            return; // one line's diagnosis is enough
        }
    }
}

fn refusal(env: &Env, who: Impl, role: &str) -> Result<(), String> {
    let mut cmd = env.command(who, role);
    cmd.args([
        "--bidirectional",
        "--pattern",
        "2",
        "--port",
        &free_port().to_string(),
        "--frames",
        "1",
    ]);
    let done = finish(start(cmd)?, Duration::from_secs(30));
    if done.code != Some(2) {
        return Err(format!(
            "expected exit 2, got {:?}: {}",
            done.code,
            tail(&done.stderr)
        ));
    }
    if !done.stderr.to_lowercase().contains("pattern") {
        return Err(format!(
            "the error does not name the pattern rule: {}",
            tail(&done.stderr)
        ));
    }
    Ok(())
}

pub(super) fn tail(text: &str) -> String {
    let t = text.trim();
    let start = t.char_indices().rev().nth(300).map_or(0, |(i, _)| i);
    t[start..].replace('\n', " ⏎ ")
}

pub(super) fn tempdir_in(out: &Path) -> Result<PathBuf, String> {
    let base = out.join("scratch");
    std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    for _ in 0..100 {
        let dir = base.join(format!("{:016x}", fastrand::u64(..)));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(format!(
        "cannot create a scratch directory under {}",
        base.display()
    ))
}

pub(super) fn save_logs(out: &Path, id: &str, tx: &Finished, rx: &Finished) {
    save_role_logs(out, id, &[("sender", tx), ("receiver", rx)]);
}

/// Writes each process's stderr and stdout under `out/logs/`, named after
/// the cell and the process's role, for a failed cell to be looked into.
pub(super) fn save_role_logs(out: &Path, id: &str, procs: &[(&str, &Finished)]) {
    for (role, f) in procs {
        let lines: Vec<&str> = f.lines.iter().map(|(_, l)| l.as_str()).collect();
        save_process_log(out, id, role, &f.stderr, &lines);
    }
}

/// Writes one process's stderr and stdout lines as
/// `out/logs/<cell>.<role>.{stderr,stdout}`.
pub(super) fn save_process_log(out: &Path, id: &str, role: &str, stderr: &str, lines: &[&str]) {
    let dir = out.join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let stem = id.replace('/', "_");
    let _ = std::fs::write(dir.join(format!("{stem}.{role}.stderr")), stderr);
    let _ = std::fs::write(dir.join(format!("{stem}.{role}.stdout")), lines.join("\n"));
}
