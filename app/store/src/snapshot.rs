//! Whole-version export and import, for state-sync snapshots (see the crate docs, "Snapshots").

use crate::codec::{encode_value, preimage_key, value_key};
use crate::commitment::main_tree;
use crate::memtree::{key_hash, value_hash, LeafValue, MemTree};
use crate::{version_records, Cf, MerkleStore, PreparedCommit, StoreError, TreeWork, Version};

/// Leaves read per page by an [`Exporter`]; bounds its memory and the life of each RocksDB
/// iterator.
const EXPORT_PAGE: usize = 1024;

/// One leaf of a version: a present key of a substore and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub substore: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// Keeps a version readable: while it lives, commits do not prune that version (see the crate
/// docs, "Pruning"). Owns a store handle, so it is `Send` and may outlive the caller's borrow.
pub struct VersionPin {
    store: MerkleStore,
    version: Version,
}

impl VersionPin {
    pub fn version(&self) -> Version {
        self.version
    }
}

impl Drop for VersionPin {
    fn drop(&mut self) {
        let mut pins = self.store.inner.pins.lock();
        if let Some(n) = pins.get_mut(&self.version) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.version);
            }
        }
    }
}

impl std::fmt::Debug for VersionPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionPin").field("version", &self.version).finish()
    }
}

/// Every leaf of one version, in substore-name order, then raw-key order. Reads page by page
/// under a [`VersionPin`], so it is `Send` (unlike [`crate::StoreIter`]) and concurrent
/// commits, pruning included, never change what it yields.
pub struct Exporter {
    pin: VersionPin,
    /// Index (into the sorted substore names) of the substore being read.
    substore: usize,
    /// First key of the next page of that substore.
    resume: Vec<u8>,
    /// The current page and the index of the substore it belongs to.
    page: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
    page_substore: usize,
    done: bool,
}

impl Exporter {
    pub fn version(&self) -> Version {
        self.pin.version
    }

    /// Reads the next page; moves to the next substore when this one is exhausted.
    fn fetch(&mut self) -> Result<(), StoreError> {
        let store = &self.pin.store;
        let name = &store.substores()[self.substore];
        let page = store
            .range(name, &self.resume, None, self.pin.version)?
            .take(EXPORT_PAGE)
            .collect::<Result<Vec<_>, _>>()?;
        self.page_substore = self.substore;
        match page.last() {
            Some((last, _)) if page.len() == EXPORT_PAGE => {
                // The smallest key after `last`.
                self.resume = last.clone();
                self.resume.push(0);
            }
            _ => {
                self.substore += 1;
                self.resume.clear();
            }
        }
        self.page = page.into_iter();
        Ok(())
    }
}

impl Iterator for Exporter {
    type Item = Result<Leaf, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((key, value)) = self.page.next() {
                let substore = self.pin.store.substores()[self.page_substore].clone();
                return Some(Ok(Leaf { substore, key, value }));
            }
            if self.done || self.substore >= self.pin.store.substores().len() {
                self.done = true;
                return None;
            }
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

/// Rebuilds a version from an export stream into an empty store: feed every leaf with
/// [`Importer::push`] in export order, then [`Importer::finish`] gives the [`PreparedCommit`]
/// to check (its `app_hash`) and [`MerkleStore::commit`].
///
/// Memory: each substore's tree is built as soon as the stream moves past it; the pending
/// writes of every leaf are held until the commit, beside the trees.
pub struct Importer {
    store: MerkleStore,
    version: Version,
    /// Index (into the sorted substore names) of the substore receiving leaves; the trees of
    /// those before it are built.
    current: usize,
    /// Leaves of the current substore, in strictly increasing key order.
    leaves: Vec<(Vec<u8>, Vec<u8>)>,
    roots: Vec<(String, [u8; 32])>,
    trees: Vec<MemTree>,
    ops: Vec<(Cf, Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer").field("version", &self.version).field("current", &self.current).finish()
    }
}

impl MerkleStore {
    /// Pins `version` (which must be readable now) until the returned guard is dropped.
    pub fn pin(&self, version: Version) -> Result<VersionPin, StoreError> {
        let inner = &self.inner;
        // Under the commit lock no commit can raise `earliest` past `version` between the check
        // below and the insert; `commit` reads the pins under the same lock.
        let _guard = inner.commit_lock.lock();
        let st = *inner.state.read();
        let latest = st.latest.map(|l| l.0);
        if latest.is_none_or(|l| version > l) {
            return Err(StoreError::VersionNotFound { requested: version, latest });
        }
        let earliest = st.earliest.unwrap_or(0);
        if version < earliest {
            return Err(StoreError::VersionPruned { requested: version, earliest });
        }
        *inner.pins.lock().entry(version).or_insert(0) += 1;
        Ok(VersionPin { store: self.clone(), version })
    }

