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

/// A value nested `depth` levels deep, in lists, tuples or dicts, up to
/// a little beyond netgear's limit (spec/07 §7.15).
fn deep() -> impl Strategy<Value = PyValue> {
    (1usize..=MAX_ACCEPTED_DEPTH + 40, leaf(), 0u8..3).prop_map(|(depth, leaf, kind)| {
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

/// The size and content of a frame JPEG can carry: H, W, whether a GRAY
/// frame is H × W rather than H × W × 1, and the natural frame's index.
#[derive(Debug, Clone)]
struct JpegShape {
    h: usize,
    w: usize,
    flat: bool,
    k: u64,
}

fn jpeg_shape() -> impl Strategy<Value = JpegShape> {
    (1usize..48, 1usize..48, any::<bool>(), 0u64..100_000).prop_map(|(h, w, flat, k)| JpegShape {
        h,
        w,
        flat,
        k,
    })
}

impl JpegShape {
    /// The frame for `colorspace`: uint8, H × W × channels (GRAY also
    /// H × W), natural content.
    fn spec(&self, colorspace: &str) -> FrameSpec {
        let channels = match colorspace {
            "GRAY" => 1,
            "RGB" | "BGR" => 3,
            _ => 4,
        };
        FrameSpec {
            dtype: "uint8".into(),
            shape: if channels == 1 && self.flat {
                vec![self.h, self.w]
            } else {
                vec![self.h, self.w, channels]
            },
            content: Content::Natural(self.k),
        }
    }
}

/// A frame of either kind; the session's JPEG setting picks one.
fn any_frame() -> impl Strategy<Value = (FrameSpec, JpegShape)> {
    (raw_frame(), jpeg_shape())
}

fn pick(jpeg: &Option<Jpeg>, (raw, shape): &(FrameSpec, JpegShape)) -> FrameSpec {
    match jpeg {
        Some(j) => shape.spec(&j.colorspace),
        None => raw.clone(),
    }
}

fn jpeg() -> impl Strategy<Value = Option<Jpeg>> {
    let on = (
        prop::sample::select(COLORSPACES.to_vec()),
        10u8..=100,
        any::<bool>(),
    )
        .prop_map(|(colorspace, quality, fast_dct)| {
            Some(Jpeg {
                colorspace: colorspace.to_owned(),
                quality,
                fast_dct,
            })
        });
    prop_oneof![3 => Just(None), 1 => on]
}

/// The mode asked for, before the pattern constrains it.
#[derive(Debug, Clone, Copy)]
enum ModeKind {
    Plain,
    Bidirectional,
    MultiServer,
    MultiClient,
}

fn mode_kind() -> impl Strategy<Value = ModeKind> {
    prop_oneof![
        2 => Just(ModeKind::Plain),
        3 => Just(ModeKind::Bidirectional),
        1 => Just(ModeKind::MultiServer),
        1 => Just(ModeKind::MultiClient),
    ]
}

/// The mode a kind becomes on `pattern` with `frames` frames: pattern 0
/// has no multi mode, pattern 2 no Bidirectional mode, and in Multi-Server
/// mode every server sends a frame (a termination from a server it never
/// heard from leaves vidgear's hub stuck, spec/07 §7.11).
fn mode_of(kind: ModeKind, pattern: u8, many: usize, bidirectional: bool, frames: usize) -> Mode {
    let bidirectional = bidirectional && pattern == 1;
    match (kind, pattern) {
        (ModeKind::Plain, _) | (ModeKind::Bidirectional, 2) => Mode::Plain,
        (ModeKind::Bidirectional, _) | (ModeKind::MultiServer | ModeKind::MultiClient, 0) => {
            Mode::Bidirectional
        }
        (ModeKind::MultiServer, _) if frames == 0 => Mode::Plain,
        (ModeKind::MultiServer, _) => Mode::MultiServer {
            servers: many.min(frames),
            bidirectional,
        },
        (ModeKind::MultiClient, _) => Mode::MultiClient {
            clients: many,
            bidirectional,
        },
    }
}

/// What a receiver may answer with, of either kind.
fn any_ret() -> impl Strategy<Value = (bool, PyValue, (FrameSpec, JpegShape))> {
    (prop::bool::weighted(0.25), value(), any_frame())
}

/// A whole session. Its parts are drawn independently and then fitted
/// together, so that each shrinks on its own (fewer frames, fewer peers,
/// simpler values, a simpler configuration).
pub fn session() -> impl Strategy<Value = Session> {
    let pattern = prop_oneof![3 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8)];
    let config = (pattern, mode_kind(), 1usize..=3, any::<bool>(), jpeg());
    let steps = vec((value(), any_frame()), 0..=6);
    let returns = vec(vec(any_ret(), 0..=6), 3);
    (config, steps, returns).prop_map(|((pattern, kind, many, bidi, jpeg), steps, returns)| {
        let mode = mode_of(kind, pattern, many, bidi, steps.len());
        let servers = mode.servers();
        let steps: Vec<Step> = steps
            .iter()
            .enumerate()
            .map(|(i, (message, frame))| Step {
                server: i % servers,
                message: message.clone(),
                frame: pick(&jpeg, frame),
            })
            .collect();
        let carries =
            pattern < 2 && (mode.bidirectional() || matches!(mode, Mode::MultiClient { .. }));
        let returns = returns
            .iter()
            .take(mode.receivers())
            .map(|list| {
                if !carries {
                    return Vec::new();
                }
                list.iter()
                    .map(|(is_frame, v, frame)| {
                        if *is_frame {
                            Ret::Frame(pick(&jpeg, frame))
                        } else {
                            Ret::Json(v.clone())
                        }
                    })
                    .collect()
            })
            .collect();
        Session {
            pattern,
            mode,
            jpeg,
            steps,
            returns,
        }
    })
}
