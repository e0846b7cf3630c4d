//! The JPEG cells of the multi modes (spec/06 §6.2, §6.3), pattern 1:
//!
//! * `jpeg-multi/servers/<servers>-<hub>/<cs>`: two servers send JPEG
//!   frames of their own shapes to one hub, which saves what it decodes;
//! * `jpeg-multi/clients/<server>-<clients>/<cs>`: one server deals JPEG
//!   frames out to two clients, which save what they decode.
//!
//! Multi-Server: the servers stream until the hub has shown enough of each
//! one's frames, then are stopped. Multi-Client: the server sends a fixed
//! number of frames and terminates by itself. Every decoded frame must be within `MIN_PSNR_DB` of the natural
//! frame it was made from: per port the j-th frame of that server
//! (Multi-Server), or the frame whose reply names the client
//! (Multi-Client).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use netgear::json::{parse, Value};
use netgear::wire::Colorspace;

use super::cases::{Cell, Impl, Kind};
use super::jpeg::check_saved;
use super::live::{Done, Live};
use super::multi::{first_unbound, free_ports, save_logs, stream_until_hub_shows};
use super::runner::{
    finish, save_role_logs, start, tail, tempdir_in, wait_bound, CellResult, Env, Finished,
};

/// Which side is many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Many {
    /// Many servers, one hub.
    Servers,
    /// One server, many clients.
    Clients,
}

/// One multi-mode JPEG cell.
#[derive(Debug, Clone)]
pub struct MultiJpegCell {
    pub many: Many,
    /// The single end: the hub (`Servers`) or the server (`Clients`).
    pub hub: Impl,
    /// The many ends.
    pub peers: Vec<Impl>,
    /// A colourspace name.
    pub colorspace: &'static str,
}

impl MultiJpegCell {
    pub fn id(&self) -> String {
        let peers = self.peers[0];
        let cs = self.colorspace.to_lowercase();
        match self.many {
            Many::Servers => format!("jpeg-multi/servers/{peers}-{}/{cs}", self.hub),
            Many::Clients => format!("jpeg-multi/clients/{}-{peers}/{cs}", self.hub),
        }
    }

    pub fn uses_python(&self) -> bool {
        self.hub == Impl::Python || self.peers.contains(&Impl::Python)
    }

    fn colorspace(&self) -> Colorspace {
        self.colorspace
            .parse()
            .expect("the cells name real colourspaces")
    }
}

/// The multi-mode JPEG cells: netgear against vidgear in both roles.
pub fn cells() -> Vec<Cell> {
    use Impl::{Python as P, Rust as R};
    let cell = |many, hub, peers: [Impl; 2], colorspace| Cell {
        kind: Kind::MultiJpeg(MultiJpegCell {
            many,
            hub,
            peers: peers.to_vec(),
            colorspace,
        }),
    };
    vec![
        cell(Many::Servers, R, [P, P], "BGR"),
        cell(Many::Servers, P, [R, R], "BGR"),
        cell(Many::Clients, R, [P, P], "RGBA"),
        cell(Many::Clients, P, [R, R], "RGBA"),
    ]
}

/// Server i's frame shape: its own, so that the hub's frames tell the
/// servers apart.
fn shape(cs: Colorspace, i: usize) -> Vec<usize> {
    let mut s = vec![240 + 16 * i, 320];
    if cs.channels() > 1 {
        s.push(cs.channels());
    }
    s
}

fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub fn run(env: &Env, result: &mut CellResult, cell: &MultiJpegCell) -> Result<(), String> {
    let scratch = tempdir_in(&env.out)?;
    let outcome = match cell.many {
        Many::Servers => servers(env, result, cell, &scratch),
        Many::Clients => clients(env, result, cell, &scratch),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

fn lines(p: &Finished) -> Vec<Value> {
    p.lines
        .iter()
        .filter_map(|(_, t)| parse(t.as_bytes()).ok())
        .collect()
}

fn exit_ok(result: &mut CellResult, role: &str, p: &Finished) {
    if p.code != Some(0) {
        result
            .failures
            .push(format!("{role} exit {:?}: {}", p.code, tail(&p.stderr)));
    }
}

fn wait_all(ports: &[u16]) -> Result<(), String> {
    for &port in ports {
        if !wait_bound(port, None, Duration::from_secs(30)) {
            return Err(format!("nothing bound port {port}"));
        }
    }
    Ok(())
}

/// Many servers, one hub: the servers stream until the hub has shown
/// `--frames` of each one's frames, then are stopped (as Ctrl-C would) and
/// terminate. They are not given a fixed count: the hub ends once every
/// server it has heard from has terminated (spec/06 §6.2.5), so a server
/// that finished before a slower one's first frame would end the cell
/// early.
fn servers(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiJpegCell,
    scratch: &Path,
) -> Result<(), String> {
    let cs = cell.colorspace();
    let ports = free_ports(cell.peers.len());
    let dir = scratch.join("hub");
    let mut hub = env.command(cell.hub, "receive");
    hub.args(["--multiserver", "--port", &ports.join(",")])
        .args(["--pattern", "1", "--json", "--save-dir"])
        .arg(&dir);
    let hub = Live::start("hub".into(), cell.hub, hub)?;
    if let Some(i) = first_unbound(&ports) {
        return Err(format!("nothing bound port {}", ports[i]));
    }
    let mut procs = Vec::new();
    for (i, who) in cell.peers.iter().enumerate() {
        let mut tx = env.command(*who, "send");
        tx.args([
            "--multiserver",
            "--port",
            &ports[i],
            "--pattern",
            "1",
            "--json",
        ])
        .args(["--frames", "5000", "--fps", "25"])
        .args([
            "--shape",
            &shape_text(&shape(cs, i)),
            "--content",
            "natural",
        ])
        .args(["--jpeg", cell.colorspace, "--jpeg-quality", "90"]);
        procs.push(Live::start(format!("server{i}"), *who, tx)?);
    }
    let shown = stream_until_hub_shows(env.frames.max(1) as usize, hub, &mut procs, &ports);
    for p in &procs {
        p.stop();
    }
    let sent: Vec<Done> = procs
        .into_iter()
        .map(|p| p.finish(Duration::from_secs(30), false))
        .collect();
    let hub = match shown {
        Ok(hub) => hub.finish(Duration::from_secs(20), true),
        Err(e) => {
            result.failures.push(e);
            save_logs(env, &result.id, &sent);
            return Ok(());
        }
    };
    for s in sent.iter().chain([&hub]) {
        if s.code != Some(0) || (s.stopped && s.role == "hub") {
            result.failures.push(format!(
                "{} exit {:?}{}: {}",
                s.role,
                s.code,
                if s.stopped {
                    " (stopped by the harness)"
                } else {
                    ""
                },
                tail(&s.stderr)
            ));
        }
    }
    check_hub_frames(result, cs, (&ports, &dir), &hub, env.frames);
    if !result.failures.is_empty() {
        let mut all = sent;
        all.push(hub);
        save_logs(env, &result.id, &all);
    }
    Ok(())
}

/// Per port, the frames the hub showed are that server's natural frames
/// 0, 1, 2, ... in order, each within the PSNR bound, and at least
/// `frames` of them.
fn check_hub_frames(
    result: &mut CellResult,
    cs: Colorspace,
    (ports, dir): (&[String], &Path),
    hub: &Done,
    frames: u64,
) {
    let mut per_port = vec![0u64; ports.len()];
    let mut worst = f64::INFINITY;
    for (seq, text) in hub.lines.iter().enumerate() {
        let line = parse(text.as_bytes()).unwrap_or_default();
        let port = line.get("port").and_then(Value::as_str).unwrap_or("");
        let Some(i) = ports.iter().position(|p| p == port) else {
            result.failures.push(format!(
                "hub frame {seq} under port {port:?}, none of the servers'"
            ));
            return;
        };
        let k = per_port[i];
        per_port[i] += 1;
        let saved = dir.join(format!("frame_{seq:06}.npy"));
        match check_saved(&saved, cs, &shape(cs, i), k) {
            Ok(db) => worst = worst.min(db),
            Err(e) => {
                result
                    .failures
                    .push(format!("hub frame {seq} (port {port}, its frame {k}): {e}"));
                return;
            }
        }
    }
    if per_port.iter().any(|&n| n < frames) {
        result.failures.push(format!(
            "frames per port {per_port:?}, expected at least {frames} each"
        ));
    }
    if worst.is_finite() {
        result.notes.push(format!("lowest PSNR {worst:.2} dB"));
    }
}

fn clients(
    env: &Env,
    result: &mut CellResult,
    cell: &MultiJpegCell,
    scratch: &Path,
) -> Result<(), String> {
    let cs = cell.colorspace();
    let ports = netgear_testkit::free_ports(cell.peers.len());
    let dirs: Vec<PathBuf> = (0..ports.len())
        .map(|c| scratch.join(format!("client{c}")))
        .collect();
    let running = cell
        .peers
        .iter()
        .enumerate()
        .map(|(c, who)| {
            let mut rx: Command = env.command(*who, "receive");
            rx.args([
                "--multiclient",
                "--port",
                &ports[c].to_string(),
                "--pattern",
                "1",
                "--json",
            ])
            .arg("--save-dir")
            .arg(&dirs[c]);
            start(rx)
        })
        .collect::<Result<Vec<_>, _>>()?;
    wait_all(&ports)?;
    let total = env.frames * ports.len() as u64;
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut tx = env.command(cell.hub, "send");
    tx.args(["--multiclient", "--port", &list, "--pattern", "1", "--json"])
        .args([
            "--frames",
            &total.to_string(),
            "--shape",
            &shape_text(&shape(cs, 0)),
        ])
        .args([
            "--content",
            "natural",
            "--jpeg",
            cell.colorspace,
            "--jpeg-quality",
            "90",
        ]);
    let server = finish(start(tx)?, Duration::from_secs(120));
    let received: Vec<Finished> = running
        .into_iter()
        .map(|r| finish(r, Duration::from_secs(15)))
        .collect();
    exit_ok(result, "server", &server);
    for (c, r) in received.iter().enumerate() {
        exit_ok(result, &format!("client{c}"), r);
    }
    // Which client answered frame k, by the port in the server's lines.
    let owners: Vec<Option<usize>> = lines(&server)
        .iter()
        .map(|l| {
            let port = l.get("port").and_then(Value::as_str).unwrap_or("");
            ports.iter().position(|p| p.to_string() == port)
        })
        .collect();
    if owners.len() as u64 != total || owners.iter().any(Option::is_none) {
        result
            .failures
            .push(format!("the server's replies name the clients {owners:?}"));
    } else {
        check_clients(result, (cs, &dirs), &owners, &received);
    }
    if !result.failures.is_empty() {
        let roles: Vec<String> = (0..received.len()).map(|c| format!("client{c}")).collect();
        let mut procs: Vec<(&str, &Finished)> =
            roles.iter().map(String::as_str).zip(&received).collect();
        procs.push(("server", &server));
        save_role_logs(&env.out, &result.id, &procs);
    }
    Ok(())
}

/// Every frame each client printed is, in order, one of the frames the
/// server's replies say that client answered, within the PSNR bound.
fn check_clients(
    result: &mut CellResult,
    (cs, dirs): (Colorspace, &[PathBuf]),
    owners: &[Option<usize>],
    received: &[Finished],
) {
    let total = owners.len() as u64;
    let mut worst = f64::INFINITY;
    for (c, r) in received.iter().enumerate() {
        let mine: Vec<u64> = (0..total)
            .filter(|&k| owners[k as usize] == Some(c))
            .collect();
        if r.lines.len() != mine.len() {
            result.failures.push(format!(
                "client{c} printed {} frames, the server's replies say {}",
                r.lines.len(),
                mine.len()
            ));
            continue;
        }
        for (j, &k) in mine.iter().enumerate() {
            match check_saved(
                &dirs[c].join(format!("frame_{j:06}.npy")),
                cs,
                &shape(cs, 0),
                k,
            ) {
                Ok(db) => worst = worst.min(db),
                Err(e) => {
                    result
                        .failures
                        .push(format!("client{c} frame {j} (frame {k}): {e}"));
                    break;
                }
            }
        }
    }
    if worst.is_finite() {
        result.notes.push(format!("lowest PSNR {worst:.2} dB"));
    }
}
