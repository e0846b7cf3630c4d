//! Hostile peers: a raw zmq socket (PAIR, and REQ for pattern 1) connected
//! to a running `netgear receive --json` sends every kind of malformed
//! message. After each one the receiver must still be alive, must have
//! answered with a rejection carrying the error code (so a REQ peer is never
//! left hanging), must have reported the error on stderr, and must still
//! deliver the next good frame. Its peak memory (VmHWM) stays small although
//! headers claim gigabytes.

use std::process::Command;
use std::time::Duration;

use netgear::session::{ClientEvent, Config, Pattern};
use netgear::transport::zmq::{Client, ClientOptions, Protocol};
use netgear_testkit::{Ipc, Proc};

const NETGEAR: &str = env!("CARGO_BIN_EXE_netgear");
use netgear::json::{parse, Value};
use sha2::{Digest, Sha256};

/// Peak resident memory allowed for the receiver, headers claiming
/// gigabytes notwithstanding.
const PEAK_RSS_LIMIT_KIB: u64 = 64 * 1024;

struct Case {
    name: &'static str,
    parts: Vec<Vec<u8>>,
    /// The code the rejection answer must carry.
    code: &'static str,
    /// A piece of the error text the receiver prints on stderr.
    stderr: &'static str,
}

fn header(fields: &str) -> Vec<u8> {
    format!("{{\"terminate_flag\": false, \"message\": null, \"pattern\": \"1\", {fields}}}")
        .into_bytes()
}

fn raw(dtype: &str, shape: &str) -> Vec<u8> {
    header(&format!(
        "\"compression\": false, \"dtype\": {dtype}, \"shape\": {shape}"
    ))
}

fn case(name: &'static str, parts: Vec<Vec<u8>>, code: &'static str, stderr: &'static str) -> Case {
    Case {
        name,
        parts,
        code,
        stderr,
    }
}

