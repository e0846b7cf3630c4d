//! # netgear
//!
//! NetGear — the ZeroMQ protocol vidgear uses to stream video frames between
//! machines — in Rust, wire-compatible with vidgear 0.3.6 in both
//! directions. A server (the sender) sends frames, each with a message of
//! any JSON type; a client (the receiver) answers every frame, in
//! Bidirectional Mode with return data of its own, even a whole frame.
//!
//! ## Where to start
//!
//! * To talk to vidgear (or another netgear) over the network: the
//!   blocking adapters in [`transport::zmq`] (feature `zmq`, on by
//!   default): [`transport::zmq::Server`] sends, [`transport::zmq::Client`]
//!   receives. They mirror vidgear's `NetGear(receive_mode=...)`.
//! * To carry NetGear over something else (another socket library, an
//!   async runtime, a test harness): the sans-IO state machines in
//!   [`session`], which every transport drives. `examples/custom_transport.rs`
//!   runs them over a plain byte stream (a Unix socket; a `TcpStream` works
//!   the same way).
//! * To send JPEG or shrunk frames: [`media::Media`], applied before a frame
//!   is handed to any transport and after it is received.
//!
//! ## The layers
//!
//! Each layer uses only the ones below it; none below `transport` touches a
//! socket, a thread or a clock.
//!
//! | layer | module | what it does |
//! |---|---|---|
//! | transports | [`transport`] | move bytes and time between sockets and the machines; nothing else |
//! | media | [`media`], `jpeg`, `reducer` | frames ⇄ payloads: JPEG (simplejpeg's settings) and vidgear's shrinking |
//! | session | [`session`] | the server and client state machines of spec/05: feed `handle_*`, drain `poll_*`, time is a parameter |
//! | codec | [`wire`] | messages ⇄ the byte parts of a multipart message, byte-identical to vidgear's |
//! | JSON | [`json`] | Python's `json` dialect (NaN, Infinity, big integers), and serde for application types |
//!
//! [`source`] reads video files through ffmpeg, and `session_file` (feature
//! `session-file`) records and replays sessions.
//!
//! ## Errors are for what ends a session
//!
//! What a peer sends is never trusted and never panics: a malformed message
//! is an event ([`session::ClientEvent::Rejected`], already answered with a
//! rejection), a bad answer is an outcome ([`transport::zmq::Outcome`]), a
//! JPEG that cannot be decoded is a [`media::MediaError`] for that frame
//! alone. `Err` is kept for what ends the session (the peer gone, a socket
//! failure) or refuses a call (an invalid configuration). Every error has a
//! stable `code()`, listed in spec/08.
//!
//! ## An exchange through the state machines
//!
//! The parts are carried across by hand here; a transport would use sockets.
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
//! let Some(Transmit::Send(parts)) = server.poll_transmit() else { panic!() };
//! client.handle_message(parts, now);
//! let Some(ClientEvent::Frame(delivery)) = client.poll_event() else { panic!() };
//! assert_eq!((delivery.message, delivery.payload), (Value::from("hello"), frame.into()));
//! let Some(Transmit::Send(reply)) = client.poll_transmit() else { panic!() };
//! server.handle_message(reply, now);
//! let Some(ServerEvent::Reply { data, .. }) = server.poll_event() else { panic!() };
//! assert_eq!(data, ReturnData::Json(Value::from("thanks")));
//! ```
//!
//! ## The same over libzmq, with serde
//!
//! The two ends are two threads here; usually they are two programs
//! (`examples/send.rs` and `examples/receive.rs`).
//!
//! ```no_run
//! # #[cfg(feature = "zmq")] {
//! use netgear::session::{ClientEvent, Config};
//! use netgear::transport::zmq::{Client, ClientOptions, Server, ServerOptions};
//! use netgear::{Dtype, Frame};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Hello { camera: String, frame_no: u64 }
//!
//! let config = Config::new().bidirectional(true);
//! // The receiver binds *:5555 and answers every frame with "thanks".
//! let mut client = Client::bind(ClientOptions::new().config(config.clone()))?;
//! client.set_return("thanks")?;
//! let receiver = std::thread::spawn(move || -> Result<(), netgear::transport::zmq::Error> {
//!     // A malformed message, or one that is not a Hello, never ends the loop.
//!     while let Some(event) = client.recv()? {
//!         match event {
//!             ClientEvent::Frame(frame) => match frame.message_as::<Hello>() {
//!                 Ok(hello) => println!("frame {} from camera {}", hello.frame_no, hello.camera),
//!                 Err(e) => eprintln!("frame {}: not a Hello: {e}", frame.seq),
//!             },
//!             ClientEvent::Rejected { error } => eprintln!("a malformed message: {error}"),
//!             _ => {}
//!         }
//!     }
//!     client.close()
//! });
//! // The sender connects to localhost:5555.
//! let mut server = Server::connect(ServerOptions::new().config(config))?;
//! for frame_no in 0..10 {
//!     let frame = Frame::new(Dtype::Uint8, vec![480, 640, 3], vec![0; 480 * 640 * 3])?;
//!     let sent = server.send(frame, &Hello { camera: "A".into(), frame_no })?;
//!     println!("the client answered {:?}", sent.reply());
//! }
//! server.close()?;
//! receiver.join().expect("the receiver thread")?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
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

/// The README's Rust examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
