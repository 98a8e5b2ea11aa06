//! Sanctions under the committee over the in-memory state: ordinary decisions
//! through the timelock, emergency sanctions that lapse or are confirmed, votes
//! closing, and what a sanctioned address can no longer do (send, pay fees,
//! leave over IBC) while it can still receive, frozen.

use paychain_bank::{Input, Output, Route};
use paychain_framework::Coins;

use super::*;
use crate::pb::{ProposalStatus, SanctionAction};
use crate::sanctions::Sanctions;

fn carol() -> Address {
    addr(12)
}
fn member(n: u8) -> Address {
    addr(30 + n)
}
const SHA: &str = "5f2b9cf3b1a7cbd4b2d4e0f1c6a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291";

fn committee_json() -> serde_json::Value {
    let mut members: Vec<String> = (0..3).map(|n| member(n).to_string()).collect();
    members.sort();
    json!({"members": members, "threshold": 2, "emergency_threshold": 1, "timelock_seconds": "100",
        "emergency_lapse_seconds": "50", "voting_period_seconds": "1000"})
}

fn chain() -> Chain {
    let funded = [authority(), alice(), bob(), carol(), member(0), member(1), member(2)];
    chain_with(json!({"committee": committee_json()}), &funded)
}

fn propose(by: &Address, action: SanctionAction, who: &[String], emergency: bool) -> Any {
    any(&pb::MsgProposeSanction {
        proposer: by.to_string(),
        action: action as i32,
        addresses: who.to_vec(),
        emergency,
        source: Some(pb::ListSource { name: "OFAC SDN".into(), sha256: SHA.into(), version: "2026-12-01".into() }),
        reason: "sanctions_list_update".into(),
        reference: "SDN update 2026-12-01".into(),
    })
}

fn vote(by: &Address, id: u64) -> Any {
    any(&pb::MsgVoteSanction { voter: by.to_string(), proposal_id: id })
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

impl Chain {
    fn end_block(&mut self) {
        self.run(|_, ctx| Sanctions::end_block(ctx)).unwrap();
    }

    fn status(&self, id: u64) -> ProposalStatus {
        let p = crate::sanctions::proposal(&self.state, id).unwrap().unwrap();
        ProposalStatus::try_from(p.status).unwrap()
    }

    fn sanctioned(&self, a: &Address) -> bool {
        crate::sanctions::is_sanctioned(&self.state, a).unwrap()
    }

    fn sanction_event(&self) -> &Event {
        self.events.iter().rev().find(|e| e.kind == events::COMPLIANCE_SANCTION).expect("a compliance_sanction event")
    }
}

#[test]
fn an_ordinary_sanction_waits_out_the_timelock_then_stops_every_spend() {
    let mut c = chain();
    // Listed in another chain's bech32 form: the raw bytes are what counts.
    let alice_cosmos = alice().to_bech32_with_prefix("cosmos");
    assert_eq!(
        code(c.exec(propose(&alice(), SanctionAction::Sanction, std::slice::from_ref(&alice_cosmos), false))),
        cs("compliance", 17)
    );
    c.exec(propose(&member(0), SanctionAction::Sanction, &[alice_cosmos], false)).unwrap();
    let e = c.sanction_event();
    assert_eq!((e.get("step"), e.get("votes"), e.get("list_sha256")), (Some("propose"), Some("1"), Some(SHA)));
    assert_eq!(e.get("addresses"), Some(alice().to_string().as_str()));
    assert_eq!(c.status(1), ProposalStatus::Voting);
    assert_eq!(code(c.exec(vote(&member(0), 1))), cs("compliance", 18), "a double vote");
    assert_eq!(code(c.exec(vote(&bob(), 1))), cs("compliance", 17), "a non-member vote");
    assert_eq!(code(c.exec(vote(&member(1), 9))), cs("compliance", 19));
    c.exec(vote(&member(1), 1)).unwrap();
    assert_eq!(c.status(1), ProposalStatus::Passed);
    assert_eq!(code(c.exec(vote(&member(2), 1))), cs("compliance", 20), "passed: the vote is closed");
    // Not before the timelock.
    c.time = T0 + 99;
    let execute = any(&pb::MsgExecuteSanction { signer: bob().to_string(), proposal_id: 1 });
    assert_eq!(code(c.exec(execute.clone())), cs("compliance", 21));
    c.end_block();
    assert!(!c.sanctioned(&alice()));
    c.pay(&alice(), &bob(), "1upay").unwrap();
    c.time = T0 + 100;
    c.end_block();
    assert_eq!(c.status(1), ProposalStatus::Executed);
    assert_eq!(c.sanction_event().get("step"), Some("execute"));
    assert_eq!(code(c.exec(execute)), cs("compliance", 20), "executed once");
    let s = crate::sanctions::sanction(&c.state, &alice()).unwrap().unwrap();
    assert_eq!((s.proposal_id, s.source.unwrap().version.as_str()), (1, "2026-12-01"));

    // Nothing leaves the account, whatever the path; what arrives stays frozen.
    let before = c.bank.balance(&c.state, &alice(), "upay").unwrap();
    assert_eq!(code(c.pay(&alice(), &bob(), "1upay")), cs("compliance", 22));
    let fee = |c: &mut Chain| {
        c.run(|c, ctx| c.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &coins("5upay")))
    };
    assert_eq!(code(fee(&mut c)), cs("compliance", 22), "fees included");
    let ibc = |c: &mut Chain| {
        c.run(|c, ctx| {
            c.bank.send_coins_routed(
                ctx,
                &alice(),
                &addr(99),
                &coins("1upay"),
                Route::IbcOut { channel: "channel-0", memo: "" },
            )
        })
    };
    assert_eq!(code(ibc(&mut c)), cs("compliance", 22));
    let multi = |c: &mut Chain| {
        let input = Input { address: alice(), coins: coins("2upay") };
        let outs = vec![Output { address: bob(), coins: coins("2upay") }];
        c.run(move |c, ctx| c.bank.input_output_coins(ctx, &input, &outs))
    };
    assert!(multi(&mut c).is_err(), "a multi-send from a sanctioned input");
    c.pay(&bob(), &alice(), "7upay").unwrap();
    assert_eq!(c.bank.balance(&c.state, &alice(), "upay").unwrap(), before + 7, "it receives");
    assert_eq!(c.bank.locked(&c.state, &alice(), "upay").unwrap(), u128::MAX, "frozen, all of it");

    // Unsanctioned the same way, it spends again.
    c.exec(propose(&member(1), SanctionAction::Unsanction, &[alice().to_string()], false)).unwrap();
    c.exec(vote(&member(2), 2)).unwrap();
    c.time = T0 + 200;
    c.end_block();
    assert!(!c.sanctioned(&alice()));
    c.pay(&alice(), &bob(), "7upay").unwrap();
}

