//! State access: the traits modules read and write through, and the
//! copy-on-write overlay ([`CacheState`]) used for blocks, txs and messages.
//!
//! State is a set of named substores (one per module), each a sorted map of
//! byte keys to byte values. Overlays record writes in `BTreeMap`s so that
//! what reaches the Merkle store is ordered and deterministic.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::iter::Peekable;
use std::ops::Bound;

use crate::error::SdkError;

/// Pending writes: substore name -> key -> `Some(value)` or `None` (deleted).
pub type Writes = BTreeMap<String, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

pub type KvPair = (Vec<u8>, Vec<u8>);
pub type KvIter<'a> = Box<dyn Iterator<Item = Result<KvPair, SdkError>> + 'a>;
/// An overlay's own entries in key order (`None` = deleted).
type OverlayIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a>;

/// Read access to state at one point (a committed version or an overlay).
pub trait StateRead {
    fn get(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError>;

    /// Entries with `start <= key < end` (`end = None`: no upper bound),
    /// ascending, or descending when `reverse`.
    fn range(&self, store: &str, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Result<KvIter<'_>, SdkError>;

    /// The committed height this state is, if it is one (queries answer "as of" it).
    fn committed_version(&self) -> Option<u64> {
        None
    }

    /// An ICS-23 proof of `key` in `store` (its presence or its absence), protobuf-encoded as
    /// `ibc.core.commitment.v1.MerkleProof` (substore level first). Only committed state can
    /// be proven: overlays answer `None`.
    fn commitment_proof(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        let _ = (store, key);
        Ok(None)
    }

    /// Entries whose key starts with `prefix`.
    fn prefix(&self, store: &str, prefix: &[u8], reverse: bool) -> Result<KvIter<'_>, SdkError> {
        let end = prefix_end(prefix);
        self.range(store, prefix, end.as_deref(), reverse)
    }
}

/// Write access. Writes cannot fail: they land in an in-memory overlay.
pub trait StateWrite: StateRead {
    fn set(&mut self, store: &str, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, store: &str, key: Vec<u8>);

    /// Applies the writes of a child overlay.
    fn apply(&mut self, writes: Writes) {
        for (store, kvs) in writes {
            for (k, v) in kvs {
                match v {
                    Some(v) => self.set(&store, k, v),
                    None => self.delete(&store, k),
                }
            }
        }
    }
}

/// The smallest key greater than every key starting with `prefix`
/// (`None` when there is none, i.e. the prefix is all 0xFF or empty).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Format byte in front of protobuf values that may be all-default (params):
/// an all-default message encodes to zero bytes, and the Merkle store holds
/// only non-empty values (ICS-23 cannot prove an empty one).
const TAGGED_PROTO_V1: u8 = 1;

/// Encodes `msg` for storage with a leading format byte (see [`decode_tagged_proto`]).
pub fn encode_tagged_proto<M: prost::Message>(msg: &M) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + msg.encoded_len());
    out.push(TAGGED_PROTO_V1);
    msg.encode(&mut out).expect("Vec grows as needed");
    out
}

/// Decodes a value written by [`encode_tagged_proto`].
pub fn decode_tagged_proto<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, String> {
    match bytes.split_first() {
        Some((&TAGGED_PROTO_V1, body)) => M::decode(body).map_err(|e| e.to_string()),
        _ => Err("unknown value format".to_string()),
    }
}

/// State with nothing in it.
pub struct EmptyState;

impl StateRead for EmptyState {
    fn get(&self, _: &str, _: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        Ok(None)
    }
    fn range(&self, _: &str, _: &[u8], _: Option<&[u8]>, _: bool) -> Result<KvIter<'_>, SdkError> {
        Ok(Box::new(std::iter::empty()))
    }
}

static EMPTY: EmptyState = EmptyState;

/// Hashes of the (substore, key) pairs an overlay holds. A block's overlay holds tens of
/// thousands of writes and most reads (params, policies, a new recipient) are of keys it does
/// not hold: one hash lookup says so, where the ordered map's search costs a dozen key
/// comparisons per read. A hash says only "maybe here": a collision costs the map's search,
/// never a wrong answer, so the (per-process random) hasher cannot affect state.
#[derive(Clone, Default)]
pub struct KeyIndex {
    hasher: ahash::RandomState,
    hashes: HashSet<u64, ahash::RandomState>,
}

impl KeyIndex {
    fn of(writes: &Writes) -> Self {
        let mut index = Self::default();
        for (store, kvs) in writes {
            for key in kvs.keys() {
                index.insert(store, key);
            }
        }
        index
    }

