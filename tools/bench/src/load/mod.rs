//! `paychain-bench load`: end to end through CometBFT. Signs bank sends offline with many
//! accounts, submits them over several RPC connections at a set rate, and follows each tx to
//! the block that commits it. Reports committed tx/s, submit-to-commit latency p50/p99 and the
//! block interval, with the CometBFT settings of the run.
//!
//! Latency is local: from just before the tx's `broadcast_tx_*` request to the moment this
//! process first sees the committing block's height in `/status` (polled every
//! [`HEIGHT_POLL`]), never the block's header time, which in CometBFT v0.38 is BFT time (the
//! median time of the previous block's commit votes) and precedes the commit. Blocks are fetched only after the load, so the generator costs the
//! node one small `/status` (and a `/num_unconfirmed_txs` every [`MEMPOOL_POLL`]) meanwhile.

mod chain;
mod cpu;
mod fund;
mod interrupt;
mod simd;
mod target;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use clap::{Args, ValueEnum};
use paychain_client::rpc::rpc_error_text;
use paychain_client::NodeClient;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};
use tendermint_rpc::Client as _;

use chain::ChainFormat;
use fund::OnChain;
use paychain_app::app::AppTimingsTotal;
use paychain_bench_app::accounts::{derive_accounts, first_key_of, Account, Send};
use paychain_bench_app::report::{average, median, ms, parse_duration, per_sec, percent, quantile, today, us};
use paychain_store::timing::{self, PhaseTotal};
use paychain_store::StoreTimingsTotal;
use simd::SpawnedSimd;
use target::{LocalnetTarget, SpawnOptions, SpawnedValidator};

/// How often the committed height is polled: the resolution of the latency figures.
const HEIGHT_POLL: Duration = Duration::from_millis(10);
/// How often the mempool's size is sampled.
const MEMPOOL_POLL: Duration = Duration::from_millis(500);
/// Each account's funds: its sends (1upay + fee each) many times over.
const FUNDS_PER_ACCOUNT: u128 = 1_000_000_000;
/// Rejection reasons shown in the report.
const SHOWN_REASONS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Broadcast {
    /// `broadcast_tx_sync`: waits for CheckTx, so rejections are seen and each connection keeps order
    Sync,
    /// `broadcast_tx_async`: returns before CheckTx (rejections show up only as missing commits)
    Async,
}

/// Which node a started validator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Node {
    /// paychaind (the app in this process) with CometBFT
    Paychain,
    /// the Cosmos SDK v0.50's simd (ibc-go v8 simapp, `--simd-bin`), CometBFT in its process
    Simd,
}

