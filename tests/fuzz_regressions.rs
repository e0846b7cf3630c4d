//! The `decode` fuzz target's inputs, replayed through the same harness
//! (fuzz/harness.rs): every crash the fuzzer found (tests/data/fuzz-regressions/)
//! and the seed corpus (fuzz/seeds/decode/, plus the seeds generated here).
//!
//! The seeds are made from the encoders, no script needed:
//! `NETGEAR_WRITE_FUZZ_SEEDS=1 cargo test --test fuzz_regressions write_seeds`
//! writes them to fuzz/seeds/decode/ (committed) and fuzz/corpus/decode/
//! (where `cargo fuzz run decode` starts from; gitignored).

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use netgear::json::{parse, Value};
use netgear::wire::{
    encode_confirmation, encode_frame_message, encode_rejection, encode_reply, encode_terminate,
    encode_terminate_ack, Colorspace, Compression, FrameMessage, Payload, Reply, ReturnData,
};
use netgear::{Dtype, Frame};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn frame(dtype: Dtype, shape: &[usize]) -> Frame {
    let len = netgear::wire::byte_size(dtype, shape).unwrap() as usize;
    Frame::new(
        dtype,
        shape.to_vec(),
        (0..len).map(|i| i as u8).collect::<Vec<u8>>(),
    )
    .unwrap()
}

