//! The authority over the in-memory state: genesis, the two-step transfer, the
//! check other modules make, and bad input changing nothing.

use cosmos_sdk_proto::Any;
use paychain_framework::{
    Address, BlockInfo, CacheState, Context, ExecMode, GasMeter, Module, MsgResponse, SdkError, TypeUrl,
};
use prost::Message;
use serde_json::json;

use super::*;

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

struct Chain {
    module: AuthorityModule,
    keeper: Arc<AuthorityKeeper>,
    state: CacheState<'static>,
}

fn any<T: Message + TypeUrl>(m: &T) -> Any {
    Any { type_url: T::TYPE_URL.into(), value: m.encode_to_vec() }
}

impl Chain {
    fn new(genesis: serde_json::Value) -> Self {
        let keeper = Arc::new(AuthorityKeeper::new());
        let mut c = Chain { module: AuthorityModule::new(keeper.clone()), keeper, state: CacheState::in_memory() };
        let block = BlockInfo::default();
        let gas = GasMeter::infinite();
        let mut ctx = Context::new(&block, ExecMode::Genesis, &mut c.state, &gas);
        c.module.init_genesis(&mut ctx, Some(&genesis)).unwrap();
        c
    }

    /// Runs a message as the app does: its writes land only if it succeeds.
    fn exec(&mut self, any: Any) -> Result<MsgResponse, SdkError> {
        paychain_framework::testing::deliver(&mut self.state, &self.module, &BlockInfo::default(), &any).map(|(r, _)| r)
    }

    fn shown(&self) -> pb::QueryAuthorityResponse {
        let bytes = self.module.query(&self.state, query::AUTHORITY, &[]).unwrap();
        pb::QueryAuthorityResponse::decode(bytes.as_slice()).unwrap()
    }
}

fn propose(signer: &Address, to: Option<&Address>) -> Any {
    any(&pb::MsgProposeAuthority {
        authority: signer.to_string(),
        new_authority: to.map(Address::to_string).unwrap_or_default(),
        reason: "succession".into(),
        reference: "board minutes 12".into(),
    })
}

fn accept(signer: &Address) -> Any {
    any(&pb::MsgAcceptAuthority { new_authority: signer.to_string() })
}

#[test]
fn the_authority_changes_hands_only_when_the_successor_accepts() {
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let mut chain = Chain::new(json!({"authority": a.to_string()}));
    assert!(chain.keeper.require(&chain.state, &a).is_ok());
    assert_eq!(chain.keeper.require(&chain.state, &b).unwrap_err().code, 3);

    // Only the authority proposes; nobody accepts what was not proposed.
    assert_eq!(chain.exec(propose(&b, Some(&c))).unwrap_err().code, 3);
    assert_eq!(chain.exec(accept(&b)).unwrap_err().code, 4);
    assert_eq!(chain.exec(propose(&a, Some(&a))).unwrap_err().code, 6);

    chain.exec(propose(&a, Some(&b))).unwrap();
    assert_eq!(chain.shown().pending_authority, b.to_string());
    // Proposing is not handing over: a still decides, b does not yet.
    assert!(chain.keeper.require(&chain.state, &a).is_ok());
    assert!(chain.keeper.require(&chain.state, &b).is_err());
    // Someone else cannot accept in b's place.
    assert_eq!(chain.exec(accept(&c)).unwrap_err().code, 5);

    chain.exec(accept(&b)).unwrap();
    assert_eq!(
        chain.shown(),
        pb::QueryAuthorityResponse { authority: b.to_string(), pending_authority: String::new() }
    );
    assert!(chain.keeper.require(&chain.state, &b).is_ok());
    assert!(chain.keeper.require(&chain.state, &a).is_err());
    assert_eq!(chain.exec(propose(&a, Some(&c))).unwrap_err().code, 3, "the old authority has no power left");
}

#[test]
fn a_proposal_can_be_cancelled() {
    let (a, b) = (addr(1), addr(2));
    let mut chain = Chain::new(json!({"authority": a.to_string()}));
    assert_eq!(chain.exec(propose(&a, None)).unwrap_err().code, 4, "nothing to cancel");
    chain.exec(propose(&a, Some(&b))).unwrap();
    chain.exec(propose(&a, None)).unwrap();
    assert_eq!(chain.shown().pending_authority, "");
    assert_eq!(chain.exec(accept(&b)).unwrap_err().code, 4);
}

#[test]
fn a_chain_without_an_authority_refuses_every_governed_change() {
    let mut chain = Chain::new(json!({}));
    assert_eq!(chain.shown().authority, "");
    assert_eq!(chain.keeper.require(&chain.state, &addr(1)).unwrap_err().code, 2);
    assert_eq!(chain.exec(propose(&addr(1), Some(&addr(2)))).unwrap_err().code, 2);
}

#[test]
fn genesis_is_checked_and_exported() {
    let m = AuthorityModule::new(Arc::new(AuthorityKeeper::new()));
    assert!(m.validate_genesis(None).is_ok());
    let err = m.validate_genesis(Some(&json!({"authority": "pay1nope"}))).unwrap_err();
    assert!(err.contains("authority.authority"), "{err}");
    let err = m.validate_genesis(Some(&json!({"pending_authority": addr(2).to_string()}))).unwrap_err();
    assert!(err.contains("without an authority"), "{err}");
    assert!(m.validate_genesis(Some(&json!({"authority": 5}))).is_err());

    let g = json!({"authority": addr(1).to_string(), "pending_authority": addr(2).to_string()});
    let chain = Chain::new(g.clone());
    assert_eq!(chain.module.export_genesis(&chain.state).unwrap(), g);
}

#[test]
fn malformed_messages_are_refused_before_state() {
    let m = AuthorityModule::new(Arc::new(AuthorityKeeper::new()));
    let bad = any(&pb::MsgProposeAuthority {
        authority: "cosmos1xyz".into(),
        new_authority: String::new(),
        reason: "x".into(),
        reference: String::new(),
    });
    assert_eq!(m.decode_msg(&bad).unwrap_err().code, 7);
    let no_reason = any(&pb::MsgProposeAuthority {
        authority: addr(1).to_string(),
        new_authority: addr(2).to_string(),
        reason: String::new(),
        reference: String::new(),
    });
    let e = m.decode_msg(&no_reason).unwrap_err();
    assert_eq!((&*e.codespace, e.code), ("authority", 7));
    let garbage = Any { type_url: pb::MsgAcceptAuthority::TYPE_URL.into(), value: vec![0xff, 0xff] };
    assert_eq!(m.decode_msg(&garbage).unwrap_err().code, 2);
    // The amino form a multisig authority signs.
    let msg = m.decode_msg(&propose(&addr(1), Some(&addr(2)))).unwrap();
    assert_eq!(
        msg.amino_json().unwrap(),
        json!({"type": "paychain/authority/MsgProposeAuthority",
               "value": {"authority": addr(1).to_string(), "new_authority": addr(2).to_string(),
                         "reason": "succession", "reference": "board minutes 12"}})
    );
}