    fn hash(&self, store: &str, key: &[u8]) -> u64 {
        self.hasher.hash_one((store, key))
    }

    fn insert(&mut self, store: &str, key: &[u8]) {
        let h = self.hash(store, key);
        self.hashes.insert(h);
    }

    fn may_hold(&self, store: &str, key: &[u8]) -> bool {
        self.hashes.contains(&self.hash(store, key))
    }
}

/// Writes together with their [`KeyIndex`], kept between uses of one long-lived overlay (the
/// mempool's pending changes), so the index is not rebuilt for every tx.
#[derive(Clone, Default)]
pub struct IndexedWrites {
    writes: Writes,
    index: KeyIndex,
}

impl IndexedWrites {
    pub fn writes(&self) -> &Writes {
        &self.writes
    }

    pub fn into_writes(self) -> Writes {
        self.writes
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

impl From<Writes> for IndexedWrites {
    fn from(writes: Writes) -> Self {
        let index = KeyIndex::of(&writes);
        Self { writes, index }
    }
}

/// A copy-on-write overlay over a parent state. Reads see the overlay's
/// writes first; `into_writes` hands them to whoever applies them.
pub struct CacheState<'p> {
    parent: &'p dyn StateRead,
    writes: Writes,
    /// Kept only by overlays that grow large ([`CacheState::indexed`]); a tx's overlay holds
    /// a handful of writes, where the ordered map alone is cheaper.
    index: Option<KeyIndex>,
}

impl<'p> CacheState<'p> {
    pub fn new(parent: &'p dyn StateRead) -> Self {
        Self { parent, writes: Writes::new(), index: None }
    }

    /// An overlay that starts with `writes` already applied (e.g. a simulation on top of the
    /// mempool's pending changes).
    pub fn with_writes(parent: &'p dyn StateRead, writes: Writes) -> Self {
        Self { parent, writes, index: None }
    }

    /// An overlay for many writes (a block's, the mempool's) that keeps a [`KeyIndex`] of
    /// them, starting with `writes` already applied.
    pub fn indexed(parent: &'p dyn StateRead, writes: IndexedWrites) -> Self {
        Self { parent, writes: writes.writes, index: Some(writes.index) }
    }

    pub fn writes(&self) -> &Writes {
        &self.writes
    }

    pub fn into_writes(self) -> Writes {
        self.writes
    }

    /// The writes with their index (built now if this overlay kept none).
    pub fn into_indexed_writes(self) -> IndexedWrites {
        let index = match self.index {
            Some(index) => index,
            None => KeyIndex::of(&self.writes),
        };
        IndexedWrites { writes: self.writes, index }
    }

    fn entry(&mut self, store: &str, key: Vec<u8>, value: Option<Vec<u8>>) {
        if let Some(index) = &mut self.index {
            index.insert(store, &key);
        }
        // No new `String` for a store the overlay already writes (every write but the first).
        match self.writes.get_mut(store) {
            Some(kvs) => {
                kvs.insert(key, value);
            }
            None => {
                self.writes.entry(store.to_string()).or_default().insert(key, value);
            }
        }
    }
}

impl CacheState<'static> {
    /// An in-memory state starting empty (tests, simulations).
    pub fn in_memory() -> Self {
        Self::new(&EMPTY)
    }
}

impl StateRead for CacheState<'_> {
    fn get(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        if self.index.as_ref().is_some_and(|index| !index.may_hold(store, key)) {
            return self.parent.get(store, key);
        }
        match self.writes.get(store).and_then(|kvs| kvs.get(key)) {
            Some(v) => Ok(v.clone()),
            None => self.parent.get(store, key),
        }
    }

    fn range(&self, store: &str, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Result<KvIter<'_>, SdkError> {
        let parent = self.parent.range(store, start, end, reverse)?;
        let Some(kvs) = self.writes.get(store) else { return Ok(parent) };
        let bounds = (Bound::Included(start.to_vec()), end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec())));
        if end.is_some_and(|e| e <= start) {
            return Ok(Box::new(std::iter::empty()));
        }
        let overlay: OverlayIter<'_> =
            if reverse { Box::new(kvs.range(bounds).rev()) } else { Box::new(kvs.range(bounds)) };
        Ok(Box::new(MergeIter { parent: parent.peekable(), overlay: overlay.peekable(), reverse }))
    }
}

impl StateWrite for CacheState<'_> {
    fn set(&mut self, store: &str, key: Vec<u8>, value: Vec<u8>) {
        self.entry(store, key, Some(value));
    }

    fn delete(&mut self, store: &str, key: Vec<u8>) {
        self.entry(store, key, None);
    }
}

