//! `paychain-bench store`: the Merkle store alone (`paychain_store::MerkleStore`, prepare +
//! commit, the real RocksDB). Preloads a state, then for each block size commits blocks that
//! update that many random existing keys; reports leaf updates per second and commit latency.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use paychain_store::{timing, ChangeSet, MerkleStore, StoreConfig, StoreTimingsTotal};
use rand::SeedableRng as _;
use sha2::{Digest as _, Sha256};

use crate::report::{mib, ms, per_sec, today};

/// The one substore the benchmark writes (the app's busiest trees, `acc` and `bank`, hold
/// similar keys: a prefix and a 20-byte address).
const SUBSTORE: &str = "bench";
/// Versions kept readable, as the app's default `state_retention` (so no pruning here).
const RETENTION: u64 = 100_000;

#[derive(Debug, Clone)]
pub struct StoreArgs {
    /// Leaf updates per block, comma-separated
    pub block_sizes: Vec<usize>,
    /// Blocks measured per block size
    pub blocks: usize,
    /// Keys written before measuring: the state the updates land in
    pub preload: usize,
    /// Keys per preload version (bounds each preload write batch)
    pub preload_batch: usize,
    /// Bytes per value (an account with its public key is ~100, a balance ~20)
    pub value_bytes: usize,
    /// Directory for the store; must not exist yet, and is kept [default: a temporary directory]
    pub dir: Option<PathBuf>,
    /// Seed of the random choice of keys
    pub seed: u64,
}

impl StoreArgs {
    pub const USAGE: &'static str = "paychain-bench-app store [--block-sizes N,N (1000,10000,30000)] \
[--blocks N (5)] [--preload N (1000000)] [--preload-batch N (100000)] [--value-bytes N (64)] [--dir DIR] [--seed N (7)]";

    pub fn parse(flags: &mut crate::flags::Flags) -> anyhow::Result<Self> {
        let args = Self {
            block_sizes: flags.numbers("block-sizes", &[1000, 10_000, 30_000])?,
            blocks: flags.number("blocks", 5)?,
            preload: flags.number("preload", 1_000_000)?,
            preload_batch: flags.number("preload-batch", 100_000)?,
            value_bytes: flags.number("value-bytes", 64)?,
            dir: flags.path("dir"),
            seed: flags.number("seed", 7)?,
        };
        flags.finish()?;
        Ok(args)
    }
}

/// Key `i`: a prefix byte and 20 bytes, like an address-keyed entry.
pub(crate) fn key(i: usize) -> Vec<u8> {
    let digest = Sha256::digest((i as u64).to_be_bytes());
    let mut k = Vec::with_capacity(21);
    k.push(0x02);
    k.extend_from_slice(&digest[..20]);
    k
}

/// A value of `len` bytes (at least 16) that differs per key and version.
pub(crate) fn value(i: usize, version: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(16));
    v.extend_from_slice(&(i as u64).to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v.resize(len.max(16), 0xAB);
    v
}

fn change_set(entries: impl Iterator<Item = (Vec<u8>, Vec<u8>)>) -> ChangeSet {
    let kvs: BTreeMap<Vec<u8>, Option<Vec<u8>>> = entries.map(|(k, v)| (k, Some(v))).collect();
    BTreeMap::from([(SUBSTORE.to_string(), kvs)])
}

/// One measured block.
struct BlockRun {
    prepare: Duration,
    commit: Duration,
    store: StoreTimingsTotal,
}

