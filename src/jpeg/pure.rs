//! The pure-Rust backend (feature `jpeg-rust`, used when `jpeg-turbo` is
//! off): `jpeg-encoder` compresses and `zune-jpeg` decompresses, with the
//! pixel layouts and colour conversions of libjpeg-turbo's TurboJPEG API so
//! that frames travel between the two backends (and simplejpeg) unchanged.
//!
//! It has no fast DCT or fast upsampling: jpeg-encoder always uses the
//! accurate integer forward DCT and zune-jpeg its own inverse DCT and
//! "fancy" (triangle) upsampling, whatever the flags say.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::{output_size, Header, JpegError};
use crate::wire::Colorspace;

/// The JPEG library compiled in.
pub const BACKEND: &str = "pure Rust (jpeg-encoder 0.7 + zune-jpeg 0.5)";

/// What libjpeg says when a JPEG's colour model cannot give the layout asked
/// for (CMYK from a YCbCr or gray JPEG, colour from a CMYK one).
const CONVERSION: &str = "Unsupported color conversion request";

fn codec(e: impl std::fmt::Display) -> JpegError {
    JpegError::Codec(e.to_string())
}

/// Compresses `pixels` (`height` rows of `width` pixels in `cs`'s layout,
/// packed) as simplejpeg's `encode_jpeg` does: gray images without chroma,
/// colour images as YCbCr with 4:2:2 subsampling (chroma pairs averaged, as
/// libjpeg does), CMYK as YCCK. `_fast_dct` is announced in the header only.
pub(super) fn compress(
    pixels: &[u8],
    width: usize,
    height: usize,
    cs: Colorspace,
    quality: u8,
    _fast_dct: bool,
) -> Result<Vec<u8>, JpegError> {
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(JpegError::Codec(format!(
            "a {width}x{height} image is too large for JPEG (65535 pixels a side at most)"
        )));
    };
    let mut out = Vec::with_capacity(pixels.len() / 8 + 1024);
    let mut encoder = Encoder::new(&mut out, quality);
    if cs != Colorspace::Gray {
        encoder.set_sampling_factor(SamplingFactor::R_4_2_2);
        encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    }
    // jpeg-encoder reads RGB, BGR, RGBA, BGRA (alpha ignored), gray and CMYK.
    // A layout with its padding byte first is the 4-byte layout after it
    // shifted by one byte; the last pixel's padding is made up.
    let shifted = |pixels: &[u8]| {
        let mut v = Vec::with_capacity(pixels.len());
        v.extend_from_slice(pixels.get(1..).unwrap_or_default());
        v.push(0xff);
        v
    };
    let converted;
    let (data, color) = match cs {
        Colorspace::Gray => (pixels, ColorType::Luma),
        Colorspace::Rgb => (pixels, ColorType::Rgb),
        Colorspace::Bgr => (pixels, ColorType::Bgr),
        Colorspace::Rgbx | Colorspace::Rgba => (pixels, ColorType::Rgba),
        Colorspace::Bgrx | Colorspace::Bgra => (pixels, ColorType::Bgra),
        Colorspace::Xrgb | Colorspace::Argb => {
            converted = shifted(pixels);
            (converted.as_slice(), ColorType::Rgba)
        }
        Colorspace::Xbgr | Colorspace::Abgr => {
            converted = shifted(pixels);
            (converted.as_slice(), ColorType::Bgra)
        }
        Colorspace::Cmyk => {
            // libjpeg stores CMYK as YCCK of (255 - C, 255 - M, 255 - Y) and
            // K as it is; jpeg-encoder (Adobe's inverted convention) stores
            // YCC of (C, M, Y) and 255 - K: give it the inverted samples.
            converted = pixels.iter().map(|&v| 255 - v).collect::<Vec<u8>>();
            (converted.as_slice(), ColorType::CmykAsYcck)
        }
    };
    encoder.encode(data, w, h, color).map_err(codec)?;
    Ok(out)
}

