//! # netgear
//!
//! NetGear — the ZeroMQ protocol vidgear uses to stream video frames between
//! machines — in Rust, wire-compatible with vidgear 0.3.6 in both directions.
//!
//! The crate is layered like quinn-proto / str0m:
//!
//! * [`wire`] — the codec: messages to and from byte parts (sans-IO).
//! * [`json`] — the Python-flavoured JSON those messages use.
//! * [`session`] — the server and client state machines: feed them received
//!   parts and the current time, drain parts to send, events and deadlines.
//! * `transport` (feature `zmq`, on by default) — blocking adapters that only
//!   move bytes and time between libzmq sockets and the state machines.
//!   They compress and decompress JPEG frames when asked (`jpeg`).
//! * `jpeg` (feature `jpeg`, on by default) — vidgear's JPEG frame
//!   compression, on libjpeg-turbo; `reducer` (feature `reducer`) — its
//!   frame shrinking; [`source`] — video frames from ffmpeg.
//!
//! ```
//! use std::time::Instant;
//! use netgear::session::{Client, ClientEvent, Config, Server, ServerEvent, Transmit};
//! use netgear::{json::Value, Dtype, Frame, ReturnData};
//!
//! let config = Config::new().bidirectional(true);
//! let mut server = Server::new(config.clone()).unwrap();
//! let mut client = Client::new(config, "ABCD1234", Instant::now()).unwrap();
//! let now = Instant::now();
//! client.set_return_data(ReturnData::Json(Value::from("thanks")));
//!
//! let frame = Frame::new(Dtype::Uint8, vec![2, 2], vec![1, 2, 3, 4]).unwrap();
//! server.send_frame(frame.clone(), Value::from("hello"), now).unwrap();
//! // Carry the parts across by hand; a transport would use sockets.
//! let Some(Transmit::Send(parts)) = server.poll_transmit() else { panic!() };
//! client.handle_message(parts, now);
//! let Some(ClientEvent::Frame(Delivery { message, .. })) = client.poll_event() else { panic!() };
//! assert_eq!(message, Value::from("hello"));
//! let Some(Transmit::Send(reply)) = client.poll_transmit() else { panic!() };
//! server.handle_message(reply, now);
//! let Some(ServerEvent::Reply { data, .. }) = server.poll_event() else { panic!() };
//! assert_eq!(data, ReturnData::Json(Value::from("thanks")));
//! ```
#![warn(missing_docs)]

#[cfg(feature = "jpeg")]
pub mod jpeg;
pub mod json;
pub mod media;
#[cfg(feature = "reducer")]
pub mod reducer;
pub mod session;
#[cfg(feature = "session-file")]
pub mod session_file;
pub mod source;
#[cfg(feature = "zmq")]
pub mod transport;
pub mod wire;

pub use wire::{Dtype, Frame, Payload, ReturnData};
