//! What the load generator submits to: a single validator it starts itself, a running
//! `paychaind localnet`, or any CometBFT RPC endpoint; and the CometBFT settings each runs with.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use paychain_client::NodeClient;
use paychain_framework::Coins;
use paychain_node::config::AppConfig;
use paychaind::cometbft::{self, ConfigPatch};
use paychaind::home::{init_home, InitOptions};
use paychaind::localnet::{Localnet, FAUCET_MNEMONIC_FILE};
use tendermint_rpc::Client as _;

use super::chain::ChainFormat;
use paychain_bench_app::accounts::{fund_in_app_state, next_account_number, Account};

/// Chain id of the validator the benchmark starts.
pub const SPAWNED_CHAIN_ID: &str = "paychain-bench-load-1";
/// CometBFT's log in the spawned home: startup and one line per block, errors otherwise.
const COMETBFT_LOG_LEVEL: &str = "main:info,state:info,*:error";
/// How long the spawned validator gets to produce its first block.
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long CometBFT gets to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The CometBFT settings a run used, as its config and genesis say.
#[derive(Clone, Debug, Default)]
pub struct CometSettings {
    pub timeout_commit: Option<String>,
    pub timeout_propose: Option<String>,
    pub mempool_size: Option<i64>,
    pub mempool_max_txs_bytes: Option<i64>,
    pub mempool_recheck: Option<bool>,
    pub indexer: Option<String>,
    pub max_block_bytes: Option<String>,
    /// Settings given with `--cometbft-config`, as given.
    pub overrides: Vec<String>,
}

impl CometSettings {
    /// Reads `<home>/config/config.toml` and the genesis' `consensus_params.block.max_bytes`.
    pub fn read(home: &Path) -> anyhow::Result<Self> {
        let path = cometbft::config_toml_path(home);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let config: toml::Table = text.parse().with_context(|| format!("parsing {}", path.display()))?;
        let get = |table: &str, key: &str| config.get(table).and_then(|t| t.get(key)).cloned();
        let genesis = paychaind::genesis_file::read_genesis(&cometbft::genesis_path(home))?;
        Ok(Self {
            timeout_commit: get("consensus", "timeout_commit").and_then(|v| v.as_str().map(str::to_string)),
            timeout_propose: get("consensus", "timeout_propose").and_then(|v| v.as_str().map(str::to_string)),
            mempool_size: get("mempool", "size").and_then(|v| v.as_integer()),
            mempool_max_txs_bytes: get("mempool", "max_txs_bytes").and_then(|v| v.as_integer()),
            mempool_recheck: get("mempool", "recheck").and_then(|v| v.as_bool()),
            indexer: get("tx_index", "indexer").and_then(|v| v.as_str().map(str::to_string)),
            max_block_bytes: block_max_bytes(&genesis).map(str::to_string),
            overrides: Vec::new(),
        })
    }

    /// One line, `key=value` pairs (`?` where unknown).
    pub fn summary(&self) -> String {
        fn show<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map_or_else(|| "?".to_string(), ToString::to_string)
        }
        let mut line = format!(
            "timeout_commit={} timeout_propose={} mempool.size={} mempool.max_txs_bytes={} mempool.recheck={} \
             block.max_bytes={} tx_index={}",
            show(&self.timeout_commit),
            show(&self.timeout_propose),
            show(&self.mempool_size),
            show(&self.mempool_max_txs_bytes),
            show(&self.mempool_recheck),
            show(&self.max_block_bytes),
            show(&self.indexer)
        );
        if !self.overrides.is_empty() {
            line.push_str(&format!(" (set: {})", self.overrides.join(" ")));
        }
        line
    }
}

/// `block.max_bytes` of a genesis: CometBFT's layout (`consensus_params`, paychain) or the Cosmos
/// SDK v0.50's (`consensus.params`, simd).
pub fn block_max_bytes(genesis: &serde_json::Value) -> Option<&str> {
    let params = match genesis.get("consensus_params") {
        Some(p) => p,
        None => &genesis["consensus"]["params"],
    };
    params["block"]["max_bytes"].as_str()
}

