//! Replays every recorded vidgear session in conformance/sessions/ against
//! netgear's client and server state machines (spec/09-session-files.md
//! §9.5), and checks that the corpus covers every mode, JPEG colorspace,
//! return type and message kind, the termination handshake of both
//! patterns and a client restart on both.
//! Re-record the corpus with `python3 conformance/record-all.py`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bytes::Bytes;
use netgear::session_file::{replay, Change, Direction, Part, SessionFile, Side, What};
use netgear::wire::{decode_server_message, Limits, ServerMessage, CONFIRMATION_PREFIX};

fn corpus() -> Vec<(String, SessionFile)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sessions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ngs"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let file = SessionFile::read(&p).unwrap_or_else(|e| panic!("{e}"));
            (name, file)
        })
        .collect()
}

fn load(name: &str) -> SessionFile {
    corpus()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no session {name}"))
        .1
}

#[test]
fn every_recorded_session_replays() {
    let sessions = corpus();
    let mut failed = Vec::new();
    let mut all = String::new();
    for (name, file) in &sessions {
        assert_eq!(&file.header.name, name, "the header names the file");
        let report = replay(file);
        all.push_str(&report.to_string());
        if !report.passed() {
            failed.push(name.clone());
        }
        // Something was actually compared on both machines.
        assert!(report.server.compared > 0, "{report}");
        assert!(report.client.fed > 0, "{report}");
    }
    println!("{all}");
    assert!(
        failed.is_empty(),
        "{} of {} sessions differ: {failed:?}\n\n{all}",
        failed.len(),
        sessions.len()
    );
}

#[test]
fn every_recorded_session_is_a_complete_vidgear_0_3_6_session() {
    let sessions = corpus();
    assert!(
        sessions.len() >= 20,
        "only {} sessions recorded",
        sessions.len()
    );
    for (name, file) in &sessions {
        let h = &file.header;
        assert!(
            h.complete,
            "{name}: recorded without a termination handshake"
        );
        for peer in [&h.server, &h.client] {
            assert_eq!(
                (peer.implementation.as_str(), peer.version.as_str()),
                ("vidgear", "0.3.6"),
                "{name}"
            );
        }
    }
}

#[test]
fn the_corpus_covers_every_mode_colorspace_return_type_termination_and_restart() {
    let mut have = BTreeSet::new();
    for (name, file) in &corpus() {
        mode_features(file, &mut have);
        assert!(
            message_features(file, &mut have),
            "{name}: no termination message"
        );
        restart_features(file, &mut have);
    }
    let want = [
        "plain p0",
        "plain p1",
        "multi-server",
        "multi-client",
        "jpeg BGR from the server",
        "jpeg RGB from the server",
        "jpeg GRAY from the server",
        "jpeg BGR from the client",
        "jpeg RGB from the client",
        "jpeg GRAY from the client",
        "termination p0",
        "termination p1",
        "termination acknowledged p1",
        "client restarted p0",
        "client restarted p1",
        "return str",
        "return int",
        "return float",
        "return list",
        "return tuple",
        "return dict",
        "return bool",
        "return NoneType",
        "return ndarray",
        "message NaN/Infinity",
        "message unicode",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !have.contains(*w))
        .collect();
    assert!(
        missing.is_empty(),
        "the corpus lacks {missing:?}; it has {have:?}"
    );
}

/// The modes and JPEG settings the header names.
fn mode_features(file: &SessionFile, have: &mut BTreeSet<String>) {
    let h = &file.header;
    if !h.bidirectional && !h.multiserver && !h.multiclient {
        have.insert(format!("plain p{}", h.pattern));
    }
    if h.multiserver {
        have.insert("multi-server".to_owned());
    }
    if h.multiclient {
        have.insert("multi-client".to_owned());
    }
    for (who, jpeg) in [("server", &h.server.jpeg), ("client", &h.client.jpeg)] {
        if let Some(j) = jpeg {
            have.insert(format!("jpeg {} from the {who}", j.colorspace));
        }
    }
}

/// The termination handshake, the return types and the kinds of message
/// the messages show; false when no termination message passed.
fn message_features(file: &SessionFile, have: &mut BTreeSet<String>) -> bool {
    let h = &file.header;
    let p = h.pattern;
    let limits = Limits::default();
    let mut terminated = false;
    let mut acknowledged = false;
    for m in file.messages() {
        match m.dir {
            Direction::ServerToClient => {
                if let Ok(ServerMessage::Terminate { .. }) =
                    decode_server_message(&m.parts, &limits)
                {
                    terminated = true;
                }
                // Message values: every JSON kind appears in some
                // bidirectional header.
                if h.bidirectional && m.parts.len() == 2 {
                    let text = String::from_utf8_lossy(&m.parts[0]);
                    if text.contains("NaN") || text.contains("Infinity") {
                        have.insert("message NaN/Infinity".to_owned());
                    }
                    if text.contains("\\u") {
                        have.insert("message unicode".to_owned());
                    }
                }
            }
            Direction::ClientToServer => {
                if terminated {
                    acknowledged = true;
                }
                if h.bidirectional {
                    let text = String::from_utf8_lossy(&m.parts[0]);
                    if let Some(rest) = text.split("\"return_type\": \"").nth(1) {
                        let kind = rest.split('"').next().unwrap_or_default();
                        have.insert(format!("return {kind}"));
                    }
                }
            }
        }
    }
    if terminated {
        have.insert(format!("termination p{p}"));
    }
    if acknowledged && p == 1 {
        have.insert("termination acknowledged p1".to_owned());
    }
    terminated
}

