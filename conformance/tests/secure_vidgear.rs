//! Secure mode against vidgear 0.3.6 (spec/10), through `netgear conform`:
//! StoneHouse and IronHouse in both directions on patterns 0 and 1, with
//! JSON, frame and JPEG loads, keys made by vidgear and by `netgear keys`,
//! and the refusal cells. The Rust peers run `netgear` built with the
//! `curve` feature (built here on first use; `make` is needed for
//! libsodium). Run by `cargo test-all`, or
//! `cargo test -p netgear-conformance --features curve --test secure_vidgear`.

mod common;

use common::conform_with;
use netgear_testkit::netgear_curve_bin;

#[test]
fn secure_rust_server_to_vidgear_client() {
    conform_with(
        netgear_curve_bin(),
        "secure-rust-python",
        "^secure/rust-python/",
        4,
        24,
    );
}

#[test]
fn secure_vidgear_server_to_rust_client() {
    conform_with(
        netgear_curve_bin(),
        "secure-python-rust",
        "^secure/python-rust/",
        4,
        24,
    );
}

#[test]
fn secure_refusals_against_vidgear() {
    conform_with(
        netgear_curve_bin(),
        "secure-refusal",
        "^secure-refusal/",
        2,
        16,
    );
}