#[test]
fn an_emergency_sanction_acts_at_once_and_lapses_unless_confirmed() {
    let mut c = chain();
    c.exec(propose(&member(0), SanctionAction::Sanction, &[bob().to_string()], true)).unwrap();
    assert_eq!(c.status(1), ProposalStatus::Emergency, "one vote is the emergency quorum");
    assert_eq!(c.sanction_event().get("step"), Some("emergency_effective"));
    assert_eq!(code(c.pay(&bob(), &alice(), "1upay")), cs("compliance", 22));
    // Not confirmed within 50 s: at the lapse the vote closes and the entry goes.
    c.time = T0 + 50;
    assert_eq!(code(c.exec(vote(&member(1), 1))), cs("compliance", 20));
    c.end_block();
    assert_eq!(c.status(1), ProposalStatus::Lapsed);
    assert_eq!(c.sanction_event().get("step"), Some("lapse"));
    assert!(!c.sanctioned(&bob()));
    c.pay(&bob(), &alice(), "1upay").unwrap();

    // Confirmed in time: it stays after the lapse time.
    c.exec(propose(&member(0), SanctionAction::Sanction, &[carol().to_string()], true)).unwrap();
    c.time = T0 + 99;
    c.exec(vote(&member(2), 2)).unwrap();
    assert_eq!(c.status(2), ProposalStatus::Executed);
    assert_eq!(c.sanction_event().get("step"), Some("confirm"));
    c.time = T0 + 1000;
    c.end_block();
    assert!(c.sanctioned(&carol()));
    assert!(crate::sanctions::sanction(&c.state, &carol()).unwrap().unwrap().lapses_at.is_none());
    // An emergency sanction never shortens a permanent one.
    c.exec(propose(&member(1), SanctionAction::Sanction, &[carol().to_string()], true)).unwrap();
    c.time = T0 + 2000;
    c.end_block();
    assert_eq!(c.status(3), ProposalStatus::Lapsed);
    assert!(c.sanctioned(&carol()), "the confirmed entry stays");
}

