//! The assets module over the in-memory state, wired as the app wires it (auth,
//! bank with the assets transfer policy, escrow), so every path that moves coins
//! meets the issuer's rules.

use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_auth::{AuthKeeper, AuthModule, BURNER, MINTER};
use paychain_bank::{BankKeeper, BankModule, Input, Output};
use paychain_escrow::EscrowModule;
use paychain_framework::{
    Address, BlockInfo, BlockTime, CacheState, Coins, Context, Event, ExecMode, GasMeter, Module, MsgResponse,
    SdkError, StateWrite, TypeUrl,
};
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::*;
use crate::pb::{Feature, Role};

const FEE_COLLECTOR: &str = "fee_collector";
const T0: i64 = 1_767_323_045;

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

// Who is who in these tests.
fn issuer() -> Address {
    addr(1)
}
fn master() -> Address {
    addr(2)
}
fn freezer() -> Address {
    addr(3)
}
fn pauser() -> Address {
    addr(4)
}
fn claw() -> Address {
    addr(5)
}
fn lister() -> Address {
    addr(6)
}
fn minter() -> Address {
    addr(7)
}
fn chain_authority() -> Address {
    addr(20)
}
fn alice() -> Address {
    addr(10)
}
fn bob() -> Address {
    addr(11)
}
fn carol() -> Address {
    addr(12)
}

struct Env {
    am: AuthModule,
    bm: BankModule,
    em: EscrowModule,
    xm: AssetsModule,
    authority: paychain_authority::AuthorityModule,
    bank: Arc<BankKeeper>,
}

fn env() -> Env {
    let auth = Arc::new(AuthKeeper::new(vec![
        (FEE_COLLECTOR.into(), vec![]),
        (paychain_escrow::MODULE_ACCOUNT.into(), vec![]),
        (MODULE_ACCOUNT.into(), vec![MINTER.into(), BURNER.into()]),
    ]));
    let bank = Arc::new(BankKeeper::new(auth.clone()));
    let authority = Arc::new(paychain_authority::AuthorityKeeper::new());
    Env {
        am: AuthModule::new(auth.clone()),
        bm: BankModule::new(bank.clone()),
        em: EscrowModule::new(bank.clone(), auth.clone()),
        xm: AssetsModule::new(bank.clone(), auth, authority.clone(), FEE_COLLECTOR),
        authority: paychain_authority::AuthorityModule::new(authority),
        bank,
    }
}

struct Chain {
    e: Env,
    state: CacheState<'static>,
    time: i64,
    events: Vec<Event>,
}

fn any<T: Message + TypeUrl>(m: &T) -> Any {
    Any { type_url: T::TYPE_URL.into(), value: m.encode_to_vec() }
}

fn note() -> (String, String) {
    ("court_order".into(), "case 2026-17".into())
}

impl Chain {
    fn new() -> Self {
        Self::with_genesis(None)
    }

    fn with_genesis(assets: Option<&Value>) -> Self {
        let balances: Vec<Value> = [issuer(), alice(), bob(), carol(), minter(), claw()]
            .iter()
            .map(|a| json!({"address": a.to_string(), "coins": [{"denom": "upay", "amount": "1000000"}]}))
            .collect();
        let bank = json!({"params": {"send_enabled": [], "default_send_enabled": true}, "balances": balances,
            "supply": [], "denom_metadata": [], "send_enabled": []});
        let mut c = Chain { e: env(), state: CacheState::in_memory(), time: T0, events: vec![] };
        let block = BlockInfo::default();
        let gas = GasMeter::infinite();
        let mut ctx = Context::new(&block, ExecMode::Genesis, &mut c.state, &gas);
        c.e.am.init_genesis(&mut ctx, None).unwrap();
        c.e.bm.init_genesis(&mut ctx, Some(&bank)).unwrap();
        c.e.em.init_genesis(&mut ctx, None).unwrap();
        c.e.xm.init_genesis(&mut ctx, assets).unwrap();
        c.e.authority.init_genesis(&mut ctx, Some(&json!({"authority": chain_authority().to_string()}))).unwrap();
        drop(ctx);
        c.check();
        c
    }

    fn block(&self) -> BlockInfo {
        BlockInfo { height: 2, time: BlockTime { seconds: self.time, nanos: 0 }, chain_id: "paychain-test".into() }
    }

    /// Runs `f` on a child overlay written through only on success, as the app
    /// runs a message; a failure must leave nothing behind. Invariants after each.
    fn run<R>(&mut self, f: impl FnOnce(&Env, &mut Context) -> Result<R, SdkError>) -> Result<R, SdkError> {
        let block = self.block();
        let gas = GasMeter::infinite();
        let mut child = CacheState::new(&self.state);
        let (result, events) = {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
            let r = f(&self.e, &mut ctx);
            (r, ctx.take_events())
        };
        let writes = child.into_writes();
        match &result {
            Ok(_) => {
                self.state.apply(writes);
                assert!(events.iter().all(|ev| ev.attributes.iter().all(|a| a.index)), "every attribute is indexed");
                self.events = events;
            }
            Err(e) => {
                assert!(!e.fatal, "failed fatally: {}", e.log);
                self.events = vec![];
            }
        }
        self.check();
        result
    }

    fn exec(&mut self, any: Any) -> Result<MsgResponse, SdkError> {
        let msg = self.e.xm.decode_msg(&any)?;
        self.run(|e, ctx| e.xm.deliver(ctx, msg.as_ref()))
    }

    fn send(&mut self, from: &Address, to: &Address, amount: &str) -> Result<(), SdkError> {
        let amt: Coins = amount.parse().unwrap();
        let (from, to) = (from.clone(), to.clone());
        self.run(move |e, ctx| e.bank.send_coins(ctx, &from, &to, &amt))
    }

