//! Node-local risk screening at admission (app.toml `risk_service_*`) on a real two-validator
//! localnet with the reference risk service (`paychain-risk-service`, started here on a loopback
//! port): a node refuses at CheckTx what its own service refuses or cannot answer in time
//! (fail closed), with nothing changed; the other node admits the same tx, it is committed, and
//! the screening node executes that block and agrees on every block and app hash. The decision
//! logs and metrics of both nodes show the decisions.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::cometbft_available;
use common::localnet::{rt, test_account, TestAccount, TestNet, DENOM};
use paychain_client::tx;
use paychain_client::BroadcastResult;
use paychain_framework::{Address, Coins};
use paychain_node::config::AppConfig;
use paychain_risk_service::{Rules, Running};
use serde_json::Value;

/// One localnet at a time: two validators already share two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const FUNDS: u128 = 1_000_000_000;
const SENT: u128 = 1_000;

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A loopback address below the ephemeral range that nothing listens on (yet).
fn free_addr() -> SocketAddr {
    ([127, 0, 0, 1], common::free_port_block(1)).into()
}

/// The reference service on a free port, stopped when dropped.
fn service(rules: Rules) -> Running {
    Running::start(free_addr(), rules).expect("starting the risk service")
}

/// Points `node`'s app.toml at a risk service (before the node starts).
fn screen_with(net: &TestNet, node: &str, url: &str, timeout_ms: u64, fail_open: bool) {
    let home = net.home(node);
    let mut config = AppConfig::load(&home).unwrap();
    config.risk_service_url = url.to_string();
    config.risk_service_timeout_ms = timeout_ms;
    config.risk_service_fail_open = fail_open;
    config.save(&home).unwrap();
}

/// A signed send of `SENT` from `from`, `ahead` txs past its committed sequence on `node`.
fn send_tx(net: &TestNet, node: &str, from: &TestAccount, to: &Address, ahead: u64) -> Vec<u8> {
    let client = net.client(node);
    let acc = rt().block_on(client.account(&from.address, None)).unwrap().expect("a genesis account");
    let amount: Coins = format!("{SENT}{DENOM}").parse().unwrap();
    let body = tx::tx_body(vec![tx::msg_send(&from.address, to, &amount)], "", 0);
    tx::build_signed_tx(
        &body,
        tx::fee(&Coins::empty(), 200_000),
        &tx::SignerData {
            key: &from.key,
            chain_id: &net.chain_id,
            account_number: acc.account_number,
            sequence: acc.sequence + ahead,
        },
    )
}

fn broadcast(net: &TestNet, node: &str, bytes: &[u8]) -> BroadcastResult {
    rt().block_on(net.client(node).broadcast_sync(bytes.to_vec())).unwrap()
}

/// (sequence, upay balance) of `who` on `node`'s latest state.
fn account_state(net: &TestNet, node: &str, who: &Address) -> (u64, u128) {
    let client = net.client(node);
    let acc = rt().block_on(client.account(who, None)).unwrap().unwrap();
    let balance = rt().block_on(client.balance(who, DENOM, None)).unwrap();
    (acc.sequence, balance.amount.parse().unwrap())
}

/// Waits for the tx on `node`; returns its height (it must have succeeded).
fn committed_at(net: &TestNet, node: &str, hash: &str) -> u64 {
    let hash = tx::parse_tx_hash(hash).unwrap();
    let r = rt().block_on(net.client(node).wait_for_tx(hash, Duration::from_secs(30))).unwrap();
    assert_eq!(r.tx_result.code.value(), 0, "{:?}", r.tx_result.log);
    r.height.value()
}

/// Both nodes hold the same block, so the same app hash, at every height up to `to`.
fn assert_agree(net: &TestNet, to: u64) {
    for n in ["node0", "node1"] {
        net.wait_height(n, to, Duration::from_secs(30));
    }
    net.assert_same_chain(&["node0", "node1"], 1..=to);
}

/// The node's decision log, one JSON object per line.
fn decisions(net: &TestNet, node: &str) -> Vec<Value> {
    let path = net.home(node).join("data/risk_decisions.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))).collect()
}

fn decisions_for<'a>(log: &'a [Value], hash: &str) -> Vec<&'a Value> {
    log.iter().filter(|d| d["tx_hash"] == hash).collect()
}

/// `paychain_risk_*` and `paychain_check_tx_rejected_total` samples of the node's /metrics.
fn metrics(net: &TestNet, node: &str) -> BTreeMap<String, f64> {
    let url = format!("http://127.0.0.1:{}/metrics", net.node(node).ports.metrics);
    let text = reqwest::blocking::get(url).unwrap().text().unwrap();
    text.lines()
        .filter(|l| l.starts_with("paychain_risk_") || l.starts_with("paychain_check_tx_rejected_total"))
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_string(), v.parse().unwrap())))
        .collect()
}

