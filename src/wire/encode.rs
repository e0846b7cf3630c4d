//! Encoding messages into parts, byte-identical to vidgear's output.

use bytes::Bytes;

use super::message::{
    confirmation_text, ClientMessage, FrameMessage, Payload, Reply, ReturnData, ServerMessage,
    REJECTION_PREFIX, TERMINATE_ACK, TERMINATE_ACK_MULTISERVER,
};
use super::Compression;
use crate::json::{write_python_json, write_string, Value};

/// The parts of one multipart ZeroMQ message.
pub type Parts = Vec<Bytes>;

fn key(out: &mut Vec<u8>, name: &str, first: bool) {
    if !first {
        out.extend_from_slice(b", ");
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\": ");
}

fn write_shape(out: &mut Vec<u8>, shape: &[usize]) {
    let mut digits = itoa::Buffer::new();
    out.push(b'[');
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(digits.format(*d).as_bytes());
    }
    out.push(b']');
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn write_compression(out: &mut Vec<u8>, c: &Compression) {
    out.extend_from_slice(b"{\"dct\": ");
    write_bool(out, c.fast_dct);
    out.extend_from_slice(b", \"ups\": ");
    write_bool(out, c.fast_upsample);
    out.extend_from_slice(b", \"colorspace\": \"");
    out.extend_from_slice(c.colorspace.name().as_bytes());
    out.extend_from_slice(b"\"}");
}

/// The `compression` field: `false` for raw frames, the JPEG parameters otherwise.
fn write_compression_field(out: &mut Vec<u8>, payload: &Payload) {
    key(out, "compression", false);
    match payload {
        Payload::Raw(_) => out.extend_from_slice(b"false"),
        Payload::Jpeg { compression, .. } => write_compression(out, compression),
    }
}

/// The dtype and shape fields (under the names frame headers and frame
/// replies give them); both are `""` for a JPEG payload.
fn write_dtype_shape(out: &mut Vec<u8>, payload: &Payload, dtype_key: &str, shape_key: &str) {
    match payload {
        Payload::Raw(frame) => {
            key(out, dtype_key, false);
            out.push(b'"');
            out.extend_from_slice(frame.dtype().name().as_bytes());
            out.push(b'"');
            key(out, shape_key, false);
            write_shape(out, frame.shape());
        }
        Payload::Jpeg { .. } => {
            key(out, dtype_key, false);
            out.extend_from_slice(b"\"\"");
            key(out, shape_key, false);
            out.extend_from_slice(b"\"\"");
        }
    }
}

/// The header (part 0) of a frame message.
///
/// ```
/// use netgear::{json::Value, wire::{encode_frame_header, FrameMessage}, Dtype, Frame};
/// let frame = Frame::new(Dtype::Uint8, vec![2, 2, 3], vec![0u8; 12]).unwrap();
/// let msg = FrameMessage { port: None, message: Value::from("hi"), pattern: "1".into(), payload: frame.into() };
/// assert_eq!(
///     encode_frame_header(&msg),
///     br#"{"terminate_flag": false, "compression": false, "message": "hi", "pattern": "1", "dtype": "uint8", "shape": [2, 2, 3]}"#
/// );
/// ```
pub fn encode_frame_header(msg: &FrameMessage) -> Vec<u8> {
    write_frame_header(msg.port.as_ref(), &msg.message, &msg.pattern, &msg.payload)
}

/// [`encode_frame_header`] from borrowed fields.
fn write_frame_header(
    port: Option<&Value>,
    message: &Value,
    pattern: &str,
    payload: &Payload,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.push(b'{');
    let mut first = true;
    if let Some(port) = port {
        key(&mut out, "port", true);
        write_python_json(port, &mut out);
        first = false;
    }
    key(&mut out, "terminate_flag", first);
    out.extend_from_slice(b"false");
    write_compression_field(&mut out, payload);
    key(&mut out, "message", false);
    write_python_json(message, &mut out);
    key(&mut out, "pattern", false);
    write_string(pattern, &mut out);
    write_dtype_shape(&mut out, payload, "dtype", "shape");
    out.push(b'}');
    out
}