    fn bal(&self, a: &Address, denom: &str) -> u128 {
        self.e.bank.balance(&self.state, a, denom).unwrap()
    }

    fn check(&self) {
        self.e.am.check_invariants(&self.state).unwrap();
        self.e.bm.check_invariants(&self.state).unwrap();
        self.e.em.check_invariants(&self.state).unwrap();
        self.e.xm.check_invariants(&self.state).unwrap();
    }

    fn token(&self, denom: &str) -> pb::Token {
        keeper::token(&self.state, denom).unwrap().unwrap()
    }

    fn action_event(&self) -> &Event {
        self.events.iter().rev().find(|e| e.kind == events::ASSETS_ACTION).expect("an assets_action event")
    }

    /// Issues `usd` with every feature, the roles apart, 1,000,000 to the treasury
    /// (the issuer), and a minter allowed 500,000.
    fn issue_full(&mut self, features: &[Feature], fee_bps: u32, cap: &str) -> String {
        let m = pb::MsgIssue {
            issuer: issuer().to_string(),
            subunit: "usd".into(),
            symbol: "USDX".into(),
            name: "X Dollar".into(),
            precision: 6,
            description: "a test dollar".into(),
            uri: "https://example.com/terms".into(),
            uri_hash: "ab".repeat(32),
            max_supply: "10000000".into(),
            features: features.iter().map(|f| *f as i32).collect(),
            initial_supply: "1000000".into(),
            transfer_fee_bps: fee_bps,
            balance_cap: cap.into(),
            master_minter: if features.contains(&Feature::Minting) { master().to_string() } else { String::new() },
            freezer: if features.contains(&Feature::Freezing) { freezer().to_string() } else { String::new() },
            pauser: if features.contains(&Feature::Pausing) { pauser().to_string() } else { String::new() },
            clawback: if features.contains(&Feature::Clawback) { claw().to_string() } else { String::new() },
            allowlister: if features.contains(&Feature::Allowlist) { lister().to_string() } else { String::new() },
            treasury: String::new(),
        };
        let r = self.exec(any(&m)).unwrap();
        let denom = pb::MsgIssueResponse::decode(r.value.as_slice()).unwrap().denom;
        if features.contains(&Feature::Minting) {
            self.configure_minter(&minter(), "500000").unwrap();
        }
        denom
    }

    fn configure_minter(&mut self, who: &Address, allowance: &str) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        let denom = token_denom("usd", &issuer());
        self.exec(any(&pb::MsgConfigureMinter {
            master_minter: master().to_string(),
            denom,
            minter: who.to_string(),
            allowance: allowance.into(),
            reason,
            reference,
        }))
    }

    fn mint(&mut self, by: &Address, to: &Address, amount: &str) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        self.exec(any(&pb::MsgMint {
            minter: by.to_string(),
            denom: token_denom("usd", &issuer()),
            recipient: to.to_string(),
            amount: amount.into(),
            reason,
            reference,
        }))
    }

    fn freeze(&mut self, who: &Address, amount: &str, freeze: bool) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        let (freezer, denom, account, amount) =
            (freezer().to_string(), token_denom("usd", &issuer()), who.to_string(), amount.to_string());
        if freeze {
            self.exec(any(&pb::MsgFreeze { freezer, denom, account, amount, reason, reference }))
        } else {
            self.exec(any(&pb::MsgUnfreeze { freezer, denom, account, amount, reason, reference }))
        }
    }

    fn freeze_account(&mut self, who: &Address, freeze: bool) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        let (freezer, denom, account) = (freezer().to_string(), token_denom("usd", &issuer()), who.to_string());
        if freeze {
            self.exec(any(&pb::MsgFreezeAccount { freezer, denom, account, reason, reference }))
        } else {
            self.exec(any(&pb::MsgUnfreezeAccount { freezer, denom, account, reason, reference }))
        }
    }

    fn pause(&mut self, pause: bool) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        let (pauser, denom) = (pauser().to_string(), token_denom("usd", &issuer()));
        if pause {
            self.exec(any(&pb::MsgPause { pauser, denom, reason, reference }))
        } else {
            self.exec(any(&pb::MsgUnpause { pauser, denom, reason, reference }))
        }
    }

    fn clawback(&mut self, from: &Address, amount: &str) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        self.exec(any(&pb::MsgClawback {
            clawback: claw().to_string(),
            denom: token_denom("usd", &issuer()),
            account: from.to_string(),
            amount: amount.into(),
            reason,
            reference,
        }))
    }

    fn allow(&mut self, who: &Address, allowed: bool) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        self.exec(any(&pb::MsgSetAllowed {
            allowlister: lister().to_string(),
            denom: token_denom("usd", &issuer()),
            account: who.to_string(),
            allowed,
            reason,
            reference,
        }))
    }

    fn burn(&mut self, by: &Address, amount: &str) -> Result<MsgResponse, SdkError> {
        let (reason, reference) = note();
        self.exec(any(&pb::MsgBurn {
            holder: by.to_string(),
            denom: token_denom("usd", &issuer()),
            amount: amount.into(),
            reason,
            reference,
        }))
    }

    fn holder_query(&self, who: &Address) -> pb::QueryHolderResponse {
        let req = pb::QueryHolderRequest { denom: token_denom("usd", &issuer()), address: who.to_string() };
        let out = self.e.xm.query(&self.state, query::HOLDER, &req.encode_to_vec()).unwrap();
        pb::QueryHolderResponse::decode(out.as_slice()).unwrap()
    }
}

