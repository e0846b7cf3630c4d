//! The codec's cost per message: frame headers, frames, replies.
//!
//! ```text
//! cargo bench --bench wire
//! ```
//!
//! Decoding a frame must not copy its payload: the setup of each frame
//! benchmark asserts that the decoded frame's bytes are the received
//! part's bytes (same pointer), so the time is independent of frame size.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use netgear::json::{self, Value};
use netgear::wire::{
    decode_client_message, decode_server_message, encode_confirmation, encode_frame_header,
    encode_frame_message, encode_reply, ClientMessage, Colorspace, Compression, FrameMessage,
    Limits, Reply, ReplyKind, ServerMessage,
};
use netgear::{Dtype, Frame, Payload, ReturnData};

const SHAPES: [[usize; 3]; 3] = [[1, 1, 3], [480, 640, 3], [1080, 1920, 3]];

fn frame(shape: [usize; 3]) -> Frame {
    let n: usize = shape.iter().product();
    Frame::new(Dtype::Uint8, shape.to_vec(), vec![7u8; n]).expect("frame")
}

fn frame_message(payload: Payload, message: Value) -> FrameMessage {
    FrameMessage {
        port: None,
        message,
        pattern: "0".into(),
        payload,
    }
}

fn name(shape: [usize; 3]) -> String {
    format!("{}x{}x{}", shape[0], shape[1], shape[2])
}

fn a_message() -> Value {
    json::parse(br#"{"camera": "front-door", "t": 1712345678.25, "tags": [1, 2, 3]}"#)
        .expect("json")
}

fn header(c: &mut Criterion) {
    let mut g = c.benchmark_group("header");
    let raw = frame_message(frame([480, 640, 3]).into(), Value::Null);
    let with_message = frame_message(frame([480, 640, 3]).into(), a_message());
    let jpeg = frame_message(
        Payload::Jpeg {
            data: Bytes::from_static(b"\xff\xd8\xff\xd9"),
            compression: Compression {
                fast_dct: true,
                fast_upsample: false,
                colorspace: Colorspace::Bgr,
            },
        },
        Value::Null,
    );
    for (label, msg) in [
        ("raw", &raw),
        ("raw+message", &with_message),
        ("jpeg", &jpeg),
    ] {
        g.bench_function(BenchmarkId::new("encode", label), |b| {
            b.iter(|| encode_frame_header(black_box(msg)))
        });
        let bytes = encode_frame_header(msg);
        g.bench_function(BenchmarkId::new("decode", label), |b| {
            b.iter(|| json::parse(black_box(&bytes)).expect("header"))
        });
    }
    g.finish();
}

fn frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    let limits = Limits::default();
    for shape in SHAPES {
        let parts = encode_frame_message(&frame_message(frame(shape).into(), Value::Null));
        // Setup check: the decoded frame shares the received payload.
        match decode_server_message(&parts, &limits).expect("decode") {
            ServerMessage::Frame(f) => {
                assert_eq!(
                    f.payload.bytes().as_ptr(),
                    parts[1].as_ptr(),
                    "payload copied"
                );
                assert_eq!(f.payload.bytes().len(), parts[1].len());
            }
            other => panic!("{other:?}"),
        }
        g.bench_function(BenchmarkId::new("decode", name(shape)), |b| {
            b.iter(|| decode_server_message(black_box(&parts), &limits).expect("decode"))
        });
        let msg = frame_message(frame(shape).into(), Value::Null);
        g.bench_function(BenchmarkId::new("encode", name(shape)), |b| {
            b.iter(|| encode_frame_message(black_box(&msg)))
        });
    }
    g.finish();
}

fn replies(c: &mut Criterion) {
    let mut g = c.benchmark_group("reply");
    let limits = Limits::default();
    let json_reply = Reply::new(ReturnData::Json(a_message()));
    let frame_reply = Reply::new(ReturnData::Frame(frame([480, 640, 3]).into()));
    for (label, reply) in [("json", &json_reply), ("frame", &frame_reply)] {
        g.bench_function(BenchmarkId::new("encode", label), |b| {
            b.iter(|| encode_reply(black_box(reply)))
        });
        let parts = encode_reply(reply);
        if let Some(payload) = parts.get(1) {
            match decode_client_message(&parts, ReplyKind::Reply, &limits).expect("decode") {
                ClientMessage::Reply(Reply {
                    data: ReturnData::Frame(p),
                    ..
                }) => assert_eq!(p.bytes().as_ptr(), payload.as_ptr(), "payload copied"),
                other => panic!("{other:?}"),
            }
        }
        g.bench_function(BenchmarkId::new("decode", label), |b| {
            b.iter(|| {
                decode_client_message(black_box(&parts), ReplyKind::Reply, &limits).expect("decode")
            })
        });
    }
    g.bench_function(BenchmarkId::new("encode", "confirmation"), |b| {
        b.iter(|| encode_confirmation(black_box("ABCD1234")))
    });
    let confirmation = encode_confirmation("ABCD1234");
    g.bench_function(BenchmarkId::new("decode", "confirmation"), |b| {
        b.iter(|| {
            decode_client_message(black_box(&confirmation), ReplyKind::Confirmation, &limits)
                .expect("decode")
        })
    });
    g.finish();
}

criterion_group!(benches, header, frames, replies);
criterion_main!(benches);
