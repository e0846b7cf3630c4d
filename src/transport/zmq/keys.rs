//! CURVE keys and their files, as vidgear keeps them (spec/10 §10.3).
//!
//! The files are ZeroMQ certificates in the text format pyzmq's
//! `zmq.auth` writes and reads: a public file `NAME.key` holding
//! `public-key = "<Z85>"`, and a secret file `NAME.key_secret` holding the
//! same line and `secret-key = "<Z85>"`. vidgear lays them out under a
//! `.vidgear/keys` directory ([`KeyDir`]).
//!
//! Keys are made here in pure Rust ([`KeyPair::generate`]: X25519 from
//! `x25519-dalek`, randomness from the operating system through
//! `getrandom`), not by libzmq: libzmq makes keys only when it is built
//! with libsodium (the `curve` feature), and `netgear keys` and these
//! checks must work in every build. A CURVE key pair is an X25519 key pair
//! (CurveZMQ uses NaCl's `crypto_box` keys), so both make the same kind of
//! key; the `curve` test suite checks ours against libzmq's derivation.
//!
//! No secret key is ever shown: [`SecretKey`] has no `Display`, its
//! `Debug` is redacted, and no [`KeyError`] carries key text.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use zeroize::Zeroizing;

/// A CURVE public key (32 bytes; 40 characters of Z85 in files and logs).
///
/// ```
/// use netgear::transport::zmq::keys::PublicKey;
/// let key: PublicKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7".parse()?;
/// assert_eq!(key.to_string(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
/// # Ok::<(), netgear::transport::zmq::keys::BadKey>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

/// A CURVE secret key. It is never displayed: `Debug` shows `SecretKey(..)`
/// and the bytes are wiped when it is dropped.
///
/// ```
/// use netgear::transport::zmq::keys::KeyPair;
/// let pair = KeyPair::generate();
/// assert_eq!(format!("{:?}", pair.secret()), "SecretKey(..)");
/// ```
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; 32]>);

/// A key that is not 40 characters of Z85 standing for 32 bytes.
///
/// ```
/// use netgear::transport::zmq::keys::PublicKey;
/// assert!("not a key".parse::<PublicKey>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CURVE key (40 characters of Z85)")]
pub struct BadKey;

fn decode_z85(text: &str) -> Result<[u8; 32], BadKey> {
    if text.len() != 40 {
        return Err(BadKey);
    }
    let bytes = Zeroizing::new(z85::decode(text).map_err(|_| BadKey)?);
    bytes.as_slice().try_into().map_err(|_| BadKey)
}

