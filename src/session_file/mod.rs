//! Session files: recorded NetGear conversations (spec/09-session-files.md).
//!
//! A session file holds everything that crossed a relay sitting between a
//! server and a client (`netgear record`): every multipart message with its
//! direction, the link (relayed port) it used and its time, the peers'
//! connections and disconnections, and a header describing the connection.
//! Large parts are stored once, in a blob table keyed by SHA-256.
//!
//! [`replay`] feeds a recording to the crate's own state machines and checks
//! that they say on the wire exactly what the recorded peers said.
//!
//! ```
//! use bytes::Bytes;
//! use netgear::session_file::{Direction, Header, SessionFile};
//!
//! let mut file = SessionFile::new(Header::default());
//! file.push_message(0, 0, Direction::ServerToClient, &[Bytes::from_static(br#"{"terminate_flag": true}"#)]);
//! let bytes = file.to_bytes();
//! let back = SessionFile::from_bytes(&bytes).unwrap();
//! assert_eq!(back.messages().count(), 1);
//! ```

mod diff;
mod replay;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::wire::{Parts, CONFIRMATION_PREFIX, DEVICE_ID_LEN, REJECTION_PREFIX};

pub use diff::{render_part, PartsDiff};
pub use replay::{replay, Mismatch, Note, Report};

/// The `format` field of every session file.
pub const FORMAT: &str = "netgear-session";

/// The format version this code writes; it reads this version only.
pub const VERSION: u32 = 1;

/// Parts larger than this are stored in the blob table, not inline.
pub const INLINE_LIMIT: usize = 256;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the server (the sender of frames) to the client.
    ServerToClient,
    /// From the client (the receiver of frames) to the server.
    ClientToServer,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ServerToClient => "server→client",
            Direction::ClientToServer => "client→server",
        })
    }
}

/// Which side of the relay a connection event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The server's connection to the relay's listening socket.
    Server,
    /// The relay's connection to the client's bound socket.
    Client,
}

/// What happened to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The connection was established.
    Connected,
    /// The connection was lost (the peer closed or died).
    Disconnected,
}

/// One part of a recorded message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// The bytes themselves (parts of at most [`INLINE_LIMIT`] bytes).
    Inline(Bytes),
    /// A reference into the blob table.
    Blob {
        /// SHA-256 of the bytes (32 bytes).
        sha256: Bytes,
        /// Their length.
        size: u64,
    },
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the first recorded event.
    pub t_ms: u64,
    /// Index of the link (relayed port pair, [`Header::links`]).
    pub link: u32,
    /// What happened.
    pub what: What,
}

/// What an event records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum What {
    /// A multipart message, without any routing envelope.
    Message {
        /// Which way it went.
        dir: Direction,
        /// The size of every part, in bytes.
        sizes: Vec<u64>,
        /// The parts.
        parts: Vec<Part>,
        /// False when the relay could not pass the message on (the other
        /// side had no connection at that moment): it was received from
        /// its sender but never reached its addressee.
        #[serde(default = "yes")]
        forwarded: bool,
    },
    /// A connection came or went.
    Link {
        /// Which side of the relay.
        side: Side,
        /// What happened.
        change: Change,
    },
}

/// One relayed port pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// The endpoint the relay bound for the server to connect to.
    pub listen: String,
    /// The endpoint of the client the relay connected to.
    pub forward: String,
}

/// JPEG settings of a peer (vidgear's `jpeg_compression*` options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JpegSettings {
    /// The colorspace name (`BGR`, `RGB`, `GRAY`, ...).
    pub colorspace: String,
    /// Quality, 10–100.
    pub quality: u8,
    /// Fast DCT.
    pub fast_dct: bool,
    /// Fast upsampling.
    pub fast_upsample: bool,
}

/// Who played a role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The implementation, e.g. `vidgear` or `netgear`.
    pub implementation: String,
    /// Its version, e.g. `0.3.6`.
    pub version: String,
    /// How it was started (free text: its command line or settings).
    pub args: String,
    /// Its JPEG settings, when it compressed frames.
    pub jpeg: Option<JpegSettings>,
}

