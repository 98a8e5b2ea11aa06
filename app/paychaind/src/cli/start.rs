//! `paychaind start`: run the app, either alone (CometBFT is started
//! separately, by the operator, with `cometbft start --home <home>`) or with
//! `--with-cometbft`, which runs CometBFT on the same home as a child process
//! after checking that both stores describe one history.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use crate::supervisor::ShutdownSignals;
use paychain_client::cli::Ctx;
use paychain_node::config::AppConfig;

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Log filter (overrides app.toml's log_level), e.g. info or paychaind=debug,info
    #[arg(long)]
    pub log_level: Option<String>,
    /// Log line format (overrides app.toml's log_format)
    #[arg(long, value_enum)]
    pub log_format: Option<paychain_node::config::LogFormat>,
    /// The cometbft binary whose version is checked [default: from PATH or ~/go/bin]
    #[arg(long, env = "PAYCHAIN_COMETBFT", value_name = "PATH")]
    pub cometbft: Option<std::path::PathBuf>,
    /// Also run `cometbft start --home <home>` as a child process (stopped with
    /// the app; killed if the app is killed)
    #[arg(long)]
    pub with_cometbft: bool,
}

/// Checks the home has what `node::start` reads, with a hint if not.
pub fn require_initialized(home: &std::path::Path) -> anyhow::Result<()> {
    for f in [AppConfig::path(home), crate::cometbft::genesis_path(home)] {
        if !f.exists() {
            bail!(
                "{} is missing: initialize the home first with `paychaind init <moniker> --chain-id <id> --home {}`",
                f.display(),
                home.display()
            );
        }
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: StartArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    require_initialized(&home)?;
    let config = AppConfig::load(&home)?;
    super::logging::init_tracing(
        args.log_level.as_deref().unwrap_or(&config.log_level),
        args.log_format.unwrap_or(config.log_format),
    )?;
    // Alone, CometBFT may run on another host or container, so its absence
    // here is only worth a warning.
    let comet = match crate::cometbft::require(args.cometbft.as_deref()) {
        Ok(c) => {
            tracing::info!(version = %c.version, bin = %c.bin.display(), "found CometBFT");
            Some(c)
        }
        Err(e) if args.with_cometbft => return Err(e),
        Err(e) => {
            tracing::warn!("{e:#}");
            None
        }
    };
    // Signal handlers go in before the node starts so an early Ctrl-C is not
    // lost; the runtime context is left before node::start, which may run its own.
    let rt = paychain_client::cli::runtime()?;
    let mut signals = {
        let _ctx = rt.enter();
        ShutdownSignals::new()?
    };
    let node = paychain_node::node::start(&home, &config)?;
    if let Some(comet) = comet.filter(|_| args.with_cometbft) {
        tracing::info!(abci = %node.abci_addr, "app serving ABCI; starting CometBFT");
        return crate::supervisor::run_with_cometbft(&rt, &mut signals, &comet, &home, node);
    }
    tracing::info!(
        abci = %node.abci_addr,
        "app started; now run `cometbft start --home {}` (Ctrl-C to stop)",
        home.display()
    );
    let sig = rt.block_on(signals.recv());
    tracing::info!("received {sig}, stopping");
    // Every commit is one atomic write, so stopping here at any instant is safe.
    drop(node);
    Ok(ExitCode::SUCCESS)
}
