//! The app driven in-process block by block, as CometBFT would: real RocksDB
//! store, real signatures. Covers the tx pipeline's error codes, state
//! invariants under randomized load, determinism across instances and
//! recovery from a crash between FinalizeBlock and Commit.

mod common;

use common::accounts::{funded_app_state, numbered_key, FUND};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{MsgSend, QueryBalanceRequest, QueryBalanceResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use cosmos_sdk_proto::Any;
use paychain_app::app::TxOutcome;
use paychain_client::tx::{build_signed_tx, tx_body, SignerData};
use paychain_framework::Address;
use paychain_framework::BlockTime;
use paychain_node::config::AppConfig;
use paychain_node::query::query_grpc;
use paychain_node::served::ServedApp;
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secp256k1::SecretKey;

const CHAIN_ID: &str = "paychain-test-1";

struct TestKey {
    secret: SecretKey,
    address: Address,
}

fn key(i: usize) -> TestKey {
    let (secret, address) = numbered_key(i);
    TestKey { secret, address }
}

/// What a wallet fills in besides the message (kept as raw protobuf so tests can send invalid amounts).
#[derive(Clone)]
struct SignerParams {
    chain_id: String,
    account_number: u64,
    sequence: u64,
    fee: Vec<ProtoCoin>,
    gas_limit: u64,
    memo: String,
    timeout_height: u64,
}

struct Chain {
    app: ServedApp,
    height: u64,
    _dir: Option<tempfile::TempDir>,
}

fn config() -> AppConfig {
    AppConfig { minimum_gas_prices: "0.025upay".into(), ..AppConfig::default() }
}

impl Chain {
    fn new(n: usize) -> Self {
        Self::with_config(n, config())
    }

    fn with_config(n: usize, config: AppConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = Self::open_with(dir.path(), config);
        chain._dir = Some(dir);
        chain.app.init_chain(CHAIN_ID, 1, &funded_app_state(n)).unwrap();
        chain
    }

    fn open(path: &std::path::Path) -> Self {
        Self::open_with(path, config())
    }

    fn open_with(path: &std::path::Path, config: AppConfig) -> Self {
        let app = ServedApp::open(path, config).unwrap();
        let height = app.info().0;
        Self { app, height, _dir: None }
    }

    fn block(&mut self, txs: &[Vec<u8>]) -> (Vec<TxOutcome>, [u8; 32]) {
        self.height += 1;
        let time = BlockTime { seconds: 1_700_000_000 + self.height as i64, nanos: 0 };
        let out = self.app.finalize_block(self.height, time, txs).unwrap();
        self.app.commit().unwrap();
        (out.tx_results, out.app_hash)
    }

    /// Roots of every module substore at the latest height, but those written by every block
    /// by design: the app's own (block time) and IBC's (our consensus state at each height).
    fn module_roots(&self) -> Vec<[u8; 32]> {
        let store = self.app.store();
        let per_block = [paychain_app::APP_STORE, paychain_ibc::IBC_STORE];
        let names = store.substores().iter().filter(|n| !per_block.contains(&n.as_str()));
        names.map(|n| store.substore_root(n, self.height).unwrap()).collect()
    }

    fn balance(&self, addr: &paychain_framework::Address) -> u128 {
        let req = QueryBalanceRequest { address: addr.to_string(), denom: "upay".into() };
        let resp = query_grpc(&self.app, "/cosmos.bank.v1beta1.Query/Balance", &req.encode_to_vec(), 0).unwrap();
        let coin = QueryBalanceResponse::decode(resp.as_slice()).unwrap().balance.unwrap();
        coin.amount.parse().unwrap()
    }
}

fn send(from: usize, to: &paychain_framework::Address, amount: &str, seq: u64) -> Vec<u8> {
    send_with(from, to, amount, params(from, seq))
}

fn params(from: usize, seq: u64) -> SignerParams {
    SignerParams {
        chain_id: CHAIN_ID.into(),
        account_number: from as u64,
        sequence: seq,
        fee: vec![ProtoCoin { denom: "upay".into(), amount: "5000".into() }],
        gas_limit: 200_000,
        memo: String::new(),
        timeout_height: 0,
    }
}

fn send_with(from: usize, to: &paychain_framework::Address, amount: &str, p: SignerParams) -> Vec<u8> {
    let msg = MsgSend {
        from_address: key(from).address.to_string(),
        to_address: to.to_string(),
        amount: vec![ProtoCoin { denom: "upay".into(), amount: amount.into() }],
    };
    let any = Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() };
    let body = tx_body(vec![any], &p.memo, p.timeout_height);
    let fee = Fee { amount: p.fee.clone(), gas_limit: p.gas_limit, ..Default::default() };
    let k = key(from);
    let signer =
        SignerData { key: &k.secret, chain_id: &p.chain_id, account_number: p.account_number, sequence: p.sequence };
    build_signed_tx(&body, fee, &signer)
}

