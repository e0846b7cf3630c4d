//! The command over tcp on loopback, the transport real deployments use
//! (the hermetic tests/cli.rs runs the same exchanges over ipc): every
//! JSON line on both sides, patterns 0 and 1, JSON and frame return data.

use std::process::Command;
use std::time::Duration;

use netgear::json::{parse, Value};
use netgear_testkit::{free_port, netgear_bin, Proc};

const RETURN: &str =
    r#"{"nan": NaN, "big": 1267650600228229401496703205376, "list": [1, -2.5e-07, null]}"#;

fn pair(pattern: &str, receive: &[&str], frames: u64) -> (Vec<Value>, Vec<Value>) {
    let port = free_port().to_string();
    let common = [
        "--pattern",
        pattern,
        "--bidirectional",
        "--json",
        "--port",
        &port,
    ];
    let mut rx = Command::new(netgear_bin());
    rx.arg("receive").args(common).args(receive);
    let mut rx = Proc::start(rx);
    rx.wait_bound(port.parse().unwrap());
    let mut tx = Command::new(netgear_bin());
    tx.arg("send")
        .args(common)
        .args(["--frames", &frames.to_string(), "--shape", "4,5,3"])
        .args(["--message", r#"{"id": 7}"#]);
    let (status, sent, err) = Proc::start(tx).finish(Duration::from_secs(60));
    assert!(status.success(), "send: {err}");
    let (status, received, err) = rx.finish(Duration::from_secs(30));
    assert!(status.success(), "receive: {err}");
    (sent, received)
}

fn check_received(received: &[Value], frames: u64) {
    assert_eq!(received.len() as u64, frames);
    for (k, line) in received.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
        assert_eq!(line.get("message"), Some(&parse(br#"{"id": 7}"#).unwrap()));
        assert_eq!(line.get("shape"), Some(&Value::from(vec![4usize, 5, 3])));
        assert_eq!(line.get("dtype").and_then(Value::as_str), Some("uint8"));
    }
}

#[test]
fn json_return_data_over_tcp_on_both_patterns() {
    for pattern in ["0", "1"] {
        let (sent, received) = pair(pattern, &["--return", RETURN], 5);
        check_received(&received, 5);
        assert_eq!(sent.len(), 5);
        for (k, line) in sent.iter().enumerate() {
            assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
            assert_eq!(line.get("reply"), Some(&parse(RETURN.as_bytes()).unwrap()));
        }
    }
}

#[test]
fn frame_return_data_over_tcp_on_both_patterns() {
    for pattern in ["0", "1"] {
        let (sent, received) = pair(pattern, &["--return-frame", "3,2"], 4);
        check_received(&received, 4);
        assert_eq!(sent.len(), 4);
        for line in &sent {
            let reply = line.get("reply").expect("a reply");
            assert_eq!(reply.get("shape"), Some(&Value::from(vec![3usize, 2])));
            assert_eq!(reply.get("dtype").and_then(Value::as_str), Some("uint8"));
        }
    }
}
