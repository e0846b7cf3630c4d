//! netgear servers (in this process, the zmq adapters) → vidgear
//! receivers (in the control peer).
//!
//! The control peer binds vidgear's receivers and reports every frame
//! each hands its application. netgear's servers send the steps; after
//! each frame the runner waits for the peer's report of it before sending
//! the next, so a vidgear receiver has always set the return data of its
//! next frame before that frame arrives (spec/07 §7.2), and a pattern-2
//! publisher never outruns its subscribers (a frame the runner does not
//! see arrive within `DROP_WAIT` is counted as dropped).

use std::thread;
use std::time::{Duration, Instant};

use netgear::json::Value;
use netgear::media::Media;
use netgear::session::Config;
use netgear::transport::zmq::{Outcome, Protocol, Server, ServerOptions};
use netgear::wire::ReturnData;

use super::model::{Mode, Session};
use super::normalize::wire_value;
use super::peer::{event_text, Event, Peer};
use super::run::{
    event_of, frame_of, handed_over, harness_terminate, Answer, End, Got, HandedOver, Observed,
    SentObs, DROP_WAIT, PUB_GAP, SLOW_JOINER_GUARD, STEP_LIMIT,
};

/// What the runner knows while the session runs.
struct Run<'a> {
    session: &'a Session,
    sid: u64,
    obs: Observed,
    bound: Option<Result<(), String>>,
    done: bool,
}

impl Run<'_> {
    fn absorb(&mut self, event: Event) {
        let v = match event {
            Event::Peer(v) => v,
            Event::PeerGone => {
                self.obs.errors.push("the control peer died".into());
                self.obs.peer_broken = true;
                self.done = true;
                return;
            }
            Event::Receiver(..) => return,
        };
        let (ev, sid) = event_of(&v);
        if sid.is_some_and(|s| s != self.sid) {
            return;
        }
        let client = v.get("client").and_then(Value::as_i64).unwrap_or(0) as usize;
        match ev {
            "bound" => {
                self.bound = Some(Ok(()));
                if let Some(Value::Array(per_client)) = v.get("references") {
                    self.obs.return_refs = per_client
                        .iter()
                        .map(|list| match list {
                            Value::Array(refs) => refs
                                .iter()
                                .map(|r| r.get("nd").and_then(|f| frame_of(Some(f)).ok()))
                                .collect(),
                            _ => Vec::new(),
                        })
                        .collect();
                }
            }
            "refused" => self.bound = Some(Err(event_text(&v, "error"))),
            "frame" => {
                let message = match handed_over(v.get("message")) {
                    Ok(Some(HandedOver::Json(m))) => Some(m),
                    Ok(_) => None,
                    Err(e) => {
                        self.obs.errors.push(e);
                        None
                    }
                };
                let port = v.get("port").filter(|p| !p.is_null()).cloned();
                let frame = frame_of(v.get("frame").and_then(|f| f.get("nd")));
                if let Some(r) = self.obs.receivers.get_mut(client) {
                    r.got.push(Got {
                        port,
                        message,
                        frame,
                    });
                }
            }
            "end" => {
                let end = match v.get("failure") {
                    Some(Value::String(f)) => End::Failed(format!("vidgear: {f}")),
                    _ => End::Terminated,
                };
                if let Some(r) = self.obs.receivers.get_mut(client) {
                    r.end = Some(end);
                }
            }
            "done" => self.done = true,
            "error" => self
                .obs
                .errors
                .push(format!("control peer: {}", event_text(&v, "error"))),
            _ => self
                .obs
                .errors
                .push(format!("unexpected event {}", v.to_python_json())),
        }
    }

    /// Absorbs events until `until` holds or `limit` passes.
    fn wait(&mut self, peer: &mut Peer, limit: Duration, until: impl Fn(&Self) -> bool) -> bool {
        let give_up = Instant::now() + limit;
        while !until(self) {
            if self.done && !until(self) {
                return false;
            }
            match peer.next(give_up) {
                Some(e) => self.absorb(e),
                None => return until(self),
            }
        }
        true
    }
}

/// The instruction that binds vidgear's receivers.
fn instruction(session: &Session, address: &str, ports: &[String], sid: u64) -> Value {
    let mut m = session.instruction("clients", address, ports, sid);
    m.insert("subscriber_timeout", 5u64);
    let returns = (0..session.mode.receivers())
        .map(|c| {
            let list = session.returns.get(c).map(Vec::as_slice).unwrap_or(&[]);
            Value::Array(list.iter().map(|r| r.tagged()).collect())
        })
        .collect();
    m.insert("returns", Value::Array(returns));
    Value::Object(m)
}

/// netgear's servers: one per port in Multi-Server mode, one for every
/// port in Multi-Client mode, else one.
fn servers(session: &Session, address: &str, ports: &[String]) -> Result<Vec<Server>, String> {
    let config: Config = session.config().max_retries(1);
    let options = |ports: &[String]| {
        ServerOptions::new()
            .protocol(Protocol::Ipc)
            .address(address)
            .ports(ports.to_vec())
            .config(config.clone())
    };
    let groups: Vec<&[String]> = match session.mode {
        Mode::MultiServer { .. } => ports.chunks(1).collect(),
        _ => vec![ports],
    };
    groups
        .into_iter()
        .map(|g| Server::connect(options(g)).map_err(|e| format!("netgear server: {e}")))
        .collect()
}

