//! The errors of the serde conversions ([`to_value`](super::to_value),
//! [`from_value`](super::from_value)): what did not fit, and where.

use std::fmt;

use serde_path_to_error::{Path, Segment};

/// The path of the root value, as [`SerializeError::path`] and
/// [`DeserializeError::path`] give it.
const ROOT: &str = ".";

/// Why a Rust value could not be turned into a [`Value`](super::Value).
///
/// Python's `json.dumps` refuses the same things: a map key that is not a
/// string, number, bool or `None`, and whatever a type's own `Serialize`
/// reports. The error names the path of the value at fault, so a failure
/// deep inside a message says which field it was.
///
/// ```
/// use std::collections::HashMap;
/// use netgear::json::{to_value, SerializeErrorKind};
///
/// #[derive(serde::Serialize)]
/// struct Scene {
///     by_box: HashMap<(u32, u32), String>,
/// }
/// let scene = Scene { by_box: HashMap::from([((1, 2), "cat".to_string())]) };
/// let err = to_value(&scene).unwrap_err();
/// assert_eq!(err.path(), ".by_box");
/// assert_eq!(err.kind(), SerializeErrorKind::UnsupportedKey);
/// assert_eq!(err.code(), "json-serialize");
/// assert_eq!(
///     err.to_string(),
///     "at .by_box: a map key must be a string, number, bool or None \
///      (as json.dumps requires), found a tuple"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SerializeError {
    kind: SerializeErrorKind,
    path: String,
    message: String,
}

/// What kind of [`SerializeError`] it is, for callers that handle some
/// kinds differently (the message is for people, the kind for code).
///
/// ```
/// use netgear::json::{to_value, SerializeErrorKind};
/// let keyed_by_list = std::collections::BTreeMap::from([(vec![1], 1)]);
/// assert_eq!(to_value(&keyed_by_list).unwrap_err().kind(), SerializeErrorKind::UnsupportedKey);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SerializeErrorKind {
    /// A map key that is not a string, integer, float, bool, `None`/unit, a
    /// unit enum variant or a newtype around one of those.
    UnsupportedKey,
    /// A serde_json arbitrary-precision number whose text is not a number
    /// literal of the Python dialect.
    InvalidNumber,
    /// The value's own `Serialize` implementation failed.
    Custom,
}

impl SerializeError {
    pub(crate) fn new(kind: SerializeErrorKind, message: impl fmt::Display) -> SerializeError {
        SerializeError {
            kind,
            path: ROOT.to_owned(),
            message: message.to_string(),
        }
    }

    /// The error `serde_path_to_error` caught, at the path it tracked:
    /// how [`to_value`](super::to_value) says where the fault is.
    pub(crate) fn tracked(e: serde_path_to_error::Error<SerializeError>) -> SerializeError {
        let path = render_path(e.path());
        SerializeError {
            path,
            ..e.into_inner()
        }
    }

    /// Where the value at fault is, from the root: `.` for the root itself,
    /// `.field`, `[index]`, `["key"]` for a key that is not an identifier,
    /// e.g. `.frames[3].id`. A serializer used without
    /// [`to_value`](super::to_value) does not track the path and says `.`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// #[derive(serde::Serialize)]
    /// struct Track {
    ///     points: Vec<HashMap<[u32; 2], f64>>,
    /// }
    /// let track = Track { points: vec![HashMap::new(), HashMap::from([([3, 4], 0.5)])] };
    /// let err = netgear::json::to_value(&track).unwrap_err();
    /// assert_eq!(err.path(), ".points[1]");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The kind of failure.
    ///
    /// ```
    /// use netgear::json::{to_value, SerializeErrorKind};
    /// let err = to_value(&std::collections::HashMap::from([((1, 2), 3)])).unwrap_err();
    /// assert_eq!(err.kind(), SerializeErrorKind::UnsupportedKey);
    /// ```
    pub fn kind(&self) -> SerializeErrorKind {
        self.kind
    }

    /// What went wrong, without the path.
    ///
    /// ```
    /// let err = netgear::json::to_value(&std::collections::HashMap::from([(vec![1], 1)])).unwrap_err();
    /// assert_eq!(err.message(), "a map key must be a string, number, bool or None (as json.dumps requires), found a sequence");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The stable code of this error, `json-serialize` (spec/08-errors.md).
    ///
    /// ```
    /// let err = netgear::json::to_value(&std::collections::HashMap::from([([1], 1)])).unwrap_err();
    /// assert_eq!(err.code(), "json-serialize");
    /// ```
    pub fn code(&self) -> &'static str {
        "json-serialize"
    }
}

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_path(f, &self.path, &self.message)
    }
}

