//! The generator: proptest strategies for whole sessions. Everything
//! shrinks towards a small session: fewer frames, fewer servers or
//! clients, simpler values, smaller and emptier frames.

use proptest::collection::vec;
use proptest::prelude::*;

use super::model::{Content, FrameSpec, Jpeg, Mode, PyValue, Ret, Session, Step};

/// netgear's JSON depth limit (spec/05 §5.5): the message sits one level
/// inside the header, so a message of this depth is still accepted.
pub const MAX_ACCEPTED_DEPTH: usize = netgear::json::DEFAULT_MAX_DEPTH - 1;

const DTYPES: [&str; 12] = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
    "float32", "float64",
];

const COLORSPACES: [&str; 12] = [
    "RGB", "BGR", "RGBX", "BGRX", "XBGR", "XRGB", "GRAY", "RGBA", "BGRA", "ABGR", "ARGB", "CMYK",
];

fn digits(max: usize) -> impl Strategy<Value = String> {
    (any::<bool>(), vec(0u8..10, 1..max)).prop_map(|(negative, ds)| {
        let text: String = ds.iter().map(|d| char::from(b'0' + d)).collect();
        let text = text.trim_start_matches('0');
        match (text.is_empty(), negative) {
            (true, _) => "0".to_owned(),
            (false, true) => format!("-{text}"),
            (false, false) => text.to_owned(),
        }
    })
}

fn int() -> impl Strategy<Value = PyValue> {
    prop_oneof![
        4 => (-3i64..=3).prop_map(|n| n.to_string()),
        3 => any::<i64>().prop_map(|n| n.to_string()),
        2 => prop::sample::select(vec![
            "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "-18446744073709551617",
            "1267650600228229401496703205376",
        ]).prop_map(str::to_owned),
        2 => digits(60),
        1 => digits(700),
    ]
    .prop_map(PyValue::Int)
}

fn float() -> impl Strategy<Value = PyValue> {
    let edges = prop::sample::select(vec![
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        0.1,
        0.30000000000000004,
        1e16,
        1e-5,
        1e-7,
        9007199254740993.0,
        123456789012345680.0,
        -1085297024674930.2,
        2.5,
    ]);
    prop_oneof![
        3 => edges.prop_map(f64::to_bits),
        3 => any::<f64>().prop_map(f64::to_bits),
        1 => any::<u64>(),
        2 => (-1e6f64..1e6).prop_map(f64::to_bits),
    ]
    .prop_map(PyValue::Float)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 _]{0,12}",
        3 => vec(any::<char>(), 0..12).prop_map(String::from_iter),
        2 => prop::sample::select(vec![
            "", "\u{1f3a5}", "h\u{e9}llo w\u{f6}rld", "\u{0}", "\"\\/\u{8}\u{c}\n\r\t",
            "\u{7f}\u{80}\u{2028}\u{2029}", "\u{fffd}\u{feff}", "\u{10ffff}", "\u{d7ff}\u{e000}",
            "NaN", "null", "\u{65e5}\u{672c}\u{1f600}\u{1f1eb}\u{1f1f7}",
        ])
        .prop_map(str::to_owned),
        1 => ("[a-z]{1,3}", 100usize..3000).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn key() -> impl Strategy<Value = PyValue> {
    prop_oneof![
        6 => text().prop_map(PyValue::Str),
        3 => prop_oneof![(-2i64..=2).prop_map(|n| n.to_string()), digits(30)].prop_map(PyValue::Int),
        1 => any::<bool>().prop_map(PyValue::Bool),
        1 => Just(PyValue::None),
    ]
}

fn leaf() -> impl Strategy<Value = PyValue> {
    prop_oneof![
        1 => Just(PyValue::None),
        1 => any::<bool>().prop_map(PyValue::Bool),
        3 => int(),
        3 => float(),
        3 => text().prop_map(PyValue::Str),
    ]
}

fn nested() -> impl Strategy<Value = PyValue> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(PyValue::List),
            vec(inner.clone(), 0..6).prop_map(PyValue::Tuple),
            vec((key(), inner), 0..6).prop_map(PyValue::Dict),
        ]
    })
}

/// A value nested `depth` levels deep, in lists, tuples or dicts.
fn deep() -> impl Strategy<Value = PyValue> {
    (1usize..=MAX_ACCEPTED_DEPTH, leaf(), 0u8..3).prop_map(|(depth, leaf, kind)| {
        (0..depth).fold(leaf, |v, level| match (kind + level as u8) % 3 {
            0 => PyValue::List(vec![v]),
            1 => PyValue::Tuple(vec![v]),
            _ => PyValue::Dict(vec![(PyValue::Str("k".into()), v)]),
        })
    })
}

/// A message or JSON return data of any kind.
pub fn value() -> impl Strategy<Value = PyValue> {
    let falsy = prop::sample::select(vec![
        PyValue::Int("0".into()),
        PyValue::Float(0f64.to_bits()),
        PyValue::Float((-0f64).to_bits()),
        PyValue::Str(String::new()),
        PyValue::List(vec![]),
        PyValue::Tuple(vec![]),
        PyValue::Dict(vec![]),
        PyValue::Bool(false),
        PyValue::None,
    ]);
    prop_oneof![
        8 => nested(),
        2 => falsy,
        1 => deep(),
    ]
}

