//! The serde conversions of `netgear::json`: `to_value` writes what Python's
//! `json.dumps` writes (the expected texts below were produced by CPython's
//! `json.dumps` and are hard-coded), `from_value` reads application types
//! back and names the path of whatever does not fit, and `Value` itself
//! goes through serde without losing a digit.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use netgear::json::{
    from_value, from_value_ref, parse, to_python_json, to_value, DeserializeErrorKind, Map, Number,
    SerializeErrorKind, Value,
};
use proptest::prelude::*;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

fn dumps<T: Serialize + ?Sized>(value: &T) -> String {
    to_python_json(&to_value(value).expect("serializable"))
}

fn loads(text: &str) -> Value {
    parse(text.as_bytes()).expect("valid JSON")
}

/// A map with keys of any type, in the order given (a Python dict literal).
struct Dict<K>(Vec<(K, i32)>);

impl<K: Serialize> Serialize for Dict<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A map read as its entries in order, keys of any type.
#[derive(Debug)]
struct Entries<K>(Vec<(K, i32)>);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for Entries<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K>(std::marker::PhantomData<K>);
        impl<'de, K: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K> {
            type Value = Entries<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Entries<K>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

/// Bytes, serialized as bytes (what `serde_bytes` does).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Unit,
    Newtype(i32),
    Tuple(i32, i32),
    Struct { a: i32 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Detection {
    label: String,
    score: f64,
    boxes: Vec<(u32, u32, u32, u32)>,
}

// ---------------------------------------------------------------------------
// Writing: what json.dumps writes
// ---------------------------------------------------------------------------

#[test]
fn integer_keys_are_written_as_strings_like_json_dumps() {
    // json.dumps({1: "a", -5: "b", 2**70: "c", 0: "d"})
    let dict = Dict(vec![(1i128, 0), (-5, 1), (1 << 70, 2), (0, 3)]);
    assert_eq!(
        dumps(&dict),
        r#"{"1": 0, "-5": 1, "1180591620717411303424": 2, "0": 3}"#
    );
    let map = BTreeMap::from([(2u8, "b"), (1, "a")]);
    assert_eq!(dumps(&map), r#"{"1": "a", "2": "b"}"#);
}

#[test]
fn bool_float_and_none_keys_are_written_like_json_dumps() {
    // json.dumps({False: 0, True: 1})
    assert_eq!(
        dumps(&Dict(vec![(false, 0), (true, 1)])),
        r#"{"false": 0, "true": 1}"#
    );
    // json.dumps({0.1: 1, 1e16: 2, float("nan"): 3, -float("inf"): 4, -0.0: 5, 1e-05: 6})
    let floats = Dict(vec![
        (0.1, 1),
        (1e16, 2),
        (f64::NAN, 3),
        (f64::NEG_INFINITY, 4),
        (-0.0, 5),
        (1e-5, 6),
    ]);
    assert_eq!(
        dumps(&floats),
        r#"{"0.1": 1, "1e+16": 2, "NaN": 3, "-Infinity": 4, "-0.0": 5, "1e-05": 6}"#
    );
    // json.dumps({float(numpy.float32(0.1)): 1})
    assert_eq!(
        dumps(&Dict(vec![(0.1f32, 1)])),
        r#"{"0.10000000149011612": 1}"#
    );
    // json.dumps({None: 1, "x": 2})
    let optional = Dict(vec![(None, 1), (Some("x"), 2)]);
    assert_eq!(dumps(&optional), r#"{"null": 1, "x": 2}"#);
    assert_eq!(dumps(&Dict(vec![((), 1)])), r#"{"null": 1}"#);
}

#[test]
fn unit_variant_char_and_newtype_keys_are_written_as_their_text() {
    #[derive(Serialize)]
    struct Id(u32);
    assert_eq!(dumps(&Dict(vec![(Id(7), 1)])), r#"{"7": 1}"#);
    assert_eq!(dumps(&Dict(vec![(Shape::Unit, 1)])), r#"{"Unit": 1}"#);
    assert_eq!(dumps(&Dict(vec![('é', 1)])), r#"{"\u00e9": 1}"#);
    // A number key is its literal, even one no primitive reproduces.
    for literal in ["-0", "1.50", "1267650600228229401496703205376", "NaN", "7"] {
        let key = Number::from_literal(literal).unwrap();
        assert_eq!(
            dumps(&Dict(vec![(key, 1)])),
            format!(r#"{{"{literal}": 1}}"#)
        );
    }
}

#[test]
fn other_key_types_are_a_typed_error_naming_the_map() {
    #[derive(Serialize)]
    struct Scene {
        frames: Vec<Dict<(u32, u32)>>,
    }
    let scene = Scene {
        frames: vec![Dict(vec![]), Dict(vec![((1, 2), 3)])],
    };
    let err = to_value(&scene).unwrap_err();
    assert_eq!(err.kind(), SerializeErrorKind::UnsupportedKey);
    assert_eq!(err.path(), ".frames[1]");
    assert_eq!(err.code(), "json-serialize");
    assert_eq!(
        err.to_string(),
        "at .frames[1]: a map key must be a string, number, bool or None (as json.dumps requires), found a tuple"
    );
    for (found, err) in [
        ("a sequence", to_value(&Dict(vec![(vec![1], 1)]))),
        ("a map", to_value(&Dict(vec![(Dict(vec![(1, 1)]), 1)]))),
        ("bytes", to_value(&Dict(vec![(Bytes(b"k"), 1)]))),
        (
            "the enum variant Newtype with content",
            to_value(&Dict(vec![(Shape::Newtype(1), 1)])),
        ),
    ] {
        let err = err.unwrap_err();
        assert_eq!(err.kind(), SerializeErrorKind::UnsupportedKey, "{found}");
        assert!(err.message().ends_with(found), "{err}");
        assert_eq!(err.path(), ".");
    }
}

#[test]
fn a_failing_serialize_impl_is_reported_with_its_path() {
    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("camera offline"))
        }
    }
    #[derive(Serialize)]
    struct Outer {
        source: Vec<Refuses>,
    }
    let err = to_value(&Outer {
        source: vec![Refuses],
    })
    .unwrap_err();
    assert_eq!(err.kind(), SerializeErrorKind::Custom);
    assert_eq!(err.to_string(), "at .source[0]: camera offline");
}

#[test]
fn floats_are_written_like_python_repr_nan_and_infinity_included() {
    let floats = [
        0.1,
        1e16,
        1e-5,
        123456789012345678.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        1.0,
        100.0,
    ];
    // json.dumps([0.1, 1e16, 1e-05, 123456789012345678.0, -0.0, nan, inf, -inf, 5e-324, 1.0, 100.0])
    assert_eq!(
        dumps(&floats),
        "[0.1, 1e+16, 1e-05, 1.2345678901234568e+17, -0.0, NaN, Infinity, -Infinity, 5e-324, 1.0, 100.0]"
    );
}

#[test]
fn f32_is_written_as_the_f64_it_widens_to() {
    let floats = [0.1f32, 16777217.0, f32::MAX, 1e-45, 0.5];
    // json.dumps([float(numpy.float32(x)) for x in ...])
    assert_eq!(
        dumps(&floats),
        "[0.10000000149011612, 16777216.0, 3.4028234663852886e+38, 1.401298464324817e-45, 0.5]"
    );
    for x in floats {
        assert_eq!(to_value(&x).unwrap(), Value::Number(Number::from(x)));
    }
}

#[test]
fn every_integer_width_is_exact() {
    // json.dumps([-2**127, 2**128-1, -2**63, 2**64-1])
    assert_eq!(
        dumps(&(i128::MIN, u128::MAX, i64::MIN, u64::MAX)),
        "[-170141183460469231731687303715884105728, 340282366920938463463374607431768211455, -9223372036854775808, 18446744073709551615]"
    );
    assert_eq!(
        dumps(&(i8::MIN, u8::MAX, i16::MIN, u16::MAX, i32::MIN, u32::MAX)),
        "[-128, 255, -32768, 65535, -2147483648, 4294967295]"
    );
    assert_eq!(
        dumps(&(isize::MIN, usize::MAX)),
        format!("[{}, {}]", isize::MIN, usize::MAX)
    );
}

#[test]
fn unit_none_tuples_bytes_and_chars_are_written_like_python() {
    let value = ((1, 2), (), None::<u8>, Bytes(b"hi"), 'c');
    // json.dumps([(1, 2), None, None, list(b"hi"), "c"])
    assert_eq!(dumps(&value), r#"[[1, 2], null, null, [104, 105], "c"]"#);
    #[derive(Serialize)]
    struct Marker;
    #[derive(Serialize)]
    struct Pair(u8, &'static str);
    #[derive(Serialize)]
    struct Meters(f64);
    assert_eq!(
        dumps(&(Marker, Pair(1, "a"), Meters(2.5))),
        r#"[null, [1, "a"], 2.5]"#
    );
    // json.dumps({"a": [], "b": {}, "c": ""})
    let empty = (Vec::<u8>::new(), BTreeMap::<u8, u8>::new(), "");
    assert_eq!(dumps(&empty), r#"[[], {}, ""]"#);
}

#[test]
fn enums_are_externally_tagged() {
    let shapes = [
        Shape::Unit,
        Shape::Newtype(1),
        Shape::Tuple(1, 2),
        Shape::Struct { a: 1 },
    ];
    // json.dumps(["Unit", {"Newtype": 1}, {"Tuple": [1, 2]}, {"Struct": {"a": 1}}])
    assert_eq!(
        dumps(&shapes),
        r#"["Unit", {"Newtype": 1}, {"Tuple": [1, 2]}, {"Struct": {"a": 1}}]"#
    );
}

#[test]
fn a_struct_is_an_object_in_field_order() {
    let d = Detection {
        label: "café 🎥".into(),
        score: 0.93,
        boxes: vec![(1, 2, 30, 40)],
    };
    // json.dumps({"label": "café 🎥", "score": 0.93, "boxes": [[1, 2, 30, 40]]})
    assert_eq!(
        dumps(&d),
        r#"{"label": "caf\u00e9 \ud83c\udfa5", "score": 0.93, "boxes": [[1, 2, 30, 40]]}"#
    );
}

#[test]
fn a_skipped_or_flattened_field_follows_serde_attributes() {
    #[derive(Serialize)]
    struct Inner {
        x: u8,
    }
    #[derive(Serialize)]
    struct Outer {
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(rename = "frame-id")]
        id: u32,
        #[serde(flatten)]
        inner: Inner,
    }
    let value = Outer {
        note: None,
        id: 3,
        inner: Inner { x: 9 },
    };
    assert_eq!(dumps(&value), r#"{"frame-id": 3, "x": 9}"#);
}

// ---------------------------------------------------------------------------
// Value through serde, exactly
// ---------------------------------------------------------------------------

const ODD_NUMBERS: &str = r#"{"big": 1267650600228229401496703205376, "neg": -1267650600228229401496703205376, "u128": 340282366920938463463374607431768211455, "nan": NaN, "inf": [Infinity, -Infinity], "minus_zero": -0, "padded": 1.50, "exp": 1E5, "overflow": 1e400, "plain": [0.5, -3, 7]}"#;

#[test]
fn a_value_serializes_to_itself_numbers_and_all() {
    let v = loads(ODD_NUMBERS);
    let again = to_value(&v).unwrap();
    assert_eq!(again, v);
    assert_eq!(to_python_json(&again), ODD_NUMBERS);
}

#[test]
fn a_value_deserializes_to_itself_numbers_and_all() {
    let v = loads(ODD_NUMBERS);
    assert_eq!(from_value_ref::<Value>(&v).unwrap(), v);
    assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
    let n = Number::from_literal("1.50").unwrap();
    assert_eq!(from_value::<Number>(Value::Number(n.clone())).unwrap(), n);
    let m: Map = from_value(v.clone()).unwrap();
    assert_eq!(Value::Object(m), v);
}

#[test]
fn serde_json_reads_and_writes_a_value_with_its_numbers_intact() {
    let text =
        r#"{"big":1267650600228229401496703205376,"padded":1.50,"minus_zero":-0,"i":-3,"f":0.25}"#;
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        to_python_json(&v),
        r#"{"big": 1267650600228229401496703205376, "padded": 1.50, "minus_zero": -0, "i": -3, "f": 0.25}"#
    );
    assert_eq!(serde_json::to_string(&v).unwrap(), text);

    let through_serde_json: serde_json::Value = from_value_ref(&v).unwrap();
    assert_eq!(serde_json::to_string(&through_serde_json).unwrap(), text);
    assert_eq!(to_value(&through_serde_json).unwrap(), v);
    assert_eq!(Value::from_serde(&through_serde_json), v);
}

#[test]
fn a_one_member_object_is_a_number_only_when_it_holds_a_literal() {
    // The key serde_json uses to pass a number as its text.
    let token = "$serde_json::private::Number";
    for not_a_number in [
        format!(r#"{{"{token}": "twelve"}}"#),
        format!(r#"{{"{token}": 12}}"#),
        format!(r#"{{"{token}": "1", "more": 2}}"#),
    ] {
        let v = loads(&not_a_number);
        assert_eq!(from_value::<Value>(v.clone()).unwrap(), v, "{not_a_number}");
    }
}

#[cfg(feature = "session-file")]
#[test]
fn value_works_with_other_serde_formats() {
    let v = loads(
        r#"{"a": [1, -2, 0.5, 1e+16, NaN, true, null, "s"], "b": {}, "c": 18446744073709551615}"#,
    );
    let packed = rmp_serde::to_vec(&v).unwrap();
    assert_eq!(rmp_serde::from_slice::<Value>(&packed).unwrap(), v);
}

// ---------------------------------------------------------------------------
// Reading: application types from a Value
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Frame {
    id: u32,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Batch {
    frames: Vec<Frame>,
}

#[test]
fn a_mismatch_names_the_path_of_the_field() {
    let v = loads(r#"{"frames": [{"id": 0}, {"id": 1}, {"id": 2}, {"id": "x"}]}"#);
    let err = from_value::<Batch>(v.clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"at .frames[3].id: invalid type: string "x", expected u32"#
    );
    assert_eq!(err.path(), ".frames[3].id");
    assert_eq!(err.message(), r#"invalid type: string "x", expected u32"#);
    assert_eq!(err.kind(), DeserializeErrorKind::InvalidType);
    assert_eq!(err.code(), "json-deserialize");
    assert_eq!(from_value_ref::<Batch>(&v).unwrap_err(), err);
}

#[test]
fn a_mismatch_inside_a_map_and_an_enum_names_the_key_and_variant() {
    let v = loads(r#"{"cam 1": {"Struct": {"a": "wide"}}}"#);
    let err = from_value::<HashMap<String, Shape>>(v).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"at ["cam 1"].Struct.a: invalid type: string "wide", expected i32"#
    );
    let v = loads(r#"{"7": [1, 2, 3]}"#);
    let err = from_value::<BTreeMap<u8, (u8, u8)>>(v).unwrap_err();
    assert_eq!(err.path(), r#"["7"]"#);
    assert_eq!(err.kind(), DeserializeErrorKind::InvalidLength);
}

#[test]
fn a_missing_or_unknown_field_is_named() {
    let err = from_value::<Detection>(loads(r#"{"label": "cat", "score": 1}"#)).unwrap_err();
    assert_eq!(err.kind(), DeserializeErrorKind::MissingField);
    assert_eq!(err.to_string(), "missing field `boxes`");

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        a: u8,
    }
    let err = from_value::<Vec<Strict>>(loads(r#"[{"a": 1, "b": 2}]"#)).unwrap_err();
    assert_eq!(err.kind(), DeserializeErrorKind::UnknownField);
    assert_eq!(err.to_string(), "at [0].b: unknown field `b`, expected `a`");
}

#[test]
fn integer_keys_given_as_strings_read_into_integer_key_types() {
    // json.dumps({1: "a", 20: "b"})
    let v = loads(r#"{"1": "a", "20": "b"}"#);
    let by_u32: HashMap<u32, String> = from_value(v.clone()).unwrap();
    assert_eq!(by_u32, HashMap::from([(1, "a".into()), (20, "b".into())]));
    let by_i64: BTreeMap<i64, String> = from_value(v).unwrap();
    assert_eq!(by_i64.keys().copied().collect::<Vec<_>>(), [1, 20]);

    let big = loads(r#"{"-1180591620717411303424": 0}"#);
    let by_i128: HashMap<i128, u8> = from_value(big).unwrap();
    assert_eq!(by_i128[&-(1 << 70)], 0);

    let err = from_value::<HashMap<u32, u8>>(loads(r#"{"1": 1, "x": 2}"#)).unwrap_err();
    // The key itself did not fit: its path ends in `?`, the message quotes it.
    assert_eq!(err.path(), ".?");
    assert_eq!(
        err.to_string(),
        r#"at .?: invalid type: string "x", expected u32"#
    );
    let err = from_value::<HashMap<u8, u8>>(loads(r#"{"300": 1}"#)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"at ["300"]: invalid value: integer `300`, expected u8"#
    );
    for not_an_int in [
        r#"{"1.5": 0}"#,
        r#"{"+1": 0}"#,
        r#"{"01": 0}"#,
        r#"{" 1": 0}"#,
    ] {
        assert!(
            from_value::<HashMap<i32, u8>>(loads(not_an_int)).is_err(),
            "{not_an_int}"
        );
    }
}

#[test]
fn bool_float_none_and_enum_keys_read_back() {
    let v = to_value(&Dict(vec![(false, 0), (true, 1)])).unwrap();
    let by_bool: BTreeMap<bool, i32> = from_value(v).unwrap();
    assert_eq!(by_bool, BTreeMap::from([(false, 0), (true, 1)]));

    let Entries::<f64>(floats) =
        from_value(loads(r#"{"0.1": 1, "1e+16": 2, "NaN": 3, "-Infinity": 4}"#)).unwrap();
    assert_eq!(floats[0], (0.1, 1));
    assert_eq!(floats[1], (1e16, 2));
    assert!(floats[2].0.is_nan());
    assert_eq!(floats[3], (f64::NEG_INFINITY, 4));

    let by_option: HashMap<Option<u32>, i32> = from_value(loads(r#"{"null": 1, "5": 2}"#)).unwrap();
    assert_eq!(by_option, HashMap::from([(None, 1), (Some(5), 2)]));

    #[derive(Debug, PartialEq, Eq, Hash, Deserialize)]
    enum Camera {
        Left,
        Right,
    }
    let by_camera: HashMap<Camera, u8> = from_value(loads(r#"{"Left": 1, "Right": 2}"#)).unwrap();
    assert_eq!(by_camera[&Camera::Right], 2);

    #[derive(Debug, PartialEq, Eq, Hash, Deserialize)]
    struct Id(u16);
    let by_id: HashMap<Id, u8> = from_value(loads(r#"{"65535": 1}"#)).unwrap();
    assert_eq!(by_id[&Id(u16::MAX)], 1);
}

#[test]
fn integers_read_into_any_type_that_fits() {
    assert_eq!(from_value::<u8>(loads("255")).unwrap(), 255);
    assert_eq!(from_value::<i8>(loads("-128")).unwrap(), -128);
    assert_eq!(from_value::<i64>(loads("-0")).unwrap(), 0);
    assert_eq!(
        from_value::<u128>(loads("340282366920938463463374607431768211455")).unwrap(),
        u128::MAX
    );
    assert_eq!(
        from_value::<i128>(loads("-170141183460469231731687303715884105728")).unwrap(),
        i128::MIN
    );
    assert_eq!(
        from_value::<i128>(loads("18446744073709551616")).unwrap(),
        1 << 64
    );
}

#[test]
fn an_integer_out_of_range_is_a_clear_error() {
    let cases = [
        (
            from_value::<u8>(loads("256")).unwrap_err(),
            "invalid value: integer `256`, expected u8",
        ),
        (
            from_value::<i8>(loads("-129")).unwrap_err(),
            "invalid value: integer `-129`, expected i8",
        ),
        (
            from_value::<u32>(loads("-1")).unwrap_err(),
            "invalid value: integer `-1`, expected u32",
        ),
        (
            from_value::<u64>(loads("18446744073709551616")).unwrap_err(),
            "invalid value: integer `18446744073709551616`, expected u64",
        ),
        (
            from_value::<u128>(loads("340282366920938463463374607431768211456")).unwrap_err(),
            "invalid value: integer `340282366920938463463374607431768211456`, expected u128",
        ),
        (
            // 2**200: too long to quote.
            from_value::<i128>(loads(
                "1606938044258990275541962092341162602522202993782792835301376",
            ))
            .unwrap_err(),
            "invalid value: integer of 61 digits, expected i128",
        ),
        (
            from_value::<u32>(loads("3.0")).unwrap_err(),
            "invalid type: floating point `3.0`, expected u32",
        ),
        (
            from_value::<u32>(loads("NaN")).unwrap_err(),
            "invalid type: floating point `NaN`, expected u32",
        ),
    ];
    for (err, want) in cases {
        assert_eq!(err.to_string(), want);
    }
}

#[test]
fn floats_read_integers_and_nan_and_infinity() {
    assert_eq!(from_value::<f64>(loads("3")).unwrap(), 3.0);
    assert_eq!(
        from_value::<f64>(loads("-1267650600228229401496703205376")).unwrap(),
        -(2f64.powi(100))
    );
    assert_eq!(
        from_value::<f32>(loads("0.10000000149011612")).unwrap(),
        0.1f32
    );
    assert!(from_value::<f64>(loads("NaN")).unwrap().is_nan());
    assert_eq!(
        from_value::<f64>(loads("-Infinity")).unwrap(),
        f64::NEG_INFINITY
    );
    assert_eq!(from_value::<f64>(loads("1e400")).unwrap(), f64::INFINITY);
    assert_eq!(from_value::<f64>(loads("1.50")).unwrap(), 1.5);
    let err = from_value::<f64>(loads(r#""1.5""#)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid type: string "1.5", expected f64"#
    );
}

/// What `deserialize_any` offered, as a visitor saw it.
#[derive(Debug, PartialEq)]
enum Seen {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(String),
    Literal(String),
}

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Seen, D::Error> {
        struct Probe;
        impl<'de> Visitor<'de> for Probe {
            type Value = Seen;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Seen, E> {
                Ok(Seen::I64(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Seen, E> {
                Ok(Seen::U64(v))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Seen, E> {
                Ok(Seen::I128(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Seen, E> {
                Ok(Seen::U128(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Seen, E> {
                Ok(Seen::F64(format!("{v:?}")))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Seen, A::Error> {
                let (_, text): (String, String) = m.next_entry()?.expect("one member");
                Ok(Seen::Literal(text))
            }
        }
        d.deserialize_any(Probe)
    }
}

#[test]
fn deserialize_any_offers_the_primitive_that_keeps_the_number() {
    let cases = [
        ("-5", Seen::I64(-5)),
        ("5", Seen::U64(5)),
        ("18446744073709551615", Seen::U64(u64::MAX)),
        ("18446744073709551616", Seen::U128(1 << 64)),
        ("-9223372036854775809", Seen::I128(-(1 << 63) - 1)),
        ("0.5", Seen::F64("0.5".into())),
        ("NaN", Seen::F64("NaN".into())),
        ("-Infinity", Seen::F64("-inf".into())),
        (
            "340282366920938463463374607431768211456",
            Seen::Literal("340282366920938463463374607431768211456".into()),
        ),
        ("-0", Seen::Literal("-0".into())),
        ("1.50", Seen::Literal("1.50".into())),
    ];
    for (text, want) in cases {
        assert_eq!(from_value::<Seen>(loads(text)).unwrap(), want, "{text}");
    }
}

#[test]
fn options_tuples_and_units_read_like_json_loads_gives_them() {
    assert_eq!(from_value::<Option<u8>>(Value::Null).unwrap(), None);
    assert_eq!(from_value::<Option<u8>>(loads("3")).unwrap(), Some(3));
    from_value::<()>(Value::Null).unwrap();
    assert_eq!(
        from_value::<(u8, String, bool)>(loads(r#"[1, "a", true]"#)).unwrap(),
        (1, "a".into(), true)
    );
    let short = from_value::<(u8, u8, u8)>(loads("[1, 2]")).unwrap_err();
    assert_eq!(short.kind(), DeserializeErrorKind::InvalidLength);
    assert_eq!(
        short.to_string(),
        "invalid length 2, expected a tuple of size 3"
    );
    let long = from_value::<(u8, u8)>(loads("[1, 2, 3]")).unwrap_err();
    assert_eq!(long.kind(), DeserializeErrorKind::InvalidLength);
    assert_eq!(from_value::<char>(loads(r#""\u00e9""#)).unwrap(), 'é');
    assert_eq!(from_value::<Vec<u8>>(loads("[104, 105]")).unwrap(), b"hi");
}

#[test]
fn enums_read_externally_tagged() {
    let v = loads(
        r#"["Unit", {"Unit": null}, {"Newtype": 1}, {"Tuple": [1, 2]}, {"Struct": {"a": 1}}]"#,
    );
    assert_eq!(
        from_value::<Vec<Shape>>(v).unwrap(),
        [
            Shape::Unit,
            Shape::Unit,
            Shape::Newtype(1),
            Shape::Tuple(1, 2),
            Shape::Struct { a: 1 }
        ]
    );
    let err = from_value::<Shape>(loads(r#""Circle""#)).unwrap_err();
    assert_eq!(err.kind(), DeserializeErrorKind::UnknownVariant);
    assert_eq!(
        err.to_string(),
        "unknown variant `Circle`, expected one of `Unit`, `Newtype`, `Tuple`, `Struct`"
    );
    for bad in [
        r#"{"Unit": 1, "Newtype": 2}"#,
        "[]",
        "3",
        r#""Newtype""#,
        r#"{"Unit": 1}"#,
    ] {
        let err = from_value::<Shape>(loads(bad)).unwrap_err();
        assert_eq!(
            err.kind(),
            DeserializeErrorKind::InvalidType,
            "{bad}: {err}"
        );
    }
}

#[test]
fn untagged_and_internally_tagged_enums_read_through_deserialize_any() {
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Int(i64),
        Float(f64),
        Text(String),
        List(Vec<Loose>),
    }
    assert_eq!(
        from_value::<Loose>(loads(r#"[1, 0.5, "a"]"#)).unwrap(),
        Loose::List(vec![
            Loose::Int(1),
            Loose::Float(0.5),
            Loose::Text("a".into())
        ])
    );
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "type")]
    enum Event {
        Motion { area: u32 },
    }
    assert_eq!(
        from_value::<Event>(loads(r#"{"type": "Motion", "area": 7}"#)).unwrap(),
        Event::Motion { area: 7 }
    );
}

#[test]
fn borrowing_from_value_ref_copies_no_string() {
    #[derive(Deserialize)]
    struct Tag<'a> {
        label: &'a str,
    }
    let v = loads(r#"{"label": "cat"}"#);
    let tag: Tag = from_value_ref(&v).unwrap();
    let held = v.get("label").and_then(Value::as_str).unwrap();
    assert_eq!(tag.label.as_ptr(), held.as_ptr());
}

#[test]
fn a_value_is_itself_a_deserializer() {
    let v = loads(r#"{"label": "cat", "score": 0.5, "boxes": []}"#);
    let d = Detection::deserialize(&v).unwrap();
    assert_eq!(d.label, "cat");
    assert_eq!(Detection::deserialize(v).unwrap().score, 0.5);
    // Used directly, without from_value, an error has no path.
    let err = Vec::<u8>::deserialize(loads("[1, -1]")).unwrap_err();
    assert_eq!(err.path(), ".");
    assert_eq!(err.to_string(), "invalid value: integer `-1`, expected u8");
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,8}",
        any::<String>(),
        Just("$serde_json::private::Number".to_string()),
    ]
}

/// Numbers in every form: primitives, Python's repr of any float, and
/// literals no primitive reproduces (beyond 128 bits, `-0`, padded or
/// upper-case exponents).
fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<i128>().prop_map(Number::from),
        any::<u128>().prop_map(Number::from),
        any::<f64>().prop_map(Number::from),
        any::<f32>().prop_map(Number::from),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]
            .prop_map(Number::from),
        "-?(0|[1-9][0-9]{0,60})(\\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?"
            .prop_map(|text| Number::from_literal(&text).expect("grammar")),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number().prop_map(Value::Number),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn has_non_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => matches!(n.as_str(), "NaN" | "Infinity" | "-Infinity"),
        Value::Array(items) => items.iter().any(has_non_finite),
        Value::Object(m) => m.iter().any(|(_, v)| has_non_finite(v)),
        _ => false,
    }
}

fn same_up_to_float_layout(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || (!x.is_integer()
                    && !y.is_integer()
                    && x.as_f64().to_bits() == y.as_f64().to_bits())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_up_to_float_layout(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, a), (kb, b))| ka == kb && same_up_to_float_layout(a, b))
        }
        _ => a == b,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Still,
    Burst(u8),
    Clip { start: i64, end: Option<i64> },
    Pair(String, f32),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    score: f64,
    ratio: f32,
    big: u128,
    delta: i128,
    parent: Option<i32>,
    tags: Vec<String>,
    by_id: HashMap<i64, (u8, Option<String>)>,
    boxes: Vec<(u32, u32, u32, u32)>,
    nested: Vec<Vec<Option<bool>>>,
    kind: Kind,
    kinds: BTreeMap<u16, Kind>,
}

/// A float that compares equal to itself after a round trip (not NaN).
fn arb_real() -> impl Strategy<Value = f64> {
    any::<f64>().prop_map(|x| if x.is_nan() { 0.0 } else { x })
}

fn arb_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Still),
        any::<u8>().prop_map(Kind::Burst),
        (any::<i64>(), any::<Option<i64>>()).prop_map(|(start, end)| Kind::Clip { start, end }),
        (
            any::<String>(),
            any::<f32>().prop_filter("not NaN", |x| !x.is_nan())
        )
            .prop_map(|(s, x)| Kind::Pair(s, x)),
    ]
}

prop_compose! {
    /// Any [`Record`], its floats never NaN so that it compares equal after
    /// a round trip.
    fn arb_record()(
        (id, name, score, ratio) in (
            any::<u64>(),
            any::<String>(),
            arb_real(),
            any::<f32>().prop_filter("not NaN", |x| !x.is_nan()),
        ),
        (big, delta, parent) in (any::<u128>(), any::<i128>(), any::<Option<i32>>()),
        tags in proptest::collection::vec(any::<String>(), 0..4),
        by_id in proptest::collection::hash_map(
            any::<i64>(),
            (any::<u8>(), any::<Option<String>>()),
            0..4,
        ),
        boxes in proptest::collection::vec(any::<(u32, u32, u32, u32)>(), 0..3),
        nested in proptest::collection::vec(
            proptest::collection::vec(any::<Option<bool>>(), 0..3),
            0..3,
        ),
        kind in arb_kind(),
        kinds in proptest::collection::btree_map(any::<u16>(), arb_kind(), 0..3),
    ) -> Record {
        Record {
            id, name, score, ratio, big, delta, parent, tags, by_id, boxes, nested, kind, kinds,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_value_survives_to_value(v in arb_value()) {
        prop_assert_eq!(to_value(&v).unwrap(), v);
    }

    #[test]
    fn any_value_survives_from_value(v in arb_value()) {
        prop_assert_eq!(from_value_ref::<Value>(&v).unwrap(), v.clone());
        prop_assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
    }

    #[test]
    fn any_finite_value_survives_serde_json_text(v in arb_value()) {
        // serde_json writes a float in its own layout (1e16 for Python's
        // 1e+16): the same float, in other text. Every other number, and
        // every literal no primitive reproduces, keeps its text.
        prop_assume!(!has_non_finite(&v));
        let text = serde_json::to_string(&v).unwrap();
        let back = serde_json::from_str::<Value>(&text).unwrap();
        prop_assert!(same_up_to_float_layout(&back, &v), "{} became {}", to_python_json(&v), to_python_json(&back));
    }

    #[test]
    fn a_record_survives_a_value_and_the_python_json_text(r in arb_record()) {
        let v = to_value(&r).unwrap();
        prop_assert_eq!(from_value::<Record>(v.clone()).unwrap(), r.clone());
        let text = to_python_json(&v);
        let wire = parse(text.as_bytes()).unwrap();
        prop_assert_eq!(&wire, &v);
        prop_assert_eq!(from_value::<Record>(wire).unwrap(), r);
    }

    #[test]
    fn no_value_makes_reading_panic(v in arb_value()) {
        // Whatever comes from a peer: a result, never a panic.
        let _ = from_value_ref::<Record>(&v);
        let _ = from_value_ref::<Vec<Kind>>(&v);
        let _ = from_value_ref::<HashMap<u8, Option<(i128, f32)>>>(&v);
        let _ = from_value_ref::<BTreeMap<bool, Vec<char>>>(&v);
        let _ = from_value_ref::<serde_json::Value>(&v);
        let _ = from_value::<Map>(v);
    }
}
