//! The values of the latest version, cached in front of RocksDB. The cache only ever holds
//! what is (or is being atomically made) the on-disk truth, so a hit returns exactly what a
//! RocksDB read would; it changes speed, never results.
//!
//! Bounded by entry count in two generations: new entries go to the young one; when it is
//! full it becomes the old one and the previous old one is dropped. A hit in the old
//! generation moves the entry back to the young one, so what a chain keeps reading (params,
//! module accounts, active accounts and their compliance records) survives a turnover, and
//! a turnover never empties the cache (clearing it whole cost a payments block a RocksDB read
//! of every key it touched again, ~1/3 more block time every few blocks). Nothing iterates
//! it, so hash maps are fine here; they hash with ahash, seeded per process (keys are chosen
//! by users, so a seeded hash; SipHash was most of a lookup's cost, ~30 lookups per send).

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::types::Version;

/// Entries of one generation of the latest-value cache, over all shards: accounts and
/// balances are ~100-200 bytes, so ~50 MiB per full generation and at most twice that.
pub const VALUE_CACHE_ENTRIES: usize = 262_144;

/// One write of a committed version: `(substore id, raw key, value or None = deleted)`.
pub type ValueWrite = (u8, Vec<u8>, Option<Vec<u8>>);

/// Raw key -> value (`None` = absent), one map per substore id (index), so a lookup borrows
/// the caller's key instead of building a `(sid, key)` tuple.
type Generation = Vec<HashMap<Vec<u8>, Option<Vec<u8>>, ahash::RandomState>>;

/// Shards, each under its own lock: the read-ahead thread and the thread executing a block
/// read the cache at the same time, and one lock made them queue for each other.
const SHARDS: usize = 16;

/// Values as of one version, the latest committed one. Readers at that version are served
/// from it; a commit moves each shard to the new version under that shard's lock, carrying
/// the version's writes over, so an entry can never be read at a version it does not belong to.
pub struct LatestValues {
    shards: Vec<Mutex<Shard>>,
}

struct Shard {
    version: Option<Version>,
    /// Every insert lands here, so a key's entry here is always its newest.
    young: Generation,
    young_len: usize,
    /// The previous young generation; an entry of a key also in `young` is never read.
    old: Generation,
    capacity: usize,
}

impl Shard {
    fn insert(&mut self, sid: u8, key: Vec<u8>, value: Option<Vec<u8>>) {
        let i = usize::from(sid);
        let known = self.young.get(i).is_some_and(|m| m.contains_key(&key));
        if self.young_len >= self.capacity && !known {
            let old = std::mem::replace(&mut self.old, std::mem::take(&mut self.young));
            self.young_len = 0;
            // Freeing thousands of entries takes milliseconds: not on the thread executing a
            // block. If no thread can be had, the closure (with `old`) is dropped right here.
            let _ = std::thread::Builder::new().name("value-cache-free".into()).spawn(move || drop(old));
        }
        if self.young.len() <= i {
            self.young.resize_with(i + 1, HashMap::default);
        }
        if self.young[i].insert(key, value).is_none() {
            self.young_len += 1;
        }
    }

    fn get(&mut self, sid: u8, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let i = usize::from(sid);
        if let Some(hit) = self.young.get(i).and_then(|m| m.get(key)) {
            return Some(hit.clone());
        }
        let (key, value) = self.old.get_mut(i)?.remove_entry(key)?;
        self.insert(sid, key, value.clone());
        Some(value)
    }

    fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
        self.young_len = 0;
    }
}

/// The shard of `key`: FNV-1a over its bytes (keys are not chosen to collide here: a skewed
/// spread only makes one shard turn over sooner).
fn shard_of(sid: u8, key: &[u8], shards: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(sid);
    for b in key {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % shards as u64) as usize
}

impl LatestValues {
    /// An empty cache at `version` (the store's latest; `None` = nothing committed) holding
    /// about `capacity` entries per generation.
    pub fn new(capacity: usize, version: Option<Version>) -> Self {
        Self::with_shards(capacity, version, SHARDS)
    }

