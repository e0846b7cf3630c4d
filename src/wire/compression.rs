//! The JPEG parameters a header announces.

use std::fmt;
use std::str::FromStr;

/// Colour layouts a JPEG-compressed frame may be encoded from and decoded to
/// (simplejpeg's names, which vidgear writes in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Colorspace {
    Rgb,
    Bgr,
    Rgbx,
    Bgrx,
    Xbgr,
    Xrgb,
    Gray,
    Rgba,
    Bgra,
    Abgr,
    Argb,
    Cmyk,
}

impl Colorspace {
    /// Every colorspace.
    pub const ALL: [Colorspace; 12] = [
        Colorspace::Rgb,
        Colorspace::Bgr,
        Colorspace::Rgbx,
        Colorspace::Bgrx,
        Colorspace::Xbgr,
        Colorspace::Xrgb,
        Colorspace::Gray,
        Colorspace::Rgba,
        Colorspace::Bgra,
        Colorspace::Abgr,
        Colorspace::Argb,
        Colorspace::Cmyk,
    ];

    /// The name as written in headers (upper case).
    pub const fn name(self) -> &'static str {
        match self {
            Colorspace::Rgb => "RGB",
            Colorspace::Bgr => "BGR",
            Colorspace::Rgbx => "RGBX",
            Colorspace::Bgrx => "BGRX",
            Colorspace::Xbgr => "XBGR",
            Colorspace::Xrgb => "XRGB",
            Colorspace::Gray => "GRAY",
            Colorspace::Rgba => "RGBA",
            Colorspace::Bgra => "BGRA",
            Colorspace::Abgr => "ABGR",
            Colorspace::Argb => "ARGB",
            Colorspace::Cmyk => "CMYK",
        }
    }

    /// Channels per pixel.
    pub const fn channels(self) -> usize {
        match self {
            Colorspace::Gray => 1,
            Colorspace::Rgb | Colorspace::Bgr => 3,
            _ => 4,
        }
    }
}

/// An unknown colorspace name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown JPEG colorspace {0:?}")]
pub struct UnknownColorspace(pub String);

impl FromStr for Colorspace {
    type Err = UnknownColorspace;
    /// Case-insensitive, surrounding blanks ignored (as vidgear reads its option).
    fn from_str(s: &str) -> Result<Colorspace, UnknownColorspace> {
        let wanted = s.trim().to_ascii_uppercase();
        Colorspace::ALL
            .into_iter()
            .find(|c| c.name() == wanted)
            .ok_or_else(|| UnknownColorspace(s.to_owned()))
    }
}

impl fmt::Display for Colorspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `compression` object of a header: how the JPEG payload was made and
/// how the sender suggests decoding it.
///
/// ```
/// use netgear::wire::{Colorspace, Compression};
/// let c = Compression::default();
/// assert_eq!((c.fast_dct, c.fast_upsample, c.colorspace), (true, false, Colorspace::Bgr));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// `dct`: the fast (less accurate) DCT was used / may be used to decode.
    pub fast_dct: bool,
    /// `ups`: fast chroma upsampling may be used to decode.
    pub fast_upsample: bool,
    /// `colorspace`: the pixel layout of the frame before encoding.
    pub colorspace: Colorspace,
}

impl Default for Compression {
    /// vidgear's defaults: fast DCT on, fast upsampling off, BGR.
    fn default() -> Compression {
        Compression {
            fast_dct: true,
            fast_upsample: false,
            colorspace: Colorspace::Bgr,
        }
    }
}