#[test]
fn votes_close_at_the_voting_period_and_the_authority_replaces_the_committee() {
    let mut c = chain();
    c.exec(propose(&member(0), SanctionAction::Sanction, &[bob().to_string()], false)).unwrap();
    c.time = T0 + 1000;
    c.end_block();
    assert_eq!(c.status(1), ProposalStatus::Expired);
    assert_eq!(code(c.exec(vote(&member(1), 1))), cs("compliance", 20));
    assert!(!c.sanctioned(&bob()));

    let set = |signer: &Address, members: Vec<String>, threshold: u32| {
        any(&pb::MsgSetCommittee {
            authority: signer.to_string(),
            committee: Some(pb::Committee {
                members,
                threshold,
                emergency_threshold: 1,
                timelock_seconds: 0,
                emergency_lapse_seconds: 10,
                voting_period_seconds: 10,
                seizure_account: String::new(),
            }),
            reason: "board_resolution".into(),
            reference: "BR-2026-44".into(),
        })
    };
    assert_eq!(code(c.exec(set(&alice(), vec![alice().to_string()], 1))), cs("authority", 3));
    let e = c.module.decode_msg(&set(&authority(), vec![alice().to_string()], 2)).unwrap_err();
    assert_eq!((&*e.codespace, e.code), ("compliance", 23), "threshold above the members");
    c.exec(set(&authority(), vec![alice().to_string()], 1)).unwrap();
    assert_eq!(c.sanction_event().get("step"), Some("set_committee"));
    assert_eq!(
        code(c.exec(propose(&member(0), SanctionAction::Sanction, &[bob().to_string()], false))),
        cs("compliance", 17)
    );
    // Without a timelock a passed decision executes at once.
    c.exec(propose(&alice(), SanctionAction::Sanction, &[bob().to_string()], false)).unwrap();
    assert_eq!(c.status(2), ProposalStatus::Executed);
    assert!(c.sanctioned(&bob()));
}

#[test]
fn malformed_sanction_messages_are_refused_before_state() {
    let c = chain();
    let err = |m: Any| {
        let e = c.module.decode_msg(&m).unwrap_err();
        (e.codespace.to_string(), e.code)
    };
    let one = [bob().to_string()];
    assert_eq!(err(propose(&member(0), SanctionAction::Unsanction, &one, true)), cs("compliance", 24));
    assert_eq!(err(propose(&member(0), SanctionAction::Unspecified, &one, false)), cs("compliance", 24));
    assert_eq!(err(propose(&member(0), SanctionAction::Sanction, &[], false)), cs("compliance", 24));
    let many: Vec<String> = (0..101u8).map(|i| addr(i).to_string()).collect();
    assert_eq!(err(propose(&member(0), SanctionAction::Sanction, &many, false)), cs("compliance", 24));
    assert_eq!(err(propose(&member(0), SanctionAction::Sanction, &["nope".into()], false)), cs("sdk", 7));
    let twice = [bob().to_string(), bob().to_bech32_with_prefix("osmo")];
    assert_eq!(err(propose(&member(0), SanctionAction::Sanction, &twice, false)), cs("compliance", 24));
    let mut m =
        pb::MsgProposeSanction::decode(propose(&member(0), SanctionAction::Sanction, &one, false).value.as_slice())
            .unwrap();
    m.source.as_mut().unwrap().sha256 = "abc".into();
    assert_eq!(err(any(&m)), cs("compliance", 24), "the list's SHA-256");
    m.source = None;
    assert_eq!(err(any(&m)), cs("compliance", 24), "the list source is required");
}

#[test]
fn sanctions_round_trip_through_genesis() {
    let mut c = chain();
    c.exec(propose(&member(0), SanctionAction::Sanction, &[bob().to_string()], true)).unwrap();
    c.exec(propose(&member(0), SanctionAction::Sanction, &[carol().to_string()], false)).unwrap();
    let exported = c.module.export_genesis(&c.state).unwrap();
    let mut again = chain_with(exported.clone(), &[bob(), carol()]);
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);
    assert!(again.sanctioned(&bob()));
    // The deadline queue came along: the emergency lapses on time.
    again.time = T0 + 50;
    again.end_block();
    assert_eq!(again.status(1), ProposalStatus::Lapsed);
    assert!(!again.sanctioned(&bob()));
}
