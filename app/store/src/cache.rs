//! In-memory caches in front of RocksDB: decoded tree nodes, and the values of the latest
//! version. Both only ever hold what is (or is being atomically made) the on-disk truth, so a
//! hit returns exactly what a RocksDB read would; they change speed, never results.
//!
//! Bounded by entry count and cleared when full (like the app's signature cache): the hot
//! entries (the trees' top nodes, params, module accounts) come back within a block, and there
//! is no eviction order to keep. Nothing iterates them, so hash maps are fine here.

use std::collections::HashMap;
use std::hash::Hash;

use jmt::storage::Node;
use parking_lot::Mutex;

use crate::types::Version;

/// Entries of the node cache: about 1 KiB per internal node, so up to ~0.5 GiB. Enough for
/// every internal node of two 1M-key trees (accounts and balances of a million accounts, ~100k
/// internal nodes each; commits drop the nodes they replace), so that at that size a block
/// reads mostly leaves from RocksDB.
pub const NODE_CACHE_ENTRIES: usize = 524_288;
/// Entries of the latest-value cache: accounts and balances are ~100-200 bytes, ~50 MiB when full.
pub const VALUE_CACHE_ENTRIES: usize = 262_144;

/// A map that forgets everything when it reaches its capacity.
struct Bounded<K, V> {
    map: HashMap<K, V>,
    capacity: usize,
}

impl<K: Eq + Hash, V> Bounded<K, V> {
    fn new(capacity: usize) -> Self {
        Self { map: HashMap::new(), capacity }
    }

    fn insert(&mut self, k: K, v: V) {
        if self.map.len() >= self.capacity && !self.map.contains_key(&k) {
            self.map.clear();
        }
        self.map.insert(k, v);
    }
}

/// Decoded tree nodes by their RocksDB key (`sid ++ borsh(NodeKey)`). A node key names one
/// node forever: jmt writes a node only at its own version, and a version is written once
/// (`commit` refuses anything but `latest + 1`). Only internal nodes are kept: leaves are read
/// once, when their key changes, while the internal nodes near the roots are read by every
/// block.
pub struct NodeCache {
    nodes: Mutex<Bounded<Vec<u8>, Node>>,
}

impl NodeCache {
    pub fn new(capacity: usize) -> Self {
        Self { nodes: Mutex::new(Bounded::new(capacity)) }
    }

    pub fn get(&self, db_key: &[u8]) -> Option<Node> {
        self.nodes.lock().map.get(db_key).cloned()
    }

    /// Keeps `node` if it is worth keeping (an internal node).
    pub fn offer(&self, db_key: Vec<u8>, node: &Node) {
        if matches!(node, Node::Internal(_)) {
            self.nodes.lock().insert(db_key, node.clone());
        }
    }

    /// A committed version: drops the nodes it replaced, keeps the internal ones among its new
    /// nodes.
    pub fn replace(&self, replaced: &[Vec<u8>], nodes: Vec<(Vec<u8>, Node)>) {
        let mut map = self.nodes.lock();
        for k in replaced {
            map.map.remove(k);
        }
        for (k, n) in nodes {
            if matches!(n, Node::Internal(_)) {
                map.insert(k, n);
            }
        }
    }
}

/// One write of a committed version: `(substore id, raw key, value or None = deleted)`.
pub type ValueWrite = (u8, Vec<u8>, Option<Vec<u8>>);

/// Values as of one version, the latest committed one. Readers at that version are served
/// from it; a commit moves it to the new version under the same lock, carrying the version's
/// writes over, so an entry can never be read at a version it does not belong to.
pub struct LatestValues {
    inner: Mutex<LatestInner>,
}

struct LatestInner {
    version: Option<Version>,
    /// Substore id -> raw key -> value (`None` = absent). One map per substore, so a lookup
    /// borrows the caller's key instead of building a `(sid, key)` tuple.
    stores: HashMap<u8, HashMap<Vec<u8>, Option<Vec<u8>>>>,
    len: usize,
    capacity: usize,
}

