//! vidgear servers (in the control peer) → netgear receivers (in this
//! process: a thread per receiver, the zmq adapters).
//!
//! netgear's receivers bind first; then the control peer connects
//! vidgear's servers and sends the steps, reporting the reply to each.
//! A netgear receiver sets the return data of its j-th frame before its
//! j-th `recv` (spec/07 §7.2), so no pacing is needed on patterns 0
//! and 1. On pattern 2 the peer waits for the runner's `next` after each
//! frame, which the runner gives once every receiver has reported the
//! frame, or after `DROP_WAIT` (the frame is then counted as dropped).

use std::sync::mpsc::Sender;
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{Map, Value};
use netgear::media::Media;
use netgear::session::ClientEvent;
use netgear::transport::zmq::{Client, ClientOptions, Error, Protocol};
use netgear::wire::ReturnData;
use netgear::Payload;

use super::model::{Mode, Ret, Session};
use super::normalize::wire_value;
use super::peer::{event_text, Event, Peer};
use super::run::{
    event_of, frame_of, handed_over, harness_terminate, Answer, End, Got, HandedOver, Observed,
    Report, SentObs, DROP_WAIT, STEP_LIMIT, SUBSCRIBER_TIMEOUT,
};

/// What the runner knows while the session runs.
struct Run<'a> {
    session: &'a Session,
    sid: u64,
    obs: Observed,
    bound: usize,
    connected: Option<Result<(), String>>,
    closed: bool,
    /// Pattern 2: the step whose arrival is awaited, and the receivers'
    /// counts before it.
    pacing: Option<(usize, Vec<usize>, Instant)>,
}

impl Run<'_> {
    fn absorb(&mut self, event: Event) {
        match event {
            Event::Peer(v) => self.peer_event(&v),
            Event::PeerGone => {
                self.obs.errors.push("the control peer died".into());
                self.obs.peer_broken = true;
                self.closed = true;
            }
            Event::Receiver(sid, c, report) if sid == self.sid => self.report(c, report),
            Event::Receiver(..) => {}
        }
    }

    fn report(&mut self, c: usize, report: Report) {
        let n = self.obs.receivers.len();
        let Some(rx) = self.obs.receivers.get_mut(c) else {
            return;
        };
        match report {
            Report::Bound => self.bound += 1,
            Report::Frame(got) => rx.got.push(got),
            Report::Rejected(why) => rx.rejected.push(why),
            Report::End(end) => {
                if matches!(end, End::Failed(_)) && self.bound < n {
                    self.bound += 1; // a bind failure: nothing to wait for
                }
                rx.end = Some(end);
            }
        }
    }

    fn peer_event(&mut self, v: &Value) {
        let (ev, sid) = event_of(v);
        if sid.is_some_and(|s| s != self.sid) {
            return;
        }
        match ev {
            "connected" => self.connected = Some(Ok(())),
            "refused" => self.connected = Some(Err(event_text(v, "error"))),
            "sent" => {
                let k = v.get("k").and_then(Value::as_i64).unwrap_or(-1);
                let Some(slot) = usize::try_from(k)
                    .ok()
                    .and_then(|k| self.obs.sent.get_mut(k))
                else {
                    self.obs
                        .errors
                        .push(format!("a reply to no step: {}", v.to_python_json()));
                    return;
                };
                let answer = match handed_over(v.get("reply")) {
                    Ok(Some(HandedOver::Json(Value::Null))) => Answer::Nothing,
                    Ok(Some(HandedOver::Json(j))) => Answer::Json(j),
                    Ok(Some(HandedOver::Frame(f))) => Answer::Frame(f),
                    Ok(None) => Answer::Nothing,
                    Err(e) => Answer::Failed(e),
                };
                let port = v.get("port").filter(|p| !p.is_null()).cloned();
                *slot = Some(SentObs { port, answer });
                let k = k as usize;
                self.obs.frame_refs[k] = v
                    .get("reference")
                    .and_then(|r| r.get("nd"))
                    .and_then(|f| frame_of(Some(f)).ok());
                if self.session.pattern == 2 {
                    self.pacing = Some((k, self.obs.counts(), Instant::now() + DROP_WAIT));
                }
            }
            "send_error" => {
                let k = v.get("k").and_then(Value::as_i64).unwrap_or(-1);
                if let Some(slot) = usize::try_from(k)
                    .ok()
                    .and_then(|k| self.obs.sent.get_mut(k))
                {
                    *slot = Some(SentObs {
                        port: None,
                        answer: Answer::Failed(event_text(v, "error")),
                    });
                }
            }
            "closed" => self.closed = true,
            "error" => self
                .obs
                .errors
                .push(format!("control peer: {}", event_text(v, "error"))),
            _ => self
                .obs
                .errors
                .push(format!("unexpected event {}", v.to_python_json())),
        }
    }

    /// Pattern 2: tells the peer to go on once the awaited frame arrived
    /// everywhere (or was waited for long enough).
    fn pace(&mut self, peer: &mut Peer) {
        let Some((_, before, deadline)) = &self.pacing else {
            return;
        };
        let everywhere = self
            .obs
            .receivers
            .iter()
            .zip(before)
            .all(|(rx, then)| rx.got.len() + rx.rejected.len() > *then || rx.end.is_some());
        if everywhere || Instant::now() >= *deadline {
            self.pacing = None;
            let mut m = Map::new();
            m.insert("op", "next");
            if let Err(e) = peer.send(&Value::Object(m)) {
                self.obs.errors.push(e);
            }
        }
    }

    /// Absorbs events (and paces) until `until` holds or `limit` passes.
    fn wait(&mut self, peer: &mut Peer, limit: Duration, until: impl Fn(&Self) -> bool) -> bool {
        let give_up = Instant::now() + limit;
        while !until(self) {
            self.pace(peer);
            let wake = match &self.pacing {
                Some((_, _, d)) => (*d).min(give_up),
                None => give_up,
            };
            match peer.next(wake) {
                Some(e) => self.absorb(e),
                None if Instant::now() >= give_up => return until(self),
                None => {}
            }
        }
        true
    }
}

