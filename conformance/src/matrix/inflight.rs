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

use std::time::Duration;

use netgear::json::{parse, Value};

use super::cases::{Cell, Impl, Kind};
use super::check::synthetic_sha256;
use super::live::{Done, Live};
use super::runner::{check_pubsub_receiver_end, free_port, tail, wait_bound, CellResult, Env};

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
    let mut receiver = Live::start("receiver".into(), cell.receiver, rx)?;
    if !wait_bound(port.parse().expect("a port"), None, Duration::from_secs(30)) {
        let done = receiver.finish(Duration::ZERO, false);
        return Err(format!("the receiver never bound: {}", tail(&done.stderr)));
    }
    let sender = Live::start("sender".into(), cell.sender, tx)?;
    if !receiver.wait_lines(BEFORE_STOP, Duration::from_secs(60)) {
        result.failures.push(format!(
            "the receiver showed only {} frames",
            receiver.lines.len()
        ));
    }
    sender.stop();
    let tx_done = sender.finish(Duration::from_secs(20), false);
    let rx_done = receiver.finish(Duration::from_secs(20), false);
    check_exits(result, cell, &tx_done, &rx_done);
    check_frames(
        result,
        lockstep,
        &json_values(&tx_done),
        &json_values(&rx_done),
    );
    Ok(())
}

/// The lines a peer printed, as JSON (an unreadable line as `null`, which
/// the frame checks then report).
fn json_values(done: &Done) -> Vec<Value> {
    done.lines
        .iter()
        .map(|l| parse(l.as_bytes()).unwrap_or_default())
        .collect()
}

fn check_exits(result: &mut CellResult, cell: &InFlightCell, tx: &Done, rx: &Done) {
    let tx = (tx.code, tx.stderr.as_str());
    let rx = (rx.code, rx.stderr.as_str());
    if tx.0 != Some(0) {
        result.failures.push(format!(
            "the sender, stopped, exit {:?}: {}",
            tx.0,
            tail(tx.1)
        ));
    }
    if cell.pattern == 2 {
        check_pubsub_receiver_end(result, (cell.sender, cell.receiver), rx.0, rx.1);
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
