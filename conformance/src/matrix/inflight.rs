//! Termination while frames are in flight, on every pattern
//! (`inflight/p{0,1,2}/<sender>-<receiver>`).
//!
//! The sender streams at 200 fps and is stopped as Ctrl-C would stop it
//! (SIGINT for netgear, SIGTERM for peer.py) once the receiver has shown
//! 20 frames: on patterns 0 and 1 a frame is then usually sent and not
//! yet answered, on pattern 2 frames are queued on the way. The sender must
//! close normally (its termination message goes out), the receiver must end
//! by that termination, and every frame the receiver shows must be one the
//! sender sent, intact and in order: on patterns 0 and 1 all the frames the
//! sender saw answered, and at most the one in flight besides (spec/05
//! §5.3; netgear also delivers what arrived before the termination,
//! spec/07 §7.3); on pattern 2 a subsequence (PUB drops by design).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

use super::cases::{Cell, Impl, Kind};
use super::check::synthetic_sha256;
use super::runner::{free_port, spawn_piped, tail, wait_bound, CellResult, Env};

/// One cell.
#[derive(Debug, Clone)]
pub struct InFlightCell {
    pub sender: Impl,
    pub receiver: Impl,
    pub pattern: u8,
}

impl InFlightCell {
    pub fn id(&self) -> String {
        format!(
            "inflight/p{}/{}-{}",
            self.pattern, self.sender, self.receiver
        )
    }

    pub fn uses_python(&self) -> bool {
        self.sender == Impl::Python || self.receiver == Impl::Python
    }
}

/// Every pair on every pattern.
pub fn cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    for pattern in [0u8, 1, 2] {
        for (sender, receiver) in [
            (Impl::Rust, Impl::Rust),
            (Impl::Rust, Impl::Python),
            (Impl::Python, Impl::Rust),
            (Impl::Python, Impl::Python),
        ] {
            cells.push(Cell {
                kind: Kind::InFlight(InFlightCell {
                    sender,
                    receiver,
                    pattern,
                }),
            });
        }
    }
    cells
}

const SHAPE: [usize; 3] = [120, 160, 3];
/// Frames the receiver shows before the sender is stopped.
const BEFORE_STOP: usize = 20;

/// A child whose stdout lines are read as they come.
struct Streaming {
    who: Impl,
    child: Child,
    rx: Receiver<String>,
    lines: Vec<String>,
    stderr: thread::JoinHandle<String>,
}

impl Streaming {
    fn start(who: Impl, cmd: Command) -> Result<Streaming, String> {
        let (child, stdout, stderr) = spawn_piped(cmd)?;
        let (tx, rx) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Streaming {
            who,
            child,
            rx,
            lines: Vec::new(),
            stderr,
        })
    }

    /// Waits until `n` lines have come (false after `limit`).
    fn wait_lines(&mut self, n: usize, limit: Duration) -> bool {
        let give_up = Instant::now() + limit;
        while self.lines.len() < n {
            match self
                .rx
                .recv_timeout(give_up.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.lines.push(line),
                Err(_) => return false,
            }
        }
        true
    }

    /// Stops it as Ctrl-C would.
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

    /// Waits up to `limit` for the exit (then kills): (exit code, lines,
    /// stderr); no code when it had to be killed.
    fn finish(mut self, limit: Duration) -> (Option<i32>, Vec<Value>, String) {
        let give_up = Instant::now() + limit;
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < give_up => thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(5)) {
            self.lines.push(line);
        }
        let values = self
            .lines
            .iter()
            .map(|l| parse(l.as_bytes()).unwrap_or_default())
            .collect();
        (code, values, self.stderr.join().unwrap_or_default())
    }
}

