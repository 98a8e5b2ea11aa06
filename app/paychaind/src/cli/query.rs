//! `paychaind query bank balances | auth account | tx` (and the modules' `query <module> ...`,
//! mounted in [`super::modules`]).

use anyhow::{anyhow, bail};
use clap::Subcommand;
use paychain_framework::Address;
use serde_json::json;

use paychain_client::cli::{Ctx, HeightArgs, NodeArgs};

#[derive(Subcommand, Debug)]
pub enum QueryCmd {
    /// Bank module queries
    #[command(subcommand)]
    Bank(BankQuery),
    /// Auth module queries
    #[command(subcommand)]
    Auth(AuthQuery),
    #[command(flatten)]
    Module(super::modules::ModuleQuery),
    /// A committed transaction by hash
    Tx {
        /// Tx hash (64 hex digits)
        hash: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum BankQuery {
    /// Balances of an address
    Balances {
        address: String,
        /// Only this denom (always prints a coin, zero if none)
        #[arg(long)]
        denom: Option<String>,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuthQuery {
    /// An account (number, sequence, public key)
    Account {
        address: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn parse_address(s: &str) -> anyhow::Result<Address> {
    Address::from_bech32(s).map_err(|e| anyhow!("{}", e.log))
}

fn coin_json(c: &cosmos_sdk_proto::cosmos::base::v1beta1::Coin) -> serde_json::Value {
    json!({ "denom": c.denom, "amount": c.amount })
}

pub fn run(ctx: &Ctx, cmd: QueryCmd) -> anyhow::Result<()> {
    let rt = paychain_client::cli::runtime()?;
    match cmd {
        QueryCmd::Bank(BankQuery::Balances { address, denom, height, node }) => {
            let address = parse_address(&address)?;
            let client = node.client()?;
            match denom {
                Some(d) => {
                    paychain_framework::coins::validate_denom(&d).map_err(|e| anyhow!("--denom: {}", e.log))?;
                    let coin = rt.block_on(client.balance(&address, &d, height.height))?;
                    ctx.print(&json!({ "balance": coin_json(&coin) }));
                }
                None => {
                    let coins = rt.block_on(client.all_balances(&address, height.height))?;
                    ctx.print(&json!({
                        "balances": coins.iter().map(coin_json).collect::<Vec<_>>(),
                        "pagination": { "next_key": null, "total": coins.len().to_string() },
                    }));
                }
            }
        }
        QueryCmd::Auth(AuthQuery::Account { address, height, node }) => {
            let address = parse_address(&address)?;
            let client = node.client()?;
            match rt.block_on(client.account(&address, height.height))? {
                Some(acc) => ctx.print(&json!({ "account": acc.to_json() })),
                None => bail!("account {address} not found (it has never received funds)"),
            }
        }
        QueryCmd::Module(q) => q.run(ctx)?,
        QueryCmd::Tx { hash, node } => {
            let h = paychain_client::tx::parse_tx_hash(&hash)?;
            let client = node.client()?;
            let Some(r) = rt.block_on(client.tx(h))? else {
                bail!("tx {} not found (not committed yet, or the node's tx indexer is off)", hex::encode_upper(h));
            };
            let time = rt.block_on(client.block_time(r.height.value())).ok();
            ctx.print(&paychain_client::rpc::tx_response_json(&ctx.any_types, &r, time));
        }
    }
    Ok(())
}