/// What the file describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// A short name (the corpus uses the file stem).
    pub name: String,
    /// What the session exercises.
    pub description: String,
    /// The pattern number: 0 (PAIR) or 1 (REQ/REP).
    pub pattern: u8,
    /// Bidirectional mode.
    pub bidirectional: bool,
    /// Multi-server mode.
    pub multiserver: bool,
    /// Multi-client mode.
    pub multiclient: bool,
    /// The peers' `max_retries`.
    pub max_retries: u32,
    /// The peers' request timeout, in milliseconds.
    pub request_timeout_ms: u64,
    /// The relayed port pairs; an event's `link` indexes this list.
    pub links: Vec<LinkInfo>,
    /// The server(s).
    pub server: PeerInfo,
    /// The client(s).
    pub client: PeerInfo,
    /// When it was recorded (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    pub recorded_at: String,
    /// The recorder (`netgear <version>`).
    pub recorder: String,
    /// What the recorder normalised: `device-id`, `timing`.
    pub normalised: Vec<String>,
    /// False when the recording stopped (timeout, Ctrl-C) before the
    /// termination handshake had passed on every link.
    pub complete: bool,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            name: String::new(),
            description: String::new(),
            pattern: 0,
            bidirectional: false,
            multiserver: false,
            multiclient: false,
            max_retries: 3,
            request_timeout_ms: 4000,
            links: vec![LinkInfo::default()],
            server: PeerInfo::default(),
            client: PeerInfo::default(),
            recorded_at: String::new(),
            recorder: format!("netgear {}", env!("CARGO_PKG_VERSION")),
            normalised: Vec::new(),
            complete: true,
        }
    }
}

/// A stored large part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    /// SHA-256 of `data`.
    pub sha256: Bytes,
    /// The bytes.
    pub data: Bytes,
}

/// A recorded session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version ([`VERSION`]).
    pub version: u32,
    /// The connection.
    pub header: Header,
    /// The events, in the order the relay saw them.
    pub events: Vec<Event>,
    /// Parts stored by hash, each once.
    pub blobs: Vec<Blob>,
    #[serde(skip)]
    index: HashMap<Bytes, usize>,
}

/// Why a session file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Not MessagePack of the expected shape.
    #[error("not a session file: {0}")]
    Decode(String),
    /// Another format or an unsupported version.
    #[error("unsupported session file: format {format:?} version {version} (this netgear reads {FORMAT:?} version {VERSION})")]
    Unsupported {
        /// The file's `format`.
        format: String,
        /// The file's `version`.
        version: u32,
    },
    /// The file is internally inconsistent.
    #[error("corrupt session file: {0}")]
    Corrupt(String),
}

/// A resolved message of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Index of the event in [`SessionFile::events`].
    pub index: usize,
    /// Milliseconds since the first event.
    pub t_ms: u64,
    /// The link.
    pub link: u32,
    /// Which way it went.
    pub dir: Direction,
    /// Its parts.
    pub parts: Parts,
    /// Whether the relay passed it on.
    pub forwarded: bool,
}

fn yes() -> bool {
    true
}

fn sha256(data: &[u8]) -> Bytes {
    Bytes::copy_from_slice(&Sha256::digest(data))
}

