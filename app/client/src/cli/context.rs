//! What every command gets besides its own flags: the home directory and
//! output format ([`Ctx`]), `--node`, the keyring flags, a runtime for the
//! async RPC client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use paychain_framework::AnyTypes;

use super::output::{self, OutputFormat};
use super::prompt;

/// Default CometBFT RPC endpoint of the wallet commands.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";

/// What every command gets besides its own flags.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// `--home`, if given.
    pub home: Option<PathBuf>,
    pub output: OutputFormat,
    /// The messages the binary's modules define, expanded in tx JSON (dry runs, results).
    pub any_types: Arc<AnyTypes>,
}

impl Ctx {
    /// `--home`, or `~/<default_dir>`.
    pub fn home_or(&self, default_dir: &str) -> anyhow::Result<PathBuf> {
        if let Some(h) = &self.home {
            if h.as_os_str().is_empty() {
                anyhow::bail!("--home is empty");
            }
            return Ok(h.clone());
        }
        let base = std::env::var_os("HOME").context("$HOME is not set; pass --home")?;
        Ok(Path::new(&base).join(default_dir))
    }

    /// The node home (`--home`, default `~/.paychain`).
    pub fn home(&self) -> anyhow::Result<PathBuf> {
        self.home_or(".paychain")
    }

    pub fn print(&self, value: &serde_json::Value) {
        output::print(self.output, value);
    }
}

/// `--node`: which CometBFT RPC to talk to.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// CometBFT RPC endpoint
    #[arg(long, env = "PAYCHAIN_NODE", default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
}

impl NodeArgs {
    pub fn client(&self) -> anyhow::Result<crate::NodeClient> {
        crate::NodeClient::new(&self.node)
    }
}

/// Which keyring, and how to unlock it.
#[derive(Args, Debug, Clone)]
pub struct KeyringArgs {
    /// Keyring backend: `file` (encrypted with a passphrase) or `test` (unencrypted, for scripts)
    #[arg(long, env = "PAYCHAIN_KEYRING_BACKEND", default_value = "file", value_parser = parse_backend)]
    pub keyring_backend: crate::keyring::Backend,

    /// File whose first line is the keyring passphrase (else $PAYCHAIN_KEYRING_PASSPHRASE, else a prompt)
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

fn parse_backend(s: &str) -> Result<crate::keyring::Backend, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}

impl KeyringArgs {
    pub fn open(&self, home: &Path) -> crate::keyring::Keyring {
        crate::keyring::Keyring::open(home, self.keyring_backend)
    }

    /// The passphrase to unlock (or, with `confirm`, to create) a key; `None` for the test backend.
    pub fn passphrase(&self, confirm: bool) -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
        if !self.keyring_backend.needs_passphrase() {
            return Ok(None);
        }
        prompt::passphrase(self.passphrase_file.as_deref(), confirm).map(Some)
    }
}

/// A small runtime for the async RPC client (one thread: the CLI does one thing at a time).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")
}

#[derive(Args, Debug)]
pub struct HeightArgs {
    /// Query state at this height [default: latest]
    #[arg(long)]
    pub height: Option<u64>,
}
