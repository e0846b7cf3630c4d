//! The matrix: implementations × patterns × payload cases.

use std::fmt;

/// Which implementation plays a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Rust,
    Python,
}

impl fmt::Display for Impl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impl::Rust => "rust",
            Impl::Python => "python",
        })
    }
}

/// A JSON-able value as each side is told it: JSON text (both implementations
/// read it), optionally a Python literal for the Python side (tuples, int
/// keys), and the JSON the other end must observe.
#[derive(Debug, Clone)]
pub struct Datum {
    pub json: String,
    pub python: Option<&'static str>,
    /// What arrives, when it differs from `json` (keys become strings...).
    pub expect: Option<&'static str>,
}

impl Datum {
    fn json(text: impl Into<String>) -> Datum {
        Datum {
            json: text.into(),
            python: None,
            expect: None,
        }
    }
    fn python(literal: &'static str, json: &'static str) -> Datum {
        Datum {
            json: json.into(),
            python: Some(literal),
            expect: Some(json),
        }
    }
    pub fn expected_json(&self) -> &str {
        self.expect.unwrap_or(&self.json)
    }
}

/// What the receiver answers with.
#[derive(Debug, Clone)]
pub enum Return {
    Nothing,
    Data(Datum),
    Frame {
        shape: &'static str,
        dtype: &'static str,
    },
}

/// One payload case of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub bidirectional: bool,
    pub shape: &'static str,
    pub dtype: &'static str,
    pub message: Option<Datum>,
    pub ret: Return,
    pub ipc: bool,
}

/// What a cell checks.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Stream frames from sender to receiver and check both ends.
    Stream {
        sender: Impl,
        receiver: Impl,
        pattern: u8,
        case: Case,
    },
    /// Both implementations refuse bidirectional mode on pattern 2.
    Refusal { who: Impl, role: &'static str },
    /// JPEG-compressed frames or returned frames (conform/jpeg.rs).
    Jpeg(super::jpeg::JpegCell),
    /// Multi-Server and Multi-Client mode (conform/multi.rs).
    Multi(super::multi::MultiCell),
    /// Secure mode: StoneHouse, IronHouse and the refusals (conform/secure.rs).
    Secure(super::secure::SecureCell),
    /// JPEG in the multi modes (conform/multi_jpeg.rs).
    MultiJpeg(super::multi_jpeg::MultiJpegCell),
    /// Termination while frames are in flight (conform/inflight.rs).
    InFlight(super::inflight::InFlightCell),
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub kind: Kind,
}

impl Cell {
    pub fn id(&self) -> String {
        match &self.kind {
            Kind::Stream {
                sender,
                receiver,
                pattern,
                case,
            } => format!("{sender}-{receiver}/p{pattern}/{}", case.name),
            Kind::Refusal { who, role } => format!("refusal/{who}/{role}-bidirectional-pattern2"),
            Kind::Jpeg(cell) => cell.id(),
            Kind::Multi(cell) => cell.id(),
            Kind::Secure(cell) => cell.id(),
            Kind::MultiJpeg(cell) => cell.id(),
            Kind::InFlight(cell) => cell.id(),
        }
    }

    pub fn uses_python(&self) -> bool {
        match &self.kind {
            Kind::Stream {
                sender, receiver, ..
            } => *sender == Impl::Python || *receiver == Impl::Python,
            Kind::Refusal { who, .. } => *who == Impl::Python,
            Kind::Jpeg(cell) => cell.uses_python(),
            Kind::Multi(cell) => cell.uses_python(),
            Kind::Secure(cell) => cell.uses_python(),
            Kind::MultiJpeg(cell) => cell.uses_python(),
            Kind::InFlight(cell) => cell.uses_python(),
        }
    }
}

fn bidi(name: &'static str, message: Datum, ret: Return) -> Case {
    Case {
        name,
        bidirectional: true,
        shape: "48,64,3",
        dtype: "uint8",
        message: Some(message),
        ret,
        ipc: false,
    }
}

fn shaped(name: &'static str, shape: &'static str, dtype: &'static str) -> Case {
    Case {
        name,
        bidirectional: true,
        shape,
        dtype,
        message: Some(Datum::json(format!(
            "{{\"shape\": \"{shape}\", \"dtype\": \"{dtype}\"}}"
        ))),
        ret: Return::Data(Datum::json("\"ok\"")),
        ipc: false,
    }
}

