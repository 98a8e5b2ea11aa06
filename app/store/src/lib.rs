//! `paychain-store`: a versioned, two-level Merkle store with ICS-23 proofs. The trees live
//! in memory; RocksDB holds every version's values, durably, one synced batch per block.
//!
//! # Model
//!
//! A version is a block height. There is one sparse Merkle tree per named substore (`"acc"`,
//! `"bank"`, ...), keyed by `sha256(raw key)`, and a *main* tree mapping each substore's name to
//! its 32-byte root hash. The main root is the app hash. Every configured substore is in the
//! main tree from the first version on (an empty substore has the placeholder root,
//! [`EMPTY_ROOT`]). The trees hash exactly as jmt (Jellyfish Merkle Tree, SHA-256) does (see
//! [`memtree`]), so proofs for a key are `[key in substore tree, substore root in main tree]`,
//! both checked with [`jmt::ics23_spec`] (see [`proof_specs`]).
//!
//! The split is the one SeiDB and the Cosmos SDK's store v2 made: *state commitment* (the
//! trees) is kept whole in memory, at the latest version only ([`commitment`]); *state
//! storage* is a flat, versioned key-value table in RocksDB that answers every read, current
//! or historical. The trees are never written to disk: on open they are rebuilt from the latest
//! values, and their roots checked against the roots record of the latest version.
//!
//! # Layout (column families)
//!
//! Substores get ids `1..=n` in sorted-name order. `enc(k)` is the order-preserving
//! self-delimiting encoding of a raw key (0x00 → 0x00 0xFF, then 0x00 0x00), `inv(v)` is
//! `u64::MAX - v` big-endian, `BE(v)` is big-endian.
//!
//! | CF             | key                                  | value                          |
//! |----------------|--------------------------------------|--------------------------------|
//! | `values`       | `id ++ enc(key) ++ inv(version)`     | `1 ++ value` or `0` (deleted)  |
//! | `changelog`    | `BE(version) ++ id`                  | `enc(key)` of each key written |
//! | `preimages`    | `id ++ sha256(key)`                  | raw key                        |
//! | `roots`        | `BE(version)`                        | app hash ++ substore roots (id order) |
//! | `meta`         | `format`, `substores`, `latest` (`BE(v) ++ app hash`), `earliest` | |
//! | `side`         | the node's own keys (see "Side records") | the node's own values |
//!
//! `values` keeps every version of every key newest-first, so "value of `k` at `v`" is one
//! seek to `id ++ enc(k) ++ inv(v)`, and a range scan at any version walks raw keys in order.
//! `changelog` lists the keys each version wrote in each substore, one record per substore and
//! version: it drives pruning, and it is the change log from which a proof at an older version
//! is computed. `preimages` is written when a key enters the tree (non-existence proofs show
//! the neighbouring keys, found by hash).
//!
//! A block of `n` writes therefore writes `n` value records, a preimage per new key, a changelog
//! record per substore and one roots record: no tree nodes (format 1 wrote ~27 records per
//! send, most of them nodes).
//!
//! # Proofs at older versions
//!
//! The tree of version `v` is the latest tree with the keys written after `v` set back to
//! their values at `v` (read from `values`). [`MerkleStore::get_with_proof`] builds that as an
//! overlay ([`memtree::Overlay`]) without copying or changing the tree: its cost grows with
//! the number of keys the substore changed since `v`, so proofs at recent heights (what IBC
//! relayers ask for) are cheap, and every version inside the retention window can be proven.
//! The overlay's root is checked against the roots record of `v` before a proof is returned.
//!
//! # Pruning
//!
//! With `retention = Some(R)`, committing `V` makes `E = V - R + 1` the earliest readable
//! version. In the same write batch, for every key of a `changelog` record `(v <= E)` the
//! versions of `key` older than `v` are deleted (reads at `>= E` see the entry at `v` or a
//! newer one), and a deletion marker at `v` is dropped too (absence is absence), together with
//! the key's preimage when nothing newer exists. Roots records below `E` go as well. Reads
//! below `E` return [`StoreError::VersionPruned`].
//!
//! A version can be *pinned* ([`MerkleStore::pin`]; every [`Exporter`] holds a pin): `E` never
//! rises above the smallest pinned version, so a long export in another thread keeps reading a
//! complete version while blocks keep committing. The deferred pruning happens in the first
//! commit after the pin is dropped (pruning scans from the old `E`, so skipped steps are caught
//! up in one go).
//!
//! # Crash safety
//!
//! [`MerkleStore::prepare`] writes nothing to disk. [`MerkleStore::commit`] writes
//! *everything* of a version (values, stale index, preimages, roots record, `latest`/`earliest`
//! metadata and the pruning deletions) in ONE RocksDB `WriteBatch` with `sync = true`. RocksDB
//! applies a write batch atomically (one WAL record), so after a crash at any instant the
//! database holds either all of version `V` or none of it; on open, `meta/latest` says which.
//! The in-memory trees are derived state: rebuilt on open from the values of `latest` and
//! checked against its roots record, so a crash can never leave them ahead of or behind disk.
//!
//! # Concurrency
//!
//! Reads never take the commit lock. A read at version `v` checks `v <= latest` (in-memory),
//! takes a RocksDB snapshot, then checks `v >= earliest` (in-memory). `commit` raises the
//! in-memory `earliest` *before* writing its batch and raises `latest` *after* it, so a snapshot
//! that passed both checks contains all of version `v` and none of its pruning. (So the oldest
//! version of the window may report `VersionPruned` while the commit pruning it is in flight.)
//! Iterators returned by [`MerkleStore::range`] hold that snapshot, so they are unaffected by
//! later commits; they borrow the store and are not `Send`. An [`Exporter`] (state-sync
//! snapshots) is `Send`: instead of one long-lived RocksDB snapshot it owns a store handle and a
//! pin on its version, and reads it in pages, each page through its own short-lived iterator.
//! `prepare` and `commit` are serialized by the commit lock; proofs hold the trees' read lock
//! while they build their overlay.
//!
//! # Side records
//!
//! A node keeps records of its own beside the state, such as its tx index: never read by the
//! state machine, in no hash, not pruned, not in snapshots. [`PreparedCommit::add_side_records`]
//! puts them in the version's write batch, so they are durable exactly when the version is (a
//! crash leaves both or neither), and [`MerkleStore::side_get`] / [`MerkleStore::side_scan`]
//! read them. The key space is the caller's; a store created before `side` existed gains the
//! column family, empty, when it is opened.
//!
//! # Snapshots
//!
//! [`MerkleStore::export`] streams every leaf (substore, raw key, value) of a version in
//! substore-name order, then raw-key order. [`MerkleStore::importer`] rebuilds such a stream into
//! an *empty* store as the same version: roots depend only on the key/value set, so the app
//! hash is identical. The import is a [`PreparedCommit`] (the caller checks its app hash before
//! anything is written), persisted by [`MerkleStore::commit`] like a block.
//!
//! # Input rules
//!
//! Keys and values must be non-empty (ICS-23 cannot prove either; `prepare` rejects them).
//! Deleting a key that does not exist is a no-op (no tombstone). An empty substore has no
//! ICS-23 non-existence proof; `get_with_proof` returns [`StoreError::EmptySubstoreProof`].