fn code(o: &TxOutcome) -> (String, u32) {
    match &o.result {
        Ok(_) => (String::new(), 0),
        Err(e) => (e.codespace.to_string(), e.code),
    }
}

#[test]
fn a_send_moves_funds_pays_the_fee_and_emits_sdk_events() {
    let mut chain = Chain::new(2);
    let (_, genesis_hash) = chain.block(&[]);
    let to = key(1).address;
    let (results, hash) = chain.block(&[send(0, &to, "12345", 0)]);
    assert_eq!(code(&results[0]), (String::new(), 0), "{:?}", results[0].result);
    assert_ne!(hash, genesis_hash);
    assert_eq!(chain.balance(&key(0).address), FUND - 12345 - 5000);
    assert_eq!(chain.balance(&to), FUND + 12345);
    let kinds: Vec<&str> = results[0].events.iter().map(|e| e.kind.as_str()).collect();
    // SDK v0.50's order: fee transfer (SendCoins: coin_spent, coin_received,
    // transfer, message{sender}), tx{fee, fee_payer}, tx{acc_seq},
    // tx{signature}, then the message's own events.
    assert_eq!(
        kinds,
        [
            "coin_spent",
            "coin_received",
            "transfer",
            "message",
            "tx",
            "tx",
            "tx",
            "message",
            "coin_spent",
            "coin_received",
            "transfer",
            "message"
        ],
    );
    let tx_keys: Vec<Vec<&str>> =
        results[0].events[4..7].iter().map(|e| e.attributes.iter().map(|a| a.key.as_str()).collect()).collect();
    assert_eq!(tx_keys, [vec!["fee", "fee_payer"], vec!["acc_seq"], vec!["signature"]]);
    assert!(results[0].events[..7].iter().all(|e| e.get("msg_index").is_none()), "ante events have no msg_index");
    assert!(results[0].events[7..].iter().all(|e| e.get("msg_index") == Some("0")));
    let message = results[0].events.iter().find(|e| e.kind == "message" && e.get("action").is_some()).unwrap();
    assert_eq!(message.get("action"), Some("/cosmos.bank.v1beta1.MsgSend"));
    assert_eq!(message.get("module"), Some("bank"));
    assert_eq!(message.get("msg_index"), Some("0"));
    assert!(results[0].events.iter().all(|e| e.attributes.iter().all(|a| a.index)));
    assert!(results[0].gas_used > 0 && results[0].gas_used <= 200_000);
    chain.app.check_invariants().unwrap();
}

