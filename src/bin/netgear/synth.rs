//! Synthetic frames: in frame k, the flat C-order element i is
//! `(k + i) mod 251` cast to the dtype.
//!
//! One buffer of `n + 251` elements holding `j mod 251` is made once; frame
//! k is the window of `n` elements starting at element `k mod 251`, a slice
//! of the shared buffer (no copy, no allocation of pixels per frame).

use bytes::Bytes;
use netgear::wire::{byte_size, Limits};
use netgear::{Dtype, Frame};

/// The period of the pattern (a prime, so windows of any size differ).
pub const PERIOD: usize = 251;

/// A maker of synthetic frames of one shape and dtype.
pub struct Synth {
    dtype: Dtype,
    shape: Vec<usize>,
    frame_bytes: usize,
    buffer: Bytes,
}

/// The little-endian bytes of `value` (0..=250) cast to `dtype` as numpy's
/// `astype` casts an integer (wrapping for int8; `!= 0` for bool).
fn push_element(out: &mut Vec<u8>, dtype: Dtype, value: u8) {
    match dtype {
        Dtype::Bool => out.push(u8::from(value != 0)),
        Dtype::Int8 => out.push(value),
        Dtype::Uint8 => out.push(value),
        Dtype::Int16 => out.extend_from_slice(&i16::from(value).to_le_bytes()),
        Dtype::Uint16 => out.extend_from_slice(&u16::from(value).to_le_bytes()),
        Dtype::Int32 => out.extend_from_slice(&i32::from(value).to_le_bytes()),
        Dtype::Uint32 => out.extend_from_slice(&u32::from(value).to_le_bytes()),
        Dtype::Int64 => out.extend_from_slice(&i64::from(value).to_le_bytes()),
        Dtype::Uint64 => out.extend_from_slice(&u64::from(value).to_le_bytes()),
        Dtype::Float16 => {
            out.extend_from_slice(&half::f16::from_f32(f32::from(value)).to_le_bytes())
        }
        Dtype::Float32 => out.extend_from_slice(&f32::from(value).to_le_bytes()),
        Dtype::Float64 => out.extend_from_slice(&f64::from(value).to_le_bytes()),
    }
}

impl Synth {
    /// Prepares frames of `shape` and `dtype`, refusing a frame larger than
    /// a receiver accepts by default.
    pub fn new(dtype: Dtype, shape: Vec<usize>) -> Result<Synth, String> {
        let limit = Limits::default().max_message_bytes;
        let frame_bytes = byte_size(dtype, &shape)
            .and_then(|b| usize::try_from(b).ok())
            .filter(|&b| b <= limit)
            .ok_or_else(|| {
                format!("a {dtype} frame of shape {shape:?} is larger than the {} MiB a receiver accepts", limit >> 20)
            })?;
        let elements = frame_bytes / dtype.itemsize() + PERIOD;
        let mut buffer = Vec::with_capacity(elements * dtype.itemsize());
        for j in 0..elements {
            push_element(&mut buffer, dtype, (j % PERIOD) as u8);
        }
        Ok(Synth {
            dtype,
            shape,
            frame_bytes,
            buffer: Bytes::from(buffer),
        })
    }

    /// Frame k.
    pub fn frame(&self, k: u64) -> Frame {
        let start = (k % PERIOD as u64) as usize * self.dtype.itemsize();
        let data = self.buffer.slice(start..start + self.frame_bytes);
        Frame::new(self.dtype, self.shape.clone(), data).expect("the window has the frame's size")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_formula() {
        let s = Synth::new(Dtype::Uint16, vec![3, 100]).unwrap();
        for k in [0u64, 1, 250, 251, 1000] {
            let f = s.frame(k);
            assert_eq!(f.shape(), [3, 100]);
            for (i, c) in f.data().chunks(2).enumerate() {
                assert_eq!(
                    u16::from_le_bytes([c[0], c[1]]) as u64,
                    (k + i as u64) % 251
                );
            }
        }
    }

    #[test]
    fn casts_like_numpy() {
        let s = Synth::new(Dtype::Int8, vec![251]).unwrap();
        assert_eq!(s.frame(0).data()[250] as i8, -6);
        let b = Synth::new(Dtype::Bool, vec![3]).unwrap();
        assert_eq!(&b.frame(250).data()[..], [1, 0, 1]);
        let h = Synth::new(Dtype::Float16, vec![2]).unwrap();
        assert_eq!(
            &h.frame(250).data()[..2],
            half::f16::from_f32(250.0).to_le_bytes()
        );
    }

    #[test]
    fn refuses_huge_frames() {
        assert!(Synth::new(Dtype::Float64, vec![100_000, 100_000]).is_err());
        assert!(Synth::new(Dtype::Uint8, vec![usize::MAX, 2]).is_err());
    }
}
