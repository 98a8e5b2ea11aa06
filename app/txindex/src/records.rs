//! The index's records: their keys, how a block becomes records, and point reads.

use std::collections::BTreeMap;

use prost::Message;
use sha2::{Digest, Sha256};
use tendermint_proto::v0_38::abci::{Event, ExecTxResult, TxResult};

pub(crate) const HASH_PREFIX: &[u8] = b"tx/h/";
pub(crate) const POSITION_PREFIX: &[u8] = b"tx/p/";
/// Attributes of txs' events.
pub(crate) const ATTRIBUTE_PREFIX: &[u8] = b"tx/a/";
/// Attributes of blocks' own (FinalizeBlock) events.
pub(crate) const BLOCK_ATTRIBUTE_PREFIX: &[u8] = b"tx/b/";
/// One per indexed block, so it also says which blocks are indexed.
pub(crate) const TIME_PREFIX: &[u8] = b"tx/t/";
/// Longest `type.key` indexed (its length is stored in two bytes).
pub(crate) const MAX_KEY_LEN: usize = u16::MAX as usize;
/// Composite keys CometBFT reserves: an attribute spelled so is not indexed.
const RESERVED_TX_KEYS: [&str; 2] = ["tx.hash", "tx.height"];
const RESERVED_BLOCK_KEYS: [&str; 1] = ["block.height"];

/// Where the index lives: point reads and ordered scans of `from..to`, calling `f` until it
/// returns `false`. The node implements it over the state store's side records; tests use a
/// `BTreeMap`.
pub trait IndexStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String>;
    fn scan(&self, from: &[u8], to: &[u8], f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<(), String>;
}