impl std::error::Error for SerializeError {}

impl serde::ser::Error for SerializeError {
    fn custom<T: fmt::Display>(msg: T) -> SerializeError {
        SerializeError::new(SerializeErrorKind::Custom, msg)
    }
}

/// Why a [`Value`](super::Value) does not fit the Rust type asked for.
///
/// The message is serde's (`invalid type: string "x", expected u32`), and
/// the error names the path of the value that did not fit, so a peer's
/// malformed message can be reported precisely.
///
/// ```
/// use netgear::json::{from_value, parse, DeserializeErrorKind};
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Frame {
///     id: u32,
/// }
/// #[derive(Debug, serde::Deserialize)]
/// struct Batch {
///     frames: Vec<Frame>,
/// }
/// let v = parse(br#"{"frames": [{"id": 0}, {"id": 1}, {"id": 2}, {"id": "x"}]}"#).unwrap();
/// let err = from_value::<Batch>(v).unwrap_err();
/// assert_eq!(err.to_string(), r#"at .frames[3].id: invalid type: string "x", expected u32"#);
/// assert_eq!(err.path(), ".frames[3].id");
/// assert_eq!(err.kind(), DeserializeErrorKind::InvalidType);
/// assert_eq!(err.code(), "json-deserialize");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeserializeError {
    kind: DeserializeErrorKind,
    path: String,
    message: String,
}

/// What kind of [`DeserializeError`] it is: serde's own classes of
/// mismatch, so code can tell a missing field from a wrong type.
///
/// ```
/// use netgear::json::{from_value, parse, DeserializeErrorKind};
/// let err = from_value::<u8>(parse(b"300").unwrap()).unwrap_err();
/// assert_eq!(err.kind(), DeserializeErrorKind::InvalidValue);
/// assert_eq!(err.to_string(), "invalid value: integer `300`, expected u8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeserializeErrorKind {
    /// The JSON type is wrong (a string where a number belongs).
    InvalidType,
    /// The type is right but the value is not (an integer out of range).
    InvalidValue,
    /// An array or object of the wrong length (a tuple of 3 from `[1, 2]`).
    InvalidLength,
    /// An enum variant the type does not have.
    UnknownVariant,
    /// An object member the type does not have (`deny_unknown_fields`).
    UnknownField,
    /// A required object member is absent.
    MissingField,
    /// An object member given twice (only from formats that allow it).
    DuplicateField,
    /// The type's own `Deserialize` implementation refused the value.
    Custom,
}

impl DeserializeError {
    /// An error of `kind` at the root; a mismatch is worded as serde's own
    /// `serde::de::value::Error` words it from the same arguments.
    fn new(kind: DeserializeErrorKind, message: impl fmt::Display) -> DeserializeError {
        DeserializeError {
            kind,
            path: ROOT.to_owned(),
            message: message.to_string(),
        }
    }

    /// The error `serde_path_to_error` caught, at the path it tracked:
    /// how [`from_value`](super::from_value) and
    /// [`from_value_ref`](super::from_value_ref) say where the fault is.
    pub(crate) fn tracked(e: serde_path_to_error::Error<DeserializeError>) -> DeserializeError {
        let path = render_path(e.path());
        DeserializeError {
            path,
            ..e.into_inner()
        }
    }

    /// Where the value that did not fit is, from the root: `.` for the root
    /// itself, `.field`, `[index]`, `["key"]` for a key that is not an
    /// identifier, e.g. `.frames[3].id`; `.?` stands for an object key that
    /// could not be read as the key type (the message quotes it). Deserializing without
    /// [`from_value`](super::from_value) does not track the path, and says `.`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use netgear::json::{from_value, parse};
    /// let v = parse(br#"{"1": [true], "2": [false, 3]}"#).unwrap();
    /// let err = from_value::<HashMap<u32, Vec<bool>>>(v).unwrap_err();
    /// assert_eq!(err.path(), r#"["2"][1]"#);
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The kind of mismatch.
    ///
    /// ```
    /// use netgear::json::{from_value, parse, DeserializeErrorKind};
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Detection { label: String }
    /// let err = from_value::<Detection>(parse(b"{}").unwrap()).unwrap_err();
    /// assert_eq!(err.kind(), DeserializeErrorKind::MissingField);
    /// ```
    pub fn kind(&self) -> DeserializeErrorKind {
        self.kind
    }

