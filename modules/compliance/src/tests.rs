//! Credentials over the in-memory state: who may register issuers and create,
//! accept and revoke credentials; when a credential counts (acceptance, expiry
//! and revocation at block time, the issuer's registration); bad input changing
//! nothing; genesis and queries.

use cosmos_sdk_proto::Any;
use paychain_auth::{AuthModule, BURNER, MINTER};
use paychain_authority::{AuthorityKeeper, AuthorityModule};
use paychain_bank::BankModule;
use paychain_escrow::EscrowModule;
use paychain_framework::time::Timestamp;
use paychain_framework::{
    Address, BlockInfo, BlockTime, CacheState, Context, Event, ExecMode, GasMeter, Module, SdkError, StateWrite,
    TypeUrl,
};
use prost::Message;
use serde_json::json;

use super::*;

pub(crate) const T0: i64 = 1_767_323_045;

mod holds;
mod policies;
mod risk;
mod sanctions;
mod travel_rule;
mod velocity;

pub(crate) fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}
pub(crate) fn authority() -> Address {
    addr(1)
}
pub(crate) fn kyc() -> Address {
    addr(2)
}
pub(crate) fn alice() -> Address {
    addr(10)
}
pub(crate) fn bob() -> Address {
    addr(11)
}

pub(crate) fn any<T: Message + TypeUrl>(m: &T) -> Any {
    Any { type_url: T::TYPE_URL.into(), value: m.encode_to_vec() }
}

pub(crate) const FEE_COLLECTOR: &str = "fee_collector";
/// A module account that mints (as the assets and IBC transfer modules do).
pub(crate) const MINTING_MODULE: &str = "issuer_module";

pub(crate) struct Chain {
    module: ComplianceModule,
    keeper: Arc<ComplianceKeeper>,
    pub(crate) bank: Arc<paychain_bank::BankKeeper>,
    auth_module: AuthModule,
    bank_module: BankModule,
    pub(crate) escrow: EscrowModule,
    pub(crate) state: CacheState<'static>,
    pub(crate) time: i64,
    pub(crate) events: Vec<Event>,
}

/// Wired as the app wires it: auth with module accounts, bank with the compliance
/// policy, escrow; every account in `funded` holds 1,000,000upay.
pub(crate) fn chain_with(genesis: serde_json::Value, funded: &[Address]) -> Chain {
    let auth = Arc::new(paychain_auth::AuthKeeper::new(vec![
        (FEE_COLLECTOR.into(), vec![]),
        (paychain_escrow::MODULE_ACCOUNT.into(), vec![]),
        (MINTING_MODULE.into(), vec![MINTER.into(), BURNER.into()]),
        (keys::HOLDS_ACCOUNT.into(), vec![]),
    ]));
    let bank = Arc::new(paychain_bank::BankKeeper::new(auth.clone()));
    let authority_keeper = Arc::new(AuthorityKeeper::new());
    let keeper = Arc::new(ComplianceKeeper::new(authority_keeper.clone(), bank.clone()));
    let mut c = Chain {
        module: ComplianceModule::new(keeper.clone(), &bank, auth.clone()),
        keeper,
        auth_module: AuthModule::new(auth.clone()),
        bank_module: BankModule::new(bank.clone()),
        escrow: EscrowModule::new(bank.clone(), auth),
        bank,
        state: CacheState::in_memory(),
        time: T0,
        events: vec![],
    };
    let balances: Vec<serde_json::Value> = funded
        .iter()
        .map(|a| json!({"address": a.to_string(), "coins": [{"denom": "upay", "amount": "1000000"}]}))
        .collect();
    let bank_genesis = json!({"params": {"send_enabled": [], "default_send_enabled": true}, "balances": balances,
        "supply": [], "denom_metadata": [], "send_enabled": []});
    let block = BlockInfo::default();
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Genesis, &mut c.state, &gas);
    c.auth_module.init_genesis(&mut ctx, None).unwrap();
    c.bank_module.init_genesis(&mut ctx, Some(&bank_genesis)).unwrap();
    c.escrow.init_genesis(&mut ctx, None).unwrap();
    AuthorityModule::new(authority_keeper)
        .init_genesis(&mut ctx, Some(&json!({"authority": authority().to_string()})))
        .unwrap();
    c.module.init_genesis(&mut ctx, Some(&genesis)).unwrap();
    c
}