impl LatestInner {
    fn insert(&mut self, sid: u8, key: Vec<u8>, value: Option<Vec<u8>>) {
        let known = self.stores.get(&sid).is_some_and(|m| m.contains_key(&key));
        if self.len >= self.capacity && !known {
            self.stores.clear();
            self.len = 0;
        }
        if self.stores.entry(sid).or_default().insert(key, value).is_none() {
            self.len += 1;
        }
    }

    fn clear(&mut self) {
        self.stores.clear();
        self.len = 0;
    }
}

impl LatestValues {
    /// An empty cache at `version` (the store's latest; `None` = nothing committed).
    pub fn new(capacity: usize, version: Option<Version>) -> Self {
        Self { inner: Mutex::new(LatestInner { version, stores: HashMap::new(), len: 0, capacity }) }
    }

    /// The cached value of `key` at `version`: `None` when not cached (or another version).
    pub fn get(&self, version: Version, sid: u8, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let inner = self.inner.lock();
        if inner.version != Some(version) {
            return None;
        }
        inner.stores.get(&sid)?.get(key).cloned()
    }

    /// Remembers what a read of `key` at `version` found, if the cache is still at `version`
    /// (a commit may have moved it on while the read went to RocksDB).
    pub fn fill(&self, version: Version, sid: u8, key: &[u8], value: &Option<Vec<u8>>) {
        let mut inner = self.inner.lock();
        if inner.version == Some(version) {
            inner.insert(sid, key.to_vec(), value.clone());
        }
    }

    /// Moves the cache from `base` to `version`, applying that version's writes. If the cache
    /// was not at `base` (or `writes` is `None`: a bulk import), it starts over empty.
    pub fn advance(&self, base: Option<Version>, version: Version, writes: Option<Vec<ValueWrite>>) {
        let mut inner = self.inner.lock();
        match writes {
            Some(writes) if base.is_some() && inner.version == base => {
                for (sid, k, v) in writes {
                    inner.insert(sid, k, v);
                }
            }
            _ => inner.clear(),
        }
        inner.version = Some(version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_clears_when_full() {
        let mut b = Bounded::new(2);
        b.insert(1, 'a');
        b.insert(2, 'b');
        b.insert(2, 'c'); // an existing key never clears
        assert_eq!(b.map.len(), 2);
        b.insert(3, 'd');
        assert_eq!(b.map.len(), 1);
        assert_eq!(b.map.get(&3), Some(&'d'));
    }

    #[test]
    fn latest_values_only_answer_for_their_version() {
        let c = LatestValues::new(10, Some(1));
        c.fill(1, 1, b"k", &Some(b"v1".to_vec()));
        assert_eq!(c.get(1, 1, b"k"), Some(Some(b"v1".to_vec())));
        assert_eq!(c.get(2, 1, b"k"), None, "another version");
        // Version 2 rewrites k and deletes d; a read at 1 finishing late must not fill it.
        c.advance(Some(1), 2, Some(vec![(1, b"k".to_vec(), Some(b"v2".to_vec())), (1, b"d".to_vec(), None)]));
        c.fill(1, 1, b"x", &Some(b"old".to_vec()));
        assert_eq!(c.get(2, 1, b"x"), None);
        assert_eq!(c.get(2, 1, b"k"), Some(Some(b"v2".to_vec())));
        assert_eq!(c.get(2, 1, b"d"), Some(None));
        // A jump (not from the cached version) starts over.
        c.advance(Some(5), 6, Some(vec![]));
        assert_eq!(c.get(6, 1, b"k"), None);
        // Full (capacity 10): the next new key starts it over; a known key does not.
        for i in 0..10u8 {
            c.fill(6, 2, &[i], &Some(vec![i]));
        }
        c.fill(6, 2, &[3], &None);
        assert_eq!(c.get(6, 2, &[0]), Some(Some(vec![0])));
        c.fill(6, 3, b"new", &None);
        assert_eq!(c.get(6, 2, &[0]), None);
        assert_eq!(c.get(6, 3, b"new"), Some(None));
    }
}