/// One `config.toml` setting given on the command line (`TABLE.KEY=VALUE`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigOverride {
    pub table: String,
    pub key: String,
    pub value: OverrideValue,
}

/// A setting's value, typed as it looks: `true`/`false`, an integer, or else a string.
#[derive(Clone, Debug, PartialEq)]
pub enum OverrideValue {
    Bool(bool),
    Integer(i64),
    String(String),
}

impl ConfigOverride {
    pub fn to_patch(&self) -> (String, String, toml_edit::Value) {
        let value = match &self.value {
            OverrideValue::Bool(b) => (*b).into(),
            OverrideValue::Integer(i) => (*i).into(),
            OverrideValue::String(s) => s.as_str().into(),
        };
        (self.table.clone(), self.key.clone(), value)
    }
}

impl std::fmt::Display for ConfigOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match &self.value {
            OverrideValue::Bool(b) => b.to_string(),
            OverrideValue::Integer(i) => i.to_string(),
            OverrideValue::String(s) => s.clone(),
        };
        write!(f, "{}.{}={value}", self.table, self.key)
    }
}

/// Parses `TABLE.KEY=VALUE` (`KEY=VALUE` for a top-level setting).
pub fn parse_config_override(s: &str) -> Result<ConfigOverride, String> {
    let (name, value) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected TABLE.KEY=VALUE"))?;
    let (table, key) = name.rsplit_once('.').unwrap_or(("", name));
    if key.is_empty() {
        return Err(format!("{s:?}: empty setting name"));
    }
    let value = match value {
        "true" => OverrideValue::Bool(true),
        "false" => OverrideValue::Bool(false),
        v => v.parse().map(OverrideValue::Integer).unwrap_or_else(|_| OverrideValue::String(v.to_string())),
    };
    Ok(ConfigOverride { table: table.to_string(), key: key.to_string(), value })
}

/// Settings of the validator the benchmark starts.
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    pub home: Option<PathBuf>,
    pub cometbft: Option<PathBuf>,
    pub timeout_commit: String,
    pub mempool_size: u32,
    pub max_block_bytes: u64,
    pub tx_index: String,
    /// Further `config.toml` settings.
    pub overrides: Vec<ConfigOverride>,
    /// paychain's app.toml `index_events` (empty = every attribute).
    pub index_events: Vec<String>,
    /// paychain's app.toml `tx_index` (the node's own tx index).
    pub node_tx_index: bool,
    /// Serve the node's RPC front and give the load its URL instead of CometBFT's RPC.
    pub via_front: bool,
    /// paychain's app.toml `mempool_max_wait_ms` (`None`: paychaind's default).
    pub mempool_max_wait_ms: Option<u64>,
    /// What each load account holds at genesis.
    pub funds: Coins,
}

/// A single validator on free loopback ports: the app in this process, CometBFT as a child.
/// Dropping it stops CometBFT (SIGTERM, then SIGKILL); if this process dies first, CometBFT
/// gets SIGKILL from the parent-death signal. The app's threads end with the process.
pub struct SpawnedValidator {
    pub home: PathBuf,
    pub rpc_url: String,
    pub settings: CometSettings,
    cometbft: NodeProcess,
    node: paychain_node::node::RunningNode,
    _tmp: Option<tempfile::TempDir>,
}

/// A server this benchmark started (CometBFT, or simd with CometBFT in it), its output in `log`.
pub struct NodeProcess {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl NodeProcess {
    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Spawns `cmd` with stdout and stderr to `log`.
    pub fn spawn(name: &'static str, mut cmd: std::process::Command, log: PathBuf) -> anyhow::Result<Self> {
        let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        Ok(Self { name, child: Some(child), log })
    }