mod cache;
mod codec;
mod commitment;
mod disk;
mod iter;
pub mod memtree;
mod snapshot;
pub mod timing;
mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Options, ReadOptions, WriteBatch, WriteOptions, DB};

use cache::{LatestValues, ValueWrite, VALUE_CACHE_ENTRIES};
use codec::*;
use commitment::{main_tree, Trees};
pub use disk::dir_size;
pub use iter::StoreIter;
use memtree::{key_hash, value_hash, Change, LeafValue, MemTree};
pub use snapshot::{Exporter, Importer, Leaf, VersionPin};
pub use timing::{StoreTimings, StoreTimingsTotal};
use types::Snapshot;
pub use types::{AppHash, ChangeSet, StoreError, Version};

/// Root hash of an empty tree (jmt's placeholder hash).
pub const EMPTY_ROOT: [u8; 32] = memtree::PLACEHOLDER;

/// Ids are one byte and `sid + 1` must not overflow (reverse scans seek to it); 0 is unused
/// (it was format 1's main tree).
const MAX_SUBSTORES: usize = 254;
/// 1: jmt nodes on disk. 2: trees in memory, rebuilt from the values on open.
const FORMAT_VERSION: u8 = 2;

const META_FORMAT: &[u8] = b"format";
const META_SUBSTORES: &[u8] = b"substores";
const META_LATEST: &[u8] = b"latest";
const META_EARLIEST: &[u8] = b"earliest";

/// The column families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cf {
    Meta,
    Values,
    Preimages,
    Changelog,
    Roots,
    Side,
}

impl Cf {
    const ALL: [Cf; 6] = [Cf::Meta, Cf::Values, Cf::Preimages, Cf::Changelog, Cf::Roots, Cf::Side];

    fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Values => "values",
            Cf::Preimages => "preimages",
            Cf::Changelog => "changelog",
            Cf::Roots => "roots",
            Cf::Side => "side",
        }
    }
}

/// Column families only format 1 had: their presence identifies a format-1 store.
const FORMAT1_CFS: [&str; 2] = ["nodes", "stale"];

/// Store configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// The fixed set of substore names: non-empty, unique, ASCII, at most 254. Order does not
    /// matter. Must match what is on disk.
    pub substores: Vec<String>,
    /// Keep this many most recent versions readable (must be >= 1); `None` = keep all.
    pub retention: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct State {
    /// Latest committed version and its app hash.
    latest: Option<(Version, AppHash)>,
    /// Earliest readable version (`None` iff nothing committed).
    earliest: Option<Version>,
}

struct Inner {
    db: DB,
    /// Sorted substore names; the id of `names[i]` is `i + 1`.
    names: Vec<String>,
    ids: HashMap<String, u8>,
    retention: Option<u64>,
    state: RwLock<State>,
    /// Serializes `prepare`, `commit` and pinning.
    commit_lock: Mutex<()>,
    /// Pinned versions (refcounts): pruning keeps them readable (see "Pruning").
    pins: Mutex<BTreeMap<Version, usize>>,
    /// Phase times for benchmarks (filled only while [`timing::set_enabled`] is on).
    timings: StoreTimings,
    /// The substore trees (see [`commitment`]).
    trees: RwLock<Trees>,
    /// Source of [`PreparedCommit`] tokens.
    next_token: AtomicU64,
    /// Values of the latest version, for the app's state reads (see [`cache`]).
    latest_values: LatestValues,
}

impl Inner {
    fn cf(&self, cf: Cf) -> &ColumnFamily {
        self.db.cf_handle(cf.name()).expect("all column families are created at open")
    }
}

/// The versioned two-level Merkle store. Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct MerkleStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for MerkleStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = *self.inner.state.read();
        f.debug_struct("MerkleStore")
            .field("substores", &self.inner.names)
            .field("retention", &self.inner.retention)
            .field("latest", &st.latest.map(|l| l.0))
            .field("earliest", &st.earliest)
            .finish()
    }
}

// `MerkleStore` is shared across threads (ABCI connections, gRPC/query handlers).
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MerkleStore>();
    assert_send_sync::<PreparedCommit>();
};

/// How a [`PreparedCommit`] changes the trees.
#[derive(Clone)]
enum TreeWork {
    /// A block: its changes per substore (staged in the trees by `prepare` under `token`).
    Block { token: u64, changes: Vec<Vec<Change>> },
    /// A state-sync import: whole new trees.
    Import(Vec<MemTree>),
}

/// A write of a change set with its tree change: `((key hash, value hash), raw key, value)`.
type KeyedChange<'a> = (Change, &'a Vec<u8>, &'a Option<Vec<u8>>);

/// What the in-memory trees say about a key at the latest version ([`MerkleStore::get`]).
enum InTrees {
    /// Not there: the key is absent.
    Absent,
    /// Present, its value written by this version.
    WrittenAt(Version),
    /// Not the trees' version, or a key the staged block changes: ask the disk.
    Unknown,
}

/// The result of [`MerkleStore::prepare`]: new roots plus every write of the version, to be
/// persisted by [`MerkleStore::commit`].
#[derive(Clone)]
pub struct PreparedCommit {
    pub version: Version,
    pub app_hash: AppHash,
    /// Latest committed version this was computed on top of.
    base: Option<Version>,
    /// New substore roots, sorted by name.
    roots: Vec<(String, [u8; 32])>,
    /// Puts of the version (pruning deletions are computed at commit).
    ops: Vec<(Cf, Vec<u8>, Vec<u8>)>,
    /// The version's writes `(substore id, raw key, value)` for the latest-value cache;
    /// `None` for a bulk import (the cache starts over).
    value_writes: Option<Vec<ValueWrite>>,
    trees: TreeWork,
}

impl PreparedCommit {
    /// Adds node-local *side records* to the version's write batch (see "Side records"): they
    /// become durable exactly when the version does, and are in no hash.
    pub fn add_side_records(&mut self, records: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) {
        // In key order: RocksDB inserts a sorted run into its memtable (a skip list) far faster
        // than scattered keys, each next to the last (a block's tx index is tens of thousands).
        let mut records: Vec<(Vec<u8>, Vec<u8>)> = records.into_iter().collect();
        records.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.ops.extend(records.into_iter().map(|(k, v)| (Cf::Side, k, v)));
    }