#[test]
fn bad_input_gets_the_sdk_code_and_changes_nothing() {
    let mut chain = Chain::new(2);
    chain.block(&[]);
    // Module state only: the app hash changes every block with the stored block time.
    let before = chain.module_roots();
    let to = key(1).address;

    let mut bad_sig = TxRaw::decode(send(0, &to, "1", 0).as_slice()).unwrap();
    bad_sig.signatures[0][5] ^= 0xFF;
    let mut wrong_chain = params(0, 0);
    wrong_chain.chain_id = "other-chain-1".into();
    let mut long_memo = params(0, 0);
    long_memo.memo = "m".repeat(257);
    let mut expired = params(0, 0);
    expired.timeout_height = 1;
    let mut poor_fee = params(0, 0);
    poor_fee.fee = vec![ProtoCoin { denom: "upay".into(), amount: (FUND * 2).to_string() }];
    let cases: Vec<(&str, Vec<u8>, (&str, u32))> = vec![
        ("garbage bytes", vec![0xde, 0xad, 0xbe, 0xef], ("sdk", 2)),
        ("empty tx", vec![], ("sdk", 2)),
        ("bad signature", bad_sig.encode_to_vec(), ("sdk", 4)),
        ("wrong chain id", send_with(0, &to, "1", wrong_chain), ("sdk", 4)),
        ("wrong sequence", send(0, &to, "1", 7), ("sdk", 32)),
        ("amount overflow", send(0, &to, "340282366920938463463374607431768211456", 0), ("sdk", 10)),
        ("negative amount", send(0, &to, "-5", 0), ("sdk", 10)),
        ("memo too long", send_with(0, &to, "1", long_memo), ("sdk", 12)),
        ("timed out", send_with(0, &to, "1", expired), ("sdk", 30)),
        ("fee beyond balance", send_with(0, &to, "1", poor_fee), ("sdk", 5)),
    ];
    for (name, tx, expected) in &cases {
        let (results, _) = chain.block(std::slice::from_ref(tx));
        assert_eq!(code(&results[0]), (expected.0.to_string(), expected.1), "{name}: {:?}", results[0].result);
        assert_eq!(chain.module_roots(), before, "{name} changed state");
    }
    assert_eq!(chain.balance(&key(0).address), FUND);
    chain.app.check_invariants().unwrap();

    // Insufficient funds for the message: the fee is charged (as in the SDK), the transfer is not.
    let (results, _) = chain.block(&[send(0, &to, &(FUND * 2).to_string(), 0)]);
    assert_eq!(code(&results[0]), ("sdk".to_string(), 5), "{:?}", results[0].result);
    assert_eq!(chain.balance(&key(0).address), FUND - 5000);
    assert_eq!(chain.balance(&to), FUND);
    chain.app.check_invariants().unwrap();
}

#[test]
fn check_tx_enforces_min_gas_price_and_tracks_sequences() {
    let mut chain = Chain::new(2);
    chain.block(&[]);
    let to = key(1).address;
    let mut cheap = params(0, 0);
    cheap.fee = vec![ProtoCoin { denom: "upay".into(), amount: "10".into() }];
    let out = chain.app.check_tx(&send_with(0, &to, "1", cheap.clone()), false);
    assert_eq!(code(&out), ("sdk".into(), 13), "{:?}", out.result);
    // Block execution does not apply the local minimum: consensus must not depend on it.
    let (results, _) = chain.block(&[send_with(0, &to, "1", cheap)]);
    assert_eq!(code(&results[0]), (String::new(), 0));

    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "1", 1), false)).1, 0);
    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "1", 2), false)).1, 0, "mempool sees the pending sequence");
    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "1", 2), false)).1, 32);
    let big = vec![0u8; chain.app.config().max_tx_bytes + 1];
    assert_eq!(code(&chain.app.check_tx(&big, false)).1, 21);
}

