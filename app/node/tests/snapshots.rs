//! State-sync snapshots in-process: a node's snapshot restored into a fresh
//! node through the ABCI methods CometBFT calls (ListSnapshots,
//! LoadSnapshotChunk, OfferSnapshot, ApplySnapshotChunk), real RocksDB stores
//! and signed bank sends.

mod common;

use std::path::{Path, PathBuf};

use common::accounts::{funded_app_state, numbered_key as key, signed_send, FUND};

use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use paychain_app::snapshot::{Metadata, FORMAT};
use paychain_framework::BlockTime;
use paychain_node::abci::AbciApp;
use paychain_node::config::AppConfig;
use paychain_node::query::query_grpc;
use paychain_node::served::ServedApp;
use prost::Message;
use sha2::{Digest, Sha256};
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    self as pb, response_apply_snapshot_chunk::Result as ApplyResult, response_offer_snapshot::Result as OfferResult,
};

const CHAIN_ID: &str = "paychain-test-1";
const ACCOUNTS: usize = 8;

fn config(snapshot_interval: u64, snapshot_chunk_bytes: usize) -> AppConfig {
    AppConfig {
        minimum_gas_prices: "0.025upay".into(),
        snapshot_interval,
        snapshot_chunk_bytes,
        snapshot_keep_recent: 2,
        ..AppConfig::default()
    }
}

/// A node home in a temp dir with the node layout (`<home>/data/application.db`).
struct Node {
    abci: AbciApp,
    height: u64,
    /// Next sequence of each account.
    seqs: Vec<u64>,
    home: tempfile::TempDir,
}

impl Node {
    fn new(cfg: AppConfig) -> Self {
        let home = tempfile::tempdir().unwrap();
        let db = AppConfig::db_path(home.path());
        std::fs::create_dir_all(&db).unwrap();
        let app = ServedApp::open(&db, cfg).unwrap();
        Self { abci: AbciApp::new(app), height: 0, seqs: vec![0; ACCOUNTS], home }
    }

    fn with_genesis(cfg: AppConfig) -> Self {
        let node = Self::new(cfg);
        node.app().init_chain(CHAIN_ID, 1, &funded_app_state(ACCOUNTS)).unwrap();
        node
    }

    fn app(&self) -> &ServedApp {
        &self.abci.app
    }

    fn snapshot_dir(&self) -> PathBuf {
        AppConfig::snapshot_dir(self.home.path())
    }

    fn time(height: u64) -> BlockTime {
        BlockTime { seconds: 1_700_000_000 + height as i64 * 5, nanos: height as i32 }
    }

    /// Finalizes and commits a block; every tx must succeed.
    fn block(&mut self, txs: &[Vec<u8>]) -> [u8; 32] {
        self.height += 1;
        let out = self.app().finalize_block(self.height, Self::time(self.height), txs).unwrap();
        for r in &out.tx_results {
            assert!(r.result.is_ok(), "{:?}", r.result);
        }
        self.app().commit().unwrap();
        out.app_hash
    }

    /// Sends between accounts for the next block, chosen by the height so that every run agrees.
    fn busy_txs(&mut self) -> Vec<Vec<u8>> {
        (0..3)
            .map(|i| {
                let from = (self.height as usize * 3 + i) % ACCOUNTS;
                let to = (from + 1 + i) % ACCOUNTS;
                let tx = signed_send(
                    CHAIN_ID,
                    from,
                    &key(to).1,
                    u128::from(1000 + self.height * 10 + i as u64),
                    self.seqs[from],
                );
                self.seqs[from] += 1;
                tx
            })
            .collect()
    }

    fn busy_block(&mut self) -> [u8; 32] {
        let txs = self.busy_txs();
        self.block(&txs)
    }

    fn balance(&self, i: usize) -> u128 {
        let req = QueryBalanceRequest { address: key(i).1.to_string(), denom: "upay".into() };
        let resp = query_grpc(self.app(), "/cosmos.bank.v1beta1.Query/Balance", &req.encode_to_vec(), 0).unwrap();
        QueryBalanceResponse::decode(resp.as_slice()).unwrap().balance.unwrap().amount.parse().unwrap()
    }

    fn info(&self) -> (i64, Vec<u8>) {
        let r = self.abci.info(pb::RequestInfo::default());
        (r.last_block_height, r.last_block_app_hash.to_vec())
    }

    fn snapshot(&self, height: u64) -> pb::Snapshot {
        let list = self.abci.list_snapshots().snapshots;
        list.into_iter().find(|s| s.height == height).expect("snapshot listed")
    }

    fn chunk(&self, s: &pb::Snapshot, index: u32) -> Vec<u8> {
        let req = pb::RequestLoadSnapshotChunk { height: s.height, format: s.format, chunk: index };
        self.abci.load_snapshot_chunk(req).chunk.to_vec()
    }

