//! What the state machine needs from its operator, as a plain struct: the
//! node maps its app.toml onto it, tests and benchmarks fill it directly.

use crate::snapshot::SnapshotOptions;

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
