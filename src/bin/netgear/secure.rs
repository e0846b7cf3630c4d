//! Secure mode on the command line (`--secure-mode`, `--cert-dir`,
//! `send --overwrite-cert`, `receive --allow-address`) and `netgear keys`.
//! A secure mode that cannot be set up is a usage error (exit 2) naming
//! what is missing; it never falls back to plaintext.

use std::path::PathBuf;

use clap::Args;
use netgear::transport::zmq::keys::{KeyDir, Prepared};
use netgear::transport::zmq::{curve_available, ClientSecurity, SecurityError, ServerSecurity};

use crate::CliError;

/// The flags both ends share.
#[derive(Args, Debug, Clone)]
pub struct SecureArgs {
    /// Secure mode, as vidgear's secure_mode: 0 = Grasslands (plain),
    /// 1 = StoneHouse (encrypted; the receiver accepts any client key),
    /// 2 = IronHouse (encrypted; the receiver accepts only the client keys
    /// in public_keys). Needs a build with the `curve` feature
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2), display_order = 800)]
    pub secure_mode: u8,

    /// The key directory, as vidgear's custom_cert_location: the keys are
    /// in DIR/.vidgear/keys/{public_keys,private_keys} (.vidgear is added
    /// unless DIR ends in it; default: the home directory). DIR must exist;
    /// a fresh key set is written there when it holds none
    #[arg(long, value_name = "DIR", display_order = 801)]
    pub cert_dir: Option<PathBuf>,
}

/// `netgear send`'s secure-mode flags.
#[derive(Args, Debug, Clone)]
pub struct SendSecureArgs {
    #[command(flatten)]
    pub secure: SecureArgs,

    /// Write a fresh server and client key set before connecting (vidgear's
    /// overwrite_cert, which only a sender honours); the receiver needs the
    /// new keys too
    #[arg(long, display_order = 802)]
    pub overwrite_cert: bool,
}

/// `netgear receive`'s secure-mode flags.
#[derive(Args, Debug, Clone)]
pub struct ReceiveSecureArgs {
    #[command(flatten)]
    pub secure: SecureArgs,

    /// Let in only peers at this IP address (repeatable; default: any
    /// address; spec/07 §7.18 says how vidgear differs)
    #[arg(long, value_name = "IP", display_order = 802)]
    pub allow_address: Vec<String>,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("secure mode cannot be set up: {e}"))
}

impl SecureArgs {
    /// The key directory, ready (generated when empty or when `overwrite`),
    /// or `None` in plain mode; `extra` names a secure-only flag given.
    fn prepare(&self, overwrite: bool, extra: Option<&str>) -> Result<Option<KeyDir>, CliError> {
        if self.secure_mode == 0 {
            let flag = self.cert_dir.as_ref().map(|_| "--cert-dir").or(extra);
            return match flag {
                Some(flag) => Err(CliError::Usage(format!(
                    "{flag} needs --secure-mode 1 or 2"
                ))),
                None => Ok(None),
            };
        }
        if !curve_available() {
            return Err(usage(SecurityError::NoCurve));
        }
        let dir = match &self.cert_dir {
            Some(dir) => KeyDir::new(dir),
            None => KeyDir::home().map_err(usage)?,
        };
        if dir.prepare(overwrite).map_err(usage)? == Prepared::Generated {
            eprintln!("netgear: wrote a fresh key set in {}", dir.keys().display());
        }
        Ok(Some(dir))
    }

    fn house(&self) -> &'static str {
        if self.secure_mode == 2 {
            "IronHouse"
        } else {
            "StoneHouse"
        }
    }
}

impl SendSecureArgs {
    /// The sender's secure mode, or `None` in plain mode.
    pub fn security(&self) -> Result<Option<ServerSecurity>, CliError> {
        let extra = self.overwrite_cert.then_some("--overwrite-cert");
        let Some(dir) = self.secure.prepare(self.overwrite_cert, extra)? else {
            return Ok(None);
        };
        let security = ServerSecurity::from_dir(&dir).map_err(usage)?;
        tracing::info!(mode = self.secure.house(), keys = %dir.keys().display(), "secure mode");
        Ok(Some(security))
    }
}

impl ReceiveSecureArgs {
    /// The receiver's secure mode, or `None` in plain mode.
    pub fn security(&self) -> Result<Option<ClientSecurity>, CliError> {
        let extra = (!self.allow_address.is_empty()).then_some("--allow-address");
        let Some(dir) = self.secure.prepare(false, extra)? else {
            return Ok(None);
        };
        let security = if self.secure.secure_mode == 2 {
            ClientSecurity::ironhouse_from(&dir)
        } else {
            ClientSecurity::stonehouse_from(&dir)
        };
        let security = self
            .allow_address
            .iter()
            .fold(security.map_err(usage)?, |s, a| s.allow_address(a));
        tracing::info!(
            mode = self.secure.house(),
            keys = %dir.keys().display(),
            allowed_keys = security.allowed_keys().map(|k| k.len()),
            "secure mode"
        );
        Ok(Some(security))
    }
}

/// `netgear keys DIR`.
#[derive(Args, Debug)]
pub struct KeysArgs {
    /// Where to write them, as --cert-dir: the keys go to
    /// DIR/.vidgear/keys/{public_keys,private_keys} (DIR is created if
    /// needed; existing server and client keys there are replaced)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Writes a fresh server and client key set in vidgear's layout and
/// prints where each file went (and the public keys, never the secret ones).
pub fn keys(args: KeysArgs) -> Result<(), CliError> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", args.dir.display())))?;
    let dir = KeyDir::new(&args.dir);
    dir.generate()
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let client_public = dir.public_dir().join("client.key");
    for (what, path) in [
        ("receiver's key pair (secret)", dir.server_secret()),
        ("sender's key pair (secret)", dir.client_secret()),
        ("receiver's public key", dir.server_public()),
        ("sender's public key", client_public),
    ] {
        println!("{}\t{what}", path.display());
    }
    Ok(())
}
