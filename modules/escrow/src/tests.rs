use std::collections::BTreeMap;
use std::sync::Arc;

use crate::time::Timestamp;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::Any;
use paychain_auth::{AuthKeeper, AuthModule};
use paychain_bank::{BankKeeper, BankModule};
use paychain_framework::{
    Address, BlockInfo, BlockTime, CacheState, Coins, Context, Event, ExecMode, GasMeter, GrpcCode, Module,
    MsgResponse, QueryError, SdkError, StateRead, StateWrite,
};
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::*;
use crate::keys::Party;
use crate::pb::{Decision, EscrowStatus};

/// 2026-01-02T03:04:05Z: the block time tests start at.
const T0: i64 = 1_767_323_045;

struct Env {
    am: AuthModule,
    bm: BankModule,
    em: EscrowModule,
    bank: Arc<BankKeeper>,
}

/// Wired as the app wires it: the escrow module account has no permissions.
fn env() -> Env {
    let auth = Arc::new(AuthKeeper::new(vec![("fee_collector".into(), vec![]), (MODULE_ACCOUNT.into(), vec![])]));
    let bank = Arc::new(BankKeeper::new(auth.clone()));
    Env {
        am: AuthModule::new(auth.clone()),
        bm: BankModule::new(bank.clone()),
        em: EscrowModule::new(bank.clone(), auth),
        bank,
    }
}

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

fn module_addr() -> Address {
    EscrowKeeper::module_address()
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

fn pcs(s: &str) -> Vec<ProtoCoin> {
    coins(s).to_proto()
}

fn pc(amount: &str, denom: &str) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.into() }
}

fn ts(offset: i64) -> Timestamp {
    Timestamp { seconds: T0 + offset, nanos: 0 }
}

fn coin_json(c: &Coins) -> Value {
    Value::Array(c.iter().map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()})).collect())
}

fn bank_genesis(balances: &[(Address, &str)], send_enabled: Value) -> Value {
    json!({
        "params": {"send_enabled": [], "default_send_enabled": true},
        "balances": balances.iter().map(|(a, c)| json!({"address": a.to_string(), "coins": coin_json(&coins(c))})).collect::<Vec<_>>(),
        "supply": [],
        "denom_metadata": [],
        "send_enabled": send_enabled,
    })
}

/// A chain: state, block height and time, and the events of the last run.
struct Chain {
    e: Env,
    state: CacheState<'static>,
    height: u64,
    time: BlockTime,
    events: Vec<Event>,
}

impl Chain {
    fn new(balances: &[(Address, &str)]) -> Self {
        Self::with(&bank_genesis(balances, json!([])), None, None)
    }

    /// Auth defaults, then bank, then escrow genesis, as the app loads them.
    fn with(bank: &Value, auth: Option<&Value>, escrow: Option<&Value>) -> Self {
        let mut c = Chain {
            e: env(),
            state: CacheState::in_memory(),
            height: 1,
            time: BlockTime { seconds: T0, nanos: 0 },
            events: vec![],
        };
        c.genesis(bank, auth, escrow).unwrap();
        c.check();
        c
    }

    fn genesis(&mut self, bank: &Value, auth: Option<&Value>, escrow: Option<&Value>) -> Result<(), SdkError> {
        let block = BlockInfo { height: 1, time: BlockTime::default(), chain_id: "paychain-test".into() };
        let gas = GasMeter::infinite();
        let mut ctx = Context::new(&block, ExecMode::Genesis, &mut self.state, &gas);
        self.e.am.init_genesis(&mut ctx, auth)?;
        self.e.bm.init_genesis(&mut ctx, Some(bank))?;
        self.e.em.init_genesis(&mut ctx, escrow)
    }

    fn block(&self) -> BlockInfo {
        BlockInfo { height: self.height, time: self.time, chain_id: "paychain-test".into() }
    }

    /// Runs `f` on a child overlay written through only on success, as the app
    /// runs a message. A failure must not have written anything even to the child.
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
                assert!(!e.fatal, "a message failed fatally: {}", e.log);
                assert!(writes.is_empty(), "a failed message wrote state ({}): {writes:?}", e.log);
                self.events = vec![];
            }
        }
        result
    }

    /// Decodes and delivers a message like the app: decode_msg, then deliver.
    fn exec(&mut self, any: Any) -> Result<MsgResponse, SdkError> {
        let msg = self.e.em.decode_msg(&any)?;
        let signers = msg.signers();
        assert_eq!(signers.len(), 1);
        self.run(|e, ctx| e.em.deliver(ctx, msg.as_ref()))
    }

    /// Runs the end block at the current height and time, then moves to the next height.
    fn end_block(&mut self) -> Vec<Event> {
        self.run(|e, ctx| e.em.end_block(ctx)).unwrap();
        self.height += 1;
        std::mem::take(&mut self.events)
    }

    fn at(&mut self, offset: i64) {
        self.time = BlockTime { seconds: T0 + offset, nanos: 0 };
    }

    fn bal(&self, a: &Address) -> String {
        self.e.bank.all_balances(&self.state, a).unwrap().to_string()
    }

    fn escrow(&self, id: u64) -> pb::Escrow {
        self.e.em.keeper().escrow(&self.state, id).unwrap().unwrap()
    }

    fn check(&self) {
        self.e.am.check_invariants(&self.state).unwrap();
        self.e.bm.check_invariants(&self.state).unwrap();
        self.e.em.check_invariants(&self.state).unwrap();
    }

    fn create(&mut self, m: pb::MsgCreateEscrow) -> Result<u64, SdkError> {
        let r = self.exec(any(TYPE_URL_CREATE, &m))?;
        Ok(pb::MsgCreateEscrowResponse::decode(r.value.as_slice()).unwrap().id)
    }

    fn event(&self, kind: &str) -> &Event {
        self.events.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("no {kind} event in {:?}", self.events))
    }

    /// Every key and value of the three substores (a stand-in for the state root).
    fn dump(&self) -> Vec<(String, Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        for store in ["auth", "bank", STORE_KEY] {
            for kv in self.state.range(store, b"", None, false).unwrap() {
                let (k, v) = kv.unwrap();
                out.push((store.to_string(), k, v));
            }
        }
        out
    }

    fn export(&self) -> (Value, Value, Value) {
        (
            self.e.am.export_genesis(&self.state).unwrap(),
            self.e.bm.export_genesis(&self.state).unwrap(),
            self.e.em.export_genesis(&self.state).unwrap(),
        )
    }
}

fn any(type_url: &str, m: &impl Message) -> Any {
    Any { type_url: type_url.into(), value: m.encode_to_vec() }
}

fn create_msg(sender: &Address, recipient: &Address, amount: &str) -> pb::MsgCreateEscrow {
    pb::MsgCreateEscrow {
        sender: sender.to_string(),
        recipient: recipient.to_string(),
        amount: pcs(amount),
        ..Default::default()
    }
}

fn release(signer: &Address, id: u64, amount: &str, secret: &[u8]) -> Any {
    let amount = if amount.is_empty() { vec![] } else { pcs(amount) };
    any(TYPE_URL_RELEASE, &pb::MsgReleaseEscrow { signer: signer.to_string(), id, amount, secret: secret.to_vec() })
}

fn approve(arbiter: &Address, id: u64, decision: Decision) -> Any {
    any(TYPE_URL_APPROVE, &pb::MsgApproveEscrow { arbiter: arbiter.to_string(), id, decision: decision as i32 })
}

fn refund(signer: &Address, id: u64) -> Any {
    any(TYPE_URL_REFUND, &pb::MsgRefundEscrow { signer: signer.to_string(), id })
}

fn cancel(signer: &Address, id: u64) -> Any {
    any(TYPE_URL_CANCEL, &pb::MsgCancelEscrow { signer: signer.to_string(), id })
}

/// Asserts the error's (codespace, code) and returns its log.
#[track_caller]
fn fails<T: std::fmt::Debug>(r: Result<T, SdkError>, codespace: &str, code: u32) -> String {
    let err = r.unwrap_err();
    assert_eq!((err.codespace.as_ref(), err.code), (codespace, code), "{}", err.log);
    err.log
}

fn attrs(ev: &Event) -> Vec<(&str, &str)> {
    ev.attributes.iter().map(|a| (a.key.as_str(), a.value.as_str())).collect()
}

fn secret_of(n: u8) -> (Vec<u8>, Vec<u8>) {
    let secret = vec![n; 32];
    let hash = Sha256::digest(&secret).to_vec();
    (secret, hash)
}

fn decode_resp<M: Message + Default>(r: MsgResponse) -> M {
    M::decode(r.value.as_slice()).unwrap()
}

// ---------------------------------------------------------------- create

