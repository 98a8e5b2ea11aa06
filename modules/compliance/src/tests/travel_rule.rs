//! The travel rule over the in-memory state: a threshold per denom; a transfer
//! above it carries a record as a tx extension option or, over IBC, in the memo;
//! missing or malformed records are refused with nothing moved; fees, mints and
//! refunds need none; every record used is logged in an event.

use paychain_bank::Route;
use paychain_framework::Coins;

use super::*;
use crate::travel_rule::{self, RECORD_TYPE_URL};

fn chain() -> Chain {
    chain_with(json!({}), &[authority(), alice(), bob()])
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

fn set_threshold(signer: &Address, denom: &str, threshold: &str, remove: bool) -> Any {
    any(&pb::MsgSetTravelRuleThreshold {
        signer: signer.to_string(),
        threshold: Some(pb::TravelRuleThreshold {
            denom: denom.into(),
            threshold: threshold.into(),
            ..Default::default()
        }),
        remove,
        reason: "travel_rule".into(),
        reference: "FATF R.16".into(),
    })
}

fn record() -> pb::TravelRuleRecord {
    pb::TravelRuleRecord {
        ivms101_sha256: "3f".repeat(32),
        originator_vasp: "LEI:5493001KJTIIGC8Y1R12".into(),
        beneficiary_vasp: "LEI:213800D1EI4B9WTWWD28".into(),
        envelope: b"sealed for the beneficiary VASP".to_vec(),
        envelope_locator: "https://vasp.example/tr/7".into(),
    }
}

fn extension(r: &pb::TravelRuleRecord) -> Any {
    Any { type_url: RECORD_TYPE_URL.into(), value: r.encode_to_vec() }
}

fn memo(r: &pb::TravelRuleRecord) -> String {
    json!({"travel_rule": {"ivms101_sha256": r.ivms101_sha256, "originator_vasp": r.originator_vasp,
        "beneficiary_vasp": r.beneficiary_vasp}})
    .to_string()
}

impl Chain {
    /// A send inside a tx carrying `extensions`; on success, the events it emitted.
    fn send_in_tx(&mut self, extensions: &[Any], to: &Address, amount: &str) -> Result<Vec<Event>, SdkError> {
        let (block, gas) = (self.block(), GasMeter::infinite());
        let mut child = CacheState::new(&self.state);
        let amt = coins(amount);
        let (result, events) = {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas).with_tx_extensions(extensions);
            let r = self.bank.send_coins(&mut ctx, &alice(), to, &amt);
            (r, ctx.take_events())
        };
        let writes = child.into_writes();
        result.map(|()| {
            self.state.apply(writes);
            events
        })
    }

    fn routed_in_tx(
        &mut self,
        from: &Address,
        to: &Address,
        amount: &str,
        route: Route<'_>,
    ) -> Result<Vec<Event>, SdkError> {
        let (block, gas) = (self.block(), GasMeter::infinite());
        let amt = coins(amount);
        let checked = self.check_send(from, to, &amt, route);
        let mut child = CacheState::new(&self.state);
        let (result, events) = {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
            let r = self.bank.send_coins_routed(&mut ctx, from, to, &amt, route);
            (r, ctx.take_events())
        };
        assert_eq!(checked.is_ok(), result.is_ok(), "IBC's validation and execution agree");
        let writes = child.into_writes();
        result.map(|()| {
            self.state.apply(writes);
            events
        })
    }
}

fn travel_event(events: &[Event]) -> &Event {
    events.iter().find(|e| e.kind == travel_rule::COMPLIANCE_TRAVEL_RULE).expect("a compliance_travel_rule event")
}

