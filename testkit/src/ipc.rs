//! Endpoints on unix sockets in a temporary directory: what the hermetic
//! tests use, since they must pass with the network cut (a fresh network
//! namespace has no usable loopback).

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// A directory of its own for the socket files of one test. The files
/// are named as vidgear names them: `ADDRESS:PORT`.
#[derive(Debug)]
pub struct Ipc {
    dir: tempfile::TempDir,
}

impl Default for Ipc {
    fn default() -> Ipc {
        Ipc::new()
    }
}

impl Ipc {
    /// A fresh directory.
    pub fn new() -> Ipc {
        Ipc {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The address (socket path prefix) to give `--address` or the
    /// adapters' options with `--protocol ipc`.
    pub fn address(&self) -> String {
        self.dir.path().join("s").display().to_string()
    }

    /// The socket file of `port`.
    pub fn socket(&self, port: u16) -> PathBuf {
        PathBuf::from(format!("{}:{port}", self.address()))
    }

    /// The endpoint of `port`, as libzmq takes it.
    pub fn endpoint(&self, port: u16) -> String {
        format!("ipc://{}", self.socket(port).display())
    }

    /// `--protocol ipc --address ADDR --port PORT`.
    pub fn cli_args(&self, port: u16) -> Vec<String> {
        vec![
            "--protocol".into(),
            "ipc".into(),
            "--address".into(),
            self.address(),
            "--port".into(),
            port.to_string(),
        ]
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Waits until something has bound `port` (its socket file exists).
    pub fn wait_bound(&self, port: u16) {
        let path = self.socket(port);
        let give_up = Instant::now() + Duration::from_secs(30);
        while !path.exists() {
            assert!(
                Instant::now() < give_up,
                "nothing bound {} within 30 s",
                path.display()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}
