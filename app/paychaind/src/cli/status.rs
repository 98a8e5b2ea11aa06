//! `paychaind status`: a summary of CometBFT's `/status`.

use clap::Args;
use serde_json::json;

use paychain_client::cli::{Ctx, NodeArgs};

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub node: NodeArgs,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<()> {
    let client = args.node.client()?;
    let s = paychain_client::cli::runtime()?.block_on(client.status())?;
    ctx.print(&json!({
        "chain_id": s.node_info.network.to_string(),
        "moniker": s.node_info.moniker.to_string(),
        "node_id": s.node_info.id.to_string(),
        "cometbft_version": s.node_info.version.to_string(),
        "latest_block_height": s.sync_info.latest_block_height.value().to_string(),
        "latest_block_time": s.sync_info.latest_block_time.to_rfc3339(),
        "latest_block_hash": s.sync_info.latest_block_hash.to_string(),
        "latest_app_hash": s.sync_info.latest_app_hash.to_string(),
        "earliest_block_height": s.sync_info.earliest_block_height.value().to_string(),
        "catching_up": s.sync_info.catching_up,
        "validator_address": s.validator_info.address.to_string(),
        "voting_power": s.validator_info.power.value().to_string(),
    }));
    Ok(())
}