    /// Fails (with the end of its log) if the process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                bail!("{} exited ({status}); the end of {}:\n{}", self.name, self.log.display(), self.log_tail(30));
            }
        }
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Waits until the app behind `rpc_url` has committed block 1 (its height, not CometBFT's:
    /// CometBFT stores a block before the app commits it).
    pub fn wait_first_block(&mut self, rpc_url: &str) -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let client = NodeClient::new(rpc_url)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(info) = rt.block_on(client.http().abci_info()) {
                if info.last_block_height.value() >= 1 {
                    return Ok(());
                }
            }
            self.ensure_running()?;
            super::interrupt::check_interrupted()?;
            if Instant::now() > deadline {
                bail!(
                    "{} made no block within {START_TIMEOUT:?}; the end of {}:\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM, then SIGKILL after a grace period.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `n` distinct free loopback ports (held open together so they differ).
pub fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0))).collect::<Result<_, _>>()?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

impl SpawnedValidator {
    /// Writes a home whose genesis funds `accounts` (account numbers `first..`, returned), starts
    /// the app and CometBFT, and waits until the app has committed the first block. Call from the main thread: the
    /// parent-death signal follows the thread that spawned CometBFT.
    pub fn start(opts: &SpawnOptions, accounts: &[Account]) -> anyhow::Result<(Self, u64)> {
        let comet = cometbft::require(opts.cometbft.as_deref())?;
        let (tmp, home) =
            paychain_bench_app::work_dir::work_dir(opts.home.as_deref(), "--home", "paychain-bench-load", "home")?;
        let ports = free_ports(4)?;
        let loopback = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let rpc_url = format!("http://{}", loopback(ports[0]));
        init_home(
            &comet,
            &home,
            &InitOptions {
                moniker: "paychain-bench".to_string(),
                chain_id: SPAWNED_CHAIN_ID.to_string(),
                denom: "upay".to_string(),
                rpc_laddr: format!("tcp://{}", loopback(ports[0])),
                // The benchmark lays out the front itself (--via-front, --node-tx-index).
                rpc_front: None,
                p2p_laddr: format!("tcp://{}", loopback(ports[1])),
                abci_address: loopback(ports[2]),
                timeout_commit: opts.timeout_commit.clone(),
                mempool_size: opts.mempool_size,
                minimum_gas_prices: String::new(),
                overwrite: false,
                cometbft_log_level: Some(COMETBFT_LOG_LEVEL.to_string()),
                accounts: Vec::new(),
                authority: None,
            },
        )?;
        cometbft::patch_config_file(
            &home,
            &ConfigPatch {
                extra: std::iter::once(("tx_index".into(), "indexer".into(), opts.tx_index.as_str().into()))
                    .chain(opts.overrides.iter().map(ConfigOverride::to_patch))
                    .collect(),
                ..Default::default()
            },
        )?;

        let genesis_path = cometbft::genesis_path(&home);
        let mut genesis = paychaind::genesis_file::read_genesis(&genesis_path)?;
        let first_number = next_account_number(&genesis["app_state"]);
        fund_in_app_state(
            &mut genesis["app_state"],
            accounts,
            first_number,
            &opts.funds,
            &ChainFormat::paychain().prefix,
        );
        genesis["consensus_params"]["block"]["max_bytes"] = opts.max_block_bytes.to_string().into();
        paychaind::genesis_file::write_genesis(&genesis_path, &genesis)?;
        drop(genesis);
        paychain_app::genesis::validate_genesis_file(&genesis_path)
            .map_err(|e| anyhow!("the benchmark's genesis does not validate: {e:#}"))?;

        // Only ABCI: the gRPC, REST and metrics servers would take CPU and ports for nothing.
        let mut config = AppConfig::load(&home)?;
        config.grpc_address = String::new();
        config.rest_address = String::new();
        config.metrics_address = String::new();
        config.cometbft_rpc = rpc_url.clone();
        config.index_events = opts.index_events.clone();
        config.tx_index = opts.node_tx_index;
        if opts.via_front {
            config.rpc_front_address = loopback(ports[3]).to_string();
        }
        if let Some(ms) = opts.mempool_max_wait_ms {
            config.mempool_max_wait_ms = ms;
        }
        config.validate()?;
        config.save(&home)?;
        let mut settings = CometSettings::read(&home)?;
        settings.overrides = opts.overrides.iter().map(ToString::to_string).collect();
        if !opts.index_events.is_empty() {
            settings.overrides.push(format!("app.toml index_events={}", opts.index_events.join(",")));
        }
        settings.overrides.push(format!("app.toml mempool_max_wait_ms={}", config.mempool_max_wait_ms));
        settings.overrides.push(format!("app.toml tx_index={}", config.tx_index));
        if opts.via_front {
            settings.overrides.push(format!("load through the RPC front {}", config.rpc_front_address));
        }
        // Clients call the front when there is one: it passes to CometBFT what it does not answer.
        let rpc_url = if opts.via_front { format!("http://{}", config.rpc_front_address) } else { rpc_url };

        let node = paychain_node::node::start(&home, &config).context("starting the app")?;
        let log = home.join("cometbft.log");
        let cometbft = NodeProcess::spawn("cometbft", comet.start_command(&home), log)?;
        let mut validator = Self { home, rpc_url, settings, cometbft, node, _tmp: tmp };
        validator.cometbft.wait_first_block(&validator.rpc_url)?;
        Ok((validator, first_number))
    }

