//! State access: the traits modules read and write through, and the
//! copy-on-write overlay ([`CacheState`]) used for blocks, txs and messages.
//!
//! State is a set of named substores (one per module), each a sorted map of
//! byte keys to byte values. Overlays record writes in `BTreeMap`s so that
//! what reaches the Merkle store is ordered and deterministic.

use std::cmp::Ordering;
use std::collections::BTreeMap;
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

/// A copy-on-write overlay over a parent state. Reads see the overlay's
/// writes first; `into_writes` hands them to whoever applies them.
pub struct CacheState<'p> {
    parent: &'p dyn StateRead,
    writes: Writes,
}

impl<'p> CacheState<'p> {
    pub fn new(parent: &'p dyn StateRead) -> Self {
        Self { parent, writes: Writes::new() }
    }

    /// An overlay that starts with `writes` already applied (e.g. the mempool's
    /// pending changes on top of the last committed block).
    pub fn with_writes(parent: &'p dyn StateRead, writes: Writes) -> Self {
        Self { parent, writes }
    }

    pub fn writes(&self) -> &Writes {
        &self.writes
    }

    pub fn into_writes(self) -> Writes {
        self.writes
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
        self.writes.entry(store.to_string()).or_default().insert(key, Some(value));
    }

    fn delete(&mut self, store: &str, key: Vec<u8>) {
        self.writes.entry(store.to_string()).or_default().insert(key, None);
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
    fn prefix_end_handles_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