pub fn run(args: &StoreArgs) -> anyhow::Result<()> {
    ensure!(args.preload >= 1 && args.preload_batch >= 1, "--preload and --preload-batch must be positive");
    ensure!(args.blocks >= 1, "--blocks must be positive");
    ensure!(!args.block_sizes.is_empty(), "--block-sizes is empty");
    for &size in &args.block_sizes {
        ensure!(
            size >= 1 && size <= args.preload,
            "block size {size} must be between 1 and --preload ({})",
            args.preload
        );
    }
    let (_tmp, dir) = crate::work_dir::work_dir(args.dir.as_deref(), "--dir", "paychain-bench-store", "store.db")?;
    let store =
        MerkleStore::open(&dir, StoreConfig { substores: vec![SUBSTORE.to_string()], retention: Some(RETENTION) })
            .with_context(|| format!("opening the store at {}", dir.display()))?;
    println!(
        "store benchmark: {} preloaded keys ({}-byte values), {} blocks per size {:?}, store {}",
        args.preload,
        args.value_bytes,
        args.blocks,
        args.block_sizes,
        dir.display()
    );

    println!("  {}", crate::report::machine_line());
    timing::set_enabled(false);
    let t = Instant::now();
    let mut version = 0u64;
    for start in (0..args.preload).step_by(args.preload_batch) {
        version += 1;
        let end = (start + args.preload_batch).min(args.preload);
        let changes = change_set((start..end).map(|i| (key(i), value(i, version, args.value_bytes))));
        let prepared = store.prepare(version, &changes)?;
        store.commit(prepared)?;
    }
    let preload_time = t.elapsed();
    println!(
        "preload: {} keys in {version} versions, {} ms ({} keys/s)",
        args.preload,
        ms(preload_time),
        per_sec(args.preload as u64, preload_time)
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    timing::set_enabled(true);
    let mut results = Vec::new();
    for &size in &args.block_sizes {
        let mut runs = Vec::with_capacity(args.blocks);
        for _ in 0..args.blocks {
            version += 1;
            let picked = rand::seq::index::sample(&mut rng, args.preload, size);
            let changes = change_set(picked.iter().map(|i| (key(i), value(i, version, args.value_bytes))));
            let before = store.timings().total();
            let t = Instant::now();
            let prepared = store.prepare(version, &changes)?;
            let prepare = t.elapsed();
            let t = Instant::now();
            store.commit(prepared)?;
            let commit = t.elapsed();
            runs.push(BlockRun { prepare, commit, store: store.timings().total().since(&before) });
        }
        results.push((size, runs));
    }
    timing::set_enabled(false);

    println!();
    println!(
        "{:>7} {:>6} {:>11} {:>11} {:>10} {:>10} {:>10} {:>11} {:>10} {:>9}",
        "leaves",
        "blocks",
        "prepare ms",
        "commit ms",
        "batch ms",
        "write ms",
        "max ms",
        "leaves/s",
        "B/leaf",
        "MiB/blk"
    );
    let mut rows = Vec::new();
    for (size, runs) in &results {
        let n = runs.len() as u32;
        let prepare: Duration = runs.iter().map(|r| r.prepare).sum();
        let commit: Duration = runs.iter().map(|r| r.commit).sum();
        let batch: Duration = runs.iter().map(|r| r.store.commit_batch.duration()).sum();
        let write: Duration = runs.iter().map(|r| r.store.commit_write.duration()).sum();
        let worst = runs.iter().map(|r| r.prepare + r.commit).max().unwrap_or_default();
        let bytes: u64 = runs.iter().map(|r| r.store.batch_bytes).sum();
        let leaves = (*size * runs.len()) as u64;
        println!(
            "{:>7} {:>6} {:>11} {:>11} {:>10} {:>10} {:>10} {:>11} {:>10} {:>9}",
            size,
            runs.len(),
            ms(prepare / n),
            ms(commit / n),
            ms(batch / n),
            ms(write / n),
            ms(worst),
            per_sec(leaves, prepare + commit),
            bytes / leaves,
            mib(bytes / u64::from(n)),
        );
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            today(),
            args.preload,
            size,
            runs.len(),
            per_sec(leaves, prepare + commit),
            ms(prepare / n),
            ms(commit / n),
            ms(worst)
        ));
    }
    let on_disk = paychain_store::dir_size(&dir).unwrap_or(0);
    println!();
    println!(
        "store on disk: {} MiB; resident memory {} MiB",
        mib(on_disk),
        crate::report::mib_or_unknown(crate::report::rss_mib())
    );
    // What a restart costs: the trees are rebuilt from the latest values.
    drop(store);
    let t = Instant::now();
    let reopened =
        MerkleStore::open(&dir, StoreConfig { substores: vec![SUBSTORE.to_string()], retention: Some(RETENTION) })?;
    println!(
        "reopen (trees rebuilt from the values of version {}): {} ms",
        reopened.latest_version().unwrap_or_default(),
        ms(t.elapsed())
    );
    println!();
    println!("docs/benchmarks.md rows:");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_completes() {
        let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let args = StoreArgs {
            block_sizes: vec![10, 40],
            blocks: 2,
            preload: 100,
            preload_batch: 30,
            value_bytes: 20,
            dir: Some(tmp.path().join("store.db")),
            seed: 3,
        };
        run(&args).unwrap();
        let too_big = StoreArgs { block_sizes: vec![101], dir: None, ..args };
        assert!(run(&too_big).is_err());
    }
}
