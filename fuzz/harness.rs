//! The `decode` fuzz harness, shared by the fuzz target
//! (fuzz/fuzz_targets/decode.rs) and the regression test
//! (tests/fuzz_regressions.rs), which include this file by path.
//!
//! Input layout: byte 0 selects the number of parts (low 3 bits, mod 5) and
//! the session configuration (high 5 bits); every part but the last is
//! prefixed by its length as a little-endian u16 (clamped to what is left);
//! the last part is the rest of the input.

use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::json::{self, Value};
use netgear::session::{Client, ClientEvent, Config, Pattern, Server, ServerEvent, Transmit};
use netgear::wire::{
    byte_size, decode_client_message, decode_server_message, ClientMessage, Limits, Payload,
    ReplyKind, ReturnData, ServerMessage,
};
use netgear::{Dtype, Frame};

/// Splits fuzz input into the configuration selector and 0–4 parts.
pub fn split(data: &[u8]) -> (u8, Vec<Bytes>) {
    let Some((&selector, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let count = usize::from(selector & 7) % 5;
    let mut parts = Vec::with_capacity(count);
    for k in 0..count {
        if k + 1 == count {
            parts.push(Bytes::copy_from_slice(rest));
            break;
        }
        let len = match rest {
            [a, b, tail @ ..] => {
                rest = tail;
                usize::from(u16::from_le_bytes([*a, *b])).min(rest.len())
            }
            _ => {
                rest = &[];
                0
            }
        };
        parts.push(Bytes::copy_from_slice(&rest[..len]));
        rest = &rest[len..];
    }
    (selector >> 3, parts)
}

/// The inverse of [`split`]: input bytes that split into `parts` with
/// configuration `config` (0–31). Parts but the last must be < 64 KiB.
/// (Used by the seed generator in tests/fuzz_regressions.rs.)
#[allow(dead_code)]
pub fn join(config: u8, parts: &[&[u8]]) -> Vec<u8> {
    assert!(parts.len() <= 4 && config < 32);
    let mut out = vec![(config << 3) | parts.len() as u8];
    for (k, part) in parts.iter().enumerate() {
        if k + 1 < parts.len() {
            let len = u16::try_from(part.len()).expect("part under 64 KiB");
            out.extend_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(part);
    }
    out
}

/// Every valid combination of pattern and modes (spec/01), the selector
/// taking it modulo the length.
pub fn configs() -> Vec<Config> {
    let mut all = Vec::new();
    for pattern in [Pattern::Pair, Pattern::ReqRep, Pattern::PubSub] {
        for bidirectional in [false, true] {
            for (multiserver, multiclient) in [(false, false), (true, false), (false, true)] {
                let config = Config::new()
                    .pattern(pattern)
                    .bidirectional(bidirectional)
                    .multiserver(multiserver)
                    .multiclient(multiclient)
                    .max_retries(2)
                    .request_timeout(Duration::from_secs(1))
                    .port(Value::from("5577"))
                    .limits(Limits::default());
                if config.validate().is_ok() {
                    all.push(config);
                }
            }
        }
    }
    all
}

fn check_payload(payload: &Payload) {
    if let Payload::Raw(frame) = payload {
        let size = byte_size(frame.dtype(), frame.shape()).expect("a decoded shape has a size");
        assert_eq!(
            frame.data().len() as u64,
            size,
            "payload length of {:?} {:?}",
            frame.dtype(),
            frame.shape()
        );
    }
}

fn check_return_data(data: &ReturnData) {
    if let ReturnData::Frame(payload) = data {
        check_payload(payload);
    }
}

fn check_json(part: &[u8]) {
    if let Ok(v) = json::parse(part) {
        // What we write, we read back, and write again identically.
        let text = v.to_python_json();
        let again = json::parse(text.as_bytes())
            .unwrap_or_else(|e| panic!("re-parsing our own output {text:?}: {e}"));
        assert_eq!(again.to_python_json(), text, "writing is stable");
        let _ = v.to_serde();
    }
    let _ = json::parse_with_depth(part, 4);
}

fn drain_client(client: &mut Client) {
    while let Some(t) = client.poll_transmit() {
        if let Transmit::Send(parts) = t {
            assert!(!parts.is_empty(), "a client never sends an empty message");
        }
    }
    while let Some(event) = client.poll_event() {
        if let ClientEvent::Frame(delivery) = &event {
            check_payload(&delivery.payload);
        }
    }
}

fn drain_server(server: &mut Server) {
    while let Some(t) = server.poll_transmit() {
        if let Transmit::Send(parts) = t {
            assert!(!parts.is_empty(), "a server never sends an empty message");
        }
    }
    while let Some(event) = server.poll_event() {
        if let ServerEvent::Reply { data, .. } = &event {
            check_return_data(data);
        }
    }
}

/// Feeds one fuzz input through the decoders, the JSON parser and both
/// state machines. Panics on any violated property.
pub fn run(data: &[u8]) {
    let (selector, parts) = split(data);
    let limits = Limits::default();

    match decode_server_message(&parts, &limits) {
        Ok(ServerMessage::Frame(frame)) => check_payload(&frame.payload),
        Ok(ServerMessage::Terminate { .. }) => {}
        Err(e) => {
            let _ = (e.code(), e.to_string());
        }
    }
    for kind in [
        ReplyKind::Reply,
        ReplyKind::Confirmation,
        ReplyKind::TerminateAck,
    ] {
        match decode_client_message(&parts, kind, &limits) {
            Ok(ClientMessage::Reply(reply)) => check_return_data(&reply.data),
            Ok(_) => {}
            Err(e) => {
                let _ = (e.code(), e.to_string());
            }
        }
    }
    // Tight limits: the size and depth checks come first.
    let tight = Limits::default().max_message_bytes(64).max_json_depth(3);
    if let Ok(ServerMessage::Frame(frame)) = decode_server_message(&parts, &tight) {
        check_payload(&frame.payload);
    }
    if let Ok(ClientMessage::Reply(reply)) = decode_client_message(&parts, ReplyKind::Reply, &tight)
    {
        check_return_data(&reply.data);
    }
    for part in &parts {
        check_json(part);
    }

    let configs = configs();
    let config = configs[usize::from(selector) % configs.len()].clone();
    let t0 = Instant::now();

    // The client: the message twice (a termination makes the second one
    // stray), then its deadlines.
    let mut client = Client::new(config.clone(), "FUZZ0001", t0).expect("valid config");
    client.set_return_data(ReturnData::Json(Value::from("ok")));
    client.handle_message(parts.clone(), t0);
    drain_client(&mut client);
    client.handle_message(parts.clone(), t0 + Duration::from_millis(1));
    drain_client(&mut client);
    for k in 1..=3 {
        client.handle_timeout(t0 + Duration::from_secs(4 * k));
        drain_client(&mut client);
    }

    // A sequence: the parts two by two as successive messages (a frame and
    // a termination from a multi-server peer, say).
    let mut client = Client::new(config.clone(), "FUZZ0002", t0).expect("valid config");
    for (k, message) in parts.chunks(2).enumerate() {
        client.handle_message(message.to_vec(), t0 + Duration::from_millis(k as u64));
        drain_client(&mut client);
    }
    client.handle_timeout(t0 + Duration::from_secs(3));
    drain_client(&mut client);

    // The server: the message as the answer to a frame, then as a stray,
    // then as the answer to the termination.
    let mut server = Server::new(config.clone()).expect("valid config");
    let frame = Frame::new(Dtype::Uint8, vec![2, 2], vec![1, 2, 3, 4]).expect("frame");
    let _ = server.send_frame(frame, Value::Null, t0);
    drain_server(&mut server);
    server.handle_message(parts.clone(), t0);
    drain_server(&mut server);
    server.handle_message(parts.clone(), t0);
    drain_server(&mut server);
    server.close(t0);
    drain_server(&mut server);
    server.handle_message(parts.clone(), t0);
    drain_server(&mut server);
    server.handle_timeout(t0 + Duration::from_secs(10));
    drain_server(&mut server);

    // Successive answers, each to a frame of its own; then a silence.
    let mut server = Server::new(config).expect("valid config");
    for message in parts.chunks(2) {
        let frame = Frame::new(Dtype::Uint16, vec![1], vec![0, 1]).expect("frame");
        let _ = server.send_frame(frame, Value::from(1), t0);
        drain_server(&mut server);
        server.handle_message(message.to_vec(), t0);
        drain_server(&mut server);
    }
    let frame = Frame::new(Dtype::Bool, vec![0], Vec::new()).expect("frame");
    let _ = server.send_frame(frame, Value::Null, t0);
    for k in 1..=3 {
        server.handle_timeout(t0 + Duration::from_secs(k));
        drain_server(&mut server);
    }
    server.close(t0 + Duration::from_secs(4));
    drain_server(&mut server);
}
