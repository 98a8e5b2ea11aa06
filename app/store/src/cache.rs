//! The values of the latest version, cached in front of RocksDB. The cache only ever holds
//! what is (or is being atomically made) the on-disk truth, so a hit returns exactly what a
//! RocksDB read would; it changes speed, never results.
//!
//! Bounded by entry count and cleared when full (like the app's signature cache): the hot
//! entries (params, module accounts, active accounts) come back within a block, and there is no
//! eviction order to keep. Nothing iterates it, so hash maps are fine here.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::types::Version;

/// Entries of the latest-value cache: accounts and balances are ~100-200 bytes, ~50 MiB when full.
pub const VALUE_CACHE_ENTRIES: usize = 262_144;

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
