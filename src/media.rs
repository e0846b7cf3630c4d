//! Media: what happens to a frame's pixels on either side of the wire —
//! vidgear's frame shrinking and JPEG compression — as a layer of its own.
//!
//! The codec and the state machines carry a [`Payload`] as it travels (raw,
//! or JPEG bytes with their `compression` header object) and never touch
//! pixels; the transports only move bytes. A [`Media`] turns frames into
//! payloads before they are handed to any transport, and payloads back into
//! frames after, so the same settings work over the zmq adapters, a
//! transport of your own, or the sans-IO machines directly.
//!
//! ```
//! # #[cfg(all(feature = "jpeg", feature = "reducer"))] {
//! use netgear::jpeg::JpegOptions;
//! use netgear::media::Media;
//! use netgear::{Dtype, Frame, Payload};
//!
//! // vidgear's `jpeg_compression=True` and `reducer(frame, 50)`.
//! let media = Media::new().jpeg(JpegOptions::default()).reduce(50.0);
//! let pixels: Vec<u8> = (0..48 * 64 * 3).map(|i| (i % 200) as u8).collect();
//! let frame = Frame::new(Dtype::Uint8, vec![48, 64, 3], pixels).unwrap();
//! let payload = media.encode(frame).unwrap();
//! assert!(matches!(payload, Payload::Jpeg { .. }));
//! let back = media.decode(payload).unwrap();
//! assert_eq!(back.shape(), [24, 32, 3]);
//! # }
//! ```

use crate::wire::{Frame, Payload, ReturnData};

#[cfg(feature = "jpeg")]
use crate::jpeg::{self, JpegError, JpegOptions};
#[cfg(feature = "reducer")]
use crate::reducer::{reducer, ReduceError};

/// Why a frame could not be encoded or a payload decoded. Each is about
/// one frame only: the session it came from or goes to is unaffected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The frame could not be JPEG-compressed with the options in force
    /// (not uint8, a channel count the colorspace lacks), or a JPEG payload
    /// could not be decompressed (corrupt, truncated, too large).
    #[cfg(feature = "jpeg")]
    #[error("{0}")]
    Jpeg(#[from] JpegError),
    /// The frame could not be shrunk.
    #[cfg(feature = "reducer")]
    #[error("{0}")]
    Reduce(#[from] ReduceError),
    /// A JPEG payload arrived, and this build has no JPEG codec (enable the
    /// `jpeg-rust` or `jpeg-turbo` feature).
    #[error("a JPEG frame arrived and this build has no JPEG codec")]
    NoJpegCodec,
}

impl MediaError {
    /// A stable identifier of what went wrong (spec/08 lists them).
    ///
    /// ```
    /// assert_eq!(netgear::media::MediaError::NoJpegCodec.code(), "media-no-jpeg-codec");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            #[cfg(feature = "jpeg")]
            MediaError::Jpeg(JpegError::Codec(_) | JpegError::TooLarge { .. }) => "media-bad-jpeg",
            #[cfg(feature = "jpeg")]
            MediaError::Jpeg(_) => "media-cannot-compress",
            #[cfg(feature = "reducer")]
            MediaError::Reduce(_) => "media-cannot-reduce",
            MediaError::NoJpegCodec => "media-no-jpeg-codec",
        }
    }
}

/// What to do to frames on their way out, and how to decode them on their
/// way in. The default does nothing to outgoing frames and decodes JPEG
/// with vidgear's default flags (fast DCT).
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    #[cfg(feature = "jpeg")]
    compress: bool,
    /// The compression settings, and the local decoding flags.
    #[cfg(feature = "jpeg")]
    options: JpegOptions,
    #[cfg(feature = "reducer")]
    reduce: Option<f64>,
    max_decoded_bytes: usize,
}

impl Default for Media {
    fn default() -> Media {
        Media {
            #[cfg(feature = "jpeg")]
            compress: false,
            #[cfg(feature = "jpeg")]
            options: JpegOptions::default(),
            #[cfg(feature = "reducer")]
            reduce: None,
            max_decoded_bytes: crate::wire::Limits::default().max_message_bytes,
        }
    }
}

impl Media {
    /// Frames go out raw; JPEG coming in is decoded with vidgear's defaults.
    pub fn new() -> Media {
        Media::default()
    }

    /// Compresses outgoing frames with `options` (vidgear's
    /// `jpeg_compression*`), whose fast-DCT and fast-upsampling flags also
    /// apply when decoding.
    ///
    /// ```
    /// # #[cfg(feature = "jpeg")] {
    /// use netgear::jpeg::JpegOptions;
    /// use netgear::wire::Colorspace;
    /// let media = netgear::media::Media::new().jpeg(JpegOptions::with_colorspace(Colorspace::Rgb));
    /// assert!(media.compresses());
    /// # }
    /// ```
    #[cfg(feature = "jpeg")]
    #[must_use]
    pub fn jpeg(mut self, options: JpegOptions) -> Media {
        self.compress = true;
        self.options = options;
        self
    }