    /// Streams every leaf of `version` (pinned for the exporter's lifetime).
    pub fn export(&self, version: Version) -> Result<Exporter, StoreError> {
        let pin = self.pin(version)?;
        Ok(Exporter {
            pin,
            substore: 0,
            resume: Vec::new(),
            page: Vec::new().into_iter(),
            page_substore: 0,
            done: false,
        })
    }

    /// Starts an import of `version` (`>= 1`); the store must be empty (nothing committed).
    pub fn importer(&self, version: Version) -> Result<Importer, StoreError> {
        if let Some(latest) = self.latest_version() {
            return Err(StoreError::NotEmpty(latest));
        }
        if version == 0 || version == u64::MAX {
            return Err(StoreError::InvalidVersion(version));
        }
        Ok(Importer {
            store: self.clone(),
            version,
            current: 0,
            leaves: Vec::new(),
            roots: Vec::with_capacity(self.inner.names.len()),
            trees: Vec::with_capacity(self.inner.names.len()),
            ops: Vec::new(),
        })
    }
}

impl Importer {
    pub fn version(&self) -> Version {
        self.version
    }

    /// Adds the next leaf; leaves must come in export order (substore name, then key, both
    /// strictly increasing) with non-empty keys and values.
    pub fn push(&mut self, substore: &str, key: Vec<u8>, value: Vec<u8>) -> Result<(), StoreError> {
        let idx = self.store.sid(substore)? as usize - 1;
        if idx < self.current {
            let after = &self.store.inner.names[self.current];
            return Err(StoreError::InvalidImport(format!("substore {substore:?} comes after {after:?}")));
        }
        while self.current < idx {
            self.build_current()?;
        }
        if key.is_empty() {
            return Err(StoreError::EmptyKey { substore: substore.to_string() });
        }
        if value.is_empty() {
            return Err(StoreError::EmptyValue { substore: substore.to_string(), key: hex::encode(&key) });
        }
        if let Some((last, _)) = self.leaves.last() {
            if key <= *last {
                return Err(StoreError::InvalidImport(format!(
                    "keys of substore {substore:?} out of order: {} after {}",
                    hex::encode(&key),
                    hex::encode(last)
                )));
            }
        }
        self.leaves.push((key, value));
        Ok(())
    }

    /// Builds the remaining trees and the main tree. Nothing is written: commit the result.
    pub fn finish(mut self) -> Result<PreparedCommit, StoreError> {
        while self.current < self.store.inner.names.len() {
            self.build_current()?;
        }
        if let Some(latest) = self.store.latest_version() {
            return Err(StoreError::NotEmpty(latest));
        }
        let roots: Vec<[u8; 32]> = self.roots.iter().map(|(_, r)| *r).collect();
        let app_hash = main_tree(&self.store.inner.names, &roots).root_hash();
        self.ops.extend(version_records(self.version, &app_hash, &self.roots));
        Ok(PreparedCommit {
            version: self.version,
            app_hash,
            base: None,
            roots: self.roots,
            ops: self.ops,
            value_writes: None,
            trees: TreeWork::Import(self.trees),
        })
    }

