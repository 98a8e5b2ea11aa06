//! A local network of N validators on loopback, for operators trying a
//! multi-node setup and for the fault-tolerance tests.
//!
//! Layout of a localnet directory:
//! - `localnet.json`: the [`Manifest`] (chain id, nodes, their ports);
//! - `node<i>/`: a full node home (CometBFT config, keys and data, `app.toml`,
//!   the app store), with `node.log` and `paychaind.pid` while it runs;
//! - `keyring-test/` and `faucet-mnemonic.txt`: the funded `faucet` key.
//!
//! Each node is one `paychaind start --with-cometbft` process (CometBFT is its
//! child and dies with it), detached from the terminal so it outlives the
//! command that started it.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use paychain_framework::{Address, Coins};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::cometbft::{self, CometBft, ConfigPatch};
use crate::home::{init_home, InitOptions};
use paychain_client::keyring::{self, Backend, Keyring, Secret, DEFAULT_HD_PATH};
use paychain_node::config::AppConfig;

pub const MANIFEST_FILE: &str = "localnet.json";
pub const FAUCET_KEY: &str = "faucet";
pub const FAUCET_MNEMONIC_FILE: &str = "faucet-mnemonic.txt";
pub const PID_FILE: &str = "paychaind.pid";
pub const LOG_FILE: &str = "node.log";
/// Ports per node: `base + 10 * index + offset` (see [`NodePorts`]).
pub const PORTS_PER_NODE: u16 = 10;
/// Voting power of each genesis validator.
const VALIDATOR_POWER: &str = "10";
/// CometBFT's log in `node.log`: startup, blocks, sync progress and errors.
const COMETBFT_LOG_LEVEL: &str = "main:info,state:info,statesync:info,blocksync:info,*:error";
/// How long a stopped node gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Settings of a new localnet.
#[derive(Clone, Debug)]
pub struct LocalnetOptions {
    pub validators: usize,
    pub chain_id: String,
    pub base_port: u16,
    pub timeout_commit: String,
    /// Take a state-sync snapshot every this many blocks (0 = off).
    pub snapshot_interval: u64,
    /// Accounts funded in genesis besides the faucet.
    pub accounts: Vec<(Address, Coins)>,
    pub faucet_funds: Coins,
}

/// The ports of one node, all on 127.0.0.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePorts {
    /// The node's RPC: its RPC front, with CometBFT's own RPC behind it on `cometbft_rpc`.
    pub rpc: u16,
    pub p2p: u16,
    pub abci: u16,
    pub grpc: u16,
    pub rest: u16,
    /// The app's Prometheus endpoint.
    pub metrics: u16,
    /// CometBFT's Prometheus endpoint.
    pub cometbft_metrics: u16,
    /// CometBFT's own RPC, behind the front; 0 in a localnet made before the front (CometBFT
    /// then serves `rpc` itself).
    #[serde(default)]
    pub cometbft_rpc: u16,
}

impl NodePorts {
    pub fn for_index(base: u16, index: usize) -> anyhow::Result<Self> {
        let start = u32::from(base) + u32::try_from(index)? * u32::from(PORTS_PER_NODE);
        let port = |off: u32| -> anyhow::Result<u16> {
            u16::try_from(start + off).map_err(|_| anyhow!("base port {base} leaves no room for node {index}"))
        };
        Ok(Self {
            rpc: port(0)?,
            p2p: port(1)?,
            abci: port(2)?,
            grpc: port(3)?,
            rest: port(4)?,
            metrics: port(5)?,
            cometbft_metrics: port(6)?,
            cometbft_rpc: port(7)?,
        })
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc)
    }

    /// The node's RPC and CometBFT's behind it (no front in a localnet made before it).
    pub fn rpc_layout(&self) -> crate::home::LoopbackRpc {
        crate::home::LoopbackRpc { rpc: self.rpc, cometbft_rpc: self.cometbft_rpc }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub name: String,
    pub validator: bool,
    /// CometBFT node id (hex of the first 20 bytes of sha256 of its p2p key).
    pub node_id: String,
    pub ports: NodePorts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub chain_id: String,
    pub base_port: u16,
    pub nodes: Vec<NodeEntry>,
}

