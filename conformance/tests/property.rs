//! The differential property test against live vidgear 0.3.6
//! (`netgear_conformance::property`): generated sessions, each run against
//! one long-lived vidgear process, in both directions, with every value and
//! pixel compared on both ends. The regression files of
//! `tests/property-regressions/` are replayed first.
//!
//! `NETGEAR_PROPERTY_SESSIONS` sets the number of sessions per direction
//! (default 300), `NETGEAR_PROPERTY_SEED` the seed (default: random,
//! printed). The venv is provisioned on first use; without Python these
//! tests fail and say how to provide it.

use netgear_conformance::property::{self, Direction, Options};
use netgear_conformance::python;
use netgear_testkit::repo;

const SESSIONS: u64 = 300;

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
    )
}

fn generated_sessions_agree(direction: Direction) {
    let sessions = env_u64("NETGEAR_PROPERTY_SESSIONS").unwrap_or(SESSIONS);
    let seed = env_u64("NETGEAR_PROPERTY_SEED").unwrap_or_else(|| fastrand::u64(..));
    eprintln!("property: {} with seed {seed}", direction.name());
    let options = Options {
        python: python().to_path_buf(),
        repo: repo().to_path_buf(),
        out: repo().join("target/conformance/tests/property"),
        sessions,
        seed,
        directions: vec![direction],
        shrink_limit: 500,
    };
    let summaries = property::run(&options).unwrap_or_else(|e| panic!("property run: {e}"));
    let report = property::report(&summaries, sessions);
    eprint!("{report}");
    let summary = &summaries[0];
    assert_eq!(summary.sessions, sessions, "{report}");
    assert!(
        summary.failures.is_empty(),
        "netgear and vidgear disagree (seed {seed}; the minimal sessions are saved \
         under conformance/tests/property-regressions/ and replayed first from now on):\n{report}"
    );
}

#[test]
fn generated_sessions_from_netgear_servers_reach_live_vidgear_receivers_intact() {
    generated_sessions_agree(Direction::ToVidgear);
}

#[test]
fn generated_sessions_from_live_vidgear_servers_reach_netgear_receivers_intact() {
    generated_sessions_agree(Direction::FromVidgear);
}