fn cases() -> Vec<Case> {
    let deep = {
        let mut h = b"{\"terminate_flag\": false, \"message\": ".to_vec();
        h.extend(std::iter::repeat_n(b'[', 100_000));
        h.extend(std::iter::repeat_n(b']', 100_000));
        h.extend_from_slice(
            b", \"compression\": false, \"pattern\": \"1\", \"dtype\": \"uint8\", \"shape\": [1]}",
        );
        h
    };
    let deep_object = {
        let mut h = Vec::new();
        for _ in 0..100_000 {
            h.extend_from_slice(b"{\"a\":");
        }
        h.push(b'1');
        h.extend(std::iter::repeat_n(b'}', 100_000));
        h
    };
    let small = vec![7u8; 3];
    vec![
        case("invalid JSON", vec![b"{\"terminate_flag\": fals".to_vec(), small.clone()], "invalid-json", "is not valid JSON"),
        case("single quotes", vec![b"{'terminate_flag': false}".to_vec(), small.clone()], "invalid-json", "is not valid JSON"),
        case("trailing garbage", vec![b"{\"terminate_flag\": true} x".to_vec()], "invalid-json", "is not valid JSON"),
        case("invalid UTF-8", vec![b"{\"terminate_flag\": false, \"message\": \"\xff\xfe\"}".to_vec(), small.clone()], "invalid-utf8", "not valid UTF-8"),
        case("lone surrogate", vec![b"{\"\\ud800\": 0, \"terminate_flag\": false}".to_vec(), small.clone()], "lone-surrogate", "lone surrogate"),
        case("a JSON array", vec![b"[false, false, null, \"1\", \"uint8\", [3]]".to_vec(), small.clone()], "not-an-object", "must be a JSON object"),
        case("a JSON string", vec![b"\"terminate_flag\"".to_vec()], "not-an-object", "must be a JSON object"),
        case("missing terminate_flag", vec![b"{\"compression\": false, \"pattern\": \"1\", \"dtype\": \"uint8\", \"shape\": [3]}".to_vec(), small.clone()], "missing-field", "lacks the field \"terminate_flag\""),
        case("missing compression", vec![header("\"dtype\": \"uint8\", \"shape\": [3]"), small.clone()], "missing-field", "lacks the field \"compression\""),
        case("missing dtype", vec![header("\"compression\": false, \"shape\": [3]"), small.clone()], "missing-field", "lacks the field \"dtype\""),
        case("missing shape", vec![header("\"compression\": false, \"dtype\": \"uint8\""), small.clone()], "missing-field", "lacks the field \"shape\""),
        case("terminate_flag a string", vec![b"{\"terminate_flag\": \"yes\"}".to_vec()], "wrong-type", "must be a boolean"),
        case("terminate_flag a number", vec![b"{\"terminate_flag\": 1}".to_vec()], "wrong-type", "must be a boolean"),
        case("compression null", vec![header("\"compression\": null, \"dtype\": \"uint8\", \"shape\": [3]"), small.clone()], "wrong-type", "must be false or an object"),
        case("dtype a number", vec![raw("5", "[3]"), small.clone()], "wrong-type", "\"dtype\" must be a string"),
        case("shape a string", vec![raw("\"uint8\"", "\"3\""), small.clone()], "wrong-type", "\"shape\" must be an array"),
        case("shape of floats", vec![raw("\"uint8\"", "[3.0]"), small.clone()], "bad-shape", "is not an integer"),
        case("object dtype", vec![raw("\"object\"", "[3]"), small.clone()], "unknown-dtype", "unknown dtype \"object\""),
        case("string dtype", vec![raw("\"<U1\"", "[3]"), small.clone()], "unknown-dtype", "unknown dtype \"<U1\""),
        case("negative shape", vec![raw("\"uint8\"", "[-1, 3]"), small.clone()], "bad-shape", "negative dimension"),
        case("overflowing dimension", vec![raw("\"uint8\"", "[18446744073709551616]"), small.clone()], "bad-shape", "is too large"),
        case("overflowing product", vec![raw("\"float64\"", "[4294967296, 4294967296, 2]"), small.clone()], "size-overflow", "overflows"),
        case("33 dimensions", vec![raw("\"uint8\"", &format!("[{}]", vec!["1"; 33].join(", "))), small.clone()], "bad-shape", "more than the limit"),
        case("gigabytes claimed", vec![raw("\"uint8\"", "[1024, 1024, 1024, 4]"), small.clone()], "size-mismatch", "needs 4294967296 bytes, the payload has 3"),
        case("terabytes claimed", vec![raw("\"float64\"", "[100000, 100000, 1000]"), small.clone()], "size-mismatch", "the payload has 3"),
        case("size mismatch", vec![raw("\"uint8\"", "[2, 2, 3]"), vec![0u8; 11]], "size-mismatch", "needs 12 bytes, the payload has 11"),
        case("too few parts", vec![raw("\"uint8\"", "[3]")], "part-count", "must have 2 part(s), received 1"),
        case("too many parts", vec![raw("\"uint8\"", "[3]"), small.clone(), small.clone()], "part-count", "must have 1 or 2 part(s), received 3"),
        case("five parts", vec![Vec::new(); 5], "part-count", "received 5"),
        case("one empty part", vec![Vec::new()], "invalid-json", "is not valid JSON"),
        case("two empty parts", vec![Vec::new(), Vec::new()], "invalid-json", "is not valid JSON"),
        case("empty object", vec![b"{}".to_vec(), Vec::new()], "missing-field", "lacks the field \"terminate_flag\""),
        case("bad compression", vec![header("\"compression\": {\"dct\": true, \"ups\": false, \"colorspace\": \"bgr\"}, \"dtype\": \"\", \"shape\": \"\""), small.clone()], "bad-compression", "unknown colorspace"),
        case("100,000 nested arrays", vec![deep, small.clone()], "too-deep", "nests deeper than 128 levels"),
        case("100,000 nested objects", vec![deep_object], "too-deep", "nests deeper than 128 levels"),
    ]
}