impl SessionFile {
    /// An empty recording with this header.
    pub fn new(header: Header) -> SessionFile {
        SessionFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            header,
            events: Vec::new(),
            blobs: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Appends a message; parts above [`INLINE_LIMIT`] go to the blob table
    /// (once per distinct content).
    pub fn push_message(&mut self, t_ms: u64, link: u32, dir: Direction, parts: &[Bytes]) {
        let sizes = parts.iter().map(|p| p.len() as u64).collect();
        let parts = parts
            .iter()
            .map(|p| {
                if p.len() <= INLINE_LIMIT {
                    return Part::Inline(p.clone());
                }
                let hash = sha256(p);
                if !self.index.contains_key(&hash) {
                    self.index.insert(hash.clone(), self.blobs.len());
                    self.blobs.push(Blob {
                        sha256: hash.clone(),
                        data: p.clone(),
                    });
                }
                Part::Blob {
                    sha256: hash,
                    size: p.len() as u64,
                }
            })
            .collect();
        self.events.push(Event {
            t_ms,
            link,
            what: What::Message {
                dir,
                sizes,
                parts,
                forwarded: true,
            },
        });
    }

    /// Marks the last message as received but not passed on.
    pub fn mark_last_unforwarded(&mut self) {
        if let Some(Event {
            what: What::Message { forwarded, .. },
            ..
        }) = self.events.last_mut()
        {
            *forwarded = false;
        }
    }

    /// Appends a connection event.
    pub fn push_link(&mut self, t_ms: u64, link: u32, side: Side, change: Change) {
        self.events.push(Event {
            t_ms,
            link,
            what: What::Link { side, change },
        });
    }

    /// The bytes of a part.
    pub fn part_bytes(&self, part: &Part) -> Result<Bytes, SessionFileError> {
        match part {
            Part::Inline(b) => Ok(b.clone()),
            Part::Blob { sha256, .. } => self
                .index
                .get(sha256)
                .map(|&i| self.blobs[i].data.clone())
                .ok_or_else(|| {
                    SessionFileError::Corrupt(format!("no blob {}", hex_string(sha256)))
                }),
        }
    }

    /// Every message, resolved, in recorded order.
    pub fn messages(&self) -> impl Iterator<Item = Message> + '_ {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(index, e)| match &e.what {
                What::Message {
                    dir,
                    parts,
                    forwarded,
                    ..
                } => Some(Message {
                    index,
                    t_ms: e.t_ms,
                    link: e.link,
                    dir: *dir,
                    forwarded: *forwarded,
                    parts: parts
                        .iter()
                        .map(|p| self.part_bytes(p).unwrap_or_default())
                        .collect(),
                }),
                What::Link { .. } => None,
            })
    }

    /// The file's bytes (MessagePack, maps with field names).
    pub fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).expect("a session file always serialises")
    }

    /// Reads a file's bytes and checks them: format and version, every
    /// blob's hash, every reference and every size.
    pub fn from_bytes(bytes: &[u8]) -> Result<SessionFile, SessionFileError> {
        #[derive(Deserialize)]
        struct Probe {
            format: String,
            version: u32,
        }
        let probe: Probe =
            rmp_serde::from_slice(bytes).map_err(|e| SessionFileError::Decode(e.to_string()))?;
        if probe.format != FORMAT || probe.version != VERSION {
            return Err(SessionFileError::Unsupported {
                format: probe.format,
                version: probe.version,
            });
        }
        let mut file: SessionFile =
            rmp_serde::from_slice(bytes).map_err(|e| SessionFileError::Decode(e.to_string()))?;
        for (i, blob) in file.blobs.iter().enumerate() {
            if sha256(&blob.data) != blob.sha256 {
                return Err(SessionFileError::Corrupt(format!(
                    "blob {i} does not match its hash {}",
                    hex_string(&blob.sha256)
                )));
            }
            file.index.insert(blob.sha256.clone(), i);
        }
        let links = file.header.links.len();
        for (i, event) in file.events.iter().enumerate() {
            if event.link as usize >= links {
                return Err(SessionFileError::Corrupt(format!(
                    "event {i} names link {} of {links}",
                    event.link
                )));
            }
            if let What::Message { sizes, parts, .. } = &event.what {
                if sizes.len() != parts.len() {
                    return Err(SessionFileError::Corrupt(format!(
                        "event {i}: {} sizes for {} parts",
                        sizes.len(),
                        parts.len()
                    )));
                }
                for (k, (part, &size)) in parts.iter().zip(sizes).enumerate() {
                    let actual = file.part_bytes(part)?.len() as u64;
                    let declared = match part {
                        Part::Blob { size, .. } => *size,
                        Part::Inline(_) => size,
                    };
                    if actual != size || declared != size {
                        return Err(SessionFileError::Corrupt(format!(
                            "event {i} part {k}: size {size}, but the bytes are {actual}"
                        )));
                    }
                }
            }
        }
        Ok(file)
    }

    /// Reads and checks a file.
    pub fn read(path: impl AsRef<Path>) -> Result<SessionFile, SessionFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SessionFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        SessionFile::from_bytes(&bytes)
    }

    /// Writes the file (through a temporary file, then a rename).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), SessionFileError> {
        let path = path.as_ref();
        let io = |source| SessionFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("ngs.partial");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Lower-case hexadecimal.