const ALL: &[Feature] =
    &[Feature::Minting, Feature::Burning, Feature::Freezing, Feature::Pausing, Feature::Clawback, Feature::Ibc];

fn code(e: &SdkError) -> (&str, u32) {
    (e.codespace.as_ref(), e.code)
}

#[test]
fn issue_derives_the_denom_sets_bank_metadata_and_mints_the_initial_supply() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    assert_eq!(denom, format!("usd-{}", issuer()));
    let t = c.token(&denom);
    assert_eq!(t.features.len(), ALL.len());
    assert_eq!(t.roles.as_ref().unwrap().admin, issuer().to_string());
    assert_eq!(t.roles.as_ref().unwrap().treasury, issuer().to_string());
    assert_eq!(c.bal(&issuer(), &denom), 1_000_000);
    assert_eq!(c.e.bank.supply_of(&c.state, &denom).unwrap(), 1_000_000);
    let md = c.e.bank.denom_metadata(&c.state, &denom).unwrap().unwrap();
    assert_eq!((md.display.as_str(), md.denom_units[1].exponent, md.symbol.as_str()), ("USDX", 6, "USDX"));
    assert_eq!(md.uri_hash, "ab".repeat(32));
    // The same subunit again from the same issuer collides; another issuer gets its own denom.
    let again = pb::MsgIssue {
        issuer: issuer().to_string(),
        subunit: "usd".into(),
        symbol: "USDX".into(),
        name: "X".into(),
        ..Default::default()
    };
    assert_eq!(code(&c.exec(any(&again)).unwrap_err()), ("assets", 3));
    let other = pb::MsgIssue { issuer: alice().to_string(), ..again };
    let r = c.exec(any(&other)).unwrap();
    assert_eq!(pb::MsgIssueResponse::decode(r.value.as_slice()).unwrap().denom, format!("usd-{}", alice()));
}

#[test]
fn issue_refuses_bad_input_with_its_own_codes() {
    let mut c = Chain::new();
    let base = pb::MsgIssue {
        issuer: issuer().to_string(),
        subunit: "usd".into(),
        symbol: "USDX".into(),
        name: "X".into(),
        ..Default::default()
    };
    let cases: Vec<(pb::MsgIssue, (&str, u32))> = vec![
        (pb::MsgIssue { subunit: "U-SD".into(), ..base.clone() }, ("assets", 4)),
        (pb::MsgIssue { symbol: "X".into(), ..base.clone() }, ("assets", 5)),
        (pb::MsgIssue { precision: 19, ..base.clone() }, ("assets", 5)),
        (pb::MsgIssue { uri_hash: "xyz".into(), ..base.clone() }, ("assets", 5)),
        (pb::MsgIssue { features: vec![99], ..base.clone() }, ("assets", 6)),
        (pb::MsgIssue { features: vec![1, 1], ..base.clone() }, ("assets", 6)),
        // A freezer without the freezing feature.
        (pb::MsgIssue { freezer: alice().to_string(), ..base.clone() }, ("assets", 7)),
        // The admin as pauser: roles must be apart.
        (
            pb::MsgIssue { features: vec![Feature::Pausing as i32], pauser: issuer().to_string(), ..base.clone() },
            ("assets", 10),
        ),
        (pb::MsgIssue { transfer_fee_bps: 10, ..base.clone() }, ("assets", 23)),
        (pb::MsgIssue { features: vec![Feature::BalanceCap as i32], ..base.clone() }, ("assets", 24)),
        (pb::MsgIssue { initial_supply: "11".into(), max_supply: "10".into(), ..base.clone() }, ("assets", 12)),
        (pb::MsgIssue { initial_supply: "1".repeat(40), ..base.clone() }, ("sdk", 10)),
        (pb::MsgIssue { issuer: "pay1nope".into(), ..base.clone() }, ("sdk", 7)),
    ];
    for (m, want) in cases {
        let err = c.exec(any(&m)).unwrap_err();
        assert_eq!(code(&err), want, "{m:?}: {}", err.log);
    }
    assert!(c.e.xm.export_genesis(&c.state).unwrap()["tokens"].as_array().unwrap().is_empty());
}

#[test]
fn minters_mint_within_allowances_and_the_maximum_supply() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    let r = c.mint(&minter(), &alice(), "200000").unwrap();
    assert_eq!(pb::MsgMintResponse::decode(r.value.as_slice()).unwrap().remaining_allowance, "300000");
    let ev = c.action_event();
    assert_eq!(ev.get("action"), Some("mint"));
    assert_eq!(ev.get("actor"), Some(minter().to_string().as_str()));
    assert_eq!(ev.get("target"), Some(alice().to_string().as_str()));
    assert_eq!(ev.get("amount"), Some("200000"));
    assert_eq!(ev.get("reason"), Some("court_order"));
    assert_eq!(ev.get("reference"), Some("case 2026-17"));
    assert_eq!(c.bal(&alice(), &denom), 200_000);
    assert_eq!(code(&c.mint(&minter(), &alice(), "300001").unwrap_err()), ("assets", 11));
    assert_eq!(code(&c.mint(&alice(), &alice(), "1").unwrap_err()), ("assets", 9));
    // Only the master minter configures minters.
    let (reason, reference) = note();
    let by_admin = pb::MsgConfigureMinter {
        master_minter: issuer().to_string(),
        denom: denom.clone(),
        minter: alice().to_string(),
        allowance: "5".into(),
        reason,
        reference,
    };
    assert_eq!(code(&c.exec(any(&by_admin)).unwrap_err()), ("assets", 9));
    // The maximum supply (10,000,000) binds whatever the allowance.
    c.configure_minter(&minter(), "20000000").unwrap();
    assert_eq!(code(&c.mint(&minter(), &alice(), "8800001").unwrap_err()), ("assets", 12));
    c.mint(&minter(), &alice(), "8800000").unwrap();
    assert_eq!(c.e.bank.supply_of(&c.state, &denom).unwrap(), 10_000_000);
    // Allowance 0 removes the minter.
    c.configure_minter(&minter(), "0").unwrap();
    assert_eq!(code(&c.mint(&minter(), &alice(), "1").unwrap_err()), ("assets", 9));
    // A note is required and bounded.
    let m = pb::MsgMint {
        minter: minter().to_string(),
        denom: denom.clone(),
        recipient: alice().to_string(),
        amount: "1".into(),
        reason: String::new(),
        reference: String::new(),
    };
    assert_eq!(code(&c.exec(any(&m)).unwrap_err()), ("assets", 17));
    let m = pb::MsgMint { reason: "x".into(), reference: "r".repeat(141), ..m };
    assert_eq!(code(&c.exec(any(&m)).unwrap_err()), ("assets", 18));
    let m = pb::MsgMint { reference: "case\n17".into(), ..m };
    assert_eq!(code(&c.exec(any(&m)).unwrap_err()), ("assets", 26));
}

