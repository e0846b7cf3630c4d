//! Shrinking frames by a percentage, as vidgear's `reducer()` helper does
//! (feature `reducer`).
//!
//! vidgear (`vidgear.gears.helper.reducer`) computes the new size as
//!
//! ```text
//! reduction = ((100 - percentage) / 100) * width
//! ratio     = reduction / width
//! size      = (int(reduction), int(height * ratio))      # (width, height)
//! ```
//!
//! and resizes with OpenCV's Lanczos (8 × 8 taps at the output positions,
//! which aliases when shrinking a lot). This module uses the same size rule
//! (the same float operations, so the same truncations) and a Lanczos-3
//! convolution whose support widens with the scale factor, so it does not
//! alias (fast_image_resize, SIMD on x86-64 and ARM).
//!
//! ```
//! use netgear::reducer::{reduced_size, reducer};
//! use netgear::{Dtype, Frame};
//! assert_eq!(reduced_size(480, 640, 50.0).unwrap(), (240, 320));
//! let frame = Frame::new(Dtype::Uint8, vec![480, 640, 3], vec![128u8; 480 * 640 * 3]).unwrap();
//! let small = reducer(&frame, 50.0).unwrap();
//! assert_eq!(small.shape(), [240, 320, 3]);
//! assert!(small.data().iter().all(|&v| v == 128));
//! ```

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::wire::{Dtype, Frame};

/// Why a frame could not be reduced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReduceError {
    /// vidgear accepts 0 < percentage < 90 only.
    #[error("the reduction percentage must be above 0 and below 90, not {0}")]
    Percentage(f64),
    /// The frame is not `(H, W)` or `(H, W, C)` with 1 to 4 channels.
    #[error(
        "cannot reduce a frame of shape {0:?}: (H, W) or (H, W, C) with C from 1 to 4 expected"
    )]
    Shape(Vec<usize>),
    /// The element type cannot be resized.
    #[error("cannot reduce {0} frames (uint8, uint16 and float32 can be)")]
    Dtype(Dtype),
    /// The reduced frame would have no rows or no columns.
    #[error("reducing a {height}x{width} frame by {percentage}% leaves nothing")]
    Empty {
        /// Rows of the frame.
        height: usize,
        /// Columns of the frame.
        width: usize,
        /// The percentage.
        percentage: f64,
    },
}

/// The `(height, width)` vidgear's `reducer` gives a `height × width` frame.
pub fn reduced_size(
    height: usize,
    width: usize,
    percentage: f64,
) -> Result<(usize, usize), ReduceError> {
    if !(percentage > 0.0 && percentage < 90.0) {
        return Err(ReduceError::Percentage(percentage));
    }
    let reduction = ((100.0 - percentage) / 100.0) * width as f64;
    let ratio = reduction / width as f64;
    let (w, h) = (reduction as usize, (height as f64 * ratio) as usize);
    if w == 0 || h == 0 {
        return Err(ReduceError::Empty {
            height,
            width,
            percentage,
        });
    }
    Ok((h, w))
}

/// Shrinks `frame` by `percentage` (0 < p < 90) with vidgear's size rule
/// and a Lanczos-3 filter. The frame keeps its dtype and its number of
/// axes: `(H, W)` → `(h, w)`, `(H, W, C)` → `(h, w, C)`.
pub fn reducer(frame: &Frame, percentage: f64) -> Result<Frame, ReduceError> {
    let (height, width, channels) = match *frame.shape() {
        [h, w] => (h, w, 1),
        [h, w, c] if (1..=4).contains(&c) => (h, w, c),
        _ => return Err(ReduceError::Shape(frame.shape().to_vec())),
    };
    let (h, w) = reduced_size(height, width, percentage)?;
    let pixel_type = match (frame.dtype(), channels) {
        (Dtype::Uint8, 1) => PixelType::U8,
        (Dtype::Uint8, 2) => PixelType::U8x2,
        (Dtype::Uint8, 3) => PixelType::U8x3,
        (Dtype::Uint8, _) => PixelType::U8x4,
        (Dtype::Uint16, 1) => PixelType::U16,
        (Dtype::Uint16, 2) => PixelType::U16x2,
        (Dtype::Uint16, 3) => PixelType::U16x3,
        (Dtype::Uint16, _) => PixelType::U16x4,
        (Dtype::Float32, 1) => PixelType::F32,
        (Dtype::Float32, 2) => PixelType::F32x2,
        (Dtype::Float32, 3) => PixelType::F32x3,
        (Dtype::Float32, _) => PixelType::F32x4,
        (other, _) => return Err(ReduceError::Dtype(other)),
    };
    // Wider elements must be aligned for the resizer: read them into a
    // buffer of the element type (in native order; the wire is little-endian).
    let (wide16, wide32): (Vec<u16>, Vec<f32>);
    let src_bytes: &[u8] = match frame.dtype() {
        Dtype::Uint8 => frame.data(),
        Dtype::Uint16 => {
            wide16 = frame
                .data()
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            bytemuck::cast_slice(&wide16)
        }
        _ => {
            wide32 = frame
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            bytemuck::cast_slice(&wide32)
        }
    };
    let to_u32 =
        |v: usize| u32::try_from(v).map_err(|_| ReduceError::Shape(frame.shape().to_vec()));
    let src = ImageRef::new(to_u32(width)?, to_u32(height)?, src_bytes, pixel_type)
        .expect("size and alignment checked");
    let mut dst = Image::new(to_u32(w)?, to_u32(h)?, pixel_type);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(false);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel type, non-empty images");
    let out = match frame.dtype() {
        Dtype::Uint8 => dst.into_vec(),
        Dtype::Uint16 => dst
            .buffer()
            .chunks_exact(2)
            .flat_map(|b| u16::from_ne_bytes([b[0], b[1]]).to_le_bytes())
            .collect(),
        _ => dst
            .buffer()
            .chunks_exact(4)
            .flat_map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]).to_le_bytes())
            .collect(),
    };
    let shape = if frame.shape().len() == 2 {
        vec![h, w]
    } else {
        vec![h, w, channels]
    };
    Ok(Frame::new(frame.dtype(), shape, out).expect("the resizer fills the whole image"))
}