    fn offer(&self, s: &pb::Snapshot, trusted_app_hash: &[u8]) -> OfferResult {
        let req = pb::RequestOfferSnapshot { snapshot: Some(s.clone()), app_hash: trusted_app_hash.to_vec().into() };
        OfferResult::try_from(self.abci.offer_snapshot(req).result).unwrap()
    }

    fn apply(&self, index: u32, chunk: &[u8], sender: &str) -> pb::ResponseApplySnapshotChunk {
        let req = pb::RequestApplySnapshotChunk { index, chunk: chunk.to_vec().into(), sender: sender.into() };
        self.abci.apply_snapshot_chunk(req)
    }

    /// Offers `s` of `from` and applies all its chunks as CometBFT would, in order.
    fn restore_from(&mut self, from: &Node, s: &pb::Snapshot, trusted_app_hash: &[u8]) -> Vec<ApplyResult> {
        assert_eq!(self.offer(s, trusted_app_hash), OfferResult::Accept);
        let results: Vec<ApplyResult> = (0..s.chunks)
            .map(|i| ApplyResult::try_from(self.apply(i, &from.chunk(s, i), "peer-a").result).unwrap())
            .collect();
        self.height = s.height;
        self.seqs = from.seqs.clone();
        results
    }
}

fn accepted(n: u32) -> Vec<ApplyResult> {
    vec![ApplyResult::Accept; n as usize]
}

/// A chain of 5 busy blocks with a manual snapshot at 5 in chunks of 256 bytes.
fn source() -> (Node, pb::Snapshot) {
    let mut a = Node::with_genesis(config(0, 256));
    for _ in 0..5 {
        a.busy_block();
    }
    let taken = a.app().snapshots().create(a.app().store(), 5).unwrap();
    let s = a.snapshot(5);
    assert_eq!(s, taken);
    assert_eq!(s.format, FORMAT);
    assert!(s.chunks > 10, "small chunks: {}", s.chunks);
    (a, s)
}

#[test]
fn a_restored_node_answers_and_executes_like_its_source() {
    let (mut a, s) = source();
    let mut b = Node::new(config(0, 256));
    assert_eq!(b.info(), (0, vec![]));
    let trusted = a.app().store().app_hash(5).unwrap();
    assert_eq!(b.restore_from(&a, &s, &trusted), accepted(s.chunks));

    assert_eq!(b.info(), a.info());
    assert_eq!(b.info().0, 5);
    assert_eq!(b.app().chain_id(), CHAIN_ID);
    assert_eq!(b.app().last_block_time(), Node::time(5), "CheckTx runs at the restored block time");
    for i in 0..ACCOUNTS {
        assert_eq!(b.balance(i), a.balance(i), "account {i}");
    }
    assert_ne!(a.balance(0), FUND, "the blocks moved funds");
    assert_eq!(b.app().snapshot_chunks_rejected(), 0);
    b.app().check_invariants().unwrap();

    // The mempool state follows the restored height: sequences are the source's.
    let next = signed_send(CHAIN_ID, 2, &key(3).1, 77, b.seqs[2]);
    let checked = b.app().check_tx(&next, false);
    assert!(checked.result.is_ok(), "{:?}", checked.result);
    assert!(b.app().check_tx(&signed_send(CHAIN_ID, 2, &key(3).1, 77, b.seqs[2] + 5), false).result.is_err());

    // Both execute the next block to the same state.
    assert_eq!(b.busy_block(), a.busy_block());
    assert_eq!(b.info(), a.info());
    for i in 0..ACCOUNTS {
        assert_eq!(b.balance(i), a.balance(i), "account {i} after the next block");
    }
}

#[test]
fn a_corrupted_chunk_is_refetched_from_another_peer() {
    let (a, s) = source();
    let b = Node::new(config(0, 256));
    let trusted = a.app().store().app_hash(5).unwrap();
    assert_eq!(b.offer(&s, &trusted), OfferResult::Accept);
    for i in 0..s.chunks {
        let good = a.chunk(&s, i);
        if i == 3 {
            let mut bad = good.clone();
            bad[10] ^= 1;
            let r = b.apply(i, &bad, "bad-peer");
            assert_eq!(r.result, ApplyResult::Retry as i32);
            assert_eq!(r.refetch_chunks, vec![3]);
            assert_eq!(r.reject_senders, vec!["bad-peer".to_string()]);
            assert_eq!(b.app().snapshot_chunks_rejected(), 1);
            assert_eq!(b.info(), (0, vec![]), "nothing restored yet");
        }
        let r = b.apply(i, &good, "good-peer");
        assert_eq!((r.result, r.refetch_chunks.len(), r.reject_senders.len()), (ApplyResult::Accept as i32, 0, 0));
    }
    assert_eq!(b.info(), a.info());
    assert_eq!(b.app().snapshot_chunks_rejected(), 1);
}

