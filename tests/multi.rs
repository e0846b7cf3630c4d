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

// ---------------------------------------------------------------------------
// The hub's bookkeeping: the same work per frame at 1 and at 64 servers, and
// bounded memory whatever ports the peers announce
// ---------------------------------------------------------------------------

/// Drives `hub` as the zmq adapter does for one message: the deadline it
/// would wait until, then the message, then everything drained. Returns the
/// entries the bookkeeping examined meanwhile.
fn one_frame(hub: &mut Client, parts: Parts, now: Instant) -> u64 {
    let before = hub.server_entries_visited();
    let _ = hub.poll_timeout();
    hub.handle_message(parts, now);
    let (out, events) = drain(hub);
    assert_eq!(out.len(), 1, "every frame is answered");
    assert!(
        matches!(events.last(), Some(ClientEvent::Frame(_))),
        "{events:?}"
    );
    let _ = hub.poll_timeout();
    hub.server_entries_visited() - before
}

/// The most entries examined for one frame, with `n` servers sending in
/// turn at 30 fps for 20 rounds (the first round, where they join, left out).
fn most_visits_per_frame(n: usize) -> u64 {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    let names: Vec<String> = (0..n).map(|i| format!("{}", 5000 + i)).collect();
    let period = Duration::from_micros(33_333) / n as u32;
    let mut most = 0;
    for round in 0..20 {
        for (i, name) in names.iter().enumerate() {
            let now = t0 + period * (round * n + i) as u32;
            let visits = one_frame(&mut hub, frame_from(name), now);
            if round > 0 {
                most = most.max(visits);
            }
        }
    }
    assert_eq!(hub.servers_seen().len(), n);
    most
}

#[test]
fn the_hub_examines_as_many_entries_per_frame_at_64_servers_as_at_2() {
    let at_1 = most_visits_per_frame(1);
    let at_2 = most_visits_per_frame(2);
    let at_64 = most_visits_per_frame(64);
    let at_1000 = most_visits_per_frame(1000);
    // A scan over the servers would examine 64 and 1000 entries per frame.
    assert!(at_1 <= at_2, "{at_1} {at_2}");
    assert_eq!((at_64, at_1000), (at_2, at_2));
    assert!(at_2 <= 12, "{at_2}");
}

#[test]
fn sixty_three_silent_servers_cost_a_few_entries_each() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    for i in 0..64 {
        hub.handle_message(frame_from(&format!("{i}")), t0 + Duration::from_millis(i));
    }
    drain(&mut hub);
    // Only server 63 goes on sending.
    let before = hub.server_entries_visited();
    hub.handle_message(frame_from("63"), t0 + 2 * T);
    drain(&mut hub);
    assert_eq!(hub.poll_timeout(), Some(t0 + 3 * T), "server 0's deadline");
    hub.handle_timeout(t0 + 3 * T + Duration::from_millis(64));
    let (out, events) = drain(&mut hub);
    assert!(out.is_empty(), "no reset");
    let silent: Vec<Value> = events
        .iter()
        .map(|e| match e {
            ClientEvent::ServerSilent { port } => port.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<Value> = (0..63).map(|i| Value::from(format!("{i}"))).collect();
    assert_eq!(silent, expected, "in the order they were last heard");
    assert_eq!(hub.silent_servers(), expected);
    assert_eq!(hub.servers_seen(), ports(&["63"]));
    let visits = hub.server_entries_visited() - before;
    assert!(visits <= 8 * 64, "{visits} entries for 63 silences");
}

#[test]
fn the_hub_tracks_at_most_1024_servers_and_delivers_every_frame() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    for i in 0..2000 {
        one_frame(&mut hub, frame_from(&format!("p{i}")), t0);
    }
    let live = hub.servers_seen();
    assert_eq!(live.len(), 1024, "the first 1024 ports");
    assert_eq!(live[1023], Value::from("p1023"));
    assert_eq!(hub.frames_received(), 2000, "none dropped");
    // Time passes; one server talks on, the others fall silent ...
    hub.handle_message(frame_from("p0"), t0 + T);
    let later = t0 + 3 * T + T / 2;
    hub.handle_timeout(later);
    drain(&mut hub);
    assert_eq!(hub.silent_servers().len(), 1023);
    // ... and new ports take the places of those silent longest.
    for i in 2000..2010 {
        one_frame(&mut hub, frame_from(&format!("p{i}")), later);
    }
    let silent = hub.silent_servers();
    assert_eq!(silent.len(), 1013);
    assert_eq!(silent[0], Value::from("p11"), "p1 .. p10 forgotten");
    assert_eq!(hub.servers_seen().len(), 11);
}

#[test]
fn a_frame_with_a_huge_port_is_delivered_but_keeps_no_server_live() {
    let t0 = Instant::now();
    let mut hub = hub_machine(Pattern::ReqRep, t0);
    let huge = "9".repeat(100_000);
    one_frame(&mut hub, frame_from(&huge), t0);
    assert!(hub.servers_seen().is_empty());
    hub.handle_message(frame_from("A"), t0);
    let (_, events) = drain(&mut hub);
    assert!(matches!(&events[..], [ClientEvent::Frame(d)] if d.seq == 1));
    assert_eq!(hub.servers_seen(), ports(&["A"]));
}
