//! paychain's end-to-end load benchmark (issue 7): signed bank sends submitted to CometBFT RPC
//! at a set rate; committed tx/s and submit-to-commit latency, against a validator it starts
//! itself, a running localnet, or any RPC endpoint. The app-level and store benchmarks, which
//! need no servers, are `paychain-bench-app` (tools/bench-app).
//!
//! Always build with `--release`: debug builds measure the compiler, not the chain.

mod load;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: a payments block allocates and frees small buffers per read, write and event,
/// and glibc's allocator was ~15% of the in-order execution (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "paychain-bench", about = "paychain end-to-end load benchmark (app level: paychain-bench-app)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// End to end: signed bank sends submitted to CometBFT RPC at a set rate
    Load(Box<load::LoadArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
