//! JPEG frame compression as vidgear does it (feature `jpeg`, with a backend).
//!
//! vidgear compresses frames with simplejpeg, a thin wrapper of
//! libjpeg-turbo. With the default backend (feature `jpeg-turbo`) this module
//! drives the same library (built from the copy vendored in `turbojpeg-sys`)
//! with the same settings, so a frame encoded here is byte-for-byte what
//! vidgear would send for the same pixels, and a decode here gives
//! simplejpeg's pixels (spec/03-payload.md §3.3).
//!
//! The pure-Rust backend (feature `jpeg-rust`, used when `jpeg-turbo` is off)
//! needs no C toolchain or cmake: `jpeg-encoder` encodes and `zune-jpeg`
//! decodes, with the same API, options, colorspaces and checks. Its JPEGs are
//! ordinary baseline JPEGs (4:2:2, libjpeg's quantisation tables) that any
//! decoder reads, but not byte-identical to simplejpeg's; its decodes differ
//! from simplejpeg's by a few levels per sample; and it has no fast DCT or
//! fast upsampling: those flags are still announced and accepted, but change
//! no pixel. [`BACKEND`] names the one compiled in.
//!
//! The wire layer only carries [`Payload::Jpeg`] undecoded; the zmq
//! adapters call [`encode`] and [`decode`] when their options ask for it.
//!
//! ```
//! use netgear::jpeg::{decode, encode, JpegOptions};
//! use netgear::wire::Colorspace;
//! use netgear::{Dtype, Frame, Payload};
//!
//! let pixels: Vec<u8> = (0..48 * 64 * 3).map(|i| (i / 3 % 64 * 4) as u8).collect();
//! let frame = Frame::new(Dtype::Uint8, vec![48, 64, 3], pixels).unwrap();
//! let options = JpegOptions::default(); // BGR, quality 90, fast DCT
//! let payload = encode(&frame, &options).unwrap();
//! let Payload::Jpeg { compression, .. } = &payload else { unreachable!() };
//! assert_eq!(compression.colorspace, Colorspace::Bgr);
//! let back = decode(&payload, &options).unwrap();
//! assert_eq!(back.shape(), [48, 64, 3]);
//! ```

#[cfg(feature = "jpeg-turbo")]
#[path = "turbo.rs"]
mod backend;

#[cfg(all(feature = "jpeg-rust", not(feature = "jpeg-turbo")))]
#[path = "pure.rs"]
mod backend;

#[cfg(not(any(feature = "jpeg-turbo", feature = "jpeg-rust")))]
compile_error!(
    "feature `jpeg` needs a backend: enable `jpeg-turbo` (libjpeg-turbo, the default; \
     needs cmake) or `jpeg-rust` (pure Rust, needs nothing but the Rust toolchain)"
);

pub use backend::BACKEND;

use bytes::Bytes;

use crate::wire::{Colorspace, Compression, Dtype, Frame, Limits, Payload};

/// How to compress frames, and the local half of how to decompress them:
/// vidgear's `jpeg_compression*` options.
///
/// The fields are set with the builder methods of the same name:
///
/// ```
/// use netgear::jpeg::JpegOptions;
/// use netgear::wire::Colorspace;
/// let o = JpegOptions::default().colorspace(Colorspace::Rgb).quality(75).fast_dct(false);
/// assert_eq!((o.quality, o.fast_dct, o.fast_upsample), (75, false, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JpegOptions {
    /// The channel layout of the frames compressed (`jpeg_compression` as a
    /// colorspace name). Decoding follows the sender's header instead.
    pub colorspace: Colorspace,
    /// `jpeg_compression_quality`: 10 to 100 (vidgear's default 90).
    pub quality: u8,
    /// `jpeg_compression_fastdct`: encode with the fast integer DCT, and
    /// decode with it whatever the sender says (default on).
    pub fast_dct: bool,
    /// `jpeg_compression_fastupsample`: announce fast chroma upsampling to
    /// the receiver, and decode with it whatever the sender says (default off).
    pub fast_upsample: bool,
}

