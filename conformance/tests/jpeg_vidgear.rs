//! JPEG and the reducer against vidgear's own libraries (simplejpeg,
//! `vidgear.gears.helper.reducer`, peer.py's natural video), and the JPEG
//! cells of the live matrix. The venv is provisioned on first use; without
//! Python these tests fail and say how to provide it.

mod common;

use std::path::Path;
use std::process::Command;

use netgear::jpeg::{decode, decode_jpeg, encode, JpegOptions};
use netgear::json::Value;
use netgear::reducer::{reduced_size, reducer};
use netgear::wire::Colorspace;
use netgear::{Frame, Payload};
use netgear_conformance::python;
use netgear_testkit::{natural_frame, psnr, repo};

const H: usize = 480;
const W: usize = 640;

fn jpeg_bytes(p: &Payload) -> &[u8] {
    match p {
        Payload::Jpeg { data, .. } => data,
        Payload::Raw(_) => panic!("not a JPEG payload"),
    }
}

fn natural(cs: Colorspace, k: u64) -> Frame {
    let shape: Vec<usize> = match cs.channels() {
        1 => vec![H, W],
        c => vec![H, W, c],
    };
    natural_frame(&shape, k)
}
// ---------------------------------------------------------------------------
// Against vidgear's own libraries (the venv).

