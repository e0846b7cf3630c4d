//! What netgear's tests, the conformance harness and the benches share:
//! child processes whose JSON lines are read as they come, free ports
//! below the ephemeral range, the `netgear` binary, the natural test video
//! and PSNR. Not published: none of it is the crate's API.

#![allow(clippy::missing_panics_doc)]

mod binary;
mod ipc;
mod ports;
mod proc;

/// The natural-looking synthetic video `netgear send --content natural`
/// sends: the very file the command compiles.
#[path = "../../src/bin/netgear/natural.rs"]
mod natural;

pub use binary::{netgear_bin, netgear_curve_bin, repo};
pub use ipc::Ipc;
pub use natural::natural_frame;
pub use ports::{free_port, free_ports, wait_bound};
pub use proc::Proc;

/// Peak signal-to-noise ratio in dB between two `uint8` buffers of the same
/// length (infinite when equal): the quality measure of the JPEG tests and
/// the conformance matrix.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "PSNR of buffers of different sizes");
    let se: u64 = a
        .iter()
        .zip(b)
        .map(|(&p, &q)| {
            let d = u64::from(p.abs_diff(q));
            d * d
        })
        .sum();
    if se == 0 {
        return f64::INFINITY;
    }
    let mse = se as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}
