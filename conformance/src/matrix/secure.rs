//! The secure-mode cells (spec/10): StoneHouse and IronHouse between
//! netgear and vidgear 0.3.6, both directions, patterns 0 and 1, with keys
//! made by vidgear (`peer.py keys`: its own `generate_auth_certificates`)
//! and by `netgear keys`; and the refusals: a client key IronHouse does not
//! list, a wrong server key, a plaintext peer on either side.
//!
//! vidgear's authenticator lets in only peers whose IP address is the
//! string its own `address` argument held (spec/07 §7.18), so both ends
//! are given `--address 127.0.0.1`. The Rust ends run the `netgear`
//! command built with the `curve` feature (`--netgear-curve`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};
use netgear::wire::Colorspace;
use netgear_testkit::free_port;

use super::cases::Impl;
use super::check::{same, show, synthetic_sha256};
use super::jpeg::check_saved;
use super::runner::{
    check_lines, finish, save_logs, start, tail, tempdir_in, CellResult, Env, Finished, Running,
};

/// Who made the key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// vidgear's `generate_auth_certificates` (pyzmq's `zmq.auth`).
    Vidgear,
    /// `netgear keys`.
    Netgear,
}

/// What a stream cell carries (all bidirectional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Raw frames with a JSON message, JSON return data.
    Json,
    /// Raw frames, a frame as return data.
    FrameReturn,
    /// JPEG-compressed natural frames, JSON return data.
    Jpeg,
}

/// Why the receiver must let nothing through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// IronHouse: the sender's client key is not in public_keys.
    UnknownClientKey,
    /// StoneHouse: the sender expects another server key.
    WrongServerKey,
    /// A plaintext sender, a StoneHouse receiver.
    PlainSender,
    /// A StoneHouse sender, a plaintext receiver.
    PlainReceiver,
}

/// One secure cell.
#[derive(Debug, Clone)]
pub enum SecureCell {
    Stream {
        sender: Impl,
        receiver: Impl,
        pattern: u8,
        /// 1 StoneHouse, 2 IronHouse.
        mode: u8,
        keys: Keys,
        load: Load,
    },
    Refusal {
        sender: Impl,
        receiver: Impl,
        pattern: u8,
        refusal: Refusal,
    },
}

const PAIRS: [(Impl, Impl); 2] = [(Impl::Rust, Impl::Python), (Impl::Python, Impl::Rust)];
const MESSAGE: &str = r#"{"camera": "gate", "n": [1, 2.5, null], "ok": true}"#;
const RETURN: &str = r#"{"seen": true, "boxes": [[1, 2, 3, 4]]}"#;
const SHAPE: &str = "48,64,3";
const RETURN_SHAPE: &str = "24,32,3";

impl SecureCell {
    pub fn id(&self) -> String {
        match self {
            SecureCell::Stream {
                sender,
                receiver,
                pattern,
                mode,
                keys,
                load,
            } => format!(
                "secure/{sender}-{receiver}/p{pattern}/{}/{}/{}-keys",
                house(*mode),
                match load {
                    Load::Json => "json",
                    Load::FrameReturn => "frame-return",
                    Load::Jpeg => "jpeg",
                },
                match keys {
                    Keys::Vidgear => "vidgear",
                    Keys::Netgear => "netgear",
                }
            ),
            SecureCell::Refusal {
                sender,
                receiver,
                pattern,
                refusal,
            } => format!(
                "secure-refusal/{sender}-{receiver}/p{pattern}/{}",
                match refusal {
                    Refusal::UnknownClientKey => "ironhouse-unknown-client-key",
                    Refusal::WrongServerKey => "wrong-server-key",
                    Refusal::PlainSender => "plaintext-sender",
                    Refusal::PlainReceiver => "plaintext-receiver",
                }
            ),
        }
    }

    pub fn uses_python(&self) -> bool {
        let (SecureCell::Stream {
            sender, receiver, ..
        }
        | SecureCell::Refusal {
            sender, receiver, ..
        }) = self;
        *sender == Impl::Python || *receiver == Impl::Python
    }
}

fn house(mode: u8) -> &'static str {
    if mode == 2 {
        "ironhouse"
    } else {
        "stonehouse"
    }
}

