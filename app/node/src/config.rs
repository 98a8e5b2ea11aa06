//! The app's own configuration file, `<home>/config/app.toml`.
//! CometBFT's `config.toml` sits beside it and is CometBFT's business.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use paychain_app::{AppOptions, SnapshotOptions};
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
    /// Most txs this node's CheckTx lets wait for a block at once; new txs beyond it are refused
    /// with the SDK's retryable "mempool is full" (code 20) instead of being dropped by CometBFT
    /// after they were accepted. Keep it below CometBFT's `mempool.size` by the txs that can
    /// arrive at once (`init` writes `size - max(size/10, 1000)`); 0 = no limit.
    pub mempool_max_txs: usize,
    /// Under sustained overload, lower `mempool_max_txs` so that about this many milliseconds of
    /// what recent blocks took may wait (never below 2,000 txs): a tx is then either refused at
    /// once (retryable "mempool is full") or committed within about this long, instead of
    /// queueing for many seconds. 0 = the fixed limit only.
    pub mempool_max_wait_ms: u64,
    /// Run each block's messages speculatively on a second thread ahead of the in-order pass,
    /// so the state they read is cached when their turn comes. Speed only: blocks and app hashes
    /// are the same either way (turn it off on a one-core machine).
    pub read_ahead: bool,
    /// Log filter (`error`, `warn`, `info`, `debug`, or a tracing filter string).
    pub log_level: String,
    /// Log line format on stderr: `text` (for people) or `json` (one object per line, for log shippers).
    pub log_format: LogFormat,
    /// gRPC server (the SDK's query and tx services), e.g. `127.0.0.1:9090`; empty = off.
    pub grpc_address: String,
    /// REST server (the SDK's LCD paths, proto3 JSON), e.g. `127.0.0.1:1317`; empty = off.
    pub rest_address: String,
    /// Origins browsers may call the REST server from (`*` = any).
    pub rest_cors_allowed_origins: Vec<String>,
    /// CometBFT's RPC, for the services that need blocks, txs and broadcast.
    pub cometbft_rpc: String,
    /// The node's RPC endpoint in front of CometBFT's, e.g. `127.0.0.1:26667`; empty = off. It
    /// answers `tx`, `tx_search` and `block_search` from this node's index (`tx_index`) and
    /// passes every other call, and websocket connections, to `cometbft_rpc` (see
    /// `rpc_front`): point wallets and relayers here and CometBFT's own indexer can be off.
    pub rpc_front_address: String,
    /// Prometheus metrics (`GET /metrics`), e.g. `127.0.0.1:26661`; empty = off.
    /// Not 26660: that is CometBFT's own `prometheus_listen_addr` default.
    pub metrics_address: String,
    /// The node stops (and refuses to start) when the disk holding its state has less than
    /// this many MiB free (0 = no check): RocksDB failing mid-write is avoided by stopping
    /// first, with a clear message. Room for a few memtable flushes, not for every compaction.
    pub min_free_disk_mb: u64,
    /// Take a state-sync snapshot after committing every height that is a multiple of this
    /// (0 = off, the default: each snapshot costs a full state read and disk space, so only
    /// nodes meant to serve state sync opt in, as with the SDK's `snapshot-interval`).
    pub snapshot_interval: u64,
    /// How many of the newest snapshots to keep (at least 1).
    pub snapshot_keep_recent: u32,
    /// Snapshot chunk size in bytes. Every node serving a snapshot must use the same value to
    /// produce byte-identical chunks; CometBFT caps a chunk message at 16 MB.
    pub snapshot_chunk_bytes: usize,
    /// Which event attributes of block results CometBFT's tx indexer indexes (`tx_search`):
    /// `type.key` (e.g. `message.sender`) or `type` for all its keys; empty = every attribute,
    /// the SDK's default (its `index-events`). CometBFT always indexes `tx.hash` and
    /// `tx.height`. Node-local: the index flag is in no hash, so nodes may differ. Indexing is
    /// CometBFT's largest cost under load (docs/benchmarks.md); a query for a key left out finds
    /// nothing, so keep what wallets and relayers search (Hermes: the IBC packet events).
    pub index_events: Vec<String>,
    /// Index every block's txs in this node's own tx index (`paychain-txindex`), written in the
    /// block's atomic commit (with the block's own events), and answer GetTx, GetTxsEvent and
    /// (through `rpc_front_address`) CometBFT's `tx`, `tx_search` and `block_search` from it,
    /// so CometBFT's own indexer can be off. `false`,
    /// the default: those queries go to CometBFT's indexer, which must then be on (running both
    /// would pay for two indexes). The index holds the blocks committed while it is on: turned on
    /// for a running chain, it does not know the txs before, and GetTx and `tx` ask CometBFT's
    /// index for a hash it lacks (found while that indexer is on). Node-local.
    pub tx_index: bool,
    /// This node's own risk service, consulted for each tx new to its mempool (CheckTx only,
    /// never for blocks: see [`crate::risk`]), e.g. `http://127.0.0.1:7070/screen`; empty = off,
    /// the default. Plain `http://` only (a local or private-network service); the host is
    /// resolved once, when the node starts.
    pub risk_service_url: String,
    /// Hard limit on one call to the risk service (connect, send, answer), in ms: 1..=10000.
    /// CheckTx waits for it, one tx at a time, so keep it small.
    pub risk_service_timeout_ms: u64,
    /// On a timeout, an unreachable service or an answer that is not a decision: admit the tx
    /// (`true`, the default) or refuse it (`false`, "fail closed").
    pub risk_service_fail_open: bool,
    /// The decision log: one JSON line per screened tx, appended. Empty =
    /// `<home>/data/risk_decisions.jsonl`; a relative path is relative to the home.
    pub risk_service_log: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for AppConfig {
    fn default() -> Self {
        // The state machine's own defaults, so the two cannot disagree.
        let app = AppOptions::default();
        Self {
            abci_address: "127.0.0.1:26658".parse().expect("static address"),
            minimum_gas_prices: String::new(),
            state_retention: app.state_retention,
            max_tx_bytes: app.max_tx_bytes,
            // For CometBFT's default mempool.size.
            mempool_max_txs: paychain_app::mempool::max_txs_for_cometbft_size(5_000),
            mempool_max_wait_ms: 1_500,
            read_ahead: app.read_ahead,
            index_events: Vec::new(),
            tx_index: false,
            log_level: "info".to_string(),
            log_format: LogFormat::Text,
            grpc_address: "127.0.0.1:9090".to_string(),
            rest_address: "127.0.0.1:1317".to_string(),
            rest_cors_allowed_origins: vec!["*".to_string()],
            cometbft_rpc: "http://127.0.0.1:26657".to_string(),
            rpc_front_address: String::new(),
            metrics_address: "127.0.0.1:26661".to_string(),
            min_free_disk_mb: 256,
            snapshot_interval: app.snapshots.interval,
            snapshot_keep_recent: app.snapshots.keep_recent,
            snapshot_chunk_bytes: app.snapshots.chunk_bytes,
            risk_service_url: String::new(),
            risk_service_timeout_ms: 20,
            risk_service_fail_open: true,
            risk_service_log: String::new(),
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

    /// What the state machine takes from this file.
    pub fn app_options(&self) -> AppOptions {
        AppOptions {
            minimum_gas_prices: self.minimum_gas_prices.clone(),
            state_retention: self.state_retention,
            max_tx_bytes: self.max_tx_bytes,
            mempool_max_txs: self.mempool_max_txs,
            mempool_max_wait: (self.mempool_max_wait_ms > 0)
                .then(|| std::time::Duration::from_millis(self.mempool_max_wait_ms)),
            read_ahead: self.read_ahead,
            snapshots: SnapshotOptions {
                interval: self.snapshot_interval,
                keep_recent: self.snapshot_keep_recent,
                chunk_bytes: self.snapshot_chunk_bytes,
            },
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        paychain_tx::fees::parse_gas_prices(&self.minimum_gas_prices)
            .map_err(|e| anyhow::anyhow!("minimum_gas_prices: {e}"))?;
        if self.max_tx_bytes == 0 {
            bail!("max_tx_bytes: must be positive");
        }
        self.grpc_socket().map_err(|e| anyhow::anyhow!("grpc_address: {e}"))?;
        self.rest_socket().map_err(|e| anyhow::anyhow!("rest_address: {e}"))?;
        self.metrics_socket().map_err(|e| anyhow::anyhow!("metrics_address: {e}"))?;
        if self.rpc_front_socket().map_err(|e| anyhow::anyhow!("rpc_front_address: {e}"))?.is_some() && !self.tx_index {
            bail!("rpc_front_address: the RPC front answers tx, tx_search and block_search from the node's index: set tx_index = true");
        }
        if !(self.cometbft_rpc.starts_with("http://") || self.cometbft_rpc.starts_with("https://")) {
            bail!("cometbft_rpc: {:?} must be an http:// or https:// URL", self.cometbft_rpc);
        }
        paychain_app::snapshot::validate_options(&self.app_options().snapshots)?;
        for e in &self.index_events {
            // Any event type or `type.key` (types may have dots of their own, as typed events do);
            // nothing a CometBFT query could not name.
            let valid = !e.is_empty() && !e.split('.').any(str::is_empty);
            if !valid || e.chars().any(|c| c.is_whitespace() || c == '\'' || c == '=') {
                bail!("index_events: {e:?} is not `type` or `type.key` (e.g. message.sender)");
            }
        }
        self.risk_service().map_err(|e| anyhow::anyhow!("risk_service_url: {e}"))?;
        if !(1..=10_000).contains(&self.risk_service_timeout_ms) {
            bail!("risk_service_timeout_ms: {} must be between 1 and 10000", self.risk_service_timeout_ms);
        }
        Ok(())
    }

    /// The risk service's URL, `None` when screening is off.
    pub fn risk_service(&self) -> anyhow::Result<Option<url::Url>> {
        let s = self.risk_service_url.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let url = url::Url::parse(s).map_err(|e| anyhow::anyhow!("{s:?} is not a URL ({e})"))?;
        // TLS would add a handshake to a budget of milliseconds; the service is meant to sit beside the node.
        if url.scheme() != "http" {
            bail!("{s:?} must be an http:// URL (like http://127.0.0.1:7070/screen)");
        }
        if url.host_str().is_none_or(str::is_empty) {
            bail!("{s:?} has no host");
        }
        Ok(Some(url))
    }

    /// The risk decision log's path (see [`AppConfig::risk_service_log`]).
    pub fn risk_log_path(&self, home: &Path) -> PathBuf {
        match self.risk_service_log.trim() {
            "" => home.join("data").join("risk_decisions.jsonl"),
            p => home.join(p),
        }
    }

    /// The gRPC listen address, `None` when disabled.
    pub fn grpc_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.grpc_address)
    }

    /// The REST listen address, `None` when disabled.
    pub fn rest_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.rest_address)
    }

    /// The RPC front's listen address, `None` when disabled.
    pub fn rpc_front_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.rpc_front_address)
    }

    /// The metrics listen address, `None` when disabled.
    pub fn metrics_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        parse_optional_socket(&self.metrics_address)
    }

    /// Where the app's RocksDB lives.
    pub fn db_path(home: &Path) -> PathBuf {
        home.join("data").join("application.db")
    }

    /// Where state-sync snapshots live (what [`paychain_app::app::App::open`] derives from `db_path`).
    pub fn snapshot_dir(home: &Path) -> PathBuf {
        home.join("data").join("snapshots")
    }
}

