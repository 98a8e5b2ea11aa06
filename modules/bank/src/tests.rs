use std::collections::BTreeMap;
use std::sync::Arc;

use cosmos_sdk_proto::cosmos::bank::v1beta1 as pb;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::Any;
use paychain_auth::{AuthKeeper, AuthModule, BURNER, MINTER};
use paychain_framework::{
    Address, BlockInfo, CacheState, Coins, Context, Event, ExecMode, GasMeter, GrpcCode, Module, SdkError, StateRead,
    StateWrite,
};
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::*;
use crate::types::tests::pay_metadata;

struct Env {
    auth: Arc<AuthKeeper>,
    bank: Arc<BankKeeper>,
    am: AuthModule,
    bm: BankModule,
}

/// Wired as the app wires it.
fn env() -> Env {
    let auth = Arc::new(AuthKeeper::new(vec![
        ("fee_collector".into(), vec![]),
        ("escrow".into(), vec![MINTER.into(), BURNER.into()]),
        ("mint".into(), vec![MINTER.into()]),
    ]));
    let bank = Arc::new(BankKeeper::new(auth.clone()));
    Env { am: AuthModule::new(auth.clone()), bm: BankModule::new(bank.clone()), auth, bank }
}

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

fn modaddr(name: &str) -> Address {
    AuthKeeper::module_address(name)
}

/// Runs `f` as a tx would: on a child overlay written through only on success.
fn tx<R>(
    parent: &mut CacheState<'_>,
    f: impl FnOnce(&mut Context) -> Result<R, SdkError>,
) -> (Result<R, SdkError>, Vec<Event>) {
    let block = BlockInfo { height: 2, ..Default::default() };
    let gas = GasMeter::infinite();
    let (result, events, writes) = {
        let mut child = CacheState::new(&*parent);
        let (result, events) = {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
            let r = f(&mut ctx);
            (r, ctx.take_events())
        };
        (result, events, child.into_writes())
    };
    if result.is_ok() {
        parent.apply(writes);
    }
    (result, events)
}

/// Decodes and delivers a message like the app: decode_msg, then deliver.
fn deliver(e: &Env, state: &mut CacheState<'_>, any: Any) -> (Result<MsgResponse, SdkError>, Vec<Event>) {
    match e.bm.decode_msg(&any) {
        Err(err) => (Err(err), vec![]),
        Ok(msg) => tx(state, |ctx| e.bm.deliver(ctx, msg.as_ref())),
    }
}

fn pc(amount: &str, denom: &str) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.into() }
}

fn send_any(from: &Address, to: &Address, amount: Vec<ProtoCoin>) -> Any {
    let m = pb::MsgSend { from_address: from.to_string(), to_address: to.to_string(), amount };
    Any { type_url: msgs::MSG_SEND.into(), value: m.encode_to_vec() }
}

fn multi_any(inputs: Vec<(String, Vec<ProtoCoin>)>, outputs: Vec<(String, Vec<ProtoCoin>)>) -> Any {
    let m = pb::MsgMultiSend {
        inputs: inputs.into_iter().map(|(address, coins)| pb::Input { address, coins }).collect(),
        outputs: outputs.into_iter().map(|(address, coins)| pb::Output { address, coins }).collect(),
    };
    Any { type_url: msgs::MSG_MULTI_SEND.into(), value: m.encode_to_vec() }
}

fn genesis_with(balances: &[(Address, &str)], extra: Value) -> Value {
    let mut g = json!({
        "params": {"send_enabled": [], "default_send_enabled": true},
        "balances": balances.iter().map(|(a, c)| json!({
            "address": a.to_string(),
            "coins": coins(c).iter().map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "supply": [],
        "denom_metadata": [],
        "send_enabled": [],
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            g[k] = v;
        }
    }
    g
}

/// Auth default genesis, then bank genesis.
fn init(e: &Env, bank_genesis: &Value) -> CacheState<'static> {
    let mut state = CacheState::in_memory();
    let (r, _) = tx(&mut state, |ctx| {
        e.am.init_genesis(ctx, None)?;
        e.bm.init_genesis(ctx, Some(bank_genesis))
    });
    r.unwrap();
    e.bm.check_invariants(&state).unwrap();
    state
}

fn kinds_and_attrs(events: &[Event]) -> Vec<(String, Vec<(String, String)>)> {
    events
        .iter()
        .map(|ev| {
            assert!(ev.attributes.iter().all(|a| a.index), "every attribute is indexed");
            (ev.kind.clone(), ev.attributes.iter().map(|a| (a.key.clone(), a.value.clone())).collect())
        })
        .collect()
}

fn ev(kind: &str, attrs: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    (kind.to_string(), attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

// ---------------------------------------------------------------- messages

#[test]
fn msg_send_validation_codes() {
    let e = env();
    let (a, b) = (addr(1), addr(2));
    let check = |any: Any, codespace: &str, code: u32| {
        let err = e.bm.decode_msg(&any).unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), (codespace, code), "{}", err.log);
        err.log
    };
    let bad_from =
        pb::MsgSend { from_address: "pay1bad".into(), to_address: b.to_string(), amount: vec![pc("1", "upay")] };
    let log = check(Any { type_url: msgs::MSG_SEND.into(), value: bad_from.encode_to_vec() }, "sdk", 7);
    assert!(log.starts_with("invalid from address"), "{log}");
    let other_prefix = a.to_bech32_with_prefix("cosmos");
    let bad_to = pb::MsgSend { from_address: a.to_string(), to_address: other_prefix, amount: vec![pc("1", "upay")] };
    let log = check(Any { type_url: msgs::MSG_SEND.into(), value: bad_to.encode_to_vec() }, "sdk", 7);
    assert!(log.starts_with("invalid to address"), "{log}");
    check(send_any(&a, &b, vec![]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("0", "upay")]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("1", "upay"), pc("1", "uatom")]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("1", "upay"), pc("1", "upay")]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("1", "u")]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("-1", "upay")]), "sdk", 10);
    check(send_any(&a, &b, vec![pc("1000000000000000000000000000000000000000", "upay")]), "sdk", 10);
    check(Any { type_url: msgs::MSG_SEND.into(), value: vec![0xff, 0x01] }, "sdk", 2);
    check(Any { type_url: "/cosmos.bank.v1beta1.MsgBurn".into(), value: vec![] }, "sdk", 6);

    let ok = e.bm.decode_msg(&send_any(&a, &b, vec![pc("1", "uatom"), pc("2", "upay")])).unwrap();
    assert_eq!(ok.type_url(), msgs::MSG_SEND);
    assert_eq!(ok.signers(), vec![a.clone()]);
    let m = ok.as_any().downcast_ref::<MsgSend>().unwrap();
    assert_eq!(m.amount.to_string(), "1uatom,2upay");
    assert_eq!(MsgSend::from_proto(&m.to_proto()).unwrap(), *m);
    assert_eq!(
        m.amino_json(),
        json!({"type": "cosmos-sdk/MsgSend", "value": {"amount": [{"amount": "1", "denom": "uatom"}, {"amount": "2", "denom": "upay"}],
               "from_address": a.to_string(), "to_address": b.to_string()}})
    );
    // The decoded message offers the same form to the ante handler (amino signing).
    assert_eq!(ok.amino_json(), Some(m.amino_json()));
}