#[test]
fn a_frozen_amount_cannot_be_spent_on_any_path_fees_included() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    c.send(&issuer(), &alice(), &format!("100{denom}")).unwrap();
    let r = c.freeze(&alice(), "70", true).unwrap();
    assert_eq!(pb::MsgFreezeResponse::decode(r.value.as_slice()).unwrap().frozen_amount, "70");
    let q = c.holder_query(&alice());
    assert_eq!((q.balance.as_str(), q.spendable.as_str()), ("100", "30"));
    // A send, a multi-send, a fee payment and an escrow beyond the 30 spendable all fail.
    let err = c.send(&alice(), &bob(), &format!("31{denom}")).unwrap_err();
    assert_eq!(code(&err), ("sdk", 5));
    assert!(err.log.contains("spendable balance 30"), "{}", err.log);
    let input = Input { address: alice(), coins: format!("31{denom}").parse().unwrap() };
    let outputs = vec![Output { address: bob(), coins: format!("31{denom}").parse().unwrap() }];
    assert_eq!(code(&c.run(|e, ctx| e.bank.input_output_coins(ctx, &input, &outputs)).unwrap_err()), ("sdk", 5));
    let fee: Coins = format!("31{denom}").parse().unwrap();
    let err = c.run(|e, ctx| e.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &fee)).unwrap_err();
    assert_eq!(code(&err), ("sdk", 5));
    c.send(&alice(), &bob(), &format!("30{denom}")).unwrap();
    // More may be frozen than held: what arrives later is frozen too.
    c.freeze(&alice(), "1000", true).unwrap();
    c.send(&bob(), &alice(), &format!("30{denom}")).unwrap();
    assert_eq!(c.holder_query(&alice()).spendable, "0");
    // Partial unfreeze; unfreezing more than is frozen is refused.
    assert_eq!(code(&c.freeze(&alice(), "1071", false).unwrap_err()), ("assets", 22));
    c.freeze(&alice(), "1050", false).unwrap();
    assert_eq!(c.holder_query(&alice()).spendable, "80");
    c.send(&alice(), &bob(), &format!("80{denom}")).unwrap();
    // Module accounts cannot be frozen.
    let esc = Address::module(paychain_escrow::MODULE_ACCOUNT);
    assert_eq!(code(&c.freeze(&esc, "1", true).unwrap_err()), ("assets", 20));
    // Only the freezer freezes.
    let (reason, reference) = note();
    let m = pb::MsgFreeze {
        freezer: issuer().to_string(),
        denom,
        account: bob().to_string(),
        amount: "1".into(),
        reason,
        reference,
    };
    assert_eq!(code(&c.exec(any(&m)).unwrap_err()), ("assets", 9));
}

#[test]
fn a_frozen_account_neither_sends_nor_receives_but_clawback_reaches_it() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    c.send(&issuer(), &alice(), &format!("100{denom}")).unwrap();
    c.freeze_account(&alice(), true).unwrap();
    assert_eq!(code(&c.send(&alice(), &bob(), &format!("1{denom}")).unwrap_err()), ("assets", 14));
    assert_eq!(code(&c.send(&issuer(), &alice(), &format!("1{denom}")).unwrap_err()), ("assets", 14));
    assert_eq!(code(&c.mint(&minter(), &alice(), "1").unwrap_err()), ("assets", 14));
    // Other denoms are untouched.
    c.send(&alice(), &bob(), "5upay").unwrap();
    c.clawback(&alice(), "60").unwrap();
    assert_eq!((c.bal(&alice(), &denom), c.bal(&issuer(), &denom)), (40, 999_960));
    assert_eq!(c.action_event().get("action"), Some("clawback"));
    c.freeze_account(&alice(), false).unwrap();
    c.send(&alice(), &bob(), &format!("40{denom}")).unwrap();
}

