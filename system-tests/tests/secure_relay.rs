//! The eavesdropping check (spec/10): a TCP relay between a sender and a
//! receiver records every byte of the session. In plain mode the header
//! JSON, the return data and the frame's pixel pattern are all in the
//! recording; in secure mode (StoneHouse and IronHouse) none of them is.
//! Needs the `curve` feature: `cargo test -p netgear-system-tests
//! --features curve --test secure_relay` (run by `cargo test-all`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use netgear::json::Value;
use netgear::session::{ClientEvent, Config, Pattern};
use netgear::transport::zmq::keys::KeyPair;
use netgear::transport::zmq::{
    Client, ClientOptions, ClientSecurity, Outcome, Server, ServerOptions, ServerSecurity,
};
use netgear::{Dtype, Frame, Payload, ReturnData};
use netgear_testkit::free_port;

const MARKER: &str = "eavesdropper-can-read-this-7f3a";
const RETURN_MARKER: &str = "the-receiver-answers-9c1e";

/// Bytes seen by the relay, each direction on its own.
#[derive(Default)]
struct Recording {
    to_receiver: Mutex<Vec<u8>>,
    to_sender: Mutex<Vec<u8>>,
}

/// Listens on 127.0.0.1:`front` and relays every connection to
/// 127.0.0.1:`back`, recording what passes.
fn relay(front: u16, back: u16) -> Arc<Recording> {
    let listener = TcpListener::bind(("127.0.0.1", front)).expect("relay port");
    let recording = Arc::new(Recording::default());
    let rec = recording.clone();
    thread::spawn(move || {
        for incoming in listener.incoming() {
            let Ok(downstream) = incoming else { return };
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", back)) else {
                continue;
            };
            let (a, b) = (rec.clone(), rec.clone());
            let (down2, up2) = (
                downstream.try_clone().unwrap(),
                upstream.try_clone().unwrap(),
            );
            thread::spawn(move || pump(downstream, upstream, &a.to_receiver));
            thread::spawn(move || pump(up2, down2, &b.to_sender));
        }
    });
    recording
}

fn pump(mut from: TcpStream, mut to: TcpStream, log: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A frame whose bytes no encryption would leave as they are.
fn frame(k: u8) -> Frame {
    let data: Vec<u8> = (0..48 * 64 * 3)
        .map(|i: usize| (i.wrapping_mul(7) as u8) ^ k)
        .collect();
    Frame::new(Dtype::Uint8, vec![48, 64, 3], data).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One session of 3 frames through the relay; returns what it recorded.
fn session(security: Option<(ClientSecurity, ServerSecurity)>) -> Arc<Recording> {
    let (back, front) = (free_port(), free_port());
    let config = Config::new().pattern(Pattern::ReqRep).bidirectional(true);
    let (rx_security, tx_security) = security.unzip();
    let mut client = Client::bind(
        ClientOptions::new()
            .address("127.0.0.1")
            .port(back)
            .config(config.clone())
            .security(rx_security),
    )
    .unwrap();
    client.set_return(RETURN_MARKER).unwrap();
    let receiving = thread::spawn(move || {
        let mut frames = Vec::new();
        while let Some(event) = client.recv().unwrap() {
            if let ClientEvent::Frame(d) = event {
                let Payload::Raw(f) = d.payload else {
                    panic!("raw frames were sent")
                };
                frames.push((d.message, f));
            }
        }
        frames
    });
    let recording = relay(front, back);
    let mut server = Server::connect(
        ServerOptions::new()
            .address("127.0.0.1")
            .port(front)
            .config(config)
            .security(tx_security),
    )
    .unwrap();
    for k in 0..3 {
        let sent = server.send(frame(k), &format!("{MARKER} {k}")).unwrap();
        assert_eq!(
            sent.outcome,
            Outcome::Reply(ReturnData::Json(Value::from(RETURN_MARKER)))
        );
    }
    server.close().unwrap();
    let frames = receiving.join().unwrap();
    assert_eq!(frames.len(), 3);
    for (k, (message, f)) in frames.iter().enumerate() {
        let k = u8::try_from(k).unwrap();
        assert_eq!(*message, Value::from(format!("{MARKER} {k}")));
        assert_eq!(*f, frame(k), "every pixel arrives");
    }
    recording
}

/// Checks that the 3 frames did cross the relay (encrypted or not), and
/// that an eavesdropper could read all of the session (`all`) or none of
/// it.
fn assert_readable(recording: &Recording, all: bool) {
    assert!(recording.to_receiver.lock().unwrap().len() > 3 * 48 * 64 * 3);
    assert_eq!(
        readable(recording),
        [all; 4],
        "message, header, pixels, return data"
    );
}

/// What an eavesdropper could read in a recording.
fn readable(recording: &Recording) -> [bool; 4] {
    let to_receiver = recording.to_receiver.lock().unwrap();
    let to_sender = recording.to_sender.lock().unwrap();
    let pixels = frame(1).data().slice(1000..1064);
    [
        contains(&to_receiver, MARKER.as_bytes()),
        contains(&to_receiver, b"\"dtype\""),
        contains(&to_receiver, &pixels),
        contains(&to_sender, RETURN_MARKER.as_bytes()),
    ]
}

#[test]
fn plain_mode_shows_everything_to_an_eavesdropper() {
    assert_readable(&session(None), true);
}

#[test]
fn stonehouse_shows_an_eavesdropper_nothing() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let recording = session(Some((
        ClientSecurity::stonehouse(server.clone()),
        ServerSecurity::new(client, *server.public()),
    )));
    // The frames did cross the relay, encrypted.
    assert_readable(&recording, false);
}

#[test]
fn ironhouse_shows_an_eavesdropper_nothing() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let recording = session(Some((
        ClientSecurity::ironhouse(server.clone(), [*client.public()]),
        ServerSecurity::new(client, *server.public()),
    )));
    assert_readable(&recording, false);
}