#[test]
fn create_escrows_the_amount_and_emits_events() {
    let (a, b, c, d) = (addr(1), addr(2), addr(3), addr(4));
    let mut ch = Chain::new(&[(a.clone(), "1000upay,50uatom")]);
    let (_, hash) = secret_of(7);
    let mut m = create_msg(&a, &b, "5uatom,100upay");
    m.release_after = Some(ts(10));
    m.refund_after = Some(ts(100));
    m.hash_lock = hash.clone();
    m.arbiters = vec![c.to_string(), d.to_string()];
    m.threshold = 2;
    m.reference = "INV-2026-001".into();
    let id = ch.create(m).unwrap();
    assert_eq!(id, 1);
    assert_eq!(ch.bal(&a), "45uatom,900upay");
    assert_eq!(ch.bal(&module_addr()), "5uatom,100upay");
    let kinds: Vec<&str> = ch.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["coin_spent", "coin_received", "transfer", "message", "escrow_created"]);
    assert_eq!(
        attrs(ch.event("escrow_created")),
        vec![
            ("id", "1"),
            ("sender", a.to_string().as_str()),
            ("recipient", b.to_string().as_str()),
            ("amount", "5uatom,100upay"),
            ("reference", "INV-2026-001"),
            ("release_after", "2026-01-02T03:04:15Z"),
            ("refund_after", "2026-01-02T03:05:45Z"),
            ("hash_lock", hex::encode(&hash).as_str()),
            ("arbiters", format!("{c},{d}").as_str()),
            ("threshold", "2"),
        ]
    );
    let e = ch.escrow(1);
    assert_eq!(e.status, EscrowStatus::Open as i32);
    assert_eq!(e.remaining, e.amount);
    assert_eq!(e.created_at, Some(ts(0)));
    assert_eq!(e.created_height, 1);
    assert_eq!(e.closed_at, None);
    ch.check();
    // Ids count up.
    assert_eq!(ch.create(create_msg(&a, &b, "1upay")).unwrap(), 2);
    // Without conditions the event's optional attributes are empty.
    assert_eq!(ch.event("escrow_created").get("release_after"), Some(""));
    assert_eq!(ch.event("escrow_created").get("hash_lock"), Some(""));
    assert_eq!(ch.event("escrow_created").get("arbiters"), Some(""));
    assert_eq!(ch.event("escrow_created").get("threshold"), Some("0"));
}

#[test]
fn create_stateless_rules() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "1000upay")]);
    let with = |f: &dyn Fn(&mut pb::MsgCreateEscrow)| {
        let mut m = create_msg(&a, &b, "10upay");
        f(&mut m);
        any(TYPE_URL_CREATE, &m)
    };
    let cases: Vec<(Any, &str, u32, &str)> = vec![
        (with(&|m| m.sender = "pay1nope".into()), "sdk", 7, "invalid sender address"),
        (with(&|m| m.recipient = c.to_bech32_with_prefix("cosmos")), "sdk", 7, "invalid recipient address"),
        (with(&|m| m.recipient = a.to_string()), "escrow", 4, "sender and recipient are both"),
        (with(&|m| m.amount = vec![]), "sdk", 10, "amount: coins cannot be empty"),
        (with(&|m| m.amount = vec![pc("0", "upay")]), "sdk", 10, "amount: coin 0upay amount is not positive"),
        (with(&|m| m.amount = vec![pc("1", "upay"), pc("2", "upay")]), "sdk", 10, "amount: duplicate denomination"),
        (with(&|m| m.amount = vec![pc("1", "upay"), pc("2", "uatom")]), "sdk", 10, "amount: denomination not sorted"),
        (with(&|m| m.amount = vec![pc("1", "u!")]), "sdk", 10, "amount: invalid denom"),
        (with(&|m| m.amount = vec![pc("-1", "upay")]), "sdk", 10, "amount: invalid amount"),
        (with(&|m| m.hash_lock = vec![1; 31]), "escrow", 5, "hash_lock must be empty or the 32-byte"),
        (with(&|m| m.arbiters = vec!["pay1x".into()]), "sdk", 7, "invalid arbiters[0] address"),
        (
            with(&|m| {
                m.arbiters = vec![c.to_string(), c.to_string()];
                m.threshold = 1
            }),
            "escrow",
            6,
            "arbiters[1]",
        ),
        (
            with(&|m| {
                m.arbiters = vec![c.to_string(), a.to_string()];
                m.threshold = 1
            }),
            "escrow",
            6,
            "is the sender",
        ),
        (
            with(&|m| {
                m.arbiters = vec![b.to_string()];
                m.threshold = 1
            }),
            "escrow",
            6,
            "is the recipient",
        ),
        (with(&|m| m.arbiters = vec![c.to_string()]), "escrow", 8, "threshold must be between 1 and the number"),
        (
            with(&|m| {
                m.arbiters = vec![c.to_string()];
                m.threshold = 2
            }),
            "escrow",
            8,
            "got 2",
        ),
        (with(&|m| m.threshold = 1), "escrow", 8, "threshold must be 0 without arbiters"),
        (with(&|m| m.reference = "INV\n1".into()), "escrow", 9, "control character '\\n' at byte 3"),
        (with(&|m| m.reference = "x\u{7f}".into()), "escrow", 9, "control character"),
        (
            with(&|m| m.release_after = Some(Timestamp { seconds: T0, nanos: 1_000_000_000 })),
            "escrow",
            11,
            "release_after: nanos 1000000000 out of range",
        ),
        (
            with(&|m| m.refund_after = Some(Timestamp { seconds: -5, nanos: 0 })),
            "escrow",
            11,
            "refund_after: seconds -5 out of range",
        ),
        (
            with(&|m| {
                m.release_after = Some(ts(100));
                m.refund_after = Some(ts(100))
            }),
            "escrow",
            12,
            "refund_after 2026-01-02T03:05:45Z must be after release_after 2026-01-02T03:05:45Z",
        ),
        (Any { type_url: TYPE_URL_CREATE.into(), value: vec![0xff, 0xff] }, "sdk", 2, "failed to decode"),
        (
            Any { type_url: "/paychain.escrow.v1.MsgNope".into(), value: vec![] },
            "sdk",
            6,
            "unrecognized escrow message",
        ),
    ];
    let before = ch.dump();
    for (msg, codespace, code, expect) in cases {
        let log = fails(ch.exec(msg), codespace, code);
        assert!(log.contains(expect), "expected {expect:?} in {log:?}");
    }
    assert_eq!(ch.dump(), before);
    // Refund deadline strictly after the release time is fine, and so are the other limits.
    ch.create({
        let mut m = create_msg(&a, &b, "10upay");
        m.release_after = Some(ts(100));
        m.refund_after = Some(Timestamp { seconds: T0 + 100, nanos: 1 });
        m
    })
    .unwrap();
}

#[test]
fn create_stateful_rules() {
    let (a, b) = (addr(1), addr(2));
    let arbiters: Vec<String> = (10..20).map(|n| addr(n).to_string()).collect();
    let escrow_genesis = json!({"params": {"max_arbiters": 3, "max_reference_length": 8, "max_coins": 2, "max_expired_refunds_per_block": 5}});
    let mut ch = Chain::with(
        &bank_genesis(&[(a.clone(), "100uatom,100ubbb,100upay,100uoff")], json!([{"denom": "uoff", "enabled": false}])),
        None,
        Some(&escrow_genesis),
    );
    let before = ch.dump();
    let m = create_msg(&a, &b, "1uatom,1ubbb,1upay");
    assert!(fails(ch.create(m), "escrow", 13).starts_with("amount has 3 denominations, at most 2 are allowed"));
    let mut m = create_msg(&a, &b, "1upay");
    m.arbiters = arbiters[..4].to_vec();
    m.threshold = 2;
    assert!(fails(ch.create(m), "escrow", 7).starts_with("4 arbiters named, at most 3 are allowed"));
    let mut m = create_msg(&a, &b, "1upay");
    m.reference = "123456789".into();
    assert!(fails(ch.create(m), "escrow", 10).starts_with("reference is 9 bytes, at most 8 are allowed"));
    let mut m = create_msg(&a, &b, "1upay");
    m.reference = "€€€".into(); // 9 bytes, 3 characters: the limit is in bytes
    fails(ch.create(m), "escrow", 10);
    let mut m = create_msg(&a, &b, "1upay");
    m.refund_after = Some(ts(0));
    assert_eq!(
        fails(ch.create(m), "escrow", 12),
        "refund_after 2026-01-02T03:04:05Z must be after the block time 2026-01-02T03:04:05Z: invalid refund deadline"
    );
    assert_eq!(
        fails(ch.create(create_msg(&a, &b, "1uatom,1uoff")), "bank", 5),
        "uoff transfers are currently disabled: send transactions are disabled"
    );
    assert_eq!(
        fails(ch.create(create_msg(&a, &b, "101upay")), "sdk", 5),
        "spendable balance 100upay is smaller than 101upay: insufficient funds"
    );
    assert!(fails(ch.create(create_msg(&a, &module_addr(), "1upay")), "sdk", 4).contains("is a module account"));
    assert!(fails(ch.create(create_msg(&b, &a, "1upay")), "sdk", 5).contains("0upay is smaller"));
    assert_eq!(ch.dump(), before, "no failed create changed state");
    // At the limits it works.
    let mut m = create_msg(&a, &b, "1uatom,1upay");
    m.arbiters = arbiters[..3].to_vec();
    m.threshold = 3;
    m.reference = "12345678".into();
    m.refund_after = Some(Timestamp { seconds: T0, nanos: 1 });
    ch.create(m).unwrap();
    ch.check();
}

