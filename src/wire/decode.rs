//! Decoding parts into messages, checking everything before trusting it.
//!
//! No allocation here is sized by a number taken from a header: a claimed
//! shape is only multiplied out (with overflow checks) and compared with the
//! payload that actually arrived.
//!
//! A header is read member by member ([`Header::read`]), not built into a
//! JSON object first: a field written the usual way (a boolean, a string
//! without escapes, an array of plain integers) is taken as it is read,
//! without allocating, and anything else is read as a [`Value`] and judged
//! afterwards by the same rules, so the quick path changes no outcome.

use std::borrow::Cow;

use bytes::Bytes;

use super::message::{
    ClientMessage, FrameMessage, Payload, Reply, ReturnData, ServerMessage, FRAME_RETURN_TYPE,
    REJECTION_PREFIX,
};
use super::{Colorspace, Compression, DecodeError, Dtype, Frame, MAX_DIMS};
use crate::json::{JsonError, Reader, Value, DEFAULT_MAX_DEPTH};

/// Bounds applied to everything received.
///
/// ```
/// use netgear::wire::Limits;
/// let strict = Limits::default().max_message_bytes(1 << 20);
/// assert_eq!(strict.max_json_depth, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted message (all parts together). The zmq adapters also
    /// hand this to libzmq (`ZMQ_MAXMSGSIZE`), so an oversized message is
    /// refused before it is buffered. Default 512 MiB.
    pub max_message_bytes: usize,
    /// Deepest accepted JSON nesting. Default 128.
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: 512 << 20,
            max_json_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl Limits {
    /// Sets the largest accepted message.
    ///
    /// ```
    /// use netgear::wire::Limits;
    /// assert_eq!(Limits::default().max_message_bytes(4096).max_message_bytes, 4096);
    /// ```
    #[must_use]
    pub fn max_message_bytes(mut self, bytes: usize) -> Limits {
        self.max_message_bytes = bytes;
        self
    }

    /// Sets the deepest accepted JSON nesting.
    ///
    /// ```
    /// use netgear::wire::Limits;
    /// assert_eq!(Limits::default().max_json_depth(8).max_json_depth, 8);
    /// ```
    #[must_use]
    pub fn max_json_depth(mut self, depth: usize) -> Limits {
        self.max_json_depth = depth;
        self
    }
}

/// What a server expects back in its current state (the client's strings
/// carry no type tag, so the decoder must be told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// A JSON reply (bidirectional or multi-client mode).
    Reply,
    /// The confirmation string (plain mode) or netgear's rejection string.
    Confirmation,
    /// The acknowledgement of a termination message.
    TerminateAck,
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_size(parts: &[Bytes], limits: &Limits) -> Result<(), DecodeError> {
    let size = parts
        .iter()
        .fold(0usize, |acc, p| acc.saturating_add(p.len()));
    if size > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            size,
            limit: limits.max_message_bytes,
        });
    }
    Ok(())
}

fn wrong(field: &'static str, expected: &'static str, found: &Value) -> DecodeError {
    DecodeError::WrongType {
        field,
        expected,
        found: json_kind(found),
    }
}

/// A header field as read: absent, in the form the decoder wants (read the
/// usual way, without allocating), or any other JSON value (to be checked,
/// and named in an error).
#[derive(Default)]
enum Field<T> {
    #[default]
    Absent,
    Ready(T),
    Other(Value),
}

impl<T> Field<T> {
    /// Reads the value at the cursor, the quick way if `quick` can.
    fn read<'a>(
        reader: &mut Reader<'a>,
        quick: impl FnOnce(&mut Reader<'a>) -> Option<T>,
    ) -> Result<Field<T>, JsonError> {
        match quick(reader) {
            Some(v) => Ok(Field::Ready(v)),
            None => Ok(Field::Other(reader.value()?)),
        }
    }

    /// The field, or [`DecodeError::MissingField`].
    fn required(self, part: &'static str, name: &'static str) -> Result<Present<T>, DecodeError> {
        match self {
            Field::Absent => Err(DecodeError::MissingField { part, field: name }),
            Field::Ready(v) => Ok(Present::Ready(v)),
            Field::Other(v) => Ok(Present::Other(v)),
        }
    }
}

