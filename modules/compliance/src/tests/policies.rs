//! Transfer policies over the in-memory state, wired as the app wires them: who
//! may create, change and attach them; lists, credentials and compound rules at
//! block time; and every path that moves coins (send, multi-send, fees, escrow,
//! IBC out and in, mints) refused with nothing moved.

use paychain_bank::{Input, Output, Route};
use paychain_framework::Coins;

use super::*;
use crate::pb::policy_rule::Kind;

fn carol() -> Address {
    addr(12)
}
/// An IBC channel's escrow address (no module account).
fn channel_escrow() -> Address {
    addr(99)
}

fn chain() -> Chain {
    chain_with(json!({}), &[authority(), alice(), bob(), carol()])
}

fn rule(kind: Kind) -> Option<pb::PolicyRule> {
    Some(pb::PolicyRule { kind: Some(kind) })
}

fn req(t: &str) -> pb::CredentialRequirement {
    pb::CredentialRequirement { issuer: kyc().to_string(), r#type: t.into() }
}

fn create_policy(creator: &Address, r: Option<pb::PolicyRule>, members: &[Address]) -> Any {
    any(&pb::MsgCreatePolicy {
        creator: creator.to_string(),
        name: "kyc-required".into(),
        rule: r,
        admin: String::new(),
        members: members.iter().map(Address::to_string).collect(),
        reason: "policy_setup".into(),
        reference: "compliance memo 12".into(),
        hold_seconds: 0,
    })
}

fn members(admin: &Address, id: u64, add: &[Address], remove: &[Address]) -> Any {
    any(&pb::MsgUpdatePolicyMembers {
        admin: admin.to_string(),
        policy_id: id,
        add: add.iter().map(Address::to_string).collect(),
        remove: remove.iter().map(Address::to_string).collect(),
        reason: "list_review".into(),
        reference: String::new(),
    })
}

fn attach(signer: &Address, denom: &str, id: u64) -> Any {
    any(&pb::MsgAttachPolicy {
        signer: signer.to_string(),
        denom: denom.into(),
        policy_id: id,
        reason: "policy_setup".into(),
        reference: "board 2026-12".into(),
    })
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

impl Chain {
    fn send(&mut self, from: &Address, to: &Address, amount: &str) -> Result<(), SdkError> {
        let (from, to, amt) = (from.clone(), to.clone(), coins(amount));
        self.run(move |c, ctx| c.bank.send_coins(ctx, &from, &to, &amt))
    }

    fn routed(&mut self, from: &Address, to: &Address, amount: &str, route: Route) -> Result<(), SdkError> {
        let (from, to, amt) = (from.clone(), to.clone(), coins(amount));
        // IBC validates before it executes: both must agree.
        let checked = self.check_send(&from, &to, &amt, route);
        let done = self.run(move |c, ctx| c.bank.send_coins_routed(ctx, &from, &to, &amt, route));
        assert_eq!(checked.is_ok(), done.is_ok(), "validation and execution agree");
        done
    }

    fn mint_to(&mut self, to: &Address, amount: &str) -> Result<(), SdkError> {
        let (to, amt) = (to.clone(), coins(amount));
        self.run(move |c, ctx| {
            c.bank.mint_coins(ctx, MINTING_MODULE, &amt)?;
            c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &to, &amt)
        })
    }

    fn pay_fee(&mut self, payer: &Address, amount: &str) -> Result<(), SdkError> {
        let (payer, amt) = (payer.clone(), coins(amount));
        self.run(move |c, ctx| c.bank.send_coins_from_account_to_module(ctx, &payer, FEE_COLLECTOR, &amt))
    }

    fn created_id(&self) -> u64 {
        let e = self.policy_event();
        e.get("policy_id").unwrap().parse().unwrap()
    }

    fn policy_event(&self) -> &Event {
        self.events.iter().find(|e| e.kind == events::COMPLIANCE_POLICY).expect("a compliance_policy event")
    }

    fn policy(&self, id: u64) -> pb::Policy {
        store::policy(&self.state, id).unwrap().unwrap()
    }

    fn escrow_to(&mut self, from: &Address, to: &Address, amount: &str) -> Result<(), SdkError> {
        let m = any(&paychain_escrow::pb::MsgCreateEscrow {
            sender: from.to_string(),
            recipient: to.to_string(),
            amount: coins(amount).to_proto(),
            ..Default::default()
        });
        let msg = self.escrow.decode_msg(&m)?;
        self.run(|c, ctx| c.escrow.deliver(ctx, msg.as_ref()).map(|_| ()))
    }

    /// Asserts the transfer is refused by a policy with `words` in its log and
    /// that nothing moved.
    fn refused(&mut self, r: impl FnOnce(&mut Chain) -> Result<(), SdkError>, words: &[&str]) {
        let before = self.bank_module.export_genesis(&self.state).unwrap();
        let e = r(self).unwrap_err();
        assert_eq!((&*e.codespace, e.code), ("compliance", 16), "{}", e.log);
        for w in words {
            assert!(e.log.contains(w), "{:?} not in {:?}", w, e.log);
        }
        assert_eq!(self.bank_module.export_genesis(&self.state).unwrap(), before, "nothing moved");
    }
}

#[test]
fn a_deny_list_on_a_denom_stops_every_path_that_moves_it() {
    let mut c = chain();
    c.exec(create_policy(&alice(), rule(Kind::DenyList(pb::MemberList {})), &[carol()])).unwrap();
    let id = c.created_id();
    assert_eq!(id, 1);
    let e = c.policy_event();
    assert_eq!(
        (e.get("action"), e.get("detail"), e.get("version")),
        (Some("create_policy"), Some("deny_list"), Some("1"))
    );
    assert_eq!(e.get("reference"), Some("compliance memo 12"));
    assert_eq!(c.policy(id).admin, alice().to_string(), "the creator administers it");

    // Only the chain authority attaches a policy to upay (no token admin exists for it).
    assert_eq!(code(c.exec(attach(&alice(), "upay", id))), cs("compliance", 7));
    assert_eq!(code(c.exec(attach(&authority(), "upay", 7))), cs("compliance", 14));
    c.exec(attach(&authority(), "upay", id)).unwrap();
    assert_eq!(c.policy_event().get("denom"), Some("upay"));

    c.send(&alice(), &bob(), "10upay").unwrap();
    c.refused(|c| c.send(&alice(), &carol(), "10upay"), &["policy 1", "recipient", &carol().to_string(), "deny list"]);
    c.refused(|c| c.send(&carol(), &alice(), "10upay"), &["sender"]);
    // Fees: a listed account cannot pay one.
    c.refused(|c| c.pay_fee(&carol(), "5upay"), &["sender"]);
    c.pay_fee(&alice(), "5upay").unwrap();
    // A multi-send with one listed output moves nothing at all.
    c.refused(
        |c| {
            let input = Input { address: alice(), coins: coins("20upay") };
            let outs = vec![
                Output { address: bob(), coins: coins("10upay") },
                Output { address: carol(), coins: coins("10upay") },
            ];
            c.run(move |c, ctx| c.bank.input_output_coins(ctx, &input, &outs))
        },
        &["recipient"],
    );
    // Escrow: refused at creation for a listed recipient; fine for another.
    c.refused(|c| c.escrow_to(&alice(), &carol(), "10upay"), &["recipient"]);
    c.escrow_to(&alice(), &bob(), "10upay").unwrap();
    // IBC: the chain-side account is checked, the channel escrow never.
    c.refused(
        |c| c.routed(&carol(), &channel_escrow(), "10upay", Route::IbcOut { channel: "channel-0", memo: "" }),
        &["sender"],
    );
    c.routed(&alice(), &channel_escrow(), "10upay", Route::IbcOut { channel: "channel-0", memo: "" }).unwrap();
    c.refused(
        |c| c.routed(&channel_escrow(), &carol(), "10upay", Route::IbcIn { channel: "channel-0", memo: Some("") }),
        &["recipient"],
    );
    c.routed(&channel_escrow(), &bob(), "10upay", Route::IbcIn { channel: "channel-0", memo: Some("") }).unwrap();
    // A mint to a listed account.
    c.refused(|c| c.mint_to(&carol(), "10upay"), &["mint recipient"]);

    // Only its admin changes the list; each change is a new version.
    assert_eq!(code(c.exec(members(&bob(), id, &[], &[carol()]))), cs("compliance", 7));
    c.exec(members(&alice(), id, &[bob()], &[carol()])).unwrap();
    let e = c.policy_event();
    assert_eq!(e.get("version"), Some("2"));
    assert_eq!(e.get("detail").unwrap(), format!("+{},-{}", bob(), carol()));
    c.send(&alice(), &carol(), "10upay").unwrap();
    c.refused(|c| c.send(&alice(), &bob(), "1upay"), &["deny list"]);
    // Version 1 stays on record.
    let v1 = store::policy_version(&c.state, id, 1).unwrap().unwrap();
    assert_eq!((v1.version, c.policy(id).version), (1, 2));

    // Detached, nothing is refused.
    c.exec(attach(&authority(), "upay", 0)).unwrap();
    c.send(&alice(), &bob(), "1upay").unwrap();
    assert_eq!(store::denom_policy(&c.state, "upay").unwrap(), 0);
}

#[test]
fn credential_and_compound_rules_follow_block_time() {
    let mut c = chain();
    c.exec(register(&authority(), &kyc(), &["kyc.tier1", "kyc.tier2"])).unwrap();
    c.exec(create(&kyc(), &bob(), "kyc.tier2", Some(T0 + 100))).unwrap();
    c.exec(accept(&bob(), "kyc.tier2")).unwrap();
    // 1: the recipient's credential; 2: who may receive a mint; 3: both, by role.
    let creds = Kind::Credentials(pb::CredentialRule { all_of: vec![req("kyc.tier2")], any_of: vec![] });
    c.exec(create_policy(&authority(), rule(creds), &[])).unwrap();
    c.exec(create_policy(&authority(), rule(Kind::AllowList(pb::MemberList {})), &[alice()])).unwrap();
    let compound = |s: u64, r: u64, m: u64| {
        Kind::Compound(pb::CompoundRule { sender_policy: s, recipient_policy: r, mint_recipient_policy: m })
    };
    assert_eq!(code(c.exec(create_policy(&authority(), rule(compound(0, 9, 0)), &[]))), cs("compliance", 14));
    c.exec(create_policy(&authority(), rule(compound(0, 1, 2)), &[])).unwrap();
    assert_eq!(c.created_id(), 3);
    assert_eq!(code(c.exec(create_policy(&authority(), rule(compound(3, 0, 0)), &[]))), cs("compliance", 15));
    c.exec(attach(&authority(), "upay", 3)).unwrap();

    c.send(&alice(), &bob(), "10upay").unwrap();
    c.refused(|c| c.send(&alice(), &carol(), "10upay"), &["policy 3", "policy 1", "holds no kyc.tier2"]);
    // No sender rule: the uncredentialed carol may pay.
    c.send(&carol(), &bob(), "10upay").unwrap();
    // Mints are checked against the mint-recipient rule (the allow list), not the
    // recipient's.
    c.refused(|c| c.mint_to(&bob(), "10upay"), &["mint recipient", "allow list"]);
    c.mint_to(&alice(), "10upay").unwrap();
    // Bob's credential ends at T0+100, block time.
    c.time = T0 + 99;
    c.send(&alice(), &bob(), "1upay").unwrap();
    c.time = T0 + 100;
    c.refused(|c| c.send(&alice(), &bob(), "1upay"), &["holds no kyc.tier2"]);

    // any_of: one of the listed credentials is enough.
    c.exec(create(&kyc(), &carol(), "kyc.tier1", None)).unwrap();
    c.exec(accept(&carol(), "kyc.tier1")).unwrap();
    let either =
        Kind::Credentials(pb::CredentialRule { all_of: vec![], any_of: vec![req("kyc.tier1"), req("kyc.tier2")] });
    let update = |admin: &Address, id: u64, k: Kind| {
        any(&pb::MsgUpdatePolicy {
            admin: admin.to_string(),
            policy_id: id,
            name: "tier1-or-tier2".into(),
            rule: rule(k),
            new_admin: String::new(),
            reason: "policy_review".into(),
            reference: String::new(),
            hold_seconds: 0,
        })
    };
    assert_eq!(code(c.exec(update(&alice(), 1, either.clone()))), cs("compliance", 7));
    c.exec(update(&authority(), 1, either)).unwrap();
    assert_eq!(c.policy(1).version, 2);
    c.send(&alice(), &carol(), "1upay").unwrap();
    c.refused(|c| c.send(&alice(), &bob(), "1upay"), &["holds none of"]);
    // A compound policy stays compound and names no compound policy or itself.
    assert_eq!(code(c.exec(update(&authority(), 3, Kind::DenyList(pb::MemberList {})))), cs("compliance", 15));
    assert_eq!(code(c.exec(update(&authority(), 1, compound(2, 0, 0)))), cs("compliance", 15));
    assert_eq!(code(c.exec(update(&authority(), 3, compound(3, 0, 0)))), cs("compliance", 15));
    // Members belong to lists only.
    assert_eq!(code(c.exec(members(&authority(), 1, &[bob()], &[]))), cs("compliance", 15));
}

struct OneAdmin(Address);

impl DenomAdmins for OneAdmin {
    fn admin_of(&self, _: &dyn paychain_framework::StateRead, denom: &str) -> Result<Option<Address>, SdkError> {
        Ok((denom == "ualice").then(|| self.0.clone()))
    }
}

#[test]
fn the_global_policy_governs_every_denom_and_never_locks_out_the_authority() {
    let mut c = chain();
    c.keeper.set_denom_admins(Arc::new(OneAdmin(alice())));
    c.mint_to(&alice(), "100ualice").unwrap();
    c.exec(create_policy(&authority(), rule(Kind::AllowList(pb::MemberList {})), &[alice(), bob()])).unwrap();
    // The authority is not on it: as the global policy it could not pay fees to undo it.
    let e = c.exec(attach(&authority(), "", 1)).unwrap_err();
    assert_eq!((&*e.codespace, e.code), ("compliance", 15));
    assert!(e.log.contains("chain authority"), "{}", e.log);
    c.exec(members(&authority(), 1, &[authority()], &[])).unwrap();
    assert_eq!(code(c.exec(attach(&alice(), "", 1))), cs("compliance", 7));
    c.exec(attach(&authority(), "", 1)).unwrap();
    assert_eq!(c.policy_event().get("detail"), Some("global"));

    c.send(&alice(), &bob(), "1upay,1ualice").unwrap();
    c.refused(|c| c.send(&alice(), &carol(), "1ualice"), &["allow list"]);
    c.refused(|c| c.pay_fee(&carol(), "1upay"), &["sender"]);

    // A token's admin attaches a policy to its own token only; a transfer then
    // meets both policies.
    c.exec(create_policy(&alice(), rule(Kind::DenyList(pb::MemberList {})), &[bob()])).unwrap();
    assert_eq!(code(c.exec(attach(&alice(), "upay", 2))), cs("compliance", 7));
    c.exec(attach(&alice(), "ualice", 2)).unwrap();
    c.refused(|c| c.send(&alice(), &bob(), "1ualice"), &["policy 2", "deny list"]);
    c.send(&alice(), &bob(), "1upay").unwrap();
    assert_eq!(c.bal(&bob()), 1_000_002);
}

#[test]
fn malformed_policy_messages_are_refused_before_state() {
    let c = chain();
    let err = |m: Any| {
        let e = c.module.decode_msg(&m).unwrap_err();
        (e.codespace.to_string(), e.code)
    };
    let list = || rule(Kind::AllowList(pb::MemberList {}));
    let mut m = pb::MsgCreatePolicy {
        creator: alice().to_string(),
        name: "p".into(),
        rule: list(),
        reason: "x".into(),
        ..Default::default()
    };
    let mut bad = m.clone();
    bad.name = String::new();
    assert_eq!(err(any(&bad)), cs("compliance", 15), "a name is required");
    bad = m.clone();
    bad.rule = None;
    assert_eq!(err(any(&bad)), cs("compliance", 15), "a rule is required");
    bad.rule = rule(Kind::Credentials(pb::CredentialRule::default()));
    assert_eq!(err(any(&bad)), cs("compliance", 15), "no requirement");
    let nine: Vec<_> = (0..9).map(|i| req(&format!("t{i}"))).collect();
    bad.rule = rule(Kind::Credentials(pb::CredentialRule { all_of: nine, any_of: vec![] }));
    assert_eq!(err(any(&bad)), cs("compliance", 15), "more than 8 requirements");
    bad.rule = rule(Kind::Credentials(pb::CredentialRule { all_of: vec![req("a")], any_of: vec![req("a")] }));
    assert_eq!(err(any(&bad)), cs("compliance", 15), "twice");
    bad.rule = rule(Kind::Credentials(pb::CredentialRule { all_of: vec![req("A B")], any_of: vec![] }));
    assert_eq!(err(any(&bad)), cs("compliance", 4), "bad type");
    bad.rule = rule(Kind::Compound(pb::CompoundRule::default()));
    assert_eq!(err(any(&bad)), cs("compliance", 15), "a compound names a policy");
    bad = m.clone();
    bad.members = vec![bob().to_string(), bob().to_string()];
    assert_eq!(err(any(&bad)), cs("compliance", 15), "a member twice");
    bad.members = vec!["pay1nope".into()];
    assert_eq!(err(any(&bad)), cs("sdk", 7));
    bad.members = (0..101u8).map(|i| addr(i).to_string()).collect();
    assert_eq!(err(any(&bad)), cs("compliance", 15), "more than 100");
    bad = m.clone();
    bad.rule = rule(Kind::Credentials(pb::CredentialRule { all_of: vec![req("a")], any_of: vec![] }));
    bad.members = vec![bob().to_string()];
    assert_eq!(err(any(&bad)), cs("compliance", 15), "members on a credential rule");
    m.reason = String::new();
    assert_eq!(err(any(&m)), cs("compliance", 10), "a reason is required");

    let u = |add: Vec<Address>, remove: Vec<Address>| members(&alice(), 1, &add, &remove);
    assert_eq!(err(u(vec![], vec![])), cs("compliance", 15));
    assert_eq!(err(u(vec![bob()], vec![bob()])), cs("compliance", 15));
    let a = pb::MsgAttachPolicy {
        signer: alice().to_string(),
        denom: "1bad".into(),
        policy_id: 1,
        reason: "x".into(),
        ..Default::default()
    };
    assert_eq!(err(any(&a)), cs("sdk", 10));
}

#[test]
fn policies_round_trip_through_genesis_and_bad_genesis_is_refused() {
    let mut c = chain();
    c.exec(create_policy(&alice(), rule(Kind::DenyList(pb::MemberList {})), &[carol()])).unwrap();
    c.exec(members(&alice(), 1, &[bob()], &[])).unwrap();
    let creds = Kind::Credentials(pb::CredentialRule { all_of: vec![req("kyc.tier2")], any_of: vec![] });
    c.exec(create_policy(&alice(), rule(creds), &[])).unwrap();
    c.exec(attach(&authority(), "upay", 1)).unwrap();
    c.exec(attach(&authority(), "", 2)).unwrap_err(); // the authority holds no credential
    let exported = c.module.export_genesis(&c.state).unwrap();
    assert_eq!(exported["policies"].as_array().unwrap().len(), 3, "two versions of 1, one of 2");
    assert_eq!(exported["next_policy_id"].as_str().or(exported["nextPolicyId"].as_str()), Some("3"));
    let again = chain_with(exported.clone(), &[authority(), alice(), bob(), carol()]);
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);
    let mut d = again;
    d.refused(|d| d.send(&alice(), &carol(), "1upay"), &["deny list"]);

    let bad = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut g = exported.clone();
        edit(&mut g);
        let g = genesis::genesis_from_json(Some(&g)).unwrap();
        genesis::validate_genesis(&g).unwrap_err()
    };
    assert!(bad(&|g| g["next_policy_id"] = json!("2")).contains("next_policy_id"));
    assert!(bad(&|g| g["policies"][1]["version"] = json!("3")).contains("every version"));
    assert!(bad(&|g| g["policy_members"][0]["policy_id"] = json!("2")).contains("no allow or deny list"));
    assert!(bad(&|g| g["denom_policies"][0]["policy_id"] = json!("5")).contains("no policy 5"));
    assert!(bad(&|g| {
        g["policies"][2]["rule"] = json!({"compound": {"sender_policy": "2"}});
    })
    .contains("no simple policy"));
}