fn screened(m: &BTreeMap<String, f64>, decision: &str) -> f64 {
    m[&format!("paychain_risk_screened_total{{decision=\"{decision}\"}}")]
}

fn start(net: &TestNet) {
    net.ok(&["start"]);
    for n in ["node0", "node1"] {
        net.wait_height(n, 2, Duration::from_secs(60));
    }
}

#[test]
fn a_node_refuses_what_its_risk_service_refuses_and_still_agrees_on_every_block() {
    if !cometbft_available("a_node_refuses_what_its_risk_service_refuses_and_still_agrees_on_every_block") {
        return;
    }
    let _one = exclusive();
    let started = Instant::now();
    let flagged = test_account("risk-flagged-sender");
    let ordinary = test_account("risk-ordinary-sender");
    let to = test_account("risk-recipient").address;
    // Declared before the localnet, so dropped after its nodes are killed.
    let svc = service(Rules { refuse_senders: vec![flagged.address.to_string()], ..Rules::default() });
    let funds: Coins = format!("{FUNDS}{DENOM}").parse().unwrap();
    let net = TestNet::init(2, 0, &[(flagged.address.clone(), funds.clone()), (ordinary.address.clone(), funds)], &[]);
    // node0 asks the refusing service and fails closed (a generous timeout: this is not the
    // timeout test, and CI machines are loaded); node1's service is down, and it fails open.
    screen_with(&net, "node0", &svc.url(), 2_000, false);
    screen_with(&net, "node1", &format!("http://{}/screen", free_addr()), 200, true);
    start(&net);

    // (1) node0 refuses the flagged sender's tx at admission; nothing changes.
    let before = account_state(&net, "node0", &flagged.address);
    let bytes = send_tx(&net, "node0", &flagged, &to, 0);
    let refused = broadcast(&net, "node0", &bytes);
    assert_eq!((refused.code, refused.codespace.as_str()), (1, "risk_screening"), "{refused:?}");
    assert!(refused.log.starts_with("refused by this node's risk service: "), "{}", refused.log);
    assert!(refused.log.contains(&flagged.address.to_string()), "the service's reason: {}", refused.log);
    let h = net.height("node0").unwrap();
    net.wait_height("node0", h + 2, Duration::from_secs(30));
    assert_eq!(account_state(&net, "node0", &flagged.address), before, "sequence and balance unchanged");

    // An ordinary sender's txs pass node0's screening (and give a latency figure).
    let mut ordinary_hashes = Vec::new();
    for i in 0..10 {
        let bytes = send_tx(&net, "node0", &ordinary, &to, i);
        let r = broadcast(&net, "node0", &bytes);
        assert_eq!(r.code, 0, "{r:?}");
        ordinary_hashes.push(r.txhash);
    }
    committed_at(&net, "node0", ordinary_hashes.last().unwrap());

    // (2) node1 (its service unreachable, failing open) admits the same tx; it is committed,
    // node0 executes that block too, and both agree on every block and app hash.
    let admitted = broadcast(&net, "node1", &bytes);
    assert_eq!(admitted.code, 0, "{admitted:?}");
    assert_eq!(admitted.txhash, refused.txhash);
    let height = committed_at(&net, "node1", &admitted.txhash);
    assert_agree(&net, height + 1);
    let (seq, balance) = account_state(&net, "node0", &flagged.address);
    assert_eq!((seq, balance), (before.0 + 1, before.1 - SENT), "node0 executed the block it would not have proposed");
    let (app0, app1) = (net.block_ids("node0", height + 1).1, net.block_ids("node1", height + 1).1);
    assert_eq!(app0, app1, "app hash after height {height}");

    // (4) The decision logs and metrics.
    let log0 = decisions(&net, "node0");
    let refusals = decisions_for(&log0, &refused.txhash);
    // Once from RPC; maybe again when node1 gossiped it.
    assert!(!refusals.is_empty() && refusals.iter().all(|d| d["decision"] == "refuse"), "{refusals:?}");
    assert_eq!(refusals[0]["score"], 100.0);
    assert!(refusals[0]["reason"].as_str().unwrap().contains(&flagged.address.to_string()));
    assert!(refusals[0]["time"].as_str().unwrap().ends_with('Z'));
    let latencies: Vec<f64> = ordinary_hashes
        .iter()
        .map(|h| {
            let d = decisions_for(&log0, h);
            assert_eq!(d[0]["decision"], "allow", "{d:?}");
            d[0]["latency_ms"].as_f64().unwrap()
        })
        .collect();
    let log1 = decisions(&net, "node1");
    let errors = decisions_for(&log1, &refused.txhash);
    assert_eq!(errors[0]["decision"], "error_admitted", "{errors:?}");
    assert!(!errors[0]["error"].as_str().unwrap().is_empty());

    let m0 = metrics(&net, "node0");
    assert!(screened(&m0, "refuse") >= 1.0 && screened(&m0, "allow") >= 10.0, "{m0:?}");
    assert_eq!(screened(&m0, "error_refused"), 0.0);
    let rejected = "paychain_check_tx_rejected_total{type=\"new\",code=\"1\",codespace=\"risk_screening\"}";
    assert!(m0.get(rejected).is_some_and(|n| *n >= 1.0), "{m0:?}");
    let m1 = metrics(&net, "node1");
    assert!(screened(&m1, "error_admitted") >= 1.0, "{m1:?}");
    assert_eq!(screened(&m1, "allow") + screened(&m1, "refuse"), 0.0, "{m1:?}");

    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    let max = latencies.iter().cloned().fold(0.0, f64::max);
    let (sum, count) =
        (m0["paychain_risk_screening_duration_seconds_sum"], m0["paychain_risk_screening_duration_seconds_count"]);
    eprintln!(
        "risk screening with a loopback service: {} allowed txs, mean {mean:.3} ms, max {max:.3} ms \
         (node0 histogram: {count} calls, mean {:.3} ms); test took {:?}",
        latencies.len(),
        sum / count * 1e3,
        started.elapsed()
    );
}