/// A localnet directory.
#[derive(Clone, Debug)]
pub struct Localnet {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// What `status` reports for one node.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    pub name: String,
    pub validator: bool,
    pub pid: Option<u32>,
    pub rpc: String,
    pub height: Option<u64>,
    pub app_hash: Option<String>,
    pub peers: Option<u64>,
    pub catching_up: Option<bool>,
}

/// The CometBFT node id of `<home>/config/node_key.json` (an ed25519 key
/// whose last 32 bytes are the public key).
pub fn node_id(home: &Path) -> anyhow::Result<String> {
    use base64::Engine as _;
    let path = home.join("config").join("node_key.json");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path)?).with_context(|| format!("parsing {}", path.display()))?;
    let key = v["priv_key"]["value"].as_str().ok_or_else(|| anyhow!("{}: no priv_key.value", path.display()))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(key)?;
    if bytes.len() != 64 {
        bail!("{}: expected a 64-byte ed25519 key", path.display());
    }
    Ok(hex::encode(&Sha256::digest(&bytes[32..])[..20]))
}

/// The genesis validator entry of `<home>/config/priv_validator_key.json`.
fn genesis_validator(home: &Path, name: &str) -> anyhow::Result<serde_json::Value> {
    let path = home.join("config").join("priv_validator_key.json");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path)?).with_context(|| format!("parsing {}", path.display()))?;
    Ok(serde_json::json!({
        "address": v["address"],
        "pub_key": v["pub_key"],
        "power": VALIDATOR_POWER,
        "name": name,
    }))
}

/// Whether `pid` is a live (not zombie) process whose command line mentions `home`.
fn process_alive(pid: u32, home: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The state follows the parenthesized command name.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z') | Some('X') | None) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let needle = home.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == needle)
}