    /// Builds the tree of the current substore out of its leaves (unique keys) and queues
    /// their values and preimages. No `changelog` entries: they exist to prune and prove
    /// older versions, and an imported store has none.
    fn build_current(&mut self) -> Result<(), StoreError> {
        let sid = (self.current + 1) as u8;
        let leaves = std::mem::take(&mut self.leaves);
        let mut hashes = Vec::with_capacity(leaves.len());
        self.ops.reserve(2 * leaves.len());
        for (key, value) in leaves {
            let hash = key_hash(&key);
            hashes.push((hash, LeafValue { value_hash: value_hash(&value), version: self.version }));
            self.ops.push((Cf::Values, value_key(sid, &key, self.version), encode_value(Some(&value))));
            self.ops.push((Cf::Preimages, preimage_key(sid, &hash), key));
        }
        let tree = MemTree::from_leaves(hashes);
        self.roots.push((self.store.inner.names[self.current].clone(), tree.root_hash()));
        self.trees.push(tree);
        self.current += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::{AppHash, ChangeSet, StoreConfig, EMPTY_ROOT};

    const SUBSTORES: [&str; 4] = ["acc", "bank", "empty", "zeta"];

    fn open(dir: &std::path::Path, retention: Option<u64>) -> MerkleStore {
        let cfg = StoreConfig { substores: SUBSTORES.iter().map(|s| s.to_string()).collect(), retention };
        MerkleStore::open(dir, cfg).unwrap()
    }

    fn apply(store: &MerkleStore, version: Version, changes: &ChangeSet) -> AppHash {
        let p = store.prepare(version, changes).unwrap();
        let h = p.app_hash;
        store.commit(p).unwrap();
        h
    }

    /// Random puts and deletes over `acc`, `bank` and `zeta` (never `empty`), with keys that
    /// contain zero bytes and are prefixes of each other (the exporter's page resume key is
    /// `last ++ 0x00`). Returns the model of the final state.
    fn random_history(store: &MerkleStore, versions: std::ops::RangeInclusive<Version>, seed: u64) -> ChangeSet {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut model: ChangeSet = BTreeMap::new();
        for v in versions {
            let mut cs: ChangeSet = BTreeMap::new();
            for name in ["acc", "bank", "zeta"] {
                let writes = if name == "acc" && v == 1 { 2600 } else { 40 };
                let m = cs.entry(name.to_string()).or_default();
                for _ in 0..writes {
                    let n: u16 = rng.gen_range(0..3000);
                    let mut key = format!("k{n:05}").into_bytes();
                    key.resize(key.len() + rng.gen_range(0..3), 0);
                    let value =
                        if rng.gen_bool(0.25) { None } else { Some(vec![rng.gen::<u8>() | 1; 1 + n as usize % 7]) };
                    m.insert(key, value);
                }
            }
            apply(store, v, &cs);
            for (name, kvs) in cs {
                let m = model.entry(name).or_default();
                for (k, v) in kvs {
                    match v {
                        Some(v) => m.insert(k, Some(v)),
                        None => m.remove(&k),
                    };
                }
            }
        }
        model
    }

    fn leaves_of(model: &ChangeSet) -> Vec<Leaf> {
        let mut out = Vec::new();
        for (name, kvs) in model {
            for (k, v) in kvs {
                out.push(Leaf { substore: name.clone(), key: k.clone(), value: v.clone().unwrap() });
            }
        }
        out
    }

    fn import(store: &MerkleStore, version: Version, leaves: &[Leaf]) -> PreparedCommit {
        let mut imp = store.importer(version).unwrap();
        for l in leaves {
            imp.push(&l.substore, l.key.clone(), l.value.clone()).unwrap();
        }
        imp.finish().unwrap()
    }

    #[test]
    fn export_import_roundtrip_gives_the_same_hash_reads_proofs_and_future() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = open(da.path(), Some(3));
        let model = random_history(&a, 1..=6, 7);
        let leaves: Vec<Leaf> = a.export(6).unwrap().collect::<Result<_, _>>().unwrap();
        assert!(leaves.len() > EXPORT_PAGE * 2, "paging is exercised: {}", leaves.len());
        assert_eq!(leaves, leaves_of(&model), "every live leaf, in (substore, key) order, nothing deleted");

        let b = open(db.path(), Some(3));
        let prepared = import(&b, 6, &leaves);
        assert_eq!(prepared.app_hash, a.app_hash(6).unwrap());
        b.commit(prepared).unwrap();
        assert_eq!((b.latest_version(), b.earliest_version()), (Some(6), Some(6)));
        for name in SUBSTORES {
            assert_eq!(b.substore_root(name, 6).unwrap(), a.substore_root(name, 6).unwrap(), "{name}");
            let ra: Vec<_> = a.range(name, b"", None, 6).unwrap().collect::<Result<_, _>>().unwrap();
            let rb: Vec<_> = b.range(name, b"", None, 6).unwrap().collect::<Result<_, _>>().unwrap();
            assert_eq!(ra, rb, "{name}");
        }
        assert_eq!(b.substore_root("empty", 6).unwrap(), EMPTY_ROOT);
        // Same tree shape, not only the same roots: proofs are identical, for present and absent keys.
        for key in [&leaves[0].key[..], &leaves[leaves.len() / 2].key[..], b"k99999", b"k01234\0"] {
            for name in ["acc", "bank", "zeta"] {
                assert_eq!(b.get(name, key, 6).unwrap(), a.get(name, key, 6).unwrap());
                assert_eq!(b.get_with_proof(name, key, 6).unwrap(), a.get_with_proof(name, key, 6).unwrap());
            }
        }

        // Both continue identically, and the import's store prunes like any other.
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        for v in 7..=10 {
            let mut cs: ChangeSet = BTreeMap::new();
            let m = cs.entry("acc".into()).or_default();
            for l in leaves.iter().filter(|l| l.substore == "acc").take(5) {
                m.insert(l.key.clone(), None);
            }
            m.insert(format!("new{}", rng.gen::<u32>()).into_bytes(), Some(vec![v as u8]));
            cs.entry("empty".into()).or_default().insert(vec![v as u8], Some(b"x".to_vec()));
            assert_eq!(apply(&b, v, &cs), apply(&a, v, &cs), "version {v}");
        }
        assert_eq!(b.earliest_version(), Some(8));
        assert!(matches!(b.get("acc", b"k00001", 6), Err(StoreError::VersionPruned { .. })));
        drop(b);
        let b = open(db.path(), Some(3));
        assert_eq!((b.latest_version(), b.latest_app_hash()), (Some(10), a.latest_app_hash()));
    }