    /// What went wrong, without the path.
    ///
    /// ```
    /// use netgear::json::{from_value, parse};
    /// let err = from_value::<Vec<u8>>(parse(b"[1, -1]").unwrap()).unwrap_err();
    /// assert_eq!(err.message(), "invalid value: integer `-1`, expected u8");
    /// assert_eq!(err.path(), "[1]");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The stable code of this error, `json-deserialize` (spec/08-errors.md).
    ///
    /// ```
    /// use netgear::json::{from_value, Value};
    /// assert_eq!(from_value::<bool>(Value::Null).unwrap_err().code(), "json-deserialize");
    /// ```
    pub fn code(&self) -> &'static str {
        "json-deserialize"
    }
}

impl fmt::Display for DeserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_path(f, &self.path, &self.message)
    }
}

impl std::error::Error for DeserializeError {}

impl serde::de::Error for DeserializeError {
    fn custom<T: fmt::Display>(msg: T) -> DeserializeError {
        DeserializeError::new(DeserializeErrorKind::Custom, msg)
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        let worded = serde::de::value::Error::invalid_type(unexp, exp);
        DeserializeError::new(DeserializeErrorKind::InvalidType, worded)
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        let worded = serde::de::value::Error::invalid_value(unexp, exp);
        DeserializeError::new(DeserializeErrorKind::InvalidValue, worded)
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> Self {
        let worded = serde::de::value::Error::invalid_length(len, exp);
        DeserializeError::new(DeserializeErrorKind::InvalidLength, worded)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let worded = serde::de::value::Error::unknown_variant(variant, expected);
        DeserializeError::new(DeserializeErrorKind::UnknownVariant, worded)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let worded = serde::de::value::Error::unknown_field(field, expected);
        DeserializeError::new(DeserializeErrorKind::UnknownField, worded)
    }

    fn missing_field(field: &'static str) -> Self {
        let worded = serde::de::value::Error::missing_field(field);
        DeserializeError::new(DeserializeErrorKind::MissingField, worded)
    }

    fn duplicate_field(field: &'static str) -> Self {
        let worded = serde::de::value::Error::duplicate_field(field);
        DeserializeError::new(DeserializeErrorKind::DuplicateField, worded)
    }
}

/// `at <path>: <message>`, or the bare message at the root.
fn write_with_path(f: &mut fmt::Formatter<'_>, path: &str, message: &str) -> fmt::Result {
    if path == ROOT {
        f.write_str(message)
    } else {
        write!(f, "at {path}: {message}")
    }
}

/// A path in the jq style: `.name` for a key that is an identifier,
/// `["key"]` (JSON-quoted) for any other key, `[3]` for an index, `.` alone
/// for the root, `.?` for a key that could not be read. serde_path_to_error's own rendering omits the leading dot
/// and writes every key bare, which is ambiguous for keys like `"1"` or `"a.b"`.
fn render_path(path: &Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut out, key),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    if out.is_empty() {
        out.push_str(ROOT);
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        out.push('.');
        out.push_str(key);
    } else {
        let mut quoted = Vec::with_capacity(key.len() + 2);
        super::write_string(key, &mut quoted);
        out.push('[');
        // write_string emits ASCII only.
        out.push_str(&String::from_utf8_lossy(&quoted));
        out.push(']');
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_read_like_jq() {
        let v = crate::json::parse(br#"{"a": {"b c": [[0, {"_x1": 0}]]}}"#).unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            _x1: String,
        }
        type Shape =
            std::collections::HashMap<String, std::collections::HashMap<String, Vec<(u8, Inner)>>>;
        let err = crate::json::from_value::<Shape>(v).unwrap_err();
        assert_eq!(err.path(), r#".a["b c"][0][1]._x1"#);
        assert_eq!(
            err.to_string(),
            r#"at .a["b c"][0][1]._x1: invalid type: integer `0`, expected a string"#
        );
    }
}
