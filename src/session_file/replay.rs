//! Replaying a recording against netgear's own state machines
//! (spec/09-session-files.md §9.5).
//!
//! * **Client side**: every recorded server→client message goes into a
//!   [`Client`] configured like the recorded client (device id and return
//!   data taken from that client's first answer); whatever the machine
//!   answers must equal the recorded client's answer byte for byte.
//! * **Server side**: every recorded frame message is decoded and handed to
//!   a [`Server`] with `send_frame`, every recorded termination becomes a
//!   `close`, and every recorded answer goes in with `handle_message`; what
//!   the machine sends must equal the recorded server's messages byte for
//!   byte.
//!
//! Documented deviations (spec/07) are reported as notes, not mismatches.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    Change, DeviceIds, Direction, PartsDiff, SessionFile, Side, What, CONFIRMATION_PREFIX,
};
use crate::json::Value;
use crate::session::{
    Client, ClientEvent, ClientState, Config, Pattern, Server, ServerEvent, ServerState, Transmit,
};
use crate::wire::{
    decode_client_message, decode_server_message, ClientMessage, DecodeError, Limits, Parts,
    Payload, ReplyKind, ReturnData, ServerMessage,
};

/// Which of netgear's machines a finding concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// The client machine, fed the recorded server's messages.
    Client,
    /// The server machine, fed the recorded client's answers.
    Server,
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Machine::Client => "client",
            Machine::Server => "server",
        })
    }
}

/// Where in the recording a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// The event's index in the file.
    pub event: usize,
    /// Its time.
    pub t_ms: u64,
    /// Its link.
    pub link: u32,
    /// Its direction.
    pub dir: Direction,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event #{} (t={} ms, link {}, {})",
            self.event, self.t_ms, self.link, self.dir
        )
    }
}

/// Something netgear did differently from the recorded peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Which machine.
    pub machine: Machine,
    /// Where (absent for findings at the end of the recording).
    pub at: Option<At>,
    /// What differs.
    pub what: String,
    /// The two messages, when two messages differ.
    pub diff: Option<PartsDiff>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => writeln!(
                f,
                "  MISMATCH {} machine, {at}: {}",
                self.machine, self.what
            )?,
            None => writeln!(
                f,
                "  MISMATCH {} machine, end of recording: {}",
                self.machine, self.what
            )?,
        }
        if let Some(diff) = &self.diff {
            write!(f, "{diff}")?;
        }
        Ok(())
    }
}

/// Something worth knowing that is not a mismatch: a documented deviation,
/// or a message the recording leaves unanswered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Which machine.
    pub machine: Machine,
    /// Where (the first occurrence).
    pub at: Option<At>,
    /// What.
    pub text: String,
    /// How many times it occurred.
    pub count: usize,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let times = if self.count > 1 {
            format!(" (×{}, first at", self.count)
        } else {
            String::new()
        };
        match (&self.at, self.count > 1) {
            (Some(at), true) => write!(
                f,
                "  note: {} machine{times} {at}): {}",
                self.machine, self.text
            ),
            (Some(at), false) => write!(f, "  note: {} machine, {at}: {}", self.machine, self.text),
            (None, _) => write!(
                f,
                "  note: {} machine{}: {}",
                self.machine,
                if self.count > 1 {
                    format!(" (×{})", self.count)
                } else {
                    String::new()
                },
                self.text
            ),
        }
    }
}

/// Counts for one machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Recorded messages fed to the machine.
    pub fed: usize,
    /// Messages the machine produced that were compared with recorded ones.
    pub compared: usize,
    /// Of those, how many were byte-identical.
    pub identical: usize,
}

