//! NetGear over a transport of your own: the sans-IO machines of
//! `netgear::session` driven over a plain byte stream, with no ZeroMQ.
//!
//! ```text
//! cargo run --example custom_transport [-- --frames N]
//! ```
//!
//! A sender and a receiver run on two threads joined by a Unix-domain
//! stream (`UnixStream::pair()`, so it needs no network at all). The sender
//! sends frames with a JSON caption; the receiver checks every pixel and
//! answers with return data, alternately JSON and a frame; the sender checks
//! every answer, then ends the session with the termination handshake. A
//! `std::net::TcpStream` has the same methods and works the same way.
//!
//! A transport does three things for a machine: it carries the parts of
//! `poll_transmit()` to the peer, feeds what arrives to `handle_message`,
//! and waits no longer than `poll_timeout()` before calling
//! `handle_timeout` (here: the stream's read timeout).
//!
//! Framing: a message is a big-endian u32 part count, then for each part a
//! u32 length and the bytes. Lengths come from the peer, so each one is
//! checked against the session's message bound before anything is awaited,
//! and buffers grow only with the bytes that actually arrive.
//!
//! Resets: after a silence the machines ask for `Transmit::ResetSocket`
//! (the server then sends the unanswered frame again), because a ZeroMQ
//! socket can lose a request for good. A stream loses nothing: the first
//! copy is still on its way, and sending it again would deliver it twice.
//! So this transport keeps its stream on a reset and the server skips the
//! resend; the machines still count the silences and give up after
//! `max_retries`. Over TCP between machines, where a connection can die
//! without a word, a reset would instead reconnect (server) or accept the
//! next connection (client), and send what follows on the new stream.

use std::error::Error;
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::thread;
use std::time::Instant;

use bytes::Bytes;
use netgear::json;
use netgear::session::{Client, ClientEvent, Config, Pattern, Server, ServerEvent, Transmit};
use netgear::wire::{Limits, Parts};
use netgear::{Dtype, Frame, Payload, ReturnData};

type Failure = Box<dyn Error + Send + Sync>;

/// NetGear messages have one or two parts; a few more still reach the
/// machines, which reject them as malformed.
const MAX_PARTS: usize = 16;