/// Every secure cell: 2 directions × 2 patterns × 2 modes × 3 loads × 2
/// key makers, and 2 directions × 2 patterns × 4 refusals.
pub fn cells() -> Vec<super::cases::Cell> {
    let mut cells = Vec::new();
    for (sender, receiver) in PAIRS {
        for pattern in [0u8, 1] {
            for mode in [1u8, 2] {
                for load in [Load::Json, Load::FrameReturn, Load::Jpeg] {
                    for keys in [Keys::Vidgear, Keys::Netgear] {
                        cells.push(SecureCell::Stream {
                            sender,
                            receiver,
                            pattern,
                            mode,
                            keys,
                            load,
                        });
                    }
                }
            }
            for refusal in [
                Refusal::UnknownClientKey,
                Refusal::WrongServerKey,
                Refusal::PlainSender,
                Refusal::PlainReceiver,
            ] {
                cells.push(SecureCell::Refusal {
                    sender,
                    receiver,
                    pattern,
                    refusal,
                });
            }
        }
    }
    cells
        .into_iter()
        .map(|c| super::cases::Cell {
            kind: super::cases::Kind::Secure(c),
        })
        .collect()
}

/// How often a cell runs when vidgear's receiver keeps dying of its
/// pattern-0 flaw (spec/07 §7.18; vidgear against vidgear fails the same
/// way about half the time).
const ATTEMPTS: usize = 12;

/// How one attempt at a cell ended.
enum Attempt {
    /// Checked; the failures, if any, are in the result.
    Done,
    /// vidgear's receive thread died of EAGAIN (pattern 0, secure), before
    /// anything was delivered: nothing said about netgear; run again.
    VidgearDied,
}

pub fn run(env: &Env, result: &mut CellResult, cell: &SecureCell) -> Result<(), String> {
    for attempt in 1..=ATTEMPTS {
        let scratch = tempdir_in(&env.out)?;
        let mut trial = CellResult {
            id: result.id.clone(),
            failures: Vec::new(),
            notes: Vec::new(),
            fps: None,
            seconds: 0.0,
        };
        let outcome = run_once(env, &mut trial, &scratch, cell);
        let _ = std::fs::remove_dir_all(&scratch);
        result.notes.append(&mut trial.notes);
        match outcome? {
            Attempt::VidgearDied => result.notes.push(format!(
                "attempt {attempt}: vidgear's receive thread died of EAGAIN in the CURVE handshake (spec/07 §7.18)"
            )),
            Attempt::Done => {
                result.failures.append(&mut trial.failures);
                result.fps = trial.fps;
                return Ok(());
            }
        }
    }
    Err(format!(
        "vidgear's receive thread died in all {ATTEMPTS} attempts"
    ))
}

fn run_once(
    env: &Env,
    result: &mut CellResult,
    scratch: &Path,
    cell: &SecureCell,
) -> Result<Attempt, String> {
    match cell {
        SecureCell::Stream {
            sender,
            receiver,
            pattern,
            mode,
            keys,
            load,
        } => stream(
            env,
            result,
            scratch,
            (*sender, *receiver, *pattern),
            *mode,
            *keys,
            *load,
        ),
        SecureCell::Refusal {
            sender,
            receiver,
            pattern,
            refusal,
        } => refusal_cell(
            env,
            result,
            scratch,
            (*sender, *receiver, *pattern),
            *refusal,
        ),
    }
}

fn vidgear_may_die(receiver: Impl, pattern: u8) -> bool {
    receiver == Impl::Python && pattern == 0
}

/// True when vidgear's receiver died of its pattern-0 flaw before it
/// delivered anything.
fn vidgear_died(receiver: Impl, pattern: u8, rx_done: &Finished) -> bool {
    vidgear_may_die(receiver, pattern)
        && rx_done.stderr.contains(VIDGEAR_DIED)
        && rx_done.lines.is_empty()
}

/// A key set in `dir` (made as `dir/.vidgear/keys`) by `maker`.
fn make_keys(env: &Env, maker: Keys, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut cmd = match maker {
        Keys::Vidgear => env.command(Impl::Python, "keys"),
        Keys::Netgear => env.secure_command(Impl::Rust, "keys"),
    };
    let out = cmd
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot make keys: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{maker:?} could not make keys: {}",
            tail(&String::from_utf8_lossy(&out.stderr))
        ))
    }
}

