//! The assets module end to end on a real CometBFT chain (`paychaind dev` on
//! free loopback ports), driven by the commands an issuer, its role holders and
//! its customers run: issue with roles kept apart, a bank metadata Keplr reads
//! over REST, a minter within its allowance, a frozen amount refused and then
//! partly unfrozen, a pause decided by a 2-of-2 multisig pauser (`--generate-only`,
//! `tx sign`, `tx multisign`, `tx broadcast`), a clawback to the treasury, and
//! every action's `assets_action` event with its actor, reason and reference, and
//! a holder of only the stablecoin paying fees in it once the chain authority
//! lists it (`tx fees set-fee-tokens`, `--gas auto --gas-prices …`).
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod common;
use common::cli::{event_attrs, json_ok, ok, run, show, wait_for};
use common::{cometbft_available, free_ports, DevNode};

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The attributes of the tx's `assets_action` event.
fn action(tx: &Value) -> serde_json::Map<String, Value> {
    event_attrs(tx, "assets_action")
}

#[test]
fn an_issuer_and_its_role_holders_run_a_stablecoin() {
    if !cometbft_available("an_issuer_and_its_role_holders_run_a_stablecoin") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let h = home.to_str().unwrap().to_string();
    let ports = free_ports();
    let node = format!("http://127.0.0.1:{}", ports.rpc);
    let rest = format!("http://127.0.0.1:{}", ports.rest);
    let cmd = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|s| s.to_string())
            .chain(["--home".into(), h.clone(), "--keyring-backend".into(), "test".into()])
            .collect()
    };
    // A tx, signed and waited for: the TxResponse and whether the command succeeded.
    let tx = |args: &[&str]| -> (bool, Value) {
        let mut a = cmd(args);
        a.extend(
            ["--fees", "5000upay", "--gas", "400000", "--node", &node, "--yes", "--wait", "-o", "json"]
                .map(String::from),
        );
        let o = run(&a);
        let v: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}) from {args:?}: {}", show(&o)));
        (o.status.success(), v)
    };
    let tx_ok = |args: &[&str]| -> Value {
        let (ok, v) = tx(args);
        assert!(ok && v["code"] == 0, "{args:?}: {v}");
        v
    };
    let tx_refused = |args: &[&str], codespace: &str, code: u64| -> Value {
        let (ok, v) = tx(args);
        assert!(!ok, "{args:?} should fail: {v}");
        assert_eq!((v["codespace"].as_str(), v["code"].as_u64()), (Some(codespace), Some(code)), "{args:?}: {v}");
        v
    };

    let mut dev = DevNode::start(&home, &ports, "dev.log");
    wait_for("the first block", &mut dev, Duration::from_secs(90), || {
        let o = run(&["status", "--node", &node, "-o", "json"]);
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        (v["latest_block_height"].as_str()?.parse::<u64>().ok()? > 1).then_some(())
    });

    let mut addr = std::collections::BTreeMap::new();
    for k in ["master", "freezer", "p1", "p2", "claw", "alice", "bob"] {
        let v = json_ok(&cmd(&["keys", "add", k, "-o", "json"]));
        addr.insert(k, v["address"].as_str().unwrap().to_string());
    }
    let pausers =
        json_ok(&cmd(&["keys", "add", "pausers", "--multisig", "p1,p2", "--multisig-threshold", "2", "-o", "json"]));
    let pausers_addr = pausers["address"].as_str().unwrap().to_string();
    let dev_addr = ok(&cmd(&["keys", "show", "dev", "-a"])).trim().to_string();
    for who in ["master", "freezer", "claw", "alice", "bob"] {
        tx_ok(&["tx", "bank", "send", "dev", &addr[who], "1000000upay"]);
    }
    tx_ok(&["tx", "bank", "send", "dev", &pausers_addr, "1000000upay"]);

    // Issue: the dev key is the issuer, admin and treasury; the other roles are apart.
    let issued = tx_ok(&[
        "tx",
        "assets",
        "issue",
        "dev",
        "usdx",
        "USDX",
        "X Dollar",
        "--precision",
        "6",
        "--uri",
        "https://example.com/terms",
        "--uri-hash",
        &"ab".repeat(32),
        "--features",
        "minting,burning,freezing,pausing,clawback",
        "--initial-supply",
        "1000000",
        "--master-minter",
        &addr["master"],
        "--freezer",
        &addr["freezer"],
        "--pauser",
        &pausers_addr,
        "--clawback",
        &addr["claw"],
    ]);
    let denom = issued["denom"].as_str().unwrap_or_else(|| panic!("no denom in {issued}")).to_string();
    assert_eq!(denom, format!("usdx-{dev_addr}"));
    let token = json_ok(&["query", "assets", "token", &denom, "--node", &node, "-o", "json"]);
    assert_eq!(token["token"]["features"].as_array().unwrap().len(), 5, "{token}");
    assert_eq!(token["token"]["roles"]["pauser"], pausers_addr.as_str(), "{token}");
    assert_eq!(token["supply"], "1000000");
    // Wallets (Keplr) read the display unit and its exponent from bank's metadata.
    let md: Value =
        reqwest::blocking::get(format!("{rest}/cosmos/bank/v1beta1/denoms_metadata/{denom}")).unwrap().json().unwrap();
    assert_eq!(
        (md["metadata"]["display"].as_str(), md["metadata"]["denom_units"][1]["exponent"].as_u64()),
        (Some("USDX"), Some(6)),
        "{md}"
    );

    // The master minter gives alice an allowance; she mints within it, not beyond.
    tx_ok(&[
        "tx",
        "assets",
        "configure-minter",
        "master",
        &denom,
        &addr["alice"],
        "500",
        "--reason",
        "reserve_deposit",
        "--reference",
        "attestation 2026-12",
    ]);
    let minted = tx_ok(&["tx", "assets", "mint", "alice", &denom, &addr["bob"], "300", "--reason", "reserve_deposit"]);
    let ev = action(&minted);
    assert_eq!(
        (ev["action"].as_str(), ev["actor"].as_str(), ev["amount"].as_str()),
        (Some("mint"), Some(addr["alice"].as_str()), Some("300"))
    );
    tx_refused(
        &["tx", "assets", "mint", "alice", &denom, &addr["bob"], "201", "--reason", "reserve_deposit"],
        "assets",
        11,
    );

    // A frozen amount: bob holds 300, 150 frozen; 151 cannot move, 150 can.
    let frozen = tx_ok(&[
        "tx",
        "assets",
        "freeze",
        "freezer",
        &denom,
        &addr["bob"],
        "150",
        "--reason",
        "court_order",
        "--reference",
        "case 17/2026",
    ]);
    assert_eq!(action(&frozen)["reference"], "case 17/2026");
    let holder = json_ok(&["query", "assets", "holder", &denom, &addr["bob"], "--node", &node, "-o", "json"]);
    assert_eq!((holder["balance"].as_str(), holder["spendable"].as_str()), (Some("300"), Some("150")), "{holder}");
    tx_refused(&["tx", "bank", "send", "bob", &addr["alice"], &format!("151{denom}")], "sdk", 5);
    tx_ok(&["tx", "bank", "send", "bob", &addr["alice"], &format!("100{denom}")]);
    tx_ok(&["tx", "assets", "unfreeze", "freezer", &denom, &addr["bob"], "100", "--reason", "court_order"]);
    tx_ok(&["tx", "bank", "send", "bob", &addr["alice"], &format!("100{denom}")]);

    // Fees in the stablecoin: carol holds only USDX. Unlisted, it pays no fee at this
    // node's minimum gas price (0.01upay); once the chain authority (the dev key)
    // lists it at 2 upay per unit, carol pays in it with --gas auto.
    let carol = json_ok(&cmd(&["keys", "add", "carol", "-o", "json"]))["address"].as_str().unwrap().to_string();
    tx_ok(&["tx", "bank", "send", "dev", &carol, &format!("50000{denom}")]);
    let carol_tx = |fee_flags: &[&str]| -> (bool, Value) {
        let mut a = cmd(&["tx", "bank", "send", "carol", &addr["alice"], &format!("100{denom}")]);
        a.extend(fee_flags.iter().map(|s| s.to_string()));
        a.extend(["--node", &node, "--yes", "--wait", "-o", "json"].map(String::from));
        let o = run(&a);
        (o.status.success(), serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&o))))
    };
    let (sent, v) = carol_tx(&["--fees", &format!("4000{denom}"), "--gas", "400000"]);
    assert!(!sent && v["code"] == 13, "an unlisted token pays no fee: {v}");
    let listing = &format!("{denom}=2");
    let (listed, v) = tx(&["tx", "fees", "set-fee-tokens", "alice", listing, "--reason", "treasury_review"]);
    assert!(!listed && v["codespace"] == "authority" && v["code"] == 3, "only the chain authority lists: {v}");
    let set = tx_ok(&[
        "tx",
        "fees",
        "set-fee-tokens",
        "dev",
        listing,
        "--reason",
        "treasury_review",
        "--reference",
        "ALCO 12",
    ]);
    assert_eq!(event_attrs(&set, "fee_tokens_set")["reference"], "ALCO 12");
    let fee_tokens = json_ok(&["query", "fees", "tokens", "--node", &node, "-o", "json"]);
    assert_eq!(fee_tokens["base_denom"], "upay", "{fee_tokens}");
    assert_eq!(fee_tokens["fee_tokens"][0]["rate"], "2", "{fee_tokens}");
    let (sent, v) = carol_tx(&["--fees", &format!("1999{denom}"), "--gas", "400000"]);
    assert!(!sent && v["code"] == 13, "1999 units are worth 3998upay, below 4000: {v}");
    let (sent, v) = carol_tx(&["--gas", "auto", "--gas-prices", &format!("0.005{denom}")]);
    assert!(sent && v["code"] == 0, "carol pays in USDX: {v}");
    let fee = v["tx"]["auth_info"]["fee"]["amount"][0].clone();
    assert_eq!(fee["denom"], denom.as_str(), "{v}");
    let fee: u128 = fee["amount"].as_str().unwrap().parse().unwrap();
    let carol_now = json_ok(&["query", "bank", "balances", &carol, "--node", &node, "-o", "json"]);
    assert_eq!(
        carol_now["balances"],
        serde_json::json!([{"denom": denom, "amount": (50000 - 100 - fee).to_string()}]),
        "carol paid 100 and the fee in USDX, and holds no upay"
    );

    // The 2-of-2 pauser pauses: generate-only, each member signs, multisign, broadcast.
    let unsigned = ok(&cmd(&[
        "tx",
        "assets",
        "pause",
        &pausers_addr,
        &denom,
        "--reason",
        "incident",
        "--reference",
        "INC-42",
        "--fees",
        "5000upay",
        "--gas",
        "400000",
        "--generate-only",
        "--node",
        &node,
    ]));
    let unsigned_path = write(&tmp.path().join("pause.json"), &unsigned);
    let mut sigs = Vec::new();
    for k in ["p1", "p2"] {
        let out = tmp.path().join(format!("{k}.json")).to_str().unwrap().to_string();
        ok(&cmd(&[
            "tx",
            "sign",
            &unsigned_path,
            "--from",
            k,
            "--multisig",
            &pausers_addr,
            "--output-document",
            &out,
            "--node",
            &node,
        ]));
        sigs.push(out);
    }
    let signed = ok(&cmd(&["tx", "multisign", &unsigned_path, "pausers", &sigs[0], &sigs[1], "--node", &node]));
    let signed_path = write(&tmp.path().join("pause-signed.json"), &signed);
    let sent = json_ok(&["tx", "broadcast", &signed_path, "--node", &node, "-o", "json"]);
    assert_eq!(sent["code"], 0, "{sent}");
    wait_for("the pause to land", &mut dev, Duration::from_secs(60), || {
        let t = json_ok(&["query", "assets", "token", &denom, "--node", &node, "-o", "json"]);
        (t["token"]["paused"] == true).then_some(())
    });
    tx_refused(&["tx", "bank", "send", "alice", &addr["bob"], &format!("1{denom}")], "assets", 13);

    // Clawback reaches the paused token and frozen units alike, to the treasury.
    let before: u128 = json_ok(&["query", "assets", "holder", &denom, &dev_addr, "--node", &node, "-o", "json"])
        ["balance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let clawed = tx_ok(&[
        "tx",
        "assets",
        "clawback",
        "claw",
        &denom,
        &addr["bob"],
        "100",
        "--reason",
        "court_order",
        "--reference",
        "case 17/2026",
    ]);
    assert_eq!(action(&clawed)["target"], addr["bob"].as_str());
    let after = json_ok(&["query", "assets", "holder", &denom, &dev_addr, "--node", &node, "-o", "json"]);
    assert_eq!(after["balance"].as_str().unwrap().parse::<u128>().unwrap(), before + 100, "{after}");
    let bob = json_ok(&["query", "assets", "holder", &denom, &addr["bob"], "--node", &node, "-o", "json"]);
    assert_eq!(bob["balance"], "0", "{bob}");

    dev.sigterm(Duration::from_secs(30));
}