impl Default for JpegOptions {
    /// vidgear's defaults: BGR, quality 90, fast DCT on, fast upsampling off.
    fn default() -> JpegOptions {
        JpegOptions {
            colorspace: Colorspace::Bgr,
            quality: 90,
            fast_dct: true,
            fast_upsample: false,
        }
    }
}

impl JpegOptions {
    /// Sets the channel layout of the frames compressed.
    #[must_use]
    pub fn colorspace(mut self, colorspace: Colorspace) -> JpegOptions {
        self.colorspace = colorspace;
        self
    }

    /// Sets the quality (10 to 100; checked by [`JpegOptions::validate`]).
    #[must_use]
    pub fn quality(mut self, quality: u8) -> JpegOptions {
        self.quality = quality;
        self
    }

    /// Sets the fast-DCT flag.
    #[must_use]
    pub fn fast_dct(mut self, on: bool) -> JpegOptions {
        self.fast_dct = on;
        self
    }

    /// Sets the fast-upsampling flag.
    ///
    /// ```
    /// assert!(netgear::jpeg::JpegOptions::default().fast_upsample(true).fast_upsample);
    /// ```
    #[must_use]
    pub fn fast_upsample(mut self, on: bool) -> JpegOptions {
        self.fast_upsample = on;
        self
    }

    /// The defaults with another colorspace.
    ///
    /// ```
    /// use netgear::{jpeg::JpegOptions, wire::Colorspace};
    /// assert_eq!(JpegOptions::with_colorspace(Colorspace::Gray).colorspace, Colorspace::Gray);
    /// ```
    pub fn with_colorspace(colorspace: Colorspace) -> JpegOptions {
        JpegOptions {
            colorspace,
            ..JpegOptions::default()
        }
    }

    /// The header's `compression` object these options produce.
    pub fn compression(&self) -> Compression {
        Compression {
            fast_dct: self.fast_dct,
            fast_upsample: self.fast_upsample,
            colorspace: self.colorspace,
        }
    }

    /// Checks the quality range vidgear accepts (10–100).
    pub fn validate(&self) -> Result<(), JpegError> {
        if (10..=100).contains(&self.quality) {
            Ok(())
        } else {
            Err(JpegError::Quality(self.quality))
        }
    }
}

