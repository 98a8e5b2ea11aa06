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

use crate::types::Version;

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
        /// [`LeafValue::version`], big-endian: bytes keep the node's alignment at 4, so a
        /// node is 108 bytes rather than 112.
        version: [u8; 8],
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

/// What a leaf holds besides its key: the hash its value commits to, and the version that
/// wrote the value. The version does not enter any hash; it says where the latest value sits
/// on disk, so that reading it is a point lookup rather than a search among its versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafValue {
    pub value_hash: Hash,
    pub version: Version,
}

/// A change to one key with the version of its new value: what undoes a block (each key
/// back to its value hash and version before), or, from [`MemTree::apply`], a block itself.
pub type VersionedChange = (Hash, Option<LeafValue>);

/// Sorts `items` by key hash and keeps the last item of each key: the order callers hand
/// changes in is the order they happened.
fn sort_last_wins<V>(items: &mut Vec<(Hash, V)>) {
    // Reversed, a stable sort puts each key's latest item first, which dedup keeps.
    items.reverse();
    items.sort_by_key(|(k, _)| *k);
    items.dedup_by_key(|(k, _)| *k);
}

/// Where `items` (sorted by key hash, all under one node at `depth`) split between its
/// left and right child.
fn split<V>(items: &[(Hash, V)], depth: usize) -> usize {
    items.partition_point(|(k, _)| !bit(k, depth))
}

