//! `paychain-store`: a RocksDB-backed, versioned, two-level Merkle store built on
//! [`jmt`] (Jellyfish Merkle Tree, SHA-256) with ICS-23 proofs.
//!
//! # Model
//!
//! A version is a block height. There is one JMT per named substore (`"acc"`, `"bank"`, ...),
//! keyed by `sha256(raw key)`, and a *main* JMT mapping each substore's name to its 32-byte
//! root hash. The main root is the app hash. Every configured substore is in the main tree from
//! the first version on (an empty substore has jmt's placeholder root, [`EMPTY_ROOT`]).
//! Proofs for a key are `[key in substore tree, substore root in main tree]`, both checked with
//! [`jmt::ics23_spec`] (see [`proof_specs`]).
//!
//! # Layout (column families)
//!
//! Substores get ids `1..=n` in sorted-name order; the main tree is id `0`. `enc(k)` is the
//! order-preserving self-delimiting encoding of a raw key (0x00 → 0x00 0xFF, then 0x00 0x00),
//! `inv(v)` is `u64::MAX - v` big-endian, `BE(v)` is big-endian.
//!
//! | CF             | key                                  | value                          |
//! |----------------|--------------------------------------|--------------------------------|
//! | `nodes`        | `id ++ borsh(NodeKey)`               | `borsh(Node)`                  |
//! | `values`       | `id ++ enc(key) ++ inv(version)`     | `1 ++ value` or `0` (deleted)  |
//! | `preimages`    | `id ++ sha256(key)`                  | raw key                        |
//! | `stale`        | `BE(stale_since) ++ id ++ borsh(NodeKey)` | empty                     |
//! | `stale_values` | `BE(version) ++ id ++ enc(key)`      | empty                          |
//! | `roots`        | `BE(version)`                        | app hash ++ substore roots (id order) |
//! | `meta`         | `format`, `substores`, `latest` (`BE(v) ++ app hash`), `earliest` | |
//!
//! `values` keeps every version of every key newest-first, so "value of `k` at `v`" is one
//! seek to `id ++ enc(k) ++ inv(v)`, and a range scan at any version walks raw keys in order.
//!
//! Every tree (each substore and the main tree) has a root node at *every* committed version:
//! jmt's `put_value_set(_, v)` starts from the root at `v - 1`. A tree with no changes in a block
//! gets a copy of its previous root under `(v, [])` and the old root key is recorded stale since
//! `v` (node hashes do not include versions, so the copy has the same hash).
//!
//! # Pruning
//!
//! With `retention = Some(R)`, committing `V` makes `E = V - R + 1` the earliest readable
//! version. In the same write batch: nodes with `stale_since <= E` are deleted (jmt's stale
//! index: such nodes are reachable only from roots older than `E`); for every `stale_values`
//! entry `(v <= E, key)` the versions of `key` older than `v` are deleted (reads at `>= E` see
//! the entry at `v` or a newer one), and a deletion marker at `v` is dropped too (absence is
//! absence), together with the key's preimage when nothing newer exists. Roots records below
//! `E` go as well. Reads below `E` return [`StoreError::VersionPruned`].
//!
//! A version can be *pinned* ([`MerkleStore::pin`]; every [`Exporter`] holds a pin): `E` never
//! rises above the smallest pinned version, so a long export in another thread keeps reading a
//! complete version while blocks keep committing. The deferred pruning happens in the first
//! commit after the pin is dropped (pruning scans from the old `E`, so skipped steps are caught
//! up in one go).
//!
//! # Crash safety
//!
//! [`MerkleStore::prepare`] only reads. [`MerkleStore::commit`] writes *everything* of a version
//! (nodes, values, preimages, stale indexes, roots record, `latest`/`earliest` metadata and the
//! pruning deletions) in ONE RocksDB `WriteBatch` with `sync = true`. RocksDB applies a write
//! batch atomically (one WAL record), so after a crash at any instant the database holds either
//! all of version `V` or none of it; on open, `meta/latest` says which, and every record of
//! that version is present. Nothing is ever overwritten in place: a version's data is only
//! removed by pruning, which happens in the same atomic batch that advances `earliest`.
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
//!
//! # Snapshots
//!
//! [`MerkleStore::export`] streams every leaf (substore, raw key, value) of a version in
//! substore-name order, then raw-key order. [`MerkleStore::importer`] rebuilds such a stream into
//! an *empty* store as the same version: jmt roots depend only on the key/value set, so the app
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
mod disk;
mod iter;
pub mod memtree;
mod snapshot;
pub mod timing;
mod types;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Sha256Jmt};
use parking_lot::{Mutex, RwLock};
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Options, ReadOptions, WriteBatch, WriteOptions, DB};
use sha2::Sha256;

