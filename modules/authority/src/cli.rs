//! The authority module from the command line (feature `cli`):
//! `paychaind tx authority propose|cancel|accept` and `paychaind query authority show`.
//! A multisig authority signs with `--generate-only`, `tx sign --multisig`,
//! `tx multisign`, `tx broadcast`.

use std::path::Path;

use clap::Subcommand;
use paychain_client::cli::{
    any_msg, broadcast_with, msg_response_fields, parse_address, show_query, tx_signer, Ctx, HeightArgs, ModuleCli,
    NoTools, NodeArgs, NoteArgs, TxFlags,
};

use crate::{pb, query};

pub struct AuthorityCli;

impl ModuleCli for AuthorityCli {
    type Tx = AuthorityTxCmd;
    type Query = AuthorityQueryCmd;
    type Tools = NoTools;

    const TX_ABOUT: &'static str = "The chain authority: hand it over in two steps";
    const QUERY_ABOUT: &'static str = "The chain authority and its proposed successor";

    fn run_tx(ctx: &Ctx, home: &Path, cmd: AuthorityTxCmd) -> anyhow::Result<()> {
        let (from, flags, msg) = match cmd {
            AuthorityTxCmd::Propose { from, new_authority, note, flags } => {
                let m = pb::MsgProposeAuthority {
                    authority: tx_signer(&from, &flags, home)?.address.to_string(),
                    new_authority: parse_address("new-authority", &new_authority)?.to_string(),
                    reason: note.reason,
                    reference: note.reference,
                };
                (from, flags, any_msg(&m))
            }
            AuthorityTxCmd::Cancel { from, note, flags } => {
                let authority = tx_signer(&from, &flags, home)?.address.to_string();
                let m = pb::MsgProposeAuthority {
                    authority,
                    new_authority: String::new(),
                    reason: note.reason,
                    reference: note.reference,
                };
                (from, flags, any_msg(&m))
            }
            AuthorityTxCmd::Accept { from, flags } => {
                let new_authority = tx_signer(&from, &flags, home)?.address.to_string();
                (from, flags, any_msg(&pb::MsgAcceptAuthority { new_authority }))
            }
        };
        let signer = tx_signer(&from, &flags, home)?;
        broadcast_with(ctx, home, &signer, vec![msg], &flags, &|data| msg_response_fields(&ctx.any_types, data))
    }

    fn run_query(ctx: &Ctx, cmd: AuthorityQueryCmd) -> anyhow::Result<()> {
        match cmd {
            AuthorityQueryCmd::Show { height, node } => show_query::<_, pb::QueryAuthorityResponse>(
                ctx,
                &node,
                &height,
                query::AUTHORITY,
                &pb::QueryAuthorityRequest {},
            ),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum AuthorityTxCmd {
    /// Propose a successor (MsgProposeAuthority); it takes over when it accepts
    Propose {
        /// The current authority (key name or address)
        from: String,
        /// The proposed successor's address
        new_authority: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Withdraw a pending proposal (MsgProposeAuthority with no successor)
    Cancel {
        from: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Accept the authority (MsgAcceptAuthority), signed by the proposed successor
    Accept {
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuthorityQueryCmd {
    /// The chain authority and its proposed successor (empty when none)
    Show {
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}
