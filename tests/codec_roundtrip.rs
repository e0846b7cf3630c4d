//! Property tests of the sans-IO core: JSON, the wire codec and the session
//! machines, driven by proptest.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::json::{parse, to_python_json, Map, Number, Value};
use netgear::session::{
    Client, ClientEvent, ClientState, Config, Delivery, Pattern, SendError, Server, ServerEvent,
    ServerState, Transmit,
};
use netgear::wire::{
    confirmation_text, decode_client_message, decode_server_message, encode_frame_message,
    encode_reply, encode_terminate, ClientMessage, Colorspace, Compression, FrameMessage, Limits,
    Parts, Payload, Reply, ReplyKind, ReturnData, ServerMessage,
};
use netgear::{Dtype, Frame};
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Characters that stress the string escaper: control characters, quotes,
/// backslashes, DEL, BMP and astral characters, and anything at all.
fn arb_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('/'),
        1 => Just('\u{7f}'),
        2 => (0x20u32..0x7f).prop_map(|c| char::from_u32(c).unwrap()),
        2 => (0x10000u32..=0x10FFFF).prop_filter_map("valid scalar", char::from_u32),
        1 => (0x80u32..0xD800).prop_filter_map("valid scalar", char::from_u32),
        1 => (0xE000u32..0x10000).prop_filter_map("valid scalar", char::from_u32),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(arb_char(), 0..16).prop_map(|cs| cs.into_iter().collect())
}

fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(0.0),
        1 => (1u64..(1 << 52)).prop_map(f64::from_bits), // positive subnormals
        1 => (1u64..(1 << 52)).prop_map(|b| -f64::from_bits(b)),
        1 => (-400i32..400).prop_map(|e| 10f64.powi(e)),
    ]
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u128>().prop_map(Number::from),
        arb_f64().prop_map(Number::from),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number().prop_map(Value::Number),
        arb_string().prop_map(Value::String),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((arb_string(), inner), 0..6).prop_map(|members| {
                // Keys made unique: a later duplicate is simply dropped.
                let mut seen = HashSet::new();
                let map: Map = members
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .collect();
                Value::Object(map)
            }),
        ]
    })
}

fn arb_dtype() -> impl Strategy<Value = Dtype> {
    select(Dtype::ALL.to_vec())
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    (arb_dtype(), proptest::collection::vec(0usize..5, 0..=4)).prop_flat_map(|(dtype, shape)| {
        let len = shape.iter().product::<usize>() * dtype.itemsize();
        proptest::collection::vec(any::<u8>(), len)
            .prop_map(move |data| Frame::new(dtype, shape.clone(), data).expect("consistent frame"))
    })
}

fn arb_compression() -> impl Strategy<Value = Compression> {
    (
        any::<bool>(),
        any::<bool>(),
        select(Colorspace::ALL.to_vec()),
    )
        .prop_map(|(fast_dct, fast_upsample, colorspace)| Compression {
            fast_dct,
            fast_upsample,
            colorspace,
        })
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        3 => arb_frame().prop_map(Payload::Raw),
        1 => (proptest::collection::vec(any::<u8>(), 0..64), arb_compression())
            .prop_map(|(data, compression)| Payload::Jpeg { data: Bytes::from(data), compression }),
    ]
}

fn arb_port() -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(prop_oneof![
        (1024u16..).prop_map(|p| Value::from(p.to_string())),
        (1024u16..).prop_map(Value::from),
        arb_leaf(),
    ])
}

fn arb_pattern_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["0".to_owned(), "1".to_owned(), "2".to_owned()]),
        arb_string()
    ]
}

fn arb_frame_message() -> impl Strategy<Value = FrameMessage> {
    (arb_port(), arb_value(), arb_pattern_text(), arb_payload()).prop_map(
        |(port, message, pattern, payload)| FrameMessage {
            port,
            message,
            pattern,
            payload,
        },
    )
}

fn arb_return_data() -> impl Strategy<Value = ReturnData> {
    prop_oneof![
        arb_value().prop_map(ReturnData::Json),
        arb_payload().prop_map(ReturnData::Frame)
    ]
}

