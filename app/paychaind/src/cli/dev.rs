//! `paychaind dev`: a single-validator dev chain in one command. Creates (or
//! reuses) a home with a funded dev key, runs the app in-process and CometBFT
//! as a child process, and stops both on Ctrl-C / SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use clap::Args;

use crate::cometbft::{self, ConfigPatch, TxIndexer};
use crate::home::{init_home, InitOptions, LoopbackRpc};
use crate::supervisor::ShutdownSignals;
use paychain_client::cli::Ctx;
use paychain_client::keyring::{self, Backend, Keyring, Secret, DEFAULT_HD_PATH};
use paychain_node::config::AppConfig;

/// Chain id of a new dev chain unless `--chain-id` says otherwise.
pub const DEFAULT_CHAIN_ID: &str = "paychain-dev-1";
/// Name of the funded key in the test keyring.
pub const DEV_KEY: &str = "dev";
/// File in the home that keeps the dev mnemonic for later runs.
pub const MNEMONIC_FILE: &str = "dev-mnemonic.txt";
/// CometBFT's log on the dev console: startup and one line per block, errors otherwise.
const DEV_COMETBFT_LOG_LEVEL: &str = "main:info,state:info,*:error";

#[derive(Args, Debug)]
pub struct DevArgs {
    /// Chain id of a new dev chain [default: paychain-dev-1]
    #[arg(long)]
    pub chain_id: Option<String>,
    /// The node's RPC port (loopback), for wallets and relayers: the node's RPC front (tx,
    /// tx_search and block_search from the node's own index, the rest passed to CometBFT)
    #[arg(long, default_value_t = 26657, value_parser = clap::value_parser!(u16).range(1..))]
    pub rpc_port: u16,
    /// CometBFT's own RPC port behind the front (loopback); 0 = no front: CometBFT serves
    /// --rpc-port itself and indexes txs itself (kv)
    #[arg(long, default_value_t = 26667)]
    pub cometbft_rpc_port: u16,
    /// CometBFT p2p port (loopback)
    #[arg(long, default_value_t = 26656, value_parser = clap::value_parser!(u16).range(1..))]
    pub p2p_port: u16,
    /// ABCI port the app serves CometBFT on (loopback)
    #[arg(long, default_value_t = 26658, value_parser = clap::value_parser!(u16).range(1..))]
    pub abci_port: u16,
    /// gRPC server port (loopback; 0 = off)
    #[arg(long, default_value_t = 9090)]
    pub grpc_port: u16,
    /// REST (LCD) server port (loopback; 0 = off)
    #[arg(long, default_value_t = 1317)]
    pub rest_port: u16,
    /// Prometheus metrics port, GET /metrics (loopback; 0 = off)
    #[arg(long, default_value_t = 26661)]
    pub metrics_port: u16,
    /// CometBFT's own tx and block indexer (config.toml `[tx_index] indexer`); the front
    /// answers from the node's index, so CometBFT's need not run [default: null on a new home
    /// with the front, kv without it]
    #[arg(long, value_enum)]
    pub cometbft_indexer: Option<TxIndexer>,
    /// Lowest gas price the mempool accepts, e.g. 0.025upay (kept in app.toml) [default on a new home: none]
    #[arg(long)]
    pub minimum_gas_prices: Option<String>,
    /// Block interval (CometBFT timeout_commit) [default on a new home: 500ms]
    #[arg(long)]
    pub timeout_commit: Option<String>,
    /// Coins given to the dev key in a new genesis
    #[arg(long, default_value = "1000000000000upay")]
    pub dev_funds: String,
    /// Log filter for the app, e.g. info or paychaind=debug,info [default: app.toml's]
    #[arg(long)]
    pub log_level: Option<String>,
    /// Log line format for the app [default: app.toml's]
    #[arg(long, value_enum)]
    pub log_format: Option<paychain_node::config::LogFormat>,
    /// The cometbft binary [default: from PATH or ~/go/bin]
    #[arg(long, env = "PAYCHAIN_COMETBFT", value_name = "PATH")]
    pub cometbft: Option<PathBuf>,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The dev key and, when known, its mnemonic.
struct DevKey {
    info: keyring::KeyInfo,
    mnemonic: Option<String>,
}

fn load_dev_key(kr: &Keyring) -> anyhow::Result<Option<DevKey>> {
    if !kr.exists(DEV_KEY) {
        return Ok(None);
    }
    let info = kr.get(DEV_KEY)?;
    let secret = kr.secret(DEV_KEY, None)?;
    let mnemonic = match &secret {
        Secret::Mnemonic { mnemonic, .. } => Some(mnemonic.clone()),
        Secret::PrivateKey { .. } => None,
    };
    Ok(Some(DevKey { info, mnemonic }))
}

/// Creates a new dev home: dev key (reused if the keyring already has one),
/// CometBFT + app config, and a genesis funding the key.
fn create_home(comet: &cometbft::CometBft, home: &Path, args: &DevArgs, kr: &Keyring) -> anyhow::Result<()> {
    let funds = crate::genesis_file::parse_positive_coins(&args.dev_funds).context("--dev-funds")?;
    // The key is stored before the home is written: if init fails half way,
    // the next run finds and funds the same key instead of a new one.
    let address = match load_dev_key(kr)? {
        Some(k) => k.info.address,
        None => {
            let mnemonic = keyring::generate_mnemonic();
            kr.add(DEV_KEY, &Secret::mnemonic(&mnemonic, DEFAULT_HD_PATH)?, None)?.address
        }
    };
    let opts = InitOptions {
        moniker: "paychain-dev".to_string(),
        chain_id: args.chain_id.clone().unwrap_or_else(|| DEFAULT_CHAIN_ID.to_string()),
        denom: crate::home::DEFAULT_DENOM.to_string(),
        rpc_laddr: args.rpc().cometbft_laddr(),
        rpc_front: args.rpc_front(),
        // Loopback only: a dev chain has no peers.
        p2p_laddr: format!("tcp://{}", loopback(args.p2p_port)),
        abci_address: loopback(args.abci_port),
        // A payments chain: short blocks, and room in the mempool for a few blocks of sends.
        timeout_commit: args.timeout_commit.clone().unwrap_or_else(|| "500ms".to_string()),
        mempool_size: 10_000,
        minimum_gas_prices: args.minimum_gas_prices.clone().unwrap_or_default(),
        overwrite: false,
        cometbft_log_level: Some(DEV_COMETBFT_LOG_LEVEL.to_string()),
        accounts: vec![(address.clone(), funds)],
        // The dev key decides the chain's governed settings (fee tokens, params).
        authority: Some(address),
    };
    init_home(comet, home, &opts)
}

impl DevArgs {
    fn rpc(&self) -> LoopbackRpc {
        LoopbackRpc { rpc: self.rpc_port, cometbft_rpc: self.cometbft_rpc_port }
    }