/// Past `mempool_max_txs` a new tx gets the SDK's retryable "mempool is full" before the ante
/// handler runs: the sender's sequence does not move, so the same tx goes in once a block has
/// made room, and so does the sender's next one.
#[test]
fn a_full_mempool_refuses_new_txs_without_moving_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let app = ServedApp::open(dir.path(), AppConfig { mempool_max_txs: 2, ..config() }).unwrap();
    let mut chain = Chain { app, height: 0, _dir: Some(dir) };
    chain.app.init_chain(CHAIN_ID, 1, &funded_app_state(3)).unwrap();
    chain.block(&[]);
    let to = key(2).address;
    let (a0, b0, b1) = (send(0, &to, "1", 0), send(1, &to, "1", 0), send(1, &to, "1", 1));
    assert_eq!(code(&chain.app.check_tx(&a0, false)).1, 0);
    assert_eq!(code(&chain.app.check_tx(&b0, false)).1, 0);
    // Full: a burst of new txs gets no signature pass, since admission refuses them anyway.
    paychain_store::timing::set_enabled(true);
    let passes = |app: &ServedApp| app.timings().check_tx_preverify.count;
    let before = passes(&chain.app);
    chain.app.preverify_check_txs(&[&b1, &send(2, &to, "1", 0)]);
    assert_eq!(passes(&chain.app), before, "no pass while full");
    let refused = chain.app.check_tx(&b1, false);
    assert_eq!(code(&refused), ("sdk".into(), 20), "{:?}", refused.result);
    assert!(refused.result.unwrap_err().log.contains("mempool is full"));
    // The same bytes again as a new tx fail their sequence check; the waiting copy still counts.
    assert_eq!(code(&chain.app.check_tx(&a0, false)).1, 32);
    assert_eq!(code(&chain.app.check_tx(&b1, false)).1, 20, "a0 still waits");
    // After a block that took neither, the waiting txs are rechecked, not refused, at the limit.
    chain.block(&[]);
    assert_eq!(code(&chain.app.check_tx(&a0, true)).1, 0);
    assert_eq!(code(&chain.app.check_tx(&b0, true)).1, 0);
    assert_eq!(code(&chain.app.check_tx(&b1, false)).1, 20, "still full");

    // The block takes a0 only; b0 is rechecked and waits; b1 now fits and its sequence is right.
    let (results, _) = chain.block(&[a0]);
    assert_eq!(code(&results[0]).1, 0);
    assert_eq!(code(&chain.app.check_tx(&b0, true)).1, 0);
    let before = passes(&chain.app);
    chain.app.preverify_check_txs(&[&b1, &send(2, &to, "1", 0)]);
    assert_eq!(passes(&chain.app), before + 1, "room again: the burst gets its pass");
    assert_eq!(code(&chain.app.check_tx(&b1, false)).1, 0, "resent after room was made");
    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "1", 1), false)).1, 20, "full again");
    let (results, _) = chain.block(&[b0, b1]);
    assert!(results.iter().all(|r| code(r).1 == 0));
    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "1", 1), false)).1, 0);
}

#[test]
fn simulate_reports_gas_without_a_signature() {
    let mut chain = Chain::new(2);
    chain.block(&[]);
    let mut p = params(0, 0);
    p.fee = vec![];
    p.gas_limit = 0;
    let mut raw = TxRaw::decode(send_with(0, &key(1).address, "100", p).as_slice()).unwrap();
    raw.signatures = vec![vec![]];
    let req = SimulateRequest { tx_bytes: raw.encode_to_vec(), ..Default::default() };
    let resp = query_grpc(&chain.app, "/cosmos.tx.v1beta1.Service/Simulate", &req.encode_to_vec(), 0).unwrap();
    let resp = SimulateResponse::decode(resp.as_slice()).unwrap();
    let used = resp.gas_info.unwrap().gas_used;
    assert!(used > 20_000 && used < 200_000, "gas used {used}");
    assert!(!resp.result.unwrap().events.is_empty());
    // Simulation changes nothing.
    assert_eq!(chain.balance(&key(0).address), FUND);
    // Wallets simulate with an empty fee, then pay one: the estimate must cover
    // the real tx, fee deduction included (CosmJS multiplies by 1.4 at most).
    let (results, _) = chain.block(&[send(0, &key(1).address, "100", 0)]);
    let actual = results[0].gas_used;
    assert!(used * 13 / 10 >= actual, "simulated {used} x1.3 < used {actual}");
    assert!(used <= actual * 11 / 10, "simulated {used} far above used {actual}");
}

