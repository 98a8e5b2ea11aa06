//! The app-level benchmarks (issue 7): blocks of signed bank sends through
//! FinalizeBlock + Commit in process (`app`), and the Merkle store alone
//! (`store`). They link only the state machine and the store: no servers,
//! CLI, keyring or async runtime. The end-to-end load benchmark, which needs
//! all of those, is `paychain-bench` (tools/bench), which shares `accounts`
//! and `report` with these.

pub mod accounts;
pub mod app_bench;
pub mod flags;
pub mod memtree_bench;
pub mod report;
pub mod store_bench;
pub mod work_dir;

/// Serializes the tests that run a benchmark: each turns the process-wide phase timers on and
/// off, which would blank another's readings.
#[cfg(test)]
static TIMING_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