impl Node {
    fn name(self) -> &'static str {
        match self {
            Node::Paychain => "paychain",
            Node::Simd => "simd",
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Submit to these CometBFT RPC endpoints (comma-separated; blocks are read from the first)
    /// instead of starting a validator
    #[arg(long, value_delimiter = ',', conflicts_with = "localnet")]
    pub rpc: Vec<String>,
    /// Submit to every node of this running `paychaind localnet` directory (e.g. localnet/.data),
    /// funding the accounts from its faucet, instead of starting a validator
    #[arg(long)]
    pub localnet: Option<PathBuf>,
    /// A funded key's mnemonic (file) that creates missing load accounts, with --rpc
    #[arg(long, requires = "rpc")]
    pub funder_mnemonic_file: Option<PathBuf>,
    /// Sending accounts (each sends to the next; sends of one account go out in order)
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// Offered load, txs per second; several (comma-separated) run one after another, each on a
    /// chain started afresh (or, with --rpc/--localnet, with the accounts' next sequences)
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub rate: Vec<u64>,
    /// The started validator's node
    #[arg(long, value_enum, default_value_t = Node::Paychain, conflicts_with_all = ["rpc", "localnet"])]
    pub node: Node,
    /// At each rate, run paychain and then the Cosmos SDK's simd with the same CometBFT settings,
    /// accounts and load, and report them side by side
    #[arg(long, conflicts_with_all = ["rpc", "localnet", "node"])]
    pub side_by_side: bool,
    /// simd, for --node simd and --side-by-side [default: $SIMD_BIN, else .cache/bin/simd]
    #[arg(long, value_name = "PATH")]
    pub simd_bin: Option<PathBuf>,
    /// With --rpc: the chain's bech32 account prefix (any Cosmos SDK chain; e.g. cosmos)
    #[arg(long, requires = "rpc", default_value = "pay")]
    pub bech32_prefix: String,
    /// With --rpc: the denom sent and paid in fees (5000 per send, gas limit 200,000)
    #[arg(long, requires = "rpc", default_value = "upay")]
    pub denom: String,
    /// How long to submit, e.g. 60s or 2m
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Concurrent RPC connections, each sending its share of the accounts in order
    /// [default: rate / 25, between 8 and 400]. With broadcast_tx_sync each has one tx in flight,
    /// so a connection carries one tx per round trip (under load ~20 ms: ~50 tx/s)
    #[arg(long)]
    pub connections: Option<usize>,
    #[arg(long, value_enum, default_value_t = Broadcast::Sync)]
    pub broadcast: Broadcast,
    /// Resend a tx the node refused with "mempool is full" (after 50 ms) before the connection's
    /// next one, as a payment client does; its latency counts from the first attempt. Such a
    /// client's load ends at --duration (plus 1 s): it sends nothing later, so txs it had not
    /// reached by then (it fell behind a slower node) are reported as not sent instead of
    /// being sent after their refused predecessors and failing their sequence check. Without
    /// it, every tx is sent however late, a refused tx is dropped and every later tx of its
    /// account fails its sequence check
    #[arg(long)]
    pub resend_when_full: bool,
    /// After the load, how long to wait for the accepted txs to commit
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub drain: Duration,
    /// Names the set of load accounts (another seed gives other accounts, for a rerun against
    /// the same chain without old sequences)
    #[arg(long, default_value = "load")]
    pub seed: String,
    /// Started validator: CometBFT consensus.timeout_commit
    #[arg(long, default_value = "500ms")]
    pub timeout_commit: String,
    /// Started validator: CometBFT mempool.size (txs)
    #[arg(long, default_value_t = 10_000)]
    pub mempool_size: u32,
    /// Started validator: consensus_params.block.max_bytes
    #[arg(long, default_value_t = 22_020_096)]
    pub max_block_bytes: u64,
    /// Started validator: CometBFT tx_index.indexer (kv, as dev and localnet, or null)
    #[arg(long, default_value = "kv")]
    pub tx_index: String,
    /// Started simd validator: its CometBFT tx_index.indexer, when it should differ from
    /// --tx-index; e.g. `--tx-index null --node-tx-index true --simd-tx-index kv` compares two
    /// nodes that both answer tx_search, each the only way it can [default: --tx-index]
    #[arg(long)]
    pub simd_tx_index: Option<String>,
    /// Started paychain validator: app.toml's index_events, the event attributes CometBFT's kv
    /// indexer indexes (comma-separated `type` or `type.key`) [default: all]
    #[arg(long, value_delimiter = ',')]
    pub index_events: Vec<String>,
    /// Started paychain validator: app.toml's tx_index, the node's own tx index (written in each
    /// block's commit; answers tx, tx_search and block_search through the RPC front)
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub node_tx_index: bool,
    /// Started paychain validator: send every call (broadcasts included) through the node's RPC
    /// front instead of CometBFT's RPC, as wallets would if the front were the public RPC
    /// port; turns the node's tx index on (the front answers from it)
    #[arg(long)]
    pub via_front: bool,
    /// Started paychain validator: app.toml's mempool_max_wait_ms (0 = the fixed admission
    /// limit only) [default: paychaind's]
    #[arg(long)]
    pub mempool_max_wait_ms: Option<u64>,
    /// Started validator: any other CometBFT setting, TABLE.KEY=VALUE (repeatable), e.g.
    /// mempool.recheck=false or consensus.timeout_propose=1s
    #[arg(long = "cometbft-config", value_name = "TABLE.KEY=VALUE", value_parser = target::parse_config_override)]
    pub cometbft_config: Vec<target::ConfigOverride>,
    /// Started validator: its home (kept; must not exist; with several runs, one directory per
    /// run inside it) [default: a temporary directory]
    #[arg(long)]
    pub home: Option<PathBuf>,
    /// The cometbft binary [default: from PATH or ~/go/bin]
    #[arg(long, env = "PAYCHAIN_COMETBFT", value_name = "PATH")]
    pub cometbft: Option<PathBuf>,
    /// Also write one line per block (height, seen at, header time, txs, ours) to this CSV file
    #[arg(long)]
    pub blocks_csv: Option<PathBuf>,
}

/// Where the load goes.
struct Target {
    /// Short name for the results row.
    label: String,
    chain: ChainFormat,
    description: String,
    rpc_urls: Vec<String>,
    chain_id: String,
    settings: String,
    /// Running only for a validator this run started (stopped when dropped).
    spawned: Option<Spawned>,
    accounts: Vec<OnChain>,
}

/// A validator this run started.
enum Spawned {
    Paychain(Box<SpawnedValidator>),
    Simd(Box<SpawnedSimd>),
}

impl Spawned {
    fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self {
            Spawned::Paychain(v) => v.ensure_running(),
            Spawned::Simd(v) => v.ensure_running(),
        }
    }

    fn stop(&mut self) {
        match self {
            Spawned::Paychain(v) => v.stop(),
            Spawned::Simd(v) => v.stop(),
        }
    }

    /// The processes that run the node, for the CPU report.
    fn watched(&self) -> Vec<cpu::Watched> {
        let (node, pid, this_process) = match self {
            Spawned::Paychain(v) => ("CometBFT", v.cometbft_pid(), "this process (app + generator)"),
            Spawned::Simd(v) => ("simd (CometBFT in it)", v.pid(), "this process (generator)"),
        };
        pid.map(|pid| cpu::Watched { name: node, pid })
            .into_iter()
            .chain([cpu::Watched { name: this_process, pid: std::process::id() }])
            .collect()
    }

    /// The app running in this process, whose phase timers can be read.
    fn paychain_app(&self) -> Option<&paychain_app::app::App> {
        match self {
            Spawned::Paychain(v) => Some(v.app()),
            Spawned::Simd(_) => None,
        }
    }
}

/// One run's headline numbers, for the table after several runs.
#[derive(Clone, Debug)]
struct RunSummary {
    node: &'static str,
    rate: u64,
    /// Committed during the load, and the load's length.
    committed_in_load: u64,
    load_end: Duration,
    p50: Duration,
    p99: Duration,
    interval: Duration,
    refused: usize,
    /// CPU of the node's processes and the generator per tx committed during the load (a
    /// started node only: `--rpc` and `--localnet` nodes are not watched).
    cpu_per_tx_us: Option<u64>,
}

