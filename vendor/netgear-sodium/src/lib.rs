//! See Cargo.toml. No API: with `curve`, it keeps libsodium on the link line.
#![no_std]
#[cfg(feature = "curve")]
extern crate libsodium_sys;
