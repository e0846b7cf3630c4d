//! JPEG encode/decode speed, netgear (whichever backend is compiled in: the
//! pure-Rust default, or libjpeg-turbo with `--features netgear/jpeg-turbo`)
//! next to vidgear's simplejpeg, on the same natural-looking frames; and
//! `netgear send`'s compressing pool on its own.
//!
//! ```text
//! cargo bench --bench jpeg                # criterion, then the side-by-side table
//! cargo bench --bench jpeg -- --table     # only the side-by-side table and the pool
//! cargo bench -p netgear-bench --features netgear/jpeg-turbo --bench jpeg -- --table
//! ```
//!
//! The pool: the frames `netgear send --content natural --cycle 2 --jpeg
//! --jpeg-workers W` hands its send loop (src/bin/netgear/frames.rs, the
//! very code), taken as fast as they come: compressed frames per second
//! ready to send, with 1 and 2 workers.
//!
//! The table needs the vidgear venv (provisioned on first use, or
//! `NETGEAR_PYTHON=/path/to/python` with simplejpeg and numpy installed).
//! Both sides time the same loop: encode at quality 90, 4:2:2, fast DCT (as
//! vidgear sends), decode to BGR with the fast DCT (as vidgear receives).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use netgear::jpeg::{decode, encode, JpegOptions};
use netgear::{Frame, Payload};
use netgear_testkit::natural_frame;

// The command's frame making, as `netgear send` runs it.
#[allow(dead_code)]
#[path = "../../src/bin/netgear/frames.rs"]
mod frames;
#[allow(dead_code)]
#[path = "../../src/bin/netgear/natural.rs"]
mod natural;
#[allow(dead_code, unused_imports)]
#[path = "../../src/bin/netgear/synth.rs"]
mod synth;

/// What frames.rs reports errors as (the command's own type has more).
#[allow(dead_code)]
#[derive(Debug)]
enum CliError {
    Usage(String),
    Runtime(String),
}

const SIZES: [(usize, usize); 3] = [(480, 640), (720, 1280), (1080, 1920)];

fn frames() -> Vec<(String, Frame, Payload)> {
    SIZES
        .iter()
        .map(|&(h, w)| {
            let frame = natural_frame(&[h, w, 3], 7);
            let jpeg = encode(&frame, &JpegOptions::default()).expect("encode");
            (format!("{w}x{h}"), frame, jpeg)
        })
        .collect()
}

fn criterion_benches(c: &mut Criterion) {
    let options = JpegOptions::default();
    let mut group = c.benchmark_group("jpeg");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (name, frame, jpeg) in frames() {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("encode", &name), &frame, |b, f| {
            b.iter(|| encode(f, &options).expect("encode"))
        });
        group.bench_with_input(BenchmarkId::new("decode", &name), &jpeg, |b, j| {
            b.iter(|| decode(j, &options).expect("decode"))
        });
    }
    group.finish();
}

/// Frames per second of `f`: the best of 5 rounds of about 0.4 s (at least
/// 5 runs each), which keeps other load on the machine out of the figure.
fn fps(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut best: f64 = 0.0;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u32;
        while n < 5 || start.elapsed() < Duration::from_millis(400) {
            f();
            n += 1;
        }
        best = best.max(f64::from(n) / start.elapsed().as_secs_f64());
    }
    best
}

const SIMPLEJPEG: &str = r#"
import sys, time, json, numpy as np, simplejpeg
def fps(f):
    for _ in range(3): f()
    best = 0.0
    for _ in range(5):
        n, start = 0, time.perf_counter()
        while n < 5 or time.perf_counter() - start < 0.4:
            f(); n += 1
        best = max(best, n / (time.perf_counter() - start))
    return best
out = {}
for arg in sys.argv[1:]:
    path, h, w = arg.split(":")
    img = np.fromfile(path, dtype=np.uint8).reshape(int(h), int(w), 3)
    jpeg = simplejpeg.encode_jpeg(img, quality=90, colorspace="BGR", colorsubsampling="422", fastdct=True)
    out[w + "x" + h] = {
        "encode": fps(lambda: simplejpeg.encode_jpeg(img, quality=90, colorspace="BGR", colorsubsampling="422", fastdct=True)),
        "decode": fps(lambda: simplejpeg.decode_jpeg(jpeg, colorspace="BGR", fastdct=True, fastupsample=False)),
        "version": simplejpeg.__version__,
    }
print(json.dumps(out))
"#;

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETGEAR_PYTHON") {
        return Some(PathBuf::from(p));
    }
    netgear_conformance::venv::Venv::default()
        .provision()
        .map_err(|e| eprintln!("jpeg: {e}"))
        .ok()
}

