//! The `paychaind` command line: node commands (`init`, `genesis`, `start`,
//! `dev`, `status`) and the wallet (`keys`, `tx`, `query`).

pub mod dev;
pub mod genesis;
pub mod ibc;
pub mod init;
pub mod keys;
pub mod localnet;
pub mod logging;
pub mod modules;
pub mod query;
pub mod start;
pub mod status;
pub mod tx;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The wallet commands' shared pieces (context, tx flags, output) are the client's
// (`paychain_client::cli`), so the modules' commands use them too.
use paychain_client::cli::{Ctx, OutputFormat};

#[derive(Parser, Debug)]
#[command(
    name = "paychaind",
    version,
    about = "paychain: a Cosmos-SDK-compatible payments chain (node and wallet CLI)"
)]
pub struct Cli {
    /// Node home directory [default: ~/.paychain; ~/.paychain-dev for `dev`]
    #[arg(long, global = true, env = "PAYCHAIN_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Output format
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a node home: CometBFT config and keys, genesis, app config
    Init(init::InitArgs),
    /// Edit and check the genesis file
    #[command(subcommand)]
    Genesis(genesis::GenesisCmd),
    /// Run the app (ABCI server); run `cometbft start --home <home>` beside it
    Start(start::StartArgs),
    /// One-command single-validator dev chain (app + CometBFT child process)
    Dev(dev::DevArgs),
    /// A local network of N validators on loopback: start, stop, status, add a node
    Localnet(localnet::LocalnetArgs),
    /// Show the node's status (chain id, height, app hash)
    Status(status::StatusArgs),
    /// Manage local keys
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// Build, sign and broadcast transactions
    #[command(subcommand)]
    Tx(Box<tx::TxCmd>),
    /// Query chain state
    #[command(subcommand, alias = "q")]
    Query(query::QueryCmd),
    /// IBC relaying helpers: a Hermes config for our chains, our proof specs
    #[command(subcommand)]
    Ibc(ibc::IbcCmd),
    /// The modules' own helper commands (`paychaind escrow new-secret`).
    #[command(flatten)]
    Module(modules::ModuleTools),
}

/// Parses the command line and runs it; errors are printed with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Start(_) | Command::Dev(_)) {
        // A one-shot command whose output is piped into `head` should end
        // quietly like other Unix tools, not panic in println!. Servers keep
        // Rust's default (ignore), so a closed socket is an error, not death.
        // SAFETY: setting a signal disposition before any thread exists.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let ctx = Ctx {
        home: cli.home,
        output: cli.output,
        any_types: std::sync::Arc::new(paychain_app::any_types()),
        tx_preparers: modules::tx_preparers(),
    };
    let result = match cli.command {
        Command::Init(a) => init::run(&ctx, a).map(|()| ExitCode::SUCCESS),
        Command::Genesis(c) => genesis::run(&ctx, c).map(|()| ExitCode::SUCCESS),
        Command::Start(a) => start::run(&ctx, a),
        Command::Dev(a) => dev::run(&ctx, a),
        Command::Localnet(a) => localnet::run(&ctx, a).map(|()| ExitCode::SUCCESS),
        Command::Status(a) => status::run(&ctx, a).map(|()| ExitCode::SUCCESS),
        Command::Keys(c) => keys::run(&ctx, c).map(|()| ExitCode::SUCCESS),
        Command::Tx(c) => tx::run(&ctx, *c).map(|()| ExitCode::SUCCESS),
        Command::Query(c) => query::run(&ctx, c).map(|()| ExitCode::SUCCESS),
        Command::Ibc(c) => ibc::run(&ctx, c).map(|()| ExitCode::SUCCESS),
        Command::Module(c) => c.run(&ctx).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_flags_are_parse_errors_not_panics() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("paychaind").chain(args.iter().copied()));
        assert!(parse(&["keys", "list", "--keyring-backend", "os"]).is_err());
        assert!(parse(&["dev", "--rpc-port", "70000"]).is_err());
        assert!(parse(&["tx", "bank", "send", "a", "b"]).is_err());
        assert!(parse(&["query", "bank", "balances", "pay1x", "--height", "-1"]).is_err());
        assert!(parse(&["status", "--output", "xml"]).is_err());
        assert!(parse(&["tx", "bank", "send", "a", "b", "1upay", "--fees", "1upay", "--gas-prices", "1upay"]).is_err());
        parse(&["tx", "bank", "multi-send", "a", "b", "c", "1upay", "--yes"]).unwrap();
        parse(&["q", "tx", "AB", "-o", "json"]).unwrap();
        assert!(parse(&["dev", "--log-format", "xml"]).is_err());
        parse(&["start", "--log-format", "json", "--log-level", "debug"]).unwrap();
        parse(&["dev", "--metrics-port", "0", "--log-format", "text"]).unwrap();
    }
}
