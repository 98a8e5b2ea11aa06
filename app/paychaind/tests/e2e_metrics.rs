//! The Prometheus endpoint against a real dev chain (real CometBFT): a good
//! tx, one CheckTx rejects and one that fails in its block show up in the
//! counters; height, durations and store size are live. Also checks that
//! `--log-format json` makes the app log JSON lines.

use std::collections::BTreeMap;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{clean_command, cometbft_available, free_ports, DevNode};

type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

fn run(args: &[&str]) -> Output {
    clean_command().args(args).stdin(Stdio::null()).output().expect("running paychaind")
}

fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn height(node: &str) -> Option<u64> {
    let o = run(&["status", "--node", node, "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).ok()?;
    v["latest_block_height"].as_str()?.parse().ok()
}

fn wait_for_height(dev: &mut DevNode, node: &str, min: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        dev.assert_running();
        if let Some(h) = height(node).filter(|h| *h > min) {
            return h;
        }
        assert!(Instant::now() < deadline, "chain did not pass height {min}; log:\n{}", dev.log_tail());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Parses the text exposition format into `(name, sorted labels) -> value`.
/// Label values here never hold `,` `"` or `\`, so a plain split does.
fn parse(text: &str) -> Series {
    let mut out = Series::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad sample line {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let (name, mut labels) = match series.split_once('{') {
            None => (series.to_string(), Vec::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                let labels = body
                    .split(',')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("bad label in {line:?}"));
                        (k.to_string(), v.trim_matches('"').to_string())
                    })
                    .collect();
                (name.to_string(), labels)
            }
        };
        labels.sort();
        assert!(out.insert((name, labels), value).is_none(), "duplicate series: {line}");
    }
    out
}

fn get(s: &Series, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut l: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    l.sort();
    s.get(&(name.to_string(), l)).copied().unwrap_or(0.0)
}

fn scrape(port: u16) -> Series {
    let resp = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics")).expect("scraping /metrics");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "content type {ct}");
    parse(&resp.text().unwrap())
}

#[test]
fn metrics_count_txs_rejections_and_blocks_of_a_real_chain() {
    if !cometbft_available("metrics_count_txs_rejections_and_blocks_of_a_real_chain") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let h = home.to_str().unwrap();
    let ports = free_ports();
    let node_url = format!("http://127.0.0.1:{}", ports.rpc);
    let node = node_url.as_str();
    let mut dev = DevNode::start_with(&home, &ports, "dev.log", &["--log-format", "json"]);
    let h0 = wait_for_height(&mut dev, node, 1);

    let before = scrape(ports.metrics);
    let height_before = get(&before, "paychain_block_height", &[]);
    assert!(height_before >= 1.0, "height gauge {height_before} (chain at {h0})");

    let test_kr = ["--home", h, "--keyring-backend", "test", "--node", node, "-o", "json"];
    let alice = run(&["keys", "add", "alice", "--home", h, "--keyring-backend", "test", "-o", "json"]);
    let alice: Value = serde_json::from_slice(&alice.stdout).unwrap_or_else(|_| panic!("{}", show(&alice)));
    let alice = alice["address"].as_str().unwrap().to_string();
    let send = |amount: &str, extra: &[&str]| {
        run(&[&["tx", "bank", "send", "dev", &alice, amount, "--fees", "5000upay", "--yes"][..], extra, &test_kr]
            .concat())
    };

    // Accepted and succeeds in its block: code 0.
    let good = send("1000upay", &["--wait"]);
    assert!(good.status.success(), "{}", show(&good));
    // Stale sequence: rejected by CheckTx (sdk code 32), never reaches a block.
    let stale = send("1upay", &["--sequence", "0"]);
    let v: Value = serde_json::from_slice(&stale.stdout).unwrap_or_else(|_| panic!("{}", show(&stale)));
    assert_eq!((v["code"].as_u64(), v["codespace"].as_str()), (Some(32), Some("sdk")), "{}", show(&stale));
    // Pays its fee, so CheckTx accepts it, but the transfer fails in the block: insufficient funds (sdk code 5).
    let broke = send("999999999999999999upay", &["--wait"]);
    let v: Value = serde_json::from_slice(&broke.stdout).unwrap_or_else(|_| panic!("{}", show(&broke)));
    assert_eq!((v["code"].as_u64(), v["codespace"].as_str()), (Some(5), Some("sdk")), "{}", show(&broke));

    // The block after the last tx is committed before the scrape.
    let h1 = wait_for_height(&mut dev, node, h0 + 1);
    let after = scrape(ports.metrics);

    let height_after = get(&after, "paychain_block_height", &[]);
    assert!(height_after > height_before, "height {height_before} -> {height_after}");
    assert!(height_after + 1.0 >= h1 as f64, "gauge {height_after} lags CometBFT's {h1}");

    let txs =
        |s: &Series, code: &str, cs: &str| get(s, "paychain_block_txs_total", &[("code", code), ("codespace", cs)]);
    assert_eq!(txs(&after, "0", "") - txs(&before, "0", ""), 1.0, "one successful tx");
    assert_eq!(txs(&after, "5", "sdk") - txs(&before, "5", "sdk"), 1.0, "one tx failed in its block");
    let rejected = |s: &Series, code: &str| {
        get(s, "paychain_check_tx_rejected_total", &[("type", "new"), ("code", code), ("codespace", "sdk")])
    };
    assert_eq!(rejected(&after, "32") - rejected(&before, "32"), 1.0, "one CheckTx rejection for the sequence");
    assert_eq!(rejected(&after, "5"), 0.0, "the overspend passed CheckTx");
    let checked = |s: &Series| get(s, "paychain_check_tx_total", &[("type", "new")]);
    assert!(checked(&after) - checked(&before) >= 3.0, "three new txs were checked");

    for hist in ["paychain_finalize_block_duration_seconds", "paychain_commit_duration_seconds"] {
        let count = |s: &Series| get(s, &format!("{hist}_count"), &[]);
        assert!(count(&after) > count(&before), "{hist}: {} -> {}", count(&before), count(&after));
        assert!(count(&after) >= height_after - 1.0, "{hist} counts every block");
        assert_eq!(get(&after, &format!("{hist}_bucket"), &[("le", "+Inf")]), count(&after));
        assert!(get(&after, &format!("{hist}_sum"), &[]) > 0.0);
    }
    assert!(get(&after, "paychain_store_size_bytes", &[]) > 0.0);
    assert!(after.contains_key(&("paychain_snapshot_chunks_rejected_total".to_string(), vec![])));

    // Unknown paths are not served.
    let other = reqwest::blocking::get(format!("http://127.0.0.1:{}/", ports.metrics)).unwrap();
    assert_eq!(other.status(), 404);

    // --log-format json: the app's own log lines are JSON objects.
    let log = std::fs::read_to_string(tmp.path().join("dev.log")).unwrap();
    let json: Vec<Value> =
        log.lines().filter(|l| l.starts_with('{')).filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        json.iter().any(|v| v["level"] == "INFO" && v["message"].as_str().is_some_and(|m| m.contains("metrics"))),
        "no JSON log line about the metrics server:\n{log}"
    );
    assert!(!log.contains("panicked at"), "{log}");
}