/// A client restart: its link went down and came up again, and messages
/// passed afterwards.
fn restart_features(file: &SessionFile, have: &mut BTreeSet<String>) {
    let mut down = false;
    let mut restarted = false;
    for e in &file.events {
        match &e.what {
            What::Link {
                side: Side::Client,
                change: Change::Disconnected,
            } => down = true,
            What::Link {
                side: Side::Client,
                change: Change::Connected,
            } if down => restarted = true,
            What::Message { .. } if restarted => {
                have.insert(format!("client restarted p{}", file.header.pattern));
            }
            _ => {}
        }
    }
}

#[test]
fn sessions_stay_small() {
    for (name, file) in corpus() {
        let size = file.to_bytes().len();
        assert!(size <= 64 * 1024, "{name} is {size} bytes");
    }
}

/// Replaces the bytes of the part of event `index`, part `k`.
fn tamper(file: &mut SessionFile, index: usize, k: usize, f: impl FnOnce(&mut Vec<u8>)) {
    let What::Message { parts, sizes, .. } = &mut file.events[index].what else {
        panic!("event {index} is not a message");
    };
    let mut bytes = match &parts[k] {
        Part::Inline(b) => b.to_vec(),
        Part::Blob { .. } => panic!("event {index} part {k} is a blob"),
    };
    f(&mut bytes);
    sizes[k] = bytes.len() as u64;
    parts[k] = Part::Inline(Bytes::from(bytes));
}

#[test]
fn a_changed_answer_is_reported_with_its_first_differing_byte() {
    let mut file = load("p1-plain");
    // The second answer: the first one sets the replayed client's device id.
    let index = file
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                &e.what,
                What::Message {
                    dir: Direction::ClientToServer,
                    ..
                }
            )
        })
        .nth(1)
        .expect("two answers")
        .0;
    // "Data received on device: DEVICE01 !" -> "...: DEVICE0X !"
    let at = CONFIRMATION_PREFIX.len() + 7;
    tamper(&mut file, index, 0, |b| b[at] = b'X');
    let report = replay(&file);
    assert!(!report.passed());
    let text = report.to_string();
    let m = &report.mismatches[0];
    assert_eq!(m.at.map(|a| a.event), Some(index), "{text}");
    let diff = m.diff.as_ref().expect("a diff");
    assert_eq!(diff.first_difference(), Some((0, at)), "{text}");
    assert!(
        text.contains(&format!("first difference at byte {at}")),
        "{text}"
    );
    assert!(
        text.contains("vidgear: Data received on device: DEVICE0X !"),
        "{text}"
    );
    assert!(
        text.contains("netgear: Data received on device: DEVICE01 !"),
        "{text}"
    );
}

#[test]
fn a_changed_frame_header_is_reported() {
    let mut file = load("p0-bidi-float");
    let index = file
        .events
        .iter()
        .position(|e| {
            matches!(&e.what, What::Message { dir: Direction::ServerToClient, parts, .. } if parts.len() == 2)
        })
        .expect("a frame");
    // Still valid JSON with the same values, but not what Python writes:
    // netgear's server re-encodes the message in Python's style.
    tamper(&mut file, index, 0, |b| {
        let text = String::from_utf8(b.clone()).unwrap();
        *b = text
            .replacen("\"terminate_flag\": false", "\"terminate_flag\":false", 1)
            .into_bytes();
    });
    let report = replay(&file);
    let text = report.to_string();
    let here: Vec<_> = report
        .mismatches
        .iter()
        .filter(|m| m.at.map(|a| a.event) == Some(index))
        .collect();
    assert_eq!(here.len(), 1, "{text}");
    let diff = here[0].diff.as_ref().expect("a diff");
    assert_eq!(diff.first_difference(), Some((0, 18)), "{text}");
    assert!(text.contains("server machine"), "{text}");
}

#[test]
fn a_missing_answer_is_reported() {
    let mut file = load("p1-terminate");
    // Drop the acknowledgement of the termination.
    file.events.retain(|e| {
        !matches!(
            &e.what,
            What::Message {
                dir: Direction::ClientToServer,
                ..
            }
        )
    });
    let report = replay(&file);
    assert!(!report.passed(), "{report}");
    assert!(
        report
            .to_string()
            .contains("netgear answered, vidgear did not"),
        "{report}"
    );
}
