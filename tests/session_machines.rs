//! Scenario tests of the server and client machines, driven by hand with
//! explicit instants (no sockets, no clocks).

use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::json::{parse, Value};
use netgear::session::{
    Client, ClientEvent, ClientState, Config, Delivery, Pattern, SendError, Server, ServerEvent,
    ServerState, Transmit,
};
use netgear::wire::{
    decode_client_message, decode_server_message, encode_frame_message, encode_terminate,
    ClientMessage, FrameMessage, Limits, Parts, Payload, ReplyKind, ReturnData, ServerMessage,
    TERMINATE_ACK, TERMINATE_ACK_MULTISERVER,
};
use netgear::{Dtype, Frame};

const T: Duration = Duration::from_secs(4);
const DEVICE: &str = "ABCD1234";

/// `events` is exactly one frame event: `seq`, no port, `message`, `payload`.
fn assert_frame(events: &[ClientEvent], seq: u64, message: &Value, payload: &Payload) {
    let [ClientEvent::Frame(d)] = events else {
        panic!("one frame event expected: {events:?}")
    };
    assert_eq!(
        (d.seq, &d.port, &d.message, &d.payload),
        (seq, &None, message, payload)
    );
}

fn frame(n: u8) -> Frame {
    Frame::new(Dtype::Uint8, vec![2, 2], vec![n, n + 1, n + 2, n + 3]).unwrap()
}

fn sends(transmits: Vec<Transmit>) -> Vec<Parts> {
    transmits
        .into_iter()
        .map(|t| match t {
            Transmit::Send(p) => p,
            Transmit::ResetSocket => panic!("unexpected ResetSocket"),
        })
        .collect()
}

fn server_transmits(s: &mut Server) -> Vec<Transmit> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn client_transmits(c: &mut Client) -> Vec<Transmit> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

