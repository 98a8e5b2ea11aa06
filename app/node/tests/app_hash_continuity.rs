//! A chain made by an earlier build continues unchanged under this one.
//!
//! `RECORDED` holds the app hash of each of the 6 blocks that the code of
//! commit 5f8e496 (before the node crate was split) produced for the fixed
//! workload below (sends, an escrow created with a hash lock and released in
//! part with its secret, a tx failing its sequence check). Replaying the 6
//! blocks from genesis on a fresh store must give them again: a refactoring
//! that changes a key, an encoding, an event, a gas cost or the Merkle hashing
//! breaks it. Signatures are RFC 6979 (deterministic), block times are fixed.
//!
//! `fixtures/chain-v2/` holds, as a tarball, the RocksDB state after block 3
//! in the current store format (2, trees in memory; recorded at issue 16): the
//! test opens it, checks height and hash, and continues it with blocks 4..=6.
//! `fixtures/chain-v1/` is the same state in store format 1 (jmt nodes on
//! disk), written by commit 5f8e496: it must be refused with a clear message,
//! never misread. `fixtures/chain-v2-before-assets/` is format 2 from before the
//! assets module (issue 17) added its substore: refused too, with a clear message.
//!
//! The recorded hashes changed on purpose when a module's substore joined the
//! main tree: `assets` at issue 17 (and its genesis its params and module
//! account), then `authority` and `fees`, then `compliance` at issue 18 (the test
//! genesis sets none of these three, so they are empty), then the
//! `compliance_holds` module account (holds for review, issue 18), which genesis
//! creates as it creates every module account. The workload, its results and
//! every other key are as before.
//!
//! To re-record after a deliberate state-machine or store-format change:
//! `RECORD_CONTINUITY_FIXTURE=1 cargo test -p paychain-node --test
//! app_hash_continuity` writes the current-format fixture and prints the
//! hashes to paste.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::accounts::{funded_app_state, numbered_key, signed_send};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::Any;
use paychain_app::app::App;
use paychain_app::AppOptions;
use paychain_client::tx::{build_signed_tx, fee, tx_body, SignerData};
use paychain_framework::BlockTime;
use prost::Message;
use sha2::{Digest, Sha256};

const CHAIN_ID: &str = "paychain-continuity-1";
const ACCOUNTS: usize = 4;
const FIXTURE_HEIGHT: u64 = 3;
const SECRET: &[u8; 32] = b"continuity-secret-0123456789abcd";

/// App hashes of blocks 1..=6 (recorded at issue 18, with the assets, authority, fees and compliance modules).
const RECORDED: [&str; 6] = [
    "1b107cbaec05ff1b86f434d6719df1b73f53f6009f8d4b6bde4f078d59a5e95f",
    "24b08c9b707b6e19cd801c63d75dcda4567a1e0b10eb8f21d1f4a49b0dea6710",
    "55a3cacd2b864c5f7abeca3c5aab6e116ab5d420a16dff97afd7c8c079becd3f",
    "14780c7478f211a99db3ee6b3a426b1f89451fa9db1c11af2c95d2b8bbcc18a9",
    "a40c739de14341efa760d16f71ffbf5d94c52e74ac75a888bf019832dc7858ac",
    "6fc018fc4edf0b94b1f00cf6738fcff1451b480ca109c78c00f4b84071139385",
];

/// The fixture in the current store format.
fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain-v2")
}

fn fixture_tarball() -> PathBuf {
    fixture_dir().join("application.db.tar.gz")
}

/// The same state in store format 1.
fn format_one_tarball() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain-v1/application.db.tar.gz")
}

fn signed(from: usize, msgs: Vec<Any>, sequence: u64) -> Vec<u8> {
    let (secret, _) = numbered_key(from);
    let body = tx_body(msgs, "continuity", 0);
    let fee = fee(&"5000upay".parse().unwrap(), 300_000);
    build_signed_tx(&body, fee, &SignerData { key: &secret, chain_id: CHAIN_ID, account_number: from as u64, sequence })
}

fn upay(amount: u128) -> Vec<ProtoCoin> {
    vec![ProtoCoin { denom: "upay".into(), amount: amount.to_string() }]
}

/// The txs of block `height` (1-based).
fn block_txs(height: u64) -> Vec<Vec<u8>> {
    let addr = |i: usize| numbered_key(i).1;
    match height {
        1 => vec![signed_send(CHAIN_ID, 0, &addr(1), 1_000, 0), signed_send(CHAIN_ID, 1, &addr(2), 2_000, 0)],
        2 => {
            let create = paychain_escrow::pb::MsgCreateEscrow {
                sender: addr(0).to_string(),
                recipient: addr(3).to_string(),
                amount: upay(50_000),
                hash_lock: Sha256::digest(SECRET).to_vec(),
                reference: "invoice-7".into(),
                ..Default::default()
            };
            let any = Any { type_url: "/paychain.escrow.v1.MsgCreateEscrow".into(), value: create.encode_to_vec() };
            vec![signed(0, vec![any], 1)]
        }
        3 => vec![signed_send(CHAIN_ID, 2, &addr(0), 7, 0), signed_send(CHAIN_ID, 2, &addr(0), 7, 5)],
        4 => {
            let release = paychain_escrow::pb::MsgReleaseEscrow {
                signer: addr(2).to_string(),
                id: 1,
                amount: upay(20_000),
                secret: SECRET.to_vec(),
            };
            let any = Any { type_url: "/paychain.escrow.v1.MsgReleaseEscrow".into(), value: release.encode_to_vec() };
            vec![signed(2, vec![any], 1)]
        }
        5 => vec![],
        6 => vec![signed_send(CHAIN_ID, 3, &addr(1), 20_000, 0)],
        _ => unreachable!("the workload has 6 blocks"),
    }
}

