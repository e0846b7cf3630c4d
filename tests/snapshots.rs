//! The canonical encoding of every message kind, pinned byte for byte.
//!
//! Each snapshot shows part 0 as text and any further part as hex. The
//! expected texts are vidgear 0.3.6's (spec/02-messages.md): keys in
//! vidgear's order, `", "` and `": "` separators, lowercase `\uXXXX` escapes.

use std::time::Instant;

use bytes::Bytes;
use netgear::json::{parse, Value};
use netgear::session::{Client, Config, Pattern, Transmit};
use netgear::wire::{
    encode_confirmation, encode_frame_message, encode_rejection, encode_reply, encode_terminate,
    encode_terminate_ack, Colorspace, Compression, FrameMessage, Parts, Payload, Reply, ReturnData,
};
use netgear::{Dtype, Frame};

/// Part 0 as text, later parts as hex.
fn render(parts: &Parts) -> String {
    let mut out = format!("parts: {}\n", parts.len());
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let text = std::str::from_utf8(part).expect("part 0 is text");
            assert!(text.is_ascii(), "part 0 must be ASCII: {text:?}");
            out.push_str(&format!("0: {text}\n"));
        } else {
            out.push_str(&format!(
                "{i}: {} ({} bytes)\n",
                hex::encode(part),
                part.len()
            ));
        }
    }
    out
}

fn json(text: &str) -> Value {
    parse(text.as_bytes()).unwrap()
}

fn raw_frame() -> Frame {
    Frame::new(Dtype::Uint8, vec![2, 2, 3], (0u8..12).collect::<Vec<_>>()).unwrap()
}

fn frame_msg(message: Value, pattern: &str) -> FrameMessage {
    FrameMessage {
        port: None,
        message,
        pattern: pattern.into(),
        payload: raw_frame().into(),
    }
}

const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9];

fn jpeg(colorspace: Colorspace, fast_dct: bool, fast_upsample: bool) -> Payload {
    Payload::Jpeg {
        data: Bytes::from_static(JPEG),
        compression: Compression {
            fast_dct,
            fast_upsample,
            colorspace,
        },
    }
}

#[test]
fn frame_header_plain() {
    insta::assert_snapshot!(
        "frame_header_plain",
        render(&encode_frame_message(&frame_msg(Value::Null, "1")))
    );
}

#[test]
fn frame_header_messages_of_each_kind() {
    let cases = [
        ("null", "null"),
        ("bool", "true"),
        ("int", "-12345678901234567890123"),
        ("string", "\"h\\u00e9llo \\\"w\\\\orld\\\"\\n\\t\\u0001\\u007f \\u20ac \\ud83c\\udfa5 /\""),
        ("list", "[1, \"two\", 3.5, [], {}]"),
        ("dict", "{\"frame_no\": 17, \"label\": \"cam-1\", \"boxes\": [[0, 0, 4, 4]], \"z\": null, \"a\": false}"),
    ];
    for (name, text) in cases {
        let parts = encode_frame_message(&frame_msg(json(text), "0"));
        insta::assert_snapshot!(format!("frame_header_message_{name}"), render(&parts));
    }
    // Floats are built from f64 values, so this pins Python's repr layout.
    let floats = [
        0.1,
        1e16,
        1e15,
        1e-5,
        1e-4,
        -0.0,
        2.5,
        5e-324,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let message = Value::Array(floats.iter().map(|&x| Value::from(x)).collect());
    let parts = encode_frame_message(&frame_msg(message, "0"));
    insta::assert_snapshot!("frame_header_message_float", render(&parts));
}

#[test]
fn frame_header_message_from_non_ascii_text() {
    // The same string given as UTF-8 rather than escapes.
    let parts = encode_frame_message(&frame_msg(Value::from("h\u{e9}llo \u{1f3a5}\u{0}"), "2"));
    insta::assert_snapshot!("frame_header_message_unicode", render(&parts));
}

#[test]
fn frame_header_multiserver_port() {
    let mut msg = frame_msg(Value::from("hi"), "1");
    msg.port = Some(Value::from("5566"));
    insta::assert_snapshot!(
        "frame_header_multiserver_port_string",
        render(&encode_frame_message(&msg))
    );
    msg.port = Some(Value::from(5567));
    msg.pattern = "2".into();
    insta::assert_snapshot!(
        "frame_header_multiserver_port_int",
        render(&encode_frame_message(&msg))
    );
}

#[test]
fn frame_header_jpeg() {
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "1".into(),
        payload: jpeg(Colorspace::Bgr, true, false),
    };
    insta::assert_snapshot!("frame_header_jpeg_bgr", render(&encode_frame_message(&msg)));
    let msg = FrameMessage {
        port: Some(Value::from("5566")),
        message: json("[1, \"two\", 3.5]"),
        pattern: "0".into(),
        payload: jpeg(Colorspace::Gray, false, true),
    };
    insta::assert_snapshot!(
        "frame_header_jpeg_gray_port",
        render(&encode_frame_message(&msg))
    );
}

