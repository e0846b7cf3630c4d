//! Secure mode over libzmq's CURVE (spec/10): StoneHouse and IronHouse
//! between netgear's own ends, the refusals, the keys against libzmq's,
//! the Lazy-Pirate reset with CURVE. Over ipc in a temporary directory
//! (hermetic); needs the `curve` feature (`cargo test --features curve
//! --test secure`, run by `cargo test-all`). The same against vidgear over
//! tcp is conformance/tests/secure_vidgear.rs.

use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use netgear::json::Value;
use netgear::session::{ClientEvent, Config, Pattern};
use netgear::transport::zmq::keys::{KeyDir, KeyPair, PublicKey, SecretKey};
use netgear::transport::zmq::{
    curve_available, Client, ClientOptions, ClientSecurity, Error, Outcome, Protocol, Server,
    ServerOptions, ServerSecurity,
};
use netgear::{Dtype, Frame, ReturnData};
use netgear_testkit::Ipc;

const PORT: u16 = 5555;

fn config(pattern: Pattern) -> Config {
    Config::new()
        .pattern(pattern)
        .bidirectional(true)
        .request_timeout(Duration::from_millis(300))
        .max_retries(1)
}

/// A receiver that waits long enough to outlive a refused sender.
fn patient(pattern: Pattern) -> Config {
    config(pattern)
        .request_timeout(Duration::from_secs(2))
        .max_retries(10)
}

fn frame(k: u8) -> Frame {
    Frame::new(
        Dtype::Uint8,
        vec![4, 8, 3],
        (0..96).map(|i| i ^ k).collect::<Vec<u8>>(),
    )
    .unwrap()
}

fn client_options(ipc: &Ipc, config: Config) -> ClientOptions {
    ClientOptions::new()
        .protocol(Protocol::Ipc)
        .address(ipc.address())
        .port(PORT)
        .config(config)
}

fn server_options(ipc: &Ipc, config: Config) -> ServerOptions {
    ServerOptions::new()
        .protocol(Protocol::Ipc)
        .address(ipc.address())
        .port(PORT)
        .config(config)
}

/// A receiver running on its own thread (see [`receiver`]).
type Receiving = thread::JoinHandle<Result<Vec<(Value, Frame)>, Error>>;

/// Runs a receiver on its own thread: it answers every frame with
/// "thanks" and returns every frame and message it got, until the sender
/// terminates (or, with `until`, after that many frames).
fn receiver(options: ClientOptions, until: Option<usize>) -> Receiving {
    let mut client = Client::bind(options).expect("bind");
    client.set_return("thanks").unwrap();
    thread::spawn(move || {
        let mut got = Vec::new();
        while until.is_none_or(|n| got.len() < n) {
            match client.recv()? {
                None => break,
                Some(ClientEvent::Frame(delivery)) => {
                    let netgear::Payload::Raw(frame) = delivery.payload else {
                        panic!("a raw frame was sent")
                    };
                    got.push((delivery.message, frame));
                }
                Some(_) => {}
            }
        }
        client.close()?;
        Ok(got)
    })
}

/// Sends frames 0..n and checks every reply.
fn send_frames(server: &mut Server, n: u8) {
    for k in 0..n {
        let sent = server.send(frame(k), &format!("frame {k}")).unwrap();
        assert_eq!(sent.seq, u64::from(k));
        assert_eq!(
            sent.outcome,
            Outcome::Reply(ReturnData::Json(Value::from("thanks")))
        );
    }
}

fn assert_frames(got: &[(Value, Frame)], n: u8) {
    assert_eq!(got.len(), usize::from(n));
    for (k, (message, f)) in got.iter().enumerate() {
        let k = u8::try_from(k).unwrap();
        assert_eq!(*message, Value::from(format!("frame {k}")));
        assert_eq!(*f, frame(k), "every pixel of frame {k}");
    }
}

/// A whole session that must succeed: a sender with `security` connects
/// to the receiver `rx` bound over `ipc`, sends frames 0..n (checking
/// every reply) and terminates; `rx` then holds exactly those frames.
fn exchange(
    ipc: &Ipc,
    config: Config,
    security: impl Into<Option<ServerSecurity>>,
    rx: Receiving,
    n: u8,
) {
    let mut server = Server::connect(server_options(ipc, config).security(security)).unwrap();
    send_frames(&mut server, n);
    server.close().unwrap();
    assert_frames(&rx.join().unwrap().unwrap(), n);
}

#[test]
fn this_build_has_curve() {
    assert!(
        curve_available(),
        "the curve feature must give libzmq CURVE"
    );
}

#[test]
fn stonehouse_carries_frames_and_replies_both_patterns() {
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let ipc = Ipc::new();
        let (server_keys, client_keys) = (KeyPair::generate(), KeyPair::generate());
        let rx = receiver(
            client_options(&ipc, config(pattern))
                .security(ClientSecurity::stonehouse(server_keys.clone())),
            None,
        );
        let security = ServerSecurity::new(client_keys, *server_keys.public());
        exchange(&ipc, config(pattern), security, rx, 5);
    }
}