impl Chain {
    fn new(genesis: serde_json::Value) -> Self {
        chain_with(genesis, &[])
    }

    pub(crate) fn block(&self) -> BlockInfo {
        BlockInfo { height: 2, time: self.now(), chain_id: "paychain-test".into() }
    }

    /// Runs `f` as the app runs a message: on a child overlay written through only
    /// on success; a failure must leave nothing behind. Bank's invariants after each.
    pub(crate) fn run<R>(
        &mut self,
        f: impl FnOnce(&Chain, &mut Context) -> Result<R, SdkError>,
    ) -> Result<R, SdkError> {
        let block = self.block();
        let gas = GasMeter::infinite();
        let mut child = CacheState::new(&self.state);
        let (result, events) = {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut child, &gas);
            let r = f(self, &mut ctx);
            (r, ctx.take_events())
        };
        let writes = child.into_writes();
        match &result {
            Ok(_) => {
                self.state.apply(writes);
                self.events = events;
            }
            Err(e) => assert!(!e.fatal, "failed fatally: {}", e.log),
        }
        self.bank_module.check_invariants(&self.state).unwrap();
        self.escrow.check_invariants(&self.state).unwrap();
        self.module.check_invariants(&self.state).unwrap();
        result
    }

    /// The policies' verdict without the move (as IBC validates a packet first).
    pub(crate) fn check_send(
        &self,
        from: &Address,
        to: &Address,
        amt: &paychain_framework::Coins,
        route: paychain_bank::Route<'_>,
    ) -> Result<(), SdkError> {
        let (block, gas) = (self.block(), GasMeter::infinite());
        let mut view = CacheState::new(&self.state);
        let ctx = Context::new(&block, ExecMode::Finalize, &mut view, &gas);
        self.bank.check_send(&ctx, from, to, amt, route)
    }

    pub(crate) fn pay(&mut self, from: &Address, to: &Address, amount: &str) -> Result<(), SdkError> {
        let (from, to, amt): (Address, Address, paychain_framework::Coins) =
            (from.clone(), to.clone(), amount.parse().unwrap());
        self.run(move |c, ctx| c.bank.send_coins(ctx, &from, &to, &amt))
    }

    pub(crate) fn bal(&self, a: &Address) -> u128 {
        self.bank.balance(&self.state, a, "upay").unwrap()
    }

    pub(crate) fn now(&self) -> BlockTime {
        BlockTime { seconds: self.time, nanos: 0 }
    }

    pub(crate) fn exec(&mut self, any: Any) -> Result<(), SdkError> {
        let block = BlockInfo { height: 2, time: self.now(), chain_id: "paychain-test".into() };
        let before = self.module.export_genesis(&self.state).unwrap();
        match paychain_framework::testing::deliver(&mut self.state, &self.module, &block, &any) {
            Ok((_, events)) => {
                assert!(events.iter().all(|e| e.attributes.iter().all(|a| a.index)), "every attribute indexed");
                self.events = events;
                Ok(())
            }
            Err(e) => {
                assert!(!e.fatal, "{}", e.log);
                assert_eq!(self.module.export_genesis(&self.state).unwrap(), before, "a failure changes nothing");
                Err(e)
            }
        }
    }

    fn holds(&self, subject: &Address, t: &str) -> bool {
        store::holds_credential(&self.state, subject, &kyc(), t, self.now()).unwrap()
    }

    fn event(&self) -> &Event {
        self.events.iter().find(|e| e.kind == events::COMPLIANCE_ACTION).expect("a compliance_action event")
    }
}

pub(crate) fn code(r: Result<(), SdkError>) -> (String, u32) {
    let e = r.unwrap_err();
    (e.codespace.to_string(), e.code)
}