fn arb_reply() -> impl Strategy<Value = Reply> {
    (
        arb_return_data(),
        arb_port(),
        proptest::option::of(arb_string()),
    )
        .prop_map(|(data, port, error)| {
            let mut reply = Reply::new(data);
            reply.port = port;
            reply.error = error;
            reply
        })
}

fn arb_parts() -> impl Strategy<Value = Vec<Bytes>> {
    proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from),
        0..4,
    )
}

/// How [`respell`] writes a JSON text again.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    /// Write every ASCII letter of every key and string as a `\u` escape.
    escape_letters: bool,
    /// Write a zero dimension of a shape as `-0` (Python's int 0; only in
    /// shapes, since a message keeps the literal text of its numbers).
    negative_zero: bool,
    /// Whitespace around every token.
    space: &'static str,
}

fn arb_spelling() -> impl Strategy<Value = Spelling> {
    (
        any::<bool>(),
        any::<bool>(),
        select(vec!["", " ", "\n\t ", "\r\n"]),
    )
        .prop_map(|(escape_letters, negative_zero, space)| Spelling {
            escape_letters,
            negative_zero,
            space,
        })
}

/// The JSON text `text`, written again in `style`: the same document to
/// Python's `json.loads`.
fn respell(text: &[u8], style: Spelling) -> Bytes {
    fn string(s: &str, style: Spelling, out: &mut String) {
        let mut plain = Vec::new();
        netgear::json::write_python_json(&Value::String(s.to_owned()), &mut plain);
        let plain = String::from_utf8(plain).expect("ASCII");
        if !style.escape_letters {
            out.push_str(&plain);
            return;
        }
        // Letters outside escapes only: a `\u00e9` keeps its hex digits.
        let mut chars = plain.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                out.push(c);
                let escaped = chars.next();
                out.extend(escaped);
                if escaped == Some('u') {
                    out.extend(chars.by_ref().take(4));
                }
            } else if c.is_ascii_alphabetic() {
                out.push_str(&format!("\\u{:04X}", c as u32));
            } else {
                out.push(c);
            }
        }
    }
    fn write(v: &Value, style: Spelling, in_shape: bool, out: &mut String) {
        let sp = style.space;
        match v {
            Value::String(s) => string(s, style, out),
            Value::Number(n) if in_shape && style.negative_zero && n.as_str() == "0" => {
                out.push_str("-0")
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(sp);
                    write(item, style, in_shape, out);
                    out.push_str(sp);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(sp);
                    string(k, style, out);
                    out.push_str(sp);
                    out.push(':');
                    out.push_str(sp);
                    let shape = k == "shape" || k == "array_shape";
                    write(item, style, shape, out);
                    out.push_str(sp);
                }
                out.push('}');
            }
            scalar => out.push_str(&to_python_json(scalar)),
        }
    }
    let value = parse(text).expect("an encoder's output parses");
    let mut out = String::from(style.space);
    write(&value, style, false, &mut out);
    out.push_str(style.space);
    Bytes::from(out)
}

/// A byte-level mutation of a valid text.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize),
    Splice(usize, &'static [u8]),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (
            any::<usize>(),
            select(vec![
                &b"-1"[..],
                b"1e400",
                b"99999999999999999999999",
                b"\"",
                b"\\ud800",
                b"[",
                b"{",
                b"}",
                b"NaN",
                b"true",
                b"null",
                b",",
                b"\"dtype\": \"object\"",
                b"\xff",
                b"\xc3",
            ])
        )
            .prop_map(|(i, s)| Mutation::Splice(i, s)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, mask) if len > 0 => bytes[i % len] ^= mask,
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Delete(i) if len > 0 => {
                bytes.remove(i % len);
            }
            Mutation::Splice(i, s) => {
                let at = i % (len + 1);
                bytes.splice(at..at, s.iter().copied());
            }
            _ => {}
        }
    }
    bytes
}