impl IndexStore for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn scan(&self, from: &[u8], to: &[u8], f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<(), String> {
        if from < to {
            for (k, v) in self.range(from.to_vec()..to.to_vec()) {
                if !f(k, v) {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// One indexed tx, as `tx` returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedTx {
    /// sha256 of the tx bytes (CometBFT's tx hash).
    pub hash: [u8; 32],
    pub height: u64,
    pub index: u32,
    pub tx: Vec<u8>,
    pub result: ExecTxResult,
}

/// CometBFT's tx hash: sha256 of the bytes.
pub fn tx_hash(tx: &[u8]) -> [u8; 32] {
    Sha256::digest(tx).into()
}

/// The index records of block `height`, made at `time` (unix seconds, nanos): `txs[i]` with
/// `results[i]` (the block's results as FinalizeBlock answers them, `index` flags set), and
/// the block's own `events` (FinalizeBlock's, for `block_search`). `txs` and `results` have
/// equal lengths (a FinalizeBlock answer has a result per tx); extra entries of either are not
/// indexed.
pub fn block_records(
    height: u64,
    time: (i64, i32),
    txs: &[Vec<u8>],
    results: &[ExecTxResult],
    events: &[Event],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::with_capacity(txs.len() * 16 + 1);
    for (i, (tx, result)) in txs.iter().zip(results).enumerate() {
        let Ok(index) = u32::try_from(i) else { break };
        let hash = tx_hash(tx);
        let id = position(height, index);
        push_attributes(&mut out, ATTRIBUTE_PREFIX, &RESERVED_TX_KEYS, &result.events, &id);
        let record = TxResult {
            height: i64::try_from(height).unwrap_or(i64::MAX),
            index,
            tx: tx.clone().into(),
            result: Some(result.clone()),
        };
        out.push(([HASH_PREFIX, &hash].concat(), record.encode_to_vec()));
        out.push(([POSITION_PREFIX, &id].concat(), hash.to_vec()));
    }
    // A block's events take the position of its index 0: one key layout for both searches.
    push_attributes(&mut out, BLOCK_ATTRIBUTE_PREFIX, &RESERVED_BLOCK_KEYS, events, &position(height, 0));
    let when = [&time.0.to_be_bytes()[..], &time.1.to_be_bytes()].concat();
    out.push(([TIME_PREFIX, &height.to_be_bytes()].concat(), when));
    out
}

/// One key per indexed attribute of `events`: `space` ++ BE2(len) ++ `type.key` ++ BE4(len) ++
/// value ++ `id` (12 bytes) ++ BE4(the event's position).
fn push_attributes(
    out: &mut Vec<(Vec<u8>, Vec<u8>)>,
    space: &[u8],
    reserved: &[&str],
    events: &[Event],
    id: &[u8; 12],
) {
    for (seq, event) in events.iter().enumerate().filter(|(_, e)| !e.r#type.is_empty()) {
        let seq = u32::try_from(seq).unwrap_or(u32::MAX);
        for attr in event.attributes.iter().filter(|a| a.index && !a.key.is_empty()) {
            let composite = format!("{}.{}", event.r#type, attr.key);
            if reserved.contains(&composite.as_str()) || composite.len() > MAX_KEY_LEN {
                continue;
            }
            let mut key = value_prefix(space, &composite, &attr.value);
            key.extend_from_slice(id);
            key.extend_from_slice(&seq.to_be_bytes());
            out.push((key, Vec::new()));
        }
    }
}

/// The time of indexed block `height` (unix seconds, nanos).
pub fn block_time(db: &dyn IndexStore, height: u64) -> Result<Option<(i64, i32)>, String> {
    let Some(b) = db.get(&[TIME_PREFIX, &height.to_be_bytes()].concat())? else { return Ok(None) };
    let malformed = || format!("malformed block time record of height {height}");
    let seconds = i64::from_be_bytes(b.get(..8).and_then(|s| s.try_into().ok()).ok_or_else(malformed)?);
    let nanos = i32::from_be_bytes(b.get(8..12).and_then(|s| s.try_into().ok()).ok_or_else(malformed)?);
    Ok(Some((seconds, nanos)))
}

/// The tx with CometBFT hash `hash`, if indexed.
pub fn get_tx(db: &dyn IndexStore, hash: &[u8]) -> Result<Option<IndexedTx>, String> {
    let Ok(hash) = <[u8; 32]>::try_from(hash) else { return Ok(None) };
    let Some(bytes) = db.get(&[HASH_PREFIX, &hash].concat())? else { return Ok(None) };
    let r =
        TxResult::decode(bytes.as_slice()).map_err(|e| format!("malformed tx record {}: {e}", hex::encode(hash)))?;
    Ok(Some(IndexedTx {
        hash,
        height: u64::try_from(r.height)
            .map_err(|_| format!("tx record {} has height {}", hex::encode(hash), r.height))?,
        index: r.index,
        tx: r.tx.to_vec(),
        result: r.result.unwrap_or_default(),
    }))
}

/// The 12-byte position of a tx: BE8(height) ++ BE4(index), ordered as (height, index).
pub(crate) fn position(height: u64, index: u32) -> [u8; 12] {
    let mut id = [0u8; 12];
    id[..8].copy_from_slice(&height.to_be_bytes());
    id[8..].copy_from_slice(&index.to_be_bytes());
    id
}

pub(crate) fn parse_position(b: &[u8]) -> Option<(u64, u32)> {
    let height = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let index = u32::from_be_bytes(b.get(8..12)?.try_into().ok()?);
    Some((height, index))
}

/// `space` (`tx/a/` or `tx/b/`) ++ BE2(len) ++ composite key: every value of one attribute.
pub(crate) fn key_prefix(space: &[u8], composite: &str) -> Vec<u8> {
    let k = composite.as_bytes();
    // Callers never pass a key longer than MAX_KEY_LEN (it is never indexed, nor searched).
    let len = u16::try_from(k.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(space.len() + 2 + k.len());
    out.extend_from_slice(space);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&k[..usize::from(len)]);
    out
}

/// [`key_prefix`] ++ BE4(len) ++ value: the txs (or blocks) with one attribute value.
pub(crate) fn value_prefix(space: &[u8], composite: &str, value: &str) -> Vec<u8> {
    let mut out = key_prefix(space, composite);
    let v = value.as_bytes();
    let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&v[..len as usize]);
    out
}

/// The first key after every key starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tendermint_proto::v0_38::abci::{Event, EventAttribute};

    pub fn event(kind: &str, attrs: &[(&str, &str)]) -> Event {
        Event {
            r#type: kind.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| EventAttribute { key: (*k).into(), value: (*v).into(), index: true })
                .collect(),
        }
    }

    pub fn result(code: u32, events: Vec<Event>) -> ExecTxResult {
        ExecTxResult { code, gas_used: 7, events, ..Default::default() }
    }

    /// Indexes `blocks` (height, [(tx, result)]) into a map.
    /// A block of the tests: its height and (tx, result) pairs.
    pub type Block = (u64, Vec<(Vec<u8>, ExecTxResult)>);

    pub fn index(blocks: &[Block]) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut db = BTreeMap::new();
        for (h, txs) in blocks {
            let (t, r): (Vec<_>, Vec<_>) = txs.iter().cloned().unzip();
            db.extend(block_records(*h, (1_700_000_000 + *h as i64, 5), &t, &r, &[]));
        }
        db
    }

    #[test]
    fn a_tx_is_found_by_hash_with_its_result() {
        let mut r = result(5, vec![event("message", &[("sender", "a")])]);
        r.codespace = "sdk".into();
        let db = index(&[(3, vec![(b"one".to_vec(), result(0, vec![])), (b"two".to_vec(), r.clone())])]);
        let got = get_tx(&db, &tx_hash(b"two")).unwrap().expect("indexed");
        assert_eq!((got.height, got.index, got.tx.as_slice(), &got.result), (3, 1, &b"two"[..], &r));
        assert_eq!(got.hash, tx_hash(b"two"));
        assert_eq!(get_tx(&db, &tx_hash(b"three")).unwrap(), None);
        assert_eq!(get_tx(&db, b"short").unwrap(), None, "not a hash: not found");
        assert_eq!(block_time(&db, 3).unwrap(), Some((1_700_000_003, 5)));
        assert_eq!(block_time(&db, 4).unwrap(), None);
    }

    #[test]
    fn only_flagged_named_attributes_are_indexed() {
        let mut e = event("transfer", &[("recipient", "b"), ("amount", "5upay")]);
        e.attributes[1].index = false;
        let reserved = event("tx", &[("hash", "AB"), ("height", "9"), ("acc_seq", "a/1")]);
        let unnamed = event("", &[("x", "1")]);
        let db = index(&[(1, vec![(b"t".to_vec(), result(0, vec![e, reserved, unnamed]))])]);
        let attrs: Vec<&Vec<u8>> = db.keys().filter(|k| k.starts_with(ATTRIBUTE_PREFIX)).collect();
        let mut want = [
            value_prefix(ATTRIBUTE_PREFIX, "transfer.recipient", "b"),
            value_prefix(ATTRIBUTE_PREFIX, "tx.acc_seq", "a/1"),
        ];
        for (w, event) in want.iter_mut().zip([0u32, 1]) {
            w.extend_from_slice(&position(1, 0));
            w.extend_from_slice(&event.to_be_bytes());
        }
        want.sort();
        assert_eq!(attrs, want.iter().collect::<Vec<_>>());
    }

    #[test]
    fn a_blocks_own_events_are_indexed_apart_from_its_txs() {
        let refunded = event("escrow_refunded", &[("id", "4"), ("reason", "expired")]);
        let reserved = event("block", &[("height", "9"), ("proposer", "v")]);
        let tx_event = event("transfer", &[("recipient", "b")]);
        let db: BTreeMap<Vec<u8>, Vec<u8>> = block_records(
            9,
            (1, 0),
            &[b"t".to_vec()],
            &[result(0, vec![tx_event])],
            &[event("", &[("x", "1")]), refunded, reserved],
        )
        .into_iter()
        .collect();
        let blocks: Vec<&Vec<u8>> = db.keys().filter(|k| k.starts_with(BLOCK_ATTRIBUTE_PREFIX)).collect();
        let mut want = [
            value_prefix(BLOCK_ATTRIBUTE_PREFIX, "escrow_refunded.id", "4"),
            value_prefix(BLOCK_ATTRIBUTE_PREFIX, "escrow_refunded.reason", "expired"),
            value_prefix(BLOCK_ATTRIBUTE_PREFIX, "block.proposer", "v"),
        ];
        for (w, event) in want.iter_mut().zip([1u32, 1, 2]) {
            w.extend_from_slice(&position(9, 0));
            w.extend_from_slice(&event.to_be_bytes());
        }
        want.sort();
        assert_eq!(blocks, want.iter().collect::<Vec<_>>(), "block.height is reserved; unnamed events skipped");
        assert_eq!(db.keys().filter(|k| k.starts_with(ATTRIBUTE_PREFIX)).count(), 1, "the tx's own attribute");
        // An empty block is indexed too (its time record), as CometBFT indexes every height.
        let empty = block_records(10, (2, 0), &[], &[], &[]);
        assert_eq!(
            empty,
            vec![(
                [TIME_PREFIX, &10u64.to_be_bytes()].concat(),
                [&2i64.to_be_bytes()[..], &0i32.to_be_bytes()].concat()
            )]
        );
    }

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(b"tx/a"), b"tx/b");
        assert_eq!(prefix_end(&[1, 0xff]), [2]);
        assert_eq!(prefix_end(&[0xff, 0xff]), [0xff, 0xff, 0xff]);
    }
}
