//! The JSON dialect NetGear speaks: Python's `json` module with its defaults.
//!
//! vidgear serialises every header and reply with `json.dumps` and reads them
//! with `json.loads`. That dialect is *almost* RFC 8259 JSON, but a peer must
//! also accept `NaN`, `Infinity` and `-Infinity`, and integers of any size,
//! and must write floats the way Python's `repr` does if it wants to be
//! byte-identical. `serde_json` refuses the non-finite literals, so this
//! module carries its own small value type whose numbers keep their literal
//! text: a value read from the wire is written back byte for byte.
//!
//! Application types travel through serde: [`to_value`] turns any
//! `T: Serialize` into a [`Value`] by the rules of `json.dumps` (integers of
//! any width exact, floats in repr, `NaN` allowed, integer keys written as
//! strings), and [`from_value`] (or [`from_value_ref`], which borrows) reads
//! any `T: DeserializeOwned` back, parsing string keys into integer key
//! types; a mismatch names the path of the field at fault
//! ([`DeserializeError::path`]). `Value`, [`Number`] and [`Map`] implement
//! `Serialize` and `Deserialize` themselves, so they work with any serde
//! format, and a number keeps its exact text through this crate's own
//! conversions and serde_json's. Plain [`serde_json::Value`] conversions
//! remain in [`Value::to_serde`] and [`Value::from_serde`].
//!
//! ```
//! use std::collections::HashMap;
//! use netgear::json::{from_value, parse, to_value};
//!
//! #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Detection {
//!     label: String,
//!     score: f64,
//!     boxes: Vec<(u32, u32, u32, u32)>,
//! }
//! let by_frame = HashMap::from([(7u64, Detection { label: "cat".into(), score: f64::NAN, boxes: vec![] })]);
//! let text = to_value(&by_frame).unwrap().to_python_json();
//! assert_eq!(text, r#"{"7": {"label": "cat", "score": NaN, "boxes": []}}"#);
//!
//! let back: HashMap<u64, Detection> = from_value(parse(text.as_bytes()).unwrap()).unwrap();
//! assert!(back[&7].score.is_nan());
//! ```

mod de;
mod error;
mod number;
mod parse;
mod ser;
mod value;
mod write;

pub use de::{from_value, from_value_ref};
pub use error::{DeserializeError, DeserializeErrorKind, SerializeError, SerializeErrorKind};

pub use number::Number;
pub(crate) use parse::Reader;
pub use parse::{parse, parse_with_depth, JsonError, DEFAULT_MAX_DEPTH};
pub use ser::to_value;
pub use value::{Map, Value};
pub(crate) use write::write_string;
pub use write::{to_python_json, write_python_json};