#[test]
fn pause_stops_transfers_mints_and_burns_except_the_issuers_own_redemption() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    c.mint(&minter(), &minter(), "100").unwrap();
    c.pause(true).unwrap();
    assert!(c.token(&denom).paused);
    assert_eq!(code(&c.send(&issuer(), &alice(), &format!("1{denom}")).unwrap_err()), ("assets", 13));
    assert_eq!(code(&c.mint(&minter(), &alice(), "1").unwrap_err()), ("assets", 13));
    assert_eq!(code(&c.burn(&minter(), "1").unwrap_err()), ("assets", 13));
    c.burn(&issuer(), "10").unwrap();
    assert_eq!(c.bal(&issuer(), &denom), 999_990);
    c.clawback(&minter(), "5").unwrap();
    c.pause(false).unwrap();
    c.burn(&minter(), "95").unwrap();
    assert_eq!(c.token(&denom).burned, "105");
    // Holders do not burn.
    c.send(&issuer(), &alice(), &format!("5{denom}")).unwrap();
    assert_eq!(code(&c.burn(&alice(), "1").unwrap_err()), ("assets", 9));
}

#[test]
fn allowlist_and_balance_cap_bind_every_recipient_but_the_issuer() {
    let mut c = Chain::new();
    let denom = c.issue_full(&[Feature::Allowlist, Feature::BalanceCap], 0, "1000");
    assert_eq!(code(&c.send(&issuer(), &alice(), &format!("1{denom}")).unwrap_err()), ("assets", 15));
    c.allow(&alice(), true).unwrap();
    c.allow(&bob(), true).unwrap();
    c.send(&issuer(), &alice(), &format!("1000{denom}")).unwrap();
    assert_eq!(code(&c.send(&issuer(), &alice(), &format!("1{denom}")).unwrap_err()), ("assets", 16));
    // Two outputs of one multi-send to one account are capped together.
    let input = Input { address: issuer(), coins: format!("1000{denom}").parse().unwrap() };
    let outputs = vec![
        Output { address: bob(), coins: format!("600{denom}").parse().unwrap() },
        Output { address: bob(), coins: format!("400{denom}").parse().unwrap() },
    ];
    c.run(|e, ctx| e.bank.input_output_coins(ctx, &input, &outputs)).unwrap();
    let outputs = vec![Output { address: bob(), coins: format!("1{denom}").parse().unwrap() }];
    let input = Input { address: issuer(), coins: format!("1{denom}").parse().unwrap() };
    assert_eq!(code(&c.run(|e, ctx| e.bank.input_output_coins(ctx, &input, &outputs)).unwrap_err()), ("assets", 16));
    // The issuer (treasury) receives beyond the cap and without being listed.
    c.send(&alice(), &issuer(), &format!("1000{denom}")).unwrap();
    c.allow(&alice(), false).unwrap();
    assert_eq!(code(&c.send(&bob(), &alice(), &format!("1{denom}")).unwrap_err()), ("assets", 15));
}

#[test]
fn the_transfer_fee_is_paid_on_top_to_the_treasury() {
    let mut c = Chain::new();
    let denom = c.issue_full(&[Feature::TransferFee], 25, "");
    c.send(&issuer(), &alice(), &format!("10000{denom}")).unwrap();
    assert_eq!(c.bal(&issuer(), &denom), 990_000, "the issuer pays no fee");
    c.send(&alice(), &bob(), &format!("4000{denom}")).unwrap();
    assert_eq!((c.bal(&alice(), &denom), c.bal(&bob(), &denom), c.bal(&issuer(), &denom)), (5990, 4000, 990_010));
    // Not enough left for amount + fee: nothing moves.
    let err = c.send(&alice(), &bob(), &format!("5990{denom}")).unwrap_err();
    assert_eq!(code(&err), ("sdk", 5));
    assert_eq!(c.bal(&alice(), &denom), 5990);
    // Paying a tx fee in the token is not a transfer that pays a fee.
    let fee: Coins = format!("100{denom}").parse().unwrap();
    c.run(|e, ctx| e.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &fee)).unwrap();
    assert_eq!(c.bal(&alice(), &denom), 5890);
}

#[test]
fn roles_change_hands_in_two_steps_and_features_are_only_renounced() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    let (reason, reference) = note();
    let propose = |new: &Address| pb::MsgProposeAdmin {
        admin: issuer().to_string(),
        denom: denom.clone(),
        new_admin: new.to_string(),
        reason: reason.clone(),
        reference: reference.clone(),
    };
    // The pauser cannot also become admin.
    assert_eq!(code(&c.exec(any(&propose(&pauser()))).unwrap_err()), ("assets", 10));
    c.exec(any(&propose(&alice()))).unwrap();
    let accept = |by: &Address| pb::MsgAcceptAdmin { new_admin: by.to_string(), denom: denom.clone() };
    assert_eq!(code(&c.exec(any(&accept(&bob()))).unwrap_err()), ("assets", 9));
    c.exec(any(&accept(&alice()))).unwrap();
    assert_eq!(c.token(&denom).roles.unwrap().admin, alice().to_string());
    assert_eq!(code(&c.exec(any(&accept(&alice()))).unwrap_err()), ("assets", 21));
    // The new admin assigns roles; the old one cannot.
    let set = |admin: &Address, role: Role, to: &Address| pb::MsgSetRole {
        admin: admin.to_string(),
        denom: denom.clone(),
        role: role as i32,
        address: to.to_string(),
        reason: reason.clone(),
        reference: reference.clone(),
    };
    assert_eq!(code(&c.exec(any(&set(&issuer(), Role::Freezer, &carol()))).unwrap_err()), ("assets", 9));
    c.exec(any(&set(&alice(), Role::Freezer, &carol()))).unwrap();
    assert_eq!(code(&c.freeze(&bob(), "1", true).unwrap_err()), ("assets", 9), "the old freezer lost the role");
    assert_eq!(code(&c.exec(any(&set(&alice(), Role::Pauser, &carol()))).unwrap_err()), ("assets", 10));
    // Renounce freezing: frozen amounts stop counting, the role and message go.
    c.send(&issuer(), &bob(), &format!("10{denom}")).unwrap();
    let freeze_bob = pb::MsgFreeze {
        freezer: carol().to_string(),
        denom: denom.clone(),
        account: bob().to_string(),
        amount: "10".into(),
        reason: reason.clone(),
        reference: reference.clone(),
    };
    c.exec(any(&freeze_bob)).unwrap();
    assert_eq!(code(&c.send(&bob(), &carol(), &format!("1{denom}")).unwrap_err()), ("sdk", 5));
    let renounce = pb::MsgRenounceFeature {
        admin: alice().to_string(),
        denom: denom.clone(),
        feature: Feature::Freezing as i32,
        reason: reason.clone(),
        reference: reference.clone(),
    };
    c.exec(any(&renounce)).unwrap();
    c.send(&bob(), &carol(), &format!("1{denom}")).unwrap();
    assert_eq!(code(&c.exec(any(&freeze_bob)).unwrap_err()), ("assets", 7));
    assert_eq!(code(&c.exec(any(&renounce)).unwrap_err()), ("assets", 7), "gone for good");
    // Renouncing the admin ends role changes.
    let renounce_admin = pb::MsgRenounceAdmin {
        admin: alice().to_string(),
        denom: denom.clone(),
        reason: reason.clone(),
        reference: reference.clone(),
    };
    c.exec(any(&renounce_admin)).unwrap();
    assert_eq!(code(&c.exec(any(&set(&alice(), Role::Clawback, &carol()))).unwrap_err()), ("assets", 9));
}

