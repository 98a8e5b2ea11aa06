//! The paychain state machine: the modules wired together, the ante handler,
//! the block lifecycle over the versioned Merkle store, genesis and state-sync
//! snapshots. It has no servers, no async runtime and no CLI: the node
//! (`paychain-node`) serves it to CometBFT, tests and benchmarks drive it
//! directly.

pub mod ante;
pub mod app;
pub mod genesis;
pub mod mempool;
pub mod options;
pub mod sig_cache;
pub mod snapshot;
pub mod wiring;

pub use app::{App, AppError, BlockOutcome, StoreView, TxOutcome};
pub use options::AppOptions;
pub use snapshot::SnapshotOptions;
pub use wiring::{any_types, wire_modules, ModuleSet, Wiring, APP_STORE};