/// The payload cases.
pub fn cases() -> Vec<Case> {
    let text = |t: &str| Return::Data(Datum::json(t));
    vec![
        Case {
            name: "plain",
            bidirectional: false,
            shape: "480,640,3",
            dtype: "uint8",
            message: None,
            ret: Return::Nothing,
            ipc: false,
        },
        Case {
            name: "plain-ipc",
            bidirectional: false,
            shape: "480,640,3",
            dtype: "uint8",
            message: None,
            ret: Return::Nothing,
            ipc: true,
        },
        bidi(
            "vga-text",
            Datum::json("\"Hello, I am a Server.\""),
            text("\"Hi, I am a Client here.\""),
        ),
        bidi(
            "unicode",
            Datum::json("\"h\u{e9}llo w\u{f6}rld \u{1f3a5} \u{2713} \u{65e5}\u{672c}\""),
            text("\"merci \u{1f64f} \\u0001\\t\\\"q\\\" \\\\\""),
        ),
        bidi(
            "nested",
            Datum::json(r#"{"a": [1, {"b": [true, false, null]}], "c": {"d": "e", "f": []}}"#),
            text(r#"[1, [2, [3, [4, {}]]]]"#),
        ),
        bidi(
            "int-keys",
            Datum::python(
                "{1: 'one', 2: {3: 'three'}}",
                r#"{"1": "one", "2": {"3": "three"}}"#,
            ),
            Return::Data(Datum::python("{10: [1, 2]}", r#"{"10": [1, 2]}"#)),
        ),
        bidi(
            "tuples",
            Datum::python("(1, 'two', (3.5, None))", r#"[1, "two", [3.5, null]]"#),
            Return::Data(Datum::python("((1, 2), (3, 4))", "[[1, 2], [3, 4]]")),
        ),
        bidi(
            "huge-int",
            Datum::json(
                "[1267650600228229401496703205376, -1180591620717411303424, 18446744073709551616]",
            ),
            text("340282366920938463463374607431768211457"),
        ),
        bidi(
            "float-edges",
            Datum::json(
                "[0.1, 1e+16, 1e-05, -0.0, 1.5e+300, 5e-324, 1.7976931348623157e+308, 2.5]",
            ),
            text("[0.30000000000000004, -1e-07]"),
        ),
        bidi(
            "nan-inf",
            Datum::json("[NaN, Infinity, -Infinity]"),
            text("{\"x\": NaN, \"y\": -Infinity}"),
        ),
        bidi(
            "bools-null",
            Datum::json(r#"{"t": true, "f": false, "n": null}"#),
            text("true"),
        ),
        bidi("null-return", Datum::json("\"ping\""), text("null")),
        bidi(
            "big-string",
            Datum::json(format!("\"{}\"", "x".repeat(1_000_000))),
            text("\"received\""),
        ),
        bidi("falsy-message", Datum::json("0"), text("\"\"")),
        bidi(
            "frame-return",
            Datum::json("\"send me a frame\""),
            Return::Frame {
                shape: "120,160,3",
                dtype: "uint8",
            },
        ),
        bidi(
            "frame-return-f32",
            Datum::json("\"depth please\""),
            Return::Frame {
                shape: "60,80",
                dtype: "float32",
            },
        ),
        shaped("shape-1x1", "1,1", "uint8"),
        shaped("shape-odd", "17,31,3", "uint8"),
        shaped("shape-gray2d", "480,640", "uint8"),
        shaped("shape-1d", "1001", "uint8"),
        shaped("depth-u16", "480,640", "uint16"),
        shaped("float32", "240,320,3", "float32"),
        shaped("bool", "64,64", "bool"),
        shaped("int16", "31,17,2", "int16"),
        shaped("float64", "9,11", "float64"),
    ]
}

fn published(name: &'static str, shape: &'static str, dtype: &'static str, ipc: bool) -> Case {
    Case {
        name,
        bidirectional: false,
        shape,
        dtype,
        message: None,
        ret: Return::Nothing,
        ipc,
    }
}

/// The payload cases of pattern 2 (no replies, so no bidirectional mode).
pub fn pubsub_cases() -> Vec<Case> {
    vec![
        published("plain", "480,640,3", "uint8", false),
        published("plain-ipc", "480,640,3", "uint8", true),
        published("shape-odd", "17,31,3", "uint8", false),
        published("shape-1d", "1001", "uint8", false),
        published("depth-u16", "480,640", "uint16", false),
        published("float32", "240,320,3", "float32", false),
        published("bool", "64,64", "bool", false),
        published("int16-ipc", "31,17,2", "int16", true),
    ]
}

/// Every cell.
pub fn matrix() -> Vec<Cell> {
    let pairs = [
        (Impl::Rust, Impl::Rust),
        (Impl::Rust, Impl::Python),
        (Impl::Python, Impl::Rust),
        (Impl::Python, Impl::Python),
    ];
    let mut cells = Vec::new();
    for (sender, receiver) in pairs {
        for pattern in [0u8, 1, 2] {
            let cases = if pattern == 2 {
                pubsub_cases()
            } else {
                cases()
            };
            for case in cases {
                cells.push(Cell {
                    kind: Kind::Stream {
                        sender,
                        receiver,
                        pattern,
                        case,
                    },
                });
            }
        }
    }
    cells.extend(super::jpeg::cells());
    cells.extend(super::multi::cells().into_iter().map(|m| Cell {
        kind: Kind::Multi(m),
    }));
    cells.extend(super::secure::cells());
    cells.extend(super::inflight::cells());
    for who in [Impl::Rust, Impl::Python] {
        for role in ["send", "receive"] {
            cells.push(Cell {
                kind: Kind::Refusal { who, role },
            });
        }
    }
    cells
}
