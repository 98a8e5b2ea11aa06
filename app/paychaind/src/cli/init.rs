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

    /// CometBFT RPC listen address
    #[arg(long, default_value = "tcp://127.0.0.1:26657")]
    pub rpc_laddr: String,

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

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    let home = ctx.home()?;
    let comet = cometbft::require(args.cometbft.as_deref())?;
    let opts = InitOptions {
        moniker: args.moniker,
        chain_id: args.chain_id,
        denom: args.denom,
        rpc_laddr: args.rpc_laddr,
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
        "next": format!(
            "fund accounts with `paychaind genesis add-account --home {h} <address> <coins>`, then run \
             `paychaind start --home {h}` and `cometbft start --home {h}`",
            h = home.display()
        ),
    }));
    Ok(())
}
