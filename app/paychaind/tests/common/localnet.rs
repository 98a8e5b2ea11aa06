//! A `paychaind localnet` of real validators for the fault-tolerance tests:
//! driven through the CLI as an operator would, with a load generator of
//! signed bank sends and cross-node consistency checks. Every node is
//! SIGKILLed when the guard drops, also when a test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use paychain_client::{tx, NodeClient};
use paychain_framework::{Address, Coins};
use paychaind::localnet::{Localnet, NodeEntry, PORTS_PER_NODE};
use secp256k1::SecretKey;
use sha2::{Digest as _, Sha256};
use tendermint_rpc::Client as _;

use super::clean_command;

pub const DENOM: &str = "upay";

/// A localnet in a temp dir, wiped on drop.
pub struct TestNet {
    pub dir: tempfile::TempDir,
    pub chain_id: String,
}

impl TestNet {
    /// `paychaind localnet init` with `validators` validators, room for
    /// `spare` extra nodes, and `accounts` funded in genesis.
    pub fn init(validators: usize, spare: usize, accounts: &[(Address, Coins)], extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let chain_id = "paychain-local-test-1".to_string();
        let base = super::free_port_block((validators + spare) as u32 * u32::from(PORTS_PER_NODE));
        let mut args: Vec<String> = vec![
            "init".into(),
            "--validators".into(),
            validators.to_string(),
            "--chain-id".into(),
            chain_id.clone(),
            "--base-port".into(),
            base.to_string(),
            "--timeout-commit".into(),
            "300ms".into(),
        ];
        for (a, c) in accounts {
            args.push("--genesis-account".into());
            args.push(format!("{a}={c}"));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let net = TestNet { dir, chain_id };
        net.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        net
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn localnet(&self) -> Localnet {
        Localnet::open(self.path()).unwrap()
    }

    pub fn node(&self, name: &str) -> NodeEntry {
        self.localnet().node(name).unwrap().clone()
    }

    pub fn home(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        clean_command().arg("localnet").arg("--dir").arg(self.path()).args(args).output().unwrap()
    }

    /// Runs a localnet command; fails the test (with the nodes' logs) on error.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        if !out.status.success() {
            panic!(
                "paychaind localnet {args:?} failed: {}\n{}\n--- node logs ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                self.logs(40)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn logs(&self, lines: usize) -> String {
        let Ok(net) = Localnet::open(self.path()) else { return String::new() };
        net.manifest.nodes.iter().map(|n| format!("== {} ==\n{}\n", n.name, net.log_tail(n, lines))).collect()
    }

    pub fn client(&self, name: &str) -> NodeClient {
        NodeClient::new(&self.node(name).ports.rpc_url()).unwrap()
    }

    /// Latest height of a node, `None` if it does not answer.
    pub fn height(&self, name: &str) -> Option<u64> {
        let client = self.client(name);
        rt().block_on(async { client.latest_height().await.ok() })
    }

    /// Waits until `name` reaches `min`; returns its height.
    pub fn wait_height(&self, name: &str, min: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(h) = self.height(name) {
                if h >= min {
                    return h;
                }
            }
            if Instant::now() > deadline {
                panic!("{name} did not reach height {min} within {timeout:?}\n{}", self.logs(40));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Header hash and app hash of block `height` as `name` stores it.
    pub fn block_ids(&self, name: &str, height: u64) -> (String, String) {
        let client = self.client(name);
        let h = tendermint::block::Height::try_from(height).unwrap();
        let header = rt()
            .block_on(client.http().header(h))
            .unwrap_or_else(|e| panic!("header {height} from {name}: {e}"))
            .header;
        (header.hash().to_string(), header.app_hash.to_string())
    }

    /// Asserts every named node has the same block (and so the same app hash
    /// after the block before) at every height in `heights`.
    pub fn assert_same_chain(&self, names: &[&str], heights: std::ops::RangeInclusive<u64>) {
        for h in heights {
            let reference = self.block_ids(names[0], h);
            for n in &names[1..] {
                assert_eq!(self.block_ids(n, h), reference, "{n} and {} differ at height {h}", names[0]);
            }
        }
    }

    /// Balances of `accounts` at `height` on node `name`.
    pub fn balances_at(&self, name: &str, accounts: &[Address], height: u64) -> Vec<u128> {
        let client = self.client(name);
        accounts
            .iter()
            .map(|a| {
                let c = rt().block_on(client.balance(a, DENOM, Some(height))).unwrap();
                c.amount.parse().unwrap()
            })
            .collect()
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        if let Ok(net) = Localnet::open(self.path()) {
            for n in &net.manifest.nodes {
                let _ = net.stop_node(n, true);
            }
        }
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A deterministic test account.
#[derive(Clone)]
pub struct TestAccount {
    pub key: SecretKey,
    pub address: Address,
}

pub fn test_account(seed: &str) -> TestAccount {
    let key = SecretKey::from_slice(&Sha256::digest(seed.as_bytes())).unwrap();
    TestAccount { address: paychain_client::keyring::address_of(&key), key }
}

/// What a load generator did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Hashes of txs a node accepted into its mempool (CheckTx code 0).
    pub accepted: Vec<String>,
    pub rejected: u64,
    pub unreachable: u64,
}

/// Signed bank sends from `senders` to `recipients`, spread over the nodes'
/// RPC endpoints, until stopped. A sender whose sequence went stale (its tx
/// was lost with a killed node's mempool) re-reads it from a live node.
pub struct Load {
    stop: Arc<AtomicBool>,
    report: Arc<Mutex<LoadReport>>,
    handle: Option<JoinHandle<()>>,
}

impl Load {
    pub fn start(chain_id: &str, rpc_urls: Vec<String>, senders: Vec<TestAccount>, recipients: Vec<Address>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(LoadReport::default()));
        let (stop2, report2, chain_id) = (stop.clone(), report.clone(), chain_id.to_string());
        let handle = std::thread::spawn(move || {
            let rt = rt();
            let clients: Vec<NodeClient> = rpc_urls.iter().map(|u| NodeClient::new(u).unwrap()).collect();
            // (account number, next sequence) per sender; None = read it.
            let mut numbers: Vec<Option<(u64, u64)>> = vec![None; senders.len()];
            let mut i = 0usize;
            while !stop2.load(Ordering::Relaxed) {
                i += 1;
                let s = i % senders.len();
                let client = &clients[i % clients.len()];
                let sender = &senders[s];
                if numbers[s].is_none() {
                    match rt.block_on(client.account(&sender.address, None)) {
                        Ok(Some(acc)) => numbers[s] = Some((acc.account_number, acc.sequence)),
                        _ => {
                            report2.lock().unwrap().unreachable += 1;
                            std::thread::sleep(Duration::from_millis(50));
                            continue;
                        }
                    }
                }
                let (account_number, sequence) = numbers[s].unwrap();
                let to = &recipients[i % recipients.len()];
                let amount: Coins = format!("{}{DENOM}", 1 + i % 7).parse().unwrap();
                let body = tx::tx_body(vec![tx::msg_send(&sender.address, to, &amount)], "", 0);
                let bytes = tx::build_signed_tx(
                    &body,
                    tx::fee(&Coins::empty(), 200_000),
                    &tx::SignerData { key: &sender.key, chain_id: &chain_id, account_number, sequence },
                );
                match rt.block_on(client.broadcast_sync(bytes.clone())) {
                    Ok(r) if r.code == 0 => {
                        numbers[s] = Some((account_number, sequence + 1));
                        report2.lock().unwrap().accepted.push(tx::tx_hash(&bytes));
                    }
                    Ok(_) => {
                        numbers[s] = None;
                        report2.lock().unwrap().rejected += 1;
                    }
                    Err(_) => report2.lock().unwrap().unreachable += 1,
                }
                std::thread::sleep(Duration::from_millis(15));
            }
        });
        Load { stop, report, handle: Some(handle) }
    }

    pub fn accepted_so_far(&self) -> usize {
        self.report.lock().unwrap().accepted.len()
    }

    pub fn stop(mut self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        std::mem::take(&mut *self.report.lock().unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Of `hashes`, those committed on node `name`, with their heights and codes.
pub fn committed(net: &TestNet, name: &str, hashes: &[String]) -> BTreeMap<String, (u64, u32)> {
    let client = net.client(name);
    let rt = rt();
    let mut out = BTreeMap::new();
    for h in hashes {
        let hash = tx::parse_tx_hash(h).unwrap();
        let hash = tendermint::Hash::Sha256(hash);
        let mut attempt = 0;
        loop {
            match rt.block_on(client.http().tx(hash, false)) {
                Ok(r) => {
                    out.insert(h.clone(), (r.height.value(), r.tx_result.code.value()));
                    break;
                }
                Err(e) => {
                    let text = paychain_client::rpc::rpc_error_text(&e);
                    if text.contains("not found") {
                        break;
                    }
                    attempt += 1;
                    assert!(attempt < 5, "tx {h} on {name}: {text}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }
    out
}
