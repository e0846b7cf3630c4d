//! The live interop matrix against real vidgear 0.3.6 (spec §all), run
//! through `netgear conform`, one test per implementation pair and pattern.
//! The venv is provisioned on first use; without Python these tests fail
//! and say how to provide it.

mod common;

use std::process::Command;

use common::{python, repo, venv_dir, NETGEAR};

fn conform(group: &str, filter: &str) {
    if filter.contains("python") {
        python(); // provision first, failing with instructions if impossible
    }
    let out_dir = repo().join("target/conformance/tests").join(group);
    let out = Command::new(NETGEAR)
        .args([
            "conform", "--jobs", "1", "--frames", "8", "--filter", filter, "--out",
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
    assert!(table.contains(" 0 failed"), "unexpected report:\n{table}");
    let report = std::fs::read_to_string(out_dir.join("report.json")).expect("report.json written");
    let report = netgear::json::parse(report.as_bytes()).expect("report.json is JSON");
    let cells = match report.get("cells") {
        Some(netgear::json::Value::Array(cells)) => cells.len(),
        other => panic!("report without cells: {other:?}"),
    };
    assert!(cells >= 20, "only {cells} cells ran for {filter}");
}

#[test]
fn rust_server_to_rust_client_pattern0() {
    conform("rust-rust-p0", "rust-rust/p0/");
}
#[test]
fn rust_server_to_rust_client_pattern1() {
    conform("rust-rust-p1", "rust-rust/p1/");
}
#[test]
fn rust_server_to_vidgear_client_pattern0() {
    conform("rust-python-p0", "rust-python/p0/");
}
#[test]
fn rust_server_to_vidgear_client_pattern1() {
    conform("rust-python-p1", "rust-python/p1/");
}
#[test]
fn vidgear_server_to_rust_client_pattern0() {
    conform("python-rust-p0", "python-rust/p0/");
}
#[test]
fn vidgear_server_to_rust_client_pattern1() {
    conform("python-rust-p1", "python-rust/p1/");
}
#[test]
fn vidgear_to_vidgear_control_pattern0() {
    conform("python-python-p0", "python-python/p0/");
}
#[test]
fn vidgear_to_vidgear_control_pattern1() {
    conform("python-python-p1", "python-python/p1/");
}

#[test]
fn both_implementations_refuse_bidirectional_on_pattern2() {
    python();
    let out_dir = repo().join("target/conformance/tests/refusal");
    let out = Command::new(NETGEAR)
        .args(["conform", "--filter", "refusal/", "--out"])
        .arg(&out_dir)
        .arg("--venv")
        .arg(venv_dir())
        .output()
        .expect("run netgear conform");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.contains("4 passed, 0 failed"), "{table}");
}
