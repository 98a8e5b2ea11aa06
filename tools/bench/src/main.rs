//! paychain benchmarks (issue 7). Three subcommands, each printing what it measured and the
//! settings it ran with:
//!
//! - `app`: blocks of signed bank sends through FinalizeBlock + Commit in process, on the real
//!   RocksDB store, no consensus; tx/s and where the time goes per phase.
//! - `store`: the Merkle store alone; leaf updates per second and commit latency by block size.
//! - `load`: end to end through CometBFT RPC at a set rate; committed tx/s and submit-to-commit
//!   latency, against a validator it starts itself, a running localnet, or any RPC endpoint.
//!
//! Always build with `--release`: debug builds measure the compiler, not the chain.

mod accounts;
mod app_bench;
mod load;
mod report;
mod store_bench;
mod work_dir;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "paychain-bench", about = "paychain benchmarks: app level, store alone, end to end")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Blocks of bank sends through FinalizeBlock + Commit in process (no consensus)
    App(app_bench::AppArgs),
    /// The Merkle store alone: leaf updates per second and commit latency by block size
    Store(store_bench::StoreArgs),
    /// End to end: signed bank sends submitted to CometBFT RPC at a set rate
    Load(Box<load::LoadArgs>),
}

/// Serializes the tests that run a benchmark: each turns the process-wide phase timers on and
/// off, which would blank another's readings.
#[cfg(test)]
static TIMING_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::App(args) => app_bench::run(&args),
        Command::Store(args) => store_bench::run(&args),
        Command::Load(args) => load::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
