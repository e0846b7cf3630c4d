//! The JPEG cells: frames compressed by one implementation and decoded by
//! the other, in both directions (server frames, client return frames), for
//! BGR, RGB and GRAY on patterns 0 and 1.
//!
//! The frames are the natural pattern (src/natural.rs, computed the same way
//! by peer.py), 640 × 480, at quality 90. JPEG is lossy, so instead of
//! hashes every decoded frame is read back from the receiving end's
//! `--save-dir` and must be within 35 dB PSNR of the original.

use std::path::{Path, PathBuf};
use std::process::Command;

use netgear::json::Value;
use netgear_testkit::{natural_frame, psnr};

use super::cases::Impl;
use super::runner::{
    check_lines, check_stream_exits, free_port, lines_per_second, run_pair, save_logs, tempdir_in,
    CellResult, Env, Finished,
};

/// The PSNR every decoded frame must reach (quality 90, natural content).
pub const MIN_PSNR_DB: f64 = 35.0;

/// One JPEG cell.
#[derive(Debug, Clone)]
pub struct JpegCell {
    pub sender: Impl,
    pub receiver: Impl,
    pub pattern: u8,
    /// `BGR`, `RGB` or `GRAY`.
    pub colorspace: &'static str,
    /// false: the server's frames are JPEG; true: the client's returned frame.
    pub returned: bool,
}

impl JpegCell {
    pub fn id(&self) -> String {
        // The pattern comes first so that the stream cells' filters
        // (`rust-python/p0/`...) do not select these.
        format!(
            "jpeg/p{}/{}-{}/{}-{}",
            self.pattern,
            self.sender,
            self.receiver,
            self.colorspace.to_lowercase(),
            if self.returned { "returned" } else { "frames" }
        )
    }

    pub fn uses_python(&self) -> bool {
        self.sender == Impl::Python || self.receiver == Impl::Python
    }

    /// The shape of the frames compressed (and of what the decoder gives).
    fn shape(&self) -> Vec<usize> {
        if self.colorspace == "GRAY" {
            vec![480, 640]
        } else {
            vec![480, 640, 3]
        }
    }
}

/// Every JPEG cell: 4 pairs × 2 patterns × 3 colorspaces × 2 directions.
pub fn cells() -> Vec<super::cases::Cell> {
    let pairs = [
        (Impl::Rust, Impl::Rust),
        (Impl::Rust, Impl::Python),
        (Impl::Python, Impl::Rust),
        (Impl::Python, Impl::Python),
    ];
    let mut cells = Vec::new();
    for (sender, receiver) in pairs {
        for pattern in [0u8, 1] {
            for colorspace in ["BGR", "RGB", "GRAY"] {
                for returned in [false, true] {
                    cells.push(super::cases::Cell {
                        kind: super::cases::Kind::Jpeg(JpegCell {
                            sender,
                            receiver,
                            pattern,
                            colorspace,
                            returned,
                        }),
                    });
                }
            }
        }
    }
    cells
}

