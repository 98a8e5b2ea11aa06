//! What the state machine needs from its operator, as a plain struct: the
//! node maps its app.toml onto it, tests and benchmarks fill it directly.

use crate::snapshot::SnapshotOptions;

/// The app's options. Only `minimum_gas_prices`, `max_tx_bytes`,
/// `mempool_max_txs` and `mempool_max_wait` affect which txs are accepted, and
/// only in CheckTx (the mempool): block execution must not depend on node-local
/// settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppOptions {
    /// Lowest fee per unit of gas CheckTx accepts, e.g. `"0.025upay"` (empty = any fee).
    pub minimum_gas_prices: String,
    /// How many recent versions of state stay queryable (0 = keep all).
    pub state_retention: u64,
    /// Largest tx CheckTx accepts, in bytes.
    pub max_tx_bytes: usize,
    /// Most txs CheckTx lets wait for a block at once; beyond it new txs get the retryable
    /// "mempool is full" (0 = no app limit; see [`crate::mempool`]).
    pub mempool_max_txs: usize,
    /// With `mempool_max_txs`: lowers that limit under load so that about this long of what
    /// recent blocks took may wait (see [`crate::mempool`]); `None` = the fixed limit only.
    pub mempool_max_wait: Option<std::time::Duration>,
    pub snapshots: SnapshotOptions,
    /// Runs each block's messages speculatively on a second thread, ahead of the in-order pass,
    /// so the state they read is cached when their turn comes (see `App::read_ahead`). Speed
    /// only: a block's results are the same either way.
    pub read_ahead: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            minimum_gas_prices: String::new(),
            state_retention: 100_000,
            max_tx_bytes: 1024 * 1024,
            // No limit in process (tests, benchmarks); a node's app.toml sets one.
            mempool_max_txs: 0,
            mempool_max_wait: None,
            snapshots: SnapshotOptions::default(),
            read_ahead: true,
        }
    }
}