#[test]
fn msg_multi_send_validation_codes() {
    let e = env();
    let (a, b, c) = (addr(1).to_string(), addr(2).to_string(), addr(3).to_string());
    let check = |any: Any, codespace: &str, code: u32| {
        let err = e.bm.decode_msg(&any).unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), (codespace, code), "{}", err.log);
        err.log
    };
    let one = || vec![pc("1", "upay")];
    assert_eq!(check(multi_any(vec![], vec![(b.clone(), one())]), "bank", 2), "no inputs to send transaction");
    assert_eq!(
        check(
            multi_any(vec![(a.clone(), one()), (c.clone(), one())], vec![(b.clone(), vec![pc("2", "upay")])]),
            "bank",
            9
        ),
        "multiple senders not allowed"
    );
    assert_eq!(check(multi_any(vec![(a.clone(), one())], vec![]), "bank", 3), "no outputs to send transaction");
    check(multi_any(vec![("pay1x".into(), one())], vec![(b.clone(), one())]), "sdk", 7);
    check(multi_any(vec![(a.clone(), one())], vec![("".into(), one())]), "sdk", 7);
    check(multi_any(vec![(a.clone(), vec![])], vec![(b.clone(), one())]), "sdk", 10);
    check(multi_any(vec![(a.clone(), one())], vec![(b.clone(), vec![pc("0", "upay")])]), "sdk", 10);
    let log = check(
        multi_any(vec![(a.clone(), vec![pc("3", "upay")])], vec![(b.clone(), one()), (c.clone(), one())]),
        "bank",
        4,
    );
    assert!(log.ends_with("sum inputs != sum outputs"), "{log}");
    check(
        multi_any(
            vec![(a.clone(), vec![pc("2", "upay")])],
            vec![(b.clone(), one()), (c.clone(), vec![pc("1", "uatom")])],
        ),
        "bank",
        4,
    );
    let ok =
        e.bm.decode_msg(&multi_any(
            vec![(a.clone(), vec![pc("1", "uatom"), pc("3", "upay")])],
            vec![(b.clone(), vec![pc("1", "upay")]), (c.clone(), vec![pc("1", "uatom"), pc("2", "upay")])],
        ))
        .unwrap();
    assert_eq!(ok.signers(), vec![addr(1)]);
    let m = ok.as_any().downcast_ref::<MsgMultiSend>().unwrap();
    assert_eq!(MsgMultiSend::from_proto(&m.to_proto()).unwrap(), *m);
    assert_eq!(m.amino_json()["type"], "cosmos-sdk/MsgMultiSend");
    assert_eq!(ok.amino_json(), Some(m.amino_json()));
}

#[test]
fn send_moves_exact_amounts_creates_recipient_and_emits_sdk_events() {
    let e = env();
    let (a, b) = (addr(1), addr(2));
    let mut state = init(&e, &genesis_with(&[(a.clone(), "100uatom,1000upay")], json!({})));
    assert!(e.auth.account(&state, &a).unwrap().is_some(), "genesis balance holders get accounts");
    assert!(e.auth.account(&state, &b).unwrap().is_none());

    let (r, events) = deliver(&e, &mut state, send_any(&a, &b, vec![pc("10", "uatom"), pc("250", "upay")]));
    let resp = r.unwrap();
    assert_eq!(resp.type_url, "/cosmos.bank.v1beta1.MsgSendResponse");
    assert!(resp.value.is_empty());
    assert_eq!(e.bank.all_balances(&state, &a).unwrap().to_string(), "90uatom,750upay");
    assert_eq!(e.bank.all_balances(&state, &b).unwrap().to_string(), "10uatom,250upay");
    assert_eq!(e.bank.supply_of(&state, "upay").unwrap(), 1000);
    let acc = e.auth.account(&state, &b).unwrap().expect("recipient account created");
    assert_eq!(acc.sequence, 0);
    let (sa, sb) = (a.to_string(), b.to_string());
    assert_eq!(
        kinds_and_attrs(&events),
        vec![
            ev("coin_spent", &[("spender", &sa), ("amount", "10uatom,250upay")]),
            ev("coin_received", &[("receiver", &sb), ("amount", "10uatom,250upay")]),
            ev("transfer", &[("recipient", &sb), ("sender", &sa), ("amount", "10uatom,250upay")]),
            ev("message", &[("sender", &sa)]),
        ]
    );
    // Draining a denom deletes the balance (no zero balances are stored).
    let (r, _) = deliver(&e, &mut state, send_any(&a, &b, vec![pc("90", "uatom")]));
    r.unwrap();
    assert_eq!(e.bank.balance(&state, &a, "uatom").unwrap(), 0);
    assert!(state.get(STORE_KEY, &keys::balance_key(&a, "uatom")).unwrap().is_none());
    assert!(state.get(STORE_KEY, &keys::denom_owner_key("uatom", &a)).unwrap().is_none());
    e.bm.check_invariants(&state).unwrap();
    e.am.check_invariants(&state).unwrap();
}

#[test]
fn insufficient_funds_changes_nothing() {
    let e = env();
    let (a, b) = (addr(1), addr(2));
    let mut state = init(&e, &genesis_with(&[(a.clone(), "5upay,100uxyz")], json!({})));
    let before = state.writes().clone();

    let (r, events) = deliver(&e, &mut state, send_any(&a, &b, vec![pc("10", "upay")]));
    let err = r.unwrap_err();
    assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 5));
    assert_eq!(err.log, "spendable balance 5upay is smaller than 10upay: insufficient funds");
    assert!(events.is_empty());
    // A denom the sender has none of reads as 0.
    let (r, _) = deliver(&e, &mut state, send_any(&a, &b, vec![pc("1", "uatom")]));
    assert_eq!(r.unwrap_err().log, "spendable balance 0uatom is smaller than 1uatom: insufficient funds");
    // The second coin fails after the first passed: still nothing written.
    let (r, _) = deliver(&e, &mut state, send_any(&a, &b, vec![pc("5", "upay"), pc("101", "uxyz")]));
    assert_eq!(r.unwrap_err().code, 5);
    assert_eq!(*state.writes(), before, "the parent is untouched once the failed child is discarded");

    // Even inside the child, the keeper writes nothing on failure.
    let mut child = CacheState::new(&state);
    let block = BlockInfo::default();
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
    let err = e.bank.send_coins(&mut ctx, &a, &b, &coins("5upay,101uxyz")).unwrap_err();
    assert_eq!(err.code, 5);
    assert!(ctx.events().is_empty());
    drop(ctx);
    assert!(child.writes().is_empty());

    // Multi-send with too little input: same.
    let (r, _) = deliver(
        &e,
        &mut state,
        multi_any(vec![(a.to_string(), vec![pc("6", "upay")])], vec![(b.to_string(), vec![pc("6", "upay")])]),
    );
    assert_eq!(r.unwrap_err().code, 5);
    assert_eq!(*state.writes(), before);
}

