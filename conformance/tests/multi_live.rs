//! Multi-Server and Multi-Client modes with processes (spec/06 §6.2–6.3):
//! a hub of 8 netgear servers on one netgear client, a server killed
//! (SIGKILL) and restarted under a hub, and the multi-mode cells of the
//! interop matrix (`cargo conform --filter multi/...`, against vidgear 0.3.6).

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use netgear::json::Value;
use netgear_conformance::{command, python};
use netgear_testkit::{free_port, netgear_bin, wait_bound, Proc};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Processes: frames per port
// ---------------------------------------------------------------------------

/// sha256 of synthetic frame k of `shape` (uint8, element i = (k + i) mod 251).
fn synthetic_sha(k: usize, shape: &[usize]) -> String {
    let n: usize = shape.iter().product();
    let bytes: Vec<u8> = (0..n).map(|i| ((k + i) % 251) as u8).collect();
    hex::encode(Sha256::digest(&bytes))
}

fn shape_of(i: usize) -> Vec<usize> {
    vec![8, 8 + i]
}

fn message_of(port: &str) -> Value {
    netgear::json::parse(format!(r#"{{"server": "{port}"}}"#).as_bytes()).unwrap()
}

/// A netgear hub binding every port (pattern 1, bidirectional).
fn start_hub(ports: &[String], extra: &[&str]) -> Proc {
    let mut cmd = Command::new(netgear_bin());
    cmd.args(["receive", "--multiserver", "--port", &ports.join(",")]);
    cmd.args(["--pattern", "1", "--bidirectional", "--json"]);
    cmd.args(["--return", "\"ack\""]);
    cmd.args(extra);
    let hub = Proc::start(cmd);
    for p in ports {
        wait_bound(p.parse().unwrap());
    }
    hub
}

/// Server `i` of a hub, streaming at 40 fps until stopped.
fn start_server(python_impl: bool, port: &str, i: usize) -> Proc {
    let mut cmd = command(python_impl, "send");
    let shape = shape_of(i);
    cmd.args(["--multiserver", "--port", port, "--pattern", "1"]);
    cmd.args([
        "--bidirectional",
        "--json",
        "--fps",
        "40",
        "--frames",
        "5000",
    ]);
    cmd.args(["--shape", &format!("{},{}", shape[0], shape[1])]);
    cmd.args(["--message", &message_of(port).to_python_json()]);
    Proc::start(cmd)
}

/// Stops a sender as Ctrl-C would, so it closes (and terminates) normally.
fn stop(p: &Proc, python_impl: bool) {
    let signal = if python_impl { "-TERM" } else { "-INT" };
    let status = Command::new("kill")
        .arg(signal)
        .arg(p.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn port_of(line: &Value) -> String {
    line.get("port")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("hub line without a string port: {line:?}"))
        .to_owned()
}

/// Reads hub lines until every port in `want` has at least `n` frames after
/// hub line `from`.
fn wait_frames(hub: &mut Proc, from: usize, want: &[String], n: usize, limit: Duration) {
    let give_up = Instant::now() + limit;
    loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for line in &hub.seen[from.min(hub.seen.len())..] {
            *counts.entry(port_of(line)).or_default() += 1;
        }
        if want
            .iter()
            .all(|p| counts.get(p).copied().unwrap_or(0) >= n)
        {
            return;
        }
        let left = give_up.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "frames per port after {from}: {counts:?}");
        let next = hub.seen.len() + 1;
        hub.wait_lines(next, left);
    }
}

/// Checks one run of a server against the hub's frames from it: frames 0,
/// 1, 2, ... in order with the right message and shape, and as many as the
/// server printed (one more if it was stopped with a frame in flight).
fn check_run(port: &str, i: usize, hub_frames: &[&Value], printed: &[Value], stopped: bool) {
    let shape = Value::from(shape_of(i));
    for (j, line) in hub_frames.iter().enumerate() {
        assert_eq!(
            line.get("message"),
            Some(&message_of(port)),
            "frame {j} under port {port} is another server's (message)"
        );
        assert_eq!(
            line.get("shape"),
            Some(&shape),
            "frame {j} under port {port} is another server's (shape)"
        );
        assert_eq!(
            line.get("sha256").and_then(Value::as_str),
            Some(synthetic_sha(j, &shape_of(i)).as_str()),
            "port {port}: its frame {j} is not its server's frame {j} (lost, duplicated or reordered)"
        );
    }
    for (k, line) in printed.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
        assert_eq!(
            line.get("reply"),
            Some(&Value::from("ack")),
            "port {port} frame {k}"
        );
    }
    let (got, sent) = (hub_frames.len(), printed.len());
    assert!(
        got == sent || (stopped && got == sent + 1),
        "port {port}: the hub has {got} frames, its server printed {sent}: frames lost"
    );
}

