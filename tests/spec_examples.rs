//! Every example in spec/ is executed here, so the spec cannot drift from
//! the code. An example is a fenced block with the info string
//! `example <kind>`: `key: value` input lines, a `---` line, then the exact
//! expected output (see spec/README.md).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use netgear::json::{self, Number, Value};
use netgear::wire::{
    self, decode_server_message, encode_confirmation, encode_frame_header, encode_reply,
    encode_terminate, encode_terminate_ack, Colorspace, Compression, FrameMessage, Limits, Payload,
    Reply, ReturnData,
};
use netgear::{Dtype, Frame};

struct Example {
    file: PathBuf,
    line: usize,
    kind: String,
    inputs: BTreeMap<String, String>,
    expected: String,
}

fn examples() -> Vec<Example> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("spec/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("readable spec file");
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        // The fence of a non-example code block we are inside, if any:
        // examples shown *inside* other blocks (as in README.md) are prose.
        let mut other_fence: Option<&str> = None;
        while i < lines.len() {
            let line = lines[i].trim_start();
            if let Some(fence) = other_fence {
                if line.starts_with(fence) && line.trim_start_matches('`').trim().is_empty() {
                    other_fence = None;
                }
                i += 1;
                continue;
            }
            let Some(kind) = line.strip_prefix("```example ") else {
                if line.starts_with("```") {
                    let ticks = line.len() - line.trim_start_matches('`').len();
                    other_fence = Some(&lines[i].trim_start()[..ticks]);
                }
                i += 1;
                continue;
            };
            let start = i + 1;
            let mut inputs = BTreeMap::new();
            let mut j = start;
            while j < lines.len() && lines[j] != "---" {
                let (k, v) = lines[j].split_once(':').unwrap_or_else(|| {
                    panic!("{}:{}: expected `key: value`", file.display(), j + 1)
                });
                inputs.insert(
                    k.trim().to_owned(),
                    v.strip_prefix(' ').unwrap_or(v).to_owned(),
                );
                j += 1;
            }
            let mut k = j + 1;
            let mut expected = Vec::new();
            while k < lines.len() && !lines[k].trim_start().starts_with("```") {
                expected.push(lines[k]);
                k += 1;
            }
            assert!(
                j < lines.len() && k < lines.len(),
                "{}:{}: unterminated example",
                file.display(),
                i + 1
            );
            out.push(Example {
                file: file.clone(),
                line: i + 1,
                kind: kind.trim().to_owned(),
                inputs,
                expected: expected.join("\n"),
            });
            i = k + 1;
        }
    }
    out
}

fn value(text: &str) -> Value {
    json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("example JSON {text:?}: {e}"))
}

fn shape(text: &str) -> Vec<usize> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|d| d.trim().parse().expect("shape"))
        .collect()
}

fn flag(inputs: &BTreeMap<String, String>, key: &str, default: bool) -> bool {
    inputs.get(key).map_or(default, |v| v.trim() == "true")
}

/// A payload from the example's inputs: a zero-filled raw frame, or JPEG bytes.
fn payload(inputs: &BTreeMap<String, String>) -> Payload {
    if let Some(cs) = inputs.get("jpeg") {
        let compression = Compression {
            fast_dct: flag(inputs, "dct", true),
            fast_upsample: flag(inputs, "ups", false),
            colorspace: cs.parse::<Colorspace>().expect("colorspace"),
        };
        return Payload::Jpeg {
            data: Bytes::from_static(b"\xff\xd8\xff\xd9"),
            compression,
        };
    }
    let dtype: Dtype = inputs
        .get("dtype")
        .map_or("uint8", String::as_str)
        .trim()
        .parse()
        .expect("dtype");
    let shape = shape(inputs.get("shape").map_or("", String::as_str));
    let size = wire::byte_size(dtype, &shape).expect("small example") as usize;
    Payload::Raw(Frame::new(dtype, shape, vec![0u8; size]).expect("frame"))
}

fn text(parts: &[Bytes]) -> String {
    String::from_utf8(parts[0].to_vec()).expect("ASCII part")
}

fn run(ex: &Example) -> String {
    let inp = &ex.inputs;
    let port = inp.get("port").map(|p| value(p));
    match ex.kind.as_str() {
        "frame-header" => {
            let msg = FrameMessage {
                port,
                message: inp.get("message").map_or(Value::Null, |m| value(m)),
                pattern: inp.get("pattern").map_or("0", |p| p.trim()).to_owned(),
                payload: payload(inp),
            };
            String::from_utf8(encode_frame_header(&msg)).expect("ASCII header")
        }
        "terminate" => text(&encode_terminate(port.as_ref())),
        "reply" => {
            let mut reply = Reply::new(ReturnData::Json(value(&inp["data"])));
            reply.port = port;
            reply.error = inp.get("error").cloned();
            text(&encode_reply(&reply))
        }
        "frame-reply" => {
            let mut reply = Reply::new(ReturnData::Frame(payload(inp)));
            reply.port = port;
            text(&encode_reply(&reply))
        }
        "confirmation" => text(&encode_confirmation(inp["device"].trim())),
        "terminate-ack" => text(&encode_terminate_ack(flag(inp, "multiserver", false))),
        "json" => {
            let v = if let Some(f) = inp.get("float") {
                Value::Number(Number::from(f.trim().parse::<f64>().expect("f64 literal")))
            } else if let Some(s) = inp.get("string") {
                value(s)
            } else if let Some(i) = inp.get("int") {
                Value::Number(Number::from(
                    i.trim().parse::<i128>().expect("i128 literal"),
                ))
            } else if let Some(v) = inp.get("value") {
                value(v)
            } else {
                panic!("json example needs float, string, int or value")
            };
            v.to_python_json()
        }
        "decode" => {
            let parts_wanted: usize = inp
                .get("parts")
                .map_or(2, |p| p.trim().parse().expect("parts"));
            let payload_len: usize = inp
                .get("payload-len")
                .map_or(0, |p| p.trim().parse().expect("payload-len"));
            let mut parts = vec![Bytes::from(inp.get("header").cloned().unwrap_or_default())];
            if parts_wanted >= 2 {
                parts.push(Bytes::from(vec![0u8; payload_len]));
            }
            parts.extend((2..parts_wanted).map(|_| Bytes::new()));
            parts.truncate(parts_wanted);
            match decode_server_message(&parts, &Limits::default()) {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("error {}", e.code()),
            }
        }
        other => panic!("unknown example kind {other:?}"),
    }
}

#[test]
fn every_spec_example_holds() {
    let all = examples();
    assert!(
        all.len() >= 40,
        "the spec should carry at least 40 examples, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for ex in &all {
        let got = run(ex);
        if got != ex.expected {
            failures.push(format!(
                "{}:{} ({})\n  expected: {}\n  got:      {}",
                ex.file.display(),
                ex.line,
                ex.kind,
                ex.expected,
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} spec examples fail:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn every_message_kind_has_an_example() {
    let kinds: std::collections::BTreeSet<String> =
        examples().into_iter().map(|e| e.kind).collect();
    for kind in [
        "frame-header",
        "terminate",
        "reply",
        "frame-reply",
        "confirmation",
        "terminate-ack",
        "json",
        "decode",
    ] {
        assert!(kinds.contains(kind), "spec/ has no `example {kind}` block");
    }
}
