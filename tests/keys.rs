//! Secure mode's key files (spec/10 §10.3) and what any build does with a
//! secure mode it cannot set up. Hermetic: no CURVE needed (keys are made
//! in pure Rust), no network.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use netgear::transport::zmq::keys::{
    read_pair, read_public, read_public_dir, KeyDir, KeyError, KeyPair, Prepared, PublicKey,
    SecretKey,
};
use netgear::transport::zmq::{ClientSecurity, ServerSecurity};

const BIN: &str = env!("CARGO_BIN_EXE_netgear");

/// A secret certificate exactly as pyzmq 27.3.0's `zmq.auth.create_certificates` wrote it.
const PYZMQ_SECRET: &str = "#   ****  Generated on 2026-12-01 08:35:09.969726 by pyzmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
curve
    public-key = \"6?fzd7ligTw{w1WT/-QBbI^<:X8@0pw(?{.T{B7}\"
    secret-key = \"RBnm&V.yI0!g]2a(AcF-R/E=B6QgXrF*Z8!c4y^<\"
";
const PYZMQ_SECRET_Z85: &str = "RBnm&V.yI0!g]2a(AcF-R/E=B6QgXrF*Z8!c4y^<";
const PYZMQ_PUBLIC_Z85: &str = "6?fzd7ligTw{w1WT/-QBbI^<:X8@0pw(?{.T{B7}";

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The public key of the server secret file in `dir` as it is now: it
/// tells a key set kept from one written afresh.
fn server_key(dir: &KeyDir) -> PublicKey {
    *read_pair(&dir.server_secret()).unwrap().public()
}

#[test]
fn a_pyzmq_certificate_reads_with_its_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("server.key_secret");
    // pyzmq writes secret files with the umask's mode: 0644 is the common case.
    write(&path, PYZMQ_SECRET, 0o644);
    let pair = read_pair(&path).unwrap();
    assert_eq!(pair.public().to_string(), PYZMQ_PUBLIC_Z85);
    // The public key is the X25519 public key of the secret one.
    assert_eq!(pair.secret().public_key(), *pair.public());
    assert_eq!(read_public(&path).unwrap(), *pair.public());
}

#[test]
fn the_layout_is_vidgears() {
    let dir = KeyDir::new("/data/cams");
    assert_eq!(dir.keys(), Path::new("/data/cams/.vidgear/keys"));
    assert_eq!(
        dir.server_secret(),
        Path::new("/data/cams/.vidgear/keys/private_keys/server.key_secret")
    );
    assert_eq!(
        dir.client_secret(),
        Path::new("/data/cams/.vidgear/keys/private_keys/client.key_secret")
    );
    assert_eq!(
        dir.server_public(),
        Path::new("/data/cams/.vidgear/keys/public_keys/server.key")
    );
    // `.vidgear` is not added twice.
    assert_eq!(KeyDir::new("/data/cams/.vidgear/").keys(), dir.keys());
    // The default is the home directory.
    let home = std::env::var_os("HOME").expect("HOME is set for the tests");
    assert_eq!(
        KeyDir::home().unwrap().keys(),
        Path::new(&home).join(".vidgear/keys")
    );
}

#[test]
fn generated_sets_are_consistent_private_and_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    let server = read_pair(&dir.server_secret()).unwrap();
    let client = read_pair(&dir.client_secret()).unwrap();
    assert_eq!(read_public(&dir.server_public()).unwrap(), *server.public());
    let client_public = dir.public_dir().join("client.key");
    assert_eq!(read_public(&client_public).unwrap(), *client.public());
    assert_ne!(server.public(), client.public());
    assert_eq!(mode(&dir.server_secret()), 0o600);
    assert_eq!(mode(&dir.client_secret()), 0o600);
    assert_eq!(mode(&dir.secret_dir()), 0o700);
    assert_eq!(mode(&dir.server_public()), 0o644);
    // Public files carry no secret key.
    assert!(!fs::read_to_string(dir.server_public())
        .unwrap()
        .contains("secret-key"));
    let allowed = read_public_dir(&dir.public_dir()).unwrap();
    assert_eq!(
        allowed,
        [*server.public(), *client.public()].into_iter().collect()
    );
    // A second set differs from the first.
    dir.generate().unwrap();
    assert_ne!(server_key(&dir), *server.public());
}