/// A peer of a secure cell: loopback tcp on `port`, bidirectional, JSON lines.
fn peer(env: &Env, who: Impl, role: &str, port: u16, pattern: u8) -> Command {
    let mut cmd = env.secure_command(who, role);
    cmd.args(["--address", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--pattern",
            &pattern.to_string(),
            "--bidirectional",
            "--json",
        ]);
    cmd
}

fn secure(cmd: &mut Command, mode: u8, certs: &Path) {
    if mode > 0 {
        cmd.args(["--secure-mode", &mode.to_string(), "--cert-dir"])
            .arg(certs);
    }
}

fn stream(
    env: &Env,
    result: &mut CellResult,
    scratch: &Path,
    (sender, receiver, pattern): (Impl, Impl, u8),
    mode: u8,
    keys: Keys,
    load: Load,
) -> Result<Attempt, String> {
    let certs = scratch.join("certs");
    make_keys(env, keys, &certs)?;
    let port = free_port();
    let frames = env.frames;
    let (rx_dir, jpeg_shape) = (scratch.join("rx"), [480usize, 640, 3]);
    let mut rx = peer(env, receiver, "receive", port, pattern);
    secure(&mut rx, mode, &certs);
    let mut tx = peer(env, sender, "send", port, pattern);
    secure(&mut tx, mode, &certs);
    tx.args(["--frames", &frames.to_string(), "--message", MESSAGE]);
    if sender == Impl::Rust && vidgear_may_die(receiver, pattern) {
        // Gives up soon on a vidgear receiver that died (then run again).
        tx.args(["--request-timeout", "2", "--max-retries", "1"]);
    }
    match load {
        Load::Json => {
            tx.args(["--shape", SHAPE]);
            rx.args(["--return", RETURN]);
        }
        Load::FrameReturn => {
            tx.args(["--shape", SHAPE]);
            rx.args(["--return-frame", RETURN_SHAPE]);
        }
        Load::Jpeg => {
            tx.args(["--shape", "480,640,3", "--content", "natural"])
                .args(["--jpeg", "BGR", "--jpeg-quality", "90"]);
            rx.args(["--return", RETURN]).arg("--save-dir").arg(&rx_dir);
        }
    }
    let rx_run = started(rx, port)?;
    let tx_done = finish(start(tx)?, Duration::from_secs(120));
    let rx_done = finish(rx_run, Duration::from_secs(30));
    if vidgear_died(receiver, pattern, &rx_done) {
        return Ok(Attempt::VidgearDied);
    }
    let failures = &mut result.failures;
    exit_zero(failures, "sender", &tx_done);
    exit_zero(failures, "receiver", &rx_done);
    let message = json(MESSAGE);
    check_lines(failures, "receiver", &rx_done.lines, frames, |k, line| {
        let mut problems = Vec::new();
        let got = line.get("message").cloned().unwrap_or(Value::Null);
        if !same(&got, &message) {
            problems.push(format!("message {} != {}", show(&got), show(&message)));
        }
        if load == Load::Jpeg {
            let saved = rx_dir.join(format!("frame_{k:06}.npy"));
            if let Err(e) = check_saved(&saved, Colorspace::Bgr, &jpeg_shape, k) {
                problems.push(e);
            }
        } else {
            let want = synthetic_sha256(k, &[48, 64, 3], "uint8");
            if line.get("sha256").and_then(Value::as_str) != Some(want.as_str()) {
                problems.push(format!("frame {k} pixels differ (sha256)"));
            }
        }
        problems
    });
    let want_reply = match load {
        Load::FrameReturn => {
            let mut m = netgear::json::Map::new();
            m.insert("shape", Value::from(vec![24usize, 32, 3]));
            m.insert("dtype", "uint8");
            m.insert("sha256", synthetic_sha256(0, &[24, 32, 3], "uint8"));
            Value::Object(m)
        }
        _ => json(RETURN),
    };
    check_lines(failures, "sender", &tx_done.lines, frames, |_, line| {
        let got = line.get("reply").cloned().unwrap_or(Value::Null);
        if same(&got, &want_reply) {
            Vec::new()
        } else {
            vec![format!("reply {} != {}", show(&got), show(&want_reply))]
        }
    });
    if !result.failures.is_empty() {
        save_logs(&env.out, &result.id, &tx_done, &rx_done);
    }
    Ok(Attempt::Done)
}