fn server_events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn client_events(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Sends `f` with `message`, carries it to the client, and the client's one
/// answer back. Returns what each side reported.
fn round_trip(
    server: &mut Server,
    client: &mut Client,
    f: Frame,
    message: Value,
    now: Instant,
) -> (Vec<ServerEvent>, Vec<ClientEvent>) {
    let seq = server.send_frame(f, message, now).unwrap();
    assert_eq!(server.state(), ServerState::AwaitingReply);
    assert_eq!(
        server.poll_timeout(),
        Some(now + server.config().request_timeout)
    );
    let out = sends(server_transmits(server));
    assert_eq!(out.len(), 1);
    client.handle_message(out.into_iter().next().unwrap(), now);
    let answers = sends(client_transmits(client));
    assert_eq!(
        answers.len(),
        1,
        "a client answers every frame exactly once"
    );
    let client_ev = client_events(client);
    server.handle_message(answers.into_iter().next().unwrap(), now);
    assert_eq!(server.state(), ServerState::Idle);
    assert_eq!(server.poll_timeout(), None);
    let server_ev = server_events(server);
    assert_eq!(server_ev.len(), 1);
    match &server_ev[0] {
        ServerEvent::Reply { seq: s, .. }
        | ServerEvent::Delivered { seq: s }
        | ServerEvent::Rejected { seq: s, .. } => {
            assert_eq!(*s, seq)
        }
        other => panic!("{other:?}"),
    }
    (server_ev, client_ev)
}

fn pair(config: Config, now: Instant) -> (Server, Client) {
    (
        Server::new(config.clone()).unwrap(),
        Client::new(config, DEVICE, now).unwrap(),
    )
}

fn json(text: &str) -> Value {
    parse(text.as_bytes()).unwrap()
}

// ---------------------------------------------------------------------------
// Bidirectional round trips
// ---------------------------------------------------------------------------

#[test]
fn bidirectional_round_trips_on_patterns_0_and_1() {
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let t0 = Instant::now();
        let config = Config::new().pattern(pattern).bidirectional(true);
        let (mut server, mut client) = pair(config, t0);

        // No return data set yet: the reply carries null.
        let (sev, cev) = round_trip(&mut server, &mut client, frame(0), json(r#"{"n": 1}"#), t0);
        assert_eq!(
            sev,
            vec![ServerEvent::Reply {
                seq: 0,
                port: None,
                data: ReturnData::Json(Value::Null)
            }]
        );
        assert_frame(&cev, 0, &json(r#"{"n": 1}"#), &Payload::Raw(frame(0)));

        // JSON return data.
        client.set_return_data(ReturnData::Json(json(r#"[1, "two", 3.5, NaN]"#)));
        let (sev, cev) = round_trip(&mut server, &mut client, frame(10), Value::from("hi"), t0);
        assert_eq!(
            sev,
            vec![ServerEvent::Reply {
                seq: 1,
                port: None,
                data: ReturnData::Json(json(r#"[1, "two", 3.5, NaN]"#))
            }]
        );
        assert!(
            matches!(&cev[..], [ClientEvent::Frame(Delivery { seq: 1, message, .. })] if *message == Value::from("hi"))
        );

        // Frame return data.
        let back = Frame::new(
            Dtype::Float32,
            vec![2],
            [1.5f32.to_le_bytes(), 2.5f32.to_le_bytes()].concat(),
        )
        .unwrap();
        client.set_return_data(ReturnData::from(back.clone()));
        let (sev, _) = round_trip(&mut server, &mut client, frame(20), Value::Null, t0);
        assert_eq!(
            sev,
            vec![ServerEvent::Reply {
                seq: 2,
                port: None,
                data: ReturnData::Frame(Payload::Raw(back))
            }]
        );
    }
}

#[test]
fn return_data_is_sticky() {
    let t0 = Instant::now();
    let config = Config::new().bidirectional(true);
    let (mut server, mut client) = pair(config, t0);
    client.set_return_data(ReturnData::Json(Value::from("first")));
    for seq in 0..3 {
        let (sev, _) = round_trip(&mut server, &mut client, frame(seq as u8), Value::Null, t0);
        assert_eq!(
            sev,
            vec![ServerEvent::Reply {
                seq,
                port: None,
                data: ReturnData::Json(Value::from("first"))
            }]
        );
    }
    client.set_return_data(ReturnData::Json(Value::from(2)));
    for seq in 3..5 {
        let (sev, _) = round_trip(&mut server, &mut client, frame(0), Value::Null, t0);
        assert_eq!(
            sev,
            vec![ServerEvent::Reply {
                seq,
                port: None,
                data: ReturnData::Json(Value::from(2))
            }]
        );
    }
}

#[test]
fn plain_mode_confirms_with_the_device_id() {
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let t0 = Instant::now();
        let (mut server, mut client) = pair(Config::new().pattern(pattern), t0);
        server
            .send_frame(frame(0), Value::from("ignored?"), t0)
            .unwrap();
        let out = sends(server_transmits(&mut server)).remove(0);
        client.handle_message(out, t0);
        let answer = sends(client_transmits(&mut client));
        assert_eq!(
            answer,
            vec![vec![Bytes::from_static(
                b"Data received on device: ABCD1234 !"
            )]]
        );
        server.handle_message(answer[0].clone(), t0);
        assert_eq!(
            server_events(&mut server),
            vec![ServerEvent::Delivered { seq: 0 }]
        );
        // The message still reaches the application.
        assert!(
            matches!(&client_events(&mut client)[..], [ClientEvent::Frame(Delivery { seq: 0, message, .. })] if *message == Value::from("ignored?"))
        );
    }
}

#[test]
fn server_refuses_a_second_frame_in_flight() {
    let t0 = Instant::now();
    let mut server = Server::new(Config::default()).unwrap();
    assert_eq!(server.send_frame(frame(0), Value::Null, t0), Ok(0));
    assert_eq!(
        server.send_frame(frame(1), Value::Null, t0),
        Err(SendError::AwaitingReply { seq: 0 })
    );
    assert_eq!(
        sends(server_transmits(&mut server)).len(),
        1,
        "the refused frame must not be sent"
    );
    server.handle_message(vec![Bytes::from_static(b"ok")], t0);
    assert_eq!(server.send_frame(frame(1), Value::Null, t0), Ok(1));
}

#[test]
fn pattern_2_publishes_without_waiting() {
    let t0 = Instant::now();
    let config = Config::new().pattern(Pattern::PubSub);
    let (mut server, mut client) = pair(config, t0);
    assert_eq!(client.poll_timeout(), None);
    for seq in 0..3 {
        assert_eq!(
            server.send_frame(frame(seq as u8), Value::from(seq), t0),
            Ok(seq)
        );
        assert_eq!(server.state(), ServerState::Idle);
        assert_eq!(server.poll_timeout(), None);
    }
    assert_eq!(
        server_events(&mut server),
        (0..3)
            .map(|seq| ServerEvent::Published { seq })
            .collect::<Vec<_>>()
    );
    let out = sends(server_transmits(&mut server));
    for parts in out {
        client.handle_message(parts, t0);
    }
    // Garbage and a termination: still nothing goes back.
    client.handle_message(vec![Bytes::from_static(b"garbage")], t0);
    client.handle_message(encode_terminate(None), t0);
    assert!(
        client_transmits(&mut client).is_empty(),
        "a pattern 2 client never transmits"
    );
    let ev = client_events(&mut client);
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert!(matches!(ev[3], ClientEvent::Rejected { .. }));
    assert_eq!(ev[4], ClientEvent::Terminated);
    // No silence handling on pattern 2.
    client.handle_timeout(t0 + T * 100);
    assert!(client_events(&mut client).is_empty());
    server.close(t0);
    assert_eq!(
        sends(server_transmits(&mut server)),
        vec![encode_terminate(None)]
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed {
            acknowledged: false
        }]
    );
}

// ---------------------------------------------------------------------------
// Termination
// ---------------------------------------------------------------------------

#[test]
fn termination_handshake_on_pattern_1() {
    let t0 = Instant::now();
    let config = Config::new().pattern(Pattern::ReqRep);
    let (mut server, mut client) = pair(config, t0);
    server.close(t0);
    assert_eq!(server.state(), ServerState::Closing);
    assert_eq!(server.poll_timeout(), Some(t0 + T / 5));
    let out = sends(server_transmits(&mut server));
    assert_eq!(
        out,
        vec![vec![Bytes::from_static(br#"{"terminate_flag": true}"#)]]
    );
    assert!(server_events(&mut server).is_empty());

    client.handle_message(out[0].clone(), t0);
    let ack = sends(client_transmits(&mut client));
    assert_eq!(
        ack,
        vec![vec![Bytes::from_static(TERMINATE_ACK.as_bytes())]]
    );
    assert_eq!(
        &ack[0][0][..],
        b"Termination signal successfully received at Client's end!"
    );
    assert_eq!(client_events(&mut client), vec![ClientEvent::Terminated]);
    assert_eq!(client.state(), ClientState::Terminated);
    assert_eq!(client.poll_timeout(), None);

    server.handle_message(ack[0].clone(), t0 + Duration::from_millis(5));
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed { acknowledged: true }]
    );
    assert_eq!(server.state(), ServerState::Closed);
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(
        server.send_frame(frame(0), Value::Null, t0),
        Err(SendError::Closed)
    );
    // Closing again is harmless.
    server.close(t0);
    assert!(server_transmits(&mut server).is_empty());
    assert!(server_events(&mut server).is_empty());
    // After the end, messages are stray.
    client.handle_message(encode_terminate(None), t0);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::Stray { parts: 1 }]
    );
    assert!(client_transmits(&mut client).is_empty());
}

#[test]
fn termination_on_pattern_0_has_no_ack() {
    let t0 = Instant::now();
    let (mut server, mut client) = pair(Config::default(), t0);
    server.close(t0);
    assert_eq!(server.state(), ServerState::Closed);
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed {
            acknowledged: false
        }]
    );
    let out = sends(server_transmits(&mut server));
    assert_eq!(out, vec![encode_terminate(None)]);
    client.handle_message(out[0].clone(), t0);
    assert!(
        client_transmits(&mut client).is_empty(),
        "no acknowledgement on pattern 0"
    );
    assert_eq!(client_events(&mut client), vec![ClientEvent::Terminated]);
}

#[test]
fn closing_times_out_after_a_fifth_of_the_request_timeout() {
    let t0 = Instant::now();
    let config = Config::new()
        .pattern(Pattern::ReqRep)
        .request_timeout(Duration::from_millis(1000));
    let mut server = Server::new(config).unwrap();
    server.close(t0);
    assert_eq!(sends(server_transmits(&mut server)).len(), 1);
    assert_eq!(server.poll_timeout(), Some(t0 + Duration::from_millis(200)));
    server.handle_timeout(t0 + Duration::from_millis(199));
    assert_eq!(server.state(), ServerState::Closing);
    assert!(server_events(&mut server).is_empty());
    server.handle_timeout(t0 + Duration::from_millis(200));
    assert_eq!(server.state(), ServerState::Closed);
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed {
            acknowledged: false
        }]
    );
    assert!(
        server_transmits(&mut server).is_empty(),
        "no reset or resend while closing"
    );
    // A late ack is stray.
    server.handle_message(
        vec![Bytes::from_static(TERMINATE_ACK.as_bytes())],
        t0 + Duration::from_millis(300),
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Stray { parts: 1 }]
    );
}

#[test]
fn close_while_awaiting_reply_abandons_the_frame() {
    let t0 = Instant::now();
    let config = Config::new().pattern(Pattern::ReqRep);
    let mut server = Server::new(config).unwrap();
    server.send_frame(frame(0), Value::Null, t0).unwrap();
    server.close(t0);
    let ev = server_events(&mut server);
    assert_eq!(ev, vec![ServerEvent::Abandoned { seq: 0 }]);
    let out = sends(server_transmits(&mut server));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1], encode_terminate(None));
    assert_eq!(server.state(), ServerState::Closing);
}

