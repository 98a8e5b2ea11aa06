//! `paychain-bench-app app | store | memtree [flags]`: see the library's docs and
//! docs/benchmarks.md. Always build with `--release`: debug builds measure the
//! compiler, not the chain.

use std::process::ExitCode;

use paychain_bench_app::app_bench::{self, AppArgs};
use paychain_bench_app::flags::Flags;
use paychain_bench_app::memtree_bench::{self, MemTreeArgs};
use paychain_bench_app::store_bench::{self, StoreArgs};

/// mimalloc: a payments block allocates and frees small buffers per read, write and event,
/// and glibc's allocator was ~15% of the in-order execution (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(args: &[String]) -> anyhow::Result<()> {
    match args.split_first() {
        Some((cmd, rest)) if cmd == "app" => app_bench::run(&AppArgs::parse(&mut Flags::parse(
            rest,
            &["check-tx", "issued-token", "fee-in-token", "credential-policy", "payment-controls", "no-read-ahead"],
        )?)?),
        Some((cmd, rest)) if cmd == "store" => store_bench::run(&StoreArgs::parse(&mut Flags::parse(rest, &[])?)?),
        Some((cmd, rest)) if cmd == "memtree" => {
            memtree_bench::run(&MemTreeArgs::parse(&mut Flags::parse(rest, &[])?)?)
        }
        _ => anyhow::bail!("usage:\n  {}\n  {}\n  {}", AppArgs::USAGE, StoreArgs::USAGE, MemTreeArgs::USAGE),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
