//! The REST server against a real chain (`paychaind dev` driving CometBFT on
//! free loopback ports): broadcast answering HTTP 200 with CheckTx's code,
//! tx lookup by hash before and after commit, node info, consensus params.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed,
//! and never under CI (`CI` set).

use std::time::{Duration, Instant};

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use cosmos_sdk_proto::Any;
use paychain_client::tx::{build_signed_tx, tx_body, tx_hash, SignerData};
use prost::Message;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod common;
use common::{cometbft_available, free_ports, DevNode};

struct Rest {
    base: String,
    http: Client,
}

impl Rest {
    fn get(&self, path: &str) -> (StatusCode, Value) {
        match self.http.get(format!("{}{path}", self.base)).send() {
            Ok(r) => {
                let status = r.status();
                let text = r.text().unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            Err(e) => (StatusCode::from_u16(599).unwrap(), Value::String(e.to_string())),
        }
    }

    fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).json(body).send().unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}")))
    }
}

fn send_tx(key: &secp256k1::SecretKey, chain_id: &str, account_number: u64, sequence: u64, to: &str) -> Vec<u8> {
    let from = paychain_client::keyring::address_of(key).to_string();
    let msg = MsgSend {
        from_address: from,
        to_address: to.to_string(),
        amount: vec![ProtoCoin { denom: "upay".into(), amount: "777".into() }],
    };
    let body =
        tx_body(vec![Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }], "", 0);
    let fee = Fee {
        amount: vec![ProtoCoin { denom: "upay".into(), amount: "5000".into() }],
        gas_limit: 200_000,
        payer: String::new(),
        granter: String::new(),
    };
    build_signed_tx(&body, fee, &SignerData { key, chain_id, account_number, sequence })
}

#[test]
fn rest_broadcast_and_tx_lookup_against_cometbft() {
    if !cometbft_available("rest_broadcast_and_tx_lookup_against_cometbft") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ports = free_ports();
    let mut dev = DevNode::start(&home, &ports, "dev.log");
    let rest = Rest {
        base: format!("http://127.0.0.1:{}", ports.rest),
        http: Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
    };

    // node_info answers once CometBFT is up. Wait for height 2: CometBFT stores block 1
    // before the app commits it (with the genesis state), as the wallet tests do.
    let deadline = Instant::now() + Duration::from_secs(90);
    let chain_id = loop {
        dev.assert_running();
        let (st, v) = rest.get("/cosmos/base/tendermint/v1beta1/blocks/latest");
        let height: u64 = v["block"]["header"]["height"].as_str().and_then(|h| h.parse().ok()).unwrap_or(0);
        if st == StatusCode::OK && height >= 2 {
            let (st2, info) = rest.get("/cosmos/base/tendermint/v1beta1/node_info");
            assert_eq!(st2, StatusCode::OK, "{info}");
            let network = info["default_node_info"]["network"].as_str().unwrap().to_string();
            assert!(v.is_object(), "{v}");
            break network;
        }
        assert!(Instant::now() < deadline, "REST never served blocks/latest ({st} {v}); log:\n{}", dev.log_tail());
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(chain_id, "paychain-dev-1");

    // Consensus params as cosmpy reads them (block max_gas as a string).
    let (st, v) = rest.get("/cosmos/consensus/v1/params");
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["params"]["block"]["max_gas"].is_string(), "{v}");
    let (st, v) = rest.get("/cosmos/base/tendermint/v1beta1/blocks/1");
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["block"]["header"]["height"], json!("1"), "{v}");
    assert!(v["block_id"]["part_set_header"]["total"].is_number(), "{v}");
    let (st, v) = rest.get("/cosmos/base/tendermint/v1beta1/syncing");
    assert_eq!((st, v["syncing"].clone()), (StatusCode::OK, json!(false)), "{v}");

    // The dev key and its account.
    let mnemonic = std::fs::read_to_string(home.join("dev-mnemonic.txt")).unwrap();
    let key = paychain_client::keyring::derive_private_key(mnemonic.trim(), "m/44'/118'/0'/0/0").unwrap();
    let addr = paychain_client::keyring::address_of(&key).to_string();
    let (st, v) = rest.get(&format!("/cosmos/auth/v1beta1/accounts/{addr}"));
    assert_eq!(st, StatusCode::OK, "{v}");
    let account_number: u64 = v["account"]["account_number"].as_str().unwrap().parse().unwrap();
    let sequence: u64 = v["account"]["sequence"].as_str().unwrap().parse().unwrap();
    let recipient =
        paychain_client::keyring::address_of(&secp256k1::SecretKey::from_slice(&[9u8; 32]).unwrap()).to_string();

    // A CheckTx failure is HTTP 200 with the SDK code (32: sequence mismatch).
    let bad = send_tx(&key, &chain_id, account_number, sequence + 5, &recipient);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (st, v) = rest.post("/cosmos/tx/v1beta1/txs", &json!({"tx_bytes": b64(&bad), "mode": "BROADCAST_MODE_SYNC"}));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tx_response"]["code"], json!(32), "{v}");
    assert!(v["tx_response"]["raw_log"].as_str().unwrap().contains("sequence"), "{v}");

    // A good tx: not found before, code 0 on broadcast, found after commit.
    let good = send_tx(&key, &chain_id, account_number, sequence, &recipient);
    let hash = tx_hash(&good);
    let (st, v) = rest.get(&format!("/cosmos/tx/v1beta1/txs/{hash}"));
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["message"].as_str().unwrap().contains("tx not found"), "{v}");
    let (st, v) = rest.post("/cosmos/tx/v1beta1/txs", &json!({"txBytes": b64(&good), "mode": "BROADCAST_MODE_SYNC"}));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tx_response"]["code"], json!(0), "{v}");
    assert_eq!(v["tx_response"]["txhash"], json!(hash), "{v}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let (st, v) = rest.get(&format!("/cosmos/tx/v1beta1/txs/{hash}"));
        if st == StatusCode::OK {
            break v;
        }
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert!(Instant::now() < deadline, "tx {hash} never found; log:\n{}", dev.log_tail());
        std::thread::sleep(Duration::from_millis(300));
    };
    let resp = &found["tx_response"];
    assert_eq!(resp["code"], json!(0), "{found}");
    assert!(resp["height"].as_str().unwrap().parse::<u64>().unwrap() > 0, "{found}");
    assert_eq!(resp["tx"]["@type"], json!("/cosmos.tx.v1beta1.Tx"), "{found}");
    assert_eq!(found["tx"]["body"]["messages"][0]["@type"], json!("/cosmos.bank.v1beta1.MsgSend"), "{found}");
    assert_eq!(found["tx"]["body"]["messages"][0]["to_address"], json!(recipient), "{found}");

    // Search by event query.
    let (st, v) = rest.get(&format!("/cosmos/tx/v1beta1/txs?query=tx.hash%3D%27{hash}%27"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tx_responses"][0]["txhash"], json!(hash), "{v}");
    let (st, v) = rest.get(&format!("/cosmos/tx/v1beta1/txs?events=message.sender%3D%27{addr}%27"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(!v["tx_responses"].as_array().unwrap().is_empty(), "{v}");

    let (st, v) = rest.get(&format!("/cosmos/bank/v1beta1/balances/{recipient}/by_denom?denom=upay"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["balance"]["amount"], json!("777"));
}
