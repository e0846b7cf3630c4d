use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build/main.rs");
    println!("cargo:rerun-if-env-changed=PROFILE");

    // libzmq's own sources warn a great deal (unused parameters,
    // fall-throughs), and cargo shows a path dependency's build warnings on
    // every build: quiet the compiler for this one library.
    for var in ["CFLAGS", "CXXFLAGS"] {
        let flags = env::var(var).unwrap_or_default();
        env::set_var(var, format!("{flags} -w"));
    }
    let mut build = zeromq_src::Build::new();
    // Set by netgear-sodium's build script when its `curve` feature is on.
    if env::var_os("DEP_NETGEAR_SODIUM_CURVE").is_some() {
        let include = PathBuf::from(env::var("DEP_NETGEAR_SODIUM_INCLUDE").unwrap());
        let lib = PathBuf::from(env::var("DEP_NETGEAR_SODIUM_LIB").unwrap());
        assert!(include.join("sodium.h").is_file(), "no sodium.h in {}", include.display());
        // ZMQ_USE_LIBSODIUM + ZMQ_HAVE_CURVE. NB: LibLocation::new(lib, include).
        build.with_libsodium(Some(zeromq_src::LibLocation::new(lib, include)));
        // For dependents' build scripts: DEP_ZMQ_CURVE=1.
        println!("cargo:curve=1");
    } else {
        // As crates.io's zmq-sys 0.12.0: no CURVE (tweetnacl is never compiled).
        build.with_libsodium(None);
    }
    build.build();
}
