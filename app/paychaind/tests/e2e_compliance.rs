//! Credentials end to end on a real CometBFT chain (`paychaind dev`, whose dev
//! key is the chain authority), driven by the commands a compliance officer, a
//! KYC provider and a customer run: the authority registers the provider for
//! its credential types, the provider credentials a customer, the customer
//! accepts, queries over the CLI and REST show it, the provider revokes it with
//! a reason and reference; the wrong signer is refused at every step. Then
//! transfer policies: the authority attaches a compound policy to upay whose
//! recipient rule needs the credential, a send to an uncredentialed account is
//! refused (compliance/16), a new version widens the rule and the old version
//! stays queryable, and a detached policy refuses nothing. Then sanctions: the
//! authority names a committee; an emergency sanction (listed by another
//! chain's bech32 form) stops the account at once and lapses unconfirmed; an
//! ordinary one passes with two votes; the list shows its provenance.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed.

use std::time::Duration;

use serde_json::Value;

mod common;
use common::cli::{event_attrs, json_ok, ok, run, show, wait_for, Wallet};
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

    // Transfer policies: recipients of upay must hold kyc.tier2 from the provider.
    let bob = w.add_key("bob");
    w.tx_ok(&["tx", "bank", "send", "dev", &bob, "1000000upay"]);
    w.tx_ok(&["tx", "compliance", "create-credential", "kyc", &bob, "kyc.tier2"]);
    w.tx_ok(&["tx", "compliance", "accept-credential", "bob", &kyc, "kyc.tier2"]);
    let requirement = format!("{kyc}:kyc.tier2");
    let policy_note = ["--reason", "kyc_required", "--reference", "compliance memo 12"];
    let mut create_policy = vec!["tx", "compliance", "create-policy", "dev", "kyc-tier2", "--all-of", &requirement];
    create_policy.extend(policy_note);
    let created = w.tx_ok(&create_policy);
    let ev = event_attrs(&created, "compliance_policy");
    assert_eq!((ev["action"].as_str(), ev["policy_id"].as_str()), (Some("create_policy"), Some("1")), "{ev:?}");
    let mut compound =
        vec!["tx", "compliance", "create-policy", "dev", "recipients-kyc", "--compound", "--recipient-policy", "1"];
    compound.extend(policy_note);
    w.tx_ok(&compound);
    let attach = |from: &str, id: &str| -> Vec<String> {
        ["tx", "compliance", "attach-policy", from, id, "--denom", "upay"]
            .iter()
            .chain(policy_note.iter())
            .map(|s| s.to_string())
            .collect()
    };
    w.tx_refused(&args(&attach("alice", "2")), "compliance", 7);
    w.tx_ok(&args(&attach("dev", "2")));
    let governing = w.query(&["compliance", "denom-policy", "upay"]);
    assert_eq!(governing["denom_policy_id"], "2", "{governing}");

    // Alice's credential was revoked: she may send (no sender rule) but not receive.
    w.tx_refused(&["tx", "bank", "send", "dev", &alice, "5upay"], "compliance", 16);
    w.tx_ok(&["tx", "bank", "send", "dev", &bob, "5upay"]);
    w.tx_ok(&["tx", "bank", "send", "alice", &bob, "5upay"]);

    // A new version lets tier1 holders in too; version 1 stays queryable (CLI and REST).
    let tier1 = format!("{kyc}:kyc.tier1");
    let either = format!("{requirement},{tier1}");
    let mut update = vec!["tx", "compliance", "update-policy", "dev", "1", "kyc-tier1-or-2", "--any-of", &either];
    update.extend(policy_note);
    let updated = w.tx_ok(&update);
    assert_eq!(event_attrs(&updated, "compliance_policy")["version"], "2");
    let v1 = w.query(&["compliance", "policy", "1", "--version", "1"]);
    assert_eq!(v1["policy"]["name"], "kyc-tier2", "{v1}");
    let now: Value =
        reqwest::blocking::get(format!("{rest}/paychain/compliance/v1/policies/1")).unwrap().json().unwrap();
    assert_eq!(
        (now["policy"]["version"].as_str(), now["policy"]["name"].as_str()),
        (Some("2"), Some("kyc-tier1-or-2")),
        "{now}"
    );
    w.tx_ok(&["tx", "compliance", "create-credential", "kyc", &alice, "kyc.tier1"]);
    w.tx_ok(&["tx", "compliance", "accept-credential", "alice", &kyc, "kyc.tier1"]);
    w.tx_ok(&["tx", "bank", "send", "dev", &alice, "5upay"]);

    // Detached, nothing is refused.
    w.tx_ok(&args(&attach("dev", "0")));
    let stranger = w.add_key("stranger");
    w.tx_ok(&["tx", "bank", "send", "dev", &stranger, "100000upay"]);

    // Sanctions: the authority names a 2-member committee (emergency quorum 1, no
    // timelock, emergency decisions lapse after 6 s unless confirmed).
    let officer = w.add_key("officer");
    w.tx_ok(&["tx", "bank", "send", "dev", &officer, "1000000upay"]);
    let dev_addr = json_ok(&w.cmd(&["keys", "show", "dev", "-o", "json"]))["address"].as_str().unwrap().to_string();
    let members = format!("{dev_addr},{officer}");
    let mut committee = vec!["tx", "compliance", "set-committee", "dev", "--members", &members, "--threshold", "2"];
    committee.extend(["--emergency-threshold", "1", "--timelock", "0", "--emergency-lapse", "6"]);
    committee.extend(["--voting-period", "600", "--reason", "board_resolution", "--reference", "BR-2026-44"]);
    w.tx_refused(&committee.iter().map(|a| if *a == "dev" { "alice" } else { a }).collect::<Vec<_>>(), "authority", 3);
    w.tx_ok(&committee);
    assert_eq!(w.query(&["compliance", "committee"])["committee"]["threshold"], 2);

    // An emergency sanction of the stranger, listed in its cosmos1 form: in force at once.
    let raw = paychain_framework::Address::from_bech32(&stranger).unwrap();
    let stranger_cosmos = raw.to_bech32_with_prefix("cosmos");
    let list = ["--list-name", "OFAC SDN", "--list-sha256", &hash, "--list-version", "2026-12-01"];
    let mut emergency = vec!["tx", "compliance", "propose-sanction", "officer", &stranger_cosmos, "--emergency"];
    emergency.extend(list);
    emergency.extend(["--reason", "sanctions_list_update", "--reference", "SDN 2026-12-01"]);
    let proposed = w.tx_ok(&emergency);
    let ev = event_attrs(&proposed, "compliance_sanction");
    assert_eq!((ev["step"].as_str(), ev["list_sha256"].as_str()), (Some("propose"), Some(hash.as_str())), "{ev:?}");
    w.tx_refused(&["tx", "bank", "send", "stranger", &alice, "1upay"], "compliance", 22);
    let s = w.query(&["compliance", "sanction", &stranger_cosmos]);
    assert_eq!(s["sanctioned"], true, "{s}");
    w.tx_refused(&["tx", "compliance", "vote-sanction", "alice", "1"], "compliance", 17);
    // Not confirmed: it lapses at the first block 6 s later, and the stranger pays again.
    wait_for("the emergency sanction to lapse", &mut dev, Duration::from_secs(60), || {
        let p = w.query(&["compliance", "sanction-proposal", "1"]);
        (p["proposal"]["status"] == "PROPOSAL_STATUS_LAPSED").then_some(())
    });
    assert_eq!(w.query(&["compliance", "sanction", &stranger])["sanctioned"], false);
    w.tx_ok(&["tx", "bank", "send", "stranger", &alice, "1upay"]);

    // An ordinary sanction: two votes, then in force; the list with its provenance over REST.
    let mut ordinary = vec!["tx", "compliance", "propose-sanction", "dev", &stranger];
    ordinary.extend(list);
    ordinary.extend(["--reason", "sanctions_list_update"]);
    w.tx_ok(&ordinary);
    w.tx_refused(&["tx", "compliance", "vote-sanction", "dev", "2"], "compliance", 18);
    let voted = w.tx_ok(&["tx", "compliance", "vote-sanction", "officer", "2"]);
    let steps: Vec<String> = voted["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "compliance_sanction")
        .flat_map(|e| e["attributes"].as_array().unwrap().iter())
        .filter(|a| a["key"] == "step")
        .map(|a| a["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(steps, ["vote", "execute"], "{voted}");
    w.tx_refused(&["tx", "bank", "send", "stranger", &alice, "1upay"], "compliance", 22);
    let listed: Value =
        reqwest::blocking::get(format!("{rest}/paychain/compliance/v1/sanctions")).unwrap().json().unwrap();
    assert_eq!(listed["sanctions"][0]["source"]["sha256"], hash.as_str(), "{listed}");
    assert_eq!(listed["sanctions"][0]["proposal_id"], "2", "{listed}");

    // The audit export: every compliance event so far, from txs and from FinalizeBlock
    // (the lapse), as JSON lines and as CSV with the same rows.
    let latest =
        json_ok(&["status", "--node", &w.node, "-o", "json"])["latest_block_height"].as_str().unwrap().to_string();
    let audit = |format: &str| {
        ok(&[
            "compliance",
            "audit",
            "--from-height",
            "1",
            "--to-height",
            &latest,
            "--format",
            format,
            "--node",
            &w.node,
        ])
    };
    let jsonl = audit("jsonl");
    let rows: Vec<Value> =
        jsonl.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}"))).collect();
    assert!(rows.iter().all(|r| r["type"].as_str().unwrap().starts_with("compliance_")), "{jsonl}");
    let heights: Vec<u64> = rows.iter().map(|r| r["height"].as_u64().unwrap()).collect();
    assert!(heights.windows(2).all(|h| h[0] <= h[1]), "rows in chain order: {jsonl}");
    let find = |kind: &str, f: &dyn Fn(&Value) -> bool| {
        rows.iter().find(|r| r["type"] == kind && f(&r["attributes"])).unwrap_or_else(|| panic!("no {kind}: {jsonl}"))
    };
    let issuer =
        find("compliance_action", &|a| a["action"] == "register_issuer" && a["reference"] == "board decision 2026-12");
    assert_eq!(issuer["tx_hash"], registered["txhash"], "{issuer}");
    assert_eq!(issuer["height"].to_string(), registered["height"].as_str().unwrap(), "{issuer}");
    find("compliance_policy", &|a| a["action"] == "attach_policy");
    let lapse = find("compliance_sanction", &|a| a["step"] == "lapse");
    assert!(lapse["tx_hash"].is_null() && lapse["tx_index"].is_null(), "block-level: {lapse}");
    assert!(lapse["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{lapse}");
    let csv = audit("csv");
    let mut csv_lines = csv.lines();
    assert_eq!(csv_lines.next(), Some("height,time,tx_hash,tx_index,event_index,type,attributes"), "{csv}");
    assert_eq!(csv_lines.count(), rows.len(), "one CSV row per JSON line:\n{csv}\n{jsonl}");
    let reversed = run(&["compliance", "audit", "--from-height", &latest, "--to-height", "1", "--node", &w.node]);
    let err = String::from_utf8_lossy(&reversed.stderr);
    assert!(!reversed.status.success() && reversed.stdout.is_empty(), "{}", show(&reversed));
    assert!(err.contains(&format!("--from-height {latest} is above --to-height 1")), "{err}");
    let beyond = (latest.parse::<u64>().unwrap() + 1000).to_string();
    let too_far = run(&["compliance", "audit", "--from-height", "1", "--to-height", &beyond, "--node", &w.node]);
    assert!(!too_far.status.success(), "{}", show(&too_far));
    assert!(String::from_utf8_lossy(&too_far.stderr).contains("beyond the node's latest height"), "{}", show(&too_far));

    dev.sigterm(Duration::from_secs(30));
}

/// A payment company's day under payment controls, on a real chain, with the commands
/// an officer and a wallet run: the authority sets a velocity limit on upay (a 24 s
/// window so the test sees it reset), a send past it is refused with what remains
/// (compliance/28) and goes through once the window moved on; usage over the CLI and
/// REST. Then the travel rule: above the threshold a send without a record is refused
/// (compliance/31), `--travel-rule payload.json` attaches the IVMS 101 hash and VASP
/// ids, and `query compliance travel-rule HASH` and `query tx` show the record. A
/// payload missing a party never leaves the CLI. Then risk rules: the committee votes a
/// rule set from a JSON file; a large transfer is refused with its reason code
/// (compliance/33), a small one is logged with its score.
#[test]
fn a_payment_company_meets_velocity_limits_the_travel_rule_and_risk_rules() {
    if !cometbft_available("a_payment_company_meets_velocity_limits_the_travel_rule_and_risk_rules") {
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
    let alice = w.add_key("alice");
    let bob = w.add_key("bob");
    w.tx_ok(&["tx", "bank", "send", "dev", &alice, "5000000upay"]);

    let note = ["--reason", "velocity_policy", "--reference", "risk committee 2026-12"];
    let mut set =
        vec!["tx", "compliance", "set-velocity-limit", "alice", "upay", "--limit", "1000000", "--window", "24"];
    set.extend(note);
    w.tx_refused(&set, "compliance", 7);
    set[3] = "dev";
    let done = w.tx_ok(&set);
    assert_eq!(event_attrs(&done, "compliance_limit")["reference"], "risk committee 2026-12");
    let limit = w.query(&["compliance", "velocity-limit", "upay"]);
    assert_eq!(
        (limit["limit"]["limit"].as_str(), limit["limit"]["window_seconds"].as_str()),
        (Some("1000000"), Some("24")),
        "{limit}"
    );

    w.tx_ok(&["tx", "bank", "send", "alice", &bob, "600000upay"]);
    let refused = w.tx_refused(&["tx", "bank", "send", "alice", &bob, "500000upay"], "compliance", 28);
    assert!(refused["raw_log"].as_str().unwrap().contains("400000upay remaining"), "{refused}");
    let usage = w.query(&["compliance", "velocity-usage", &alice, "upay"]);
    assert_eq!((usage["used"].as_str(), usage["remaining"].as_str()), (Some("600000"), Some("400000")), "{usage}");
    let over_rest: Value =
        reqwest::blocking::get(format!("{rest}/paychain/compliance/v1/accounts/{alice}/velocity?denom=upay"))
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(over_rest["remaining"], "400000", "{over_rest}");
    // The window moves on: 24 s after the first send it no longer counts.
    std::thread::sleep(Duration::from_secs(25));
    w.tx_ok(&["tx", "bank", "send", "alice", &bob, "500000upay"]);

    // The travel rule: above 100000upay a transfer carries a record.
    w.tx_ok(&[
        "tx",
        "compliance",
        "set-travel-rule-threshold",
        "dev",
        "upay",
        "--threshold",
        "100000",
        "--reason",
        "fatf_r16",
    ]);
    let refused = w.tx_refused(&["tx", "bank", "send", "alice", &bob, "200000upay"], "compliance", 31);
    assert!(refused["raw_log"].as_str().unwrap().contains("travel-rule record"), "{refused}");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
    let payload = format!("{fixtures}/ivms101.json");
    let sent = w.tx_ok(&["tx", "bank", "send", "alice", &bob, "200000upay", "--travel-rule", &payload]);
    let want = std::fs::read_to_string(format!("{fixtures}/ivms101.sha256")).unwrap();
    let ev = event_attrs(&sent, "compliance_travel_rule");
    assert_eq!(ev["ivms101_sha256"], want.trim(), "{sent}");
    assert_eq!(
        (ev["originator_vasp"].as_str(), ev["beneficiary_vasp"].as_str()),
        (Some("5493001KJTIIGC8Y1R12"), Some("213800D1EI4B9WTWWD28"))
    );
    let hash = sent["txhash"].as_str().unwrap();
    let view = w.query(&["compliance", "travel-rule", hash]);
    assert_eq!(view["records"][0]["ivms101_sha256"], want.trim(), "{view}");
    assert_eq!(view["transfers"][0]["amount"], "200000upay", "{view}");
    let tx = w.query(&["tx", hash]);
    assert_eq!(tx["tx"]["body"]["extension_options"][0]["@type"], "/paychain.compliance.v1.TravelRuleRecord", "{tx}");
    // A payload that names no beneficiary is refused by the CLI, before any signing.
    let broken = tmp.path().join("broken.json");
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(&payload).unwrap()).unwrap();
    p["beneficiary"]["beneficiaryPersons"] = serde_json::json!([]);
    std::fs::write(&broken, p.to_string()).unwrap();
    let mut a = w.cmd(&["tx", "bank", "send", "alice", &bob, "200000upay", "--travel-rule", broken.to_str().unwrap()]);
    a.extend(["--fees", "5000upay", "--node", &w.node, "--yes"].map(String::from));
    let o = run(&a);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("beneficiary.beneficiaryPersons"), "{}", show(&o));

    // Risk rules, adopted by the committee (here one member, the dev key): a transfer of
    // 300000upay or more scores 200 and is refused above 100; a smaller one to an account
    // without kyc scores 40 and is logged.
    let dev_addr = json_ok(&w.cmd(&["keys", "show", "dev", "-o", "json"]))["address"].as_str().unwrap().to_string();
    let mut committee = vec!["tx", "compliance", "set-committee", "dev", "--members", &dev_addr, "--threshold", "1"];
    committee.extend(["--emergency-threshold", "1", "--timelock", "0", "--emergency-lapse", "60"]);
    committee.extend(["--voting-period", "600", "--reason", "board_resolution"]);
    w.tx_ok(&committee);
    let rules = tmp.path().join("rules.json");
    std::fs::write(
        &rules,
        serde_json::json!({"rules": [
            {"code": "very_large", "score": 200, "min_amount": "300000"},
            {"code": "small_probe", "score": 40, "route": "local"}],
            "refuse_above": 100})
        .to_string(),
    )
    .unwrap();
    let vote = ["tx", "compliance", "vote-risk-rules", "dev", rules.to_str().unwrap(), "--base-version", "0"];
    let voted = w.tx_ok(&[&vote[..], &["--reason", "risk_review"]].concat());
    assert_eq!(event_attrs(&voted, "compliance_limit")["action"], "adopt_risk_rules", "{voted}");
    assert_eq!(w.query(&["compliance", "risk-rules"])["rules"]["version"], "1");
    let big = ["tx", "bank", "send", "dev", &bob, "300000upay", "--travel-rule", &payload];
    let refused = w.tx_refused(&big, "compliance", 33);
    assert!(refused["raw_log"].as_str().unwrap().contains("very_large"), "{refused}");
    let logged = w.tx_ok(&["tx", "bank", "send", "dev", &bob, "1000upay"]);
    let risk = event_attrs(&logged, "compliance_risk");
    assert_eq!((risk["score"].as_str(), risk["decision"].as_str()), (Some("40"), Some("pass")), "{logged}");

    dev.sigterm(Duration::from_secs(30));
}
