//! The differential property test against live vidgear 0.3.6.
//!
//! proptest generates whole sessions ([`strategy`]): a configuration
//! (pattern 0, 1 or 2; plain, bidirectional or a multi mode; JPEG with a
//! colourspace, quality and DCT) and, per frame, a message of any JSON
//! kind, a frame of any dtype and shape, and return data (JSON or a
//! frame). Each session runs against one long-lived vidgear process
//! (`conformance/python/prop_peer.py`) that takes its instructions over a
//! control channel (JSON lines on its stdin and stdout), in both
//! directions: netgear's zmq adapters sending to vidgear's receivers
//! ([`Direction::ToVidgear`]), and vidgear's senders to netgear's receivers
//! ([`Direction::FromVidgear`]). Endpoints are ipc sockets in a scratch
//! directory.
//!
//! The oracle (`oracle.rs`) checks every value and every pixel on both
//! ends, names each deliberate deviation of spec/07 that applies, and
//! counts the frames PUB/SUB drops by design. A failing session is shrunk
//! to a minimal one, saved under `conformance/tests/property-regressions/`
//! and replayed first by every later run.

mod from_vidgear;
pub mod model;
mod normalize;
mod oracle;
mod peer;
mod run;
mod strategy;
mod to_vidgear;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use model::Session;
pub use oracle::Verdict;
use peer::Peer;

/// Which implementation sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// netgear's servers send to vidgear's receivers.
    ToVidgear,
    /// vidgear's servers send to netgear's receivers.
    FromVidgear,
}

impl Direction {
    /// Both directions.
    pub const BOTH: [Direction; 2] = [Direction::ToVidgear, Direction::FromVidgear];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Direction::ToVidgear => "netgear-to-vidgear",
            Direction::FromVidgear => "vidgear-to-netgear",
        }
    }
}

/// What a property run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The venv's python (vidgear 0.3.6 installed).
    pub python: PathBuf,
    /// The workspace root.
    pub repo: PathBuf,
    /// Where the peer's log goes.
    pub out: PathBuf,
    /// Generated sessions per direction.
    pub sessions: u64,
    /// The seed of the generator.
    pub seed: u64,
    /// The directions to run.
    pub directions: Vec<Direction>,
    /// Shrink steps at most per failure.
    pub shrink_limit: u32,
}

impl Options {
    /// The regression files' directory.
    pub fn regressions(&self) -> PathBuf {
        self.repo.join("conformance/tests/property-regressions")
    }
}

/// One failing session.
#[derive(Debug)]
pub struct Failure {
    /// The minimal session that still fails.
    pub session: Session,
    /// What the oracle said of it.
    pub failures: Vec<String>,
    /// Where it was saved (none for a replayed regression).
    pub saved: Option<PathBuf>,
    /// How it was found.
    pub found: String,
}

/// The outcome of one direction.
#[derive(Debug)]
pub struct Summary {
    /// The direction.
    pub direction: Direction,
    /// Generated sessions run (regressions not counted).
    pub sessions: u64,
    /// Regression files replayed.
    pub replayed: u64,
    /// The failing sessions.
    pub failures: Vec<Failure>,
    /// Wall time.
    pub elapsed: Duration,
    /// How often each deviation applied.
    pub deviations: BTreeMap<&'static str, u64>,
    /// Frames PUB/SUB dropped by design (pattern 2).
    pub dropped: u64,
    /// Frames sent in all.
    pub frames: u64,
    /// JPEG frames compared.
    pub jpeg_frames: u64,
    /// The lowest PSNR (luma, or gray and CMYK levels) of a decoded JPEG
    /// frame against the encoder's own decode of it, in dB.
    pub jpeg_agreement: Option<f64>,
    /// The lowest (PSNR against the original) − (the encoder's own), in dB.
    pub jpeg_fidelity_margin: Option<f64>,
    /// Restarts of the control peer.
    pub restarts: u32,
}

/// A regression file.
#[derive(Debug, Serialize, Deserialize)]
struct Regression {
    direction: Direction,
    found: String,
    failure: Vec<String>,
    session: Session,
}

/// Runs the sessions (regressions first) of every direction.
pub fn run(options: &Options) -> Result<Vec<Summary>, String> {
    options
        .directions
        .iter()
        .map(|&d| run_direction(options, d))
        .collect()
}