    #[test]
    fn an_export_pins_its_version_against_pruning_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Some(1));
        let model = random_history(&store, 1..=2, 3);
        let mut exporter = store.export(2).unwrap();
        let first = exporter.next().unwrap().unwrap();
        // Commits that delete and overwrite every exported key; retention 1 would prune 2.
        for v in 3..=5 {
            let mut cs: ChangeSet = BTreeMap::new();
            for (name, kvs) in &model {
                let m = cs.entry(name.clone()).or_default();
                for k in kvs.keys() {
                    m.insert(k.clone(), if v == 4 { None } else { Some(vec![v as u8]) });
                }
            }
            apply(&store, v, &cs);
            assert_eq!(store.earliest_version(), Some(2), "pinned version stays readable");
        }
        let rest: Vec<Leaf> = exporter.collect::<Result<_, _>>().unwrap();
        let mut got = vec![first];
        got.extend(rest);
        assert_eq!(got, leaves_of(&model));
        assert!(store.get("acc", &got[0].key, 2).unwrap().is_some());

        // A thread can own an exporter (it is Send), and a second pin of the same version counts.
        let (p1, p2) = (store.pin(5).unwrap(), store.pin(5).unwrap());
        let e = store.export(5).unwrap();
        let n = std::thread::spawn(move || e.count()).join().unwrap();
        assert_eq!(n, got.len());
        assert_eq!(store.earliest_version(), Some(2));
        apply(&store, 6, &BTreeMap::new());
        assert_eq!(store.earliest_version(), Some(5), "deferred pruning catches up, up to the pin");
        drop(p1);
        apply(&store, 7, &BTreeMap::new());
        assert_eq!(store.earliest_version(), Some(5), "still pinned once");
        drop(p2);
        apply(&store, 8, &BTreeMap::new());
        assert_eq!(store.earliest_version(), Some(8));
        assert!(matches!(store.export(7), Err(StoreError::VersionPruned { .. })));
        assert!(matches!(store.export(9), Err(StoreError::VersionNotFound { .. })));
    }

    #[test]
    fn import_refuses_a_non_empty_store_and_malformed_streams() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = open(da.path(), None);
        apply(&a, 1, &BTreeMap::from([("acc".to_string(), BTreeMap::from([(b"k".to_vec(), Some(b"v".to_vec()))]))]));
        assert!(matches!(a.importer(2), Err(StoreError::NotEmpty(1))));

        let b = open(db.path(), None);
        assert!(matches!(b.importer(0), Err(StoreError::InvalidVersion(0))));
        let mut imp = b.importer(5).unwrap();
        imp.push("bank", b"b".to_vec(), b"1".to_vec()).unwrap();
        assert!(matches!(imp.push("acc", b"a".to_vec(), b"1".to_vec()), Err(StoreError::InvalidImport(_))));
        assert!(matches!(imp.push("bank", b"b".to_vec(), b"2".to_vec()), Err(StoreError::InvalidImport(_))));
        assert!(matches!(imp.push("bank", b"a".to_vec(), b"2".to_vec()), Err(StoreError::InvalidImport(_))));
        assert!(matches!(imp.push("nope", b"a".to_vec(), b"2".to_vec()), Err(StoreError::UnknownSubstore(_))));
        assert!(matches!(imp.push("zeta", b"z".to_vec(), vec![]), Err(StoreError::EmptyValue { .. })));
        assert!(matches!(imp.push("zeta", vec![], b"1".to_vec()), Err(StoreError::EmptyKey { .. })));
        let prepared = imp.finish().unwrap();

        // A block committed meanwhile wins; the import's commit is refused and writes nothing.
        let other = b.prepare(1, &BTreeMap::new()).unwrap();
        b.commit(other).unwrap();
        assert!(matches!(b.commit(prepared), Err(StoreError::StalePrepare { .. })));
        assert_eq!(b.latest_version(), Some(1));
        assert!(b.get("bank", b"b", 1).unwrap().is_none());
    }

    #[test]
    fn an_import_that_is_never_committed_leaves_the_store_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), None);
        let before = store.debug_entry_counts().unwrap();
        let mut imp = store.importer(3).unwrap();
        imp.push("acc", b"a".to_vec(), b"1".to_vec()).unwrap();
        let prepared = imp.finish().unwrap();
        assert_ne!(prepared.app_hash, EMPTY_ROOT);
        drop(prepared);
        assert_eq!(store.latest_version(), None);
        assert_eq!(store.debug_entry_counts().unwrap(), before);
        // An import of nothing at all is still a valid version (every substore empty).
        let empty = store.importer(3).unwrap().finish().unwrap();
        assert_eq!(empty.app_hash, store.prepare(3, &BTreeMap::new()).unwrap().app_hash);
    }
}
