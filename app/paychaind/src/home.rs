//! A node home: CometBFT's config and keys, our genesis `app_state`, and the
//! app's `app.toml` (what `init`, `dev`, `localnet` and the load benchmark
//! create).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use paychain_framework::{Address, Coins};

use crate::cometbft::{self, CometBft, ConfigPatch, TxIndexer};
use paychain_node::config::AppConfig;

/// The fee denom of new chains.
pub const DEFAULT_DENOM: &str = "upay";

/// Everything `init_home` needs; `dev` fills it too.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub moniker: String,
    pub chain_id: String,
    pub denom: String,
    /// CometBFT's RPC listen address: the node's public RPC when `rpc_front` is `None`, else
    /// private, behind the front.
    pub rpc_laddr: String,
    /// Where the node's RPC front listens: the public RPC wallets and relayers use. It answers
    /// `tx`, `tx_search` and `block_search` from the node's own index and passes the rest to
    /// CometBFT, whose indexer is then off (`null`). `None`: CometBFT serves RPC itself and
    /// indexes txs (`kv`). See docs/benchmarks.md, "Defaults".
    pub rpc_front: Option<SocketAddr>,
    pub p2p_laddr: String,
    pub abci_address: SocketAddr,
    pub timeout_commit: String,
    pub mempool_size: u32,
    pub minimum_gas_prices: String,
    pub overwrite: bool,
    /// CometBFT's own log filter (None = its default).
    pub cometbft_log_level: Option<String>,
    /// Accounts funded in genesis.
    pub accounts: Vec<(Address, Coins)>,
    /// The chain authority named in genesis (None: set later with `genesis set-authority`).
    pub authority: Option<Address>,
}

// The client checks `--chain-id` with the same rule.
pub use paychain_client::validate_chain_id;

/// Checks a moniker (the SDK allows 70 characters).
pub fn validate_moniker(m: &str) -> anyhow::Result<()> {
    if m.trim().is_empty() || m.chars().count() > 70 || m.chars().any(char::is_control) {
        bail!("invalid moniker {m:?}: use 1-70 characters, no control characters");
    }
    Ok(())
}

/// Checks a CometBFT listen address: `tcp://HOST:PORT` (port 1-65535) or `unix://PATH`.
pub fn validate_laddr(flag: &str, addr: &str) -> anyhow::Result<()> {
    let bad = || anyhow!("invalid {flag} {addr:?}: expected tcp://HOST:PORT or unix:///path");
    if let Some(path) = addr.strip_prefix("unix://") {
        return if path.is_empty() { Err(bad()) } else { Ok(()) };
    }
    let hostport = addr.strip_prefix("tcp://").ok_or_else(bad)?;
    let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(())
}

impl InitOptions {
    fn validate(&self) -> anyhow::Result<()> {
        validate_moniker(&self.moniker)?;
        validate_chain_id(&self.chain_id)?;
        paychain_framework::coins::validate_denom(&self.denom).map_err(|e| anyhow!("--denom: {}", e.log))?;
        let comet_flag = if self.rpc_front.is_some() { "--cometbft-rpc-laddr" } else { "--rpc-laddr" };
        validate_laddr(comet_flag, &self.rpc_laddr)?;
        validate_laddr("--p2p-laddr", &self.p2p_laddr)?;
        if let Some(front) = self.rpc_front {
            let comet = cometbft_rpc_url(&self.rpc_laddr)?;
            if comet.ends_with(&format!(":{}", front.port())) {
                bail!("the RPC front ({front}) and CometBFT's RPC ({}) need different ports", self.rpc_laddr);
            }
        }
        if self.abci_address.port() == 0 {
            bail!("--abci-address needs a port");
        }
        cometbft::validate_go_duration(&self.timeout_commit).map_err(|e| anyhow!("--timeout-commit: {e}"))?;
        if self.mempool_size == 0 {
            bail!("--mempool-size must be positive");
        }
        paychain_tx::fees::parse_gas_prices(&self.minimum_gas_prices)
            .map_err(|e| anyhow!("--minimum-gas-prices {:?}: {}", self.minimum_gas_prices, e.log))?;
        Ok(())
    }
}

/// The files whose presence means a home is initialized.
fn existing_config_files(home: &Path) -> Vec<PathBuf> {
    [cometbft::config_toml_path(home), cometbft::genesis_path(home), AppConfig::path(home)]
        .into_iter()
        .filter(|p| p.exists())
        .collect()
}