// ---------------------------------------------------------------- release

#[test]
fn no_release_before_release_after() {
    let (a, b) = (addr(1), addr(2));
    let mut ch = Chain::new(&[(a.clone(), "100upay")]);
    let mut m = create_msg(&a, &b, "100upay");
    m.release_after = Some(ts(60));
    let id = ch.create(m).unwrap();
    ch.at(59);
    assert_eq!(
        fails(ch.exec(release(&a, id, "", &[])), "escrow", 14),
        "escrow 1 is locked until 2026-01-02T03:05:05Z (block time 2026-01-02T03:05:04Z): escrow is time-locked"
    );
    ch.time.nanos = 999_999_999;
    fails(ch.exec(release(&a, id, "", &[])), "escrow", 14);
    ch.at(60);
    let r: pb::MsgReleaseEscrowResponse = decode_resp(ch.exec(release(&a, id, "", &[])).unwrap());
    assert_eq!((r.released, r.remaining), (pcs("100upay"), vec![]));
    assert_eq!(ch.bal(&b), "100upay");
    let e = ch.escrow(id);
    assert_eq!(e.status, EscrowStatus::Released as i32);
    assert_eq!(e.closed_at, Some(ts(60)));
    assert!(e.remaining.is_empty());
    assert_eq!(
        attrs(ch.event("escrow_released")),
        vec![
            ("id", "1"),
            ("sender", a.to_string().as_str()),
            ("recipient", b.to_string().as_str()),
            ("amount", "100upay"),
            ("remaining", ""),
            ("reference", ""),
            ("secret", ""),
            ("released_by", "sender"),
        ]
    );
    ch.check();
}

#[test]
fn hash_lock_release_rules_and_event_carries_the_secret() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "100upay")]);
    let (secret, hash) = secret_of(42);
    let mut m = create_msg(&a, &b, "60upay");
    m.hash_lock = hash.clone();
    m.reference = "swap-1".into();
    let id = ch.create(m).unwrap();
    let plain = ch.create(create_msg(&a, &b, "40upay")).unwrap();
    let before = ch.dump();

    let log = fails(ch.exec(release(&c, id, "", &[9; 32])), "escrow", 18);
    assert!(log.starts_with("sha256 of the secret is ") && log.contains(&hex::encode(&hash)), "{log}");
    assert!(fails(ch.exec(release(&c, id, "", &[9; 31])), "escrow", 17).contains("got 31 bytes"));
    assert!(fails(ch.exec(release(&c, plain, "", &secret)), "escrow", 17).starts_with("escrow 2 has no hash lock"));
    // Without the secret, a third party is not authorized.
    let log = fails(ch.exec(release(&c, id, "", &[])), "escrow", 23);
    assert!(log.contains("only its sender, or anyone presenting the secret of its hash lock can"), "{log}");
    assert_eq!(ch.dump(), before);

    // Anyone with the secret releases; the event shows it for the other chain of a swap.
    ch.exec(release(&c, id, "", &secret)).unwrap();
    let ev = ch.event("escrow_released");
    assert_eq!(ev.get("secret"), Some(hex::encode(&secret).as_str()));
    assert_eq!(ev.get("released_by"), Some("secret"));
    assert_eq!(ev.get("reference"), Some("swap-1"));
    assert_eq!(ch.bal(&b), "60upay");
    // The sender can still release a hash-locked escrow without the secret? Not this one: it is closed.
    assert_eq!(ch.escrow(id).status, EscrowStatus::Released as i32);
    ch.check();
}

#[test]
fn partial_release_then_refund_of_the_rest() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "100upay,10uatom")]);
    let mut m = create_msg(&a, &b, "10uatom,100upay");
    m.refund_after = Some(ts(100));
    let id = ch.create(m).unwrap();
    let r: pb::MsgReleaseEscrowResponse = decode_resp(ch.exec(release(&a, id, "30upay", &[])).unwrap());
    assert_eq!((r.released, r.remaining), (pcs("30upay"), pcs("10uatom,70upay")));
    assert_eq!(ch.event("escrow_released").get("remaining"), Some("10uatom,70upay"));
    let before = ch.dump();
    assert_eq!(
        fails(ch.exec(release(&a, id, "71upay", &[])), "escrow", 22),
        "cannot release 71upay from escrow 1: it holds 70upay: amount exceeds what the escrow holds"
    );
    assert!(fails(ch.exec(release(&a, id, "1uusd", &[])), "escrow", 22).contains("it holds 0uusd"));
    let zero = pb::MsgReleaseEscrow { signer: a.to_string(), id, amount: vec![pc("0", "upay")], secret: vec![] };
    fails(ch.exec(any(TYPE_URL_RELEASE, &zero)), "sdk", 10);
    // Third parties cannot release.
    fails(ch.exec(release(&c, id, "1upay", &[])), "escrow", 23);
    fails(ch.exec(release(&b, id, "1upay", &[])), "escrow", 23);
    assert_eq!(ch.dump(), before);
    ch.exec(release(&a, id, "5uatom", &[])).unwrap();
    assert_eq!(ch.escrow(id).remaining, pcs("5uatom,70upay"));
    ch.check();

    // The deadline: refund of what remains, and no release any more.
    ch.at(100);
    assert!(fails(ch.exec(release(&a, id, "1upay", &[])), "escrow", 24).contains("it can only be refunded"));
    let r: pb::MsgRefundEscrowResponse = decode_resp(ch.exec(refund(&c, id)).unwrap());
    assert_eq!(r.refunded, pcs("5uatom,70upay"));
    assert_eq!(
        attrs(ch.event("escrow_refunded"))[3..],
        [("amount", "5uatom,70upay"), ("reference", ""), ("reason", "deadline")]
    );
    assert_eq!(ch.bal(&a), "5uatom,70upay");
    assert_eq!(ch.bal(&b), "5uatom,30upay");
    assert_eq!(ch.bal(&module_addr()), "");
    let e = ch.escrow(id);
    assert_eq!((e.status, e.remaining.len(), e.amount), (EscrowStatus::Refunded as i32, 0, pcs("10uatom,100upay")));
    ch.check();
    // Closed escrows leave the expiry index: the end block has nothing to do.
    assert!(ch.end_block().is_empty());
}

// ---------------------------------------------------------------- refund

#[test]
fn no_refund_before_refund_after() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "100upay")]);
    let mut m = create_msg(&a, &b, "50upay");
    m.refund_after = Some(Timestamp { seconds: T0 + 30, nanos: 500_000_000 });
    let id = ch.create(m).unwrap();
    let none = ch.create(create_msg(&a, &b, "50upay")).unwrap();
    ch.at(30);
    assert_eq!(
        fails(ch.exec(refund(&c, id)), "escrow", 15),
        "escrow 1 can be refunded from 2026-01-02T03:04:35.500Z (block time 2026-01-02T03:04:35Z): refund deadline not reached"
    );
    assert!(fails(ch.exec(refund(&a, none)), "escrow", 16).starts_with("escrow 2 has no refund deadline"));
    ch.time.nanos = 500_000_000;
    ch.exec(refund(&c, id)).unwrap();
    assert_eq!(ch.bal(&a), "50upay");
    assert_eq!(ch.escrow(id).closed_at, Some(Timestamp { seconds: T0 + 30, nanos: 500_000_000 }));
    ch.check();
}

// ---------------------------------------------------------------- arbiters

fn arbitrated(ch: &mut Chain, release_after: Option<Timestamp>, threshold: u32) -> u64 {
    let mut m = create_msg(&addr(1), &addr(2), "90upay");
    m.arbiters = vec![addr(10).to_string(), addr(11).to_string(), addr(12).to_string()];
    m.threshold = threshold;
    m.release_after = release_after;
    m.refund_after = Some(ts(1000));
    m.reference = "deal".into();
    ch.create(m).unwrap()
}

