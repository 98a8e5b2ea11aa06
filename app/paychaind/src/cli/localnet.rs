//! `paychaind localnet`: N validators on loopback (see [`crate::localnet`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::cometbft;
use crate::localnet::{Localnet, LocalnetOptions, NodeEntry, FAUCET_KEY, FAUCET_MNEMONIC_FILE};
use paychain_client::cli::{Ctx, OutputFormat};

/// How long `start` waits for the nodes' RPC.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Args, Debug)]
pub struct LocalnetArgs {
    /// The localnet directory
    #[arg(long, global = true, env = "PAYCHAIN_LOCALNET_DIR", default_value = ".localnet")]
    pub dir: PathBuf,
    /// The cometbft binary [default: from PATH or ~/go/bin]
    #[arg(long, global = true, env = "PAYCHAIN_COMETBFT", value_name = "PATH")]
    pub cometbft: Option<PathBuf>,
    #[command(subcommand)]
    pub command: LocalnetCmd,
}

#[derive(Args, Debug, Clone)]
pub struct InitFlags {
    /// Number of validators
    #[arg(long, short = 'n', default_value_t = 4)]
    pub validators: usize,
    #[arg(long, default_value = "paychain-local-1")]
    pub chain_id: String,
    /// First port; node i uses base + 10*i .. base + 10*i + 6 (rpc, p2p, abci, grpc, rest, metrics, cometbft metrics)
    #[arg(long, default_value_t = 27000)]
    pub base_port: u16,
    /// Block interval (CometBFT timeout_commit)
    #[arg(long, default_value = "200ms")]
    pub timeout_commit: String,
    /// Take a state-sync snapshot every this many blocks (0 = off)
    #[arg(long, default_value_t = 50)]
    pub snapshot_interval: u64,
    /// Coins of the faucet key
    #[arg(long, default_value = "1000000000000000upay")]
    pub faucet_funds: String,
    /// Also fund ADDRESS=COINS in genesis (repeatable)
    #[arg(long = "genesis-account", value_name = "ADDRESS=COINS")]
    pub genesis_accounts: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum LocalnetCmd {
    /// Create the localnet's homes and genesis (does not start it)
    Init(InitFlags),
    /// Start every node, or only the named ones (creates the localnet first if needed)
    Start {
        /// Nodes to start, e.g. node2 or 2 [default: all]
        nodes: Vec<String>,
        #[command(flatten)]
        init: InitFlags,
    },
    /// Stop every node, or only the named ones (SIGTERM)
    Stop { nodes: Vec<String> },
    /// SIGKILL the named nodes (a crash drill; restart them with `start`)
    Kill {
        #[arg(required = true)]
        nodes: Vec<String>,
    },
    /// Height, app hash and peers of each node
    Status,
    /// Add a full node that joins by state sync (or, with --no-state-sync, by replaying all blocks) and start it
    AddNode {
        #[arg(long)]
        no_state_sync: bool,
    },
    /// Stop every node and delete the localnet directory
    Wipe,
}

fn selected<'a>(net: &'a Localnet, names: &[String]) -> anyhow::Result<Vec<&'a NodeEntry>> {
    if names.is_empty() {
        return Ok(net.manifest.nodes.iter().collect());
    }
    names.iter().map(|n| net.node(n)).collect()
}