#[test]
fn a_slow_risk_service_times_out_fail_open_admits_and_fail_closed_refuses() {
    if !cometbft_available("a_slow_risk_service_times_out_fail_open_admits_and_fail_closed_refuses") {
        return;
    }
    let _one = exclusive();
    let started = Instant::now();
    let sender = test_account("risk-slow-sender");
    let to = test_account("risk-slow-recipient").address;
    let svc = service(Rules { delay: Duration::from_secs(2), ..Rules::default() });
    let funds: Coins = format!("{FUNDS}{DENOM}").parse().unwrap();
    let net = TestNet::init(2, 0, &[(sender.address.clone(), funds)], &[]);
    const TIMEOUT_MS: u64 = 100;
    screen_with(&net, "node0", &svc.url(), TIMEOUT_MS, false);
    screen_with(&net, "node1", &svc.url(), TIMEOUT_MS, true);
    start(&net);

    // Fail closed: refused once the timeout passes, long before the service would answer.
    let before = account_state(&net, "node0", &sender.address);
    let bytes = send_tx(&net, "node0", &sender, &to, 0);
    let t = Instant::now();
    let refused = broadcast(&net, "node0", &bytes);
    let took = t.elapsed();
    assert_eq!((refused.code, refused.codespace.as_str()), (2, "risk_screening"), "{refused:?}");
    assert_eq!(refused.log, format!("risk service unavailable (fail-closed): no answer within {TIMEOUT_MS} ms"));
    assert!(took < Duration::from_millis(1_500), "broadcast took {took:?}: the timeout did not hold");
    assert_eq!(account_state(&net, "node0", &sender.address), before);

    // Fail open: the same tx is admitted by node1 and committed; node0 agrees on the block.
    let admitted = broadcast(&net, "node1", &bytes);
    assert_eq!(admitted.code, 0, "{admitted:?}");
    let height = committed_at(&net, "node1", &admitted.txhash);
    assert_agree(&net, height + 1);
    assert_eq!(account_state(&net, "node0", &sender.address), (before.0 + 1, before.1 - SENT));

    let timed_out = format!("no answer within {TIMEOUT_MS} ms");
    let d0 = decisions(&net, "node0");
    let d0 = decisions_for(&d0, &refused.txhash);
    assert_eq!((d0[0]["decision"].as_str(), d0[0]["error"].as_str()), (Some("error_refused"), Some(&*timed_out)));
    let latency = d0[0]["latency_ms"].as_f64().unwrap();
    assert!((TIMEOUT_MS as f64..1_000.0).contains(&latency), "{latency}");
    let d1 = decisions(&net, "node1");
    let d1 = decisions_for(&d1, &refused.txhash);
    assert_eq!((d1[0]["decision"].as_str(), d1[0]["error"].as_str()), (Some("error_admitted"), Some(&*timed_out)));
    assert!(screened(&metrics(&net, "node0"), "error_refused") >= 1.0);
    assert!(screened(&metrics(&net, "node1"), "error_admitted") >= 1.0);
    eprintln!("timeout path: broadcast answered in {took:?}; test took {:?}", started.elapsed());
}