fn check_hub_seq(lines: &[Value]) {
    for (j, line) in lines.iter().enumerate() {
        assert_eq!(
            line.get("seq").and_then(Value::as_i64),
            Some(j as i64),
            "hub seq"
        );
    }
}

/// Eight netgear servers on one netgear hub (pattern 1, bidirectional): no
/// frame under the wrong port, none lost, each port's frames in order, and
/// the hub ends (exit 0) after the last server's termination.
#[test]
fn eight_servers_on_one_hub() {
    let ports: Vec<String> = (0..8).map(|_| free_port().to_string()).collect();
    let mut hub = start_hub(&ports, &[]);
    let servers: Vec<Proc> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| start_server(false, p, i))
        .collect();
    wait_frames(&mut hub, 0, &ports, 20, Duration::from_secs(60));
    for s in &servers {
        stop(s, false);
    }
    let printed: Vec<Vec<Value>> = servers
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let (status, lines, stderr) = s.finish(Duration::from_secs(30));
            assert!(status.success(), "server {i}: {status}\n{stderr}");
            lines
        })
        .collect();
    let (status, lines, stderr) = hub.finish(Duration::from_secs(30));
    assert!(
        status.success(),
        "the hub did not end after every server terminated: {status}\n{stderr}"
    );
    check_hub_seq(&lines);
    for (i, port) in ports.iter().enumerate() {
        let mine: Vec<&Value> = lines.iter().filter(|l| port_of(l) == *port).collect();
        check_run(port, i, &mine, &printed[i], true);
    }
    let unknown: Vec<&Value> = lines
        .iter()
        .filter(|l| !ports.contains(&port_of(l)))
        .collect();
    assert!(
        unknown.is_empty(),
        "frames under unknown ports: {unknown:?}"
    );
}