#[test]
fn prepare_follows_vidgears_generation_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    assert_eq!(dir.prepare(false).unwrap(), Prepared::Generated);
    let first = server_key(&dir);
    assert_eq!(dir.prepare(false).unwrap(), Prepared::Kept);
    assert_eq!(server_key(&dir), first);
    // overwrite_cert (a sender's option in vidgear) writes a fresh set.
    assert_eq!(dir.prepare(true).unwrap(), Prepared::Generated);
    assert_ne!(server_key(&dir), first);
}

#[test]
fn a_partial_set_is_kept_and_the_missing_file_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    let server = server_key(&dir);
    fs::remove_file(dir.client_secret()).unwrap();
    assert_eq!(dir.prepare(false).unwrap(), Prepared::Kept);
    // Nothing was deleted or regenerated.
    assert_eq!(server_key(&dir), server);
    let err = ServerSecurity::from_dir(&dir).unwrap_err();
    assert!(matches!(&err, KeyError::Missing { path } if *path == dir.client_secret()));
    assert_eq!(err.code(), "keys-missing");
    assert!(err.to_string().contains("client.key_secret"), "{err}");
}

#[test]
fn the_key_directory_must_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("nowhere");
    let err = KeyDir::new(&gone).prepare(false).unwrap_err();
    assert!(matches!(&err, KeyError::NoDirectory { path } if *path == gone));
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn malformed_files_are_named_and_keys_never_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, String, &str); 5] = [
        ("empty.key", String::new(), "no public-key line"),
        (
            "short.key",
            "public-key = \"abc\"\n".into(),
            "public-key is not a key",
        ),
        (
            "badchar.key",
            format!("public-key = \"{}~\"\n", &PYZMQ_PUBLIC_Z85[..39]),
            "public-key is not a key",
        ),
        (
            "nosecret.key_secret",
            format!("public-key = \"{PYZMQ_PUBLIC_Z85}\"\n"),
            "no secret-key line",
        ),
        (
            "mismatch.key_secret",
            PYZMQ_SECRET.replace(PYZMQ_PUBLIC_Z85, &KeyPair::generate().public().to_string()),
            "the public-key is not the one of the secret-key",
        ),
    ];
    for (name, text, why) in cases {
        let path = tmp.path().join(name);
        write(&path, &text, 0o600);
        let err = if name.ends_with("_secret") {
            read_pair(&path).map(|_| ()).unwrap_err()
        } else {
            read_public(&path).map(|_| ()).unwrap_err()
        };
        assert!(
            matches!(&err, KeyError::Malformed { path: p, reason } if *p == path && *reason == why),
            "{name}: {err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(name), "{shown}");
        assert!(!shown.contains(PYZMQ_SECRET_Z85), "{shown}");
    }
    let path = tmp.path().join("binary.key");
    fs::write(&path, [0xff, 0xfe, 0]).unwrap();
    assert!(matches!(
        read_public(&path),
        Err(KeyError::Malformed {
            reason: "not UTF-8 text",
            ..
        })
    ));
}

#[test]
fn a_secret_file_others_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [0o622, 0o602, 0o666] {
        let path = tmp.path().join(format!("s{bad:o}.key_secret"));
        write(&path, PYZMQ_SECRET, bad);
        let err = read_pair(&path).unwrap_err();
        assert!(
            matches!(&err, KeyError::Permissions { path: p, mode } if *p == path && *mode == bad),
            "{err:?}"
        );
        assert_eq!(err.code(), "keys-permissions");
        assert!(err.to_string().contains(&format!("{bad:04o}")), "{err}");
    }
}

#[test]
fn secret_keys_never_show_in_debug_output() {
    let pair = read_pair_from_text();
    let shown = format!("{pair:?} {:?}", pair.secret());
    assert!(!shown.contains(PYZMQ_SECRET_Z85), "{shown}");
    assert!(shown.contains(PYZMQ_PUBLIC_Z85), "{shown}");
    let security = ClientSecurity::stonehouse(pair.clone());
    assert!(!format!("{security:?}").contains(PYZMQ_SECRET_Z85));
    let server = ServerSecurity::new(pair, PublicKey::from_bytes([3; 32]));
    assert!(!format!("{server:?}").contains(PYZMQ_SECRET_Z85));
}