#[test]
fn module_accounts_are_blocked_recipients() {
    let e = env();
    let a = addr(1);
    let mut state = init(&e, &genesis_with(&[(a.clone(), "100upay")], json!({})));
    let before = state.writes().clone();
    for name in ["fee_collector", "escrow"] {
        let m = modaddr(name);
        let (r, _) = deliver(&e, &mut state, send_any(&a, &m, vec![pc("1", "upay")]));
        let err = r.unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 4));
        assert_eq!(err.log, format!("{m} is not allowed to receive funds: unauthorized"));
        let (r, _) = deliver(
            &e,
            &mut state,
            multi_any(
                vec![(a.to_string(), vec![pc("2", "upay")])],
                vec![(addr(2).to_string(), vec![pc("1", "upay")]), (m.to_string(), vec![pc("1", "upay")])],
            ),
        );
        assert_eq!(r.unwrap_err().code, 4);
    }
    assert_eq!(*state.writes(), before);
    assert!(e.bank.blocked_addr(&modaddr("fee_collector")));
    assert!(!e.bank.blocked_addr(&a));
}

#[test]
fn send_enabled_flags_are_enforced() {
    let e = env();
    let a = addr(1);
    let g = genesis_with(
        &[(a.clone(), "100uatom,100upay,100uxyz")],
        json!({"params": {"send_enabled": [], "default_send_enabled": false},
               "send_enabled": [{"denom": "upay", "enabled": true}, {"denom": "uatom", "enabled": false}]}),
    );
    let mut state = init(&e, &g);
    assert!(e.bank.is_send_enabled(&state, "upay").unwrap());
    assert!(!e.bank.is_send_enabled(&state, "uatom").unwrap());
    assert!(!e.bank.is_send_enabled(&state, "uxyz").unwrap(), "default applies");
    let (r, _) = deliver(&e, &mut state, send_any(&a, &addr(2), vec![pc("1", "upay")]));
    r.unwrap();
    let (r, _) = deliver(&e, &mut state, send_any(&a, &addr(2), vec![pc("1", "uatom"), pc("1", "upay")]));
    let err = r.unwrap_err();
    assert_eq!((err.codespace.as_ref(), err.code), ("bank", 5));
    assert_eq!(err.log, "uatom transfers are currently disabled: send transactions are disabled");
    let (r, _) = deliver(
        &e,
        &mut state,
        multi_any(vec![(a.to_string(), vec![pc("1", "uxyz")])], vec![(addr(3).to_string(), vec![pc("1", "uxyz")])]),
    );
    assert_eq!(r.unwrap_err().code, 5);
    // Module transfers are not gated by send-enabled (as in the SDK).
    let (r, _) = tx(&mut state, |ctx| e.bank.send_coins_from_account_to_module(ctx, &a, "escrow", &coins("1uatom")));
    r.unwrap();
}

#[test]
fn multi_send_moves_sums_and_emits_sdk_events() {
    let e = env();
    let a = addr(1);
    let mut state = init(&e, &genesis_with(&[(a.clone(), "10uatom,100upay"), (addr(2), "1upay")], json!({})));
    let (b, c) = (addr(2), addr(3));
    let (r, events) = deliver(
        &e,
        &mut state,
        multi_any(
            vec![(a.to_string(), vec![pc("4", "uatom"), pc("60", "upay")])],
            vec![
                (b.to_string(), vec![pc("40", "upay")]),
                (c.to_string(), vec![pc("4", "uatom"), pc("15", "upay")]),
                (b.to_string(), vec![pc("5", "upay")]),
            ],
        ),
    );
    assert_eq!(r.unwrap().type_url, "/cosmos.bank.v1beta1.MsgMultiSendResponse");
    assert_eq!(e.bank.all_balances(&state, &a).unwrap().to_string(), "6uatom,40upay");
    assert_eq!(e.bank.all_balances(&state, &b).unwrap().to_string(), "46upay");
    assert_eq!(e.bank.all_balances(&state, &c).unwrap().to_string(), "4uatom,15upay");
    assert!(e.auth.account(&state, &c).unwrap().is_some());
    let (sa, sb, sc) = (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        kinds_and_attrs(&events),
        vec![
            ev("coin_spent", &[("spender", &sa), ("amount", "4uatom,60upay")]),
            ev("message", &[("sender", &sa)]),
            ev("coin_received", &[("receiver", &sb), ("amount", "40upay")]),
            ev("transfer", &[("recipient", &sb), ("amount", "40upay")]),
            ev("coin_received", &[("receiver", &sc), ("amount", "4uatom,15upay")]),
            ev("transfer", &[("recipient", &sc), ("amount", "4uatom,15upay")]),
            ev("coin_received", &[("receiver", &sb), ("amount", "5upay")]),
            ev("transfer", &[("recipient", &sb), ("amount", "5upay")]),
        ]
    );
    e.bm.check_invariants(&state).unwrap();
}