fn run_python(script: &str, args: &[&Path]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SIMPLEJPEG_CHECK: &str = r#"
import sys, os, json, numpy as np, simplejpeg
d = sys.argv[1]
cases = json.load(open(os.path.join(d, "cases.json")))
report = []
for c in cases:
    shape = tuple(c["shape"])
    ours = open(os.path.join(d, c["name"] + ".rust.jpg"), "rb").read()
    theirs_decode = simplejpeg.decode_jpeg(ours, colorspace=c["cs"], fastdct=c["dct"], fastupsample=c["ups"])
    if c["cs"] == "GRAY" and theirs_decode.ndim == 3:
        theirs_decode = np.squeeze(theirs_decode, axis=2)
    rust_decode = np.fromfile(os.path.join(d, c["name"] + ".rust.raw"), dtype=np.uint8).reshape(theirs_decode.shape)
    original = np.fromfile(os.path.join(d, c["name"] + ".orig.raw"), dtype=np.uint8).reshape(shape)
    src = original[:, :, np.newaxis] if original.ndim == 2 else original
    kw = {} if c["cs"] == "GRAY" else {"colorsubsampling": "422"}
    theirs = simplejpeg.encode_jpeg(src, quality=c["q"], colorspace=c["cs"], fastdct=c["dct"], **kw)
    open(os.path.join(d, c["name"] + ".sj.jpg"), "wb").write(theirs)
    own = simplejpeg.decode_jpeg(theirs, colorspace=c["cs"], fastdct=c["dct"], fastupsample=c["ups"])
    if c["cs"] == "GRAY" and own.ndim == 3:
        own = np.squeeze(own, axis=2)
    own.tofile(os.path.join(d, c["name"] + ".sj.raw"))
    theirs_decode.tofile(os.path.join(d, c["name"] + ".sjdec.raw"))
    d1 = int(np.abs(theirs_decode.astype(int) - rust_decode.astype(int)).max())
    report.append({"name": c["name"], "decode_diff": d1, "same_bytes": theirs == ours})
print(json.dumps(report))
"#;

/// How far a decode here may be from simplejpeg's decode of the same JPEG
/// bytes with these flags: at most this much per sample, and at least this
/// PSNR (dB) between the two decodes.
///
/// libjpeg-turbo (`jpeg-turbo`) is simplejpeg's own library: ±1 at most
/// (in practice identical).
///
/// The pure-Rust backend (`jpeg-rust`, see the README) decodes with
/// zune-jpeg's accurate IDCT and interpolating ("fancy") chroma upsampling
/// whatever the flags say; simplejpeg honours them. Measured on these
/// natural frames: accurate DCT ≤ 4 per sample (PSNR ≥ 64 dB); fast DCT ≤ 6
/// (≥ 45 dB), vidgear's default; fast upsampling, which replicates chroma
/// where zune-jpeg interpolates it, ≤ 80 at sharp colour edges (≥ 43.5 dB).
fn decode_bound(fast_dct: bool, fast_upsample: bool) -> (u8, f64) {
    if netgear::jpeg::BACKEND.starts_with("libjpeg-turbo") {
        return (1, 48.0);
    }
    match (fast_dct, fast_upsample) {
        (_, true) => (96, 40.0),
        (true, false) => (8, 42.0),
        (false, false) => (5, 60.0),
    }
}

#[test]
fn rust_and_simplejpeg_decodes_agree_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut rust_decodes = Vec::new();
    for cs in [
        Colorspace::Bgr,
        Colorspace::Rgb,
        Colorspace::Gray,
        Colorspace::Bgra,
        Colorspace::Xrgb,
        Colorspace::Cmyk,
    ] {
        for (dct, ups, q) in [
            (true, false, 90),
            (false, false, 90),
            (true, true, 75),
            (false, true, 100),
        ] {
            let name = format!("{cs}-{dct}-{ups}-{q}");
            let frame = natural(cs, q as u64);
            let options = JpegOptions::default()
                .colorspace(cs)
                .quality(q)
                .fast_dct(dct)
                .fast_upsample(ups);
            let payload = encode(&frame, &options).unwrap();
            let decoded = decode(&payload, &options).unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.rust.jpg")),
                jpeg_bytes(&payload),
            )
            .unwrap();
            std::fs::write(dir.path().join(format!("{name}.rust.raw")), decoded.data()).unwrap();
            std::fs::write(dir.path().join(format!("{name}.orig.raw")), frame.data()).unwrap();
            cases.push(format!(
                r#"{{"name": "{name}", "cs": "{cs}", "dct": {dct}, "ups": {}, "q": {q}, "shape": {:?}}}"#,
                if ups { "true" } else { "false" },
                frame.shape()
            ));
            rust_decodes.push((name, options, decoded));
        }
    }
    std::fs::write(
        dir.path().join("cases.json"),
        format!("[{}]", cases.join(", ")),
    )
    .unwrap();
    let report = run_python(SIMPLEJPEG_CHECK, &[dir.path()]);
    let report = netgear::json::parse(report.trim().as_bytes()).unwrap();
    let Value::Array(rows) = report else {
        panic!("{report:?}")
    };
    assert_eq!(rows.len(), rust_decodes.len());
    let mut identical = 0;
    for (row, (name, options, rust_decode)) in rows.iter().zip(&rust_decodes) {
        let (max_diff, min_psnr) = decode_bound(options.fast_dct, options.fast_upsample);
        // simplejpeg decodes our bytes as we do.
        let diff = row.get("decode_diff").and_then(Value::as_i64).unwrap();
        let their_decode_of_ours =
            std::fs::read(dir.path().join(format!("{name}.sjdec.raw"))).unwrap();
        let db = psnr(rust_decode.data(), &their_decode_of_ours);
        assert!(
            diff <= i64::from(max_diff) && db >= min_psnr,
            "{name}: simplejpeg's decode of our JPEG differs by {diff} ({db:.2} dB)"
        );
        // We decode simplejpeg's bytes as simplejpeg does.
        let theirs = std::fs::read(dir.path().join(format!("{name}.sj.jpg"))).unwrap();
        let their_decode = std::fs::read(dir.path().join(format!("{name}.sj.raw"))).unwrap();
        let ours_of_theirs =
            decode_jpeg(&theirs, &options.compression(), options, 1 << 30).unwrap();
        assert_eq!(ours_of_theirs.data().len(), their_decode.len());
        let max = ours_of_theirs
            .data()
            .iter()
            .zip(&their_decode)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        let db = psnr(ours_of_theirs.data(), &their_decode);
        assert!(
            max <= max_diff && db >= min_psnr,
            "{name}: our decode of simplejpeg's JPEG differs by {max} ({db:.2} dB)"
        );
        assert!(
            psnr(rust_decode.data(), &their_decode) >= 35.0,
            "{name}: the two encoders' results are far apart"
        );
        if row.get("same_bytes") == Some(&Value::Bool(true)) {
            identical += 1;
        }
    }
    // Same library, same settings: with the fast DCT the bitstreams are
    // normally byte-identical. (simplejpeg 1.9.0 ignores fastdct=False when
    // encoding and always uses the fast DCT; netgear honours the flag.) The
    // pure-Rust encoder writes its own (equally valid) bitstreams.
    eprintln!(
        "{identical} of {} JPEGs byte-identical to simplejpeg's",
        rows.len()
    );
}

const REDUCER_CHECK: &str = r#"
import sys, json, numpy as np
from vidgear.gears.helper import reducer
d = sys.argv[1]
out = []
for h, w, p in json.load(open(d + "/sizes.json")):
    frame = np.zeros((h, w, 3), dtype=np.uint8)
    r = reducer(frame, percentage=p)
    out.append([r.shape[0], r.shape[1]])
nat = np.fromfile(d + "/natural.raw", dtype=np.uint8).reshape(480, 640, 3)
np.save(d + "/vidgear_reduced.npy", reducer(nat, percentage=40))
print(json.dumps(out))
"#;