/// The return data receiver `c` answers its `j`-th frame with, ready to send.
fn return_data(session: &Session, media: &Media, c: usize, j: usize) -> ReturnData {
    match session.ret(c, j) {
        None => ReturnData::Json(Value::Null),
        Some(Ret::Json(v)) => ReturnData::Json(wire_value(v)),
        Some(Ret::Frame(spec)) => media
            .encode_return(spec.frame())
            .unwrap_or_else(|e| panic!("the generator made a frame JPEG cannot carry: {e}")),
    }
}

/// One netgear receiver: binds, then receives until the session ends,
/// reporting everything on `tx`.
fn receiver(session: Session, c: usize, options: ClientOptions, sid: u64, tx: Sender<Event>) {
    let send = |r: Report| {
        let _ = tx.send(Event::Receiver(sid, c, r));
    };
    let mut client = match Client::bind(options) {
        Ok(client) => client,
        Err(e) => return send(Report::End(End::Failed(format!("bind: {e}")))),
    };
    send(Report::Bound);
    let media = session.media();
    let mut j = 0;
    let end = loop {
        client.set_return_data(return_data(&session, &media, c, j));
        match client.recv() {
            Ok(Some(ClientEvent::Frame(d))) => {
                let frame = match d.payload {
                    Payload::Raw(f) => Ok(f),
                    jpeg => media
                        .decode(jpeg)
                        .map_err(|e| format!("netgear cannot decode it: {e}")),
                };
                send(Report::Frame(Got {
                    port: d.port,
                    message: Some(d.message),
                    frame,
                }));
                j += 1;
            }
            Ok(Some(ClientEvent::Rejected { error })) => {
                send(Report::Rejected(format!("{}: {error}", error.code())));
            }
            Ok(Some(_)) => {}
            Ok(None) => break End::Terminated,
            Err(Error::PublisherSilent { .. }) => break End::PublisherSilent,
            Err(e) => break End::Failed(e.to_string()),
        }
    };
    let end = match (end, client.close()) {
        (End::Terminated, Err(e)) => End::Failed(format!("close: {e}")),
        (end, _) => end,
    };
    send(Report::End(end));
}

/// The instruction that makes vidgear's servers send the session's frames.
fn instruction(session: &Session, address: &str, ports: &[String], sid: u64) -> Value {
    let mut m = session.instruction("servers", address, ports, sid);
    m.insert("paced", session.pattern == 2);
    let steps = session
        .steps
        .iter()
        .map(|s| {
            let mut sm = Map::new();
            sm.insert("server", s.server as u64);
            sm.insert("message", s.message.tagged());
            sm.insert("frame", s.frame.tagged());
            Value::Object(sm)
        })
        .collect();
    m.insert("steps", Value::Array(steps));
    Value::Object(m)
}

