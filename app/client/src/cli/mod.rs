//! The command-line pieces every wallet command shares (feature `cli`): the
//! context ([`Ctx`]: home, output format, the `Any` types to print), `--node`
//! and keyring flags, the tx flags and the plan → confirm → sign → broadcast →
//! wait flow, output and prompts. Modules build their commands from these and
//! implement [`ModuleCli`]; the `paychaind` binary mounts them.

pub mod broadcast;
pub mod context;
pub mod module;
pub mod output;
pub mod page;
pub mod prompt;

use std::path::Path;

pub use broadcast::{broadcast, broadcast_with, parse_address, parse_positive_coins, signer_info, tx_signer};
pub use context::{runtime, Ctx, HeightArgs, KeyringArgs, NodeArgs, TxFlags, TxPreparer, DEFAULT_NODE};
pub use module::{any_msg, msg_response_fields, show_query, NoteArgs};
pub use output::OutputFormat;
pub use page::PageArgs;

/// A module's command-line face: `paychaind tx <module> ...`, `paychaind query
/// <module> ...` and `paychaind <module> ...` (helpers that need no chain, hidden
/// when [`ModuleCli::HAS_TOOLS`] is false). The binary mounts a module with one
/// line naming the type that implements this.
pub trait ModuleCli {
    /// `paychaind tx <module>`'s subcommands.
    type Tx: clap::Subcommand + std::fmt::Debug;
    /// `paychaind query <module>`'s subcommands.
    type Query: clap::Subcommand + std::fmt::Debug;
    /// `paychaind <module>`'s subcommands.
    type Tools: clap::Subcommand + std::fmt::Debug;

    /// One line of help for each group.
    const TX_ABOUT: &'static str;
    const QUERY_ABOUT: &'static str;
    const TOOLS_ABOUT: &'static str = "";
    const HAS_TOOLS: bool = false;

    fn run_tx(ctx: &Ctx, home: &Path, cmd: Self::Tx) -> anyhow::Result<()>;
    fn run_query(ctx: &Ctx, cmd: Self::Query) -> anyhow::Result<()>;
    fn run_tools(ctx: &Ctx, cmd: Self::Tools) -> anyhow::Result<()> {
        let _ = (ctx, cmd);
        Ok(())
    }

    /// Before any tx is signed: reads the [`TxFlags`] this module owns, adjusts the
    /// messages and returns the extension options to attach (the compliance
    /// module's `--travel-rule`). The binary runs every module's (see [`Ctx::tx_preparers`]).
    fn prepare_tx(flags: &TxFlags, msgs: &mut [cosmos_sdk_proto::Any]) -> anyhow::Result<Vec<cosmos_sdk_proto::Any>> {
        let _ = (flags, msgs);
        Ok(Vec::new())
    }
}

/// [`ModuleCli::Tools`] of a module without helpers.
#[derive(clap::Subcommand, Debug)]
pub enum NoTools {}
