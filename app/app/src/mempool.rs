//! Admission control for this node's mempool: which txs CheckTx has let in and that are still
//! waiting for a block, so that a new tx beyond `mempool_max_txs` is refused with the SDK's
//! retryable "mempool is full" (sdk code 20) before CometBFT's own limit is reached.
//!
//! Why the app counts at all: CometBFT v0.38 checks its `mempool.size` again *after* the app has
//! accepted a tx (`resCbFirstTime`) and, if it is full by then, drops the tx without telling the
//! client, who was answered code 0. The app has already advanced the sender's sequence in its
//! mempool state, so every later tx of that sender fails its sequence check: under overload the
//! mempool fills with txs that will never commit (the collapse issue 16 measured). Refusing
//! here, below CometBFT's limit by more than the txs that can be in flight, keeps "accepted"
//! meaning "will be proposed", and a client resends a refused tx.
//!
//! Node-local and mempool-only: nothing here affects a block or the app hash.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// A tx's identity for the mempool: SHA-256 of its bytes (CometBFT's tx hash).
pub type TxKey = [u8; 32];

pub fn tx_key(tx: &[u8]) -> TxKey {
    Sha256::digest(tx).into()
}

/// A tx not seen by CheckTx (new or recheck) for this many blocks is taken as gone from
/// CometBFT's mempool (with recheck on, the default, every waiting tx is rechecked after each
/// block; a tx CometBFT dropped on its own is never seen again).
pub const STALE_AFTER_BLOCKS: u64 = 20;

/// The app's limit for a CometBFT `mempool.size`: room below it for the txs that can be between
/// CometBFT's two size checks at once (one per RPC connection or peer; CometBFT's
/// `rpc.max_open_connections` is 900 by default), at most half of it.
pub fn max_txs_for_cometbft_size(size: u32) -> usize {
    let size = size as usize;
    let room = (size / 10).max(1_000).min(size / 2);
    (size - room).max(1)
}

/// Txs this node's CheckTx accepted that no committed block has included yet.
#[derive(Debug, Default)]
pub struct PendingTxs {
    /// At most this many (0 = no limit, and nothing is tracked).
    max: usize,
    /// Tx key → the committed height at which CheckTx last passed it.
    txs: HashMap<TxKey, u64>,
}

impl PendingTxs {
    pub fn new(max: usize) -> Self {
        Self { max, txs: HashMap::new() }
    }

    pub fn len(&self) -> usize {
        self.txs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether a new tx must be refused: the limit is reached and it is not already waiting.
    pub fn is_full_for(&self, key: &TxKey) -> bool {
        self.is_at_limit() && !self.txs.contains_key(key)
    }

    /// Whether the limit is reached: every new tx not already waiting will be refused.
    pub fn is_at_limit(&self) -> bool {
        self.max > 0 && self.txs.len() >= self.max
    }

    /// Whether there is a limit (without one nothing is tracked and no tx key is needed).
    pub fn is_limited(&self) -> bool {
        self.max > 0
    }

    /// CheckTx (new or recheck) passed the tx at committed height `height`.
    pub fn passed(&mut self, key: TxKey, height: u64) {
        if self.is_limited() {
            self.txs.insert(key, height);
        }
    }

    /// A recheck refused the tx: CometBFT removes it from its mempool. (A *new* CheckTx that
    /// fails changes nothing: if the same bytes are already waiting, CometBFT keeps that copy.)
    pub fn recheck_failed(&mut self, key: &TxKey) {
        self.txs.remove(key);
    }

    /// Block `height` committed these txs; those not rechecked for [`STALE_AFTER_BLOCKS`] are
    /// forgotten.
    pub fn committed(&mut self, block_txs: &[TxKey], height: u64) {
        for key in block_txs {
            self.txs.remove(key);
        }
        self.txs.retain(|_, seen| seen.saturating_add(STALE_AFTER_BLOCKS) >= height);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_mempool_refuses_new_txs_until_a_block_takes_some() {
        let mut p = PendingTxs::new(2);
        let (a, b, c) = (tx_key(b"a"), tx_key(b"b"), tx_key(b"c"));
        assert!(!p.is_full_for(&a));
        p.passed(a, 5);
        p.passed(b, 5);
        assert!(p.is_full_for(&c) && p.is_at_limit(), "limit reached");
        assert!(!p.is_full_for(&a), "a waiting tx is rechecked, not refused");
        p.committed(&[a], 6);
        assert!(!p.is_full_for(&c));
        p.passed(c, 6);
        p.recheck_failed(&b);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn txs_not_rechecked_are_forgotten() {
        let mut p = PendingTxs::new(10);
        let (a, b) = (tx_key(b"a"), tx_key(b"b"));
        p.passed(a, 1);
        p.passed(b, 1);
        p.committed(&[], 1 + STALE_AFTER_BLOCKS);
        assert_eq!(p.len(), 2);
        p.passed(b, 1 + STALE_AFTER_BLOCKS); // rechecked
        p.committed(&[], 2 + STALE_AFTER_BLOCKS);
        assert_eq!(p.len(), 1, "a, never rechecked, is gone; b stays");
        assert!(!p.is_full_for(&a));
    }

    #[test]
    fn no_limit_tracks_nothing() {
        let mut p = PendingTxs::new(0);
        assert!(!p.is_limited());
        p.passed(tx_key(b"a"), 1);
        assert!(p.is_empty());
        assert!(!p.is_full_for(&tx_key(b"b")));
    }

    #[test]
    fn the_limit_leaves_room_below_cometbft() {
        assert_eq!(max_txs_for_cometbft_size(5_000), 4_000);
        assert_eq!(max_txs_for_cometbft_size(20_000), 18_000);
        assert_eq!(max_txs_for_cometbft_size(1_000), 500);
        assert_eq!(max_txs_for_cometbft_size(1), 1);
    }
}