#[test]
fn module_account_transfers() {
    let e = env();
    let a = addr(1);
    let mut state = init(&e, &genesis_with(&[(a.clone(), "100upay")], json!({})));
    let fee = modaddr("fee_collector");
    let (r, events) =
        tx(&mut state, |ctx| e.bank.send_coins_from_account_to_module(ctx, &a, "fee_collector", &coins("7upay")));
    r.unwrap();
    assert_eq!(e.bank.balance(&state, &fee, "upay").unwrap(), 7);
    assert_eq!(events[2].get("recipient"), Some(fee.to_string().as_str()));
    let (r, _) =
        tx(&mut state, |ctx| e.bank.send_coins_from_module_to_module(ctx, "fee_collector", "escrow", &coins("3upay")));
    r.unwrap();
    let (r, _) =
        tx(&mut state, |ctx| e.bank.send_coins_from_module_to_account(ctx, "escrow", &addr(9), &coins("2upay")));
    r.unwrap();
    assert_eq!(e.bank.balance(&state, &addr(9), "upay").unwrap(), 2);
    assert_eq!(e.bank.balance(&state, &modaddr("escrow"), "upay").unwrap(), 1);
    // Module -> module account as an "account" recipient is blocked.
    let (r, _) = tx(&mut state, |ctx| e.bank.send_coins_from_module_to_account(ctx, "escrow", &fee, &coins("1upay")));
    assert_eq!(r.unwrap_err().code, 4);
    let (r, _) = tx(&mut state, |ctx| e.bank.send_coins_from_module_to_account(ctx, "nope", &a, &coins("1upay")));
    assert_eq!(r.unwrap_err().code, 9);
    let (r, _) = tx(&mut state, |ctx| e.bank.send_coins_from_account_to_module(ctx, &a, "nope", &coins("1upay")));
    assert_eq!(r.unwrap_err().code, 9);
    let (r, _) = tx(&mut state, |ctx| e.bank.send_coins_from_module_to_account(ctx, "escrow", &a, &coins("5upay")));
    assert_eq!(r.unwrap_err().code, 5);
    e.bm.check_invariants(&state).unwrap();
}

#[test]
fn mint_and_burn_check_permissions_and_track_supply() {
    let e = env();
    let mut state = init(&e, &genesis_with(&[(addr(1), "100upay")], json!({})));
    let esc = modaddr("escrow");
    let (r, events) = tx(&mut state, |ctx| e.bank.mint_coins(ctx, "escrow", &coins("50upay,7uusd")));
    r.unwrap();
    assert_eq!(e.bank.supply_of(&state, "upay").unwrap(), 150);
    assert_eq!(e.bank.supply_of(&state, "uusd").unwrap(), 7);
    let s = esc.to_string();
    assert_eq!(
        kinds_and_attrs(&events),
        vec![
            ev("coin_received", &[("receiver", &s), ("amount", "50upay,7uusd")]),
            ev("coinbase", &[("minter", &s), ("amount", "50upay,7uusd")]),
        ]
    );
    e.bm.check_invariants(&state).unwrap();

    let (r, events) = tx(&mut state, |ctx| e.bank.burn_coins(ctx, "escrow", &coins("20upay,7uusd")));
    r.unwrap();
    assert_eq!(e.bank.supply_of(&state, "upay").unwrap(), 130);
    assert_eq!(e.bank.supply_of(&state, "uusd").unwrap(), 0);
    assert!(e.bank.total_supply(&state).unwrap().to_string() == "130upay", "zero supply entries are removed");
    assert_eq!(
        kinds_and_attrs(&events),
        vec![
            ev("coin_spent", &[("spender", &s), ("amount", "20upay,7uusd")]),
            ev("burn", &[("burner", &s), ("amount", "20upay,7uusd")]),
        ]
    );
    e.bm.check_invariants(&state).unwrap();

    let before = state.writes().clone();
    let check = |state: &mut CacheState<'_>, f: &dyn Fn(&mut Context) -> Result<(), SdkError>, code: u32, log: &str| {
        let (r, _) = tx(state, f);
        let err = r.unwrap_err();
        assert_eq!(err.code, code, "{}", err.log);
        assert!(err.log.contains(log), "{}", err.log);
    };
    check(
        &mut state,
        &|ctx| e.bank.mint_coins(ctx, "fee_collector", &coins("1upay")),
        4,
        "does not have permissions to mint",
    );
    check(&mut state, &|ctx| e.bank.burn_coins(ctx, "mint", &coins("1upay")), 4, "does not have permissions to burn");
    check(&mut state, &|ctx| e.bank.burn_coins(ctx, "escrow", &coins("31upay")), 5, "spendable balance 30upay");
    check(
        &mut state,
        &|ctx| e.bank.mint_coins(ctx, "ghost", &coins("1upay")),
        9,
        "module account ghost does not exist",
    );
    check(
        &mut state,
        &|ctx| {
            e.bank.mint_coins(ctx, "mint", &Coins::new(vec![paychain_framework::Coin::new(u128::MAX, "upay")]).unwrap())
        },
        10,
        "overflows the supply",
    );
    assert_eq!(*state.writes(), before);
    // "mint" may mint; its account is created on first use.
    let (r, _) = tx(&mut state, |ctx| e.bank.mint_coins(ctx, "mint", &coins("1upay")));
    r.unwrap();
    assert!(e.auth.get_module_account(&state, "mint").unwrap().is_some());
    e.bm.check_invariants(&state).unwrap();
}

#[test]
fn sends_are_gas_metered() {
    let e = env();
    let (a, b) = (addr(1), addr(2));
    let state = init(&e, &genesis_with(&[(a.clone(), "100upay")], json!({})));
    let block = BlockInfo::default();
    let gas = GasMeter::new(10_000_000);
    let mut child = CacheState::new(&state);
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
    e.bank.send_coins(&mut ctx, &a, &b, &coins("1upay")).unwrap();
    let used = gas.consumed();
    assert!(used > 10_000, "reads, writes and account creation are charged: {used}");
    let small = GasMeter::new(used / 2);
    let mut child = CacheState::new(&state);
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &small);
    assert_eq!(e.bank.send_coins(&mut ctx, &a, &b, &coins("1upay")).unwrap_err().code, 11);
}

// ---------------------------------------------------------------- queries

fn q<Req: Message, Resp: Message + Default>(
    e: &Env,
    state: &CacheState<'_>,
    path: &str,
    req: Req,
) -> Result<Resp, QueryError> {
    e.bm.query(state, path, &req.encode_to_vec()).map(|b| Resp::decode(b.as_slice()).unwrap())
}

fn page(key: Vec<u8>, offset: u64, limit: u64, count_total: bool, reverse: bool) -> Option<PageRequest> {
    Some(PageRequest { key, offset, limit, count_total, reverse })
}

fn coin_strs(c: &[ProtoCoin]) -> Vec<String> {
    c.iter().map(|c| format!("{}{}", c.amount, c.denom)).collect()
}

