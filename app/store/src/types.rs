//! The store's shared vocabulary: versions, app hashes, change sets, its error type,
//! and the RocksDB snapshot its reads and iterators hold (re-exported by `lib.rs`).
//! A file of its own so that the encodings, caches and iterators `lib.rs` is built
//! from can use them without importing `lib.rs` back (issue 15: no import cycles).

use std::collections::BTreeMap;

use rocksdb::DB;

/// A block height.
pub type Version = u64;
/// The root hash of the main tree.
pub type AppHash = [u8; 32];
/// Pending writes for one block: substore name -> (key -> `Some(value)` | `None` = delete).
/// BTreeMaps for determinism.
pub type ChangeSet = BTreeMap<String, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// A consistent view of the database at one moment (reads of a version, iterators).
pub(crate) type Snapshot<'a> = rocksdb::SnapshotWithThreadMode<'a, DB>;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid store config: {0}")]
    InvalidConfig(String),
    #[error(
        "substore set on disk {on_disk:?} differs from this build's {configured:?}: the data directory \
         was made by a build with other modules, and there is no in-place upgrade between them yet; \
         start this build on a new chain (or join one by state-sync)"
    )]
    SubstoreMismatch { on_disk: Vec<String>, configured: Vec<String> },
    #[error("unknown substore {0:?}")]
    UnknownSubstore(String),
    #[error("version {requested} has been pruned (earliest readable version is {earliest})")]
    VersionPruned { requested: Version, earliest: Version },
    #[error("version {requested} not found (latest committed version is {latest:?})")]
    VersionNotFound { requested: Version, latest: Option<Version> },
    #[error("wrong version: expected {expected}, got {got}")]
    WrongVersion { expected: Version, got: Version },
    #[error("invalid version {0} (u64::MAX is reserved)")]
    InvalidVersion(Version),
    #[error(
        "prepared commit for version {version} is stale: prepared on top of {prepared_on:?}, \
         but the latest version is now {latest:?}"
    )]
    StalePrepare { version: Version, prepared_on: Option<Version>, latest: Option<Version> },
    #[error("empty key in substore {substore:?} (keys must be non-empty for ICS-23 proofs)")]
    EmptyKey { substore: String },
    #[error(
        "empty value for key {key} in substore {substore:?} (ICS-23 cannot prove empty values; \
         delete the key or store a non-empty marker)"
    )]
    EmptyValue { substore: String, key: String },
    #[error(
        "substore {substore:?} is empty at version {version}: ICS-23 cannot express a \
         non-existence proof in an empty tree"
    )]
    EmptySubstoreProof { substore: String, version: Version },
    #[error("cannot import into a non-empty store (latest committed version is {0})")]
    NotEmpty(Version),
    #[error("invalid import stream: {0}")]
    InvalidImport(String),
    #[error("database error: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("unsupported store format: {0}")]
    UnsupportedFormat(String),
    #[error("corrupt store: {0}")]
    Corrupt(String),
}
