//! Decode errors: what was wrong with a message from the peer, precisely.

use crate::json::JsonError;

use super::FrameError;

/// Why a received message was not accepted. Every variant names the part or
/// field at fault; [`DecodeError::code`] gives the stable kebab-case code the
/// spec (spec/08-errors.md) and the rejection replies use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message had the wrong number of parts.
    #[error("{kind} must have {expected} part(s), received {actual}")]
    PartCount {
        /// Which message kind was being decoded.
        kind: &'static str,
        /// What the kind calls for, e.g. `"2"` or `"1 or 2"`.
        expected: &'static str,
        /// Parts received.
        actual: usize,
    },
    /// The whole message is larger than the configured limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The JSON part could not be parsed.
    #[error("{part} is not valid JSON: {source}")]
    Json {
        /// Which part.
        part: &'static str,
        /// The parser's finding.
        source: JsonError,
    },
    /// The JSON part parsed, but is not an object.
    #[error("{part} must be a JSON object, found {found}")]
    NotAnObject {
        /// Which part.
        part: &'static str,
        /// The JSON kind found.
        found: &'static str,
    },
    /// A required field is absent.
    #[error("{part} lacks the field {field:?}")]
    MissingField {
        /// Which part.
        part: &'static str,
        /// The missing key.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("field {field:?} must be {expected}, found {found}")]
    WrongType {
        /// The key.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// The JSON kind found.
        found: &'static str,
    },
    /// A dtype name this protocol does not carry (`object`, `str`, ...).
    #[error("field {field:?} names an unknown dtype {dtype:?}")]
    UnknownDtype {
        /// `dtype` or `array_dtype`.
        field: &'static str,
        /// The name received.
        dtype: String,
    },
    /// A shape entry that is negative, not an integer, too large, or too many
    /// dimensions.
    #[error("field {field:?} is not a valid shape: {reason}")]
    BadShape {
        /// `shape` or `array_shape`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Frame-level inconsistency: overflowing size or payload length mismatch.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The `compression` object is malformed.
    #[error("field \"compression\" is malformed: {reason}")]
    BadCompression {
        /// What is wrong.
        reason: String,
    },
}

impl DecodeError {
    /// The stable code of this error (spec/08-errors.md).
    ///
    /// ```
    /// use netgear::wire::{decode_server_message, DecodeError, Limits};
    /// let err = decode_server_message(&[], &Limits::default()).unwrap_err();
    /// assert_eq!(err.code(), "part-count");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::PartCount { .. } => "part-count",
            DecodeError::TooLarge { .. } => "too-large",
            DecodeError::Json { source, .. } => match source {
                JsonError::InvalidUtf8 { .. } => "invalid-utf8",
                JsonError::Syntax { .. } => "invalid-json",
                JsonError::TooDeep { .. } => "too-deep",
                JsonError::LoneSurrogate { .. } => "lone-surrogate",
            },
            DecodeError::NotAnObject { .. } => "not-an-object",
            DecodeError::MissingField { .. } => "missing-field",
            DecodeError::WrongType { .. } => "wrong-type",
            DecodeError::UnknownDtype { .. } => "unknown-dtype",
            DecodeError::BadShape { .. } => "bad-shape",
            DecodeError::Frame(FrameError::TooManyDims(_)) => "bad-shape",
            DecodeError::Frame(FrameError::SizeOverflow { .. }) => "size-overflow",
            DecodeError::Frame(FrameError::SizeMismatch { .. }) => "size-mismatch",
            DecodeError::BadCompression { .. } => "bad-compression",
        }
    }
}
