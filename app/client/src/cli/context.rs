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
    /// Every module's [`super::ModuleCli::prepare_tx`], run on each tx before it is signed.
    pub tx_preparers: Vec<TxPreparer>,
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

/// Flags every transaction takes.
#[derive(Args, Debug, Clone)]
pub struct TxFlags {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Fee to pay, e.g. 5000upay
    #[arg(long, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Gas price to pay, e.g. 0.025upay (fee = ceil(gas × price))
    #[arg(long)]
    pub gas_prices: Option<String>,
    /// Gas limit, or `auto` to simulate first
    #[arg(long, default_value = "200000")]
    pub gas: String,
    /// Multiplier on the simulated gas with --gas auto
    #[arg(long, default_value_t = crate::DEFAULT_GAS_ADJUSTMENT)]
    pub gas_adjustment: f64,
    /// Note attached to the tx
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Chain id to sign for [default: the node's]
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Block height after which the tx is no longer valid (0 = none)
    #[arg(long, default_value_t = 0)]
    pub timeout_height: u64,
    /// Account number to sign with (skips the lookup when given with --sequence)
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Sequence to sign with [default: the account's]
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Skip the confirmation prompt
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Wait until the tx is committed and print its result
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait_timeout: u64,
    /// Plan the tx (account lookup, gas, fee) and print it without signing or broadcasting
    #[arg(long)]
    pub dry_run: bool,
    /// Print the unsigned tx as JSON (the SDK's document for `tx sign`/`tx multisign`) and exit;
    /// FROM may be an offline multisig key or any address
    #[arg(long, conflicts_with = "dry_run")]
    pub generate_only: bool,
    /// Attach a travel-rule record: FILE is the IVMS 101 payload (JSON), checked for the
    /// originator, beneficiary and both VASPs and hashed canonically; only the hash and the
    /// VASP identifiers go on chain (an IBC transfer also carries them in its memo)
    #[arg(long, value_name = "FILE")]
    pub travel_rule: Option<std::path::PathBuf>,
    /// The originating VASP's identifier (e.g. LEI:5493...) [default: the payload's
    /// originatingVASP national identifier]
    #[arg(long, requires = "travel_rule")]
    pub originator_vasp: Option<String>,
    /// The beneficiary VASP's identifier [default: the payload's beneficiaryVASP national identifier]
    #[arg(long, requires = "travel_rule")]
    pub beneficiary_vasp: Option<String>,
    /// Where the beneficiary VASP fetches the (encrypted) payload
    #[arg(long, requires = "travel_rule", value_name = "URL")]
    pub travel_rule_locator: Option<String>,
}

/// A module's [`super::ModuleCli::prepare_tx`].
pub type TxPreparer = fn(&TxFlags, &mut [cosmos_sdk_proto::Any]) -> anyhow::Result<Vec<cosmos_sdk_proto::Any>>;
