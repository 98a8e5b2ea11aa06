//! `paychaind init`: a node home with CometBFT's config and keys, our genesis
//! `app_state`, and the app's `app.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::cometbft;
use crate::home::{init_home, InitOptions, DEFAULT_DENOM};
use paychain_client::cli::Ctx;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// This node's name (shown to peers)
    pub moniker: String,

    /// Chain id written into genesis, e.g. paychain-1
    #[arg(long)]
    pub chain_id: String,

    /// Replace an existing home's config and genesis and wipe its chain data (node keys and keyrings are kept)
    #[arg(long)]
    pub overwrite: bool,

    /// Fee (staking-free) denom of the chain
    #[arg(long, default_value = DEFAULT_DENOM)]
    pub denom: String,

    /// The node's RPC, for wallets and relayers: served by the node's RPC front (tx, tx_search
    /// and block_search from the node's own index, the rest passed to CometBFT), or by CometBFT
    /// itself with --no-rpc-front
    #[arg(long, default_value = "tcp://127.0.0.1:26657")]
    pub rpc_laddr: String,

    /// CometBFT's own RPC, behind the front (keep it private: the front is the public one)
    #[arg(long, default_value = "tcp://127.0.0.1:26667")]
    pub cometbft_rpc_laddr: String,

    /// CometBFT serves --rpc-laddr itself and indexes txs itself (its kv indexer), as in the
    /// Cosmos SDK; slower under load (docs/benchmarks.md, "Defaults")
    #[arg(long)]
    pub no_rpc_front: bool,

    /// CometBFT p2p listen address
    #[arg(long, default_value = "tcp://0.0.0.0:26656")]
    pub p2p_laddr: String,

    /// Where the app serves ABCI (CometBFT's proxy_app points here)
    #[arg(long, default_value = "127.0.0.1:26658")]
    pub abci_address: SocketAddr,

    /// Pause after each block (CometBFT consensus.timeout_commit)
    #[arg(long, default_value = "1s")]
    pub timeout_commit: String,

    /// CometBFT mempool size (txs)
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..))]
    pub mempool_size: u32,

    /// Lowest gas price this node's mempool accepts, e.g. 0.025upay (empty = any)
    #[arg(long, default_value = "")]
    pub minimum_gas_prices: String,

    /// The cometbft binary [default: from PATH or ~/go/bin]
    #[arg(long, env = "PAYCHAIN_COMETBFT", value_name = "PATH")]
    pub cometbft: Option<PathBuf>,
}

/// The front's listen address from `--rpc-laddr` (`tcp://IP:PORT`).
fn front_socket(laddr: &str) -> anyhow::Result<SocketAddr> {
    laddr.strip_prefix("tcp://").and_then(|a| a.parse().ok()).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid --rpc-laddr {laddr:?}: the RPC front listens on tcp://IP:PORT (an IP address); \
             with --no-rpc-front CometBFT serves it and also takes a host name or unix:///path"
        )
    })
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    let home = ctx.home()?;
    let comet = cometbft::require(args.cometbft.as_deref())?;
    let (rpc_laddr, rpc_front) = if args.no_rpc_front {
        (args.rpc_laddr, None)
    } else {
        (args.cometbft_rpc_laddr, Some(front_socket(&args.rpc_laddr)?))
    };
    let opts = InitOptions {
        moniker: args.moniker,
        chain_id: args.chain_id,
        denom: args.denom,
        rpc_laddr,
        rpc_front,
        p2p_laddr: args.p2p_laddr,
        abci_address: args.abci_address,
        timeout_commit: args.timeout_commit,
        mempool_size: args.mempool_size,
        minimum_gas_prices: args.minimum_gas_prices,
        overwrite: args.overwrite,
        cometbft_log_level: None,
        accounts: Vec::new(),
        authority: None,
    };
    init_home(&comet, &home, &opts)?;
    ctx.print(&serde_json::json!({
        "moniker": opts.moniker,
        "chain_id": opts.chain_id,
        "home": home.display().to_string(),
        "genesis": cometbft::genesis_path(&home).display().to_string(),
        "rpc": opts.rpc_front.map_or(opts.rpc_laddr.clone(), |a| format!("tcp://{a}")),
        "cometbft_rpc": opts.rpc_laddr,
        "next": format!(
            "fund accounts with `paychaind genesis add-account --home {h} <address> <coins>`, then run \
             `paychaind start --home {h}` and `cometbft start --home {h}`",
            h = home.display()
        ),
    }));
    Ok(())
}