impl PublicKey {
    /// The key from its 32 bytes.
    ///
    /// ```
    /// let key = netgear::transport::zmq::keys::PublicKey::from_bytes([0; 32]);
    /// assert_eq!(key.as_bytes(), &[0; 32]);
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> PublicKey {
        PublicKey(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for PublicKey {
    type Err = BadKey;
    fn from_str(text: &str) -> Result<PublicKey, BadKey> {
        decode_z85(text).map(PublicKey)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&z85::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl SecretKey {
    /// The key from its 32 bytes.
    ///
    /// ```
    /// let secret = netgear::transport::zmq::keys::SecretKey::from_bytes([7; 32]);
    /// assert_eq!(format!("{secret:?}"), "SecretKey(..)");
    /// ```
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(Zeroizing::new(bytes))
    }

    /// The 32 bytes, for the socket option only.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The public key that belongs to this secret key (X25519).
    pub fn public_key(&self) -> PublicKey {
        let secret = x25519_dalek::StaticSecret::from(*self.0);
        PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A public key and its secret key: one end's identity.
///
/// ```
/// use netgear::transport::zmq::keys::KeyPair;
/// let pair = KeyPair::generate();
/// assert_eq!(pair.secret().public_key(), *pair.public());
/// ```
#[derive(Clone)]
pub struct KeyPair {
    public: PublicKey,
    secret: SecretKey,
}

impl KeyPair {
    /// A fresh key pair from the operating system's randomness.
    pub fn generate() -> KeyPair {
        let secret = x25519_dalek::StaticSecret::random();
        let public = PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        KeyPair {
            public,
            secret: SecretKey(Zeroizing::new(secret.to_bytes())),
        }
    }

    /// The pair of `secret`, its public key derived from it.
    ///
    /// ```
    /// use netgear::transport::zmq::keys::{KeyPair, SecretKey};
    /// let pair = KeyPair::from_secret(SecretKey::from_bytes([9; 32]));
    /// assert_eq!(*pair.public(), pair.secret().public_key());
    /// ```
    pub fn from_secret(secret: SecretKey) -> KeyPair {
        KeyPair {
            public: secret.public_key(),
            secret,
        }
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Why a key file or directory cannot be used. Every variant names the
/// file; none holds any key text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A file secure mode needs is not there.
    #[error("the key file {} is missing", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A key file is not a certificate netgear (or pyzmq) can read.
    #[error("the key file {} is malformed: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the key itself).
        reason: &'static str,
    },
    /// A secret key file that users other than its owner may change.
    #[error("the secret key file {} is writable by other users (mode {mode:04o}); make it private with chmod 600", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key directory (`--cert-dir`, vidgear's `custom_cert_location`)
    /// is not a directory.
    #[error("the key directory {} does not exist or is not a directory", path.display())]
    NoDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// No home directory for the default key directory.
    #[error("no home directory (HOME is not set) for the default key directory")]
    NoHome,
    /// A file could not be read or written.
    #[error("cannot {operation} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `create`).
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
}

impl KeyError {
    /// A stable identifier of the error (spec/08 §8.6).
    ///
    /// ```
    /// use netgear::transport::zmq::keys::KeyError;
    /// assert_eq!(KeyError::NoHome.code(), "keys-no-directory");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Missing { .. } => "keys-missing",
            KeyError::Malformed { .. } => "keys-malformed",
            KeyError::Permissions { .. } => "keys-permissions",
            KeyError::NoDirectory { .. } | KeyError::NoHome => "keys-no-directory",
            KeyError::Io { .. } => "keys-io",
        }
    }
}

fn io_error<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> KeyError + 'a {
    move |source| {
        if source.kind() == io::ErrorKind::NotFound && operation == "read" {
            KeyError::Missing {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                operation,
                path: path.to_owned(),
                source,
            }
        }
    }
}

/// The value of `name = "..."` on a certificate line, as pyzmq reads it:
/// the text after the first `=`, spaces, tabs and quotes trimmed.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(name)?;
    let (_, value) = rest.split_once('=')?;
    Some(value.trim_matches([' ', '\t', '"', '\'']))
}

/// The public key and, when the file has one, the secret key of the
/// certificate `text` (pyzmq's `load_certificate` rules: `#` lines are
/// comments, the first `public-key` and `secret-key` lines count).
fn parse_certificate(text: &str, path: &Path) -> Result<(PublicKey, Option<SecretKey>), KeyError> {
    let malformed = |reason| KeyError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let (mut public, mut secret) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if public.is_none() {
            if let Some(value) = field(line, "public-key") {
                let key = decode_z85(value).map_err(|_| malformed("public-key is not a key"))?;
                public = Some(PublicKey(key));
            }
        }
        if secret.is_none() {
            if let Some(value) = field(line, "secret-key") {
                let key = decode_z85(value).map_err(|_| malformed("secret-key is not a key"))?;
                secret = Some(SecretKey(Zeroizing::new(key)));
            }
        }
    }
    let public = public.ok_or_else(|| malformed("no public-key line"))?;
    Ok((public, secret))
}

fn read_text(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let bytes = Zeroizing::new(fs::read(path).map_err(io_error("read", path))?);
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(KeyError::Malformed {
            path: path.to_owned(),
            reason: "not UTF-8 text",
        }),
    }
}

/// Reads the public key of a certificate (`.key` or `.key_secret`).
///
/// ```no_run
/// let key = netgear::transport::zmq::keys::read_public("keys/public_keys/server.key".as_ref())?;
/// println!("server key {key}");
/// # Ok::<(), netgear::transport::zmq::keys::KeyError>(())
/// ```
pub fn read_public(path: &Path) -> Result<PublicKey, KeyError> {
    parse_certificate(&read_text(path)?, path).map(|(public, _)| public)
}

/// Reads the key pair of a secret certificate (`.key_secret`). The file
/// must not be writable by others (spec/10 §10.3), and its public key must
/// be the one its secret key makes.
///
/// ```no_run
/// let pair = netgear::transport::zmq::keys::read_pair("keys/private_keys/server.key_secret".as_ref())?;
/// println!("server key {}", pair.public());
/// # Ok::<(), netgear::transport::zmq::keys::KeyError>(())
/// ```
pub fn read_pair(path: &Path) -> Result<KeyPair, KeyError> {
    check_private(path)?;
    let (public, secret) = parse_certificate(&read_text(path)?, path)?;
    let secret = secret.ok_or_else(|| KeyError::Malformed {
        path: path.to_owned(),
        reason: "no secret-key line",
    })?;
    if secret.public_key() != public {
        return Err(KeyError::Malformed {
            path: path.to_owned(),
            reason: "the public-key is not the one of the secret-key",
        });
    }
    Ok(KeyPair { public, secret })
}

