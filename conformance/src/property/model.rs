//! What a generated session is: its configuration and, per frame, the
//! message, the frame and the return data. A session is plain data, so a
//! failing one can be saved as a regression file and replayed.

use netgear::json::{Map, Number, Value};
use netgear::wire::Colorspace;
use netgear::{Dtype, Frame};
use serde::{Deserialize, Serialize};

/// A Python value as an application hands it to vidgear: everything
/// `json.dumps` accepts, tuples and non-string keys included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer of any size, in decimal.
    Int(String),
    /// A float, by its bits (NaN payloads and -0.0 included).
    Float(u64),
    /// A string of Unicode scalar values.
    Str(String),
    /// A list.
    List(Vec<PyValue>),
    /// A tuple (`json.dumps` writes it as a list).
    Tuple(Vec<PyValue>),
    /// A dict; keys are `Str`, `Int`, `Bool` or `None`, which `json.dumps`
    /// turns into strings.
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    /// The tagged form the control peer reads (conformance/python/prop_peer.py).
    pub fn tagged(&self) -> Value {
        let tag = |name: &str, inner: Value| {
            let mut m = Map::new();
            m.insert(name, inner);
            Value::Object(m)
        };
        match self {
            PyValue::None => Value::Null,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(digits) => tag("i", Value::from(digits.as_str())),
            PyValue::Float(bits) => tag("f", Value::from(format!("{bits:016x}"))),
            PyValue::Str(s) => Value::from(s.as_str()),
            PyValue::List(items) => {
                tag("l", Value::Array(items.iter().map(Self::tagged).collect()))
            }
            PyValue::Tuple(items) => {
                tag("t", Value::Array(items.iter().map(Self::tagged).collect()))
            }
            PyValue::Dict(pairs) => tag(
                "d",
                Value::Array(
                    pairs
                        .iter()
                        .map(|(k, v)| Value::Array(vec![k.tagged(), v.tagged()]))
                        .collect(),
                ),
            ),
        }
    }

    /// The nesting depth: 0 for a scalar, 1 for a flat list, ...
    pub fn depth(&self) -> usize {
        match self {
            PyValue::List(items) | PyValue::Tuple(items) => {
                1 + items.iter().map(Self::depth).max().unwrap_or(0)
            }
            PyValue::Dict(pairs) => 1 + pairs.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// A float's number as netgear's JSON value carries it.
pub fn float_number(bits: u64) -> Number {
    Number::from(f64::from_bits(bits))
}

/// How a frame's bytes are made (the same on both sides: the bytes travel
/// in the instruction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Content {
    /// Bytes of a seeded generator (`bool`: 0 or 1).
    Random(u64),
    /// Frame k of the natural video (uint8 H,W[,C]): what JPEG is made for.
    Natural(u64),
}

/// A frame: element type, shape and content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameSpec {
    /// numpy's name.
    pub dtype: String,
    /// numpy's shape; `[]` is 0-d.
    pub shape: Vec<usize>,
    /// The content.
    pub content: Content,
}

impl FrameSpec {
    /// The frame itself.
    pub fn frame(&self) -> Frame {
        let dtype: Dtype = self.dtype.parse().expect("the generator names real dtypes");
        match self.content {
            Content::Natural(k) => netgear_testkit::natural_frame(&self.shape, k),
            Content::Random(seed) => {
                let n: usize = self.shape.iter().product::<usize>() * dtype.itemsize();
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut bytes: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
                if dtype == Dtype::Bool {
                    bytes.iter_mut().for_each(|b| *b &= 1);
                }
                Frame::new(dtype, self.shape.clone(), bytes).expect("sized for its shape")
            }
        }
    }

    /// The form the control peer reads.
    pub fn tagged(&self) -> Value {
        frame_value(&self.frame())
    }
}

