//! `cargo test-all`: every test of the workspace, with what those tests
//! need provisioned first.
//!
//! The root crate's `cargo test` is hermetic (the Rust toolchain only, no
//! network). The rest of the workspace is not: the conformance crate runs
//! real vidgear from a venv it makes from PyPI, the system tests run
//! ffmpeg, Chromium, tcp on loopback and network namespaces (root), and the
//! libjpeg-turbo backend needs cmake and nasm to build. This command
//! checks for each of those, installs what is missing through apt when it
//! runs as root, and otherwise stops at once with the exact install line.
//! Then it runs, in order, each suite below; nothing is skipped.

use std::process::{Command, ExitCode};
use std::time::Instant;

/// A program the tests run, and the Debian package that provides it.
struct Need {
    program: &'static str,
    package: &'static str,
    why: &'static str,
}

const NEEDS: &[Need] = &[
    Need {
        program: "g++",
        package: "g++",
        why: "the vendored libzmq is C++",
    },
    Need {
        program: "make",
        package: "make",
        why: "builds libsodium for the `curve` feature",
    },
    Need {
        program: "cmake",
        package: "cmake",
        why: "builds libjpeg-turbo for the `jpeg-turbo` backend",
    },
    Need {
        program: "nasm",
        package: "nasm",
        why: "libjpeg-turbo's SIMD code",
    },
    Need {
        program: "ffmpeg",
        package: "ffmpeg",
        why: "video in (`send --source`)",
    },
    Need {
        program: "chromium",
        package: "chromium",
        why: "the preview test",
    },
    Need {
        program: "ip",
        package: "iproute2",
        why: "the fault tests' network namespaces",
    },
    Need {
        program: "tc",
        package: "iproute2",
        why: "the fault tests' link shaping",
    },
    Need {
        program: "iptables",
        package: "iptables",
        why: "the fault tests' packet loss",
    },
];

/// One `cargo test` invocation of the plan.
struct Suite {
    name: &'static str,
    args: &'static [&'static str],
}

const SUITES: &[Suite] = &[
    Suite {
        name: "workspace (default features: hermetic crate tests, vidgear conformance, system tests, fuzz regressions)",
        args: &["test", "--workspace", "--no-fail-fast"],
    },
    Suite {
        name: "libjpeg-turbo backend: the crate's JPEG tests",
        args: &["test", "-p", "netgear", "--features", "jpeg-turbo", "--test", "jpeg", "--lib"],
    },
    Suite {
        name: "libjpeg-turbo backend: against simplejpeg",
        args: &["test", "-p", "netgear-conformance", "--features", "netgear/jpeg-turbo", "--test", "jpeg_vidgear"],
    },
    Suite {
        // One invocation: one feature set, so libzmq and libsodium are built once.
        name: "secure mode (curve): the crate's CURVE tests, the eavesdropping relay, against vidgear",
        args: &[
            "test", "-p", "netgear", "-p", "netgear-system-tests", "-p", "netgear-conformance",
            "--features", "netgear/curve,netgear-system-tests/curve,netgear-conformance/curve",
            "--test", "secure", "--test", "keys", "--test", "secure_relay", "--test", "secure_vidgear",
        ],
    },
];

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    if task != "test-all" {
        eprintln!("usage: cargo test-all   (runs `cargo run -p xtask -- test-all`)");
        return ExitCode::from(2);
    }
    match test_all() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-all: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test_all() -> Result<(), String> {
    let started = Instant::now();
    provision_system()?;
    provision_venv()?;
    for suite in SUITES {
        let t0 = Instant::now();
        eprintln!("test-all: {} ...", suite.name);
        cargo(suite.args)?;
        eprintln!(
            "test-all: {} passed in {:.0} s",
            suite.name,
            t0.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "test-all: every suite passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn has_program(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn python_has_venv() -> bool {
    Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Debian packages the tests need that this machine lacks.
fn missing_packages() -> Vec<&'static str> {
    let mut packages: Vec<&'static str> = Vec::new();
    let mut add = |p: &'static str| {
        if !packages.contains(&p) {
            packages.push(p);
        }
    };
    if !has_program("python3") {
        add("python3");
    }
    if !python_has_venv() {
        add("python3-venv");
        add("python3-pip");
    }
    for need in NEEDS {
        if !has_program(need.program) {
            eprintln!("test-all: no {} ({})", need.program, need.why);
            add(need.package);
        }
    }
    packages
}

/// Installs what is missing (as root), or says exactly how to.
fn provision_system() -> Result<(), String> {
    let root = is_root();
    let missing = missing_packages();
    if !missing.is_empty() {
        let line = format!("apt-get install -y {}", missing.join(" "));
        if !root {
            return Err(format!(
                "missing system packages; install them with:\n  sudo {line}\nthen run `cargo test-all` again (the network-namespace tests also need root)"
            ));
        }
        eprintln!("test-all: {line}");
        run(Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    if !root {
        return Err("the fault tests run their peers in network namespaces, which needs root: run `cargo test-all` as root".into());
    }
    Ok(())
}

/// The vidgear venv, made now so that a PyPI problem shows up at once.
fn provision_venv() -> Result<(), String> {
    eprintln!("test-all: provisioning the vidgear venv (first run: a minute) ...");
    cargo(&[
        "run",
        "--quiet",
        "-p",
        "netgear-conformance",
        "--bin",
        "netgear-conform",
        "--",
        "--provision",
    ])
}

fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo).args(args))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}