#[test]
fn two_of_three_arbiters_release() {
    let (a, b) = (addr(1), addr(2));
    let (x, y, z) = (addr(10), addr(11), addr(12));
    let mut ch = Chain::new(&[(a.clone(), "100upay")]);
    let id = arbitrated(&mut ch, None, 2);
    let before = ch.dump();
    assert_eq!(
        fails(ch.exec(approve(&b, id, Decision::Release)), "escrow", 19),
        format!("{b} is not an arbiter of escrow 1: signer is not an arbiter of the escrow")
    );
    fails(ch.exec(approve(&a, id, Decision::Refund)), "escrow", 19);
    let bad = pb::MsgApproveEscrow { arbiter: x.to_string(), id, decision: 0 };
    assert!(fails(ch.exec(any(TYPE_URL_APPROVE, &bad)), "escrow", 21).contains("got 0"));
    let bad = pb::MsgApproveEscrow { arbiter: x.to_string(), id, decision: 3 };
    fails(ch.exec(any(TYPE_URL_APPROVE, &bad)), "escrow", 21);
    fails(ch.exec(approve(&x, 99, Decision::Release)), "escrow", 2);
    assert_eq!(ch.dump(), before);

    let r: pb::MsgApproveEscrowResponse = decode_resp(ch.exec(approve(&x, id, Decision::Release)).unwrap());
    assert_eq!((r.approvals, r.executed), (1, false));
    assert_eq!(
        attrs(ch.event("escrow_approved")),
        vec![
            ("id", "1"),
            ("arbiter", x.to_string().as_str()),
            ("decision", "release"),
            ("approvals", "1"),
            ("threshold", "2"),
            ("reference", "deal")
        ]
    );
    // One vote per arbiter, whatever the decision.
    let before = ch.dump();
    assert!(fails(ch.exec(approve(&x, id, Decision::Release)), "escrow", 20).contains("already voted to release"));
    fails(ch.exec(approve(&x, id, Decision::Refund)), "escrow", 20);
    // One approval is not enough for anyone to release.
    assert!(fails(ch.exec(release(&b, id, "", &[])), "escrow", 23).contains("(1 of 2 release approvals so far)"));
    assert_eq!(ch.dump(), before);

    let r: pb::MsgApproveEscrowResponse = decode_resp(ch.exec(approve(&z, id, Decision::Release)).unwrap());
    assert_eq!((r.approvals, r.executed), (2, true));
    let kinds: Vec<&str> = ch.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["escrow_approved", "coin_spent", "coin_received", "transfer", "message", "escrow_released"]);
    assert_eq!(ch.event("escrow_released").get("released_by"), Some("arbiters"));
    assert_eq!(ch.bal(&b), "90upay");
    let e = ch.escrow(id);
    assert_eq!(e.release_approvals, vec![x.to_string(), z.to_string()]);
    assert_eq!(e.status, EscrowStatus::Released as i32);
    // Late votes hit a closed escrow.
    assert!(fails(ch.exec(approve(&y, id, Decision::Refund)), "escrow", 3).contains("was already released at"));
    ch.check();
}

#[test]
fn arbiters_refund() {
    let (a, b) = (addr(1), addr(2));
    let (x, y, z) = (addr(10), addr(11), addr(12));
    let mut ch = Chain::new(&[(a.clone(), "100upay")]);
    let id = arbitrated(&mut ch, Some(ts(50)), 2);
    ch.exec(approve(&y, id, Decision::Release)).unwrap();
    let r: pb::MsgApproveEscrowResponse = decode_resp(ch.exec(approve(&x, id, Decision::Refund)).unwrap());
    assert_eq!((r.approvals, r.executed), (1, false));
    let r: pb::MsgApproveEscrowResponse = decode_resp(ch.exec(approve(&z, id, Decision::Refund)).unwrap());
    assert_eq!((r.approvals, r.executed), (2, true));
    assert_eq!(ch.event("escrow_refunded").get("reason"), Some("arbiters"));
    assert_eq!(ch.event("escrow_approved").get("decision"), Some("refund"));
    assert_eq!(ch.bal(&a), "100upay");
    assert_eq!(ch.bal(&b), "");
    assert_eq!(ch.escrow(id).status, EscrowStatus::Refunded as i32);
    ch.check();
}

#[test]
fn arbiter_release_waits_for_release_after() {
    let (b, c) = (addr(2), addr(3));
    let (x, y) = (addr(10), addr(11));
    let mut ch = Chain::new(&[(addr(1), "100upay")]);
    let id = arbitrated(&mut ch, Some(ts(50)), 2);
    ch.exec(approve(&x, id, Decision::Release)).unwrap();
    let r: pb::MsgApproveEscrowResponse = decode_resp(ch.exec(approve(&y, id, Decision::Release)).unwrap());
    assert_eq!((r.approvals, r.executed), (2, false), "recorded only: the time lock has not passed");
    assert_eq!(ch.escrow(id).status, EscrowStatus::Open as i32);
    fails(ch.exec(release(&c, id, "", &[])), "escrow", 14);
    ch.at(50);
    // Now anyone can carry the decision out, in parts too.
    ch.exec(release(&c, id, "40upay", &[])).unwrap();
    assert_eq!(ch.event("escrow_released").get("released_by"), Some("arbiters"));
    ch.exec(release(&b, id, "", &[])).unwrap();
    assert_eq!(ch.bal(&b), "90upay");
    assert_eq!(ch.escrow(id).status, EscrowStatus::Released as i32);
    ch.check();
}

#[test]
fn approvals_after_the_deadline_are_refused() {
    let x = addr(10);
    let mut ch = Chain::new(&[(addr(1), "100upay")]);
    let id = arbitrated(&mut ch, None, 2);
    ch.at(1000);
    assert!(fails(ch.exec(approve(&x, id, Decision::Release)), "escrow", 24).contains("reached its refund deadline"));
    fails(ch.exec(approve(&x, id, Decision::Refund)), "escrow", 24);
}

// ---------------------------------------------------------------- cancel and closed escrows

#[test]
fn cancel_rules() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "1000upay")]);
    let (_, hash) = secret_of(1);
    let plain = ch.create(create_msg(&a, &b, "100upay")).unwrap();
    let locked = ch
        .create({
            let mut m = create_msg(&a, &b, "200upay");
            m.hash_lock = hash;
            m
        })
        .unwrap();
    let judged = arbitrated(&mut ch, None, 1);
    let before = ch.dump();
    assert!(
        fails(ch.exec(cancel(&a, locked)), "escrow", 23).starts_with("escrow 2 has a hash lock, so only its recipient")
    );
    assert!(
        fails(ch.exec(cancel(&a, judged)), "escrow", 23).starts_with("escrow 3 has arbiters, so only its recipient")
    );
    assert!(fails(ch.exec(cancel(&c, plain)), "escrow", 23).contains("may not cancel escrow 1"));
    assert!(fails(ch.exec(cancel(&addr(10), judged)), "escrow", 23).contains("may not cancel"));
    fails(ch.exec(cancel(&a, 77)), "escrow", 2);
    assert_eq!(ch.dump(), before);

    // The sender cancels an escrow it alone controls.
    let r: pb::MsgCancelEscrowResponse = decode_resp(ch.exec(cancel(&a, plain)).unwrap());
    assert_eq!(r.refunded, pcs("100upay"));
    assert_eq!(ch.event("escrow_refunded").get("reason"), Some("cancelled"));
    // The recipient may always cancel.
    ch.exec(cancel(&b, locked)).unwrap();
    ch.exec(cancel(&b, judged)).unwrap();
    assert_eq!(ch.bal(&a), "1000upay");
    for id in [plain, locked, judged] {
        let e = ch.escrow(id);
        assert_eq!((e.status, e.closed_at), (EscrowStatus::Cancelled as i32, Some(ts(0))));
    }
    ch.check();
}

#[test]
fn actions_on_a_closed_escrow_fail_clearly() {
    let (a, b, x) = (addr(1), addr(2), addr(10));
    let mut ch = Chain::new(&[(a.clone(), "1000upay")]);
    let released = arbitrated(&mut ch, None, 1);
    ch.exec(release(&a, released, "", &[])).unwrap();
    let refunded = arbitrated(&mut ch, None, 1);
    ch.exec(approve(&x, refunded, Decision::Refund)).unwrap();
    let cancelled = arbitrated(&mut ch, None, 1);
    ch.exec(cancel(&b, cancelled)).unwrap();
    ch.at(5);
    let before = ch.dump();
    for (id, status) in [(released, "released"), (refunded, "refunded"), (cancelled, "cancelled")] {
        let expect = format!("escrow {id} was already {status} at 2026-01-02T03:04:05Z: escrow is closed");
        assert_eq!(fails(ch.exec(release(&a, id, "", &[])), "escrow", 3), expect);
        assert_eq!(fails(ch.exec(refund(&a, id)), "escrow", 3), expect);
        assert_eq!(fails(ch.exec(approve(&x, id, Decision::Release)), "escrow", 3), expect);
        assert_eq!(fails(ch.exec(cancel(&b, id)), "escrow", 3), expect);
    }
    assert_eq!(fails(ch.exec(release(&a, 0, "", &[])), "escrow", 2), "escrow 0 does not exist: escrow not found");
    assert_eq!(ch.dump(), before);
    ch.check();
}