impl<'a> Field<&'a str> {
    /// The field, which must be a string.
    fn string(self, part: &'static str, name: &'static str) -> Result<Cow<'a, str>, DecodeError> {
        match self.required(part, name)? {
            Present::Ready(s) => Ok(Cow::Borrowed(s)),
            Present::Other(Value::String(s)) => Ok(Cow::Owned(s)),
            Present::Other(other) => Err(wrong(name, "a string", &other)),
        }
    }
}

impl Field<bool> {
    /// The field, which must be a boolean.
    fn boolean(self, part: &'static str, name: &'static str) -> Result<bool, DecodeError> {
        match self.required(part, name)? {
            Present::Ready(b) => Ok(b),
            Present::Other(other) => Err(wrong(name, "a boolean", &other)),
        }
    }
}

/// A field known to be there.
enum Present<T> {
    Ready(T),
    Other(Value),
}

/// The names a payload's dtype and shape go by: `dtype` and `shape` in a
/// frame header, `array_dtype` and `array_shape` in a frame reply.
#[derive(Clone, Copy)]
struct PayloadNames {
    dtype: &'static str,
    shape: &'static str,
}

const FRAME_FIELDS: PayloadNames = PayloadNames {
    dtype: "dtype",
    shape: "shape",
};

const REPLY_FIELDS: PayloadNames = PayloadNames {
    dtype: "array_dtype",
    shape: "array_shape",
};

/// The fields of a frame header, termination message or reply; the last
/// occurrence of a repeated key counts, as in Python. Unknown keys are read
/// (they must be valid JSON) and ignored, as vidgear ignores them.
struct Header<'a> {
    part: &'static str,
    names: PayloadNames,
    port: Option<Value>,
    terminate_flag: Field<bool>,
    message: Option<Value>,
    pattern: Field<&'a str>,
    compression: Field<bool>,
    dtype: Field<&'a str>,
    shape: Field<Vec<usize>>,
    return_type: Field<&'a str>,
    error: Option<Value>,
    data: Option<Value>,
}

impl<'a> Header<'a> {
    /// Reads the JSON object in `bytes`, part `part` of its message.
    fn read(
        part: &'static str,
        names: PayloadNames,
        bytes: &'a [u8],
        limits: &Limits,
    ) -> Result<Header<'a>, DecodeError> {
        let json = |source| DecodeError::Json { part, source };
        let mut reader = Reader::new(bytes, limits.max_json_depth).map_err(json)?;
        if !reader.at_object() {
            let value = reader.value().map_err(json)?;
            reader.finish().map_err(json)?;
            return Err(DecodeError::NotAnObject {
                part,
                found: json_kind(&value),
            });
        }
        let mut h = Header {
            part,
            names,
            port: None,
            terminate_flag: Field::Absent,
            message: None,
            pattern: Field::Absent,
            compression: Field::Absent,
            dtype: Field::Absent,
            shape: Field::Absent,
            return_type: Field::Absent,
            error: None,
            data: None,
        };
        reader
            .members(|r, key| {
                match &*key {
                    "port" => h.port = Some(r.value()?),
                    "terminate_flag" => h.terminate_flag = Field::read(r, Reader::bool)?,
                    "message" => h.message = Some(r.value()?),
                    "pattern" => h.pattern = Field::read(r, Reader::plain_str)?,
                    "compression" => h.compression = Field::read(r, Reader::bool)?,
                    "return_type" => h.return_type = Field::read(r, Reader::plain_str)?,
                    "error" => h.error = Some(r.value()?),
                    "data" => h.data = Some(r.value()?),
                    k if k == names.dtype => h.dtype = Field::read(r, Reader::plain_str)?,
                    k if k == names.shape => {
                        h.shape = Field::read(r, |r| r.plain_uint_array(MAX_DIMS))?
                    }
                    _ => drop(r.value()?),
                }
                Ok(())
            })
            .map_err(json)?;
        reader.finish().map_err(json)?;
        Ok(h)
    }

    /// The compression/dtype/shape trio, made into a payload around `data`.
    fn payload(self, data: Bytes) -> Result<Payload, DecodeError> {
        let compression = match self.compression.required(self.part, "compression")? {
            Present::Ready(false) => None,
            Present::Ready(true) => {
                return Err(wrong(
                    "compression",
                    "false or an object",
                    &Value::Bool(true),
                ))
            }
            Present::Other(value) => parse_compression(&value)?,
        };
        if let Some(compression) = compression {
            return Ok(Payload::Jpeg { data, compression });
        }
        let names = self.names;
        let dtype = match self.dtype.required(self.part, names.dtype)? {
            Present::Ready(s) => parse_dtype(names.dtype, s)?,
            Present::Other(Value::String(s)) => parse_dtype(names.dtype, &s)?,
            Present::Other(other) => return Err(wrong(names.dtype, "a string", &other)),
        };
        let shape = match self.shape.required(self.part, names.shape)? {
            Present::Ready(shape) => shape,
            Present::Other(value) => parse_shape(names.shape, &value)?,
        };
        Ok(Payload::Raw(Frame::new(dtype, shape, data)?))
    }
}

