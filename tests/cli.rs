//! The `netgear` command: Rust `receive` against Rust `send`, end to end,
//! checking every JSON line on both sides, the saved `.npy` files and the
//! exit statuses. Over ipc, so that it runs with the network cut; the same
//! over tcp is system-tests/tests/cli_tcp.rs.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_netgear");
/// No test process may live longer than this.
const DEADLINE: Duration = Duration::from_secs(30);

fn netgear() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("RUST_LOG").stdin(Stdio::null());
    c
}

/// Where a receiver listens: an ipc socket file.
enum Endpoint {
    Ipc { dir: tempfile::TempDir, port: u16 },
}

impl Endpoint {
    fn ipc() -> Endpoint {
        Endpoint::Ipc {
            dir: tempfile::tempdir().unwrap(),
            port: 5555,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Endpoint::Ipc { dir, port } => vec![
                "--protocol".into(),
                "ipc".into(),
                "--address".into(),
                dir.path().join("sock").display().to_string(),
                "--port".into(),
                port.to_string(),
            ],
        }
    }

    /// Blocks until the receiver has bound.
    fn wait_bound(&self, receiver: &mut Child) {
        let start = Instant::now();
        loop {
            let ready = match self {
                // vidgear (and netgear) name the ipc file ADDRESS:PORT.
                Endpoint::Ipc { dir, port } => dir.path().join(format!("sock:{port}")).exists(),
            };
            if ready {
                return;
            }
            if let Some(status) = receiver.try_wait().unwrap() {
                panic!("the receiver exited before binding: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the receiver never bound"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// An ipc address in a fresh temporary directory that nothing binds.
fn unused_ipc_address() -> String {
    let dir = tempfile::tempdir().unwrap();
    dir.keep().join("nobody").display().to_string()
}

/// Waits for a child, killing it (and failing) past the deadline.
fn finish(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} hung; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Runs a command to completion (with the deadline).
fn run(mut cmd: Command, what: &str) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes in threads so a chatty child cannot block on them.
    finish_draining(child, what)
}

fn finish_draining(mut child: Child, what: &str) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).unwrap();
        v
    });
    let status = finish(child, what).status;
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Starts a receiver, waits for it to bind, runs the sender, and returns
/// (receiver output, sender output), both required to succeed.
fn exchange(endpoint: &Endpoint, receive: &[&str], send: &[&str]) -> (Output, Output) {
    let mut rx = netgear();
    rx.arg("receive").args(endpoint.args()).args(receive);
    let mut receiver = rx
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    endpoint.wait_bound(&mut receiver);
    let mut tx = netgear();
    tx.arg("send").args(endpoint.args()).args(send);
    let sent = run(tx, "send");
    let received = finish_draining(receiver, "receive");
    let show = |o: &Output| {
        format!(
            "status {}, stderr:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(sent.status.success(), "send failed: {}", show(&sent));
    assert!(
        received.status.success(),
        "receive failed: {}",
        show(&received)
    );
    (received, sent)
}

/// Every stdout line, parsed (stdout must hold nothing but JSON lines).
fn json_lines(out: &Output) -> Vec<Value> {
    let text = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    text.lines()
        .map(|l| parse(l.as_bytes()).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// The synthetic frame k, computed independently of the tool: element i is
/// (k + i) mod 251 cast to the dtype, little-endian.
fn synthetic(dtype: &str, shape: &[usize], k: u64) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let mut out = Vec::new();
    for i in 0..n as u64 {
        let v = ((k + i) % 251) as i64;
        match dtype {
            "bool" => out.push(u8::from(v != 0)),
            "uint8" => out.push(v as u8),
            "int8" => out.extend_from_slice(&(v as i8).to_le_bytes()),
            "int16" => out.extend_from_slice(&(v as i16).to_le_bytes()),
            "uint16" => out.extend_from_slice(&(v as u16).to_le_bytes()),
            "int32" => out.extend_from_slice(&(v as i32).to_le_bytes()),
            "uint64" => out.extend_from_slice(&(v as u64).to_le_bytes()),
            "float16" => out.extend_from_slice(&half::f16::from_f64(v as f64).to_le_bytes()),
            "float32" => out.extend_from_slice(&(v as f32).to_le_bytes()),
            "float64" => out.extend_from_slice(&(v as f64).to_le_bytes()),
            other => panic!("no test support for {other}"),
        }
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn j(text: &str) -> Value {
    parse(text.as_bytes()).unwrap()
}

fn shape_value(shape: &[usize]) -> Value {
    Value::from(shape.to_vec())
}

/// Checks the receiver's lines: seq 0..n, message, shape, dtype, sha256.
fn check_received(lines: &[Value], n: u64, message: &Value, dtype: &str, shape: &[usize]) {
    assert_eq!(lines.len() as u64, n, "{lines:?}");
    for (k, line) in lines.iter().enumerate() {
        let k = k as u64;
        let expected = j(&format!(
            r#"{{"seq": {k}, "message": {}, "shape": {}, "dtype": "{dtype}", "sha256": "{}"}}"#,
            message.to_python_json(),
            shape_value(shape).to_python_json(),
            sha(&synthetic(dtype, shape, k))
        ));
        assert_eq!(line, &expected, "frame {k}");
    }
}

/// Checks the sender's lines: seq 0..n, each with `reply`, then the
/// frame's round trip `rtt_us` (a number of microseconds).
fn check_sent(lines: &[Value], n: u64, reply: &Value) {
    assert_eq!(lines.len() as u64, n, "{lines:?}");
    for (k, line) in lines.iter().enumerate() {
        let Value::Object(map) = line else {
            panic!("frame {k}: {line:?}")
        };
        let rtt = map.get("rtt_us");
        assert!(
            matches!(rtt, Some(Value::Number(n)) if n.as_f64() >= 0.0),
            "frame {k}: rtt_us {rtt:?}"
        );
        let mut rest = netgear::json::Map::new();
        for (key, value) in map.iter().filter(|(key, _)| *key != "rtt_us") {
            rest.insert(key.clone(), value.clone());
        }
        let expected = j(&format!(
            r#"{{"seq": {k}, "reply": {}}}"#,
            reply.to_python_json()
        ));
        assert_eq!(Value::Object(rest), expected, "frame {k}");
    }
}

const RETURN: &str = r#"{"nan": NaN, "big": 1267650600228229401496703205376, "emoji": "camera 🎥 ok", "list": [1, -2.5e-07, null, true, Infinity]}"#;

fn bidirectional_json(pattern: &str, endpoint: Endpoint) {
    let dir = tempfile::tempdir().unwrap();
    // The message comes from a file (@PATH, trailing newline ignored).
    let message = r#"{"id": 7, "neg": -Infinity, "text": "h\u00e9llo", "tuple": [1, [2, 3]]}"#;
    let message_file = dir.path().join("message.json");
    std::fs::write(&message_file, format!("{message}\n")).unwrap();
    let at_message = format!("@{}", message_file.display());
    let n = 6;
    let common = [
        "--pattern",
        pattern,
        "--bidirectional",
        "--json",
        "--request-timeout",
        "2",
    ];
    let receive: Vec<&str> = common.iter().copied().chain(["--return", RETURN]).collect();
    let frames = n.to_string();
    let send: Vec<&str> = common
        .iter()
        .copied()
        .chain([
            "--frames",
            &frames,
            "--shape",
            "7",
            "--dtype",
            "uint16",
            "--message",
            &at_message,
        ])
        .collect();
    let (received, sent) = exchange(&endpoint, &receive, &send);
    check_received(&json_lines(&received), n, &j(message), "uint16", &[7]);
    check_sent(&json_lines(&sent), n, &j(RETURN));
    // Python-style output: NaN and the big integer are written exactly.
    let text = String::from_utf8(sent.stdout).unwrap();
    assert!(
        text.contains(r#""nan": NaN, "big": 1267650600228229401496703205376"#),
        "{text}"
    );
    assert!(text.contains(r#"camera \ud83c\udfa5 ok"#), "{text}");
    // The summary goes to stderr.
    let err = String::from_utf8_lossy(&sent.stderr);
    assert!(
        err.contains("sent 6 frames") && err.contains("fps") && err.contains("p99"),
        "{err}"
    );
}

#[test]
fn pattern1_bidirectional_json_return() {
    bidirectional_json("1", Endpoint::ipc());
}

#[test]
fn pattern0_bidirectional_json_return() {
    bidirectional_json("0", Endpoint::ipc());
}

/// Parses a `.npy` v1.0 file: (descr, fortran_order, shape text, data).
fn read_npy(path: &Path) -> (String, String, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{}", path.display());
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let data_start = 10 + header_len;
    assert_eq!(data_start % 64, 0, "data must start 64-byte aligned");
    let dict = std::str::from_utf8(&bytes[10..data_start]).unwrap();
    assert!(dict.ends_with('\n'));
    let dict = dict.trim_end();
    let descr = dict
        .split("'descr': '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    assert!(dict.contains("'fortran_order': False"), "{dict}");
    let shape = dict
        .split("'shape': ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_owned()
        + ")";
    assert!(dict.starts_with('{') && dict.ends_with('}'), "{dict}");
    (descr, shape, bytes[data_start..].to_vec())
}

#[test]
fn pattern1_return_frame_and_save_dir() {
    let save = tempfile::tempdir().unwrap();
    let save_dir = save.path().join("frames");
    let save_arg = save_dir.display().to_string();
    let n = 4;
    let common = [
        "--pattern",
        "1",
        "--bidirectional",
        "--json",
        "--request-timeout",
        "2",
    ];
    let receive: Vec<&str> = common
        .iter()
        .copied()
        .chain([
            "--return-frame",
            "3,2",
            "--return-dtype",
            "int16",
            "--save-dir",
            &save_arg,
        ])
        .collect();
    let send: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--frames", "4", "--shape", "4,5,3", "--dtype", "float32"])
        .collect();
    let (received, sent) = exchange(&Endpoint::ipc(), &receive, &send);
    check_received(
        &json_lines(&received),
        n,
        &Value::Null,
        "float32",
        &[4, 5, 3],
    );
    let reply = j(&format!(
        r#"{{"shape": [3, 2], "dtype": "int16", "sha256": "{}"}}"#,
        sha(&synthetic("int16", &[3, 2], 0))
    ));
    check_sent(&json_lines(&sent), n, &reply);
    for k in 0..n {
        let (descr, shape, data) = read_npy(&save_dir.join(format!("frame_{k:06}.npy")));
        assert_eq!((descr.as_str(), shape.as_str()), ("<f4", "(4, 5, 3)"));
        assert_eq!(data, synthetic("float32", &[4, 5, 3], k));
    }
    assert_eq!(std::fs::read_dir(&save_dir).unwrap().count() as u64, n);
}

/// Plain mode (no bidirectional): replies are null, messages null by default.
fn plain(pattern: &str, receiver_frames: bool) {
    let n = 5;
    let mut receive = vec!["--pattern", pattern, "--json", "--request-timeout", "2"];
    if receiver_frames {
        // The receiver stops by itself after N frames instead of on termination.
        receive.extend(["--frames", "5"]);
    }
    let send = [
        "--pattern",
        pattern,
        "--json",
        "--request-timeout",
        "2",
        "--frames",
        "5",
        "--shape",
        "1,1",
    ];
    let (received, sent) = exchange(&Endpoint::ipc(), &receive, &send);
    check_received(&json_lines(&received), n, &Value::Null, "uint8", &[1, 1]);
    check_sent(&json_lines(&sent), n, &Value::Null);
}

#[test]
fn pattern0_plain() {
    plain("0", false);
}

#[test]
fn pattern1_plain() {
    plain("1", false);
}

#[test]
fn pattern1_plain_receiver_stops_after_frames() {
    plain("1", true);
}

#[test]
fn dtypes_and_shapes_with_npy() {
    let cases: [(&str, &[usize], &str, &str); 6] = [
        ("bool", &[3, 5], "|b1", "(3, 5)"),
        ("int8", &[300], "|i1", "(300,)"),
        ("float16", &[2, 3, 4], "<f2", "(2, 3, 4)"),
        ("float64", &[1, 1], "<f8", "(1, 1)"),
        ("uint64", &[2, 2], "<u8", "(2, 2)"),
        ("uint8", &[480, 640, 3], "|u1", "(480, 640, 3)"),
    ];
    for (dtype, shape, descr, shape_text) in cases {
        let save = tempfile::tempdir().unwrap();
        let save_arg = save.path().display().to_string();
        let shape_arg = shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let message = r#"["tuple", 1, {"1": 2}]"#;
        let receive = ["--pattern", "1", "--json", "--save-dir", &save_arg];
        let send = [
            "--pattern",
            "1",
            "--frames",
            "3",
            "--shape",
            &shape_arg,
            "--dtype",
            dtype,
            "--message",
            message,
        ];
        let (received, sent) = exchange(&Endpoint::ipc(), &receive, &send);
        assert!(sent.stdout.is_empty(), "no --json: nothing on stdout");
        check_received(&json_lines(&received), 3, &j(message), dtype, shape);
        for k in 0..3 {
            let (d, s, data) = read_npy(&save.path().join(format!("frame_{k:06}.npy")));
            assert_eq!((d.as_str(), s.as_str()), (descr, shape_text), "{dtype}");
            assert!(data == synthetic(dtype, shape, k), "{dtype} frame {k}");
        }
    }
}

const RULE: &str = "bidirectional mode needs pattern 0 (PAIR) or 1 (REQ/REP), not pattern 2";

#[test]
fn bidirectional_pattern2_is_refused_with_status_2() {
    for side in ["send", "receive"] {
        let mut cmd = netgear();
        cmd.args([side, "--bidirectional", "--pattern", "2", "--frames", "1"])
            .args(Endpoint::ipc().args());
        let out = run(cmd, side);
        assert_eq!(out.status.code(), Some(2), "{side}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(RULE), "{side}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_arguments_exit_2() {
    let bad: [&[&str]; 9] = [
        &["send", "--message", "{"],
        &["send", "--message", "@/nonexistent/file.json"],
        &["send", "--shape", "4,0"],
        &["send", "--shape", "4,x"],
        &["send", "--dtype", "object"],
        &["send", "--pattern", "3"],
        &["receive", "--return", "[1,"],
        &[
            "receive",
            "--return-frame",
            "2,2",
            "--return-dtype",
            "complex128",
        ],
        &["send", "--multiserver", "--pattern", "0"],
    ];
    for args in bad {
        let mut cmd = netgear();
        cmd.args(args).args(Endpoint::ipc().args()).args([
            "--frames",
            "1",
            "--request-timeout",
            "0.2",
        ]);
        let out = run(cmd, "bad arguments");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn send_without_receiver_fails_with_status_1() {
    let mut cmd = netgear();
    cmd.args([
        "send",
        "--protocol",
        "ipc",
        "--address",
        &unused_ipc_address(),
        "--request-timeout",
        "0.3",
        "--max-retries",
        "2",
        "--json",
    ]);
    let start = Instant::now();
    let out = run(cmd, "send");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: the peer stopped answering"), "{err}");
    assert!(out.stdout.is_empty(), "no frame was answered");
}

#[test]
fn receive_without_sender_fails_with_status_1() {
    // The receiver waits 3 × request timeout per silent period, then rebinds.
    let mut cmd = netgear();
    cmd.args([
        "receive",
        "--protocol",
        "ipc",
        "--address",
        &unused_ipc_address(),
        "--request-timeout",
        "0.1",
        "--max-retries",
        "2",
    ]);
    let start = Instant::now();
    let out = run(cmd, "receive");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: the server stopped sending: no frame for 2 silent period(s)"),
        "{err}"
    );
}

#[test]
fn pattern2_send_needs_no_answer() {
    let mut cmd = netgear();
    cmd.args([
        "send",
        "--pattern",
        "2",
        "--protocol",
        "ipc",
        "--address",
        &unused_ipc_address(),
        "--frames",
        "3",
        "--shape",
        "2,2",
        "--json",
    ]);
    let out = run(cmd, "send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_sent(&json_lines(&out), 3, &Value::Null);
}

#[test]
fn version_and_help() {
    let out = run(
        {
            let mut c = netgear();
            c.arg("--version");
            c
        },
        "version",
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("netgear "));
    for side in ["send", "receive"] {
        let mut c = netgear();
        c.args([side, "--help"]);
        let out = run(c, "help");
        let text = String::from_utf8_lossy(&out.stdout);
        for flag in [
            "--address",
            "--port",
            "--protocol",
            "--pattern",
            "--bidirectional",
            "--max-retries",
            "--request-timeout",
            "--frames",
            "--json",
        ] {
            assert!(text.contains(flag), "{side} --help lacks {flag}");
        }
    }
}

/// Every JSON argument takes any JSON text, negative numbers included, in
/// both spellings (`--message -5` and `--message=-5`): clap must not take
/// `-5` for a flag.
#[test]
fn json_arguments_accept_negative_numbers_in_both_spellings() {
    let cases: [(&[&str], &[&str], &str, &str); 3] = [
        (&["--message", "-5"], &["--return", "-1e9"], "-5", "-1e9"),
        (
            &["--message=-2.5e-300"],
            &["--return=-0.0"],
            "-2.5e-300",
            "-0.0",
        ),
        (
            &["--message", "-123456789012345678901234567890"],
            &["--return", "-Infinity"],
            "-123456789012345678901234567890",
            "-Infinity",
        ),
    ];
    for (message_args, return_args, message, reply) in cases {
        let mut receive = vec!["--bidirectional", "--json"];
        receive.extend_from_slice(return_args);
        let mut send = vec!["--bidirectional", "--json", "--frames", "2", "--shape", "2"];
        send.extend_from_slice(message_args);
        let (received, sent) = exchange(&Endpoint::ipc(), &receive, &send);
        check_received(&json_lines(&received), 2, &j(message), "uint8", &[2]);
        check_sent(&json_lines(&sent), 2, &j(reply));
        // Written back exactly as given.
        let text = String::from_utf8(received.stdout).unwrap();
        assert!(text.contains(&format!("\"message\": {message},")), "{text}");
    }
}

// ---------------------------------------------------------------------------
// Pattern 2: --subscriber-timeout
// ---------------------------------------------------------------------------

/// A pattern-2 receiver whose publisher dies (SIGKILL: no termination
/// message) ends by itself after the subscriber timeout, with exit status 1
/// and a clear error; every frame it printed is one of the publisher's
/// frames, intact and in order (PUB may drop frames, never corrupt them).
#[test]
fn subscriber_timeout_ends_a_receiver_whose_publisher_falls_silent() {
    use netgear_testkit::{Ipc, Proc};
    let ipc = Ipc::new();
    let mut rx = netgear();
    rx.args([
        "receive",
        "--pattern",
        "2",
        "--json",
        "--subscriber-timeout",
        "1",
    ])
    .args(ipc.cli_args(5555));
    let mut receiver = Proc::start(rx);
    receiver.wait_bound_ipc(&ipc, 5555);
    let mut tx = netgear();
    tx.args([
        "send",
        "--pattern",
        "2",
        "--fps",
        "100",
        "--frames",
        "100000",
    ])
    .args(["--shape", "4,5", "--dtype", "uint16", "--json"])
    .args(ipc.cli_args(5555));
    let mut sender = Proc::start(tx);
    receiver.wait_lines(5, DEADLINE);
    sender.wait_lines(5, DEADLINE);
    let sent = sender.kill().len() as u64;
    let (status, lines, stderr) = receiver.finish(DEADLINE);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: the publisher fell silent: no frame for 1 s ("),
        "{stderr}"
    );
    let mut next = 0u64;
    for (j, line) in lines.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(j as i64));
        assert_eq!(line.get("message"), Some(&Value::Null));
        assert_eq!(line.get("shape"), Some(&shape_value(&[4, 5])));
        let got = line.get("sha256").and_then(Value::as_str).unwrap();
        let k = (next..=sent + 1)
            .find(|&k| sha(&synthetic("uint16", &[4, 5], k)) == got)
            .unwrap_or_else(|| panic!("line {j} is none of the frames still to come: {line:?}"));
        next = k + 1;
    }
    assert!(lines.len() >= 5);
}

/// With no publisher at all the timer runs from the start.
#[test]
fn subscriber_timeout_ends_a_receiver_that_never_hears_a_publisher() {
    let mut cmd = netgear();
    cmd.args(["receive", "--pattern", "2", "--subscriber-timeout", "0.2"])
        .args(["--protocol", "ipc", "--address", &unused_ipc_address()]);
    let out = run(cmd, "receive");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the publisher fell silent: no frame for 0.2 s (0 frame(s) received)"),
        "{err}"
    );
}

#[test]
fn subscriber_timeout_needs_pattern_2() {
    for args in [
        &["--pattern", "1", "--subscriber-timeout", "2"][..],
        &["--pattern", "2", "--subscriber-timeout", "0"][..],
    ] {
        let mut cmd = netgear();
        cmd.arg("receive").args(args);
        let out = run(cmd, "receive");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("subscriber timeout needs pattern 2"), "{err}");
    }
}