fn answer(media: &Media, outcome: Outcome) -> Answer {
    match outcome {
        Outcome::Reply(ReturnData::Json(v)) => Answer::Json(v),
        Outcome::Reply(data @ ReturnData::Frame(_)) => match media.decode_return(data) {
            Ok(ReturnData::Frame(netgear::Payload::Raw(f))) => Answer::Frame(Ok(f)),
            Ok(other) => Answer::Frame(Err(format!("not decoded: {other:?}"))),
            Err(e) => Answer::Frame(Err(format!("netgear cannot decode it: {e}"))),
        },
        Outcome::Delivered => Answer::Delivered,
        Outcome::Published => Answer::Published,
        Outcome::Rejected { reason } => Answer::Rejected(reason),
        Outcome::BadReply(e) => Answer::BadReply(format!("{}: {e}", e.code())),
        other => Answer::Failed(format!("{other:?}")),
    }
}

/// Runs the session; never hangs longer than `STEP_LIMIT` per wait.
pub fn run(
    peer: &mut Peer,
    session: &Session,
    address: &str,
    ports: Vec<String>,
    sid: u64,
) -> Observed {
    let mut run = Run {
        session,
        sid,
        obs: Observed::new(session, ports.clone()),
        bound: None,
        done: false,
    };
    if let Err(e) = peer.send(&instruction(session, address, &ports, sid)) {
        run.obs.errors.push(e);
        run.obs.peer_broken = true;
        return run.obs;
    }
    if !run.wait(peer, STEP_LIMIT, |r| r.bound.is_some()) {
        run.obs
            .errors
            .push("vidgear's receivers never bound".into());
        run.obs.peer_broken = true;
        return run.obs;
    }
    if let Some(Err(e)) = run.bound.take() {
        run.obs
            .errors
            .push(format!("vidgear refused the configuration: {e}"));
        return run.obs;
    }
    let mut servers = match servers(session, address, &ports) {
        Ok(s) => s,
        Err(e) => {
            run.obs.errors.push(e);
            run.obs.peer_broken = true;
            return run.obs;
        }
    };
    send_steps(&mut run, peer, &mut servers);
    for server in servers {
        run.obs
            .closes
            .push(server.close().map_err(|e| e.to_string()));
    }
    finish(&mut run, peer, address, &ports);
    run.obs
}

fn send_steps(run: &mut Run, peer: &mut Peer, servers: &mut [Server]) {
    let session = run.session;
    let media = session.media();
    if session.pattern == 2 {
        thread::sleep(SLOW_JOINER_GUARD);
    }
    for (k, step) in session.steps.iter().enumerate() {
        let payload = match media.encode(step.frame.frame()) {
            Ok(p) => p,
            Err(e) => {
                run.obs
                    .errors
                    .push(format!("step {k}: netgear cannot compress its frame: {e}"));
                continue;
            }
        };
        let before = run.obs.counts();
        let sent = servers[step.server].send_value(payload, wire_value(&step.message));
        let failed = sent.is_err();
        run.obs.sent[k] = Some(match sent {
            Ok(s) => SentObs {
                port: s.port.clone(),
                answer: answer(&media, s.outcome),
            },
            Err(e) => SentObs {
                port: None,
                answer: Answer::Failed(e.to_string()),
            },
        });
        if failed {
            return;
        }
        // Pacing: wait until the frame has been handed over.
        let total = |r: &Run| r.obs.counts().iter().sum::<usize>();
        let base: usize = before.iter().sum();
        let everyone = |r: &Run| {
            r.obs
                .receivers
                .iter()
                .zip(&before)
                .all(|(rx, then)| rx.got.len() + rx.rejected.len() > *then || rx.end.is_some())
        };
        let arrived = if session.pattern < 2 {
            run.wait(peer, STEP_LIMIT, |r| total(r) > base || r.obs.all_ended())
        } else {
            run.wait(peer, DROP_WAIT, everyone);
            // Let the publisher's socket learn that its queue is empty
            // again (libzmq processes that news at most every millisecond
            // or so, and a PUB with HWM 1 drops a frame sent before it).
            thread::sleep(PUB_GAP);
            true
        };
        if !arrived {
            run.obs
                .errors
                .push(format!("vidgear never handed over frame {k}"));
            run.obs.peer_broken = true;
            return;
        }
    }
}

/// Waits for every receiver to end; ends with a termination of the
/// harness's own those that the round robin left without one.
fn finish(run: &mut Run, peer: &mut Peer, address: &str, ports: &[String]) {
    let ended = |r: &Run| r.done || r.obs.all_ended();
    let grace = if matches!(run.session.mode, Mode::MultiClient { .. }) {
        Duration::from_millis(300)
    } else {
        STEP_LIMIT
    };
    if !run.wait(peer, grace, ended) && !run.done {
        let pattern = run.session.pattern;
        let waiting: Vec<usize> = (0..run.obs.receivers.len())
            .filter(|&c| run.obs.receivers[c].end.is_none())
            .collect();
        for c in waiting {
            match harness_terminate(address, &ports[c], pattern) {
                // Unacknowledged on pattern 1: it had ended by itself, late.
                Ok(ack) => run.obs.receivers[c].harness_terminated = ack || pattern != 1,
                Err(e) => run
                    .obs
                    .errors
                    .push(format!("harness termination of client {c}: {e}")),
            }
        }
        run.wait(peer, STEP_LIMIT, ended);
    }
    if !run.wait(peer, STEP_LIMIT, |r| r.done) {
        let waiting: Vec<usize> = (0..run.obs.receivers.len())
            .filter(|&c| run.obs.receivers[c].end.is_none())
            .collect();
        run.obs
            .errors
            .push(format!("vidgear receivers {waiting:?} never ended"));
        run.obs.peer_broken = true;
    }
}
