//! The examples, run as a user runs them: `receive` and `send` as two
//! processes over ipc in a temporary directory, `custom_transport` alone
//! (it needs no network). Each is checked by its exit status and the
//! summary it prints; the `netgear` command plays a peer that gets
//! something wrong, so that each example is also seen to fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use netgear_testkit::Ipc;

const NETGEAR: &str = env!("CARGO_BIN_EXE_netgear");
const EXAMPLES: [&str; 3] = ["send", "receive", "custom_transport"];

/// The command running example `name`. `cargo test --test examples` builds
/// no example by itself, so the cargo running the tests builds them, once
/// per test process, with the same profile.
fn example(name: &str) -> Command {
    static BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| build_examples().unwrap_or_else(|e| panic!("{e}")));
    let (_, path) = built
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("cargo built no example {name}"));
    Command::new(path)
}

fn build_examples() -> Result<Vec<(String, PathBuf)>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "build",
        "--offline",
        "--quiet",
        "--message-format=json",
    ]);
    for name in EXAMPLES {
        cmd.args(["--example", name]);
    }
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("cannot build the examples:\n{err}"));
    }
    let artifacts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter_map(|msg| {
            let name = msg["target"]["name"].as_str()?.to_owned();
            Some((name, PathBuf::from(msg["executable"].as_str()?)))
        })
        .collect();
    Ok(artifacts)
}

/// Starts `cmd` with its output captured.
fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Waits until `child` has bound the socket file `path`; fails with its
/// output if it exits first.
fn wait_bound(mut child: Child, path: &Path) -> Child {
    let give_up = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!("exited before binding {}: {}", path.display(), show(&out));
        }
        assert!(Instant::now() < give_up, "nothing bound {}", path.display());
        thread::sleep(Duration::from_millis(10));
    }
    child
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "{}\n--- stdout:\n{}--- stderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// The temporary directory the examples' `--ipc DIR` takes, and the socket
/// file the receiving end binds in it.
fn ipc_dir(ipc: &Ipc) -> (String, PathBuf) {
    let dir = ipc.dir().display().to_string();
    (dir, ipc.dir().join("netgear:5555"))
}

/// `--protocol ipc --address DIR/netgear --port 5555 --pattern 1
/// --bidirectional`: the `netgear` command where the examples are.
fn netgear_args(dir: &str) -> Vec<String> {
    let address = format!("{dir}/netgear");
    ["--protocol", "ipc", "--address", &address, "--port", "5555"]
        .into_iter()
        .chain(["--pattern", "1", "--bidirectional"])
        .map(String::from)
        .collect()
}

#[test]
fn send_and_receive_exchange_every_frame_and_thumbnail_over_ipc() {
    let ipc = Ipc::new();
    let (dir, socket) = ipc_dir(&ipc);
    let receive = wait_bound(spawn(example("receive").args(["--ipc", &dir])), &socket);
    let send = example("send")
        .args(["--ipc", &dir, "--frames", "6"])
        .output()
        .unwrap();
    let receive = receive.wait_with_output().unwrap();

    assert!(send.status.success(), "send: {}", show(&send));
    assert!(receive.status.success(), "receive: {}", show(&receive));
    // The answer to frame 0 precedes any thumbnail; frames 1 to 5 bring
    // back the thumbnails of frames 0 to 4.
    assert!(
        stdout(&send).contains("send: 6 frames sent, 6 replies good, 0 bad, 5 thumbnails checked"),
        "send: {}",
        show(&send)
    );
    assert!(
        stdout(&receive).contains("receive: 6 frames received, 6 intact, 0 bad"),
        "receive: {}",
        show(&receive)
    );
}

#[test]
fn receive_fails_when_frames_are_not_what_their_message_says() {
    let ipc = Ipc::new();
    let (dir, socket) = ipc_dir(&ipc);
    let receive = wait_bound(spawn(example("receive").args(["--ipc", &dir])), &socket);
    let lie = r#"{"camera": "liar", "frame_no": 0, "pixel_sum": 1}"#;
    let send = Command::new(NETGEAR)
        .arg("send")
        .args(netgear_args(&dir))
        .args(["--frames", "3", "--shape", "8,8,3", "--message", lie])
        .output()
        .unwrap();
    let receive = receive.wait_with_output().unwrap();

    assert!(send.status.success(), "netgear send: {}", show(&send));
    assert!(!receive.status.success(), "receive: {}", show(&receive));
    assert!(
        stdout(&receive).contains("receive: 3 frames received, 0 intact, 3 bad"),
        "receive: {}",
        show(&receive)
    );
    let err = stderr(&receive);
    assert!(
        err.contains(
            "frame 0: liar says frame 0 with pixel sum 1, but it is frame 0 with pixel sum"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "frame 2: liar says frame 0 with pixel sum 1, but it is frame 2 with pixel sum"
        ),
        "{err}"
    );
}

#[test]
fn send_fails_when_the_receiver_returns_no_thumbnails() {
    let ipc = Ipc::new();
    let (dir, socket) = ipc_dir(&ipc);
    let netgear_receive = spawn(
        Command::new(NETGEAR)
            .arg("receive")
            .args(netgear_args(&dir))
            .args(["--return", r#""not a thumbnail""#]),
    );
    let receive = wait_bound(netgear_receive, &socket);
    let send = example("send")
        .args(["--ipc", &dir, "--frames", "3"])
        .output()
        .unwrap();
    let receive = receive.wait_with_output().unwrap();

    assert!(
        receive.status.success(),
        "netgear receive: {}",
        show(&receive)
    );
    assert!(!send.status.success(), "send: {}", show(&send));
    assert!(
        stdout(&send).contains("send: 3 frames sent, 0 replies good, 3 bad, 0 thumbnails checked"),
        "send: {}",
        show(&send)
    );
    let complaints = stderr(&send)
        .matches(r#"the receiver said "not a thumbnail""#)
        .count();
    assert_eq!(complaints, 3, "send: {}", show(&send));
}

/// Runs `custom_transport` with `args` and checks that it succeeds and
/// prints exactly `summary` (both tests of it check the whole output).
fn assert_custom_transport(args: &[&str], summary: &str) {
    let out = example("custom_transport").args(args).output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(stdout(&out), summary, "{}", show(&out));
}

#[test]
fn custom_transport_carries_frames_and_both_kinds_of_return_data_with_no_arguments() {
    // 20 answers: the first return data ("ready"), then JSON for frames
    // 0, 2, ..., 18 and a frame for 1, 3, ..., 17.
    assert_custom_transport(
        &[],
        "custom_transport: 20 frames sent, 20 received intact; 20 replies matched \
         (11 JSON, 9 frames); termination acknowledged\n",
    );
}

#[test]
fn custom_transport_sends_the_frames_asked_for() {
    assert_custom_transport(
        &["--frames", "7"],
        "custom_transport: 7 frames sent, 7 received intact; 7 replies matched \
         (4 JSON, 3 frames); termination acknowledged\n",
    );
}

#[test]
fn every_example_refuses_an_unknown_argument() {
    for name in EXAMPLES {
        let out = example(name).args(["--bogus", "1"]).output().unwrap();
        assert!(!out.status.success(), "{name}: {}", show(&out));
        assert!(stdout(&out).is_empty(), "{name}: {}", show(&out));
        assert!(!stderr(&out).is_empty(), "{name}: {}", show(&out));
    }
}