    /// Where the node's RPC front listens, if it runs.
    fn rpc_front(&self) -> Option<SocketAddr> {
        self.rpc().front()
    }
}

/// Points an existing home at the requested ports (and block time / gas
/// price when given), so `--rpc-port` etc. always mean what they say.
fn update_home(home: &Path, args: &DevArgs) -> anyhow::Result<()> {
    for f in [cometbft::config_toml_path(home), cometbft::genesis_path(home), AppConfig::path(home)] {
        if !f.exists() {
            bail!(
                "{} is incompletely initialized ({} is missing); remove it or pick another --home",
                home.display(),
                f.display()
            );
        }
    }
    cometbft::patch_config_file(
        home,
        &ConfigPatch {
            proxy_app: Some(format!("tcp://{}", loopback(args.abci_port))),
            rpc_laddr: Some(args.rpc().cometbft_laddr()),
            p2p_laddr: Some(format!("tcp://{}", loopback(args.p2p_port))),
            timeout_commit: args.timeout_commit.clone(),
            // An existing home keeps its indexer unless told; without the front, CometBFT's is
            // the only index, so it is turned on.
            tx_indexer: args.cometbft_indexer.or((args.cometbft_rpc_port == 0).then_some(TxIndexer::Kv)),
            ..Default::default()
        },
    )?;
    let mut config = AppConfig::load(home)?;
    let before = config.clone();
    config.abci_address = loopback(args.abci_port);
    set_api_ports(&mut config, args)?;
    if let Some(p) = &args.minimum_gas_prices {
        config.minimum_gas_prices = p.clone();
    }
    if config != before {
        config.save(home)?;
    }
    Ok(())
}

/// Points the app's gRPC/REST servers, its RPC front and its CometBFT RPC client at the dev ports.
fn set_api_ports(config: &mut AppConfig, args: &DevArgs) -> anyhow::Result<()> {
    let addr = |port: u16| if port == 0 { String::new() } else { loopback(port).to_string() };
    config.grpc_address = addr(args.grpc_port);
    config.rest_address = addr(args.rest_port);
    config.metrics_address = addr(args.metrics_port);
    crate::home::set_rpc_layout(config, &args.rpc().cometbft_laddr(), args.rpc_front())
}

fn validate_args(args: &DevArgs) -> anyhow::Result<()> {
    if let Some(c) = &args.chain_id {
        crate::home::validate_chain_id(c)?;
    }
    let ports: Vec<u16> = [
        args.rpc_port,
        args.p2p_port,
        args.abci_port,
        args.grpc_port,
        args.rest_port,
        args.metrics_port,
        args.cometbft_rpc_port,
    ]
    .into_iter()
    .filter(|p| *p != 0)
    .collect();
    if (1..ports.len()).any(|i| ports[..i].contains(&ports[i])) {
        bail!(
            "--rpc-port, --p2p-port, --abci-port, --grpc-port, --rest-port, --metrics-port, --cometbft-rpc-port \
             must differ ({ports:?})"
        );
    }
    if args.cometbft_rpc_port == 0 && args.cometbft_indexer == Some(TxIndexer::Null) {
        bail!(
            "--cometbft-rpc-port 0 --cometbft-indexer null: without the RPC front nothing would answer tx and \
             tx_search; drop one of them"
        );
    }
    if let Some(p) = &args.minimum_gas_prices {
        paychain_tx::fees::parse_gas_prices(p).map_err(|e| anyhow!("--minimum-gas-prices {p:?}: {}", e.log))?;
    }
    if let Some(t) = &args.timeout_commit {
        cometbft::validate_go_duration(t).map_err(|e| anyhow!("--timeout-commit: {e}"))?;
    }
    crate::genesis_file::parse_positive_coins(&args.dev_funds).context("--dev-funds")?;
    Ok(())
}

pub fn run(ctx: &Ctx, args: DevArgs) -> anyhow::Result<ExitCode> {
    validate_args(&args)?;
    // Check CometBFT before touching the home: nothing to clean up if it is missing.
    let comet = cometbft::require(args.cometbft.as_deref())?;
    let home = ctx.home_or(".paychain-dev")?;
    let kr = Keyring::open(&home, Backend::Test);

    let fresh = [cometbft::config_toml_path(&home), cometbft::genesis_path(&home), AppConfig::path(&home)]
        .iter()
        .all(|p| !p.exists());
    if fresh {
        create_home(&comet, &home, &args, &kr)?;
    }
    // Also on a new home: ports given as flags must mean what they say.
    update_home(&home, &args)?;

    let genesis = crate::genesis_file::read_genesis(&cometbft::genesis_path(&home))?;
    let chain_id = genesis["chain_id"].as_str().unwrap_or_default().to_string();
    if let Some(wanted) = args.chain_id.as_deref().filter(|c| *c != chain_id) {
        // The chain id is fixed by the existing genesis; say so rather than pretend.
        eprintln!(
            "warning: {} already holds chain {chain_id:?}; --chain-id {wanted} applies only to a new home",
            home.display()
        );
    }
    let dev_key = load_dev_key(&kr)?;
    if let Some(DevKey { mnemonic: Some(m), .. }) = &dev_key {
        let path = home.join(MNEMONIC_FILE);
        if !path.exists() {
            keyring::write_private_file(&home, &path, format!("{m}\n").as_bytes())?;
        }
    }
    print_banner(&home, &chain_id, &args, dev_key.as_ref(), fresh);
    let comet_indexer = cometbft::read_config_string(&home, Some("tx_index"), "indexer")?;
    if args.rpc_front().is_some() && args.cometbft_indexer.is_none() && comet_indexer.as_deref() == Some("kv") {
        // A home from before the front: both index until told otherwise.
        println!(
            "note: CometBFT's kv indexer is on beside the node's index (a home made before the RPC front); \
             --cometbft-indexer null turns it off once the node's index holds the blocks you look up"
        );
    }

    let config = AppConfig::load(&home)?;
    super::logging::init_tracing(
        args.log_level.as_deref().unwrap_or(&config.log_level),
        args.log_format.unwrap_or(config.log_format),
    )?;

    let rt = paychain_client::cli::runtime()?;
    let mut signals = {
        let _ctx = rt.enter();
        ShutdownSignals::new()?
    };
    let node = paychain_node::node::start(&home, &config).context("starting the app")?;
    tracing::info!(abci = %node.abci_addr, "app serving ABCI; starting CometBFT");

    crate::supervisor::run_with_cometbft(&rt, &mut signals, &comet, &home, node)
}

fn print_banner(home: &Path, chain_id: &str, args: &DevArgs, key: Option<&DevKey>, fresh: bool) {
    let line = "=".repeat(78);
    let h = home.display();
    println!("{line}");
    println!("paychain dev chain {chain_id:?} ({} home {h})", if fresh { "new" } else { "existing" });
    match key {
        Some(k) => {
            println!("  dev key:    {DEV_KEY} (keyring-backend test), address {}", k.info.address);
            if let Some(m) = &k.mnemonic {
                println!("  mnemonic:   {m}");
                println!("              (also in {})", home.join(MNEMONIC_FILE).display());
            }
        }
        None => println!("  no {DEV_KEY:?} key in {}", home.join("keyring-test").display()),
    }
    match args.rpc_front() {
        Some(_) => println!(
            "  RPC:        http://127.0.0.1:{} (the node's front; CometBFT's own: http://127.0.0.1:{})",
            args.rpc_port, args.cometbft_rpc_port
        ),
        None => println!("  RPC:        http://127.0.0.1:{} (CometBFT's own, no front)", args.rpc_port),
    }
    println!("  ABCI:       127.0.0.1:{}   p2p: 127.0.0.1:{}", args.abci_port, args.p2p_port);
    if args.grpc_port != 0 || args.rest_port != 0 {
        println!("  gRPC:       127.0.0.1:{}   REST: http://127.0.0.1:{}", args.grpc_port, args.rest_port);
    }
    if args.metrics_port != 0 {
        println!("  metrics:    http://127.0.0.1:{}/metrics", args.metrics_port);
    }
    if let Some(k) = key {
        let node = format!("--node http://127.0.0.1:{}", args.rpc_port);
        println!("  try:        paychaind query bank balances {} {node}", k.info.address);
        println!(
            "              paychaind tx bank send {DEV_KEY} <address> 1000upay --home {h} --keyring-backend test {node} --yes --wait"
        );
    }
    println!("  Ctrl-C stops CometBFT and the app; run again to resume.");
    println!("{line}");
    use std::io::Write as _;
    std::io::stdout().flush().ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        dev: DevArgs,
    }

    fn args(flags: &[&str]) -> DevArgs {
        Cli::try_parse_from(std::iter::once("dev").chain(flags.iter().copied())).unwrap().dev
    }

    #[test]
    fn the_front_serves_the_rpc_port_unless_cometbfts_port_is_0() {
        let front = args(&[]);
        validate_args(&front).unwrap();
        assert_eq!(front.rpc_front(), Some(loopback(26657)));
        assert_eq!(front.rpc().cometbft_laddr(), "tcp://127.0.0.1:26667");

        let direct = args(&["--cometbft-rpc-port", "0"]);
        validate_args(&direct).unwrap();
        assert_eq!((direct.rpc_front(), direct.rpc().cometbft_laddr()), (None, "tcp://127.0.0.1:26657".into()));

        // Nothing would answer tx and tx_search.
        let e = validate_args(&args(&["--cometbft-rpc-port", "0", "--cometbft-indexer", "null"])).unwrap_err();
        assert!(e.to_string().contains("nothing would answer tx"), "{e}");
        // CometBFT's RPC may not share the front's port.
        let e = validate_args(&args(&["--cometbft-rpc-port", "26657"])).unwrap_err();
        assert!(e.to_string().contains("must differ"), "{e}");
    }
}
