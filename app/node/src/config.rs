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
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            abci_address: "127.0.0.1:26658".parse().expect("static address"),
            minimum_gas_prices: String::new(),
            state_retention: 100_000,
            max_tx_bytes: 1024 * 1024,
            log_level: "info".to_string(),
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
        Ok(())
    }

    /// Where the app's RocksDB lives.
    pub fn db_path(home: &Path) -> PathBuf {
        home.join("data").join("application.db")
    }
}
