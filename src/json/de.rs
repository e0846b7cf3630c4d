//! [`Value`] to Rust values; and `Deserialize` for [`Value`], [`Number`]
//! and [`Map`].

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Error as _, IntoDeserializer, Unexpected,
    Visitor,
};

use super::error::DeserializeError;
use super::number::Exact;
use super::ser::NUMBER_TOKEN;
use super::{Map, Number, Value};

/// Reads any `T: DeserializeOwned` from a [`Value`]: how an application
/// gets its own types back out of a NetGear message or return data.
///
/// Integers fit any integer type they are in range of (`i128`/`u128` for
/// big ones); out of range is an error, not a wrap. Floats read integers
/// too; `NaN` and the infinities read as themselves. `null` is `None` (and
/// `()`); arrays of the right length are tuples; enums are externally
/// tagged. Map keys, which are always strings on the wire, are parsed when
/// the key type is a number or a bool: Python writes `{1: x}` as
/// `{"1": x}`, and a `HashMap<u32, _>` reads it back (and `"null"` is
/// `None` for an optional key type, as `json.dumps` writes `None`). A mismatch names the
/// path of the value at fault ([`DeserializeError::path`]).
///
/// A type that asks for "any" value (an untagged enum, a flattened field,
/// `serde_json::Value`) gets each number as the primitive that reproduces
/// its text; the rare literal none does (an integer beyond 128 bits, `-0`,
/// `1.50`: Python writes only the first) comes as serde_json's
/// arbitrary-precision number, which [`Value`], [`Number`] and
/// `serde_json::Value` read exactly and other types refuse.
///
/// ```
/// use std::collections::HashMap;
/// use netgear::json::{from_value, parse};
///
/// // What Python's json.dumps({1: "one", 20: "twenty"}) sends.
/// let v = parse(br#"{"1": "one", "20": "twenty"}"#).unwrap();
/// let names: HashMap<u32, String> = from_value(v).unwrap();
/// assert_eq!(names[&20], "twenty");
///
/// // json.dumps([2**100, float("nan")])
/// let v = parse(b"[1267650600228229401496703205376, NaN]").unwrap();
/// let (big, x): (u128, f64) = from_value(v).unwrap();
/// assert_eq!(big, 1 << 100);
/// assert!(x.is_nan());
///
/// let err = from_value::<(u8, f64)>(parse(b"[256, 0.5]").unwrap()).unwrap_err();
/// assert_eq!(err.to_string(), "at [0]: invalid value: integer `256`, expected u8");
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, DeserializeError> {
    serde_path_to_error::deserialize(value).map_err(DeserializeError::tracked)
}

/// Like [`from_value`], but borrows from `value`: no string is copied, and
/// `T` may hold `&str` slices of it.
///
/// ```
/// use netgear::json::{from_value_ref, parse};
///
/// #[derive(serde::Deserialize)]
/// struct Tag<'a> {
///     label: &'a str,
///     score: f32,
/// }
/// let v = parse(br#"{"label": "cat", "score": 0.5}"#).unwrap();
/// let tag: Tag = from_value_ref(&v).unwrap();
/// assert_eq!((tag.label, tag.score), ("cat", 0.5));
/// ```
pub fn from_value_ref<'a, T: Deserialize<'a>>(value: &'a Value) -> Result<T, DeserializeError> {
    serde_path_to_error::deserialize(value).map_err(DeserializeError::tracked)
}

/// What serde calls the value found, for its error messages.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match n.exact() {
            Exact::I64(i) => Unexpected::Signed(i),
            Exact::U64(u) => Unexpected::Unsigned(u),
            Exact::F64(x) => Unexpected::Float(x),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// Offers a number to a visitor that wants an integer: the integer itself
