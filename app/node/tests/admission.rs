//! The rules on moving coins decide in CheckTx as in the block (issue 19): a send, an
//! escrow deposit or an IBC transfer that the travel rule, a velocity limit or the risk
//! rules refuse is refused by CheckTx with the code and log the block would give it, and
//! the refused tx leaves the mempool state as it was (no fee, no sequence); a transfer the
//! rules hold passes CheckTx and is held in the block.

mod common;

use common::accounts::{funded_app_state, numbered_key};
use cosmos_sdk_proto::Any;
use paychain_app::app::TxOutcome;
use paychain_client::tx::{build_signed_tx, fee, msg_send, tx_body, SignerData};
use paychain_framework::{Address, BlockTime, SdkError};
use paychain_node::config::AppConfig;
use paychain_node::served::ServedApp;
use prost::Message;
use serde_json::json;

const CHAIN_ID: &str = "paychain-test-1";

struct Chain {
    app: ServedApp,
    height: u64,
    _dir: tempfile::TempDir,
}

/// Accounts 0..3 funded, account 2 the chain authority; on upay: a travel-rule threshold of
/// 800,000, a velocity limit of 1,000,000 a day, and risk rules scoring 50 from 300,000 and
/// 60 more from 600,000 (held above 40, refused above 100).
fn chain() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let app = ServedApp::open(dir.path(), AppConfig::default()).unwrap();
    let mut state: serde_json::Value = serde_json::from_slice(&funded_app_state(3)).unwrap();
    state["authority"]["authority"] = json!(addr(2).to_string());
    let c = &mut state["compliance"];
    c["travel_rule_thresholds"] = json!([{"denom": "upay", "threshold": "800000", "version": "1"}]);
    c["velocity_limits"] = json!([{"denom": "upay", "window_seconds": "86400", "limit": "1000000", "version": "1"}]);
    c["risk_rule_versions"] = json!([{"version": "1", "refuse_above": 100, "hold_above": 40, "hold_seconds": "3600",
        "rules": [{"code": "watch", "score": 50, "min_amount": "300000"},
                  {"code": "large", "score": 60, "min_amount": "600000"}]}]);
    app.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
    let mut chain = Chain { app, height: 0, _dir: dir };
    chain.block(&[]);
    chain
}

impl Chain {
    fn block(&mut self, txs: &[Vec<u8>]) -> Vec<TxOutcome> {
        self.height += 1;
        let time = BlockTime { seconds: 1_700_000_000 + self.height as i64, nanos: 0 };
        let out = self.app.finalize_block(self.height, time, txs).unwrap();
        self.app.commit().unwrap();
        out.tx_results
    }

    fn check(&self, tx: &[u8]) -> Result<(), SdkError> {
        self.app.check_tx(tx, false).result.map(|_| ())
    }

    fn recheck(&self, tx: &[u8]) -> Result<(), SdkError> {
        self.app.check_tx(tx, true).result.map(|_| ())
    }
}

fn addr(i: usize) -> Address {
    numbered_key(i).1
}

/// A tx of account `from` (account number `from`) with one message and a 5000upay fee.
fn signed(from: usize, msg: Any, sequence: u64) -> Vec<u8> {
    let (secret, _) = numbered_key(from);
    let body = tx_body(vec![msg], "", 0);
    let signer = SignerData { key: &secret, chain_id: CHAIN_ID, account_number: from as u64, sequence };
    build_signed_tx(&body, fee(&"5000upay".parse().unwrap(), 200_000), &signer)
}

fn send(from: usize, to: usize, amount: u128, sequence: u64) -> Vec<u8> {
    signed(from, msg_send(&addr(from), &addr(to), &format!("{amount}upay").parse().unwrap()), sequence)
}

fn escrow(from: usize, to: usize, amount: u128, sequence: u64) -> Vec<u8> {
    let msg = paychain_escrow::pb::MsgCreateEscrow {
        sender: addr(from).to_string(),
        recipient: addr(to).to_string(),
        amount: vec![cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
            denom: "upay".into(),
            amount: amount.to_string(),
        }],
        refund_after: Some(paychain_framework::time::Timestamp { seconds: 1_800_000_000, nanos: 0 }),
        ..Default::default()
    };
    let any = Any { type_url: paychain_escrow::msgs::TYPE_URL_CREATE.into(), value: msg.encode_to_vec() };
    signed(from, any, sequence)
}

fn ibc_transfer(from: usize, amount: u128, sequence: u64) -> Vec<u8> {
    use ibc_proto::ibc::applications::transfer::v1::MsgTransfer;
    let msg = MsgTransfer {
        source_port: "transfer".into(),
        source_channel: "channel-0".into(),
        token: Some(ibc_proto::cosmos::base::v1beta1::Coin { denom: "upay".into(), amount: amount.to_string() }),
        sender: addr(from).to_string(),
        receiver: "cosmos1receiver".into(),
        timeout_height: None,
        timeout_timestamp: 1_900_000_000_000_000_000,
        memo: String::new(),
    };
    let any = Any { type_url: "/ibc.applications.transfer.v1.MsgTransfer".into(), value: msg.encode_to_vec() };
    signed(from, any, sequence)
}

