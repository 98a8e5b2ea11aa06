//! `paychain-bench-app memtree`: the in-memory Merkle tree alone
//! (`paychain_store::memtree`, issue 16's state-commitment core), with the
//! `store` benchmark's keys and values. Preloads a state, then applies blocks
//! that update random existing keys; reports leaf updates per second (key and
//! value hashing included), the tree's node count and the process's resident
//! memory. Nothing is written to disk: this bounds what the Merkle update of a
//! block can cost once the tree is in memory.

use std::time::{Duration, Instant};

use anyhow::ensure;
use paychain_store::memtree::{key_hash, value_hash, Change, MemTree};
use rand::SeedableRng as _;

use crate::report::{ms, per_sec, today};
use crate::store_bench::{key, value};

#[derive(Debug, Clone)]
pub struct MemTreeArgs {
    /// Leaf updates per block, comma-separated
    pub block_sizes: Vec<usize>,
    /// Blocks measured per block size
    pub blocks: usize,
    /// Keys in the tree before measuring
    pub preload: usize,
    /// Bytes per value
    pub value_bytes: usize,
    /// Seed of the random choice of keys
    pub seed: u64,
}

impl MemTreeArgs {
    pub const USAGE: &'static str = "paychain-bench-app memtree [--block-sizes N,N (1000,10000,30000)] \
[--blocks N (5)] [--preload N (1000000)] [--value-bytes N (64)] [--seed N (7)]";

    pub fn parse(flags: &mut crate::flags::Flags) -> anyhow::Result<Self> {
        let args = Self {
            block_sizes: flags.numbers("block-sizes", &[1000, 10_000, 30_000])?,
            blocks: flags.number("blocks", 5)?,
            preload: flags.number("preload", 1_000_000)?,
            value_bytes: flags.number("value-bytes", 64)?,
            seed: flags.number("seed", 7)?,
        };
        flags.finish()?;
        Ok(args)
    }
}

fn changes(keys: impl Iterator<Item = usize>, version: u64, value_bytes: usize) -> Vec<Change> {
    keys.map(|i| (key_hash(&key(i)), Some(value_hash(&value(i, version, value_bytes))))).collect()
}

pub fn run(args: &MemTreeArgs) -> anyhow::Result<()> {
    ensure!(args.preload >= 1 && args.blocks >= 1, "--preload and --blocks must be positive");
    for &size in &args.block_sizes {
        ensure!(size >= 1 && size <= args.preload, "block size {size} must be between 1 and --preload");
    }
    println!(
        "memtree benchmark: {} preloaded keys ({}-byte values), {} blocks per size {:?}",
        args.preload, args.value_bytes, args.blocks, args.block_sizes
    );
    println!("  {}", crate::report::machine_line());
    let rss_before = crate::report::rss_mib();
    let mut tree = MemTree::new();
    let t = Instant::now();
    const PRELOAD_BATCH: usize = 100_000;
    for start in (0..args.preload).step_by(PRELOAD_BATCH) {
        let end = (start + PRELOAD_BATCH).min(args.preload);
        tree.apply(&changes(start..end, 0, args.value_bytes), 0);
    }
    let preload_time = t.elapsed();
    let rss_after = crate::report::rss_mib();
    println!(
        "preload: {} keys, {} ms ({} keys/s); {} nodes; resident memory {} -> {} MiB",
        tree.len(),
        ms(preload_time),
        per_sec(tree.len(), preload_time),
        tree.node_count(),
        crate::report::mib_or_unknown(rss_before),
        crate::report::mib_or_unknown(rss_after),
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let mut version = 0u64;
    println!("\n{:>7} {:>6} {:>12} {:>12} {:>12}", "leaves", "blocks", "apply ms", "max ms", "leaves/s");
    let mut rows = Vec::new();
    for &size in &args.block_sizes {
        let mut total = Duration::ZERO;
        let mut worst = Duration::ZERO;
        for _ in 0..args.blocks {
            version += 1;
            let picked = rand::seq::index::sample(&mut rng, args.preload, size);
            let t = Instant::now();
            // Hashing keys and values is part of a block's Merkle work, so it is inside the timer.
            let block = changes(picked.iter(), version, args.value_bytes);
            tree.apply(&block, version);
            let took = t.elapsed();
            total += took;
            worst = worst.max(took);
        }
        let leaves = (size * args.blocks) as u64;
        println!(
            "{:>7} {:>6} {:>12} {:>12} {:>12}",
            size,
            args.blocks,
            ms(total / args.blocks as u32),
            ms(worst),
            per_sec(leaves, total)
        );
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} MiB | memtree (in memory, nothing written) |",
            today(),
            args.preload,
            size,
            args.blocks,
            per_sec(leaves, total),
            ms(total / args.blocks as u32),
            ms(worst),
            crate::report::mib_or_unknown(crate::report::rss_mib()),
        ));
    }
    println!("\nrows for docs/benchmarks.md:");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_completes_and_checks_its_flags() {
        let args = MemTreeArgs { block_sizes: vec![10, 100], blocks: 2, preload: 1_000, value_bytes: 20, seed: 1 };
        run(&args).unwrap();
        assert!(run(&MemTreeArgs { block_sizes: vec![2_000], ..args }).is_err(), "block larger than the state");
    }
}