/// What peer.py says when vidgear's receive thread died of EAGAIN.
const VIDGEAR_DIED: &str = "vidgear's receive thread failed: Again(";

/// Starts the receiver and waits until it listens on `port`, without
/// connecting to it: a connection that closes before the handshake can
/// kill vidgear's secure receiver (spec/07 §7.18).
fn started(rx: Command, port: u16) -> Result<Running, String> {
    let rx_run = start(rx)?;
    let give_up = Instant::now() + Duration::from_secs(30);
    while !listening(port) {
        if Instant::now() > give_up {
            let rx_done = finish(rx_run, Duration::from_secs(1));
            return Err(format!("receiver never bound: {}", tail(&rx_done.stderr)));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Ok(rx_run)
}

/// True when a socket listens on 127.0.0.1:`port` (the kernel's table:
/// address and port in hex, state 0A = LISTEN).
fn listening(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|table| {
        table.lines().skip(1).any(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let local = fields.next();
            let state = fields.nth(1);
            local == Some(want.as_str()) && state == Some("0A")
        })
    })
}

fn json(text: &str) -> Value {
    parse(text.as_bytes()).expect("the cells' JSON is valid")
}

fn exit_zero(failures: &mut Vec<String>, who: &str, done: &Finished) {
    if done.code != Some(0) {
        failures.push(format!(
            "{who} exit {:?}: {}",
            done.code,
            tail(&done.stderr)
        ));
    }
}

/// The key sets of a refusal cell: the receiver's (made by its own side's
/// tool) and the refused sender's.
fn refusal_keys(
    env: &Env,
    scratch: &Path,
    (sender, receiver): (Impl, Impl),
    refusal: Refusal,
) -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
    let maker = |who| match who {
        Impl::Python => Keys::Vidgear,
        Impl::Rust => Keys::Netgear,
    };
    let (ours, theirs) = (scratch.join("receiver-keys"), scratch.join("sender-keys"));
    make_keys(env, maker(receiver), &ours)?;
    make_keys(env, maker(sender), &theirs)?;
    if refusal == Refusal::UnknownClientKey {
        // The right server key, a client key the receiver does not list.
        let from = ours.join(".vidgear/keys/public_keys/server.key");
        let to = theirs.join(".vidgear/keys/public_keys/server.key");
        std::fs::copy(&from, &to).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    Ok((ours, theirs))
}