#[test]
fn frames_queued_before_a_termination_are_all_delivered() {
    let t0 = Instant::now();
    let mut client = Client::new(Config::default(), DEVICE, t0).unwrap();
    for n in 0..3u8 {
        let msg = FrameMessage {
            port: None,
            message: Value::from(n),
            pattern: "0".into(),
            payload: frame(n).into(),
        };
        client.handle_message(encode_frame_message(&msg), t0);
    }
    client.handle_message(encode_terminate(None), t0);
    let ev = client_events(&mut client);
    assert_eq!(ev.len(), 4, "{ev:?}");
    for n in 0..3 {
        assert_frame(
            &ev[n..=n],
            n as u64,
            &Value::from(n),
            &Payload::Raw(frame(n as u8)),
        );
    }
    assert_eq!(ev[3], ClientEvent::Terminated);
    assert_eq!(
        sends(client_transmits(&mut client)).len(),
        3,
        "three confirmations, no ack on pattern 0"
    );
}

// ---------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------

#[test]
fn server_retries_resend_the_same_parts() {
    let t0 = Instant::now();
    let config = Config::new()
        .pattern(Pattern::ReqRep)
        .bidirectional(true)
        .max_retries(3);
    let (mut server, mut client) = pair(config, t0);
    server.send_frame(frame(7), Value::from("m"), t0).unwrap();
    let first = sends(server_transmits(&mut server)).remove(0);

    // Just before the deadline nothing happens.
    server.handle_timeout(t0 + T - Duration::from_millis(1));
    assert!(server_transmits(&mut server).is_empty());
    assert!(server_events(&mut server).is_empty());

    server.handle_timeout(t0 + T);
    assert_eq!(
        server_transmits(&mut server),
        vec![Transmit::ResetSocket, Transmit::Send(first.clone())]
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::PeerSilent {
            seq: 0,
            retries_left: 2
        }]
    );
    assert_eq!(server.poll_timeout(), Some(t0 + T * 2));
    assert_eq!(server.state(), ServerState::AwaitingReply);

    // The resent copy is answered: budget replenished.
    client.handle_message(first.clone(), t0 + T);
    let answer = sends(client_transmits(&mut client)).remove(0);
    server.handle_message(answer, t0 + T);
    assert!(matches!(
        &server_events(&mut server)[..],
        [ServerEvent::Reply { seq: 0, .. }]
    ));

    // Next frame: two silences are tolerated again, the third gives up.
    let t1 = t0 + T * 10;
    server.send_frame(frame(8), Value::Null, t1).unwrap();
    let second = sends(server_transmits(&mut server)).remove(0);
    server.handle_timeout(t1 + T);
    assert_eq!(
        server_transmits(&mut server),
        vec![Transmit::ResetSocket, Transmit::Send(second.clone())]
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::PeerSilent {
            seq: 1,
            retries_left: 2
        }]
    );
    server.handle_timeout(t1 + T * 2);
    assert_eq!(
        server_transmits(&mut server),
        vec![Transmit::ResetSocket, Transmit::Send(second)]
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::PeerSilent {
            seq: 1,
            retries_left: 1
        }]
    );
    server.handle_timeout(t1 + T * 3);
    assert!(server_transmits(&mut server).is_empty());
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::GaveUp { seq: 1 }]
    );
    assert_eq!(server.state(), ServerState::Failed);
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(
        server.send_frame(frame(9), Value::Null, t1),
        Err(SendError::Failed)
    );
    // Closing a failed server sends nothing.
    server.close(t1 + T * 4);
    assert!(server_transmits(&mut server).is_empty());
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed {
            acknowledged: false
        }]
    );
}