/// Refuses a secret file that others may rewrite; warns when others may
/// read it (pyzmq writes secret files with the umask's mode, often 0644).
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(io_error("read", path))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o022 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    if mode & 0o044 != 0 {
        tracing::warn!(file = %path.display(), mode = format!("{mode:04o}"), "the secret key file is readable by other users; chmod 600 makes it private");
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(path: &Path) -> Result<(), KeyError> {
    fs::metadata(path).map_err(io_error("read", path))?;
    Ok(())
}

/// The public keys of every `*.key` file in `dir` (IronHouse's allow list,
/// as pyzmq's `load_certificates`).
///
/// ```no_run
/// let allowed = netgear::transport::zmq::keys::read_public_dir("keys/public_keys".as_ref())?;
/// println!("{} keys allowed", allowed.len());
/// # Ok::<(), netgear::transport::zmq::keys::KeyError>(())
/// ```
pub fn read_public_dir(dir: &Path) -> Result<BTreeSet<PublicKey>, KeyError> {
    let entries = fs::read_dir(dir).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => KeyError::Missing {
            path: dir.to_owned(),
        },
        _ => KeyError::Io {
            operation: "read",
            path: dir.to_owned(),
            source,
        },
    })?;
    let mut keys = BTreeSet::new();
    for entry in entries {
        let path = entry.map_err(io_error("read", dir))?.path();
        if path.extension().is_some_and(|e| e == "key") && path.is_file() {
            keys.insert(read_public(&path)?);
        }
    }
    Ok(keys)
}

/// The text of a certificate, laid out as pyzmq writes it.
fn certificate(public: &PublicKey, secret: Option<&SecretKey>) -> Zeroizing<String> {
    let what = match secret {
        Some(_) => "secret certificate: keep it private (mode 0600), never send it",
        None => "public certificate: give it to the peer",
    };
    // Room for everything up front: a growing string would leave copies
    // of the secret behind in the buffers it outgrew.
    let mut text = Zeroizing::new(String::with_capacity(512));
    text.push_str(&format!(
        "#   netgear {}: ZeroMQ CURVE {what}\n\nmetadata\ncurve\n    public-key = \"{public}\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    if let Some(secret) = secret {
        let z85 = Zeroizing::new(z85::encode(secret.expose()));
        text.push_str("    secret-key = \"");
        text.push_str(&z85);
        text.push_str("\"\n");
    }
    text
}

/// Writes `text` to `path` through a temporary file in the same directory
/// (created with `mode`), so a reader never sees half a key.
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), KeyError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(io_error("write", path))
}

/// Writes `pair` as `NAME.key` in `public_dir` and `NAME.key_secret`
/// (mode 0600) in `secret_dir`.
///
/// ```no_run
/// use netgear::transport::zmq::keys::{write_pair, KeyPair};
/// write_pair(&KeyPair::generate(), "camera", "keys/public_keys".as_ref(), "keys/private_keys".as_ref())?;
/// # Ok::<(), netgear::transport::zmq::keys::KeyError>(())
/// ```
pub fn write_pair(
    pair: &KeyPair,
    name: &str,
    public_dir: &Path,
    secret_dir: &Path,
) -> Result<(), KeyError> {
    let public = certificate(&pair.public, None);
    write_file(&public_dir.join(format!("{name}.key")), &public, 0o644)?;
    let secret = certificate(&pair.public, Some(&pair.secret));
    write_file(
        &secret_dir.join(format!("{name}.key_secret")),
        &secret,
        0o600,
    )
}

/// vidgear's key directory: `<dir>/.vidgear/keys`, with `public_keys/` and
/// `private_keys/` holding a `server` and a `client` certificate each.
///
/// `<dir>` is vidgear's `custom_cert_location` (netgear's `--cert-dir`);
/// `.vidgear` is added unless it already ends the path, and the default is
/// the home directory.
///
/// ```
/// use netgear::transport::zmq::keys::KeyDir;
/// let dir = KeyDir::new("/srv/cam");
/// assert_eq!(dir.keys(), std::path::Path::new("/srv/cam/.vidgear/keys"));
/// assert_eq!(KeyDir::new("/srv/cam/.vidgear").keys(), dir.keys());
/// assert!(dir.server_secret().ends_with("private_keys/server.key_secret"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDir {
    /// `<dir>` as given.
    base: PathBuf,
    /// `<dir>/.vidgear/keys`.
    keys: PathBuf,
}

