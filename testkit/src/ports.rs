//! Free TCP ports below 32768, so that tests never collide with the
//! kernel's ephemeral range (32768–60999 on Linux), from which connections
//! take their local ports.

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The range ports are drawn from.
const RANGE: std::ops::Range<u16> = 20000..32768;

/// A port that nothing listens on now, on either 127.0.0.1 or all
/// interfaces (vidgear binds `*`). Drawn at random, so that test
/// processes running at the same time rarely try the same one.
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let port = fastrand::u16(RANGE);
        let free = TcpListener::bind(("0.0.0.0", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
    panic!("no free port in {RANGE:?} after 1000 tries");
}

/// `n` distinct free ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut ports = Vec::with_capacity(n);
    while ports.len() < n {
        let p = free_port();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    ports
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn wait_bound(port: u16) {
    let give_up = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < give_up,
            "nothing bound port {port} within 30 s"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