#[test]
fn server_gives_up_after_max_retries_consecutive_silences() {
    for max_retries in 1..=5u32 {
        let t0 = Instant::now();
        let mut server = Server::new(Config::new().max_retries(max_retries)).unwrap();
        server.send_frame(frame(0), Value::Null, t0).unwrap();
        server_transmits(&mut server);
        for k in 1..=max_retries {
            server.handle_timeout(t0 + T * k);
            let ev = server_events(&mut server);
            if k < max_retries {
                assert_eq!(
                    ev,
                    vec![ServerEvent::PeerSilent {
                        seq: 0,
                        retries_left: max_retries - k
                    }]
                );
                assert_eq!(server_transmits(&mut server).len(), 2);
            } else {
                assert_eq!(ev, vec![ServerEvent::GaveUp { seq: 0 }]);
                assert!(server_transmits(&mut server).is_empty());
            }
        }
        assert_eq!(server.state(), ServerState::Failed);
    }
}

#[test]
fn max_retries_zero_gives_up_at_the_first_silence() {
    let t0 = Instant::now();
    let config = Config::new().max_retries(0);
    let mut server = Server::new(config.clone()).unwrap();
    server.send_frame(frame(0), Value::Null, t0).unwrap();
    server_transmits(&mut server);
    server.handle_timeout(t0 + T);
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::GaveUp { seq: 0 }]
    );
    assert!(server_transmits(&mut server).is_empty());
    assert_eq!(server.state(), ServerState::Failed);

    let mut client = Client::new(config, DEVICE, t0).unwrap();
    client.handle_timeout(t0 + T * 3);
    assert_eq!(client_events(&mut client), vec![ClientEvent::GaveUp]);
    assert!(client_transmits(&mut client).is_empty());
    assert_eq!(client.state(), ClientState::Failed);
}