    /// The new root of `substore` at this version.
    pub fn substore_root(&self, substore: &str) -> Option<[u8; 32]> {
        self.roots.iter().find(|(n, _)| n == substore).map(|(_, r)| *r)
    }
}

impl fmt::Debug for PreparedCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedCommit")
            .field("version", &self.version)
            .field("app_hash", &hex::encode(self.app_hash))
            .field("base", &self.base)
            .field("writes", &self.ops.len())
            .finish()
    }
}

/// The two proof specs a verifier (and Hermes's `proof_specs`) uses: `[substore spec, main
/// spec]`, both [`jmt::ics23_spec`].
pub fn proof_specs() -> Vec<ics23::ProofSpec> {
    vec![jmt::ics23_spec(), jmt::ics23_spec()]
}

/// The roots record and `meta/latest` puts of a version.
fn version_records(version: Version, app_hash: &AppHash, roots: &[(String, [u8; 32])]) -> [(Cf, Vec<u8>, Vec<u8>); 2] {
    let mut rec = Vec::with_capacity(32 * (roots.len() + 1));
    rec.extend_from_slice(app_hash);
    for (_, r) in roots {
        rec.extend_from_slice(r);
    }
    let mut latest = be(version).to_vec();
    latest.extend_from_slice(app_hash);
    [(Cf::Roots, be(version).to_vec(), rec), (Cf::Meta, META_LATEST.to_vec(), latest)]
}

/// Reads the newest entry of `key` in substore `sid` with version `<= version`:
/// `Some(Some(v))` present, `Some(None)` deleted, `None` never written (or pruned).
fn read_entry(
    inner: &Inner,
    snap: &Snapshot<'_>,
    sid: u8,
    key: &[u8],
    version: Version,
) -> Result<Option<Option<Vec<u8>>>, StoreError> {
    let prefix = value_prefix(sid, key);
    let mut ro = ReadOptions::default();
    ro.set_snapshot(snap);
    ro.set_prefix_same_as_start(true);
    ro.set_iterate_upper_bound(value_prefix_end(&prefix));
    let mut it = inner.db.raw_iterator_cf_opt(inner.cf(Cf::Values), ro);
    let mut target = prefix.clone();
    target.extend_from_slice(&inv_version(version));
    it.seek(&target);
    match it.item() {
        Some((k, v)) if k.len() == prefix.len() + 8 && k.starts_with(&prefix) => decode_value(v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("malformed value entry {}", hex::encode(k)))),
        Some(_) => Ok(None),
        None => {
            it.status()?;
            Ok(None)
        }
    }
}

/// RocksDB's block cache, shared by the column families. RocksDB's default (8 MiB) holds a
/// sliver of a million-account state: at 1M accounts the tree node and value reads of a block
/// went to the OS for nearly every block, at 23-34 us each.
const BLOCK_CACHE_BYTES: usize = 1 << 30;

/// Table options of a column family: the shared block cache, with index and filter blocks in
/// it (so they count against its budget), and Bloom filters where reads are point lookups
/// (`Get` of a preimage, a roots record) rather than seeks.
fn cf_options(cf: Cf, cache: &rocksdb::Cache) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut opts = Options::default();
    match cf {
        Cf::Preimages | Cf::Roots => table.set_bloom_filter(10.0, false),
        Cf::Values => {
            // A state read ("key k at version v") seeks among one key's versions: a Bloom
            // filter over the key part (`id ++ enc(key)`, the version cut off) lets it skip
            // every table file that lacks the key. Scans opt out (`total_order_seek`).
            table.set_bloom_filter(10.0, false);
            table.set_whole_key_filtering(false);
            opts.set_prefix_extractor(rocksdb::SliceTransform::create(
                "paychain.values.key",
                // Never panics: a panic here would cross RocksDB's C++ frames.
                |k: &[u8]| &k[..k.len().saturating_sub(8)],
                Some(|k: &[u8]| k.len() > 8),
            ));
            opts.set_memtable_prefix_bloom_ratio(0.1);
        }
        Cf::Meta | Cf::Changelog | Cf::Side => {}
    }
    opts.set_block_based_table_factory(&table);
    opts
}

/// Whether `path` already holds a RocksDB database's files (so opening it must find a store).
fn holds_database_files(path: &Path) -> bool {
    let Ok(dir) = std::fs::read_dir(path) else {
        return false;
    };
    dir.filter_map(Result::ok).any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name == "CURRENT" || name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log")
    })
}

/// Read options of a scan over `values` that crosses keys (not a point read).
fn scan_options() -> ReadOptions {
    let mut ro = ReadOptions::default();
    ro.set_total_order_seek(true);
    ro
}

fn encode_substores(names: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.extend_from_slice(&(n.len() as u16).to_be_bytes());
        out.extend_from_slice(n.as_bytes());
    }
    out
}

fn decode_substores(mut b: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    while !b.is_empty() {
        let len = u16::from_be_bytes(b.get(..2)?.try_into().ok()?) as usize;
        let name = b.get(2..2 + len)?;
        names.push(String::from_utf8(name.to_vec()).ok()?);
        b = &b[2 + len..];
    }
    Some(names)
}

fn validate_config(cfg: &StoreConfig) -> Result<Vec<String>, StoreError> {
    let bad = |m: String| Err(StoreError::InvalidConfig(m));
    if cfg.substores.is_empty() {
        return bad("no substores configured".into());
    }
    if cfg.substores.len() > MAX_SUBSTORES {
        return bad(format!("at most {MAX_SUBSTORES} substores are supported"));
    }
    for n in &cfg.substores {
        if n.is_empty() {
            return bad("empty substore name".into());
        }
        if !n.is_ascii() || n.len() > u16::MAX as usize {
            return bad(format!("substore name {n:?} is not a short ASCII string"));
        }
    }
    let mut names = cfg.substores.clone();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return bad(format!("duplicate substore name {:?}", w[0]));
    }
    if cfg.retention == Some(0) {
        return bad("retention must be at least 1 version".into());
    }
    Ok(names)
}

