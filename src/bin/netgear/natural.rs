//! A natural-looking synthetic video: a smooth gradient, a disc and a
//! rectangle that move from frame to frame, and mild noise.
//!
//! JPEG is made for such content (the `(k + i) mod 251` ramp of the
//! conformance harness is its worst case), so the JPEG tests, the benchmark
//! and `netgear send --content natural` use it. Every value is integer
//! arithmetic on non-negative numbers, so
//! `conformance/python/peer.py` computes the very same pixels with numpy.
//!
//! For frame `k` of height `H`, width `W` (all divisions floor):
//!
//! * disc: centre `(cx, cy) = (W/8 + (k·W/64) mod (3W/4), H/2)`, radius
//!   `r = min(H, W)/6`, where `(x−cx)² + (y−cy)² ≤ r²`: channel values
//!   `[60, 200, 230, 255]`;
//! * else rectangle: `5W/8 ≤ x < 7W/8`, `ry ≤ y < ry + H/4` with
//!   `ry = H/5 + (k·H/48) mod (H/2)`: `[200, 80, 40, 255]`;
//! * else the gradient: channel 0 `40 + 150x/W + 30y/H`, channel 1
//!   `30 + 170y/H + 20x/W`, channel 2 `200 − 120x/W − 50y/H`, others 255;
//! * plus noise `(v mod 5) − 2` where `v` is the 32-bit value
//!   `x·1103515245 + y·12345 + k·2654435761 + c·97` (mod 2³²), then
//!   `v ^= v >> 15; v = v·0x2c1b3c6d mod 2³²; v ^= v >> 12`;
//! * clamped to 0–255.
//!
//! This file is also the test kit's (`testkit/`), so the tests and the
//! conformance harness draw exactly what `netgear send` sends.

use netgear::{Dtype, Frame};

/// Frame `k` of the natural pattern as `uint8` of `shape`: `(H, W)` or
/// `(H, W, C)` (channel `c` of the formula is the index in the last axis).
///
/// # Panics
/// If `shape` is not 2- or 3-dimensional.
pub fn natural_frame(shape: &[usize], k: u64) -> Frame {
    let (h, w, c) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => panic!("natural frames are (H, W) or (H, W, C), not {shape:?}"),
    };
    let mut out = Vec::with_capacity(h * w * c);
    let (hh, ww) = (h as u64, w as u64);
    let cx = ww / 8 + (k * ww / 64) % (ww * 3 / 4).max(1);
    let cy = hh / 2;
    let r = hh.min(ww) / 6;
    let ry = hh / 5 + (k * hh / 48) % (hh / 2).max(1);
    for y in 0..hh {
        for x in 0..ww {
            let dx = x.abs_diff(cx);
            let dy = y.abs_diff(cy);
            let disc = dx * dx + dy * dy <= r * r;
            let rect = x >= ww * 5 / 8 && x < ww * 7 / 8 && y >= ry && y < ry + hh / 4;
            for ch in 0..c as u64 {
                let base: i64 = if disc {
                    [60, 200, 230, 255][ch.min(3) as usize]
                } else if rect {
                    [200, 80, 40, 255][ch.min(3) as usize]
                } else {
                    match ch {
                        0 => (40 + 150 * x / ww + 30 * y / hh) as i64,
                        1 => (30 + 170 * y / hh + 20 * x / ww) as i64,
                        2 => 200 - (120 * x / ww) as i64 - (50 * y / hh) as i64,
                        _ => 255,
                    }
                };
                let mut v = x
                    .wrapping_mul(1103515245)
                    .wrapping_add(y.wrapping_mul(12345))
                    .wrapping_add(k.wrapping_mul(2654435761))
                    .wrapping_add(ch * 97) as u32;
                v ^= v >> 15;
                v = v.wrapping_mul(0x2c1b3c6d);
                v ^= v >> 12;
                let noise = i64::from(v % 5) - 2;
                out.push((base + noise).clamp(0, 255) as u8);
            }
        }
    }
    Frame::new(Dtype::Uint8, shape.to_vec(), out).expect("one byte per element")
}
