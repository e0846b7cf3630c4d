// Re-exports libsodium-sys-stable's include/lib dirs (which only its direct
// dependents see, as DEP_SODIUM_*) as this crate's `links` metadata, so the
// zmq-sys fork, which depends on this crate unconditionally, learns whether
// CURVE was asked for and where libsodium is.
fn main() {
    if std::env::var_os("CARGO_FEATURE_CURVE").is_some() {
        let include = std::env::var("DEP_SODIUM_INCLUDE").expect("DEP_SODIUM_INCLUDE");
        let lib = std::env::var("DEP_SODIUM_LIB").expect("DEP_SODIUM_LIB");
        println!("cargo:curve=1");
        println!("cargo:include={include}");
        println!("cargo:lib={lib}");
    }
}
