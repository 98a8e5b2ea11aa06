//! Node-local risk screening through the ABCI methods CometBFT calls, in-process, against the
//! reference risk service on a loopback port: only CheckTx of new txs asks it; a refusal leaves
//! the mempool state as it was; recheck, proposals and blocks never ask it, and a screening
//! node computes the same app hash as a node without screening. (The same with real CometBFT
//! nodes: app/paychaind/tests/e2e_risk_screening.rs.)

mod common;

use std::sync::Arc;

use base64::Engine as _;
use common::accounts::{funded_app_state, numbered_key as key, signed_send};
use paychain_node::abci::AbciApp;
use paychain_node::config::AppConfig;
use paychain_node::risk::RiskScreener;
use paychain_node::served::ServedApp;
use paychain_risk_service::{Rules, Running};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{self as pb, response_process_proposal::ProposalStatus, CheckTxType};

const CHAIN_ID: &str = "paychain-test-1";

struct Node {
    abci: AbciApp,
    home: tempfile::TempDir,
}

/// A node with accounts 0..3 funded; screening with `risk` = (url, fail_open) when given.
fn node(risk: Option<(&str, bool)>) -> Node {
    let home = tempfile::tempdir().unwrap();
    let config = match risk {
        Some((url, fail_open)) => AppConfig {
            risk_service_url: url.to_string(),
            risk_service_timeout_ms: 2_000,
            risk_service_fail_open: fail_open,
            ..AppConfig::default()
        },
        None => AppConfig::default(),
    };
    let db = AppConfig::db_path(home.path());
    std::fs::create_dir_all(&db).unwrap();
    let app = ServedApp::open(&db, config.clone()).unwrap();
    app.init_chain(CHAIN_ID, 1, &funded_app_state(3)).unwrap();
    let risk = RiskScreener::from_config(&config, home.path()).unwrap().map(Arc::new);
    let abci = AbciApp::with_risk(app, risk);
    // Genesis is committed with the first block; CheckTx reads committed state.
    block(&abci, 1, &[]);
    Node { abci, home }
}