/// What [`KeyDir::prepare`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prepared {
    /// The key files were there and were kept.
    Kept,
    /// A fresh set was written (the directory held no key file, or
    /// overwriting was asked for).
    Generated,
}

/// The names of a set: each has `public_keys/NAME.key` and
/// `private_keys/NAME.key_secret`.
const SET: [&str; 2] = ["server", "client"];

impl KeyDir {
    /// The key directory of `<dir>` (vidgear's `custom_cert_location`).
    pub fn new(dir: impl Into<PathBuf>) -> KeyDir {
        let base: PathBuf = dir.into();
        let vidgear = if base.file_name().is_some_and(|n| n == ".vidgear") {
            base.clone()
        } else {
            base.join(".vidgear")
        };
        KeyDir {
            keys: vidgear.join("keys"),
            base,
        }
    }

    /// The default: `~/.vidgear/keys`, as vidgear's.
    pub fn home() -> Result<KeyDir, KeyError> {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(KeyDir::new)
            .ok_or(KeyError::NoHome)
    }

    /// `<dir>/.vidgear/keys`.
    pub fn keys(&self) -> &Path {
        &self.keys
    }

    /// `keys/public_keys`: the public certificates (IronHouse's allow list).
    pub fn public_dir(&self) -> PathBuf {
        self.keys.join("public_keys")
    }

    /// `keys/private_keys`: the secret certificates.
    pub fn secret_dir(&self) -> PathBuf {
        self.keys.join("private_keys")
    }

    /// `public_keys/server.key`: what the sender authenticates the receiver by.
    pub fn server_public(&self) -> PathBuf {
        self.public_dir().join("server.key")
    }

    /// `private_keys/server.key_secret`: the receiver's (binding end's) pair.
    pub fn server_secret(&self) -> PathBuf {
        self.secret_dir().join("server.key_secret")
    }

    /// `private_keys/client.key_secret`: the sender's (connecting end's) pair.
    pub fn client_secret(&self) -> PathBuf {
        self.secret_dir().join("client.key_secret")
    }

    fn files(&self) -> Vec<PathBuf> {
        SET.iter()
            .flat_map(|name| {
                [
                    self.public_dir().join(format!("{name}.key")),
                    self.secret_dir().join(format!("{name}.key_secret")),
                ]
            })
            .collect()
    }

    /// Writes a fresh server and client set (replacing the four files, and
    /// nothing else), making the directories as needed.
    ///
    /// ```
    /// # let tmp = tempfile::tempdir()?;
    /// use netgear::transport::zmq::keys::{read_pair, read_public, KeyDir};
    /// let dir = KeyDir::new(tmp.path());
    /// dir.generate()?;
    /// let server = read_pair(&dir.server_secret())?;
    /// assert_eq!(read_public(&dir.server_public())?, *server.public());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generate(&self) -> Result<(), KeyError> {
        let (public_dir, secret_dir) = (self.public_dir(), self.secret_dir());
        for dir in [&public_dir, &secret_dir] {
            fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&secret_dir, fs::Permissions::from_mode(0o700))
                .map_err(io_error("write", &secret_dir))?;
        }
        for name in SET {
            write_pair(&KeyPair::generate(), name, &public_dir, &secret_dir)?;
        }
        Ok(())
    }

    /// Makes the keys ready the way vidgear does before a secure session:
    /// `<dir>` must be a directory; with `overwrite` (vidgear's
    /// `overwrite_cert`, which only its sending end honours) a fresh set is
    /// written; without it, a fresh set is written only when none of the
    /// four files is there. A partial set is kept as it is (vidgear would
    /// delete and regenerate parts of it: spec/07 §7.18); what is then
    /// missing is reported when it is read.
    ///
    /// ```
    /// # let tmp = tempfile::tempdir()?;
    /// use netgear::transport::zmq::keys::{KeyDir, Prepared};
    /// let dir = KeyDir::new(tmp.path());
    /// assert_eq!(dir.prepare(false)?, Prepared::Generated);
    /// assert_eq!(dir.prepare(false)?, Prepared::Kept);
    /// assert_eq!(dir.prepare(true)?, Prepared::Generated);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prepare(&self, overwrite: bool) -> Result<Prepared, KeyError> {
        if !self.base.is_dir() {
            return Err(KeyError::NoDirectory {
                path: self.base.clone(),
            });
        }
        if overwrite || !self.files().iter().any(|f| f.exists()) {
            self.generate()?;
            tracing::info!(dir = %self.keys.display(), "wrote a fresh server and client key set");
            return Ok(Prepared::Generated);
        }
        Ok(Prepared::Kept)
    }
}
