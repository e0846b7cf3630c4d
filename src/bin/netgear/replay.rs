//! `netgear replay`: replay recorded sessions against netgear's state
//! machines (spec/09-session-files.md §9.5) and print what differs.

use std::path::PathBuf;

use clap::Args;
use netgear::session_file::{render_part, replay, SessionFile, What};

use crate::CliError;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Session files (.ngs) to replay
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Also list every recorded event
    #[arg(long)]
    pub list: bool,
}

fn list(file: &SessionFile) {
    let h = &file.header;
    println!(
        "  recorded {} by {}; server: {} {} {}; client: {} {} {}",
        h.recorded_at,
        h.recorder,
        h.server.implementation,
        h.server.version,
        h.server.args,
        h.client.implementation,
        h.client.version,
        h.client.args
    );
    for (i, e) in file.events.iter().enumerate() {
        match &e.what {
            What::Message {
                dir,
                sizes,
                parts,
                forwarded,
            } => {
                let first = parts
                    .first()
                    .and_then(|p| file.part_bytes(p).ok())
                    .map(|b| render_part(&b, 0).0)
                    .unwrap_or_default();
                println!(
                    "  #{i:<4} {:>7} ms  link {}  {dir}{}  sizes {sizes:?}  {first}",
                    e.t_ms,
                    e.link,
                    if *forwarded { "" } else { " (NOT FORWARDED)" }
                );
            }
            What::Link { side, change } => println!(
                "  #{i:<4} {:>7} ms  link {}  {side:?} side {change:?}",
                e.t_ms, e.link
            ),
        }
    }
}

/// Exit status: 0 when every file matched, 1 on a mismatch, 2 when a file
/// cannot be read.
pub fn run(args: ReplayArgs) -> Result<(), CliError> {
    let mut failed = Vec::new();
    for path in &args.files {
        let file = SessionFile::read(path).map_err(|e| CliError::Usage(e.to_string()))?;
        let report = replay(&file);
        print!("{report}");
        if args.list {
            list(&file);
        }
        if !report.passed() {
            failed.push(path.display().to_string());
        }
    }
    if args.files.len() > 1 {
        println!(
            "{} of {} session(s) match",
            args.files.len() - failed.len(),
            args.files.len()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Runtime(format!(
            "replay mismatch in {}",
            failed.join(", ")
        )))
    }
}
