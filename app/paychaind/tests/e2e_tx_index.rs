//! The node's own tx index and its RPC front, end to end: `paychaind dev` (the front on the
//! node's RPC port, CometBFT's RPC behind it) with CometBFT's kv indexer turned on too, four
//! signed sends, then the same `tx` and `tx_search` calls asked of CometBFT's own RPC and of
//! the front must get the same answers,
//! byte for byte in JSON: by hash, by sender, recipient, amount, height range, both orders,
//! page by page, unknown hashes, the URI form and a JSON-RPC batch. Then an escrow refunded at
//! the end of a block, and the same `block_search` calls (its block event, heights alone,
//! pages, both orders, the URI form). Calls the front does not answer (status, the
//! websocket, a broadcast refused by CometBFT) reach CometBFT through it.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed, and never under
//! CI (`CI` set).

mod common;
use common::{cometbft_available, dev_secret, free_ports, DevNode};
use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use cosmos_sdk_proto::Any;
use paychain_client::tx::{build_signed_tx, tx_body, SignerData};
use prost::Message;
use serde_json::{json, Value};

fn post(client: &reqwest::blocking::Client, port: u16, body: &Value) -> Value {
    let resp = client.post(format!("http://127.0.0.1:{port}/")).json(body).send().unwrap();
    resp.json().unwrap()
}

fn get(client: &reqwest::blocking::Client, port: u16, path_and_query: &str) -> (u16, Value) {
    let resp = client.get(format!("http://127.0.0.1:{port}{path_and_query}")).send().unwrap();
    (resp.status().as_u16(), resp.json().unwrap())
}

/// Reads one HTTP/1.1 response (Content-Length or chunked body): (status, JSON body).
fn read_response(stream: &mut std::net::TcpStream) -> (u16, Value) {
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        chunked |= header.starts_with("transfer-encoding:") && header.contains("chunked");
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length.expect("a length"), 0);
        reader.read_exact(&mut body).unwrap();
    }
    (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body))))
}

fn call(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
}