#[test]
fn escrow_meets_the_rules_at_creation_release_and_its_automatic_refund() {
    let mut c = Chain::new();
    let denom = c.issue_full(&[Feature::Freezing, Feature::Pausing, Feature::Allowlist], 0, "");
    c.allow(&alice(), true).unwrap();
    c.send(&issuer(), &alice(), &format!("100{denom}")).unwrap();
    let create = |to: &Address, refund_after: Option<i64>| paychain_escrow::pb::MsgCreateEscrow {
        sender: alice().to_string(),
        recipient: to.to_string(),
        amount: format!("10{denom}").parse::<Coins>().unwrap().to_proto(),
        refund_after: refund_after.map(|s| paychain_framework::time::Timestamp { seconds: T0 + s, nanos: 0 }),
        ..Default::default()
    };
    let exec_escrow = |c: &mut Chain, m: Any| {
        let msg = c.e.em.decode_msg(&m)?;
        c.run(|e, ctx| e.em.deliver(ctx, msg.as_ref()))
    };
    // Bob is not allowlisted: the escrow is refused at creation, nothing moves.
    let err = exec_escrow(&mut c, any(&create(&bob(), None))).unwrap_err();
    assert_eq!(code(&err), ("assets", 15));
    assert_eq!(c.bal(&alice(), &denom), 100);
    // Carol is; her account is frozen before the release: the release fails and the
    // escrow stays open with its coins.
    c.allow(&carol(), true).unwrap();
    exec_escrow(&mut c, any(&create(&carol(), Some(100)))).unwrap();
    c.freeze_account(&carol(), true).unwrap();
    let release = paychain_escrow::pb::MsgReleaseEscrow { signer: alice().to_string(), id: 1, ..Default::default() };
    assert_eq!(code(&exec_escrow(&mut c, any(&release)).unwrap_err()), ("assets", 14));
    let esc = Address::module(paychain_escrow::MODULE_ACCOUNT);
    assert_eq!(c.bal(&esc, &denom), 10);
    // At the deadline the token is paused: the automatic refund is refused without
    // failing the block, and happens once the token is unpaused.
    c.pause(true).unwrap();
    c.time = T0 + 200;
    c.run(|e, ctx| e.em.end_block(ctx)).unwrap();
    assert!(c.events.iter().any(|e| e.kind == "escrow_refund_failed"), "{:?}", c.events);
    assert_eq!(c.bal(&esc, &denom), 10);
    c.pause(false).unwrap();
    c.run(|e, ctx| e.em.end_block(ctx)).unwrap();
    assert!(c.events.iter().any(|e| e.kind == "escrow_refunded"));
    assert_eq!((c.bal(&esc, &denom), c.bal(&alice(), &denom)), (0, 100));
}