#[test]
fn client_silence_resets_then_gives_up() {
    let t0 = Instant::now();
    let mut client = Client::new(Config::new().pattern(Pattern::ReqRep), DEVICE, t0).unwrap();
    assert_eq!(client.poll_timeout(), Some(t0 + T * 3));
    client.handle_timeout(t0 + T * 3 - Duration::from_millis(1));
    assert!(client_events(&mut client).is_empty());
    assert!(client_transmits(&mut client).is_empty());

    client.handle_timeout(t0 + T * 3);
    assert_eq!(client_transmits(&mut client), vec![Transmit::ResetSocket]);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::PeerSilent { retries_left: 2 }]
    );
    assert_eq!(client.poll_timeout(), Some(t0 + T * 6));

    // A frame ends the run of silences.
    let t1 = t0 + T * 4;
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "1".into(),
        payload: frame(0).into(),
    };
    client.handle_message(encode_frame_message(&msg), t1);
    assert_eq!(sends(client_transmits(&mut client)).len(), 1);
    assert_eq!(client.poll_timeout(), Some(t1 + T * 3));
    client_events(&mut client);

    for (k, left) in [(1u32, 2u32), (2, 1)] {
        client.handle_timeout(t1 + T * 3 * k);
        assert_eq!(client_transmits(&mut client), vec![Transmit::ResetSocket]);
        assert_eq!(
            client_events(&mut client),
            vec![ClientEvent::PeerSilent { retries_left: left }]
        );
    }
    client.handle_timeout(t1 + T * 9);
    assert!(client_transmits(&mut client).is_empty());
    assert_eq!(client_events(&mut client), vec![ClientEvent::GaveUp]);
    assert_eq!(client.state(), ClientState::Failed);
    assert_eq!(client.poll_timeout(), None);
    client.handle_message(encode_frame_message(&msg), t1 + T * 10);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::Stray { parts: 2 }]
    );
    assert!(client_transmits(&mut client).is_empty());
}

// ---------------------------------------------------------------------------
// Pattern 2: the subscriber timeout
// ---------------------------------------------------------------------------

fn published(n: u8) -> Parts {
    encode_frame_message(&FrameMessage {
        port: None,
        message: Value::from(u64::from(n)),
        pattern: "2".into(),
        payload: frame(n).into(),
    })
}

#[test]
fn subscriber_timeout_ends_a_silent_pattern_2_session_after_its_frames() {
    let t0 = Instant::now();
    let s = Duration::from_secs(2);
    let config = Config::new()
        .pattern(Pattern::PubSub)
        .subscriber_timeout(Some(s));
    let mut client = Client::new(config, DEVICE, t0).unwrap();
    // The timer runs from the start, as vidgear's RCVTIMEO does.
    assert_eq!(client.poll_timeout(), Some(t0 + s));
    // Every message sets it again, a malformed one too.
    let t1 = t0 + Duration::from_millis(1500);
    client.handle_message(published(0), t1);
    assert_eq!(client.poll_timeout(), Some(t1 + s));
    let t2 = t1 + Duration::from_millis(1500);
    client.handle_message(vec![Bytes::from_static(b"garbage")], t2);
    assert_eq!(client.poll_timeout(), Some(t2 + s));
    let t3 = t2 + Duration::from_millis(1999);
    client.handle_message(published(1), t3);
    let events = client_events(&mut client);
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[0], ClientEvent::Frame(d) if d.seq == 0));
    assert!(matches!(events[1], ClientEvent::Rejected { .. }));
    assert!(matches!(&events[2], ClientEvent::Frame(d) if d.seq == 1));
    // Before the deadline nothing happens.
    client.handle_timeout(t3 + s - Duration::from_millis(1));
    assert!(client_events(&mut client).is_empty());
    assert_eq!(client.state(), ClientState::Open);
    // At it the session fails: no reset, nothing sent, no retry budget.
    client.handle_timeout(t3 + s);
    assert!(
        client_transmits(&mut client).is_empty(),
        "a subscriber never transmits, not even a reset"
    );
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::PublisherSilent]
    );
    assert_eq!(client.state(), ClientState::Failed);
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(client.frames_received(), 2);
    // What comes later is not delivered.
    client.handle_message(published(2), t3 + s * 2);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::Stray { parts: 2 }]
    );
}

#[test]
fn subscriber_timeout_is_not_reached_when_the_publisher_terminates() {
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let config = Config::new()
        .pattern(Pattern::PubSub)
        .subscriber_timeout(Some(s));
    let mut client = Client::new(config, DEVICE, t0).unwrap();
    client.handle_message(published(0), t0);
    client.handle_message(encode_terminate(None), t0 + s / 2);
    let events = client_events(&mut client);
    assert!(
        matches!(
            &events[..],
            [ClientEvent::Frame(_), ClientEvent::Terminated]
        ),
        "{events:?}"
    );
    assert_eq!(client.poll_timeout(), None);
    client.handle_timeout(t0 + s * 10);
    assert!(client_events(&mut client).is_empty());
    assert_eq!(client.state(), ClientState::Terminated);
}

