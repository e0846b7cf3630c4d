//! The `netgear` binary, for crates of the workspace other than `netgear`
//! itself (whose tests have `CARGO_BIN_EXE_netgear`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The `netgear` command: `$NETGEAR_BIN` when set, else the binary cargo
/// builds (once per process) with the same profile as the caller. Building
/// it here is what lets `cargo test -p netgear-conformance` run alone.
pub fn netgear_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("NETGEAR_BIN") {
            return PathBuf::from(path);
        }
        build().unwrap_or_else(|e| panic!("cannot build the netgear binary: {e}"))
    })
}

/// The `netgear` command built with the `curve` feature (secure mode):
/// `$NETGEAR_CURVE_BIN` when set, else built once per process and copied
/// to `netgear-curve` beside the default binary, so that the two builds
/// never replace each other under a running test.
pub fn netgear_curve_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("NETGEAR_CURVE_BIN") {
            return PathBuf::from(path);
        }
        let built = build_with(&["curve"])
            .unwrap_or_else(|e| panic!("cannot build netgear with --features curve: {e}"));
        let copy = built.with_file_name("netgear-curve");
        std::fs::copy(&built, &copy).unwrap_or_else(|e| {
            panic!("cannot copy {} to {}: {e}", built.display(), copy.display())
        });
        copy
    })
}

fn build() -> Result<PathBuf, String> {
    build_with(&[])
}

fn build_with(features: &[&str]) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo())
        .args(["build", "--quiet", "-p", "netgear", "--bin", "netgear"])
        .arg("--message-format=json");
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    // The artifact line of the binary names its path.
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|l| l.contains("\"compiler-artifact\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + l[start..].find('"')?;
            Some(PathBuf::from(&l[start..end]))
        })
        .ok_or_else(|| "cargo named no netgear executable".into())
}