/// Random sends (valid, overdrawn, wrong sequence) among 20 accounts: the
/// supply invariant holds after every block and two independent instances
/// agree on every app hash.
/// Two nodes, one reading ahead of execution on a second thread (the default) and one
/// not: the same blocks give the same results, events, gas and app hashes.
#[test]
fn randomized_workload_keeps_invariants_and_is_deterministic() {
    let n = 20;
    let mut a = Chain::new(n);
    assert!(config().read_ahead, "the default reads ahead");
    let mut b = Chain::with_config(n, AppConfig { read_ahead: false, ..config() });
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut seqs = vec![0u64; n];
    for _ in 0..30 {
        let mut txs = Vec::new();
        let mut expected_ok = Vec::new();
        for _ in 0..rng.gen_range(0..15) {
            let from = rng.gen_range(0..n);
            let to = key(rng.gen_range(0..n)).address;
            let kind = rng.gen_range(0..10);
            let (amount, seq) = match kind {
                0 => ((FUND * 10).to_string(), seqs[from]), // overdrawn: fee charged, send fails
                1 => ("5".to_string(), seqs[from] + 3),     // wrong sequence: nothing happens
                _ => (rng.gen_range(1..100_000u32).to_string(), seqs[from]),
            };
            if kind != 1 {
                seqs[from] += 1;
            }
            expected_ok.push(kind >= 2);
            txs.push(send(from, &to, &amount, seq));
        }
        let (ra, ha) = a.block(&txs);
        let (rb, hb) = b.block(&txs);
        assert_eq!(ha, hb, "app hashes diverged at height {}", a.height);
        for ((r, ok), r2) in ra.iter().zip(&expected_ok).zip(&rb) {
            assert_eq!(r.result.is_ok(), *ok, "{:?}", r.result);
            assert_eq!(code(r), code(r2));
            assert_eq!(r.gas_used, r2.gas_used);
            assert_eq!(format!("{:?}", r.events), format!("{:?}", r2.events));
        }
        a.app.check_invariants().unwrap();
    }
}

/// A crash after FinalizeBlock but before Commit loses nothing: the store
/// reopens at the previous block and replaying the block gives the same hash.
#[test]
fn crash_between_finalize_and_commit_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let to = key(1).address;
    let tx = send(0, &to, "777", 0);
    let expected_hash;
    {
        let mut chain = Chain::open(dir.path());
        chain.app.init_chain(CHAIN_ID, 1, &funded_app_state(2)).unwrap();
        chain.block(&[]);
        let time = BlockTime { seconds: 1_700_000_002, nanos: 0 };
        expected_hash = chain.app.finalize_block(2, time, std::slice::from_ref(&tx)).unwrap().app_hash;
        // dropped here without Commit
    }
    let mut chain = Chain::open(dir.path());
    assert_eq!(chain.app.info().0, 1);
    assert_eq!(chain.app.chain_id(), CHAIN_ID);
    let (results, hash) = chain.block(&[tx]);
    assert_eq!(code(&results[0]).1, 0);
    assert_eq!(hash, expected_hash);
    drop(chain);
    let chain = Chain::open(dir.path());
    assert_eq!(chain.app.info(), (2, expected_hash.to_vec()));
    assert_eq!(chain.balance(&to), FUND + 777);
}