/// A raw frame: any dtype, 0-d to 4-D, zero-length dimensions included.
fn raw_frame() -> impl Strategy<Value = FrameSpec> {
    let shape = prop_oneof![
        1 => Just(vec![]),
        2 => (0usize..80).prop_map(|n| vec![n]),
        3 => (0usize..24, 0usize..24).prop_map(|(h, w)| vec![h, w]),
        3 => (0usize..16, 0usize..16, 1usize..=4).prop_map(|(h, w, c)| vec![h, w, c]),
        1 => vec(0usize..4, 4..=5),
    ];
    (prop::sample::select(DTYPES.to_vec()), shape, any::<u64>()).prop_map(|(dtype, shape, seed)| {
        FrameSpec {
            dtype: dtype.to_owned(),
            shape,
            content: Content::Random(seed),
        }
    })
}

/// A frame JPEG can carry in `colorspace`: uint8, H × W × channels (GRAY
/// also H × W), natural content.
fn jpeg_frame(colorspace: &str) -> impl Strategy<Value = FrameSpec> {
    let channels = match colorspace {
        "GRAY" => 1,
        "RGB" | "BGR" => 3,
        _ => 4,
    };
    let two_d = channels == 1;
    (1usize..48, 1usize..48, any::<bool>(), any::<u64>()).prop_map(move |(h, w, flat, k)| {
        FrameSpec {
            dtype: "uint8".into(),
            shape: if two_d && flat { vec![h, w] } else { vec![h, w, channels] },
            content: Content::Natural(k % 100_000),
        }
    })
}

fn frame(jpeg: &Option<Jpeg>) -> BoxedStrategy<FrameSpec> {
    match jpeg {
        Some(j) => jpeg_frame(&j.colorspace).boxed(),
        None => raw_frame().boxed(),
    }
}

fn jpeg() -> impl Strategy<Value = Option<Jpeg>> {
    let on = (prop::sample::select(COLORSPACES.to_vec()), 10u8..=100, any::<bool>()).prop_map(
        |(colorspace, quality, fast_dct)| {
            Some(Jpeg {
                colorspace: colorspace.to_owned(),
                quality,
                fast_dct,
            })
        },
    );
    prop_oneof![3 => Just(None), 1 => on]
}

fn mode(pattern: u8) -> BoxedStrategy<Mode> {
    let multi = (1usize..=3, any::<bool>());
    let server_hub = multi
        .clone()
        .prop_map(move |(servers, b)| Mode::MultiServer { servers, bidirectional: b && pattern == 1 });
    let client_fan = multi
        .prop_map(move |(clients, b)| Mode::MultiClient { clients, bidirectional: b && pattern == 1 });
    match pattern {
        0 => prop_oneof![1 => Just(Mode::Plain), 2 => Just(Mode::Bidirectional)].boxed(),
        1 => prop_oneof![
            2 => Just(Mode::Plain),
            4 => Just(Mode::Bidirectional),
            1 => server_hub,
            1 => client_fan,
        ]
        .boxed(),
        _ => prop_oneof![3 => Just(Mode::Plain), 1 => server_hub, 1 => client_fan].boxed(),
    }
}

/// The steps: in Multi-Server mode every server sends at least one frame
/// (a termination from a server it never heard from leaves vidgear's hub
/// stuck, spec/07 §7.11), the servers taking turns.
fn steps(mode: Mode, jpeg: Option<Jpeg>) -> BoxedStrategy<Vec<Step>> {
    let step = (value(), frame(&jpeg));
    match mode {
        Mode::MultiServer { servers, .. } => vec(vec(step, 1..=3), servers)
            .prop_map(|per_server| {
                let longest = per_server.iter().map(Vec::len).max().unwrap_or(0);
                let mut out = Vec::new();
                for j in 0..longest {
                    for (server, list) in per_server.iter().enumerate() {
                        if let Some((message, frame)) = list.get(j) {
                            out.push(Step { server, message: message.clone(), frame: frame.clone() });
                        }
                    }
                }
                out
            })
            .boxed(),
        _ => vec(step, 0..=6)
            .prop_map(|list| {
                list.into_iter()
                    .map(|(message, frame)| Step { server: 0, message, frame })
                    .collect()
            })
            .boxed(),
    }
}

fn returns(pattern: u8, mode: Mode, jpeg: Option<Jpeg>) -> BoxedStrategy<Vec<Vec<Ret>>> {
    let carries = pattern < 2 && (mode.bidirectional() || matches!(mode, Mode::MultiClient { .. }));
    if !carries {
        return Just(vec![Vec::new(); mode.receivers()]).boxed();
    }
    let ret = prop_oneof![3 => value().prop_map(Ret::Json), 1 => frame(&jpeg).prop_map(Ret::Frame)];
    vec(vec(ret, 0..=6), mode.receivers()).boxed()
}

/// A whole session.
pub fn session() -> impl Strategy<Value = Session> {
    let config = prop_oneof![3 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8)]
        .prop_flat_map(|pattern| (Just(pattern), mode(pattern), jpeg()));
    config.prop_flat_map(|(pattern, mode, jpeg)| {
        (steps(mode, jpeg.clone()), returns(pattern, mode, jpeg.clone())).prop_map(
            move |(steps, returns)| Session {
                pattern,
                mode,
                jpeg: jpeg.clone(),
                steps,
                returns,
            },
        )
    })
}