/// when it fits (the visitor checks its own range), an error naming the
/// number when it needs more than 64 bits and the visitor asked for at
/// most 64 (`wide` is false), or more than 128; a float as a float, which an
/// integer visitor refuses as the wrong type.
fn visit_integer<'de, V: Visitor<'de>>(
    n: &Number,
    visitor: V,
    wide: bool,
) -> Result<V::Value, DeserializeError> {
    if !n.is_integer() {
        return visitor.visit_f64(n.as_f64());
    }
    let text = n.as_str();
    if let Ok(u) = text.parse::<u64>() {
        return visitor.visit_u64(u);
    } else if let Ok(i) = text.parse::<i64>() {
        return visitor.visit_i64(i);
    }
    if wide {
        if let Ok(u) = text.parse::<u128>() {
            return visitor.visit_u128(u);
        } else if let Ok(i) = text.parse::<i128>() {
            return visitor.visit_i128(i);
        }
    }
    // A peer may send thousands of digits: name a long one by its size.
    let digits = text.trim_start_matches('-').len();
    let found = if digits <= 40 {
        format!("integer `{text}`")
    } else {
        format!("integer of {digits} digits")
    };
    Err(DeserializeError::invalid_value(
        Unexpected::Other(&found),
        &visitor,
    ))
}

/// Offers a number to a visitor that takes anything: the primitive that
/// reproduces its text exactly, or, for the rare literal none does (an
/// integer beyond 128 bits, `-0`, `1.50`), the text as serde_json's
/// arbitrary-precision number, which [`Value`], [`Number`] and
/// `serde_json::Value` all read back exactly.
fn visit_number<'de, V: Visitor<'de>>(
    n: &Number,
    visitor: V,
) -> Result<V::Value, DeserializeError> {
    match n.exact() {
        Exact::I64(i) => visitor.visit_i64(i),
        Exact::U64(u) => visitor.visit_u64(u),
        Exact::I128(i) => visitor.visit_i128(i),
        Exact::U128(u) => visitor.visit_u128(u),
        Exact::F64(x) => visitor.visit_f64(x),
        Exact::Literal => {
            let entry = (Key::Borrowed(NUMBER_TOKEN), n.as_str().to_owned());
            visit_members(std::iter::once(entry), visitor)
        }
    }
}

/// The value being deserialized, owned ([`from_value`]) or borrowed
/// ([`from_value_ref`]): one deserializer serves both.
enum Node<'de> {
    Owned(Value),
    Borrowed(&'de Value),
}

impl Node<'_> {
    fn value(&self) -> &Value {
        match self {
            Node::Owned(v) => v,
            Node::Borrowed(v) => v,
        }
    }
}

impl From<Value> for Node<'_> {
    fn from(value: Value) -> Self {
        Node::Owned(value)
    }
}

impl<'de> From<&'de Value> for Node<'de> {
    fn from(value: &'de Value) -> Self {
        Node::Borrowed(value)
    }
}

impl<'de> IntoDeserializer<'de, DeserializeError> for Node<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// The elements of an array, owned or borrowed.
enum Items<'de> {
    Owned(std::vec::IntoIter<Value>),
    Borrowed(std::slice::Iter<'de, Value>),
}

impl<'de> Iterator for Items<'de> {
    type Item = Node<'de>;
    fn next(&mut self) -> Option<Node<'de>> {
        match self {
            Items::Owned(it) => it.next().map(Node::Owned),
            Items::Borrowed(it) => it.next().map(Node::Borrowed),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::Owned(it) => it.size_hint(),
            Items::Borrowed(it) => it.size_hint(),
        }
    }
}

/// The members of an object, owned or borrowed.
enum Members<'de> {
    Owned(indexmap::map::IntoIter<String, Value>),
    Borrowed(indexmap::map::Iter<'de, String, Value>),
}

impl<'de> Iterator for Members<'de> {
    type Item = (Key<'de>, Node<'de>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Members::Owned(it) => it.next().map(|(k, v)| (Key::Owned(k), Node::Owned(v))),
            Members::Borrowed(it) => it
                .next()
                .map(|(k, v)| (Key::Borrowed(k), Node::Borrowed(v))),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Members::Owned(it) => it.size_hint(),
            Members::Borrowed(it) => it.size_hint(),
        }
    }
}