fn query_state(e: &Env) -> CacheState<'static> {
    let mut meta2 = pay_metadata();
    meta2.base = "uatom".into();
    meta2.display = "atom".into();
    meta2.denom_units[0].denom = "uatom".into();
    meta2.denom_units[0].aliases.clear();
    meta2.denom_units[1].denom = "atom".into();
    let metas: Vec<Value> = [pay_metadata(), meta2]
        .iter()
        .map(|m| {
            json!({"description": m.description, "base": m.base, "display": m.display, "name": m.name, "symbol": m.symbol,
                   "denom_units": m.denom_units.iter().map(|u| json!({"denom": u.denom, "exponent": u.exponent, "aliases": u.aliases})).collect::<Vec<_>>()})
        })
        .collect();
    let g = genesis_with(
        &[(addr(1), "1uatom,2ubb,3ucc,4udd,5upay"), (addr(2), "7upay"), (addr(3), "9upay"), (addr(4), "2uatom")],
        json!({"denom_metadata": metas, "send_enabled": [{"denom": "ubb", "enabled": false}, {"denom": "ucc", "enabled": true}]}),
    );
    init(e, &g)
}

#[test]
fn balance_queries() {
    let e = env();
    let state = query_state(&e);
    let a = addr(1).to_string();
    let r: pb::QueryBalanceResponse =
        q(&e, &state, query::BALANCE, pb::QueryBalanceRequest { address: a.clone(), denom: "upay".into() }).unwrap();
    assert_eq!(r.balance.unwrap(), pc("5", "upay"));
    // Empty balance: still a coin, amount "0".
    let r: pb::QueryBalanceResponse =
        q(&e, &state, query::BALANCE, pb::QueryBalanceRequest { address: addr(77).to_string(), denom: "upay".into() })
            .unwrap();
    assert_eq!(r.balance.unwrap(), pc("0", "upay"));
    for (address, denom) in [(a.as_str(), "u"), (a.as_str(), ""), ("pay1bad", "upay"), ("", "upay")] {
        let err = q::<_, pb::QueryBalanceResponse>(
            &e,
            &state,
            query::BALANCE,
            pb::QueryBalanceRequest { address: address.into(), denom: denom.into() },
        )
        .unwrap_err();
        assert_eq!(err.code, GrpcCode::InvalidArgument, "{address} {denom}");
    }
    let r: pb::QuerySpendableBalanceByDenomResponse = q(
        &e,
        &state,
        query::SPENDABLE_BALANCE_BY_DENOM,
        pb::QuerySpendableBalanceByDenomRequest { address: a.clone(), denom: "udd".into() },
    )
    .unwrap();
    assert_eq!(r.balance.unwrap(), pc("4", "udd"));

    // AllBalances: sorted by denom, paginated by key and offset, count_total, reverse.
    let all = |pagination| -> pb::QueryAllBalancesResponse {
        q(
            &e,
            &state,
            query::ALL_BALANCES,
            pb::QueryAllBalancesRequest { address: a.clone(), pagination, resolve_denom: true },
        )
        .unwrap()
    };
    let r = all(None);
    assert_eq!(coin_strs(&r.balances), ["1uatom", "2ubb", "3ucc", "4udd", "5upay"]);
    let r = all(page(vec![], 0, 2, true, false));
    assert_eq!(coin_strs(&r.balances), ["1uatom", "2ubb"]);
    let p = r.pagination.unwrap();
    assert_eq!(p.total, 5);
    assert_eq!(p.next_key, b"ucc");
    let r = all(page(p.next_key, 0, 2, false, false));
    assert_eq!(coin_strs(&r.balances), ["3ucc", "4udd"]);
    let r = all(page(r.pagination.unwrap().next_key, 0, 2, false, false));
    assert_eq!(coin_strs(&r.balances), ["5upay"]);
    assert_eq!(r.pagination.unwrap(), PageResponse { next_key: vec![], total: 0 });
    let r = all(page(vec![], 3, 10, true, false));
    assert_eq!(coin_strs(&r.balances), ["4udd", "5upay"]);
    assert_eq!(r.pagination.unwrap().total, 5);
    let r = all(page(vec![], 0, 2, false, true));
    assert_eq!(coin_strs(&r.balances), ["5upay", "4udd"]);
    let r = all(page(r.pagination.unwrap().next_key, 0, 2, false, true));
    assert_eq!(coin_strs(&r.balances), ["3ucc", "2ubb"]);
    let err = q::<_, pb::QueryAllBalancesResponse>(
        &e,
        &state,
        query::ALL_BALANCES,
        pb::QueryAllBalancesRequest {
            address: a.clone(),
            pagination: page(b"ucc".to_vec(), 1, 2, false, false),
            resolve_denom: false,
        },
    )
    .unwrap_err();
    assert_eq!(err.code, GrpcCode::InvalidArgument);
    let r: pb::QueryAllBalancesResponse = q(
        &e,
        &state,
        query::ALL_BALANCES,
        pb::QueryAllBalancesRequest { address: addr(77).to_string(), pagination: None, resolve_denom: false },
    )
    .unwrap();
    assert!(r.balances.is_empty());
    let r: pb::QuerySpendableBalancesResponse = q(
        &e,
        &state,
        query::SPENDABLE_BALANCES,
        pb::QuerySpendableBalancesRequest { address: a.clone(), pagination: page(vec![], 0, 1, true, false) },
    )
    .unwrap();
    assert_eq!(coin_strs(&r.balances), ["1uatom"]);
    assert_eq!(r.pagination.unwrap().total, 5);
}