struct Harness {
    peer: Peer,
    scratch: tempfile::TempDir,
    sid: u64,
}

impl Harness {
    fn start(options: &Options, direction: Direction) -> Result<Harness, String> {
        std::fs::create_dir_all(&options.out).map_err(|e| e.to_string())?;
        let log = options
            .out
            .join(format!("property-{}.log", direction.name()));
        let script = options.repo.join("conformance/python/prop_peer.py");
        let peer = Peer::start(&options.python, &script, &log)?;
        let scratch = tempfile::Builder::new()
            .prefix("ngprop")
            .tempdir()
            .map_err(|e| format!("no scratch directory: {e}"))?;
        Ok(Harness {
            peer,
            scratch,
            sid: 0,
        })
    }

    fn run_one(&mut self, direction: Direction, session: &Session) -> Verdict {
        self.sid += 1;
        let obs = run::run_session(
            &mut self.peer,
            direction,
            session,
            self.scratch.path(),
            self.sid,
        );
        if obs.peer_broken {
            if let Err(e) = self.peer.restart() {
                let mut v = Verdict::default();
                v.failures
                    .push(format!("the control peer cannot restart: {e}"));
                return v;
            }
        }
        oracle::judge(session, direction, &obs)
    }
}

fn rng_for(seed: u64, direction: Direction) -> TestRng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(direction.name().as_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &h.finalize())
}

fn run_direction(options: &Options, direction: Direction) -> Result<Summary, String> {
    let started = Instant::now();
    let mut h = Harness::start(options, direction)?;
    let mut summary = Summary {
        direction,
        sessions: 0,
        replayed: 0,
        failures: Vec::new(),
        elapsed: Duration::ZERO,
        deviations: BTreeMap::new(),
        dropped: 0,
        frames: 0,
        jpeg_frames: 0,
        jpeg_agreement: None,
        jpeg_fidelity_margin: None,
        restarts: 0,
    };
    for (path, regression) in regressions(&options.regressions(), direction)? {
        summary.replayed += 1;
        let verdict = h.run_one(direction, &regression.session);
        tally(&mut summary, &regression.session, &verdict);
        if !verdict.failures.is_empty() {
            summary.failures.push(Failure {
                session: regression.session,
                failures: verdict.failures,
                saved: None,
                found: format!("regression {}", path.display()),
            });
        }
    }
    let mut runner = TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        rng_for(options.seed, direction),
    );
    let strategy = strategy::session();
    for case in 0..options.sessions {
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| format!("the generator failed: {e}"))?;
        let session = tree.current();
        let verdict = h.run_one(direction, &session);
        summary.sessions += 1;
        tally(&mut summary, &session, &verdict);
        if !verdict.failures.is_empty() {
            let found = format!("seed {}, {} case {case}", options.seed, direction.name());
            eprintln!(
                "property: {found} FAILED ({}): {}",
                session.summary(),
                verdict.failures[0]
            );
            let (session, failures) =
                shrink(&mut h, direction, &mut tree, verdict, options.shrink_limit);
            let saved = save(
                &options.regressions(),
                direction,
                &found,
                &session,
                &failures,
            );
            summary.failures.push(Failure {
                session,
                failures,
                saved,
                found,
            });
        }
        if (case + 1) % 100 == 0 {
            eprintln!(
                "property: {} {}/{} sessions, {} failure(s), {:.0} s",
                direction.name(),
                case + 1,
                options.sessions,
                summary.failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    summary.restarts = h.peer.starts - 1;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn tally(summary: &mut Summary, session: &Session, verdict: &Verdict) {
    for d in &verdict.deviations {
        *summary.deviations.entry(d).or_default() += 1;
    }
    summary.dropped += verdict.dropped as u64;
    summary.frames += session.steps.len() as u64;
    let log = std::env::var_os("NETGEAR_PROPERTY_JPEG_LOG");
    for score in &verdict.psnr {
        if let (Some(path), Some(j)) = (&log, &session.jpeg) {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(
                    f,
                    "{} {} q{} dct={} {:?} by_vidgear={} fidelity={:.2} reference={:.2} agreement={:.2} luma={:.2}",
                    summary.direction.name(), j.colorspace, j.quality, j.fast_dct, score.shape,
                    score.by_vidgear, score.fidelity, score.reference, score.agreement,
                    score.luma_agreement.unwrap_or(f64::NAN)
                );
            }
        }
        summary.jpeg_frames += 1;
        let low = |m: &mut Option<f64>, x: f64| *m = Some(m.map_or(x, |m: f64| m.min(x)));
        low(
            &mut summary.jpeg_agreement,
            score.luma_agreement.unwrap_or(score.agreement),
        );
        low(
            &mut summary.jpeg_fidelity_margin,
            score.fidelity - score.reference,
        );
    }
}

/// proptest's shrinking: simplify while the session fails, complicate
/// back when a simplification passes.
fn shrink<T: ValueTree<Value = Session>>(
    h: &mut Harness,
    direction: Direction,
    tree: &mut T,
    first: Verdict,
    limit: u32,
) -> (Session, Vec<String>) {
    let mut minimal = (tree.current(), first.failures);
    let mut steps = 0;
    if !tree.simplify() {
        return minimal;
    }
    while steps < limit {
        steps += 1;
        let session = tree.current();
        let verdict = h.run_one(direction, &session);
        if verdict.failures.is_empty() {
            if !tree.complicate() {
                break;
            }
        } else {
            minimal = (session, verdict.failures);
            if !tree.simplify() {
                break;
            }
        }
    }
    eprintln!(
        "property: shrunk in {steps} step(s) to {}: {}",
        minimal.0.summary(),
        minimal.1[0]
    );
    minimal
}

fn save(
    dir: &Path,
    direction: Direction,
    found: &str,
    session: &Session,
    failure: &[String],
) -> Option<PathBuf> {
    let regression = Regression {
        direction,
        found: found.to_owned(),
        failure: failure.to_vec(),
        session: session.clone(),
    };
    let text = serde_json::to_string_pretty(&regression).ok()?;
    let session_text = serde_json::to_string(session).ok()?;
    let hash = hex::encode(&Sha256::digest(session_text.as_bytes())[..8]);
    let path = dir.join(format!("{}-{hash}.json", direction.name()));
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text + "\n"));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            eprintln!("property: cannot save {}: {e}", path.display());
            None
        }
    }
}