/// Creates a node home (see the module docs). Refuses an initialized home
/// unless `overwrite`.
pub fn init_home(comet: &CometBft, home: &Path, opts: &InitOptions) -> anyhow::Result<()> {
    opts.validate()?;
    let existing = existing_config_files(home);
    if !existing.is_empty() {
        if !opts.overwrite {
            bail!(
                "{} is already initialized ({} exists); use --overwrite to replace it, or another --home",
                home.display(),
                existing[0].display()
            );
        }
        for f in &existing {
            std::fs::remove_file(f).with_context(|| format!("removing {}", f.display()))?;
        }
        // Blocks and app state of the old chain would not match the new genesis.
        let data = home.join("data");
        if data.exists() {
            std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
        }
        // `cometbft init` keeps an existing validator key but then needs its
        // signing state; a new chain starts it from zero (as `unsafe-reset-all`).
        if home.join("config").join("priv_validator_key.json").exists() {
            paychain_client::keyring::write_private_file(
                &data,
                &data.join("priv_validator_state.json"),
                b"{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}",
            )?;
        }
    }
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    comet.init(home)?;

    cometbft::patch_config_file(
        home,
        &ConfigPatch {
            moniker: Some(opts.moniker.clone()),
            proxy_app: Some(format!("tcp://{}", opts.abci_address)),
            rpc_laddr: Some(opts.rpc_laddr.clone()),
            p2p_laddr: Some(opts.p2p_laddr.clone()),
            timeout_commit: Some(opts.timeout_commit.clone()),
            mempool_size: Some(opts.mempool_size),
            log_level: opts.cometbft_log_level.clone(),
            wallet_defaults: true,
            tx_indexer: Some(if opts.rpc_front.is_some() { TxIndexer::Null } else { TxIndexer::Kv }),
            extra: Vec::new(),
        },
    )?;

    let genesis_path = cometbft::genesis_path(home);
    let text = std::fs::read_to_string(&genesis_path).with_context(|| format!("reading {}", genesis_path.display()))?;
    let mut genesis: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", genesis_path.display()))?;
    shape_genesis(&mut genesis, &opts.chain_id, &opts.denom)?;
    for (address, coins) in &opts.accounts {
        crate::genesis_file::add_genesis_account(&mut genesis, address, coins)?;
    }
    if let Some(a) = &opts.authority {
        crate::genesis_file::set_genesis_authority(&mut genesis, a)?;
    }
    crate::genesis_file::write_genesis(&genesis_path, &genesis)?;

    let mut config = AppConfig {
        abci_address: opts.abci_address,
        minimum_gas_prices: opts.minimum_gas_prices.clone(),
        mempool_max_txs: paychain_app::mempool::max_txs_for_cometbft_size(opts.mempool_size),
        ..Default::default()
    };
    set_rpc_layout(&mut config, &opts.rpc_laddr, opts.rpc_front)?;
    config.save(home)?;

    paychain_app::genesis::validate_genesis_file(&genesis_path)
        .map_err(|e| anyhow!("internal error: the generated genesis does not validate: {e:#}"))?;
    Ok(())
}

/// The URL the app reaches CometBFT's RPC at, from CometBFT's `[rpc] laddr`: a TCP address
/// (an unspecified host such as 0.0.0.0 is reached on loopback); a unix socket has none.
pub fn cometbft_rpc_url(laddr: &str) -> anyhow::Result<String> {
    let hostport = laddr.strip_prefix("tcp://").ok_or_else(|| {
        anyhow!("CometBFT's RPC {laddr:?}: the app and the RPC front reach it over TCP; use tcp://HOST:PORT")
    })?;
    let (host, port) = hostport.rsplit_once(':').ok_or_else(|| anyhow!("CometBFT's RPC {laddr:?} has no port"))?;
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "[::]" => "[::1]",
        h => h,
    };
    Ok(format!("http://{host}:{port}"))
}

/// The RPC ports of a node on loopback (`dev`, `localnet`): the node's RPC on `rpc`, served by
/// the front with CometBFT's own RPC behind it on `cometbft_rpc`, or, with `cometbft_rpc` 0,
/// by CometBFT itself (no front).
#[derive(Clone, Copy, Debug)]
pub struct LoopbackRpc {
    pub rpc: u16,
    pub cometbft_rpc: u16,
}

impl LoopbackRpc {
    /// Where the front listens, if it runs.
    pub fn front(self) -> Option<SocketAddr> {
        (self.cometbft_rpc != 0).then(|| SocketAddr::from(([127, 0, 0, 1], self.rpc)))
    }

    /// CometBFT's own RPC port.
    pub fn cometbft_port(self) -> u16 {
        if self.cometbft_rpc == 0 {
            self.rpc
        } else {
            self.cometbft_rpc
        }
    }

    /// CometBFT's `[rpc] laddr`.
    pub fn cometbft_laddr(self) -> String {
        format!("tcp://127.0.0.1:{}", self.cometbft_port())
    }
}

/// Points the app at CometBFT's RPC (`cometbft_rpc`) and, with `front`, serves the node's
/// public RPC from the front over the node's own index (`rpc_front_address`, `tx_index`).
/// Without it, the front is off and the node's index is left as configured.
pub fn set_rpc_layout(config: &mut AppConfig, cometbft_laddr: &str, front: Option<SocketAddr>) -> anyhow::Result<()> {
    match cometbft_rpc_url(cometbft_laddr) {
        Ok(url) => config.cometbft_rpc = url,
        // A unix socket: the app's own services need an http:// URL set by hand.
        Err(e) if front.is_some() => return Err(e),
        Err(_) => {}
    }
    config.rpc_front_address = front.map(|a| a.to_string()).unwrap_or_default();
    // The front answers from the node's own index.
    config.tx_index = config.tx_index || front.is_some();
    Ok(())
}