/// The outcome of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The session's name.
    pub name: String,
    /// One line describing the connection.
    pub summary: String,
    /// The client machine's counts.
    pub client: Tally,
    /// The server machine's counts.
    pub server: Tally,
    /// Deviations and unanswered messages.
    pub notes: Vec<Note>,
    /// Differences.
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    /// True when nothing differed.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.name, self.summary)?;
        for (machine, t, fed, made) in [
            (
                "client",
                self.client,
                "server messages fed",
                "answers compared",
            ),
            (
                "server",
                self.server,
                "client answers fed",
                "server messages compared",
            ),
        ] {
            writeln!(
                f,
                "  {machine} machine: {} {fed}, {} {made}, {} identical",
                t.fed, t.compared, t.identical
            )?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        for m in &self.mismatches {
            write!(f, "{m}")?;
        }
        if self.passed() {
            writeln!(f, "  MATCH")
        } else {
            writeln!(f, "  {} MISMATCH(ES)", self.mismatches.len())
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Msg {
        dir: Direction,
        parts: Parts,
        forwarded: bool,
    },
    Link {
        side: Side,
        change: Change,
    },
}

#[derive(Debug, Clone)]
struct Ev {
    at: At,
    kind: Kind,
}

impl Ev {
    fn parts(&self) -> &Parts {
        match &self.kind {
            Kind::Msg { parts, .. } => parts,
            Kind::Link { .. } => unreachable!("only called on messages"),
        }
    }
}

struct Ctx {
    config: Config,
    evs: Vec<Ev>,
    base: Instant,
    /// Decoded server→client messages, by position in `evs`.
    server_msgs: HashMap<usize, Result<ServerMessage, DecodeError>>,
    report: Report,
}

impl Ctx {
    fn now(&self, t_ms: u64) -> Instant {
        self.base + Duration::from_millis(t_ms)
    }

    fn mismatch(&mut self, machine: Machine, at: Option<At>, what: impl Into<String>) {
        self.report.mismatches.push(Mismatch {
            machine,
            at,
            what: what.into(),
            diff: None,
        });
    }

    /// Records a note; a repeated note is counted, not repeated.
    fn note(&mut self, machine: Machine, at: Option<At>, text: impl Into<String>) {
        let text = text.into();
        match self
            .report
            .notes
            .iter_mut()
            .find(|n| n.machine == machine && n.text == text)
        {
            Some(n) => n.count += 1,
            None => self.report.notes.push(Note {
                machine,
                at,
                text,
                count: 1,
            }),
        }
    }

    fn replies_with_data(&self) -> bool {
        self.config.bidirectional || self.config.multiclient
    }

    fn is_termination(&self, pos: usize) -> bool {
        matches!(
            self.server_msgs.get(&pos),
            Some(Ok(ServerMessage::Terminate { .. }))
        )
    }

    /// Compares a recorded message with what netgear produced, allowing the
    /// documented `tuple` → `list` difference of `return_type`.
    fn compare(
        &mut self,
        machine: Machine,
        at: At,
        recorded: &Parts,
        produced: &Parts,
        what: &str,
    ) {
        let tally = match machine {
            Machine::Client => &mut self.report.client,
            Machine::Server => &mut self.report.server,
        };
        tally.compared += 1;
        if recorded == produced {
            tally.identical += 1;
            return;
        }
        if let Some(first) = recorded.first() {
            const TUPLE: &[u8] = br#""return_type": "tuple""#;
            const LIST: &[u8] = br#""return_type": "list""#;
            if let Some(i) = first.windows(TUPLE.len()).position(|w| w == TUPLE) {
                let mut fixed = first[..i].to_vec();
                fixed.extend_from_slice(LIST);
                fixed.extend_from_slice(&first[i + TUPLE.len()..]);
                let mut normalised = recorded.clone();
                normalised[0] = Bytes::from(fixed);
                if normalised == *produced {
                    tally.identical += 1;
                    self.note(
                        machine,
                        Some(at),
                        "vidgear's return_type \"tuple\" is \"list\" in netgear, which has no tuples \
                         (spec/02 §2.4.1); otherwise identical",
                    );
                    return;
                }
            }
        }
        self.report.mismatches.push(Mismatch {
            machine,
            at: Some(at),
            what: format!("{what} differs"),
            diff: Some(PartsDiff {
                recorded: recorded.clone(),
                produced: produced.clone(),
            }),
        });
    }
}

fn describe(parts: &Parts) -> String {
    let first = parts.first().map_or(String::new(), |p| {
        let (line, _) = super::render_part(p, 0);
        line
    });
    let more = if parts.len() > 1 {
        format!(
            " + {} more part(s) ({} bytes)",
            parts.len() - 1,
            parts[1..].iter().map(Bytes::len).sum::<usize>()
        )
    } else {
        String::new()
    };
    format!("{first}{more}")
}

/// Replays a recording against netgear's client and server machines.
pub fn replay(file: &SessionFile) -> Report {
    let h = &file.header;
    let mut modes = vec![format!("pattern {}", h.pattern)];
    for (on, name) in [
        (h.bidirectional, "bidirectional"),
        (h.multiserver, "multi-server"),
        (h.multiclient, "multi-client"),
    ] {
        if on {
            modes.push(name.into());
        }
    }
    if let Some(j) = &h.server.jpeg {
        modes.push(format!("server JPEG {}", j.colorspace));
    }
    if let Some(j) = &h.client.jpeg {
        modes.push(format!("client JPEG {}", j.colorspace));
    }
    let evs: Vec<Ev> = file
        .events
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let kind = match &e.what {
                What::Message {
                    dir,
                    parts,
                    forwarded,
                    ..
                } => Kind::Msg {
                    dir: *dir,
                    forwarded: *forwarded,
                    parts: parts
                        .iter()
                        .map(|p| file.part_bytes(p).unwrap_or_default())
                        .collect(),
                },
                What::Link { side, change } => Kind::Link {
                    side: *side,
                    change: *change,
                },
            };
            let dir = match &kind {
                Kind::Msg { dir, .. } => *dir,
                Kind::Link {
                    side: Side::Server, ..
                } => Direction::ServerToClient,
                Kind::Link {
                    side: Side::Client, ..
                } => Direction::ClientToServer,
            };
            Ev {
                at: At {
                    event: index,
                    t_ms: e.t_ms,
                    link: e.link,
                    dir,
                },
                kind,
            }
        })
        .collect();
    let messages = evs
        .iter()
        .filter(|e| matches!(e.kind, Kind::Msg { .. }))
        .count();
    let summary = format!(
        "{}; server {} {}, client {} {}; {} messages on {} link(s)",
        modes.join(", "),
        h.server.implementation,
        h.server.version,
        h.client.implementation,
        h.client.version,
        messages,
        h.links.len()
    );
    let mut report = Report {
        name: h.name.clone(),
        summary,
        client: Tally::default(),
        server: Tally::default(),
        notes: Vec::new(),
        mismatches: Vec::new(),
    };
    if !h.complete {
        report.notes.push(Note {
            machine: Machine::Server,
            at: None,
            text: "the recording stopped before the termination handshake had passed".into(),
            count: 1,
        });
    }
    let Ok(pattern) = Pattern::try_from(h.pattern) else {
        report.mismatches.push(Mismatch {
            machine: Machine::Server,
            at: None,
            what: format!("pattern {} does not exist", h.pattern),
            diff: None,
        });
        return report;
    };
    let config = Config {
        pattern,
        bidirectional: h.bidirectional,
        multiserver: h.multiserver,
        multiclient: h.multiclient,
        max_retries: h.max_retries,
        request_timeout: Duration::from_millis(h.request_timeout_ms.max(1)),
        port: None,
        limits: Limits::default(),
        subscriber_timeout: None,
    };
    if let Err(e) = config.validate() {
        report.mismatches.push(Mismatch {
            machine: Machine::Server,
            at: None,
            what: format!("the recorded configuration is not valid for netgear: {e}"),
            diff: None,
        });
        return report;
    }
    let server_msgs = evs
        .iter()
        .enumerate()
        .filter_map(|(pos, e)| match &e.kind {
            Kind::Msg {
                dir: Direction::ServerToClient,
                parts,
                ..
            } => Some((pos, decode_server_message(parts, &config.limits))),
            _ => None,
        })
        .collect();
    let mut ctx = Ctx {
        config,
        evs,
        base: Instant::now(),
        server_msgs,
        report,
    };
    replay_client(&mut ctx);
    replay_server(&mut ctx);
    ctx.report
}

