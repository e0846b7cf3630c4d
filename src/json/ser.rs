//! Rust values to [`Value`], by the rules of Python's `json.dumps`; and
//! `Serialize` for [`Value`], [`Number`] and [`Map`].

use serde::ser::{self, Impossible, Serialize, SerializeMap as _, SerializeStruct as _};

use super::error::{SerializeError, SerializeErrorKind};
use super::number::Exact;
use super::{Map, Number, Value};

/// The struct name (and only field name) under which serde_json, with the
/// `arbitrary_precision` feature this crate turns on, passes a number as its
/// literal text. [`Number`] uses it for literals no primitive reproduces, so
/// both this crate's serializer and serde_json's keep their exact text.
pub(crate) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Converts any `T: Serialize` into a [`Value`], the way Python's
/// `json.dumps` would write the equivalent Python object.
///
/// This is how application data becomes a NetGear message or return data.
/// Integers of every width are exact (`u128::MAX` included); floats are
/// written as Python's `repr` writes them, `NaN` and the infinities
/// included (Python allows them by default), an `f32` as the `f64` it widens
/// to (what Python prints for `float(numpy.float32(x))`); `None` and `()`
/// are `null`; tuples, sequences and bytes are arrays; structs and maps are
/// objects in field or iteration order; enums are externally tagged
/// (`"Unit"`, `{"Newtype": v}`, `{"Tuple": [..]}`, `{"Struct": {..}}`).
/// Map keys become strings as `json.dumps` makes them: integers in decimal,
/// `true`/`false`, floats in repr, `None` as `"null"`; any other key is a
/// [`SerializeErrorKind::UnsupportedKey`] error naming the map's path.
///
/// ```
/// use netgear::json::{from_value, to_value, Value};
///
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Detection {
///     label: String,
///     score: f64,
///     boxes: Vec<(u32, u32, u32, u32)>,
/// }
/// let d = Detection { label: "cat".into(), score: 0.93, boxes: vec![(1, 2, 30, 40)] };
/// let v: Value = to_value(&d).unwrap();
/// assert_eq!(v.to_python_json(), r#"{"label": "cat", "score": 0.93, "boxes": [[1, 2, 30, 40]]}"#);
/// assert_eq!(from_value::<Detection>(v).unwrap(), d);
///
/// // Integer keys are written as strings, as json.dumps writes them.
/// let counts = std::collections::BTreeMap::from([(1u32, "one"), (20, "twenty")]);
/// assert_eq!(to_value(&counts).unwrap().to_python_json(), r#"{"1": "one", "20": "twenty"}"#);
///
/// // Big integers and NaN survive.
/// assert_eq!(to_value(&u128::MAX).unwrap().to_python_json(), "340282366920938463463374607431768211455");
/// assert_eq!(to_value(&[f64::NAN, f64::NEG_INFINITY]).unwrap().to_python_json(), "[NaN, -Infinity]");
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerializeError> {
    serde_path_to_error::serialize(value, ValueSerializer).map_err(SerializeError::tracked)
}

/// The serializer behind [`to_value`]: every method builds the `Value`
/// `json.dumps` would write for the Python counterpart of its argument.
struct ValueSerializer;

fn number(n: impl Into<Number>) -> Result<Value, SerializeError> {
    Ok(Value::Number(n.into()))
}

/// The methods [`ValueSerializer`] and [`KeySerializer`] have in common:
/// each number goes through the [`Number`] it converts to (`$number` is
/// `number` or `key_text`), and an option's or a newtype's content is
/// serialized in its place. serde wants one method per type, so a macro
/// and not a function.
macro_rules! shared_methods {
    ($number:ident) => {
        shared_methods!($number: serialize_i8(i8) serialize_i16(i16) serialize_i32(i32)
            serialize_i64(i64) serialize_i128(i128) serialize_u8(u8) serialize_u16(u16)
            serialize_u32(u32) serialize_u64(u64) serialize_u128(u128) serialize_f32(f32)
            serialize_f64(f64));

        fn serialize_some<T: Serialize + ?Sized>(
            self,
            value: &T,
        ) -> Result<Self::Ok, SerializeError> {
            value.serialize(self)
        }

        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            value: &T,
        ) -> Result<Self::Ok, SerializeError> {
            value.serialize(self)
        }
    };
    ($number:ident: $($method:ident($ty:ty))*) => {$(
        fn $method(self, v: $ty) -> Result<Self::Ok, SerializeError> {
            $number(v)
        }
    )*};
}