#[test]
fn subscriber_timeout_also_ends_a_multiserver_hub_whose_servers_all_fall_silent() {
    let t0 = Instant::now();
    let s = Duration::from_secs(3);
    let config = Config::new()
        .pattern(Pattern::PubSub)
        .multiserver(true)
        .subscriber_timeout(Some(s));
    let mut client = Client::new(config, DEVICE, t0).unwrap();
    client.handle_message(multiserver_frame("5566", 1), t0);
    client.handle_message(multiserver_frame("5567", 2), t0 + Duration::from_secs(1));
    assert_eq!(client_events(&mut client).len(), 2);
    // The whole socket's silence comes first: 5566's server deadline
    // (t0 + 3T = 12 s) is later than t0 + 1 s + S.
    assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(1) + s));
    client.handle_timeout(t0 + Duration::from_secs(1) + s);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::PublisherSilent]
    );
    assert_eq!(client.state(), ClientState::Failed);
}

#[test]
fn subscriber_timeout_is_refused_off_pattern_2_and_when_zero() {
    let one = Some(Duration::from_secs(1));
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let config = Config::new().pattern(pattern).subscriber_timeout(one);
        let err = Client::new(config, DEVICE, Instant::now()).unwrap_err();
        assert_eq!(err.code(), "config-subscriber-timeout");
    }
    let zero = Config::new()
        .pattern(Pattern::PubSub)
        .subscriber_timeout(Some(Duration::ZERO));
    assert_eq!(
        zero.validate().map_err(|e| e.code()),
        Err("config-subscriber-timeout")
    );
    // Without one, a subscriber waits for ever (vidgear's default).
    let client = Client::new(
        Config::new().pattern(Pattern::PubSub),
        DEVICE,
        Instant::now(),
    )
    .unwrap();
    assert_eq!(client.poll_timeout(), None);
}

// ---------------------------------------------------------------------------
// Malformed frames
// ---------------------------------------------------------------------------

fn bad_frame() -> Parts {
    let header = br#"{"terminate_flag": false, "compression": false, "message": null, "pattern": "1", "dtype": "uint8", "shape": [100000, 100000]}"#;
    vec![
        Bytes::from_static(header),
        Bytes::from_static(b"0123456789"),
    ]
}

#[test]
fn malformed_frame_is_answered_with_a_rejection_reply_then_the_next_frame_is_delivered() {
    let t0 = Instant::now();
    let config = Config::new().pattern(Pattern::ReqRep).bidirectional(true);
    let (mut server, mut client) = pair(config, t0);
    client.set_return_data(ReturnData::Json(Value::from("fine")));
    server.send_frame(frame(0), Value::Null, t0).unwrap();
    server_transmits(&mut server); // lost: the client gets a corrupted copy instead
    client.handle_message(bad_frame(), t0);
    let answer = sends(client_transmits(&mut client));
    assert_eq!(answer.len(), 1);
    let text = std::str::from_utf8(&answer[0][0]).unwrap();
    assert!(
        text.starts_with(r#"{"return_type": "NoneType", "data": null, "error": "size-mismatch: "#),
        "{text}"
    );
    let ev = client_events(&mut client);
    assert!(
        matches!(&ev[..], [ClientEvent::Rejected { error }] if error.code() == "size-mismatch"),
        "{ev:?}"
    );

    server.handle_message(answer[0].clone(), t0);
    let ev = server_events(&mut server);
    assert!(
        matches!(&ev[..], [ServerEvent::Rejected { seq: 0, reason }] if reason.starts_with("size-mismatch: ")),
        "{ev:?}"
    );
    assert_eq!(server.state(), ServerState::Idle);

    let (sev, cev) = round_trip(&mut server, &mut client, frame(1), Value::from("next"), t0);
    assert_eq!(
        sev,
        vec![ServerEvent::Reply {
            seq: 1,
            port: None,
            data: ReturnData::Json(Value::from("fine"))
        }]
    );
    // The rejected message did not consume a client seq.
    assert!(
        matches!(&cev[..], [ClientEvent::Frame(Delivery { seq: 0, message, .. })] if *message == Value::from("next"))
    );
}

#[test]
fn malformed_frame_in_plain_mode_gets_the_rejection_string() {
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let t0 = Instant::now();
        let (mut server, mut client) = pair(Config::new().pattern(pattern), t0);
        server.send_frame(frame(0), Value::Null, t0).unwrap();
        server_transmits(&mut server);
        client.handle_message(bad_frame(), t0);
        let answer = sends(client_transmits(&mut client));
        assert_eq!(answer.len(), 1);
        assert_eq!(answer[0].len(), 1);
        let text = std::str::from_utf8(&answer[0][0]).unwrap();
        assert!(
            text.starts_with("Frame rejected on device: ABCD1234: size-mismatch: "),
            "{text}"
        );
        assert!(!text.contains('\n'));
        server.handle_message(answer[0].clone(), t0);
        let ev = server_events(&mut server);
        assert!(
            matches!(&ev[..], [ServerEvent::Rejected { seq: 0, .. }]),
            "{ev:?}"
        );
        client_events(&mut client);

        let (sev, cev) = round_trip(&mut server, &mut client, frame(1), Value::Null, t0);
        assert_eq!(sev, vec![ServerEvent::Delivered { seq: 1 }]);
        assert!(matches!(
            &cev[..],
            [ClientEvent::Frame(Delivery { seq: 0, .. })]
        ));
    }
}