#[test]
fn tx_and_tx_search_from_the_nodes_index_match_cometbfts() {
    if !cometbft_available("tx_and_tx_search_from_the_nodes_index_match_cometbfts") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ports = free_ports();
    // CometBFT's indexer on, to compare with; the front is on by default.
    let mut dev = DevNode::start_with(&home, &ports, "dev.log", &["--cometbft-indexer", "kv"]);
    let (front, comet) = (ports.rpc, ports.cometbft_rpc);
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    // The first blocks, seen through the front (a forwarded call).
    wait_for_height(&http, front, &mut dev, 2);

    // Four sends from the dev key: two to `a`, one to `b`, and one to `b` of more than the key
    // holds, which fails in its block (empty data, an error log and codespace).
    let secret = dev_secret(&home);
    let dev_addr = paychain_client::keyring::address_of(&secret).to_string();
    let account: Value = http
        .get(format!("http://127.0.0.1:{}/cosmos/auth/v1beta1/accounts/{dev_addr}", ports.rest))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let number: u64 = account["account"]["account_number"].as_str().unwrap().parse().unwrap();
    let sequence: u64 = account["account"]["sequence"].as_str().unwrap().parse().unwrap();
    let to = |seed: u8| {
        paychain_client::keyring::address_of(&secp256k1::SecretKey::from_slice(&[seed; 32]).unwrap()).to_string()
    };
    let (a, b) = (to(7), to(8));
    let (mut hashes, mut sent) = (Vec::new(), Vec::new());
    for (i, (recipient, amount)) in
        [(&a, "1001"), (&b, "2002"), (&a, "3003"), (&b, "900000000000000")].into_iter().enumerate()
    {
        let msg = MsgSend {
            from_address: dev_addr.clone(),
            to_address: recipient.clone(),
            amount: vec![ProtoCoin { denom: "upay".into(), amount: amount.into() }],
        };
        let body =
            tx_body(vec![Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }], "", 0);
        let fee = Fee {
            amount: vec![ProtoCoin { denom: "upay".into(), amount: "5000".into() }],
            gas_limit: 200_000,
            ..Default::default()
        };
        let signer = SignerData {
            key: &secret,
            chain_id: "paychain-dev-1",
            account_number: number,
            sequence: sequence + i as u64,
        };
        let tx = build_signed_tx(&body, fee, &signer);
        // Broadcast through the front: forwarded to CometBFT, answered with the caller's id.
        let answer = post(&http, front, &call("broadcast_tx_sync", json!({"tx": STANDARD.encode(&tx)})));
        assert_eq!(answer["result"]["code"], 0, "{answer}");
        assert_eq!(answer["id"], 7, "{answer}");
        hashes.push(paychain_client::tx::tx_hash(&tx));
        assert_eq!(answer["result"]["hash"], hashes[i].as_str(), "{answer}");
        sent.push(tx);
    }
    // The same tx again, by JSON-RPC to CometBFT and through the front: the same answer (an
    // error, with HTTP 200 as CometBFT's JSON-RPC gives it), for an integer and a string id.
    for (id, params) in
        [(json!(7), json!({"tx": STANDARD.encode(&sent[0])})), (json!("re-1"), json!([STANDARD.encode(&sent[0])]))]
    {
        let again = json!({"jsonrpc": "2.0", "id": id, "method": "broadcast_tx_sync", "params": params});
        let want = post(&http, comet, &again);
        let response = http.post(format!("http://127.0.0.1:{front}/")).json(&again).send().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let got: Value = response.json().unwrap();
        assert_eq!(got, want, "a resent tx through the front and to CometBFT");
        assert!(got["error"]["data"].as_str().is_some_and(|d| d.contains("already exists")), "{got}");
    }

    // Wait until CometBFT has indexed all four.
    let deadline = Instant::now() + Duration::from_secs(60);
    for h in &hashes {
        let by_hash = call("tx", json!({"hash": STANDARD.encode(hex::decode(h).unwrap())}));
        while post(&http, comet, &by_hash).get("result").is_none() {
            assert!(Instant::now() < deadline, "tx {h} not committed within 60 s; log:\n{}", dev.log_tail());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    let same = |request: Value| {
        let want = post(&http, comet, &request);
        let got = post(&http, front, &request);
        assert_eq!(got, want, "front and CometBFT differ for {request}");
        got
    };
    for h in &hashes {
        let got = same(call("tx", json!({"hash": STANDARD.encode(hex::decode(h).unwrap())})));
        assert_eq!(got["result"]["hash"], h.as_str());
        assert!(got["result"]["tx_result"]["events"].as_array().is_some_and(|e| !e.is_empty()), "{got}");
    }
    // prove=true: the tx's Merkle proof in its block, from the block's tx hashes in the index.
    let by_hash_proved = call("tx", json!({"hash": STANDARD.encode(hex::decode(&hashes[0]).unwrap()), "prove": true}));
    let proved = same(by_hash_proved.clone());
    assert!(proved["result"]["proof"]["root_hash"].is_string(), "{proved}");
    // An unknown hash is the same error.
    let missing = same(call("tx", json!({"hash": STANDARD.encode([9u8; 32])})));
    assert!(missing["error"]["data"].as_str().is_some_and(|d| d.contains("not found")), "{missing}");

    let search = |query: &str, extra: Value| {
        let mut params = json!({"query": query});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        same(call("tx_search", params))
    };
    let count = |v: &Value| v["result"]["total_count"].as_str().unwrap_or("?").to_string();
    let sender = format!("message.sender='{dev_addr}'");
    let proofs = search(&sender, json!({"prove": true, "order_by": "desc"}));
    assert!(proofs["result"]["txs"][3]["proof"]["proof"]["leaf_hash"].is_string(), "{proofs}");
    assert_eq!(count(&search(&format!("tx.fee_payer='{dev_addr}'"), json!({}))), "4");
    // The ante's `message.sender` is in a failed tx's result too; its transfer is not.
    assert_eq!(count(&search(&sender, json!({}))), "4");
    assert_eq!(count(&search(&format!("transfer.recipient='{a}'"), json!({}))), "2");
    assert_eq!(count(&search(&format!("transfer.sender='{dev_addr}' AND transfer.recipient='{b}'"), json!({}))), "1");
    // Conditions on attributes hold in one event (CometBFT v0.38): never across two.
    assert_eq!(count(&search(&format!("{sender} AND transfer.recipient='{b}'"), json!({}))), "0");
    assert_eq!(count(&search("transfer.amount CONTAINS '3003'", json!({}))), "1");
    assert_eq!(count(&search(&format!("transfer.recipient='{}'", to(9)), json!({}))), "0");
    let all = search(&sender, json!({"order_by": "desc", "per_page": "2", "page": "1"}));
    assert_eq!(all["result"]["txs"].as_array().map(Vec::len), Some(2));
    search(&sender, json!({"order_by": "desc", "per_page": "2", "page": "2"}));
    search(&sender, json!({"order_by": "asc", "per_page": "2", "page": "2"}));
    // A page as a JSON number is refused, as CometBFT refuses it.
    let numeric = search(&sender, json!({"per_page": 2}));
    assert_eq!(numeric["error"]["code"], -32602, "{numeric}");
    let first: u64 = all["result"]["txs"][1]["height"].as_str().unwrap().parse().unwrap();
    let low = search(&format!("tx.height<={first} AND {sender}"), json!({}));
    assert!(count(&low) != "0", "{low}");
    search(&format!("tx.height>{first}"), json!({}));
    // Errors: a page out of range, a malformed query.
    let past = search(&sender, json!({"per_page": "2", "page": "5"}));
    assert!(past["error"]["data"].as_str().is_some_and(|d| d.contains("page should be within")), "{past}");
    let bad = post(&http, front, &call("tx_search", json!({"query": "message.sender="})));
    assert!(bad["error"]["data"].as_str().is_some_and(|d| d.contains("query")), "{bad}");

    // GetTx and GetTxsEvent (REST here) answer from the node's index: the same tx and result.
    let rest = |path: &str| -> Value {
        http.get(format!("http://127.0.0.1:{}{path}", ports.rest)).send().unwrap().json().unwrap()
    };
    let from_comet =
        post(&http, comet, &call("tx", json!({"hash": STANDARD.encode(hex::decode(&hashes[3]).unwrap())})));
    let got = rest(&format!("/cosmos/tx/v1beta1/txs/{}", hashes[3]));
    let resp = &got["tx_response"];
    assert_eq!(resp["txhash"], hashes[3].as_str(), "{got}");
    assert_eq!(resp["height"], from_comet["result"]["height"], "{got}");
    assert_eq!(resp["code"], from_comet["result"]["tx_result"]["code"], "{got}");
    assert_eq!(resp["raw_log"], from_comet["result"]["tx_result"]["log"], "{got}");
    assert_eq!(
        resp["events"].as_array().map(Vec::len),
        from_comet["result"]["tx_result"]["events"].as_array().map(Vec::len)
    );
    assert!(resp["timestamp"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20), "{got}");
    assert_eq!(got["tx"]["body"]["messages"][0]["to_address"], b.as_str(), "{got}");
    let listed = rest(&format!("/cosmos/tx/v1beta1/txs?query=transfer.recipient%3D%27{a}%27&order_by=ORDER_BY_DESC"));
    assert_eq!(listed["total"], "2", "{listed}");
    assert_eq!(listed["tx_responses"][0]["txhash"], hashes[2].as_str(), "newest first: {listed}");
    let missing = rest(&format!("/cosmos/tx/v1beta1/txs/{}", hex::encode_upper([9u8; 32])));
    assert_eq!(missing["code"], 5, "NotFound: {missing}");

    // The URI form.
    let path = format!("/tx?hash=0x{}", hashes[1]);
    assert_eq!(get(&http, front, &path), get(&http, comet, &path));
    let path = format!("/tx_search?query=%22{}%22&order_by=%22desc%22", sender.replace('\'', "%27"));
    let (status, body) = get(&http, front, &path);
    assert_eq!((status, &body), (200, &get(&http, comet, &path).1));
    assert_eq!(count(&body), "4");
    let failed = same(call("tx", json!({"hash": STANDARD.encode(hex::decode(&hashes[3]).unwrap())})));
    assert_ne!(failed["result"]["tx_result"]["code"], 0, "{failed}");

    // The URI form as people type it, quotes and `>` unencoded, two requests on one
    // connection: a forwarded one kept alive, then one the front answers.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", front)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(raw, "GET /block?height=2 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, block) = read_response(&mut raw);
    assert_eq!(status, 200);
    assert_eq!(block["result"]["block"]["header"]["height"], "2", "{block}");
    let typed = format!("/tx_search?query=\"{sender}\"&order_by=\"desc\"&per_page=\"1\"");
    write!(raw, "GET {typed} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let (status, body) = read_response(&mut raw);
    let mut direct = std::net::TcpStream::connect(("127.0.0.1", comet)).unwrap();
    write!(direct, "GET {typed} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!((status, &body), (200, &read_response(&mut direct).1));
    assert_eq!(count(&body), "4");

    // A batch mixing a forwarded call with one the front answers.
    let batch = json!([
        call("health", json!({})),
        call("tx", json!({"hash": STANDARD.encode(hex::decode(&hashes[0]).unwrap())}))
    ]);
    let answers = post(&http, front, &batch);
    assert_eq!(answers[0]["result"], json!({}), "{answers}");
    assert_eq!(answers[1], post(&http, comet, &batch[1]));

    // `block_search` (Hermes falls back to it for packets `tx_search` does not find) over the
    // blocks' own events: an escrow refunded at the end of a block, created through the front
    // with the CLI (whose `--wait` looks the tx up there).
    let out = common::clean_command()
        .arg("--home")
        .arg(&home)
        .args(["tx", "escrow", "create", "dev", &b, "300000upay", "--refund-after", "+2s"])
        .args(["--fees", "5000upay", "--gas", "400000", "--keyring-backend", "test"])
        .args(["--node", &format!("http://127.0.0.1:{front}"), "--yes", "--wait", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "escrow create: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let escrow_id = created["escrow_id"].as_str().unwrap_or_else(|| panic!("no escrow_id: {created}")).to_string();
    let refunded = format!("escrow_refunded.id='{escrow_id}'");
    let deadline = Instant::now() + Duration::from_secs(60);
    let refund_height: u64 = loop {
        let found = post(&http, comet, &call("block_search", json!({"query": refunded})));
        if let Some(h) = found["result"]["blocks"][0]["block"]["header"]["height"].as_str() {
            break h.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "escrow {escrow_id} not refunded within 60 s: {found}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let block_search = |query: &str, extra: Value| {
        let mut params = json!({"query": query});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        same(call("block_search", params))
    };
    let heights = |v: &Value| -> Vec<String> {
        v["result"]["blocks"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|b| b["block"]["header"]["height"].as_str().unwrap().to_string())
            .collect()
    };
    let found = block_search(&refunded, json!({}));
    assert_eq!(heights(&found), [refund_height.to_string()], "{found}");
    // Heights only (up to one both indexes hold: CometBFT indexes blocks after the commit).
    let upto = format!("block.height <= {refund_height}");
    let newest = block_search(&format!("block.height >= 1 AND {upto}"), json!({"per_page": "2"}));
    assert_eq!(count(&newest), refund_height.to_string(), "every block is indexed, empty ones too");
    assert_eq!(heights(&newest), [refund_height.to_string(), (refund_height - 1).to_string()], "desc by default");
    let page2 =
        block_search(&format!("block.height > 1 AND {upto}"), json!({"per_page": "3", "page": "2", "order_by": "asc"}));
    assert_eq!(heights(&page2), ["5", "6", "7"], "{page2}");
    block_search(&format!("block.height = {refund_height}"), json!({}));
    block_search(&format!("escrow_refunded.reason = 'expired' AND escrow_refunded.mode EXISTS AND {upto}"), json!({}));
    let none = block_search(&format!("{refunded} AND escrow_refunded.reason = 'cancelled'"), json!({}));
    assert_eq!(count(&none), "0");
    // A tx's event is not a block's.
    assert_eq!(count(&block_search(&format!("transfer.recipient='{a}'"), json!({}))), "0");
    let past = block_search(&refunded, json!({"page": "2"}));
    assert!(past["error"]["data"].as_str().is_some_and(|d| d.contains("page should be within")), "{past}");
    let path = format!("/block_search?query=%22{}%22&order_by=%22asc%22", refunded.replace('\'', "%27"));
    let (status, body) = get(&http, front, &path);
    assert_eq!((status, &body), (200, &get(&http, comet, &path).1));
    assert_eq!(heights(&body), [refund_height.to_string()]);

    // The websocket endpoint is CometBFT's, reached through the front.
    let mut ws = std::net::TcpStream::connect(("127.0.0.1", front)).unwrap();
    ws.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        ws,
        "GET /websocket HTTP/1.1\r\nHost: 127.0.0.1:{front}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 64];
    let n = ws.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");

    // The same node restarted with CometBFT's indexer off: CometBFT refuses `block_search`
    // and knows no tx, and the front still answers all three, as before, from the node's index.
    let by_hash = call("tx", json!({"hash": STANDARD.encode(hex::decode(&hashes[2]).unwrap())}));
    let (tx_before, txs_before) = (post(&http, front, &by_hash), search(&sender, json!({})));
    let blocks_before = block_search(&refunded, json!({}));
    assert!(dev.sigterm(Duration::from_secs(20)).success());
    let mut dev = DevNode::start_with(&home, &ports, "dev2.log", &["--cometbft-indexer", "null"]);
    wait_for_height(&http, front, &mut dev, 1);
    let config = std::fs::read_to_string(home.join("config/config.toml")).unwrap();
    assert!(config.contains("indexer = \"null\""), "dev --cometbft-indexer null sets config.toml");
    let refused = post(&http, comet, &call("block_search", json!({"query": refunded})));
    assert!(refused["error"]["data"].as_str().is_some_and(|d| d.contains("block indexing is disabled")), "{refused}");
    assert!(post(&http, comet, &by_hash).get("result").is_none(), "CometBFT indexes no tx now");
    assert_eq!(post(&http, front, &call("block_search", json!({"query": refunded}))), blocks_before);
    assert_eq!(post(&http, front, &by_hash), tx_before);
    assert_eq!(post(&http, front, &call("tx_search", json!({"query": sender}))), txs_before);
    // Without CometBFT's index: an unknown hash is still "not found", and proofs are the same.
    let missing = post(&http, front, &call("tx", json!({"hash": STANDARD.encode([9u8; 32])})));
    assert!(missing["error"]["data"].as_str().is_some_and(|d| d.contains("not found")), "{missing}");
    assert_eq!(post(&http, front, &by_hash_proved), proved);
    let rest_missing: Value = http
        .get(format!("http://127.0.0.1:{}/cosmos/tx/v1beta1/txs/{}", ports.rest, hex::encode_upper([9u8; 32])))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(rest_missing["code"], 5, "NotFound, not CometBFT's \"indexing is disabled\": {rest_missing}");

    dev.sigterm(Duration::from_secs(20));
}

/// Waits (120 s at most) until the RPC on `port` reports height `height` or more.
fn wait_for_height(http: &reqwest::blocking::Client, port: u16, dev: &mut DevNode, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while post_ok(http, port, &call("status", json!({})))
        .and_then(|v| v["result"]["sync_info"]["latest_block_height"].as_str()?.parse::<u64>().ok())
        .is_none_or(|h| h < height)
    {
        dev.assert_running();
        assert!(
            Instant::now() < deadline,
            "height {height} not seen on port {port} within 120 s; log:\n{}",
            dev.log_tail()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A JSON-RPC answer, or `None` while the server is not up.
fn post_ok(client: &reqwest::blocking::Client, port: u16, body: &Value) -> Option<Value> {
    client.post(format!("http://127.0.0.1:{port}/")).json(body).send().ok()?.json().ok()
}

/// A node that turns its index on mid-chain lacks the earlier txs: `tx` through the front and
/// GetTx then find them in CometBFT's index (on here, as by default).
#[test]
fn a_tx_from_before_the_index_is_found_in_cometbfts() {
    if !cometbft_available("a_tx_from_before_the_index_is_found_in_cometbfts") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ports = free_ports();
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    // No front at first: CometBFT serves the node's RPC and indexes (kv), the node does not.
    let mut dev = DevNode::start_with(&home, &ports, "dev.log", &["--cometbft-rpc-port", "0"]);
    wait_for_height(&http, ports.rpc, &mut dev, 2);
    let to = paychain_client::keyring::address_of(&secp256k1::SecretKey::from_slice(&[7; 32]).unwrap()).to_string();
    let out = common::clean_command()
        .arg("--home")
        .arg(&home)
        .args(["tx", "bank", "send", "dev", &to, "1000upay", "--fees", "5000upay", "--gas", "200000"])
        .args(["--keyring-backend", "test", "--node", &format!("http://127.0.0.1:{}", ports.rpc)])
        .args(["--yes", "--wait", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "bank send: {}", String::from_utf8_lossy(&out.stderr));
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hash = sent["txhash"].as_str().unwrap().to_string();
    assert!(dev.sigterm(Duration::from_secs(20)).success());

    // Restarted with `dev`'s defaults: the front on the node's RPC port, CometBFT's RPC behind
    // it, its kv indexer kept (an existing home keeps its indexer).
    let mut dev = DevNode::start(&home, &ports, "dev2.log");
    let front = ports.rpc;
    wait_for_height(&http, front, &mut dev, 1);
    let config = std::fs::read_to_string(home.join("config/app.toml")).unwrap();
    assert!(config.contains("tx_index = true"), "the front turns the node's index on: {config}");
    assert!(dev.log().contains("CometBFT's kv indexer is on beside the node's index"), "{}", dev.log_tail());
    let by_hash = call("tx", json!({"hash": STANDARD.encode(hex::decode(&hash).unwrap())}));
    let got = post(&http, front, &by_hash);
    assert_eq!(got, post(&http, ports.cometbft_rpc, &by_hash));
    assert_eq!(got["result"]["hash"], hash.as_str(), "{got}");
    let rest: Value = http
        .get(format!("http://127.0.0.1:{}/cosmos/tx/v1beta1/txs/{hash}", ports.rest))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(rest["tx_response"]["txhash"], hash.as_str(), "{rest}");
    assert_eq!(rest["tx_response"]["height"], sent["height"], "{rest}");
    dev.sigterm(Duration::from_secs(20));
}
