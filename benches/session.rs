//! The state machines' cost for one whole frame exchange, on in-memory
//! parts: server `send_frame` → client `handle_message` (frame event and
//! answer) → server `handle_message` (reply event). The codec runs on both
//! sides; no socket, no copy of the frame.
//!
//! ```text
//! cargo bench --bench session
//! ```

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use netgear::json::Value;
use netgear::session::{Client, ClientEvent, Config, Pattern, Server, ServerEvent, Transmit};
use netgear::{Dtype, Frame, ReturnData};

fn exchange(server: &mut Server, client: &mut Client, frame: &Frame, now: Instant) {
    server
        .send_frame(frame.clone(), Value::Null, now)
        .expect("idle");
    let Some(Transmit::Send(parts)) = server.poll_transmit() else {
        panic!("no frame")
    };
    client.handle_message(parts, now);
    let Some(ClientEvent::Frame(delivery)) = client.poll_event() else {
        panic!("no frame event")
    };
    black_box(delivery.payload);
    let Some(Transmit::Send(answer)) = client.poll_transmit() else {
        panic!("no answer")
    };
    server.handle_message(answer, now);
    match server.poll_event() {
        Some(ServerEvent::Delivered { .. } | ServerEvent::Reply { .. }) => {}
        other => panic!("{other:?}"),
    }
}

fn cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("session");
    for (label, bidirectional, pattern) in [
        ("plain-p0", false, Pattern::Pair),
        ("plain-p1", false, Pattern::ReqRep),
        ("bidirectional-p0", true, Pattern::Pair),
    ] {
        for shape in [[1usize, 1, 3], [1080, 1920, 3]] {
            let n: usize = shape.iter().product();
            let frame = Frame::new(Dtype::Uint8, shape.to_vec(), vec![3u8; n]).expect("frame");
            let config = Config::new().pattern(pattern).bidirectional(bidirectional);
            let now = Instant::now();
            let mut server = Server::new(config.clone()).expect("config");
            let mut client = Client::new(config, "ABCD1234", now).expect("config");
            if bidirectional {
                client.set_return_data(ReturnData::Json(Value::from("thanks")));
            }
            let id = format!("{label}/{}x{}x{}", shape[0], shape[1], shape[2]);
            g.bench_function(BenchmarkId::new("exchange", id), |b| {
                b.iter(|| exchange(&mut server, &mut client, &frame, now))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
