//! The ZAP handler (ZeroMQ RFC 27) of a secure binding end: who may
//! connect (spec/10 §10.4).
//!
//! libzmq asks the handler bound at `inproc://zeromq.zap.01` in the
//! socket's own context about every CURVE client that completes the
//! handshake, and lets it in only on a `200` answer. The handler is a
//! thread with a REP socket there; it stops when told to on a second
//! inproc socket (it holds a socket of the context, so the context cannot
//! end while it runs).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use super::keys::PublicKey;

/// Where libzmq sends ZAP requests (RFC 27).
const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// Who is let in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// IronHouse: only these client keys. `None` (StoneHouse): any key.
    pub(crate) keys: Option<BTreeSet<PublicKey>>,
    /// Only peers at these addresses (IP text as libzmq gives it); empty:
    /// any address.
    pub(crate) addresses: BTreeSet<String>,
}

/// What the handler decided about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `200`: let the client in, with its key as the user id.
    Allow(PublicKey),
    /// `400`: refused, for this reason.
    Deny(&'static str),
    /// `500`: the request itself is broken.
    Malformed,
}

impl Policy {
    /// Decides about one ZAP request: version, request id, domain,
    /// address, routing id, mechanism, credentials (RFC 27).
    pub(crate) fn decide(&self, request: &[Vec<u8>]) -> Verdict {
        if request.len() < 6 || request[0] != b"1.0" {
            return Verdict::Malformed;
        }
        let address = String::from_utf8_lossy(&request[3]);
        if !self.addresses.is_empty() && !self.addresses.contains(address.as_ref()) {
            return Verdict::Deny("address not allowed");
        }
        if request[5] != b"CURVE" {
            return Verdict::Deny("secure mode takes CURVE only");
        }
        let Some(key) = request
            .get(6)
            .and_then(|k| <[u8; 32]>::try_from(&k[..]).ok())
        else {
            return Verdict::Malformed;
        };
        let key = PublicKey::from_bytes(key);
        match &self.keys {
            Some(allowed) if !allowed.contains(&key) => Verdict::Deny("client key not allowed"),
            _ => Verdict::Allow(key),
        }
    }

    /// The reply to `request`: version, request id, status code, status
    /// text, user id, metadata (RFC 27). The verdict is logged.
    pub(crate) fn answer(&self, request: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let verdict = self.decide(request);
        let address = request
            .get(3)
            .map(|a| String::from_utf8_lossy(a).into_owned());
        let (code, text, user): (&str, &str, String) = match &verdict {
            Verdict::Allow(key) => {
                tracing::info!(?address, client_key = %key, "secure mode: client let in");
                ("200", "OK", key.to_string())
            }
            Verdict::Deny(why) => {
                let key = request
                    .get(6)
                    .and_then(|k| <[u8; 32]>::try_from(&k[..]).ok())
                    .map(|k| PublicKey::from_bytes(k).to_string());
                tracing::warn!(?address, client_key = ?key, reason = why, "secure mode: client refused");
                ("400", why, String::new())
            }
            Verdict::Malformed => {
                tracing::warn!("secure mode: malformed ZAP request refused");
                ("500", "malformed ZAP request", String::new())
            }
        };
        vec![
            b"1.0".to_vec(),
            request.get(1).cloned().unwrap_or_default(),
            code.into(),
            text.into(),
            user.into_bytes(),
            Vec::new(),
        ]
    }
}

/// A running handler; dropping it stops the thread and waits for it.
pub(crate) struct ZapHandler {
    stop: zmq::Socket,
    thread: Option<JoinHandle<()>>,
}

impl ZapHandler {
    /// Binds the ZAP endpoint in `context` (before any secure socket of it
    /// binds) and starts answering with `policy`.
    pub(crate) fn start(context: &zmq::Context, policy: Policy) -> zmq::Result<ZapHandler> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let handler = context.socket(zmq::REP)?;
        handler.set_linger(0)?;
        handler.bind(ZAP_ENDPOINT)?;
        let control = format!(
            "inproc://netgear-zap-stop-{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let stop_rx = context.socket(zmq::PAIR)?;
        stop_rx.set_linger(0)?;
        stop_rx.bind(&control)?;
        let stop = context.socket(zmq::PAIR)?;
        stop.set_linger(0)?;
        stop.connect(&control)?;
        let thread = std::thread::Builder::new()
            .name("netgear-zap".into())
            .spawn(move || serve(&handler, &stop_rx, &policy))
            .map_err(|_| zmq::Error::ENOMEM)?;
        Ok(ZapHandler {
            stop,
            thread: Some(thread),
        })
    }
}