// ---------------------------------------------------------------- end block

#[test]
fn expired_escrows_are_refunded_at_end_block_within_the_bound() {
    let (a, b) = (addr(1), addr(2));
    let mut ch = Chain::new(&[(a.clone(), "100000upay")]);
    // 250 escrows expiring in reverse id order between +10 and +259 s, and one later.
    let mut ids = Vec::new();
    for i in 0..250i64 {
        let mut m = create_msg(&a, &b, "10upay");
        m.refund_after = Some(ts(259 - i));
        ids.push(ch.create(m).unwrap());
    }
    let late = ch
        .create({
            let mut m = create_msg(&a, &b, "7upay");
            m.refund_after = Some(ts(10_000));
            m
        })
        .unwrap();
    assert!(ch.end_block().is_empty(), "nothing is due yet");
    ch.at(300);
    let mut per_block = Vec::new();
    let mut refunded_ids = Vec::new();
    for _ in 0..4 {
        let events = ch.end_block();
        let refunds: Vec<&Event> = events.iter().filter(|e| e.kind == "escrow_refunded").collect();
        assert!(refunds.iter().all(|e| e.get("reason") == Some("expired") && e.get("amount") == Some("10upay")));
        refunded_ids.extend(refunds.iter().map(|e| e.get("id").unwrap().parse::<u64>().unwrap()));
        per_block.push(refunds.len());
        ch.check();
    }
    assert_eq!(per_block, [100, 100, 50, 0]);
    // Earliest deadline first: the last created expires first.
    let mut expect = ids.clone();
    expect.reverse();
    assert_eq!(refunded_ids, expect);
    assert_eq!(ch.bal(&a), "99993upay");
    assert_eq!(ch.escrow(late).status, EscrowStatus::Open as i32);
    assert_eq!(ch.escrow(ids[0]).status, EscrowStatus::Refunded as i32);
    assert_eq!(ch.escrow(ids[0]).closed_at, Some(ts(300)));
}

#[test]
fn end_block_refunds_only_what_is_due() {
    let (a, b) = (addr(1), addr(2));
    let mut ch = Chain::new(&[(a.clone(), "1000upay")]);
    let make = |ch: &mut Chain, deadline: Timestamp| {
        let mut m = create_msg(&a, &b, "10upay");
        m.refund_after = Some(deadline);
        ch.create(m).unwrap()
    };
    let first = make(&mut ch, Timestamp { seconds: T0 + 10, nanos: 1 });
    let second = make(&mut ch, ts(10));
    let third = make(&mut ch, ts(11));
    ch.at(10);
    let events = ch.end_block();
    assert_eq!(events.len(), 5, "one refund: bank's four events and escrow_refunded");
    assert_eq!(ch.event_ids(&events), vec![second]);
    ch.time.nanos = 1;
    let events = ch.end_block();
    assert_eq!(ch.event_ids(&events), vec![first]);
    assert_eq!(ch.escrow(third).status, EscrowStatus::Open as i32);
    ch.check();
}

impl Chain {
    fn event_ids(&self, events: &[Event]) -> Vec<u64> {
        events.iter().filter(|e| e.kind == "escrow_refunded").map(|e| e.get("id").unwrap().parse().unwrap()).collect()
    }
}

// ---------------------------------------------------------------- queries

fn q<Req: Message, Resp: Message + Default>(ch: &Chain, path: &str, req: Req) -> Result<Resp, QueryError> {
    ch.e.em.query(&ch.state, path, &req.encode_to_vec()).map(|b| Resp::decode(b.as_slice()).unwrap())
}

fn page(key: Vec<u8>, offset: u64, limit: u64, count_total: bool) -> Option<PageRequest> {
    Some(PageRequest { key, offset, limit, count_total, reverse: false })
}

#[test]
fn queries_by_id_party_and_params_with_pagination() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut ch = Chain::new(&[(a.clone(), "1000upay"), (c.clone(), "1000upay")]);
    for i in 0..5 {
        let mut m = create_msg(&a, &b, "10upay");
        if i % 2 == 0 {
            m.arbiters = vec![addr(10).to_string()];
            m.threshold = 1;
        }
        ch.create(m).unwrap();
    }
    ch.create(create_msg(&c, &a, "5upay")).unwrap();
    ch.exec(cancel(&b, 2)).unwrap();

    let r: pb::QueryEscrowResponse = q(&ch, query::ESCROW, pb::QueryEscrowRequest { id: 2 }).unwrap();
    assert_eq!(r.escrow.unwrap().status, EscrowStatus::Cancelled as i32);
    let err = q::<_, pb::QueryEscrowResponse>(&ch, query::ESCROW, pb::QueryEscrowRequest { id: 9 }).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (GrpcCode::NotFound, "escrow 9 not found"));

    let ids = |r: &pb::QueryEscrowsResponse| r.escrows.iter().map(|e| e.id).collect::<Vec<_>>();
    let by_sender = |ch: &Chain, who: &Address, p| -> pb::QueryEscrowsResponse {
        q(ch, query::ESCROWS_BY_SENDER, pb::QueryEscrowsBySenderRequest { sender: who.to_string(), pagination: p })
            .unwrap()
    };
    let r = by_sender(&ch, &a, None);
    assert_eq!(ids(&r), [1, 2, 3, 4, 5], "open and closed, in id order");
    let r = by_sender(&ch, &a, page(vec![], 0, 2, true));
    assert_eq!((ids(&r), r.pagination.as_ref().unwrap().total), (vec![1, 2], 5));
    let next = r.pagination.unwrap().next_key;
    assert_eq!(next, 3u64.to_be_bytes());
    let r = by_sender(&ch, &a, page(next, 0, 2, false));
    assert_eq!(ids(&r), [3, 4]);
    let r = by_sender(&ch, &a, page(vec![], 4, 2, false));
    assert_eq!(ids(&r), [5]);
    assert!(r.pagination.unwrap().next_key.is_empty());
    assert_eq!(ids(&by_sender(&ch, &c, None)), [6]);
    assert!(by_sender(&ch, &addr(99), None).escrows.is_empty());

    let r: pb::QueryEscrowsResponse = q(
        &ch,
        query::ESCROWS_BY_RECIPIENT,
        pb::QueryEscrowsByRecipientRequest { recipient: a.to_string(), pagination: None },
    )
    .unwrap();
    assert_eq!(ids(&r), [6]);
    let r: pb::QueryEscrowsResponse = q(
        &ch,
        query::ESCROWS_BY_ARBITER,
        pb::QueryEscrowsByArbiterRequest { arbiter: addr(10).to_string(), pagination: None },
    )
    .unwrap();
    assert_eq!(ids(&r), [1, 3, 5]);

    let err = q::<_, pb::QueryEscrowsResponse>(
        &ch,
        query::ESCROWS_BY_ARBITER,
        pb::QueryEscrowsByArbiterRequest { arbiter: "pay1bad".into(), pagination: None },
    )
    .unwrap_err();
    assert_eq!(err.code, GrpcCode::InvalidArgument);
    let err = q::<_, pb::QueryEscrowsResponse>(
        &ch,
        query::ESCROWS_BY_SENDER,
        pb::QueryEscrowsBySenderRequest { sender: String::new(), pagination: None },
    )
    .unwrap_err();
    assert_eq!(err.code, GrpcCode::InvalidArgument);
    let err = ch.e.em.query(&ch.state, query::ESCROW, &[0xff]).unwrap_err();
    assert_eq!(err.code, GrpcCode::InvalidArgument);
    let err = ch.e.em.query(&ch.state, "/paychain.escrow.v1.Query/Nope", &[]).unwrap_err();
    assert_eq!(err.code, GrpcCode::Unimplemented);

    let r: pb::QueryParamsResponse = q(&ch, query::PARAMS, pb::QueryParamsRequest {}).unwrap();
    assert_eq!(r.params, Some(default_params()));
    assert_eq!(ch.e.em.query_paths().len(), 5);
    assert!(ch.e.em.query_paths().contains(&"/paychain.escrow.v1.Query/EscrowsByRecipient"));
    // REST renders the responses from their generated JSON.
    let rest = paychain_framework::proto_json::to_json(
        &paychain_framework::AnyTypes::default(),
        &by_sender(&ch, &a, page(vec![], 0, 1, true)),
    )
    .unwrap();
    assert_eq!(rest["pagination"], json!({"next_key": "AAAAAAAAAAI=", "total": "5"}));
    assert_eq!(rest["escrows"][0]["status"], "ESCROW_STATUS_OPEN");
    assert_eq!(rest["escrows"][0]["created_at"], "2026-01-02T03:04:05Z");
}

