//! `netgear conform`: the live interop matrix against real vidgear 0.3.6.
//!
//! Every cell starts a receiver and a sender as separate processes — this
//! binary or `conformance/python/peer.py` driving vidgear — with the same
//! command-line contract, then checks every value and every frame hash on
//! both ends, the exit codes (the termination handshake) and the timing.

mod cases;
mod check;
mod jpeg;
mod multi;
mod report;
mod runner;
mod venv;

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `netgear conform`.
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
    /// Where reports, logs and the venv go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/conformance"))]
    pub out: PathBuf,
    /// The Python virtual environment (default: OUT/venv).
    #[arg(long)]
    pub venv: Option<PathBuf>,
    /// The repository root (for conformance/python).
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    pub repo: PathBuf,
}

/// Runs the matrix; exit status 0 when every selected cell passed.
pub fn run(args: ConformArgs) -> ExitCode {
    if args.provision {
        return match venv::provision(&args) {
            Ok(python) => {
                println!("{}", python.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "error: cannot provision the vidgear venv: {e}\n{}",
                    venv::HOW_TO_PROVIDE
                );
                ExitCode::from(1)
            }
        };
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
        match venv::provision(&args) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("error: cannot provision the vidgear venv: {e}");
                eprintln!("{}", venv::HOW_TO_PROVIDE);
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