/// Why the recorded client did not answer a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unanswered {
    /// The client went away: with the message (`delivered`), or before the
    /// message could reach it.
    ClientGone { delivered: bool },
    /// Nothing answered it before the recording ended.
    Never,
}

fn replay_client(ctx: &mut Ctx) {
    // Pair every server message with the answer to it. A client answers the
    // messages it receives one by one, in order (on pattern 0 it does not
    // answer a termination), so on each link answers match the pending
    // messages first in, first out. A message the relay had handed to a
    // client connection that then went down is lost with it; one sent while
    // the client side was down waits in the relay for the next client.
    struct Pending {
        pos: usize,
        delivered: bool,
    }
    let mut pending: HashMap<u32, VecDeque<Pending>> = HashMap::new();
    let mut answer_of: HashMap<usize, usize> = HashMap::new();
    let mut unanswered: HashMap<usize, Unanswered> = HashMap::new();
    let mut orphan_answers: Vec<usize> = Vec::new();
    let mut disconnects: HashMap<u32, usize> = HashMap::new();
    let mut down: HashMap<u32, bool> = HashMap::new();
    // Which client instance (process key, restart count) handled a message.
    let mut instance_of: HashMap<usize, (u32, usize)> = HashMap::new();
    let multiclient = ctx.config.multiclient;
    let pair = ctx.config.pattern == Pattern::Pair;
    let key = |link: u32| if multiclient { link } else { 0 };
    for (pos, ev) in ctx.evs.iter().enumerate() {
        let link = ev.at.link;
        let queue = pending.entry(link).or_default();
        match &ev.kind {
            Kind::Link {
                side: Side::Client,
                change,
            } => {
                if *change == Change::Disconnected {
                    *disconnects.entry(link).or_default() += 1;
                    queue.retain(|p| {
                        if p.delivered {
                            unanswered.insert(p.pos, Unanswered::ClientGone { delivered: true });
                        }
                        !p.delivered
                    });
                } else {
                    for p in queue.iter_mut() {
                        p.delivered = true;
                    }
                }
                down.insert(link, *change == Change::Disconnected);
            }
            Kind::Link { .. } => {}
            Kind::Msg {
                dir: Direction::ServerToClient,
                forwarded,
                ..
            } => {
                let restarts = disconnects.get(&link).copied().unwrap_or(0);
                instance_of.insert(pos, (key(link), restarts));
                let answered = !(pair && ctx.is_termination(pos));
                if *forwarded && answered {
                    queue.push_back(Pending {
                        pos,
                        delivered: !down.get(&link).copied().unwrap_or(false),
                    });
                }
            }
            Kind::Msg {
                dir: Direction::ClientToServer,
                ..
            } => match queue.pop_front() {
                Some(p) => {
                    answer_of.insert(p.pos, pos);
                    // The instance alive when the answer left answered it.
                    let restarts = disconnects.get(&link).copied().unwrap_or(0);
                    instance_of.insert(p.pos, (key(link), restarts));
                }
                None => orphan_answers.push(pos),
            },
        }
    }
    for queue in pending.values() {
        for p in queue {
            let why = if p.delivered {
                Unanswered::Never
            } else {
                Unanswered::ClientGone { delivered: false }
            };
            unanswered.insert(p.pos, why);
        }
    }
    for pos in orphan_answers {
        let at = ctx.evs[pos].at;
        ctx.note(
            Machine::Client,
            Some(at),
            "an answer with no server message before it on its link; not compared",
        );
    }

    // Each instance is configured from its first answer to a frame.
    let replies_with_data = ctx.replies_with_data();
    let mut setup: HashMap<(u32, usize), (String, ReturnData, Option<Value>)> = HashMap::new();
    let mut order: Vec<(usize, (u32, usize))> = instance_of.iter().map(|(&p, &i)| (p, i)).collect();
    order.sort();
    let mut instances_seen: Vec<(u32, usize)> = Vec::new();
    for &(pos, inst) in &order {
        if !instances_seen.contains(&inst) {
            instances_seen.push(inst);
        }
        if setup.contains_key(&inst) || ctx.is_termination(pos) {
            continue;
        }
        let Some(&apos) = answer_of.get(&pos) else {
            continue;
        };
        let parts = ctx.evs[apos].parts().clone();
        let n = instances_seen.iter().position(|i| *i == inst).unwrap_or(0);
        let mut device = DeviceIds::canonical(n);
        let mut data = ReturnData::default();
        let mut port = None;
        let kind = if replies_with_data {
            ReplyKind::Reply
        } else {
            ReplyKind::Confirmation
        };
        match decode_client_message(&parts, kind, &ctx.config.limits) {
            Ok(ClientMessage::Reply(reply)) => {
                data = reply.data;
                port = reply.port;
            }
            Ok(ClientMessage::Confirmation(text)) => {
                if let Some(rest) = text.strip_prefix(CONFIRMATION_PREFIX.as_bytes()) {
                    if let Some(id) = rest.get(..8) {
                        device = String::from_utf8_lossy(id).into_owned();
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                let at = ctx.evs[apos].at;
                ctx.mismatch(
                    Machine::Server,
                    Some(at),
                    format!("netgear cannot decode vidgear's answer: {e}"),
                );
            }
        }
        setup.insert(inst, (device, data, port));
    }

    let mut clients: HashMap<(u32, usize), Client> = HashMap::new();
    let mut last_fed: HashMap<(u32, usize), usize> = HashMap::new();
    for pos in 0..ctx.evs.len() {
        let ev = ctx.evs[pos].clone();
        let Kind::Msg {
            dir: Direction::ServerToClient,
            parts,
            forwarded,
        } = &ev.kind
        else {
            continue;
        };
        if !forwarded {
            ctx.note(
                Machine::Client,
                Some(ev.at),
                "the relay could not pass this message on to the client; not fed",
            );
            continue;
        }
        let inst = instance_of[&pos];
        let now = ctx.now(ev.at.t_ms);
        let client = clients.entry(inst).or_insert_with(|| {
            let n = instances_seen.iter().position(|i| *i == inst).unwrap_or(0);
            let (device, data, port) = setup
                .get(&inst)
                .cloned()
                .unwrap_or_else(|| (DeviceIds::canonical(n), ReturnData::default(), None));
            let config = Config {
                port,
                ..ctx.config.clone()
            };
            let mut client = Client::new(config, device, now).expect("validated configuration");
            client.set_return_data(data);
            client
        });
        client.handle_message(parts.clone(), now);
        last_fed.insert(inst, pos);
        let mut produced = Vec::new();
        let mut resets = 0;
        while let Some(t) = client.poll_transmit() {
            match t {
                Transmit::Send(p) => produced.push(p),
                Transmit::ResetSocket => resets += 1,
            }
        }
        let mut problems = Vec::new();
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Rejected { error } => problems.push(format!(
                    "netgear rejected a message vidgear's client accepted: {} ({error})",
                    error.code()
                )),
                ClientEvent::GaveUp | ClientEvent::PeerSilent { .. } => {
                    problems.push(format!("unexpected event {e:?}"))
                }
                _ => {}
            }
        }
        ctx.report.client.fed += 1;
        if resets > 0 {
            problems.push("netgear asked for a socket reset".into());
        }
        for p in problems {
            ctx.mismatch(Machine::Client, Some(ev.at), p);
        }
        match answer_of.get(&pos) {
            Some(&apos) => {
                let recorded = ctx.evs[apos].parts().clone();
                let at = ctx.evs[apos].at;
                match produced.len() {
                    1 => ctx.compare(Machine::Client, at, &recorded, &produced[0], "the answer"),
                    0 => {
                        ctx.report.mismatches.push(Mismatch {
                            machine: Machine::Client,
                            at: Some(at),
                            what: "vidgear answered, netgear did not".into(),
                            diff: Some(PartsDiff {
                                recorded,
                                produced: Vec::new(),
                            }),
                        });
                    }
                    n => ctx.mismatch(
                        Machine::Client,
                        Some(at),
                        format!("netgear sent {n} answers to one message"),
                    ),
                }
            }
            None if produced.is_empty() => {}
            None => {
                let why = unanswered.get(&pos).copied().unwrap_or(Unanswered::Never);
                let termination = ctx.is_termination(pos);
                let text = describe(&produced[0]);
                if termination && ctx.config.multiserver && ctx.config.pattern == Pattern::ReqRep {
                    ctx.note(
                        Machine::Client,
                        Some(ev.at),
                        format!(
                            "vidgear did not acknowledge this termination (a server it had not seen); \
                             netgear does (spec/07 §7.11): {text}"
                        ),
                    );
                } else if matches!(why, Unanswered::ClientGone { delivered } if !(termination && delivered))
                {
                    // (A client that has a termination message answers it
                    // before it closes; only a frame can die with it.)
                    ctx.note(
                        Machine::Client,
                        Some(ev.at),
                        format!(
                            "the recorded client went away before answering; netgear's answer not compared: {text}"
                        ),
                    );
                } else {
                    ctx.report.mismatches.push(Mismatch {
                        machine: Machine::Client,
                        at: Some(ev.at),
                        what: "netgear answered, vidgear did not".into(),
                        diff: Some(PartsDiff {
                            recorded: Vec::new(),
                            produced: produced[0].clone(),
                        }),
                    });
                }
            }
        }
    }

    // A client whose last message was the (last) termination has ended.
    let all_links_terminated = {
        let mut last: HashMap<u32, usize> = HashMap::new();
        for (pos, ev) in ctx.evs.iter().enumerate() {
            if matches!(
                ev.kind,
                Kind::Msg {
                    dir: Direction::ServerToClient,
                    ..
                }
            ) {
                last.insert(ev.at.link, pos);
            }
        }
        !last.is_empty() && last.values().all(|&p| ctx.is_termination(p))
    };
    let mut keys: Vec<_> = clients.keys().copied().collect();
    keys.sort();
    for inst in keys {
        let pos = last_fed[&inst];
        let expect_end = if ctx.config.multiserver {
            all_links_terminated && Some(&inst) == instances_seen.last()
        } else {
            ctx.is_termination(pos)
        };
        let state = clients[&inst].state();
        if expect_end && state != ClientState::Terminated {
            ctx.mismatch(
                Machine::Client,
                None,
                format!("the session ended, but netgear's client is {state:?}, not Terminated"),
            );
        }
    }
}

