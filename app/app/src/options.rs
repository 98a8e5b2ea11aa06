//! What the state machine needs from its operator, as a plain struct: the
//! node maps its app.toml onto it, tests and benchmarks fill it directly.

use crate::snapshot::DEFAULT_CHUNK_BYTES;

/// The app's options. Only `minimum_gas_prices` and `max_tx_bytes` affect
/// which txs are accepted, and only in CheckTx (the mempool): block execution
/// must not depend on node-local settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppOptions {
    /// Lowest fee per unit of gas CheckTx accepts, e.g. `"0.025upay"` (empty = any fee).
    pub minimum_gas_prices: String,
    /// How many recent versions of state stay queryable (0 = keep all).
    pub state_retention: u64,
    /// Largest tx CheckTx accepts, in bytes.
    pub max_tx_bytes: usize,
    pub snapshots: SnapshotOptions,
}

/// State-sync snapshots (see [`crate::snapshot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// Take a snapshot after committing every multiple of this height (0 = off).
    pub interval: u64,
    /// How many of the newest snapshots to keep (at least 1).
    pub keep_recent: u32,
    /// Chunk size in bytes; nodes serving the same snapshot must agree on it.
    pub chunk_bytes: usize,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            minimum_gas_prices: String::new(),
            state_retention: 100_000,
            max_tx_bytes: 1024 * 1024,
            snapshots: SnapshotOptions::default(),
        }
    }
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        Self { interval: 0, keep_recent: 2, chunk_bytes: DEFAULT_CHUNK_BYTES }
    }
}