fn parse_dtype(field: &'static str, name: &str) -> Result<Dtype, DecodeError> {
    name.parse::<Dtype>()
        .map_err(|e| DecodeError::UnknownDtype { field, dtype: e.0 })
}

fn parse_compression(v: &Value) -> Result<Option<Compression>, DecodeError> {
    match v {
        Value::Bool(false) => Ok(None),
        Value::Object(map) => {
            let flag = |name: &'static str| match map.get(name) {
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(DecodeError::BadCompression {
                    reason: format!("{name:?} must be a boolean, found {}", json_kind(other)),
                }),
                None => Err(DecodeError::BadCompression {
                    reason: format!("{name:?} is missing"),
                }),
            };
            let colorspace = match map.get("colorspace") {
                // Headers carry the upper-case names exactly; the lenient
                // FromStr is for user options, not for the wire.
                Some(Value::String(s)) => Colorspace::ALL
                    .into_iter()
                    .find(|c| c.name() == s)
                    .ok_or_else(|| DecodeError::BadCompression {
                        reason: format!("unknown colorspace {s:?}"),
                    })?,
                Some(other) => {
                    return Err(DecodeError::BadCompression {
                        reason: format!(
                            "\"colorspace\" must be a string, found {}",
                            json_kind(other)
                        ),
                    })
                }
                None => {
                    return Err(DecodeError::BadCompression {
                        reason: "\"colorspace\" is missing".into(),
                    })
                }
            };
            Ok(Some(Compression {
                fast_dct: flag("dct")?,
                fast_upsample: flag("ups")?,
                colorspace,
            }))
        }
        other => Err(wrong("compression", "false or an object", other)),
    }
}

fn parse_shape(field_name: &'static str, v: &Value) -> Result<Vec<usize>, DecodeError> {
    let items = match v {
        Value::Array(items) => items,
        other => return Err(wrong(field_name, "an array of integers", other)),
    };
    if items.len() > MAX_DIMS {
        return Err(DecodeError::BadShape {
            field: field_name,
            reason: format!(
                "{} dimensions, more than the limit of {MAX_DIMS}",
                items.len()
            ),
        });
    }
    items
        .iter()
        .map(|item| match item {
            Value::Number(n) if n.is_integer() => {
                if n.as_str().starts_with('-') && n.as_str() != "-0" {
                    Err(DecodeError::BadShape {
                        field: field_name,
                        reason: format!("negative dimension {n}"),
                    })
                } else {
                    // `-0` is Python's int 0; `as_u64` would refuse its sign.
                    n.as_str()
                        .trim_start_matches('-')
                        .parse::<u64>()
                        .ok()
                        .and_then(|d| usize::try_from(d).ok())
                        .ok_or_else(|| DecodeError::BadShape {
                            field: field_name,
                            reason: format!("dimension {n} is too large"),
                        })
                }
            }
            other => Err(DecodeError::BadShape {
                field: field_name,
                reason: format!("dimension {} is not an integer", other.to_python_json()),
            }),
        })
        .collect()
}

