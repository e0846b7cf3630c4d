//! The live interop matrix against real vidgear 0.3.6 (spec §all), run
//! through `netgear conform`, one test per implementation pair and pattern.
//! The venv is provisioned on first use; without Python these tests fail
//! and say how to provide it.

mod common;

use common::conform;

#[test]
fn rust_server_to_rust_client_pattern0() {
    conform("rust-rust-p0", "^rust-rust/p0/", 8, 25);
}
#[test]
fn rust_server_to_rust_client_pattern1() {
    conform("rust-rust-p1", "^rust-rust/p1/", 8, 25);
}
#[test]
fn rust_server_to_vidgear_client_pattern0() {
    conform("rust-python-p0", "^rust-python/p0/", 8, 25);
}
#[test]
fn rust_server_to_vidgear_client_pattern1() {
    conform("rust-python-p1", "^rust-python/p1/", 8, 25);
}
#[test]
fn vidgear_server_to_rust_client_pattern0() {
    conform("python-rust-p0", "^python-rust/p0/", 8, 25);
}
#[test]
fn vidgear_server_to_rust_client_pattern1() {
    conform("python-rust-p1", "^python-rust/p1/", 8, 25);
}
#[test]
fn vidgear_to_vidgear_control_pattern0() {
    conform("python-python-p0", "^python-python/p0/", 8, 25);
}
#[test]
fn vidgear_to_vidgear_control_pattern1() {
    conform("python-python-p1", "^python-python/p1/", 8, 25);
}

#[test]
fn both_implementations_refuse_bidirectional_on_pattern2() {
    conform("refusal", "^refusal/", 1, 4);
}

// Pattern 2 (PUB/SUB), one to one: frames PUB drops by design are counted,
// never taken for corrupt ones; a receiver whose vidgear publisher's
// termination is lost ends by its subscriber timeout (spec/07 §7.12, §7.16).
#[test]
fn rust_server_to_rust_client_pattern2() {
    conform("rust-rust-p2", "^rust-rust/p2/", 8, 8);
}
#[test]
fn rust_server_to_vidgear_client_pattern2() {
    conform("rust-python-p2", "^rust-python/p2/", 8, 8);
}
#[test]
fn vidgear_server_to_rust_client_pattern2() {
    conform("python-rust-p2", "^python-rust/p2/", 8, 8);
}
#[test]
fn vidgear_to_vidgear_control_pattern2() {
    conform("python-python-p2", "^python-python/p2/", 8, 8);
}
