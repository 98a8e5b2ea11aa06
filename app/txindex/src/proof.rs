//! `prove=true`: the Merkle proof that a tx is in its block, as CometBFT v0.38 makes it
//! (`types.Txs.Proof`): the block header's `data_hash` is the RFC 6962 tree (`crypto/merkle`)
//! over the sha256 of each of the block's txs, and the index holds every one of them.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::records::{IndexStore, POSITION_PREFIX};

/// A tx's inclusion proof: `root_hash` is its block's `data_hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxProof {
    pub root_hash: [u8; 32],
    pub total: u64,
    pub index: u64,
    pub leaf_hash: [u8; 32],
    /// Hashes from the leaf's sibling up to a child of the root.
    pub aunts: Vec<[u8; 32]>,
}

/// The proof for tx `index` of block `height`; `None` when the index does not hold that tx.
pub fn tx_proof(db: &dyn IndexStore, height: u64, index: u32) -> Result<Option<TxProof>, String> {
    Ok(tx_proofs(db, &[(height, index)])?.pop().flatten())
}

/// The proofs of txs given as (height, index), in that order (`None` where the index does not
/// hold the tx). Each block is read and its tree hashed once however many of its txs are asked
/// for (a `tx_search` page may hold 100 txs of one block of thousands).
pub fn tx_proofs(db: &dyn IndexStore, txs: &[(u64, u32)]) -> Result<Vec<Option<TxProof>>, String> {
    let mut by_height: BTreeMap<u64, Vec<(u32, usize)>> = BTreeMap::new();
    for (at, &(height, index)) in txs.iter().enumerate() {
        by_height.entry(height).or_default().push((index, at));
    }
    let mut out = vec![None; txs.len()];
    for (height, mut wanted) in by_height {
        let hashes = block_tx_hashes(db, height)?;
        wanted.retain(|(i, _)| (*i as usize) < hashes.len());
        if wanted.is_empty() {
            continue;
        }
        wanted.sort_unstable();
        let indices: Vec<usize> = wanted.iter().map(|(i, _)| *i as usize).collect();
        let mut aunts = vec![Vec::new(); indices.len()];
        let root_hash = walk(&hashes, 0, &indices, &mut aunts);
        for ((index, at), aunts) in wanted.into_iter().zip(aunts) {
            out[at] = Some(TxProof {
                root_hash,
                total: hashes.len() as u64,
                index: u64::from(index),
                leaf_hash: leaf_hash(&hashes[index as usize]),
                aunts,
            });
        }
    }
    Ok(out)
}

/// The sha256 of every tx of block `height`, in block order (empty when not indexed).
fn block_tx_hashes(db: &dyn IndexStore, height: u64) -> Result<Vec<[u8; 32]>, String> {
    let prefix = [POSITION_PREFIX, &height.to_be_bytes()].concat();
    let to = [POSITION_PREFIX, &height.saturating_add(1).to_be_bytes()].concat();
    let mut hashes: Vec<[u8; 32]> = Vec::new();
    let mut malformed = None;
    db.scan(&prefix, &to, &mut |k, v| {
        // Positions come in index order; a gap would make a proof of another tree.
        let at = k.get(prefix.len()..).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes);
        match (at, <[u8; 32]>::try_from(v)) {
            (Some(at), Ok(hash)) if at as usize == hashes.len() => {
                hashes.push(hash);
                true
            }
            _ => {
                malformed = Some(format!("the index's txs of block {height} are not 0, 1, 2, ..."));
                false
            }
        }
    })?;
    match malformed {
        Some(e) => Err(e),
        None => Ok(hashes),
    }
}

/// The root over `items` (which start at position `offset` of the block), pushing onto
/// `aunts[j]` the aunts of position `wanted[j]` (sorted), deepest first: one pass over the
/// tree for all of them.
fn walk(items: &[[u8; 32]], offset: usize, wanted: &[usize], aunts: &mut [Vec<[u8; 32]>]) -> [u8; 32] {
    if items.len() == 1 {
        return leaf_hash(&items[0]);
    }
    let k = split_point(items.len());
    let p = wanted.partition_point(|&i| i < offset + k);
    let (wanted_left, wanted_right) = wanted.split_at(p);
    let (aunts_left, aunts_right) = aunts.split_at_mut(p);
    let left = walk(&items[..k], offset, wanted_left, aunts_left);
    let right = walk(&items[k..], offset + k, wanted_right, aunts_right);
    aunts_left.iter_mut().for_each(|a| a.push(right));
    aunts_right.iter_mut().for_each(|a| a.push(left));
    inner_hash(&left, &right)
}