/// A frame message: header and payload (the payload is shared, not copied).
pub fn encode_frame_message(msg: &FrameMessage) -> Parts {
    frame_message_parts(msg.port.as_ref(), &msg.message, &msg.pattern, &msg.payload)
}

/// [`encode_frame_message`] from borrowed fields (the server machine sends
/// its frames without first gathering them into a [`FrameMessage`]).
pub(crate) fn frame_message_parts(
    port: Option<&Value>,
    message: &Value,
    pattern: &str,
    payload: &Payload,
) -> Parts {
    vec![
        Bytes::from(write_frame_header(port, message, pattern, payload)),
        payload.bytes().clone(),
    ]
}

/// The one-part termination message.
///
/// ```
/// use netgear::wire::encode_terminate;
/// assert_eq!(&encode_terminate(None)[0][..], br#"{"terminate_flag": true}"#);
/// ```
pub fn encode_terminate(port: Option<&Value>) -> Parts {
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(b"{\"terminate_flag\": true");
    if let Some(port) = port {
        key(&mut out, "port", false);
        write_python_json(port, &mut out);
    }
    out.push(b'}');
    vec![Bytes::from(out)]
}

/// Any server message.
pub fn encode_server_message(msg: &ServerMessage) -> Parts {
    match msg {
        ServerMessage::Frame(f) => encode_frame_message(f),
        ServerMessage::Terminate { port } => encode_terminate(port.as_ref()),
    }
}

/// A bidirectional reply: one part, or two when it carries a frame.
///
/// ```
/// use netgear::{json::Value, wire::{encode_reply, Reply, ReturnData}};
/// let parts = encode_reply(&Reply::new(ReturnData::Json(Value::from(42))));
/// assert_eq!(&parts[0][..], br#"{"return_type": "int", "data": 42}"#);
/// ```
pub fn encode_reply(reply: &Reply) -> Parts {
    let mut out = Vec::with_capacity(64);
    out.push(b'{');
    let mut first = true;
    if let Some(port) = &reply.port {
        key(&mut out, "port", true);
        write_python_json(port, &mut out);
        first = false;
    }
    key(&mut out, "return_type", first);
    write_string(&reply.return_type, &mut out);
    let payload = match &reply.data {
        ReturnData::Json(value) => {
            key(&mut out, "data", false);
            write_python_json(value, &mut out);
            None
        }
        ReturnData::Frame(payload) => {
            write_compression_field(&mut out, payload);
            write_dtype_shape(&mut out, payload, "array_dtype", "array_shape");
            key(&mut out, "data", false);
            out.extend_from_slice(b"null");
            Some(payload.bytes().clone())
        }
    };
    if let Some(error) = &reply.error {
        key(&mut out, "error", false);
        write_string(error, &mut out);
    }
    out.push(b'}');
    let mut parts = vec![Bytes::from(out)];
    parts.extend(payload);
    parts
}

/// The non-bidirectional confirmation for a device id.
pub fn encode_confirmation(device_id: &str) -> Parts {
    vec![Bytes::from(confirmation_text(device_id))]
}

/// netgear's non-bidirectional rejection string.
pub fn encode_rejection(device_id: &str, reason: &str) -> Parts {
    vec![Bytes::from(format!(
        "{REJECTION_PREFIX}{device_id}: {reason}"
    ))]
}

/// The termination acknowledgement (pattern 1).
pub fn encode_terminate_ack(multiserver: bool) -> Parts {
    let text = if multiserver {
        TERMINATE_ACK_MULTISERVER
    } else {
        TERMINATE_ACK
    };
    vec![Bytes::from_static(text.as_bytes())]
}

/// Any client message.
pub fn encode_client_message(msg: &ClientMessage) -> Parts {
    match msg {
        ClientMessage::Reply(r) => encode_reply(r),
        ClientMessage::Confirmation(b) | ClientMessage::TerminateAck(b) => vec![b.clone()],
        ClientMessage::Rejection(text) => vec![Bytes::from(text.clone())],
    }
}