/// Decodes a message from server to client: a frame or a termination.
///
/// ```
/// use bytes::Bytes;
/// use netgear::wire::{decode_server_message, Limits, ServerMessage};
/// let parts = [Bytes::from_static(br#"{"terminate_flag": true}"#)];
/// assert_eq!(decode_server_message(&parts, &Limits::default()).unwrap(), ServerMessage::Terminate { port: None });
/// ```
pub fn decode_server_message(
    parts: &[Bytes],
    limits: &Limits,
) -> Result<ServerMessage, DecodeError> {
    const KIND: &str = "a frame or termination message";
    if parts.is_empty() || parts.len() > 2 {
        return Err(DecodeError::PartCount {
            kind: KIND,
            expected: "1 or 2",
            actual: parts.len(),
        });
    }
    check_size(parts, limits)?;
    let mut header = Header::read("the header", FRAME_FIELDS, &parts[0], limits)?;
    let port = header.port.take();
    let terminate = std::mem::take(&mut header.terminate_flag);
    if terminate.boolean(header.part, "terminate_flag")? {
        // A trailing part after a termination header is ignored.
        return Ok(ServerMessage::Terminate { port });
    }
    if parts.len() != 2 {
        return Err(DecodeError::PartCount {
            kind: "a frame message",
            expected: "2",
            actual: parts.len(),
        });
    }
    let message = header.message.take().unwrap_or(Value::Null);
    let pattern = std::mem::take(&mut header.pattern)
        .string(header.part, "pattern")?
        .into_owned();
    let payload = header.payload(parts[1].clone())?;
    Ok(ServerMessage::Frame(FrameMessage {
        port,
        message,
        pattern,
        payload,
    }))
}

/// Decodes a message from client to server, as expected in state `kind`.
///
/// ```
/// use bytes::Bytes;
/// use netgear::{json::Value, wire::{decode_client_message, ClientMessage, Limits, ReplyKind, ReturnData}};
/// let parts = [Bytes::from_static(br#"{"return_type": "str", "data": "ok"}"#)];
/// match decode_client_message(&parts, ReplyKind::Reply, &Limits::default()).unwrap() {
///     ClientMessage::Reply(r) => assert_eq!(r.data, ReturnData::Json(Value::from("ok"))),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn decode_client_message(
    parts: &[Bytes],
    kind: ReplyKind,
    limits: &Limits,
) -> Result<ClientMessage, DecodeError> {
    check_size(parts, limits)?;
    match kind {
        ReplyKind::Confirmation | ReplyKind::TerminateAck => {
            if parts.len() != 1 {
                let what = if kind == ReplyKind::TerminateAck {
                    "a termination acknowledgement"
                } else {
                    "a confirmation"
                };
                return Err(DecodeError::PartCount {
                    kind: what,
                    expected: "1",
                    actual: parts.len(),
                });
            }
            let bytes = parts[0].clone();
            if kind == ReplyKind::TerminateAck {
                return Ok(ClientMessage::TerminateAck(bytes));
            }
            match bytes.strip_prefix(REJECTION_PREFIX.as_bytes()) {
                Some(_) => Ok(ClientMessage::Rejection(
                    String::from_utf8_lossy(&bytes).into_owned(),
                )),
                None => Ok(ClientMessage::Confirmation(bytes)),
            }
        }
        ReplyKind::Reply => decode_reply(parts, limits).map(ClientMessage::Reply),
    }
}

fn decode_reply(parts: &[Bytes], limits: &Limits) -> Result<Reply, DecodeError> {
    const PART: &str = "the reply";
    if parts.is_empty() || parts.len() > 2 {
        return Err(DecodeError::PartCount {
            kind: "a reply",
            expected: "1 or 2",
            actual: parts.len(),
        });
    }
    let mut header = Header::read(PART, REPLY_FIELDS, &parts[0], limits)?;
    let port = header.port.take();
    let return_type = std::mem::take(&mut header.return_type)
        .string(PART, "return_type")?
        .into_owned();
    let error = match header.error.take() {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(wrong("error", "a string", &other)),
    };
    let data = if return_type == FRAME_RETURN_TYPE {
        if parts.len() != 2 {
            return Err(DecodeError::PartCount {
                kind: "a frame reply",
                expected: "2",
                actual: parts.len(),
            });
        }
        ReturnData::Frame(header.payload(parts[1].clone())?)
    } else {
        if parts.len() != 1 {
            return Err(DecodeError::PartCount {
                kind: "a data reply",
                expected: "1",
                actual: parts.len(),
            });
        }
        ReturnData::Json(header.data.take().ok_or(DecodeError::MissingField {
            part: PART,
            field: "data",
        })?)
    };
    Ok(Reply {
        port,
        return_type,
        data,
        error,
    })
}