    /// Decodes incoming JPEG with the fast-DCT and fast-upsampling flags of
    /// `options` (each applies when either end asks for it), without
    /// compressing anything.
    ///
    /// ```
    /// # #[cfg(feature = "jpeg")] {
    /// use netgear::jpeg::JpegOptions;
    /// let media = netgear::media::Media::new().decode_flags(JpegOptions::default());
    /// assert!(!media.compresses());
    /// # }
    /// ```
    #[cfg(feature = "jpeg")]
    #[must_use]
    pub fn decode_flags(mut self, options: JpegOptions) -> Media {
        self.options = options;
        self
    }

    /// Shrinks outgoing frames by `percent` (0 < percent < 90) before
    /// compressing them, as vidgear's `reducer()`.
    ///
    /// ```
    /// # #[cfg(feature = "reducer")] {
    /// use netgear::{Dtype, Frame};
    /// let media = netgear::media::Media::new().reduce(50.0);
    /// let frame = Frame::new(Dtype::Uint8, vec![4, 4], vec![7; 16]).unwrap();
    /// let netgear::Payload::Raw(small) = media.encode(frame).unwrap() else { panic!() };
    /// assert_eq!(small.shape(), [2, 2]);
    /// # }
    /// ```
    #[cfg(feature = "reducer")]
    #[must_use]
    pub fn reduce(mut self, percent: f64) -> Media {
        self.reduce = Some(percent);
        self
    }

    /// Bounds the size a received JPEG may decode to (default: the default
    /// message bound, 512 MiB), since a tiny JPEG can claim 65535² pixels.
    ///
    /// ```
    /// let media = netgear::media::Media::new().max_decoded_bytes(1 << 24);
    /// # let _ = media;
    /// ```
    #[must_use]
    pub fn max_decoded_bytes(mut self, bytes: usize) -> Media {
        self.max_decoded_bytes = bytes;
        self
    }

    /// True when outgoing frames are JPEG-compressed.
    ///
    /// ```
    /// assert!(!netgear::media::Media::new().compresses());
    /// ```
    pub fn compresses(&self) -> bool {
        #[cfg(feature = "jpeg")]
        return self.compress;
        #[cfg(not(feature = "jpeg"))]
        false
    }

    /// The compression settings and decoding flags in force.
    ///
    /// ```
    /// # #[cfg(feature = "jpeg")] {
    /// use netgear::jpeg::JpegOptions;
    /// assert_eq!(netgear::media::Media::new().jpeg_options(), JpegOptions::default());
    /// # }
    /// ```
    #[cfg(feature = "jpeg")]
    pub fn jpeg_options(&self) -> JpegOptions {
        self.options
    }

    /// A frame ready to send: shrunk, then compressed, as configured.
    ///
    /// ```
    /// use netgear::{media::Media, Dtype, Frame, Payload};
    /// let frame = Frame::new(Dtype::Uint8, vec![2, 2], vec![1, 2, 3, 4]).unwrap();
    /// assert_eq!(Media::new().encode(frame.clone()), Ok(Payload::Raw(frame)));
    /// ```
    pub fn encode(&self, frame: Frame) -> Result<Payload, MediaError> {
        #[cfg(feature = "reducer")]
        let frame = match self.reduce {
            Some(percent) => reducer(&frame, percent)?,
            None => frame,
        };
        #[cfg(feature = "jpeg")]
        if self.compress {
            return Ok(jpeg::encode(&frame, &self.options)?);
        }
        Ok(Payload::Raw(frame))
    }

    /// A frame given as return data, ready to send (see [`Media::encode`]).
    ///
    /// ```
    /// use netgear::{media::Media, Dtype, Frame, ReturnData};
    /// let frame = Frame::new(Dtype::Uint8, vec![1], vec![9]).unwrap();
    /// assert_eq!(Media::new().encode_return(frame.clone()), Ok(ReturnData::from(frame)));
    /// ```
    pub fn encode_return(&self, frame: Frame) -> Result<ReturnData, MediaError> {
        self.encode(frame).map(ReturnData::Frame)
    }

    /// The frame a payload carries: a raw frame as it is, a JPEG
    /// decompressed into the sender's colorspace.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use netgear::{media::Media, wire::Compression, Payload};
    /// let corrupt = Payload::Jpeg { data: Bytes::from_static(b"\xff\xd8 nope"), compression: Compression::default() };
    /// assert!(Media::new().decode(corrupt).is_err());
    /// ```
    pub fn decode(&self, payload: Payload) -> Result<Frame, MediaError> {
        match payload {
            Payload::Raw(frame) => Ok(frame),
            #[cfg(feature = "jpeg")]
            Payload::Jpeg { data, compression } => Ok(jpeg::decode_jpeg(
                &data,
                &compression,
                &self.options,
                self.max_decoded_bytes,
            )?),
            #[cfg(not(feature = "jpeg"))]
            Payload::Jpeg { .. } => Err(MediaError::NoJpegCodec),
        }
    }

    /// Return data with any frame in it decoded (JSON passes unchanged).
    ///
    /// ```
    /// use netgear::{json::Value, media::Media, ReturnData};
    /// let data = ReturnData::Json(Value::from("thanks"));
    /// assert_eq!(Media::new().decode_return(data.clone()), Ok(data));
    /// ```
    pub fn decode_return(&self, data: ReturnData) -> Result<ReturnData, MediaError> {
        match data {
            ReturnData::Frame(payload) => self.decode(payload).map(ReturnData::from),
            json => Ok(json),
        }
    }
}