impl RunSummary {
    fn committed_per_sec(&self) -> f64 {
        self.committed_in_load as f64 / self.load_end.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

pub fn run(args: &LoadArgs) -> anyhow::Result<()> {
    ensure!(args.accounts >= 2, "--accounts must be at least 2");
    ensure!(!args.rate.is_empty() && args.rate.iter().all(|r| *r >= 1), "--rate must be positive");
    ensure!(args.connections != Some(0), "--connections must be positive");
    ensure!(!args.duration.is_zero(), "--duration must be positive");
    ensure!(matches!(args.tx_index.as_str(), "kv" | "null"), "--tx-index must be kv or null");
    ensure!(
        args.simd_tx_index.as_deref().is_none_or(|i| matches!(i, "kv" | "null")),
        "--simd-tx-index must be kv or null"
    );
    // simd has its own index-events: applying ours to one side would make the comparison unequal.
    ensure!(
        args.index_events.is_empty()
            || (args.node == Node::Paychain && !args.side_by_side && args.rpc.is_empty() && args.localnet.is_none()),
        "--index-events applies to a paychain validator this benchmark starts, not with --side-by-side, --node simd, \
         --rpc or --localnet (compare both chains with --tx-index null instead)"
    );
    let nodes: Vec<Node> = if args.side_by_side { vec![Node::Paychain, Node::Simd] } else { vec![args.node] };
    let runs = args.rate.len() * nodes.len();
    if let Some(home) = &args.home {
        ensure!(!home.exists(), "--home {} already exists; give a new path", home.display());
    }

    let t = Instant::now();
    let accounts = Arc::new(derive_accounts(&first_key_of(&args.seed), args.accounts));
    eprintln!("derived {} load accounts in {} ms", args.accounts, ms(t.elapsed()));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    interrupt::install_interrupt_handlers(&runtime)?;

    let mut summaries = Vec::with_capacity(runs);
    for &rate in &args.rate {
        for &node in &nodes {
            let home = match (&args.home, runs) {
                (Some(home), n) if n > 1 => Some(home.join(format!("{}-{rate}", node.name()))),
                (home, _) => home.clone(),
            };
            if runs > 1 {
                println!("\n=== {} at {rate} tx/s ===", node.name());
            }
            summaries.push(run_once(args, rate, node, home, &runtime, &accounts)?);
        }
    }
    if runs > 1 {
        print_summaries(&summaries, args.side_by_side);
    }
    Ok(())
}

/// One load at `rate` against `node` (when the benchmark starts the validator).
fn run_once(
    args: &LoadArgs,
    rate: u64,
    node: Node,
    home: Option<PathBuf>,
    runtime: &tokio::runtime::Runtime,
    accounts: &Arc<Vec<Account>>,
) -> anyhow::Result<RunSummary> {
    let connections = args.connections.unwrap_or_else(|| default_connections(rate));
    let total = u64::try_from(u128::from(rate) * args.duration.as_millis() / 1000)?;
    let total = usize::try_from(total)?;
    ensure!(total >= 1, "--rate × --duration gives no tx");

    // Before the node starts, so that the speed probe has the machine to itself.
    let machine = paychain_bench_app::report::machine_line();
    // Started from the main thread: the parent-death signal follows the spawning thread.
    let mut target = open_target(args, node, home, runtime, accounts)?;
    println!("load benchmark: {}", target.description);
    println!("  {machine}");
    println!("  CometBFT: {}", target.settings);
    println!(
        "  {} accounts, offered {} tx/s for {} s ({} txs) over {} connections ({:?}), drain up to {} s",
        args.accounts,
        rate,
        args.duration.as_secs_f64(),
        total,
        connections,
        args.broadcast,
        args.drain.as_secs_f64()
    );

    let t = Instant::now();
    let plan = Plan::sign(accounts, &target.accounts, &target.chain, &target.chain_id, total, connections)?;
    println!("signed {total} sends offline in {} ms ({}/s)", ms(t.elapsed()), per_sec(total as u64, t.elapsed()));

    // A started paychain validator's app runs in this process: its phase timers show where the
    // node's time went during the run.
    let app = target.spawned.as_ref().and_then(Spawned::paychain_app);
    let node_before = app.map(|app| {
        timing::set_enabled(true);
        (app.timings(), app.store().timings().total())
    });
    let watched = target
        .spawned
        .as_ref()
        .map(Spawned::watched)
        .unwrap_or_else(|| vec![cpu::Watched { name: "this process (generator)", pid: std::process::id() }]);
    let outcome = runtime.block_on(drive(&plan, &target.rpc_urls, rate, args, &watched));
    let node_phases = app.zip(node_before).map(|(app, (app_before, store_before))| {
        timing::set_enabled(false);
        (app.timings().since(&app_before), app.store().timings().total().since(&store_before))
    });
    if let Some(v) = target.spawned.as_mut() {
        // A crashed node explains a failed run better than the RPC errors it caused.
        v.ensure_running()?;
    }
    let data = outcome?;
    let summary = report(&plan, &data, &target, rate, node, args, node_phases)?;
    if let Some(mut v) = target.spawned.take() {
        v.stop();
    }
    Ok(summary)
}

/// The table after several runs; side by side, paychain's committed tx/s over simd's per rate.
fn print_summaries(summaries: &[RunSummary], side_by_side: bool) {
    println!();
    let cpu = |s: &RunSummary| s.cpu_per_tx_us.map_or_else(|| "?".to_string(), |us| us.to_string());
    println!(
        "| node | offered/s | committed/s | p50 ms | p99 ms | block interval ms | refused | CPU us per committed tx (node + generator) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for s in summaries {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            s.node,
            s.rate,
            s.committed_per_sec(),
            ms(s.p50),
            ms(s.p99),
            ms(s.interval),
            s.refused,
            cpu(s)
        );
    }
    if side_by_side {
        println!();
        println!("| offered/s | paychain committed/s | simd committed/s | ratio | paychain p99 ms | simd p99 ms |");
        println!("| --- | --- | --- | --- | --- | --- |");
        for pair in summaries.chunks(2) {
            let [ours, theirs] = pair else { continue };
            let ratio = ours.committed_per_sec() / theirs.committed_per_sec().max(f64::MIN_POSITIVE);
            println!(
                "| {} | {:.0} | {:.0} | {:.2}x | {} | {} |",
                ours.rate,
                ours.committed_per_sec(),
                theirs.committed_per_sec(),
                ratio,
                ms(ours.p99),
                ms(theirs.p99)
            );
        }
    }
}

/// Connections for `rate` tx/s: twice what the ~50 tx/s a broadcast_tx_sync connection
/// carries would need (see `--connections`).
fn default_connections(rate: u64) -> usize {
    usize::try_from(rate / 25).unwrap_or(usize::MAX).clamp(8, 400)
}

fn open_target(
    args: &LoadArgs,
    node: Node,
    home: Option<PathBuf>,
    runtime: &tokio::runtime::Runtime,
    accounts: &Arc<Vec<Account>>,
) -> anyhow::Result<Target> {
    let chain = match node {
        Node::Simd => ChainFormat::simd(),
        Node::Paychain => ChainFormat::new(&args.bech32_prefix, &args.denom),
    };
    let funds = &chain.coins(FUNDS_PER_ACCOUNT);
    if let Some(dir) = &args.localnet {
        let net = LocalnetTarget::open(dir)?;
        let funder = read_mnemonic_key(&net.faucet_mnemonic)?;
        let client = NodeClient::new(&net.rpc_urls[0])?;
        let on_chain =
            runtime.block_on(fund::ensure_accounts(&client, &chain, &net.chain_id, Some(&funder), accounts, funds))?;
        return Ok(Target {
            label: format!("localnet, {} validators", net.validators),
            chain,
            description: format!(
                "localnet {} ({} validators, submitting to {} nodes: {})",
                dir.display(),
                net.validators,
                net.rpc_urls.len(),
                net.rpc_urls.join(", ")
            ),
            rpc_urls: net.rpc_urls,
            chain_id: net.chain_id,
            settings: format!("{} (the first running node's config)", net.settings.summary()),
            spawned: None,
            accounts: on_chain,
        });
    }
    if !args.rpc.is_empty() {
        let client = NodeClient::new(&args.rpc[0])?;
        let chain_id = runtime.block_on(client.chain_id())?;
        let funder = args.funder_mnemonic_file.as_deref().map(read_mnemonic_key).transpose()?;
        let on_chain =
            runtime.block_on(fund::ensure_accounts(&client, &chain, &chain_id, funder.as_ref(), accounts, funds))?;
        return Ok(Target {
            label: format!("RPC {}", args.rpc.join(", ")),
            chain,
            description: format!("chain {chain_id} at {}", args.rpc.join(", ")),
            rpc_urls: args.rpc.clone(),
            chain_id,
            settings: "as configured on the target (not readable over RPC)".to_string(),
            spawned: None,
            accounts: on_chain,
        });
    }
    let opts = SpawnOptions {
        home,
        cometbft: args.cometbft.clone(),
        timeout_commit: args.timeout_commit.clone(),
        mempool_size: args.mempool_size,
        max_block_bytes: args.max_block_bytes,
        tx_index: match node {
            Node::Simd => args.simd_tx_index.clone().unwrap_or_else(|| args.tx_index.clone()),
            Node::Paychain => args.tx_index.clone(),
        },
        overrides: args.cometbft_config.clone(),
        index_events: args.index_events.clone(),
        node_tx_index: args.node_tx_index || args.via_front,
        via_front: args.via_front,
        mempool_max_wait_ms: args.mempool_max_wait_ms,
        funds: funds.clone(),
    };
    let t = Instant::now();
    let (spawned, rpc_url, chain_id, settings, first_number) = match node {
        Node::Paychain => {
            let (v, first) = SpawnedValidator::start(&opts, accounts)?;
            eprintln!("started a paychain validator in {} ms (home {})", ms(t.elapsed()), v.home.display());
            let (url, settings) = (v.rpc_url.clone(), v.settings.summary());
            (Spawned::Paychain(Box::new(v)), url, target::SPAWNED_CHAIN_ID, settings, first)
        }
        Node::Simd => {
            let bin = args.simd_bin.clone().unwrap_or_else(simd::default_simd_bin);
            let (v, first) = SpawnedSimd::start(&bin, &opts, accounts)?;
            eprintln!("started a simd validator in {} ms (home {})", ms(t.elapsed()), v.home.display());
            let (url, settings) = (v.rpc_url.clone(), v.settings.summary());
            (Spawned::Simd(Box::new(v)), url, simd::SIMD_CHAIN_ID, settings, first)
        }
    };
    let on_chain: Vec<OnChain> =
        (0..accounts.len() as u64).map(|i| OnChain { account_number: first_number + i, sequence: 0 }).collect();
    // The genesis assigned the numbers; check the ends agree with the chain.
    let client = NodeClient::new(&rpc_url)?;
    for i in [0, accounts.len() - 1] {
        let address = chain.address(&accounts[i].address);
        let info = runtime
            .block_on(client.account_by_bech32(&address, None))?
            .ok_or_else(|| anyhow!("genesis account {address} is missing on the chain"))?;
        ensure!(info.account_number == on_chain[i].account_number, "genesis account {i} has an unexpected number");
    }
    Ok(Target {
        label: format!("1 {} validator (started)", node.name()),
        chain,
        description: format!("a single {} validator started for this run, {rpc_url}", node.name()),
        rpc_urls: vec![rpc_url],
        chain_id: chain_id.to_string(),
        settings,
        spawned: Some(spawned),
        accounts: on_chain,
    })
}

fn read_mnemonic_key(path: &std::path::Path) -> anyhow::Result<secp256k1::SecretKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    paychain_client::keyring::derive_private_key(text.trim(), paychain_client::keyring::DEFAULT_HD_PATH)
        .with_context(|| format!("deriving the key of {}", path.display()))
}

