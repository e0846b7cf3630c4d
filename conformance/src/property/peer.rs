//! The long-lived vidgear process (conformance/python/prop_peer.py) and
//! the one channel on which a session's events arrive: the peer's JSON
//! lines and the reports of netgear's own receivers.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use netgear::json::{parse, Value};

use super::run::Report;

/// Something that happened during a session.
#[derive(Debug)]
pub enum Event {
    /// A JSON line from the control peer.
    Peer(Value),
    /// The control peer's stdout closed: it died.
    PeerGone,
    /// A report of one of netgear's receivers (by index).
    Receiver(u64, usize, Report),
}

/// The control peer.
pub struct Peer {
    python: PathBuf,
    script: PathBuf,
    log: PathBuf,
    child: Child,
    stdin: ChildStdin,
    events: Receiver<Event>,
    sender: Sender<Event>,
    /// How many times it was (re)started.
    pub starts: u32,
}

impl Peer {
    /// Starts `python script`, its stderr appended to `log`, and waits for
    /// its `ready` line.
    pub fn start(python: &Path, script: &Path, log: &Path) -> Result<Peer, String> {
        let (sender, events) = channel();
        let (child, stdin) = spawn(python, script, log, sender.clone())?;
        let mut peer = Peer {
            python: python.to_owned(),
            script: script.to_owned(),
            log: log.to_owned(),
            child,
            stdin,
            events,
            sender,
            starts: 1,
        };
        peer.wait_ready()?;
        Ok(peer)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            match self.next(give_up) {
                Some(Event::Peer(v)) if v.get("ev").and_then(Value::as_str) == Some("ready") => {
                    return Ok(())
                }
                Some(Event::PeerGone) | None => {
                    return Err(format!(
                        "the control peer did not start (see {})",
                        self.log.display()
                    ))
                }
                Some(_) => {}
            }
        }
    }

    /// Kills the peer and starts a fresh one (after a session that left
    /// vidgear in an unknown state).
    pub fn restart(&mut self) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (sender, events) = channel();
        let (child, stdin) = spawn(&self.python, &self.script, &self.log, sender.clone())?;
        self.child = child;
        self.stdin = stdin;
        self.events = events;
        self.sender = sender;
        self.starts += 1;
        self.wait_ready()
    }

    /// A sender for netgear's receiver threads.
    pub fn reporter(&self) -> Sender<Event> {
        self.sender.clone()
    }

    /// Writes one instruction.
    pub fn send(&mut self, instruction: &Value) -> Result<(), String> {
        let mut line = instruction.to_python_json();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("cannot instruct the control peer: {e}"))
    }

    /// The next event, or `None` at `deadline`.
    pub fn next(&mut self, deadline: Instant) -> Option<Event> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(e) => Some(e),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Event::PeerGone),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.stdin.write_all(b"{\"op\": \"quit\"}\n");
        let _ = self.stdin.flush();
        let give_up = Instant::now() + Duration::from_secs(2);
        while Instant::now() < give_up {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    python: &Path,
    script: &Path,
    log: &Path,
    events: Sender<Event>,
) -> Result<(Child, ChildStdin), String> {
    let mut child = Command::new(python)
        .arg("-u")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let log = log.to_owned();
    thread::spawn(move || {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
        {
            Ok(mut f) => {
                let _ = std::io::copy(&mut stderr, &mut f);
            }
            Err(_) => {
                let _ = std::io::copy(&mut stderr, &mut std::io::sink());
            }
        }
    });
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let event = match parse(line.as_bytes()) {
                Ok(v) => Event::Peer(v),
                Err(e) => Event::Peer(Value::from(format!("not JSON: {e}: {line}"))),
            };
            if events.send(event).is_err() {
                return;
            }
        }
        let _ = events.send(Event::PeerGone);
    });
    Ok((child, stdin))
}

/// The text of field `key` of a peer event: a string as it is, any other
/// value as JSON, nothing as "".
pub fn event_text(v: &Value, key: &str) -> String {
    v.get(key).map_or_else(String::new, |e| match e {
        Value::String(s) => s.clone(),
        other => other.to_python_json(),
    })
}