struct Srv {
    server: Server,
    config: Config,
    /// The recorded parts of the last frame sent, for comparing a resend,
    /// and when it was sent.
    last_frame: Option<Parts>,
    last_frame_ms: u64,
    /// Messages netgear produced that no recorded message has matched yet.
    out: VecDeque<Parts>,
    terminated: bool,
}

impl Srv {
    fn drain(&mut self) -> usize {
        let mut resets = 0;
        while let Some(t) = self.server.poll_transmit() {
            match t {
                Transmit::Send(p) => self.out.push_back(p),
                Transmit::ResetSocket => resets += 1,
            }
        }
        resets
    }
}

fn replay_server(ctx: &mut Ctx) {
    let multiserver = ctx.config.multiserver;
    let key = |link: u32| if multiserver { link } else { 0 };
    let mut servers: HashMap<u32, Srv> = HashMap::new();
    for pos in 0..ctx.evs.len() {
        let ev = ctx.evs[pos].clone();
        let Kind::Msg {
            dir,
            parts,
            forwarded,
        } = &ev.kind
        else {
            continue;
        };
        let k = key(ev.at.link);
        let now = ctx.now(ev.at.t_ms);
        match dir {
            Direction::ServerToClient => {
                let decoded = match ctx.server_msgs[&pos].clone() {
                    Ok(m) => m,
                    Err(e) => {
                        ctx.mismatch(
                            Machine::Client,
                            Some(ev.at),
                            format!("netgear cannot decode this vidgear message: {e}"),
                        );
                        continue;
                    }
                };
                let srv = servers.entry(k).or_insert_with(|| {
                    let port = match &decoded {
                        ServerMessage::Frame(f) => f.port.clone(),
                        ServerMessage::Terminate { port } => port.clone(),
                    };
                    let config = Config {
                        port: port.filter(|_| multiserver),
                        ..ctx.config.clone()
                    };
                    Srv {
                        server: Server::new(config.clone()).expect("validated configuration"),
                        config,
                        last_frame: None,
                        last_frame_ms: 0,
                        out: VecDeque::new(),
                        terminated: false,
                    }
                });
                let mut notes = Vec::new();
                let mut problems = Vec::new();
                let gap = ev.at.t_ms.saturating_sub(srv.last_frame_ms);
                // (Timer resolution and scheduling make a real timeout a
                // little shorter or longer than configured.)
                let timed_out = gap + 100 >= ctx.config.request_timeout.as_millis() as u64;
                if srv.out.is_empty()
                    && srv.server.state() == ServerState::AwaitingReply
                    && !timed_out
                {
                    notes.push(format!(
                        "vidgear's server went on after {gap} ms without an answer on this link, too soon \
                         for a timeout: it had taken an earlier, stale answer for its last frame (pattern 0 \
                         does not correlate answers with frames). Replay goes on with a fresh netgear server"
                    ));
                    srv.server = Server::new(srv.config.clone()).expect("validated configuration");
                }
                if srv.out.is_empty() && srv.server.state() == ServerState::AwaitingReply {
                    // The recorded server went on without an answer: it gave
                    // the frame up after its request timeout.
                    let deadline = srv.server.poll_timeout().expect("awaiting a reply");
                    srv.server.handle_timeout(deadline);
                    let resets = srv.drain();
                    let resent = srv.out.drain(..).collect::<Vec<_>>();
                    while srv.server.poll_event().is_some() {}
                    if resets != 1
                        || resent.len() != 1
                        || Some(&resent[0]) != srv.last_frame.as_ref()
                    {
                        problems.push(format!(
                            "after a silence netgear should reset its socket and resend the frame \
                             (spec/05 §5.4.3); it reset {resets} time(s) and sent {} message(s)",
                            resent.len()
                        ));
                    } else {
                        notes.push(
                            "no answer was recorded for the previous frame: vidgear gave it up after its \
                             request timeout; netgear resets and resends it byte for byte (checked; spec/07 §7.4). \
                             Replay goes on with a fresh netgear server"
                                .to_owned(),
                        );
                    }
                    srv.server = Server::new(srv.config.clone()).expect("validated configuration");
                }
                if srv.out.is_empty() {
                    match &decoded {
                        ServerMessage::Frame(frame) => {
                            if let Err(e) = srv.server.send_frame(
                                frame.payload.clone(),
                                frame.message.clone(),
                                now,
                            ) {
                                problems.push(format!("netgear refused to send the frame: {e}"));
                            }
                        }
                        ServerMessage::Terminate { .. } => {
                            if srv.server.state() == ServerState::Closing {
                                let deadline = srv.server.poll_timeout().expect("closing");
                                srv.server.handle_timeout(deadline);
                                notes.push(
                                    "vidgear sends its termination messages back to back; netgear sends \
                                     the next one only after the previous was answered or timed out \
                                     (spec/05 §5.3.1)"
                                        .to_owned(),
                                );
                            } else {
                                srv.server.close(now);
                            }
                        }
                    }
                    if srv.drain() > 0 {
                        problems.push("netgear asked for a socket reset".into());
                    }
                }
                if let ServerMessage::Frame(frame) = &decoded {
                    if let Payload::Jpeg { data, .. } = &frame.payload {
                        if !(data.starts_with(&[0xff, 0xd8]) && data.ends_with(&[0xff, 0xd9])) {
                            problems.push("the JPEG payload lacks the SOI/EOI markers".into());
                        }
                    }
                    srv.last_frame = Some(parts.clone());
                    srv.last_frame_ms = ev.at.t_ms;
                } else {
                    srv.terminated = true;
                }
                while let Some(e) = srv.server.poll_event() {
                    if let ServerEvent::GaveUp { .. } = e {
                        problems.push(format!("unexpected event {e:?}"));
                    }
                }
                let produced = srv.out.pop_front();
                for n in notes {
                    ctx.note(Machine::Server, Some(ev.at), n);
                }
                for p in problems {
                    ctx.mismatch(Machine::Server, Some(ev.at), p);
                }
                match produced {
                    Some(p) => ctx.compare(Machine::Server, ev.at, parts, &p, "the message"),
                    None => ctx.report.mismatches.push(Mismatch {
                        machine: Machine::Server,
                        at: Some(ev.at),
                        what: "vidgear sent this, netgear sent nothing".into(),
                        diff: Some(PartsDiff {
                            recorded: parts.clone(),
                            produced: Vec::new(),
                        }),
                    }),
                }
            }
            Direction::ClientToServer if !forwarded => {
                ctx.note(
                    Machine::Server,
                    Some(ev.at),
                    "the relay could not pass this answer on to the server (it had no connection); not fed",
                );
            }
            Direction::ClientToServer => {
                let Some(srv) = servers.get_mut(&k) else {
                    ctx.note(
                        Machine::Server,
                        Some(ev.at),
                        "an answer before any server message; not fed",
                    );
                    continue;
                };
                let before = srv.server.state();
                srv.server.handle_message(parts.clone(), now);
                let resets = srv.drain();
                let mut problems = Vec::new();
                let mut notes = Vec::new();
                if resets > 0 {
                    problems.push("netgear asked for a socket reset".to_owned());
                }
                while let Some(e) = srv.server.poll_event() {
                    match e {
                        ServerEvent::BadReply { error, .. } => problems.push(format!(
                            "netgear could not decode vidgear's answer: {} ({error})",
                            error.code()
                        )),
                        ServerEvent::Rejected { reason, .. } => problems.push(format!(
                            "netgear took vidgear's answer for a rejection: {reason}"
                        )),
                        ServerEvent::Stray { .. } => notes.push(format!(
                            "an answer arrived while netgear's server was {before:?}; ignored as stray"
                        )),
                        _ => {}
                    }
                }
                ctx.report.server.fed += 1;
                for n in notes {
                    ctx.note(Machine::Server, Some(ev.at), n);
                }
                for p in problems {
                    ctx.mismatch(Machine::Server, Some(ev.at), p);
                }
            }
        }
    }
    let mut keys: Vec<_> = servers.keys().copied().collect();
    keys.sort();
    for k in keys {
        let srv = servers.get_mut(&k).expect("key");
        if srv.server.state() == ServerState::Closing {
            // No acknowledgement was recorded: let the wait run out.
            let deadline = srv.server.poll_timeout().expect("closing");
            srv.server.handle_timeout(deadline);
        }
        srv.drain();
        let extra: Vec<Parts> = srv.out.drain(..).collect();
        let state = srv.server.state();
        let terminated = srv.terminated;
        for p in extra {
            ctx.report.mismatches.push(Mismatch {
                machine: Machine::Server,
                at: None,
                what: "netgear would also have sent this".into(),
                diff: Some(PartsDiff {
                    recorded: Vec::new(),
                    produced: p,
                }),
            });
        }
        if terminated && state != ServerState::Closed {
            ctx.mismatch(
                Machine::Server,
                None,
                format!("the session ended, but netgear's server is {state:?}, not Closed"),
            );
        }
    }
}