/// Both ends: REQ/REP semantics (an acknowledged termination), return data.
fn config() -> Config {
    Config::new().pattern(Pattern::ReqRep).bidirectional(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let frames = match args.as_slice() {
        [] => Some(20),
        [flag, n] if flag == "--frames" => n.parse().ok(),
        _ => None,
    };
    let Some(frames) = frames else {
        eprintln!("usage: custom_transport [--frames N], not {args:?}");
        return ExitCode::FAILURE;
    };
    match run(frames) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("custom_transport: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One session of `frames` frames; true when everything matched.
fn run(frames: u64) -> Result<bool, Failure> {
    let (to_receiver, to_sender) = UnixStream::pair()?;
    let receiver = thread::spawn(move || receiver(to_sender));
    let sent = sender(to_receiver, frames)?;
    let intact = receiver.join().map_err(|_| "the receiver panicked")??;
    println!(
        "custom_transport: {frames} frames sent, {intact} received intact; {} replies matched \
         ({} JSON, {} frames); termination {}",
        sent.json + sent.frames,
        sent.json,
        sent.frames,
        if sent.acknowledged {
            "acknowledged"
        } else {
            "not acknowledged"
        }
    );
    Ok(intact == frames && sent.json + sent.frames == frames && sent.acknowledged)
}

// ---------------------------------------------------------------------------
// The application: what is sent and what is answered
// ---------------------------------------------------------------------------

/// The message with each frame.
#[derive(serde::Serialize, serde::Deserialize)]
struct Caption {
    frame_no: u64,
    text: String,
}

/// The JSON return data.
#[derive(serde::Serialize)]
struct Stats {
    frame_no: u64,
    pixel_sum: u64,
}

/// Frame `n` of the sender's video: 48×64 RGB, different for every `n`.
fn video_frame(n: u64) -> Frame {
    let pixels: Vec<u8> = (0..48 * 64 * 3u64)
        .map(|i| ((i + 7 * n) % 251) as u8)
        .collect();
    Frame::new(Dtype::Uint8, vec![48, 64, 3], pixels).expect("the pixels fill the shape")
}

/// What the receiver returns for frame `n`: JSON statistics for even
/// frames, the frame's negative for odd ones.
fn answer(n: u64, frame: &Frame) -> ReturnData {
    if n.is_multiple_of(2) {
        let pixel_sum = frame.data().iter().map(|&b| u64::from(b)).sum();
        ReturnData::json(&Stats {
            frame_no: n,
            pixel_sum,
        })
        .expect("plain numbers serialise")
    } else {
        let negative: Vec<u8> = frame.data().iter().map(|&b| 255 - b).collect();
        Frame::new(frame.dtype(), frame.shape(), negative)
            .expect("same shape")
            .into()
    }
}

/// The return data that answers every frame until the first is seen.
fn first_answer() -> ReturnData {
    ReturnData::json("ready").expect("a string serialises")
}

// ---------------------------------------------------------------------------
// The two peers
// ---------------------------------------------------------------------------

#[derive(Default)]
struct SenderTally {
    json: u64,
    frames: u64,
    acknowledged: bool,
}

/// Sends `frames` frames and checks each answer. A client answers a frame
/// the moment it arrives, with the return data set after the frame before,
/// so the answer to frame n is `answer(n - 1)` (and `first_answer()` for
/// frame 0).
fn sender(stream: UnixStream, frames: u64) -> Result<SenderTally, Failure> {
    let mut link = Link::new(stream, &config().limits);
    let mut server = Server::new(config())?;
    let mut tally = SenderTally::default();
    for n in 0..frames {
        let caption = json::to_value(&Caption {
            frame_no: n,
            text: format!("frame {n}"),
        })?;
        server.send_frame(video_frame(n), caption, Instant::now())?;
        let expected = match n.checked_sub(1) {
            None => first_answer(),
            Some(before) => answer(before, &video_frame(before)),
        };
        loop {
            match next_server_event(&mut server, &mut link)? {
                ServerEvent::Reply { data, .. } if data == expected => {
                    match data {
                        ReturnData::Json(_) => tally.json += 1,
                        ReturnData::Frame(_) => tally.frames += 1,
                    }
                    break;
                }
                ServerEvent::PeerSilent { retries_left, .. } => {
                    eprintln!("sender: no answer yet to frame {n} ({retries_left} retries left)");
                }
                ServerEvent::GaveUp { .. } => return Err("the receiver stopped answering".into()),
                // A wrong answer is this frame's problem only.
                other => {
                    eprintln!("sender: frame {n} answered with {other:?}");
                    break;
                }
            }
        }
    }
    server.close(Instant::now());
    loop {
        match next_server_event(&mut server, &mut link)? {
            ServerEvent::Closed { acknowledged } => {
                tally.acknowledged = acknowledged;
                return Ok(tally);
            }
            other => eprintln!("sender: while closing: {other:?}"),
        }
    }
}

/// Receives until the sender terminates, checks every frame and caption,
/// and sets the return data for the next answer. Returns the frames intact.
fn receiver(stream: UnixStream) -> Result<u64, Failure> {
    let mut link = Link::new(stream, &config().limits);
    let mut client = Client::new(config(), "CUSTOM01", Instant::now())?;
    client.set_return_data(first_answer());
    let mut intact = 0;
    loop {
        match next_client_event(&mut client, &mut link)? {
            ClientEvent::Frame(f) => {
                let expected = Payload::Raw(video_frame(f.seq));
                let caption_ok = f.message_as::<Caption>().is_ok_and(|c| c.frame_no == f.seq);
                if caption_ok && f.payload == expected {
                    intact += 1;
                } else {
                    eprintln!("receiver: frame {} is not what was sent", f.seq);
                }
                if let Payload::Raw(frame) = &f.payload {
                    client.set_return_data(answer(f.seq, frame));
                }
            }
            ClientEvent::Rejected { error } => eprintln!("receiver: a malformed message: {error}"),
            ClientEvent::Terminated => return Ok(intact),
            ClientEvent::GaveUp => return Err("the sender went silent".into()),
            other => eprintln!("receiver: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// The transport: a machine's transmits out, messages and time in
// ---------------------------------------------------------------------------

/// Runs the server machine until it has something to report.
fn next_server_event(server: &mut Server, link: &mut Link) -> io::Result<ServerEvent> {
    loop {
        let mut skip_resend = false;
        while let Some(transmit) = server.poll_transmit() {
            match transmit {
                // The stream still carries the first copy (see the top).
                Transmit::ResetSocket => skip_resend = true,
                Transmit::Send(_) if skip_resend => skip_resend = false,
                Transmit::Send(parts) => link.send(&parts)?,
            }
        }
        if let Some(event) = server.poll_event() {
            return Ok(event);
        }
        match link.recv_until(server.poll_timeout())? {
            Some(parts) => server.handle_message(parts, Instant::now()),
            None => server.handle_timeout(Instant::now()),
        }
    }
}

/// Runs the client machine until it has something to report. Its answers
/// leave before the frame they answer is reported.
fn next_client_event(client: &mut Client, link: &mut Link) -> io::Result<ClientEvent> {
    loop {
        while let Some(transmit) = client.poll_transmit() {
            match transmit {
                Transmit::Send(parts) => link.send(&parts)?,
                // Nothing to shed: the stream is kept (see the top).
                Transmit::ResetSocket => {}
            }
        }
        if let Some(event) = client.poll_event() {
            return Ok(event);
        }
        match link.recv_until(client.poll_timeout())? {
            Some(parts) => client.handle_message(parts, Instant::now()),
            None => client.handle_timeout(Instant::now()),
        }
    }
}

/// One end of the stream, and what has arrived of the next message.
struct Link {
    stream: UnixStream,
    inbox: Vec<u8>,
    max_bytes: usize,
}

impl Link {
    fn new(stream: UnixStream, limits: &Limits) -> Link {
        Link {
            stream,
            inbox: Vec::new(),
            max_bytes: limits.max_message_bytes,
        }
    }

    /// Writes one message: the part count, then each part's length and bytes.
    fn send(&mut self, parts: &[Bytes]) -> io::Result<()> {
        let word = |n: usize| u32::try_from(n).map(u32::to_be_bytes).map_err(invalid);
        self.stream.write_all(&word(parts.len())?)?;
        for part in parts {
            self.stream.write_all(&word(part.len())?)?;
            self.stream.write_all(part)?;
        }
        Ok(())
    }

    /// The next whole message, or `None` once `deadline` has passed (a
    /// message half arrived stays in the inbox for the next call).
    fn recv_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<Parts>> {
        let mut chunk = vec![0; 64 << 10];
        loop {
            if let Some(parts) = take_message(&mut self.inbox, self.max_bytes)? {
                return Ok(Some(parts));
            }
            let timeout = match deadline.map(|d| d.saturating_duration_since(Instant::now())) {
                Some(left) if left.is_zero() => return Ok(None),
                left => left,
            };
            self.stream.set_read_timeout(timeout)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.inbox.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(None)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Splits the first message off the front of `inbox` once all of it has
/// arrived. A count or a length past the bounds breaks the stream, as
/// libzmq drops a peer that sends more than its `ZMQ_MAXMSGSIZE`.
fn take_message(inbox: &mut Vec<u8>, max_bytes: usize) -> io::Result<Option<Parts>> {
    let Some(count) = word_at(inbox, 0) else {
        return Ok(None);
    };
    if count > MAX_PARTS {
        return Err(invalid(format!("a message of {count} parts")));
    }
    let mut spans = Vec::with_capacity(count);
    let mut end = 4;
    for _ in 0..count {
        let Some(len) = word_at(inbox, end) else {
            return Ok(None);
        };
        end += 4;
        if len > max_bytes.saturating_sub(end) {
            return Err(invalid(format!("a message over {max_bytes} bytes")));
        }
        spans.push(end..end + len);
        end += len;
    }
    if inbox.len() < end {
        return Ok(None);
    }
    let rest = inbox.split_off(end);
    let message = Bytes::from(std::mem::replace(inbox, rest));
    Ok(Some(
        spans.into_iter().map(|span| message.slice(span)).collect(),
    ))
}

/// The big-endian u32 at `at`, if it has arrived.
fn word_at(bytes: &[u8], at: usize) -> Option<usize> {
    let word: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    usize::try_from(u32::from_be_bytes(word)).ok()
}

fn invalid(e: impl Into<Failure>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, e)
}
