//! The JSON value type carried as NetGear messages and return data.

use indexmap::IndexMap;

use super::Number;

/// A JSON value as Python's `json` module reads and writes it.
///
/// Objects keep insertion order (Python dicts do, and the order is visible on
/// the wire); numbers keep their literal text (see [`Number`]).
///
/// ```
/// use netgear::json::{parse, Value};
/// let v = parse(br#"{"id": 7, "big": 1267650600228229401496703205376, "x": NaN}"#).unwrap();
/// assert_eq!(v.get("id").and_then(Value::as_i64), Some(7));
/// assert_eq!(v.to_python_json(), r#"{"id": 7, "big": 1267650600228229401496703205376, "x": NaN}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Value {
    /// `null` (Python `None`).
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Any number, including `NaN`, `Infinity` and integers beyond 64 bits.
    Number(Number),
    /// A string.
    String(String),
    /// An array (a Python list or tuple).
    Array(Vec<Value>),
    /// An object (a Python dict; keys are always strings on the wire).
    Object(Map),
}

impl Value {
    /// The object member `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The integer, if this is an integer number that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Python's truthiness of the decoded value: vidgear tests messages with
    /// `if message:`, so a falsy message reaches a vidgear client as `None`.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => {
                let f = n.as_f64();
                // NaN is truthy in Python; so is any big non-zero integer.
                f.is_nan() || f != 0.0
            }
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
        }
    }

    /// The name of the Python type `json.loads` builds for this value, as
    /// vidgear writes it in a reply's `return_type` field.
    pub fn python_type(&self) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Number(n) => n.python_type(),
            Value::String(_) => "str",
            Value::Array(_) => "list",
            Value::Object(_) => "dict",
        }
    }

    /// Serialises like Python's `json.dumps(value)` with default settings.
    pub fn to_python_json(&self) -> String {
        super::to_python_json(self)
    }

    /// Converts to a `serde_json::Value`. Returns `None` when the value holds
    /// `NaN` or an infinity, which serde_json cannot represent. Big integers
    /// survive (this crate enables serde_json's `arbitrary_precision`).
    pub fn to_serde(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(serde_json::from_str(n.as_str()).ok()?),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(Value::to_serde).collect::<Option<_>>()?)
            }
            Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), v.to_serde()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Converts from a `serde_json::Value` (always possible).
    pub fn from_serde(value: &serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            // With `arbitrary_precision` the text is the literal as written,
            // and serde_json's number grammar is the JSON one we accept too.
            serde_json::Value::Number(n) => Value::Number(
                Number::from_literal(&n.to_string())
                    .unwrap_or_else(|| Number::from(n.as_f64().unwrap_or(f64::NAN))),
            ),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_serde(v)))
                    .collect(),
            ),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
macro_rules! value_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
value_from_number!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

/// An insertion-ordered JSON object with Python dict semantics: inserting an
/// existing key replaces its value but keeps its original position.
///
/// Lookups and inserts are hashed (an [`IndexMap`]), so an object with very
/// many keys from a peer costs time in proportion to its size, not to its
/// square. Two maps are equal when they hold the same members in the same
/// order: the order is part of what travels.
///
/// ```
/// use netgear::json::{Map, Value};
/// let mut m = Map::new();
/// m.insert("b", 1);
/// m.insert("a", 2);
/// m.insert("b", 3);
/// assert_eq!(Value::Object(m).to_python_json(), r#"{"b": 3, "a": 2}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Map(IndexMap<String, Value>);

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.0.len() == other.0.len() && self.0.iter().eq(other.0.iter())
    }
}

impl Eq for Map {}

/// Hashes the members in order, as [`PartialEq`] compares them (so that a
/// [`Value`] can key a map: equal values are equal JSON texts).
impl std::hash::Hash for Map {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.len().hash(state);
        for member in self.0.iter() {
            member.hash(state);
        }
    }
}

impl Map {
    /// An empty object.
    pub fn new() -> Map {
        Map(IndexMap::new())
    }

    /// Inserts or replaces `key` (a replaced key keeps its position).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Members in order, for the deserializer (which needs the type).
    pub(crate) fn entries(&self) -> indexmap::map::Iter<'_, String, Value> {
        self.0.iter()
    }

    /// Members in order, taken out.
    pub(crate) fn into_entries(self) -> indexmap::map::IntoIter<String, Value> {
        self.0.into_iter()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Map {
        let mut m = Map::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn truthiness_follows_python() {
        for falsy in ["null", "false", "0", "0.0", "-0.0", "\"\"", "[]", "{}"] {
            assert!(!parse(falsy.as_bytes()).unwrap().is_truthy(), "{falsy}");
        }
        for truthy in [
            "true",
            "1",
            "NaN",
            "-Infinity",
            "\" \"",
            "[0]",
            "{\"a\": null}",
            "100000000000000000000000",
        ] {
            assert!(parse(truthy.as_bytes()).unwrap().is_truthy(), "{truthy}");
        }
    }

    #[test]
    fn python_type_names() {
        let cases = [
            ("null", "NoneType"),
            ("true", "bool"),
            ("3", "int"),
            ("3.0", "float"),
            ("1e5", "float"),
            ("NaN", "float"),
            ("\"s\"", "str"),
            ("[1]", "list"),
            ("{}", "dict"),
        ];
        for (text, name) in cases {
            assert_eq!(
                parse(text.as_bytes()).unwrap().python_type(),
                name,
                "{text}"
            );
        }
    }

    #[test]
    fn serde_round_trip_keeps_big_integers() {
        let v = parse(br#"{"n": 1267650600228229401496703205376, "f": 0.5, "l": [true, null]}"#)
            .unwrap();
        let s = v.to_serde().unwrap();
        assert_eq!(Value::from_serde(&s), v);
        assert!(parse(b"[NaN]").unwrap().to_serde().is_none());
    }
}