#[test]
fn queries_show_tokens_roles_holders_and_minters_and_genesis_round_trips() {
    let mut c = Chain::new();
    let denom = c.issue_full(ALL, 0, "");
    c.mint(&minter(), &alice(), "7").unwrap();
    c.freeze(&alice(), "3", true).unwrap();
    let q = |c: &Chain, path: &str, req: Vec<u8>| c.e.xm.query(&c.state, path, &req);
    let t = pb::QueryTokenResponse::decode(
        q(&c, query::TOKEN, pb::QueryTokenRequest { denom: denom.clone() }.encode_to_vec()).unwrap().as_slice(),
    )
    .unwrap();
    assert_eq!((t.token.unwrap().denom, t.supply.as_str()), (denom.clone(), "1000007"));
    let err = q(&c, query::TOKEN, pb::QueryTokenRequest { denom: "nope-x".into() }.encode_to_vec()).unwrap_err();
    assert_eq!(err.code, paychain_framework::GrpcCode::NotFound);
    let by_issuer = pb::QueryTokensResponse::decode(
        q(
            &c,
            query::TOKENS_BY_ISSUER,
            pb::QueryTokensByIssuerRequest { issuer: issuer().to_string(), pagination: None }.encode_to_vec(),
        )
        .unwrap()
        .as_slice(),
    )
    .unwrap();
    assert_eq!(by_issuer.tokens.len(), 1);
    let minters = pb::QueryMintersResponse::decode(
        q(&c, query::MINTERS, pb::QueryMintersRequest { denom: denom.clone(), pagination: None }.encode_to_vec())
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert_eq!(minters.minters[0].allowance, "499993");
    assert_eq!(c.holder_query(&alice()).holder.unwrap().frozen_amount, "3");
    // Export, then a new chain from the export holds the same assets state.
    let exported = c.e.xm.export_genesis(&c.state).unwrap();
    assert_eq!(exported["tokens"][0]["denom"], json!(denom));
    let g = genesis::genesis_from_json(Some(&exported)).unwrap();
    genesis::validate_genesis(&g).unwrap();
    let bad = json!({"tokens": [{"denom": "usd-x", "issuer": issuer().to_string(), "subunit": "usd", "symbol": "USDX",
        "roles": {"treasury": issuer().to_string()}}]});
    let err = c.e.xm.validate_genesis(Some(&bad)).unwrap_err();
    assert!(err.contains("assets.tokens[0].denom"), "{err}");
}

/// Random actions by random signers; after each, every invariant holds (supply =
/// minted − burned = sum of balances), and a frozen account's spendable balance
/// never went down except by a clawback.
#[test]
fn randomized_actions_keep_every_invariant() {
    for seed in 0..4u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut c = Chain::new();
        let all = [
            Feature::Minting,
            Feature::Burning,
            Feature::Freezing,
            Feature::Pausing,
            Feature::Clawback,
            Feature::TransferFee,
            Feature::BalanceCap,
        ];
        let denom = c.issue_full(&all, 30, "600000");
        c.configure_minter(&minter(), "5000000").unwrap();
        let people = [issuer(), alice(), bob(), carol(), minter()];
        let mut succeeded = [0u32; 9];
        for _ in 0..400 {
            let who = people[rng.gen_range(0..people.len())].clone();
            let other = people[rng.gen_range(0..people.len())].clone();
            let amount = rng.gen_range(1..3000u32).to_string();
            // The units an account cannot spend: all of it when the account is frozen,
            // else min(balance, frozen amount).
            let locked = |c: &Chain| -> Vec<u128> {
                people
                    .iter()
                    .map(|p| {
                        let q = c.holder_query(p);
                        let h = q.holder.unwrap();
                        let balance: u128 = q.balance.parse().unwrap();
                        if h.account_frozen {
                            balance
                        } else {
                            balance.min(h.frozen_amount.parse().unwrap())
                        }
                    })
                    .collect()
            };
            let locked_before = locked(&c);
            let kind = rng.gen_range(0..9);
            let result = match kind {
                0 | 1 => c.send(&who, &other, &format!("{amount}{denom}")).map(|_| MsgResponse::default()),
                2 => c.mint(&minter(), &other, &amount),
                3 => c.burn(&who, &amount),
                4 => c.freeze(&other, &amount, rng.gen_bool(0.5)),
                5 => c.freeze_account(&other, rng.gen_bool(0.3)),
                6 => c.pause(rng.gen_bool(0.3)),
                7 => c.clawback(&other, &amount),
                _ => c.configure_minter(&minter(), "5000000"),
            };
            succeeded[kind] += u32::from(result.is_ok());
            for (i, now) in locked(&c).into_iter().enumerate() {
                if now < locked_before[i] {
                    assert!(
                        matches!(kind, 4 | 5 | 7),
                        "seed {seed}: {}'s frozen units went {} -> {now} by action {kind}",
                        people[i],
                        locked_before[i]
                    );
                }
            }
        }
        let t = c.token(&denom);
        let supply = c.e.bank.supply_of(&c.state, &denom).unwrap();
        assert_eq!(t.minted.parse::<u128>().unwrap() - t.burned.parse::<u128>().unwrap(), supply, "seed {seed}");
        assert!(
            succeeded.iter().all(|n| *n > 0),
            "seed {seed}: every kind of action succeeded sometimes: {succeeded:?}"
        );
    }
}

#[test]
fn ibc_transfers_need_the_ibc_feature_and_coming_home_meets_the_receivers_rules() {
    use paychain_bank::Route;
    let channel_escrow = Address::from_bytes(vec![0xEE; 20]).unwrap();
    let mut c = Chain::new();
    let denom = c.issue_full(&[Feature::Allowlist, Feature::Pausing, Feature::Ibc], 0, "");
    c.allow(&alice(), true).unwrap();
    c.send(&issuer(), &alice(), &format!("100{denom}")).unwrap();
    let out = |c: &mut Chain, from: Address, amount: &str| {
        let amt: Coins = format!("{amount}{denom}").parse().unwrap();
        let esc = channel_escrow.clone();
        c.run(move |e, ctx| {
            e.bank.send_coins_routed(ctx, &from, &esc, &amt, Route::IbcOut { channel: "channel-0", memo: "" })
        })
    };
    let home = |c: &mut Chain, to: Address, amount: &str| {
        let amt: Coins = format!("{amount}{denom}").parse().unwrap();
        let esc = channel_escrow.clone();
        c.run(move |e, ctx| {
            e.bank.send_coins_routed(ctx, &esc, &to, &amt, Route::IbcIn { channel: "channel-0", memo: Some("") })
        })
    };
    // The escrow address is no allowlisted account, and needs not be.
    out(&mut c, alice(), "40").unwrap();
    assert_eq!(c.bal(&channel_escrow, &denom), 40);
    // Coming home to an account not on the allowlist is refused (an error ack upstream).
    assert_eq!(code(&home(&mut c, bob(), "10").unwrap_err()), ("assets", 15));
    home(&mut c, alice(), "10").unwrap();
    c.pause(true).unwrap();
    assert_eq!(code(&out(&mut c, alice(), "1").unwrap_err()), ("assets", 13));
    assert_eq!(code(&home(&mut c, alice(), "1").unwrap_err()), ("assets", 13));
    c.pause(false).unwrap();
    // Without the IBC feature the token cannot leave.
    let renounce = pb::MsgRenounceFeature {
        admin: issuer().to_string(),
        denom: denom.clone(),
        feature: Feature::Ibc as i32,
        reason: "policy".into(),
        reference: String::new(),
    };
    c.exec(any(&renounce)).unwrap();
    assert_eq!(code(&out(&mut c, alice(), "1").unwrap_err()), ("assets", 25));
    // Plain denoms are untouched by any of it.
    let upay: Coins = "5upay".parse().unwrap();
    let esc = channel_escrow.clone();
    c.run(move |e, ctx| {
        e.bank.send_coins_routed(ctx, &alice(), &esc, &upay, Route::IbcOut { channel: "channel-0", memo: "" })
    })
    .unwrap();
}