// ---------------------------------------------------------------- failed messages change nothing

#[test]
fn failed_messages_change_no_state() {
    let (a, b, c, x) = (addr(1), addr(2), addr(3), addr(10));
    let mut ch = Chain::new(&[(a.clone(), "1000upay")]);
    let (secret, hash) = secret_of(3);
    let id = arbitrated(&mut ch, Some(ts(20)), 2);
    let locked = ch
        .create({
            let mut m = create_msg(&a, &b, "100upay");
            m.hash_lock = hash;
            m.refund_after = Some(ts(50));
            m
        })
        .unwrap();
    ch.exec(approve(&x, id, Decision::Release)).unwrap();
    let before = ch.dump();
    let failing = vec![
        release(&a, id, "", &[]),
        release(&a, locked, "", &[1; 32]),
        release(&a, locked, "1000upay", &secret),
        approve(&x, id, Decision::Refund),
        approve(&c, id, Decision::Release),
        refund(&a, locked),
        refund(&a, id),
        cancel(&a, id),
        cancel(&c, locked),
        any(TYPE_URL_CREATE, &create_msg(&a, &b, "1001upay")),
    ];
    for msg in failing {
        let url = msg.type_url.clone();
        assert!(ch.exec(msg).is_err(), "{url} should fail");
        assert_eq!(ch.dump(), before, "{url} changed state");
    }
    ch.check();
}

// ---------------------------------------------------------------- genesis

/// A state with escrows of every kind, built through messages.
fn busy_chain() -> Chain {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let (x, y) = (addr(10), addr(11));
    let mut ch = Chain::new(&[(a.clone(), "1000upay,500uatom"), (c.clone(), "300upay")]);
    let (secret, hash) = secret_of(9);
    let open = arbitrated(&mut ch, Some(ts(30)), 2);
    ch.exec(approve(&x, open, Decision::Release)).unwrap();
    ch.exec(approve(&y, open, Decision::Release)).unwrap();
    let partial = ch
        .create({
            let mut m = create_msg(&a, &b, "50uatom,100upay");
            m.refund_after = Some(Timestamp { seconds: T0 + 500, nanos: 250_000_000 });
            m.hash_lock = hash;
            m.reference = "partial é".into();
            m
        })
        .unwrap();
    ch.height = 7;
    ch.at(40);
    ch.exec(release(&c, partial, "20uatom", &secret)).unwrap();
    let done = ch.create(create_msg(&c, &a, "30upay")).unwrap();
    ch.exec(release(&c, done, "", &[])).unwrap();
    let cancelled = ch.create(create_msg(&a, &c, "1uatom")).unwrap();
    ch.exec(cancel(&c, cancelled)).unwrap();
    ch.check();
    ch
}

fn default_params_json() -> Value {
    json!({"max_arbiters": 7, "max_reference_length": 140, "max_coins": 8, "max_expired_refunds_per_block": 100})
}

#[test]
fn genesis_round_trips() {
    let ch = busy_chain();
    let (auth, bank, escrow) = ch.export();
    assert_eq!(escrow["next_id"], "5");
    assert_eq!(escrow["params"], default_params_json());
    let e1 = &escrow["escrows"][0];
    assert_eq!(e1["status"], "ESCROW_STATUS_OPEN");
    assert_eq!(e1["release_approvals"], json!([addr(10).to_string(), addr(11).to_string()]));
    assert_eq!(e1["closed_at"], Value::Null);
    let e2 = &escrow["escrows"][1];
    assert_eq!(e2["refund_after"], "2026-01-02T03:12:25.250Z");
    assert_eq!(e2["remaining"], json!([{"denom": "uatom", "amount": "30"}, {"denom": "upay", "amount": "100"}]));
    assert_eq!(e2["created_height"], "1");
    assert_eq!(escrow["escrows"][2]["status"], "ESCROW_STATUS_RELEASED");
    assert_eq!(escrow["escrows"][2]["created_height"], "7");
    assert_eq!(escrow["escrows"][3]["closed_at"], "2026-01-02T03:04:45Z");

    // Import the export into a fresh chain (through text, as a genesis file would carry it).
    let reparse = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).unwrap();
    ch.e.em.validate_genesis(Some(&escrow)).unwrap();
    let fresh = Chain::with(&reparse(&bank), Some(&reparse(&auth)), Some(&reparse(&escrow)));
    assert_eq!(fresh.export(), (auth, bank, escrow));
    assert_eq!(fresh.dump(), ch.dump(), "the imported state is the same state");

    // The imported chain carries on: the pending arbiter release executes, and expiry still works.
    let mut fresh = fresh;
    fresh.at(40);
    fresh.exec(release(&addr(3), 1, "", &[])).unwrap();
    fresh.at(500);
    assert!(fresh.end_block().is_empty());
    fresh.time.nanos = 250_000_000;
    let events = fresh.end_block();
    assert_eq!(fresh.event_ids(&events), vec![2]);
    fresh.check();

    // Defaults.
    let d = Chain::new(&[]);
    assert_eq!(
        d.e.em.export_genesis(&d.state).unwrap(),
        json!({"params": default_params_json(), "escrows": [], "next_id": "1"})
    );
}

#[test]
fn genesis_validation_names_fields() {
    let ch = busy_chain();
    let (auth, bank, escrow) = ch.export();
    let check = |mutate: &dyn Fn(&mut Value), expect: &str| {
        let mut g = escrow.clone();
        mutate(&mut g);
        let err = ch.e.em.validate_genesis(Some(&g)).unwrap_err();
        assert!(err.starts_with(expect), "expected {expect:?}, got {err:?}");
        let mut fresh = Chain { e: env(), state: CacheState::in_memory(), height: 1, time: ch.time, events: vec![] };
        let err = fresh.genesis(&bank, Some(&auth), Some(&g)).unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 18));
        assert!(err.log.contains(expect), "{}", err.log);
    };
    let a = addr(1).to_string();
    check(&|g| g["params"]["max_coins"] = json!(0), "escrow.params.max_coins: must be positive");
    check(
        &|g| g["params"]["max_expired_refunds_per_block"] = json!(10_001),
        "escrow.params.max_expired_refunds_per_block: 10001 exceeds",
    );
    check(&|g| g["params"]["max_arbiters"] = json!(-1), "escrow.params.max_arbiters: expected an integer");
    check(&|g| g["params"]["colour"] = json!(1), "escrow.params.colour: unknown field");
    check(&|g| g["escrows"][2]["arbiters"] = json!(["pay1nope"]), "escrow.escrows[2].arbiters[0]: ");
    check(&|g| g["escrows"][0]["arbiters"][2] = json!(a), "escrow.escrows[0].arbiters[2]: ");
    check(
        &|g| g["escrows"][0]["arbiters"][2] = g["escrows"][0]["arbiters"][0].clone(),
        "escrow.escrows[0].arbiters[2]: ",
    );
    check(&|g| g["escrows"][0]["threshold"] = json!(4), "escrow.escrows[0].threshold: must be between 1 and 3");
    check(&|g| g["escrows"][2]["threshold"] = json!(1), "escrow.escrows[2].threshold: must be 0 without arbiters");
    check(&|g| g["escrows"][1]["sender"] = json!(""), "escrow.escrows[1].sender: ");
    check(&|g| g["escrows"][1]["recipient"] = g["escrows"][1]["sender"].clone(), "escrow.escrows[1].recipient: ");
    check(&|g| g["escrows"][1]["recipient"] = json!(module_addr().to_string()), "escrow.escrows[1].recipient: ");
    check(&|g| g["escrows"][1]["amount"] = json!([]), "escrow.escrows[1].amount: must not be empty");
    check(&|g| g["escrows"][1]["amount"][0]["amount"] = json!("0"), "escrow.escrows[1].amount: ");
    check(&|g| g["escrows"][1]["remaining"][1]["amount"] = json!("101"), "escrow.escrows[1].remaining: ");
    check(&|g| g["escrows"][1]["remaining"] = json!([]), "escrow.escrows[1].remaining: an open escrow must hold coins");
    check(
        &|g| g["escrows"][2]["remaining"] = json!([{"denom": "upay", "amount": "1"}]),
        "escrow.escrows[2].remaining: a closed escrow",
    );
    check(&|g| g["escrows"][2]["closed_at"] = Value::Null, "escrow.escrows[2].closed_at: must be set");
    check(
        &|g| g["escrows"][0]["closed_at"] = json!("2026-01-01T00:00:00Z"),
        "escrow.escrows[0].closed_at: must be unset",
    );
    check(&|g| g["escrows"][0]["status"] = json!("ESCROW_STATUS_UNSPECIFIED"), "escrow.escrows[0].status: must be");
    check(&|g| g["escrows"][0]["status"] = json!("DONE"), "escrow.escrows[0].status: unknown variant `DONE`");
    check(&|g| g["escrows"][0]["refund_after"] = json!("2026-01-01T00:00:00Z"), "escrow.escrows[0].refund_after: ");
    check(
        &|g| g["escrows"][0]["refund_after"] = json!("not a time"),
        "escrow.escrows[0].refund_after: invalid RFC 3339",
    );
    check(&|g| g["escrows"][1]["hash_lock"] = json!("AAAA"), "escrow.escrows[1].hash_lock: must be empty or 32 bytes");
    check(&|g| g["escrows"][1]["reference"] = json!("a\u{0}b"), "escrow.escrows[1].reference: ");
    check(&|g| g["escrows"][0]["release_approvals"] = json!([a]), "escrow.escrows[0].release_approvals[0]: ");
    check(
        &|g| g["escrows"][0]["refund_approvals"] = json!([addr(10).to_string()]),
        "escrow.escrows[0].refund_approvals[0]: ",
    );
    check(
        &|g| {
            g["escrows"][0]["release_approvals"] = json!([]);
            g["escrows"][0]["refund_approvals"] = json!([addr(10).to_string(), addr(11).to_string()])
        },
        "escrow.escrows[0].refund_approvals: reached the threshold",
    );
    check(&|g| g["escrows"][0]["created_height"] = json!("-1"), "escrow.escrows[0].created_height: ");
    check(&|g| g["escrows"][3]["id"] = json!("1"), "escrow.escrows[3].id: duplicate id 1 (also escrow.escrows[0])");
    check(&|g| g["escrows"][3]["id"] = json!("0"), "escrow.escrows[3].id: must be positive");
    check(&|g| g["next_id"] = json!("4"), "escrow.escrows[3].id: 4 is not below next_id 4");
    check(&|g| g["escrows"][0]["colour"] = json!(1), "escrow.escrows[0].colour: unknown field");
    check(&|g| g["escrows"] = json!({}), "escrow.escrows: invalid type: map, expected a sequence");

    // The module account must hold exactly the open escrows' remainders: genesis never mints.
    let mut less = escrow.clone();
    less["escrows"][1]["remaining"] = json!([{"denom": "uatom", "amount": "29"}, {"denom": "upay", "amount": "100"}]);
    ch.e.em.validate_genesis(Some(&less)).unwrap();
    let mut fresh = Chain { e: env(), state: CacheState::in_memory(), height: 1, time: ch.time, events: vec![] };
    let err = fresh.genesis(&bank, Some(&auth), Some(&less)).unwrap_err();
    assert!(err.log.contains("open escrows hold \"29uatom,190upay\" but the escrow module account"), "{}", err.log);

    // Absent next_id: one more than the largest id.
    let mut g = escrow.clone();
    g.as_object_mut().unwrap().remove("next_id");
    let fresh = Chain::with(&bank, Some(&auth), Some(&g));
    assert_eq!(fresh.e.em.keeper().next_id(&fresh.state).unwrap(), 5);
}

