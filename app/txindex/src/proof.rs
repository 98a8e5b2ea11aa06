//! `prove=true`: the Merkle proof that a tx is in its block, as CometBFT v0.38 makes it
//! (`types.Txs.Proof`): the block header's `data_hash` is the RFC 6962 tree (`crypto/merkle`)
//! over the sha256 of each of the block's txs, and the index holds every one of them.

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
    if let Some(e) = malformed {
        return Err(e);
    }
    let i = index as usize;
    if i >= hashes.len() {
        return Ok(None);
    }
    let (root_hash, aunts) = trail(&hashes, i);
    Ok(Some(TxProof {
        root_hash,
        total: hashes.len() as u64,
        index: u64::from(index),
        leaf_hash: leaf_hash(&hashes[i]),
        aunts,
    }))
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

/// The root of the tree over `items` (at least one).
fn root(items: &[[u8; 32]]) -> [u8; 32] {
    match items {
        [one] => leaf_hash(one),
        _ => {
            let k = split_point(items.len());
            inner_hash(&root(&items[..k]), &root(&items[k..]))
        }
    }
}

/// The root over `items` and the aunts of item `i`, deepest first.
fn trail(items: &[[u8; 32]], i: usize) -> ([u8; 32], Vec<[u8; 32]>) {
    if items.len() == 1 {
        return (leaf_hash(&items[0]), Vec::new());
    }
    let k = split_point(items.len());
    if i < k {
        let (left, mut aunts) = trail(&items[..k], i);
        let right = root(&items[k..]);
        aunts.push(right);
        (inner_hash(&left, &right), aunts)
    } else {
        let (right, mut aunts) = trail(&items[k..], i - k);
        let left = root(&items[..k]);
        aunts.push(left);
        (inner_hash(&left, &right), aunts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{index, result};
    use crate::records::tx_hash;

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
        // RFC 6962 by hand for three leaves: ((a, b), c).
        let h: Vec<[u8; 32]> = ["a", "b", "c"].iter().map(|t| tx_hash(t.as_bytes())).collect();
        let want = inner_hash(&inner_hash(&leaf_hash(&h[0]), &leaf_hash(&h[1])), &leaf_hash(&h[2]));
        assert_eq!(root(&h), want);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
    }
}
