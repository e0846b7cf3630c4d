//! Frames from a video file or a camera, read through an `ffmpeg`
//! subprocess (raw `bgr24`, OpenCV's channel order, as vidgear's CamGear
//! delivers them).
//!
//! ```no_run
//! use netgear::source::{SourceOptions, VideoSource};
//! let video = VideoSource::open("clip.mp4", &SourceOptions::default())?;
//! println!("{}x{} at {:?} fps", video.width(), video.height(), video.frame_rate());
//! for frame in video {
//!     let frame = frame?; // uint8, shape (H, W, 3), BGR
//!     # let _ = frame;
//! }
//! # Ok::<(), netgear::source::SourceError>(())
//! ```

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use crate::wire::{Dtype, Frame};

/// How to read a video (the fields are set with the builder methods of
/// the same name).
///
/// ```
/// use netgear::source::SourceOptions;
/// let o = SourceOptions::default().looping(true).ffmpeg("/opt/ffmpeg/bin/ffmpeg");
/// assert!(o.looping);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceOptions {
    /// Start again at the end of the file, forever.
    pub looping: bool,
    /// The ffmpeg program (default `ffmpeg` on the `PATH`).
    pub ffmpeg: PathBuf,
    /// The ffprobe program (default `ffprobe` on the `PATH`).
    pub ffprobe: PathBuf,
}

impl Default for SourceOptions {
    fn default() -> SourceOptions {
        SourceOptions {
            looping: false,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

impl SourceOptions {
    /// Starts the video again at its end, forever (or not).
    #[must_use]
    pub fn looping(mut self, on: bool) -> SourceOptions {
        self.looping = on;
        self
    }

    /// Sets the ffmpeg program.
    #[must_use]
    pub fn ffmpeg(mut self, program: impl Into<PathBuf>) -> SourceOptions {
        self.ffmpeg = program.into();
        self
    }

    /// Sets the ffprobe program.
    ///
    /// ```
    /// let o = netgear::source::SourceOptions::default().ffprobe("ffprobe7");
    /// assert_eq!(o.ffprobe, std::path::PathBuf::from("ffprobe7"));
    /// ```
    #[must_use]
    pub fn ffprobe(mut self, program: impl Into<PathBuf>) -> SourceOptions {
        self.ffprobe = program.into();
        self
    }
}

/// Why a video cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file does not exist (or cannot be seen).
    #[error("{path}: no such file or device")]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// ffmpeg or ffprobe is not installed.
    #[error("cannot run {tool} ({error}); install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg)")]
    ToolMissing {
        /// The program.
        tool: String,
        /// What the system said.
        error: io::Error,
    },
    /// ffprobe found no usable video stream.
    #[error("{path}: not a readable video: {message}")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// ffprobe's explanation.
        message: String,
    },
    /// ffmpeg failed while decoding.
    #[error("ffmpeg failed on {path}: {message}")]
    Ffmpeg {
        /// The path given.
        path: PathBuf,
        /// ffmpeg's explanation.
        message: String,
    },
    /// Reading from ffmpeg failed.
    #[error("reading frames from ffmpeg: {0}")]
    Io(#[from] io::Error),
}

impl SourceError {
    /// True when the input itself is at fault (missing or not a video), as
    /// opposed to the machine (no ffmpeg) or a failure while reading.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SourceError::NotFound { .. } | SourceError::Unreadable { .. }
        )
    }
}

/// The frames of a video, in order, as `uint8` `(H, W, 3)` BGR frames.
/// Dropping it stops ffmpeg.
pub struct VideoSource {
    path: PathBuf,
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    width: usize,
    height: usize,
    frame_rate: Option<f64>,
    done: bool,
}

fn is_device(path: &Path) -> bool {
    path.starts_with("/dev/")
}

