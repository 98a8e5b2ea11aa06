//! Credentials end to end on a real CometBFT chain (`paychaind dev`, whose dev
//! key is the chain authority), driven by the commands a compliance officer, a
//! KYC provider and a customer run: the authority registers the provider for
//! its credential types, the provider credentials a customer, the customer
//! accepts, queries over the CLI and REST show it, the provider revokes it with
//! a reason and reference; the wrong signer is refused at every step.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed.

use std::time::Duration;

use serde_json::Value;

mod common;
use common::cli::{event_attrs, run, wait_for, Wallet};
use common::{cometbft_available, free_ports, DevNode};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn an_authority_a_kyc_provider_and_a_customer_handle_a_credential() {
    if !cometbft_available("an_authority_a_kyc_provider_and_a_customer_handle_a_credential") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ports = free_ports();
    let w = Wallet { home: home.to_str().unwrap().to_string(), node: format!("http://127.0.0.1:{}", ports.rpc) };
    let rest = format!("http://127.0.0.1:{}", ports.rest);
    let mut dev = DevNode::start(&home, &ports, "dev.log");
    wait_for("the first block", &mut dev, Duration::from_secs(90), || {
        let o = run(&["status", "--node", &w.node, "-o", "json"]);
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        (v["latest_block_height"].as_str()?.parse::<u64>().ok()? > 1).then_some(())
    });
    let kyc = w.add_key("kyc");
    let alice = w.add_key("alice");
    for a in [&kyc, &alice] {
        w.tx_ok(&["tx", "bank", "send", "dev", a, "1000000upay"]);
    }
    let note = ["--reason", "onboarding", "--reference", "board decision 2026-12"];
    let register = |from: &str| -> Vec<String> {
        ["tx", "compliance", "register-issuer", from, &kyc, "--types", "kyc.tier2,kyc.tier1", "--name", "Example KYC"]
            .iter()
            .chain(note.iter())
            .map(|s| s.to_string())
            .collect()
    };
    w.tx_refused(&args(&register("alice")), "authority", 3);
    let registered = w.tx_ok(&args(&register("dev")));
    assert_eq!(event_attrs(&registered, "compliance_action")["detail"], "kyc.tier1,kyc.tier2");
    let issuers = w.query(&["compliance", "issuers"]);
    assert_eq!(issuers["issuers"][0]["types"], serde_json::json!(["kyc.tier1", "kyc.tier2"]), "{issuers}");

    let hash = "ab".repeat(32);
    let create =
        ["tx", "compliance", "create-credential", "kyc", &alice, "kyc.tier2", "--expiration", "2030-01-01T00:00:00Z"];
    w.tx_refused(&["tx", "compliance", "create-credential", "kyc", &alice, "accredited"], "compliance", 3);
    let mut with_uri = create.to_vec();
    with_uri.extend(["--uri", "https://kyc.example/cases/17", "--uri-hash", &hash]);
    w.tx_ok(&with_uri);
    let c = w.query(&["compliance", "credential", &alice, &kyc, "kyc.tier2"]);
    assert_eq!(
        (c["credential"]["accepted"].as_bool(), c["credential"]["expiration"].as_str()),
        (Some(false), Some("2030-01-01T00:00:00Z")),
        "{c}"
    );
    w.tx_refused(&["tx", "compliance", "accept-credential", "kyc", &kyc, "kyc.tier2"], "compliance", 5);
    w.tx_ok(&["tx", "compliance", "accept-credential", "alice", &kyc, "kyc.tier2"]);
    let c = w.query(&["compliance", "credential", &alice, &kyc, "kyc.tier2"]);
    assert_eq!(c["credential"]["accepted"], true, "{c}");
    let by_issuer = w.query(&["compliance", "by-issuer", &kyc]);
    assert_eq!(by_issuer["credentials"].as_array().unwrap().len(), 1, "{by_issuer}");
    let over_rest: Value =
        reqwest::blocking::get(format!("{rest}/paychain/compliance/v1/subjects/{alice}/credentials"))
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(over_rest["credentials"][0]["uri_hash"], hash.as_str(), "{over_rest}");

    // Revocation: not by the customer; by the provider, with its reason on record.
    let revoke = |from: &str| -> Vec<String> {
        [
            "tx",
            "compliance",
            "revoke-credential",
            from,
            &alice,
            &kyc,
            "kyc.tier2",
            "--reason",
            "fraud",
            "--reference",
            "case 9/2026",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    w.tx_refused(&args(&revoke("alice")), "compliance", 7);
    let revoked = w.tx_ok(&args(&revoke("kyc")));
    let ev = event_attrs(&revoked, "compliance_action");
    assert_eq!((ev["action"].as_str(), ev["reference"].as_str()), (Some("revoke_credential"), Some("case 9/2026")));
    let c = w.query(&["compliance", "credential", &alice, &kyc, "kyc.tier2"]);
    assert!(c["credential"]["revoked_at"].is_string(), "{c}");

    dev.sigterm(Duration::from_secs(30));
}
