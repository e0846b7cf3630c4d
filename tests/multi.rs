//! Multi-Server mode in the client machine (spec/06 §6.2–6.3, 05 §5.4.4):
//! one server silent while others talk. The same with processes, and the
//! multi-mode cells against vidgear, are conformance/tests/multi_live.rs.

use std::time::{Duration, Instant};

use netgear::json::Value;
use netgear::session::{Client, ClientEvent, ClientState, Config, Delivery, Pattern, Transmit};
use netgear::wire::{encode_frame_message, encode_terminate, FrameMessage, Parts};
use netgear::{Dtype, Frame};

// ---------------------------------------------------------------------------
// The client machine: one server silent while others talk
// ---------------------------------------------------------------------------

const T: Duration = Duration::from_secs(1);

fn hub_machine(pattern: Pattern, t0: Instant) -> Client {
    let config = Config::new()
        .pattern(pattern)
        .multiserver(true)
        .request_timeout(T);
    Client::new(config, "ABCD1234", t0).unwrap()
}

fn frame_from(port: &str) -> Parts {
    encode_frame_message(&FrameMessage {
        port: Some(Value::from(port)),
        message: Value::Null,
        pattern: "1".into(),
        payload: Frame::new(Dtype::Uint8, vec![1], vec![7]).unwrap().into(),
    })
}

fn drain(c: &mut Client) -> (Vec<Transmit>, Vec<ClientEvent>) {
    (
        std::iter::from_fn(|| c.poll_transmit()).collect(),
        std::iter::from_fn(|| c.poll_event()).collect(),
    )
}

fn ports(list: &[&str]) -> Vec<Value> {
    list.iter().map(|p| Value::from(*p)).collect()
}

#[test]
fn a_silent_server_is_reported_without_a_reset_and_rejoins() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    hub.handle_message(frame_from("A"), t0);
    hub.handle_message(frame_from("B"), t0);
    drain(&mut hub);
    // Heard at the same instant: neither is behind the other; only the
    // whole-socket deadline runs.
    assert_eq!(hub.poll_timeout(), Some(t0 + 3 * T));
    hub.handle_message(frame_from("B"), t0 + T);
    drain(&mut hub);
    // A is behind B: its own deadline comes first.
    assert_eq!(hub.poll_timeout(), Some(t0 + 3 * T));
    hub.handle_timeout(t0 + 3 * T - Duration::from_millis(1));
    assert_eq!(drain(&mut hub), (vec![], vec![]));
    hub.handle_timeout(t0 + 3 * T);
    assert_eq!(
        drain(&mut hub),
        (
            vec![],
            vec![ClientEvent::ServerSilent {
                port: Value::from("A")
            }]
        ),
        "reported, with no socket reset"
    );
    assert_eq!(hub.servers_seen(), ports(&["B"]));
    assert_eq!(hub.silent_servers(), ports(&["A"]));
    assert_eq!(hub.poll_timeout(), Some(t0 + 4 * T), "B's whole deadline");
    // B keeps talking; A is not reported again.
    hub.handle_message(frame_from("B"), t0 + 3 * T);
    hub.handle_timeout(t0 + 5 * T);
    let (_, events) = drain(&mut hub);
    assert!(
        matches!(&events[..], [ClientEvent::Frame(Delivery { .. })]),
        "{events:?}"
    );
    // A comes back: reported before its frame, live again.
    hub.handle_message(frame_from("A"), t0 + 5 * T);
    let (out, events) = drain(&mut hub);
    assert_eq!(out.len(), 1, "the frame is answered");
    assert_eq!(
        events[0],
        ClientEvent::ServerResumed {
            port: Value::from("A")
        }
    );
    assert!(matches!(&events[1], ClientEvent::Frame(d) if d.port == Some(Value::from("A"))));
    assert_eq!(hub.servers_seen(), ports(&["B", "A"]));
    assert!(hub.silent_servers().is_empty());
    assert_eq!(hub.state(), ClientState::Open);
}

#[test]
fn total_silence_still_resets_the_socket() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    hub.handle_message(frame_from("A"), t0);
    hub.handle_message(frame_from("B"), t0 + T);
    drain(&mut hub);
    // Too late for A alone: the whole socket has been silent for 3T.
    hub.handle_timeout(t0 + 5 * T);
    let (out, events) = drain(&mut hub);
    assert_eq!(out, vec![Transmit::ResetSocket]);
    assert_eq!(events, vec![ClientEvent::PeerSilent { retries_left: 2 }]);
    assert_eq!(hub.servers_seen(), ports(&["A", "B"]));
}

#[test]
fn a_silent_server_does_not_keep_the_hub_open() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    hub.handle_message(frame_from("A"), t0);
    hub.handle_message(frame_from("B"), t0 + 2 * T);
    hub.handle_timeout(t0 + 3 * T);
    drain(&mut hub);
    assert_eq!(hub.silent_servers(), ports(&["A"]));
    hub.handle_message(encode_terminate(Some(&Value::from("B"))), t0 + 3 * T);
    let (out, events) = drain(&mut hub);
    assert_eq!(out.len(), 1, "acknowledged");
    assert_eq!(events, vec![ClientEvent::Terminated]);
    assert_eq!(hub.poll_timeout(), None);
}

#[test]
fn pattern2_hub_reports_silent_servers_but_never_the_last_one() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::PubSub, t0);
    assert_eq!(hub.poll_timeout(), None);
    hub.handle_message(frame_from("A"), t0);
    assert_eq!(hub.poll_timeout(), None, "one server: nothing to compare");
    hub.handle_message(frame_from("B"), t0 + T);
    assert_eq!(hub.poll_timeout(), Some(t0 + 3 * T));
    hub.handle_timeout(t0 + 3 * T);
    let (out, events) = drain(&mut hub);
    assert!(out.is_empty());
    assert_eq!(
        events.last(),
        Some(&ClientEvent::ServerSilent {
            port: Value::from("A")
        })
    );
    // B is the last server heard: its silence is nobody's business on
    // pattern 2 (no subscriber timeout).
    assert_eq!(hub.poll_timeout(), None);
    hub.handle_timeout(t0 + 100 * T);
    assert_eq!(drain(&mut hub), (vec![], vec![]));
}
