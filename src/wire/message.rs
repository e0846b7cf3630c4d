//! The messages of the protocol, as Rust values (see spec/02-messages.md).

use bytes::Bytes;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Compression, Frame};
use crate::json::{self, DeserializeError, SerializeError, Value};

/// What a frame message or a frame reply carries after its header.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Raw array bytes with their dtype and shape.
    Raw(Frame),
    /// A JPEG bitstream and the parameters the header gave for it. Turning it
    /// into pixels is the job of a JPEG codec, outside the wire layer.
    Jpeg {
        /// The JPEG bytes (shared with the receive buffer).
        data: Bytes,
        /// The header's `compression` object.
        compression: Compression,
    },
}

impl Payload {
    /// The payload bytes as they travel.
    pub fn bytes(&self) -> &Bytes {
        match self {
            Payload::Raw(frame) => frame.data(),
            Payload::Jpeg { data, .. } => data,
        }
    }
}

impl From<Frame> for Payload {
    fn from(frame: Frame) -> Payload {
        Payload::Raw(frame)
    }
}

/// A frame message, server to client: header + payload.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameMessage {
    /// The server's own port, in multi-server mode only (written first).
    pub port: Option<Value>,
    /// The message sent along with the frame (`null` when there is none).
    pub message: Value,
    /// The pattern digit the sender wrote (`"0"`, `"1"` or `"2"`); receivers
    /// record but do not check it, as vidgear does.
    pub pattern: String,
    /// The frame.
    pub payload: Payload,
}

impl FrameMessage {
    /// A frame message as a single server on pattern 0 writes it: no port,
    /// pattern `"0"`.
    ///
    /// ```
    /// use netgear::wire::FrameMessage;
    /// use netgear::{json::Value, Dtype, Frame};
    /// let m = FrameMessage::new(Frame::new(Dtype::Uint8, vec![1], vec![9]).unwrap(), Value::Null);
    /// assert_eq!((m.port, m.pattern.as_str()), (None, "0"));
    /// ```
    pub fn new(payload: impl Into<Payload>, message: Value) -> FrameMessage {
        FrameMessage {
            port: None,
            message,
            pattern: "0".into(),
            payload: payload.into(),
        }
    }
}

/// Everything a server sends to a client.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// A frame with its message.
    Frame(FrameMessage),
    /// The one-part termination message (`port` in multi-server mode).
    Terminate {
        /// The terminating server's port, in multi-server mode.
        port: Option<Value>,
    },
}

/// Return data: what a client sends back for a frame in bidirectional mode.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnData {
    /// Any JSON value (`null` when the client has nothing to say).
    Json(Value),
    /// A whole frame (vidgear's `ndarray` return type).
    Frame(Payload),
}

impl ReturnData {
    /// JSON return data from any application type (see [`crate::json::to_value`]).
    ///
    /// ```
    /// use netgear::{json::Value, ReturnData};
    /// let data = ReturnData::json(&(1, "two")).unwrap();
    /// assert_eq!(data, ReturnData::Json(Value::from(vec![Value::from(1), Value::from("two")])));
    /// ```
    pub fn json<T: Serialize + ?Sized>(data: &T) -> Result<ReturnData, SerializeError> {
        json::to_value(data).map(ReturnData::Json)
    }

    /// The JSON return data as an application type; `None` when the data
    /// is a frame.
    ///
    /// ```
    /// use netgear::ReturnData;
    /// let data = ReturnData::json(&[3u8, 4]).unwrap();
    /// assert_eq!(data.json_as::<Vec<u8>>().unwrap().unwrap(), [3, 4]);
    /// ```
    pub fn json_as<T: DeserializeOwned>(&self) -> Option<Result<T, DeserializeError>> {
        match self {
            ReturnData::Json(value) => Some(json::from_value_ref::<T>(value)),
            ReturnData::Frame(_) => None,
        }
    }
}

impl Default for ReturnData {
    fn default() -> ReturnData {
        ReturnData::Json(Value::Null)
    }
}

impl From<Value> for ReturnData {
    fn from(v: Value) -> ReturnData {
        ReturnData::Json(v)
    }
}