/// The signed txs and who sends which.
struct Plan {
    txs: Arc<Vec<Vec<u8>>>,
    /// Tx hash (sha256 of the bytes) to its index.
    index_of: HashMap<[u8; 32], usize>,
    /// Tx indexes each connection sends, ascending. Every account belongs to one connection,
    /// so its sends reach CheckTx in sequence order.
    per_connection: Vec<Vec<usize>>,
}

impl Plan {
    /// Tx `j` is sent by account `j mod K` with its next sequence, to the next account.
    fn sign(
        accounts: &[Account],
        on_chain: &[OnChain],
        chain: &ChainFormat,
        chain_id: &str,
        total: usize,
        connections: usize,
    ) -> anyhow::Result<Self> {
        let k = accounts.len();
        let amount = chain.coins(1);
        let fee = chain.load_fee();
        let txs: Vec<Vec<u8>> = (0..total)
            .into_par_iter()
            .map(|j| {
                let from = j % k;
                Send {
                    from: &accounts[from],
                    to: &accounts[(from + 1) % k].address,
                    amount: &amount,
                    account_number: on_chain[from].account_number,
                    sequence: on_chain[from].sequence + (j / k) as u64,
                }
                .sign_with_prefix(chain_id, &fee, &chain.prefix)
            })
            .collect();
        let hashes: Vec<[u8; 32]> = txs.par_iter().map(|t| Sha256::digest(t).into()).collect();
        let index_of = hashes.into_iter().enumerate().map(|(j, h)| (h, j)).collect();
        let mut per_connection = vec![Vec::new(); connections];
        for j in 0..total {
            per_connection[(j % k) % connections].push(j);
        }
        Ok(Self { txs: Arc::new(txs), index_of, per_connection })
    }
}