/// The `k`-th good frame: 2x3x3 uint8, all bytes `k`.
fn good_frame(k: u8) -> Vec<Vec<u8>> {
    vec![raw("\"uint8\"", "[2, 3, 3]"), vec![k; 18]]
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Peak resident set size of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

struct Peer {
    socket: zmq::Socket,
    _context: zmq::Context,
}

impl Peer {
    fn connect(kind: zmq::SocketType, endpoint: &str) -> Peer {
        let context = zmq::Context::new();
        let socket = context.socket(kind).unwrap();
        socket.set_linger(0).unwrap();
        socket.set_rcvtimeo(10_000).unwrap();
        socket.set_sndtimeo(10_000).unwrap();
        socket.connect(endpoint).unwrap();
        Peer {
            socket,
            _context: context,
        }
    }

    fn send(&self, parts: &[Vec<u8>]) {
        self.socket
            .send_multipart(parts.iter().map(Vec::as_slice), 0)
            .expect("send to the receiver");
    }

    /// The receiver's answer (it answers everything on patterns 0 and 1).
    fn answer(&self, what: &str) -> Vec<Vec<u8>> {
        self.socket.recv_multipart(0).unwrap_or_else(|e| {
            panic!("no answer to {what} within 10 s ({e}): receiver hung or died")
        })
    }
}

fn check_rejection(answer: &[Vec<u8>], bidirectional: bool, c: &Case) {
    assert_eq!(answer.len(), 1, "{}: one-part rejection", c.name);
    let text = String::from_utf8(answer[0].clone()).expect("ASCII rejection");
    if bidirectional {
        let v = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{}: {text}: {e}", c.name));
        assert_eq!(
            v.get("return_type"),
            Some(&Value::from("NoneType")),
            "{text}"
        );
        assert_eq!(v.get("data"), Some(&Value::Null), "{text}");
        let error = v.get("error").and_then(Value::as_str).unwrap_or_default();
        assert!(
            error.starts_with(&format!("{}: ", c.code)),
            "{}: expected code {}, answer {text}",
            c.name,
            c.code
        );
    } else {
        let prefix = "Frame rejected on device: ";
        assert!(text.starts_with(prefix), "{}: {text}", c.name);
        // "<prefix><device id>: <code>: <text>"
        let rest = &text[prefix.len()..];
        let (_, reason) = rest.split_once(": ").expect("device id");
        assert!(
            reason.starts_with(&format!("{}: ", c.code)),
            "{}: expected code {}, answer {text}",
            c.name,
            c.code
        );
    }
    assert!(text.is_ascii() && !text.contains('\n'), "{text}");
}

fn check_good_answer(answer: &[Vec<u8>], bidirectional: bool) {
    assert_eq!(answer.len(), 1);
    let text = String::from_utf8_lossy(&answer[0]);
    if bidirectional {
        let v = parse(&answer[0]).unwrap();
        assert_eq!(v.get("data"), Some(&Value::from("ok")), "{text}");
        assert!(v.get("error").is_none(), "{text}");
    } else {
        assert!(text.starts_with("Data received on device: "), "{text}");
    }
}

fn hostile(pattern: u8, bidirectional: bool) {
    let ipc = Ipc::new();
    let mut cmd = Command::new(NETGEAR);
    cmd.arg("receive").args(ipc.cli_args(5555));
    cmd.args([
        "--pattern",
        &pattern.to_string(),
        "--json",
        "--return",
        "\"ok\"",
        "--request-timeout",
        "10",
    ]);
    if bidirectional {
        cmd.arg("--bidirectional");
    }
    let mut rx = Proc::start(cmd);
    rx.wait_bound_ipc(&ipc, 5555);
    let pid = rx.child.id();
    let kind = if pattern == 0 { zmq::PAIR } else { zmq::REQ };
    let peer = Peer::connect(kind, &ipc.endpoint(5555));

    let mut frames = 0u8;
    let good = |peer: &Peer, rx: &mut Proc, frames: &mut u8, after: &str| {
        let parts = good_frame(*frames);
        peer.send(&parts);
        check_good_answer(&peer.answer(after), bidirectional);
        *frames += 1;
        rx.wait_lines(usize::from(*frames), Duration::from_secs(10));
        let line = rx.seen.last().unwrap();
        assert_eq!(
            line.get("seq").and_then(Value::as_i64),
            Some(i64::from(*frames - 1)),
            "after {after}"
        );
        assert_eq!(
            line.get("sha256").and_then(Value::as_str),
            Some(sha256(&parts[1]).as_str()),
            "after {after}"
        );
    };
    good(&peer, &mut rx, &mut frames, "the start");
    let cases = cases();
    for c in &cases {
        peer.send(&c.parts);
        check_rejection(&peer.answer(c.name), bidirectional, c);
        assert!(
            rx.child.try_wait().unwrap().is_none(),
            "receiver died after {}",
            c.name
        );
        good(&peer, &mut rx, &mut frames, c.name);
    }

    // Garbage JPEG: the header is well formed, so the bytes are delivered
    // as a JPEG bitstream, undecoded (spec/05 §5.2), and answered normally.
    // Should JPEG decoding land in the receiver, the only other acceptable
    // outcome is a rejection with `bad-compression` (spec/08 §8.1).
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let jpeg = vec![
        header("\"compression\": {\"dct\": true, \"ups\": false, \"colorspace\": \"BGR\"}, \"dtype\": \"\", \"shape\": \"\""),
        garbage.clone(),
    ];
    peer.send(&jpeg);
    let answer = peer.answer("garbage JPEG");
    let text = String::from_utf8_lossy(&answer[0]).into_owned();
    let jpeg_rejected = text.contains("rejected") || text.contains("\"error\"");
    let mut rejections = cases.len();
    if jpeg_rejected {
        let c = case("garbage JPEG", Vec::new(), "bad-compression", "");
        check_rejection(&answer, bidirectional, &c);
        rejections += 1;
    } else {
        check_good_answer(&answer, bidirectional);
        frames += 1;
        rx.wait_lines(usize::from(frames), Duration::from_secs(10));
        let line = rx.seen.last().unwrap();
        assert_eq!(line.get("dtype"), Some(&Value::from("jpeg")), "{line:?}");
        assert_eq!(line.get("shape"), Some(&Value::Null));
        assert_eq!(
            line.get("sha256").and_then(Value::as_str),
            Some(sha256(&garbage).as_str())
        );
    }
    good(&peer, &mut rx, &mut frames, "garbage JPEG");

    let peak = peak_rss_kib(pid);
    assert!(
        peak < PEAK_RSS_LIMIT_KIB,
        "receiver peak RSS {peak} KiB over {PEAK_RSS_LIMIT_KIB} KiB"
    );

    // Termination: the receiver acknowledges on pattern 1 and exits cleanly.
    peer.send(&[b"{\"terminate_flag\": true}".to_vec()]);
    if pattern == 1 {
        let ack = peer.answer("the termination");
        assert_eq!(
            ack,
            [b"Termination signal successfully received at Client's end!".to_vec()]
        );
    }
    let (status, lines, stderr) = rx.finish(Duration::from_secs(20));
    assert!(status.success(), "receiver exit {status}\n{stderr}");
    assert_eq!(
        lines.len(),
        usize::from(frames),
        "every good frame delivered once"
    );
    let reported = stderr.matches("received a malformed message").count();
    assert_eq!(
        reported, rejections,
        "one stderr report per bad message:\n{stderr}"
    );
    let mut rest = stderr.as_str();
    for c in &cases {
        let at = rest.find(c.stderr).unwrap_or_else(|| {
            panic!(
                "{}: stderr lacks {:?} (in order):\n{stderr}",
                c.name, c.stderr
            )
        });
        rest = &rest[at + c.stderr.len()..];
    }
    eprintln!("pattern {pattern}, bidirectional {bidirectional}: {} bad messages survived, peak RSS {peak} KiB", rejections);
}

#[test]
fn pair_plain() {
    hostile(0, false);
}

#[test]
fn pair_bidirectional() {
    hostile(0, true);
}

#[test]
fn reqrep_plain() {
    hostile(1, false);
}

#[test]
fn reqrep_bidirectional() {
    hostile(1, true);
}

/// The size limit, with the library's client in a thread (typed errors): a
/// message whose parts together exceed the limit reaches the decoder and is
/// rejected as `too-large`; a single part over the limit is refused by
/// libzmq (ZMQ_MAXMSGSIZE), which drops the connection before buffering it.
/// The client survives both and delivers the next good frame.
fn size_limits(pattern: u8) {
    use netgear::wire::Limits;
    use std::sync::mpsc::channel;

    const LIMIT: usize = 1 << 20;
    let ipc = Ipc::new();
    let address = ipc.address();
    let (tx, events) = channel();
    let receiver = std::thread::spawn(move || {
        let config = Config::new()
            .pattern(Pattern::try_from(pattern).unwrap())
            .request_timeout(Duration::from_secs(10))
            .limits(Limits::default().max_message_bytes(LIMIT));
        let mut client = Client::bind(
            ClientOptions::new()
                .address(address)
                .protocol(Protocol::Ipc)
                .config(config),
        )
        .expect("bind");
        while let Some(event) = client.recv().expect("no fatal error") {
            let event = match event {
                ClientEvent::Frame(frame) => Ok(sha256(frame.payload.bytes())),
                ClientEvent::Rejected { error } => Err(error.code()),
                other => panic!("unexpected event {other:?}"),
            };
            tx.send(event).unwrap();
        }
    });
    ipc.wait_bound(5555);
    let kind = if pattern == 0 { zmq::PAIR } else { zmq::REQ };
    let mut peer = Peer::connect(kind, &ipc.endpoint(5555));
    let next = || {
        events
            .recv_timeout(Duration::from_secs(10))
            .expect("client event")
    };

    let frame = good_frame(1);
    peer.send(&frame);
    assert!(String::from_utf8_lossy(&peer.answer("a good frame")[0]).starts_with("Data received"));
    assert_eq!(next(), Ok(sha256(&frame[1])));

    // Two parts under the limit each, over it together.
    let big = vec![vec![b' '; LIMIT / 2 + 1], vec![0u8; LIMIT / 2 + 1]];
    peer.send(&big);
    let answer = peer.answer("two large parts");
    let text = String::from_utf8_lossy(&answer[0]);
    assert!(text.contains(": too-large: message of"), "{text}");
    assert_eq!(next(), Err("too-large"));

    let frame = good_frame(2);
    peer.send(&frame);
    assert!(String::from_utf8_lossy(&peer.answer("a good frame")[0]).starts_with("Data received"));
    assert_eq!(next(), Ok(sha256(&frame[1])));

    // One part over the limit: libzmq cuts the connection, nothing reaches
    // the client and nothing answers. The peer's socket reconnects (a REQ
    // peer must open a fresh socket, as a Lazy Pirate server does).
    peer.send(&[vec![b'{'; LIMIT + 1]]);
    peer.socket.set_rcvtimeo(500).unwrap();
    assert!(
        peer.socket.recv_multipart(0).is_err(),
        "no answer to an oversized part"
    );
    assert!(
        events.try_recv().is_err(),
        "nothing reported for a message never received"
    );
    if pattern == 1 {
        peer = Peer::connect(zmq::REQ, &ipc.endpoint(5555));
    }
    peer.socket.set_rcvtimeo(10_000).unwrap();
    let frame = good_frame(3);
    peer.send(&frame);
    assert!(
        String::from_utf8_lossy(&peer.answer("a good frame after a cut")[0])
            .starts_with("Data received")
    );
    assert_eq!(next(), Ok(sha256(&frame[1])));

    peer.send(&[b"{\"terminate_flag\": true}".to_vec()]);
    if pattern == 1 {
        peer.answer("the termination");
    }
    receiver.join().expect("client thread");
}

#[test]
fn pair_size_limits() {
    size_limits(0);
}

#[test]
fn reqrep_size_limits() {
    size_limits(1);
}

/// The crate's documented receive loop (`while let Some(event) =
/// client.recv()?`), fed every hostile input of [`cases`], each followed by
/// a good frame: the loop never ends early, every bad input arrives as a
/// typed [`ClientEvent::Rejected`] carrying its code, and every good frame
/// arrives intact with the next sequence number.
fn documented_loop_survives_every_hostile_input(pattern: u8, bidirectional: bool) {
    use std::sync::mpsc::channel;

    let ipc = Ipc::new();
    let address = ipc.address();
    let (tx, events) = channel();
    let receiver = std::thread::spawn(move || -> Result<u64, netgear::transport::zmq::Error> {
        let config = Config::new()
            .pattern(Pattern::try_from(pattern).unwrap())
            .bidirectional(bidirectional)
            .request_timeout(Duration::from_secs(10));
        let mut client = Client::bind(
            ClientOptions::new()
                .address(address)
                .protocol(Protocol::Ipc)
                .config(config),
        )?;
        client.set_return("ok")?;
        // The loop as the crate documentation shows it.
        while let Some(event) = client.recv()? {
            match event {
                ClientEvent::Frame(frame) => tx
                    .send(Ok((frame.seq, sha256(frame.payload.bytes()))))
                    .unwrap(),
                ClientEvent::Rejected { error } => tx.send(Err(error.code())).unwrap(),
                _ => {}
            }
        }
        let frames = client.frames_received();
        client.close()?;
        Ok(frames)
    });
    ipc.wait_bound(5555);
    let kind = if pattern == 0 { zmq::PAIR } else { zmq::REQ };
    let peer = Peer::connect(kind, &ipc.endpoint(5555));
    let next = |what: &str| {
        events
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no event for {what}: the loop ended or hung"))
    };
    let all = cases();
    for (k, case) in all.iter().enumerate() {
        peer.send(&case.parts);
        check_rejection(&peer.answer(case.name), bidirectional, case);
        assert_eq!(next(case.name), Err(case.code), "{}", case.name);
        let frame = good_frame(k as u8);
        peer.send(&frame);
        check_good_answer(&peer.answer("a good frame"), bidirectional);
        assert_eq!(
            next("a good frame"),
            Ok((k as u64, sha256(&frame[1]))),
            "the good frame after {}",
            case.name
        );
    }
    peer.send(&[b"{\"terminate_flag\": true}".to_vec()]);
    if pattern == 1 {
        peer.answer("the termination");
    }
    let frames = receiver
        .join()
        .expect("client thread")
        .expect("no fatal error");
    assert_eq!(frames, all.len() as u64);
}

#[test]
fn documented_loop_survives_every_hostile_input_on_pair() {
    documented_loop_survives_every_hostile_input(0, false);
    documented_loop_survives_every_hostile_input(0, true);
}

#[test]
fn documented_loop_survives_every_hostile_input_on_reqrep() {
    documented_loop_survives_every_hostile_input(1, false);
    documented_loop_survives_every_hostile_input(1, true);
}

/// A hostile answer: its name, its parts, and the code it must be reported
/// with (`None`: the client's own rejection, an `Outcome::Rejected`).
type BadReply = (&'static str, Vec<Vec<u8>>, Option<&'static str>);

/// Hostile answers to a bidirectional server.
fn bad_replies() -> Vec<BadReply> {
    vec![
        ("invalid JSON", vec![b"{\"return_type\": ".to_vec()], Some("invalid-json")),
        ("not an object", vec![b"[1, 2]".to_vec()], Some("not-an-object")),
        ("no data", vec![b"{\"return_type\": \"str\"}".to_vec()], Some("missing-field")),
        ("return_type a number", vec![b"{\"return_type\": 3, \"data\": 1}".to_vec()], Some("wrong-type")),
        ("invalid UTF-8", vec![b"{\"return_type\": \"str\", \"data\": \"\xff\"}".to_vec()], Some("invalid-utf8")),
        ("two parts for JSON", vec![b"{\"return_type\": \"int\", \"data\": 1}".to_vec(), vec![0]], Some("part-count")),
        ("a frame without its part", vec![b"{\"return_type\": \"ndarray\", \"compression\": false, \"array_dtype\": \"uint8\", \"array_shape\": [2], \"data\": null}".to_vec()], Some("part-count")),
        ("a frame of the wrong size", vec![b"{\"return_type\": \"ndarray\", \"compression\": false, \"array_dtype\": \"uint8\", \"array_shape\": [1024, 1024], \"data\": null}".to_vec(), vec![0; 3]], Some("size-mismatch")),
        ("an unknown dtype", vec![b"{\"return_type\": \"ndarray\", \"compression\": false, \"array_dtype\": \"complex64\", \"array_shape\": [1], \"data\": null}".to_vec(), vec![0; 8]], Some("unknown-dtype")),
        ("a rejection", vec![b"{\"return_type\": \"NoneType\", \"data\": null, \"error\": \"invalid-json: nope\"}".to_vec()], None),
    ]
}

/// The send loop of a bidirectional server facing a client that answers
/// every frame with a hostile reply, then with a good one: no answer ends
/// the loop; each bad one is an `Outcome` naming what was wrong, each good
/// one the return data, and the frames keep their sequence numbers.
fn send_loop_survives_every_bad_reply(pattern: u8) {
    use netgear::transport::zmq::{Outcome, Server, ServerOptions};
    use netgear::{Dtype, Frame, ReturnData};

    let ipc = Ipc::new();
    let context = zmq::Context::new();
    let peer = context
        .socket(if pattern == 0 { zmq::PAIR } else { zmq::REP })
        .unwrap();
    peer.set_rcvtimeo(10_000).unwrap();
    peer.bind(&ipc.endpoint(5555)).unwrap();
    let replies = bad_replies();
    let answers = std::thread::spawn(move || {
        for (_, parts, _) in bad_replies() {
            for answer in [
                parts,
                vec![b"{\"return_type\": \"str\", \"data\": \"ok\"}".to_vec()],
            ] {
                let frame = peer.recv_multipart(0).expect("a frame");
                assert_eq!(frame.len(), 2, "header and payload");
                peer.send_multipart(answer.iter().map(Vec::as_slice), 0)
                    .unwrap();
            }
        }
        peer
    });
    let config = Config::new()
        .pattern(Pattern::try_from(pattern).unwrap())
        .bidirectional(true)
        .request_timeout(Duration::from_secs(10));
    let options = ServerOptions::new()
        .address(ipc.address())
        .protocol(Protocol::Ipc)
        .config(config);
    let mut server = Server::connect(options).unwrap();
    let frame = Frame::new(Dtype::Uint8, vec![2], vec![1, 2]).unwrap();
    for (k, (name, _, code)) in replies.iter().enumerate() {
        let bad = server
            .send(frame.clone(), &k)
            .expect("a bad reply never ends the loop");
        assert_eq!(bad.seq, 2 * k as u64, "{name}");
        match (&bad.outcome, code) {
            (Outcome::BadReply(e), Some(code)) => assert_eq!(e.code(), *code, "{name}: {e}"),
            (Outcome::Rejected { reason }, None) => assert_eq!(reason, "invalid-json: nope"),
            (other, _) => panic!("{name}: {other:?}"),
        }
        let good = server.send(frame.clone(), &k).expect("the next frame");
        assert_eq!(good.seq, 2 * k as u64 + 1);
        assert_eq!(
            good.reply(),
            Some(&ReturnData::Json(Value::from("ok"))),
            "after {name}"
        );
    }
    let _peer = answers.join().expect("the peer");
}

#[test]
fn send_loop_survives_every_bad_reply_on_pair() {
    send_loop_survives_every_bad_reply(0);
}

#[test]
fn send_loop_survives_every_bad_reply_on_reqrep() {
    send_loop_survives_every_bad_reply(1);
}

/// `netgear send --bidirectional` facing the same hostile answers: each bad
/// one is a JSON line with the frame's `seq` and an `error` naming the
/// code, each good one a line with the reply, and the command goes on to
/// its last frame and exits 0.
#[test]
fn send_command_reports_every_bad_reply_and_goes_on() {
    let ipc = Ipc::new();
    let context = zmq::Context::new();
    let peer = context.socket(zmq::REP).unwrap();
    peer.set_rcvtimeo(10_000).unwrap();
    peer.bind(&ipc.endpoint(5555)).unwrap();
    let replies = bad_replies();
    let frames = 2 * replies.len();
    let answers = std::thread::spawn(move || {
        for (_, parts, _) in bad_replies() {
            for answer in [
                parts,
                vec![b"{\"return_type\": \"str\", \"data\": \"ok\"}".to_vec()],
            ] {
                peer.recv_multipart(0).expect("a frame");
                peer.send_multipart(answer.iter().map(Vec::as_slice), 0)
                    .unwrap();
            }
        }
        // The termination, acknowledged as a pattern-1 client does.
        peer.recv_multipart(0).expect("the termination");
        peer.send(
            "Termination signal successfully received at Client's end!",
            0,
        )
        .unwrap();
    });
    let mut cmd = Command::new(NETGEAR);
    cmd.arg("send")
        .args(ipc.cli_args(5555))
        .args([
            "--pattern",
            "1",
            "--bidirectional",
            "--json",
            "--shape",
            "2",
        ])
        .args(["--frames", &frames.to_string(), "--request-timeout", "10"]);
    let (status, lines, stderr) = Proc::start(cmd).finish(Duration::from_secs(60));
    answers.join().expect("the peer");
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(lines.len(), frames, "{lines:?}");
    for (k, (name, _, code)) in replies.iter().enumerate() {
        let bad = &lines[2 * k];
        assert_eq!(bad.get("seq"), Some(&Value::from(2 * k)), "{name}");
        assert_eq!(bad.get("reply"), Some(&Value::Null), "{name}");
        let error = bad.get("error").and_then(Value::as_str).unwrap_or_default();
        assert!(error.contains("frame"), "{name}: {error}");
        let found = bad.get("code").and_then(Value::as_str);
        assert_eq!(found, Some(code.unwrap_or("rejected")), "{name}: {error}");
        let good = &lines[2 * k + 1];
        assert_eq!(good.get("reply"), Some(&Value::from("ok")), "after {name}");
        assert!(good.get("error").is_none(), "after {name}");
    }
    assert!(
        stderr.contains(&format!("{} error(s)", replies.len())),
        "{stderr}"
    );
}