/// `store/<substore>/key` with prove=true answers two ICS-23 proofs that
/// verify against the app hash of that height: membership for a balance,
/// non-membership for a key that is absent; a wrong value fails.
#[test]
fn store_queries_prove_presence_and_absence_against_the_app_hash() {
    use ics23::HostFunctionsManager;
    use tendermint_proto::v0_38::abci::RequestQuery;

    let mut chain = Chain::new(2);
    let (_, app_hash) = chain.block(&[send(0, &key(1).address, "42", 0)]);
    let specs = paychain_store::proof_specs();
    let present = paychain_bank::keys::balance_key(&key(1).address, "upay");
    let absent = paychain_bank::keys::balance_key(&key(1).address, "uzzz");
    for (k, expect_present) in [(present, true), (absent, false)] {
        let req = RequestQuery { data: k.clone().into(), path: "store/bank/key".into(), height: 0, prove: true };
        let resp = paychain_node::query::handle_abci_query(&chain.app, &req);
        assert_eq!(resp.code, 0, "{}", resp.log);
        assert_eq!(resp.height as u64, chain.height);
        let ops = resp.proof_ops.unwrap().ops;
        assert_eq!(ops.len(), 2);
        let leaf = ics23::CommitmentProof::decode(ops[0].data.as_slice()).unwrap();
        let main = ics23::CommitmentProof::decode(ops[1].data.as_slice()).unwrap();
        // The substore root the first proof commits to, proven under "bank" in the main tree.
        let root = match &leaf.proof {
            Some(ics23::commitment_proof::Proof::Exist(p)) => {
                ics23::calculate_existence_root::<HostFunctionsManager>(p).unwrap()
            }
            Some(ics23::commitment_proof::Proof::Nonexist(p)) => {
                let side = p.left.as_ref().or(p.right.as_ref()).unwrap();
                ics23::calculate_existence_root::<HostFunctionsManager>(side).unwrap()
            }
            other => panic!("unexpected proof {other:?}"),
        };
        assert!(ics23::verify_membership::<HostFunctionsManager>(&main, &specs[1], &app_hash.to_vec(), b"bank", &root));
        if expect_present {
            assert_eq!(resp.value.as_ref(), (FUND + 42).to_string().as_bytes());
            assert!(ics23::verify_membership::<HostFunctionsManager>(&leaf, &specs[0], &root, &k, &resp.value));
            assert!(!ics23::verify_membership::<HostFunctionsManager>(&leaf, &specs[0], &root, &k, b"1"));
        } else {
            assert!(resp.value.is_empty());
            assert!(ics23::verify_non_membership::<HostFunctionsManager>(&leaf, &specs[0], &root, &k));
        }
        assert!(!ics23::verify_membership::<HostFunctionsManager>(&main, &specs[1], &vec![0u8; 32], b"bank", &root));
    }
    // Heights in the future and unknown substores are clear errors.
    let future = RequestQuery { data: vec![1].into(), path: "store/bank/key".into(), height: 99, prove: true };
    assert_eq!(paychain_node::query::handle_abci_query(&chain.app, &future).code, 26);
    let unknown = RequestQuery { data: vec![1].into(), path: "store/nope/key".into(), height: 0, prove: false };
    assert_ne!(paychain_node::query::handle_abci_query(&chain.app, &unknown).code, 0);
}

/// After a block, recheck drops mempool txs whose sequence the block used;
/// PrepareProposal drops undecodable txs and ProcessProposal rejects blocks with them.
#[test]
fn recheck_and_proposals_filter_what_can_no_longer_run() {
    use paychain_node::abci::AbciApp;
    use tendermint_abci::Application;
    use tendermint_proto::v0_38::abci::{RequestPrepareProposal, RequestProcessProposal};

    let mut chain = Chain::new(2);
    chain.block(&[]);
    let to = key(1).address;
    let first = send(0, &to, "1", 0);
    assert_eq!(code(&chain.app.check_tx(&first, false)).1, 0);
    // Another node's block used sequence 0 with a different tx.
    let (results, _) = chain.block(&[send(0, &to, "2", 0)]);
    assert_eq!(code(&results[0]).1, 0);
    assert_eq!(code(&chain.app.check_tx(&first, true)).1, 32, "recheck must evict the stale tx");
    assert_eq!(code(&chain.app.check_tx(&send(0, &to, "3", 1), true)).1, 0);

    let abci = AbciApp::new(chain.app.clone());
    let good = send(0, &to, "4", 2);
    let garbage = vec![0xFFu8; 40];
    let prepared = abci.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: 1 << 20,
        txs: vec![garbage.clone().into(), good.clone().into()],
        ..Default::default()
    });
    assert_eq!(prepared.txs.len(), 1);
    assert_eq!(prepared.txs[0].as_ref(), good.as_slice());
    let small = abci.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: (good.len() - 1) as i64,
        txs: vec![good.clone().into()],
        ..Default::default()
    });
    assert!(small.txs.is_empty(), "max_tx_bytes is respected");
    let status = |txs: Vec<Vec<u8>>| {
        abci.process_proposal(RequestProcessProposal {
            txs: txs.into_iter().map(Into::into).collect(),
            ..Default::default()
        })
        .status
    };
    assert_eq!(status(vec![good.clone()]), 1, "accept");
    assert_eq!(status(vec![good.clone(), garbage.clone()]), 2, "reject");
    // This node's own proposal is accepted without decoding again; any other list is decoded.
    let own = abci.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: 1 << 20,
        txs: vec![good.clone().into(), garbage.clone().into(), good.clone().into()],
        ..Default::default()
    });
    assert_eq!(own.txs.len(), 2);
    assert_eq!(status(own.txs.iter().map(|t| t.to_vec()).collect()), 1, "its own proposal");
    assert_eq!(status(vec![good.clone(), garbage.clone(), good.clone()]), 2, "not what it proposed");
    assert_eq!(status(vec![garbage]), 2, "reject");
}

