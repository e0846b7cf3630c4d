//! Free TCP ports below 32768, so that tests never collide with the
//! kernel's ephemeral range (32768–60999 on Linux), from which connections
//! take their local ports.

use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// The range ports are drawn from.
const RANGE: std::ops::Range<u16> = 20000..32768;

/// The ports this process has handed out: a port is free only until its
/// test binds it, so one process never hands out the same port twice
/// (two draws of one cell, or two cells running at the same time).
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port that nothing listens on now, on either 127.0.0.1 or all
/// interfaces (vidgear binds `*`), and that this process has not handed
/// out before. Drawn at random, so that test processes running at the
/// same time rarely try the same one.
pub fn free_port() -> u16 {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let port = fastrand::u16(RANGE);
        let free = !handed_out.contains(&port)
            && TcpListener::bind(("0.0.0.0", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("no free port in {RANGE:?} after 1000 tries");
}

/// `n` distinct free ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_never_hands_out_the_same_port_twice() {
        let ports = free_ports(2000);
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
        assert!(ports.iter().all(|p| RANGE.contains(p)));
    }
}
