//! Errors of the zmq adapters.

use crate::session::ConfigError;
use crate::wire::DecodeError;

/// What went wrong in a zmq adapter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration breaks a protocol rule.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// Options that do not fit together (e.g. several ports without a multi mode).
    #[error("invalid options: {0}")]
    Options(String),
    /// libzmq refused an operation.
    #[error("zmq {operation} failed on {endpoint}: {source}")]
    Zmq {
        /// What was being done (`bind`, `connect`, `send`, ...).
        operation: &'static str,
        /// The endpoint(s) concerned.
        endpoint: String,
        /// libzmq's error.
        source: zmq::Error,
    },
    /// The client stayed silent through the whole retry budget: frame `seq`
    /// is lost.
    #[error("the peer stopped answering: no reply to frame {seq} after {retries} silent period(s) of {timeout_secs} s")]
    PeerGone {
        /// The frame that was lost.
        seq: u64,
        /// Silent periods endured.
        retries: u32,
        /// The request timeout in seconds.
        timeout_secs: f64,
    },
    /// No frame came from the server(s) through the whole retry budget.
    #[error("the server stopped sending: no frame for {retries} silent period(s) of {timeout_secs} s ({frames_received} frame(s) received)")]
    ServerGone {
        /// Frames received before the silence.
        frames_received: u64,
        /// Silent periods endured.
        retries: u32,
        /// The silence period in seconds (3 × the request timeout).
        timeout_secs: f64,
    },
    /// The client answered that it could not decode frame `seq`.
    #[error("the client rejected frame {seq}: {reason}")]
    Rejected {
        /// The frame.
        seq: u64,
        /// The client's reason.
        reason: String,
    },
    /// The client's answer to frame `seq` could not be decoded.
    #[error("the reply to frame {seq} is malformed: {error}")]
    BadReply {
        /// The frame.
        seq: u64,
        /// What was wrong.
        error: DecodeError,
    },
    /// A message from the server could not be decoded (it was answered with
    /// a rejection; the connection stays usable).
    #[error("received a malformed message: {0}")]
    BadMessage(DecodeError),
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// The JPEG payload of frame `seq` (or of the frame returned for it)
    /// could not be decompressed. The message itself was accepted (and, on
    /// the client, already answered); the session goes on.
    #[cfg(feature = "jpeg")]
    #[error("the JPEG {what} of frame {seq} cannot be decoded: {error}")]
    BadJpeg {
        /// The frame's sequence number.
        seq: u64,
        /// `"frame"` (client side) or `"returned frame"` (server side).
        what: &'static str,
        /// libjpeg-turbo's finding.
        error: crate::jpeg::JpegError,
    },
    /// A frame handed to the adapter cannot be JPEG-compressed with the
    /// options in force (not uint8, wrong channel count...); nothing was sent.
    #[cfg(feature = "jpeg")]
    #[error("cannot JPEG-compress the frame: {0}")]
    JpegEncode(crate::jpeg::JpegError),
}

impl Error {
    /// True when the session cannot continue (as opposed to one bad message).
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Rejected { .. } | Error::BadReply { .. } | Error::BadMessage(_) => false,
            #[cfg(feature = "jpeg")]
            Error::BadJpeg { .. } | Error::JpegEncode(_) => false,
            _ => true,
        }
    }
}
