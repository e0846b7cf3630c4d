//! `netgear receive --preview`: a real headless Chromium shows the video.
//!
//! `netgear send --source clip.mp4 --jpeg --loop` streams an ffmpeg-made
//! clip to `netgear receive --preview`; Chromium loads the page twice and
//! its screenshots must show a non-uniform picture that moves. Chromium
//! (Debian package `chromium`) and ffmpeg are required, not optional:
//! `.ci/run` installs them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use netgear::jpeg::{decode_jpeg, JpegOptions};
use netgear::wire::Compression;
use netgear_testkit::{free_port, netgear_bin, wait_bound, Proc};

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!(
        "this test needs a headless Chromium and it is not installed (not skipped):\n\
         install Debian's package with `apt-get install chromium` (.ci/run does)"
    );
}

/// One HTTP GET on 127.0.0.1: the status line, headers and up to `max` bytes of body.
fn get(port: u16, path: &str, max: usize) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while buf.len() < max {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    (
        String::from_utf8_lossy(&buf[..split]).into_owned(),
        buf[split + 4..].to_vec(),
    )
}

fn screenshot(chromium: &Path, url: &str, out: &Path, profile: &Path) {
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=480,420",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("start chromium");
    assert!(status.success(), "chromium failed: {status}");
    assert!(out.exists(), "chromium wrote no screenshot");
}

/// RGB pixels of a PNG.
fn read_png(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width as usize, info.height as usize, pixels)
}

/// The pixels of the video area: the page puts the 320 × 240 picture at (8, 8).
fn video_area(png: &(usize, usize, Vec<[u8; 3]>)) -> Vec<[u8; 3]> {
    let (w, _, pixels) = png;
    (8..248)
        .flat_map(|y| (8..328).map(move |x| pixels[y * w + x]))
        .collect()
}

#[test]
fn chromium_shows_moving_video_from_a_file_sent_with_jpeg() {
    let chromium = chromium();
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let made = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25",
        ])
        .args(["-t", "3", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .expect("ffmpeg is needed (apt-get install ffmpeg; .ci/run does)");
    assert!(made.success());

    let link = free_port();
    let http = free_port();
    let mut rx = Command::new(netgear_bin());
    rx.args(["receive", "--port", &link.to_string(), "--preview"])
        .arg(format!("127.0.0.1:{http}"));
    let rx = Proc::start(rx);
    wait_bound(http);
    let mut tx = Command::new(netgear_bin());
    tx.args([
        "send",
        "--port",
        &link.to_string(),
        "--jpeg",
        "--loop",
        "--message",
        "\"hello from the sender\"",
    ])
    .arg("--source")
    .arg(&clip);
    let tx = Proc::start(tx);

    // Wait for frames to flow.
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = get(http, "/info", 1 << 16);
        let text = String::from_utf8_lossy(&body).into_owned();
        let frames: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("frames received: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if frames >= 10 {
            assert!(
                text.contains("latest message: \"hello from the sender\""),
                "{text}"
            );
            assert!(text.contains("[240, 320, 3] (JPEG BGR)"), "{text}");
            assert!(text.contains("frame interval"), "{text}");
            break;
        }
        assert!(
            Instant::now() < give_up,
            "no frames reached the preview: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The endpoints a browser uses.
    let (head, page) = get(http, "/", 1 << 16);
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/html"),
        "{head}"
    );
    assert!(String::from_utf8_lossy(&page).contains("/stream.mjpg"));
    let (head, jpeg) = get(http, "/frame.jpg", 1 << 20);
    assert!(head.contains("image/jpeg"), "{head}");
    let frame = decode_jpeg(
        &jpeg,
        &Compression::default(),
        &JpegOptions::default(),
        1 << 24,
    )
    .unwrap();
    assert_eq!(frame.shape(), [240, 320, 3]);
    let (head, stream) = get(http, "/stream.mjpg", 20_000);
    assert!(
        head.contains("multipart/x-mixed-replace; boundary=netgearframe"),
        "{head}"
    );
    assert!(stream.starts_with(b"--netgearframe\r\nContent-Type: image/jpeg\r\n"));

    // What a person sees, twice, a second apart.
    let url = format!("http://127.0.0.1:{http}/");
    let first = dir.path().join("first.png");
    let second = dir.path().join("second.png");
    screenshot(&chromium, &url, &first, &dir.path().join("profile1"));
    std::thread::sleep(Duration::from_millis(1000));
    screenshot(&chromium, &url, &second, &dir.path().join("profile2"));
    let (a, b) = (read_png(&first), read_png(&second));
    let (va, vb) = (video_area(&a), video_area(&b));
    let distinct: std::collections::HashSet<[u8; 3]> = va.iter().copied().collect();
    assert!(
        distinct.len() > 50,
        "the video area is nearly uniform ({} colours): no video shown?",
        distinct.len()
    );
    let background = [0x11u8, 0x11, 0x11];
    let dark = va.iter().filter(|p| **p == background).count();
    assert!(
        dark < va.len() / 10,
        "the video area is mostly page background"
    );
    let changed = va.iter().zip(&vb).filter(|(p, q)| p != q).count();
    assert!(
        changed > va.len() / 100,
        "the two screenshots show the same picture ({changed} pixels differ): the video does not move"
    );

    tx.kill();
    rx.kill();
}