pub fn run(env: &Env, result: &mut CellResult, cell: &InFlightCell) -> Result<(), String> {
    let port = free_port().to_string();
    let lockstep = cell.pattern < 2;
    let mut rx = env.command(cell.receiver, "receive");
    rx.args([
        "--port",
        &port,
        "--pattern",
        &cell.pattern.to_string(),
        "--json",
    ]);
    let mut tx = env.command(cell.sender, "send");
    tx.args([
        "--port",
        &port,
        "--pattern",
        &cell.pattern.to_string(),
        "--json",
    ])
    .args(["--frames", "100000", "--fps", "200", "--shape", "120,160,3"]);
    if lockstep {
        rx.args(["--bidirectional", "--return", "\"ack\""]);
        tx.args(["--bidirectional", "--message", "\"in flight\""]);
    } else {
        rx.args(["--subscriber-timeout", "3"]);
    }
    let mut receiver = Streaming::start(cell.receiver, rx)?;
    if !wait_bound(port.parse().expect("a port"), None, Duration::from_secs(30)) {
        let (_, _, err) = receiver.finish(Duration::ZERO);
        return Err(format!("the receiver never bound: {}", tail(&err)));
    }
    let sender = Streaming::start(cell.sender, tx)?;
    if !receiver.wait_lines(BEFORE_STOP, Duration::from_secs(60)) {
        result.failures.push(format!(
            "the receiver showed only {} frames",
            receiver.lines.len()
        ));
    }
    sender.stop();
    let (tx_code, sent, tx_err) = sender.finish(Duration::from_secs(20));
    let (rx_code, got, rx_err) = receiver.finish(Duration::from_secs(20));
    check_exits(result, cell, (tx_code, &tx_err), (rx_code, &rx_err));
    check_frames(result, lockstep, &sent, &got);
    Ok(())
}

fn check_exits(
    result: &mut CellResult,
    cell: &InFlightCell,
    tx: (Option<i32>, &str),
    rx: (Option<i32>, &str),
) {
    if tx.0 != Some(0) {
        result.failures.push(format!(
            "the sender, stopped, exit {:?}: {}",
            tx.0,
            tail(tx.1)
        ));
    }
    let timed_out = cell.pattern == 2
        && match cell.receiver {
            Impl::Rust => rx.0 == Some(1) && rx.1.contains("the publisher fell silent"),
            Impl::Python => rx.0 == Some(0) && rx.1.contains("Connection Timeout"),
        };
    if timed_out && cell.sender == Impl::Python {
        result.notes.push(
            "vidgear's termination message was lost (spec/07 §7.12); the receiver's subscriber \
             timeout ended it"
                .into(),
        );
    } else if timed_out {
        result
            .failures
            .push("netgear's termination message never arrived".into());
    } else if rx.0 != Some(0) {
        result.failures.push(format!(
            "the receiver did not end by the termination: exit {:?}: {}",
            rx.0,
            tail(rx.1)
        ));
    }
    if rx.1.contains("still queued at termination") {
        result.notes.push(
            "vidgear's recv() ended with frames still queued (spec/07 §7.3); peer.py delivered them".into(),
        );
    }
}

fn check_frames(result: &mut CellResult, lockstep: bool, sent: &[Value], got: &[Value]) {
    let sha = |v: &Value| {
        v.get("sha256")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if lockstep {
        if let Some((k, line)) = sent
            .iter()
            .enumerate()
            .find(|(_, l)| l.get("reply") != Some(&Value::from("ack")))
        {
            result
                .failures
                .push(format!("sender frame {k}: reply {:?}", line.get("reply")));
        }
    }
    let mut next = 0u64;
    let limit = sent.len() as u64 + 1;
    for (j, line) in got.iter().enumerate() {
        let found = if lockstep {
            Some(j as u64).filter(|&k| synthetic_sha256(k, &SHAPE, "uint8") == sha(line))
        } else {
            (next..=limit).find(|&k| synthetic_sha256(k, &SHAPE, "uint8") == sha(line))
        };
        if line.get("seq").and_then(Value::as_i64) != Some(j as i64) || found.is_none() {
            result.failures.push(format!(
                "receiver frame {j} is not {} (seq {:?}): lost, duplicated, reordered or corrupt",
                if lockstep {
                    "the sender's frame at that place"
                } else {
                    "one of the frames still to come"
                },
                line.get("seq")
            ));
            return;
        }
        next = found.unwrap_or(next) + 1;
    }
    let (n_sent, n_got) = (sent.len(), got.len());
    if lockstep && !(n_got == n_sent || n_got == n_sent + 1) {
        result.failures.push(format!(
            "the receiver showed {n_got} frames, the sender saw {n_sent} answered (at most one more may have been in flight)"
        ));
    }
    if lockstep && n_got == n_sent + 1 {
        result.notes.push(
            "the frame in flight at the stop arrived; the sender abandoned its answer".into(),
        );
    }
    if !lockstep && (n_got as u64) < limit.saturating_sub(1) {
        result.notes.push(format!(
            "PUB/SUB dropped {} of the {n_sent} frames sent (spec/05 §5.1)",
            n_sent - n_got.min(n_sent)
        ));
    }
}