#[test]
fn rejection_texts_are_ascii_without_newlines() {
    // A header whose faulty value is non-ASCII and has a newline in it.
    let header = "{\"terminate_flag\": false, \"compression\": false, \"message\": null, \"pattern\": \"1\", \"dtype\": \"\u{e9}\\n\u{1f3a5}\", \"shape\": [1]}";
    let parts = vec![Bytes::from(header.to_owned()), Bytes::from_static(b"x")];
    assert_eq!(
        decode_server_message(&parts, &Limits::default())
            .unwrap_err()
            .code(),
        "unknown-dtype"
    );
    for bidirectional in [false, true] {
        let t0 = Instant::now();
        let mut client =
            Client::new(Config::new().bidirectional(bidirectional), DEVICE, t0).unwrap();
        client.handle_message(parts.clone(), t0);
        let answer = sends(client_transmits(&mut client)).remove(0);
        let text = std::str::from_utf8(&answer[0]).unwrap();
        let reason = if bidirectional {
            let Ok(ClientMessage::Reply(r)) =
                decode_client_message(&answer, ReplyKind::Reply, &Limits::default())
            else {
                panic!("{text}")
            };
            r.error.expect("an error reply")
        } else {
            text.strip_prefix("Frame rejected on device: ABCD1234: ")
                .expect(text)
                .to_owned()
        };
        assert!(reason.starts_with("unknown-dtype: "), "{reason}");
        assert!(
            reason.is_ascii(),
            "rejection text must be ASCII: {reason:?}"
        );
        assert!(
            !reason.contains('\n') && !reason.contains('\r'),
            "{reason:?}"
        );
    }
}

#[test]
fn undecodable_reply_is_a_bad_reply_and_ends_the_wait() {
    let t0 = Instant::now();
    let config = Config::new().bidirectional(true);
    let mut server = Server::new(config).unwrap();
    server.send_frame(frame(0), Value::Null, t0).unwrap();
    server.handle_message(vec![Bytes::from_static(b"not json")], t0);
    let ev = server_events(&mut server);
    assert!(
        matches!(&ev[..], [ServerEvent::BadReply { seq: 0, error }] if error.code() == "invalid-json"),
        "{ev:?}"
    );
    assert_eq!(server.state(), ServerState::Idle);
    // A stray late reply is reported, not attributed to a frame.
    server.handle_message(
        vec![Bytes::from_static(
            br#"{"return_type": "NoneType", "data": null}"#,
        )],
        t0,
    );
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Stray { parts: 1 }]
    );
}

// ---------------------------------------------------------------------------
// Multi-server and multi-client
// ---------------------------------------------------------------------------

fn multiserver_frame(port: &str, n: u8) -> Parts {
    encode_frame_message(&FrameMessage {
        port: Some(Value::from(port)),
        message: Value::from(n),
        pattern: "1".into(),
        payload: frame(n).into(),
    })
}

