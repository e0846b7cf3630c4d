//! `cargo conform`: the live interop matrix against real vidgear 0.3.6.

use clap::Parser;

/// Run the interoperability matrix against Python vidgear 0.3.6
#[derive(Parser, Debug)]
#[command(name = "netgear-conform", version)]
struct Cli {
    #[command(flatten)]
    args: netgear_conformance::matrix::ConformArgs,
}

fn main() -> std::process::ExitCode {
    netgear_conformance::matrix::run(Cli::parse().args)
}