#[test]
fn ironhouse_with_keys_from_a_key_directory() {
    let ipc = Ipc::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    let rx = receiver(
        client_options(&ipc, config(Pattern::ReqRep))
            .security(ClientSecurity::ironhouse_from(&dir).unwrap()),
        None,
    );
    let security = ServerSecurity::from_dir(&dir).unwrap();
    exchange(&ipc, config(Pattern::ReqRep), security, rx, 4);
}

/// A sender that the receiver must refuse: it gives up with the retry
/// error, nothing is delivered, and the receiver, still up, then takes
/// frames from a sender it accepts.
fn refused_then_accepted(
    rx_security: Option<ClientSecurity>,
    refused: Option<ServerSecurity>,
    accepted: Option<ServerSecurity>,
) {
    for pattern in [Pattern::Pair, Pattern::ReqRep] {
        let ipc = Ipc::new();
        let rx = receiver(
            client_options(&ipc, patient(pattern)).security(rx_security.clone()),
            None,
        );
        let mut bad =
            Server::connect(server_options(&ipc, config(pattern)).security(refused.clone()))
                .unwrap();
        let err = bad.send(frame(9), "must not arrive").unwrap_err();
        assert!(
            matches!(
                err,
                Error::PeerGone {
                    seq: 0,
                    retries: 1,
                    ..
                }
            ),
            "{pattern:?}: {err}"
        );
        drop(bad);
        assert!(!rx.is_finished(), "{pattern:?}: the receiver stays up");
        // Only the accepted sender's frames arrive.
        exchange(&ipc, config(pattern), accepted.clone(), rx, 2);
    }
}

#[test]
fn ironhouse_refuses_a_client_key_not_listed() {
    let server_keys = KeyPair::generate();
    let (known, stranger) = (KeyPair::generate(), KeyPair::generate());
    refused_then_accepted(
        Some(ClientSecurity::ironhouse(
            server_keys.clone(),
            [*known.public()],
        )),
        Some(ServerSecurity::new(stranger, *server_keys.public())),
        Some(ServerSecurity::new(known, *server_keys.public())),
    );
}

#[test]
fn a_wrong_server_key_is_refused() {
    let server_keys = KeyPair::generate();
    let client_keys = KeyPair::generate();
    let impostor = *KeyPair::generate().public();
    refused_then_accepted(
        Some(ClientSecurity::stonehouse(server_keys.clone())),
        Some(ServerSecurity::new(client_keys.clone(), impostor)),
        Some(ServerSecurity::new(client_keys, *server_keys.public())),
    );
}

#[test]
fn a_plaintext_sender_gets_nothing_through_to_a_secure_receiver() {
    let server_keys = KeyPair::generate();
    refused_then_accepted(
        Some(ClientSecurity::stonehouse(server_keys.clone())),
        None,
        Some(ServerSecurity::new(
            KeyPair::generate(),
            *server_keys.public(),
        )),
    );
}

#[test]
fn a_secure_sender_sends_nothing_to_a_plaintext_receiver() {
    let server_keys = KeyPair::generate();
    refused_then_accepted(
        None,
        Some(ServerSecurity::new(
            KeyPair::generate(),
            *server_keys.public(),
        )),
        None,
    );
}

#[test]
fn the_address_list_refuses_other_peers() {
    // The peer is not at the one address allowed.
    let server_keys = KeyPair::generate();
    let client_keys = KeyPair::generate();
    let ipc = Ipc::new();
    let rx_security = ClientSecurity::stonehouse(server_keys.clone()).allow_address("192.0.2.1");
    let rx = receiver(
        client_options(&ipc, patient(Pattern::Pair)).security(rx_security),
        Some(1),
    );
    let security = ServerSecurity::new(client_keys, *server_keys.public());
    let mut bad =
        Server::connect(server_options(&ipc, config(Pattern::Pair)).security(security)).unwrap();
    assert!(matches!(
        bad.send(frame(0), "x"),
        Err(Error::PeerGone { .. })
    ));
    assert!(!rx.is_finished());
}

#[test]
fn curve_options_survive_the_lazy_pirate_reset() {
    // The sender starts first: its first frame goes unanswered, it resets
    // its socket (a fresh one, made again with the CURVE options) and
    // resends; the receiver comes up in between.
    let ipc = Ipc::new();
    let server_keys = KeyPair::generate();
    let client_keys = KeyPair::generate();
    let sender_config = config(Pattern::ReqRep)
        .request_timeout(Duration::from_millis(400))
        .max_retries(20);
    let security = ServerSecurity::new(client_keys.clone(), *server_keys.public());
    let sending = {
        let options = server_options(&ipc, sender_config.clone()).security(security);
        thread::spawn(move || {
            let mut server = Server::connect(options).unwrap();
            send_frames(&mut server, 3);
            server.close().unwrap();
        })
    };
    thread::sleep(Duration::from_millis(1000)); // at least one reset
    let rx = receiver(
        client_options(&ipc, sender_config).security(ClientSecurity::ironhouse(
            server_keys,
            [*client_keys.public()],
        )),
        None,
    );
    sending.join().unwrap();
    let got = rx.join().unwrap().unwrap();
    // A resend may deliver frame 0 twice (spec/07 §7.4); every frame is right.
    assert!(got.len() >= 3, "{} frames", got.len());
    assert_eq!(got.last().unwrap().1, frame(2));
}