/// Answers requests until told to stop (or the context ends).
fn serve(handler: &zmq::Socket, stop: &zmq::Socket, policy: &Policy) {
    loop {
        let (request, stopping) = {
            let mut items = [
                handler.as_poll_item(zmq::POLLIN),
                stop.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, -1) {
                Ok(_) => {}
                Err(zmq::Error::EINTR) => continue,
                Err(_) => return,
            }
            (items[0].is_readable(), items[1].is_readable())
        };
        if stopping {
            return;
        }
        if !request {
            continue;
        }
        let request = match handler.recv_multipart(zmq::DONTWAIT) {
            Ok(request) => request,
            Err(zmq::Error::EAGAIN | zmq::Error::EINTR) => continue,
            Err(_) => return,
        };
        if handler.send_multipart(policy.answer(&request), 0).is_err() {
            return;
        }
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        // A failed send means the thread is gone already.
        let _ = self.stop.send(&b""[..], 0);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(address: &str, mechanism: &str, key: Option<[u8; 32]>) -> Vec<Vec<u8>> {
        let mut r = vec![
            b"1.0".to_vec(),
            b"7".to_vec(),
            b"netgear".to_vec(),
            address.as_bytes().to_vec(),
            Vec::new(),
            mechanism.as_bytes().to_vec(),
        ];
        r.extend(key.map(|k| k.to_vec()));
        r
    }

    #[test]
    fn stonehouse_lets_any_curve_key_in() {
        let policy = Policy::default();
        let verdict = policy.decide(&request("10.1.2.3", "CURVE", Some([5; 32])));
        assert_eq!(verdict, Verdict::Allow(PublicKey::from_bytes([5; 32])));
    }

    #[test]
    fn ironhouse_lets_in_only_listed_keys() {
        let policy = Policy {
            keys: Some([PublicKey::from_bytes([1; 32])].into()),
            ..Policy::default()
        };
        assert_eq!(
            policy.decide(&request("127.0.0.1", "CURVE", Some([1; 32]))),
            Verdict::Allow(PublicKey::from_bytes([1; 32]))
        );
        assert_eq!(
            policy.decide(&request("127.0.0.1", "CURVE", Some([2; 32]))),
            Verdict::Deny("client key not allowed")
        );
    }

    #[test]
    fn the_address_list_refuses_other_addresses() {
        let policy = Policy {
            addresses: ["127.0.0.1".to_owned()].into(),
            ..Policy::default()
        };
        assert!(matches!(
            policy.decide(&request("127.0.0.1", "CURVE", Some([1; 32]))),
            Verdict::Allow(_)
        ));
        assert_eq!(
            policy.decide(&request("127.0.0.2", "CURVE", Some([1; 32]))),
            Verdict::Deny("address not allowed")
        );
    }

    #[test]
    fn other_mechanisms_and_broken_requests_are_refused() {
        let policy = Policy::default();
        assert_eq!(
            policy.decide(&request("", "NULL", None)),
            Verdict::Deny("secure mode takes CURVE only")
        );
        assert_eq!(
            policy.decide(&request("", "CURVE", None)),
            Verdict::Malformed
        );
        assert_eq!(policy.decide(&[b"1.0".to_vec()]), Verdict::Malformed);
        let mut wrong_version = request("", "CURVE", Some([1; 32]));
        wrong_version[0] = b"2.0".to_vec();
        assert_eq!(policy.decide(&wrong_version), Verdict::Malformed);
    }

    #[test]
    fn replies_carry_the_request_id_code_and_user_id() {
        let policy = Policy::default();
        let reply = policy.answer(&request("", "CURVE", Some([0; 32])));
        let user = PublicKey::from_bytes([0; 32]).to_string();
        assert_eq!(
            reply,
            [&b"1.0"[..], b"7", b"200", b"OK", user.as_bytes(), b""]
        );
        let reply = policy.answer(&[]);
        assert_eq!(
            reply,
            [&b"1.0"[..], b"", b"500", b"malformed ZAP request", b"", b""]
        );
    }
}
