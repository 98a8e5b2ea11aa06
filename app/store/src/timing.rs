//! Phase timers for benchmarks: where a block's time goes (Merkle update, RocksDB write, and in
//! the app decode, signature checks, execution).
//!
//! Off by default, and then a timer costs one relaxed atomic load and no clock read, so the
//! node pays nothing for them. A benchmark turns them on for the whole process with
//! [`set_enabled`], reads the cumulative [`PhaseCounter`]s before and after a block and
//! subtracts. Timers never feed back into state or consensus: they only count.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Process-wide switch: one flag rather than one per store or app, because a benchmark wants
/// every layer measured at once and the node wants none.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns phase timing on or off for the whole process.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

pub fn is_enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// The start of a timed phase: `None` (no clock read) while timing is off.
#[must_use]
pub fn start() -> Option<Instant> {
    is_enabled().then(Instant::now)
}

/// Cumulative wall time and number of occurrences of one phase. When several threads record
/// into one counter (parallel signature checks), the time is the sum over threads (CPU time).
#[derive(Debug, Default)]
pub struct PhaseCounter {
    nanos: AtomicU64,
    count: AtomicU64,
}

impl PhaseCounter {
    pub const fn new() -> Self {
        Self { nanos: AtomicU64::new(0), count: AtomicU64::new(0) }
    }

    /// Adds the time since `started` (from [`start`]); nothing when timing was off.
    pub fn record(&self, started: Option<Instant>) {
        if let Some(t) = started {
            self.add(t.elapsed());
        }
    }

    /// Adds one occurrence lasting `d`.
    pub fn add(&self, d: Duration) {
        self.nanos.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// Counts one occurrence without a duration (e.g. a cache hit), while timing is on.
    pub fn count_one(&self) {
        if is_enabled() {
            self.count.fetch_add(1, Relaxed);
        }
    }

    pub fn total(&self) -> PhaseTotal {
        PhaseTotal { nanos: self.nanos.load(Relaxed), count: self.count.load(Relaxed) }
    }

    /// Times from now until the returned guard drops (early returns included).
    #[must_use]
    pub fn time(&self) -> PhaseTimer<'_> {
        PhaseTimer { counter: self, started: start() }
    }
}

/// Records into its counter when dropped (see [`PhaseCounter::time`]).
pub struct PhaseTimer<'a> {
    counter: &'a PhaseCounter,
    started: Option<Instant>,
}

impl Drop for PhaseTimer<'_> {
    fn drop(&mut self) {
        self.counter.record(self.started);
    }
}

/// A reading of a [`PhaseCounter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTotal {
    pub nanos: u64,
    pub count: u64,
}

impl PhaseTotal {
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &PhaseTotal) -> PhaseTotal {
        PhaseTotal { nanos: self.nanos.saturating_sub(earlier.nanos), count: self.count.saturating_sub(earlier.count) }
    }
}

/// Where the store's time goes.
#[derive(Debug, Default)]
pub struct StoreTimings {
    /// [`crate::MerkleStore::prepare`]: the Merkle update (the in-memory trees and their roots).
    pub prepare: PhaseCounter,
    /// [`crate::MerkleStore::commit`] before the write: pruning scans and filling the batch.
    pub commit_batch: PhaseCounter,
    /// [`crate::MerkleStore::commit`]: the one synced RocksDB write of the batch.
    pub commit_write: PhaseCounter,
    /// Values read from RocksDB by [`crate::MerkleStore::get`] (the app's state reads).
    pub value_reads: PhaseCounter,
    /// Of [`StoreTimings::value_reads`], those that were point lookups of a present key's
    /// latest entry (the version from the trees) rather than searches (count only).
    pub value_point_reads: PhaseCounter,
    /// [`crate::MerkleStore::get`]s answered by the latest-value cache (count only).
    pub value_cache_hits: PhaseCounter,
    /// [`crate::MerkleStore::get`]s of absent keys answered by the in-memory trees (count only).
    pub value_absent_hits: PhaseCounter,
    /// Bytes of the committed write batches.
    pub batch_bytes: AtomicU64,
    /// Records (puts and deletes) of the committed write batches.
    pub batch_entries: AtomicU64,
}

/// A reading of [`StoreTimings`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreTimingsTotal {
    pub prepare: PhaseTotal,
    pub commit_batch: PhaseTotal,
    pub commit_write: PhaseTotal,
    pub value_reads: PhaseTotal,
    pub value_point_reads: PhaseTotal,
    pub value_cache_hits: PhaseTotal,
    pub value_absent_hits: PhaseTotal,
    pub batch_bytes: u64,
    pub batch_entries: u64,
}

impl StoreTimings {
    /// Counts one committed write batch of `bytes` and `entries`.
    pub fn record_batch(&self, bytes: usize, entries: usize) {
        self.batch_bytes.fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Relaxed);
        self.batch_entries.fetch_add(u64::try_from(entries).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn total(&self) -> StoreTimingsTotal {
        StoreTimingsTotal {
            prepare: self.prepare.total(),
            commit_batch: self.commit_batch.total(),
            commit_write: self.commit_write.total(),
            value_reads: self.value_reads.total(),
            value_point_reads: self.value_point_reads.total(),
            value_cache_hits: self.value_cache_hits.total(),
            value_absent_hits: self.value_absent_hits.total(),
            batch_bytes: self.batch_bytes.load(Relaxed),
            batch_entries: self.batch_entries.load(Relaxed),
        }
    }
}

impl StoreTimingsTotal {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &StoreTimingsTotal) -> StoreTimingsTotal {
        StoreTimingsTotal {
            prepare: self.prepare.since(&earlier.prepare),
            commit_batch: self.commit_batch.since(&earlier.commit_batch),
            commit_write: self.commit_write.since(&earlier.commit_write),
            value_reads: self.value_reads.since(&earlier.value_reads),
            value_point_reads: self.value_point_reads.since(&earlier.value_point_reads),
            value_cache_hits: self.value_cache_hits.since(&earlier.value_cache_hits),
            value_absent_hits: self.value_absent_hits.since(&earlier.value_absent_hits),
            batch_bytes: self.batch_bytes.saturating_sub(earlier.batch_bytes),
            batch_entries: self.batch_entries.saturating_sub(earlier.batch_entries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_and_subtract() {
        let c = PhaseCounter::new();
        c.add(Duration::from_nanos(5));
        let first = c.total();
        c.add(Duration::from_nanos(7));
        c.record(None);
        assert_eq!(c.total().since(&first), PhaseTotal { nanos: 7, count: 1 });
        assert_eq!(c.total().duration(), Duration::from_nanos(12));
    }
}
