//! serde application types against the real vidgear 0.3.6, both ways: a
//! Rust struct sent as the message (and as return data) arrives in Python as
//! the dict `json.loads` would make of it, and a Python dict that vidgear
//! sends (with tuples, int keys, NaN and a big integer) deserialises into the
//! Rust struct. The venv is provisioned on first use; without Python these
//! tests fail and say how to provide it.

use std::collections::BTreeMap;
use std::process::Command;
use std::thread;
use std::time::Duration;

use netgear::json::{parse, Value};
use netgear::session::{ClientEvent, Config, Pattern};
use netgear::transport::zmq::{Client, ClientOptions, Protocol, Server, ServerOptions};
use netgear::{Dtype, Frame};
use netgear_conformance::command;
use netgear_testkit::{Ipc, Proc};
use serde::{Deserialize, Serialize};

/// A detector's report, as a vidgear user would send it with a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Detections {
    camera: String,
    frame_no: u64,
    /// (x, y, w, h): tuples in Python, lists on the wire.
    boxes: Vec<(u32, u32, u32, u32)>,
    /// Keyed by track id: int keys in Python, strings on the wire.
    labels: BTreeMap<u32, String>,
    score: f64,
    /// Beyond 64 bits: Python's ints have no limit.
    checksum: u128,
    note: Option<String>,
}

fn detections(k: u64) -> Detections {
    Detections {
        camera: "cam A — 🎥".into(),
        frame_no: k,
        boxes: vec![(1, 2, 30, 40), (5, 6, 7, 8)],
        labels: BTreeMap::from([(7, "cat".into()), (11, "dog".into())]),
        score: -0.25,
        checksum: u128::MAX - k as u128,
        note: None,
    }
}

/// What Python's `json.dumps` gives for `detections(k)` written as a dict.
fn detections_python(k: u64) -> String {
    format!(
        "{{'camera': 'cam A — 🎥', 'frame_no': {k}, 'boxes': [(1, 2, 30, 40), (5, 6, 7, 8)], \
         'labels': {{7: 'cat', 11: 'dog'}}, 'score': -0.25, 'checksum': {}, 'note': None}}",
        u128::MAX - k as u128
    )
}

/// The same value as JSON, as `json.loads` reads it back in Python.
fn detections_json(k: u64) -> Value {
    let text = format!(
        r#"{{"camera": "cam A \u2014 \ud83c\udfa5", "frame_no": {k}, "boxes": [[1, 2, 30, 40], [5, 6, 7, 8]], "labels": {{"7": "cat", "11": "dog"}}, "score": -0.25, "checksum": {}, "note": null}}"#,
        u128::MAX - k as u128
    );
    parse(text.as_bytes()).expect("valid JSON")
}

/// The receiver's verdict, returned with every frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Verdict {
    ok: bool,
    alarms: Vec<String>,
    latency_ms: f64,
}

fn verdict() -> Verdict {
    Verdict {
        ok: true,
        alarms: vec!["door".into(), "".into()],
        latency_ms: f64::INFINITY,
    }
}

const VERDICT_JSON: &str = r#"{"ok": true, "alarms": ["door", ""], "latency_ms": Infinity}"#;

const FRAMES: u64 = 4;

fn config() -> Config {
    Config::new()
        .pattern(Pattern::ReqRep)
        .bidirectional(true)
        .request_timeout(Duration::from_secs(10))
}

#[test]
fn a_rust_struct_arrives_in_vidgear_as_the_dict_json_loads_makes() {
    let ipc = Ipc::new();
    let mut rx = command(true, "receive");
    rx.args(["--pattern", "1", "--bidirectional", "--json"])
        .args(ipc.cli_args(5555))
        .args(["--return", VERDICT_JSON]);
    let mut rx = Proc::start(rx);
    rx.wait_bound_ipc(&ipc, 5555);
    let options = ServerOptions::new()
        .address(ipc.address())
        .protocol(Protocol::Ipc)
        .config(config());
    let mut server = Server::connect(options).unwrap();
    let frame = Frame::new(Dtype::Uint8, vec![2, 3], vec![9; 6]).unwrap();
    for k in 0..FRAMES {
        let sent = server.send(frame.clone(), &detections(k)).unwrap();
        let reply = sent.reply().expect("return data");
        let got: Verdict = reply.json_as().expect("JSON").expect("a Verdict");
        assert_eq!(got.alarms, verdict().alarms);
        assert!(got.ok && got.latency_ms == f64::INFINITY, "{got:?}");
    }
    server.close().unwrap();
    let (status, lines, err) = rx.finish(Duration::from_secs(30));
    assert!(status.success(), "vidgear receiver: {err}");
    assert_eq!(lines.len() as u64, FRAMES);
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(
            line.get("message"),
            Some(&detections_json(k as u64)),
            "frame {k}"
        );
    }
}

#[test]
fn a_vidgear_dict_deserialises_into_the_rust_struct() {
    let ipc = Ipc::new();
    let address = ipc.address();
    let client = thread::spawn(move || {
        let options = ClientOptions::new()
            .address(address)
            .protocol(Protocol::Ipc)
            .config(config());
        let mut client = Client::bind(options).unwrap();
        client.set_return(&verdict()).unwrap();
        let mut got = Vec::new();
        while let Some(event) = client.recv().unwrap() {
            if let ClientEvent::Frame(frame) = event {
                got.push(frame.message_as::<Detections>().expect("a Detections"));
            }
        }
        client.close().unwrap();
        got
    });
    ipc.wait_bound(5555);
    // vidgear sends the same dict with every frame: frame 0's.
    let mut tx: Command = command(true, "send");
    tx.args([
        "--pattern",
        "1",
        "--bidirectional",
        "--json",
        "--shape",
        "2,3",
    ])
    .args(ipc.cli_args(5555))
    .args(["--frames", &FRAMES.to_string()])
    .args(["--message-python", &detections_python(0)]);
    let (status, lines, err) = Proc::start(tx).finish(Duration::from_secs(60));
    assert!(status.success(), "vidgear sender: {err}");
    let got = client.join().expect("client thread");
    assert_eq!(got, vec![detections(0); FRAMES as usize]);
    assert_eq!(lines.len() as u64, FRAMES);
    let want = parse(VERDICT_JSON.as_bytes()).unwrap();
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line.get("reply"), Some(&want), "frame {k}");
    }
}