fn read_pair_from_text() -> KeyPair {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.key_secret");
    write(&path, PYZMQ_SECRET, 0o600);
    read_pair(&path).unwrap()
}

#[test]
fn secret_files_hold_the_secret_key_in_z85() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path());
    dir.generate().unwrap();
    let text = fs::read_to_string(dir.server_secret()).unwrap();
    let secret_line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret-key = \""))
        .expect("a secret-key line")
        .trim_end_matches('"');
    let pair = read_pair(&dir.server_secret()).unwrap();
    let again = KeyPair::from_secret(SecretKey::from_bytes(
        z85_bytes(secret_line).try_into().unwrap(),
    ));
    assert_eq!(again.public(), pair.public());
}

/// Z85 decoding for the check above, through libzmq's own decoder.
fn z85_bytes(text: &str) -> Vec<u8> {
    zmq::z85_decode(text).unwrap()
}

fn netgear(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn secure_only_flags_need_a_secure_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = tmp.path().display().to_string();
    for (args, flag) in [
        (vec!["send", "--cert-dir", &cert], "--cert-dir"),
        (vec!["send", "--overwrite-cert"], "--overwrite-cert"),
        (
            vec!["receive", "--allow-address", "127.0.0.1"],
            "--allow-address",
        ),
    ] {
        let out = netgear(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{flag} needs --secure-mode 1 or 2")),
            "{stderr}"
        );
    }
}

#[test]
fn netgear_keys_writes_a_set_in_vidgears_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("new");
    let out = netgear(&["keys", base.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = KeyDir::new(&base);
    let server = read_pair(&dir.server_secret()).unwrap();
    let client = read_pair(&dir.client_secret()).unwrap();
    assert_eq!(read_public(&dir.server_public()).unwrap(), *server.public());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for path in [
        dir.server_secret(),
        dir.client_secret(),
        dir.server_public(),
    ] {
        assert!(stdout.contains(&path.display().to_string()), "{stdout}");
    }
    // No key text on the terminal, public or secret.
    let secret = fs::read_to_string(dir.server_secret()).unwrap();
    let secret_z85 = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret-key = "))
        .unwrap();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(secret_z85.trim_matches('"')));
    assert!(!all.contains(&client.public().to_string()));
}

/// What a build without the `curve` feature does with secure mode.
#[cfg(not(feature = "curve"))]
mod without_curve {
    use super::*;
    use netgear::transport::zmq::{
        curve_available, Client, ClientOptions, Error, SecurityError, Server, ServerOptions,
    };

    #[test]
    fn without_curve_secure_mode_fails_closed() {
        assert!(!curve_available());
        let ipc = netgear_testkit::Ipc::new();
        let pair = KeyPair::generate();
        let options = ClientOptions::new()
            .protocol(netgear::transport::zmq::Protocol::Ipc)
            .address(ipc.address())
            .port(5555)
            .security(ClientSecurity::stonehouse(pair.clone()));
        let err = Client::bind(options).err().expect("no plaintext fallback");
        assert!(
            matches!(err, Error::Security(SecurityError::NoCurve)),
            "{err}"
        );
        assert!(err.is_usage());
        assert!(err.to_string().contains("--features curve"), "{err}");
        // Nothing was bound.
        assert!(!ipc.socket(5555).exists());
        let options = ServerOptions::new()
            .protocol(netgear::transport::zmq::Protocol::Ipc)
            .address(ipc.address())
            .port(5555)
            .security(ServerSecurity::new(pair, PublicKey::from_bytes([1; 32])));
        let err = Server::connect(options)
            .err()
            .expect("no plaintext fallback");
        assert_eq!(err.code(), "security-no-curve");
    }

    #[test]
    fn without_curve_the_command_exits_2_naming_the_feature() {
        let ipc = netgear_testkit::Ipc::new();
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().display().to_string();
        let mut args = ipc.cli_args(5555);
        args.extend([
            "--secure-mode".into(),
            "2".into(),
            "--cert-dir".into(),
            cert,
        ]);
        for role in ["send", "receive"] {
            let mut all = vec![role];
            all.extend(args.iter().map(String::as_str));
            let out = netgear(&all);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{role}: {stderr}");
            assert!(stderr.contains("--features curve"), "{role}: {stderr}");
            assert!(out.stdout.is_empty());
        }
        assert!(!ipc.socket(5555).exists());
    }
}
