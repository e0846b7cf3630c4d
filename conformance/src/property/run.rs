//! Running one session: what both ends observed, whichever direction.
//! The two directions live in `to_vidgear.rs` (netgear sends) and
//! `from_vidgear.rs` (vidgear sends).

use std::path::Path;
use std::thread;
use std::time::Duration;

use netgear::json::{parse_with_depth, Value};
use netgear::session::{Config, Pattern};
use netgear::transport::zmq::{Protocol, Server, ServerOptions};
use netgear::{Dtype, Frame};

use super::model::Session;
use super::peer::Peer;
use super::Direction;

/// A pattern-2 sender waits this long after connecting before its first
/// frame, so that the subscription has arrived (ZeroMQ's slow joiner).
pub const SLOW_JOINER_GUARD: Duration = Duration::from_millis(20);
/// How long a pattern-2 sender waits to see a frame arrive before it counts
/// it as dropped and sends the next.
pub const DROP_WAIT: Duration = Duration::from_millis(300);
/// A pattern-2 sender's pause between a frame seen to arrive and the next
/// frame: a PUB socket with HWM 1 learns only with a delay that its queue
/// has drained, and drops what it is handed before.
pub const PUB_GAP: Duration = Duration::from_millis(5);
/// The subscriber timeout of netgear's pattern-2 receivers: the safety
/// net when a termination is lost.
pub const SUBSCRIBER_TIMEOUT: Duration = Duration::from_secs(1);
/// How long every wait of a session may take before the harness calls it
/// a hang.
pub const STEP_LIMIT: Duration = Duration::from_secs(10);

/// A frame a receiver was handed, with its port and message.
#[derive(Debug, Clone)]
pub struct Got {
    /// Multi-Server mode: the server's port.
    pub port: Option<Value>,
    /// The message, or `None` where vidgear's API hands over none.
    pub message: Option<Value>,
    /// The frame (a JPEG one decoded), or why it could not be read.
    pub frame: Result<Frame, String>,
}

/// How a receiver ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// The termination message (netgear: `Ok(None)`; vidgear: `recv()`
    /// returned `None` with its thread intact).
    Terminated,
    /// netgear: the subscriber timeout passed (`Error::PublisherSilent`).
    PublisherSilent,
    /// Anything else (an error, a dead vidgear thread).
    Failed(String),
}

/// What a netgear receiver thread reports.
#[derive(Debug)]
pub enum Report {
    /// It bound its ports.
    Bound,
    /// A frame.
    Frame(Got),
    /// A message it rejected (code: text).
    Rejected(String),
    /// It ended.
    End(End),
}

/// What one receiver observed.
#[derive(Debug, Clone, Default)]
pub struct ReceiverObs {
    /// The frames, in order.
    pub got: Vec<Got>,
    /// Messages netgear rejected.
    pub rejected: Vec<String>,
    /// How it ended (none: it did not).
    pub end: Option<End>,
    /// The harness had to send it a termination of its own.
    pub harness_terminated: bool,
}