fn jpeg(colorspace: Colorspace, fast: bool) -> Payload {
    // Not a real bitstream: the wire layer does not look inside.
    Payload::Jpeg {
        data: Bytes::from_static(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xd9"),
        compression: Compression {
            fast_dct: fast,
            fast_upsample: !fast,
            colorspace,
        },
    }
}

fn frame_message(port: Option<&str>, message: &str, payload: Payload) -> Vec<Bytes> {
    encode_frame_message(&FrameMessage {
        port: port.map(Value::from),
        message: parse(message.as_bytes()).unwrap(),
        pattern: "1".into(),
        payload,
    })
}

fn reply(port: Option<&str>, data: ReturnData, error: Option<&str>) -> Vec<Bytes> {
    let mut r = Reply::new(data);
    r.port = port.map(Value::from);
    r.error = error.map(str::to_owned);
    encode_reply(&r)
}

/// Valid messages of every kind the encoders make, and a few broken ones,
/// as (name, fuzz input) pairs; the configuration byte cycles through all.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut messages: Vec<(String, Vec<Bytes>)> = Vec::new();
    for dtype in Dtype::ALL {
        for shape in [&[][..], &[0, 3], &[2, 3], &[2, 2, 3]] {
            messages.push((
                format!("frame-{}-{}d", dtype.name(), shape.len()),
                frame_message(None, "null", frame(dtype, shape).into()),
            ));
        }
    }
    for (k, colorspace) in Colorspace::ALL.into_iter().enumerate() {
        messages.push((
            format!("jpeg-{}", colorspace.name()),
            frame_message(None, "\"hello\"", jpeg(colorspace, k % 2 == 0)),
        ));
    }
    let values = [
        "null",
        "\"Hello, I am a Server.\"",
        "[1, 2.5, -0.0, NaN, Infinity, -Infinity]",
        "{\"a\": {\"b\": [true, false, null]}, \"u\": \"\\u00e9\\ud83d\\ude00\"}",
        "1267650600228229401496703205376",
    ];
    for (k, message) in values.iter().enumerate() {
        messages.push((
            format!("message-{k}"),
            frame_message(Some("5566"), message, frame(Dtype::Uint8, &[1, 2]).into()),
        ));
        messages.push((
            format!("reply-json-{k}"),
            reply(
                (k % 2 == 1).then_some("5577"),
                ReturnData::Json(parse(message.as_bytes()).unwrap()),
                None,
            ),
        ));
    }
    messages.push((
        "reply-ndarray".into(),
        reply(
            None,
            ReturnData::Frame(frame(Dtype::Float32, &[2, 2]).into()),
            None,
        ),
    ));
    messages.push((
        "reply-jpeg".into(),
        reply(
            Some("5577"),
            ReturnData::Frame(jpeg(Colorspace::Gray, true)),
            None,
        ),
    ));
    messages.push((
        "reply-error".into(),
        reply(
            None,
            ReturnData::Json(Value::Null),
            Some("size-mismatch: short"),
        ),
    ));
    messages.push(("terminate".into(), encode_terminate(None)));
    messages.push((
        "terminate-port".into(),
        encode_terminate(Some(&Value::from("5566"))),
    ));
    messages.push(("confirmation".into(), encode_confirmation("ABCD1234")));
    messages.push((
        "rejection".into(),
        encode_rejection("ABCD1234", "invalid-json: at byte 3"),
    ));
    messages.push(("terminate-ack".into(), encode_terminate_ack(false)));
    messages.push(("terminate-ack-multi".into(), encode_terminate_ack(true)));
    // Two messages in a row (the harness also feeds the parts two by two).
    let port = Value::from("5566");
    let sequences = [
        (
            "seq-frame-terminate",
            [
                frame_message(Some("5566"), "null", frame(Dtype::Uint8, &[3]).into()),
                encode_terminate(Some(&port)),
            ],
        ),
        (
            "seq-reply-rejection",
            [
                reply(Some("5577"), ReturnData::Json(Value::from(1)), None),
                reply(Some("5578"), ReturnData::Json(Value::Null), Some("x: y")),
            ],
        ),
        (
            "seq-frame-frame",
            [
                frame_message(None, "1", frame(Dtype::Int16, &[2]).into()),
                frame_message(None, "2", jpeg(Colorspace::Rgb, false)),
            ],
        ),
    ];
    for (name, [a, b]) in sequences {
        let mut parts = a;
        parts.extend(b);
        messages.push((name.into(), parts));
    }
    let broken: [(&str, &[&[u8]]); 8] = [
        ("empty", &[]),
        ("empty-part", &[b""]),
        ("three-parts", &[b"{\"terminate_flag\": true}", b"", b""]),
        ("bad-utf8", &[b"{\"terminate_flag\": \xff}"]),
        ("lone-surrogate", &[b"{\"terminate_flag\": true, \"\\udc00\": 1}"]),
        (
            "huge-shape",
            &[
                b"{\"terminate_flag\": false, \"compression\": false, \"pattern\": \"1\", \"dtype\": \"uint64\", \"shape\": [1000000000, 1000000000, 1000000000]}",
                b"abc",
            ],
        ),
        (
            "negative-shape",
            &[
                b"{\"terminate_flag\": false, \"compression\": false, \"pattern\": \"1\", \"dtype\": \"uint8\", \"shape\": [-1, 3]}",
                b"abc",
            ],
        ),
        ("deep", &[&[b'['; 300]]),
    ];
    for (name, parts) in broken {
        messages.push((
            format!("broken-{name}"),
            parts.iter().map(|p| Bytes::copy_from_slice(p)).collect(),
        ));
    }
    let configs = harness::configs().len();
    messages
        .into_iter()
        .enumerate()
        .map(|(k, (name, parts))| {
            let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
            (name, harness::join((k % configs) as u8, &parts))
        })
        .collect()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn split_inverts_join() {
    for (name, input) in seeds() {
        let (config, parts) = harness::split(&input);
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
        assert_eq!(harness::join(config, &refs), input, "{name}");
    }
}

#[test]
fn generated_seeds_pass() {
    for (_, input) in seeds() {
        harness::run(&input);
    }
}

#[test]
fn committed_seeds_pass() {
    let seeds = files(&repo().join("fuzz/seeds/decode"));
    assert!(
        !seeds.is_empty(),
        "fuzz/seeds/decode/ holds the seed corpus"
    );
    for path in seeds {
        let input = std::fs::read(&path).unwrap();
        harness::run(&input);
    }
}

/// Every input that once crashed the fuzz target.
#[test]
fn crash_inputs_pass() {
    for path in files(&repo().join("tests/data/fuzz-regressions")) {
        let input = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        harness::run(&input);
    }
}

#[test]
fn write_seeds() {
    if std::env::var_os("NETGEAR_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    for dir in ["fuzz/seeds/decode", "fuzz/corpus/decode"] {
        let dir = repo().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, input) in seeds() {
            std::fs::write(dir.join(name), input).unwrap();
        }
    }
}