impl Localnet {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("{} not found: create the localnet with `paychaind localnet init` (or `start`)", path.display())
        })?;
        let manifest: Manifest = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Self { dir: dir.to_path_buf(), manifest })
    }

    pub fn exists(dir: &Path) -> bool {
        dir.join(MANIFEST_FILE).exists()
    }

    fn save(&self) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&self.manifest)?;
        cometbft::write_atomic(&self.dir.join(MANIFEST_FILE), text.as_bytes())
    }

    pub fn home(&self, node: &NodeEntry) -> PathBuf {
        self.dir.join(&node.name)
    }

    pub fn node(&self, name: &str) -> anyhow::Result<&NodeEntry> {
        let names: Vec<&str> = self.manifest.nodes.iter().map(|n| n.name.as_str()).collect();
        self.manifest
            .nodes
            .iter()
            .find(|n| n.name == name || n.name == format!("node{name}"))
            .ok_or_else(|| anyhow!("no node {name:?} in {} (nodes: {})", self.dir.display(), names.join(", ")))
    }

    /// Creates a localnet of `opts.validators` validators in `dir`.
    pub fn init(comet: &CometBft, dir: &Path, opts: &LocalnetOptions) -> anyhow::Result<Self> {
        if opts.validators == 0 || opts.validators > 50 {
            bail!("--validators must be between 1 and 50");
        }
        if Self::exists(dir) {
            bail!("{} already holds a localnet; `paychaind localnet wipe` removes it", dir.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let faucet = faucet_key(&dir)?;
        let mut accounts = vec![(faucet, opts.faucet_funds.clone())];
        accounts.extend(opts.accounts.iter().cloned());

        let mut nodes = Vec::with_capacity(opts.validators);
        for i in 0..opts.validators {
            let name = format!("node{i}");
            let ports = NodePorts::for_index(opts.base_port, i)?;
            init_node_home(comet, &dir.join(&name), &name, &opts.chain_id, &opts.timeout_commit, &ports, &accounts)?;
            nodes.push(NodeEntry { name: name.clone(), validator: true, node_id: node_id(&dir.join(&name))?, ports });
        }
        // One genesis for all: node0's, with every node's validator key.
        let genesis_path = cometbft::genesis_path(&dir.join("node0"));
        let mut genesis = crate::genesis_file::read_genesis(&genesis_path)?;
        let validators: Vec<serde_json::Value> =
            nodes.iter().map(|n| genesis_validator(&dir.join(&n.name), &n.name)).collect::<anyhow::Result<_>>()?;
        genesis["validators"] = serde_json::Value::Array(validators);
        let net = Self {
            dir: dir.clone(),
            manifest: Manifest { chain_id: opts.chain_id.clone(), base_port: opts.base_port, nodes },
        };
        for node in &net.manifest.nodes {
            let home = net.home(node);
            crate::genesis_file::write_genesis(&cometbft::genesis_path(&home), &genesis)?;
            net.connect(node, opts.snapshot_interval)?;
        }
        paychain_app::genesis::validate_genesis_file(&genesis_path)?;
        net.save()?;
        Ok(net)
    }

    /// Points `node` at every other node as a persistent peer and sets the
    /// app's ports.
    fn connect(&self, node: &NodeEntry, snapshot_interval: u64) -> anyhow::Result<()> {
        let home = self.home(node);
        let peers: Vec<String> = self
            .manifest
            .nodes
            .iter()
            .filter(|n| n.name != node.name)
            .map(|n| format!("{}@127.0.0.1:{}", n.node_id, n.ports.p2p))
            .collect();
        cometbft::patch_config_file(
            &home,
            &ConfigPatch {
                extra: vec![
                    ("p2p".into(), "persistent_peers".into(), peers.join(",").into()),
                    // Every node is on 127.0.0.1.
                    ("p2p".into(), "addr_book_strict".into(), false.into()),
                    ("p2p".into(), "allow_duplicate_ip".into(), true.into()),
                    ("instrumentation".into(), "prometheus".into(), true.into()),
                    (
                        "instrumentation".into(),
                        "prometheus_listen_addr".into(),
                        format!("127.0.0.1:{}", node.ports.cometbft_metrics).into(),
                    ),
                    // A stopped proposer costs one propose timeout per round.
                    ("consensus".into(), "timeout_propose".into(), "1s".into()),
                ],
                ..Default::default()
            },
        )?;
        let mut config = AppConfig::load(&home)?;
        config.abci_address = ([127, 0, 0, 1], node.ports.abci).into();
        config.grpc_address = format!("127.0.0.1:{}", node.ports.grpc);
        config.rest_address = format!("127.0.0.1:{}", node.ports.rest);
        let rpc = node.ports.rpc_layout();
        crate::home::set_rpc_layout(&mut config, &rpc.cometbft_laddr(), rpc.front())?;
        config.metrics_address = format!("127.0.0.1:{}", node.ports.metrics);
        config.snapshot_interval = snapshot_interval;
        config.save(&home)
    }

    /// Adds a full node (not a validator) that joins the running network by
    /// state sync when `state_sync`, else by replaying every block.
    pub fn add_node(&mut self, comet: &CometBft, state_sync: bool) -> anyhow::Result<NodeEntry> {
        let index = self.manifest.nodes.len();
        let name = format!("node{index}");
        let ports = NodePorts::for_index(self.manifest.base_port, index)?;
        let home = self.dir.join(&name);
        let genesis = crate::genesis_file::read_genesis(&cometbft::genesis_path(&self.dir.join("node0")))?;
        init_node_home(comet, &home, &name, &self.manifest.chain_id, "1s", &ports, &[])?;
        crate::genesis_file::write_genesis(&cometbft::genesis_path(&home), &genesis)?;
        // Same block time as the others.
        let timeout_commit =
            cometbft::read_config_string(&self.dir.join("node0"), Some("consensus"), "timeout_commit")?;
        cometbft::patch_config_file(&home, &ConfigPatch { timeout_commit, ..Default::default() })?;
        let node = NodeEntry { name, validator: false, node_id: node_id(&home)?, ports };
        self.connect(&node, 0)?;
        if state_sync {
            let rt = paychain_client::cli::runtime()?;
            let patch = rt.block_on(self.state_sync_patch())?;
            cometbft::patch_config_file(&home, &patch)?;
        }
        self.manifest.nodes.push(node.clone());
        self.save()?;
        Ok(node)
    }

    /// `[statesync]` settings trusting the latest block of a running validator.
    async fn state_sync_patch(&self) -> anyhow::Result<ConfigPatch> {
        use tendermint_rpc::Client as _;
        let running: Vec<&NodeEntry> =
            self.manifest.nodes.iter().filter(|n| n.validator && self.pid(n).is_some()).collect();
        let Some(first) = running.first() else {
            bail!("state sync needs running validators to serve snapshots and light blocks; start the localnet first")
        };
        let client = paychain_client::NodeClient::new(&first.ports.rpc_url())?;
        let height = client.latest_height().await?;
        let h = tendermint::block::Height::try_from(height)?;
        let commit = client.http().commit(h).await.map_err(|e| anyhow!("reading the commit of block {height}: {e}"))?;
        let hash = commit.signed_header.commit.block_id.hash.to_string();
        // CometBFT wants two RPC servers for the light client (they may be the same).
        let second = running.get(1).unwrap_or(first);
        let servers = format!("127.0.0.1:{},127.0.0.1:{}", first.ports.rpc, second.ports.rpc);
        Ok(ConfigPatch {
            extra: vec![
                ("statesync".into(), "enable".into(), true.into()),
                ("statesync".into(), "rpc_servers".into(), servers.into()),
                ("statesync".into(), "trust_height".into(), i64::try_from(height)?.into()),
                ("statesync".into(), "trust_hash".into(), hash.into()),
                ("statesync".into(), "trust_period".into(), "168h0m0s".into()),
                ("statesync".into(), "discovery_time".into(), "5s".into()),
            ],
            ..Default::default()
        })
    }

    /// The pid of a running node, from its pid file.
    pub fn pid(&self, node: &NodeEntry) -> Option<u32> {
        let home = self.home(node);
        let pid: u32 = std::fs::read_to_string(home.join(PID_FILE)).ok()?.trim().parse().ok()?;
        process_alive(pid, &home).then_some(pid)
    }

    /// Starts `node` in the background (no-op if it runs), appending its
    /// output to `node.log`. Returns its pid.
    pub fn start_node(&self, node: &NodeEntry, comet: &CometBft) -> anyhow::Result<u32> {
        use std::os::unix::process::CommandExt as _;
        if let Some(pid) = self.pid(node) {
            return Ok(pid);
        }
        let home = self.home(node);
        let log_path = home.join(LOG_FILE);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let exe = std::env::current_exe().context("locating the paychaind binary")?;
        let child = Command::new(exe)
            .arg("start")
            .arg("--with-cometbft")
            .arg("--home")
            .arg(&home)
            .arg("--cometbft")
            .arg(&comet.bin)
            .env_remove("PAYCHAIN_HOME")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the terminal that ran
            // `localnet start` must not reach the nodes.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", node.name))?;
        let pid = child.id();
        cometbft::write_atomic(&home.join(PID_FILE), format!("{pid}\n").as_bytes())?;
        // Until it has exec'd, the child still shows our command line, which
        // `pid()` would not recognize as this node.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !process_alive(pid, &home) {
            if Instant::now() > deadline {
                bail!("{} did not start; the end of {}:\n{}", node.name, log_path.display(), self.log_tail(node, 30));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(pid)
    }

    /// Waits until every node in `nodes` answers RPC, failing early (with its
    /// log) if one exits.
    pub fn wait_ready(&self, nodes: &[&NodeEntry], timeout: Duration) -> anyhow::Result<()> {
        let rt = paychain_client::cli::runtime()?;
        let deadline = Instant::now() + timeout;
        for node in nodes {
            let client = paychain_client::NodeClient::new(&node.ports.rpc_url())?;
            loop {
                if rt.block_on(client.status()).is_ok() {
                    break;
                }
                if self.pid(node).is_none() {
                    bail!(
                        "{} exited; the end of {}:\n{}",
                        node.name,
                        self.log_path(node).display(),
                        self.log_tail(node, 30)
                    );
                }
                if Instant::now() > deadline {
                    bail!("{} did not answer RPC within {timeout:?}; see {}", node.name, self.log_path(node).display());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Ok(())
    }

    pub fn log_path(&self, node: &NodeEntry) -> PathBuf {
        self.home(node).join(LOG_FILE)
    }

    pub fn log_tail(&self, node: &NodeEntry, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(node)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops `node`: SIGTERM, then SIGKILL after a grace period (`kill` skips
    /// straight to SIGKILL, a crash drill). Returns whether it was running.
    pub fn stop_node(&self, node: &NodeEntry, kill: bool) -> anyhow::Result<bool> {
        let Some(pid) = self.pid(node) else { return Ok(false) };
        let home = self.home(node);
        let signal = if kill { libc::SIGKILL } else { libc::SIGTERM };
        let pid_i = i32::try_from(pid)?;
        // SAFETY: kill(2) on a pid we just checked runs paychaind on this home.
        unsafe { libc::kill(pid_i, signal) };
        let deadline = Instant::now() + STOP_GRACE;
        while process_alive(pid, &home) {
            if Instant::now() > deadline {
                // SAFETY: as above.
                unsafe { libc::kill(pid_i, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Its CometBFT child gets SIGKILL from the parent-death signal; wait
        // until it has released the p2p and RPC ports.
        wait_port_free(node.ports.rpc, Duration::from_secs(10));
        wait_port_free(node.ports.rpc_layout().cometbft_port(), Duration::from_secs(10));
        wait_port_free(node.ports.p2p, Duration::from_secs(10));
        let _ = std::fs::remove_file(home.join(PID_FILE));
        Ok(true)
    }

    /// Height, app hash and peers of every node (running or not).
    pub fn status(&self) -> anyhow::Result<Vec<NodeStatus>> {
        use tendermint_rpc::Client as _;
        let rt = paychain_client::cli::runtime()?;
        let mut out = Vec::new();
        for node in &self.manifest.nodes {
            let pid = self.pid(node);
            let mut st = NodeStatus {
                name: node.name.clone(),
                validator: node.validator,
                pid,
                rpc: node.ports.rpc_url(),
                height: None,
                app_hash: None,
                peers: None,
                catching_up: None,
            };
            if pid.is_some() {
                let client = paychain_client::NodeClient::new(&node.ports.rpc_url())?;
                if let Ok(s) = rt.block_on(client.status()) {
                    st.height = Some(s.sync_info.latest_block_height.value());
                    st.app_hash = Some(s.sync_info.latest_app_hash.to_string());
                    st.catching_up = Some(s.sync_info.catching_up);
                }
                if let Ok(n) = rt.block_on(client.http().net_info()) {
                    st.peers = Some(n.n_peers);
                }
            }
            out.push(st);
        }
        Ok(out)
    }

    /// Stops every node and removes the directory.
    pub fn wipe(&self) -> anyhow::Result<()> {
        for node in &self.manifest.nodes {
            self.stop_node(node, true)?;
        }
        std::fs::remove_dir_all(&self.dir).with_context(|| format!("removing {}", self.dir.display()))
    }

    pub fn faucet_address(&self) -> anyhow::Result<Address> {
        Ok(Keyring::open(&self.dir, Backend::Test).get(FAUCET_KEY)?.address)
    }
}

fn wait_port_free(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Creates the faucet key (kept with its mnemonic in the localnet directory).
fn faucet_key(dir: &Path) -> anyhow::Result<Address> {
    let kr = Keyring::open(dir, Backend::Test);
    if kr.exists(FAUCET_KEY) {
        return Ok(kr.get(FAUCET_KEY)?.address);
    }
    let mnemonic = keyring::generate_mnemonic();
    let info = kr.add(FAUCET_KEY, &Secret::mnemonic(&mnemonic, DEFAULT_HD_PATH)?, None)?;
    keyring::write_private_file(dir, &dir.join(FAUCET_MNEMONIC_FILE), format!("{}\n", &*mnemonic).as_bytes())?;
    Ok(info.address)
}

fn init_node_home(
    comet: &CometBft,
    home: &Path,
    name: &str,
    chain_id: &str,
    timeout_commit: &str,
    ports: &NodePorts,
    accounts: &[(Address, Coins)],
) -> anyhow::Result<()> {
    let opts = InitOptions {
        moniker: name.to_string(),
        chain_id: chain_id.to_string(),
        denom: crate::home::DEFAULT_DENOM.to_string(),
        rpc_laddr: ports.rpc_layout().cometbft_laddr(),
        rpc_front: ports.rpc_layout().front(),
        p2p_laddr: format!("tcp://127.0.0.1:{}", ports.p2p),
        abci_address: ([127, 0, 0, 1], ports.abci).into(),
        timeout_commit: timeout_commit.to_string(),
        mempool_size: 20_000,
        minimum_gas_prices: String::new(),
        overwrite: false,
        cometbft_log_level: Some(COMETBFT_LOG_LEVEL.to_string()),
        accounts: accounts.to_vec(),
        // The faucet is the localnet's chain authority.
        authority: accounts.first().map(|(a, _)| a.clone()),
    };
    init_home(comet, home, &opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_do_not_overlap_and_stay_in_range() {
        let a = NodePorts::for_index(27000, 0).unwrap();
        let b = NodePorts::for_index(27000, 1).unwrap();
        assert_eq!((a.rpc, a.p2p, a.cometbft_metrics, a.cometbft_rpc), (27000, 27001, 27006, 27007));
        let rpc = a.rpc_layout();
        assert_eq!((rpc.front(), rpc.cometbft_port()), (Some(([127, 0, 0, 1], 27000).into()), 27007));
        // A manifest from before the front: CometBFT serves the node's RPC.
        let old: NodePorts =
            serde_json::from_str(r#"{"rpc":1,"p2p":2,"abci":3,"grpc":4,"rest":5,"metrics":6,"cometbft_metrics":7}"#)
                .unwrap();
        assert_eq!((old.rpc_layout().front(), old.rpc_layout().cometbft_laddr()), (None, "tcp://127.0.0.1:1".into()));
        assert_eq!(b.rpc, 27010);
        assert!(NodePorts::for_index(65530, 0).is_err());
        assert!(NodePorts::for_index(65000, 60).is_err());
    }

    #[test]
    fn node_id_is_sha256_of_the_public_key() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        let mut key = vec![7u8; 32];
        key.extend([9u8; 32]);
        let json = serde_json::json!({"priv_key": {"type": "tendermint/PrivKeyEd25519",
            "value": base64::engine::general_purpose::STANDARD.encode(&key)}});
        std::fs::write(dir.path().join("config/node_key.json"), json.to_string()).unwrap();
        let id = node_id(dir.path()).unwrap();
        assert_eq!(id, hex::encode(&Sha256::digest([9u8; 32])[..20]));
        std::fs::write(dir.path().join("config/node_key.json"), "{}").unwrap();
        assert!(node_id(dir.path()).is_err());
    }

    #[test]
    fn a_process_is_alive_only_with_its_home_on_the_command_line() {
        let me = std::process::id();
        assert!(!process_alive(me, Path::new("/definitely/not/our/home")));
        assert!(!process_alive(u32::MAX - 1, Path::new("/")));
    }
}