const CODES: &[&str] = &[
    "part-count",
    "too-large",
    "invalid-utf8",
    "invalid-json",
    "too-deep",
    "lone-surrogate",
    "not-an-object",
    "missing-field",
    "wrong-type",
    "unknown-dtype",
    "bad-shape",
    "size-overflow",
    "size-mismatch",
    "bad-compression",
];

fn check_error<T>(result: &Result<T, netgear::wire::DecodeError>) {
    if let Err(e) = result {
        assert!(CODES.contains(&e.code()), "unknown code {:?}", e.code());
        assert!(!e.to_string().is_empty());
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn json_value_round_trips(value in arb_value()) {
        let text = to_python_json(&value);
        prop_assert!(text.is_ascii(), "non-ASCII output {text:?}");
        prop_assert!(!text.bytes().any(|b| b < 0x20 || b == 0x7f), "raw control byte in {text:?}");
        let back = parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e} in {text:?}")))?;
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(to_python_json(&back), text);
    }

    #[test]
    fn json_strings_escape_like_python(s in arb_string()) {
        let text = to_python_json(&Value::String(s.clone()));
        // Independent oracle for json.dumps(s) with ensure_ascii=True.
        let mut want = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => want.push_str("\\\""),
                '\\' => want.push_str("\\\\"),
                '\n' => want.push_str("\\n"),
                '\r' => want.push_str("\\r"),
                '\t' => want.push_str("\\t"),
                '\u{8}' => want.push_str("\\b"),
                '\u{c}' => want.push_str("\\f"),
                ' '..='~' => want.push(c),
                _ => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        want.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        want.push('"');
        prop_assert_eq!(text, want);
    }

    #[test]
    fn finite_floats_round_trip_bit_exactly(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let n = Number::from(x);
        let back = n.as_f64();
        prop_assert_eq!(back.to_bits(), x.to_bits(), "{} -> {} -> {}", x, n.as_str(), back);
        prop_assert_eq!(n.python_type(), "float");
        prop_assert!(!n.is_integer());
        assert_same_repr(x, n.as_str())?;
    }

    #[test]
    fn subnormal_and_tiny_floats_round_trip(bits in 1u64..(1 << 52), neg in any::<bool>()) {
        let x = if neg { -f64::from_bits(bits) } else { f64::from_bits(bits) };
        let n = Number::from(x);
        prop_assert_eq!(n.as_f64().to_bits(), x.to_bits());
        prop_assert!(n.as_str().contains("e-3"), "{} must be in scientific notation", n.as_str());
        assert_same_repr(x, n.as_str())?;
    }

    #[test]
    fn integers_keep_their_text(i in any::<i64>(), u in any::<u128>()) {
        let n = Number::from(i);
        prop_assert_eq!(n.as_str(), i.to_string());
        prop_assert_eq!(n.as_i64(), Some(i));
        prop_assert!(n.is_integer());
        let n = Number::from(u);
        prop_assert_eq!(n.as_str(), u.to_string());
        prop_assert_eq!(n.as_u64(), u64::try_from(u).ok());
        prop_assert_eq!(parse(n.as_str().as_bytes()).unwrap(), Value::Number(n.clone()));
    }
}

/// Our text equals the oracle's, except where two shortest candidates are
/// equally near: there Python (and ryu) pick one and Rust's `{:e}` may pick
/// the other (e.g. -1085297024674930.2 vs ...930.3, checked against CPython
/// in the crate's unit tests); both must then have the same layout and
/// length and read back as `x`.
fn assert_same_repr(x: f64, ours: &str) -> Result<(), TestCaseError> {
    let oracle = python_repr_oracle(x);
    if oracle != ours {
        prop_assert_eq!(oracle.len(), ours.len(), "{} vs {}", oracle, ours);
        prop_assert_eq!(oracle.contains('e'), ours.contains('e'));
        prop_assert_eq!(ours.parse::<f64>().map(f64::to_bits), Ok(x.to_bits()));
        prop_assert_eq!(
            oracle[..oracle.len() - 1].to_owned(),
            ours[..ours.len() - 1].to_owned()
        );
    }
    Ok(())
}