impl MerkleStore {
    /// Opens (creating if missing) the store at `path` and rebuilds its trees from the latest
    /// values. Fails with [`StoreError::SubstoreMismatch`] if the substore set differs from the
    /// one on disk, and with [`StoreError::UnsupportedFormat`] for a store of another format.
    pub fn open(path: &Path, cfg: StoreConfig) -> Result<Self, StoreError> {
        let names = validate_config(&cfg)?;
        let had_database = holds_database_files(path);
        // Before RocksDB refuses to open it for its unknown column families, say what it is.
        // (Only where a database is: for a missing one RocksDB's C API leaks the empty list it
        // allocates before failing, which the fuzzer's leak check reports.)
        if let Some(existing) = had_database.then(|| DB::list_cf(&Options::default(), path).ok()).flatten() {
            let known = |cf: &str| cf == "default" || Cf::ALL.iter().any(|c| c.name() == cf);
            let unknown: Vec<&String> = existing.iter().filter(|cf| !known(cf)).collect();
            if unknown.iter().any(|cf| FORMAT1_CFS.contains(&cf.as_str())) {
                return Err(StoreError::UnsupportedFormat(format!(
                    "{} holds a store of format 1 (Merkle tree nodes on disk, paychaind before issue 16); this \
                     paychaind keeps the trees in memory (format {FORMAT_VERSION}) and cannot read it. Move the old \
                     data directory away and state-sync this node or start it from genesis, or keep running the \
                     earlier paychaind on it",
                    path.display()
                )));
            }
            if !unknown.is_empty() {
                return Err(StoreError::UnsupportedFormat(format!(
                    "{} has column families this paychaind does not know ({unknown:?}): written by another version",
                    path.display()
                )));
            }
        }
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Flushes and compactions in the background on both cores of a small validator.
        opts.set_max_background_jobs(2);
        let block_cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES)?;
        let cfs = Cf::ALL.iter().map(|cf| ColumnFamilyDescriptor::new(cf.name(), cf_options(*cf, &block_cache)));
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        let ids = names.iter().enumerate().map(|(i, n)| (n.clone(), (i + 1) as u8)).collect();
        let n = names.len();
        let mut inner = Inner {
            db,
            names,
            ids,
            retention: cfg.retention,
            state: RwLock::new(State { latest: None, earliest: None }),
            commit_lock: Mutex::new(()),
            pins: Mutex::new(BTreeMap::new()),
            timings: StoreTimings::default(),
            trees: RwLock::new(Trees::empty(n)),
            next_token: AtomicU64::new(0),
            latest_values: LatestValues::new(VALUE_CACHE_ENTRIES, None),
        };
        let state = Self::load_meta(&inner, had_database)?;
        inner.trees = RwLock::new(Self::load_trees(&inner, state.latest)?);
        inner.latest_values = LatestValues::new(VALUE_CACHE_ENTRIES, state.latest.map(|l| l.0));
        inner.state = RwLock::new(state);
        Ok(MerkleStore { inner: Arc::new(inner) })
    }

    /// Rebuilds every substore tree from the newest entry of each key, and checks the roots
    /// against the roots record of `latest`.
    fn load_trees(inner: &Inner, latest: Option<(Version, AppHash)>) -> Result<Trees, StoreError> {
        let n = inner.names.len();
        let Some((version, app_hash)) = latest else {
            return Ok(Trees::empty(n));
        };
        let subs = (1..=n as u8)
            .into_par_iter()
            .map(|sid| {
                let mut ro = scan_options();
                ro.set_iterate_upper_bound(vec![sid + 1]);
                let mut it = inner.db.raw_iterator_cf_opt(inner.cf(Cf::Values), ro);
                it.seek([sid]);
                let mut leaves = Vec::new();
                let mut last: Option<Vec<u8>> = None;
                while let Some((k, v)) = it.item() {
                    let parsed = parse_value_key(k)
                        .ok_or_else(|| StoreError::Corrupt(format!("bad values key {}", hex::encode(k))))?;
                    // Versions of a key come newest first: the first is the latest value.
                    if last.as_deref() != Some(&parsed.raw[..]) {
                        let value = decode_value(v)
                            .ok_or_else(|| StoreError::Corrupt(format!("malformed value entry {}", hex::encode(k))))?;
                        if let Some(value) = value {
                            let leaf = LeafValue { value_hash: value_hash(&value), version: parsed.version };
                            leaves.push((key_hash(&parsed.raw), leaf));
                        }
                        last = Some(parsed.raw);
                    }
                    it.next();
                }
                it.status()?;
                Ok(MemTree::from_leaves(leaves))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let trees = Trees { subs, committed: Some(version), staged: None };
        let rec = inner
            .db
            .get_cf(inner.cf(Cf::Roots), be(version))?
            .ok_or_else(|| StoreError::Corrupt(format!("missing roots record of {version}")))?;
        let roots = trees.roots();
        let main = main_tree(&inner.names, &roots).root_hash();
        let expected: Vec<u8> = std::iter::once(app_hash).chain(roots).flatten().collect();
        if main != app_hash || rec != expected {
            return Err(StoreError::Corrupt(format!(
                "the trees rebuilt from the values of version {version} do not give its recorded roots"
            )));
        }
        Ok(trees)
    }

    fn load_meta(inner: &Inner, had_database: bool) -> Result<State, StoreError> {
        let meta = inner.cf(Cf::Meta);
        let db = &inner.db;
        match db.get_cf(meta, META_FORMAT)? {
            None if had_database => {
                // RocksDB opened files that were there as an empty database: a missing CURRENT,
                // or a MANIFEST cut at a record boundary, reads as an older (here: new) state.
                return Err(StoreError::Corrupt(format!(
                    "{} holds database files but opens without a store in them: its CURRENT or MANIFEST file \
                     is missing or damaged",
                    inner.db.path().display()
                )));
            }
            None => {
                // Fresh database: record the format and substore set.
                let mut b = WriteBatch::default();
                b.put_cf(meta, META_FORMAT, [FORMAT_VERSION]);
                b.put_cf(meta, META_SUBSTORES, encode_substores(&inner.names));
                let mut wo = WriteOptions::default();
                wo.set_sync(true);
                db.write_opt(b, &wo)?;
            }
            Some(f) if f.as_slice() == [FORMAT_VERSION] => {}
            Some(f) => {
                return Err(StoreError::UnsupportedFormat(format!(
                    "store format {} (this paychaind reads format {FORMAT_VERSION})",
                    hex::encode(f)
                )))
            }
        }
        let on_disk = db
            .get_cf(meta, META_SUBSTORES)?
            .and_then(|b| decode_substores(&b))
            .ok_or_else(|| StoreError::Corrupt("missing or malformed substore list".into()))?;
        if on_disk != inner.names {
            return Err(StoreError::SubstoreMismatch { on_disk, configured: inner.names.clone() });
        }
        let latest: Option<(Version, AppHash)> = match db.get_cf(meta, META_LATEST)? {
            None => None,
            Some(b) if b.len() == 40 => {
                let v = read_be(&b).expect("length checked");
                Some((v, b[8..].try_into().expect("length checked")))
            }
            Some(_) => return Err(StoreError::Corrupt("malformed latest record".into())),
        };
        let earliest = match db.get_cf(meta, META_EARLIEST)? {
            None => None,
            Some(b) if b.len() == 8 => read_be(&b),
            Some(_) => return Err(StoreError::Corrupt("malformed earliest record".into())),
        };
        match (latest, earliest) {
            (None, None) => {}
            (Some((l, hash)), Some(e)) if e <= l => {
                let rec = db.get_cf(inner.cf(Cf::Roots), be(l))?;
                if rec.as_deref().and_then(|r| r.get(..32)) != Some(&hash[..]) {
                    return Err(StoreError::Corrupt(format!(
                        "roots record of latest version {l} is missing or disagrees with meta"
                    )));
                }
            }
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "inconsistent metadata: latest {:?}, earliest {earliest:?}",
                    latest.map(|l| l.0)
                )))
            }
        }
        Ok(State { latest, earliest })
    }

    /// The side record at `key` (see "Side records"), as of the latest commit.
    pub fn side_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.db.get_cf(self.inner.cf(Cf::Side), key)?)
    }

    /// Calls `f` with each side record whose key is in `from..to`, in key order, until `f`
    /// returns `false`. One RocksDB snapshot: records committed meanwhile are not seen.
    pub fn side_scan(&self, from: &[u8], to: &[u8], mut f: impl FnMut(&[u8], &[u8]) -> bool) -> Result<(), StoreError> {
        let mut ro = scan_options();
        ro.set_iterate_upper_bound(to.to_vec());
        let mut it = self.inner.db.raw_iterator_cf_opt(self.inner.cf(Cf::Side), ro);
        it.seek(from);
        while let Some((k, v)) = it.item() {
            if !f(k, v) {
                return Ok(());
            }
            it.next();
        }
        Ok(it.status()?)
    }

    /// The directory the database lives in.
    pub fn path(&self) -> &Path {
        self.inner.db.path()
    }

    /// Where the store's time went (see [`timing`]; all zero unless timing is enabled).
    pub fn timings(&self) -> &StoreTimings {
        &self.inner.timings
    }

    /// The configured substores, sorted by name.
    pub fn substores(&self) -> &[String] {
        &self.inner.names
    }

    /// Latest committed version; `None` = nothing committed yet.
    pub fn latest_version(&self) -> Option<Version> {
        self.inner.state.read().latest.map(|l| l.0)
    }

    /// Oldest readable version (after pruning); `None` = nothing committed yet.
    pub fn earliest_version(&self) -> Option<Version> {
        self.inner.state.read().earliest
    }

    /// App hash of the latest committed version.
    pub fn latest_app_hash(&self) -> Option<AppHash> {
        self.inner.state.read().latest.map(|l| l.1)
    }

    fn sid(&self, substore: &str) -> Result<u8, StoreError> {
        self.inner.ids.get(substore).copied().ok_or_else(|| StoreError::UnknownSubstore(substore.to_string()))
    }

    /// A snapshot in which `version` is fully readable (see the crate docs, "Concurrency").
    fn view(&self, version: Version) -> Result<Snapshot<'_>, StoreError> {
        let latest = self.latest_version();
        match latest {
            Some(l) if version <= l => {}
            _ => return Err(StoreError::VersionNotFound { requested: version, latest }),
        }
        let snap = self.inner.db.snapshot();
        let earliest = self.inner.state.read().earliest.unwrap_or(0);
        if version < earliest {
            return Err(StoreError::VersionPruned { requested: version, earliest });
        }
        Ok(snap)
    }

    /// The roots record of `version`: (app hash, substore roots in id order).
    fn roots_record(&self, snap: &Snapshot<'_>, version: Version) -> Result<(AppHash, Vec<[u8; 32]>), StoreError> {
        let rec = snap
            .get_cf(self.inner.cf(Cf::Roots), be(version))?
            .ok_or_else(|| StoreError::Corrupt(format!("missing roots record of {version}")))?;
        if rec.len() != 32 * (1 + self.inner.names.len()) {
            return Err(StoreError::Corrupt(format!("malformed roots record of {version}")));
        }
        let mut chunks = rec.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap());
        let app = chunks.next().expect("length checked");
        Ok((app, chunks.collect()))
    }

    /// App hash (main tree root) at `version`.
    pub fn app_hash(&self, version: Version) -> Result<AppHash, StoreError> {
        let snap = self.view(version)?;
        Ok(self.roots_record(&snap, version)?.0)
    }

    /// Root hash of `substore` at `version` (the value proven by the main-tree proof).
    pub fn substore_root(&self, substore: &str, version: Version) -> Result<[u8; 32], StoreError> {
        let sid = self.sid(substore)?;
        let snap = self.view(version)?;
        Ok(self.roots_record(&snap, version)?.1[sid as usize - 1])
    }

    /// Value of `key` in `substore` at `version`.
    pub fn get(&self, substore: &str, key: &[u8], version: Version) -> Result<Option<Vec<u8>>, StoreError> {
        let sid = self.sid(substore)?;
        if let Some(hit) = self.inner.latest_values.get(version, sid, key) {
            self.inner.timings.value_cache_hits.count_one();
            return Ok(hit);
        }
        let at = match self.latest_in_trees(sid, key, version) {
            InTrees::Absent => {
                self.inner.timings.value_absent_hits.count_one();
                self.inner.latest_values.fill(version, sid, key, &None);
                return Ok(None);
            }
            InTrees::WrittenAt(at) => Some(at),
            InTrees::Unknown => None,
        };
        let _timer = self.inner.timings.value_reads.time();
        if let Some(at) = at {
            // The entry a version wrote never changes; only pruning removes it, after a newer
            // write left `version` itself out of the window: then the search below says so.
            let entry = self.inner.db.get_pinned_cf(self.inner.cf(Cf::Values), value_key(sid, key, at))?;
            if let Some(value) = entry.as_deref().and_then(decode_value).flatten() {
                self.inner.timings.value_point_reads.count_one();
                let value = Some(value);
                self.inner.latest_values.fill(version, sid, key, &value);
                return Ok(value);
            }
        }
        let snap = self.view(version)?;
        let value = read_entry(&self.inner, &snap, sid, key, version)?.flatten();
        self.inner.latest_values.fill(version, sid, key, &value);
        Ok(value)
    }

    /// What the trees know of `key` in substore `sid` at `version` without a disk read: they
    /// hold every present key of the committed version with the version that wrote its value
    /// (a staged block's changes are in its undo set: for those, ask the disk). So a key absent
    /// there needs no read at all (a payments block reads many keys that do not exist yet: a
    /// first velocity record, a recipient's first sighting), and a present one is a RocksDB
    /// point lookup of its entry instead of a search among its versions (~20 us on this
    /// machine, most of it building an iterator over every level).
    ///
    /// Never waits for the trees' lock: `prepare` and `commit` hold it while they update the
    /// trees on the rayon pool, so a read running as a pool task (a CheckTx burst's signature
    /// pass reads accounts) that waited for it would deadlock the node. A busy lock answers
    /// `Unknown`, and the read goes to the disk.
    fn latest_in_trees(&self, sid: u8, key: &[u8], version: Version) -> InTrees {
        let Some(trees) = self.inner.trees.try_read() else { return InTrees::Unknown };
        if trees.committed != Some(version) {
            return InTrees::Unknown;
        }
        let idx = usize::from(sid) - 1;
        let kh = key_hash(key);
        if let Some(staged) = &trees.staged {
            if staged.undo[idx].binary_search_by(|(h, _)| h.cmp(&kh)).is_ok() {
                return InTrees::Unknown;
            }
        }
        match trees.subs[idx].leaf(&kh) {
            None => InTrees::Absent,
            Some(leaf) => InTrees::WrittenAt(leaf.version),
        }
    }

    /// Ascending iteration over the keys of `substore` in `[start, end)` (`end` `None` =
    /// unbounded) at `version`; deleted keys are skipped. The iterator holds a RocksDB snapshot.
    pub fn range(
        &self,
        substore: &str,
        start: &[u8],
        end: Option<&[u8]>,
        version: Version,
    ) -> Result<StoreIter<'_>, StoreError> {
        self.make_iter(substore, start, end, version, false)
    }

    /// Like [`MerkleStore::range`], but descending.
    pub fn range_rev(
        &self,
        substore: &str,
        start: &[u8],
        end: Option<&[u8]>,
        version: Version,
    ) -> Result<StoreIter<'_>, StoreError> {
        self.make_iter(substore, start, end, version, true)
    }

    fn make_iter(
        &self,
        substore: &str,
        start: &[u8],
        end: Option<&[u8]>,
        version: Version,
        reverse: bool,
    ) -> Result<StoreIter<'_>, StoreError> {
        let sid = self.sid(substore)?;
        let snap = self.view(version)?;
        let mut ro = scan_options();
        ro.set_snapshot(&snap);
        if reverse {
            ro.set_iterate_lower_bound(vec![sid]);
        } else {
            ro.set_iterate_upper_bound(vec![sid + 1]);
        }
        let it = self.inner.db.raw_iterator_cf_opt(self.inner.cf(Cf::Values), ro);
        Ok(StoreIter::new(it, snap, sid, start.to_vec(), end.map(<[u8]>::to_vec), version, reverse))
    }

    /// Computes the new roots and app hash for `version` (must be `latest + 1`, or any version
    /// if the store is empty) without writing anything to disk. The block is staged in the
    /// in-memory trees (see [`commitment`]); preparing again undoes it first.
    ///
    /// Keys and values must be non-empty (ICS-23 cannot prove empty ones). Deleting an absent
    /// key is a no-op.
    pub fn prepare(&self, version: Version, changes: &ChangeSet) -> Result<PreparedCommit, StoreError> {
        let _timer = self.inner.timings.prepare.time();
        for (name, kvs) in changes {
            self.sid(name)?;
            for (k, v) in kvs {
                if k.is_empty() {
                    return Err(StoreError::EmptyKey { substore: name.clone() });
                }
                if v.as_ref().is_some_and(|v| v.is_empty()) {
                    return Err(StoreError::EmptyValue { substore: name.clone(), key: hex::encode(k) });
                }
            }
        }
        if version == u64::MAX {
            return Err(StoreError::InvalidVersion(version));
        }
        let _guard = self.inner.commit_lock.lock();
        let base = self.latest_version();
        if let Some(b) = base {
            if version != b + 1 {
                return Err(StoreError::WrongVersion { expected: b + 1, got: version });
            }
        }
        let empty = BTreeMap::new();
        // Per substore, in key-hash order (the order of the trees' undo sets).
        let hashed: Vec<Vec<KeyedChange<'_>>> = self
            .inner
            .names
            .par_iter()
            .map(|name| {
                let mut kvs: Vec<KeyedChange<'_>> = changes
                    .get(name)
                    .unwrap_or(&empty)
                    .iter()
                    .map(|(k, v)| ((key_hash(k), v.as_deref().map(value_hash)), k, v))
                    .collect();
                kvs.sort_by_key(|(c, _, _)| c.0);
                kvs
            })
            .collect();
        let tree_changes: Vec<Vec<Change>> =
            hashed.iter().map(|kvs| kvs.iter().map(|(c, _, _)| *c).collect()).collect();

        let mut trees = self.inner.trees.write();
        trees.unstage();
        if trees.committed != base {
            return Err(StoreError::Corrupt(format!(
                "in-memory trees at version {:?}, store at {base:?}",
                trees.committed
            )));
        }
        let token = self.inner.next_token.fetch_add(1, Ordering::Relaxed);
        let roots_now = trees.stage(token, version, &tree_changes);
        let undo = &trees.staged.as_ref().expect("just staged").undo;
        let mut ops = Vec::new();
        let mut value_writes = Vec::new();
        for (i, (kvs, undo)) in hashed.iter().zip(undo).enumerate() {
            let sid = (i + 1) as u8;
            let mut changelog = Vec::new();
            if kvs.len() != undo.len() {
                return Err(StoreError::Corrupt(format!("two keys of substore {sid} with one hash")));
            }
            for (((kh, vh), k, v), (_, old)) in kvs.iter().zip(undo) {
                if vh.is_none() && old.is_none() {
                    continue; // deleting an absent key changes nothing and writes nothing
                }
                ops.push((Cf::Values, value_key(sid, k, version), encode_value(v.as_deref())));
                push_escaped(&mut changelog, k);
                if old.is_none() {
                    // A new key: non-existence proofs may show it as a neighbour.
                    ops.push((Cf::Preimages, preimage_key(sid, kh), (*k).clone()));
                }
                value_writes.push((sid, (*k).clone(), (*v).clone()));
            }
            if !changelog.is_empty() {
                ops.push((Cf::Changelog, changelog_key(version, sid).to_vec(), changelog));
            }
        }
        drop(trees);

        let roots: Vec<(String, [u8; 32])> = self.inner.names.iter().cloned().zip(roots_now.iter().copied()).collect();
        let app_hash = main_tree(&self.inner.names, &roots_now).root_hash();
        ops.extend(version_records(version, &app_hash, &roots));
        Ok(PreparedCommit {
            version,
            app_hash,
            base,
            roots,
            ops,
            value_writes: Some(value_writes),
            trees: TreeWork::Block { token, changes: tree_changes },
        })
    }

    /// Persists a prepared commit as one atomic, synced RocksDB write batch, including pruning
    /// of versions older than the retention window. Fails with [`StoreError::StalePrepare`] if
    /// the latest version changed since `prepare`.
    pub fn commit(&self, prepared: PreparedCommit) -> Result<(), StoreError> {
        let inner = &self.inner;
        let _guard = inner.commit_lock.lock();
        let st = *inner.state.read();
        let latest = st.latest.map(|l| l.0);
        if latest != prepared.base {
            return Err(StoreError::StalePrepare { version: prepared.version, prepared_on: prepared.base, latest });
        }
        if let TreeWork::Block { token, changes } = &prepared.trees {
            // Another prepare at this version may have replaced this block in the trees.
            let mut trees = inner.trees.write();
            if trees.staged.as_ref().map(|s| s.token) != Some(*token) {
                trees.unstage();
                let roots = trees.stage(*token, prepared.version, changes);
                if trees.committed != prepared.base || prepared.roots.iter().map(|(_, r)| *r).ne(roots) {
                    trees.unstage();
                    return Err(StoreError::Corrupt(format!(
                        "restaging version {} did not reproduce its prepared roots",
                        prepared.version
                    )));
                }
            }
        }
        let first = st.earliest.unwrap_or(prepared.version);
        let new_earliest = match inner.retention {
            Some(r) => first.max((prepared.version + 1).saturating_sub(r)),
            None => first,
        };
        // Pins are only taken under the commit lock (held here) and at versions >= earliest.
        let new_earliest = match inner.pins.lock().keys().next() {
            Some(&pinned) => new_earliest.min(pinned).max(first),
            None => new_earliest,
        };

        let batch_timer = inner.timings.commit_batch.time();
        let mut batch = WriteBatch::default();
        if let Some(old) = st.earliest {
            if new_earliest > old {
                self.prune(old, new_earliest, &mut batch)?;
            }
        }
        batch.put_cf(inner.cf(Cf::Meta), META_EARLIEST, be(new_earliest));
        // Puts after the pruning deletions: a key both pruned and rewritten ends up written.
        // Consumed while copied into the batch: a state-sync import holds the whole state here.
        let PreparedCommit { version, app_hash, ops, value_writes, trees: work, .. } = prepared;
        for (cf, k, v) in ops {
            batch.put_cf(inner.cf(cf), k, v);
        }
        drop(batch_timer);
        if timing::is_enabled() {
            inner.timings.record_batch(batch.size_in_bytes(), batch.len());
        }

        // Raise `earliest` before the data disappears (see "Concurrency").
        inner.state.write().earliest = Some(new_earliest);
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let write_timer = inner.timings.commit_write.time();
        let written = inner.db.write_opt(batch, &wo);
        drop(write_timer);
        if let Err(e) = written {
            inner.state.write().earliest = st.earliest;
            return Err(e.into());
        }
        inner.state.write().latest = Some((version, app_hash));
        {
            let mut trees = inner.trees.write();
            if let TreeWork::Import(subs) = work {
                trees.subs = subs;
            }
            trees.staged = None;
            trees.committed = Some(version);
        }
        // The cache follows the disk, never leads it (see `cache`).
        inner.latest_values.advance(latest, version, value_writes);
        Ok(())
    }

    /// Adds to `batch` the deletions that make every version below `earliest` unreadable.
    ///
    /// Scans start at `old_earliest` rather than at the first key: every `changelog` entry
    /// and roots record below `old_earliest` was deleted by an earlier commit (pruning runs
    /// whenever `earliest` rises, and an entry stamped `s` is on disk by the first commit whose
    /// earliest reaches `s`, or the one after when written in that same batch). This keeps the
    /// scans from wading through the deletion tombstones of previous prunes.
    fn prune(&self, old_earliest: Version, earliest: Version, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let inner = &self.inner;
        let db = &inner.db;

        // Value versions shadowed by a write at or before `earliest`.
        let (changelog, values, preimages) = (inner.cf(Cf::Changelog), inner.cf(Cf::Values), inner.cf(Cf::Preimages));
        let mut it = db.raw_iterator_cf(changelog);
        let mut vit = db.raw_iterator_cf_opt(values, scan_options());
        it.seek(be(old_earliest));
        while let Some((k, keys)) = it.item() {
            let bad = || StoreError::Corrupt(format!("bad changelog entry {}", hex::encode(k)));
            let v = read_be(k).filter(|_| k.len() == 9).ok_or_else(bad)?;
            if v > earliest {
                break;
            }
            for key in decode_changelog(keys).ok_or_else(bad)? {
                let prefix = value_prefix(k[8], &key);
                let is_entry = |e: &[u8]| e.len() == prefix.len() + 8 && e.starts_with(&prefix);
                // Is the entry at `v` the newest one of this key?
                vit.seek(&prefix);
                let newest = match vit.key() {
                    Some(e) if is_entry(e) => Some(u64::MAX - read_be(&e[prefix.len()..]).unwrap()),
                    _ => None,
                };
                let mut target = prefix.clone();
                target.extend_from_slice(&inv_version(v));
                vit.seek(&target);
                while let Some((e, val)) = vit.item() {
                    if !is_entry(e) {
                        break;
                    }
                    let ver = u64::MAX - read_be(&e[prefix.len()..]).unwrap();
                    if ver < v {
                        batch.delete_cf(values, e);
                    } else if val == [TAG_DELETED] {
                        // A deletion marker at `v <= earliest` with nothing older left: absence
                        // reads the same without it.
                        batch.delete_cf(values, e);
                        if newest == Some(v) {
                            batch.delete_cf(preimages, preimage_key(k[8], &key_hash(&key)));
                        }
                    }
                    vit.next();
                }
                vit.status()?;
            }
            batch.delete_cf(changelog, k);
            it.next();
        }
        it.status()?;

        // Roots records below `earliest`.
        let roots = inner.cf(Cf::Roots);
        let mut it = db.raw_iterator_cf(roots);
        it.seek(be(old_earliest));
        while let Some(k) = it.key() {
            if read_be(k).is_some_and(|v| v >= earliest) {
                break;
            }
            batch.delete_cf(roots, k);
            it.next();
        }
        it.status()?;
        Ok(())
    }

    /// The keys of substore `sid` written in versions `(after, upto]`, with their values at
    /// `after`: what turns the tree of `upto` back into the tree of `after`.
    fn changes_since(
        &self,
        snap: &Snapshot<'_>,
        sid: u8,
        after: Version,
        upto: Version,
    ) -> Result<Vec<Change>, StoreError> {
        let inner = &self.inner;
        let mut ro = ReadOptions::default();
        ro.set_snapshot(snap);
        let mut it = inner.db.raw_iterator_cf_opt(inner.cf(Cf::Changelog), ro);
        it.seek(be(after + 1));
        let mut keys = BTreeSet::new();
        while let Some((k, list)) = it.item() {
            let bad = || StoreError::Corrupt(format!("bad changelog entry {}", hex::encode(k)));
            let v = read_be(k).filter(|_| k.len() == 9).ok_or_else(bad)?;
            if v > upto {
                break;
            }
            if k[8] == sid {
                keys.extend(decode_changelog(list).ok_or_else(bad)?);
            }
            it.next();
        }
        it.status()?;
        keys.into_iter()
            .map(|k| Ok((key_hash(&k), read_entry(inner, snap, sid, &k, after)?.flatten().as_deref().map(value_hash))))
            .collect()
    }

    /// An ICS-23 existence proof of the key with hash `kh` in `tree`, with its raw key (from
    /// the preimages) and its value at `version`.
    fn neighbour_proof(
        &self,
        snap: &Snapshot<'_>,
        sid: u8,
        tree: &memtree::Overlay<'_>,
        kh: &memtree::Hash,
        version: Version,
    ) -> Result<ics23::ExistenceProof, StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("{what} of key hash {} in substore {sid}", hex::encode(kh)));
        let path = tree.path(kh).ok_or_else(|| corrupt("no path"))?;
        let key =
            snap.get_cf(self.inner.cf(Cf::Preimages), preimage_key(sid, kh))?.ok_or_else(|| corrupt("no preimage"))?;
        let value = read_entry(&self.inner, snap, sid, &key, version)?.flatten().ok_or_else(|| corrupt("no value"))?;
        if value_hash(&value) != path.value_hash {
            return Err(corrupt("value disagreeing with the tree"));
        }
        Ok(path.to_ics23(key, value))
    }

    /// Value of `key` in `substore` at `version` with ICS-23 proofs: `[key in the substore tree
    /// (existence or non-existence), substore root under the substore name in the main tree
    /// (existence)]`. Verify the first against the substore root it implies, then the second
    /// against the app hash. Costs a walk of the tree plus the keys of `substore` changed since
    /// `version` (see "Proofs at older versions").
    pub fn get_with_proof(
        &self,
        substore: &str,
        key: &[u8],
        version: Version,
    ) -> Result<(Option<Vec<u8>>, [ics23::CommitmentProof; 2]), StoreError> {
        use ics23::commitment_proof::Proof;
        let sid = self.sid(substore)?;
        if key.is_empty() {
            return Err(StoreError::EmptyKey { substore: substore.to_string() });
        }
        // The trees' read lock first: the snapshot then holds every version they have committed.
        let trees = self.inner.trees.read();
        let snap = self.view(version)?;
        let (app_hash, roots) = self.roots_record(&snap, version)?;
        let root = roots[sid as usize - 1];
        if root == EMPTY_ROOT {
            return Err(StoreError::EmptySubstoreProof { substore: substore.to_string(), version });
        }
        let mut back = Vec::new();
        if let Some(staged) = trees.staged.as_ref().filter(|s| version < s.version) {
            back.extend(staged.undo[sid as usize - 1].iter().map(|(k, leaf)| (*k, leaf.map(|l| l.value_hash))));
        }
        if let Some(committed) = trees.committed.filter(|c| version < *c) {
            back.extend(self.changes_since(&snap, sid, version, committed)?);
        }
        let tree = trees.subs[sid as usize - 1].overlay(&back);
        if tree.root_hash() != root {
            return Err(StoreError::Corrupt(format!(
                "the tree of {substore:?} at {version} (from version {:?}) does not give its recorded root",
                trees.contents_version()
            )));
        }
        let kh = key_hash(key);
        let value = read_entry(&self.inner, &snap, sid, key, version)?.flatten();
        let sub_proof = match (tree.path(&kh), &value) {
            (Some(path), Some(v)) if path.value_hash == value_hash(v) => {
                Proof::Exist(path.to_ics23(key.to_vec(), v.clone()))
            }
            (None, None) => {
                let (below, above) = tree.neighbors(&kh);
                let left = below.map(|n| self.neighbour_proof(&snap, sid, &tree, &n, version)).transpose()?;
                let right = above.map(|n| self.neighbour_proof(&snap, sid, &tree, &n, version)).transpose()?;
                Proof::Nonexist(ics23::NonExistenceProof { key: key.to_vec(), left, right })
            }
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "tree and values disagree on {substore}/{} at {version}",
                    hex::encode(key)
                )))
            }
        };
        drop(trees);
        let main = main_tree(&self.inner.names, &roots);
        let main_path = main
            .path(&key_hash(substore.as_bytes()))
            .filter(|_| main.root_hash() == app_hash)
            .ok_or_else(|| StoreError::Corrupt(format!("roots record of {version} disagrees with its app hash")))?;
        let main_proof = Proof::Exist(main_path.to_ics23(substore.as_bytes().to_vec(), root.to_vec()));
        let wrap = |p| ics23::CommitmentProof { proof: Some(p) };
        Ok((value, [wrap(sub_proof), wrap(main_proof)]))
    }

    /// Compacts every column family into sorted, non-overlapping files (with the current table
    /// options, Bloom filters included). RocksDB does this in the background over time; a bulk
    /// load (a large genesis) leaves big overlapping files that make every read look into each.
    ///
    /// The bottommost level is rewritten too: a file merely moved there keeps its entries'
    /// sequence numbers, and RocksDB later rewrites such files in the background on its own
    /// ("BottommostFiles") to clear them, which after a 1M-account genesis costs ~3.4 s of CPU
    /// at a time nobody chose.
    pub fn compact(&self) {
        let mut opts = rocksdb::CompactOptions::default();
        opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        for cf in Cf::ALL {
            self.inner.db.compact_range_cf_opt(self.inner.cf(cf), None::<&[u8]>, None::<&[u8]>, &opts);
        }
    }

    /// The live table files, as `column family/level/name`, sorted (diagnostics and tests).
    #[doc(hidden)]
    pub fn debug_table_files(&self) -> Result<Vec<String>, StoreError> {
        let mut files: Vec<String> = (self.inner.db.live_files()?.into_iter())
            .map(|f| format!("{}/L{}/{}", f.column_family_name, f.level, f.name))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Number of entries in each column family (diagnostics and tests; scans everything).
    #[doc(hidden)]
    pub fn debug_entry_counts(&self) -> Result<BTreeMap<&'static str, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for cf in Cf::ALL {
            let mut it = self.inner.db.raw_iterator_cf_opt(self.inner.cf(cf), scan_options());
            it.seek_to_first();
            let mut n = 0;
            while it.valid() {
                n += 1;
                it.next();
            }
            it.status()?;
            out.insert(cf.name(), n);
        }
        Ok(out)
    }
}