/// The entries (sorted, unique) of a subtree that held at most one `leaf` once `changes`
/// (sorted, unique, all under it) are applied: the leaf stays unless a change replaces or
/// deletes it.
fn merged<V: Copy>(leaf: Option<(Hash, V)>, changes: &[(Hash, Option<V>)]) -> Vec<(Hash, V)> {
    let mut entries: Vec<(Hash, V)> = Vec::with_capacity(changes.len() + 1);
    let mut kept = leaf;
    for (k, v) in changes {
        if kept.is_some_and(|(leaf_key, _)| leaf_key == *k) {
            kept = None;
        }
        if let Some(v) = v {
            entries.push((*k, *v));
        }
    }
    if let Some((k, v)) = kept {
        let at = entries.partition_point(|(e, _)| *e < k);
        entries.insert(at, (k, v));
    }
    entries
}

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

    fn new_leaf(&mut self, key_hash: Hash, leaf: LeafValue) -> NodeId {
        let hash = leaf_hash(&key_hash, &leaf.value_hash);
        self.alloc(Node::Leaf { key_hash, value_hash: leaf.value_hash, version: leaf.version.to_be_bytes(), hash })
    }

    /// A tree holding `leaves` (key hash and leaf; any order, a later pair for the same key
    /// wins), built bottom-up in one pass: how a starting node rebuilds its tree.
    pub fn from_leaves(mut leaves: Vec<(Hash, LeafValue)>) -> MemTree {
        sort_last_wins(&mut leaves);
        // n leaves take n - 1 branching nodes, plus the few one-child nodes of shared prefixes.
        let mut tree = MemTree { nodes: Vec::with_capacity(2 * leaves.len()), ..MemTree::new() };
        tree.leaves = leaves.len() as u64;
        tree.root = tree.build(0, &leaves);
        tree
    }

    /// Applies the changes of block `version` (any order; a later change to the same key wins).
    pub fn apply(&mut self, changes: &[Change], version: Version) {
        self.apply_with_undo(changes, version);
    }

    /// Applies the changes of block `version` like [`MemTree::apply`] and returns the changes
    /// that undo them ([`MemTree::undo`]): each changed key (sorted, once) with its leaf before,
    /// `None` if it was absent. Found on the way down, so it costs no lookups of its own.
    pub fn apply_with_undo(&mut self, changes: &[Change], version: Version) -> Vec<VersionedChange> {
        let mut unique: Vec<VersionedChange> =
            changes.iter().map(|(k, v)| (*k, v.map(|value_hash| LeafValue { value_hash, version }))).collect();
        self.apply_versioned(&mut unique)
    }

    /// Puts back what [`MemTree::apply_with_undo`] changed: value hashes and versions.
    pub fn undo(&mut self, undo: &[VersionedChange]) {
        self.apply_versioned(&mut undo.to_vec());
    }

    /// Applies `changes` (a later change to a key wins) and returns what undoes them.
    fn apply_versioned(&mut self, changes: &mut Vec<VersionedChange>) -> Vec<VersionedChange> {
        sort_last_wins(changes);
        let unique = changes;
        let mut present = Vec::new();
        let root = self.root;
        self.root = self.update(root, 0, unique, &mut present);
        // `present` is in key order: the update visits subtrees left to right.
        let mut present = present.into_iter().peekable();
        unique.iter().map(|(k, _)| (*k, present.next_if(|(p, _)| p == k).map(|(_, v)| v))).collect()
    }

    /// `changes` are sorted, unique, and all under `node` (which is at `depth`). Pushes each
    /// changed key that was present, with its leaf, to `present`.
    fn update(
        &mut self,
        node: NodeId,
        depth: usize,
        changes: &[VersionedChange],
        present: &mut Vec<(Hash, LeafValue)>,
    ) -> NodeId {
        if changes.is_empty() {
            return node;
        }
        if node == EMPTY {
            let inserts = merged(None, changes);
            self.leaves += inserts.len() as u64;
            return self.build(depth, &inserts);
        }
        match self.nodes[node.0 as usize].clone() {
            Node::Leaf { key_hash, value_hash, version, .. } => {
                let leaf = LeafValue { value_hash, version: u64::from_be_bytes(version) };
                if changes.binary_search_by(|(k, _)| k.cmp(&key_hash)).is_ok() {
                    present.push((key_hash, leaf));
                }
                let entries = merged(Some((key_hash, leaf)), changes);
                self.leaves = self.leaves - 1 + entries.len() as u64;
                self.release(node);
                self.build(depth, &entries)
            }
            Node::Internal { left, right, .. } => {
                let split = split(changes, depth);
                let l = self.update(left, depth + 1, &changes[..split], present);
                let r = self.update(right, depth + 1, &changes[split..], present);
                self.join(node, l, r)
            }
            Node::Free => unreachable!("a live reference to a freed node"),
        }
    }

    /// A subtree at `depth` holding `entries` (sorted, unique).
    fn build(&mut self, depth: usize, entries: &[(Hash, LeafValue)]) -> NodeId {
        match entries {
            [] => EMPTY,
            [(k, v)] => self.new_leaf(*k, *v),
            _ => {
                let split = split(entries, depth);
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
        self.leaf(key_hash).map(|l| l.value_hash)
    }

    /// The leaf of `key_hash`, if present.
    pub fn leaf(&self, key_hash: &Hash) -> Option<LeafValue> {
        self.walk(self.root, 0, key_hash, None)
    }

    /// The path to `key_hash`'s leaf, if the key is present.
    pub fn path(&self, key_hash: &Hash) -> Option<Path> {
        let mut siblings = Vec::new();
        let leaf = self.walk(self.root, 0, key_hash, Some(&mut siblings))?;
        Some(Path { key_hash: *key_hash, value_hash: leaf.value_hash, siblings })
    }

    /// Walks from `node` (at `depth`) towards `key_hash`, pushing the siblings passed (top
    /// down) if asked to; the key's leaf if it is present.
    fn walk(
        &self,
        mut node: NodeId,
        mut depth: usize,
        key_hash: &Hash,
        mut siblings: Option<&mut Vec<Hash>>,
    ) -> Option<LeafValue> {
        loop {
            match self.node(node)? {
                Node::Leaf { key_hash: k, value_hash, version, .. } => {
                    return (k == key_hash)
                        .then_some(LeafValue { value_hash: *value_hash, version: u64::from_be_bytes(*version) })
                }
                Node::Internal { left, right, .. } => {
                    let (next, other) = if bit(key_hash, depth) { (*right, *left) } else { (*left, *right) };
                    if let Some(s) = siblings.as_deref_mut() {
                        s.push(self.hash(other));
                    }
                    node = next;
                    depth += 1;
                }
                Node::Free => unreachable!("a live reference to a freed node"),
            }
        }
    }

    /// `id`'s node; `None` for [`EMPTY`].
    fn node(&self, id: NodeId) -> Option<&Node> {
        (id != EMPTY).then(|| &self.nodes[id.0 as usize])
    }

    /// What `id`'s subtree looks like to its parent.
    fn summary(&self, id: NodeId) -> Summary {
        match self.node(id) {
            None => Summary::Empty,
            Some(Node::Leaf { hash, .. }) => Summary::Leaf(*hash),
            Some(Node::Internal { hash, .. }) => Summary::Internal(*hash),
            Some(Node::Free) => unreachable!("a live reference to a freed node"),
        }
    }

    /// A read-only view of this tree with `changes` applied on top (any order; a later change
    /// to the same key wins), built without modifying or copying the tree: proofs at an older
    /// version are the latest tree with that version's values put back.
    pub fn overlay(&self, changes: &[Change]) -> Overlay<'_> {
        let mut changes = changes.to_vec();
        sort_last_wins(&mut changes);
        Overlay { tree: self, changes }
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

/// What a subtree shows its parent: its hash, and whether it is one leaf (which collapses
/// into the parent's place when its sibling is empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Summary {
    Empty,
    /// A single leaf, by its leaf hash.
    Leaf(Hash),
    Internal(Hash),
}

impl Summary {
    fn hash(self) -> Hash {
        match self {
            Summary::Empty => PLACEHOLDER,
            Summary::Leaf(h) | Summary::Internal(h) => h,
        }
    }

    /// The node with children `l` and `r`: empty, the one leaf it holds, or internal.
    fn join(l: Summary, r: Summary) -> Summary {
        match (l, r) {
            (Summary::Empty, Summary::Empty) => Summary::Empty,
            (leaf @ Summary::Leaf(_), Summary::Empty) | (Summary::Empty, leaf @ Summary::Leaf(_)) => leaf,
            _ => Summary::Internal(internal_hash(&l.hash(), &r.hash())),
        }
    }

    /// The node on a path whose child on the key's side is `mine`: pushes the sibling's hash
    /// unless the node collapses to a leaf (a leaf's path ends where it sits).
    fn climb(mine: Summary, other: Summary, key_right: bool, siblings: &mut Vec<Hash>) -> Summary {
        let joined = if key_right { Summary::join(other, mine) } else { Summary::join(mine, other) };
        if let Summary::Internal(_) = joined {
            siblings.push(other.hash());
        }
        joined
    }
}

/// A subtree of entries (sorted, unique) at `depth`, hashed from scratch.
fn entries_summary(depth: usize, entries: &[(Hash, Hash)]) -> Summary {
    match entries {
        [] => Summary::Empty,
        [(k, v)] => Summary::Leaf(leaf_hash(k, v)),
        _ => {
            let s = split(entries, depth);
            Summary::join(entries_summary(depth + 1, &entries[..s]), entries_summary(depth + 1, &entries[s..]))
        }
    }
}

/// [`Overlay::path_in`] over a subtree of entries: its summary and `key`'s value hash, the
/// siblings pushed deepest first.
fn entries_path(
    depth: usize,
    entries: &[(Hash, Hash)],
    key: &Hash,
    siblings: &mut Vec<Hash>,
) -> (Summary, Option<Hash>) {
    match entries {
        [] => (Summary::Empty, None),
        [(k, v)] => (Summary::Leaf(leaf_hash(k, v)), (k == key).then_some(*v)),
        _ => {
            let s = split(entries, depth);
            let key_right = bit(key, depth);
            let (mine, other) = if key_right { (&entries[s..], &entries[..s]) } else { (&entries[..s], &entries[s..]) };
            let (mine, found) = entries_path(depth + 1, mine, key, siblings);
            let other = entries_summary(depth + 1, other);
            (Summary::climb(mine, other, key_right, siblings), found)
        }
    }
}

/// A touched tree node: its children (changes split between them), or, for a leaf or an
/// empty subtree, the entries it turns into.
enum Opened {
    Children(NodeId, NodeId),
    Entries(Vec<(Hash, Hash)>),
}

/// A read-only view of a [`MemTree`] with changes applied on top ([`MemTree::overlay`]).
/// Each call reads the tree's stored hashes for untouched subtrees and rehashes only the
/// nodes the changes pass through.
#[derive(Clone, Debug)]
pub struct Overlay<'a> {
    tree: &'a MemTree,
    /// Sorted, unique.
    changes: Vec<Change>,
}

