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
//! Conversions to and from [`serde_json::Value`] are provided for users who
//! live in serde land (see [`Value::to_serde`] and [`Value::from_serde`]).

mod number;
mod parse;
mod value;
mod write;

pub use number::Number;
pub(crate) use parse::Reader;
pub use parse::{parse, parse_with_depth, JsonError, DEFAULT_MAX_DEPTH};
pub use value::{Map, Value};
pub(crate) use write::write_string;
pub use write::{to_python_json, write_python_json};