fn tagged(variant: &'static str, content: Value) -> Value {
    let mut map = Map::new();
    map.insert(variant, content);
    Value::Object(map)
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerializeError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = StructSerializer;

    fn serialize_bool(self, v: bool) -> Result<Value, SerializeError> {
        Ok(Value::Bool(v))
    }
    shared_methods!(number);
    fn serialize_char(self, v: char) -> Result<Value, SerializeError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerializeError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerializeError> {
        Ok(Value::Array(v.iter().map(|&b| Value::from(b)).collect()))
    }
    fn serialize_none(self) -> Result<Value, SerializeError> {
        Ok(Value::Null)
    }
    fn serialize_unit(self) -> Result<Value, SerializeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, SerializeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, SerializeError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, SerializeError> {
        Ok(tagged(variant, value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, SerializeError> {
        Ok(SeqSerializer::new(None, len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, SerializeError> {
        Ok(SeqSerializer::new(None, len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, SerializeError> {
        Ok(SeqSerializer::new(None, len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, SerializeError> {
        Ok(SeqSerializer::new(Some(variant), len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, SerializeError> {
        Ok(MapSerializer::default())
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<StructSerializer, SerializeError> {
        Ok(if name == NUMBER_TOKEN {
            StructSerializer::Number(None)
        } else {
            StructSerializer::Object(None, Map::new())
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructSerializer, SerializeError> {
        Ok(StructSerializer::Object(Some(variant), Map::new()))
    }
}

/// Arrays: sequences, tuples, tuple structs, and the content of a tuple
/// variant (then wrapped as `{variant: [...]}`).
struct SeqSerializer {
    variant: Option<&'static str>,
    items: Vec<Value>,
}

impl SeqSerializer {
    fn new(variant: Option<&'static str>, len: usize) -> SeqSerializer {
        // The length comes from the value's own Serialize: cap what is
        // reserved up front, the vector grows as needed past it.
        let items = Vec::with_capacity(len.min(4096));
        SeqSerializer { variant, items }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerializeError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }

    fn finish(self) -> Result<Value, SerializeError> {
        let array = Value::Array(self.items);
        Ok(match self.variant {
            Some(variant) => tagged(variant, array),
            None => array,
        })
    }
}

/// Sequences, tuples, tuple structs and tuple variants all become arrays:
/// the four serde traits share one body.
macro_rules! seq_serializer {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for SeqSerializer {
            type Ok = Value;
            type Error = SerializeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, SerializeError> {
                self.finish()
            }
        }
    )*};
}

seq_serializer!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// Objects from maps: keys go through [`KeySerializer`].
#[derive(Default)]
struct MapSerializer {
    map: Map,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        let Some(key) = self.key.take() else {
            return Err(ser::Error::custom("a map value was given before its key"));
        };
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, SerializeError> {
        Ok(Value::Object(self.map))
    }
}

/// Objects from structs (and struct variants, wrapped as
/// `{variant: {...}}`), or a number passed as its literal under
/// [`NUMBER_TOKEN`].
enum StructSerializer {
    Object(Option<&'static str>, Map),
    Number(Option<Number>),
}

impl StructSerializer {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        match self {
            StructSerializer::Object(_, map) => map.insert(key, value.serialize(ValueSerializer)?),
            StructSerializer::Number(number) => *number = Some(literal(value)?),
        }
        Ok(())
    }

    fn finish(self) -> Result<Value, SerializeError> {
        match self {
            StructSerializer::Object(None, map) => Ok(Value::Object(map)),
            StructSerializer::Object(Some(variant), map) => Ok(tagged(variant, Value::Object(map))),
            StructSerializer::Number(n) => literal_passed(n).map(Value::Number),
        }
    }
}

/// Structs and struct variants both become objects: the two serde traits
/// share one body.
macro_rules! struct_serializer {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for StructSerializer {
            type Ok = Value;
            type Error = SerializeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Self::Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<Value, SerializeError> {
                self.finish()
            }
        }
    )*};
}

struct_serializer!(SerializeStruct, SerializeStructVariant);

/// The number whose literal text `value` serializes to (a string).
fn literal<T: Serialize + ?Sized>(value: &T) -> Result<Number, SerializeError> {
    let invalid = |text: &str| {
        SerializeError::new(
            SerializeErrorKind::InvalidNumber,
            format_args!("{text} is not a number literal of Python's json"),
        )
    };
    match value.serialize(ValueSerializer)? {
        Value::String(text) => {
            Number::from_literal(&text).ok_or_else(|| invalid(&format!("{text:?}")))
        }
        Value::Number(n) => Ok(n),
        other => Err(invalid(&other.to_python_json())),
    }
}

/// The number passed as its literal text under [`NUMBER_TOKEN`], once the
/// struct ends: an error if its one field never came.
fn literal_passed(number: Option<Number>) -> Result<Number, SerializeError> {
    number.ok_or_else(|| {
        SerializeError::new(
            SerializeErrorKind::InvalidNumber,
            "a number passed as its literal text had no text",
        )
    })
}

/// Map keys as `json.dumps` writes them: strings as they are, integers in
/// decimal, floats in repr, booleans as `true`/`false`, `None` as `null`.
struct KeySerializer;

fn unsupported_key(found: &str) -> SerializeError {
    SerializeError::new(
        SerializeErrorKind::UnsupportedKey,
        format_args!(
            "a map key must be a string, number, bool or None (as json.dumps requires), found {found}"
        ),
    )
}

/// The error for an enum variant with content as a map key: only a unit
/// variant has a name alone to write.
fn variant_with_content(variant: &str) -> SerializeError {
    unsupported_key(&format!("the enum variant {variant} with content"))
}

fn key_text(n: impl Into<Number>) -> Result<String, SerializeError> {
    Ok(n.into().as_str().to_owned())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = SerializeError;
    type SerializeSeq = Impossible<String, SerializeError>;
    type SerializeTuple = Impossible<String, SerializeError>;
    type SerializeTupleStruct = Impossible<String, SerializeError>;
    type SerializeTupleVariant = Impossible<String, SerializeError>;
    type SerializeMap = Impossible<String, SerializeError>;
    type SerializeStruct = KeyNumber;
    type SerializeStructVariant = Impossible<String, SerializeError>;

    fn serialize_bool(self, v: bool) -> Result<String, SerializeError> {
        Ok(if v { "true" } else { "false" }.to_owned())
    }
    shared_methods!(key_text);
    fn serialize_char(self, v: char) -> Result<String, SerializeError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, SerializeError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, SerializeError> {
        Err(unsupported_key("bytes"))
    }
    fn serialize_none(self) -> Result<String, SerializeError> {
        Ok("null".to_owned())
    }
    fn serialize_unit(self) -> Result<String, SerializeError> {
        Ok("null".to_owned())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, SerializeError> {
        Err(unsupported_key(&format!("the unit struct {name}")))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, SerializeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<String, SerializeError> {
        Err(variant_with_content(variant))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerializeError> {
        Err(unsupported_key("a sequence"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, SerializeError> {
        Err(unsupported_key("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SerializeError> {
        Err(unsupported_key(&format!("the tuple struct {name}")))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerializeError> {
        Err(variant_with_content(variant))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerializeError> {
        Err(unsupported_key("a map"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<KeyNumber, SerializeError> {
        if name == NUMBER_TOKEN {
            Ok(KeyNumber(None))
        } else {
            Err(unsupported_key(&format!("the struct {name}")))
        }
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerializeError> {
        Err(variant_with_content(variant))
    }
}

/// A [`Number`] key passed as its literal text: the key is that text, as a
/// Python `float` or `int` key would be written.
struct KeyNumber(Option<Number>);

impl ser::SerializeStruct for KeyNumber {
    type Ok = String;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), SerializeError> {
        self.0 = Some(literal(value)?);
        Ok(())
    }
    fn end(self) -> Result<String, SerializeError> {
        literal_passed(self.0).map(|n| n.as_str().to_owned())
    }
}

/// Serializes as the number it is. With this crate's own serializer
/// ([`to_value`]) the literal text is kept exactly. Any other serializer
/// gets the primitive that writes the same text (`i64`, `u64`, `i128`,
/// `u128`, or an `f64` for a float in Python's repr form, `NaN` and the
/// infinities included); the rare literal no primitive reproduces (an
/// integer beyond 128 bits, `-0`, `1.50`) goes as serde_json's
/// arbitrary-precision number, which serde_json writes verbatim and other
/// formats see as a one-member map.
///
/// ```
/// use netgear::json::{to_value, Number, Value};
/// let big = Number::from_literal("1267650600228229401496703205376").unwrap();
/// assert_eq!(serde_json::to_string(&big).unwrap(), "1267650600228229401496703205376");
/// assert_eq!(to_value(&big).unwrap(), Value::Number(big));
/// ```
impl Serialize for Number {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.exact() {
            Exact::I64(n) => serializer.serialize_i64(n),
            Exact::U64(n) => serializer.serialize_u64(n),
            Exact::I128(n) => serializer.serialize_i128(n),
            Exact::U128(n) => serializer.serialize_u128(n),
            Exact::F64(x) => serializer.serialize_f64(x),
            Exact::Literal => {
                let mut s = serializer.serialize_struct(NUMBER_TOKEN, 1)?;
                s.serialize_field(NUMBER_TOKEN, self.as_str())?;
                s.end()
            }
        }
    }
}

/// Serializes as the JSON value it is, numbers as [`Number`] does; so a
/// `Value` can be written by any serde format, and [`to_value`] of a `Value`
/// gives back the same value. (A format without `NaN` decides what to do
/// with one: serde_json writes `null`.)
///
/// ```
/// use netgear::json::{parse, to_value};
/// let v = parse(br#"{"n": 1267650600228229401496703205376, "x": NaN, "l": [1.50, -0]}"#).unwrap();
/// assert_eq!(to_value(&v).unwrap(), v);
/// ```
impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => serializer.collect_seq(items),
            Value::Object(map) => map.serialize(serializer),
        }
    }
}

/// Serializes as a map, members in order.
///
/// ```
/// use netgear::json::{Map, to_value, Value};
/// let m: Map = [("b", 1), ("a", 2)].into_iter().collect();
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"b":1,"a":2}"#);
/// assert_eq!(to_value(&m).unwrap(), Value::Object(m));
/// ```
impl Serialize for Map {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}