/// Offers an array's items to a visitor.
fn visit_items<'de, V: Visitor<'de>>(
    items: Items<'de>,
    visitor: V,
) -> Result<V::Value, DeserializeError> {
    let mut seq = SeqDeserializer::new(items);
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

/// Offers an object's members to a visitor, or the one member that stands
/// for a number literal ([`visit_number`]).
fn visit_members<'de, K, W, V>(
    members: impl Iterator<Item = (K, W)>,
    visitor: V,
) -> Result<V::Value, DeserializeError>
where
    K: IntoDeserializer<'de, DeserializeError>,
    W: IntoDeserializer<'de, DeserializeError>,
    V: Visitor<'de>,
{
    let mut map = MapDeserializer::new(members);
    let value = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(value)
}

/// The methods the two deserializers, [`Node`] and [`Key`], have in
/// common, written once over the helpers each provides: `integer(visitor,
/// wide)` (`wide`: 128 bits, else up to 64), `float`, `is_null` and
/// `variant`. serde wants one method per type, so a macro and not a
/// function.
macro_rules! shared_methods {
    () => {
        shared_methods!(integer false: deserialize_i8 deserialize_i16 deserialize_i32
            deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);
        shared_methods!(integer true: deserialize_i128 deserialize_u128);
        shared_methods!(float: deserialize_f32 deserialize_f64);

        fn deserialize_option<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, DeserializeError> {
            if self.is_null() {
                visitor.visit_none()
            } else {
                visitor.visit_some(self)
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, DeserializeError> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, DeserializeError> {
            visitor.visit_enum(self.variant()?)
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, DeserializeError> {
            drop(self);
            visitor.visit_unit()
        }
    };
    (integer $wide:literal: $($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
            self.integer(visitor, $wide)
        }
    )*};
    (float: $($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
            self.float(visitor)
        }
    )*};
}

impl<'de> Node<'de> {
    fn integer<V: Visitor<'de>>(
        self,
        visitor: V,
        wide: bool,
    ) -> Result<V::Value, DeserializeError> {
        if let Value::Number(n) = self.value() {
            return visit_integer(n, visitor, wide);
        }
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn float<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        if let Value::Number(n) = self.value() {
            return visitor.visit_f64(n.as_f64());
        }
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn is_null(&self) -> bool {
        self.value().is_null()
    }

    /// An externally tagged variant: `"Name"`, or `{"Name": content}`.
    fn variant(self) -> Result<Variant<'de>, DeserializeError> {
        let (key, content) = match self {
            Node::Owned(Value::String(s)) => (Key::Owned(s), None),
            Node::Borrowed(Value::String(s)) => (Key::Borrowed(s), None),
            Node::Owned(Value::Object(map)) if map.len() == 1 => match map.into_entries().next() {
                Some((k, v)) => (Key::Owned(k), Some(Node::Owned(v))),
                None => return Err(DeserializeError::custom("an empty enum object")),
            },
            Node::Borrowed(Value::Object(map)) if map.len() == 1 => match map.entries().next() {
                Some((k, v)) => (Key::Borrowed(k), Some(Node::Borrowed(v))),
                None => return Err(DeserializeError::custom("an empty enum object")),
            },
            other => {
                return Err(DeserializeError::invalid_type(
                    unexpected(other.value()),
                    &"a string or an object of one member (an externally tagged enum)",
                ))
            }
        };
        Ok(Variant { key, content })
    }
}

