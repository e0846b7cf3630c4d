//! `netgear record` between two netgear peers (spec/09): the relay carries
//! every message, the file holds exactly what crossed, and the recorded
//! session replays identically against the state machines.

use netgear::session_file::{replay, Direction, SessionFile};

/// On both patterns: the recording is complete, has no routing envelope,
/// and replays cleanly.
#[test]
fn the_recorder_relays_and_records_netgear_peers() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let netgear = env!("CARGO_BIN_EXE_netgear");
    let wait = |child: &mut std::process::Child, what: &str| {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > give_up {
                let _ = child.kill();
                panic!("{what} did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let dir = tempfile::tempdir().unwrap();
    for pattern in ["0", "1"] {
        let sock = |name: &str| dir.path().join(format!("{name}{pattern}"));
        let (listen, forward) = (sock("listen"), sock("forward"));
        let out = dir.path().join(format!("p{pattern}.ngs"));
        let mut recorder = Command::new(netgear)
            .args(["record", "--pattern", pattern, "--bidirectional"])
            .args(["--request-timeout", "1", "--timeout", "50"])
            .args([
                "--server-impl",
                "netgear 0.1.0",
                "--client-impl",
                "netgear 0.1.0",
            ])
            .arg("--listen")
            .arg(format!("ipc://{}:5555", listen.display()))
            .arg("--forward")
            .arg(format!("ipc://{}:5555", forward.display()))
            .arg("--out")
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(recorder.stderr.take().unwrap()).lines();
        loop {
            let line = lines
                .next()
                .expect("the recorder says it is ready")
                .unwrap();
            if line.contains("netgear record: ready") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let common = |role: &str, address: &std::path::Path| {
            let mut c = Command::new(netgear);
            c.args([role, "--pattern", pattern, "--bidirectional", "--quiet"])
                .args(["--protocol", "ipc", "--port", "5555", "--address"])
                .arg(address)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let mut receiver = common("receive", &forward)
            .args(["--return", "[1, 2.5, \"three\"]"])
            .spawn()
            .unwrap();
        let mut sender = common("send", &listen)
            .args(["--frames", "3", "--shape", "4,5,3"])
            .args(["--message", "{\"k\": NaN}"])
            .spawn()
            .unwrap();
        assert!(wait(&mut sender, "netgear send").success());
        assert!(wait(&mut receiver, "netgear receive").success());
        assert!(wait(&mut recorder, "netgear record").success());

        let file = SessionFile::read(&out).unwrap();
        assert!(file.header.complete);
        let messages: Vec<_> = file.messages().collect();
        let server: Vec<_> = messages
            .iter()
            .filter(|m| m.dir == Direction::ServerToClient)
            .collect();
        let client: Vec<_> = messages
            .iter()
            .filter(|m| m.dir == Direction::ClientToServer)
            .collect();
        assert_eq!(server.len(), 4, "3 frames and the termination");
        assert_eq!(
            client.len(),
            if pattern == "1" { 4 } else { 3 },
            "answers (and the acknowledgement on pattern 1)"
        );
        // No envelope: a frame message is exactly header and payload.
        assert!(server[..3].iter().all(|m| m.parts.len() == 2));
        assert_eq!(server[0].parts[1].len(), 4 * 5 * 3);
        assert!(server[0].parts[0].starts_with(b"{\"terminate_flag\": false"));
        assert_eq!(
            &client[0].parts[0][..],
            br#"{"return_type": "list", "data": [1, 2.5, "three"]}"#
        );
        let report = replay(&file);
        assert!(report.passed(), "{report}");
        assert_eq!(report.server.identical, 4, "{report}");
    }
}