#[test]
fn frame_header_other_dtypes() {
    let f = Frame::new(
        Dtype::Float32,
        vec![2],
        [1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat(),
    )
    .unwrap();
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "1".into(),
        payload: f.into(),
    };
    insta::assert_snapshot!("frame_header_float32", render(&encode_frame_message(&msg)));
    let f = Frame::new(Dtype::Bool, vec![], vec![1]).unwrap();
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "1".into(),
        payload: f.into(),
    };
    insta::assert_snapshot!("frame_header_bool_0d", render(&encode_frame_message(&msg)));
}

#[test]
fn termination() {
    insta::assert_snapshot!("terminate_plain", render(&encode_terminate(None)));
    insta::assert_snapshot!(
        "terminate_multiserver_string",
        render(&encode_terminate(Some(&Value::from("5566"))))
    );
    insta::assert_snapshot!(
        "terminate_multiserver_int",
        render(&encode_terminate(Some(&Value::from(5567))))
    );
}

#[test]
fn replies_with_json_data() {
    let cases = [
        ("null", "null"),
        ("bool", "true"),
        ("int", "42"),
        ("big_int", "1267650600228229401496703205376"),
        ("float", "0.5"),
        ("nan", "NaN"),
        ("str", "\"ok \\u00e9\""),
        ("list", "[1, 2.5, \"x\"]"),
        ("dict", "{\"faces\": 2, \"scores\": [0.91, 0.47]}"),
    ];
    for (name, text) in cases {
        let parts = encode_reply(&Reply::new(ReturnData::Json(json(text))));
        insta::assert_snapshot!(format!("reply_json_{name}"), render(&parts));
    }
}

#[test]
fn frame_replies() {
    let f = Frame::new(Dtype::Uint8, vec![2, 2], vec![1, 2, 3, 4]).unwrap();
    insta::assert_snapshot!(
        "reply_frame_raw",
        render(&encode_reply(&Reply::new(f.into())))
    );
    let f = Frame::new(
        Dtype::Int16,
        vec![3],
        [1i16, -1, 256]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    insta::assert_snapshot!(
        "reply_frame_raw_int16",
        render(&encode_reply(&Reply::new(f.into())))
    );
    let reply = Reply::new(ReturnData::Frame(jpeg(Colorspace::Rgb, true, false)));
    insta::assert_snapshot!("reply_frame_jpeg", render(&encode_reply(&reply)));
}

#[test]
fn multiclient_replies_with_port() {
    let mut reply = Reply::new(ReturnData::Json(Value::from("ok")));
    reply.port = Some(Value::from("5577"));
    insta::assert_snapshot!("reply_multiclient_json", render(&encode_reply(&reply)));
    let f = Frame::new(Dtype::Uint8, vec![1, 2], vec![9, 8]).unwrap();
    let mut reply = Reply::new(f.into());
    reply.port = Some(Value::from(5578));
    insta::assert_snapshot!("reply_multiclient_frame", render(&encode_reply(&reply)));
}

/// The rejection answer exactly as a client machine sends it for a bad frame.
fn client_answer(config: Config, parts: Parts) -> Parts {
    let mut client = Client::new(config, "ABCD1234", Instant::now()).unwrap();
    client.handle_message(parts, Instant::now());
    match client.poll_transmit() {
        Some(Transmit::Send(p)) => p,
        other => panic!("no answer: {other:?}"),
    }
}

#[test]
fn rejection_replies() {
    let bad = vec![Bytes::from_static(br#"{"terminate_flag": false, "compression": false, "message": null, "pattern": "1", "dtype": "object", "shape": [2]}"#), Bytes::from_static(b"xx")];
    let bidirectional = Config::new().bidirectional(true);
    insta::assert_snapshot!(
        "reply_rejection",
        render(&client_answer(bidirectional, bad.clone()))
    );
    let multiclient = Config::new()
        .multiclient(true)
        .pattern(Pattern::ReqRep)
        .port(Value::from("5577"));
    insta::assert_snapshot!(
        "reply_rejection_multiclient",
        render(&client_answer(multiclient, bad.clone()))
    );
    insta::assert_snapshot!(
        "rejection_string_from_client",
        render(&client_answer(Config::default(), bad))
    );
    insta::assert_snapshot!(
        "rejection_string",
        render(&encode_rejection(
            "ABCD1234",
            "size-mismatch: the payload is short"
        ))
    );
    let mut reply = Reply::new(ReturnData::Json(Value::Null));
    reply.error = Some("invalid-json: caf\u{e9}".into());
    insta::assert_snapshot!("reply_rejection_non_ascii", render(&encode_reply(&reply)));
}

#[test]
fn confirmation() {
    insta::assert_snapshot!("confirmation", render(&encode_confirmation("ABCD1234")));
    let good = encode_frame_message(&frame_msg(Value::Null, "0"));
    insta::assert_snapshot!(
        "confirmation_from_client",
        render(&client_answer(Config::default(), good))
    );
}

#[test]
fn termination_acks() {
    insta::assert_snapshot!("terminate_ack", render(&encode_terminate_ack(false)));
    insta::assert_snapshot!(
        "terminate_ack_multiserver",
        render(&encode_terminate_ack(true))
    );
}
