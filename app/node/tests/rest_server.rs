//! The REST (LCD) server in-process: an app on a temporary RocksDB store with
//! a genesis block, served on a free port, called with a plain HTTP client.
//! Covers the paths Keplr and cosmpy use, the gateway's JSON shape, and bad
//! input (the server must answer a clear 4xx and keep serving).

use std::time::Duration;

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw};
use cosmos_sdk_proto::Any;
use paychain_app::genesis::default_app_state;
use paychain_framework::{Address, BlockTime};
use paychain_node::config::AppConfig;
use paychain_node::served::ServedApp;
use prost::Message;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde_json::{json, Value};

const CHAIN_ID: &str = "paychain-rest-1";
const FUND: u128 = 1_000_000_000;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn key(i: u64) -> (SecretKey, Vec<u8>, Address) {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&(i + 1).to_be_bytes());
    let secret = SecretKey::from_slice(&bytes).unwrap();
    let pk = PublicKey::from_secret_key(SECP256K1, &secret).serialize().to_vec();
    let address = Address::from_secp256k1_pubkey(&pk);
    (secret, pk, address)
}

struct Server {
    base: String,
    http: Client,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // CometBFT's RPC on a port nothing listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let config = AppConfig {
            minimum_gas_prices: "0.025upay".into(),
            cometbft_rpc: format!("http://{closed}"),
            ..AppConfig::default()
        };
        let app = ServedApp::open(dir.path(), config).unwrap();
        let mut state = default_app_state("upay");
        let accounts: Vec<_> = (0..2)
            .map(|i| {
                json!({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": key(i).2.to_string(),
                       "pub_key": null, "account_number": i.to_string(), "sequence": "0"})
            })
            .collect();
        let balances: Vec<_> = (0..2)
            .map(|i| json!({"address": key(i).2.to_string(), "coins": [{"denom": "upay", "amount": FUND.to_string()}]}))
            .collect();
        state["auth"]["accounts"] = json!(accounts);
        state["bank"]["balances"] = json!(balances);
        app.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
        app.finalize_block(1, BlockTime { seconds: 1_700_000_000, nanos: 0 }, &[]).unwrap();
        app.commit().unwrap();

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let addr = paychain_node::rest::serve(app, "127.0.0.1:0".parse().unwrap(), runtime.handle()).unwrap();
        let http = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Server { base: format!("http://{addr}"), http, _runtime: runtime, _dir: dir }
    }

    fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).send().unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {text}")))
    }

    fn post(&self, path: &str, body: impl Into<reqwest::blocking::Body>) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}")))
    }

    fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post(path, body.to_string())
    }

    /// A client error with the gateway's error shape.
    fn assert_error(&self, (status, body): (StatusCode, Value), want: StatusCode, code: i64, contains: &str) {
        assert_eq!(status, want, "body: {body}");
        assert_eq!(body["code"], json!(code), "body: {body}");
        let msg = body["message"].as_str().unwrap_or_else(|| panic!("no message: {body}"));
        assert!(msg.contains(contains), "message {msg:?} should contain {contains:?}");
        assert_eq!(body["details"], json!([]));
        // ... and the server still answers.
        let (s, _) = self.get(&format!("/cosmos/bank/v1beta1/balances/{}", key(0).2));
        assert_eq!(s, StatusCode::OK);
    }
}

fn msg_send_any(from: &Address, to: &Address, amount: u128) -> Any {
    let msg = MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount: vec![ProtoCoin { denom: "upay".into(), amount: amount.to_string() }],
    };
    Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }
}