#[test]
fn amino_json_is_the_legacy_codecs_form() {
    let m = pb::MsgIssue {
        issuer: issuer().to_string(),
        subunit: "usd".into(),
        symbol: "USDX".into(),
        name: "X".into(),
        precision: 6,
        features: vec![Feature::Minting as i32, Feature::Pausing as i32],
        ..Default::default()
    };
    let msg = msgs::decode_msg(&any(&m)).unwrap();
    let v = paychain_framework::Msg::amino_json(&msg).unwrap();
    assert_eq!(
        v,
        json!({"type": "paychain/assets/MsgIssue", "value": {
            "issuer": issuer().to_string(), "subunit": "usd", "symbol": "USDX", "name": "X",
            "precision": 6, "features": [1, 4]}})
    );
    let m = pb::MsgSetRole {
        admin: issuer().to_string(),
        denom: "usd-x".into(),
        role: Role::Pauser as i32,
        address: String::new(),
        reason: "rotation".into(),
        reference: String::new(),
    };
    let v = paychain_framework::Msg::amino_json(&msgs::decode_msg(&any(&m)).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({"type": "paychain/assets/MsgSetRole", "value": {
            "admin": issuer().to_string(), "denom": "usd-x", "role": 3, "reason": "rotation"}})
    );
}

/// The module accounts that must always work, by name: no issuer control reaches
/// them, and coins of a token with every restriction still move in and out of them
/// (fees to the fee collector, escrow deposits and releases, mints through assets).
#[test]
fn module_accounts_are_never_subject_to_issuer_controls() {
    let mut c = Chain::new();
    let denom =
        c.issue_full(&[Feature::Freezing, Feature::Clawback, Feature::Allowlist, Feature::BalanceCap], 0, "100");
    c.allow(&alice(), true).unwrap();
    c.send(&issuer(), &alice(), &format!("100{denom}")).unwrap();
    for name in [FEE_COLLECTOR, paychain_escrow::MODULE_ACCOUNT, MODULE_ACCOUNT] {
        let m = Address::module(name);
        assert_eq!(code(&c.freeze(&m, "1", true).unwrap_err()), ("assets", 20), "{name}");
        assert_eq!(code(&c.freeze_account(&m, true).unwrap_err()), ("assets", 20), "{name}");
        assert_eq!(code(&c.clawback(&m, "1").unwrap_err()), ("assets", 20), "{name}");
        assert_eq!(code(&c.allow(&m, true).unwrap_err()), ("assets", 20), "{name}");
    }
    // Not allowlisted and past the cap of 100, the fee collector still takes fees.
    let fee: Coins = format!("60{denom}").parse().unwrap();
    c.run(|e, ctx| e.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &fee)).unwrap();
    c.send(&issuer(), &alice(), &format!("60{denom}")).unwrap();
    c.run(|e, ctx| e.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &fee)).unwrap();
    assert_eq!(c.bal(&Address::module(FEE_COLLECTOR), &denom), 120);
}

#[test]
fn only_the_chain_authority_sets_the_issue_fee() {
    let mut c = Chain::new();
    let update = |signer: &Address, fee: &str| {
        any(&pb::MsgUpdateParams {
            authority: signer.to_string(),
            params: Some(pb::Params { issue_fee: fee.parse::<Coins>().unwrap().to_proto() }),
            reason: "fee_review".into(),
            reference: "board minutes 2026-12".into(),
        })
    };
    let err = c.exec(update(&issuer(), "100upay")).unwrap_err();
    assert_eq!((&*err.codespace, err.code), ("authority", 3));
    assert!(c.e.xm.keeper().params(&c.state).unwrap().issue_fee.is_empty(), "nothing changed");

    c.exec(update(&chain_authority(), "100upay")).unwrap();
    let ev = c.action_event();
    assert_eq!(ev.get("action"), Some("update_params"));
    assert_eq!(ev.get("actor"), Some(chain_authority().to_string().as_str()));
    assert_eq!(ev.get("detail"), Some("issue_fee=100upay"));
    assert_eq!(ev.get("reference"), Some("board minutes 2026-12"));
    let before = c.bal(&issuer(), "upay");
    c.issue_full(&[Feature::Minting], 0, "");
    assert_eq!(before - c.bal(&issuer(), "upay"), 100, "the new fee is charged");

    let no_params = any(&pb::MsgUpdateParams {
        authority: chain_authority().to_string(),
        params: None,
        reason: "x".into(),
        reference: String::new(),
    });
    assert_eq!(c.exec(no_params).unwrap_err().code, 18);
}
