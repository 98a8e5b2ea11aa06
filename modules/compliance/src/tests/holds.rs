//! Holds for review over the in-memory state: a policy that holds instead of
//! refusing, decisions by the committee's threshold or by the token's admin,
//! seizure only of sanctioned parties' funds, the automatic return at the
//! deadline; and randomized sequences of sends, decisions, sanctions and time
//! that must keep every coin and every sanctioned balance.

use paychain_bank::{Input, Output, Route};
use paychain_framework::Coins;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::pb::policy_rule::Kind;
use crate::pb::{HoldDecision, HoldStatus, SanctionAction};

fn carol() -> Address {
    addr(12)
}
fn member(n: u8) -> Address {
    addr(30 + n)
}
fn seizure() -> Address {
    addr(77)
}

fn committee_json() -> serde_json::Value {
    let mut members: Vec<String> = (0..3).map(|n| member(n).to_string()).collect();
    members.sort();
    json!({"members": members, "threshold": 2, "emergency_threshold": 1, "timelock_seconds": "0",
        "emergency_lapse_seconds": "1000", "voting_period_seconds": "1000", "seizure_account": seizure().to_string()})
}

/// Recipients of upay need kyc.tier2 (bob has it, carol not); a failing send is
/// held for 100 s.
fn chain() -> Chain {
    let funded = [authority(), alice(), bob(), carol(), member(0), member(1), member(2)];
    let mut c = chain_with(json!({"committee": committee_json()}), &funded);
    c.exec(register(&authority(), &kyc(), &["kyc.tier2"])).unwrap();
    c.exec(create(&kyc(), &bob(), "kyc.tier2", None)).unwrap();
    c.exec(accept(&bob(), "kyc.tier2")).unwrap();
    let creds = pb::CredentialRule {
        all_of: vec![pb::CredentialRequirement { issuer: kyc().to_string(), r#type: "kyc.tier2".into() }],
        any_of: vec![],
    };
    let policy = |rule: Kind, hold_seconds: u64| {
        any(&pb::MsgCreatePolicy {
            creator: authority().to_string(),
            name: "recipients-kyc".into(),
            rule: Some(pb::PolicyRule { kind: Some(rule) }),
            reason: "policy_setup".into(),
            hold_seconds,
            ..Default::default()
        })
    };
    c.exec(policy(Kind::Credentials(creds), 0)).unwrap();
    let compound = pb::CompoundRule { sender_policy: 0, recipient_policy: 1, mint_recipient_policy: 0 };
    c.exec(policy(Kind::Compound(compound), 100)).unwrap();
    c.exec(any(&pb::MsgAttachPolicy {
        signer: authority().to_string(),
        denom: "upay".into(),
        policy_id: 2,
        reason: "policy_setup".into(),
        reference: String::new(),
    }))
    .unwrap();
    c
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

fn decide(by: &Address, id: u64, d: HoldDecision) -> Any {
    any(&pb::MsgDecideHold {
        signer: by.to_string(),
        hold_id: id,
        decision: d as i32,
        reason: "review_done".into(),
        reference: "case 2026-311".into(),
    })
}

impl Chain {
    fn hold(&self, id: u64) -> pb::Hold {
        crate::holds::hold(&self.state, id).unwrap().unwrap()
    }

    fn hold_event(&self) -> &Event {
        self.events.iter().rev().find(|e| e.kind == events::COMPLIANCE_HOLD).expect("a compliance_hold event")
    }

    fn tick(&mut self) {
        self.run(|c, ctx| c.module.end_block(ctx)).unwrap();
    }
}

#[test]
fn a_held_send_waits_for_a_decision_and_returns_at_its_deadline() {
    let mut c = chain();
    let (a0, c0) = (c.bal(&alice()), c.bal(&carol()));
    c.pay(&alice(), &carol(), "10upay").unwrap();
    let e = c.hold_event();
    assert_eq!((e.get("step"), e.get("hold_id"), e.get("amount")), (Some("hold"), Some("1"), Some("10upay")));
    assert!(e.get("reason").unwrap().contains("holds no kyc.tier2"), "{e:?}");
    assert_eq!((c.bal(&alice()), c.bal(&carol())), (a0 - 10, c0), "neither the recipient's nor back");
    assert_eq!(c.bal(&crate::holds::holds_account()), 10);
    let h = c.hold(1);
    assert_eq!((h.status, h.policy_id, h.deadline.unwrap().seconds), (HoldStatus::Held as i32, 2, T0 + 100));
    c.pay(&alice(), &bob(), "1upay").unwrap();
    assert_eq!(c.events.iter().filter(|e| e.kind == events::COMPLIANCE_HOLD).count(), 0, "bob passes");

    // Only members (by the threshold) or the token's admin decide.
    assert_eq!(code(c.exec(decide(&bob(), 1, HoldDecision::Release))), cs("compliance", 7));
    c.exec(decide(&member(0), 1, HoldDecision::Release)).unwrap();
    assert_eq!(c.hold_event().get("step"), Some("vote"));
    assert_eq!(code(c.exec(decide(&member(0), 1, HoldDecision::Return))), cs("compliance", 18));
    c.exec(decide(&member(1), 1, HoldDecision::Return)).unwrap();
    assert_eq!(c.hold(1).status, HoldStatus::Held as i32, "one vote each way decides nothing");
    c.exec(decide(&member(2), 1, HoldDecision::Release)).unwrap();
    let h = c.hold(1);
    assert_eq!((h.status, h.decided_by.as_str()), (HoldStatus::Released as i32, member(2).to_string().as_str()));
    assert_eq!(c.hold_event().get("reference"), Some("case 2026-311"));
    assert_eq!(c.bal(&carol()), c0 + 10, "released to the recipient, policy or not");
    assert_eq!(code(c.exec(decide(&member(0), 1, HoldDecision::Return))), cs("compliance", 26));
    assert_eq!(code(c.exec(decide(&member(0), 9, HoldDecision::Return))), cs("compliance", 25));

    // Undecided: back to the sender at the deadline, in end block.
    c.pay(&alice(), &carol(), "5upay").unwrap();
    let a1 = c.bal(&alice());
    c.time = T0 + 99;
    c.tick();
    assert_eq!(c.hold(2).status, HoldStatus::Held as i32);
    c.time = T0 + 100;
    c.tick();
    assert_eq!(c.hold(2).status, HoldStatus::Expired as i32);
    assert_eq!(c.bal(&alice()), a1 + 5);

    // A multi-send: the failing output is held, the other delivered.
    let b0 = c.bal(&bob());
    let input = Input { address: alice(), coins: coins("7upay") };
    let outs =
        vec![Output { address: bob(), coins: coins("3upay") }, Output { address: carol(), coins: coins("4upay") }];
    c.run(move |c, ctx| c.bank.input_output_coins(ctx, &input, &outs)).unwrap();
    assert_eq!(c.bal(&bob()), b0 + 3);
    assert_eq!(c.hold(3).amount[0].amount, "4");
    // Queries: by party (sender or recipient) and by status.
    let by_party = pb::QueryHoldsResponse::decode(
        c.module
            .query(
                &c.state,
                query::HOLDS_BY_PARTY,
                &pb::QueryHoldsByPartyRequest { address: carol().to_string(), pagination: None }.encode_to_vec(),
            )
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert_eq!(by_party.holds.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2, 3]);
    let held = pb::QueryHoldsByStatusRequest { status: HoldStatus::Held as i32, pagination: None };
    let held = pb::QueryHoldsResponse::decode(
        c.module.query(&c.state, query::HOLDS_BY_STATUS, &held.encode_to_vec()).unwrap().as_slice(),
    )
    .unwrap();
    assert_eq!(held.holds.iter().map(|h| h.id).collect::<Vec<_>>(), [3]);
    let err = c.module.query(&c.state, query::HOLD, &pb::QueryHoldRequest { hold_id: 7 }.encode_to_vec()).unwrap_err();
    assert_eq!(err.code, paychain_framework::GrpcCode::NotFound);
    // Other paths refuse instead: an IBC transfer arriving for carol.
    let esc = addr(99);
    c.run(|c, ctx| {
        c.bank.send_coins_routed(ctx, &alice(), &esc, &coins("4upay"), Route::IbcOut { channel: "channel-0", memo: "" })
    })
    .unwrap();
    let refused = c.run(|c, ctx| {
        c.bank.send_coins_routed(
            ctx,
            &esc,
            &carol(),
            &coins("4upay"),
            Route::IbcIn { channel: "channel-0", memo: Some("") },
        )
    });
    assert_eq!(code(refused), cs("compliance", 16));
}

#[test]
fn only_a_sanctioned_partys_held_funds_may_be_seized() {
    let mut c = chain();
    c.pay(&alice(), &carol(), "3upay").unwrap();
    assert_eq!(code(c.exec(decide(&member(0), 1, HoldDecision::Seize))), cs("compliance", 27));
    // Carol is sanctioned (an emergency decision, one vote).
    c.exec(any(&pb::MsgProposeSanction {
        proposer: member(0).to_string(),
        action: SanctionAction::Sanction as i32,
        addresses: vec![carol().to_string()],
        emergency: true,
        source: Some(pb::ListSource { name: "OFAC SDN".into(), sha256: "ab".repeat(32), version: "1".into() }),
        reason: "sanctions_list_update".into(),
        reference: String::new(),
    }))
    .unwrap();
    c.exec(decide(&member(0), 1, HoldDecision::Seize)).unwrap();
    c.exec(decide(&member(1), 1, HoldDecision::Seize)).unwrap();
    assert_eq!(c.hold(1).status, HoldStatus::Seized as i32);
    assert_eq!(c.bal(&seizure()), 3);
    assert_eq!(c.bal(&crate::holds::holds_account()), 0);
}

struct Admin(Address);

impl DenomAdmins for Admin {
    fn admin_of(&self, _: &dyn paychain_framework::StateRead, denom: &str) -> Result<Option<Address>, SdkError> {
        Ok((denom == "uusd").then(|| self.0.clone()))
    }
}

#[test]
fn a_tokens_admin_decides_holds_of_its_token_alone() {
    let mut c = chain();
    c.keeper.set_denom_admins(Arc::new(Admin(bob())));
    let amt = coins("100uusd");
    c.run(|c, ctx| {
        c.bank.mint_coins(ctx, MINTING_MODULE, &amt)?;
        c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &alice(), &amt)
    })
    .unwrap();
    c.exec(any(&pb::MsgAttachPolicy {
        signer: bob().to_string(),
        denom: "uusd".into(),
        policy_id: 2,
        reason: "issuer_policy".into(),
        reference: String::new(),
    }))
    .unwrap();
    c.pay(&alice(), &carol(), "6uusd").unwrap();
    c.pay(&alice(), &carol(), "1upay").unwrap();
    // Bob administers uusd, not upay.
    assert_eq!(code(c.exec(decide(&bob(), 2, HoldDecision::Release))), cs("compliance", 7));
    c.exec(decide(&bob(), 1, HoldDecision::Return)).unwrap();
    assert_eq!(c.hold(1).status, HoldStatus::Returned as i32);
    assert_eq!(c.bank.balance(&c.state, &alice(), "uusd").unwrap(), 100);
}

#[test]
fn randomized_sends_holds_decisions_and_sanctions_keep_every_coin() {
    for seed in 0..8u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut c = chain();
        let people = [alice(), bob(), carol(), addr(13), addr(14)];
        let members = [member(0), member(1), member(2)];
        let supply = c.bank.supply_of(&c.state, "upay").unwrap();
        for step in 0..200 {
            let sanctioned: Vec<(Address, u128)> = people
                .iter()
                .filter(|p| crate::sanctions::is_sanctioned(&c.state, p).unwrap())
                .map(|p| (p.clone(), c.bal(p)))
                .collect();
            let r = rng.gen_range(0..10);
            let outcome = match r {
                0..=4 => {
                    let (from, to) = (&people[rng.gen_range(0..5)], &people[rng.gen_range(0..5)]);
                    let amount = format!("{}upay", rng.gen_range(1..5_000u32));
                    c.pay(&from.clone(), &to.clone(), &amount)
                }
                5 | 6 => {
                    let open = next_hold_id_below(&c);
                    if open == 0 {
                        continue;
                    }
                    let id = rng.gen_range(1..=open);
                    let d = [HoldDecision::Release, HoldDecision::Return, HoldDecision::Seize][rng.gen_range(0..3)];
                    c.exec(decide(&members[rng.gen_range(0..3)], id, d))
                }
                7 => {
                    let who = people[rng.gen_range(0..5)].to_string();
                    let action = if rng.gen_bool(0.5) { SanctionAction::Sanction } else { SanctionAction::Unsanction };
                    let emergency = action == SanctionAction::Sanction && rng.gen_bool(0.5);
                    c.exec(any(&pb::MsgProposeSanction {
                        proposer: members[0].to_string(),
                        action: action as i32,
                        addresses: vec![who],
                        emergency,
                        source: Some(pb::ListSource { name: "L".into(), sha256: "cd".repeat(32), version: "1".into() }),
                        reason: "random".into(),
                        reference: String::new(),
                    }))
                    .and_then(|()| {
                        let id = crate::sanctions::next_proposal_id(&c.state).unwrap() - 1;
                        c.exec(vote(&members[1], id)).or(Ok(()))
                    })
                }
                _ => {
                    c.time += rng.gen_range(0..60);
                    c.tick();
                    Ok(())
                }
            };
            if let Err(e) = outcome {
                assert!(!e.fatal, "seed {seed} step {step}: {}", e.log);
            }
            // Every coin is somewhere: the supply never changes (bank's and the
            // holds' invariants are checked by every `run`).
            assert_eq!(c.bank.supply_of(&c.state, "upay").unwrap(), supply, "seed {seed} step {step}");
            // A sanctioned balance never goes down while it stays sanctioned.
            for (p, before) in sanctioned {
                if crate::sanctions::is_sanctioned(&c.state, &p).unwrap() {
                    assert!(c.bal(&p) >= before, "seed {seed} step {step}: {p} lost coins while sanctioned");
                }
            }
        }
        assert!(crate::holds::next_hold_id(&c.state).unwrap() > 1, "seed {seed}: some sends were held");
    }
}

fn next_hold_id_below(c: &Chain) -> u64 {
    crate::holds::next_hold_id(&c.state).unwrap() - 1
}

fn vote(by: &Address, id: u64) -> Any {
    any(&pb::MsgVoteSanction { voter: by.to_string(), proposal_id: id })
}