/// A `uint8` `.npy` file as numpy's `np.save` (or npy.rs) writes it.
fn read_npy_u8(path: &Path) -> Result<(Vec<usize>, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bad = |why: &str| format!("{} is not a uint8 .npy: {why}", path.display());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown version")),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(String::from_utf8_lossy)
        .ok_or_else(|| bad("short header"))?;
    if !header.contains("'descr': '|u1'") || !header.contains("'fortran_order': False") {
        return Err(bad(&header));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<Vec<_>, _>>()?;
    let data = bytes[start + header_len..].to_vec();
    if data.len() != shape.iter().product::<usize>() {
        return Err(bad("size does not match the shape"));
    }
    Ok((shape, data))
}

/// Checks the frame saved at `path` against natural frame `k`.
pub(super) fn check_saved(path: &Path, shape: &[usize], k: u64) -> Result<f64, String> {
    let (got_shape, pixels) = read_npy_u8(path)?;
    if got_shape != shape {
        return Err(format!(
            "{} has shape {got_shape:?}, expected {shape:?}",
            path.display()
        ));
    }
    let original = natural_frame(shape, k);
    let db = psnr(original.data(), &pixels);
    if db < MIN_PSNR_DB {
        return Err(format!(
            "{}: PSNR {db:.2} dB against the original, below {MIN_PSNR_DB} dB",
            path.display()
        ));
    }
    Ok(db)
}

/// A JPEG cell: the sender's frames (or the receiver's returned frame)
/// compressed, and every decoded frame checked against its original.
pub fn run(env: &Env, result: &mut CellResult, cell: &JpegCell) -> Result<(), String> {
    let scratch = tempdir_in(&env.out)?;
    let port = free_port();
    let saved = Saved {
        rx_dir: scratch.join("rx"),
        tx_dir: scratch.join("tx"),
        shape: cell.shape(),
    };
    let (rx, tx) = commands(env, cell, port, &saved);
    let (tx_done, rx_done) = run_pair(rx, tx, port, None)?;
    check_stream_exits(&mut result.failures, &tx_done, &rx_done);
    let worst = if cell.returned {
        check_returned(&mut result.failures, env.frames, &saved, &tx_done, &rx_done)
    } else {
        check_frames(&mut result.failures, env.frames, &saved, &rx_done)
    };
    result.fps = lines_per_second(&tx_done.lines);
    if worst.is_finite() {
        result.notes.push(format!("lowest PSNR {worst:.2} dB"));
    }
    if !result.failures.is_empty() {
        save_logs(&env.out, &result.id, &tx_done, &rx_done);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Where each end saves the frames it decodes, and their shape.
struct Saved {
    rx_dir: PathBuf,
    tx_dir: PathBuf,
    shape: Vec<usize>,
}

/// The receiver's and the sender's commands: raw frames out and a JPEG
/// frame back (`returned`), or JPEG frames out.
fn commands(env: &Env, cell: &JpegCell, port: u16, saved: &Saved) -> (Command, Command) {
    let shape_text = saved
        .shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let common = |cmd: &mut Command| {
        cmd.args([
            "--port",
            &port.to_string(),
            "--pattern",
            &cell.pattern.to_string(),
            "--json",
        ]);
    };
    let mut rx = env.command(cell.receiver, "receive");
    common(&mut rx);
    let mut tx = env.command(cell.sender, "send");
    common(&mut tx);
    tx.args(["--frames", &env.frames.to_string()]);
    if cell.returned {
        // Raw frames out, a JPEG-compressed natural frame back.
        rx.args(["--bidirectional", "--return-frame", &shape_text])
            .args(["--content", "natural", "--jpeg", cell.colorspace]);
        tx.args([
            "--bidirectional",
            "--shape",
            "48,64,3",
            "--message",
            "\"jpeg please\"",
        ])
        .arg("--save-dir")
        .arg(&saved.tx_dir);
    } else {
        tx.args(["--shape", &shape_text, "--content", "natural"])
            .args(["--jpeg", cell.colorspace, "--jpeg-quality", "90"]);
        rx.arg("--save-dir").arg(&saved.rx_dir);
    }
    (rx, tx)
}

/// The returned frame, as the sender decoded and saved it for every frame
/// it sent; the lowest PSNR seen.
fn check_returned(
    failures: &mut Vec<String>,
    frames: u64,
    saved: &Saved,
    tx: &Finished,
    rx: &Finished,
) -> f64 {
    let shape = &saved.shape;
    let shape_value = Value::from(shape.clone());
    let mut worst = f64::INFINITY;
    check_lines(
        failures,
        "receiver",
        &rx.lines,
        frames,
        |_, line| match line.get("shape") {
            Some(Value::Array(dims)) if dims.len() == 3 => Vec::new(),
            other => vec![format!("shape {:?}", other.map(Value::to_python_json))],
        },
    );
    check_lines(failures, "sender", &tx.lines, frames, |k, line| {
        let reply = line.get("reply");
        let mut problems = Vec::new();
        if reply.and_then(|r| r.get("shape")) != Some(&shape_value) {
            problems.push(format!(
                "returned frame {:?}, expected shape {shape:?}",
                reply.map(Value::to_python_json)
            ));
        }
        if reply.and_then(|r| r.get("dtype")).and_then(Value::as_str) != Some("uint8") {
            problems.push("returned frame is not uint8".into());
        }
        match check_saved(&saved.tx_dir.join(format!("reply_{k:06}.npy")), shape, 0) {
            Ok(db) => worst = worst.min(db),
            Err(e) => problems.push(e),
        }
        problems
    });
    worst
}

/// Every frame, as the receiver decoded and saved it; the lowest PSNR seen.
fn check_frames(failures: &mut Vec<String>, frames: u64, saved: &Saved, rx: &Finished) -> f64 {
    let shape = &saved.shape;
    let shape_value = Value::from(shape.clone());
    let mut worst = f64::INFINITY;
    check_lines(failures, "receiver", &rx.lines, frames, |k, line| {
        let mut problems = Vec::new();
        if line.get("shape") != Some(&shape_value) {
            problems.push(format!(
                "shape {:?}, expected {shape:?}",
                line.get("shape").map(Value::to_python_json)
            ));
        }
        if line.get("dtype").and_then(Value::as_str) != Some("uint8") {
            problems.push(format!("dtype {:?}", line.get("dtype")));
        }
        match check_saved(&saved.rx_dir.join(format!("frame_{k:06}.npy")), shape, k) {
            Ok(db) => worst = worst.min(db),
            Err(e) => problems.push(e),
        }
        problems
    });
    worst
}
