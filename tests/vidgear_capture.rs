//! Byte-identity with vidgear 0.3.6 (spec/02, spec/04): every message in
//! tests/data/vidgear-0.3.6-capture.json was written by real vidgear
//! (recorded by conformance/python/capture.py). For each, the crate must
//! encode the same values to the same bytes, decode the bytes back to the
//! same values, and — for client messages — a `session::Client` fed
//! vidgear's request must answer exactly as vidgear's client did.

use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::json::{self, Value};
use netgear::session::{Client, Config, Pattern, Transmit};
use netgear::wire::{
    decode_client_message, decode_server_message, encode_confirmation, encode_frame_message,
    encode_reply, encode_terminate, encode_terminate_ack, ClientMessage, Colorspace, Compression,
    FrameMessage, Limits, Payload, Reply, ReplyKind, ReturnData, ServerMessage,
};
use netgear::{Dtype, Frame};

fn records() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/vidgear-0.3.6-capture.json"
    );
    let text = std::fs::read(path).expect("capture file");
    match json::parse_with_depth(&text, 1000).expect("capture is JSON") {
        Value::Array(records) => records,
        other => panic!("capture is not a list: {}", other.python_type()),
    }
}

fn s<'a>(r: &'a Value, key: &str) -> &'a str {
    r.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record lacks {key}"))
}

/// The record's Python value was a tuple.
fn is_tuple(r: &Value) -> bool {
    r.get("python_value_repr")
        .and_then(Value::as_str)
        .is_some_and(|p| p.starts_with('('))
}

fn flag(r: &Value, key: &str) -> bool {
    r.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn parts(r: &Value, key: &str) -> Vec<Bytes> {
    match r.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|h| Bytes::from(hex::decode(h.as_str().expect("hex string")).expect("hex")))
            .collect(),
        _ => panic!("{} lacks {key}", s(r, "name")),
    }
}

/// The synthetic frame the capture used: element i is i mod 251.
fn synthetic(spec: &Value) -> Frame {
    assert_eq!(
        spec.get("fill").and_then(Value::as_str),
        Some("synthetic-k0")
    );
    let dtype: Dtype = s(spec, "dtype").parse().expect("dtype");
    let shape: Vec<usize> = match spec.get("shape") {
        Some(Value::Array(d)) => d
            .iter()
            .map(|v| v.as_i64().expect("dim") as usize)
            .collect(),
        _ => panic!("shape"),
    };
    let n: usize = shape.iter().product();
    let mut data = Vec::with_capacity(n * dtype.itemsize());
    for i in 0..n {
        let v = (i % 251) as u8;
        match dtype {
            Dtype::Bool => data.push(u8::from(v != 0)),
            Dtype::Int8 | Dtype::Uint8 => data.push(v),
            Dtype::Int16 | Dtype::Uint16 => data.extend_from_slice(&u16::from(v).to_le_bytes()),
            Dtype::Int32 | Dtype::Uint32 => data.extend_from_slice(&u32::from(v).to_le_bytes()),
            Dtype::Int64 | Dtype::Uint64 => data.extend_from_slice(&u64::from(v).to_le_bytes()),
            Dtype::Float16 => {
                data.extend_from_slice(&half::f16::from_f32(f32::from(v)).to_le_bytes())
            }
            Dtype::Float32 => data.extend_from_slice(&f32::from(v).to_le_bytes()),
            Dtype::Float64 => data.extend_from_slice(&f64::from(v).to_le_bytes()),
        }
    }
    Frame::new(dtype, shape, data).expect("synthetic frame")
}

fn port(r: &Value) -> Option<Value> {
    r.get("port").filter(|p| !p.is_null()).cloned()
}

/// The JSON value the record carries, or `None` for the lone-surrogate
/// strings Rust cannot hold (checked separately).
fn value(r: &Value) -> Option<Value> {
    let text = s(r, "message_json");
    match json::parse(text.as_bytes()) {
        Ok(v) => Some(v),
        Err(json::JsonError::LoneSurrogate { .. }) => None,
        Err(e) => panic!("{}: {e}", s(r, "name")),
    }
}

fn jpeg_colorspace(r: &Value) -> Option<Colorspace> {
    let opts = r.get("jpeg_options").filter(|o| !o.is_null())?;
    Some(s(opts, "jpeg_compression").parse().expect("colorspace"))
}