#[test]
fn multiserver_client_ends_after_the_last_server_terminates() {
    let t0 = Instant::now();
    let config = Config::new().pattern(Pattern::ReqRep).multiserver(true);
    let mut client = Client::new(config.clone(), DEVICE, t0).unwrap();

    // The server machine writes its port into its headers and termination.
    let mut server = Server::new((config).port(Value::from("5566"))).unwrap();
    server.send_frame(frame(0), Value::Null, t0).unwrap();
    let out = sends(server_transmits(&mut server)).remove(0);
    assert!(out[0].starts_with(br#"{"port": "5566", "terminate_flag": false"#));
    client.handle_message(out, t0);
    client.handle_message(multiserver_frame("5567", 1), t0);
    client.handle_message(multiserver_frame("5566", 2), t0);
    assert_eq!(sends(client_transmits(&mut client)).len(), 3);
    let ev = client_events(&mut client);
    let ports: Vec<_> = ev
        .iter()
        .map(|e| match e {
            ClientEvent::Frame(Delivery { port, .. }) => port.clone().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ports,
        vec![
            Value::from("5566"),
            Value::from("5567"),
            Value::from("5566")
        ]
    );
    assert_eq!(
        client.servers_seen(),
        &[Value::from("5566"), Value::from("5567")]
    );

    let ack = vec![Bytes::from_static(TERMINATE_ACK_MULTISERVER.as_bytes())];
    server.close(t0);
    let term = sends(server_transmits(&mut server)).remove(0);
    assert_eq!(&term[0][..], br#"{"terminate_flag": true, "port": "5566"}"#);
    client.handle_message(term, t0);
    assert_eq!(sends(client_transmits(&mut client)), vec![ack.clone()]);
    assert_eq!(
        client_events(&mut client),
        vec![ClientEvent::ServerTerminated {
            port: Value::from("5566")
        }]
    );
    assert_eq!(client.state(), ClientState::Open);
    assert_eq!(client.servers_seen(), &[Value::from("5567")]);

    // Still receiving from the other server.
    client.handle_message(multiserver_frame("5567", 3), t0);
    assert!(matches!(
        &client_events(&mut client)[..],
        [ClientEvent::Frame(Delivery { seq: 3, .. })]
    ));
    client_transmits(&mut client);

    client.handle_message(encode_terminate(Some(&Value::from("5567"))), t0);
    assert_eq!(sends(client_transmits(&mut client)), vec![ack]);
    assert_eq!(client_events(&mut client), vec![ClientEvent::Terminated]);
    assert_eq!(client.state(), ClientState::Terminated);
}

#[test]
fn multiclient_server_terminates_every_client_it_heard_from() {
    let t0 = Instant::now();
    let config = Config::new()
        .pattern(Pattern::ReqRep)
        .multiclient(true)
        .port(Value::from("9999"));
    let mut server = Server::new(config.clone()).unwrap();
    for (seq, client_port) in ["5577", "5578", "5577"].into_iter().enumerate() {
        // Each client machine writes its own port into its replies.
        let mut client =
            Client::new((config.clone()).port(Value::from(client_port)), DEVICE, t0).unwrap();
        client.set_return_data(ReturnData::Json(Value::from(seq)));
        server.send_frame(frame(0), Value::Null, t0).unwrap();
        let out = sends(server_transmits(&mut server)).remove(0);
        assert!(
            out[0].starts_with(br#"{"terminate_flag": false"#),
            "no port outside multi-server mode"
        );
        client.handle_message(out, t0);
        let reply = sends(client_transmits(&mut client)).remove(0);
        assert!(reply[0]
            .starts_with(format!(r#"{{"port": "{client_port}", "return_type": "int""#).as_bytes()));
        server.handle_message(reply, t0);
        assert_eq!(
            server_events(&mut server),
            vec![ServerEvent::Reply {
                seq: seq as u64,
                port: Some(Value::from(client_port)),
                data: ReturnData::Json(Value::from(seq))
            }]
        );
    }
    assert_eq!(
        server.clients_seen(),
        &[Value::from("5577"), Value::from("5578")]
    );

    // Run the whole closing handshake, acknowledging whatever is sent.
    server.close(t0);
    let mut terminations = 0;
    let mut guard = 0;
    loop {
        for parts in sends(server_transmits(&mut server)) {
            assert_eq!(parts, encode_terminate(None));
            terminations += 1;
        }
        if server.state() != ServerState::Closing {
            break;
        }
        server.handle_message(vec![Bytes::from_static(TERMINATE_ACK.as_bytes())], t0);
        guard += 1;
        assert!(guard < 10);
    }
    assert_eq!(terminations, 2, "one termination per client port seen");
    assert_eq!(server.state(), ServerState::Closed);
    assert_eq!(
        server_events(&mut server),
        vec![ServerEvent::Closed { acknowledged: true }]
    );
}

#[test]
fn multiclient_client_reports_its_port_in_confirmations_replies() {
    let t0 = Instant::now();
    // Multi-client mode replies with JSON even without bidirectional mode.
    let config = Config::new()
        .pattern(Pattern::ReqRep)
        .multiclient(true)
        .port(Value::from(5577));
    let mut client = Client::new(config, DEVICE, t0).unwrap();
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "1".into(),
        payload: frame(0).into(),
    };
    client.handle_message(encode_frame_message(&msg), t0);
    let reply = sends(client_transmits(&mut client)).remove(0);
    assert_eq!(
        &reply[0][..],
        br#"{"port": 5577, "return_type": "NoneType", "data": null}"#
    );
}

#[test]
fn client_answers_before_the_frame_is_seen_and_decodes_zero_copy() {
    let t0 = Instant::now();
    let mut client = Client::new(Config::new().bidirectional(true), DEVICE, t0).unwrap();
    let msg = FrameMessage {
        port: None,
        message: Value::Null,
        pattern: "0".into(),
        payload: frame(0).into(),
    };
    let parts = encode_frame_message(&msg);
    let ptr = parts[1].as_ptr();
    client.handle_message(parts, t0);
    assert_eq!(sends(client_transmits(&mut client)).len(), 1);
    let Some(ClientEvent::Frame(Delivery { payload, .. })) = client.poll_event() else {
        panic!()
    };
    assert_eq!(
        payload.bytes().as_ptr(),
        ptr,
        "the frame must share the received buffer"
    );
    let decoded = decode_server_message(&encode_frame_message(&msg), &Limits::default()).unwrap();
    assert!(matches!(decoded, ServerMessage::Frame(_)));
}