    fn with_shards(capacity: usize, version: Option<Version>, shards: usize) -> Self {
        let per_shard = capacity.div_ceil(shards).max(1);
        let shards = (0..shards.max(1))
            .map(|_| {
                Mutex::new(Shard { version, young: Vec::new(), young_len: 0, old: Vec::new(), capacity: per_shard })
            })
            .collect();
        Self { shards }
    }

    fn shard(&self, sid: u8, key: &[u8]) -> &Mutex<Shard> {
        &self.shards[shard_of(sid, key, self.shards.len())]
    }

    /// The cached value of `key` at `version`: `None` when not cached (or another version).
    pub fn get(&self, version: Version, sid: u8, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let mut shard = self.shard(sid, key).lock();
        if shard.version != Some(version) {
            return None;
        }
        shard.get(sid, key)
    }

    /// Remembers what a read of `key` at `version` found, if the cache is still at `version`
    /// (a commit may have moved it on while the read went to RocksDB).
    pub fn fill(&self, version: Version, sid: u8, key: &[u8], value: &Option<Vec<u8>>) {
        let mut shard = self.shard(sid, key).lock();
        if shard.version == Some(version) {
            shard.insert(sid, key.to_vec(), value.clone());
        }
    }

    /// Moves the cache from `base` to `version`, applying that version's writes. If the cache
    /// was not at `base` (or `writes` is `None`: a bulk import), it starts over empty.
    pub fn advance(&self, base: Option<Version>, version: Version, writes: Option<Vec<ValueWrite>>) {
        let mut shards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let carry = base.is_some() && shards.iter().all(|s| s.version == base);
        match writes {
            Some(writes) if carry => {
                for (sid, k, v) in writes {
                    let n = shards.len();
                    shards[shard_of(sid, &k, n)].insert(sid, k, v);
                }
            }
            _ => shards.iter_mut().for_each(|s| s.clear()),
        }
        for s in shards.iter_mut() {
            s.version = Some(version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_values_only_answer_for_their_version() {
        let c = LatestValues::with_shards(10, Some(1), 1);
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
        // Full (capacity 10 per generation): the next new key turns the young generation
        // old, where its entries still answer (and a hit brings one back); a known key does
        // not turn it.
        for i in 0..10u8 {
            c.fill(6, 2, &[i], &Some(vec![i]));
        }
        c.fill(6, 2, &[3], &None);
        assert_eq!(c.get(6, 2, &[3]), Some(None), "a refill replaces the young entry");
        c.fill(6, 3, b"new", &None);
        assert_eq!(c.get(6, 2, &[0]), Some(Some(vec![0])), "old generation hit, moved back");
        assert_eq!(c.get(6, 3, b"new"), Some(None));
        // A second turnover drops what was not read again since the first.
        for i in 0..10u8 {
            c.fill(6, 4, &[i], &None);
        }
        assert_eq!(c.get(6, 2, &[0]), Some(Some(vec![0])), "read since the first turnover");
        assert_eq!(c.get(6, 2, &[1]), None, "not read since: gone");
        // A write while an older value sits in the old generation shadows it.
        c.advance(Some(6), 7, Some(vec![(4, vec![5], Some(b"w".to_vec()))]));
        assert_eq!(c.get(7, 4, &[5]), Some(Some(b"w".to_vec())));
    }

    #[test]
    fn sharded_cache_answers_every_key_and_moves_every_shard() {
        let c = LatestValues::new(1 << 12, Some(1));
        let keys: Vec<Vec<u8>> = (0u32..2000).map(|i| i.to_be_bytes().to_vec()).collect();
        for k in &keys {
            c.fill(1, 2, k, &Some(k.clone()));
        }
        // Half of them rewritten by version 2, a quarter deleted.
        let writes = keys.iter().step_by(2).map(|k| (2, k.clone(), (k[3] % 4 != 0).then(|| b"v2".to_vec()))).collect();
        c.advance(Some(1), 2, Some(writes));
        for (i, k) in keys.iter().enumerate() {
            let expected = match (i % 2, k[3] % 4) {
                (0, 0) => None,
                (0, _) => Some(b"v2".to_vec()),
                _ => Some(k.clone()),
            };
            assert_eq!(c.get(2, 2, k), Some(expected), "key {i}");
            assert_eq!(c.get(1, 2, k), None, "no shard is left at version 1");
        }
    }
}