/// Python's `repr(float)`, computed from Rust's own shortest round-trip
/// digits (`{:e}`), independently of the crate's ryu-based implementation.
fn python_repr_oracle(x: f64) -> String {
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if digits == "0" {
        return format!("{sign}0.0");
    }
    if (-4..16).contains(&exp) {
        // Fixed notation.
        let body = if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                format!("{}{}.0", digits, "0".repeat(int_len - digits.len()))
            } else {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            }
        };
        format!("{sign}{body}")
    } else {
        format!(
            "{sign}{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

#[test]
fn float_layout_boundaries() {
    let cases: &[(f64, &str)] = &[
        (1e-4, "0.0001"),
        (1.5e-4, "0.00015"),
        (9.999e-5, "9.999e-05"),
        (1e15, "1000000000000000.0"),
        (9999999999999998.0, "9999999999999998.0"),
        (1e16 - 2.0, "9999999999999998.0"),
        (1e16, "1e+16"),
        (1.2345e16, "1.2345e+16"),
        (5e-324, "5e-324"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (f64::MAX, "1.7976931348623157e+308"),
        (-f64::MAX, "-1.7976931348623157e+308"),
        (100.0, "100.0"),
        (0.5, "0.5"),
    ];
    for &(x, want) in cases {
        assert_eq!(Number::from(x).as_str(), want, "{x:e}");
        assert_eq!(python_repr_oracle(x), want, "oracle for {x:e}");
    }
}

#[test]
fn negative_zero_keeps_its_sign() {
    let n = Number::from(-0.0f64);
    assert_eq!(n.as_str(), "-0.0");
    let back = n.as_f64();
    assert_eq!(back, 0.0);
    assert!(back.is_sign_negative());
    let v = parse(b"-0.0").unwrap();
    assert_eq!(v, Value::Number(n));
    assert!(!v.is_truthy());
    assert!(Number::from(0.0f64).as_f64().is_sign_positive());
}

#[test]
fn non_finite_floats() {
    assert_eq!(Number::from(f64::NAN).as_str(), "NaN");
    assert!(Number::from(f64::NAN).as_f64().is_nan());
    assert_eq!(Number::from(f64::INFINITY).as_f64(), f64::INFINITY);
    assert_eq!(Number::from(f64::NEG_INFINITY).as_str(), "-Infinity");
    assert_eq!(Number::from(f64::NEG_INFINITY).as_f64(), f64::NEG_INFINITY);
}

// ---------------------------------------------------------------------------
// Wire codec
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn frame_messages_round_trip_without_copying(msg in arb_frame_message()) {
        let parts = encode_frame_message(&msg);
        prop_assert_eq!(parts.len(), 2);
        prop_assert!(parts[0].is_ascii());
        prop_assert_eq!(&parts[1], msg.payload.bytes());
        let decoded = decode_server_message(&parts, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&parts[0]))))?;
        let ServerMessage::Frame(back) = decoded else {
            return Err(TestCaseError::fail("not decoded as a frame"));
        };
        prop_assert_eq!(back.payload.bytes().as_ptr(), parts[1].as_ptr(), "payload was copied");
        prop_assert_eq!(back.payload.bytes().len(), parts[1].len());
        prop_assert_eq!(&back, &msg);
        // Re-encoding the decoded message yields the same header bytes.
        prop_assert_eq!(&encode_frame_message(&back)[0], &parts[0]);
    }

    #[test]
    fn terminations_round_trip(port in arb_port()) {
        let parts = encode_terminate(port.as_ref());
        prop_assert_eq!(parts.len(), 1);
        let back = decode_server_message(&parts, &Limits::default()).unwrap();
        prop_assert_eq!(back, ServerMessage::Terminate { port });
    }

    #[test]
    fn replies_round_trip(reply in arb_reply()) {
        let parts = encode_reply(&reply);
        let frame_reply = matches!(reply.data, ReturnData::Frame(_));
        prop_assert_eq!(parts.len(), if frame_reply { 2 } else { 1 });
        prop_assert!(parts[0].is_ascii());
        let decoded = decode_client_message(&parts, ReplyKind::Reply, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&parts[0]))))?;
        let ClientMessage::Reply(back) = decoded else {
            return Err(TestCaseError::fail("not decoded as a reply"));
        };
        if frame_reply {
            let ReturnData::Frame(p) = &back.data else { unreachable!() };
            prop_assert_eq!(p.bytes().as_ptr(), parts[1].as_ptr(), "payload was copied");
        }
        prop_assert_eq!(&back, &reply);
        prop_assert_eq!(&encode_reply(&back), &parts);
    }

    /// spec/04 §4.6 and spec/08: how a header is spelled (escapes in keys
    /// and strings, `-0` for a zero dimension, whitespace) changes nothing.
    /// The decoder reads the usual spelling without allocating and falls
    /// back to generic JSON for any other: both must reach the same message.
    #[test]
    fn headers_decode_the_same_however_they_are_spelled(
        msg in arb_frame_message(),
        reply in arb_reply(),
        style in arb_spelling(),
    ) {
        let limits = Limits::default();
        let parts = encode_frame_message(&msg);
        let respelled = vec![respell(&parts[0], style), parts[1].clone()];
        prop_assert_eq!(
            decode_server_message(&respelled, &limits),
            decode_server_message(&parts, &limits),
            "{:?}", String::from_utf8_lossy(&respelled[0])
        );
        let mut parts = encode_reply(&reply);
        let plain = decode_client_message(&parts, ReplyKind::Reply, &limits);
        parts[0] = respell(&parts[0], style);
        prop_assert_eq!(
            decode_client_message(&parts, ReplyKind::Reply, &limits),
            plain,
            "{:?}", String::from_utf8_lossy(&parts[0])
        );
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_parts(parts in arb_parts()) {
        let limits = Limits::default();
        check_error(&decode_server_message(&parts, &limits));
        for kind in [ReplyKind::Reply, ReplyKind::Confirmation, ReplyKind::TerminateAck] {
            check_error(&decode_client_message(&parts, kind, &limits));
        }
    }

    #[test]
    fn decoders_never_panic_on_mutated_headers(
        msg in arb_frame_message(),
        reply in arb_reply(),
        mutations in proptest::collection::vec(arb_mutation(), 1..4),
        drop_payload in any::<bool>(),
    ) {
        let limits = Limits::default();
        let mut parts = encode_frame_message(&msg);
        parts[0] = Bytes::from(mutate(parts[0].to_vec(), &mutations));
        if drop_payload {
            parts.truncate(1);
        }
        check_error(&decode_server_message(&parts, &limits));

        let mut parts = encode_reply(&reply);
        parts[0] = Bytes::from(mutate(parts[0].to_vec(), &mutations));
        if drop_payload {
            parts.truncate(1);
        }
        for kind in [ReplyKind::Reply, ReplyKind::Confirmation, ReplyKind::TerminateAck] {
            check_error(&decode_client_message(&parts, kind, &limits));
        }
    }

    #[test]
    fn machines_never_panic_and_clients_always_answer(
        parts in arb_parts(),
        msg in arb_frame_message(),
        mutations in proptest::collection::vec(arb_mutation(), 0..4),
        config in arb_config(),
    ) {
        let t0 = Instant::now();
        let mut mutated = encode_frame_message(&msg);
        mutated[0] = Bytes::from(mutate(mutated[0].to_vec(), &mutations));
        for input in [parts.clone(), mutated] {
            // Client: exactly one answer on patterns 0/1 unless it is a termination.
            let mut client = Client::new(config.clone(), "ABCD1234", t0).unwrap();
            let decoded = decode_server_message(&input, &config.limits);
            client.handle_message(input.clone(), t0);
            let sends = drain_sends(|| client.poll_transmit());
            let expected = match decoded {
                Ok(ServerMessage::Terminate { .. }) => usize::from(config.pattern == Pattern::ReqRep),
                _ => usize::from(config.pattern.is_synchronous()),
            };
            prop_assert_eq!(sends, expected);
            let event = client.poll_event();
            prop_assert!(event.is_some());

            // Server awaiting a reply: any input settles the frame in one event.
            let mut server = Server::new(config.clone()).unwrap();
            let frame = Frame::new(Dtype::Uint8, vec![1], vec![0]).unwrap();
            let seq = server.send_frame(frame, Value::Null, t0).unwrap();
            server.handle_message(input, t0);
            if config.pattern.is_synchronous() {
                prop_assert_eq!(server.state(), ServerState::Idle);
                let ev = server.poll_event().unwrap();
                prop_assert!(
                    matches!(
                        ev,
                        ServerEvent::Reply { seq: s, .. } | ServerEvent::Delivered { seq: s }
                        | ServerEvent::Rejected { seq: s, .. } | ServerEvent::BadReply { seq: s, .. } if s == seq
                    ),
                    "{:?}", ev
                );
            } else {
                prop_assert_eq!(server.poll_event(), Some(ServerEvent::Published { seq }));
                let stray = matches!(server.poll_event(), Some(ServerEvent::Stray { .. }));
                prop_assert!(stray, "a reply on pattern 2 must be stray");
            }
            prop_assert_eq!(server.poll_event(), None);
        }
    }
}