/// Decompresses `jpeg` into packed pixels in `cs`'s layout, as TurboJPEG
/// does: padding and alpha bytes 0xFF, gray from a colour JPEG its luma,
/// colour from a gray JPEG the gray repeated, CMYK only from a CMYK or YCCK
/// JPEG. Damaged or truncated data is an error (zune-jpeg's strict mode, like
/// simplejpeg's default `strict=True`). `max_bytes` bounds the output size
/// the header may ask for. The fast DCT and upsampling flags change nothing.
pub(super) fn decompress(
    jpeg: &[u8],
    cs: Colorspace,
    _fast_dct: bool,
    _fast_upsample: bool,
    max_bytes: usize,
) -> Result<(Header, Vec<u8>), JpegError> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        // As the turbo backend's scan limit, against costly progressive JPEGs.
        .jpeg_set_max_scans(500);
    // Read the header first: its size is checked before anything is
    // allocated, and its colour model decides what zune-jpeg is asked for.
    // zune-jpeg picks its colour conversion when it reads the header, so
    // the probe is set up for the usual case, a YCbCr JPEG, and decodes
    // the image itself when that is what came (no second header pass).
    let usual = out_colorspace(ColorSpace::YCbCr, cs).map(|(out, _)| out);
    let probe_options = usual.map_or(options, |out| options.jpeg_set_out_colorspace(out));
    let mut probe = JpegDecoder::new_with_options(ZCursor::new(jpeg), probe_options);
    probe.decode_headers().map_err(codec)?;
    let info = probe
        .info()
        .ok_or_else(|| codec("the JPEG has no header"))?;
    let input = probe
        .input_colorspace()
        .ok_or_else(|| codec("the JPEG has no header"))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    let size = output_size(width, height, cs.channels(), jpeg.len(), max_bytes)?;

    let (out_cs, then) = out_colorspace(input, cs).ok_or_else(|| codec(CONVERSION))?;
    let mut decoder = if usual == Some(out_cs) {
        probe
    } else {
        JpegDecoder::new_with_options(ZCursor::new(jpeg), options.jpeg_set_out_colorspace(out_cs))
    };
    let header = Header { width, height };
    let mut out = vec![0u8; size];
    match then {
        Then::Nothing => decoder.decode_into(&mut out).map_err(codec)?,
        Then::PaddingFirst => {
            decoder.decode_into(&mut out).map_err(codec)?;
            for px in out.chunks_exact_mut(4) {
                px.rotate_right(1);
            }
        }
        Then::YcckToCmyk => {
            decoder.decode_into(&mut out).map_err(codec)?;
            for px in out.chunks_exact_mut(4) {
                let (c, m, y) = ycc_to_rgb(px[0], px[1], px[2]);
                px[0] = 255 - c;
                px[1] = 255 - m;
                px[2] = 255 - y;
            }
        }
        Then::Expand => {
            let mut gray = vec![0u8; width * height];
            decoder.decode_into(&mut gray).map_err(codec)?;
            let channels = cs.channels();
            let at = match cs {
                Colorspace::Xrgb | Colorspace::Argb | Colorspace::Xbgr | Colorspace::Abgr => 1,
                _ => 0,
            };
            for (px, &g) in out.chunks_exact_mut(channels).zip(&gray) {
                px.fill(0xff);
                px[at..at + 3].fill(g);
            }
        }
    }
    Ok((header, out))
}

/// What zune-jpeg decodes a JPEG of colour model `input` into for the
/// layout `cs`, and what is left to do here; `None` when libjpeg cannot
/// convert between them.
fn out_colorspace(input: ColorSpace, cs: Colorspace) -> Option<(ColorSpace, Then)> {
    let four = |rgb_first: bool| {
        if rgb_first {
            ColorSpace::RGBA
        } else {
            ColorSpace::BGRA
        }
    };
    Some(match (input, cs) {
        (ColorSpace::CMYK, Colorspace::Cmyk) => (ColorSpace::CMYK, Then::Nothing),
        (ColorSpace::YCCK, Colorspace::Cmyk) => (ColorSpace::YCCK, Then::YcckToCmyk),
        (ColorSpace::CMYK | ColorSpace::YCCK, _) | (_, Colorspace::Cmyk) => return None,
        (_, Colorspace::Gray) => (ColorSpace::Luma, Then::Nothing),
        // zune-jpeg repeats gray into RGB and RGBA only: repeat it here.
        (ColorSpace::Luma, _) => (ColorSpace::Luma, Then::Expand),
        (_, Colorspace::Rgb) => (ColorSpace::RGB, Then::Nothing),
        (_, Colorspace::Bgr) => (ColorSpace::BGR, Then::Nothing),
        (_, Colorspace::Rgbx | Colorspace::Rgba) => (ColorSpace::RGBA, Then::Nothing),
        (_, Colorspace::Bgrx | Colorspace::Bgra) => (ColorSpace::BGRA, Then::Nothing),
        // XRGB is RGBX with each pixel's bytes rotated right by one.
        (_, Colorspace::Xrgb | Colorspace::Argb) => (four(true), Then::PaddingFirst),
        (_, Colorspace::Xbgr | Colorspace::Abgr) => (four(false), Then::PaddingFirst),
    })
}

/// The work left after zune-jpeg's decode.
enum Then {
    Nothing,
    /// RGBA or BGRA to XRGB or XBGR: padding byte first.
    PaddingFirst,
    /// zune-jpeg gives a YCCK JPEG's samples as they are: convert them.
    YcckToCmyk,
    /// zune-jpeg gave gray: repeat it into the colour layout.
    Expand,
}

/// libjpeg's YCbCr → RGB conversion (jdcolor.c, 16-bit fixed point), which
/// its YCCK → CMYK conversion applies before inverting.
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    const HALF: i32 = 1 << 15;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let clamp = |v: i32| v.clamp(0, 255) as u8;
    let r = y + ((91881 * cr + HALF) >> 16);
    let g = y + ((-22554 * cb - 46802 * cr + HALF) >> 16);
    let b = y + ((116130 * cb + HALF) >> 16);
    (clamp(r), clamp(g), clamp(b))
}