fn parse_optional_socket(s: &str) -> anyhow::Result<Option<SocketAddr>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|e| anyhow::anyhow!("{s:?} is not an address like 127.0.0.1:9090 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_toml_from_before_the_observability_settings_still_loads() {
        let old = "abci_address = \"127.0.0.1:26658\"\nlog_level = \"info\"\ngrpc_address = \"\"\n";
        let cfg: AppConfig = toml::from_str(old).unwrap();
        assert_eq!(cfg.log_format, LogFormat::Text);
        assert_eq!(cfg.metrics_socket().unwrap(), Some("127.0.0.1:26661".parse().unwrap()));
        assert_eq!(cfg.min_free_disk_mb, 256);
        cfg.validate().unwrap();
    }

    #[test]
    fn observability_settings_round_trip_and_are_validated() {
        let cfg = AppConfig {
            log_format: LogFormat::Json,
            metrics_address: String::new(),
            min_free_disk_mb: 0,
            ..Default::default()
        };
        let text = toml::to_string_pretty(&cfg).unwrap();
        assert!(text.contains("log_format = \"json\""), "{text}");
        let back: AppConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(back.metrics_socket().unwrap(), None, "empty = off");

        let bad: AppConfig = toml::from_str("metrics_address = \"localhost\"").unwrap();
        assert!(format!("{:#}", bad.validate().unwrap_err()).contains("metrics_address"));
        assert!(toml::from_str::<AppConfig>("log_format = \"xml\"").is_err());
    }

    #[test]
    fn snapshot_settings_are_validated_and_read_from_app_toml() {
        let ok = AppConfig::default();
        assert_eq!((ok.snapshot_interval, ok.snapshot_keep_recent, ok.snapshot_chunk_bytes), (0, 2, 4 << 20));
        ok.validate().unwrap();
        for bad in [
            AppConfig { snapshot_chunk_bytes: paychain_app::snapshot::MIN_CHUNK_BYTES - 1, ..AppConfig::default() },
            AppConfig { snapshot_chunk_bytes: paychain_app::snapshot::MAX_CHUNK_BYTES + 1, ..AppConfig::default() },
            AppConfig { snapshot_keep_recent: 0, ..AppConfig::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let home = tempfile::tempdir().unwrap();
        let cfg = AppConfig { snapshot_interval: 500, snapshot_chunk_bytes: 1 << 20, ..AppConfig::default() };
        cfg.save(home.path()).unwrap();
        let loaded = AppConfig::load(home.path()).unwrap();
        assert_eq!(loaded, cfg);
        assert_eq!(
            loaded.app_options().snapshots,
            paychain_app::SnapshotOptions { interval: 500, keep_recent: 2, chunk_bytes: 1 << 20 }
        );
    }

    #[test]
    fn the_rpc_front_needs_the_nodes_tx_index() {
        let cfg: AppConfig = toml::from_str("tx_index = true\nrpc_front_address = \"127.0.0.1:26667\"\n").unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.rpc_front_socket().unwrap(), Some("127.0.0.1:26667".parse().unwrap()));
        let default = AppConfig::default();
        assert!(!default.tx_index && default.rpc_front_socket().unwrap().is_none(), "both off by default");
        let without = AppConfig { tx_index: false, ..cfg.clone() };
        assert!(without.validate().unwrap_err().to_string().contains("tx_index = true"));
        let bad = AppConfig { rpc_front_address: "localhost".into(), ..cfg };
        assert!(bad.validate().unwrap_err().to_string().contains("rpc_front_address"));
    }

    #[test]
    fn index_events_are_read_from_app_toml_and_validated() {
        let cfg: AppConfig = toml::from_str("index_events = [\"message.sender\", \"send_packet\"]\n").unwrap();
        assert_eq!(cfg.index_events, ["message.sender", "send_packet"]);
        cfg.validate().unwrap();
        assert!(AppConfig::default().index_events.is_empty(), "every attribute by default, as the SDK");
        let typed =
            AppConfig { index_events: vec!["paychain.escrow.v1.EventCreated.id".into()], ..AppConfig::default() };
        typed.validate().unwrap();
        for bad in ["", "message.", ".sender", "a..b", "message.sender='x'", "tx hash"] {
            let cfg = AppConfig { index_events: vec![bad.to_string()], ..AppConfig::default() };
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains("index_events"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn risk_screening_is_off_by_default_and_an_old_app_toml_still_loads() {
        let old: AppConfig = toml::from_str("abci_address = \"127.0.0.1:26658\"\nindex_events = []\n").unwrap();
        assert_eq!(old.risk_service().unwrap(), None);
        assert_eq!((old.risk_service_timeout_ms, old.risk_service_fail_open), (20, true));
        old.validate().unwrap();
        let home = Path::new("/h");
        assert_eq!(old.risk_log_path(home), Path::new("/h/data/risk_decisions.jsonl"));
    }

    #[test]
    fn risk_settings_are_read_from_app_toml_and_validated() {
        let text = "risk_service_url = \"http://127.0.0.1:7070/screen\"\nrisk_service_timeout_ms = 50\n\
                    risk_service_fail_open = false\nrisk_service_log = \"logs/risk.jsonl\"\n";
        let cfg: AppConfig = toml::from_str(text).unwrap();
        cfg.validate().unwrap();
        let url = cfg.risk_service().unwrap().unwrap();
        assert_eq!((url.host_str(), url.port(), url.path()), (Some("127.0.0.1"), Some(7070), "/screen"));
        assert!(!cfg.risk_service_fail_open);
        assert_eq!(cfg.risk_log_path(Path::new("/h")), Path::new("/h/logs/risk.jsonl"));
        let abs = AppConfig { risk_service_log: "/var/log/risk.jsonl".into(), ..cfg.clone() };
        assert_eq!(abs.risk_log_path(Path::new("/h")), Path::new("/var/log/risk.jsonl"));
        // What `save` writes loads back the same.
        let back: AppConfig = toml::from_str(&toml::to_string_pretty(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);

        for (url, why) in [
            ("https://risk.example/screen", "http://"),
            ("127.0.0.1:7070", "not a URL"),
            ("localhost:7070", "http://"),
            ("http://", "not a URL"),
            ("http://127.0.0.1:99999/x", "not a URL"),
            ("not a url", "not a URL"),
        ] {
            let bad = AppConfig { risk_service_url: url.into(), ..AppConfig::default() };
            let err = format!("{:#}", bad.validate().unwrap_err());
            assert!(err.contains("risk_service_url") && err.contains(why), "{url:?}: {err}");
        }
        for ms in [0, 10_001] {
            let bad = AppConfig { risk_service_timeout_ms: ms, ..AppConfig::default() };
            let err = format!("{:#}", bad.validate().unwrap_err());
            assert!(err.contains("risk_service_timeout_ms"), "{ms}: {err}");
        }
        for ms in [1, 10_000] {
            AppConfig { risk_service_timeout_ms: ms, ..AppConfig::default() }.validate().unwrap();
        }
        assert!(toml::from_str::<AppConfig>("risk_service_fail_open = \"yes\"").is_err());
        assert!(toml::from_str::<AppConfig>("risk_service_urls = \"http://a\"").is_err(), "unknown keys stay refused");
    }

    #[test]
    fn snapshots_sit_beside_the_node_store() {
        let home = Path::new("/h");
        assert_eq!(paychain_app::snapshot::snapshot_dir_for(&AppConfig::db_path(home)), AppConfig::snapshot_dir(home));
    }
}