fn side_by_side() {
    let options = JpegOptions::default();
    let frames = frames();
    let dir = std::env::temp_dir().join(format!("netgear-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut args = Vec::new();
    let mut ours = Vec::new();
    for (name, frame, jpeg) in &frames {
        let path = dir.join(format!("{name}.bgr"));
        std::fs::write(&path, frame.data()).expect("write frame");
        let shape = frame.shape();
        args.push(format!("{}:{}:{}", path.display(), shape[0], shape[1]));
        let enc = fps(|| {
            encode(frame, &options).expect("encode");
        });
        let dec = fps(|| {
            decode(jpeg, &options).expect("decode");
        });
        ours.push((name.clone(), enc, dec));
    }
    let theirs = match python() {
        None => Err("no vidgear venv (see above), and NETGEAR_PYTHON is not set".to_string()),
        Some(py) => Command::new(&py)
            .arg("-c")
            .arg(SIMPLEJPEG)
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", py.display()))
            .and_then(|out| {
                if out.status.success() {
                    netgear::json::parse(&out.stdout).map_err(|e| e.to_string())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).into_owned())
                }
            }),
    };
    let _ = std::fs::remove_dir_all(&dir);
    println!();
    println!("JPEG, natural frames, quality 90, 4:2:2, fast DCT (frames per second, one core)");
    println!(
        "{:<10} {:<7} {:>12} {:>15} {:>8}",
        "size", "op", "netgear", "simplejpeg", "ratio"
    );
    for (name, enc, dec) in &ours {
        for (op, rust) in [("encode", enc), ("decode", dec)] {
            let py = theirs
                .as_ref()
                .ok()
                .and_then(|t| t.get(name))
                .and_then(|t| t.get(op))
                .and_then(|v| match v {
                    netgear::json::Value::Number(n) => Some(n.as_f64()),
                    _ => None,
                });
            match py {
                Some(py) => println!(
                    "{name:<10} {op:<7} {rust:>12.1} {py:>15.1} {:>7.2}x",
                    rust / py
                ),
                None => println!("{name:<10} {op:<7} {rust:>12.1} {:>15} {:>8}", "-", "-"),
            }
        }
    }
    match &theirs {
        Ok(t) => {
            let version = t
                .get("640x480")
                .and_then(|v| v.get("version"))
                .map(|v| v.to_python_json())
                .unwrap_or_default();
            println!("simplejpeg {version}; netgear: {}", netgear::jpeg::BACKEND);
        }
        Err(e) => println!("simplejpeg not measured: {e}"),
    }
}

/// Frames per second `netgear send`'s pool makes ready with `workers`
/// compressing threads: natural frames of `shape`, two cycled, JPEG with
/// vidgear's defaults, taken as soon as each is ready (best of 3 rounds of
/// about 1.5 s each).
fn pool_fps(shape: &[usize], workers: usize) -> f64 {
    use std::num::NonZeroUsize;
    let mut best: f64 = 0.0;
    for _ in 0..3 {
        let maker = frames::Maker {
            frames: frames::Frames::Natural(shape.to_vec()),
            reduce: None,
            cycle: Some(2),
            kept: Vec::new(),
            media: netgear::media::Media::new().jpeg(JpegOptions::default()),
        };
        let workers = NonZeroUsize::new(workers).expect("at least one worker");
        let mut payloads = frames::Payloads::new(maker, workers);
        // Warm-up: the two frames drawn, the workers started.
        for k in 0..8 {
            assert!(matches!(payloads.next(k), Some(Ok(_))));
        }
        let start = Instant::now();
        let mut k = 8;
        while start.elapsed() < Duration::from_millis(1500) {
            assert!(matches!(payloads.next(k), Some(Ok(_))), "frame {k}");
            k += 1;
        }
        best = best.max((k - 8) as f64 / start.elapsed().as_secs_f64());
        payloads.finish();
    }
    best
}

fn pool() {
    println!();
    println!(
        "netgear send's compressing pool, alone ({}): JPEG frames per second ready to send",
        netgear::jpeg::BACKEND
    );
    println!(
        "{:<10} {:>10} {:>10} {:>8}",
        "size", "1 worker", "2 workers", "ratio"
    );
    for (h, w) in SIZES {
        let one = pool_fps(&[h, w, 3], 1);
        let two = pool_fps(&[h, w, 3], 2);
        println!(
            "{:<10} {one:>10.1} {two:>10.1} {:>7.2}x",
            format!("{w}x{h}"),
            two / one
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--pool") {
        return pool();
    }
    let table_only = args.iter().any(|a| a == "--table");
    if !table_only {
        let mut c = Criterion::default().configure_from_args();
        criterion_benches(&mut c);
        c.final_summary();
    }
    side_by_side();
    pool();
}