/// What happened to one submitted tx.
#[derive(Clone, Debug)]
struct Submission {
    /// When it was due and when it first went out, since the start of the load.
    due: Duration,
    sent: Duration,
    /// How often it was sent again after "mempool is full" (`--resend-when-full`).
    resends: u32,
    /// `None` if the node took it; else why not (normalized, to group reasons).
    refused: Option<String>,
}

/// One block after the load started.
#[derive(Clone, Debug)]
struct SeenBlock {
    height: u64,
    /// When `/status` first showed this height, since the start of the load.
    seen: Duration,
    header_time: tendermint::Time,
    txs: usize,
    /// Positions in the block of our txs.
    ours: Vec<usize>,
}

/// Everything a run observed.
struct RunData {
    submissions: Vec<Option<Submission>>,
    /// Duration of the submission phase (the last send).
    load_end: Duration,
    /// How long the wait for commits after it took.
    drained: Duration,
    blocks: Vec<SeenBlock>,
    /// Tx index to the height that committed it.
    committed: HashMap<usize, u64>,
    /// Our committed txs whose execution failed: count and a sample log; `None` when the node
    /// keeps no block results (`storage.discard_abci_responses`).
    failed: Option<(u64, Option<String>)>,
    /// Mempool sizes sampled during the load.
    mempool: Vec<u64>,
    status_errors: u64,
    /// CPU the watched processes used while the load was offered.
    cpu: cpu::CpuUse,
}

/// What the observer task records while the load runs.
#[derive(Default)]
struct Observed {
    /// Heights, in order, with when each was first seen.
    heights: Vec<(u64, Duration)>,
    mempool: Vec<u64>,
    status_errors: u64,
}