/// A successful tx's data is the SDK's TxMsgData with one response per message.
#[test]
fn tx_data_carries_msg_responses() {
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
    let mut chain = Chain::new(2);
    let (results, _) = chain.block(&[send(0, &key(1).address, "5", 0)]);
    let data = TxMsgData::decode(results[0].result.as_ref().unwrap().as_slice()).unwrap();
    assert_eq!(data.msg_responses.len(), 1);
    assert_eq!(data.msg_responses[0].type_url, "/cosmos.bank.v1beta1.MsgSendResponse");
}

/// Bad ABCI queries get a clear SDK-style error, and the app keeps answering.
#[test]
fn bad_abci_queries_are_refused_cleanly() {
    use tendermint_proto::v0_38::abci::RequestQuery;
    let mut chain = Chain::new(1);
    chain.block(&[]);
    let q = |path: &str, data: Vec<u8>, height: i64| {
        paychain_node::query::handle_abci_query(
            &chain.app,
            &RequestQuery { data: data.into(), path: path.into(), height, prove: false },
        )
    };
    let garbage = q("/cosmos.bank.v1beta1.Query/Balance", vec![0xFF, 0xFF, 0xFF], 0);
    assert_eq!((garbage.codespace.as_str(), garbage.code), ("sdk", 18), "{}", garbage.log);
    let bad_addr = q(
        "/cosmos.bank.v1beta1.Query/Balance",
        QueryBalanceRequest { address: "nope".into(), denom: "upay".into() }.encode_to_vec(),
        0,
    );
    assert_eq!(bad_addr.code, 18, "{}", bad_addr.log);
    let unknown = q("/cosmos.nothing.v1.Query/Nothing", vec![], 0);
    assert_eq!(unknown.code, 6, "{}", unknown.log);
    assert!(unknown.log.contains("Unimplemented"), "{}", unknown.log);
    assert_eq!(q("/cosmos.bank.v1beta1.Query/Params", vec![], -1).code, 18);
    let missing = q(
        "/cosmos.auth.v1beta1.Query/Account",
        cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountRequest { address: key(5).address.to_string() }
            .encode_to_vec(),
        0,
    );
    assert_eq!(missing.code, 22);
    assert!(missing.log.starts_with("rpc error: code = NotFound desc = account pay1"), "{}", missing.log);
    assert_eq!(chain.balance(&key(0).address), FUND, "still serving");
}

/// The parallel pass hands back each tx's decoding at its own position (none for bytes that do
/// not decode or are over the node's limit), and CheckTx runs the bytes it is given even when
/// handed another tx's decoding.
#[test]
fn preverified_decodings_line_up_with_their_txs() {
    use tendermint_abci::Application as _;
    let dir = tempfile::tempdir().unwrap();
    let app = ServedApp::open(dir.path(), AppConfig { max_tx_bytes: 1_000, mempool_max_txs: 10, ..config() }).unwrap();
    let mut chain = Chain { app, height: 0, _dir: Some(dir) };
    chain.app.init_chain(CHAIN_ID, 1, &funded_app_state(3)).unwrap();
    chain.block(&[]);
    let to = key(2).address;
    let (a0, b0) = (send(0, &to, "1", 0), send(1, &to, "1", 0));
    let too_large = vec![0u8; 1_001];
    let decoded = chain.app.preverify_check_txs(&[&a0, b"not a tx", &too_large, &b0]);
    let hashes: Vec<Option<[u8; 32]>> = decoded.iter().map(|d| d.as_ref().map(|t| t.hash)).collect();
    assert_eq!(hashes, [Some(paychain_txindex::tx_hash(&a0)), None, None, Some(paychain_txindex::tx_hash(&b0))]);

    // a0's bytes with b0's decoding: a0 is what CheckTx runs, b0's sequence stays unused.
    let b0_decoded = decoded.into_iter().nth(3).flatten();
    assert_eq!(code(&chain.app.check_tx_decoded(&a0, false, b0_decoded)).1, 0);
    assert_eq!(code(&chain.app.check_tx(&a0, false)).1, 32, "a0 took account 0's sequence 0");
    assert_eq!(code(&chain.app.check_tx(&b0, false)).1, 0, "b0 is still new");

    // PrepareProposal keeps what decodes: the waiting a0 and b0 (not decoded again), a send it
    // has not seen, and not the garbage between them.
    let unseen = send(2, &to, "1", 0);
    let proposed = paychain_node::abci::AbciApp::new(chain.app.clone()).prepare_proposal(
        tendermint_proto::v0_38::abci::RequestPrepareProposal {
            max_tx_bytes: 1 << 20,
            txs: vec![a0.clone().into(), b"not a tx".to_vec().into(), unseen.clone().into(), b0.clone().into()],
            ..Default::default()
        },
    );
    assert_eq!(proposed.txs, [a0, unseen, b0]);
}

