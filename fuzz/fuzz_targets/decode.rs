//! Arbitrary multipart input to the decoders, the JSON parser and the client
//! and server state machines (see ../harness.rs for the input layout and the
//! properties checked).

#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