impl Overlay<'_> {
    /// The root hash the tree would have with the changes applied.
    pub fn root_hash(&self) -> Hash {
        self.summary(self.tree.root, 0, &self.changes).hash()
    }

    /// The value hash of `key_hash`, if present.
    pub fn get(&self, key_hash: &Hash) -> Option<Hash> {
        match self.changes.binary_search_by_key(key_hash, |(k, _)| *k) {
            Ok(i) => self.changes[i].1,
            Err(_) => self.tree.get(key_hash),
        }
    }

    /// The path to `key_hash`'s leaf, if the key is present.
    pub fn path(&self, key_hash: &Hash) -> Option<Path> {
        let mut siblings = Vec::new();
        let (_, found) = self.path_in(self.tree.root, 0, &self.changes, key_hash, &mut siblings);
        let value_hash = found?;
        siblings.reverse();
        Some(Path { key_hash: *key_hash, value_hash, siblings })
    }

    /// The keys next to `key_hash` in key-hash order: the largest below it and the smallest
    /// above it.
    pub fn neighbors(&self, key_hash: &Hash) -> (Option<Hash>, Option<Hash>) {
        (self.below(self.tree.root, 0, &self.changes, key_hash), self.above(self.tree.root, 0, &self.changes, key_hash))
    }

    /// `node`, with `changes` (non-empty) under it, opened one level.
    fn open(&self, node: NodeId, changes: &[Change]) -> Opened {
        match self.tree.node(node) {
            None => Opened::Entries(merged(None, changes)),
            Some(Node::Leaf { key_hash, value_hash, .. }) => {
                Opened::Entries(merged(Some((*key_hash, *value_hash)), changes))
            }
            Some(Node::Internal { left, right, .. }) => Opened::Children(*left, *right),
            Some(Node::Free) => unreachable!("a live reference to a freed node"),
        }
    }

    /// The summary of `node` (at `depth`) with `changes` (all under it) applied.
    fn summary(&self, node: NodeId, depth: usize, changes: &[Change]) -> Summary {
        if changes.is_empty() {
            return self.tree.summary(node);
        }
        match self.open(node, changes) {
            Opened::Children(l, r) => {
                let s = split(changes, depth);
                Summary::join(self.summary(l, depth + 1, &changes[..s]), self.summary(r, depth + 1, &changes[s..]))
            }
            Opened::Entries(entries) => entries_summary(depth, &entries),
        }
    }

    /// The summary of `node` (at `depth`) with `changes` applied, and `key`'s value hash if
    /// present, pushing the path's siblings deepest first. Bottom-up, so each sibling subtree
    /// is summarised once.
    fn path_in(
        &self,
        node: NodeId,
        depth: usize,
        changes: &[Change],
        key: &Hash,
        siblings: &mut Vec<Hash>,
    ) -> (Summary, Option<Hash>) {
        if changes.is_empty() {
            // Untouched: the tree's own walk, its siblings pushed top down.
            let mut below = Vec::new();
            let found = self.tree.walk(node, depth, key, Some(&mut below)).map(|l| l.value_hash);
            siblings.extend(below.into_iter().rev());
            return (self.tree.summary(node), found);
        }
        match self.open(node, changes) {
            Opened::Children(l, r) => {
                let s = split(changes, depth);
                let key_right = bit(key, depth);
                let ((mine, mine_changes), (other, other_changes)) = if key_right {
                    ((r, &changes[s..]), (l, &changes[..s]))
                } else {
                    ((l, &changes[..s]), (r, &changes[s..]))
                };
                let (mine, found) = self.path_in(mine, depth + 1, mine_changes, key, siblings);
                let other = self.summary(other, depth + 1, other_changes);
                (Summary::climb(mine, other, key_right, siblings), found)
            }
            Opened::Entries(entries) => entries_path(depth, &entries, key, siblings),
        }
    }

    fn below(&self, node: NodeId, depth: usize, changes: &[Change], k: &Hash) -> Option<Hash> {
        if changes.is_empty() {
            return self.tree.below(node, depth, k);
        }
        match self.open(node, changes) {
            Opened::Children(l, r) => {
                let s = split(changes, depth);
                if bit(k, depth) {
                    self.below(r, depth + 1, &changes[s..], k)
                        .or_else(|| self.extreme(l, depth + 1, &changes[..s], true))
                } else {
                    self.below(l, depth + 1, &changes[..s], k)
                }
            }
            Opened::Entries(entries) => entries[..entries.partition_point(|(e, _)| e < k)].last().map(|(e, _)| *e),
        }
    }

    fn above(&self, node: NodeId, depth: usize, changes: &[Change], k: &Hash) -> Option<Hash> {
        if changes.is_empty() {
            return self.tree.above(node, depth, k);
        }
        match self.open(node, changes) {
            Opened::Children(l, r) => {
                let s = split(changes, depth);
                if bit(k, depth) {
                    self.above(r, depth + 1, &changes[s..], k)
                } else {
                    self.above(l, depth + 1, &changes[..s], k)
                        .or_else(|| self.extreme(r, depth + 1, &changes[s..], false))
                }
            }
            Opened::Entries(entries) => entries[entries.partition_point(|(e, _)| e <= k)..].first().map(|(e, _)| *e),
        }
    }

    /// The largest (`max`) or smallest key under `node` (at `depth`) with `changes` applied.
    /// A touched side may have been emptied, so the other side is the fallback.
    fn extreme(&self, node: NodeId, depth: usize, changes: &[Change], max: bool) -> Option<Hash> {
        if changes.is_empty() {
            return self.tree.extreme(node, max);
        }
        match self.open(node, changes) {
            Opened::Children(l, r) => {
                let s = split(changes, depth);
                let (left, right) = ((l, &changes[..s]), (r, &changes[s..]));
                let (first, second) = if max { (right, left) } else { (left, right) };
                self.extreme(first.0, depth + 1, first.1, max)
                    .or_else(|| self.extreme(second.0, depth + 1, second.1, max))
            }
            Opened::Entries(entries) => if max { entries.last() } else { entries.first() }.map(|(e, _)| *e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::mock::MockTreeStore;
    use jmt::{JellyfishMerkleTree, KeyHash, Sha256Jmt};
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::{BTreeMap, BTreeSet};
    use std::ops::Bound;

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

    /// `path`'s ICS-23 proof of `key` → `value`, checked to lead to `root` and to verify with
    /// jmt's proof spec.
    fn verified_proof(path: &Path, root: Hash, key: &[u8], value: &[u8]) -> ics23::CommitmentProof {
        assert_eq!(path.root(), root);
        let proof = path.to_ics23(key.to_vec(), value.to_vec());
        let commitment = ics23::CommitmentProof { proof: Some(ics23::commitment_proof::Proof::Exist(proof)) };
        assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
            &commitment,
            &jmt::ics23_spec(),
            &root.to_vec(),
            key,
            value
        ));
        commitment
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
                tree.apply(&changes(block), i as u64);
                assert_eq!(tree.root_hash(), expected[i], "seed {seed}, block {i}");
            }
        }
    }

    #[test]
    fn emptying_the_tree_gives_the_placeholder_and_frees_every_node() {
        let mut tree = MemTree::new();
        assert_eq!(tree.root_hash(), PLACEHOLDER);
        let keys: Vec<Hash> = (0u32..100).map(|i| key_hash(&i.to_be_bytes())).collect();
        tree.apply(&keys.iter().map(|k| (*k, Some(value_hash(k)))).collect::<Vec<_>>(), 1);
        assert_eq!(tree.len(), 100);
        assert!(tree.node_count() >= 199, "100 leaves need 99 internal nodes at least");
        tree.apply(&keys.iter().map(|k| (*k, None)).collect::<Vec<_>>(), 1);
        assert_eq!((tree.len(), tree.node_count(), tree.root_hash()), (0, 0, PLACEHOLDER));
        // Deleting absent keys and repeated changes: the last one wins.
        tree.apply(&[(keys[0], None), (keys[1], Some([1; 32])), (keys[1], Some([2; 32]))], 2);
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
            tree.apply(&changes(block), 1);
            for (k, v) in block {
                match v {
                    Some(v) => values.insert(k.clone(), v.clone()),
                    None => values.remove(k),
                };
            }
        }
        let root = tree.root_hash();
        assert_eq!(root, roots[latest as usize]);
        let jmt_tree: Sha256Jmt<_> = JellyfishMerkleTree::new(&store);
        for (key, value) in values.iter().take(50) {
            let path = tree.path(&key_hash(key)).expect("present");
            let commitment = verified_proof(&path, root, key, value);
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

    /// A random key hash; `clustered` ones share a random-length prefix with one fixed hash,
    /// so trees get long one-child chains and leaves that collapse deep down (down to keys
    /// differing in the last bit only).
    fn random_key(rng: &mut ChaCha8Rng, clustered: bool) -> Hash {
        let mut k: Hash = rng.gen();
        if clustered {
            let base = [0x5a; 32];
            for b in 0..rng.gen_range(0..256usize) {
                let mask = 0x80 >> (b % 8);
                k[b / 8] = (k[b / 8] & !mask) | (base[b / 8] & mask);
            }
        }
        k
    }

    /// The keys of `model` next to `k`, found independently of any tree.
    fn model_neighbors(model: &BTreeMap<Hash, Hash>, k: &Hash) -> (Option<Hash>, Option<Hash>) {
        let below = model.range(..*k).next_back().map(|(k, _)| *k);
        let above = model.range((Bound::Excluded(*k), Bound::Unbounded)).next().map(|(k, _)| *k);
        (below, above)
    }

    /// One randomized case: a tree of `size` keys, `n_changes` changes over them and over
    /// absent keys (updates, same-value updates, inserts, deletions of present and absent
    /// keys, repeated keys); the overlay must answer as a clone with the changes applied, and
    /// leave the tree as it was.
    fn check_overlay_case(rng: &mut ChaCha8Rng, size: usize, n_changes: usize, clustered: bool, probes: usize) {
        let pool: Vec<Hash> = (0..size + n_changes / 2 + 3)
            .map(|_| random_key(rng, clustered))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut pool = pool;
        pool.shuffle(rng);
        let (present, absent) = pool.split_at(size.min(pool.len()));
        // Few distinct values, so some updates write the value already there.
        let value = |rng: &mut ChaCha8Rng| [rng.gen_range(0..4u8); 32];
        let mut before: BTreeMap<Hash, Hash> = BTreeMap::new();
        let mut tree = MemTree::new();
        for block in present.chunks(7) {
            let block: Vec<Change> = block.iter().map(|k| (*k, Some(value(rng)))).collect();
            for (k, v) in &block {
                before.insert(*k, v.expect("inserts"));
            }
            tree.apply(&block, 1);
        }
        let mut changes: Vec<Change> = Vec::new();
        for _ in 0..n_changes {
            let key = if !changes.is_empty() && rng.gen_bool(0.2) {
                changes[rng.gen_range(0..changes.len())].0
            } else {
                pool[rng.gen_range(0..pool.len())]
            };
            let change = if rng.gen_bool(0.35) { None } else { Some(value(rng)) };
            changes.push((key, change));
        }
        let mut after = before.clone();
        for (k, v) in &changes {
            match v {
                Some(v) => after.insert(*k, *v),
                None => after.remove(k),
            };
        }
        let mut expected = tree.clone();
        expected.apply(&changes, 1);
        let root_before = tree.root_hash();

        let overlay = tree.overlay(&changes);
        let root = overlay.root_hash();
        assert_eq!(root, expected.root_hash(), "size {size}, changes {changes:?}");
        let mut probe: Vec<Hash> = present.iter().take(probes).copied().collect();
        probe.extend(changes.iter().map(|(k, _)| *k));
        probe.extend(absent.iter().take(probes));
        probe.extend((0..5).map(|_| random_key(rng, clustered)));
        for k in &probe {
            let path = overlay.path(k);
            assert_eq!(path, expected.path(k), "path of {k:?}");
            assert_eq!(path.map(|p| p.root()).unwrap_or(root), root);
            assert_eq!(overlay.get(k), after.get(k).copied());
            assert_eq!(overlay.get(k), expected.get(k));
            assert_eq!(overlay.neighbors(k), model_neighbors(&after, k), "neighbors of {k:?}");
            assert_eq!(overlay.neighbors(k), expected.neighbors(k));
        }
        // The tree is untouched, and an overlay without changes is the tree.
        assert_eq!((tree.root_hash(), tree.len()), (root_before, before.len() as u64));
        let same = tree.overlay(&[]);
        assert_eq!(same.root_hash(), root_before);
        for k in &probe {
            assert_eq!(same.path(k), tree.path(k));
            assert_eq!(same.get(k), before.get(k).copied());
            assert_eq!(same.neighbors(k), model_neighbors(&before, k));
        }
    }

    #[test]
    fn overlay_matches_a_clone_with_the_changes_applied() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        // Tiny trees, where collapsing and emptying happen at every turn.
        for case in 0..600 {
            check_overlay_case(&mut rng, case % 5, case % 7, case % 2 == 1, 5);
        }
        for (seed, size, n_changes, clustered) in
            [(41, 2_000, 1, false), (42, 2_000, 60, false), (43, 2_000, 700, false), (44, 2_000, 300, true)]
        {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            check_overlay_case(&mut rng, size, n_changes, clustered, 150);
        }
    }

    #[test]
    fn from_leaves_matches_applying_blocks_and_jmt() {
        let mut rng = ChaCha8Rng::seed_from_u64(51);
        for (seed, blocks, per_block, key_space) in [(52, 8, 300, 1_500), (53, 4, 3, 3), (54, 1, 1, 1)] {
            let blocks = random_blocks(seed, blocks, per_block, key_space);
            let (roots, _) = jmt_roots(&blocks);
            let mut by_blocks = MemTree::new();
            let mut live: BTreeMap<Hash, LeafValue> = BTreeMap::new();
            for (version, block) in (1..).zip(&blocks) {
                by_blocks.apply(&changes(block), version);
                for (k, v) in changes(block) {
                    match v {
                        Some(value_hash) => live.insert(k, LeafValue { value_hash, version }),
                        None => live.remove(&k),
                    };
                }
            }
            // Stale pairs for some keys, then every key's final pair: a later pair wins.
            let mut stale: Vec<(Hash, LeafValue)> = Vec::new();
            for k in live.keys() {
                if rng.gen_bool(0.3) {
                    stale.push((*k, LeafValue { value_hash: rng.gen(), version: rng.gen() }));
                }
            }
            let mut fresh: Vec<(Hash, LeafValue)> = live.iter().map(|(k, v)| (*k, *v)).collect();
            stale.shuffle(&mut rng);
            fresh.shuffle(&mut rng);
            let tree = MemTree::from_leaves([stale, fresh].concat());
            assert_eq!(tree.root_hash(), *roots.last().expect("blocks"), "seed {seed}");
            assert_eq!(tree.root_hash(), by_blocks.root_hash());
            assert_eq!((tree.len(), tree.node_count()), (live.len() as u64, by_blocks.node_count()));
            for (k, v) in &live {
                assert_eq!(tree.leaf(k), Some(*v), "the value hash and the version that wrote it");
                assert_eq!(by_blocks.leaf(k), Some(*v));
            }
        }
        let empty = MemTree::from_leaves(Vec::new());
        assert_eq!((empty.root_hash(), empty.len()), (PLACEHOLDER, 0));
    }

    #[test]
    fn overlay_proofs_verify_and_reproduce_jmts_older_and_pending_versions() {
        let blocks = random_blocks(61, 5, 300, 1_000);
        let (roots, store) = jmt_roots(&blocks);
        let latest = blocks.len() - 1;
        let values_at = |v: usize| {
            let mut values: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            for block in &blocks[..=v] {
                for (k, val) in block {
                    match val {
                        Some(val) => values.insert(k.clone(), val.clone()),
                        None => values.remove(k),
                    };
                }
            }
            values
        };
        let mut tree = MemTree::new();
        for block in &blocks[..latest] {
            tree.apply(&changes(block), 1);
        }
        // Pending: the tree before the last block, seen with it applied.
        assert_eq!(tree.overlay(&changes(&blocks[latest])).root_hash(), roots[latest]);
        tree.apply(&changes(&blocks[latest]), 1);

        // Older: the latest tree with the previous version's values of the last block's keys
        // put back is the previous version, proofs and all.
        let previous = values_at(latest - 1);
        let revert: Vec<Change> =
            blocks[latest].iter().map(|(k, _)| (key_hash(k), previous.get(k).map(|v| value_hash(v)))).collect();
        let overlay = tree.overlay(&revert);
        let root = overlay.root_hash();
        assert_eq!(root, roots[latest - 1]);
        assert_ne!(root, tree.root_hash(), "the last block changed something");
        let touched: BTreeSet<&Vec<u8>> = blocks[latest].iter().map(|(k, _)| k).collect();
        let untouched = previous.iter().filter(|(k, _)| !touched.contains(k)).take(30);
        // Keys the last block deleted are present only through the overlay.
        let put_back = previous.iter().filter(|(k, _)| touched.contains(k)).take(60);
        let jmt_tree: Sha256Jmt<_> = JellyfishMerkleTree::new(&store);
        let mut put_back_absent_from_tree = 0;
        for (key, value) in put_back.chain(untouched) {
            put_back_absent_from_tree += usize::from(tree.get(&key_hash(key)).is_none());
            let path = overlay.path(&key_hash(key)).expect("present at the previous version");
            let commitment = verified_proof(&path, root, key, value);
            let (_, from_jmt) = jmt_tree.get_with_ics23_proof(key.clone(), latest as u64 - 1).unwrap();
            assert_eq!(commitment, from_jmt, "the same proof bytes as jmt's");
        }
        assert!(put_back_absent_from_tree > 0, "some proofs are of keys deleted in the latest tree");
        // Keys the last block inserted are absent from the previous version.
        for (key, _) in blocks[latest].iter().filter(|(k, _)| !previous.contains_key(k)).take(20) {
            assert!(overlay.path(&key_hash(key)).is_none());
            assert_eq!(jmt_tree.get(KeyHash::with::<Sha256>(key), latest as u64 - 1).unwrap(), None);
        }
    }

    /// Memory per key is two nodes: the leaf's version must not grow them past 108 bytes.
    #[test]
    fn a_node_is_108_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 108);
    }

    #[test]
    fn undo_sets_restore_the_tree_and_name_the_old_values() {
        for (seed, per_block, key_space) in [(11, 300, 1_000), (12, 5, 6), (13, 40, 40)] {
            let blocks = random_blocks(seed, 8, per_block, key_space);
            let mut tree = MemTree::new();
            for (version, block) in (1..).zip(&blocks) {
                let before = tree.clone();
                let undo = tree.apply_with_undo(&changes(block), version);
                let mut keys: Vec<Hash> = block.iter().map(|(k, _)| key_hash(k)).collect();
                keys.sort();
                assert_eq!(undo.iter().map(|(k, _)| *k).collect::<Vec<_>>(), keys, "each key once, sorted");
                for (k, old) in &undo {
                    assert_eq!(*old, before.leaf(k), "seed {seed}: the leaf before, version included");
                    assert_eq!(tree.leaf(k).map(|l| l.version), tree.get(k).map(|_| version), "written by {version}");
                }
                let mut undone = tree.clone();
                undone.undo(&undo);
                assert_eq!((undone.root_hash(), undone.len()), (before.root_hash(), before.len()));
                for k in &keys {
                    assert_eq!(undone.leaf(k), before.leaf(k), "versions put back too");
                }
            }
        }
    }
}