/// `{"dtype", "shape", "hex"}`: a frame as the control peer reads and
/// reports it.
pub fn frame_value(frame: &Frame) -> Value {
    let mut m = Map::new();
    m.insert("dtype", frame.dtype().name());
    m.insert("shape", Value::from(frame.shape().to_vec()));
    m.insert("hex", hex::encode(frame.data()));
    Value::Object(m)
}

/// What a receiver answers a frame with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Ret {
    /// JSON return data.
    Json(PyValue),
    /// A frame (JPEG-compressed when the session compresses).
    Frame(FrameSpec),
}

impl Ret {
    /// The tagged form the control peer reads.
    pub fn tagged(&self) -> Value {
        match self {
            Ret::Json(v) => v.tagged(),
            Ret::Frame(f) => {
                let mut m = Map::new();
                m.insert("frame", f.tagged());
                Value::Object(m)
            }
        }
    }
}

/// One frame of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Which server sends it (Multi-Server mode; else 0).
    pub server: usize,
    /// The message sent with it.
    pub message: PyValue,
    /// The frame.
    pub frame: FrameSpec,
}

/// The NetGear mode of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// One server, one client, frames only.
    Plain,
    /// One server, one client, messages and return data (patterns 0, 1).
    Bidirectional,
    /// `servers` servers, one receiving hub; bidirectional on pattern 1 or not.
    MultiServer {
        /// How many servers.
        servers: usize,
        /// Bidirectional mode as well.
        bidirectional: bool,
    },
    /// One server, `clients` clients; bidirectional on pattern 1 or not.
    MultiClient {
        /// How many clients.
        clients: usize,
        /// Bidirectional mode as well.
        bidirectional: bool,
    },
}

impl Mode {
    /// Bidirectional mode is on.
    pub fn bidirectional(self) -> bool {
        match self {
            Mode::Plain => false,
            Mode::Bidirectional => true,
            Mode::MultiServer { bidirectional, .. } | Mode::MultiClient { bidirectional, .. } => {
                bidirectional
            }
        }
    }

    /// How many servers.
    pub fn servers(self) -> usize {
        match self {
            Mode::MultiServer { servers, .. } => servers,
            _ => 1,
        }
    }

    /// How many receivers (a Multi-Server hub is one).
    pub fn receivers(self) -> usize {
        match self {
            Mode::MultiClient { clients, .. } => clients,
            _ => 1,
        }
    }
}

/// vidgear's JPEG options of both ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jpeg {
    /// The colourspace name (upper case).
    pub colorspace: String,
    /// 10 to 100.
    pub quality: u8,
    /// `jpeg_compression_fastdct`.
    pub fast_dct: bool,
}

impl Jpeg {
    /// The colourspace.
    pub fn colorspace(&self) -> Colorspace {
        self.colorspace
            .parse()
            .expect("the generator names real colourspaces")
    }

    /// netgear's decoder uses the fast integer IDCT for it (the pure-Rust
    /// backend always decodes with the accurate one; libjpeg-turbo honours
    /// the flags, 03-payload.md §3.3.4).
    pub fn netgear_decodes_fast(&self) -> bool {
        self.fast_dct && netgear::jpeg::BACKEND.starts_with("libjpeg-turbo")
    }

    /// The options as the control peer reads them; `reference_fastdct` is
    /// the IDCT of its reference decodes, netgear's own.
    pub fn instruction(&self) -> netgear::json::Value {
        let mut m = Map::new();
        m.insert("colorspace", self.colorspace.as_str());
        m.insert("quality", u64::from(self.quality));
        m.insert("fastdct", self.fast_dct);
        m.insert("reference_fastdct", self.netgear_decodes_fast());
        netgear::json::Value::Object(m)
    }

    /// netgear's options for it.
    pub fn options(&self) -> netgear::jpeg::JpegOptions {
        netgear::jpeg::JpegOptions::with_colorspace(self.colorspace())
            .quality(self.quality)
            .fast_dct(self.fast_dct)
            .fast_upsample(false)
    }
}