async fn drive(
    plan: &Plan,
    urls: &[String],
    rate: u64,
    args: &LoadArgs,
    watched: &[cpu::Watched],
) -> anyhow::Result<RunData> {
    let reader = NodeClient::new(&urls[0])?;
    let start_height = reader.latest_height().await?;
    let observed = Arc::new(Mutex::new(Observed::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_at_start = cpu::sample(watched);
    let t0 = Instant::now();
    let observer = tokio::spawn(observe(reader.clone(), start_height, t0, observed.clone(), stop.clone()));

    let interval_nanos = 1_000_000_000u128 / u128::from(rate);
    let mut workers = Vec::with_capacity(plan.per_connection.len());
    for (c, indexes) in plan.per_connection.iter().enumerate() {
        let client = NodeClient::new(&urls[c % urls.len()])?;
        let (txs, indexes) = (plan.txs.clone(), indexes.clone());
        let load_ends = args.resend_when_full.then(|| t0 + args.duration + LOAD_END_GRACE);
        let sending = Sending { t0, interval_nanos, mode: args.broadcast, load_ends };
        workers.push(tokio::spawn(submit(client, txs, indexes, sending)));
    }
    let mut submissions = vec![None; plan.txs.len()];
    for w in workers {
        for (j, s) in w.await.context("submitting task")? {
            submissions[j] = Some(s);
        }
    }
    if let Err(e) = interrupt::check_interrupted() {
        stop.store(true, Ordering::Relaxed);
        return Err(e);
    }
    let load_end = t0.elapsed();
    let cpu = cpu_at_start.until(&cpu::sample(watched));
    let accepted = submissions.iter().flatten().filter(|s| s.refused.is_none()).count();
    eprintln!("load done after {} ms; waiting for {accepted} accepted txs to commit ...", ms(load_end));

    // Collect blocks (and our txs in them) until every accepted tx is in one or the drain ends.
    let drain_start = Instant::now();
    let drain_end = drain_start + args.drain;
    let mut blocks = Vec::new();
    let mut committed = HashMap::new();
    let mut next_height = start_height + 1;
    loop {
        let seen: Vec<(u64, Duration)> = observed
            .lock()
            .expect("observer lock")
            .heights
            .iter()
            .copied()
            .filter(|(h, _)| *h >= next_height)
            .collect();
        for (height, seen_at) in seen {
            let block = fetch_block(&reader, height).await?;
            let mut ours = Vec::new();
            for (position, tx) in block.data.iter().enumerate() {
                let hash: [u8; 32] = Sha256::digest(tx).into();
                if let Some(&j) = plan.index_of.get(&hash) {
                    committed.insert(j, height);
                    ours.push(position);
                }
            }
            blocks.push(SeenBlock {
                height,
                seen: seen_at,
                header_time: block.header.time,
                txs: block.data.len(),
                ours,
            });
            next_height = height + 1;
        }
        if committed.len() >= accepted || Instant::now() >= drain_end || interrupt::interrupted() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained = drain_start.elapsed();
    stop.store(true, Ordering::Relaxed);
    observer.await.context("observer task")?;
    interrupt::check_interrupted()?;
    let observed = std::mem::take(&mut *observed.lock().expect("observer lock"));
    let failed = failed_txs(&reader, &blocks).await?;
    Ok(RunData {
        submissions,
        load_end,
        drained,
        blocks,
        committed,
        failed,
        mempool: observed.mempool,
        status_errors: observed.status_errors,
        cpu,
    })
}

/// How a connection sends its txs.
#[derive(Clone, Copy)]
struct Sending {
    t0: Instant,
    interval_nanos: u128,
    mode: Broadcast,
    /// `--resend-when-full`: resend "mempool is full" refusals until then, and send nothing after.
    load_ends: Option<Instant>,
}

/// How late after `--duration` a resending client still sends (the last txs are due just
/// before it; a generator keeping up sends them within milliseconds).
const LOAD_END_GRACE: Duration = Duration::from_secs(1);

/// How long a resending client waits before trying a full mempool again.
const RESEND_AFTER: Duration = Duration::from_millis(50);

/// Sends `indexes` in order, each at its due time (`t0 + j / rate`), or at once when late.
async fn submit(
    client: NodeClient,
    txs: Arc<Vec<Vec<u8>>>,
    indexes: Vec<usize>,
    how: Sending,
) -> Vec<(usize, Submission)> {
    let mut out = Vec::with_capacity(indexes.len());
    for j in indexes {
        if interrupt::interrupted() {
            break;
        }
        let due = Duration::from_nanos(u64::try_from(j as u128 * how.interval_nanos).unwrap_or(u64::MAX));
        tokio::time::sleep_until((how.t0 + due).into()).await;
        if how.load_ends.is_some_and(|end| Instant::now() >= end) {
            break; // the load is over; this connection's remaining txs are not sent
        }
        let sent = how.t0.elapsed();
        let mut resends = 0;
        let refused = loop {
            let refused = broadcast(&client, &txs[j], how.mode).await;
            let retry = how.load_ends.is_some_and(|end| Instant::now() + RESEND_AFTER < end)
                && refused.as_deref().is_some_and(is_mempool_full);
            if !retry || interrupt::interrupted() {
                break refused;
            }
            resends += 1;
            tokio::time::sleep(RESEND_AFTER).await;
        };
        out.push((j, Submission { due, sent, resends, refused }));
    }
    out
}

/// Sends one tx: `None` if the node took it, else why not (normalized).
async fn broadcast(client: &NodeClient, tx: &[u8], mode: Broadcast) -> Option<String> {
    match mode {
        Broadcast::Sync => match client.http().broadcast_tx_sync(tx.to_vec()).await {
            Ok(r) if r.code.is_ok() => None,
            Ok(r) => Some(format!("CheckTx code {} ({}): {}", r.code.value(), r.codespace, normalize(&r.log))),
            Err(e) => Some(format!("RPC error: {}", normalize(&rpc_error_text(&e)))),
        },
        Broadcast::Async => match client.http().broadcast_tx_async(tx.to_vec()).await {
            Ok(r) if r.code.is_ok() => None,
            Ok(r) => Some(format!("code {}: {}", r.code.value(), normalize(&r.log))),
            Err(e) => Some(format!("RPC error: {}", normalize(&rpc_error_text(&e)))),
        },
    }
}

/// CometBFT's refusal of a tx because its mempool holds `mempool.size` txs (or bytes): the one
/// refusal a client should simply retry.
fn is_mempool_full(reason: &str) -> bool {
    reason.contains("mempool is full")
}

/// A reason with its numbers blanked, so "expected 5, got 6" and "expected 7, got 8" group.
fn normalize(reason: &str) -> String {
    let mut out: String = reason.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
    out.truncate(out.char_indices().nth(120).map_or(out.len(), |(i, _)| i));
    out
}

/// Polls `/status` every [`HEIGHT_POLL`] (recording when each new height is first seen) and
/// the mempool size every [`MEMPOOL_POLL`], until `stop`.
async fn observe(
    client: NodeClient,
    start_height: u64,
    t0: Instant,
    observed: Arc<Mutex<Observed>>,
    stop: Arc<AtomicBool>,
) {
    let http = reqwest::Client::new();
    let mempool_url = format!("{}/num_unconfirmed_txs", client.url().trim_end_matches('/'));
    let mut last = start_height;
    let mut next_mempool_sample = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match client.http().status().await {
            Ok(s) => {
                let height = s.sync_info.latest_block_height.value();
                let now = t0.elapsed();
                let mut o = observed.lock().expect("observer lock");
                o.heights.extend((last + 1..=height).map(|h| (h, now)));
                last = last.max(height);
            }
            Err(_) => observed.lock().expect("observer lock").status_errors += 1,
        }
        if Instant::now() >= next_mempool_sample {
            next_mempool_sample += MEMPOOL_POLL;
            if let Some(n) = mempool_size(&http, &mempool_url).await {
                observed.lock().expect("observer lock").mempool.push(n);
            }
        }
        tokio::time::sleep(HEIGHT_POLL).await;
    }
}

/// `n_txs` of `/num_unconfirmed_txs` (tendermint-rpc has no wrapper for it).
async fn mempool_size(http: &reqwest::Client, url: &str) -> Option<u64> {
    let body: serde_json::Value = http.get(url).send().await.ok()?.json().await.ok()?;
    body["result"]["n_txs"].as_str()?.parse().ok()
}

async fn fetch_block(client: &NodeClient, height: u64) -> anyhow::Result<tendermint::Block> {
    let h = tendermint::block::Height::try_from(height)?;
    let r = client.http().block(h).await.map_err(|e| anyhow!("reading block {height}: {}", rpc_error_text(&e)))?;
    Ok(r.block)
}

/// Our committed txs that failed in execution (every load tx should succeed); `None` when the
/// node keeps no block results (CometBFT's `storage.discard_abci_responses`).
async fn failed_txs(client: &NodeClient, blocks: &[SeenBlock]) -> anyhow::Result<Option<(u64, Option<String>)>> {
    let mut failed = 0u64;
    let mut sample = None;
    for b in blocks.iter().filter(|b| !b.ours.is_empty()) {
        let h = tendermint::block::Height::try_from(b.height)?;
        let results = match client.http().block_results(h).await {
            Ok(r) => r.txs_results.unwrap_or_default(),
            Err(e) if rpc_error_text(&e).contains("not persisting finalize block responses") => return Ok(None),
            Err(e) => bail!("reading the results of block {}: {}", b.height, rpc_error_text(&e)),
        };
        for &position in &b.ours {
            let result =
                results.get(position).ok_or_else(|| anyhow!("block {} has no result for tx {position}", b.height))?;
            if result.code.is_err() {
                failed += 1;
                sample.get_or_insert_with(|| {
                    format!("height {}: code {}: {}", b.height, result.code.value(), result.log)
                });
            }
        }
    }
    Ok(Some((failed, sample)))
}

fn report(
    plan: &Plan,
    data: &RunData,
    target: &Target,
    rate: u64,
    node: Node,
    args: &LoadArgs,
    node_phases: Option<(AppTimingsTotal, StoreTimingsTotal)>,
) -> anyhow::Result<RunSummary> {
    let submitted: Vec<&Submission> = data.submissions.iter().flatten().collect();
    let accepted = submitted.iter().filter(|s| s.refused.is_none()).count();
    let resends: u64 = submitted.iter().map(|s| u64::from(s.resends)).sum();
    let resent = submitted.iter().filter(|s| s.resends > 0).count();
    let mut reasons: HashMap<&str, u64> = HashMap::new();
    for s in &submitted {
        if let Some(r) = &s.refused {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    let mut lateness: Vec<Duration> = submitted.iter().map(|s| s.sent.saturating_sub(s.due)).collect();
    lateness.sort();

    let seen_at: HashMap<u64, Duration> = data.blocks.iter().map(|b| (b.height, b.seen)).collect();
    let mut latencies: Vec<Duration> = data
        .committed
        .iter()
        .filter_map(|(j, h)| Some(seen_at.get(h)?.saturating_sub(data.submissions[*j].as_ref()?.sent)))
        .collect();
    latencies.sort();
    let committed_in_load =
        data.committed.values().filter(|h| seen_at.get(h).is_some_and(|seen| *seen <= data.load_end)).count() as u64;
    let last_commit = data.blocks.iter().filter(|b| !b.ours.is_empty()).map(|b| b.seen).max().unwrap_or_default();

    // Blocks committed during the load: intervals by header time (the chain's block time) and
    // by when this process saw them.
    let during: Vec<&SeenBlock> = data.blocks.iter().filter(|b| b.seen <= data.load_end).collect();
    let header_intervals: Vec<Duration> = during
        .windows(2)
        .filter(|w| w[1].height == w[0].height + 1)
        .filter_map(|w| w[1].header_time.duration_since(w[0].header_time).ok())
        .collect();
    let seen_intervals: Vec<Duration> = during
        .windows(2)
        .filter(|w| w[1].height == w[0].height + 1)
        .map(|w| w[1].seen.saturating_sub(w[0].seen))
        .collect();
    let txs_per_block: Vec<usize> = during.iter().map(|b| b.txs).collect();
    let mempool_max = data.mempool.iter().max().copied().unwrap_or(0);
    let mempool_mean =
        if data.mempool.is_empty() { 0 } else { data.mempool.iter().sum::<u64>() / data.mempool.len() as u64 };

    println!();
    println!(
        "submitted {} of {} txs in {} s ({} tx/s achieved); accepted {accepted}, refused {}",
        submitted.len(),
        plan.txs.len(),
        format_secs(data.load_end),
        per_sec(submitted.len() as u64, data.load_end),
        submitted.len() - accepted
    );
    let mut reasons: Vec<(&str, u64)> = reasons.into_iter().collect();
    reasons.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (reason, n) in reasons.iter().take(SHOWN_REASONS) {
        println!("  refused {n}×: {reason}");
    }
    if args.resend_when_full {
        println!("  resent after \"mempool is full\": {resent} txs, {resends} resends in all");
        println!("  not sent: {} (the load ended before this client reached them)", plan.txs.len() - submitted.len());
    }
    println!(
        "  sending lag behind schedule: p50 {} ms, p99 {} ms, max {} ms (large = the generator or the node could not keep up)",
        ms(quantile(&lateness, 0.5)),
        ms(quantile(&lateness, 0.99)),
        ms(lateness.last().copied().unwrap_or_default())
    );
    let failed_text = match &data.failed {
        Some((n, first)) => {
            format!("{n} failed in execution{}", first.as_ref().map(|s| format!(" (first: {s})")).unwrap_or_default())
        }
        None => "failures in execution unknown (the node keeps no block results)".to_string(),
    };
    println!(
        "committed {} of {accepted} accepted txs ({} not seen within the drain); {failed_text}",
        data.committed.len(),
        accepted.saturating_sub(data.committed.len()),
    );
    println!(
        "committed tx/s: {} during the load ({} txs in {} s), {} overall (all commits by {} s)",
        per_sec(committed_in_load, data.load_end),
        committed_in_load,
        format_secs(data.load_end),
        per_sec(data.committed.len() as u64, last_commit),
        format_secs(last_commit)
    );
    println!(
        "submit-to-commit latency: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms (resolution {} ms)",
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.9)),
        ms(quantile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        HEIGHT_POLL.as_millis()
    );
    println!(
        "blocks during the load: {}, interval median {} ms by header time ({} ms as seen here), txs per block median {} max {}",
        during.len(),
        ms(median(&header_intervals)),
        ms(median(&seen_intervals)),
        median_usize(&txs_per_block),
        txs_per_block.iter().max().copied().unwrap_or(0)
    );
    println!(
        "mempool during the load: mean {mempool_mean} txs, max {mempool_max} txs ({} samples)",
        data.mempool.len()
    );
    println!("{}", data.cpu.line(committed_in_load));
    if data.status_errors > 0 {
        println!("warning: {} /status polls failed", data.status_errors);
    }
    if let Some((app, store)) = node_phases {
        print_node_phases(&app, &store, data.load_end + data.drained);
    }
    if let Some(path) = &args.blocks_csv {
        write_csv(path, &data.blocks)?;
        println!("per-block data in {}", path.display());
    }
    println!();
    println!("docs/benchmarks.md row:");
    println!(
        "| {} | {} | {} | {} | {} s | {} | {} | {} | {} | {} | {} | {} |",
        today(),
        target.label,
        args.accounts,
        rate,
        format_secs(args.duration),
        per_sec(committed_in_load, data.load_end),
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.99)),
        ms(median(&header_intervals)),
        median_usize(&txs_per_block),
        submitted.len() - accepted,
        target.settings
    );
    if let Some((failed, _)) = data.failed.as_ref().filter(|(n, _)| *n > 0) {
        bail!("{failed} committed load txs failed in execution");
    }
    Ok(RunSummary {
        node: node.name(),
        rate,
        committed_in_load,
        load_end: data.load_end,
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
        interval: median(&header_intervals),
        refused: submitted.len() - accepted,
        // Only a node this run started has its processes watched.
        cpu_per_tx_us: target.spawned.as_ref().and(data.cpu.total_per_tx_us(committed_in_load)),
    })
}

/// Where the started validator's app spent the run (sums; several phases run beside each other
/// on the 2 cores, so shares of the wall time may add up to more than 100%).
fn print_node_phases(app: &AppTimingsTotal, store: &StoreTimingsTotal, wall: Duration) {
    let line = |name: &str, t: &PhaseTotal| {
        println!(
            "  {:<40} {:>9} ms {:>7} of the run, {:>8} calls, {:>8} us each",
            name,
            ms(t.duration()),
            percent(t.duration(), wall),
            t.count,
            us(average(t.duration(), t.count))
        );
    };
    println!("the app during the run ({} s, timers summed):", format_secs(wall));
    line("CheckTx: parallel signature pass", &app.check_tx_preverify);
    line("CheckTx (new and recheck)", &app.check_tx);
    line("FinalizeBlock: decode", &app.decode);
    line("FinalizeBlock: signature pass", &app.signature_prepass);
    line("FinalizeBlock: execution", &app.execute);
    line("FinalizeBlock: Merkle update", &store.prepare);
    line("Commit: filling the batch", &store.commit_batch);
    line("Commit: synced RocksDB write", &store.commit_write);
    line("secp256k1 verifications (CPU)", &app.signature_verifications);
    println!("  signature checks answered by the cache: {}", app.signature_cache_hits.count);
}

fn format_secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

fn median_usize(values: &[usize]) -> usize {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0)
}

