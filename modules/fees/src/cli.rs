//! The fees module from the command line (feature `cli`):
//! `paychaind tx fees set-fee-tokens <authority> [DENOM=RATE]...` and
//! `paychaind query fees tokens`.

use std::path::Path;

use anyhow::anyhow;
use clap::Subcommand;
use paychain_client::cli::{
    any_msg, broadcast_with, msg_response_fields, show_query, tx_signer, Ctx, HeightArgs, ModuleCli, NoTools, NodeArgs,
    NoteArgs, TxFlags,
};

use crate::{pb, query};

pub struct FeesCli;

impl ModuleCli for FeesCli {
    type Tx = FeesTxCmd;
    type Query = FeesQueryCmd;
    type Tools = NoTools;

    const TX_ABOUT: &'static str = "Fee tokens: the tokens that pay fees besides the base denom";
    const QUERY_ABOUT: &'static str = "Fee tokens and their rates to the base denom";

    fn run_tx(ctx: &Ctx, home: &Path, cmd: FeesTxCmd) -> anyhow::Result<()> {
        match cmd {
            FeesTxCmd::SetFeeTokens { from, tokens, note, flags } => {
                let signer = tx_signer(&from, &flags, home)?;
                let m = pb::MsgSetFeeTokens {
                    authority: signer.address.to_string(),
                    fee_tokens: parse_tokens(&tokens)?,
                    reason: note.reason,
                    reference: note.reference,
                };
                broadcast_with(ctx, home, &signer, vec![any_msg(&m)], &flags, &|data| {
                    msg_response_fields(&ctx.any_types, data)
                })
            }
        }
    }

    fn run_query(ctx: &Ctx, cmd: FeesQueryCmd) -> anyhow::Result<()> {
        match cmd {
            FeesQueryCmd::Tokens { height, node } => show_query::<_, pb::QueryFeeTokensResponse>(
                ctx,
                &node,
                &height,
                query::FEE_TOKENS,
                &pb::QueryFeeTokensRequest {},
            ),
        }
    }
}

/// `DENOM=RATE` arguments, checked as the chain checks them.
fn parse_tokens(args: &[String]) -> anyhow::Result<Vec<pb::FeeToken>> {
    let list = args
        .iter()
        .map(|a| {
            let (denom, rate) =
                a.split_once('=').ok_or_else(|| anyhow!("fee token {a:?} must be DENOM=RATE, e.g. usd-pay1…=0.97"))?;
            Ok(pb::FeeToken { denom: denom.to_string(), rate: rate.to_string() })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::msgs::parse_fee_tokens(&list).map_err(|e| anyhow!("{}", e.log))?;
    Ok(list)
}

#[derive(Subcommand, Debug)]
pub enum FeesTxCmd {
    /// Replace the fee-token list (MsgSetFeeTokens), signed by the chain authority;
    /// no tokens = only the base denom pays fees
    SetFeeTokens {
        /// The chain authority (key name or address)
        from: String,
        /// DENOM=RATE: one unit of DENOM counts as RATE units of the base denom
        tokens: Vec<String>,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand, Debug)]
pub enum FeesQueryCmd {
    /// The base denom and the fee tokens with their rates
    Tokens {
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}
