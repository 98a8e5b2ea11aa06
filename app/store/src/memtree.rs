//! An in-memory sparse Merkle tree with jmt's hashes: the building block of a
//! state-commitment layer that keeps the whole tree in memory (issue 16).
//!
//! jmt's 16-ary nodes hash as a binary tree over the bits of `sha256(key)`
//! (most significant bit first) in which a subtree holding exactly one leaf is
//! that leaf, an empty subtree is the placeholder hash, and every other subtree
//! is `sha256("JMT::IntrnalNode" ++ left ++ right)`. This tree stores that
//! binary form directly, so its root, and the ICS-23 proofs built from its
//! sibling paths, are byte for byte jmt's: the proof specs Hermes and the IBC
//! light clients hold ([`jmt::ics23_spec`]) verify them unchanged.
//!
//! A block's changes are applied in one pass ([`MemTree::apply`]): each touched
//! node is rebuilt and hashed once however many of the block's keys pass
//! through it, and untouched subtrees are not visited.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash of an empty subtree (jmt's `SPARSE_MERKLE_PLACEHOLDER_HASH`).
pub const PLACEHOLDER: Hash = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";
const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";

/// `sha256(key)`: where a key sits in the tree.
pub fn key_hash(key: &[u8]) -> Hash {
    Sha256::digest(key).into()
}

/// `sha256(value)`: what a leaf commits to.
pub fn value_hash(value: &[u8]) -> Hash {
    Sha256::digest(value).into()
}

fn leaf_hash(key_hash: &Hash, value_hash: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(LEAF_DOMAIN);
    h.update(key_hash);
    h.update(value_hash);
    h.finalize().into()
}

fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(INTERNAL_DOMAIN);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Bit `depth` of `k`, most significant first.
fn bit(k: &Hash, depth: usize) -> bool {
    (k[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NodeId(u32);

const EMPTY: NodeId = NodeId(u32::MAX);

#[derive(Clone, Debug)]
enum Node {
    Leaf {
        key_hash: Hash,
        value_hash: Hash,
        hash: Hash,
    },
    Internal {
        left: NodeId,
        right: NodeId,
        hash: Hash,
    },
    /// A slot on the free list.
    Free,
}

/// A change to one key: its new value hash, or `None` to delete it.
pub type Change = (Hash, Option<Hash>);

/// The sibling hashes on the path from the root to a leaf (index = depth).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub key_hash: Hash,
    pub value_hash: Hash,
    pub siblings: Vec<Hash>,
}

impl Path {
    /// The root this path proves (`leaf`, then each sibling from the deepest up).
    pub fn root(&self) -> Hash {
        let mut h = leaf_hash(&self.key_hash, &self.value_hash);
        for (depth, s) in self.siblings.iter().enumerate().rev() {
            h = if bit(&self.key_hash, depth) { internal_hash(s, &h) } else { internal_hash(&h, s) };
        }
        h
    }

    /// The ICS-23 existence proof of `key` → `value` along this path, as jmt builds it.
    pub fn to_ics23(&self, key: Vec<u8>, value: Vec<u8>) -> ics23::ExistenceProof {
        let path = self
            .siblings
            .iter()
            .enumerate()
            .rev()
            .map(|(depth, s)| {
                let (prefix, suffix) = if bit(&self.key_hash, depth) {
                    ([INTERNAL_DOMAIN, s.as_slice()].concat(), Vec::new())
                } else {
                    (INTERNAL_DOMAIN.to_vec(), s.to_vec())
                };
                ics23::InnerOp { hash: ics23::HashOp::Sha256.into(), prefix, suffix }
            })
            .collect();
        ics23::ExistenceProof {
            key,
            value,
            path,
            leaf: Some(ics23::LeafOp {
                hash: ics23::HashOp::Sha256.into(),
                prehash_key: ics23::HashOp::Sha256.into(),
                prehash_value: ics23::HashOp::Sha256.into(),
                length: ics23::LengthOp::NoPrefix.into(),
                prefix: LEAF_DOMAIN.to_vec(),
            }),
        }
    }
}

/// The tree. Nodes live in one arena; a block's rebuilt nodes reuse freed slots.
#[derive(Clone, Debug)]
pub struct MemTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: NodeId,
    leaves: u64,
}

impl Default for MemTree {
    fn default() -> Self {
        Self::new()
    }
}

impl MemTree {
    pub fn new() -> Self {
        MemTree { nodes: Vec::new(), free: Vec::new(), root: EMPTY, leaves: 0 }
    }

    /// The root hash ([`PLACEHOLDER`] when empty), equal to jmt's for the same key/value set.
    pub fn root_hash(&self) -> Hash {
        self.hash(self.root)
    }

    /// Number of keys.
    pub fn len(&self) -> u64 {
        self.leaves
    }

    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// Nodes in use (leaves and internal nodes): what the tree costs in memory.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    fn hash(&self, id: NodeId) -> Hash {
        if id == EMPTY {
            return PLACEHOLDER;
        }
        match &self.nodes[id.0 as usize] {
            Node::Leaf { hash, .. } | Node::Internal { hash, .. } => *hash,
            Node::Free => unreachable!("a live reference to a freed node"),
        }
    }

    fn alloc(&mut self, node: Node) -> NodeId {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                NodeId(i)
            }
            None => {
                let i = u32::try_from(self.nodes.len()).expect("fewer than 2^32 - 1 tree nodes");
                assert!(i != EMPTY.0, "tree node arena full");
                self.nodes.push(node);
                NodeId(i)
            }
        }
    }

    fn release(&mut self, id: NodeId) {
        self.nodes[id.0 as usize] = Node::Free;
        self.free.push(id.0);
    }

    fn new_leaf(&mut self, key_hash: Hash, value_hash: Hash) -> NodeId {
        let hash = leaf_hash(&key_hash, &value_hash);
        self.alloc(Node::Leaf { key_hash, value_hash, hash })
    }

    /// Applies a block's changes (any order; a later change to the same key wins).
    pub fn apply(&mut self, changes: &[Change]) {
        let mut sorted: Vec<Change> = changes.to_vec();
        // Stable sort, then keep the last change of each key.
        sorted.sort_by_key(|c| c.0);
        let mut unique: Vec<Change> = Vec::with_capacity(sorted.len());
        for c in sorted {
            match unique.last_mut() {
                Some(last) if last.0 == c.0 => *last = c,
                _ => unique.push(c),
            }
        }
        let root = self.root;
        self.root = self.update(root, 0, &unique);
    }

    /// `changes` are sorted, unique, and all under `node` (which is at `depth`).
    fn update(&mut self, node: NodeId, depth: usize, changes: &[Change]) -> NodeId {
        if changes.is_empty() {
            return node;
        }
        if node == EMPTY {
            let inserts: Vec<(Hash, Hash)> = changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            self.leaves += inserts.len() as u64;
            return self.build(depth, &inserts);
        }
        match self.nodes[node.0 as usize].clone() {
            Node::Leaf { key_hash, value_hash, .. } => {
                // The leaf's key joins the changes unless one of them replaces or deletes it.
                let mut entries: Vec<(Hash, Hash)> = Vec::with_capacity(changes.len() + 1);
                let mut kept = true;
                for (k, v) in changes {
                    if *k == key_hash {
                        kept = false;
                    }
                    if let Some(v) = v {
                        entries.push((*k, *v));
                    }
                }
                if kept {
                    let at = entries.partition_point(|(k, _)| *k < key_hash);
                    entries.insert(at, (key_hash, value_hash));
                }
                self.leaves = self.leaves - 1 + entries.len() as u64;
                self.release(node);
                self.build(depth, &entries)
            }
            Node::Internal { left, right, .. } => {
                let split = changes.partition_point(|(k, _)| !bit(k, depth));
                let l = self.update(left, depth + 1, &changes[..split]);
                let r = self.update(right, depth + 1, &changes[split..]);
                self.join(node, l, r)
            }
            Node::Free => unreachable!("a live reference to a freed node"),
        }
    }

    /// A subtree at `depth` holding `entries` (sorted, unique).
    fn build(&mut self, depth: usize, entries: &[(Hash, Hash)]) -> NodeId {
        match entries {
            [] => EMPTY,
            [(k, v)] => self.new_leaf(*k, *v),
            _ => {
                let split = entries.partition_point(|(k, _)| !bit(k, depth));
                let l = self.build(depth + 1, &entries[..split]);
                let r = self.build(depth + 1, &entries[split..]);
                let hash = internal_hash(&self.hash(l), &self.hash(r));
                self.alloc(Node::Internal { left: l, right: r, hash })
            }
        }
    }

    /// The internal node `slot` with new children `l`, `r`: collapsed to the one leaf it
    /// holds, emptied, or rehashed in place.
    fn join(&mut self, slot: NodeId, l: NodeId, r: NodeId) -> NodeId {
        let is_leaf = |t: &Self, id: NodeId| id != EMPTY && matches!(t.nodes[id.0 as usize], Node::Leaf { .. });
        match (l, r) {
            (EMPTY, EMPTY) => {
                self.release(slot);
                EMPTY
            }
            (EMPTY, only) | (only, EMPTY) if is_leaf(self, only) => {
                self.release(slot);
                only
            }
            _ => {
                let hash = internal_hash(&self.hash(l), &self.hash(r));
                self.nodes[slot.0 as usize] = Node::Internal { left: l, right: r, hash };
                slot
            }
        }
    }

    /// The value hash of `key_hash`, if present.
    pub fn get(&self, key_hash: &Hash) -> Option<Hash> {
        self.path(key_hash).map(|p| p.value_hash)
    }

    /// The path to `key_hash`'s leaf, if the key is present.
    pub fn path(&self, key_hash: &Hash) -> Option<Path> {
        let mut siblings = Vec::new();
        let mut node = self.root;
        let mut depth = 0;
        loop {
            if node == EMPTY {
                return None;
            }
            match &self.nodes[node.0 as usize] {
                Node::Leaf { key_hash: k, value_hash, .. } => {
                    return (k == key_hash).then_some(Path { key_hash: *k, value_hash: *value_hash, siblings });
                }
                Node::Internal { left, right, .. } => {
                    let (next, other) = if bit(key_hash, depth) { (*right, *left) } else { (*left, *right) };
                    siblings.push(self.hash(other));
                    node = next;
                    depth += 1;
                }
                Node::Free => unreachable!("a live reference to a freed node"),
            }
        }
    }

    /// The keys next to `key_hash` in key-hash order: the largest below it and the smallest
    /// above it (what a non-existence proof shows).
    pub fn neighbors(&self, key_hash: &Hash) -> (Option<Hash>, Option<Hash>) {
        (self.below(self.root, 0, key_hash), self.above(self.root, 0, key_hash))
    }

    fn below(&self, node: NodeId, depth: usize, k: &Hash) -> Option<Hash> {
        if node == EMPTY {
            return None;
        }
        match &self.nodes[node.0 as usize] {
            Node::Leaf { key_hash, .. } => (key_hash < k).then_some(*key_hash),
            Node::Internal { left, right, .. } => {
                if bit(k, depth) {
                    self.below(*right, depth + 1, k).or_else(|| self.extreme(*left, true))
                } else {
                    self.below(*left, depth + 1, k)
                }
            }
            Node::Free => unreachable!("a live reference to a freed node"),
        }
    }

    fn above(&self, node: NodeId, depth: usize, k: &Hash) -> Option<Hash> {
        if node == EMPTY {
            return None;
        }
        match &self.nodes[node.0 as usize] {
            Node::Leaf { key_hash, .. } => (key_hash > k).then_some(*key_hash),
            Node::Internal { left, right, .. } => {
                if bit(k, depth) {
                    self.above(*right, depth + 1, k)
                } else {
                    self.above(*left, depth + 1, k).or_else(|| self.extreme(*right, false))
                }
            }
            Node::Free => unreachable!("a live reference to a freed node"),
        }
    }

    /// The largest (`max`) or smallest key under `node`.
    fn extreme(&self, mut node: NodeId, max: bool) -> Option<Hash> {
        loop {
            if node == EMPTY {
                return None;
            }
            match &self.nodes[node.0 as usize] {
                Node::Leaf { key_hash, .. } => return Some(*key_hash),
                Node::Internal { left, right, .. } => {
                    // Internal nodes hold at least two leaves, so the preferred side may be
                    // empty only if the other is not.
                    let (first, second) = if max { (*right, *left) } else { (*left, *right) };
                    node = if first != EMPTY { first } else { second };
                }
                Node::Free => unreachable!("a live reference to a freed node"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::mock::MockTreeStore;
    use jmt::{JellyfishMerkleTree, KeyHash, Sha256Jmt};
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// A block's raw changes: key, new value or `None` to delete.
    type Block = Vec<(Vec<u8>, Option<Vec<u8>>)>;

    /// jmt over the same blocks, for comparison: (its root after each block, its store).
    fn jmt_roots(blocks: &[Block]) -> (Vec<Hash>, MockTreeStore) {
        let store = MockTreeStore::default();
        let mut roots = Vec::new();
        for (v, block) in blocks.iter().enumerate() {
            let tree: Sha256Jmt<_> = JellyfishMerkleTree::new(&store);
            let set: Vec<(KeyHash, Option<Vec<u8>>)> =
                block.iter().map(|(k, val)| (KeyHash::with::<Sha256>(k), val.clone())).collect();
            let (root, batch) = tree.put_value_set(set, v as u64).unwrap();
            store.write_tree_update_batch(batch).unwrap();
            for (k, _) in block {
                store.put_key_preimage(KeyHash::with::<Sha256>(k), k);
            }
            roots.push(root.0);
        }
        (roots, store)
    }

    fn changes(block: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<Change> {
        block.iter().map(|(k, v)| (key_hash(k), v.as_deref().map(value_hash))).collect()
    }

    fn random_blocks(seed: u64, blocks: usize, per_block: usize, key_space: u32) -> Vec<Block> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..blocks)
            .map(|_| {
                // jmt takes one change per key per block.
                let mut block: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
                for _ in 0..per_block {
                    let key = rng.gen_range(0..key_space).to_be_bytes().to_vec();
                    let value = if rng.gen_bool(0.2) { None } else { Some(rng.gen::<[u8; 8]>().to_vec()) };
                    block.insert(key, value);
                }
                block.into_iter().collect()
            })
            .collect()
    }

    #[test]
    fn roots_equal_jmt_block_after_block() {
        for (seed, blocks, per_block, key_space) in [(1, 30, 40, 60), (2, 10, 500, 2_000), (3, 5, 3, 4)] {
            let blocks = random_blocks(seed, blocks, per_block, key_space);
            let (expected, _) = jmt_roots(&blocks);
            let mut tree = MemTree::new();
            for (i, block) in blocks.iter().enumerate() {
                tree.apply(&changes(block));
                assert_eq!(tree.root_hash(), expected[i], "seed {seed}, block {i}");
            }
        }
    }

    #[test]
    fn emptying_the_tree_gives_the_placeholder_and_frees_every_node() {
        let mut tree = MemTree::new();
        assert_eq!(tree.root_hash(), PLACEHOLDER);
        let keys: Vec<Hash> = (0u32..100).map(|i| key_hash(&i.to_be_bytes())).collect();
        tree.apply(&keys.iter().map(|k| (*k, Some(value_hash(k)))).collect::<Vec<_>>());
        assert_eq!(tree.len(), 100);
        assert!(tree.node_count() >= 199, "100 leaves need 99 internal nodes at least");
        tree.apply(&keys.iter().map(|k| (*k, None)).collect::<Vec<_>>());
        assert_eq!((tree.len(), tree.node_count(), tree.root_hash()), (0, 0, PLACEHOLDER));
        // Deleting absent keys and repeated changes: the last one wins.
        tree.apply(&[(keys[0], None), (keys[1], Some([1; 32])), (keys[1], Some([2; 32]))]);
        assert_eq!((tree.len(), tree.get(&keys[1])), (1, Some([2; 32])));
    }

    #[test]
    fn proofs_verify_with_jmts_ics23_spec_and_match_jmts_own() {
        let blocks = random_blocks(7, 6, 300, 1_000);
        let (roots, store) = jmt_roots(&blocks);
        let latest = blocks.len() as u64 - 1;
        let mut tree = MemTree::new();
        let mut values: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for block in &blocks {
            tree.apply(&changes(block));
            for (k, v) in block {
                match v {
                    Some(v) => values.insert(k.clone(), v.clone()),
                    None => values.remove(k),
                };
            }
        }
        let root = tree.root_hash();
        assert_eq!(root, roots[latest as usize]);
        let spec = jmt::ics23_spec();
        let jmt_tree: Sha256Jmt<_> = JellyfishMerkleTree::new(&store);
        for (key, value) in values.iter().take(50) {
            let path = tree.path(&key_hash(key)).expect("present");
            assert_eq!(path.root(), root);
            let proof = path.to_ics23(key.clone(), value.clone());
            let commitment = ics23::CommitmentProof { proof: Some(ics23::commitment_proof::Proof::Exist(proof)) };
            assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
                &commitment,
                &spec,
                &root.to_vec(),
                key,
                value
            ));
            let (_, from_jmt) = jmt_tree.get_with_ics23_proof(key.clone(), latest).unwrap();
            assert_eq!(commitment, from_jmt, "the same proof bytes as jmt's");
        }
        // Absent keys: no path, and the neighbours are the keys next to it in hash order.
        let present: Vec<Hash> =
            values.keys().map(|k| key_hash(k)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for i in 5_000u32..5_050 {
            let k = key_hash(&i.to_be_bytes());
            assert!(tree.path(&k).is_none());
            let below = present.iter().filter(|h| **h < k).max().copied();
            let above = present.iter().filter(|h| **h > k).min().copied();
            assert_eq!(tree.neighbors(&k), (below, above));
        }
    }
}
