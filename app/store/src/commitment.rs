//! State commitment: the substore trees, whole, in memory (see the crate docs, "Model").
//!
//! The trees hold the latest committed version, or the version being prepared on top of it
//! ("staged"): `prepare` applies its block to the trees and keeps what undoes it, so that the
//! same trees serve the next block without a copy. A prepared block that is not committed is
//! undone by the next `prepare`; readers at committed versions see through the staged block
//! with its undo set (an [`Overlay`](crate::memtree::Overlay)).

use rayon::prelude::*;

use crate::memtree::{key_hash, value_hash, Change, Hash, LeafValue, MemTree, VersionedChange};
use crate::types::Version;

/// The trees of every substore (index = substore id - 1).
pub(crate) struct Trees {
    pub subs: Vec<MemTree>,
    /// The version the trees hold with any staged block undone (`None`: nothing committed).
    pub committed: Option<Version>,
    pub staged: Option<Staged>,
}

/// A prepared, not yet committed block applied to the trees.
pub(crate) struct Staged {
    /// Names the [`crate::PreparedCommit`] this is: a commit of any other must restage.
    pub token: u64,
    pub version: Version,
    /// Per substore: each changed key with its leaf (value hash, version) before the block.
    pub undo: Vec<Vec<VersionedChange>>,
}

impl Trees {
    pub fn empty(substores: usize) -> Self {
        Trees { subs: (0..substores).map(|_| MemTree::new()).collect(), committed: None, staged: None }
    }

    /// The version the trees' contents are at (the staged one, if any).
    pub fn contents_version(&self) -> Option<Version> {
        self.staged.as_ref().map(|s| s.version).or(self.committed)
    }

    /// Undoes the staged block, if any.
    pub fn unstage(&mut self) {
        if let Some(staged) = self.staged.take() {
            self.subs.par_iter_mut().zip(staged.undo).for_each(|(tree, undo)| tree.undo(&undo));
        }
    }

    /// Applies `changes` (per substore) and stages them as `version`; returns the new
    /// substore roots. The undo sets ([`Staged::undo`]) list each changed key once, in
    /// key-hash order, with its leaf (value hash, version) before.
    pub fn stage(&mut self, token: u64, version: Version, changes: &[Vec<Change>]) -> Vec<Hash> {
        let undo: Vec<Vec<VersionedChange>> = self
            .subs
            .par_iter_mut()
            .zip(changes)
            .map(|(tree, changes)| tree.apply_with_undo(changes, version))
            .collect();
        self.staged = Some(Staged { token, version, undo });
        self.roots()
    }

    pub fn roots(&self) -> Vec<Hash> {
        self.subs.iter().map(MemTree::root_hash).collect()
    }
}

/// The main tree over the substore roots: each substore name → its root. Every configured
/// substore is in it, an empty one with the placeholder root. (Its leaves' versions are
/// unused: a root is never read from the `values` table.)
pub(crate) fn main_tree(names: &[String], roots: &[Hash]) -> MemTree {
    MemTree::from_leaves(
        names
            .iter()
            .zip(roots)
            .map(|(n, r)| (key_hash(n.as_bytes()), LeafValue { value_hash: value_hash(r), version: 0 }))
            .collect(),
    )
}