fn refusal(r: Result<(), SdkError>) -> (String, u32, String) {
    let e = r.expect_err("refused");
    (e.codespace.to_string(), e.code, e.log)
}

fn block_refusal(o: &TxOutcome) -> (String, u32, String) {
    refusal(o.result.clone().map(|_| ()))
}

/// CheckTx refuses `tx` with compliance/`code`; a block that includes it anyway (a
/// proposer that never checked it) gives the same codespace, code and log. Returns the log.
fn refused_alike(c: &mut Chain, tx: Vec<u8>, code: u32) -> String {
    let at_admission = refusal(c.check(&tx));
    assert_eq!((at_admission.0.as_str(), at_admission.1), ("compliance", code), "{}", at_admission.2);
    let results = c.block(&[tx]);
    assert_eq!(block_refusal(&results[0]), at_admission);
    at_admission.2
}

#[test]
fn check_tx_refuses_what_the_block_refuses_with_the_same_answer() {
    let mut c = chain();

    // The travel rule: 900,000 with no record.
    let no_record = send(0, 1, 900_000, 0);
    let at_admission = refusal(c.check(&no_record));
    assert_eq!((at_admission.0.as_str(), at_admission.1), ("compliance", 31), "{}", at_admission.2);
    assert!(at_admission.2.contains("needs a travel-rule record"), "{}", at_admission.2);
    // Nothing landed in the mempool state: sequence 0 is still the next one.
    c.check(&send(0, 1, 1_000, 0)).expect("sequence 0 is still free after the refusal");
    // A proposer that never checked it: the block gives the same answer.
    let results = c.block(&[no_record]);
    assert_eq!(block_refusal(&results[0]), at_admission);

    // The risk rules: 700,000 scores 110, above 100.
    let log = refused_alike(&mut c, send(0, 1, 700_000, 1), 33);
    assert!(log.contains("watch") && log.contains("large"), "{log}");

    // 400,000 scores 50: held, not refused, so CheckTx lets it in.
    let held = send(0, 1, 400_000, 2);
    c.check(&held).expect("a transfer the rules hold passes CheckTx");
    let results = c.block(&[held]);
    assert!(results[0].result.is_ok(), "{:?}", results[0].result);
    assert!(results[0].events.iter().any(|e| e.kind == "compliance_hold"), "the send is held");

    // The velocity limit: 400,000 counted; 250,000 twice more fits, a third does not.
    for seq in 3..5 {
        let ok = send(0, 1, 250_000, seq);
        c.check(&ok).unwrap();
        assert!(c.block(&[ok])[0].result.is_ok());
    }
    let log = refused_alike(&mut c, send(0, 1, 250_000, 5), 28);
    assert!(log.contains("remaining"), "{log}");
}

#[test]
fn escrow_deposits_and_ibc_transfers_meet_the_rules_in_check_tx() {
    let mut c = chain();
    refused_alike(&mut c, escrow(1, 2, 900_000, 0), 31);
    c.check(&escrow(1, 2, 100_000, 1)).expect("a deposit under every rule passes");

    // An IBC transfer is refused before any channel is looked at: the travel rule
    // covers what leaves through a channel too.
    let out = refusal(c.check(&ibc_transfer(2, 900_000, 0)));
    assert_eq!((out.0.as_str(), out.1), ("compliance", 31), "{}", out.2);
    assert!(c.check(&ibc_transfer(2, 100_000, 0)).is_ok(), "under the rules, CheckTx leaves the channel to the block");
}

#[test]
fn recheck_removes_a_waiting_transfer_that_a_new_rule_refuses() {
    let mut c = chain();
    let waiting = send(0, 1, 200_000, 0);
    c.check(&waiting).expect("under every rule");
    // The authority lowers the travel-rule threshold to 100,000 in the next block.
    let lower = paychain_compliance::pb::MsgSetTravelRuleThreshold {
        signer: addr(2).to_string(),
        threshold: Some(paychain_compliance::pb::TravelRuleThreshold {
            denom: "upay".into(),
            threshold: "100000".into(),
            ..Default::default()
        }),
        reason: "fatf_r16".into(),
        ..Default::default()
    };
    let any =
        Any { type_url: "/paychain.compliance.v1.MsgSetTravelRuleThreshold".into(), value: lower.encode_to_vec() };
    let results = c.block(&[signed(2, any, 0)]);
    assert!(results[0].result.is_ok(), "{:?}", results[0].result);
    // CometBFT rechecks what is still waiting: the rule now refuses it, so it leaves the mempool.
    let out = refusal(c.recheck(&waiting));
    assert_eq!((out.0.as_str(), out.1), ("compliance", 31), "{}", out.2);
}
