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
    device_id_after, Change, DeviceIds, Direction, Event, Header, PartsDiff, SessionFile, Side,
    What,
};
use crate::json::Value;
use crate::session::{
    Client, ClientEvent, ClientState, Config, Pattern, Server, ServerEvent, ServerState, Transmit,
};
use crate::wire::{
    decode_client_message, decode_server_message, ClientMessage, DecodeError, Parts, Payload,
    ReturnData, ServerMessage, CONFIRMATION_PREFIX,
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

// ---------------------------------------------------------------------------
// The recording, as replay reads it
// ---------------------------------------------------------------------------

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
    /// Event `index` of `file`, its parts resolved.
    fn new(file: &SessionFile, index: usize, event: &Event) -> Ev {
        let kind = match &event.what {
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
                t_ms: event.t_ms,
                link: event.link,
                dir,
            },
            kind,
        }
    }

    fn parts(&self) -> &Parts {
        match &self.kind {
            Kind::Msg { parts, .. } => parts,
            Kind::Link { .. } => unreachable!("only called on messages"),
        }
    }
}

/// What one step of a machine gave rise to, reported at one place.
#[derive(Default)]
struct Findings {
    notes: Vec<String>,
    problems: Vec<String>,
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

    /// A mismatch between two messages (either may be missing: empty).
    fn differ(
        &mut self,
        machine: Machine,
        at: Option<At>,
        what: &str,
        recorded: Parts,
        produced: Parts,
    ) {
        self.report.mismatches.push(Mismatch {
            machine,
            at,
            what: what.into(),
            diff: Some(PartsDiff { recorded, produced }),
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

    /// Reports the notes, then the problems, of one step.
    fn record(&mut self, machine: Machine, at: At, findings: Findings) {
        for n in findings.notes {
            self.note(machine, Some(at), n);
        }
        for p in findings.problems {
            self.mismatch(machine, Some(at), p);
        }
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
        if tuple_as_list(recorded).is_some_and(|normalised| normalised == *produced) {
            tally.identical += 1;
            self.note(
                machine,
                Some(at),
                "vidgear's return_type \"tuple\" is \"list\" in netgear, which has no tuples \
                 (spec/02 §2.4.1); otherwise identical",
            );
            return;
        }
        self.differ(
            machine,
            Some(at),
            &format!("{what} differs"),
            recorded.clone(),
            produced.clone(),
        );
    }
}

/// `parts` with a `"return_type": "tuple"` in the first part written as
/// netgear writes it, `"list"`; `None` without one.
fn tuple_as_list(parts: &Parts) -> Option<Parts> {
    const TUPLE: &[u8] = br#""return_type": "tuple""#;
    const LIST: &[u8] = br#""return_type": "list""#;
    let first = parts.first()?;
    let i = first.windows(TUPLE.len()).position(|w| w == TUPLE)?;
    let mut fixed = first[..i].to_vec();
    fixed.extend_from_slice(LIST);
    fixed.extend_from_slice(&first[i + TUPLE.len()..]);
    let mut normalised = parts.clone();
    normalised[0] = Bytes::from(fixed);
    Some(normalised)
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

// ---------------------------------------------------------------------------
// Replay: read the recording, then run each machine
// ---------------------------------------------------------------------------

/// Replays a recording against netgear's client and server machines.
pub fn replay(file: &SessionFile) -> Report {
    let h = &file.header;
    let evs: Vec<Ev> = file
        .events
        .iter()
        .enumerate()
        .map(|(index, e)| Ev::new(file, index, e))
        .collect();
    let mut report = Report {
        name: h.name.clone(),
        summary: summary(h, &evs),
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
    let config = match recorded_config(h) {
        Ok(config) => config,
        Err(what) => {
            report.mismatches.push(Mismatch {
                machine: Machine::Server,
                at: None,
                what,
                diff: None,
            });
            return report;
        }
    };
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

/// One line describing the recorded connection.
fn summary(h: &Header, evs: &[Ev]) -> String {
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
    let messages = evs
        .iter()
        .filter(|e| matches!(e.kind, Kind::Msg { .. }))
        .count();
    format!(
        "{}; server {} {}, client {} {}; {} messages on {} link(s)",
        modes.join(", "),
        h.server.implementation,
        h.server.version,
        h.client.implementation,
        h.client.version,
        messages,
        h.links.len()
    )
}

/// The configuration the recorded peers ran with, as netgear's machines
/// take it; the rules of the protocol are then asked of it, never of the
/// header.
fn recorded_config(h: &Header) -> Result<Config, String> {
    let pattern = Pattern::try_from(h.pattern)
        .map_err(|_| format!("pattern {} does not exist", h.pattern))?;
    let config = Config::new()
        .pattern(pattern)
        .bidirectional(h.bidirectional)
        .multiserver(h.multiserver)
        .multiclient(h.multiclient)
        .max_retries(h.max_retries)
        .request_timeout(Duration::from_millis(h.request_timeout_ms.max(1)));
    config
        .validate()
        .map_err(|e| format!("the recorded configuration is not valid for netgear: {e}"))?;
    Ok(config)
}

// ---------------------------------------------------------------------------
// The client machine: pair messages with answers, set the clients up, feed
// ---------------------------------------------------------------------------

/// One run of a recorded client: its link's key (the link in multi-client
/// mode, else 0) and how many times that link's client had gone before.
type Instance = (u32, usize);

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
    let pairing = Pairing::new(ctx);
    for &pos in &pairing.orphan_answers {
        let at = ctx.evs[pos].at;
        ctx.note(
            Machine::Client,
            Some(at),
            "an answer with no server message before it on its link; not compared",
        );
    }
    let instances = Instances::new(ctx, &pairing);
    let clients = feed_clients(ctx, &pairing, &instances);
    check_clients_ended(ctx, &clients, &instances);
}

/// Every server message paired with the recorded answer to it.
///
/// A client answers the messages it receives one by one, in order (it does
/// not answer a termination where terminations go unacknowledged), so on
/// each link answers match the pending messages first in, first out. A
/// message the relay had handed to a client connection that then went
/// down is lost with it; one sent while the client side was down waits in
/// the relay for the next client.
#[derive(Default)]
struct Pairing {
    /// The answer to a server message, by positions in `evs`.
    answer_of: HashMap<usize, usize>,
    /// Why a server message went unanswered.
    unanswered: HashMap<usize, Unanswered>,
    /// Answers with no server message to pair with.
    orphan_answers: Vec<usize>,
    /// Which client instance handled a server message.
    instance_of: HashMap<usize, Instance>,
}

/// A server message waiting for its answer.
struct Pending {
    pos: usize,
    /// Whether a client connection had it.
    delivered: bool,
}

/// The pairing's view of one link.
#[derive(Default)]
struct LinkState {
    pending: VecDeque<Pending>,
    /// How many times the client side went down.
    disconnects: usize,
    down: bool,
}

impl Pairing {
    fn new(ctx: &Ctx) -> Pairing {
        let mut pairing = Pairing::default();
        let mut links: HashMap<u32, LinkState> = HashMap::new();
        let multiclient = ctx.config.multiclient;
        let key = |link: u32| if multiclient { link } else { 0 };
        for (pos, ev) in ctx.evs.iter().enumerate() {
            let link = links.entry(ev.at.link).or_default();
            let instance = (key(ev.at.link), link.disconnects);
            match &ev.kind {
                Kind::Link {
                    side: Side::Client,
                    change,
                } => pairing.client_link(link, *change),
                Kind::Link { .. } => {}
                Kind::Msg {
                    dir: Direction::ServerToClient,
                    forwarded,
                    ..
                } => {
                    pairing.instance_of.insert(pos, instance);
                    let answered =
                        !ctx.is_termination(pos) || ctx.config.acknowledges_termination();
                    if *forwarded && answered {
                        link.pending.push_back(Pending {
                            pos,
                            delivered: !link.down,
                        });
                    }
                }
                Kind::Msg {
                    dir: Direction::ClientToServer,
                    ..
                } => match link.pending.pop_front() {
                    Some(p) => {
                        pairing.answer_of.insert(p.pos, pos);
                        // The instance alive when the answer left answered it.
                        pairing.instance_of.insert(p.pos, instance);
                    }
                    None => pairing.orphan_answers.push(pos),
                },
            }
        }
        for link in links.values() {
            for p in &link.pending {
                let why = if p.delivered {
                    Unanswered::Never
                } else {
                    Unanswered::ClientGone { delivered: false }
                };
                pairing.unanswered.insert(p.pos, why);
            }
        }
        pairing
    }

    /// The client side of `link` connected or went down.
    fn client_link(&mut self, link: &mut LinkState, change: Change) {
        if change == Change::Disconnected {
            link.disconnects += 1;
            link.pending.retain(|p| {
                if p.delivered {
                    self.unanswered
                        .insert(p.pos, Unanswered::ClientGone { delivered: true });
                }
                !p.delivered
            });
        } else {
            for p in link.pending.iter_mut() {
                p.delivered = true;
            }
        }
        link.down = change == Change::Disconnected;
    }
}

/// How a replayed client is set up: like the recorded client instance.
#[derive(Clone)]
struct ClientSetup {
    device: String,
    data: ReturnData,
    port: Option<Value>,
}

impl ClientSetup {
    /// The set-up of the `n`-th instance when its answers say nothing.
    fn canonical(n: usize) -> ClientSetup {
        ClientSetup {
            device: DeviceIds::canonical(n),
            data: ReturnData::default(),
            port: None,
        }
    }
}

/// The recorded client instances, in order of first appearance, each set
/// up from its first answer to a frame.
struct Instances {
    seen: Vec<Instance>,
    setup: HashMap<Instance, ClientSetup>,
}

impl Instances {
    fn new(ctx: &mut Ctx, pairing: &Pairing) -> Instances {
        let mut order: Vec<(usize, Instance)> =
            pairing.instance_of.iter().map(|(&p, &i)| (p, i)).collect();
        order.sort();
        let mut instances = Instances {
            seen: Vec::new(),
            setup: HashMap::new(),
        };
        for (pos, inst) in order {
            if !instances.seen.contains(&inst) {
                instances.seen.push(inst);
            }
            if instances.setup.contains_key(&inst) || ctx.is_termination(pos) {
                continue;
            }
            let Some(&apos) = pairing.answer_of.get(&pos) else {
                continue;
            };
            let setup = setup_from_answer(ctx, instances.index(inst), apos);
            instances.setup.insert(inst, setup);
        }
        instances
    }

    fn index(&self, inst: Instance) -> usize {
        self.seen.iter().position(|i| *i == inst).unwrap_or(0)
    }

    /// A netgear client set up as instance `inst` was.
    fn start(&self, inst: Instance, config: &Config, now: Instant) -> Client {
        let setup = self
            .setup
            .get(&inst)
            .cloned()
            .unwrap_or_else(|| ClientSetup::canonical(self.index(inst)));
        let config = Config {
            port: setup.port,
            ..config.clone()
        };
        let mut client = Client::new(config, setup.device, now).expect("validated configuration");
        client.set_return_data(setup.data);
        client
    }
}

/// The set-up the recorded answer at `apos` reveals: the return data and
/// port of a reply, the device id of a confirmation.
fn setup_from_answer(ctx: &mut Ctx, n: usize, apos: usize) -> ClientSetup {
    let mut setup = ClientSetup::canonical(n);
    let parts = ctx.evs[apos].parts();
    match decode_client_message(parts, ctx.config.reply_kind(), &ctx.config.limits) {
        Ok(ClientMessage::Reply(reply)) => {
            setup.data = reply.data;
            setup.port = reply.port;
        }
        Ok(ClientMessage::Confirmation(text)) => {
            if let Some(id) = device_id_after(&text, CONFIRMATION_PREFIX) {
                setup.device = String::from_utf8_lossy(id).into_owned();
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
    setup
}

/// A replayed client and the last message it was fed.
struct ReplayedClient {
    client: Client,
    last_fed: usize,
}

/// Feeds every forwarded server message to the client of its instance and
/// checks what comes out against the recorded answer.
fn feed_clients(
    ctx: &mut Ctx,
    pairing: &Pairing,
    instances: &Instances,
) -> HashMap<Instance, ReplayedClient> {
    let mut clients: HashMap<Instance, ReplayedClient> = HashMap::new();
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
        let inst = pairing.instance_of[&pos];
        let now = ctx.now(ev.at.t_ms);
        let replayed = clients.entry(inst).or_insert_with(|| ReplayedClient {
            client: instances.start(inst, &ctx.config, now),
            last_fed: pos,
        });
        replayed.last_fed = pos;
        let (produced, findings) = feed_client(&mut replayed.client, parts.clone(), now);
        ctx.report.client.fed += 1;
        ctx.record(Machine::Client, ev.at, findings);
        match pairing.answer_of.get(&pos) {
            Some(&apos) => compare_answer(ctx, apos, &produced),
            None if produced.is_empty() => {}
            None => judge_unrecorded_answer(ctx, pairing, pos, &produced[0]),
        }
    }
    clients
}

/// Hands one message to `client`: what it sends, and what went wrong.
fn feed_client(client: &mut Client, parts: Parts, now: Instant) -> (Vec<Parts>, Findings) {
    client.handle_message(parts, now);
    let mut produced = Vec::new();
    let mut resets = 0;
    while let Some(t) = client.poll_transmit() {
        match t {
            Transmit::Send(p) => produced.push(p),
            Transmit::ResetSocket => resets += 1,
        }
    }
    let mut findings = Findings::default();
    while let Some(e) = client.poll_event() {
        match e {
            ClientEvent::Rejected { error } => findings.problems.push(format!(
                "netgear rejected a message vidgear's client accepted: {} ({error})",
                error.code()
            )),
            ClientEvent::GaveUp | ClientEvent::PeerSilent { .. } => {
                findings.problems.push(format!("unexpected event {e:?}"))
            }
            _ => {}
        }
    }
    if resets > 0 {
        findings
            .problems
            .push("netgear asked for a socket reset".into());
    }
    (produced, findings)
}

/// Compares netgear's answers with the recorded answer at `apos`.
fn compare_answer(ctx: &mut Ctx, apos: usize, produced: &[Parts]) {
    let recorded = ctx.evs[apos].parts().clone();
    let at = ctx.evs[apos].at;
    match produced {
        [answer] => ctx.compare(Machine::Client, at, &recorded, answer, "the answer"),
        [] => ctx.differ(
            Machine::Client,
            Some(at),
            "vidgear answered, netgear did not",
            recorded,
            Vec::new(),
        ),
        more => ctx.mismatch(
            Machine::Client,
            Some(at),
            format!("netgear sent {} answers to one message", more.len()),
        ),
    }
}

/// netgear answered the message at `pos`, the recorded client did not:
/// a documented deviation, a client that went away, or a mismatch.
fn judge_unrecorded_answer(ctx: &mut Ctx, pairing: &Pairing, pos: usize, produced: &Parts) {
    let at = ctx.evs[pos].at;
    let why = pairing
        .unanswered
        .get(&pos)
        .copied()
        .unwrap_or(Unanswered::Never);
    let termination = ctx.is_termination(pos);
    let text = describe(produced);
    if termination && ctx.config.multiserver && ctx.config.pattern == Pattern::ReqRep {
        ctx.note(
            Machine::Client,
            Some(at),
            format!(
                "vidgear did not acknowledge this termination (a server it had not seen); \
                 netgear does (spec/07 §7.11): {text}"
            ),
        );
    } else if matches!(why, Unanswered::ClientGone { delivered } if !(termination && delivered)) {
        // (A client that has a termination message answers it before it
        // closes; only a frame can die with it.)
        ctx.note(
            Machine::Client,
            Some(at),
            format!(
                "the recorded client went away before answering; netgear's answer not compared: {text}"
            ),
        );
    } else {
        ctx.differ(
            Machine::Client,
            Some(at),
            "netgear answered, vidgear did not",
            Vec::new(),
            produced.clone(),
        );
    }
}

/// A client whose last message was the (last) termination has ended.
fn check_clients_ended(
    ctx: &mut Ctx,
    clients: &HashMap<Instance, ReplayedClient>,
    instances: &Instances,
) {
    let all_links_terminated = every_link_ends_with_termination(ctx);
    let mut keys: Vec<_> = clients.keys().copied().collect();
    keys.sort();
    for inst in keys {
        let replayed = &clients[&inst];
        let expect_end = if ctx.config.multiserver {
            all_links_terminated && Some(&inst) == instances.seen.last()
        } else {
            ctx.is_termination(replayed.last_fed)
        };
        let state = replayed.client.state();
        if expect_end && state != ClientState::Terminated {
            ctx.mismatch(
                Machine::Client,
                None,
                format!("the session ended, but netgear's client is {state:?}, not Terminated"),
            );
        }
    }
}

/// True when the last server message of every link is a termination.
fn every_link_ends_with_termination(ctx: &Ctx) -> bool {
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
}

// ---------------------------------------------------------------------------
// The server machine: send what the recorded server sent, feed the answers
// ---------------------------------------------------------------------------

/// A replayed server (one per link in multi-server mode).
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
    /// A server set up as the one that sent `first`: with its port, when
    /// the port counts.
    fn new(config: &Config, first: &ServerMessage) -> Srv {
        let port = match first {
            ServerMessage::Frame(f) => f.port.clone(),
            ServerMessage::Terminate { port } => port.clone(),
        };
        let config = Config {
            port: config.server_port(port),
            ..config.clone()
        };
        Srv {
            server: Server::new(config.clone()).expect("validated configuration"),
            config,
            last_frame: None,
            last_frame_ms: 0,
            out: VecDeque::new(),
            terminated: false,
        }
    }

    /// Goes on with a fresh server, as the recorded one did.
    fn restart(&mut self) {
        self.server = Server::new(self.config.clone()).expect("validated configuration");
    }

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

    /// netgear's server still waits for an answer the recording never had.
    fn awaiting_answer(&self) -> bool {
        self.out.is_empty() && self.server.state() == ServerState::AwaitingReply
    }

    /// The recorded server sent again at `t_ms` although no answer to its
    /// last frame was recorded: bring netgear's server to the same point.
    fn catch_up(&mut self, t_ms: u64, request_timeout: Duration, findings: &mut Findings) {
        let gap = t_ms.saturating_sub(self.last_frame_ms);
        // (Timer resolution and scheduling make a real timeout a little
        // shorter or longer than configured.)
        let timed_out = gap + 100 >= request_timeout.as_millis() as u64;
        if self.awaiting_answer() && !timed_out {
            findings.notes.push(format!(
                "vidgear's server went on after {gap} ms without an answer on this link, too soon \
                 for a timeout: it had taken an earlier, stale answer for its last frame (pattern 0 \
                 does not correlate answers with frames). Replay goes on with a fresh netgear server"
            ));
            self.restart();
        }
        if self.awaiting_answer() {
            self.give_up_frame(findings);
        }
    }

    /// The recorded server went on without an answer: it gave the frame up
    /// after its request timeout. netgear must reset and resend it.
    fn give_up_frame(&mut self, findings: &mut Findings) {
        let deadline = self.server.poll_timeout().expect("awaiting a reply");
        self.server.handle_timeout(deadline);
        let resets = self.drain();
        let resent = self.out.drain(..).collect::<Vec<_>>();
        while self.server.poll_event().is_some() {}
        if resets != 1 || resent.len() != 1 || Some(&resent[0]) != self.last_frame.as_ref() {
            findings.problems.push(format!(
                "after a silence netgear should reset its socket and resend the frame \
                 (spec/05 §5.4.3); it reset {resets} time(s) and sent {} message(s)",
                resent.len()
            ));
        } else {
            findings.notes.push(
                "no answer was recorded for the previous frame: vidgear gave it up after its \
                 request timeout; netgear resets and resends it byte for byte (checked; spec/07 §7.4). \
                 Replay goes on with a fresh netgear server"
                    .to_owned(),
            );
        }
        self.restart();
    }

    /// Has netgear's server send what the recorded one sent.
    fn send(&mut self, decoded: &ServerMessage, now: Instant, findings: &mut Findings) {
        match decoded {
            ServerMessage::Frame(frame) => {
                if let Err(e) =
                    self.server
                        .send_frame(frame.payload.clone(), frame.message.clone(), now)
                {
                    findings
                        .problems
                        .push(format!("netgear refused to send the frame: {e}"));
                }
            }
            ServerMessage::Terminate { .. } => {
                if self.server.state() == ServerState::Closing {
                    let deadline = self.server.poll_timeout().expect("closing");
                    self.server.handle_timeout(deadline);
                    findings.notes.push(
                        "vidgear sends its termination messages back to back; netgear sends \
                         the next one only after the previous was answered or timed out \
                         (spec/05 §5.3.1)"
                            .to_owned(),
                    );
                } else {
                    self.server.close(now);
                }
            }
        }
        if self.drain() > 0 {
            findings
                .problems
                .push("netgear asked for a socket reset".into());
        }
    }

    /// Remembers the recorded message `parts` sent at `t_ms`.
    fn remember(
        &mut self,
        decoded: &ServerMessage,
        parts: &Parts,
        t_ms: u64,
        findings: &mut Findings,
    ) {
        if let ServerMessage::Frame(frame) = decoded {
            if let Payload::Jpeg { data, .. } = &frame.payload {
                if !(data.starts_with(&[0xff, 0xd8]) && data.ends_with(&[0xff, 0xd9])) {
                    findings
                        .problems
                        .push("the JPEG payload lacks the SOI/EOI markers".into());
                }
            }
            self.last_frame = Some(parts.clone());
            self.last_frame_ms = t_ms;
        } else {
            self.terminated = true;
        }
    }
}

fn replay_server(ctx: &mut Ctx) {
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
        let key = if ctx.config.multiserver {
            ev.at.link
        } else {
            0
        };
        match dir {
            Direction::ServerToClient => {
                feed_server_message(ctx, &mut servers, key, pos, parts);
            }
            Direction::ClientToServer if !forwarded => {
                ctx.note(
                    Machine::Server,
                    Some(ev.at),
                    "the relay could not pass this answer on to the server (it had no connection); not fed",
                );
            }
            Direction::ClientToServer => match servers.get_mut(&key) {
                Some(srv) => feed_server_answer(ctx, srv, ev.at, parts),
                None => ctx.note(
                    Machine::Server,
                    Some(ev.at),
                    "an answer before any server message; not fed",
                ),
            },
        }
    }
    check_servers_ended(ctx, servers);
}

/// Has the server of `key` send the recorded server message at `pos`, and
/// compares what it sends with it.
fn feed_server_message(
    ctx: &mut Ctx,
    servers: &mut HashMap<u32, Srv>,
    key: u32,
    pos: usize,
    parts: &Parts,
) {
    let at = ctx.evs[pos].at;
    let decoded = match ctx.server_msgs[&pos].clone() {
        Ok(m) => m,
        Err(e) => {
            ctx.mismatch(
                Machine::Client,
                Some(at),
                format!("netgear cannot decode this vidgear message: {e}"),
            );
            return;
        }
    };
    let srv = servers
        .entry(key)
        .or_insert_with(|| Srv::new(&ctx.config, &decoded));
    let mut findings = Findings::default();
    srv.catch_up(at.t_ms, ctx.config.request_timeout, &mut findings);
    if srv.out.is_empty() {
        srv.send(&decoded, ctx.now(at.t_ms), &mut findings);
    }
    srv.remember(&decoded, parts, at.t_ms, &mut findings);
    while let Some(e) = srv.server.poll_event() {
        if let ServerEvent::GaveUp { .. } = e {
            findings.problems.push(format!("unexpected event {e:?}"));
        }
    }
    let produced = srv.out.pop_front();
    ctx.record(Machine::Server, at, findings);
    match produced {
        Some(p) => ctx.compare(Machine::Server, at, parts, &p, "the message"),
        None => ctx.differ(
            Machine::Server,
            Some(at),
            "vidgear sent this, netgear sent nothing",
            parts.clone(),
            Vec::new(),
        ),
    }
}

/// Hands a recorded answer to `srv`.
fn feed_server_answer(ctx: &mut Ctx, srv: &mut Srv, at: At, parts: &Parts) {
    let before = srv.server.state();
    srv.server.handle_message(parts.clone(), ctx.now(at.t_ms));
    let resets = srv.drain();
    let mut findings = Findings::default();
    if resets > 0 {
        findings
            .problems
            .push("netgear asked for a socket reset".to_owned());
    }
    while let Some(e) = srv.server.poll_event() {
        match e {
            ServerEvent::BadReply { error, .. } => findings.problems.push(format!(
                "netgear could not decode vidgear's answer: {} ({error})",
                error.code()
            )),
            ServerEvent::Rejected { reason, .. } => findings.problems.push(format!(
                "netgear took vidgear's answer for a rejection: {reason}"
            )),
            ServerEvent::Stray { .. } => findings.notes.push(format!(
                "an answer arrived while netgear's server was {before:?}; ignored as stray"
            )),
            _ => {}
        }
    }
    ctx.report.server.fed += 1;
    ctx.record(Machine::Server, at, findings);
}

/// At the end of the recording: nothing more to send, and a server that
/// sent the termination has closed.
fn check_servers_ended(ctx: &mut Ctx, mut servers: HashMap<u32, Srv>) {
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
        for p in srv.out.drain(..) {
            ctx.differ(
                Machine::Server,
                None,
                "netgear would also have sent this",
                Vec::new(),
                p,
            );
        }
        let state = srv.server.state();
        if srv.terminated && state != ServerState::Closed {
            ctx.mismatch(
                Machine::Server,
                None,
                format!("the session ended, but netgear's server is {state:?}, not Closed"),
            );
        }
    }
}