/// The ABCI socket server over a real TCP connection: a burst of CheckTx requests written at
/// once, as CometBFT's mempool connection sends them, is answered in order with exactly what
/// CheckTx one at a time decides (a bad signature and bytes that do not decode among them),
/// after one parallel signature pass over the burst.
#[test]
fn a_burst_of_check_tx_is_answered_in_order_as_one_by_one() {
    use std::io::{Read as _, Write as _};
    use tendermint_proto::v0_38::abci::{
        request, response, CheckTxType, Request, RequestCheckTx, RequestFlush, Response,
    };

    let mut chain = Chain::new(3);
    chain.block(&[]);
    let to = key(2).address;
    let mut bad = TxRaw::decode(send(1, &to, "1", 0).as_slice()).unwrap();
    bad.signatures[0][5] ^= 1;
    let a0 = send(0, &to, "1", 0);
    // Bytes as long as a send that do not decode: the pass has no decoding for them, and every
    // later CheckTx must still answer for its own tx.
    let garbage = vec![0xFFu8; a0.len()];
    // a0; account 1 with a broken signature; garbage; a1 (needs a0's sequence step); b0 (the
    // broken tx must not have moved account 1's sequence).
    let txs = [a0, bad.encode_to_vec(), garbage, send(0, &to, "1", 1), send(1, &to, "1", 0)];

    let server = paychain_node::abci_server::AbciServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        paychain_node::abci::AbciApp::new(chain.app.clone()),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    std::thread::spawn(move || server.listen());
    let before = chain.app.timings().check_tx_preverify;
    paychain_store::timing::set_enabled(true);

    let mut burst = Vec::new();
    for tx in &txs {
        let check = RequestCheckTx { tx: tx.clone().into(), r#type: CheckTxType::New as i32 };
        Request { value: Some(request::Value::CheckTx(check)) }.encode_length_delimited(&mut burst).unwrap();
    }
    Request { value: Some(request::Value::Flush(RequestFlush {})) }.encode_length_delimited(&mut burst).unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    conn.write_all(&burst).unwrap();

    let mut buf = Vec::new();
    let mut responses = Vec::new();
    while responses.len() < txs.len() + 1 {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed the connection after {} responses", responses.len());
        buf.extend_from_slice(&chunk[..n]);
        // A response cut by the read stays in `buf` whole for the next round.
        let mut rest = buf.as_slice();
        loop {
            let mut peek = rest;
            let Ok(r) = Response::decode_length_delimited(&mut peek) else { break };
            responses.push(r);
            rest = peek;
        }
        buf = rest.to_vec();
    }
    let codes: Vec<(String, u32)> = responses[..txs.len()]
        .iter()
        .map(|r| match &r.value {
            Some(response::Value::CheckTx(c)) => (c.codespace.clone(), c.code),
            other => panic!("expected a CheckTx answer, got {other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [(String::new(), 0), ("sdk".into(), 4), ("sdk".into(), 2), (String::new(), 0), (String::new(), 0)]
    );
    assert!(matches!(responses[txs.len()].value, Some(response::Value::Flush(_))));
    let pass = chain.app.timings().check_tx_preverify.since(&before);
    assert!(pass.count >= 1, "the burst went through the parallel signature pass");
}
