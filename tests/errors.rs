//! One test per decode error (variant and code), configuration rule and
//! frame error: each asserts the code and that the message names the fault.

use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::json::{JsonError, Value};
use netgear::session::{Client, Config, ConfigError, Pattern, Server, UnknownPattern};
use netgear::wire::{
    byte_size, decode_client_message, decode_server_message, ClientMessage, DecodeError,
    FrameError, Limits, Payload, ReplyKind, ServerMessage, MAX_DIMS,
};
use netgear::{Dtype, Frame};

const FRAME_OK: &str = r#"{"terminate_flag": false, "compression": false, "message": null, "pattern": "1", "dtype": "uint8", "shape": [2, 2]}"#;

fn parts(list: &[&[u8]]) -> Vec<Bytes> {
    list.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

fn server_err(list: &[&[u8]]) -> DecodeError {
    decode_server_message(&parts(list), &Limits::default()).expect_err("must be refused")
}

fn reply_err(list: &[&[u8]]) -> DecodeError {
    decode_client_message(&parts(list), ReplyKind::Reply, &Limits::default())
        .expect_err("must be refused")
}

/// The JSON object of `members` (key, JSON text) with `key`'s value
/// replaced by `value`, or the member removed when `value` is None.
fn object_with(members: &[(&str, &str)], key: &str, value: Option<&str>) -> String {
    assert!(members.iter().any(|(k, _)| *k == key), "unknown key {key}");
    let members: Vec<String> = members
        .iter()
        .filter_map(|&(k, v)| {
            let v = if k == key { value? } else { v };
            Some(format!("\"{k}\": {v}"))
        })
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// A frame header: FRAME_OK with `key` replaced by `value`, or removed when `value` is None.
fn header_with(key: &str, value: Option<&str>) -> String {
    let members = [
        ("terminate_flag", "false"),
        ("compression", "false"),
        ("message", "null"),
        ("pattern", "\"1\""),
        ("dtype", "\"uint8\""),
        ("shape", "[2, 2]"),
    ];
    object_with(&members, key, value)
}

/// A frame reply header (return_type "ndarray") with `key` replaced or removed.
fn frame_reply_with(key: &str, value: Option<&str>) -> String {
    let members = [
        ("return_type", "\"ndarray\""),
        ("compression", "false"),
        ("array_dtype", "\"uint8\""),
        ("array_shape", "[2, 2]"),
        ("data", "null"),
    ];
    object_with(&members, key, value)
}

fn frame_err(key: &str, value: Option<&str>, payload: &[u8]) -> DecodeError {
    let header = header_with(key, value);
    server_err(&[header.as_bytes(), payload])
}

fn assert_err(err: &DecodeError, code: &str, needles: &[&str]) {
    assert_eq!(err.code(), code, "{err:?}");
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
}

#[test]
fn the_valid_baselines_decode() {
    // The fixtures the error tests start from are themselves valid.
    let ok =
        decode_server_message(&parts(&[FRAME_OK.as_bytes(), &[0; 4]]), &Limits::default()).unwrap();
    assert!(matches!(ok, ServerMessage::Frame(_)));
    let ok = decode_server_message(
        &parts(&[header_with("message", Some("1")).as_bytes(), &[0; 4]]),
        &Limits::default(),
    );
    assert!(ok.is_ok());
    let reply = frame_reply_with("data", Some("null"));
    let ok = decode_client_message(
        &parts(&[reply.as_bytes(), &[0; 4]]),
        ReplyKind::Reply,
        &Limits::default(),
    );
    assert!(matches!(ok, Ok(ClientMessage::Reply(_))));
}

// --- part-count -------------------------------------------------------------

#[test]
fn part_count_server_message() {
    let e = server_err(&[]);
    assert_err(&e, "part-count", &["1 or 2", "received 0"]);
    assert!(matches!(
        e,
        DecodeError::PartCount {
            expected: "1 or 2",
            actual: 0,
            ..
        }
    ));
    let e = server_err(&[FRAME_OK.as_bytes(), b"1234", b"x"]);
    assert_err(&e, "part-count", &["1 or 2", "received 3"]);
}

#[test]
fn part_count_frame_without_payload() {
    let e = server_err(&[FRAME_OK.as_bytes()]);
    assert_err(&e, "part-count", &["frame message", "2 part", "received 1"]);
}

#[test]
fn termination_with_a_trailing_part_is_still_a_termination() {
    let m = decode_server_message(
        &parts(&[br#"{"terminate_flag": true}"#, b"junk"]),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(m, ServerMessage::Terminate { port: None });
}

#[test]
fn part_count_replies() {
    let e = reply_err(&[]);
    assert_err(&e, "part-count", &["reply", "1 or 2", "received 0"]);
    let e = reply_err(&[br#"{"return_type": "str", "data": "x"}"#, b"a", b"b"]);
    assert_err(&e, "part-count", &["reply", "received 3"]);
    let e = reply_err(&[frame_reply_with("data", Some("null")).as_bytes()]);
    assert_err(&e, "part-count", &["frame reply", "2 part", "received 1"]);
    let e = reply_err(&[br#"{"return_type": "str", "data": "x"}"#, b"extra"]);
    assert_err(&e, "part-count", &["data reply", "1 part", "received 2"]);
}

#[test]
fn part_count_confirmation_and_ack() {
    for n in [0usize, 2, 3] {
        let list: Vec<Bytes> = (0..n).map(|_| Bytes::from_static(b"ok")).collect();
        let e =
            decode_client_message(&list, ReplyKind::Confirmation, &Limits::default()).unwrap_err();
        assert_err(
            &e,
            "part-count",
            &["confirmation", &format!("received {n}")],
        );
        let e =
            decode_client_message(&list, ReplyKind::TerminateAck, &Limits::default()).unwrap_err();
        assert_err(
            &e,
            "part-count",
            &["termination acknowledgement", &format!("received {n}")],
        );
    }
}

// --- too-large --------------------------------------------------------------

#[test]
fn too_large_counts_every_part() {
    let limits = Limits::default().max_message_bytes(10);
    let p = parts(&[br#"{"terminate_flag": true}"#]);
    let e = decode_server_message(&p, &limits).unwrap_err();
    assert_err(&e, "too-large", &["24 bytes", "limit of 10"]);
    assert_eq!(
        e,
        DecodeError::TooLarge {
            size: 24,
            limit: 10
        }
    );
    // 6 + 6 = 12 bytes across two parts.
    let p = parts(&[b"abcdef", b"ghijkl"]);
    let e = decode_client_message(&p, ReplyKind::Confirmation, &limits).unwrap_err();
    assert_eq!(
        e,
        DecodeError::TooLarge {
            size: 12,
            limit: 10
        }
    );
    let e = decode_client_message(&p, ReplyKind::Reply, &limits).unwrap_err();
    assert_eq!(e.code(), "too-large");
    // Exactly at the limit is fine.
    let at = Limits::default().max_message_bytes(24);
    assert!(decode_server_message(&parts(&[br#"{"terminate_flag": true}"#]), &at).is_ok());
}

// --- JSON-level errors --------------------------------------------------------

#[test]
fn invalid_utf8() {
    let e = server_err(&[b"{\"terminate_flag\": \"\xff\"}"]);
    assert_err(&e, "invalid-utf8", &["header", "UTF-8", "byte 20"]);
    assert!(matches!(
        e,
        DecodeError::Json {
            source: JsonError::InvalidUtf8 { offset: 20 },
            ..
        }
    ));
    let e = reply_err(&[b"\xc3"]);
    assert_err(&e, "invalid-utf8", &["reply"]);
}

#[test]
fn invalid_json() {
    for bad in [
        &b""[..],
        b"{",
        b"{\"terminate_flag\": true,}",
        b"{'a': 1}",
        b"{\"a\": nan}",
        b"{} {}",
        b"{\"a\": 01}",
    ] {
        let e = server_err(&[bad]);
        assert_err(&e, "invalid-json", &["header", "not valid JSON"]);
    }
    let e = server_err(&[b"{\"a\" 1}"]);
    assert_eq!(
        e.to_string(),
        "the header is not valid JSON: invalid JSON at byte 5: expected ':'"
    );
    let e = reply_err(&[b"[1 2]"]);
    assert_err(&e, "invalid-json", &["reply", "byte 3"]);
}

#[test]
fn too_deep_hundred_thousand_levels() {
    let started = Instant::now();
    let deep = format!("{{\"message\": {}", "[".repeat(100_000));
    let e = server_err(&[deep.as_bytes(), b""]);
    assert_err(&e, "too-deep", &["header", "deeper than 128"]);
    let closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = reply_err(&[closed.as_bytes()]);
    assert_err(&e, "too-deep", &["reply", "128"]);
    let objects = "{\"a\": ".repeat(100_000);
    let e = server_err(&[objects.as_bytes()]);
    assert_eq!(e.code(), "too-deep");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn too_deep_honours_the_limit() {
    let header = format!(
        r#"{{"terminate_flag": false, "compression": false, "message": {}{}, "pattern": "1", "dtype": "uint8", "shape": []}}"#,
        "[".repeat(4),
        "]".repeat(4)
    );
    let p = parts(&[header.as_bytes(), &[7]]);
    // The header object itself is one level, the message four more.
    assert!(decode_server_message(&p, &Limits::default().max_json_depth(5)).is_ok());
    let e = decode_server_message(&p, &Limits::default().max_json_depth(4)).unwrap_err();
    assert_err(&e, "too-deep", &["deeper than 4"]);
}

#[test]
fn lone_surrogate() {
    for s in [r"\ud800", r"\udfff", r"\ud83c\u0041", r"\udc00\ud800"] {
        let header = format!(r#"{{"terminate_flag": true, "port": "{s}"}}"#);
        let e = server_err(&[header.as_bytes()]);
        assert_err(
            &e,
            "lone-surrogate",
            &["header", "lone surrogate", "byte 34"],
        );
    }
    // A proper pair is fine.
    let ok = br#"{"terminate_flag": true, "port": "\ud83c\udfa5"}"#;
    assert!(decode_server_message(&parts(&[ok]), &Limits::default()).is_ok());
}

#[test]
fn not_an_object() {
    for (text, found) in [
        ("[]", "an array"),
        ("\"frame\"", "a string"),
        ("1", "a number"),
        ("NaN", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ] {
        let e = server_err(&[text.as_bytes()]);
        assert_err(&e, "not-an-object", &["header", "JSON object", found]);
        assert_eq!(
            e,
            DecodeError::NotAnObject {
                part: "the header",
                found
            }
        );
        let e = reply_err(&[text.as_bytes()]);
        assert_err(&e, "not-an-object", &["reply", found]);
    }
}

// --- missing-field --------------------------------------------------------------

#[test]
fn missing_frame_header_fields() {
    for key in ["terminate_flag", "compression", "pattern", "dtype", "shape"] {
        let e = frame_err(key, None, &[0; 4]);
        assert_err(&e, "missing-field", &["header", &format!("{key:?}")]);
        assert_eq!(
            e,
            DecodeError::MissingField {
                part: "the header",
                field: match key {
                    "terminate_flag" => "terminate_flag",
                    "compression" => "compression",
                    "pattern" => "pattern",
                    "dtype" => "dtype",
                    _ => "shape",
                }
            }
        );
    }
    // `message` is optional: vidgear always writes it, but its absence is null.
    let ok = decode_server_message(
        &parts(&[header_with("message", None).as_bytes(), &[0; 4]]),
        &Limits::default(),
    );
    let Ok(ServerMessage::Frame(f)) = ok else {
        panic!("{ok:?}")
    };
    assert_eq!(f.message, Value::Null);
}

#[test]
fn jpeg_frames_need_no_dtype_or_shape() {
    let header = r#"{"terminate_flag": false, "compression": {"dct": true, "ups": false, "colorspace": "BGR"}, "message": null, "pattern": "1"}"#;
    let m = decode_server_message(
        &parts(&[header.as_bytes(), b"\xff\xd8"]),
        &Limits::default(),
    )
    .unwrap();
    let ServerMessage::Frame(f) = m else { panic!() };
    assert!(matches!(f.payload, Payload::Jpeg { .. }));
}

#[test]
fn missing_reply_fields() {
    let e = reply_err(&[br#"{"data": 1}"#]);
    assert_err(&e, "missing-field", &["reply", "\"return_type\""]);
    let e = reply_err(&[br#"{"return_type": "int"}"#]);
    assert_err(&e, "missing-field", &["reply", "\"data\""]);
    assert_eq!(
        e,
        DecodeError::MissingField {
            part: "the reply",
            field: "data"
        }
    );
    for key in ["compression", "array_dtype", "array_shape"] {
        let header = frame_reply_with(key, None);
        let e = reply_err(&[header.as_bytes(), &[0; 4]]);
        assert_err(&e, "missing-field", &["reply", &format!("{key:?}")]);
    }
    // A frame reply's `data` is not read.
    let header = frame_reply_with("data", None);
    assert!(decode_client_message(
        &parts(&[header.as_bytes(), &[0; 4]]),
        ReplyKind::Reply,
        &Limits::default()
    )
    .is_ok());
}

// --- wrong-type -------------------------------------------------------------

#[test]
fn wrong_type_terminate_flag() {
    for (v, found) in [
        ("1", "a number"),
        ("\"true\"", "a string"),
        ("null", "null"),
        ("[]", "an array"),
    ] {
        let e = frame_err("terminate_flag", Some(v), &[0; 4]);
        assert_err(
            &e,
            "wrong-type",
            &["\"terminate_flag\"", "a boolean", found],
        );
    }
    // Also in a one-part message.
    let e = server_err(&[br#"{"terminate_flag": 1}"#]);
    assert_eq!(
        e,
        DecodeError::WrongType {
            field: "terminate_flag",
            expected: "a boolean",
            found: "a number"
        }
    );
}

#[test]
fn wrong_type_pattern_dtype_shape() {
    let e = frame_err("pattern", Some("1"), &[0; 4]);
    assert_err(&e, "wrong-type", &["\"pattern\"", "a string", "a number"]);
    let e = frame_err("dtype", Some("1"), &[0; 4]);
    assert_err(&e, "wrong-type", &["\"dtype\"", "a string", "a number"]);
    let e = frame_err("shape", Some("\"\""), &[0; 4]);
    assert_err(&e, "wrong-type", &["\"shape\"", "array", "a string"]);
    let e = frame_err("shape", Some("4"), &[0; 4]);
    assert_err(&e, "wrong-type", &["\"shape\"", "a number"]);
}

#[test]
fn wrong_type_reply_fields() {
    let e = reply_err(&[br#"{"return_type": "str", "data": "x", "error": 1}"#]);
    assert_err(&e, "wrong-type", &["\"error\"", "a string", "a number"]);
    let e = reply_err(&[br#"{"return_type": 5, "data": "x"}"#]);
    assert_err(
        &e,
        "wrong-type",
        &["\"return_type\"", "a string", "a number"],
    );
    let header = frame_reply_with("array_dtype", Some("8"));
    let e = reply_err(&[header.as_bytes(), &[0; 4]]);
    assert_err(&e, "wrong-type", &["\"array_dtype\""]);
    // `error: null` is no error at all.
    let ok = decode_client_message(
        &parts(&[br#"{"return_type": "str", "data": "x", "error": null}"#]),
        ReplyKind::Reply,
        &Limits::default(),
    )
    .unwrap();
    let ClientMessage::Reply(r) = ok else {
        panic!()
    };
    assert_eq!(r.error, None);
}

// --- unknown-dtype ------------------------------------------------------------

#[test]
fn unknown_dtypes() {
    for name in [
        "object",
        "str",
        "<U5",
        "complex64",
        "UINT8",
        "uint8 ",
        "float128",
        "",
    ] {
        let e = frame_err("dtype", Some(&format!("{name:?}")), &[0; 4]);
        assert_err(&e, "unknown-dtype", &["\"dtype\"", &format!("{name:?}")]);
        assert_eq!(
            e,
            DecodeError::UnknownDtype {
                field: "dtype",
                dtype: name.to_owned()
            }
        );
    }
    let header = frame_reply_with("array_dtype", Some("\"complex128\""));
    let e = reply_err(&[header.as_bytes(), &[0; 4]]);
    assert_err(&e, "unknown-dtype", &["\"array_dtype\"", "\"complex128\""]);
}

// --- bad-shape -------------------------------------------------------------------

#[test]
fn bad_shapes() {
    let cases: &[(&str, &[&str])] = &[
        ("[-1, 4]", &["negative", "-1"]),
        ("[2.0, 2]", &["2.0", "not an integer"]),
        ("[2, 1e0]", &["1e0", "not an integer"]),
        ("[\"2\", 2]", &["\"2\"", "not an integer"]),
        ("[null]", &["null", "not an integer"]),
        ("[[2], 2]", &["[2]", "not an integer"]),
        ("[NaN]", &["NaN"]),
        (
            "[18446744073709551616]",
            &["18446744073709551616", "too large"],
        ),
        (
            "[2, 340282366920938463463374607431768211456]",
            &["340282366920938463463374607431768211456"],
        ),
    ];
    for (shape, needles) in cases {
        let e = frame_err("shape", Some(shape), &[0; 4]);
        let mut all = vec!["\"shape\""];
        all.extend_from_slice(needles);
        assert_err(&e, "bad-shape", &all);
    }
    let dims = format!("[{}]", vec!["1"; MAX_DIMS + 1].join(", "));
    let e = frame_err("shape", Some(&dims), &[0; 1]);
    assert_err(&e, "bad-shape", &["\"shape\"", "33 dimensions", "32"]);
    // 32 dimensions are fine.
    let dims = format!("[{}]", vec!["1"; MAX_DIMS].join(", "));
    let header = header_with("shape", Some(&dims));
    assert!(
        decode_server_message(&parts(&[header.as_bytes(), &[0; 1]]), &Limits::default()).is_ok()
    );
    // In a frame reply the field is `array_shape`.
    let header = frame_reply_with("array_shape", Some("[-3]"));
    let e = reply_err(&[header.as_bytes(), &[0; 4]]);
    assert_err(&e, "bad-shape", &["\"array_shape\"", "-3"]);
}

#[test]
fn negative_zero_dimension_is_zero() {
    // Python reads `-0` as the int 0: a shape [-0, 3] is an empty array.
    let header = header_with("shape", Some("[-0, 3]"));
    let m = decode_server_message(&parts(&[header.as_bytes(), b""]), &Limits::default()).unwrap();
    let ServerMessage::Frame(f) = m else { panic!() };
    let Payload::Raw(frame) = f.payload else {
        panic!()
    };
    assert_eq!(frame.shape(), &[0, 3]);
}

// --- size-overflow / size-mismatch ---------------------------------------------

#[test]
fn size_overflow_does_not_allocate() {
    let started = Instant::now();
    let big = 1u64 << 62;
    let e = frame_err("shape", Some(&format!("[{big}, {big}]")), &[0; 4]);
    assert_err(
        &e,
        "size-overflow",
        &["4611686018427387904", "uint8", "overflows"],
    );
    assert!(matches!(
        e,
        DecodeError::Frame(FrameError::SizeOverflow {
            dtype: Dtype::Uint8,
            ..
        })
    ));
    // The item size alone can push it over: 2**62 float64 elements.
    let header = header_with("dtype", Some("\"float64\"")).replace("[2, 2]", &format!("[{big}]"));
    let e = server_err(&[header.as_bytes(), &[0; 4]]);
    assert_err(&e, "size-overflow", &["float64"]);
    // A zero dimension does not excuse absurd other dimensions (spec/03 §3.2.3).
    let e = frame_err("shape", Some(&format!("[0, {big}, {big}]")), b"");
    assert_err(&e, "size-overflow", &["uint8"]);
    // But a zero dimension with sane others is an empty array.
    let header = header_with("shape", Some(&format!("[0, {big}]")));
    assert!(decode_server_message(&parts(&[header.as_bytes(), b""]), &Limits::default()).is_ok());
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn size_mismatch_is_quick() {
    let started = Instant::now();
    let e = frame_err("shape", Some("[100000, 100000, 3]"), &[0; 10]);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
    assert_err(
        &e,
        "size-mismatch",
        &["30000000000 bytes", "payload has 10", "uint8"],
    );
    assert_eq!(
        e,
        DecodeError::Frame(FrameError::SizeMismatch {
            shape: vec![100000, 100000, 3],
            dtype: Dtype::Uint8,
            expected: 30_000_000_000,
            actual: 10,
        })
    );
    // One byte short, one byte over.
    let e = frame_err("shape", Some("[2, 2]"), &[0; 3]);
    assert_err(&e, "size-mismatch", &["needs 4 bytes", "payload has 3"]);
    let e = frame_err("shape", Some("[2, 2]"), &[0; 5]);
    assert_err(&e, "size-mismatch", &["needs 4 bytes", "payload has 5"]);
    let header = frame_reply_with("array_dtype", Some("\"uint16\""));
    let e = reply_err(&[header.as_bytes(), &[0; 4]]);
    assert_err(&e, "size-mismatch", &["needs 8 bytes", "payload has 4"]);
}

// --- bad-compression ------------------------------------------------------------

#[test]
fn bad_compression() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"{"ups": false, "colorspace": "BGR"}"#,
            &["\"dct\"", "missing"],
        ),
        (
            r#"{"dct": true, "colorspace": "BGR"}"#,
            &["\"ups\"", "missing"],
        ),
        (
            r#"{"dct": true, "ups": false}"#,
            &["\"colorspace\"", "missing"],
        ),
        (
            r#"{"dct": 1, "ups": false, "colorspace": "BGR"}"#,
            &["\"dct\"", "boolean", "a number"],
        ),
        (
            r#"{"dct": true, "ups": "no", "colorspace": "BGR"}"#,
            &["\"ups\"", "boolean", "a string"],
        ),
        (
            r#"{"dct": true, "ups": false, "colorspace": 3}"#,
            &["\"colorspace\"", "string", "a number"],
        ),
        (
            r#"{"dct": true, "ups": false, "colorspace": "HSV"}"#,
            &["\"HSV\"", "colorspace"],
        ),
        (
            r#"{"dct": true, "ups": false, "colorspace": "YUV420"}"#,
            &["\"YUV420\""],
        ),
        (
            r#"{"dct": true, "ups": false, "colorspace": "bgr"}"#,
            &["\"bgr\""],
        ),
        (
            r#"{"dct": true, "ups": false, "colorspace": " BGR"}"#,
            &["\" BGR\""],
        ),
    ];
    for (compression, needles) in cases {
        let e = frame_err("compression", Some(compression), &[0; 4]);
        let mut all = vec!["\"compression\""];
        all.extend_from_slice(needles);
        assert_err(&e, "bad-compression", &all);
        let header = frame_reply_with("compression", Some(compression));
        let e = reply_err(&[header.as_bytes(), &[0; 4]]);
        assert_err(&e, "bad-compression", &all);
    }
    // Every one of the twelve names, exactly as written, is accepted.
    for c in netgear::wire::Colorspace::ALL {
        let value = format!(
            r#"{{"dct": false, "ups": true, "colorspace": "{}"}}"#,
            c.name()
        );
        let header = header_with("compression", Some(&value));
        assert!(
            decode_server_message(&parts(&[header.as_bytes(), b"jpeg"]), &Limits::default())
                .is_ok(),
            "{c}"
        );
    }
}

#[test]
fn compression_of_the_wrong_type() {
    // spec/08 §8.3 step 9: anything but false or an object is a wrong type.
    for (value, found) in [
        ("true", "a boolean"),
        ("\"jpeg\"", "a string"),
        ("null", "null"),
        ("[]", "an array"),
        ("0", "a number"),
    ] {
        let e = frame_err("compression", Some(value), &[0; 4]);
        assert_err(
            &e,
            "wrong-type",
            &["\"compression\"", "false or an object", found],
        );
        let header = frame_reply_with("compression", Some(value));
        let e = reply_err(&[header.as_bytes(), &[0; 4]]);
        assert_err(&e, "wrong-type", &["\"compression\"", found]);
    }
}

#[test]
fn frame_error_variants_have_codes() {
    assert_eq!(
        DecodeError::Frame(FrameError::TooManyDims(33)).code(),
        "bad-shape"
    );
    let overflow = FrameError::SizeOverflow {
        shape: vec![1 << 62, 1 << 62],
        dtype: Dtype::Int8,
    };
    assert_eq!(DecodeError::from(overflow).code(), "size-overflow");
    let mismatch = FrameError::SizeMismatch {
        shape: vec![2],
        dtype: Dtype::Int8,
        expected: 2,
        actual: 1,
    };
    assert_eq!(DecodeError::from(mismatch.clone()).code(), "size-mismatch");
    assert_eq!(
        DecodeError::from(mismatch.clone()).to_string(),
        mismatch.to_string()
    );
}

// --- FrameError -------------------------------------------------------------------

#[test]
fn frame_errors() {
    let e = Frame::new(Dtype::Uint8, vec![1; 33], vec![0u8; 1]).unwrap_err();
    assert_eq!(e, FrameError::TooManyDims(33));
    assert!(e.to_string().contains("33 dimensions"), "{e}");

    let e = Frame::new(Dtype::Float32, vec![usize::MAX, 2], Vec::new()).unwrap_err();
    assert!(matches!(
        e,
        FrameError::SizeOverflow {
            dtype: Dtype::Float32,
            ..
        }
    ));
    assert!(e.to_string().contains("float32"), "{e}");
    assert!(e.to_string().contains(&usize::MAX.to_string()), "{e}");
    assert_eq!(byte_size(Dtype::Float32, &[usize::MAX, 2]), None);
    assert_eq!(
        byte_size(Dtype::Uint8, &[usize::MAX]),
        Some(usize::MAX as u64)
    );
    assert_eq!(byte_size(Dtype::Uint16, &[usize::MAX]), None);

    let e = Frame::new(Dtype::Int16, vec![3, 2], vec![0u8; 11]).unwrap_err();
    assert_eq!(
        e,
        FrameError::SizeMismatch {
            shape: vec![3, 2],
            dtype: Dtype::Int16,
            expected: 12,
            actual: 11
        }
    );
    assert_eq!(
        e.to_string(),
        "shape [3, 2] of int16 needs 12 bytes, the payload has 11"
    );

    // 0-d arrays hold one element; a zero dimension holds none.
    assert_eq!(
        Frame::new(Dtype::Float64, vec![], vec![0u8; 8])
            .unwrap()
            .element_count(),
        1
    );
    assert!(Frame::new(Dtype::Float64, vec![], Vec::new()).is_err());
    assert_eq!(
        Frame::new(Dtype::Float64, vec![0, 5], Vec::new())
            .unwrap()
            .element_count(),
        0
    );
}

// --- ConfigError --------------------------------------------------------------------

fn config(pattern: Pattern) -> Config {
    Config::new().pattern(pattern)
}

fn assert_config_err(c: Config, want: ConfigError, needles: &[&str]) {
    assert_eq!(c.validate(), Err(want.clone()), "{c:?}");
    assert_eq!(Server::new(c.clone()).unwrap_err(), want);
    assert_eq!(
        Client::new(c, "ABCD1234", Instant::now()).unwrap_err(),
        want
    );
    let text = want.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
}

#[test]
fn config_bidirectional_needs_a_synchronous_pattern() {
    let c = (config(Pattern::PubSub)).bidirectional(true);
    assert_config_err(
        c,
        ConfigError::BidirectionalNeedsSynchronousPattern {
            pattern: Pattern::PubSub,
        },
        &["bidirectional", "pattern 2"],
    );
    for p in [Pattern::Pair, Pattern::ReqRep] {
        assert_eq!((config(p)).bidirectional(true).validate(), Ok(()));
    }
}

#[test]
fn config_multi_modes_need_pattern_1_or_2() {
    let c = (config(Pattern::Pair)).multiserver(true);
    assert_config_err(
        c,
        ConfigError::MultiModeNeedsPattern1Or2 {
            mode: "multi-server",
            pattern: Pattern::Pair,
        },
        &["multi-server", "pattern 0"],
    );
    let c = (config(Pattern::Pair)).multiclient(true);
    assert_config_err(
        c,
        ConfigError::MultiModeNeedsPattern1Or2 {
            mode: "multi-client",
            pattern: Pattern::Pair,
        },
        &["multi-client", "pattern 0"],
    );
    for p in [Pattern::ReqRep, Pattern::PubSub] {
        assert_eq!((config(p)).multiserver(true).validate(), Ok(()));
        assert_eq!((config(p)).multiclient(true).validate(), Ok(()));
    }
    // Bidirectional combines with either multi mode on pattern 1.
    assert_eq!(
        (config(Pattern::ReqRep))
            .multiclient(true)
            .bidirectional(true)
            .validate(),
        Ok(())
    );
}

#[test]
fn config_multi_modes_exclude_each_other() {
    for p in [Pattern::Pair, Pattern::ReqRep, Pattern::PubSub] {
        let c = (config(p)).multiserver(true).multiclient(true);
        assert_config_err(
            c,
            ConfigError::MultiServerAndMultiClient,
            &["multi-server", "multi-client"],
        );
    }
}

#[test]
fn config_zero_timeout() {
    let c = Config::new().request_timeout(Duration::ZERO);
    assert_config_err(c, ConfigError::ZeroTimeout, &["timeout"]);
    assert_eq!(
        Config::new()
            .request_timeout(Duration::from_nanos(1))
            .validate(),
        Ok(())
    );
}

#[test]
fn config_defaults_are_valid() {
    assert_eq!(Config::default().validate(), Ok(()));
    for p in [Pattern::Pair, Pattern::ReqRep, Pattern::PubSub] {
        assert_eq!(config(p).validate(), Ok(()));
        assert_eq!(Pattern::try_from(p.number()), Ok(p));
        assert_eq!(p.to_string(), p.number().to_string());
    }
    assert_eq!(Pattern::try_from(3), Err(UnknownPattern(3)));
    assert_eq!(Config::new().max_retries(0).validate(), Ok(()));
}