pub fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces the random device ids in confirmation and rejection strings
/// (`Data received on device: XXXXXXXX !`) by `DEVICE01`, `DEVICE02`, ...
/// in order of first appearance, so that recordings are reproducible.
#[derive(Debug, Default, Clone)]
pub struct DeviceIds {
    seen: Vec<Vec<u8>>,
}

impl DeviceIds {
    /// The canonical id of the `n`-th distinct device (0-based).
    pub fn canonical(n: usize) -> String {
        format!("DEVICE{:02}", n + 1)
    }

    /// Normalises a client→server message in place; returns true if it
    /// changed.
    pub fn normalise(&mut self, parts: &mut [Bytes]) -> bool {
        let [part] = parts else { return false };
        for prefix in [CONFIRMATION_PREFIX, REJECTION_PREFIX] {
            if !part.starts_with(prefix.as_bytes()) {
                continue;
            }
            let Some(id) =
                device_id_after(part, prefix).filter(|id| id.iter().all(u8::is_ascii_alphanumeric))
            else {
                return false;
            };
            let id = id.to_vec();
            let n = match self.seen.iter().position(|s| *s == id) {
                Some(n) => n,
                None => {
                    self.seen.push(id);
                    self.seen.len() - 1
                }
            };
            let mut out = Vec::with_capacity(part.len());
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(Self::canonical(n).as_bytes());
            out.extend_from_slice(&part[prefix.len() + DEVICE_ID_LEN..]);
            let changed = out != part[..];
            *part = Bytes::from(out);
            return changed;
        }
        false
    }
}

/// The device id in a confirmation or rejection string: the
/// [`DEVICE_ID_LEN`] bytes after `prefix`, if the text starts with it.
pub(crate) fn device_id_after<'a>(text: &'a [u8], prefix: &str) -> Option<&'a [u8]> {
    text.strip_prefix(prefix.as_bytes())?.get(..DEVICE_ID_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_blobs() {
        let mut file = SessionFile::new(Header::default());
        let big = Bytes::from(vec![7u8; 1000]);
        for t in 0..3 {
            file.push_message(
                t,
                0,
                Direction::ServerToClient,
                &[Bytes::from_static(b"{}"), big.clone()],
            );
        }
        file.push_link(5, 0, Side::Client, Change::Disconnected);
        assert_eq!(file.blobs.len(), 1, "one copy of a repeated payload");
        let back = SessionFile::from_bytes(&file.to_bytes()).unwrap();
        assert_eq!(back, {
            let mut f = file.clone();
            f.index = back.index.clone();
            f
        });
        let msgs: Vec<_> = back.messages().collect();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[2].parts[1], big);
    }

    #[test]
    fn corruption_is_detected() {
        let mut file = SessionFile::new(Header::default());
        file.push_message(
            0,
            0,
            Direction::ServerToClient,
            &[Bytes::from(vec![1u8; 600])],
        );
        file.blobs[0].data = Bytes::from(vec![2u8; 600]);
        assert!(matches!(
            SessionFile::from_bytes(&file.to_bytes()),
            Err(SessionFileError::Corrupt(_))
        ));
        let mut other = SessionFile::new(Header::default());
        other.version = 2;
        assert!(matches!(
            SessionFile::from_bytes(&other.to_bytes()),
            Err(SessionFileError::Unsupported { version: 2, .. })
        ));
        assert!(matches!(
            SessionFile::from_bytes(b"\x01\x02"),
            Err(SessionFileError::Decode(_))
        ));
    }

    #[test]
    fn device_ids() {
        let mut ids = DeviceIds::default();
        let mut a = [Bytes::from_static(b"Data received on device: Q7ZK2M9A !")];
        let mut b = [Bytes::from_static(b"Data received on device: 00000000 !")];
        let mut a2 = [Bytes::from_static(b"Data received on device: Q7ZK2M9A !")];
        assert!(ids.normalise(&mut a));
        ids.normalise(&mut b);
        ids.normalise(&mut a2);
        assert_eq!(&a[0][..], b"Data received on device: DEVICE01 !");
        assert_eq!(&b[0][..], b"Data received on device: DEVICE02 !");
        assert_eq!(a2, a);
        let mut other = [Bytes::from_static(b"{\"return_type\": \"NoneType\"}")];
        assert!(!ids.normalise(&mut other));
    }
}