fn refusal_cell(
    env: &Env,
    result: &mut CellResult,
    scratch: &Path,
    (sender, receiver, pattern): (Impl, Impl, u8),
    refusal: Refusal,
) -> Result<Attempt, String> {
    let (ours, theirs) = refusal_keys(env, scratch, (sender, receiver), refusal)?;
    let (rx_mode, bad_mode, bad_certs) = match refusal {
        Refusal::UnknownClientKey => (2, 2, &theirs),
        Refusal::WrongServerKey => (1, 1, &theirs),
        Refusal::PlainSender => (1, 0, &ours),
        Refusal::PlainReceiver => (0, 1, &ours),
    };
    let port = free_port();
    let mut rx = peer(env, receiver, "receive", port, pattern);
    secure(&mut rx, rx_mode, &ours);
    // Patient enough to outlive the refused sender (a vidgear receiver
    // rebinds without CURVE after a silent period: spec/07 §7.18).
    rx.args([
        "--return",
        RETURN,
        "--request-timeout",
        "6",
        "--max-retries",
        "10",
    ]);
    if receiver == Impl::Python {
        rx.arg("--verbose"); // vidgear's log, for the record
    }
    let mut bad = peer(env, sender, "send", port, pattern);
    secure(&mut bad, bad_mode, bad_certs);
    bad.args([
        "--frames",
        "2",
        "--shape",
        SHAPE,
        "--message",
        "\"refused\"",
    ]);
    // vidgear takes whole seconds, 4 at least. Its socket after a reset
    // has no CURVE (spec/07 §7.18): against a secure receiver that second
    // try is refused too, but a plaintext receiver would take it, so
    // there vidgear gets one try only.
    match (sender, refusal) {
        (Impl::Rust, _) => bad.args(["--request-timeout", "1", "--max-retries", "1"]),
        (Impl::Python, Refusal::PlainReceiver) => {
            bad.args(["--request-timeout", "4", "--max-retries", "1"])
        }
        (Impl::Python, _) => bad.args(["--request-timeout", "4", "--max-retries", "2"]),
    };
    let mut good = peer(env, sender, "send", port, pattern);
    secure(&mut good, rx_mode, &ours);
    good.args([
        "--frames",
        "2",
        "--shape",
        SHAPE,
        "--message",
        "\"accepted\"",
    ]);

    let mut rx_run = started(rx, port)?;
    if receiver == Impl::Rust {
        // What a port scan does: a connection that never says a word.
        // (vidgear's secure receiver does not survive it: spec/07 §7.18.)
        drop(std::net::TcpStream::connect(("127.0.0.1", port)));
    }
    let bad_done = finish(start(bad)?, Duration::from_secs(60));
    let failures = &mut result.failures;
    // vidgear reports a frame whose reply never came as sent, with no
    // reply (spec/07 §7.4); netgear reports none.
    let replied = bad_done
        .lines
        .iter()
        .any(|(_, l)| parse(l.as_bytes()).map_or(true, |v| v.get("reply") != Some(&Value::Null)));
    if bad_done.code != Some(1) || replied {
        failures.push(format!(
            "the refused sender should fail with exit 1 and no reply: exit {:?}, {} lines: {}",
            bad_done.code,
            bad_done.lines.len(),
            tail(&bad_done.stderr)
        ));
    }
    let retry_error = match sender {
        Impl::Rust => "the peer stopped answering",
        Impl::Python => "seems to be offline, Abandoning",
    };
    if !bad_done.stderr.contains(retry_error) {
        failures.push(format!(
            "no retry error from the refused sender: {}",
            tail(&bad_done.stderr)
        ));
    }
    // Time for a receiver to trip over the refused connections.
    std::thread::sleep(Duration::from_secs(1));
    if !rx_run.is_running() {
        let rx_done = finish(rx_run, Duration::from_secs(5));
        if result.failures.is_empty() && vidgear_died(receiver, pattern, &rx_done) {
            return Ok(Attempt::VidgearDied);
        }
        result.failures.push(format!(
            "the receiver did not stay up (exit {:?}, {} lines): {}",
            rx_done.code,
            rx_done.lines.len(),
            tail(&rx_done.stderr)
        ));
        save_logs(&env.out, &result.id, &bad_done, &rx_done);
        return Ok(Attempt::Done);
    }
    let good_done = finish(start(good)?, Duration::from_secs(60));
    let rx_done = finish(rx_run, Duration::from_secs(30));
    // vidgear's flaw, not a refusal failing: run again, unless the
    // refused sender already did something wrong.
    if result.failures.is_empty() && vidgear_died(receiver, pattern, &rx_done) {
        return Ok(Attempt::VidgearDied);
    }
    let failures = &mut result.failures;
    exit_zero(failures, "accepted sender", &good_done);
    exit_zero(failures, "receiver", &rx_done);
    // Only the accepted sender's frames arrived.
    let accepted = Value::from("accepted");
    check_lines(failures, "receiver", &rx_done.lines, 2, |k, line| {
        let mut problems = Vec::new();
        if line.get("message") != Some(&accepted) {
            problems.push(format!("message {:?}", line.get("message").map(show)));
        }
        let want = synthetic_sha256(k, &[48, 64, 3], "uint8");
        if line.get("sha256").and_then(Value::as_str) != Some(want.as_str()) {
            problems.push(format!("frame {k} pixels differ (sha256)"));
        }
        problems
    });
    if !result.failures.is_empty() {
        save_logs(
            &env.out,
            &format!("{}.refused", result.id),
            &bad_done,
            &rx_done,
        );
        save_logs(&env.out, &result.id, &good_done, &rx_done);
    }
    Ok(Attempt::Done)
}
