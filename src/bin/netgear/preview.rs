//! `netgear receive --preview ADDR`: a small HTTP server showing the frames
//! as they arrive.
//!
//! * `/` — an HTML page: the video and, below it, the text of `/info`;
//! * `/stream.mjpg` — the frames as an MJPEG stream
//!   (`multipart/x-mixed-replace`, what browsers show in an `<img>`);
//! * `/frame.jpg` — the latest frame as one JPEG;
//! * `/info` — plain text: frames, rate, frame interval, latest message.
//!
//! The receive loop only hands the latest frame over (no copy: the bytes
//! are shared); each viewer's thread compresses it when it is ready for the
//! next one, so a slow viewer never slows the link down.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use netgear::jpeg::{encode, JpegOptions};
use netgear::json::Value;
use netgear::wire::Colorspace;
use netgear::{Dtype, Frame, Payload};

/// Viewers served at once; more get `503`.
const MAX_CONNECTIONS: usize = 32;
/// JPEG quality of the preview stream.
const QUALITY: u8 = 80;

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netgear preview</title>
<style>
body { background: #111; color: #ddd; font: 14px/1.4 monospace; margin: 0; padding: 8px; }
img { display: block; max-width: 100%; background: #000; min-width: 320px; min-height: 240px; }
pre { margin: 8px 0 0; white-space: pre-wrap; }
</style></head>
<body>
<img id="video" src="/stream.mjpg" alt="live video">
<pre id="info">waiting for frames…</pre>
<script>
async function tick() {
  try {
    const r = await fetch('/info', { cache: 'no-store' });
    document.getElementById('info').textContent = await r.text();
  } catch (e) {}
  setTimeout(tick, 500);
}
tick();
</script>
</body></html>
"#;

struct Latest {
    seq: u64,
    frame: Frame,
    colorspace: Option<Colorspace>,
    /// The JPEG of this frame, once a viewer made it.
    jpeg: Option<Bytes>,
}

#[derive(Default)]
struct State {
    latest: Option<Latest>,
    frames: u64,
    started: Option<Instant>,
    intervals: VecDeque<Duration>,
    message: String,
    undisplayable: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    fresh: Condvar,
    connections: AtomicUsize,
}

/// The running preview server.
pub struct Preview {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Preview {
    /// Binds `addr` and serves in background threads.
    pub fn start(addr: &str) -> Result<Preview, String> {
        let listener = TcpListener::bind(addr)
            .map_err(|e| format!("cannot serve the preview on {addr}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("preview socket: {e}"))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            fresh: Condvar::new(),
            connections: AtomicUsize::new(0),
        });
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name("preview".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let shared = accept_shared.clone();
                    if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                        shared.connections.fetch_sub(1, Ordering::SeqCst);
                        let mut stream = stream;
                        let _ = respond(
                            &mut stream,
                            "503 Service Unavailable",
                            "text/plain",
                            b"busy\n",
                        );
                        continue;
                    }
                    let _ = thread::Builder::new()
                        .name("preview-conn".into())
                        .spawn(move || {
                            let _ = serve(&shared, stream);
                            shared.connections.fetch_sub(1, Ordering::SeqCst);
                        });
                }
            })
            .map_err(|e| format!("cannot start the preview thread: {e}"))?;
        Ok(Preview { shared, addr })
    }

    /// The address actually bound (resolves port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Hands over frame `seq` (cheap: the pixels are shared, not copied).
    pub fn publish(
        &self,
        seq: u64,
        frame: &Frame,
        colorspace: Option<Colorspace>,
        message: &Value,
        interval: Option<Duration>,
    ) {
        let mut state = self.shared.state.lock().expect("preview lock");
        state.frames += 1;
        state.started.get_or_insert_with(Instant::now);
        if let Some(d) = interval {
            if state.intervals.len() == 200 {
                state.intervals.pop_front();
            }
            state.intervals.push_back(d);
        }
        let mut text = message.to_python_json();
        if text.len() > 2000 {
            let cut = (0..=2000)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        state.message = text;
        state.latest = Some(Latest {
            seq,
            frame: frame.clone(),
            colorspace,
            jpeg: None,
        });
        drop(state);
        self.shared.fresh.notify_all();
    }
}

/// The frame as something a browser can show: 8-bit gray, colour or
/// colour + padding, in the layout it arrived in (BGR, OpenCV's, when raw).
fn displayable(
    frame: &Frame,
    colorspace: Option<Colorspace>,
) -> Result<(Frame, Colorspace), String> {
    let eight_bit = match frame.dtype() {
        Dtype::Uint8 => frame.clone(),
        Dtype::Uint16 => {
            let high: Vec<u8> = frame.data().chunks_exact(2).map(|b| b[1]).collect();
            Frame::new(Dtype::Uint8, frame.shape().to_vec(), high).expect("same shape")
        }
        other => return Err(format!("{other} frames are not shown")),
    };
    let cs = match (eight_bit.shape(), colorspace) {
        ([_, _], _) | ([_, _, 1], _) => Colorspace::Gray,
        ([_, _, 3], Some(cs)) if cs.channels() == 3 => cs,
        ([_, _, 3], _) => Colorspace::Bgr,
        ([_, _, 4], Some(cs)) if cs.channels() == 4 => cs,
        ([_, _, 4], _) => Colorspace::Bgra,
        (shape, _) => return Err(format!("frames of shape {shape:?} are not shown")),
    };
    Ok((eight_bit, cs))
}

/// The latest frame newer than `after` (waiting up to `wait`) and its JPEG,
/// `None` when it cannot be shown.
fn next_jpeg(shared: &Shared, after: Option<u64>, wait: Duration) -> Option<(u64, Option<Bytes>)> {
    let deadline = Instant::now() + wait;
    let mut state = shared.state.lock().expect("preview lock");
    loop {
        if let Some(latest) = &state.latest {
            if after.is_none_or(|a| latest.seq != a) {
                break;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        state = shared
            .fresh
            .wait_timeout(state, left)
            .expect("preview lock")
            .0;
    }
    let latest = state.latest.as_ref().expect("checked above");
    if let Some(jpeg) = &latest.jpeg {
        return Some((latest.seq, Some(jpeg.clone())));
    }
    let (seq, frame, colorspace) = (latest.seq, latest.frame.clone(), latest.colorspace);
    drop(state); // compress without holding the lock
    let jpeg = match displayable(&frame, colorspace) {
        Ok((frame, cs)) => {
            let options = (JpegOptions::with_colorspace(cs)).quality(QUALITY);
            match encode(&frame, &options) {
                Ok(Payload::Jpeg { data, .. }) => Ok(data),
                Ok(Payload::Raw(_)) => unreachable!("encode makes JPEG"),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e),
    };
    let mut state = shared.state.lock().expect("preview lock");
    match jpeg {
        Ok(data) => {
            if let Some(latest) = state.latest.as_mut().filter(|l| l.seq == seq) {
                latest.jpeg = Some(data.clone());
            }
            state.undisplayable = None;
            Some((seq, Some(data)))
        }
        Err(e) => {
            state.undisplayable = Some(e);
            Some((seq, None))
        }
    }
}

fn info(shared: &Shared) -> String {
    let state = shared.state.lock().expect("preview lock");
    let mut out = String::new();
    let secs = state.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let rate = if secs > 0.0 {
        state.frames as f64 / secs
    } else {
        0.0
    };
    out.push_str(&format!(
        "frames received: {}\nrate: {rate:.1} fps\n",
        state.frames
    ));
    if let Some(latest) = &state.latest {
        out.push_str(&format!(
            "latest frame: #{} {} {:?}{}\n",
            latest.seq,
            latest.frame.dtype(),
            latest.frame.shape(),
            latest
                .colorspace
                .map_or(String::new(), |c| format!(" (JPEG {c})"))
        ));
    }
    if !state.intervals.is_empty() {
        let mut ms: Vec<f64> = state
            .intervals
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        let q = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        out.push_str(&format!(
            "frame interval (the sender's round trip in lockstep): last {:.2} ms, p50 {:.2} ms, p99 {:.2} ms over {} frames\n",
            state.intervals.back().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            q(0.5),
            q(0.99),
            ms.len()
        ));
    }
    if let Some(e) = &state.undisplayable {
        out.push_str(&format!("not shown: {e}\n"));
    }
    out.push_str(&format!("latest message: {}\n", state.message));
    out
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.by_ref().take(8192).read_line(&mut request)?;
    // Skip the headers (bounded).
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.by_ref().take(8192).read_line(&mut line)?;
        total += n;
        if n == 0 || line == "\r\n" || line == "\n" || total > 64 * 1024 {
            break;
        }
    }
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        );
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/" | "/index.html" => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        "/info" => respond(
            &mut stream,
            "200 OK",
            "text/plain; charset=utf-8",
            info(shared).as_bytes(),
        ),
        "/frame.jpg" => match next_jpeg(shared, None, Duration::from_secs(5)) {
            Some((_, Some(jpeg))) => respond(&mut stream, "200 OK", "image/jpeg", &jpeg),
            Some((_, None)) => respond(
                &mut stream,
                "415 Unsupported Media Type",
                "text/plain",
                b"frame not shown\n",
            ),
            None => respond(
                &mut stream,
                "503 Service Unavailable",
                "text/plain",
                b"no frame yet\n",
            ),
        },
        "/stream.mjpg" => stream_mjpeg(shared, stream),
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

fn stream_mjpeg(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=netgearframe\r\n\
          Cache-Control: no-store\r\nConnection: close\r\n\r\n",
    )?;
    let mut last = None;
    loop {
        let Some((seq, jpeg)) = next_jpeg(shared, last, Duration::from_secs(1)) else {
            if viewer_left(&stream) {
                return Ok(());
            }
            continue;
        };
        last = Some(seq);
        let Some(jpeg) = jpeg else { continue };
        write!(
            stream,
            "--netgearframe\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        )?;
        stream.write_all(&jpeg)?;
        stream.write_all(b"\r\n")?;
        stream.flush()?;
    }
}

/// True when the viewer closed the connection (checked while no frame comes).
fn viewer_left(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let left = matches!(stream.peek(&mut byte), Ok(0))
        || matches!(stream.peek(&mut byte), Err(e) if e.kind() != std::io::ErrorKind::WouldBlock);
    let _ = stream.set_nonblocking(false);
    left
}