// ---------------------------------------------------------------- invariants

#[test]
fn invariant_check_fails_on_corruption() {
    let ch = busy_chain();
    let k = ch.e.em.keeper();
    let corrupt = |f: &dyn Fn(&mut CacheState<'_>), expect: &str| {
        let mut bad = CacheState::new(&ch.state);
        f(&mut bad);
        let err = k.check_invariants(&bad).unwrap_err();
        assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    };
    let with_escrow = |id: u64, f: &dyn Fn(&mut pb::Escrow)| {
        let mut e = ch.escrow(id);
        f(&mut e);
        e.encode_to_vec()
    };
    corrupt(
        &|s| s.set(STORE_KEY, keys::escrow_key(2), with_escrow(2, &|e| e.remaining = pcs("30uatom,99upay"))),
        "holds",
    );
    corrupt(
        &|s| s.set(STORE_KEY, keys::escrow_key(3), with_escrow(3, &|e| e.remaining = pcs("1upay"))),
        "a closed escrow holds nothing",
    );
    corrupt(&|s| s.set(STORE_KEY, keys::escrow_key(9), with_escrow(3, &|e| e.id = 9)), "is not below the next id");
    corrupt(&|s| s.set(STORE_KEY, keys::escrow_key(4), with_escrow(3, &|_| {})), "stored under key");
    corrupt(&|s| s.delete(STORE_KEY, keys::party_key(Party::Arbiter, &addr(12), 1)), "missing from the arbiter index");
    corrupt(&|s| s.set(STORE_KEY, keys::party_key(Party::Sender, &addr(50), 1), vec![0]), "party index entries");
    corrupt(&|s| s.delete(STORE_KEY, keys::expiry_key(&ts(1000), 1)), "missing from the expiry index");
    corrupt(&|s| s.set(STORE_KEY, keys::expiry_key(&ts(5), 3), vec![0]), "expiry index entries");
    corrupt(&|s| s.set(STORE_KEY, keys::escrow_key(2), vec![0xff]), "undecodable escrow");
    let bank_key = [&[0x02u8, 20][..], module_addr().as_bytes(), b"upay"].concat();
    corrupt(&|s| s.set("bank", bank_key.clone(), b"191".to_vec()), "but open escrows hold");
}

// ---------------------------------------------------------------- randomized

/// What the random workload knows about an escrow it created.
struct Known {
    id: u64,
    sender: usize,
    recipient: usize,
    arbiters: Vec<usize>,
    secret: Option<Vec<u8>>,
}