fn write_csv(path: &std::path::Path, blocks: &[SeenBlock]) -> anyhow::Result<()> {
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
    writeln!(out, "height,seen_ms,header_time,txs,ours")?;
    for b in blocks {
        writeln!(out, "{},{},{},{},{}", b.height, b.seen.as_millis(), b.header_time.to_rfc3339(), b.txs, b.ours.len())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_group_without_their_numbers() {
        assert_eq!(
            normalize("account sequence mismatch, expected 5, got 16"),
            "account sequence mismatch, expected #, got ##"
        );
        assert_eq!(normalize(&"x".repeat(300)).len(), 120);
    }

    #[test]
    fn only_a_full_mempool_is_resent() {
        // CometBFT v0.38's ErrMempoolIsFull, as the RPC error reaches us and after normalizing.
        let full = "mempool is full: number of txs 10000 (max: 10000), total txs bytes 2403551 (max: 1073741824)";
        assert!(is_mempool_full(&format!("RPC error: {}", normalize(full))));
        // Our app's admission refusal (sdk code 20), as a CheckTx result.
        let ours = "CheckTx code 20 (sdk): 9000 txs are waiting for a block; resend later: mempool is full";
        assert!(is_mempool_full(&normalize(ours)));
        assert!(!is_mempool_full(&normalize("CheckTx code 32 (sdk): account sequence mismatch, expected 5, got 6")));
        assert!(!is_mempool_full("RPC error: tx already exists in cache"));
    }

    #[test]
    fn each_account_is_sent_by_one_connection_in_order() {
        let accounts = derive_accounts(&first_key_of("test"), 5);
        let on_chain = vec![OnChain { account_number: 0, sequence: 0 }; 5];
        let plan = Plan::sign(&accounts, &on_chain, &ChainFormat::paychain(), "c-1", 23, 3).unwrap();
        let mut owner = HashMap::new();
        for (c, idx) in plan.per_connection.iter().enumerate() {
            assert!(idx.windows(2).all(|w| w[0] < w[1]));
            for j in idx {
                assert_eq!(*owner.entry(j % 5).or_insert(c), c, "account {} on two connections", j % 5);
            }
        }
        assert_eq!(plan.per_connection.iter().map(Vec::len).sum::<usize>(), 23);
        assert_eq!(plan.index_of.len(), 23);
    }
}