/// A whole generated session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// 0, 1 or 2.
    pub pattern: u8,
    /// The mode.
    pub mode: Mode,
    /// JPEG compression of frames and returned frames, on both ends.
    pub jpeg: Option<Jpeg>,
    /// The frames, in the order they are sent.
    pub steps: Vec<Step>,
    /// Per receiver, the return data of its 1st, 2nd, ... frame; the last
    /// one stays for later frames (sticky), none means `None`.
    pub returns: Vec<Vec<Ret>>,
}

impl Session {
    /// The return data receiver `c` answers its `j`-th frame with.
    pub fn ret(&self, c: usize, j: usize) -> Option<&Ret> {
        let list = self.returns.get(c)?;
        list.get(j).or(list.last())
    }

    /// Replies carry return data (Bidirectional or Multi-Client mode, on
    /// patterns 0 and 1).
    pub fn replies_with_data(&self) -> bool {
        self.pattern < 2
            && (self.mode.bidirectional() || matches!(self.mode, Mode::MultiClient { .. }))
    }

    /// A one-line summary for reports.
    pub fn summary(&self) -> String {
        let mode = match self.mode {
            Mode::Plain => "plain".to_owned(),
            Mode::Bidirectional => "bidirectional".to_owned(),
            Mode::MultiServer {
                servers,
                bidirectional,
            } => {
                format!(
                    "multi-server×{servers}{}",
                    if bidirectional { "+bidi" } else { "" }
                )
            }
            Mode::MultiClient {
                clients,
                bidirectional,
            } => {
                format!(
                    "multi-client×{clients}{}",
                    if bidirectional { "+bidi" } else { "" }
                )
            }
        };
        let jpeg = self.jpeg.as_ref().map_or(String::new(), |j| {
            format!(
                " jpeg {} q{}{}",
                j.colorspace,
                j.quality,
                if j.fast_dct { "" } else { " accurate-dct" }
            )
        });
        format!(
            "p{} {mode}{jpeg}, {} frame(s)",
            self.pattern,
            self.steps.len()
        )
    }

    /// The part of a peer instruction both directions share: `op` for
    /// this session `sid`, its pattern and mode, its ipc endpoints and its
    /// JPEG settings; each direction adds its own fields.
    pub fn instruction(&self, op: &str, address: &str, ports: &[String], sid: u64) -> Map {
        let mut m = Map::new();
        m.insert("op", op);
        m.insert("sid", sid);
        m.insert("pattern", u64::from(self.pattern));
        m.insert("bidirectional", self.mode.bidirectional());
        m.insert("multiserver", matches!(self.mode, Mode::MultiServer { .. }));
        m.insert("multiclient", matches!(self.mode, Mode::MultiClient { .. }));
        m.insert("address", address);
        m.insert(
            "ports",
            Value::Array(ports.iter().map(|p| Value::from(p.as_str())).collect()),
        );
        if let Some(j) = &self.jpeg {
            m.insert("jpeg", j.instruction());
        }
        m
    }

    /// The media layer netgear's ends use: JPEG as the session says, or
    /// raw frames.
    pub fn media(&self) -> netgear::media::Media {
        match &self.jpeg {
            Some(j) => netgear::media::Media::new().jpeg(j.options()),
            None => netgear::media::Media::new(),
        }
    }

    /// netgear's session configuration for it.
    pub fn config(&self) -> netgear::session::Config {
        use netgear::session::{Config, Pattern};
        let (multiserver, multiclient) = match self.mode {
            Mode::MultiServer { .. } => (true, false),
            Mode::MultiClient { .. } => (false, true),
            _ => (false, false),
        };
        Config::new()
            .pattern(Pattern::try_from(self.pattern).expect("0, 1 or 2"))
            .bidirectional(self.mode.bidirectional())
            .multiserver(multiserver)
            .multiclient(multiclient)
    }
}