#[test]
fn supply_params_metadata_owner_and_send_enabled_queries() {
    let e = env();
    let state = query_state(&e);
    // Supply.
    let r: pb::QueryTotalSupplyResponse =
        q(&e, &state, query::TOTAL_SUPPLY, pb::QueryTotalSupplyRequest { pagination: None }).unwrap();
    assert_eq!(coin_strs(&r.supply), ["3uatom", "2ubb", "3ucc", "4udd", "21upay"]);
    let r: pb::QueryTotalSupplyResponse =
        q(&e, &state, query::TOTAL_SUPPLY, pb::QueryTotalSupplyRequest { pagination: page(vec![], 1, 2, true, false) })
            .unwrap();
    assert_eq!(coin_strs(&r.supply), ["2ubb", "3ucc"]);
    assert_eq!(r.pagination.unwrap().total, 5);
    let r: pb::QuerySupplyOfResponse =
        q(&e, &state, query::SUPPLY_OF, pb::QuerySupplyOfRequest { denom: "upay".into() }).unwrap();
    assert_eq!(r.amount.unwrap(), pc("21", "upay"));
    let r: pb::QuerySupplyOfResponse =
        q(&e, &state, query::SUPPLY_OF, pb::QuerySupplyOfRequest { denom: "unone".into() }).unwrap();
    assert_eq!(r.amount.unwrap(), pc("0", "unone"));
    assert_eq!(
        q::<_, pb::QuerySupplyOfResponse>(&e, &state, query::SUPPLY_OF, pb::QuerySupplyOfRequest { denom: "!".into() })
            .unwrap_err()
            .code,
        GrpcCode::InvalidArgument
    );

    // Params.
    let r: pb::QueryParamsResponse = q(&e, &state, query::PARAMS, pb::QueryParamsRequest {}).unwrap();
    #[allow(deprecated)]
    let expected = pb::Params { send_enabled: vec![], default_send_enabled: true };
    assert_eq!(r.params.unwrap(), expected);

    // Metadata.
    let r: pb::QueryDenomMetadataResponse =
        q(&e, &state, query::DENOM_METADATA, pb::QueryDenomMetadataRequest { denom: "upay".into() }).unwrap();
    assert_eq!(r.metadata.unwrap(), pay_metadata());
    let r: pb::QueryDenomMetadataByQueryStringResponse = q(
        &e,
        &state,
        query::DENOM_METADATA_BY_QUERY_STRING,
        pb::QueryDenomMetadataByQueryStringRequest { denom: "uatom".into() },
    )
    .unwrap();
    assert_eq!(r.metadata.unwrap().display, "atom");
    let err = q::<_, pb::QueryDenomMetadataResponse>(
        &e,
        &state,
        query::DENOM_METADATA,
        pb::QueryDenomMetadataRequest { denom: "ubb".into() },
    )
    .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (GrpcCode::NotFound, "client metadata for denom ubb"));
    let r: pb::QueryDenomsMetadataResponse = q(
        &e,
        &state,
        query::DENOMS_METADATA,
        pb::QueryDenomsMetadataRequest { pagination: page(vec![], 0, 1, true, false) },
    )
    .unwrap();
    assert_eq!(r.metadatas.len(), 1);
    assert_eq!(r.metadatas[0].base, "uatom");
    let p = r.pagination.unwrap();
    assert_eq!(p.total, 2);
    let r: pb::QueryDenomsMetadataResponse = q(
        &e,
        &state,
        query::DENOMS_METADATA,
        pb::QueryDenomsMetadataRequest { pagination: page(p.next_key, 0, 1, false, false) },
    )
    .unwrap();
    assert_eq!(r.metadatas[0].base, "upay");

    // Denom owners: via the reverse index, with balances.
    let owners = |pagination| -> pb::QueryDenomOwnersResponse {
        q(&e, &state, query::DENOM_OWNERS, pb::QueryDenomOwnersRequest { denom: "upay".into(), pagination }).unwrap()
    };
    let r = owners(None);
    let got: Vec<(String, String)> =
        r.denom_owners.iter().map(|o| (o.address.clone(), o.balance.as_ref().unwrap().amount.clone())).collect();
    assert_eq!(
        got,
        vec![(addr(1).to_string(), "5".into()), (addr(2).to_string(), "7".into()), (addr(3).to_string(), "9".into())]
    );
    let r = owners(page(vec![], 0, 2, true, false));
    assert_eq!(r.denom_owners.len(), 2);
    let p = r.pagination.unwrap();
    assert_eq!((p.total, p.next_key.clone()), (3, vec![3u8; 20]));
    let r = owners(page(p.next_key, 0, 2, false, false));
    assert_eq!(r.denom_owners[0].address, addr(3).to_string());
    let r = owners(page(vec![], 0, 1, false, true));
    assert_eq!(r.denom_owners[0].address, addr(3).to_string());
    let r: pb::QueryDenomOwnersByQueryResponse = q(
        &e,
        &state,
        query::DENOM_OWNERS_BY_QUERY,
        pb::QueryDenomOwnersByQueryRequest { denom: "uatom".into(), pagination: None },
    )
    .unwrap();
    assert_eq!(r.denom_owners.len(), 2);
    assert_eq!(
        q::<_, pb::QueryDenomOwnersResponse>(
            &e,
            &state,
            query::DENOM_OWNERS,
            pb::QueryDenomOwnersRequest { denom: "x".into(), pagination: None }
        )
        .unwrap_err()
        .code,
        GrpcCode::InvalidArgument
    );

    // Send enabled: all entries (paginated) or the named ones that are set.
    let r: pb::QuerySendEnabledResponse =
        q(&e, &state, query::SEND_ENABLED, pb::QuerySendEnabledRequest { denoms: vec![], pagination: None }).unwrap();
    assert_eq!(
        r.send_enabled,
        vec![
            pb::SendEnabled { denom: "ubb".into(), enabled: false },
            pb::SendEnabled { denom: "ucc".into(), enabled: true }
        ]
    );
    let r: pb::QuerySendEnabledResponse = q(
        &e,
        &state,
        query::SEND_ENABLED,
        pb::QuerySendEnabledRequest { denoms: vec![], pagination: page(vec![], 0, 1, true, false) },
    )
    .unwrap();
    assert_eq!(r.send_enabled.len(), 1);
    assert_eq!(r.pagination.unwrap().total, 2);
    let r: pb::QuerySendEnabledResponse = q(
        &e,
        &state,
        query::SEND_ENABLED,
        pb::QuerySendEnabledRequest { denoms: vec!["ucc".into(), "upay".into()], pagination: None },
    )
    .unwrap();
    assert_eq!(r.send_enabled, vec![pb::SendEnabled { denom: "ucc".into(), enabled: true }]);

    // Bad bytes and unknown paths.
    assert_eq!(e.bm.query(&state, query::BALANCE, &[0xff]).unwrap_err().code, GrpcCode::InvalidArgument);
    assert_eq!(e.bm.query(&state, "/cosmos.bank.v1beta1.Query/Nope", &[]).unwrap_err().code, GrpcCode::Unimplemented);
    assert_eq!(e.bm.query_paths().len(), 13);
}

// ---------------------------------------------------------------- genesis

