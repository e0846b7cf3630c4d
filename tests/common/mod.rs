//! Helpers shared by the process-level tests: free ports, child processes
//! whose stdout lines are read as they come, the vidgear venv.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

pub const NETGEAR: &str = env!("CARGO_BIN_EXE_netgear");

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared venv location every test uses (created once, under a lock).
pub fn venv_dir() -> PathBuf {
    repo().join("target/conformance/venv")
}

/// The venv's python, provisioned through `netgear conform --provision`.
/// Fails the test, saying how to provide Python, if that is impossible.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new(NETGEAR)
                .args(["conform", "--provision", "--venv"])
                .arg(venv_dir())
                .output()
                .map_err(|e| format!("cannot run netgear conform --provision: {e}"))?;
            if out.status.success() {
                Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("the vidgear interop tests need Python (not skipped):\n{e}"))
}

pub fn peer_py() -> PathBuf {
    repo().join("conformance/python/peer.py")
}

/// A command for the Rust or the Python implementation of `role`.
pub fn command(python_impl: bool, role: &str) -> Command {
    if python_impl {
        let mut c = Command::new(python());
        c.arg(peer_py()).arg(role);
        c
    } else {
        let mut c = Command::new(NETGEAR);
        c.arg(role);
        c
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

/// A running child; its stdout lines arrive on a channel as JSON values.
pub struct Proc {
    pub child: Child,
    lines: Receiver<String>,
    stderr: thread::JoinHandle<String>,
    pub seen: Vec<Value>,
}

impl Proc {
    pub fn start(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Proc {
            child,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    /// Waits until this process listens on 127.0.0.1:`port`; fails at once,
    /// with the process's stderr, if it exits first.
    pub fn wait_bound(&mut self, port: u16) {
        let give_up = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                let err = std::mem::replace(&mut self.stderr, thread::spawn(String::new))
                    .join()
                    .unwrap_or_default();
                panic!("exited ({status}) before binding port {port}:\n{err}");
            }
            assert!(
                Instant::now() < give_up,
                "nothing bound port {port} within 30 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `n` lines have been seen in all (or panics after `limit`).
    pub fn wait_lines(&mut self, n: usize, limit: Duration) {
        let give_up = Instant::now() + limit;
        while self.seen.len() < n {
            let left = give_up.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(
                    parse(line.as_bytes()).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")),
                ),
                Err(_) => panic!("only {} of {n} lines within {limit:?}", self.seen.len()),
            }
        }
    }

    /// Waits for exit (killing after `limit`), collects all remaining lines.
    pub fn finish(mut self, limit: Duration) -> (ExitStatus, Vec<Value>, String) {
        let give_up = Instant::now() + limit;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > give_up {
                let _ = self.child.kill();
                let s = self.child.wait().unwrap();
                let err = self.stderr.join().unwrap_or_default();
                panic!("process did not exit within {limit:?} (killed: {s}); stderr:\n{err}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen
                .push(parse(line.as_bytes()).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")));
        }
        let err = self.stderr.join().unwrap_or_default();
        (status, self.seen, err)
    }

    /// SIGKILL.
    pub fn kill(mut self) -> Vec<Value> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            if let Ok(v) = parse(line.as_bytes()) {
                self.seen.push(v);
            }
        }
        self.seen
    }
}

/// Runs `netgear conform` on the cells matching `filter` (comma-separated),
/// `frames` frames each, with reports under target/conformance/tests/GROUP,
/// and asserts that exactly `cells` cells ran and all passed.
pub fn conform(group: &str, filter: &str, frames: u32, cells: usize) {
    python(); // provision first, failing with instructions if impossible
    let out_dir = repo().join("target/conformance/tests").join(group);
    let out = Command::new(NETGEAR)
        .args([
            "conform",
            "--jobs",
            "1",
            "--frames",
            &frames.to_string(),
            "--filter",
            filter,
            "--out",
        ])
        .arg(&out_dir)
        .arg("--venv")
        .arg(venv_dir())
        .output()
        .expect("run netgear conform");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "conformance cells failed ({}):\n{table}\n{}\nlogs: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        out_dir.join("logs").display()
    );
    assert!(
        table.contains(&format!(" {cells} passed, 0 failed")),
        "expected {cells} passing cells:\n{table}"
    );
    let report = std::fs::read_to_string(out_dir.join("report.json")).expect("report.json written");
    let report = parse(report.as_bytes()).expect("report.json is JSON");
    match report.get("cells") {
        Some(Value::Array(ran)) => assert_eq!(ran.len(), cells, "report.json lists every cell"),
        other => panic!("report without cells: {other:?}"),
    }
}