#[test]
fn keplr_and_cosmpy_paths() {
    let s = Server::start();
    let (_, _, a0) = key(0);
    let (_, pk1, a1) = key(1);

    // Balances as Keplr asks for them.
    let (st, v) = s.get(&format!("/cosmos/bank/v1beta1/balances/{a0}?pagination.limit=1000"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["balances"], json!([{"denom": "upay", "amount": FUND.to_string()}]));
    assert_eq!(v["pagination"]["total"], json!("0"), "{v}");
    // With count_total the total is a uint64 string.
    let (st, v) = s.get(&format!("/cosmos/bank/v1beta1/balances/{a0}?pagination.count_total=true"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["pagination"]["total"], json!("1"), "{v}");

    // cosmpy's balance query.
    let (st, v) = s.get(&format!("/cosmos/bank/v1beta1/balances/{a0}/by_denom?denom=upay"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"balance": {"denom": "upay", "amount": FUND.to_string()}}));
    let (st, v) = s.get(&format!("/cosmos/bank/v1beta1/balances/{a0}/by_denom?denom=nothing"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"balance": {"denom": "nothing", "amount": "0"}}));

    // Account: snake_case, 64-bit numbers as strings, defaults emitted, @type.
    let (st, v) = s.get(&format!("/cosmos/auth/v1beta1/accounts/{a1}"));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"account": {"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": a1.to_string(),
                           "pub_key": null, "account_number": "1", "sequence": "0"}})
    );
    // Unknown account: 404 with gRPC NotFound.
    let (_, _, nobody) = key(99);
    let (st, v) = s.get(&format!("/cosmos/auth/v1beta1/accounts/{nobody}"));
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], json!(5));
    assert!(v["message"].as_str().unwrap().contains("not found"), "{v}");

    // Module accounts expand their Any too.
    let (st, v) = s.get("/cosmos/auth/v1beta1/module_accounts");
    assert_eq!(st, StatusCode::OK, "{v}");
    // Sorted by name, as the SDK lists them.
    let names: Vec<&str> = v["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["assets", "compliance_holds", "escrow", "fee_collector", "transfer"], "{v}");
    let fee_collector = &v["accounts"][3];
    assert_eq!(fee_collector["@type"], json!("/cosmos.auth.v1beta1.ModuleAccount"), "{v}");
    assert_eq!(fee_collector["name"], json!("fee_collector"), "{v}");
    assert!(fee_collector["base_account"]["account_number"].is_string(), "{v}");

    // Other bank paths answer in shape.
    for path in [
        "/cosmos/bank/v1beta1/supply",
        "/cosmos/bank/v1beta1/supply/by_denom?denom=upay",
        "/cosmos/bank/v1beta1/params",
        "/cosmos/bank/v1beta1/denoms_metadata",
        "/cosmos/bank/v1beta1/denom_owners/upay",
        "/cosmos/bank/v1beta1/send_enabled",
        "/cosmos/auth/v1beta1/params",
        "/cosmos/auth/v1beta1/accounts",
    ] {
        let (st, v) = s.get(path);
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    for path in [
        format!("/cosmos/bank/v1beta1/spendable_balances/{a0}"),
        format!("/cosmos/bank/v1beta1/spendable_balances/{a0}/by_denom?denom=upay"),
        "/cosmos/auth/v1beta1/module_accounts/fee_collector".to_string(),
        "/cosmos/auth/v1beta1/bech32".to_string(),
        "/cosmos/base/node/v1beta1/config".to_string(),
    ] {
        let (st, v) = s.get(&path);
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    let (_, v) = s.get("/cosmos/base/node/v1beta1/config");
    assert_eq!(v["minimum_gas_price"], json!("0.025upay"), "{v}");
    // Metadata of a denom without any: an error in the gateway's shape.
    let (st, v) = s.get("/cosmos/bank/v1beta1/denoms_metadata/upay");
    assert!(st == StatusCode::OK || st == StatusCode::NOT_FOUND, "{st} {v}");
    let (_, v) = s.get("/cosmos/bank/v1beta1/supply/by_denom?denom=upay");
    assert_eq!(v["amount"], json!({"denom": "upay", "amount": (2 * FUND).to_string()}));
    let (_, v) = s.get("/cosmos/bank/v1beta1/params");
    assert_eq!(v["params"]["default_send_enabled"], json!(true), "{v}");
    let (_, v) = s.get("/cosmos/auth/v1beta1/params");
    assert!(v["params"]["max_memo_characters"].is_string(), "{v}");

    // Height header.
    let r = s
        .http
        .get(format!("{}/cosmos/bank/v1beta1/balances/{a0}", s.base))
        .header("x-cosmos-block-height", "1")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .http
        .get(format!("{}/cosmos/bank/v1beta1/balances/{a0}", s.base))
        .header("x-cosmos-block-height", "abc")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Keplr's simulate: amino sign mode, no public key, zero signature, gas 0.
    let body = TxBody { messages: vec![msg_send_any(&a1, &a0, 1000)], ..Default::default() };
    let auth = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: None,
            mode_info: Some(ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: 127 })) }),
            sequence: 0,
        }],
        fee: Some(Fee { amount: vec![], gas_limit: 0, payer: String::new(), granter: String::new() }),
        ..Default::default()
    };
    let raw = TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures: vec![vec![0u8; 64]],
    };
    let (st, v) = s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"tx_bytes": b64(&raw.encode_to_vec())}));
    assert_eq!(st, StatusCode::OK, "{v}");
    let gas_used: u64 = v["gas_info"]["gas_used"].as_str().expect("gas_used string").parse().unwrap();
    assert!(gas_used > 0, "{v}");
    // The result's msg_responses are expanded Anys.
    assert_eq!(v["result"]["msg_responses"][0]["@type"], json!("/cosmos.bank.v1beta1.MsgSendResponse"), "{v}");
    // camelCase txBytes is accepted too.
    let (st, v) = s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"txBytes": b64(&raw.encode_to_vec())}));
    assert_eq!(st, StatusCode::OK, "{v}");

    // cosmpy's simulate: the deprecated `tx` field as camelCase proto JSON.
    let tx = json!({
        "body": {
            "messages": [{"@type": "/cosmos.bank.v1beta1.MsgSend", "fromAddress": a1.to_string(),
                          "toAddress": a0.to_string(), "amount": [{"denom": "upay", "amount": "1000"}]}],
            "memo": "", "timeoutHeight": "0"
        },
        "authInfo": {
            "signerInfos": [{"publicKey": {"@type": "/cosmos.crypto.secp256k1.PubKey", "key": b64(&pk1)},
                             "modeInfo": {"single": {"mode": "SIGN_MODE_DIRECT"}}, "sequence": "0"}],
            "fee": {"amount": [], "gasLimit": "0"}
        },
        "signatures": [b64(&[7u8; 64])]
    });
    let (st, v) = s.post_json("/cosmos/tx/v1beta1/simulate", &json!({ "tx": tx }));
    assert_eq!(st, StatusCode::OK, "{v}");
    let cosmpy_gas: u64 = v["gas_info"]["gas_used"].as_str().unwrap().parse().unwrap();
    assert!(cosmpy_gas > 0, "{v}");
    // ... and the same tx in snake_case.
    let tx_snake = json!({
        "body": {"messages": [{"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": a1.to_string(),
                               "to_address": a0.to_string(), "amount": [{"denom": "upay", "amount": "1000"}]}]},
        "auth_info": {"signer_infos": [{"public_key": {"@type": "/cosmos.crypto.secp256k1.PubKey", "key": b64(&pk1)},
                                        "mode_info": {"single": {"mode": "SIGN_MODE_DIRECT"}}, "sequence": "0"}],
                      "fee": {"amount": [], "gas_limit": "0"}},
        "signatures": [b64(&[7u8; 64])]
    });
    let (st, v) = s.post_json("/cosmos/tx/v1beta1/simulate", &json!({ "tx": tx_snake }));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["gas_info"]["gas_used"].as_str().unwrap().parse::<u64>().unwrap(), cosmpy_gas);

    // CORS preflight from a browser wallet.
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/cosmos/tx/v1beta1/simulate", s.base))
        .header("origin", "chrome-extension://keplr")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
    let r = s
        .http
        .get(format!("{}/cosmos/bank/v1beta1/balances/{a0}", s.base))
        .header("origin", "https://wallet.example")
        .send()
        .unwrap();
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[test]
fn bad_input_is_a_clear_error_and_the_server_keeps_serving() {
    let s = Server::start();
    let (_, _, a0) = key(0);
    let bad = StatusCode::BAD_REQUEST;

    // Garbage base64, garbage protobuf, empty tx.
    s.assert_error(
        s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"tx_bytes": "!!not base64!!"})),
        bad,
        3,
        "base64",
    );
    s.assert_error(
        s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"tx_bytes": b64(b"\xff\xff\xff garbage protobuf")})),
        bad,
        3,
        "",
    );
    s.assert_error(s.post_json("/cosmos/tx/v1beta1/simulate", &json!({})), bad, 3, "empty txBytes");
    // Bad JSON, wrong JSON types, unknown fields.
    s.assert_error(s.post("/cosmos/tx/v1beta1/simulate", "{\"tx_bytes\": "), bad, 3, "invalid JSON");
    s.assert_error(s.post("/cosmos/tx/v1beta1/simulate", "[1,2]"), bad, 3, "expected an object");
    s.assert_error(s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"tx_bytes": 12})), bad, 3, "invalid request");
    s.assert_error(s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"nonsense": 1})), bad, 3, "nonsense");
    s.assert_error(
        s.post_json("/cosmos/tx/v1beta1/simulate", &json!({"tx": {"body": {"messages": [{"@type": "/x.Unknown"}]}}})),
        bad,
        3,
        "unknown type URL",
    );
    // Unknown paths and methods: 501 with gRPC Unimplemented.
    s.assert_error(s.get("/cosmos/nothing/here"), StatusCode::NOT_IMPLEMENTED, 12, "Not Implemented");
    s.assert_error(s.post_json("/cosmos/bank/v1beta1/supply", &json!({})), StatusCode::NOT_IMPLEMENTED, 12, "");
    // A huge body.
    let huge = format!("{{\"tx_bytes\": \"{}\"}}", "A".repeat(5 * 1024 * 1024));
    s.assert_error(s.post("/cosmos/tx/v1beta1/simulate", huge), StatusCode::PAYLOAD_TOO_LARGE, 3, "too large");
    // Pagination: negative, non-numeric, absurd, bad key.
    let balances = format!("/cosmos/bank/v1beta1/balances/{a0}");
    s.assert_error(s.get(&format!("{balances}?pagination.limit=-1")), bad, 3, "pagination.limit");
    s.assert_error(s.get(&format!("{balances}?pagination.offset=-5")), bad, 3, "must not be negative");
    s.assert_error(s.get(&format!("{balances}?pagination.limit=ten")), bad, 3, "not an integer");
    s.assert_error(s.get(&format!("{balances}?pagination.limit=99999999999999999999999")), bad, 3, "out of range");
    s.assert_error(s.get(&format!("{balances}?pagination.count_total=maybe")), bad, 3, "not a boolean");
    s.assert_error(s.get(&format!("{balances}?pagination.key=%%%")), bad, 3, "");
    // A u64 limit above the module's maximum is refused by the module, clearly.
    s.assert_error(s.get(&format!("{balances}?pagination.limit=18446744073709551615")), bad, 3, "exceeds the maximum");
    // An invalid address is InvalidArgument.
    s.assert_error(s.get("/cosmos/bank/v1beta1/balances/notanaddress"), bad, 3, "");
    // Without CometBFT (the config points at a closed port) the services
    // that need it answer 503 Unavailable, not a hang.
    let (st, v) = s.get("/cosmos/tx/v1beta1/txs/0000000000000000000000000000000000000000000000000000000000000000");
    assert_eq!((st, v["code"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!(14)), "{v}");
    let (st, v) = s.get("/cosmos/base/tendermint/v1beta1/node_info");
    assert_eq!((st, v["code"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!(14)), "{v}");
}

/// A module's routes (escrow's) are served from its message types alone: path
/// and pagination parameters fill the request, the response is the gateway's JSON.
#[test]
fn module_routes_are_served_from_their_types() {
    let s = Server::start();
    let (status, v) = s.get("/paychain/escrow/v1/params");
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"params": {"max_arbiters": 7, "max_reference_length": 140, "max_coins": 8,
                          "max_expired_refunds_per_block": 100}})
    );
    let sender = key(0).2.to_string();
    let (status, v) = s.get(&format!("/paychain/escrow/v1/escrows/by_sender/{sender}?pagination.count_total=true"));
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"escrows": [], "pagination": {"next_key": null, "total": "0"}}));
    let (status, v) = s.get("/paychain/escrow/v1/escrows/7");
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, v) = s.get("/paychain/escrow/v1/escrows/x7");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("id"), "{v}");
    let (status, v) = s.get(&format!("/paychain/escrow/v1/escrows/by_arbiter/{sender}?pagination.limit=-1"));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
}