#[test]
fn genesis_validation_names_fields() {
    let e = env();
    let base = || genesis_with(&[(addr(1), "10upay"), (addr(2), "5uatom,5upay")], json!({}));
    let check = |mutate: &dyn Fn(&mut Value), expect: &str| {
        let mut g = base();
        mutate(&mut g);
        let err = e.bm.validate_genesis(Some(&g)).unwrap_err();
        assert!(err.starts_with(expect), "expected {expect:?}, got {err:?}");
        let mut state = CacheState::in_memory();
        let (r, _) = tx(&mut state, |ctx| e.bm.init_genesis(ctx, Some(&g)));
        assert!(r.unwrap_err().log.contains(expect));
    };
    e.bm.validate_genesis(Some(&base())).unwrap();
    e.bm.validate_genesis(None).unwrap();
    check(&|g| g["balances"][1]["address"] = json!("pay1nope"), "bank.balances[1].address: ");
    check(
        &|g| g["balances"][1]["address"] = g["balances"][0]["address"].clone(),
        "bank.balances[1].address: duplicate balance",
    );
    check(
        &|g| g["balances"][1]["coins"] = json!([{"denom": "upay", "amount": "1"}, {"denom": "uatom", "amount": "1"}]),
        "bank.balances[1].coins: ",
    );
    check(&|g| g["balances"][1]["coins"][0]["amount"] = json!("0"), "bank.balances[1].coins: ");
    check(&|g| g["balances"][1]["coins"][0]["amount"] = json!("1.5"), "bank.balances[1].coins[0].amount: ");
    check(
        &|g| g["balances"][1]["coins"][0]["amount"] = json!(5),
        "bank.balances[1].coins[0].amount: expected a string",
    );
    check(&|g| g["balances"][1]["coins"][0]["denom"] = json!("$$"), "bank.balances[1].coins[0].denom: ");
    check(
        &|g| g["balances"][0]["coins"][0]["amount"] = json!(u128::MAX.to_string()),
        "bank.balances[1].coins: total supply overflows",
    );
    check(
        &|g| g["supply"] = json!([{"denom": "upay", "amount": "16"}]),
        "bank.supply: genesis supply is incorrect, expected 16upay, got 5uatom,15upay",
    );
    check(
        &|g| g["send_enabled"] = json!([{"denom": "upay"}, {"denom": "upay", "enabled": true}]),
        "bank.send_enabled[1].denom: duplicate",
    );
    check(&|g| g["send_enabled"] = json!([{"denom": "!!", "enabled": true}]), "bank.send_enabled[0].denom: ");
    check(
        &|g| {
            g["send_enabled"] = json!([{"denom": "upay", "enabled": true}]);
            g["params"]["send_enabled"] = json!([{"denom": "uatom", "enabled": true}]);
        },
        "bank.params.send_enabled: send_enabled defined in both",
    );
    check(
        &|g| g["denom_metadata"] = json!([{"base": "upay", "display": "upay", "name": "", "symbol": "P"}]),
        "bank.denom_metadata[0].name: ",
    );
    check(
        &|g| {
            g["denom_metadata"] = json!([{"base": "upay", "display": "pay", "name": "Pay", "symbol": "P",
            "denom_units": [{"denom": "upay", "exponent": 0}, {"denom": "pay", "exponent": "6"}, {"denom": "kpay", "exponent": 3}]}])
        },
        "bank.denom_metadata[0].denom_units[2].exponent: ",
    );
    check(
        &|g| g["denom_metadata"] = json!([{"base": "upay", "oops": 1}]),
        "bank.denom_metadata[0].oops: unknown field",
    );
    check(&|g| g["balance"] = json!([]), "bank.balance: unknown field");
    check(
        &|g| g["params"]["default_send_enabled"] = json!("yes"),
        "bank.params.default_send_enabled: expected a boolean",
    );
}

#[test]
fn genesis_supply_given_or_computed_and_round_trip() {
    let e = env();
    let meta = pay_metadata();
    let g = genesis_with(
        &[(addr(2), "5uatom,5upay"), (addr(1), "10upay")],
        json!({
            "supply": [{"denom": "uatom", "amount": "5"}, {"denom": "upay", "amount": "15"}],
            "params": {"send_enabled": [{"denom": "uatom", "enabled": false}], "default_send_enabled": true},
            "denom_metadata": [{"description": meta.description, "base": "upay", "display": "pay", "name": "Pay", "symbol": "PAY",
                "denom_units": [{"denom": "upay", "exponent": 0, "aliases": ["micropay"]}, {"denom": "pay", "exponent": 6}]}],
        }),
    );
    let state = init(&e, &g);
    assert_eq!(e.bank.total_supply(&state).unwrap().to_string(), "5uatom,15upay");
    assert!(!e.bank.is_send_enabled(&state, "uatom").unwrap(), "deprecated params.send_enabled is honoured");
    let exported = e.bm.export_genesis(&state).unwrap();
    assert_eq!(
        exported,
        json!({
            "params": {"send_enabled": [], "default_send_enabled": true},
            "balances": [
                {"address": addr(1).to_string(), "coins": [{"denom": "upay", "amount": "10"}]},
                {"address": addr(2).to_string(), "coins": [{"denom": "uatom", "amount": "5"}, {"denom": "upay", "amount": "5"}]},
            ],
            "supply": [{"denom": "uatom", "amount": "5"}, {"denom": "upay", "amount": "15"}],
            "denom_metadata": [{"description": "paychain fee token", "base": "upay", "display": "pay", "name": "Pay", "symbol": "PAY",
                "uri": "", "uri_hash": "",
                "denom_units": [{"denom": "upay", "exponent": 0, "aliases": ["micropay"]}, {"denom": "pay", "exponent": 6, "aliases": []}]}],
            "send_enabled": [{"denom": "uatom", "enabled": false}],
        })
    );
    // Export -> import (with auth's export first, as the app would) reproduces the state.
    let auth_export = e.am.export_genesis(&state).unwrap();
    let mut state2 = CacheState::in_memory();
    let (r, _) = tx(&mut state2, |ctx| {
        e.am.init_genesis(ctx, Some(&auth_export))?;
        e.bm.init_genesis(ctx, Some(&exported))
    });
    r.unwrap();
    assert_eq!(e.bm.export_genesis(&state2).unwrap(), exported);
    assert_eq!(e.am.export_genesis(&state2).unwrap(), auth_export);
    assert_eq!(state2.writes(), state.writes());

    // Defaults: no balances, sends enabled, params written.
    let s = init(&e, &json!(null));
    assert_eq!(e.bank.params(&s).unwrap(), BankParams::default());
    assert!(s.get(STORE_KEY, keys::PARAMS_KEY).unwrap().is_some());
}

// ---------------------------------------------------------------- invariants

