//! Risk scoring over the in-memory state: the committee adopts rule sets by
//! threshold votes on content; transfers are scored by amount, route,
//! credentials, account age, velocity so far and travel-rule presence; above
//! the levels they are refused (nothing moved) or held; decisions above zero
//! are logged; the rules, votes and ages survive genesis.

use paychain_bank::Route;
use paychain_framework::Coins;

use super::*;

fn member(n: u8) -> Address {
    addr(30 + n)
}

fn chain() -> Chain {
    let mut members: Vec<String> = (0..3).map(|n| member(n).to_string()).collect();
    members.sort();
    let committee = json!({"members": members, "threshold": 2, "emergency_threshold": 1, "timelock_seconds": "0",
        "emergency_lapse_seconds": "1000", "voting_period_seconds": "1000", "seizure_account": ""});
    let funded = [authority(), alice(), bob(), member(0), member(1), member(2)];
    let mut c = chain_with(json!({"committee": committee}), &funded);
    c.exec(register(&authority(), &kyc(), &["kyc.tier2"])).unwrap();
    c.exec(create(&kyc(), &alice(), "kyc.tier2", None)).unwrap();
    c.exec(accept(&alice(), "kyc.tier2")).unwrap();
    c
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

fn rule(code: &str, score: u32) -> pb::RiskRule {
    pb::RiskRule { code: code.into(), score, ..Default::default() }
}

fn kyc2() -> Option<pb::CredentialRequirement> {
    Some(pb::CredentialRequirement { issuer: kyc().to_string(), r#type: "kyc.tier2".into() })
}

/// Large (≥ 10000) 50, recipient without kyc.tier2 40, recipient newer than an
/// hour 30, no travel-rule record from 5000 up 20; refused above 100, held above 60.
fn rules() -> pb::RiskRuleSet {
    pb::RiskRuleSet {
        rules: vec![
            pb::RiskRule { min_amount: "10000".into(), ..rule("large", 50) },
            pb::RiskRule { recipient_lacks: kyc2(), ..rule("recipient_no_kyc", 40) },
            pb::RiskRule { recipient_newer_than_seconds: 3600, ..rule("new_recipient", 30) },
            pb::RiskRule { min_amount: "5000".into(), without_travel_rule: true, ..rule("no_travel_rule", 20) },
        ],
        refuse_above: 100,
        hold_above: 60,
        hold_seconds: 600,
        ..Default::default()
    }
}

fn vote(by: &Address, base: u64, set: &pb::RiskRuleSet) -> Any {
    any(&pb::MsgVoteRiskRules {
        member: by.to_string(),
        base_version: base,
        rules: Some(set.clone()),
        reason: "risk_review".into(),
        reference: "committee minutes 12".into(),
    })
}

impl Chain {
    fn risk_event(&self) -> Option<&Event> {
        self.events.iter().find(|e| e.kind == crate::risk::COMPLIANCE_RISK)
    }

    fn adopt(&mut self, set: &pb::RiskRuleSet) {
        let base = crate::risk::rules(&self.state).unwrap().map_or(0, |r| r.version);
        self.exec(vote(&member(0), base, set)).unwrap();
        self.exec(vote(&member(1), base, set)).unwrap();
    }
}

#[test]
fn the_committee_adopts_a_rule_set_when_its_threshold_votes_for_the_same_content() {
    let mut c = chain();
    let set = rules();
    assert_eq!(code(c.exec(vote(&alice(), 0, &set))), cs("compliance", 17));
    c.exec(vote(&member(0), 0, &set)).unwrap();
    assert_eq!(code(c.exec(vote(&member(0), 0, &set))), cs("compliance", 18));
    // Another content is another tally.
    let other = pb::RiskRuleSet { refuse_above: 90, ..set.clone() };
    c.exec(vote(&member(1), 0, &other)).unwrap();
    assert!(crate::risk::rules(&c.state).unwrap().is_none(), "no content has two votes yet");
    let r: pb::QueryRiskRulesResponse = {
        let b = c.module.query(&c.state, query::RISK_RULES, &pb::QueryRiskRulesRequest { version: 0 }.encode_to_vec());
        pb::QueryRiskRulesResponse::decode(b.unwrap().as_slice()).unwrap()
    };
    assert_eq!((r.rules, r.votes.len()), (None, 2));
    c.exec(vote(&member(2), 0, &set)).unwrap();
    let e = c.events.iter().find(|e| e.kind == events::COMPLIANCE_LIMIT).unwrap();
    assert_eq!((e.get("action"), e.get("version")), (Some("adopt_risk_rules"), Some("1")));
    let adopted = crate::risk::rules(&c.state).unwrap().unwrap();
    assert_eq!((adopted.version, adopted.rules.len()), (1, 4));
    assert!(crate::risk::open_votes(&c.state).unwrap().is_empty(), "the stale votes went with the old version");
    // A vote on the replaced version is refused.
    assert_eq!(code(c.exec(vote(&member(0), 0, &other))), cs("compliance", 34));
    // Malformed sets never reach state.
    for bad in [
        pb::RiskRuleSet { rules: vec![rule("x", 0)], ..Default::default() },
        pb::RiskRuleSet { rules: vec![rule("x", 1), rule("x", 2)], ..Default::default() },
        pb::RiskRuleSet {
            rules: vec![pb::RiskRule { route: "sideways".into(), ..rule("x", 1) }],
            ..Default::default()
        },
        pb::RiskRuleSet { rules: vec![pb::RiskRule { min_amount: "-1".into(), ..rule("x", 1) }], ..Default::default() },
        pb::RiskRuleSet { hold_above: 10, hold_seconds: 0, ..Default::default() },
        pb::RiskRuleSet {
            rules: vec![pb::RiskRule { velocity_used_percent: 101, ..rule("x", 1) }],
            ..Default::default()
        },
    ] {
        assert_eq!(code(c.exec(vote(&member(0), 1, &bad))), cs("compliance", 34), "{bad:?}");
    }
}

#[test]
fn transfers_are_scored_and_refused_held_or_logged_by_the_rules() {
    let mut c = chain();
    c.adopt(&rules());
    // Scored zero: no event.
    c.pay(&bob(), &alice(), "100upay").unwrap();
    assert!(c.risk_event().is_none());
    // An existing recipient without kyc.tier2: 40, logged, passed.
    c.pay(&alice(), &bob(), "1000upay").unwrap();
    let e = c.risk_event().unwrap();
    assert_eq!(
        (e.get("score"), e.get("codes"), e.get("decision")),
        (Some("40"), Some("recipient_no_kyc"), Some("pass"))
    );
    // Large, no kyc, no record: 110, refused with its codes, nothing moved.
    let before = (c.bal(&alice()), c.bal(&bob()));
    let refused = c.pay(&alice(), &bob(), "20000upay").unwrap_err();
    assert_eq!((&*refused.codespace, refused.code), ("compliance", 33));
    assert!(
        refused.log.contains("risk score 110") && refused.log.contains("large,recipient_no_kyc,no_travel_rule"),
        "{}",
        refused.log
    );
    assert_eq!((c.bal(&alice()), c.bal(&bob())), before);
    // A new account: no kyc 40 + new 30 = 70, above the hold level: held.
    let newcomer = addr(60);
    c.pay(&alice(), &newcomer, "100upay").unwrap();
    let e = c.risk_event().unwrap();
    assert_eq!((e.get("score"), e.get("decision")), (Some("70"), Some("hold")));
    assert_eq!(c.bal(&newcomer), 0, "held, not delivered");
    let hold = crate::holds::hold(&c.state, 1).unwrap().unwrap();
    assert_eq!((hold.policy_id, hold.policy_version), (0, 1));
    assert!(hold.reason.contains("recipient_no_kyc,new_recipient"), "{}", hold.reason);
    // Not holdable (IBC out): refused at the hold level.
    let out = Route::IbcOut { channel: "channel-0", memo: "" };
    let e = c.check_send(&alice(), &addr(99), &coins("10000upay"), out).unwrap_err();
    assert!(e.log.contains("cannot be held"), "{}", e.log);
    // Fees are never scored.
    c.run(|c, ctx| c.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &coins("50000upay")))
        .unwrap();

    // Age: a recipient created while the rules watch ages is new for an hour.
    let fresh = addr(61);
    c.exec(create(&kyc(), &fresh, "kyc.tier2", None)).unwrap();
    c.exec(accept(&fresh, "kyc.tier2")).unwrap();
    c.pay(&alice(), &fresh, "100upay").unwrap();
    assert_eq!(c.risk_event().unwrap().get("codes"), Some("new_recipient"), "30: logged, passed");
    c.time += 3599;
    c.pay(&alice(), &fresh, "100upay").unwrap();
    assert_eq!(c.risk_event().unwrap().get("codes"), Some("new_recipient"));
    c.time += 1;
    c.pay(&alice(), &fresh, "100upay").unwrap();
    assert!(c.risk_event().is_none(), "an hour old: scored zero");
}

#[test]
fn velocity_so_far_and_travel_rule_presence_are_conditions() {
    let mut c = chain();
    c.exec(any(&pb::MsgSetVelocityLimit {
        signer: authority().to_string(),
        limit: Some(pb::VelocityLimit {
            denom: "upay".into(),
            window_seconds: 3600,
            limit: "10000".into(),
            ..Default::default()
        }),
        remove: false,
        reason: "x".into(),
        reference: String::new(),
    }))
    .unwrap();
    let set = pb::RiskRuleSet {
        rules: vec![pb::RiskRule { velocity_used_percent: 80, ..rule("burst", 200) }],
        refuse_above: 100,
        ..Default::default()
    };
    c.adopt(&set);
    c.pay(&alice(), &bob(), "7999upay").unwrap();
    c.pay(&alice(), &bob(), "1upay").unwrap();
    // 8000 of 10000 used: at 80 %, the next send scores 200.
    let e = c.pay(&alice(), &bob(), "1upay").unwrap_err();
    assert!(e.log.contains("burst"), "{}", e.log);
}

#[test]
fn rules_votes_and_ages_round_trip_through_genesis() {
    let mut c = chain();
    c.adopt(&rules());
    c.exec(vote(&member(0), 1, &pb::RiskRuleSet { refuse_above: 5, ..rules() })).unwrap();
    c.exec(create(&kyc(), &addr(62), "kyc.tier2", None)).unwrap();
    c.exec(accept(&addr(62), "kyc.tier2")).unwrap();
    c.pay(&alice(), &addr(62), "100upay").unwrap();
    let exported = c.module.export_genesis(&c.state).unwrap();
    assert_eq!(exported["risk_rule_versions"].as_array().unwrap().len(), 1);
    assert_eq!(exported["risk_rule_votes"].as_array().unwrap().len(), 1);
    assert_eq!(exported["first_seen"].as_array().unwrap().len(), 1);
    let again = chain_with(exported.clone(), &[]);
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);
    let mut bad = exported.clone();
    bad["risk_rule_versions"][0]["version"] = json!("2");
    assert!(c.module.validate_genesis(Some(&bad)).unwrap_err().contains("risk_rule_versions[0]"));
    let mut bad = exported;
    bad["risk_rule_votes"][0]["proposal_hash"] = json!("00");
    assert!(c.module.validate_genesis(Some(&bad)).unwrap_err().contains("risk_rule_votes[0]"));
}