// ---------------------------------------------------------------------------
// Session machines under random operations
// ---------------------------------------------------------------------------

const TIMEOUT: Duration = Duration::from_millis(100);

fn arb_config() -> impl Strategy<Value = Config> {
    (0u8..3, any::<bool>(), 0u8..3, 0u32..4).prop_filter_map(
        "valid config",
        |(pattern, bidirectional, multi, max_retries)| {
            let pattern = Pattern::try_from(pattern).unwrap();
            let config = Config::new()
                .pattern(pattern)
                .bidirectional(bidirectional)
                .multiserver(multi == 1)
                .multiclient(multi == 2)
                .max_retries(max_retries)
                .request_timeout(TIMEOUT)
                .port((multi != 0).then(|| Value::from("5577")));
            config.validate().is_ok().then_some(config)
        },
    )
}

#[derive(Debug, Clone)]
enum Op {
    SendFrame(u8, Value),
    Close,
    DeliverToClient,
    DropToClient,
    DeliverToServer,
    DropToServer,
    ValidReplyToServer(ReturnData),
    GarbageToServer(Vec<Bytes>),
    GarbageToClient(Vec<Bytes>),
    Advance(u64),
    SetReturnData(ReturnData),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, arb_leaf()).prop_map(|(n, m)| Op::SendFrame(n, m)),
        1 => Just(Op::Close),
        5 => Just(Op::DeliverToClient),
        1 => Just(Op::DropToClient),
        5 => Just(Op::DeliverToServer),
        1 => Just(Op::DropToServer),
        1 => arb_return_data().prop_map(Op::ValidReplyToServer),
        1 => arb_parts().prop_map(Op::GarbageToServer),
        1 => arb_parts().prop_map(Op::GarbageToClient),
        3 => prop_oneof![Just(0u64), 1u64..20, 15u64..25, 90u64..110, 290u64..310, 0u64..1000].prop_map(Op::Advance),
        1 => arb_return_data().prop_map(Op::SetReturnData),
    ]
}