#[test]
fn invariant_check_fails_on_corruption() {
    let e = env();
    let a = addr(1);
    let state = init(&e, &genesis_with(&[(a.clone(), "10upay"), (addr(2), "3upay")], json!({})));
    e.bm.check_invariants(&state).unwrap();

    let corrupt = |f: &dyn Fn(&mut CacheState<'_>), expect: &str| {
        let mut bad = CacheState::new(&state);
        f(&mut bad);
        let err = e.bm.check_invariants(&bad).unwrap_err();
        assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    };
    corrupt(&|s| s.set(STORE_KEY, keys::balance_key(&a, "upay"), b"11".to_vec()), "supply 13 != sum of balances 14");
    corrupt(&|s| s.set(STORE_KEY, keys::supply_key("upay"), b"12".to_vec()), "supply 12 != sum of balances 13");
    corrupt(&|s| s.delete(STORE_KEY, keys::supply_key("upay")), "supply 0 != sum of balances 13");
    corrupt(&|s| s.set(STORE_KEY, keys::balance_key(&a, "upay"), b"0".to_vec()), "zero balance stored");
    corrupt(&|s| s.delete(STORE_KEY, keys::denom_owner_key("upay", &a)), "denom owner index lacks");
    corrupt(
        &|s| s.set(STORE_KEY, keys::denom_owner_key("upay", &addr(9)), keys::INDEX_MARKER.to_vec()),
        &format!("denom owner index names {} for upay, which holds none", addr(9)),
    );
    // As many entries on both sides, one of them wrong.
    corrupt(
        &|s| {
            s.delete(STORE_KEY, keys::denom_owner_key("upay", &a));
            s.set(STORE_KEY, keys::denom_owner_key("upay", &addr(9)), keys::INDEX_MARKER.to_vec());
        },
        &format!("denom owner index lacks {a} for upay"),
    );
    corrupt(&|s| s.set(STORE_KEY, keys::balance_key(&a, "upay"), b"ten".to_vec()), "corrupt balance");
}

// ---------------------------------------------------------------- randomized

#[test]
fn randomized_sends_keep_the_supply_invariant() {
    const ACCOUNTS: u8 = 50;
    const DENOMS: [&str; 3] = ["uatom", "upay", "uusd"];
    let e = env();
    let accounts: Vec<Address> = (1..=ACCOUNTS).map(addr).collect();
    // Half the accounts start funded; the rest are created by receiving.
    let funded: Vec<(Address, &str)> =
        accounts.iter().take(25).map(|a| (a.clone(), "1000uatom,5000upay,300uusd")).collect();
    let mut state = init(&e, &genesis_with(&funded, json!({})));
    let supply = e.bank.total_supply(&state).unwrap();
    let mut model: BTreeMap<(Address, &str), u128> = BTreeMap::new();
    for (a, _) in &funded {
        for c in &coins("1000uatom,5000upay,300uusd") {
            let d = DENOMS.iter().find(|d| **d == c.denom).unwrap();
            model.insert((a.clone(), d), c.amount);
        }
    }
    let bal = |m: &BTreeMap<(Address, &str), u128>, a: &Address, d: &'static str| *m.get(&(a.clone(), d)).unwrap_or(&0);

    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_ba4c);
    let (mut ok, mut failed) = (0, 0);
    for step in 0..600 {
        let from = accounts[rng.gen_range(0..accounts.len())].clone();
        // A random non-empty sorted subset of denoms; amounts sometimes exceed the balance.
        let mut denoms: Vec<&'static str> = DENOMS.iter().copied().filter(|_| rng.gen_bool(0.5)).collect();
        if denoms.is_empty() {
            denoms.push(DENOMS[rng.gen_range(0..DENOMS.len())]);
        }
        let multi = rng.gen_bool(0.3);
        let (any, transfers): (Any, Vec<(Address, &'static str, u128)>) = if !multi {
            let to = accounts[rng.gen_range(0..accounts.len())].clone();
            let amounts: Vec<(&str, u128)> =
                denoms.iter().map(|d| (*d, rng.gen_range(1..=bal(&model, &from, d).max(1) * 11 / 10 + 1))).collect();
            let any = send_any(&from, &to, amounts.iter().map(|(d, a)| pc(&a.to_string(), d)).collect());
            (any, amounts.iter().map(|(d, a)| (to.clone(), *d, *a)).collect())
        } else {
            let n = rng.gen_range(1..=4);
            let mut outputs = Vec::new();
            let mut transfers = Vec::new();
            for _ in 0..n {
                let to = accounts[rng.gen_range(0..accounts.len())].clone();
                let amounts: Vec<(&'static str, u128)> =
                    denoms.iter().map(|d| (*d, rng.gen_range(1..=bal(&model, &from, d).max(4) / 3 + 1))).collect();
                outputs.push((to.to_string(), amounts.iter().map(|(d, a)| pc(&a.to_string(), d)).collect()));
                transfers.extend(amounts.iter().map(|(d, a)| (to.clone(), *d, *a)));
            }
            let mut input: BTreeMap<&str, u128> = BTreeMap::new();
            for (_, d, a) in &transfers {
                *input.entry(d).or_default() += a;
            }
            let input_coins = input.iter().map(|(d, a)| pc(&a.to_string(), d)).collect();
            (multi_any(vec![(from.to_string(), input_coins)], outputs), transfers)
        };

        let mut need: BTreeMap<&str, u128> = BTreeMap::new();
        for (_, d, a) in &transfers {
            *need.entry(d).or_default() += a;
        }
        let affordable = need.iter().all(|(d, a)| bal(&model, &from, d) >= *a);
        let before = state.writes().clone();
        let (r, _) = deliver(&e, &mut state, any);
        match r {
            Ok(_) => {
                assert!(affordable, "step {step}: an unaffordable send succeeded");
                for (d, a) in &need {
                    *model.get_mut(&(from.clone(), d)).unwrap() -= a;
                }
                for (to, d, a) in transfers {
                    *model.entry((to, d)).or_default() += a;
                }
                ok += 1;
            }
            Err(err) => {
                assert!(!affordable, "step {step}: an affordable send failed: {}", err.log);
                assert_eq!(err.code, 5, "{}", err.log);
                assert_eq!(*state.writes(), before, "step {step}: a failed send wrote state");
                failed += 1;
            }
        }
        e.bm.check_invariants(&state).unwrap_or_else(|err| panic!("step {step}: {err}"));
        assert_eq!(e.bank.total_supply(&state).unwrap(), supply, "step {step}");
    }
    assert!(ok > 200 && failed > 20, "the workload exercised both paths: {ok} ok, {failed} failed");

    // The keeper agrees with the model, and every recipient has an account.
    for a in &accounts {
        for d in DENOMS {
            assert_eq!(e.bank.balance(&state, a, d).unwrap(), bal(&model, a, d), "{a} {d}");
        }
        if !e.bank.all_balances(&state, a).unwrap().is_empty() {
            assert!(e.auth.account(&state, a).unwrap().is_some());
        }
    }
    e.am.check_invariants(&state).unwrap();

    // And the invariant does fail once a balance is corrupted.
    let mut bad = CacheState::new(&state);
    let victim = accounts.iter().max_by_key(|a| bal(&model, a, "upay")).unwrap();
    let have = e.bank.balance(&state, victim, "upay").unwrap();
    bad.set(STORE_KEY, keys::balance_key(victim, "upay"), (have + 1).to_string().into_bytes());
    assert!(e.bm.check_invariants(&bad).unwrap_err().contains("total supply invariant broken for upay"));
}