fn start_receivers(peer: &Peer, session: &Session, address: &str, ports: &[String], sid: u64) {
    let mut config = session
        .config()
        .max_retries(1)
        .request_timeout(Duration::from_secs(2));
    if session.pattern == 2 {
        config = config.subscriber_timeout(Some(SUBSCRIBER_TIMEOUT));
    }
    let groups: Vec<Vec<String>> = match session.mode {
        Mode::MultiServer { .. } => vec![ports.to_vec()],
        _ => ports.iter().map(|p| vec![p.clone()]).collect(),
    };
    for (c, group) in groups.into_iter().enumerate() {
        let options = ClientOptions::new()
            .protocol(Protocol::Ipc)
            .address(address)
            .ports(group)
            .config(config.clone());
        let (session, tx) = (session.clone(), peer.reporter());
        thread::spawn(move || receiver(session, c, options, sid, tx));
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
        bound: 0,
        connected: None,
        closed: false,
        pacing: None,
    };
    start_receivers(peer, session, address, &ports, sid);
    let n = run.obs.receivers.len();
    let started = Instant::now();
    if !run.wait(peer, STEP_LIMIT, |r| r.bound == n) {
        run.obs.errors.push(format!(
            "{} of netgear's {n} receivers bound within {:.1} s",
            run.bound,
            started.elapsed().as_secs_f64()
        ));
        return run.obs;
    }
    if let Some(e) = run.obs.receivers.iter().find_map(|r| match &r.end {
        Some(End::Failed(e)) => Some(e.clone()),
        _ => None,
    }) {
        run.obs.errors.push(format!("netgear receiver: {e}"));
        return run.obs;
    }
    if let Err(e) = peer.send(&instruction(session, address, &ports, sid)) {
        run.obs.errors.push(e);
        run.obs.peer_broken = true;
        return run.obs;
    }
    if !run.wait(peer, STEP_LIMIT, |r| r.connected.is_some()) {
        run.obs
            .errors
            .push("vidgear's servers never connected".into());
        run.obs.peer_broken = true;
        return run.obs;
    }
    if let Some(Err(e)) = run.connected.take() {
        run.obs
            .errors
            .push(format!("vidgear refused the configuration: {e}"));
        harness_end(&mut run, peer, address, &ports);
        return run.obs;
    }
    let limit = STEP_LIMIT * (1 + session.steps.len() as u32);
    if !run.wait(peer, limit, |r| r.closed) {
        run.obs
            .errors
            .push("vidgear's servers never finished".into());
        run.obs.peer_broken = true;
    }
    // Termination: on pattern 2 vidgear's can be lost (spec/07 §7.12), on
    // Multi-Client pattern 2 it sends none (§7.10), and the round robin can
    // miss a client (spec/06 §6.3.4).
    let grace = match (session.pattern, session.mode) {
        (2, _) => Duration::from_millis(100),
        (_, Mode::MultiClient { .. }) => Duration::from_millis(300),
        _ => STEP_LIMIT,
    };
    if !run.wait(peer, grace, |r| r.obs.all_ended()) {
        harness_end(&mut run, peer, address, &ports);
    }
    run.obs
}

/// Ends the receivers still waiting with the harness's own termination,
/// then waits for them.
fn harness_end(run: &mut Run, peer: &mut Peer, address: &str, ports: &[String]) {
    let pattern = run.session.pattern;
    let targets: Vec<(usize, String)> = match run.session.mode {
        // A termination without a port ends a hub at once (spec/06 §6.2.5).
        Mode::MultiServer { .. } => vec![(0, ports[0].clone())],
        _ => ports.iter().cloned().enumerate().collect(),
    };
    for (c, port) in targets {
        if run.obs.receivers[c].end.is_some() {
            continue;
        }
        match harness_terminate(address, &port, pattern) {
            // Unacknowledged on pattern 1: it had ended by itself, late.
            Ok(ack) => run.obs.receivers[c].harness_terminated = ack || pattern != 1,
            Err(e) => run
                .obs
                .errors
                .push(format!("harness termination of receiver {c}: {e}")),
        }
    }
    let limit = STEP_LIMIT + SUBSCRIBER_TIMEOUT;
    if !run.wait(peer, limit, |r| r.obs.all_ended()) {
        run.obs.errors.push("netgear receivers never ended".into());
    }
}