impl<'de> de::Deserializer<'de> for Node<'de> {
    type Error = DeserializeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        match self {
            Node::Owned(value) => match value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(b),
                Value::Number(n) => visit_number(&n, visitor),
                Value::String(s) => visitor.visit_string(s),
                Value::Array(items) => visit_items(Items::Owned(items.into_iter()), visitor),
                Value::Object(map) => visit_members(Members::Owned(map.into_entries()), visitor),
            },
            Node::Borrowed(value) => match value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(*b),
                Value::Number(n) => visit_number(n, visitor),
                Value::String(s) => visitor.visit_borrowed_str(s),
                Value::Array(items) => visit_items(Items::Borrowed(items.iter()), visitor),
                Value::Object(map) => visit_members(Members::Borrowed(map.entries()), visitor),
            },
        }
    }

    shared_methods!();

    serde::forward_to_deserialize_any! {
        bool char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

/// An enum variant: its name, and its content unless it is a unit variant
/// written as a bare string.
struct Variant<'de> {
    key: Key<'de>,
    content: Option<Node<'de>>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = DeserializeError;
    type Variant = VariantContent<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantContent<'de>), DeserializeError> {
        let name = seed.deserialize(self.key)?;
        Ok((name, VariantContent(self.content)))
    }
}

/// The content of an enum variant.
struct VariantContent<'de>(Option<Node<'de>>);

