//! The JPEG cells: frames compressed by one implementation and decoded by
//! the other, in both directions (server frames, client return frames).
//!
//! * `jpeg/p{0,1}/…`: BGR, RGB and GRAY on patterns 0 and 1, every pair;
//! * `jpeg-cs/p1/…`: the nine other colourspaces (padding, alpha, CMYK);
//! * `jpeg-ipc/p{0,1}/…`: over ipc;
//! * `jpeg/p2/…`: with PUB/SUB, where frames may be dropped by design;
//! * `jpeg-multi/{servers,clients}/…`: in both multi modes (multi_jpeg.rs).
//!
//! The frames are the natural pattern (src/natural.rs, computed the same way
//! by peer.py), 640 × 480, at quality 90. JPEG is lossy, so instead of
//! hashes every decoded frame is read back from the receiving end's
//! `--save-dir` and must be within 35 dB PSNR of the original over the
//! channels JPEG keeps, with every padding or alpha channel at 255
//! (`crate::jpegcheck`).

use std::path::Path;
use std::process::Command;

use netgear::json::{parse, Value};
use netgear::wire::Colorspace;
use netgear_testkit::natural_frame;

use super::cases::{Cell, Impl, Kind};
use super::runner::{
    check_lines, check_pubsub_receiver_end, check_stream_exits, count_published, free_port,
    lines_per_second, run_pair, save_logs, tail, tempdir_in, CellResult, Env, Finished,
};

/// The PSNR every decoded frame must reach (quality 90, natural content).
pub const MIN_PSNR_DB: f64 = 35.0;

/// One JPEG cell between one sender and one receiver.
#[derive(Debug, Clone)]
pub struct JpegCell {
    pub sender: Impl,
    pub receiver: Impl,
    pub pattern: u8,
    /// A colourspace name (upper case).
    pub colorspace: &'static str,
    /// false: the server's frames are JPEG; true: the client's returned frame.
    pub returned: bool,
    /// Over ipc rather than tcp.
    pub ipc: bool,
    /// Id prefix (`jpeg`, `jpeg-cs`, `jpeg-ipc`).
    pub group: &'static str,
}