#[test]
fn a_state_without_the_trusted_app_hash_is_rejected_and_nothing_written() {
    let (a, s) = source();
    let mut b = Node::new(config(0, 256));
    let wrong = [0xAB; 32];
    // The metadata already names another app hash: refused before fetching anything.
    assert_eq!(b.offer(&s, &wrong), OfferResult::Reject);

    // A lying producer: metadata claims the trusted hash, the chunks hold another state.
    let mut meta = Metadata::decode(&s.metadata).unwrap();
    meta.app_hash = wrong;
    let forged = pb::Snapshot {
        metadata: meta.encode().into(),
        hash: Sha256::digest(meta.encode()).to_vec().into(),
        ..s.clone()
    };
    assert_eq!(b.offer(&forged, &wrong), OfferResult::Accept);
    let results: Vec<i32> = (0..s.chunks).map(|i| b.apply(i, &a.chunk(&s, i), "liar").result).collect();
    let mut expected = vec![ApplyResult::Accept as i32; s.chunks as usize - 1];
    expected.push(ApplyResult::RejectSnapshot as i32);
    assert_eq!(results, expected);
    assert_eq!(b.info(), (0, vec![]));
    assert_eq!(b.app().store().latest_version(), None);
    assert!(b.app().store().debug_entry_counts().unwrap().iter().all(|(cf, n)| *cf == "meta" || *n == 0));
    // Chunks after a rejection belong to no restore.
    assert_eq!(b.apply(0, &a.chunk(&s, 0), "liar").result, ApplyResult::Abort as i32);

    // CometBFT then tries another snapshot: the genuine one restores.
    let trusted = a.app().store().app_hash(5).unwrap();
    assert_eq!(b.restore_from(&a, &s, &trusted), accepted(s.chunks));
    assert_eq!(b.info(), a.info());
}