impl<'de> de::VariantAccess<'de> for VariantContent<'de> {
    type Error = DeserializeError;

    fn unit_variant(self) -> Result<(), DeserializeError> {
        match self.0 {
            None => Ok(()),
            Some(node) if node.value().is_null() => Ok(()),
            Some(node) => Err(DeserializeError::invalid_type(
                unexpected(node.value()),
                &"unit variant",
            )),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, DeserializeError> {
        match self.0 {
            Some(node) => seed.deserialize(node),
            None => Err(DeserializeError::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeserializeError> {
        match self.0 {
            Some(node) => de::Deserializer::deserialize_tuple(node, len, visitor),
            None => Err(DeserializeError::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeserializeError> {
        match self.0 {
            Some(node) => de::Deserializer::deserialize_struct(node, "", fields, visitor),
            None => Err(DeserializeError::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

/// An object key, or an enum variant name. Keys are strings on the wire,
/// but Python writes `int`, `float`, `bool` and `None` keys too, as their
/// JSON text; so a key read as one of those types is parsed from it.
enum Key<'de> {
    Owned(String),
    Borrowed(&'de str),
}

impl<'de> Key<'de> {
    fn as_str(&self) -> &str {
        match self {
            Key::Owned(s) => s,
            Key::Borrowed(s) => s,
        }
    }

    fn refuse<V: Visitor<'de>>(&self, visitor: &V) -> DeserializeError {
        DeserializeError::invalid_type(Unexpected::Str(self.as_str()), visitor)
    }

    fn integer<V: Visitor<'de>>(
        self,
        visitor: V,
        wide: bool,
    ) -> Result<V::Value, DeserializeError> {
        match Number::from_literal(self.as_str()).filter(Number::is_integer) {
            Some(n) => visit_integer(&n, visitor, wide),
            None => Err(self.refuse(&visitor)),
        }
    }

    fn float<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        match Number::from_literal(self.as_str()) {
            Some(n) => visitor.visit_f64(n.as_f64()),
            None => Err(self.refuse(&visitor)),
        }
    }

    /// `"null"`: how `json.dumps` writes a `None` key.
    fn is_null(&self) -> bool {
        self.as_str() == "null"
    }

    /// A key names a unit variant: it has no content.
    fn variant(self) -> Result<Variant<'de>, DeserializeError> {
        Ok(Variant {
            key: self,
            content: None,
        })
    }
}

impl<'de> IntoDeserializer<'de, DeserializeError> for Key<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = DeserializeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        match self {
            Key::Owned(s) => visitor.visit_string(s),
            Key::Borrowed(s) => visitor.visit_borrowed_str(s),
        }
    }

    shared_methods!();

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        match self.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeserializeError> {
        if self.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.refuse(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeserializeError> {
        self.deserialize_unit(visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf seq tuple tuple_struct map struct identifier
    }
}

/// `Deserializer` for [`Value`] and `&Value`: every method hands over to
/// [`Node`].
macro_rules! deserializer_via_node {
    ($ty:ty) => {
        impl<'de> de::Deserializer<'de> for $ty {
            type Error = DeserializeError;
            via_node! {
                deserialize_any; deserialize_bool; deserialize_i8; deserialize_i16;
                deserialize_i32; deserialize_i64; deserialize_i128; deserialize_u8;
                deserialize_u16; deserialize_u32; deserialize_u64; deserialize_u128;
                deserialize_f32; deserialize_f64; deserialize_char; deserialize_str;
                deserialize_string; deserialize_bytes; deserialize_byte_buf;
                deserialize_option; deserialize_unit; deserialize_unit_struct(name: &'static str);
                deserialize_newtype_struct(name: &'static str); deserialize_seq;
                deserialize_tuple(len: usize); deserialize_tuple_struct(name: &'static str, len: usize);
                deserialize_map; deserialize_struct(name: &'static str, fields: &'static [&'static str]);
                deserialize_enum(name: &'static str, variants: &'static [&'static str]);
                deserialize_identifier; deserialize_ignored_any;
            }
        }

        impl<'de> IntoDeserializer<'de, DeserializeError> for $ty {
            type Deserializer = Self;
            fn into_deserializer(self) -> Self {
                self
            }
        }
    };
}

macro_rules! via_node {
    ($($method:ident $(($($arg:ident: $arg_ty:ty),*))?;)*) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            $($($arg: $arg_ty,)*)?
            visitor: V,
        ) -> Result<V::Value, DeserializeError> {
            Node::from(self).$method($($($arg,)*)? visitor)
        }
    )*};
}

deserializer_via_node!(Value);
deserializer_via_node!(&'de Value);

/// Builds the [`Value`] any self-describing serde format holds: numbers
/// keep their text when the format passes it (this crate's own
/// deserializer, or serde_json's arbitrary-precision numbers).
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Array(v.iter().map(|&b| Value::from(b)).collect()))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The hint comes from the input: reserve no more than a page's worth.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut next = access.next_key::<String>()?;
        if let Some(key) = next.take() {
            let value: Value = access.next_value()?;
            next = access.next_key()?;
            // A number passed as its text: the one-member map of
            // serde_json's arbitrary precision (and of `visit_number`).
            if next.is_none() && key == NUMBER_TOKEN {
                if let Some(n) = value.as_str().and_then(Number::from_literal) {
                    return Ok(Value::Number(n));
                }
            }
            map.insert(key, value);
        }
        while let Some(key) = next {
            let value: Value = access.next_value()?;
            map.insert(key, value);
            next = access.next_key()?;
        }
        Ok(Value::Object(map))
    }
}

/// Reads any JSON value from any self-describing serde format; numbers
/// keep their exact text when read with [`from_value`] or from serde_json.
///
/// ```
/// use netgear::json::{from_value, parse, Value};
/// let v = parse(br#"{"n": 1267650600228229401496703205376, "x": NaN, "l": [1.50, -0]}"#).unwrap();
/// assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
///
/// let from_serde_json: Value = serde_json::from_str(r#"{"big": 1267650600228229401496703205376}"#).unwrap();
/// assert_eq!(from_serde_json.to_python_json(), r#"{"big": 1267650600228229401496703205376}"#);
/// ```
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Reads a number, with its exact text where the format passes it.
///
/// ```
/// use netgear::json::{from_value, parse, Number};
/// let n: Number = from_value(parse(b"1267650600228229401496703205376").unwrap()).unwrap();
/// assert_eq!(n.as_str(), "1267650600228229401496703205376");
/// assert!(from_value::<Number>(parse(b"\"7\"").unwrap()).is_err());
/// ```
impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => Ok(n),
            other => Err(D::Error::invalid_type(unexpected(&other), &"a JSON number")),
        }
    }
}

/// Reads an object, members in order.
///
/// ```
/// use netgear::json::{from_value, parse, Map};
/// let m: Map = from_value(parse(br#"{"b": 1, "a": 2}"#).unwrap()).unwrap();
/// assert_eq!(m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b", "a"]);
/// ```
impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Map, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(map) => Ok(map),
            other => Err(D::Error::invalid_type(unexpected(&other), &"a JSON object")),
        }
    }
}
