//! `netgear`: stream frames with NetGear (vidgear's ZeroMQ protocol), test
//! a link, and script it.
//!
//! Exit status: 0 on success, 2 on an invalid configuration or argument,
//! 1 on a runtime failure (the peer gone after the retries, a socket error).

mod alloc;
mod args;
mod frames;
mod natural;
mod npy;
mod output;
mod preview;
mod receive;
mod record;
mod replay;
mod runstats;
mod secure;
mod send;
mod synth;

use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use netgear::transport::zmq::Error;

#[derive(Parser, Debug)]
#[command(
    name = "netgear",
    version,
    about = "Stream video frames with NetGear, vidgear's ZeroMQ protocol",
    long_about = "Stream video frames with NetGear, vidgear's ZeroMQ protocol (wire-compatible with \
                  vidgear 0.3.6).\n\n`netgear receive` binds and receives; `netgear send` connects and \
                  sends synthetic frames. Start either first.\n\nExit status: 0 on success, 2 on an \
                  invalid configuration or argument, 1 on a runtime failure (peer gone after the \
                  retries). Only --json lines go to stdout; progress, the summary and logs go to stderr."
)]
struct Cli {
    /// More library logs on stderr (-v info, -vv debug, -vvv trace);
    /// RUST_LOG works too (default: warnings only)
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 900)]
    verbose: u8,

    /// No progress lines and no closing summary on stderr
    #[arg(short, long, global = true, display_order = 901)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect to a receiver and send synthetic frames (vidgear's NetGear in send mode)
    Send(send::SendArgs),
    /// Bind and receive frames (vidgear's NetGear in receive mode)
    Receive(receive::ReceiveArgs),
    /// Relay between a server and a client, recording every message to a session file
    Record(record::RecordArgs),
    /// Replay recorded sessions against netgear's state machines (exit 1 on a mismatch)
    Replay(replay::ReplayArgs),
    /// Write a fresh server and client key set for secure mode, in vidgear's layout
    Keys(secure::KeysArgs),
}

/// Why a command failed, and so its exit status.
#[derive(Debug)]
pub enum CliError {
    /// Exit 2: the configuration or an argument is invalid.
    Usage(String),
    /// Exit 1: something failed while running.
    Runtime(String),
}

impl CliError {
    fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Runtime(m) => f.write_str(m),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        match e {
            e if e.is_usage() => CliError::Usage(e.to_string()),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

/// Set by Ctrl-C: finish the current frame, close, summarise, exit 0.
pub type StopFlag = Arc<AtomicBool>;

fn install_ctrlc() -> StopFlag {
    let stop = StopFlag::default();
    let flag = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("netgear: interrupted again; quitting at once");
            std::process::exit(130);
        }
        eprintln!("netgear: interrupted; closing (Ctrl-C again to quit at once)");
    });
    if let Err(e) = installed {
        tracing::warn!(error = %e, "cannot catch Ctrl-C");
    }
    stop
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::EnvFilter;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let level = match verbose {
        0 => match std::env::var_os("RUST_LOG") {
            // Directives need EnvFilter (and its regex engine); a plain
            // level does not, which keeps a receiver's memory small.
            Some(_) => match EnvFilter::try_from_default_env() {
                Ok(filter) => {
                    let _ = builder.with_env_filter(filter).try_init();
                    return;
                }
                Err(_) => LevelFilter::WARN,
            },
            None => LevelFilter::WARN,
        },
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let _ = builder.with_max_level(level).try_init();
}

fn main() -> ExitCode {
    alloc::keep_freed_frames();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Send(args) => send::run(args, cli.quiet, install_ctrlc()),
        Command::Receive(args) => receive::run(args, cli.quiet, install_ctrlc()),
        Command::Record(args) => record::run(args, cli.quiet, install_ctrlc()),
        Command::Replay(args) => replay::run(args),
        Command::Keys(args) => secure::keys(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.code())
        }
    }
}
