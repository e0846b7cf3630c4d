//! What the live tests share: the matrix runner.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use netgear::json::{parse, Value};
use netgear_conformance::python;
use netgear_conformance::venv::Venv;
use netgear_testkit::{netgear_bin, repo};

/// Runs the matrix (`cargo conform`) on the cells matching `filter` (comma-separated),
/// `frames` frames each, with reports under target/conformance/tests/GROUP,
/// and asserts that exactly `cells` cells ran and all passed.
pub fn conform(group: &str, filter: &str, frames: u32, cells: usize) {
    conform_with(netgear_bin(), group, filter, frames, cells);
}

/// [`conform`] with the Rust peers running `bin` (for the secure cells:
/// the `netgear` command built with the `curve` feature).
pub fn conform_with(bin: &Path, group: &str, filter: &str, frames: u32, cells: usize) {
    python(); // provision first, failing with instructions if impossible
    let out_dir = repo().join("target/conformance/tests").join(group);
    let out = Command::new(env!("CARGO_BIN_EXE_netgear-conform"))
        .args([
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
        .arg(Venv::default().dir)
        .arg("--netgear")
        .arg(bin)
        .arg("--netgear-curve")
        .arg(bin)
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
