//! netgear's benchmarks: see `benches/` and `src/bin/bare-peer.rs`.
