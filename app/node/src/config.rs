//! The app's own configuration file, `<home>/config/app.toml`.
//! CometBFT's `config.toml` sits beside it and is CometBFT's business.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// Where CometBFT connects to us (its `proxy_app`).
    pub abci_address: SocketAddr,
    /// Lowest fee per unit of gas CheckTx accepts, e.g. `"0.025upay"` (empty = any fee).
    /// Enforced only for new txs entering this node's mempool, as in the SDK.
    pub minimum_gas_prices: String,
    /// How many recent versions of state stay queryable (0 = keep all).
    pub state_retention: u64,
    /// Largest tx accepted, in bytes.
    pub max_tx_bytes: usize,
    /// Log filter (`error`, `warn`, `info`, `debug`, or a tracing filter string).
    pub log_level: String,
    /// gRPC server (the SDK's query and tx services), e.g. `127.0.0.1:9090`; empty = off.
    pub grpc_address: String,
    /// REST server (the SDK's LCD paths, proto3 JSON), e.g. `127.0.0.1:1317`; empty = off.
    pub rest_address: String,
    /// Origins browsers may call the REST server from (`*` = any).
    pub rest_cors_allowed_origins: Vec<String>,
    /// CometBFT's RPC, for the services that need blocks, txs and broadcast.
    pub cometbft_rpc: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            abci_address: "127.0.0.1:26658".parse().expect("static address"),
            minimum_gas_prices: String::new(),
            state_retention: 100_000,
            max_tx_bytes: 1024 * 1024,
            log_level: "info".to_string(),
            grpc_address: "127.0.0.1:9090".to_string(),
            rest_address: "127.0.0.1:1317".to_string(),
            rest_cors_allowed_origins: vec!["*".to_string()],
            cometbft_rpc: "http://127.0.0.1:26657".to_string(),
        }
    }
}

impl AppConfig {
    pub fn path(home: &Path) -> PathBuf {
        home.join("config").join("app.toml")
    }

    /// Loads `<home>/config/app.toml`, naming the file and field on error.
    pub fn load(home: &Path) -> anyhow::Result<Self> {
        let path = Self::path(home);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: AppConfig = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        cfg.validate().with_context(|| format!("invalid {}", path.display()))?;
        Ok(cfg)
    }

    pub fn save(&self, home: &Path) -> anyhow::Result<()> {
        let path = Self::path(home);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string_pretty(self)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        crate::tx::fees::parse_gas_prices(&self.minimum_gas_prices)
            .map_err(|e| anyhow::anyhow!("minimum_gas_prices: {e}"))?;
        if self.max_tx_bytes == 0 {
            bail!("max_tx_bytes: must be positive");
        }
        self.grpc_socket().map_err(|e| anyhow::anyhow!("grpc_address: {e}"))?;
        self.rest_socket().map_err(|e| anyhow::anyhow!("rest_address: {e}"))?;
        if !(self.cometbft_rpc.starts_with("http://") || self.cometbft_rpc.starts_with("https://")) {
            bail!("cometbft_rpc: {:?} must be an http:// or https:// URL", self.cometbft_rpc);
        }
        Ok(())
    }

    /// The gRPC listen address, `None` when disabled.
    pub fn grpc_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.grpc_address)
    }

    /// The REST listen address, `None` when disabled.
    pub fn rest_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.rest_address)
    }

    /// Where the app's RocksDB lives.
    pub fn db_path(home: &Path) -> PathBuf {
        home.join("data").join("application.db")
    }
}

fn parse_optional_socket(s: &str) -> anyhow::Result<Option<SocketAddr>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|e| anyhow::anyhow!("{s:?} is not an address like 127.0.0.1:9090 ({e})"))
}