fn drain_sends(mut poll: impl FnMut() -> Option<Transmit>) -> usize {
    let mut n = 0;
    while let Some(t) = poll() {
        match t {
            Transmit::Send(_) => n += 1,
            Transmit::ResetSocket => panic!("handle_message must not reset the socket"),
        }
    }
    n
}

/// Tracks what a server promised about the frames handed to it.
#[derive(Default)]
struct Ledger {
    handed: Vec<u64>,
    finished: HashSet<u64>,
    in_flight: Option<u64>,
}

impl Ledger {
    fn settle(&mut self, seq: u64, what: &ServerEvent) -> Result<(), TestCaseError> {
        prop_assert!(
            self.handed.contains(&seq),
            "{what:?} for a seq never handed out"
        );
        prop_assert!(
            self.finished.insert(seq),
            "second final event for seq {seq}: {what:?}"
        );
        if self.in_flight == Some(seq) {
            self.in_flight = None;
        }
        Ok(())
    }
}

fn check_server_events(server: &mut Server, ledger: &mut Ledger) -> Result<(), TestCaseError> {
    while let Some(ev) = server.poll_event() {
        match &ev {
            ServerEvent::Reply { seq, .. }
            | ServerEvent::Delivered { seq }
            | ServerEvent::Published { seq }
            | ServerEvent::Rejected { seq, .. }
            | ServerEvent::BadReply { seq, .. }
            | ServerEvent::GaveUp { seq }
            | ServerEvent::Abandoned { seq } => ledger.settle(*seq, &ev)?,
            ServerEvent::PeerSilent { seq, .. } => {
                prop_assert_eq!(
                    ledger.in_flight,
                    Some(*seq),
                    "PeerSilent for a frame not in flight"
                );
            }
            ServerEvent::Stray { .. } | ServerEvent::Closed { .. } => {}
            other => prop_assert!(false, "an event this test does not know: {:?}", other),
        }
    }
    Ok(())
}