fn leaf_hash(item: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update([0u8]).chain_update(item).finalize().into()
}

fn inner_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The largest power of two below `n` (n ≥ 2): where RFC 6962 splits a tree of `n` leaves.
fn split_point(n: usize) -> usize {
    let k = n.next_power_of_two();
    if k == n {
        n / 2
    } else {
        k / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{index, result};
    use crate::records::tx_hash;

    /// The root of the tree over `items` (at least one), computed on its own: what the proofs'
    /// roots must equal.
    fn root(items: &[[u8; 32]]) -> [u8; 32] {
        match items {
            [one] => leaf_hash(one),
            _ => {
                let k = split_point(items.len());
                inner_hash(&root(&items[..k]), &root(&items[k..]))
            }
        }
    }

    /// What a verifier does (CometBFT's `Proof.Verify`): the root from the leaf and its aunts.
    fn verify(p: &TxProof) -> [u8; 32] {
        fn up(index: u64, total: u64, leaf: [u8; 32], aunts: &[[u8; 32]]) -> [u8; 32] {
            if total == 1 {
                return leaf;
            }
            let k = split_point(total as usize) as u64;
            let (last, rest) = aunts.split_last().expect("an aunt per level");
            if index < k {
                inner_hash(&up(index, k, leaf, rest), last)
            } else {
                inner_hash(last, &up(index - k, total - k, leaf, rest))
            }
        }
        up(p.index, p.total, p.leaf_hash, &p.aunts)
    }

    #[test]
    fn every_tx_of_every_block_size_proves_the_blocks_root() {
        for n in 1..=9u32 {
            let txs: Vec<(Vec<u8>, _)> = (0..n).map(|i| (format!("tx{i}").into_bytes(), result(0, vec![]))).collect();
            let db = index(&[(3, txs.clone())]);
            let hashes: Vec<[u8; 32]> = txs.iter().map(|(t, _)| tx_hash(t)).collect();
            for i in 0..n {
                let p = tx_proof(&db, 3, i).unwrap().expect("indexed");
                assert_eq!(p.root_hash, root(&hashes), "n={n} i={i}");
                assert_eq!((p.total, p.index), (u64::from(n), u64::from(i)));
                assert_eq!(p.leaf_hash, leaf_hash(&hashes[i as usize]));
                assert_eq!(verify(&p), p.root_hash, "n={n} i={i}");
            }
            assert_eq!(tx_proof(&db, 3, n).unwrap(), None);
            assert_eq!(tx_proof(&db, 4, 0).unwrap(), None);
        }
        // Several txs of several blocks at once, in any order, with misses: the same proofs.
        let blocks: Vec<(u64, Vec<(Vec<u8>, _)>)> = [5u64, 6]
            .iter()
            .map(|h| (*h, (0..13).map(|i| (format!("b{h}tx{i}").into_bytes(), result(0, vec![]))).collect()))
            .collect();
        let db = index(&blocks);
        let asked = [(6, 12), (5, 0), (6, 3), (7, 0), (5, 12), (6, 0), (5, 13), (5, 7), (6, 3)];
        let batch = tx_proofs(&db, &asked).unwrap();
        assert_eq!(batch.len(), asked.len());
        for ((h, i), got) in asked.iter().zip(&batch) {
            assert_eq!(got, &tx_proof(&db, *h, *i).unwrap(), "({h}, {i})");
            let want_some = *h != 7 && *i < 13;
            assert_eq!(got.is_some(), want_some, "({h}, {i})");
            if let Some(p) = got {
                assert_eq!(verify(p), p.root_hash, "({h}, {i})");
                let hashes: Vec<[u8; 32]> = blocks[(*h - 5) as usize].1.iter().map(|(t, _)| tx_hash(t)).collect();
                assert_eq!(p.root_hash, root(&hashes));
            }
        }
        // RFC 6962 by hand for three leaves: ((a, b), c).
        let h: Vec<[u8; 32]> = ["a", "b", "c"].iter().map(|t| tx_hash(t.as_bytes())).collect();
        let want = inner_hash(&inner_hash(&leaf_hash(&h[0]), &leaf_hash(&h[1])), &leaf_hash(&h[2]));
        assert_eq!(root(&h), want);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
    }
}