#[test]
fn a_send_above_the_threshold_needs_a_record_in_its_tx() {
    let mut c = chain();
    assert_eq!(code(c.exec(set_threshold(&alice(), "upay", "1000", false))), cs("compliance", 7));
    c.exec(set_threshold(&authority(), "upay", "1000", false)).unwrap();

    // At the threshold: nothing needed, nothing logged.
    let events = c.send_in_tx(&[], &bob(), "1000upay").unwrap();
    assert!(events.iter().all(|e| e.kind != travel_rule::COMPLIANCE_TRAVEL_RULE));
    // Above it without a record: refused, nothing moved.
    let before = (c.bal(&alice()), c.bal(&bob()));
    let e = c.send_in_tx(&[], &bob(), "1001upay").unwrap_err();
    assert_eq!((&*e.codespace, e.code), ("compliance", 31));
    assert!(e.log.contains("extension option /paychain.compliance.v1.TravelRuleRecord"), "{}", e.log);
    assert_eq!((c.bal(&alice()), c.bal(&bob())), before);
    // A malformed one: refused as such.
    let bad = pb::TravelRuleRecord { ivms101_sha256: "not a hash".into(), ..record() };
    assert_eq!(c.send_in_tx(&[extension(&bad)], &bob(), "1001upay").unwrap_err().code, 32);
    // With one: done, and the record is in the event (no personal data: hashes and ids).
    let events = c.send_in_tx(&[extension(&record())], &bob(), "5000upay").unwrap();
    let e = travel_event(&events);
    assert_eq!(e.get("ivms101_sha256"), Some("3f".repeat(32).as_str()));
    assert_eq!(e.get("beneficiary_vasp"), Some("LEI:213800D1EI4B9WTWWD28"));
    assert_eq!(e.get("route"), Some("local"));
    assert_eq!(e.get("amount"), Some("5000upay"));
    assert_eq!(e.get("envelope_sha256").map(str::len), Some(64));
    assert_eq!(c.bal(&bob()), before.1 + 5000);

    // Fees and mints need none.
    c.run(|c, ctx| c.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &coins("2000upay"))).unwrap();
    c.run(|c, ctx| {
        c.bank.mint_coins(ctx, MINTING_MODULE, &coins("9000upay"))?;
        c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &bob(), &coins("9000upay"))
    })
    .unwrap();
    // Other denoms have their own threshold (none here).
    c.exec(set_threshold(&authority(), "upay", "", true)).unwrap();
    c.send_in_tx(&[], &bob(), "5000upay").unwrap();
    assert_eq!(code(c.exec(set_threshold(&authority(), "upay", "", true))), cs("compliance", 30));
}

#[test]
fn ibc_transfers_carry_their_record_in_the_memo() {
    let mut c = chain();
    c.exec(set_threshold(&authority(), "upay", "1000", false)).unwrap();
    let esc = addr(99);
    let with_record = memo(&record());
    fn out(memo: &str) -> Route<'_> {
        Route::IbcOut { channel: "channel-0", memo }
    }
    fn inn(memo: Option<&str>) -> Route<'_> {
        Route::IbcIn { channel: "channel-0", memo }
    }

    let e = c.routed_in_tx(&alice(), &esc, "1001upay", out("")).unwrap_err();
    assert_eq!(e.code, 31);
    assert!(e.log.contains("memo"), "{}", e.log);
    assert_eq!(c.routed_in_tx(&alice(), &esc, "1001upay", out(r#"{"travel_rule": {}}"#)).unwrap_err().code, 32);
    let events = c.routed_in_tx(&alice(), &esc, "3000upay", out(&with_record)).unwrap();
    assert_eq!(travel_event(&events).get("route"), Some("ibc_out"));
    assert_eq!(travel_event(&events).get("channel_id"), Some("channel-0"));

    // Arriving above the threshold without a record: refused (the sender gets an
    // error acknowledgement and its refund); with one: in.
    assert_eq!(c.routed_in_tx(&esc, &bob(), "2000upay", inn(Some("paid"))).unwrap_err().code, 31);
    let events = c.routed_in_tx(&esc, &bob(), "2000upay", inn(Some(&with_record))).unwrap();
    assert_eq!(travel_event(&events).get("route"), Some("ibc_in"));
    // A refund of our own transfer is no new transfer.
    c.routed_in_tx(&esc, &alice(), "1000upay", inn(None)).unwrap();
}

#[test]
fn a_tx_extension_is_checked_when_the_tx_is_decoded() {
    let c = chain();
    let other = Any { type_url: "/cosmos.tx.v1beta1.Tip".into(), value: vec![] };
    assert!(c.module.validate_tx_extension(&other).is_none(), "not the module's");
    assert!(c.module.validate_tx_extension(&extension(&record())).unwrap().is_ok());
    let bad = Any { type_url: RECORD_TYPE_URL.into(), value: vec![0xff, 0xff] };
    assert_eq!(c.module.validate_tx_extension(&bad).unwrap().unwrap_err().code, 32);
    let no_vasp = pb::TravelRuleRecord { originator_vasp: String::new(), ..record() };
    assert_eq!(c.module.validate_tx_extension(&extension(&no_vasp)).unwrap().unwrap_err().code, 32);
}

#[test]
fn thresholds_round_trip_through_genesis() {
    let mut c = chain();
    c.exec(set_threshold(&authority(), "upay", "0100", false)).unwrap();
    let exported = c.module.export_genesis(&c.state).unwrap();
    assert_eq!(exported["travel_rule_thresholds"][0]["threshold"], "100");
    let again = chain_with(exported.clone(), &[]);
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);
    let mut bad = exported.clone();
    bad["travel_rule_thresholds"][0]["threshold"] = json!("x");
    assert!(c.module.validate_genesis(Some(&bad)).unwrap_err().contains("travel_rule_thresholds[0]"));
}
