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
//! Under sustained overload a fixed limit also sets how long an accepted tx waits: 9,000
//! waiting txs drained at ~2,000/s is 4.5 s. With `max_wait` the limit follows what blocks
//! actually take: at most about `max_wait` of the recent commit rate may wait (never fewer than
//! [`MIN_ADAPTIVE_TXS`], never more than `max`), so a client is told "full, retry" at once
//! instead of being accepted into a queue it would wait seconds in.
//!
//! Node-local and mempool-only: nothing here affects a block or the app hash (the wall clock
//! it reads decides admission only).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

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

/// The adaptive limit never goes below this (or `max`, if lower): an idle chain, whose recent
/// blocks took nothing, still admits a burst.
pub const MIN_ADAPTIVE_TXS: usize = 2_000;

/// How many recent commits the commit rate is taken over.
const RATE_WINDOW_COMMITS: usize = 8;

/// Txs this node's CheckTx accepted that no committed block has included yet.
#[derive(Debug, Default)]
pub struct PendingTxs {
    /// At most this many (0 = no limit, and nothing is tracked).
    max: usize,
    /// With a limit: let at most about this long of the recent commit rate wait.
    max_wait: Option<Duration>,
    /// Tx key → the committed height at which CheckTx last passed it.
    txs: HashMap<TxKey, u64>,
    /// The latest commits: when each was seen here and how many txs its block held.
    commits: VecDeque<(Instant, usize)>,
    /// The limit now in force (`max`, or less with `max_wait`).
    limit: usize,
}

impl PendingTxs {
    pub fn new(max: usize) -> Self {
        Self::with_max_wait(max, None)
    }

    /// A limit of `max` txs, lowered under load to about `max_wait` of what blocks take.
    pub fn with_max_wait(max: usize, max_wait: Option<Duration>) -> Self {
        Self { max, max_wait, txs: HashMap::new(), commits: VecDeque::new(), limit: max }
    }

    /// How many txs may wait now.
    pub fn limit(&self) -> usize {
        self.limit
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

    /// Whether the tx with `key` is waiting (CheckTx passed it and no block has taken it).
    pub fn contains(&self, key: &TxKey) -> bool {
        self.txs.contains_key(key)
    }

    /// Whether the limit is reached: every new tx not already waiting will be refused.
    pub fn is_at_limit(&self) -> bool {
        self.max > 0 && self.txs.len() >= self.limit
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

    /// Block `height` committed `block_len` txs, among them these (the keys may be left out
    /// when none was waiting here); txs not rechecked for [`STALE_AFTER_BLOCKS`] are forgotten.
    pub fn committed(&mut self, block_txs: &[TxKey], block_len: usize, height: u64) {
        self.committed_at(block_txs, block_len, height, Instant::now());
    }

    fn committed_at(&mut self, block_txs: &[TxKey], block_len: usize, height: u64, now: Instant) {
        for key in block_txs {
            self.txs.remove(key);
        }
        self.txs.retain(|_, seen| seen.saturating_add(STALE_AFTER_BLOCKS) >= height);
        if let Some(max_wait) = self.max_wait.filter(|_| self.max > 0) {
            self.commits.push_back((now, block_len));
            if self.commits.len() > RATE_WINDOW_COMMITS {
                self.commits.pop_front();
            }
            self.limit = adaptive_limit(&self.commits, max_wait, self.max);
        }
    }
}

/// About `max_wait` of the commit rate over `commits` (the txs of every commit but the first,
/// over the time since the first), within [`MIN_ADAPTIVE_TXS`] and `max`; `max` until two
/// commits are known.
fn adaptive_limit(commits: &VecDeque<(Instant, usize)>, max_wait: Duration, max: usize) -> usize {
    let (Some((first, _)), Some((last, _))) = (commits.front(), commits.back()) else { return max };
    let elapsed = last.saturating_duration_since(*first);
    if commits.len() < 2 || elapsed.is_zero() {
        return max;
    }
    let txs: usize = commits.iter().skip(1).map(|(_, n)| n).sum();
    let waiting = (txs as u128).saturating_mul(max_wait.as_micros()) / elapsed.as_micros();
    usize::try_from(waiting).unwrap_or(usize::MAX).max(MIN_ADAPTIVE_TXS).min(max)
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
        p.committed(&[a], 1, 6);
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
        p.committed(&[], 0, 1 + STALE_AFTER_BLOCKS);
        assert_eq!(p.len(), 2);
        p.passed(b, 1 + STALE_AFTER_BLOCKS); // rechecked
        p.committed(&[], 0, 2 + STALE_AFTER_BLOCKS);
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
    fn with_max_wait_the_limit_follows_what_blocks_take() {
        let keys: Vec<TxKey> = (0..20_000u32).map(|i| tx_key(&i.to_be_bytes())).collect();
        let mut p = PendingTxs::with_max_wait(9_000, Some(Duration::from_secs(2)));
        assert_eq!(p.limit(), 9_000, "no rate known yet");
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Blocks of 1,200 txs every 600 ms: 2,000 txs/s, so 4,000 may wait.
        for (h, chunk) in keys.chunks(1_200).take(6).enumerate() {
            p.committed_at(chunk, chunk.len(), h as u64 + 1, at(600 * h as u64));
        }
        assert_eq!(p.limit(), 4_000);
        for (i, key) in keys.iter().take(4_000).enumerate() {
            assert!(!p.is_full_for(key), "tx {i} is within the limit");
            p.passed(*key, 6);
        }
        assert!(p.is_full_for(&keys[4_000]) && p.is_at_limit(), "the 4,001st waits too long");
        // Faster blocks raise it, up to `max`.
        for h in 6..20u64 {
            p.committed_at(&keys[..6_000], 6_000, h + 1, at(600 * h));
        }
        assert_eq!(p.limit(), 9_000, "6,000 per 600 ms is 20,000 in 2 s: capped at max");
        // Empty blocks (an idle chain) lower it to the floor, never to zero.
        for h in 20..40u64 {
            p.committed_at(&[], 0, h + 1, at(600 * h));
        }
        assert_eq!(p.limit(), MIN_ADAPTIVE_TXS);
        // Without max_wait the limit stays put.
        let mut fixed = PendingTxs::new(9_000);
        for h in 0..10u64 {
            fixed.committed_at(&[], 5_000, h + 1, at(600 * h));
        }
        assert_eq!(fixed.limit(), 9_000);
    }

    #[test]
    fn the_limit_leaves_room_below_cometbft() {
        assert_eq!(max_txs_for_cometbft_size(5_000), 4_000);
        assert_eq!(max_txs_for_cometbft_size(20_000), 18_000);
        assert_eq!(max_txs_for_cometbft_size(1_000), 500);
        assert_eq!(max_txs_for_cometbft_size(1), 1);
    }
}
