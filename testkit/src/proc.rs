//! A child process whose stdout lines arrive as JSON values as they come.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

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
        self.wait_until(&format!("port {port}"), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Waits until this process has bound `port` of `ipc`; fails at once,
    /// with the process's stderr, if it exits first.
    pub fn wait_bound_ipc(&mut self, ipc: &crate::Ipc, port: u16) {
        let path = ipc.socket(port);
        self.wait_until(&path.display().to_string(), || path.exists());
    }

    fn wait_until(&mut self, what: &str, ready: impl Fn() -> bool) {
        let give_up = Instant::now() + Duration::from_secs(30);
        while !ready() {
            if let Some(status) = self.child.try_wait().unwrap() {
                let err = std::mem::replace(&mut self.stderr, thread::spawn(String::new))
                    .join()
                    .unwrap_or_default();
                panic!("exited ({status}) before binding {what}:\n{err}");
            }
            assert!(Instant::now() < give_up, "nothing bound {what} within 30 s");
            thread::sleep(Duration::from_millis(10));
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