#[test]
fn reducer_sizes_and_pixels_follow_vidgear() {
    let sizes: Vec<(usize, usize, f64)> = vec![
        (480, 640, 50.0),
        (1080, 1920, 25.0),
        (1080, 1920, 33.3),
        (720, 1280, 12.5),
        (479, 641, 10.0),
        (17, 31, 60.0),
        (1000, 3, 33.0),
        (480, 640, 89.9),
        (480, 640, 0.5),
        (333, 777, 71.0),
    ];
    let dir = tempfile::tempdir().unwrap();
    let json_sizes: Vec<String> = sizes
        .iter()
        .map(|(h, w, p)| format!("[{h}, {w}, {p:?}]"))
        .collect();
    std::fs::write(
        dir.path().join("sizes.json"),
        format!("[{}]", json_sizes.join(", ")),
    )
    .unwrap();
    let original = natural_frame(&[480, 640, 3], 2);
    std::fs::write(dir.path().join("natural.raw"), original.data()).unwrap();
    let report = run_python(REDUCER_CHECK, &[dir.path()]);
    let report = netgear::json::parse(report.trim().as_bytes()).unwrap();
    let Value::Array(rows) = report else { panic!() };
    for ((h, w, p), row) in sizes.iter().zip(rows) {
        let Value::Array(pair) = row else {
            panic!("{row:?}")
        };
        let want = (
            pair[0].as_i64().unwrap() as usize,
            pair[1].as_i64().unwrap() as usize,
        );
        assert_eq!(reduced_size(*h, *w, *p).unwrap(), want, "{h}x{w} by {p}%");
    }
    // Pixels: close to OpenCV's Lanczos on natural content.
    let ours = reducer(&original, 40.0).unwrap();
    assert_eq!(ours.shape(), [288, 384, 3]);
    let npy = std::fs::read(dir.path().join("vidgear_reduced.npy")).unwrap();
    let theirs = &npy[npy.len() - 288 * 384 * 3..];
    let db = psnr(ours.data(), theirs);
    assert!(db >= 30.0, "reducer vs vidgear's: {db:.2} dB");
}

const NATURAL_CHECK: &str = r#"
import sys, hashlib, importlib.util
sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("peer", sys.argv[1])
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)
for shape, k in [((480, 640, 3), 0), ((480, 640, 3), 7), ((37, 53), 300), ((20, 30, 4), 1234567), ((1080, 1920, 1), 99)]:
    print(hashlib.sha256(peer.natural_frame(shape, k).tobytes()).hexdigest())
"#;

#[test]
fn the_natural_pattern_is_the_same_in_peer_py() {
    let out = run_python(NATURAL_CHECK, &[&repo().join("conformance/python/peer.py")]);
    let ours: Vec<String> = [
        (vec![480, 640, 3], 0),
        (vec![480, 640, 3], 7),
        (vec![37, 53], 300),
        (vec![20, 30, 4], 1234567),
        (vec![1080, 1920, 1], 99),
    ]
    .iter()
    .map(|(shape, k)| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(natural_frame(shape, *k).data()))
    })
    .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), ours);
}

// ---------------------------------------------------------------------------
// The JPEG cells of the conformance matrix, one test per implementation pair.

/// The JPEG cells of one implementation pair: 12 cells, 6 frames each.
fn conform_jpeg(group: &str, filter: &str) {
    common::conform(group, filter, 6, 12);
}

#[test]
fn jpeg_cells_rust_to_rust() {
    conform_jpeg("jpeg-rust-rust", "^jpeg/p0/rust-rust/,^jpeg/p1/rust-rust/");
}
#[test]
fn jpeg_cells_rust_to_vidgear() {
    conform_jpeg(
        "jpeg-rust-python",
        "^jpeg/p0/rust-python/,^jpeg/p1/rust-python/",
    );
}
#[test]
fn jpeg_cells_vidgear_to_rust() {
    conform_jpeg(
        "jpeg-python-rust",
        "^jpeg/p0/python-rust/,^jpeg/p1/python-rust/",
    );
}
#[test]
fn jpeg_cells_vidgear_to_vidgear_control() {
    conform_jpeg(
        "jpeg-python-python",
        "^jpeg/p0/python-python/,^jpeg/p1/python-python/",
    );
}

/// The nine other colourspaces (padding, alpha, CMYK), frames and
/// returned frames, both directions against vidgear, and vidgear's own
/// frames as the control: 45 cells.
#[test]
fn jpeg_cells_of_every_colourspace_against_vidgear() {
    common::conform("jpeg-cs", "^jpeg-cs/", 4, 45);
}
#[test]
fn jpeg_cells_over_ipc() {
    common::conform("jpeg-ipc", "^jpeg-ipc/", 4, 6);
}
#[test]
fn jpeg_cells_with_pubsub() {
    common::conform("jpeg-p2", "^jpeg/p2/", 6, 12);
}
#[test]
fn jpeg_cells_in_both_multi_modes() {
    common::conform("jpeg-multi", "^jpeg-multi/", 4, 4);
}