/// Turns CometBFT's fresh genesis into ours: chain id, initial height, app_state, and
/// consensus params with no block gas limit (-1; fees and per-tx gas limits
/// bound blocks; cosmpy's auto gas needs `max_gas` present).
pub fn shape_genesis(genesis: &mut serde_json::Value, chain_id: &str, denom: &str) -> anyhow::Result<()> {
    let obj = genesis.as_object_mut().ok_or_else(|| anyhow!("genesis.json is not a JSON object"))?;
    obj.insert("chain_id".into(), chain_id.into());
    // CometBFT writes "0", which it reads as 1; say 1 so every tool agrees.
    obj.insert("initial_height".into(), "1".into());
    obj.insert("app_state".into(), paychain_app::genesis::default_app_state(denom));
    let params = obj.entry("consensus_params").or_insert_with(|| serde_json::json!({}));
    let params = params.as_object_mut().ok_or_else(|| anyhow!("genesis consensus_params is not an object"))?;
    let block = params.entry("block").or_insert_with(|| serde_json::json!({"max_bytes": "22020096"}));
    let block = block.as_object_mut().ok_or_else(|| anyhow!("genesis consensus_params.block is not an object"))?;
    block.insert("max_gas".into(), "-1".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_reaches_cometbfts_rpc_where_it_listens() {
        assert_eq!(cometbft_rpc_url("tcp://127.0.0.1:26667").unwrap(), "http://127.0.0.1:26667");
        assert_eq!(cometbft_rpc_url("tcp://0.0.0.0:26657").unwrap(), "http://127.0.0.1:26657");
        assert_eq!(cometbft_rpc_url("tcp://[::]:1").unwrap(), "http://[::1]:1");
        assert!(cometbft_rpc_url("unix:///tmp/rpc.sock").is_err());

        let front: SocketAddr = "127.0.0.1:26657".parse().unwrap();
        let mut config = AppConfig::default();
        set_rpc_layout(&mut config, "tcp://127.0.0.1:26667", Some(front)).unwrap();
        assert_eq!(
            (config.cometbft_rpc.as_str(), config.rpc_front_address.as_str(), config.tx_index),
            ("http://127.0.0.1:26667", "127.0.0.1:26657", true)
        );
        config.validate().unwrap();
        // No front: CometBFT's RPC is the public one; the node's index stays as it was.
        set_rpc_layout(&mut config, "tcp://127.0.0.1:30000", None).unwrap();
        assert_eq!(
            (config.cometbft_rpc.as_str(), config.rpc_front_address.as_str(), config.tx_index),
            ("http://127.0.0.1:30000", "", true)
        );
        // The front must reach CometBFT over TCP; without it a unix socket keeps the URL as set.
        assert!(set_rpc_layout(&mut config, "unix:///tmp/rpc.sock", Some(front)).is_err());
        set_rpc_layout(&mut config, "unix:///tmp/rpc.sock", None).unwrap();
        assert_eq!(config.cometbft_rpc, "http://127.0.0.1:30000");
    }

    #[test]
    fn flags_are_validated() {
        validate_chain_id("paychain-1").unwrap();
        assert!(validate_chain_id("").is_err());
        assert!(validate_chain_id("has space").is_err());
        assert!(validate_chain_id("a/b").is_err());
        assert!(validate_chain_id(&"x".repeat(51)).is_err());
        validate_moniker("node 0").unwrap();
        assert!(validate_moniker(" ").is_err());
        validate_laddr("--rpc-laddr", "tcp://127.0.0.1:26657").unwrap();
        validate_laddr("--rpc-laddr", "tcp://[::1]:26657").unwrap();
        validate_laddr("--rpc-laddr", "unix:///tmp/x.sock").unwrap();
        for bad in ["127.0.0.1:26657", "tcp://127.0.0.1", "tcp://:1", "tcp://h:0", "tcp://h:99999", "http://h:1"] {
            assert!(validate_laddr("--rpc-laddr", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn genesis_is_shaped() {
        let mut g = serde_json::json!({
            "genesis_time": "2024-01-01T00:00:00Z",
            "chain_id": "test-chain-x",
            "consensus_params": {"block": {"max_bytes": "22020096", "max_gas": "10"}},
            "validators": [],
        });
        shape_genesis(&mut g, "paychain-7", "upay").unwrap();
        assert_eq!(g["chain_id"], "paychain-7");
        assert_eq!(g["initial_height"], "1");
        assert_eq!(g["consensus_params"]["block"]["max_gas"], "-1");
        assert_eq!(g["consensus_params"]["block"]["max_bytes"], "22020096");
        assert_eq!(g["app_state"], paychain_app::genesis::default_app_state("upay"));
        assert!(shape_genesis(&mut serde_json::json!([]), "x", "upay").is_err());
    }
}
