//! The codec: NetGear messages to and from the byte parts of a multipart
//! ZeroMQ message. No sockets, no threads, no clocks.
//!
//! | message | parts | direction |
//! |---|---|---|
//! | frame | header JSON, payload | server → client |
//! | termination | JSON | server → client |
//! | reply | JSON (+ payload for a frame) | client → server |
//! | confirmation / rejection / termination ack | text | client → server |
//!
//! Encoders write exactly the bytes vidgear writes for the same values;
//! decoders accept everything vidgear can send and check it (spec/02, spec/08).

mod compression;
mod decode;
mod dtype;
pub(crate) mod encode;
mod error;
mod frame;

mod message;

pub use compression::{Colorspace, Compression, UnknownColorspace};
pub use decode::{decode_client_message, decode_server_message, Limits, ReplyKind};
pub use dtype::{Dtype, UnknownDtype};
pub use encode::{
    encode_client_message, encode_confirmation, encode_frame_header, encode_frame_message,
    encode_rejection, encode_reply, encode_server_message, encode_terminate, encode_terminate_ack,
    Parts,
};
pub use error::DecodeError;
pub use frame::{byte_size, Frame, FrameError, MAX_DIMS};
pub use message::{
    confirmation_text, ClientMessage, FrameMessage, Payload, Reply, ReturnData, ServerMessage,
    CONFIRMATION_PREFIX, DEVICE_ID_LEN, FRAME_RETURN_TYPE, REJECTION_PREFIX, TERMINATE_ACK,
    TERMINATE_ACK_MULTISERVER,
};
