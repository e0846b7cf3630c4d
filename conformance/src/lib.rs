//! netgear against the real Python vidgear 0.3.6.
//!
//! * [`matrix`]: the live interop matrix (`cargo conform`): every cell runs
//!   a receiver and a sender as processes, `netgear` or
//!   `python/peer.py` driving vidgear, and checks every value and frame on
//!   both ends.
//! * [`property`]: the differential property test: generated sessions
//!   against one long-lived vidgear process, in both directions
//!   (`cargo conform --property N`, `tests/property.rs`).
//! * [`venv`]: the pinned vidgear venv, provisioned from PyPI on first use.
//! * `python/`: the vidgear peers; `sessions/`: sessions recorded between
//!   real vidgear peers, which `tests/replay.rs` replays.
//!
//! Not published: it is netgear's evidence, not its API.

pub mod jpegcheck;
pub mod matrix;
pub mod property;
pub mod venv;

use std::path::PathBuf;
use std::process::Command;

pub use venv::python;

/// conformance/python/peer.py: vidgear behind netgear's command-line
/// contract.
pub fn peer_py() -> PathBuf {
    netgear_testkit::repo().join("conformance/python/peer.py")
}

/// A command for the Rust (`netgear`) or the Python (vidgear) peer of
/// `role` (`send` or `receive`).
pub fn command(python_impl: bool, role: &str) -> Command {
    let mut c = if python_impl {
        let mut c = Command::new(python());
        c.arg(peer_py());
        c
    } else {
        Command::new(netgear_testkit::netgear_bin())
    };
    c.arg(role);
    c
}
