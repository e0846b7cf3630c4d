//! Raw frames: a dtype, a shape and the C-order bytes, never copied.

use bytes::Bytes;

use super::Dtype;

/// numpy's limit on the number of dimensions (`NPY_MAXDIMS` before 2.0).
pub const MAX_DIMS: usize = 32;

/// An n-dimensional array as NetGear carries it: numpy dtype, shape and the
/// elements' bytes in C order. The bytes live in a [`Bytes`], so a frame
/// received from the network shares the receive buffer instead of copying it.
///
/// ```
/// use netgear::{Dtype, Frame};
/// let f = Frame::new(Dtype::Uint16, vec![2, 3], vec![0u8; 12]).unwrap();
/// assert_eq!(f.element_count(), 6);
/// assert!(Frame::new(Dtype::Uint16, vec![2, 3], vec![0u8; 11]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Bytes,
}

/// Why a shape and a byte buffer do not make a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// More dimensions than [`MAX_DIMS`].
    #[error("shape has {0} dimensions, more than the limit of {MAX_DIMS}")]
    TooManyDims(usize),
    /// product(shape) × itemsize does not fit in 64 bits.
    #[error("shape {shape:?} of {dtype} overflows the addressable size")]
    SizeOverflow {
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        dtype: Dtype,
    },
    /// The buffer's length differs from product(shape) × itemsize.
    #[error("shape {shape:?} of {dtype} needs {expected} bytes, the payload has {actual}")]
    SizeMismatch {
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        dtype: Dtype,
        /// Bytes the shape calls for.
        expected: u64,
        /// Bytes present.
        actual: usize,
    },
}

/// product(shape) × itemsize, or `None` on overflow. As in numpy, a shape
/// whose non-zero dimensions overflow is refused even when another
/// dimension is zero.
pub fn byte_size(dtype: Dtype, shape: &[usize]) -> Option<u64> {
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(dtype.itemsize() as u64, |acc, &d| acc.checked_mul(d as u64))?;
    Some(if shape.contains(&0) { 0 } else { nonzero })
}

impl Frame {
    /// Builds a frame, checking that `data` holds exactly the bytes that
    /// `shape` and `dtype` call for. An empty shape is a 0-d array (one
    /// element), as in numpy.
    pub fn new(
        dtype: Dtype,
        shape: impl Into<Vec<usize>>,
        data: impl Into<Bytes>,
    ) -> Result<Frame, FrameError> {
        let shape = shape.into();
        let data = data.into();
        if shape.len() > MAX_DIMS {
            return Err(FrameError::TooManyDims(shape.len()));
        }
        let expected = byte_size(dtype, &shape).ok_or_else(|| FrameError::SizeOverflow {
            shape: shape.clone(),
            dtype,
        })?;
        if expected != data.len() as u64 {
            return Err(FrameError::SizeMismatch {
                shape,
                dtype,
                expected,
                actual: data.len(),
            });
        }
        Ok(Frame { dtype, shape, data })
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The dimensions, outermost first (numpy's `shape`).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements' bytes in C order, little-endian.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// Gives up the frame for its bytes (no copy).
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// Number of elements.
    pub fn element_count(&self) -> usize {
        self.data.len() / self.dtype.itemsize()
    }
}
