//! Termination while frames are in flight, on every pattern and every
//! implementation pair (the `inflight/` cells of the live matrix): the
//! stopped sender closes normally, the receiver ends by its termination,
//! and every frame shown is intact and in order. The venv is provisioned
//! on first use; without Python these tests fail and say how to provide it.

mod common;

use common::conform;

#[test]
fn termination_with_frames_in_flight_on_pattern0() {
    conform("inflight-p0", "^inflight/p0/", 1, 4);
}
#[test]
fn termination_with_frames_in_flight_on_pattern1() {
    conform("inflight-p1", "^inflight/p1/", 1, 4);
}
#[test]
fn termination_with_frames_in_flight_on_pattern2() {
    conform("inflight-p2", "^inflight/p2/", 1, 4);
}
