//! A peer process watched while it runs: its stdout lines as they come,
//! stopped as Ctrl-C would stop it, and what it left when it ended. Used
//! by the cells that act on peers mid-stream (the multi modes, termination
//! in flight).

use std::process::{Child, Command};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use super::cases::Impl;
use super::runner::spawn_line_channel;

/// A child whose stdout lines are read as they come.
pub(super) struct Live {
    pub(super) role: String,
    pub(super) who: Impl,
    pub(super) child: Child,
    pub(super) rx: Receiver<String>,
    pub(super) lines: Vec<String>,
    pub(super) stderr: thread::JoinHandle<String>,
}

/// A child that has exited (or was killed).
pub(super) struct Done {
    pub(super) role: String,
    pub(super) who: Impl,
    pub(super) code: Option<i32>,
    pub(super) lines: Vec<String>,
    pub(super) stderr: String,
    /// The harness had to stop it (it did not end by itself).
    pub(super) stopped: bool,
}

impl Live {
    pub(super) fn start(role: String, who: Impl, cmd: Command) -> Result<Live, String> {
        let (child, rx, stderr) = spawn_line_channel(cmd)?;
        Ok(Live {
            role,
            who,
            child,
            rx,
            lines: Vec::new(),
            stderr,
        })
    }

    /// Waits until `n` lines have come (false after `limit`).
    pub(super) fn wait_lines(&mut self, n: usize, limit: Duration) -> bool {
        let give_up = Instant::now() + limit;
        while self.lines.len() < n {
            match self
                .rx
                .recv_timeout(give_up.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.lines.push(line),
                Err(_) => return false,
            }
        }
        true
    }

    /// Takes the lines printed so far, waiting up to `wait` for one.
    pub(super) fn pump(&mut self, wait: Duration) {
        match self.rx.recv_timeout(wait) {
            Ok(line) => self.lines.push(line),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
        while let Ok(line) = self.rx.try_recv() {
            self.lines.push(line);
        }
    }

    pub(super) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the process to stop as Ctrl-C would: it then closes its session
    /// normally (netgear catches SIGINT; peer.py turns SIGTERM into
    /// KeyboardInterrupt, and Python ignores SIGINT when started in the
    /// background).
    pub(super) fn stop(&self) {
        let signal = match self.who {
            Impl::Rust => "-INT",
            Impl::Python => "-TERM",
        };
        let _ = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits up to `limit` for the exit; then, if `stop`, signals and waits
    /// 5 s more; then kills.
    pub(super) fn finish(mut self, limit: Duration, stop: bool) -> Done {
        let mut stopped = false;
        let mut give_up = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < give_up => thread::sleep(Duration::from_millis(20)),
                Ok(None) if stop && !stopped => {
                    stopped = true;
                    self.stop();
                    give_up = Instant::now() + Duration::from_secs(5);
                }
                _ => {
                    stopped = true;
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        // The reader thread ends at EOF, when the child is gone.
        while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(5)) {
            self.lines.push(line);
        }
        Done {
            role: self.role,
            who: self.who,
            code: status.and_then(|s| s.code()),
            lines: self.lines,
            stderr: self.stderr.join().unwrap_or_default(),
            stopped,
        }
    }
}