fn options(flags: &InitFlags) -> anyhow::Result<LocalnetOptions> {
    crate::home::validate_chain_id(&flags.chain_id)?;
    cometbft::validate_go_duration(&flags.timeout_commit).map_err(|e| anyhow::anyhow!("--timeout-commit: {e}"))?;
    let accounts = flags
        .genesis_accounts
        .iter()
        .map(|s| {
            let (addr, coins) =
                s.split_once('=').with_context(|| format!("--genesis-account {s:?}: expected ADDRESS=COINS"))?;
            let addr = addr.parse().map_err(|e| anyhow::anyhow!("--genesis-account {s:?}: {e}"))?;
            Ok((
                addr,
                crate::genesis_file::parse_positive_coins(coins).with_context(|| format!("--genesis-account {s:?}"))?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(LocalnetOptions {
        validators: flags.validators,
        chain_id: flags.chain_id.clone(),
        base_port: flags.base_port,
        timeout_commit: flags.timeout_commit.clone(),
        snapshot_interval: flags.snapshot_interval,
        accounts,
        faucet_funds: crate::genesis_file::parse_positive_coins(&flags.faucet_funds).context("--faucet-funds")?,
    })
}

pub fn run(ctx: &Ctx, args: LocalnetArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    match args.command {
        LocalnetCmd::Init(flags) => {
            let comet = cometbft::require(args.cometbft.as_deref())?;
            let net = Localnet::init(&comet, dir, &options(&flags)?)?;
            print_created(ctx, &net)?;
        }
        LocalnetCmd::Start { nodes, init } => {
            let comet = cometbft::require(args.cometbft.as_deref())?;
            let net = if Localnet::exists(dir) {
                Localnet::open(dir)?
            } else {
                let net = Localnet::init(&comet, dir, &options(&init)?)?;
                print_created(ctx, &net)?;
                net
            };
            let chosen = selected(&net, &nodes)?;
            for node in &chosen {
                let pid = net.start_node(node, &comet)?;
                eprintln!("{}: running (pid {pid}), log {}", node.name, net.log_path(node).display());
            }
            net.wait_ready(&chosen, READY_TIMEOUT)?;
            print_status(ctx, &net)?;
        }
        LocalnetCmd::Stop { nodes } => {
            let net = Localnet::open(dir)?;
            for node in selected(&net, &nodes)? {
                let was = net.stop_node(node, false)?;
                eprintln!("{}: {}", node.name, if was { "stopped" } else { "was not running" });
            }
        }
        LocalnetCmd::Kill { nodes } => {
            let net = Localnet::open(dir)?;
            for node in selected(&net, &nodes)? {
                let was = net.stop_node(node, true)?;
                eprintln!("{}: {}", node.name, if was { "killed" } else { "was not running" });
            }
        }
        LocalnetCmd::Status => print_status(ctx, &Localnet::open(dir)?)?,
        LocalnetCmd::AddNode { no_state_sync } => {
            let comet = cometbft::require(args.cometbft.as_deref())?;
            let mut net = Localnet::open(dir)?;
            let node = net.add_node(&comet, !no_state_sync)?;
            let pid = net.start_node(&node, &comet)?;
            eprintln!(
                "{}: added as a full node ({}), running (pid {pid}), log {}",
                node.name,
                if no_state_sync { "replaying every block" } else { "state sync, then block sync" },
                net.log_path(&node).display()
            );
            net.wait_ready(&[&node], READY_TIMEOUT)?;
            print_status(ctx, &net)?;
        }
        LocalnetCmd::Wipe => {
            if Localnet::exists(dir) {
                Localnet::open(dir)?.wipe()?;
                eprintln!("removed {}", dir.display());
            } else {
                eprintln!("{} holds no localnet; nothing to do", dir.display());
            }
        }
    }
    Ok(())
}

fn print_created(ctx: &Ctx, net: &Localnet) -> anyhow::Result<()> {
    if ctx.output == OutputFormat::Json {
        return Ok(());
    }
    let d = net.dir.display();
    eprintln!(
        "created localnet {:?} with {} validators in {d}\n  faucet key: {FAUCET_KEY} (keyring-backend test, --home {d}), address {}\n  mnemonic in {}",
        net.manifest.chain_id,
        net.manifest.nodes.len(),
        net.faucet_address()?,
        net.dir.join(FAUCET_MNEMONIC_FILE).display()
    );
    Ok(())
}

fn print_status(ctx: &Ctx, net: &Localnet) -> anyhow::Result<()> {
    let status = net.status()?;
    if ctx.output == OutputFormat::Json {
        println!("{}", json!({"chain_id": net.manifest.chain_id, "dir": net.dir, "nodes": status}));
        return Ok(());
    }
    println!("{:<7} {:<9} {:<8} {:>7} {:<66} {:>5}  RPC", "NODE", "ROLE", "PID", "HEIGHT", "APP HASH", "PEERS");
    let dash = || "-".to_string();
    for s in status {
        println!(
            "{:<7} {:<9} {:<8} {:>7} {:<66} {:>5}  {}{}",
            s.name,
            if s.validator { "validator" } else { "full" },
            s.pid.map_or_else(|| "stopped".to_string(), |p| p.to_string()),
            s.height.map_or_else(dash, |h| h.to_string()),
            s.app_hash.unwrap_or_else(dash),
            s.peers.map_or_else(dash, |p| p.to_string()),
            s.rpc,
            if s.catching_up == Some(true) { "  (catching up)" } else { "" }
        );
    }
    Ok(())
}