    /// CometBFT's process.
    pub fn cometbft_pid(&self) -> Option<u32> {
        self.cometbft.pid()
    }

    /// The app, running in this process.
    pub fn app(&self) -> &paychain_app::app::App {
        &self.node.app
    }

    /// Fails (with the end of CometBFT's log) if CometBFT has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        self.cometbft.ensure_running()
    }

    /// Stops CometBFT: SIGTERM, then SIGKILL after a grace period.
    pub fn stop(&mut self) {
        self.cometbft.stop();
    }
}

/// A running localnet: every node's RPC, its chain id, its faucet key and node0's settings.
pub struct LocalnetTarget {
    pub rpc_urls: Vec<String>,
    pub chain_id: String,
    pub validators: usize,
    pub faucet_mnemonic: PathBuf,
    pub settings: CometSettings,
}

impl LocalnetTarget {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let net = Localnet::open(dir)?;
        let running: Vec<_> = net.manifest.nodes.iter().filter(|n| net.pid(n).is_some()).collect();
        ensure!(
            !running.is_empty(),
            "no node of the localnet in {} is running; start it with `localnet/localnet.sh start`",
            dir.display()
        );
        let first = net.home(running[0]);
        Ok(Self {
            rpc_urls: running.iter().map(|n| n.ports.rpc_url()).collect(),
            chain_id: net.manifest.chain_id.clone(),
            validators: net.manifest.nodes.iter().filter(|n| n.validator).count(),
            faucet_mnemonic: net.dir.join(FAUCET_MNEMONIC_FILE),
            settings: CometSettings::read(&first)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_overrides_parse_with_their_types() {
        let o = parse_config_override("mempool.recheck=false").unwrap();
        assert_eq!((o.table.as_str(), o.key.as_str(), &o.value), ("mempool", "recheck", &OverrideValue::Bool(false)));
        assert_eq!(parse_config_override("mempool.size=20000").unwrap().value, OverrideValue::Integer(20000));
        let t = parse_config_override("consensus.timeout_propose=1s").unwrap();
        assert_eq!(t.value, OverrideValue::String("1s".into()));
        assert_eq!(t.to_string(), "consensus.timeout_propose=1s");
        assert_eq!(parse_config_override("moniker=x").unwrap().table, "");
        for bad in ["mempool.size", "mempool.=1", "=1"] {
            assert!(parse_config_override(bad).is_err(), "{bad}");
        }
        let patched = cometbft::patch_config(
            "[mempool]\nrecheck = true\n",
            &ConfigPatch { extra: vec![o.to_patch()], ..Default::default() },
        )
        .unwrap();
        assert!(patched.contains("recheck = false"), "{patched}");
    }
}
