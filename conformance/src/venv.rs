//! Provisioning the Python virtual environment with pinned vidgear.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::OnceLock;

pub const HOW_TO_PROVIDE: &str = "\
The interop cells need Python 3 with the venv module and pip, and access to the package registry:
  - Debian/Ubuntu: apt-get install python3 python3-venv python3-pip
  - or point NETGEAR_PYTHON (or --python) at a Python 3.9+ interpreter that has venv and pip
  - offline: create target/conformance/venv yourself and pip install -r conformance/python/requirements.txt into it";

/// Where the venv goes and what makes it.
#[derive(Debug, Clone)]
pub struct Venv {
    /// The venv directory.
    pub dir: PathBuf,
    /// The Python that creates it (default: `$NETGEAR_PYTHON`, else `python3`).
    pub base_python: Option<PathBuf>,
    /// The workspace root, for conformance/python/requirements.txt.
    pub repo: PathBuf,
}

impl Default for Venv {
    /// The venv every test, bench and `cargo conform` shares:
    /// target/conformance/venv of the workspace.
    fn default() -> Venv {
        let repo = netgear_testkit::repo().to_path_buf();
        Venv {
            dir: repo.join("target/conformance/venv"),
            base_python: None,
            repo,
        }
    }
}

/// The default venv's python, provisioned on first use. Panics, saying how
/// to provide Python, when that is impossible: the interop tests are never
/// skipped.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| Venv::default().provision()) {
        Ok(p) => p,
        Err(e) => {
            panic!("the vidgear interop tests need Python (not skipped): {e}\n{HOW_TO_PROVIDE}")
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Venv {
    /// Creates the venv with the pinned requirements, once (an exclusive file
    /// lock keeps parallel test processes from racing), and returns its python.
    pub fn provision(&self) -> Result<PathBuf, String> {
        let requirements = self.repo.join("conformance/python/requirements.txt");
        let wanted = fs::read_to_string(&requirements)
            .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
        let venv = &self.dir;
        let parent = venv.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let lock = fs::File::create(parent.join("venv.lock")).map_err(|e| e.to_string())?;
        lock.lock()
            .map_err(|e| format!("cannot lock the venv: {e}"))?;
        let python = venv.join("bin/python");
        let stamp = venv.join(".netgear-requirements");
        if python.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return Ok(python);
        }
        let base = self
            .base_python
            .clone()
            .or_else(|| std::env::var_os("NETGEAR_PYTHON").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("python3"));
        eprintln!(
            "conform: creating {} with {} (first use only)",
            venv.display(),
            base.display()
        );
        if !python.exists() {
            run(Command::new(&base).arg("-m").arg("venv").arg(venv))?;
        }
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements))?;
        check_import(&python)?;
        fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
        Ok(python)
    }
}

fn check_import(python: &Path) -> Result<(), String> {
    run(Command::new(python).args([
        "-c",
        "import vidgear.version as v, zmq, numpy; assert v.__version__ == '0.3.6', v.__version__",
    ]))
}