use cache::{LatestValues, NodeCache, ValueWrite, NODE_CACHE_ENTRIES, VALUE_CACHE_ENTRIES};
use codec::*;
pub use disk::dir_size;
pub use iter::StoreIter;
use rayon::prelude::*;
pub use snapshot::{Exporter, Importer, Leaf, VersionPin};
pub use timing::{StoreTimings, StoreTimingsTotal};
use types::Snapshot;
pub use types::{AppHash, ChangeSet, StoreError, Version};

/// Root hash of an empty tree (jmt's `Node::Null` hash).
pub const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// Id of the main tree in the tables; substores are `1..=n`.
const MAIN_SID: u8 = 0;
/// Ids are one byte and `sid + 1` must not overflow (reverse scans seek to it).
const MAX_SUBSTORES: usize = 254;
const FORMAT_VERSION: u8 = 1;

const META_FORMAT: &[u8] = b"format";
const META_SUBSTORES: &[u8] = b"substores";
const META_LATEST: &[u8] = b"latest";
const META_EARLIEST: &[u8] = b"earliest";

/// The column families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cf {
    Meta,
    Nodes,
    Values,
    Preimages,
    Stale,
    StaleValues,
    Roots,
}

impl Cf {
    const ALL: [Cf; 7] = [Cf::Meta, Cf::Nodes, Cf::Values, Cf::Preimages, Cf::Stale, Cf::StaleValues, Cf::Roots];

    fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Nodes => "nodes",
            Cf::Values => "values",
            Cf::Preimages => "preimages",
            Cf::Stale => "stale",
            Cf::StaleValues => "stale_values",
            Cf::Roots => "roots",
        }
    }
}

/// Store configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// The fixed set of substore names: non-empty, unique, ASCII, at most 254. Order does not
    /// matter. Must match what is on disk.
    pub substores: Vec<String>,
    /// Keep this many most recent versions readable (must be >= 1); `None` = keep all.
    pub retention: Option<u64>,
}