fn random_workload(seed: u64, max_refunds_per_block: u32) -> BTreeMap<&'static str, (u32, u32)> {
    const USERS: usize = 6;
    const DENOMS: [&str; 3] = ["uatom", "upay", "uusd"];
    let users: Vec<Address> = (1..=USERS as u8).map(addr).collect();
    let funded: Vec<(Address, &str)> = users.iter().map(|u| (u.clone(), "5000uatom,20000upay,3000uusd")).collect();
    let escrow_genesis = json!({"params": {"max_arbiters": 3, "max_coins": 3, "max_reference_length": 16,
                                           "max_expired_refunds_per_block": max_refunds_per_block}});
    let mut ch = Chain::with(&bank_genesis(&funded, json!([])), None, Some(&escrow_genesis));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let supply = ch.e.bank.total_supply(&ch.state).unwrap();
    let mut known: Vec<Known> = Vec::new();
    // op -> (succeeded, failed)
    let mut stats: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    let mut clock = 0i64;

    for block in 0..60 {
        let txs = rng.gen_range(0..10);
        for _ in 0..txs {
            let pick = |rng: &mut ChaCha8Rng| rng.gen_range(0..USERS);
            let op = rng.gen_range(0..100);
            let (name, msg, created): (&'static str, Any, Option<Known>) = if op < 30 || known.is_empty() {
                let sender = pick(&mut rng);
                let mut recipient = pick(&mut rng);
                if recipient == sender && rng.gen_bool(0.9) {
                    recipient = (sender + 1) % USERS;
                }
                let mut denoms: Vec<&str> = DENOMS.iter().copied().filter(|_| rng.gen_bool(0.5)).collect();
                if denoms.is_empty() {
                    denoms.push("upay");
                }
                let amount: Vec<ProtoCoin> =
                    denoms.iter().map(|d| pc(&rng.gen_range(1..2500u32).to_string(), d)).collect();
                let mut m = pb::MsgCreateEscrow {
                    sender: users[sender].to_string(),
                    recipient: users[recipient].to_string(),
                    amount,
                    ..Default::default()
                };
                if rng.gen_bool(0.3) {
                    m.release_after = Some(ts(clock + rng.gen_range(-20..60)));
                }
                if rng.gen_bool(0.6) {
                    m.refund_after = Some(ts(clock + rng.gen_range(-5..120)));
                }
                let secret = rng.gen_bool(0.3).then(|| (0..32).map(|_| rng.gen()).collect::<Vec<u8>>());
                if let Some(s) = &secret {
                    m.hash_lock = Sha256::digest(s).to_vec();
                }
                let mut arbiters = Vec::new();
                if rng.gen_bool(0.4) {
                    let n = rng.gen_range(1..=4);
                    while arbiters.len() < n {
                        let a = pick(&mut rng);
                        if a != sender && a != recipient && !arbiters.contains(&a) {
                            arbiters.push(a);
                        }
                        if arbiters.len() + 2 >= USERS {
                            break;
                        }
                    }
                    m.arbiters = arbiters.iter().map(|a| users[*a].to_string()).collect();
                    m.threshold = rng.gen_range(0..=arbiters.len() as u32 + 1).max(u32::from(rng.gen_bool(0.9)));
                }
                m.reference = "r".repeat(rng.gen_range(0..20));
                let k = Known { id: 0, sender, recipient, arbiters, secret };
                ("create", any(TYPE_URL_CREATE, &m), Some(k))
            } else {
                // Mostly open escrows (actions on closed ones are exercised too).
                let open: Vec<&Known> =
                    known.iter().filter(|k| ch.escrow(k.id).status == EscrowStatus::Open as i32).collect();
                let due: Vec<&Known> = open
                    .iter()
                    .copied()
                    .filter(|k| ch.escrow(k.id).refund_after.is_some_and(|t| time::reached(ch.time, &t)))
                    .collect();
                let judged: Vec<&Known> = open.iter().copied().filter(|k| !k.arbiters.is_empty()).collect();
                let k = if (75..=87).contains(&op) && !due.is_empty() && rng.gen_bool(0.7) {
                    due[rng.gen_range(0..due.len())]
                } else if (55..=74).contains(&op) && !judged.is_empty() && rng.gen_bool(0.8) {
                    judged[rng.gen_range(0..judged.len())]
                } else if !open.is_empty() && rng.gen_bool(0.85) {
                    open[rng.gen_range(0..open.len())]
                } else {
                    &known[rng.gen_range(0..known.len())]
                };
                let signer = |rng: &mut ChaCha8Rng| -> usize {
                    match rng.gen_range(0..4) {
                        0 => k.sender,
                        1 => k.recipient,
                        2 if !k.arbiters.is_empty() => k.arbiters[rng.gen_range(0..k.arbiters.len())],
                        _ => rng.gen_range(0..USERS),
                    }
                };
                match op {
                    30..=54 => {
                        let s = signer(&mut rng);
                        let secret = match (&k.secret, rng.gen_range(0..3)) {
                            (Some(sec), 0 | 1) => sec.clone(),
                            (_, 0) => vec![7; 32],
                            _ => vec![],
                        };
                        let amount = if rng.gen_bool(0.5) {
                            String::new()
                        } else {
                            format!("{}{}", rng.gen_range(1..1500), DENOMS[rng.gen_range(0..3)])
                        };
                        ("release", release(&users[s], k.id, &amount, &secret), None)
                    }
                    55..=74 => {
                        let s = if !k.arbiters.is_empty() && rng.gen_bool(0.7) {
                            k.arbiters[rng.gen_range(0..k.arbiters.len())]
                        } else {
                            signer(&mut rng)
                        };
                        let d = if rng.gen_bool(0.5) { Decision::Release } else { Decision::Refund };
                        ("approve", approve(&users[s], k.id, d), None)
                    }
                    75..=87 => ("refund", refund(&users[signer(&mut rng)], k.id), None),
                    _ => ("cancel", cancel(&users[signer(&mut rng)], k.id), None),
                }
            };
            let before_escrow = match &msg.type_url[..] {
                TYPE_URL_CREATE => None,
                _ => {
                    let id = pb::MsgRefundEscrow::decode(msg.value.as_slice()).map(|m| m.id).unwrap_or(0);
                    ch.e.em.keeper().escrow(&ch.state, id).unwrap()
                }
            };
            let before = ch.dump();
            let result = ch.exec(msg.clone());
            let stat = stats.entry(name).or_default();
            match result {
                Ok(resp) => {
                    stat.0 += 1;
                    if let Some(mut k) = created {
                        k.id = decode_resp::<pb::MsgCreateEscrowResponse>(resp).id;
                        known.push(k);
                    } else if name == "release" {
                        let r: pb::MsgReleaseEscrowResponse = decode_resp(resp);
                        let was = Coins::from_proto(&before_escrow.unwrap().remaining).unwrap();
                        let sum = Coins::from_proto(&r.released)
                            .unwrap()
                            .checked_add(&Coins::from_proto(&r.remaining).unwrap());
                        assert_eq!(sum.unwrap(), was, "released + remaining = what was held");
                    }
                }
                Err(err) => {
                    stat.1 += 1;
                    assert!(!err.fatal, "{}", err.log);
                    assert_eq!(ch.dump(), before, "a failed {name} changed state: {}", err.log);
                }
            }
        }
        // End of block: automatic refunds, then the checks.
        let now = ch.time;
        let events = ch.end_block();
        let refunded = events.iter().filter(|e| e.kind == "escrow_refunded").count();
        assert!(refunded <= max_refunds_per_block as usize);
        if refunded < max_refunds_per_block as usize {
            // Nothing due is left open.
            for e in ch.e.em.keeper().escrows(&ch.state).unwrap() {
                if e.status == EscrowStatus::Open as i32 {
                    assert!(
                        !e.refund_after.is_some_and(|t| time::reached(now, &t)),
                        "block {block}: escrow {} overdue",
                        e.id
                    );
                }
            }
        }
        ch.check();
        assert_eq!(ch.e.bank.total_supply(&ch.state).unwrap(), supply, "block {block}: supply changed");
        let mut total = ch.e.bank.all_balances(&ch.state, &module_addr()).unwrap();
        for u in &users {
            total = total.checked_add(&ch.e.bank.all_balances(&ch.state, u).unwrap()).unwrap();
        }
        assert_eq!(total, supply, "block {block}: users + escrow module != supply");
        clock += rng.gen_range(0..30);
        ch.at(clock);
    }
    stats
}

#[test]
fn randomized_workloads_keep_the_invariants() {
    let mut totals: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (seed, bound) in [(1, 100), (2, 2), (3, 1), (0xe5c0, 5), (42, 100)] {
        for (op, (ok, failed)) in random_workload(seed, bound) {
            let t = totals.entry(op).or_default();
            t.0 += ok;
            t.1 += failed;
        }
    }
    eprintln!("operations (succeeded, failed): {totals:?}");
    for op in ["create", "release", "approve", "refund", "cancel"] {
        let (ok, failed) = totals[op];
        assert!(ok >= 10 && failed >= 10, "{op}: {ok} succeeded, {failed} failed: {totals:?}");
    }
}

// ---------------------------------------------------------------- misc

#[test]
fn error_codes_are_distinct_and_messages_have_the_escrow_codespace() {
    let mut seen = std::collections::BTreeSet::new();
    for (code, desc) in errors::CODES {
        assert!(*code >= 2 && seen.insert(*code), "code {code} ({desc})");
    }
    assert_eq!(errors::expired("x").codespace, "escrow");
    let e = env();
    assert_eq!(e.em.name(), "escrow");
    assert_eq!(e.em.store_keys(), ["escrow"]);
    assert_eq!(
        e.em.msg_type_urls(),
        [
            "/paychain.escrow.v1.MsgCreateEscrow",
            "/paychain.escrow.v1.MsgReleaseEscrow",
            "/paychain.escrow.v1.MsgApproveEscrow",
            "/paychain.escrow.v1.MsgRefundEscrow",
            "/paychain.escrow.v1.MsgCancelEscrow"
        ]
    );
    let msg = e.em.decode_msg(&approve(&addr(9), 1, Decision::Refund)).unwrap();
    assert_eq!((msg.type_url(), msg.signers()), (TYPE_URL_APPROVE, vec![addr(9)]));
    assert!(msg.amino_json().is_none(), "escrow messages are signed with SIGN_MODE_DIRECT");
}

#[test]
fn messages_are_gas_metered() {
    let (a, b) = (addr(1), addr(2));
    let ch = Chain::new(&[(a.clone(), "1000upay")]);
    let block = ch.block();
    let msg = ch.e.em.decode_msg(&any(TYPE_URL_CREATE, &create_msg(&a, &b, "10upay"))).unwrap();
    let gas = GasMeter::new(5_000);
    let mut child = CacheState::new(&ch.state);
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
    assert_eq!(ch.e.em.deliver(&mut ctx, msg.as_ref()).unwrap_err().code, 11);
    let gas = GasMeter::new(10_000_000);
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
    ch.e.em.deliver(&mut ctx, msg.as_ref()).unwrap();
    assert!(gas.consumed() > 20_000, "create reads and writes state: {}", gas.consumed());
}

#[test]
fn type_urls_come_from_the_proto_package() {
    // Generated from proto/paychain/escrow/v1 by build.rs; wallets sign these exact strings.
    assert_eq!(crate::msgs::TYPE_URL_CREATE, "/paychain.escrow.v1.MsgCreateEscrow");
    assert_eq!(crate::msgs::TYPE_URL_CANCEL_RESPONSE, "/paychain.escrow.v1.MsgCancelEscrowResponse");
    assert_eq!(<crate::pb::GenesisState as paychain_framework::TypeUrl>::TYPE_URL, "/paychain.escrow.v1.GenesisState");
}
