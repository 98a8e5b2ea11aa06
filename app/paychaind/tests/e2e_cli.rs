//! End to end with the real CometBFT: `paychaind dev` on free loopback ports,
//! wallet commands through the CLI binary, then SIGKILL and restart on the
//! same home, and a clean SIGTERM stop at the end.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed,
//! and never under CI (`CI` set), where `make test` installs it first.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{clean_command, cometbft_available, free_ports, DevNode};

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

/// Runs the CLI, expects success, parses its `--output json`.
fn json_ok(args: &[&str]) -> Value {
    let o = run(args);
    assert!(o.status.success(), "paychaind {args:?} failed: {}", show(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("paychaind {args:?}: bad JSON ({e}): {}", show(&o)))
}

fn text_ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "paychaind {args:?} failed: {}", show(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

fn height(node: &str) -> Option<u64> {
    let o = run(&["status", "--node", node, "-o", "json"]);
    if !o.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&o.stdout).ok()?;
    v["latest_block_height"].as_str()?.parse().ok()
}

/// Waits until the chain is past `min` (or fails, with the node's log).
fn wait_for_height(dev: &mut DevNode, node: &str, min: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        dev.assert_running();
        if let Some(h) = height(node) {
            if h > min {
                return h;
            }
        }
        if Instant::now() > deadline {
            panic!("chain did not pass height {min} within {timeout:?}; log:\n{}", dev.log_tail());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn balance(node: &str, addr: &str) -> u128 {
    let v = json_ok(&["query", "bank", "balances", addr, "--node", node, "--denom", "upay", "-o", "json"]);
    assert_eq!(v["balance"]["denom"], "upay");
    v["balance"]["amount"].as_str().unwrap().parse().unwrap()
}

fn fee_of(tx_response: &Value) -> u128 {
    tx_response["tx"]["auth_info"]["fee"]["amount"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["denom"] == "upay")
        .map(|c| c["amount"].as_str().unwrap().parse::<u128>().unwrap())
        .sum()
}

fn port_closed(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_err()
}

#[test]
fn dev_chain_send_query_kill_and_resume() {
    if !cometbft_available("dev_chain_send_query_kill_and_resume") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let h = home.to_str().unwrap();
    let ports = free_ports();
    let node_url = format!("http://127.0.0.1:{}", ports.rpc);
    let node = node_url.as_str();
    let test_kr = ["--home", h, "--keyring-backend", "test"];

    // ---- first run: a fresh dev chain ----
    let mut dev = DevNode::start(&home, &ports, "dev1.log");
    wait_for_height(&mut dev, node, 1, Duration::from_secs(90));

    let dev_addr = text_ok(&[&["keys", "show", "dev", "-a"][..], &test_kr].concat());
    assert!(dev_addr.starts_with("pay1"), "{dev_addr}");
    let mnemonic = std::fs::read_to_string(home.join("dev-mnemonic.txt")).unwrap();
    assert_eq!(mnemonic.split_whitespace().count(), 24);
    json_ok(&["genesis", "validate", "--home", h, "-o", "json"]);
    let status = json_ok(&["status", "--node", node, "-o", "json"]);
    assert_eq!(status["chain_id"], "paychain-dev-1");

    let alice = json_ok(&[&["keys", "add", "alice", "-o", "json"][..], &test_kr].concat());
    let alice = alice["address"].as_str().unwrap().to_string();
    // A file-keyring key, encrypted under a passphrase read from a file.
    let pass = tmp.path().join("pass.txt");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    let wrong = tmp.path().join("wrong.txt");
    std::fs::write(&wrong, "incorrect horse\n").unwrap();
    let file_kr = ["--home", h, "--keyring-backend", "file", "--passphrase-file", pass.to_str().unwrap()];
    let bob = json_ok(&[&["keys", "add", "bob", "-o", "json"][..], &file_kr].concat());
    let bob = bob["address"].as_str().unwrap().to_string();

    // ---- send and check balances ----
    let dev_before = balance(node, &dev_addr);
    assert!(dev_before > 1_000_000_000, "dev key is funded in genesis: {dev_before}");
    let sent = json_ok(
        &[
            &[
                "tx",
                "bank",
                "send",
                "dev",
                &alice,
                "12345upay",
                "--fees",
                "5000upay",
                "--node",
                node,
                "--yes",
                "--wait",
                "-o",
                "json",
            ][..],
            &test_kr,
        ]
        .concat(),
    );
    assert_eq!(sent["code"], 0, "{sent}");
    let send_hash = sent["txhash"].as_str().unwrap().to_string();
    assert_eq!(fee_of(&sent), 5000);
    assert_eq!(balance(node, &alice), 12345, "recipient has exactly what was sent");
    assert_eq!(balance(node, &dev_addr), dev_before - 12345 - 5000, "sender paid amount + fee");
    let all = json_ok(&["query", "bank", "balances", &alice, "--node", node, "-o", "json"]);
    assert_eq!(all["balances"], serde_json::json!([{"denom": "upay", "amount": "12345"}]));

    let found = json_ok(&["query", "tx", &send_hash, "--node", node, "-o", "json"]);
    assert_eq!(found["txhash"], send_hash.as_str());
    assert_eq!(found["code"], 0);
    let msg = &found["tx"]["body"]["messages"][0];
    assert_eq!(msg["@type"], "/cosmos.bank.v1beta1.MsgSend");
    assert_eq!(msg["to_address"], alice.as_str());
    assert_eq!(msg["amount"][0]["amount"], "12345");
    assert!(found["events"].as_array().unwrap().iter().any(|e| e["type"] == "transfer"));

    let acc = json_ok(&["query", "auth", "account", &dev_addr, "--node", node, "-o", "json"]);
    assert_eq!(acc["account"]["sequence"], "1");
    assert_eq!(acc["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount");

    // ---- multi-send with simulated gas and a gas price ----
    let dev_mid = balance(node, &dev_addr);
    let multi = json_ok(
        &[
            &["tx", "bank", "multi-send", "dev", &alice, &bob, "10000upay"][..],
            &["--gas", "auto", "--gas-prices", "0.025upay", "--node", node, "--yes", "--wait", "-o", "json"],
            &test_kr,
        ]
        .concat(),
    );
    assert_eq!(multi["code"], 0, "{multi}");
    let multi_fee = fee_of(&multi);
    assert!(multi_fee > 0);
    assert_eq!(balance(node, &alice), 22345);
    assert_eq!(balance(node, &bob), 10000);
    assert_eq!(balance(node, &dev_addr), dev_mid - 20000 - multi_fee);

    // ---- the file keyring signs with the right passphrase only ----
    let bob_send = |pass_file: &Path| {
        run(&[
            "tx",
            "bank",
            "send",
            "bob",
            &alice,
            "1upay",
            "--fees",
            "2000upay",
            "--node",
            node,
            "--yes",
            "--wait",
            "-o",
            "json",
            "--home",
            h,
            "--keyring-backend",
            "file",
            "--passphrase-file",
            pass_file.to_str().unwrap(),
        ])
    };
    let bad = bob_send(&wrong);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("wrong passphrase"), "{}", show(&bad));
    let good = bob_send(&pass);
    assert!(good.status.success(), "{}", show(&good));
    assert_eq!(balance(node, &bob), 10000 - 1 - 2000);

    // ---- bad input fails cleanly and changes nothing ----
    let (a0, d0) = (balance(node, &alice), balance(node, &dev_addr));
    let low_fee =
        run(
            &[
                &[
                    "tx", "bank", "send", "dev", &alice, "1upay", "--fees", "1upay", "--node", node, "--yes", "-o",
                    "json",
                ][..],
                &test_kr,
            ]
            .concat(),
        );
    assert!(!low_fee.status.success(), "fee below the minimum gas price must be refused: {}", show(&low_fee));
    let v: Value = serde_json::from_slice(&low_fee.stdout).unwrap_or_else(|_| panic!("{}", show(&low_fee)));
    assert_eq!(v["code"], 13, "insufficient fee: {v}");
    let bad_addr =
        run(&[&["tx", "bank", "send", "dev", "pay1notanaddress", "1upay", "--node", node, "--yes"][..], &test_kr]
            .concat());
    assert!(!bad_addr.status.success());
    assert!(String::from_utf8_lossy(&bad_addr.stderr).contains("recipient"), "{}", show(&bad_addr));
    let bad_coins =
        run(&[&["tx", "bank", "send", "dev", &alice, "12.5upay", "--node", node, "--yes"][..], &test_kr].concat());
    assert!(!bad_coins.status.success());
    let missing = run(&["query", "tx", &"AB".repeat(32), "--node", node]);
    assert!(
        !missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("not found"),
        "{}",
        show(&missing)
    );
    assert_eq!((balance(node, &alice), balance(node, &dev_addr)), (a0, d0));

    // ---- SIGKILL: the app and its CometBFT child both go ----
    let before_kill = wait_for_height(&mut dev, node, 0, Duration::from_secs(10));
    let balances_before = (balance(node, &dev_addr), balance(node, &alice), balance(node, &bob));
    let pid = dev.pid();
    dev.sigkill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(port_closed(ports.cometbft_rpc) && port_closed(ports.abci)) {
        assert!(Instant::now() < deadline, "CometBFT (child of killed paychaind {pid}) is still serving RPC: orphaned");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(dev);

    // ---- second run on the same home: resumes, same state, new blocks ----
    let mut dev = DevNode::start(&home, &ports, "dev2.log");
    let resumed = wait_for_height(&mut dev, node, before_kill + 3, Duration::from_secs(90));
    assert!(resumed > before_kill);
    assert_eq!((balance(node, &dev_addr), balance(node, &alice), balance(node, &bob)), balances_before);
    let again = json_ok(&["query", "tx", &send_hash, "--node", node, "-o", "json"]);
    assert_eq!(again["height"], found["height"]);
    // Still accepting txs after the restart (sequence carried over).
    let after = json_ok(
        &[
            &[
                "tx", "bank", "send", "dev", &alice, "5upay", "--fees", "5000upay", "--node", node, "--yes", "--wait",
                "-o", "json",
            ][..],
            &test_kr,
        ]
        .concat(),
    );
    assert_eq!(after["code"], 0, "{after}");
    assert_eq!(balance(node, &alice), balances_before.1 + 5);
    // Blocks keep coming (an app-hash mismatch would halt CometBFT).
    let h1 = wait_for_height(&mut dev, node, 0, Duration::from_secs(10));
    wait_for_height(&mut dev, node, h1 + 2, Duration::from_secs(30));
    assert!(!dev.log_tail().contains("wrong Block.Header.AppHash"), "app hash mismatch:\n{}", dev.log_tail());

    // ---- SIGTERM: both stop cleanly, exit code 0 ----
    let status = dev.sigterm(Duration::from_secs(20));
    assert!(status.success(), "paychaind dev should exit 0 on SIGTERM, got {status}; log:\n{}", dev.log_tail());
    assert!(port_closed(ports.cometbft_rpc), "CometBFT still running after paychaind stopped");
    assert!(port_closed(ports.rpc), "the RPC front still serving after paychaind stopped");
}
