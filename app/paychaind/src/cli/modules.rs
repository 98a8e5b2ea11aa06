//! The modules' command-line faces, mounted under `tx`, `query` and the top
//! level. Each module's crate implements [`ModuleCli`] (behind its `cli`
//! feature); a new module is one line in the `mount!` below.

use std::path::Path;

use clap::Subcommand;
use paychain_client::cli::{Ctx, ModuleCli};

macro_rules! mount {
    ($($variant:ident => $cli:ty),* $(,)?) => {
        /// `paychaind tx <module> ...`
        #[derive(Subcommand, Debug)]
        pub enum ModuleTx {
            $(#[command(subcommand, about = <$cli as ModuleCli>::TX_ABOUT)]
            $variant(Box<<$cli as ModuleCli>::Tx>),)*
        }

        /// `paychaind query <module> ...`
        #[derive(Subcommand, Debug)]
        pub enum ModuleQuery {
            $(#[command(subcommand, about = <$cli as ModuleCli>::QUERY_ABOUT)]
            $variant(Box<<$cli as ModuleCli>::Query>),)*
        }

        /// `paychaind <module> ...`
        #[derive(Subcommand, Debug)]
        pub enum ModuleTools {
            $(#[command(subcommand, about = <$cli as ModuleCli>::TOOLS_ABOUT, hide = !<$cli as ModuleCli>::HAS_TOOLS)]
            $variant(Box<<$cli as ModuleCli>::Tools>),)*
        }

        impl ModuleTx {
            pub fn run(self, ctx: &Ctx, home: &Path) -> anyhow::Result<()> {
                match self {
                    $(ModuleTx::$variant(cmd) => <$cli as ModuleCli>::run_tx(ctx, home, *cmd),)*
                }
            }
        }

        impl ModuleQuery {
            pub fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
                match self {
                    $(ModuleQuery::$variant(cmd) => <$cli as ModuleCli>::run_query(ctx, *cmd),)*
                }
            }
        }

        /// Every module's [`ModuleCli::prepare_tx`], for [`Ctx::tx_preparers`].
        pub fn tx_preparers() -> Vec<paychain_client::cli::TxPreparer> {
            vec![$(<$cli as ModuleCli>::prepare_tx as paychain_client::cli::TxPreparer),*]
        }

        impl ModuleTools {
            pub fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
                match self {
                    $(ModuleTools::$variant(cmd) => <$cli as ModuleCli>::run_tools(ctx, *cmd),)*
                }
            }
        }
    };
}

mount! {
    Escrow => paychain_escrow::cli::EscrowCli,
    Assets => paychain_assets::cli::AssetsCli,
    Authority => paychain_authority::cli::AuthorityCli,
    Fees => paychain_fees::cli::FeesCli,
    Compliance => paychain_compliance::cli::ComplianceCli,
}

#[cfg(test)]
mod tests {
    #[test]
    fn escrow_commands_are_mounted() {
        use clap::Parser as _;
        let parse =
            |args: &[&str]| super::super::Cli::try_parse_from(std::iter::once("paychaind").chain(args.iter().copied()));
        parse(&["tx", "escrow", "create", "a", "pay1b", "5upay", "--arbiters", "x,y,z", "--threshold", "2"]).unwrap();
        parse(&["tx", "escrow", "create", "a", "pay1b", "5upay", "--hash-lock", "ab", "--refund-after", "+1h"])
            .unwrap();
        assert!(parse(&["tx", "escrow", "create", "a", "b", "5upay", "--arbiters", "x"]).is_err(), "needs --threshold");
        assert!(
            parse(&["tx", "escrow", "create", "a", "b", "5upay", "--hash-lock", "ab", "--secret-file", "f"]).is_err()
        );
        parse(&["tx", "escrow", "approve", "a", "7", "refund"]).unwrap();
        assert!(parse(&["tx", "escrow", "approve", "a", "7", "maybe"]).is_err());
        assert!(parse(&["tx", "escrow", "release", "a", "-1"]).is_err());
        parse(&["tx", "escrow", "release", "a", "7", "--amount", "5upay", "--secret", "ab"]).unwrap();
        parse(&["q", "escrow", "by-sender", "pay1x", "--limit", "5", "--reverse", "--count-total"]).unwrap();
        assert!(parse(&["q", "escrow", "by-arbiter", "pay1x", "--page-key", "AA==", "--offset", "3"]).is_err());
        parse(&["query", "escrow", "params", "--height", "5"]).unwrap();
        parse(&["escrow", "new-secret", "--out", "s.hex"]).unwrap();
    }

    #[test]
    fn help_shows_each_module_once_per_group() {
        use clap::CommandFactory as _;
        let cli = super::super::Cli::command();
        for group in ["tx", "query"] {
            let sub = cli.find_subcommand(group).unwrap();
            let escrow = sub.find_subcommand("escrow").expect("escrow mounted");
            assert!(escrow.get_about().is_some_and(|a| !a.to_string().is_empty()), "{group} escrow has help");
        }
        assert!(cli.find_subcommand("escrow").is_some_and(|c| !c.is_hide_set()));
    }
}
