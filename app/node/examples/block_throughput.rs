//! A first in-process measurement: blocks of signed bank sends through
//! FinalizeBlock + Commit on the real RocksDB store, no consensus.
//!
//!     cargo run --release -p paychaind --example block_throughput -- [accounts] [txs_per_block] [blocks]
//!
//! Reports tx/s for FinalizeBlock + Commit and each phase's time, then checks
//! the supply invariant. (The full benchmark suite is issue 7's.)

use std::time::Instant;

use cosmos_sdk_proto::cosmos::tx::v1beta1::TxBody;
use paychain_framework::{Address, BlockTime};
use paychaind::app::App;
use paychaind::client::tx::{build_signed_tx, fee, msg_send, SignerData};
use paychaind::config::AppConfig;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde_json::json;

const CHAIN_ID: &str = "paychain-bench-1";

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("numeric arguments")).collect();
    let accounts = *args.first().unwrap_or(&10_000) as usize;
    let per_block = *args.get(1).unwrap_or(&2_000) as usize;
    let blocks = *args.get(2).unwrap_or(&5) as usize;
    assert!(accounts >= 2 && per_block <= accounts, "need 2 <= txs_per_block <= accounts");

    let keys: Vec<(SecretKey, Address)> = (0..accounts)
        .map(|i| {
            let mut b = [0u8; 32];
            b[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let sk = SecretKey::from_slice(&b).unwrap();
            (sk, Address::from_secp256k1_pubkey(&PublicKey::from_secret_key(SECP256K1, &sk).serialize()))
        })
        .collect();
    let mut state = paychaind::genesis::default_app_state("upay");
    state["auth"]["accounts"] = json!(keys
        .iter()
        .enumerate()
        .map(|(i, (_, a))| json!({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": a.to_string(),
            "pub_key": null, "account_number": i.to_string(), "sequence": "0"}))
        .collect::<Vec<_>>());
    state["bank"]["balances"] = json!(keys
        .iter()
        .map(|(_, a)| json!({"address": a.to_string(), "coins": [{"denom": "upay", "amount": "1000000000000"}]}))
        .collect::<Vec<_>>());

    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    let t = Instant::now();
    app.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
    app.finalize_block(1, BlockTime { seconds: 1, nanos: 0 }, &[]).unwrap();
    app.commit().unwrap();
    println!("genesis with {accounts} accounts: {:.2?}", t.elapsed());

    let amount = "1upay".parse().unwrap();
    let mut total_txs = 0usize;
    let mut total_secs = 0f64;
    for b in 0..blocks {
        let height = 2 + b as u64;
        let t = Instant::now();
        let txs: Vec<Vec<u8>> = (0..per_block)
            .map(|i| {
                let from = (b * per_block + i) % accounts;
                let (sk, addr) = &keys[from];
                let to = &keys[(from + 1) % accounts].1;
                let body = TxBody { messages: vec![msg_send(addr, to, &amount)], ..Default::default() };
                let seq = ((b * per_block + i) / accounts) as u64;
                let signer = SignerData { key: sk, chain_id: CHAIN_ID, account_number: from as u64, sequence: seq };
                build_signed_tx(&body, fee(&"5000upay".parse().unwrap(), 200_000), &signer)
            })
            .collect();
        let sign_time = t.elapsed();
        let t = Instant::now();
        let out = app.finalize_block(height, BlockTime { seconds: height as i64, nanos: 0 }, &txs).unwrap();
        let finalize = t.elapsed();
        let t = Instant::now();
        app.commit().unwrap();
        let commit = t.elapsed();
        let failed = out.tx_results.iter().filter(|r| r.result.is_err()).count();
        assert_eq!(failed, 0, "{:?}", out.tx_results.iter().find(|r| r.result.is_err()).map(|r| &r.result));
        let secs = (finalize + commit).as_secs_f64();
        total_txs += per_block;
        total_secs += secs;
        println!(
            "block {height}: {per_block} sends, sign (client side) {sign_time:.2?}, FinalizeBlock {finalize:.2?}, Commit {commit:.2?} -> {:.0} tx/s",
            per_block as f64 / secs
        );
    }
    println!(
        "overall: {total_txs} sends in {total_secs:.2}s -> {:.0} tx/s (FinalizeBlock + Commit)",
        total_txs as f64 / total_secs
    );
    app.check_invariants().expect("supply invariant");
    println!("supply invariant holds");
}