fn regressions(dir: &Path, direction: Direction) -> Result<Vec<(PathBuf, Regression)>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut de = serde_json::Deserializer::from_str(&text);
        de.disable_recursion_limit();
        let r = Regression::deserialize(&mut de)
            .map_err(|e| format!("{}: not a regression file: {e}", path.display()))?;
        if r.direction == direction {
            out.push((path, r));
        }
    }
    Ok(out)
}

/// The report of a run, ending with `property: N sessions, F failures`.
pub fn report(summaries: &[Summary], sessions: u64) -> String {
    let mut out = String::new();
    let mut failures = 0;
    for s in summaries {
        failures += s.failures.len();
        out += &format!(
            "property: {}: {} session(s) + {} regression(s) replayed, {} frame(s), {} failure(s), {:.1} s ({:.1} ms per session), {} dropped by PUB/SUB, {} peer restart(s){}\n",
            s.direction.name(),
            s.sessions,
            s.replayed,
            s.frames,
            s.failures.len(),
            s.elapsed.as_secs_f64(),
            s.elapsed.as_secs_f64() * 1000.0 / (s.sessions + s.replayed).max(1) as f64,
            s.dropped,
            s.restarts,
            match (s.jpeg_agreement, s.jpeg_fidelity_margin) {
                (Some(a), Some(f)) => format!(
                    ", {} JPEG frame(s): lowest agreement (luma, or gray/CMYK) with the encoder's own \
                     decode {a:.2} dB, lowest fidelity against the original relative to it {f:+.2} dB",
                    s.jpeg_frames
                ),
                _ => String::new(),
            },
        );
        for (d, n) in &s.deviations {
            out += &format!("property:   {n:6} × {d}\n");
        }
        for f in &s.failures {
            out += &format!(
                "property:   FAILED {} ({}){}\n",
                f.found,
                f.session.summary(),
                f.saved
                    .as_ref()
                    .map_or(String::new(), |p| format!(", saved as {}", p.display()))
            );
            for line in f.failures.iter().take(5) {
                out += &format!("property:     {line}\n");
            }
        }
    }
    out += &format!("property: {sessions} sessions, {failures} failures\n");
    out
}