impl From<Frame> for ReturnData {
    fn from(f: Frame) -> ReturnData {
        ReturnData::Frame(Payload::Raw(f))
    }
}

/// A bidirectional reply, client to server.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The client's port, in multi-client mode only (written first).
    pub port: Option<Value>,
    /// The `return_type` the sender wrote (a Python type name). Derived from
    /// the data when encoding; kept as received when decoding.
    pub return_type: String,
    /// The return data.
    pub data: ReturnData,
    /// netgear's extension: set when the client could not decode the frame
    /// this reply answers (`"<code>: <text>"`).
    pub error: Option<String>,
}

impl Reply {
    /// A reply carrying `data`, with `return_type` derived as Python would.
    pub fn new(data: ReturnData) -> Reply {
        let return_type = match &data {
            ReturnData::Json(v) => v.python_type(),
            ReturnData::Frame(_) => FRAME_RETURN_TYPE,
        }
        .to_owned();
        Reply {
            port: None,
            return_type,
            data,
            error: None,
        }
    }
}

/// What a client sends to a server; which one is expected depends on the
/// server's state and mode, so the decoder is told (see [`super::ReplyKind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// A bidirectional (or multi-client) reply.
    Reply(Reply),
    /// The plain confirmation string of non-bidirectional mode.
    Confirmation(Bytes),
    /// netgear's rejection string (non-bidirectional mode).
    Rejection(String),
    /// The acknowledgement of a termination message (pattern 1).
    TerminateAck(Bytes),
}

/// What a plain-mode confirmation starts with, before the device id
/// (spec/02 §2.4.3). Stated once here so that the encoder and everything
/// that reads confirmations back (recordings, replay) agree on it.
///
/// ```
/// use netgear::wire::{confirmation_text, CONFIRMATION_PREFIX};
/// assert!(confirmation_text("ABCD1234").starts_with(CONFIRMATION_PREFIX));
/// ```
pub const CONFIRMATION_PREFIX: &str = "Data received on device: ";

/// What follows the device id in a confirmation.
const CONFIRMATION_SUFFIX: &str = " !";

/// How many characters vidgear's random device ids have (the id that
/// follows [`CONFIRMATION_PREFIX`] or [`REJECTION_PREFIX`]).
///
/// ```
/// use netgear::wire::{confirmation_text, CONFIRMATION_PREFIX, DEVICE_ID_LEN};
/// let text = confirmation_text("ABCD1234");
/// assert_eq!(&text[CONFIRMATION_PREFIX.len()..][..DEVICE_ID_LEN], "ABCD1234");
/// ```
pub const DEVICE_ID_LEN: usize = 8;

/// Confirmation text of non-bidirectional mode for a device id.
///
/// ```
/// assert_eq!(netgear::wire::confirmation_text("ABCD1234"), "Data received on device: ABCD1234 !");
/// ```
pub fn confirmation_text(device_id: &str) -> String {
    format!("{CONFIRMATION_PREFIX}{device_id}{CONFIRMATION_SUFFIX}")
}

/// The `return_type` of a reply whose return data is a frame (the Python
/// type of a numpy array); any other `return_type` announces JSON data.
///
/// ```
/// use netgear::wire::{Reply, ReturnData, FRAME_RETURN_TYPE};
/// use netgear::{Dtype, Frame};
/// let frame = Frame::new(Dtype::Uint8, vec![1], vec![7]).unwrap();
/// assert_eq!(Reply::new(ReturnData::from(frame)).return_type, FRAME_RETURN_TYPE);
/// ```
pub const FRAME_RETURN_TYPE: &str = "ndarray";

/// Prefix of netgear's rejection string (non-bidirectional mode).
pub const REJECTION_PREFIX: &str = "Frame rejected on device: ";

/// Termination acknowledgement of a single-server client.
pub const TERMINATE_ACK: &str = "Termination signal successfully received at Client's end!";

/// Termination acknowledgement of a multi-server client.
pub const TERMINATE_ACK_MULTISERVER: &str = "Termination signal successfully received at client!";