/// Why a frame could not be compressed or a JPEG payload decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JpegError {
    /// The quality is outside 10–100.
    #[error("JPEG quality {0} is outside 10-100")]
    Quality(u8),
    /// Only `uint8` frames can be JPEG-compressed.
    #[error("only uint8 frames can be JPEG-compressed, not {0}")]
    NotUint8(Dtype),
    /// The frame's shape does not fit the colorspace.
    #[error("a {colorspace} JPEG needs a (H, W, {channels}) frame{}, not {shape:?}",
        if *.channels == 1 { " or (H, W)" } else { "" })]
    Shape {
        /// The frame's shape.
        shape: Vec<usize>,
        /// The colorspace asked for.
        colorspace: Colorspace,
        /// The channels it needs.
        channels: usize,
    },
    /// The JPEG would decode to more bytes than allowed.
    #[error("a {width}x{height} JPEG would decode to more than {limit} bytes")]
    TooLarge {
        /// Width the header gives.
        width: usize,
        /// Height the header gives.
        height: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The codec failed (corrupt or truncated data, an impossible
    /// conversion...); its message.
    #[error("{0}")]
    Codec(String),
}

/// Compresses `frame` into a JPEG payload as vidgear does: the frame must be
/// `uint8` of shape `(H, W, C)` with `C` the colorspace's channel count (a
/// `GRAY` frame may also be `(H, W)`); colour uses 4:2:2 chroma subsampling.
pub fn encode(frame: &Frame, options: &JpegOptions) -> Result<Payload, JpegError> {
    options.validate()?;
    if frame.dtype() != Dtype::Uint8 {
        return Err(JpegError::NotUint8(frame.dtype()));
    }
    let cs = options.colorspace;
    let channels = cs.channels();
    let (height, width) = match *frame.shape() {
        [h, w, c] if c == channels => (h, w),
        [h, w] if cs == Colorspace::Gray => (h, w),
        _ => {
            return Err(JpegError::Shape {
                shape: frame.shape().to_vec(),
                colorspace: cs,
                channels,
            })
        }
    };
    let data = backend::compress(
        frame.data(),
        width,
        height,
        cs,
        options.quality,
        options.fast_dct,
    )?;
    Ok(Payload::Jpeg {
        data: Bytes::from(data),
        compression: options.compression(),
    })
}

/// Decompresses a JPEG payload as vidgear does (a raw payload is returned
/// as it is): into the sender's colorspace, with the fast DCT if `local` or
/// the header asks for it, fast upsampling likewise; `GRAY` gives `(H, W)`.
/// The decoded size is bounded by [`Limits::default`]'s message size.
pub fn decode(payload: &Payload, local: &JpegOptions) -> Result<Frame, JpegError> {
    decode_with_limit(payload, local, Limits::default().max_message_bytes)
}

/// [`decode`] with an explicit bound on the decoded size in bytes (a tiny
/// JPEG may claim 65535 × 65535 pixels).
pub fn decode_with_limit(
    payload: &Payload,
    local: &JpegOptions,
    max_bytes: usize,
) -> Result<Frame, JpegError> {
    match payload {
        Payload::Raw(frame) => Ok(frame.clone()),
        Payload::Jpeg { data, compression } => decode_jpeg(data, compression, local, max_bytes),
    }
}

/// Decompresses JPEG bytes described by a header's `compression` object.
pub fn decode_jpeg(
    data: &[u8],
    compression: &Compression,
    local: &JpegOptions,
    max_bytes: usize,
) -> Result<Frame, JpegError> {
    let cs = compression.colorspace;
    let channels = cs.channels();
    let (header, pixels) = backend::decompress(
        data,
        cs,
        local.fast_dct || compression.fast_dct,
        local.fast_upsample || compression.fast_upsample,
        max_bytes,
    )?;
    let shape = if cs == Colorspace::Gray {
        vec![header.height, header.width]
    } else {
        vec![header.height, header.width, channels]
    };
    Ok(Frame::new(Dtype::Uint8, shape, pixels).expect("decoded size matches the shape"))
}

/// The dimensions a JPEG announces.
struct Header {
    width: usize,
    height: usize,
}

/// The largest output a `len`-byte JPEG can honestly decode to.
///
/// The header's width and height are the peer's word, so they alone must not
/// size an allocation. A Huffman-coded JPEG (what simplejpeg and netgear
/// write) spends at least one bit on every 8×8 block of every component, so
/// one input byte covers at most 8 blocks of 64 samples: 512 bytes of gray,
/// fewer of colour. 1024 leaves room for that and a fixed 1 MiB covers
/// headers of tiny images. A stream that claims more — a decompression bomb,
/// or an arithmetic-coded JPEG, which no vidgear peer sends — is refused
/// before anything is allocated.
fn expansion_bound(len: usize) -> usize {
    len.saturating_mul(1024).saturating_add(1 << 20)
}

/// The size in bytes of the `width` × `height` × `channels` output a
/// `jpeg_len`-byte JPEG announces, checked against `max_bytes` and
/// [`expansion_bound`] before a backend allocates it.
fn output_size(
    width: usize,
    height: usize,
    channels: usize,
    jpeg_len: usize,
    max_bytes: usize,
) -> Result<usize, JpegError> {
    if width == 0 || height == 0 {
        return Err(JpegError::Codec("the JPEG header gives no size".into()));
    }
    width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .filter(|&n| n <= max_bytes.min(expansion_bound(jpeg_len)))
        .ok_or(JpegError::TooLarge {
            width,
            height,
            limit: max_bytes,
        })
}
