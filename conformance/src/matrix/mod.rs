//! The live interop matrix against real vidgear 0.3.6 (`cargo conform`).
//!
//! Every cell starts a receiver and a sender as separate processes — this
//! binary or `conformance/python/peer.py` driving vidgear — with the same
//! command-line contract, then checks every value and every frame hash on
//! both ends, the exit codes (the termination handshake) and the timing.

mod cases;
pub(crate) mod check;
mod inflight;
mod jpeg;
mod live;
mod multi;
mod multi_jpeg;
mod report;
pub(crate) mod runner;
mod secure;

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cargo conform` (the `netgear-conform` binary).
#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// Run only the cells whose id contains one of these strings, or starts
    /// with one given as `^PREFIX` (ids look like `rust-python/p1/huge-int`).
    #[arg(long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// List the cells and exit.
    #[arg(long)]
    pub list: bool,
    /// Only create the vidgear venv (if needed) and print its python's path.
    #[arg(long)]
    pub provision: bool,
    /// Cells run at the same time.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Frames per cell.
    #[arg(long, default_value_t = 12)]
    pub frames: u64,
    /// The Python used to create the venv (default: $NETGEAR_PYTHON or python3).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Where reports, logs and the venv go (default: the workspace's
    /// target/conformance).
    #[arg(long, default_value_os_t = default_out())]
    pub out: PathBuf,
    /// The Python virtual environment (default: OUT/venv).
    #[arg(long)]
    pub venv: Option<PathBuf>,
    /// The workspace root (for conformance/python).
    #[arg(long, default_value_os_t = netgear_testkit::repo().to_path_buf())]
    pub repo: PathBuf,
    /// The `netgear` command the Rust peers run (default: $NETGEAR_BIN, or
    /// the one cargo builds from this workspace).
    #[arg(long)]
    pub netgear: Option<PathBuf>,
    /// The `netgear` command the secure cells' Rust peers run, built with
    /// the `curve` feature (default: $NETGEAR_CURVE_BIN, or the one cargo
    /// builds from this workspace with `--features curve`).
    #[arg(long)]
    pub netgear_curve: Option<PathBuf>,
    /// Instead of the matrix, run N generated sessions per direction of
    /// the property test against live vidgear (regression files first);
    /// ends with `property: N sessions, F failures`
    #[arg(long, value_name = "N")]
    pub property: Option<u64>,
    /// The property test's seed (default: a random one, printed)
    #[arg(long, value_name = "S", requires = "property")]
    pub seed: Option<u64>,
}

impl ConformArgs {
    /// The venv these arguments name.
    fn venv(&self) -> crate::venv::Venv {
        crate::venv::Venv {
            dir: self.venv.clone().unwrap_or_else(|| self.out.join("venv")),
            base_python: self.python.clone(),
            repo: self.repo.clone(),
        }
    }
}

fn default_out() -> PathBuf {
    netgear_testkit::repo().join("target/conformance")
}

/// Runs the matrix; exit status 0 when every selected cell passed.
pub fn run(args: ConformArgs) -> ExitCode {
    if args.provision {
        return match args.venv().provision() {
            Ok(python) => {
                println!("{}", python.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "error: cannot provision the vidgear venv: {e}\n{}",
                    crate::venv::HOW_TO_PROVIDE
                );
                ExitCode::from(1)
            }
        };
    }
    if let Some(sessions) = args.property {
        return property(&args, sessions);
    }
    let cells: Vec<cases::Cell> = cases::matrix()
        .into_iter()
        .filter(|c| {
            let id = c.id();
            args.filter.is_empty()
                || args.filter.iter().any(|f| match f.strip_prefix('^') {
                    Some(prefix) => id.starts_with(prefix),
                    None => id.contains(f.as_str()),
                })
        })
        .collect();
    if args.list {
        for c in &cells {
            println!("{}", c.id());
        }
        return ExitCode::SUCCESS;
    }
    if cells.is_empty() {
        eprintln!("error: no conformance cell matches {:?}", args.filter);
        return ExitCode::from(2);
    }
    let needs_python = cells.iter().any(cases::Cell::uses_python);
    let python = if needs_python {
        match args.venv().provision() {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("error: cannot provision the vidgear venv: {e}");
                eprintln!("{}", crate::venv::HOW_TO_PROVIDE);
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let env = runner::Env::new(&args, python);
    let results = runner::run_all(&env, cells, args.jobs.max(1));
    let all_passed = results.iter().all(|r| r.passed());
    if let Err(e) = report::write(&args.out, &results) {
        eprintln!("error: cannot write the report: {e}");
        return ExitCode::from(1);
    }
    print!("{}", report::table(&results));
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--property N`: the property test against live vidgear.
fn property(args: &ConformArgs, sessions: u64) -> ExitCode {
    let python = match args.venv().provision() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot provision the vidgear venv: {e}");
            eprintln!("{}", crate::venv::HOW_TO_PROVIDE);
            return ExitCode::from(1);
        }
    };
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    eprintln!("property: seed {seed}");
    let options = crate::property::Options {
        python,
        repo: args.repo.clone(),
        out: args.out.clone(),
        sessions,
        seed,
        directions: crate::property::Direction::BOTH.to_vec(),
        shrink_limit: 500,
    };
    match crate::property::run(&options) {
        Ok(summaries) => {
            print!("{}", crate::property::report(&summaries, sessions));
            if summaries.iter().all(|s| s.failures.is_empty()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            println!("property: 0 sessions, 1 failures");
            ExitCode::from(1)
        }
    }
}