/// How a sender's frame was answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// JSON return data.
    Json(Value),
    /// A returned frame (a JPEG one decoded).
    Frame(Result<Frame, String>),
    /// netgear: confirmed (plain mode).
    Delivered,
    /// netgear: published (pattern 2).
    Published,
    /// vidgear: `send()` returned `None`.
    Nothing,
    /// netgear: the receiver rejected the frame (its reason).
    Rejected(#[allow(dead_code)] String),
    /// netgear: the answer could not be decoded (code: text).
    BadReply(#[allow(dead_code)] String),
    /// The send failed (the text of the error).
    Failed(String),
}

/// One answered frame.
#[derive(Debug, Clone)]
pub struct SentObs {
    /// Multi-Client mode: the answering client's port.
    pub port: Option<Value>,
    /// The answer.
    pub answer: Answer,
}

/// Everything a session observed.
#[derive(Debug, Default)]
pub struct Observed {
    /// Per receiver.
    pub receivers: Vec<ReceiverObs>,
    /// Per step, the sender's outcome (none: never reported).
    pub sent: Vec<Option<SentObs>>,
    /// netgear senders: whether each close was acknowledged.
    pub closes: Vec<Result<bool, String>>,
    /// vidgear senders: per step, simplejpeg's own decode of the JPEG it
    /// sent (what the receiver should decode).
    pub frame_refs: Vec<Option<Frame>>,
    /// vidgear receivers: per receiver, simplejpeg's own decode of each
    /// JPEG-compressed return frame of its list.
    pub return_refs: Vec<Vec<Option<Frame>>>,
    /// The ports the receivers bound, in order (strings).
    pub ports: Vec<String>,
    /// What went wrong outside the protocol (a hang, a dead peer).
    pub errors: Vec<String>,
    /// The peer must be restarted before the next session.
    pub peer_broken: bool,
}

impl Observed {
    pub(super) fn new(session: &Session, ports: Vec<String>) -> Observed {
        Observed {
            receivers: vec![ReceiverObs::default(); session.mode.receivers()],
            sent: vec![None; session.steps.len()],
            frame_refs: vec![None; session.steps.len()],
            ports,
            ..Observed::default()
        }
    }

    /// Every receiver has ended.
    pub fn all_ended(&self) -> bool {
        self.receivers.iter().all(|r| r.end.is_some())
    }

    /// Frames reported so far, per receiver.
    pub fn counts(&self) -> Vec<usize> {
        self.receivers
            .iter()
            .map(|r| r.got.len() + r.rejected.len())
            .collect()
    }
}

/// Runs `session` in `direction` with endpoints under `scratch`.
pub fn run_session(
    peer: &mut Peer,
    direction: Direction,
    session: &Session,
    scratch: &Path,
    sid: u64,
) -> Observed {
    let address = scratch.join(format!("s{sid}")).display().to_string();
    let n = match session.mode {
        super::model::Mode::MultiServer { servers, .. } => servers,
        mode => mode.receivers(),
    };
    let ports: Vec<String> = (0..n).map(|i| (7000 + i).to_string()).collect();
    match direction {
        Direction::ToVidgear => super::to_vidgear::run(peer, session, &address, ports, sid),
        Direction::FromVidgear => super::from_vidgear::run(peer, session, &address, ports, sid),
    }
}

/// The peer event's name and session id.
pub fn event_of(v: &Value) -> (&str, Option<u64>) {
    (
        v.get("ev").and_then(Value::as_str).unwrap_or(""),
        v.get("sid").and_then(Value::as_i64).map(|s| s as u64),
    )
}

/// A frame as the peer reports it (`{"dtype", "shape", "hex"}`).
pub fn frame_of(v: Option<&Value>) -> Result<Frame, String> {
    let v = v.ok_or("no frame")?;
    let dtype_name = v.get("dtype").and_then(Value::as_str).ok_or("no dtype")?;
    let dtype: Dtype = dtype_name
        .parse()
        .map_err(|_| format!("vidgear handed over an array of dtype {dtype_name:?}"))?;
    let shape = match v.get("shape") {
        Some(Value::Array(dims)) => dims
            .iter()
            .map(|d| d.as_i64().map(|n| n as usize).ok_or("bad shape"))
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("no shape".into()),
    };
    let bytes = hex::decode(v.get("hex").and_then(Value::as_str).unwrap_or(""))
        .map_err(|e| format!("bad hex: {e}"))?;
    Frame::new(dtype, shape, bytes).map_err(|e| e.to_string())
}

/// A value vidgear handed over: `{"json": text}`, `{"nd": frame}` or
/// `{"absent": true}` (`None`).
pub fn handed_over(v: Option<&Value>) -> Result<Option<HandedOver>, String> {
    let v = v.ok_or("nothing reported")?;
    if let Some(text) = v.get("json").and_then(Value::as_str) {
        // What vidgear holds may nest deeper than netgear accepts on the
        // wire (spec/07 §7.15): the harness reads it without that limit.
        return parse_with_depth(text.as_bytes(), usize::MAX)
            .map(|j| Some(HandedOver::Json(j)))
            .map_err(|e| {
                let shown: String = text.chars().take(200).collect();
                format!("vidgear's JSON {shown:?}… does not parse: {e}")
            });
    }
    if v.get("nd").is_some() {
        return Ok(Some(HandedOver::Frame(frame_of(v.get("nd")))));
    }
    Ok(None)
}

/// A value vidgear handed to its application.
#[derive(Debug)]
pub enum HandedOver {
    /// JSON (`None` is JSON `null`).
    Json(Value),
    /// An array.
    Frame(Result<Frame, String>),
}

/// Ends a receiver the session left waiting: connects a netgear server of
/// `pattern` to `port` and closes it at once, which sends a termination
/// message (spec/07 §7.10: netgear sends one even with no frame). Returns
/// whether the termination was acknowledged: on pattern 1, `false` means
/// nobody was there any more (the receiver had ended after all).
pub fn harness_terminate(address: &str, port: &str, pattern: u8) -> Result<bool, String> {
    let config = Config::new()
        .pattern(Pattern::try_from(pattern).expect("0, 1 or 2"))
        .request_timeout(Duration::from_secs(1));
    let options = ServerOptions::new()
        .protocol(Protocol::Ipc)
        .address(address)
        .port(port)
        .config(config);
    let server = Server::connect(options).map_err(|e| e.to_string())?;
    if pattern == 2 {
        thread::sleep(SLOW_JOINER_GUARD);
    }
    server.close().map_err(|e| e.to_string())
}