fn show(parts: &[Bytes]) -> String {
    parts
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn the_capture_covers_every_message_kind() {
    let all = records();
    assert!(all.len() > 400, "{} records", all.len());
    for kind in [
        "frame",
        "terminate",
        "reply",
        "confirmation",
        "terminate-ack",
    ] {
        assert!(all.iter().any(|r| s(r, "kind") == kind), "no {kind} record");
    }
}

#[test]
fn server_messages_are_byte_identical_to_vidgear() {
    let mut checked = 0;
    for r in records()
        .iter()
        .filter(|r| s(r, "direction") == "server-to-client")
    {
        let name = s(r, "name");
        let mut wire = parts(r, "parts_hex");
        if name.contains("-router-") {
            // A ROUTER sees [identity, request id, "", ...message]: keep the message.
            let n = if s(r, "kind") == "frame" { 2 } else { 1 };
            wire = wire.split_off(wire.len() - n);
        }
        let ours = match s(r, "kind") {
            "terminate" => encode_terminate(port(r).as_ref()),
            "frame" => {
                let Some(message) = value(r) else {
                    let err = decode_server_message(&wire, &Limits::default()).unwrap_err();
                    assert_eq!(err.code(), "lone-surrogate", "{name}");
                    continue;
                };
                let frame = synthetic(r.get("frame").expect("frame"));
                let payload = match jpeg_colorspace(r) {
                    Some(colorspace) => Payload::Jpeg {
                        data: wire[1].clone(),
                        compression: Compression {
                            colorspace,
                            ..Compression::default()
                        },
                    },
                    None => Payload::Raw(frame),
                };
                let pattern = r
                    .get("pattern")
                    .and_then(Value::as_i64)
                    .expect("pattern")
                    .to_string();
                let msg = FrameMessage {
                    port: port(r),
                    message,
                    pattern,
                    payload,
                };
                // Decoding vidgear's bytes gives back exactly these values.
                assert_eq!(
                    decode_server_message(&wire, &Limits::default()).expect(name),
                    ServerMessage::Frame(msg.clone()),
                    "{name}"
                );
                encode_frame_message(&msg)
            }
            other => panic!("{name}: unexpected kind {other}"),
        };
        assert_eq!(
            ours,
            wire,
            "{name}:\n ours:    {}\n vidgear: {}",
            show(&ours),
            show(&wire)
        );
        checked += 1;
    }
    assert!(checked >= 380, "only {checked} server messages checked");
}

fn config_of(r: &Value) -> Config {
    Config::new()
        .pattern(
            Pattern::try_from(r.get("pattern").and_then(Value::as_i64).expect("pattern") as u8)
                .expect("pattern"),
        )
        .bidirectional(flag(r, "bidirectional"))
        .multiserver(flag(r, "multiserver"))
        .multiclient(flag(r, "multiclient"))
        .port(port(r))
        .request_timeout(Duration::from_secs(4))
}

#[test]
fn client_messages_are_byte_identical_to_vidgear() {
    let mut checked = 0;
    for r in records()
        .iter()
        .filter(|r| s(r, "direction") == "client-to-server")
    {
        let name = s(r, "name");
        let wire = parts(r, "parts_hex");
        let device = r
            .get("device_id")
            .and_then(Value::as_str)
            .unwrap_or("ABCDEFGH");
        let config = config_of(r);
        // What the client answers with, as a value.
        let (ours, return_data) = match s(r, "kind") {
            "confirmation" => (encode_confirmation(device), None),
            "terminate-ack" => (encode_terminate_ack(config.multiserver), None),
            "reply" => {
                let data = match r.get("return_frame").filter(|f| !f.is_null()) {
                    Some(spec) => ReturnData::Frame(Payload::Raw(synthetic(spec))),
                    None => match value(r) {
                        Some(v) => ReturnData::Json(v),
                        None => {
                            let err =
                                decode_client_message(&wire, ReplyKind::Reply, &Limits::default())
                                    .unwrap_err();
                            assert_eq!(err.code(), "lone-surrogate", "{name}");
                            continue;
                        }
                    },
                };
                let mut reply = Reply::new(data.clone());
                reply.port = port(r).filter(|_| config.multiclient);
                // A Python tuple is a JSON list; only return_type tells them
                // apart, and Rust has no tuple to derive it from.
                if is_tuple(r) {
                    reply.return_type = "tuple".into();
                }
                assert_eq!(
                    decode_client_message(&wire, ReplyKind::Reply, &Limits::default()).expect(name),
                    ClientMessage::Reply(reply.clone()),
                    "{name}"
                );
                (encode_reply(&reply), Some(data))
            }
            other => panic!("{name}: unexpected kind {other}"),
        };
        assert_eq!(
            ours,
            wire,
            "{name}:\n ours:    {}\n vidgear: {}",
            show(&ours),
            show(&wire)
        );

        // The state machine, fed vidgear's request, answers as vidgear did.
        let now = Instant::now();
        let mut client = Client::new(config, device, now).expect("valid config");
        if let Some(data) = return_data {
            client.set_return_data(data);
        }
        client.handle_message(parts(r, "request_parts_hex"), now);
        let wire = if is_tuple(r) {
            // The machine derives "list" for an array (see above).
            let text = String::from_utf8(wire[0].to_vec()).expect("ASCII");
            vec![Bytes::from(text.replacen(
                "\"return_type\": \"tuple\"",
                "\"return_type\": \"list\"",
                1,
            ))]
        } else {
            wire
        };
        match client.poll_transmit() {
            Some(Transmit::Send(answer)) => {
                assert_eq!(
                    answer,
                    wire,
                    "{name}: the client machine answered\n {}\nvidgear:\n {}",
                    show(&answer),
                    show(&wire)
                )
            }
            other => panic!("{name}: the client machine did not answer: {other:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 70, "only {checked} client messages checked");
}