/// `"30000/1001"` → 29.97; `"0/0"` → None.
fn parse_rate(text: &str) -> Option<f64> {
    let (n, d) = text.trim().split_once('/').unwrap_or((text.trim(), "1"));
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    let rate = n / d;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

fn input_args(path: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if is_device(path) && cfg!(target_os = "linux") {
        args.extend(["-f".into(), "v4l2".into()]);
    }
    args.push("-i".into());
    args.push(path.into());
    args
}

impl VideoSource {
    /// Probes `path` with ffprobe, then starts ffmpeg decoding it.
    pub fn open(
        path: impl AsRef<Path>,
        options: &SourceOptions,
    ) -> Result<VideoSource, SourceError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(SourceError::NotFound { path });
        }
        let tool_missing = |tool: &Path| {
            let tool = tool.display().to_string();
            move |error| SourceError::ToolMissing { tool, error }
        };
        let mut probe = Command::new(&options.ffprobe);
        probe
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .arg("stream=width,height,avg_frame_rate,r_frame_rate")
            .args(["-of", "default=noprint_wrappers=1"]);
        if is_device(&path) && cfg!(target_os = "linux") {
            probe.args(["-f", "v4l2"]);
        }
        let probed = probe
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .map_err(tool_missing(&options.ffprobe))?;
        let text = String::from_utf8_lossy(&probed.stdout);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let width = field("width").and_then(|v| v.trim().parse::<usize>().ok());
        let height = field("height").and_then(|v| v.trim().parse::<usize>().ok());
        let (width, height) = match (width, height) {
            (Some(w), Some(h)) if probed.status.success() && w > 0 && h > 0 => (w, h),
            _ => {
                let err = String::from_utf8_lossy(&probed.stderr).trim().to_owned();
                return Err(SourceError::Unreadable {
                    path,
                    message: if err.is_empty() {
                        "no video stream".into()
                    } else {
                        err
                    },
                });
            }
        };
        let frame_rate = field("avg_frame_rate")
            .and_then(|r| parse_rate(&r))
            .or_else(|| field("r_frame_rate").and_then(|r| parse_rate(&r)));

        let mut cmd = Command::new(&options.ffmpeg);
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
        if options.looping && !is_device(&path) {
            cmd.args(["-stream_loop", "-1"]);
        }
        // Keep the coded size ffprobe reported (no rotation from metadata).
        cmd.arg("-noautorotate");
        cmd.args(input_args(&path));
        cmd.args(["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"]);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(tool_missing(&options.ffmpeg))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(VideoSource {
            path,
            child,
            stdout,
            stderr: Some(stderr),
            width,
            height,
            frame_rate,
            done: false,
        })
    }

    /// Frame width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The stream's average frame rate, when it has one.
    pub fn frame_rate(&self) -> Option<f64> {
        self.frame_rate
    }

    fn finish(&mut self) -> Option<SourceError> {
        self.done = true;
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(SourceError::Ffmpeg {
                path: self.path.clone(),
                message: if stderr.trim().is_empty() {
                    format!("exited with {s}")
                } else {
                    stderr.trim().to_owned()
                },
            }),
            Err(e) => Some(SourceError::Io(e)),
        }
    }
}

impl Iterator for VideoSource {
    type Item = Result<Frame, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let size = self.width * self.height * 3;
        let mut buf = vec![0u8; size];
        let mut filled = 0;
        while filled < size {
            match self.stdout.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            }
        }
        if filled < size {
            let failure = self.finish();
            return match failure {
                Some(e) => Some(Err(e)),
                None if filled == 0 => None,
                None => Some(Err(SourceError::Ffmpeg {
                    path: self.path.clone(),
                    message: format!("the last frame is cut short ({filled} of {size} bytes)"),
                })),
            };
        }
        Some(Ok(Frame::new(
            Dtype::Uint8,
            vec![self.height, self.width, 3],
            buf,
        )
        .expect("a whole frame")))
    }
}

impl Drop for VideoSource {
    fn drop(&mut self) {
        // Harmless when ffmpeg has already exited and been waited for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("25/1"), Some(25.0));
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("12"), Some(12.0));
    }
}