pub(crate) fn register(signer: &Address, issuer: &Address, types: &[&str]) -> Any {
    any(&pb::MsgRegisterIssuer {
        authority: signer.to_string(),
        issuer: issuer.to_string(),
        types: types.iter().map(|t| t.to_string()).collect(),
        name: "Example KYC Ltd".into(),
        uri: "https://kyc.example/policy".into(),
        reason: "onboarding".into(),
        reference: "board decision 2026-12".into(),
    })
}

pub(crate) fn create(issuer: &Address, subject: &Address, t: &str, expires: Option<i64>) -> Any {
    any(&pb::MsgCreateCredential {
        issuer: issuer.to_string(),
        subject: subject.to_string(),
        r#type: t.into(),
        expiration: expires.map(|seconds| Timestamp { seconds, nanos: 0 }),
        uri: "https://kyc.example/cases/1".into(),
        uri_hash: "AB".repeat(32),
    })
}

pub(crate) fn accept(subject: &Address, t: &str) -> Any {
    any(&pb::MsgAcceptCredential { subject: subject.to_string(), issuer: kyc().to_string(), r#type: t.into() })
}

fn revoke(signer: &Address, subject: &Address, t: &str) -> Any {
    any(&pb::MsgRevokeCredential {
        signer: signer.to_string(),
        subject: subject.to_string(),
        issuer: kyc().to_string(),
        r#type: t.into(),
        reason: "fraud".into(),
        reference: "case 9".into(),
    })
}

pub(crate) fn cs(s: &str, c: u32) -> (String, u32) {
    (s.to_string(), c)
}

#[test]
fn a_credential_counts_from_acceptance_until_expiry_or_revocation() {
    let mut c = Chain::new(json!({}));
    assert_eq!(code(c.exec(register(&alice(), &kyc(), &["kyc.tier2"]))), cs("authority", 3));
    assert_eq!(code(c.exec(create(&kyc(), &alice(), "kyc.tier2", None))), cs("compliance", 2), "not registered yet");

    c.exec(register(&authority(), &kyc(), &["kyc.tier1", "kyc.tier2"])).unwrap();
    assert_eq!(c.event().get("detail"), Some("kyc.tier1,kyc.tier2"));
    assert_eq!(c.event().get("reference"), Some("board decision 2026-12"));
    assert_eq!(code(c.exec(create(&kyc(), &alice(), "accredited", None))), cs("compliance", 3));
    assert_eq!(code(c.exec(create(&kyc(), &alice(), "kyc.tier2", Some(T0)))), cs("compliance", 6), "already expired");
    assert_eq!(code(c.exec(create(&kyc(), &kyc(), "kyc.tier2", None))), cs("compliance", 7), "not itself");

    c.exec(create(&kyc(), &alice(), "kyc.tier2", Some(T0 + 100))).unwrap();
    assert!(!c.holds(&alice(), "kyc.tier2"), "not before the subject accepts");
    assert_eq!(code(c.exec(accept(&bob(), "kyc.tier2"))), cs("compliance", 5), "bob was given nothing");
    c.exec(accept(&alice(), "kyc.tier2")).unwrap();
    assert_eq!(code(c.exec(accept(&alice(), "kyc.tier2"))), cs("compliance", 13));
    assert!(c.holds(&alice(), "kyc.tier2"));
    assert!(!c.holds(&alice(), "kyc.tier1"));

    // Expiry is block time: counts at T0+99, not at T0+100.
    c.time = T0 + 99;
    assert!(c.holds(&alice(), "kyc.tier2"));
    c.time = T0 + 100;
    assert!(!c.holds(&alice(), "kyc.tier2"));

    // Renewal keeps the acceptance.
    c.exec(create(&kyc(), &alice(), "kyc.tier2", Some(T0 + 1000))).unwrap();
    assert!(c.holds(&alice(), "kyc.tier2"));

    // Only the issuer or the authority revokes; a revoked credential stays on record.
    assert_eq!(code(c.exec(revoke(&bob(), &alice(), "kyc.tier2"))), cs("compliance", 7));
    c.exec(revoke(&kyc(), &alice(), "kyc.tier2")).unwrap();
    assert_eq!(c.event().get("action"), Some("revoke_credential"));
    assert_eq!(c.event().get("reason"), Some("fraud"));
    assert!(!c.holds(&alice(), "kyc.tier2"));
    assert_eq!(code(c.exec(revoke(&authority(), &alice(), "kyc.tier2"))), cs("compliance", 8), "once");
    assert_eq!(code(c.exec(accept(&alice(), "kyc.tier2"))), cs("compliance", 8));
    let rec = store::credential(&c.state, &alice(), &kyc(), "kyc.tier2").unwrap().unwrap();
    assert_eq!(rec.revoked_at.map(|t| t.seconds), Some(T0 + 100));

    // Re-issued after a revocation, it needs a new acceptance.
    c.exec(create(&kyc(), &alice(), "kyc.tier2", None)).unwrap();
    assert!(!c.holds(&alice(), "kyc.tier2"));
    c.exec(accept(&alice(), "kyc.tier2")).unwrap();
    assert!(c.holds(&alice(), "kyc.tier2"));

    // The chain authority may revoke too.
    c.exec(create(&kyc(), &bob(), "kyc.tier1", None)).unwrap();
    c.exec(accept(&bob(), "kyc.tier1")).unwrap();
    c.exec(revoke(&authority(), &bob(), "kyc.tier1")).unwrap();
    assert_eq!(c.event().get("actor"), Some(authority().to_string().as_str()));
}

#[test]
fn removing_an_issuer_or_a_type_stops_its_credentials_counting() {
    let mut c = Chain::new(json!({}));
    c.exec(register(&authority(), &kyc(), &["kyc.tier1", "kyc.tier2"])).unwrap();
    c.exec(create(&kyc(), &alice(), "kyc.tier2", None)).unwrap();
    c.exec(accept(&alice(), "kyc.tier2")).unwrap();
    assert!(c.holds(&alice(), "kyc.tier2"));
    c.exec(register(&authority(), &kyc(), &["kyc.tier1"])).unwrap();
    assert!(!c.holds(&alice(), "kyc.tier2"), "the type was taken away");
    c.exec(register(&authority(), &kyc(), &["kyc.tier1", "kyc.tier2"])).unwrap();
    assert!(c.holds(&alice(), "kyc.tier2"));
    let remove = |signer: &Address| {
        any(&pb::MsgRemoveIssuer {
            authority: signer.to_string(),
            issuer: kyc().to_string(),
            reason: "licence_withdrawn".into(),
            reference: String::new(),
        })
    };
    assert_eq!(code(c.exec(remove(&kyc()))), cs("authority", 3));
    c.exec(remove(&authority())).unwrap();
    assert!(!c.holds(&alice(), "kyc.tier2"));
    assert_eq!(code(c.exec(remove(&authority()))), cs("compliance", 2));
    assert!(store::credential(&c.state, &alice(), &kyc(), "kyc.tier2").unwrap().is_some(), "kept for audit");
}

#[test]
fn malformed_messages_are_refused_before_state() {
    let m = Chain::new(json!({})).module;
    let err = |any: Any| {
        let e = m.decode_msg(&any).unwrap_err();
        (e.codespace.to_string(), e.code)
    };
    assert_eq!(err(create(&kyc(), &alice(), "KYC", None)), cs("compliance", 4));
    assert_eq!(err(create(&kyc(), &alice(), &"a".repeat(65), None)), cs("compliance", 4));
    assert_eq!(err(create(&kyc(), &alice(), "", None)), cs("compliance", 4));
    let mut bad_hash = pb::MsgCreateCredential::decode(create(&kyc(), &alice(), "kyc", None).value.as_slice()).unwrap();
    bad_hash.uri_hash = "xyz".into();
    assert_eq!(err(any(&bad_hash)), cs("compliance", 9));
    let mut bad_time = pb::MsgCreateCredential { uri_hash: String::new(), ..bad_hash };
    bad_time.expiration = Some(Timestamp { seconds: 1, nanos: -5 });
    assert_eq!(err(any(&bad_time)), cs("compliance", 6));
    let mut unsorted = pb::MsgRegisterIssuer::decode(register(&authority(), &kyc(), &["b"]).value.as_slice()).unwrap();
    unsorted.types = vec!["b".into(), "a".into()];
    assert_eq!(err(any(&unsorted)), cs("compliance", 4));
    let no_reason = pb::MsgRegisterIssuer { types: vec!["a".into()], reason: String::new(), ..unsorted };
    assert_eq!(err(any(&no_reason)), cs("compliance", 10));
    let bad_subject =
        pb::MsgAcceptCredential { subject: "cosmos1abc".into(), issuer: kyc().to_string(), r#type: "a".into() };
    assert_eq!(err(any(&bad_subject)), cs("sdk", 7));
    let garbage = Any { type_url: pb::MsgRevokeCredential::TYPE_URL.into(), value: vec![0xff] };
    assert_eq!(err(garbage), cs("sdk", 2));

    // The amino form a multisig signer signs: zero values omitted, timestamps as RFC 3339.
    let msg = m.decode_msg(&create(&kyc(), &alice(), "kyc.tier2", Some(T0))).unwrap();
    let amino = msg.amino_json().unwrap();
    assert_eq!(amino["type"], "paychain/compliance/MsgCreateCredential");
    assert_eq!(amino["value"]["expiration"], "2026-01-02T03:04:05Z");
    assert_eq!(amino["value"]["type"], "kyc.tier2");
}

#[test]
fn genesis_round_trips_and_queries_page_through_credentials() {
    let mut c = Chain::new(
        json!({"issuers": [{"address": kyc().to_string(), "types": ["kyc.tier1"], "name": "K", "uri": ""}]}),
    );
    for n in 20..25u8 {
        c.exec(create(&kyc(), &addr(n), "kyc.tier1", None)).unwrap();
    }
    let exported = c.module.export_genesis(&c.state).unwrap();
    assert_eq!(exported["credentials"].as_array().unwrap().len(), 5);
    let again = Chain::new(exported.clone());
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);

    let page = |key: Vec<u8>| {
        let req = pb::QueryCredentialsByIssuerRequest {
            issuer: kyc().to_string(),
            pagination: Some(cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest {
                key,
                limit: 3,
                ..Default::default()
            }),
        };
        let b = c.module.query(&c.state, query::CREDENTIALS_BY_ISSUER, &req.encode_to_vec()).unwrap();
        pb::QueryCredentialsResponse::decode(b.as_slice()).unwrap()
    };
    let first = page(vec![]);
    assert_eq!(first.credentials.len(), 3);
    let second = page(first.pagination.unwrap().next_key);
    assert_eq!(second.credentials.len(), 2);
    let by_subject = pb::QueryCredentialsBySubjectRequest { subject: addr(21).to_string(), pagination: None };
    let b = c.module.query(&c.state, query::CREDENTIALS_BY_SUBJECT, &by_subject.encode_to_vec()).unwrap();
    let r = pb::QueryCredentialsResponse::decode(b.as_slice()).unwrap();
    assert_eq!(r.credentials.iter().map(|c| c.subject.clone()).collect::<Vec<_>>(), vec![addr(21).to_string()]);
    let missing =
        pb::QueryCredentialRequest { subject: alice().to_string(), issuer: kyc().to_string(), r#type: "x".into() };
    let e = c.module.query(&c.state, query::CREDENTIAL, &missing.encode_to_vec()).unwrap_err();
    assert_eq!(e.code, paychain_framework::GrpcCode::NotFound);

    let m = &c.module;
    let dup = json!({"issuers": [{"address": kyc().to_string(), "types": ["a"]}, {"address": kyc().to_string(), "types": ["b"]}]});
    assert!(m.validate_genesis(Some(&dup)).unwrap_err().contains("issuers[1].address"));
    let bad_type = json!({"issuers": [{"address": kyc().to_string(), "types": ["A"]}]});
    assert!(m.validate_genesis(Some(&bad_type)).unwrap_err().contains("issuers[0].types"));
}
