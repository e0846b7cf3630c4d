//! Video in through ffmpeg (`netgear::source`, `send --source`).

use std::path::Path;
use std::process::Command;

use netgear::source::{SourceError, SourceOptions, VideoSource};
use netgear::Frame;
use netgear_testkit::netgear_bin;
// ---------------------------------------------------------------------------
// Video in.

/// A short test video made by ffmpeg (which .ci/run installs).
fn make_clip(dir: &Path, frames: u32, size: &str) -> std::path::PathBuf {
    let path = dir.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=s={size}:r=25"))
        .args(["-frames:v", &frames.to_string(), "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("ffmpeg is needed for this test (apt-get install ffmpeg): {e}"));
    assert!(status.success());
    path
}

#[test]
fn video_sources_yield_bgr_frames_and_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path(), 10, "160x120");
    let video = VideoSource::open(&clip, &SourceOptions::default()).unwrap();
    assert_eq!((video.width(), video.height()), (160, 120));
    assert_eq!(video.frame_rate(), Some(25.0));
    let frames: Vec<Frame> = video.map(Result::unwrap).collect();
    assert_eq!(frames.len(), 10);
    assert!(frames.iter().all(|f| f.shape() == [120, 160, 3]));
    assert_ne!(frames[0], frames[9], "testsrc2 moves");
    // Looping goes on past the end.
    let looping = SourceOptions::default().looping(true);
    assert_eq!(
        VideoSource::open(&clip, &looping).unwrap().take(25).count(),
        25
    );

    let missing = dir.path().join("missing.mp4");
    let err = VideoSource::open(&missing, &SourceOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, SourceError::NotFound { .. }) && err.is_bad_input(),
        "{err}"
    );
    let not_video = dir.path().join("notes.txt");
    std::fs::write(&not_video, "hello").unwrap();
    let err = VideoSource::open(&not_video, &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, SourceError::Unreadable { .. }), "{err}");
    let no_tools = SourceOptions::default().ffprobe(dir.path().join("no-ffprobe"));
    let err = VideoSource::open(&clip, &no_tools).err().unwrap();
    assert!(matches!(err, SourceError::ToolMissing { .. }) && !err.is_bad_input());
    assert!(err.to_string().contains("apt-get install ffmpeg"), "{err}");
}

#[test]
fn send_source_reports_missing_files_and_missing_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(netgear_bin())
        .args(["send", "--port", "1", "--frames", "1", "--source"])
        .arg(dir.path().join("nope.mp4"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    let clip = make_clip(dir.path(), 2, "64x48");
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let out = Command::new(netgear_bin())
        .env("PATH", &empty_path)
        .args(["send", "--port", "1", "--frames", "1", "--source"])
        .arg(&clip)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ffprobe") && err.contains("install FFmpeg"),
        "{err}"
    );
}