fn check(abci: &AbciApp, tx: &[u8], kind: CheckTxType) -> pb::ResponseCheckTx {
    abci.check_tx(pb::RequestCheckTx { tx: tx.to_vec().into(), r#type: kind as i32 })
}

/// Proposes, accepts, executes and commits `txs` at `height`; returns the app hash.
fn block(abci: &AbciApp, height: i64, txs: &[Vec<u8>]) -> Vec<u8> {
    let txs: Vec<_> = txs.iter().map(|t| t.clone().into()).collect();
    let time = Some(Timestamp { seconds: 1_700_000_000 + height, nanos: 0 });
    let proposed =
        abci.prepare_proposal(pb::RequestPrepareProposal { max_tx_bytes: 1 << 20, txs, height, ..Default::default() });
    let status = abci
        .process_proposal(pb::RequestProcessProposal { txs: proposed.txs.clone(), height, ..Default::default() })
        .status;
    assert_eq!(status, ProposalStatus::Accept as i32);
    let out =
        abci.finalize_block(pb::RequestFinalizeBlock { txs: proposed.txs.clone(), height, time, ..Default::default() });
    assert_eq!(out.tx_results.len(), proposed.txs.len());
    for r in &out.tx_results {
        assert_eq!(r.code, 0, "{}", r.log);
    }
    abci.commit();
    out.app_hash.to_vec()
}

#[test]
fn screening_asks_only_in_check_tx_and_blocks_are_the_same_with_or_without_it() {
    let flagged = key(0).1;
    let svc = Running::start(
        "127.0.0.1:0".parse().unwrap(),
        Rules { refuse_senders: vec![flagged.to_string()], refuse_above: Some(1_000_000), ..Rules::default() },
    )
    .unwrap();
    let screening = node(Some((&svc.url(), false)));
    let plain = node(None);

    let from_flagged = signed_send(CHAIN_ID, 0, &key(1).1, 1_000, 0);
    let ordinary = signed_send(CHAIN_ID, 1, &key(2).1, 1_000, 0);
    let large = signed_send(CHAIN_ID, 2, &key(1).1, 5_000_000, 0);

    let r = check(&screening.abci, &from_flagged, CheckTxType::New);
    assert_eq!((r.code, r.codespace.as_str()), (1, "risk_screening"), "{r:?}");
    assert_eq!(
        r.log,
        format!("refused by this node's risk service: sender {flagged} is on this service's refuse list")
    );
    // The amount rule reads the message's proto3 JSON the node sends.
    let r = check(&screening.abci, &large, CheckTxType::New);
    assert_eq!((r.code, r.codespace.as_str()), (1, "risk_screening"), "{r:?}");
    assert!(r.log.contains("5000000upay is above the limit"), "{}", r.log);
    let r = check(&screening.abci, &ordinary, CheckTxType::New);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(svc.requests(), 3);
    // What the service was asked: the tx, its hash as CometBFT shows it, and what it does.
    let asked = svc.last_request().unwrap();
    let sender = key(1).1.to_string();
    assert_eq!(asked["tx_hash"], hex::encode_upper(Sha256::digest(&ordinary)));
    assert_eq!(asked["tx"], base64::engine::general_purpose::STANDARD.encode(&ordinary));
    assert_eq!(asked["chain_id"], CHAIN_ID);
    assert_eq!((&asked["signers"], &asked["fee_payer"]), (&json!([sender]), &json!(sender)));
    assert_eq!(asked["fee"], json!([{"denom": "upay", "amount": "5000"}]));
    assert_eq!(asked["gas_limit"], "200000");
    assert_eq!(
        asked["messages"],
        json!([{
            "@type": "/cosmos.bank.v1beta1.MsgSend",
            "from_address": sender,
            "to_address": key(2).1.to_string(),
            "amount": [{"denom": "upay", "amount": "1000"}],
        }])
    );

    // The refused txs left the mempool state as it was: the same app, unscreened, admits them
    // at sequence 0 (an advanced sequence would be sdk/32).
    let unscreened = AbciApp::new(screening.abci.app.clone());
    assert_eq!(check(&unscreened, &from_flagged, CheckTxType::New).code, 0);
    assert_eq!(check(&unscreened, &large, CheckTxType::New).code, 0);
    let next = signed_send(CHAIN_ID, 1, &key(2).1, 1_000, 1);
    assert_eq!(check(&screening.abci, &next, CheckTxType::New).code, 0);
    assert_eq!(svc.requests(), 4);

    // A block holding the txs the service refused: proposed, accepted and executed by the
    // screening node exactly as by a node without screening, and nobody asked.
    let txs = [from_flagged, ordinary, large];
    let hash = block(&screening.abci, 2, &txs);
    assert_eq!(hash, block(&plain.abci, 2, &txs), "same app hash with and without screening");
    // CometBFT rechecks what stayed in the mempool after the block: not asked again either.
    assert_eq!(check(&screening.abci, &next, CheckTxType::Recheck).code, 0);
    assert_eq!(svc.requests(), 4, "blocks and rechecks never consult the service");

    let log = std::fs::read_to_string(screening.home.path().join("data/risk_decisions.jsonl")).unwrap();
    let decisions: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["decision"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(decisions, ["refuse", "refuse", "allow", "allow"]);
}

#[test]
fn an_unreachable_service_refuses_when_failing_closed_and_admits_when_failing_open() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/screen");
    let tx = signed_send(CHAIN_ID, 1, &key(2).1, 1_000, 0);

    let closed_node = node(Some((&url, false)));
    let r = check(&closed_node.abci, &tx, CheckTxType::New);
    assert_eq!((r.code, r.codespace.as_str()), (2, "risk_screening"), "{r:?}");
    assert!(r.log.starts_with("risk service unavailable (fail-closed): "), "{}", r.log);
    // Nothing changed: the same tx passes once screening is out of the way.
    assert_eq!(check(&AbciApp::new(closed_node.abci.app.clone()), &tx, CheckTxType::New).code, 0);

    let open_node = node(Some((&url, true)));
    assert_eq!(check(&open_node.abci, &tx, CheckTxType::New).code, 0);
    // A tx that does not decode is not sent anywhere: CheckTx refuses it as before.
    let r = check(&open_node.abci, b"not a tx", CheckTxType::New);
    assert_eq!((r.code, r.codespace.as_str()), (2, "sdk"), "{r:?}");
    let log = std::fs::read_to_string(open_node.home.path().join("data/risk_decisions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("\"error_admitted\""), "{log}");
}