#[test]
fn offers_that_cannot_be_restored_are_refused() {
    let (a, s) = source();
    let b = Node::new(config(0, 256));
    let trusted = a.app().store().app_hash(5).unwrap();
    let offer = |f: &dyn Fn(&mut pb::Snapshot)| {
        let mut x = s.clone();
        f(&mut x);
        b.offer(&x, &trusted)
    };
    assert_eq!(offer(&|x| x.format = 2), OfferResult::RejectFormat);
    assert_eq!(offer(&|x| x.height = 0), OfferResult::Reject);
    assert_eq!(offer(&|x| x.height = 6), OfferResult::Reject, "metadata is of height 5");
    assert_eq!(offer(&|x| x.chunks += 1), OfferResult::Reject);
    assert_eq!(offer(&|x| x.hash = vec![1; 32].into()), OfferResult::Reject);
    assert_eq!(
        offer(&|x| {
            x.metadata = b"not metadata".to_vec().into();
            x.hash = Sha256::digest(b"not metadata").to_vec().into();
        }),
        OfferResult::Reject
    );
    let none = b.abci.offer_snapshot(pb::RequestOfferSnapshot { snapshot: None, app_hash: trusted.to_vec().into() });
    assert_eq!(none.result, OfferResult::Reject as i32);
    assert_eq!(b.apply(0, &a.chunk(&s, 0), "p").result, ApplyResult::Abort as i32, "no accepted offer");
    // A node that already has state cannot take any snapshot: state sync must stop.
    assert_eq!(a.offer(&s, &trusted), OfferResult::Abort);
    // Chunks are served as stored, and only for what exists.
    assert!(a.chunk(&s, s.chunks).is_empty());
    assert!(a.chunk(&pb::Snapshot { format: 2, ..s.clone() }, 0).is_empty());
    assert!(a.chunk(&pb::Snapshot { height: 4, ..s.clone() }, 0).is_empty());
    assert_eq!(Sha256::digest(a.chunk(&s, 0)).as_slice(), &Metadata::decode(&s.metadata).unwrap().chunk_hashes[0]);
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.extend(files_under(&path).into_iter().map(|(n, b)| (format!("{name}/{n}"), b)));
        } else {
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn snapshots_are_taken_in_the_background_at_the_interval_and_old_ones_deleted() {
    let mut a = Node::with_genesis(config(2, 128));
    for _ in 0..7 {
        a.busy_block();
        a.app().snapshots().wait();
    }
    let dir = a.snapshot_dir();
    assert_eq!(a.app().snapshots().dir(), Some(dir.as_path()));
    let heights: Vec<u64> = a.abci.list_snapshots().snapshots.iter().map(|s| s.height).collect();
    assert_eq!(heights, vec![6, 4], "newest first, 2 kept");
    let mut entries: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    entries.sort();
    assert_eq!(entries, ["4", "6"]);
    let s6 = a.snapshot(6);
    assert_eq!(std::fs::read_dir(dir.join("6")).unwrap().count(), s6.chunks as usize + 1, "chunks + metadata");

    // A half-written snapshot (crash) is never listed and is cleaned up at the next start.
    std::fs::create_dir_all(dir.join(".tmp-8")).unwrap();
    std::fs::write(dir.join(".tmp-8").join("0"), b"partial").unwrap();
    assert_eq!(a.abci.list_snapshots().snapshots.len(), 2);
    let db = AppConfig::db_path(a.home.path());
    let home = a.home;
    drop(a.abci);
    let reopened = ServedApp::open(&db, config(2, 128)).unwrap();
    assert!(!dir.join(".tmp-8").exists());
    assert_eq!(reopened.snapshots().list().len(), 2);
    drop(home);
}

/// Snapshots are taken while later blocks commit and prune (state_retention 1): each one
/// that was taken restores to the app hash of its height.
#[test]
fn background_snapshots_survive_pruning_of_their_height() {
    let mut cfg = config(2, 512);
    cfg.state_retention = 1;
    let mut a = Node::with_genesis(cfg);
    let mut hashes = vec![[0u8; 32]];
    for _ in 0..12 {
        hashes.push(a.busy_block());
    }
    a.app().snapshots().wait();
    hashes.push(a.busy_block());
    assert_eq!(a.app().store().earliest_version(), Some(13), "pins gone, older heights pruned");
    let list = a.abci.list_snapshots().snapshots;
    assert!(!list.is_empty());
    for s in &list {
        let mut b = Node::new(config(0, 512));
        assert_eq!(b.restore_from(&a, s, &hashes[s.height as usize]), accepted(s.chunks), "height {}", s.height);
        assert_eq!(b.info(), (s.height as i64, hashes[s.height as usize].to_vec()));
    }
}

#[test]
fn two_nodes_with_the_same_blocks_write_byte_identical_snapshots() {
    let mut a = Node::with_genesis(config(3, 200));
    let mut b = Node::with_genesis(config(3, 200));
    for _ in 0..6 {
        assert_eq!(a.busy_block(), b.busy_block());
        a.app().snapshots().wait();
        b.app().snapshots().wait();
    }
    let (fa, fb) = (files_under(&a.snapshot_dir()), files_under(&b.snapshot_dir()));
    assert!(fa.iter().any(|(n, _)| n == "6/metadata") && fa.iter().any(|(n, _)| n == "3/0"), "{:?}", fa.len());
    assert_eq!(fa, fb);
    assert_eq!(a.abci.list_snapshots(), b.abci.list_snapshots());
}

#[test]
fn the_last_block_time_is_state_and_survives_a_restart() {
    let mut a = Node::with_genesis(config(0, 256));
    let h1 = a.busy_block();
    a.busy_block();
    assert_eq!(a.app().last_block_time(), Node::time(2));
    let db = AppConfig::db_path(a.home.path());
    let home = a.home;
    drop(a.abci);
    let reopened = ServedApp::open(&db, config(0, 256)).unwrap();
    assert_eq!(reopened.last_block_time(), Node::time(2));
    drop(home);

    // The time is part of the app hash: the same txs at another time give another hash.
    let mut c = Node::with_genesis(config(0, 256));
    let txs = c.busy_txs();
    let same_time = c.app().finalize_block(1, Node::time(1), &txs).unwrap();
    assert_eq!(same_time.app_hash, h1);
    let other_time = c.app().finalize_block(1, BlockTime { seconds: 1, nanos: 0 }, &txs).unwrap();
    assert_ne!(other_time.app_hash, h1);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A snapshot directory left over from another chain (its store wiped, the snapshots kept)
/// is replaced, not served, when this chain reaches the same height.
#[test]
fn a_leftover_snapshot_of_another_state_is_replaced() {
    let (a, s) = source();
    let mut c = Node::with_genesis(config(0, 256));
    for _ in 0..4 {
        c.busy_block();
    }
    c.block(&[]);
    assert_ne!(c.info(), a.info());
    copy_dir(&a.snapshot_dir().join("5"), &c.snapshot_dir().join("5"));
    assert_eq!(c.snapshot(5), s, "listed as found");
    let fresh = c.app().snapshots().create(c.app().store(), 5).unwrap();
    assert_ne!(fresh.hash, s.hash);
    assert_eq!(c.snapshot(5), fresh);
    assert_eq!(Metadata::decode(&fresh.metadata).unwrap().app_hash.to_vec(), c.info().1);
}