fn tree_err(e: anyhow::Error) -> StoreError {
    // Keep our own errors (e.g. Db from the TreeReader) intact.
    match e.downcast::<StoreError>() {
        Ok(se) => se,
        Err(e) => StoreError::Tree(format!("{e:#}")),
    }
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
    commit_lock: Mutex<()>,
    /// Pinned versions (refcounts): pruning keeps them readable (see "Pruning").
    pins: Mutex<BTreeMap<Version, usize>>,
    /// Phase times for benchmarks (filled only while [`timing::set_enabled`] is on).
    timings: StoreTimings,
    /// Decoded internal tree nodes (see [`cache`]).
    nodes: NodeCache,
    /// Values of the latest version, for the app's state reads (see [`cache`]).
    latest_values: LatestValues,
    /// jmt's batch insertion for change sets without deletions (off only to test it against
    /// per-key insertion).
    batch_insertion: bool,
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

/// One tree's part of a [`PreparedCommit`].
struct TreeUpdate {
    root: [u8; 32],
    ops: Vec<(Cf, Vec<u8>, Vec<u8>)>,
    new_nodes: Vec<(Vec<u8>, Node)>,
    /// RocksDB keys of the nodes this version replaced (stale from it on).
    replaced_nodes: Vec<Vec<u8>>,
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
    /// The version's new internal nodes by RocksDB key, for the node cache.
    new_nodes: Vec<(Vec<u8>, Node)>,
    /// The nodes it replaced: the node cache drops them, so it holds the live trees rather
    /// than filling up with old versions of the nodes near the roots.
    replaced_nodes: Vec<Vec<u8>>,
}

impl PreparedCommit {
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

/// Hash of a jmt node (jmt's `Node::hash` is crate-private).
fn node_hash(node: &Node) -> [u8; 32] {
    match node {
        Node::Null => EMPTY_ROOT,
        Node::Internal(n) => n.hash::<Sha256>(),
        Node::Leaf(n) => n.hash::<Sha256>(),
    }
}

fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha256>(key)
}

/// Reads the newest entry of `key` in tree `sid` with version `<= version`:
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

/// A [`TreeReader`] over one tree (substore or main) at a snapshot.
struct TreeView<'a> {
    inner: &'a Inner,
    snap: &'a Snapshot<'a>,
    sid: u8,
    /// When preparing the first version `v > 0` of an empty store: the root at `v - 1` is a
    /// synthetic `Node::Null` (jmt needs a root at `v - 1`).
    null_root: Option<Version>,
}

impl TreeView<'_> {
    fn is_null_root(&self, node_key: &NodeKey) -> bool {
        Some(node_key.version()) == self.null_root && node_key.nibble_path().is_empty()
    }
}

impl TreeReader for TreeView<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if self.is_null_root(node_key) {
            return Ok(Some(Node::Null));
        }
        let db_key = node_db_key(self.sid, node_key);
        if let Some(node) = self.inner.nodes.get(&db_key) {
            self.inner.timings.node_cache_hits.count_one();
            return Ok(Some(node));
        }
        let _timer = self.inner.timings.node_reads.time();
        let bytes = self.snap.get_pinned_cf(self.inner.cf(Cf::Nodes), &db_key)?;
        match bytes {
            Some(b) => {
                let node =
                    decode_node(&b).map_err(|e| StoreError::Corrupt(format!("undecodable node {node_key:?}: {e}")))?;
                self.inner.nodes.offer(db_key, &node);
                Ok(Some(node))
            }
            None => Ok(None),
        }
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        let Some(key) = self.preimage(key_hash)? else {
            return Ok(None);
        };
        Ok(read_entry(self.inner, self.snap, self.sid, &key, max_version)?.flatten())
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("get_rightmost_leaf is not supported (tree restore is not used)")
    }
}

impl HasPreimage for TreeView<'_> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.snap.get_cf(self.inner.cf(Cf::Preimages), preimage_key(self.sid, &key_hash))?)
    }
}

/// RocksDB's block cache, shared by the column families. RocksDB's default (8 MiB) holds a
/// sliver of a million-account state: at 1M accounts the tree node and value reads of a block
/// went to the OS for nearly every block, at 23-34 us each.
const BLOCK_CACHE_BYTES: usize = 1 << 30;

