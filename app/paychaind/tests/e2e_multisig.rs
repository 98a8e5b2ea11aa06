//! End to end with the real CometBFT: a 2-of-3 multisig account driven by the
//! CLI the way an SDK runbook drives `simd`: `keys add --multisig`, `tx bank
//! send --generate-only`, `tx sign --multisig` by two members, `tx multisign`,
//! `tx broadcast`. One signature is not enough; the account's key shows in
//! `query auth account` afterwards. The chain authority is then handed to the
//! multisig (propose by the dev key, accept by two members), which sets the
//! fee-token list the same way.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod common;
use common::cli::{json_ok, ok, run, show, wait_for, Wallet};
use common::{cometbft_available, free_ports, DevNode};

fn balance(node: &str, addr: &str) -> u128 {
    let v = json_ok(&["query", "bank", "balances", addr, "--node", node, "--denom", "upay", "-o", "json"]);
    v["balance"]["amount"].as_str().unwrap().parse().unwrap()
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn two_of_three_multisig_send_with_the_cli() {
    if !cometbft_available("two_of_three_multisig_send_with_the_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let h = home.to_str().unwrap();
    let ports = free_ports();
    let node_url = format!("http://127.0.0.1:{}", ports.rpc);
    let node = node_url.as_str();
    let kr = ["--home", h, "--keyring-backend", "test"];
    // Owned strings: the keyring flags borrow `h`, the call's args live shorter.
    let with_kr = |args: &[&str]| -> Vec<String> { args.iter().chain(kr.iter()).map(|s| s.to_string()).collect() };

    let mut dev = DevNode::start(&home, &ports, "dev.log");
    wait_for("the first block", &mut dev, Duration::from_secs(90), || {
        let o = run(&["status", "--node", node, "-o", "json"]);
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        (v["latest_block_height"].as_str()?.parse::<u64>().ok()? > 1).then_some(())
    });

    for k in ["k1", "k2", "k3"] {
        json_ok(&with_kr(&["keys", "add", k, "-o", "json"]));
    }
    let ms =
        json_ok(&with_kr(&["keys", "add", "ms", "--multisig", "k1,k2,k3", "--multisig-threshold", "2", "-o", "json"]));
    assert_eq!(ms["type"], "multi", "{ms}");
    let ms_addr = ok(&with_kr(&["keys", "show", "ms", "-a"])).trim().to_string();
    assert_eq!(ms["address"], ms_addr.as_str());
    let pubkey: Value = serde_json::from_str(ms["pubkey"].as_str().unwrap()).unwrap();
    assert_eq!(pubkey["@type"], "/cosmos.crypto.multisig.LegacyAminoPubKey");
    assert_eq!(pubkey["threshold"], 2);
    let to = json_ok(&with_kr(&["keys", "add", "to", "-o", "json"]))["address"].as_str().unwrap().to_string();

    // Fund the multisig from the dev key.
    let funded = json_ok(&with_kr(&[
        "tx",
        "bank",
        "send",
        "dev",
        &ms_addr,
        "1000000upay",
        "--fees",
        "5000upay",
        "--node",
        node,
        "--yes",
        "--wait",
        "-o",
        "json",
    ]));
    assert_eq!(funded["code"], 0, "{funded}");

    // generate-only → sign ×2 → multisign → broadcast.
    let unsigned = ok(&with_kr(&[
        "tx",
        "bank",
        "send",
        "ms",
        &to,
        "12345upay",
        "--fees",
        "5000upay",
        "--generate-only",
        "--node",
        node,
    ]));
    let unsigned_v: Value = serde_json::from_str(&unsigned).unwrap();
    assert_eq!(unsigned_v["body"]["messages"][0]["@type"], "/cosmos.bank.v1beta1.MsgSend");
    assert_eq!(unsigned_v["body"]["messages"][0]["from_address"], ms_addr.as_str());
    assert_eq!(unsigned_v["auth_info"]["signer_infos"], serde_json::json!([]));
    assert_eq!(unsigned_v["signatures"], serde_json::json!([]));
    let unsigned_path = write(&tmp.path().join("unsigned.json"), &unsigned);
    let sig_path = |k: &str| tmp.path().join(format!("{k}sig.json")).to_str().unwrap().to_string();
    for k in ["k1", "k2"] {
        ok(&with_kr(&[
            "tx",
            "sign",
            &unsigned_path,
            "--from",
            k,
            "--multisig",
            &ms_addr,
            "--sign-mode",
            "amino-json",
            "--output-document",
            &sig_path(k),
            "--node",
            node,
        ]));
        let sig: Value = serde_json::from_str(&std::fs::read_to_string(sig_path(k)).unwrap()).unwrap();
        assert_eq!(sig["signatures"][0]["data"]["single"]["mode"], "SIGN_MODE_LEGACY_AMINO_JSON", "{sig}");
    }
    // A key outside the multisig cannot sign for it.
    let o = run(&with_kr(&["tx", "sign", &unsigned_path, "--from", "to", "--multisig", "ms", "--node", node]));
    assert!(!o.status.success() && show(&o).contains("not a part of multisig key"), "{}", show(&o));

    // With one signature the tx is built, and the chain refuses it.
    let one = ok(&with_kr(&["tx", "multisign", &unsigned_path, "ms", &sig_path("k1"), "--node", node]));
    let one_path = write(&tmp.path().join("one.json"), &one);
    let o = run(&["tx", "broadcast", &one_path, "--node", node, "-o", "json"]);
    assert!(!o.status.success(), "{}", show(&o));
    let refused: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((refused["codespace"].as_str(), refused["code"].as_u64()), (Some("sdk"), Some(4)), "{refused}");
    assert_eq!(balance(node, &ms_addr), 1_000_000);

    let signed =
        ok(&with_kr(&["tx", "multisign", &unsigned_path, "ms", &sig_path("k1"), &sig_path("k2"), "--node", node]));
    let signed_v: Value = serde_json::from_str(&signed).unwrap();
    let info = &signed_v["auth_info"]["signer_infos"][0];
    assert_eq!(info["public_key"]["@type"], "/cosmos.crypto.multisig.LegacyAminoPubKey", "{signed_v}");
    assert_eq!(info["mode_info"]["multi"]["mode_infos"].as_array().unwrap().len(), 2);
    let signed_path = write(&tmp.path().join("signed.json"), &signed);
    let sent = json_ok(&["tx", "broadcast", &signed_path, "--node", node, "-o", "json"]);
    assert_eq!(sent["code"], 0, "{sent}");

    wait_for("the multisig send to land", &mut dev, Duration::from_secs(60), || {
        (balance(node, &to) == 12345).then_some(())
    });
    assert_eq!(balance(node, &ms_addr), 1_000_000 - 12345 - 5000);
    let acc = json_ok(&["query", "auth", "account", &ms_addr, "--node", node, "-o", "json"]);
    assert_eq!(acc["account"]["sequence"], "1", "{acc}");
    assert_eq!(acc["account"]["pub_key"]["@type"], "/cosmos.crypto.multisig.LegacyAminoPubKey", "{acc}");
    assert_eq!(acc["account"]["pub_key"]["public_keys"].as_array().unwrap().len(), 3, "{acc}");

    // The same document cannot be replayed (sequence moved on).
    let o = run(&["tx", "broadcast", &signed_path, "--node", node, "-o", "json"]);
    assert!(!o.status.success(), "{}", show(&o));

    // The chain authority (the dev key) hands itself to the multisig, which then
    // decides a governed setting: each of its txs signed by two members.
    let w = Wallet { home: h.to_string(), node: node.to_string() };
    w.tx_ok(&["tx", "authority", "propose", "dev", &ms_addr, "--reason", "succession"]);
    let as_multisig = |args: &[&str], name: &str| {
        let mut a = args.to_vec();
        a.extend(["--fees", "5000upay", "--gas", "300000", "--generate-only", "--node", node]);
        let unsigned = write(&tmp.path().join(format!("{name}.json")), &ok(&with_kr(&a)));
        let sigs: Vec<String> = ["k1", "k3"]
            .iter()
            .map(|k| {
                let out = tmp.path().join(format!("{name}-{k}.json")).to_str().unwrap().to_string();
                let sign = ["tx", "sign", &unsigned, "--from", k, "--multisig", &ms_addr, "--sign-mode", "amino-json"];
                ok(&with_kr(&[&sign[..], &["--output-document", &out, "--node", node]].concat()));
                out
            })
            .collect();
        let signed = ok(&with_kr(&["tx", "multisign", &unsigned, "ms", &sigs[0], &sigs[1], "--node", node]));
        let signed = write(&tmp.path().join(format!("{name}-signed.json")), &signed);
        let sent = json_ok(&["tx", "broadcast", &signed, "--node", node, "-o", "json"]);
        assert_eq!(sent["code"], 0, "{name}: {sent}");
    };
    as_multisig(&["tx", "authority", "accept", "ms"], "accept");
    wait_for("the multisig to become the authority", &mut dev, Duration::from_secs(60), || {
        (w.query(&["authority", "show"])["authority"] == ms_addr.as_str()).then_some(())
    });
    w.tx_refused(&["tx", "fees", "set-fee-tokens", "dev", "uatom=1", "--reason", "x"], "authority", 3);
    as_multisig(&["tx", "fees", "set-fee-tokens", "ms", "uatom=0.5", "--reason", "treasury_review"], "fee-tokens");
    wait_for("the multisig's fee-token list", &mut dev, Duration::from_secs(60), || {
        (w.query(&["fees", "tokens"])["fee_tokens"] == serde_json::json!([{"denom": "uatom", "rate": "0.5"}]))
            .then_some(())
    });

    dev.sigterm(Duration::from_secs(30));
}
