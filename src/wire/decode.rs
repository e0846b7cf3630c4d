//! Decoding parts into messages, checking everything before trusting it.
//!
//! No allocation here is sized by a number taken from a header: a claimed
//! shape is only multiplied out (with overflow checks) and compared with the
//! payload that actually arrived.

use bytes::Bytes;

use super::message::{
    ClientMessage, FrameMessage, Payload, Reply, ReturnData, ServerMessage, REJECTION_PREFIX,
};
use super::{Colorspace, Compression, DecodeError, Dtype, Frame, MAX_DIMS};
use crate::json::{parse_with_depth, Map, Value, DEFAULT_MAX_DEPTH};

/// Bounds applied to everything received.
///
/// ```
/// use netgear::wire::Limits;
/// let strict = Limits { max_message_bytes: 1 << 20, ..Limits::default() };
/// assert_eq!(strict.max_json_depth, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

fn parse_object(part: &'static str, bytes: &[u8], limits: &Limits) -> Result<Map, DecodeError> {
    match parse_with_depth(bytes, limits.max_json_depth) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(DecodeError::NotAnObject {
            part,
            found: json_kind(&other),
        }),
        Err(source) => Err(DecodeError::Json { part, source }),
    }
}

fn field<'m>(
    map: &'m Map,
    part: &'static str,
    name: &'static str,
) -> Result<&'m Value, DecodeError> {
    map.get(name)
        .ok_or(DecodeError::MissingField { part, field: name })
}

fn wrong(field: &'static str, expected: &'static str, found: &Value) -> DecodeError {
    DecodeError::WrongType {
        field,
        expected,
        found: json_kind(found),
    }
}

fn bool_field(map: &Map, part: &'static str, name: &'static str) -> Result<bool, DecodeError> {
    let v = field(map, part, name)?;
    v.as_bool().ok_or_else(|| wrong(name, "a boolean", v))
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

/// Reads the compression/dtype/shape trio and builds the payload around `data`.
fn parse_payload(
    map: &Map,
    part: &'static str,
    names: (&'static str, &'static str),
    data: Bytes,
) -> Result<Payload, DecodeError> {
    let compression = parse_compression(field(map, part, "compression")?)?;
    if let Some(compression) = compression {
        return Ok(Payload::Jpeg { data, compression });
    }
    let (dtype_name, shape_name) = names;
    let dtype = match field(map, part, dtype_name)? {
        Value::String(s) => s.parse::<Dtype>().map_err(|e| DecodeError::UnknownDtype {
            field: dtype_name,
            dtype: e.0,
        })?,
        other => return Err(wrong(dtype_name, "a string", other)),
    };
    let shape = parse_shape(shape_name, field(map, part, shape_name)?)?;
    Ok(Payload::Raw(Frame::new(dtype, shape, data)?))
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
    const PART: &str = "the header";
    if parts.is_empty() || parts.len() > 2 {
        return Err(DecodeError::PartCount {
            kind: KIND,
            expected: "1 or 2",
            actual: parts.len(),
        });
    }
    check_size(parts, limits)?;
    let map = parse_object(PART, &parts[0], limits)?;
    let port = map.get("port").cloned();
    if bool_field(&map, PART, "terminate_flag")? {
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
    let message = map.get("message").cloned().unwrap_or(Value::Null);
    let pattern = match field(&map, PART, "pattern")? {
        Value::String(s) => s.clone(),
        other => return Err(wrong("pattern", "a string", other)),
    };
    let payload = parse_payload(&map, PART, ("dtype", "shape"), parts[1].clone())?;
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
    let map = parse_object(PART, &parts[0], limits)?;
    let port = map.get("port").cloned();
    let return_type = match field(&map, PART, "return_type")? {
        Value::String(s) => s.clone(),
        other => return Err(wrong("return_type", "a string", other)),
    };
    let error = match map.get("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(wrong("error", "a string", other)),
    };
    let data = if return_type == "ndarray" {
        if parts.len() != 2 {
            return Err(DecodeError::PartCount {
                kind: "a frame reply",
                expected: "2",
                actual: parts.len(),
            });
        }
        ReturnData::Frame(parse_payload(
            &map,
            PART,
            ("array_dtype", "array_shape"),
            parts[1].clone(),
        )?)
    } else {
        if parts.len() != 1 {
            return Err(DecodeError::PartCount {
                kind: "a data reply",
                expected: "1",
                actual: parts.len(),
            });
        }
        ReturnData::Json(field(&map, PART, "data")?.clone())
    };
    Ok(Reply {
        port,
        return_type,
        data,
        error,
    })
}