/// Table options of a column family: the shared block cache, with index and filter blocks in
/// it (so they count against its budget), and Bloom filters where reads are point lookups
/// (`Get` of a node, a preimage, a roots record) rather than seeks.
fn cf_options(cf: Cf, cache: &rocksdb::Cache) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    if matches!(cf, Cf::Nodes | Cf::Preimages | Cf::Roots) {
        table.set_bloom_filter(10.0, false);
    }
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts
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
    /// Opens (creating if missing) the store at `path`. Fails with
    /// [`StoreError::SubstoreMismatch`] if the substore set differs from the one on disk.
    pub fn open(path: &Path, cfg: StoreConfig) -> Result<Self, StoreError> {
        let names = validate_config(&cfg)?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Flushes and compactions in the background on both cores of a small validator.
        opts.set_max_background_jobs(2);
        let block_cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES)?;
        let cfs = Cf::ALL.iter().map(|cf| ColumnFamilyDescriptor::new(cf.name(), cf_options(*cf, &block_cache)));
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        let ids = names.iter().enumerate().map(|(i, n)| (n.clone(), (i + 1) as u8)).collect();
        let mut inner = Inner {
            db,
            names,
            ids,
            retention: cfg.retention,
            state: RwLock::new(State { latest: None, earliest: None }),
            commit_lock: Mutex::new(()),
            pins: Mutex::new(BTreeMap::new()),
            timings: StoreTimings::default(),
            nodes: NodeCache::new(NODE_CACHE_ENTRIES),
            latest_values: LatestValues::new(VALUE_CACHE_ENTRIES, None),
            batch_insertion: true,
        };
        let state = Self::load_meta(&inner)?;
        inner.latest_values = LatestValues::new(VALUE_CACHE_ENTRIES, state.latest.map(|l| l.0));
        inner.state = RwLock::new(state);
        Ok(MerkleStore { inner: Arc::new(inner) })
    }

    /// Whether change sets without deletions use jmt's batch insertion (tests).
    #[doc(hidden)]
    pub fn uses_batch_insertion(&self) -> bool {
        self.inner.batch_insertion
    }

    /// Turns jmt's batch insertion off, so tests can compare it with per-key insertion.
    #[doc(hidden)]
    pub fn open_with_per_key_insertion(path: &Path, cfg: StoreConfig) -> Result<Self, StoreError> {
        let mut store = Self::open(path, cfg)?;
        Arc::get_mut(&mut store.inner).expect("just opened").batch_insertion = false;
        Ok(store)
    }

    fn load_meta(inner: &Inner) -> Result<State, StoreError> {
        let meta = inner.cf(Cf::Meta);
        let db = &inner.db;
        match db.get_cf(meta, META_FORMAT)? {
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
            Some(f) => return Err(StoreError::Corrupt(format!("unsupported store format {}", hex::encode(f)))),
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
        let _timer = self.inner.timings.value_reads.time();
        let snap = self.view(version)?;
        let value = read_entry(&self.inner, &snap, sid, key, version)?.flatten();
        self.inner.latest_values.fill(version, sid, key, &value);
        Ok(value)
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
        let mut ro = ReadOptions::default();
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
    /// if the store is empty) without writing anything.
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
        let base = self.latest_version();
        if let Some(b) = base {
            if version != b + 1 {
                return Err(StoreError::WrongVersion { expected: b + 1, got: version });
            }
        }
        let snap = self.inner.db.snapshot();
        if let Some(b) = base {
            // A concurrent commit may have pruned `b` from under this snapshot.
            let st = *self.inner.state.read();
            if st.earliest.unwrap_or(0) > b || st.latest.map(|l| l.0) != base {
                return Err(StoreError::StalePrepare { version, prepared_on: base, latest: st.latest.map(|l| l.0) });
            }
        }
        let null_root = match (base, version) {
            (None, v) if v > 0 => Some(v - 1),
            _ => None,
        };
        let n = self.inner.names.len();
        let prev_roots = match base {
            Some(b) => self.roots_record(&snap, b)?.1,
            None => vec![EMPTY_ROOT; n],
        };

        // The substore trees are independent: update them in parallel, then the main tree
        // over their roots. Each tree's writes are collected apart and appended in name order,
        // so the result does not depend on scheduling.
        let empty = BTreeMap::new();
        let trees: Vec<TreeUpdate> = self
            .inner
            .names
            .par_iter()
            .enumerate()
            .map(|(i, name)| {
                let sid = (i + 1) as u8;
                let mut effective = BTreeMap::new();
                for (k, v) in changes.get(name).unwrap_or(&empty) {
                    if v.is_none() {
                        let exists = match base {
                            Some(b) => read_entry(&self.inner, &snap, sid, k, b)?.flatten().is_some(),
                            None => false,
                        };
                        if !exists {
                            continue;
                        }
                    }
                    effective.insert(k.clone(), v.clone());
                }
                self.apply_tree(&snap, sid, version, base, null_root, &effective)
            })
            .collect::<Result<_, StoreError>>()?;

        let mut ops = Vec::new();
        let mut new_nodes = Vec::new();
        let mut replaced_nodes = Vec::new();
        let mut roots = Vec::with_capacity(n);
        let mut main_changes = BTreeMap::new();
        for ((i, name), tree) in self.inner.names.iter().enumerate().zip(trees) {
            if base.is_none() || tree.root != prev_roots[i] {
                main_changes.insert(name.as_bytes().to_vec(), Some(tree.root.to_vec()));
            }
            roots.push((name.clone(), tree.root));
            ops.extend(tree.ops);
            new_nodes.extend(tree.new_nodes);
            replaced_nodes.extend(tree.replaced_nodes);
        }
        let main = self.apply_tree(&snap, MAIN_SID, version, base, null_root, &main_changes)?;
        let app_hash = main.root;
        ops.extend(main.ops);
        new_nodes.extend(main.new_nodes);
        replaced_nodes.extend(main.replaced_nodes);

        let mut rec = Vec::with_capacity(32 * (n + 1));
        rec.extend_from_slice(&app_hash);
        for (_, r) in &roots {
            rec.extend_from_slice(r);
        }
        ops.push((Cf::Roots, be(version).to_vec(), rec));
        let mut latest = be(version).to_vec();
        latest.extend_from_slice(&app_hash);
        ops.push((Cf::Meta, META_LATEST.to_vec(), latest));

        let mut value_writes = Vec::new();
        for (name, kvs) in changes {
            let sid = self.sid(name)?;
            value_writes.extend(kvs.iter().map(|(k, v)| (sid, k.clone(), v.clone())));
        }
        Ok(PreparedCommit {
            version,
            app_hash,
            base,
            roots,
            ops,
            value_writes: Some(value_writes),
            new_nodes,
            replaced_nodes,
        })
    }

    /// Applies `changes` (already filtered of no-op deletes) to tree `sid`: its new root and
    /// writes.
    fn apply_tree(
        &self,
        snap: &Snapshot<'_>,
        sid: u8,
        version: Version,
        base: Option<Version>,
        null_root: Option<Version>,
        changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<TreeUpdate, StoreError> {
        let mut ops = Vec::new();
        let mut new_nodes = Vec::new();
        let mut replaced_nodes = Vec::new();
        let reader = TreeView { inner: &self.inner, snap, sid, null_root };
        let new_root_key = root_key(version);
        if changes.is_empty() {
            // Unchanged tree: copy the previous root to this version, mark the old one stale.
            let node = match base {
                Some(b) => {
                    let old = root_key(b);
                    let node = reader
                        .get_node_option(&old)
                        .map_err(tree_err)?
                        .ok_or_else(|| StoreError::Corrupt(format!("missing root of tree {sid} at {b}")))?;
                    ops.push((Cf::Stale, stale_node_key(version, sid, &old), vec![]));
                    replaced_nodes.push(node_db_key(sid, &old));
                    node
                }
                None => Node::Null,
            };
            let db_key = node_db_key(sid, &new_root_key);
            ops.push((Cf::Nodes, db_key.clone(), encode_node(&node)));
            let root = node_hash(&node);
            if matches!(node, Node::Internal(_)) {
                new_nodes.push((db_key, node));
            }
            return Ok(TreeUpdate { root, ops, new_nodes, replaced_nodes });
        }

        let tree = Sha256Jmt::new(&reader);
        let (root, batch) = if self.inner.batch_insertion && changes.values().all(Option::is_some) {
            // jmt's batch insertion builds and hashes each touched node once per block, where
            // per-key insertion rebuilds and rehashes the whole path of every key. It takes no
            // deletions; the roots are the same (they depend only on the key/value set).
            let values = changes.iter().filter_map(|(k, v)| Some((key_hash(k), v.clone()?))).collect();
            let (mut roots, batch) = tree.batch_put_value_sets(vec![values], None, version).map_err(tree_err)?;
            (roots.pop().ok_or_else(|| StoreError::Tree("jmt returned no root".into()))?, batch)
        } else {
            let value_set = changes.iter().map(|(k, v)| (key_hash(k), v.clone()));
            tree.put_value_set(value_set, version).map_err(tree_err)?
        };
        if !batch.node_batch.nodes().contains_key(&new_root_key) {
            return Err(StoreError::Tree(format!("jmt produced no root for tree {sid} at version {version}")));
        }
        for (nk, node) in batch.node_batch.nodes() {
            let db_key = node_db_key(sid, nk);
            ops.push((Cf::Nodes, db_key.clone(), encode_node(node)));
            if matches!(node, Node::Internal(_)) {
                new_nodes.push((db_key, node.clone()));
            }
        }
        let old_root = base.map(root_key);
        let mut old_root_stale = false;
        for s in &batch.stale_node_index_batch {
            if reader.is_null_root(&s.node_key) {
                continue; // synthetic, never stored
            }
            old_root_stale |= Some(&s.node_key) == old_root.as_ref();
            ops.push((Cf::Stale, stale_node_key(s.stale_since_version, sid, &s.node_key), vec![]));
            replaced_nodes.push(node_db_key(sid, &s.node_key));
        }
        if let (Some(old), false) = (&old_root, old_root_stale) {
            // jmt copies an unchanged root without marking the old one stale.
            ops.push((Cf::Stale, stale_node_key(version, sid, old), vec![]));
            replaced_nodes.push(node_db_key(sid, old));
        }
        for (k, v) in changes {
            ops.push((Cf::Values, value_key(sid, k, version), encode_value(v.as_deref())));
            ops.push((Cf::StaleValues, stale_value_key(version, sid, k), vec![]));
            if v.is_some() {
                ops.push((Cf::Preimages, preimage_key(sid, &key_hash(k)), k.clone()));
            }
        }
        Ok(TreeUpdate { root: root.0, ops, new_nodes, replaced_nodes })
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
        let PreparedCommit { version, app_hash, ops, value_writes, new_nodes, replaced_nodes, .. } = prepared;
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
        // The caches follow the disk, never lead it (see `cache`).
        inner.latest_values.advance(latest, version, value_writes);
        inner.nodes.replace(&replaced_nodes, new_nodes);
        Ok(())
    }

    /// Adds to `batch` the deletions that make every version below `earliest` unreadable.
    ///
    /// Scans start at `old_earliest` rather than at the first key: every `stale`/`stale_values`
    /// entry and roots record below `old_earliest` was deleted by an earlier commit (pruning runs
    /// whenever `earliest` rises, and an entry stamped `s` is on disk by the first commit whose
    /// earliest reaches `s`, or the one after when written in that same batch). This keeps the
    /// scans from wading through the deletion tombstones of previous prunes.
    fn prune(&self, old_earliest: Version, earliest: Version, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let inner = &self.inner;
        let db = &inner.db;

        // Nodes no longer reachable from any root >= earliest.
        let (stale, nodes) = (inner.cf(Cf::Stale), inner.cf(Cf::Nodes));
        let mut it = db.raw_iterator_cf(stale);
        it.seek(be(old_earliest));
        while let Some(k) = it.key() {
            let since = read_be(k).ok_or_else(|| StoreError::Corrupt("bad stale key".into()))?;
            if since > earliest {
                break;
            }
            batch.delete_cf(nodes, &k[8..]);
            batch.delete_cf(stale, k);
            it.next();
        }
        it.status()?;

        // Value versions shadowed by a write at or before `earliest`.
        let (stale_values, values, preimages) =
            (inner.cf(Cf::StaleValues), inner.cf(Cf::Values), inner.cf(Cf::Preimages));
        let mut it = db.raw_iterator_cf(stale_values);
        let mut vit = db.raw_iterator_cf(values);
        it.seek(be(old_earliest));
        while let Some(k) = it.key() {
            let v = read_be(k).ok_or_else(|| StoreError::Corrupt("bad stale_values key".into()))?;
            if v > earliest {
                break;
            }
            let prefix = &k[8..];
            let is_entry = |key: &[u8]| key.len() == prefix.len() + 8 && key.starts_with(prefix);
            // Is the entry at `v` the newest one of this key?
            vit.seek(prefix);
            let newest = match vit.key() {
                Some(key) if is_entry(key) => Some(u64::MAX - read_be(&key[prefix.len()..]).unwrap()),
                _ => None,
            };
            let mut target = prefix.to_vec();
            target.extend_from_slice(&inv_version(v));
            vit.seek(&target);
            while let Some((key, val)) = vit.item() {
                if !is_entry(key) {
                    break;
                }
                let ver = u64::MAX - read_be(&key[prefix.len()..]).unwrap();
                if ver < v {
                    batch.delete_cf(values, key);
                } else if val == [TAG_DELETED] {
                    // A deletion marker at `v <= earliest` with nothing older left: absence
                    // reads the same without it.
                    batch.delete_cf(values, key);
                    if newest == Some(v) {
                        let raw = parse_value_key(key).ok_or_else(|| StoreError::Corrupt("bad values key".into()))?.raw;
                        batch.delete_cf(preimages, preimage_key(prefix[0], &key_hash(&raw)));
                    }
                }
                vit.next();
            }
            vit.status()?;
            batch.delete_cf(stale_values, k);
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

    /// Value of `key` in `substore` at `version` with ICS-23 proofs: `[key in the substore tree
    /// (existence or non-existence), substore root under the substore name in the main tree
    /// (existence)]`. Verify the first against the substore root it implies, then the second
    /// against the app hash.
    pub fn get_with_proof(
        &self,
        substore: &str,
        key: &[u8],
        version: Version,
    ) -> Result<(Option<Vec<u8>>, [ics23::CommitmentProof; 2]), StoreError> {
        let sid = self.sid(substore)?;
        if key.is_empty() {
            return Err(StoreError::EmptyKey { substore: substore.to_string() });
        }
        let snap = self.view(version)?;
        let root = self.roots_record(&snap, version)?.1[sid as usize - 1];
        if root == EMPTY_ROOT {
            return Err(StoreError::EmptySubstoreProof { substore: substore.to_string(), version });
        }
        let sub_view = TreeView { inner: &self.inner, snap: &snap, sid, null_root: None };
        let (value, sub_proof) =
            Sha256Jmt::new(&sub_view).get_with_ics23_proof(key.to_vec(), version).map_err(tree_err)?;
        let main_view = TreeView { inner: &self.inner, snap: &snap, sid: MAIN_SID, null_root: None };
        let (main_value, main_proof) =
            Sha256Jmt::new(&main_view).get_with_ics23_proof(substore.as_bytes().to_vec(), version).map_err(tree_err)?;
        if main_value.as_deref() != Some(&root[..]) {
            return Err(StoreError::Corrupt(format!(
                "main tree holds {:?} for substore {substore:?} at {version}, roots record {}",
                main_value.map(hex::encode),
                hex::encode(root)
            )));
        }
        Ok((value, [sub_proof, main_proof]))
    }

    /// Compacts every column family into sorted, non-overlapping files (with the current table
    /// options, Bloom filters included). RocksDB does this in the background over time; a bulk
    /// load (a large genesis) leaves big overlapping files that make every read look into each.
    pub fn compact(&self) {
        for cf in Cf::ALL {
            self.inner.db.compact_range_cf(self.inner.cf(cf), None::<&[u8]>, None::<&[u8]>);
        }
    }

    /// Number of entries in each column family (diagnostics and tests; scans everything).
    #[doc(hidden)]
    pub fn debug_entry_counts(&self) -> Result<BTreeMap<&'static str, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for cf in Cf::ALL {
            let mut it = self.inner.db.raw_iterator_cf(self.inner.cf(cf));
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