#[test]
fn generated_keys_are_the_ones_libzmq_derives() {
    // libzmq's own key pairs: our X25519 derivation gives its public keys.
    for _ in 0..8 {
        let pair = zmq::CurveKeyPair::new().unwrap();
        let ours = KeyPair::from_secret(SecretKey::from_bytes(pair.secret_key));
        assert_eq!(*ours.public(), PublicKey::from_bytes(pair.public_key));
    }
    // And a pair made here works with libzmq (the exchanges above), and its
    // Z85 text is libzmq's.
    let pair = KeyPair::generate();
    assert_eq!(
        pair.public().to_string(),
        zmq::z85_encode(pair.public().as_bytes()).unwrap()
    );
}

#[test]
fn two_secure_receivers_in_one_process() {
    // Each socket has its own context, so each has its own ZAP handler.
    let (a, b) = (Ipc::new(), Ipc::new());
    let keys = KeyPair::generate();
    let rx_a = receiver(
        client_options(&a, config(Pattern::Pair))
            .security(ClientSecurity::stonehouse(keys.clone())),
        None,
    );
    let rx_b = receiver(
        client_options(&b, config(Pattern::Pair))
            .security(ClientSecurity::stonehouse(keys.clone())),
        None,
    );
    for (ipc, rx) in [(&a, rx_a), (&b, rx_b)] {
        let security = ServerSecurity::new(KeyPair::generate(), *keys.public());
        exchange(ipc, config(Pattern::Pair), security, rx, 2);
    }
}

#[test]
fn the_command_streams_in_ironhouse_with_netgear_keys() {
    let ipc = Ipc::new();
    let tmp = tempfile::tempdir().unwrap();
    let cert = tmp.path().display().to_string();
    let bin = env!("CARGO_BIN_EXE_netgear");
    let keys = Command::new(bin).args(["keys", &cert]).output().unwrap();
    assert!(keys.status.success());
    let common = |role: &str| {
        let mut c = Command::new(bin);
        c.arg(role)
            .args(ipc.cli_args(PORT))
            .args([
                "--secure-mode",
                "2",
                "--cert-dir",
                &cert,
                "--bidirectional",
                "--json",
            ])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    };
    let mut rx = common("receive");
    rx.args(["--return", "\"ok\""]);
    let mut rx = netgear_testkit::Proc::start(rx);
    rx.wait_bound_ipc(&ipc, PORT);
    let mut tx = common("send");
    tx.args(["--frames", "3", "--shape", "8,8", "--message", "{\"n\": 1}"]);
    let tx = tx.output().unwrap();
    assert!(
        tx.status.success(),
        "{}",
        String::from_utf8_lossy(&tx.stderr)
    );
    let (status, lines, stderr) = rx.finish(Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
    assert_eq!(lines.len(), 3);
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
        assert_eq!(
            line.get("message").map(Value::to_python_json).as_deref(),
            Some("{\"n\": 1}")
        );
    }
    let sent = String::from_utf8_lossy(&tx.stdout);
    assert_eq!(sent.matches("\"reply\": \"ok\"").count(), 3, "{sent}");
}

#[test]
fn a_key_file_others_can_write_stops_the_command_with_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let ipc = Ipc::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    std::fs::set_permissions(dir.server_secret(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netgear"))
        .arg("receive")
        .args(ipc.cli_args(PORT))
        .args(["--secure-mode", "1", "--cert-dir"])
        .arg(tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&dir.server_secret().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("writable by other users"), "{stderr}");
    assert!(!ipc.socket(PORT).exists(), "nothing bound");
}

#[test]
fn send_overwrite_cert_writes_a_fresh_set_before_connecting() {
    let ipc = Ipc::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    let before = netgear::transport::zmq::keys::read_pair(&dir.server_secret()).unwrap();
    // No receiver: the sender gives up, but only after writing the keys.
    let out = Command::new(env!("CARGO_BIN_EXE_netgear"))
        .arg("send")
        .args(ipc.cli_args(PORT))
        .args(["--secure-mode", "1", "--overwrite-cert", "--cert-dir"])
        .arg(tmp.path())
        .args([
            "--frames",
            "1",
            "--request-timeout",
            "0.2",
            "--max-retries",
            "0",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wrote a fresh key set"), "{stderr}");
    let after = netgear::transport::zmq::keys::read_pair(&dir.server_secret()).unwrap();
    assert_ne!(after.public(), before.public());
    // The receiving end has no such flag: vidgear's receiver never overwrites.
    let out = Command::new(env!("CARGO_BIN_EXE_netgear"))
        .args(["receive", "--secure-mode", "1", "--overwrite-cert"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