impl JpegCell {
    pub fn id(&self) -> String {
        // The pattern comes first so that the stream cells' filters
        // (`rust-python/p0/`...) do not select these.
        format!(
            "{}/p{}/{}-{}/{}-{}",
            self.group,
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

    fn colorspace(&self) -> Colorspace {
        self.colorspace
            .parse()
            .expect("the cells name real colourspaces")
    }
}

/// The shape of the frames compressed in `colorspace` (and of what the
/// decoder gives): 480 × 640 × channels, GRAY 480 × 640.
pub fn shape_for(colorspace: Colorspace) -> Vec<usize> {
    match colorspace.channels() {
        1 => vec![480, 640],
        c => vec![480, 640, c],
    }
}

const PAIRS: [(Impl, Impl); 4] = [
    (Impl::Rust, Impl::Rust),
    (Impl::Rust, Impl::Python),
    (Impl::Python, Impl::Rust),
    (Impl::Python, Impl::Python),
];
const LIVE: [(Impl, Impl); 2] = [(Impl::Rust, Impl::Python), (Impl::Python, Impl::Rust)];

fn cell(kind: JpegCell) -> Cell {
    Cell {
        kind: Kind::Jpeg(kind),
    }
}

/// Every JPEG cell (the multi-mode ones come from multi_jpeg.rs).
pub fn cells() -> Vec<Cell> {
    let one = |(sender, receiver): (Impl, Impl), pattern, colorspace, returned, ipc, group| {
        cell(JpegCell {
            sender,
            receiver,
            pattern,
            colorspace,
            returned,
            ipc,
            group,
        })
    };
    let mut cells = Vec::new();
    // 4 pairs × 2 patterns × 3 colourspaces × 2 directions.
    for pair in PAIRS {
        for pattern in [0u8, 1] {
            for cs in ["BGR", "RGB", "GRAY"] {
                for returned in [false, true] {
                    cells.push(one(pair, pattern, cs, returned, false, "jpeg"));
                }
            }
        }
    }
    // The other nine colourspaces against vidgear, both directions, and
    // vidgear's own frames to itself as the control.
    let others = [
        "RGBX", "BGRX", "XBGR", "XRGB", "RGBA", "BGRA", "ABGR", "ARGB", "CMYK",
    ];
    for cs in others {
        for pair in LIVE {
            for returned in [false, true] {
                cells.push(one(pair, 1, cs, returned, false, "jpeg-cs"));
            }
        }
        cells.push(one(
            (Impl::Python, Impl::Python),
            1,
            cs,
            false,
            false,
            "jpeg-cs",
        ));
    }
    // Over ipc.
    for pair in LIVE {
        for (pattern, cs, returned) in [(0, "BGR", false), (1, "GRAY", true), (1, "RGBA", false)] {
            cells.push(one(pair, pattern, cs, returned, true, "jpeg-ipc"));
        }
    }
    // With PUB/SUB (no replies, so frames only).
    for pair in PAIRS {
        for cs in ["BGR", "GRAY", "CMYK"] {
            cells.push(one(pair, 2, cs, false, false, "jpeg"));
        }
    }
    cells.extend(super::multi_jpeg::cells());
    cells
}

/// A `uint8` `.npy` file as numpy's `np.save` (or npy.rs) writes it.
pub fn read_npy_u8(path: &Path) -> Result<(Vec<usize>, Vec<u8>), String> {
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

/// The PSNR of the frame saved at `path` against natural frame `k` of
/// `shape`, over the channels JPEG keeps (padding and alpha must be 255).
pub fn saved_psnr(path: &Path, cs: Colorspace, shape: &[usize], k: u64) -> Result<f64, String> {
    let (got_shape, pixels) = read_npy_u8(path)?;
    if got_shape != shape {
        return Err(format!(
            "{} has shape {got_shape:?}, expected {shape:?}",
            path.display()
        ));
    }
    let decoded =
        netgear::Frame::new(netgear::Dtype::Uint8, got_shape, pixels).map_err(|e| e.to_string())?;
    crate::jpegcheck::colour_psnr(cs, &natural_frame(shape, k), &decoded)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks the frame saved at `path` against natural frame `k`.
pub fn check_saved(path: &Path, cs: Colorspace, shape: &[usize], k: u64) -> Result<f64, String> {
    let db = saved_psnr(path, cs, shape, k)?;
    if db < MIN_PSNR_DB {
        return Err(format!(
            "{}: PSNR {db:.2} dB against the original, below {MIN_PSNR_DB} dB",
            path.display()
        ));
    }
    Ok(db)
}

/// The command lines of a cell's two ends.
fn commands(
    env: &Env,
    cell: &JpegCell,
    port: u16,
    address: Option<&Path>,
    dirs: (&Path, &Path),
) -> (Command, Command) {
    let (rx_dir, tx_dir) = dirs;
    let shape_text = shape_for(cell.colorspace())
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
        if let Some(a) = address {
            cmd.args(["--protocol", "ipc", "--address"]).arg(a);
        }
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
        .arg(tx_dir);
    } else {
        tx.args(["--shape", &shape_text, "--content", "natural"])
            .args(["--jpeg", cell.colorspace, "--jpeg-quality", "90"]);
        rx.arg("--save-dir").arg(rx_dir);
    }
    if cell.pattern == 2 {
        tx.args(["--fps", "25"]);
        rx.args(["--subscriber-timeout", "3"]);
    }
    (rx, tx)
}

pub fn run(env: &Env, result: &mut CellResult, cell: &JpegCell) -> Result<(), String> {
    let scratch = tempdir_in(&env.out)?;
    let port = free_port();
    let address = cell.ipc.then(|| scratch.join("sock"));
    let (rx_dir, tx_dir) = (scratch.join("rx"), scratch.join("tx"));
    let (rx, tx) = commands(env, cell, port, address.as_deref(), (&rx_dir, &tx_dir));
    // vidgear joins address and port with ':' for ipc as well.
    let ipc_file = address
        .as_ref()
        .map(|a| std::path::PathBuf::from(format!("{}:{port}", a.display())));
    let (tx_done, rx_done) = run_pair(rx, tx, port, ipc_file.as_deref())?;
    check_exits(result, cell, &tx_done, &rx_done);
    let mut worst = f64::INFINITY;
    if cell.pattern == 2 {
        check_published(result, cell, env.frames, &rx_done, &rx_dir, &mut worst);
    } else if cell.returned {
        check_returned(
            result,
            cell,
            env.frames,
            (&tx_done, &rx_done),
            &tx_dir,
            &mut worst,
        );
    } else {
        check_frames(result, cell, env.frames, &rx_done, &rx_dir, &mut worst);
    }
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

/// Both ends exit 0; on pattern 2 a receiver whose vidgear publisher's
/// termination was lost ends by its subscriber timeout (spec/07 §7.12,
/// §7.16), which is noted.
fn check_exits(result: &mut CellResult, cell: &JpegCell, tx: &Finished, rx: &Finished) {
    if cell.pattern != 2 {
        return check_stream_exits(&mut result.failures, tx, rx);
    }
    if tx.code != Some(0) {
        result
            .failures
            .push(format!("sender exit {:?}: {}", tx.code, tail(&tx.stderr)));
    }
    check_pubsub_receiver_end(result, (cell.sender, cell.receiver), rx.code, &rx.stderr);
}

fn check_frames(
    result: &mut CellResult,
    cell: &JpegCell,
    frames: u64,
    rx: &Finished,
    dir: &Path,
    worst: &mut f64,
) {
    let cs = cell.colorspace();
    let shape = shape_for(cs);
    check_lines(
        &mut result.failures,
        "receiver",
        &rx.lines,
        frames,
        |k, line| {
            let saved = dir.join(format!("frame_{k:06}.npy"));
            decoded_problems(Some(line), &saved, (cs, &shape), k, worst)
        },
    );
}

fn check_returned(
    result: &mut CellResult,
    cell: &JpegCell,
    frames: u64,
    (tx, rx): (&Finished, &Finished),
    dir: &Path,
    worst: &mut f64,
) {
    let cs = cell.colorspace();
    let shape = shape_for(cs);
    check_lines(
        &mut result.failures,
        "receiver",
        &rx.lines,
        frames,
        |_, line| match line.get("shape") {
            Some(Value::Array(dims)) if dims.len() == 3 => Vec::new(),
            other => vec![format!("shape {:?}", other.map(Value::to_python_json))],
        },
    );
    check_lines(
        &mut result.failures,
        "sender",
        &tx.lines,
        frames,
        |k, line| {
            let saved = dir.join(format!("reply_{k:06}.npy"));
            decoded_problems(line.get("reply"), &saved, (cs, &shape), 0, worst)
        },
    );
}

/// What is wrong with one decoded frame: the shape and dtype its end
/// printed (`printed`: the line, or the reply) and the PSNR of the copy it
/// saved against natural frame `k`; `worst` keeps the lowest PSNR seen.
fn decoded_problems(
    printed: Option<&Value>,
    saved: &Path,
    (cs, shape): (Colorspace, &[usize]),
    k: u64,
    worst: &mut f64,
) -> Vec<String> {
    let mut problems = Vec::new();
    let got_shape = printed.and_then(|p| p.get("shape"));
    if got_shape != Some(&Value::from(shape.to_vec())) {
        problems.push(format!(
            "shape {:?}, expected {shape:?}",
            got_shape.map(Value::to_python_json)
        ));
    }
    let dtype = printed.and_then(|p| p.get("dtype"));
    if dtype.and_then(Value::as_str) != Some("uint8") {
        problems.push(format!("dtype {dtype:?}, expected uint8"));
    }
    match check_saved(saved, cs, shape, k) {
        Ok(db) => *worst = worst.min(db),
        Err(e) => problems.push(e),
    }
    problems
}

/// Pattern 2: every frame that arrived is one of the frames sent, in
/// order (the one it is closest to, above the bound); the others were
/// dropped by PUB (HWM 1), which is counted.
fn check_published(
    result: &mut CellResult,
    cell: &JpegCell,
    frames: u64,
    rx: &Finished,
    dir: &Path,
    worst: &mut f64,
) {
    let cs = cell.colorspace();
    let shape = shape_for(cs);
    let mut next = 0u64;
    for (j, (_, text)) in rx.lines.iter().enumerate() {
        let line = parse(text.as_bytes()).unwrap_or_default();
        if line.get("seq").and_then(Value::as_i64) != Some(j as i64) {
            result
                .failures
                .push(format!("receiver line {j} has seq {:?}", line.get("seq")));
            return;
        }
        let path = dir.join(format!("frame_{j:06}.npy"));
        let best = (next..frames)
            .filter_map(|k| saved_psnr(&path, cs, &shape, k).ok().map(|db| (k, db)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((k, db)) if db >= MIN_PSNR_DB => {
                *worst = worst.min(db);
                next = k + 1;
            }
            other => {
                result.failures.push(format!(
                    "receiver frame {j} is none of the frames still to come (closest: {other:?})"
                ));
                return;
            }
        }
    }
    count_published(result, rx.lines.len() as u64, frames);
}