fn check_server_invariants(server: &Server, ledger: &Ledger) -> Result<(), TestCaseError> {
    let state = server.state();
    prop_assert_eq!(
        server.poll_timeout().is_some(),
        matches!(state, ServerState::AwaitingReply | ServerState::Closing),
        "poll_timeout {:?} in state {:?}",
        server.poll_timeout(),
        state
    );
    prop_assert_eq!(
        state == ServerState::AwaitingReply,
        ledger.in_flight.is_some(),
        "state {:?}",
        state
    );
    Ok(())
}

fn valid_reply(config: &Config, data: ReturnData) -> Parts {
    if config.bidirectional || config.multiclient {
        let mut reply = Reply::new(data);
        reply.port = config.multiclient.then(|| Value::from("6000"));
        encode_reply(&reply)
    } else {
        vec![Bytes::from(confirmation_text("ZZZZ9999"))]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn machines_keep_their_invariants(config in arb_config(), ops in proptest::collection::vec(arb_op(), 0..60)) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut server = Server::new(config.clone()).unwrap();
        let mut client = Client::new(config.clone(), "ABCD1234", t0).unwrap();
        let mut to_client: VecDeque<Parts> = VecDeque::new();
        let mut to_server: VecDeque<Parts> = VecDeque::new();
        let mut ledger = Ledger::default();
        let mut client_frames = 0u64;
        let sync = config.pattern.is_synchronous();

        // Feeds one message to the client and checks its answer and event.
        let mut feed_client = |client: &mut Client, parts: Parts, now: Instant, to_server: &mut VecDeque<Parts>| -> Result<(), TestCaseError> {
            let was_open = client.state() == ClientState::Open;
            let decoded = decode_server_message(&parts, &config.limits);
            client.handle_message(parts, now);
            let mut sends = 0;
            while let Some(t) = client.poll_transmit() {
                match t {
                    Transmit::Send(p) => {
                        sends += 1;
                        to_server.push_back(p);
                    }
                    Transmit::ResetSocket => return Err(TestCaseError::fail("client reset on a message")),
                }
            }
            let expected = match (&decoded, was_open) {
                (_, false) => 0,
                (Ok(ServerMessage::Terminate { .. }), true) => usize::from(config.pattern == Pattern::ReqRep),
                (_, true) => usize::from(sync),
            };
            prop_assert_eq!(sends, expected, "answers to {:?}", decoded);
            let mut events = Vec::new();
            while let Some(ev) = client.poll_event() {
                events.push(ev);
            }
            prop_assert_eq!(events.len(), 1, "{:?}", events);
            match (&events[0], was_open, &decoded) {
                (ClientEvent::Stray { .. }, false, _) => {}
                (ClientEvent::Frame(Delivery { seq, .. }), true, Ok(ServerMessage::Frame(_))) => {
                    prop_assert_eq!(*seq, client_frames, "client seqs must be consecutive");
                    client_frames += 1;
                }
                (ClientEvent::Rejected { error }, true, Err(e)) => prop_assert_eq!(error, e),
                (ClientEvent::Terminated | ClientEvent::ServerTerminated { .. }, true, Ok(ServerMessage::Terminate { .. })) => {}
                (ev, open, d) => return Err(TestCaseError::fail(format!("event {ev:?} (open: {open}) for {d:?}"))),
            }
            Ok(())
        };

        for op in ops {
            match op {
                Op::SendFrame(n, message) => {
                    let before = server.state();
                    let frame = Frame::new(Dtype::Uint8, vec![usize::from(n)], vec![n; usize::from(n)]).unwrap();
                    match server.send_frame(frame, message, now) {
                        Ok(seq) => {
                            prop_assert_eq!(before, ServerState::Idle);
                            prop_assert_eq!(seq, ledger.handed.len() as u64, "server seqs must be consecutive");
                            ledger.handed.push(seq);
                            if sync {
                                ledger.in_flight = Some(seq);
                            }
                        }
                        Err(SendError::AwaitingReply { seq }) => {
                            prop_assert_eq!(before, ServerState::AwaitingReply);
                            prop_assert_eq!(Some(seq), ledger.in_flight);
                        }
                        Err(SendError::Closed) => prop_assert!(matches!(before, ServerState::Closing | ServerState::Closed)),
                        Err(SendError::Failed) => prop_assert_eq!(before, ServerState::Failed),
                        Err(other) => prop_assert!(false, "a refusal this test does not know: {}", other),
                    }
                }
                Op::Close => server.close(now),
                Op::DeliverToClient => {
                    if let Some(parts) = to_client.pop_front() {
                        feed_client(&mut client, parts, now, &mut to_server)?;
                    }
                }
                Op::DropToClient => {
                    to_client.pop_front();
                }
                Op::DeliverToServer => {
                    if let Some(parts) = to_server.pop_front() {
                        server.handle_message(parts, now);
                    }
                }
                Op::DropToServer => {
                    to_server.pop_front();
                }
                Op::ValidReplyToServer(data) => server.handle_message(valid_reply(&config, data), now),
                Op::GarbageToServer(parts) => server.handle_message(parts, now),
                Op::GarbageToClient(parts) => feed_client(&mut client, parts, now, &mut to_server)?,
                Op::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    server.handle_timeout(now);
                    client.handle_timeout(now);
                    while let Some(t) = client.poll_transmit() {
                        prop_assert_eq!(t, Transmit::ResetSocket, "a client only resets on a timeout");
                    }
                    while let Some(ev) = client.poll_event() {
                        prop_assert!(matches!(ev, ClientEvent::PeerSilent { .. } | ClientEvent::GaveUp), "{:?}", ev);
                    }
                }
                Op::SetReturnData(data) => client.set_return_data(data),
            }
            while let Some(t) = server.poll_transmit() {
                if let Transmit::Send(parts) = t {
                    to_client.push_back(parts);
                }
            }
            check_server_events(&mut server, &mut ledger)?;
            check_server_invariants(&server, &ledger)?;
            prop_assert_eq!(
                client.poll_timeout().is_some(),
                sync && client.state() == ClientState::Open,
                "client deadline {:?} in state {:?}",
                client.poll_timeout(),
                client.state()
            );
            if !sync {
                prop_assert!(to_server.is_empty(), "a pattern 2 client transmitted");
            }
        }

        // Close the session: no frame may be left without a final event.
        server.close(now);
        for _ in 0..100 {
            now += TIMEOUT;
            server.handle_timeout(now);
            if server.state() != ServerState::Closing {
                break;
            }
        }
        check_server_events(&mut server, &mut ledger)?;
        check_server_invariants(&server, &ledger)?;
        prop_assert!(matches!(server.state(), ServerState::Closed | ServerState::Failed), "{:?}", server.state());
        let handed: HashSet<u64> = ledger.handed.iter().copied().collect();
        prop_assert_eq!(&ledger.finished, &handed, "frames without a final event");
    }
}