fn open(path: &Path) -> App {
    App::open(path, AppOptions::default()).unwrap()
}

/// Result codes of each block's txs: the workload does what it says (the escrow is created
/// and released, the stale sequence is refused with `sdk`/32).
const EXPECTED_CODES: [&[u32]; 6] = [&[0, 0], &[0], &[0, 32], &[0], &[], &[0]];

/// Runs block `height`, checks its txs' result codes, commits it and returns its app hash (hex).
fn run_block(app: &App, height: u64) -> String {
    let time = BlockTime { seconds: 1_750_000_000 + 6 * height as i64, nanos: 0 };
    let out = app.finalize_block(height, time, &block_txs(height)).unwrap();
    let codes: Vec<u32> = out.tx_results.iter().map(|r| r.result.as_ref().map_or_else(|e| e.code, |_| 0)).collect();
    assert_eq!(codes, EXPECTED_CODES[height as usize - 1], "result codes of block {height}: {:?}", out.tx_results);
    app.commit().unwrap();
    hex::encode(out.app_hash)
}

fn new_chain(path: &Path) -> App {
    let app = open(path);
    app.init_chain(CHAIN_ID, 1, &funded_app_state(ACCOUNTS)).unwrap();
    app
}

fn tar(args: &[&str]) {
    let status = Command::new("tar").args(args).status().expect("running tar");
    assert!(status.success(), "tar {args:?} failed");
}

#[test]
fn a_chain_from_an_earlier_build_continues_with_the_same_app_hashes() {
    if std::env::var_os("RECORD_CONTINUITY_FIXTURE").is_some() {
        record();
        return;
    }
    // Continue the recorded chain.
    let dir = tempfile::tempdir().unwrap();
    let tarball = fixture_tarball();
    tar(&["-xzf", tarball.to_str().unwrap(), "-C", dir.path().to_str().unwrap()]);
    let app = open(&dir.path().join("application.db"));
    let (height, hash) = app.info();
    assert_eq!(height, FIXTURE_HEIGHT, "the fixture's committed height");
    assert_eq!(hex::encode(hash), RECORDED[FIXTURE_HEIGHT as usize - 1], "the fixture's app hash as reported by Info");
    for h in FIXTURE_HEIGHT + 1..=RECORDED.len() as u64 {
        assert_eq!(run_block(&app, h), RECORDED[h as usize - 1], "block {h} continued from the fixture");
    }
    drop(app);

    // A store of format 1 is refused, and says what to do.
    let old = tempfile::tempdir().unwrap();
    tar(&["-xzf", format_one_tarball().to_str().unwrap(), "-C", old.path().to_str().unwrap()]);
    match App::open(&old.path().join("application.db"), AppOptions::default()) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("format 1") && msg.contains("state-sync"), "{msg}");
        }
        Ok(_) => panic!("a format-1 store was opened"),
    }

    // A format-2 store from before the assets module is refused, and says why.
    let before = tempfile::tempdir().unwrap();
    let tarball =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain-v2-before-assets/application.db.tar.gz");
    tar(&["-xzf", tarball.to_str().unwrap(), "-C", before.path().to_str().unwrap()]);
    match App::open(&before.path().join("application.db"), AppOptions::default()) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("\"assets\"") && msg.contains("new chain"), "{msg}");
        }
        Ok(_) => panic!("a store without the assets substore was opened"),
    }

    // The same blocks from genesis on a fresh store.
    let fresh = tempfile::tempdir().unwrap();
    let app = new_chain(fresh.path());
    for h in 1..=RECORDED.len() as u64 {
        assert_eq!(run_block(&app, h), RECORDED[h as usize - 1], "block {h} replayed from genesis");
    }
}

/// Writes the fixture (state after block 3) and prints all 6 hashes.
fn record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("application.db");
    let app = new_chain(&db);
    let mut hashes = Vec::new();
    for h in 1..=FIXTURE_HEIGHT {
        hashes.push(run_block(&app, h));
    }
    drop(app);
    std::fs::create_dir_all(fixture_dir()).unwrap();
    let tarball = fixture_tarball();
    tar(&["-czf", tarball.to_str().unwrap(), "-C", dir.path().to_str().unwrap(), "application.db"]);
    let app = open(&db);
    for h in FIXTURE_HEIGHT + 1..=RECORDED.len() as u64 {
        hashes.push(run_block(&app, h));
    }
    println!("recorded {}: {hashes:#?}", tarball.display());
}