/// Merges a parent iterator with overlay entries; the overlay wins on equal
/// keys and its deletions hide the parent's entries.
struct MergeIter<'a, P: Iterator<Item = Result<KvPair, SdkError>>> {
    parent: Peekable<P>,
    overlay: Peekable<OverlayIter<'a>>,
    reverse: bool,
}

impl<P: Iterator<Item = Result<KvPair, SdkError>>> Iterator for MergeIter<'_, P> {
    type Item = Result<KvPair, SdkError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.parent.peek(), self.overlay.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.parent.next(),
                (Some(Ok(_)), None) => return self.parent.next(),
                (None, Some(_)) => Ordering::Greater,
                (Some(Ok((pk, _))), Some((ok, _))) => {
                    let o = pk.as_slice().cmp(ok.as_slice());
                    if self.reverse {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            match order {
                Ordering::Less => return self.parent.next(),
                Ordering::Equal => {
                    self.parent.next();
                }
                Ordering::Greater => {}
            }
            let (k, v) = self.overlay.next().expect("peeked");
            if let Some(v) = v {
                return Some(Ok((k.clone(), v.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(it: KvIter<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
        it.map(Result::unwrap).collect()
    }

    #[test]
    fn overlay_reads_and_iteration_merge_with_parent() {
        let mut base = CacheState::in_memory();
        for k in [b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec()] {
            base.set("s", k.clone(), k);
        }
        let mut top = CacheState::new(&base);
        top.delete("s", b"b".to_vec());
        top.set("s", b"c".to_vec(), b"C".to_vec());
        top.set("s", b"bb".to_vec(), b"bb".to_vec());
        top.set("other", b"x".to_vec(), b"x".to_vec());
        assert_eq!(top.get("s", b"b").unwrap(), None);
        assert_eq!(top.get("s", b"a").unwrap(), Some(b"a".to_vec()));
        let keys: Vec<_> = collect(top.range("s", b"", None, false).unwrap());
        assert_eq!(
            keys,
            vec![
                (b"a".to_vec(), b"a".to_vec()),
                (b"bb".to_vec(), b"bb".to_vec()),
                (b"c".to_vec(), b"C".to_vec()),
                (b"d".to_vec(), b"d".to_vec())
            ]
        );
        let rev: Vec<_> =
            collect(top.range("s", b"b", Some(b"d"), true).unwrap()).into_iter().map(|(k, _)| k).collect();
        assert_eq!(rev, vec![b"c".to_vec(), b"bb".to_vec()]);
        assert_eq!(collect(top.prefix("s", b"b", false).unwrap()).len(), 1);
        let writes = top.into_writes();
        base.apply(writes);
        assert_eq!(base.get("s", b"b").unwrap(), None);
        assert_eq!(base.get("other", b"x").unwrap(), Some(b"x".to_vec()));
    }

    #[test]
    fn an_indexed_overlay_reads_and_writes_as_a_plain_one() {
        let mut base = CacheState::in_memory();
        for i in 0..64u8 {
            base.set("s", vec![i], vec![i]);
        }
        let mut plain = CacheState::new(&base);
        let mut indexed = CacheState::indexed(&base, IndexedWrites::default());
        // A deterministic walk of sets, deletes and reads over keys in and out of the parent.
        let mut x: u32 = 7;
        for step in 0..5_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = vec![((x >> 8) % 96) as u8];
            let store = if (x >> 20).is_multiple_of(4) { "t" } else { "s" };
            match (x >> 16) % 3 {
                0 => {
                    plain.set(store, key.clone(), step.to_be_bytes().to_vec());
                    indexed.set(store, key, step.to_be_bytes().to_vec());
                }
                1 => {
                    plain.delete(store, key.clone());
                    indexed.delete(store, key);
                }
                _ => assert_eq!(plain.get(store, &key).unwrap(), indexed.get(store, &key).unwrap(), "step {step}"),
            }
        }
        for store in ["s", "t"] {
            assert_eq!(
                collect(plain.range(store, b"", None, false).unwrap()),
                collect(indexed.range(store, b"", None, false).unwrap())
            );
        }
        // Carried between uses (the mempool), the index still knows every earlier write.
        let carried = indexed.into_indexed_writes();
        let again = CacheState::indexed(&base, carried.clone());
        for i in 0..96u8 {
            for store in ["s", "t"] {
                assert_eq!(plain.get(store, &[i]).unwrap(), again.get(store, &[i]).unwrap());
            }
        }
        assert_eq!(&carried.into_writes(), plain.writes());
    }

    #[test]
    fn prefix_end_handles_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