/// One of three servers is killed mid-stream: the hub keeps serving the
/// other two, reports which port went silent, and takes the server back when
/// it is started again; all end cleanly.
fn one_server_dies_and_comes_back(python_victim: bool) {
    let ports: Vec<String> = (0..3).map(|_| free_port().to_string()).collect();
    // Silence after 3 × 0.8 s; plenty of retries for a slow start.
    let mut hub = start_hub(
        &ports,
        &["--request-timeout", "0.8", "--max-retries", "100"],
    );
    let victim = &ports[0];
    let first = start_server(python_victim, victim, 0);
    let others: Vec<Proc> = (1..3).map(|i| start_server(false, &ports[i], i)).collect();
    wait_frames(&mut hub, 0, &ports, 10, Duration::from_secs(60));
    let first_printed = first.kill();
    // Dead for longer than the hub's silence limit (reading the others'
    // frames meanwhile).
    let revive = Instant::now() + Duration::from_millis(3600);
    while Instant::now() < revive {
        let next = hub.seen.len() + 1;
        hub.wait_lines(next, Duration::from_secs(10));
    }
    let restarted_at = hub.seen.len();
    let second = start_server(python_victim, victim, 0);
    wait_frames(
        &mut hub,
        restarted_at,
        std::slice::from_ref(victim),
        10,
        Duration::from_secs(60),
    );
    stop(&second, python_victim);
    for s in &others {
        stop(s, false);
    }
    let (status, second_printed, stderr) = second.finish(Duration::from_secs(30));
    assert!(status.success(), "restarted server: {status}\n{stderr}");
    let others_printed: Vec<Vec<Value>> = others
        .into_iter()
        .map(|s| {
            let (status, lines, stderr) = s.finish(Duration::from_secs(30));
            assert!(status.success(), "{status}\n{stderr}");
            lines
        })
        .collect();
    let (status, lines, stderr) = hub.finish(Duration::from_secs(30));
    assert!(status.success(), "hub: {status}\n{stderr}");
    check_hub_seq(&lines);

    // The report: the victim's port went silent and came back, no other.
    let quoted = |p: &str| format!("\"{p}\"");
    let silent: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("went silent"))
        .collect();
    assert!(
        silent.len() == 1 && silent[0].contains(&quoted(victim)),
        "one silence, for port {victim}:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("is back") && l.contains(&quoted(victim))),
        "port {victim} reported back:\n{stderr}"
    );

    // The victim's two runs are whole: the second starts again at frame 0.
    let restart_frame = synthetic_sha(0, &shape_of(0));
    let at: Vec<usize> = (0..lines.len())
        .filter(|&j| port_of(&lines[j]) == *victim)
        .collect();
    let split = (1..at.len())
        .find(|&j| lines[at[j]].get("sha256").and_then(Value::as_str) == Some(&restart_frame))
        .expect("the restarted server's frame 0 arrived");
    let mine: Vec<&Value> = at.iter().map(|&j| &lines[j]).collect();
    check_run(victim, 0, &mine[..split], &first_printed, true);
    check_run(victim, 0, &mine[split..], &second_printed, true);

    // The others were served all along, also while the victim was dead.
    let (died, back) = (at[split - 1], at[split]);
    for (i, port) in ports.iter().enumerate().skip(1) {
        let theirs: Vec<&Value> = lines.iter().filter(|l| port_of(l) == *port).collect();
        check_run(port, i, &theirs, &others_printed[i - 1], true);
        let while_dead = lines[died..back]
            .iter()
            .filter(|l| port_of(l) == *port)
            .count();
        assert!(
            while_dead >= 40,
            "port {port}: only {while_dead} frames while {victim} was dead"
        );
    }
}

#[test]
fn hub_survives_a_netgear_server_killed_and_restarted() {
    one_server_dies_and_comes_back(false);
}

#[test]
fn hub_survives_a_vidgear_server_killed_and_restarted() {
    python();
    one_server_dies_and_comes_back(true);
}

// ---------------------------------------------------------------------------
// The multi-mode cells of the interop matrix
// ---------------------------------------------------------------------------

/// The multi-mode cells, 8 frames each.
fn conform(group: &str, filter: &str, cells: usize) {
    common::conform(group, filter, 8, cells);
}

#[test]
fn vidgear_servers_on_a_netgear_hub() {
    conform(
        "multi-servers-python-rust",
        "^multi/servers/python-rust/",
        3,
    );
}

#[test]
fn netgear_and_vidgear_servers_on_one_netgear_hub() {
    conform("multi-servers-mixed-rust", "^multi/servers/mixed-rust/", 2);
}

#[test]
fn netgear_server_to_vidgear_clients() {
    conform(
        "multi-clients-rust-python",
        "^multi/clients/rust-python/,^multi/clients/rust-mixed/",
        3,
    );
}

#[test]
fn multi_mode_controls() {
    conform(
        "multi-controls",
        "^multi/servers/rust-python/,^multi/servers/python-python/,^multi/servers/rust-rust/,\
         ^multi/clients/python-rust/,^multi/clients/python-python/,^multi/clients/rust-rust/",
        9,
    );
}
