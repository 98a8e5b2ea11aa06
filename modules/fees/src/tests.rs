//! The fee-token list over the in-memory state: only the chain authority sets
//! it, bad lists change nothing, and fees are valued at the listed rates.

use cosmos_sdk_proto::Any;
use paychain_authority::{AuthorityKeeper, AuthorityModule};
use paychain_framework::{
    Address, BlockInfo, CacheState, Coins, Context, ExecMode, GasMeter, Module, MsgResponse, SdkError, TypeUrl,
};
use prost::Message;
use serde_json::json;

use super::*;

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

fn any<T: Message + TypeUrl>(m: &T) -> Any {
    Any { type_url: T::TYPE_URL.into(), value: m.encode_to_vec() }
}

struct Chain {
    module: FeesModule,
    keeper: Arc<FeesKeeper>,
    state: CacheState<'static>,
}

impl Chain {
    fn new(fees: serde_json::Value) -> Self {
        let authority = Arc::new(AuthorityKeeper::new());
        let keeper = Arc::new(FeesKeeper::new(authority.clone()));
        let mut c = Chain { module: FeesModule::new(keeper.clone()), keeper, state: CacheState::in_memory() };
        let block = BlockInfo::default();
        let gas = GasMeter::infinite();
        let mut ctx = Context::new(&block, ExecMode::Genesis, &mut c.state, &gas);
        AuthorityModule::new(authority)
            .init_genesis(&mut ctx, Some(&json!({"authority": addr(1).to_string()})))
            .unwrap();
        c.module.init_genesis(&mut ctx, Some(&fees)).unwrap();
        c
    }

    fn exec(&mut self, any: Any) -> Result<MsgResponse, SdkError> {
        paychain_framework::testing::deliver(&mut self.state, &self.module, &BlockInfo::default(), &any).map(|(r, _)| r)
    }

    fn listed(&self) -> serde_json::Value {
        self.module.export_genesis(&self.state).unwrap()
    }

    fn value(&self, fee: &str) -> u128 {
        self.keeper.value_in_base(&self.state, &fee.parse::<Coins>().unwrap()).unwrap()
    }
}

fn set(signer: &Address, tokens: &[(&str, &str)]) -> Any {
    any(&pb::MsgSetFeeTokens {
        authority: signer.to_string(),
        fee_tokens: tokens.iter().map(|(d, r)| pb::FeeToken { denom: d.to_string(), rate: r.to_string() }).collect(),
        reason: "treasury_review".into(),
        reference: "ALCO 2026-12".into(),
    })
}

#[test]
fn only_the_authority_sets_the_list_and_fees_are_valued_at_its_rates() {
    let mut chain = Chain::new(json!({"base_denom": "upay", "fee_tokens": [{"denom": "eur-x", "rate": "1.1"}]}));
    assert_eq!(chain.value("1000upay"), 1000);
    assert_eq!(chain.value("1000eur-x"), 1100);
    assert_eq!(chain.value("1000usd-x"), 0, "an unlisted token is worth nothing as a fee");

    let err = chain.exec(set(&addr(2), &[("usd-x", "0.5")])).unwrap_err();
    assert_eq!((&*err.codespace, err.code), ("authority", 3));
    assert_eq!(chain.value("1000usd-x"), 0);

    chain.exec(set(&addr(1), &[("usd-x", "0.5"), ("gbp-x", "1.25")])).unwrap();
    assert_eq!(
        chain.listed(),
        json!({"base_denom": "upay", "fee_tokens": [{"denom": "gbp-x", "rate": "1.25"}, {"denom": "usd-x", "rate": "0.5"}]})
    );
    assert_eq!(chain.value("1001usd-x"), 500, "rounded down");
    assert_eq!(chain.value("1000eur-x"), 0, "the list was replaced");
    assert_eq!(chain.value("10upay,4gbp-x,1usd-x"), 15);
    assert_eq!(chain.value(&format!("{}usd-x,5gbp-x", u128::MAX)), u128::MAX / 2 + 6);

    chain.exec(set(&addr(1), &[])).unwrap();
    assert_eq!(chain.listed(), json!({"base_denom": "upay", "fee_tokens": []}));
}

#[test]
fn bad_lists_are_refused_and_change_nothing() {
    let mut chain = Chain::new(json!({"base_denom": "upay", "fee_tokens": [{"denom": "eur-x", "rate": "1"}]}));
    let before = chain.listed();
    for (tokens, code) in [
        (vec![("usd-x", "0")], 2),
        (vec![("usd-x", "-1")], 2),
        (vec![("usd-x", "1.5e3")], 2),
        (vec![("usd-x", "1"), ("usd-x", "2")], 2),
        (vec![("upay", "1")], 2),
        (vec![("1bad", "1")], 2),
    ] {
        let err = chain.exec(set(&addr(1), &tokens)).unwrap_err();
        assert_eq!((&*err.codespace, err.code), ("fees", code), "{tokens:?}: {}", err.log);
        assert_eq!(chain.listed(), before);
    }
    let mut no_reason = pb::MsgSetFeeTokens::decode(set(&addr(1), &[]).value.as_slice()).unwrap();
    no_reason.reason = "Not A Code".into();
    let err = chain.exec(any(&no_reason)).unwrap_err();
    assert_eq!((&*err.codespace, err.code), ("fees", 4));
    let many: Vec<(String, &str)> = (0..=msgs::MAX_FEE_TOKENS).map(|i| (format!("tok{i}-x"), "1")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(d, r)| (d.as_str(), *r)).collect();
    assert_eq!(chain.exec(set(&addr(1), &many)).unwrap_err().code, 2);
}

#[test]
fn a_genesis_without_the_section_prices_nothing() {
    let chain = Chain::new(serde_json::Value::Null);
    assert_eq!(chain.value("1000upay"), 0, "no base denom: the ante compares denoms directly");
    let err = Chain::new(serde_json::Value::Null).exec(set(&addr(1), &[("usd-x", "1")])).unwrap_err();
    assert_eq!((&*err.codespace, err.code), ("fees", 3));

    let m = FeesModule::new(Arc::new(FeesKeeper::new(Arc::new(AuthorityKeeper::new()))));
    assert!(m.validate_genesis(Some(&json!({"fee_tokens": [{"denom": "usd-x", "rate": "1"}]}))).is_err());
    assert!(m
        .validate_genesis(Some(&json!({"base_denom": "upay", "fee_tokens": [{"denom": "upay", "rate": "1"}]})))
        .is_err());
    assert!(m
        .validate_genesis(Some(&json!({"base_denom": "upay", "fee_tokens": [{"denom": "a-b", "rate": "x"}]})))
        .is_err());
    assert!(m.validate_genesis(Some(&json!({"base_denom": "upay"}))).is_ok());
}

#[test]
fn the_amino_form_is_the_signed_message() {
    let m = FeesModule::new(Arc::new(FeesKeeper::new(Arc::new(AuthorityKeeper::new()))));
    // Unsorted, as a signer may write it: the amino form keeps the signer's order.
    let msg = m.decode_msg(&set(&addr(1), &[("usd-x", "1.50"), ("eur-x", "2")])).unwrap();
    assert_eq!(
        msg.amino_json().unwrap(),
        json!({"type": "paychain/fees/MsgSetFeeTokens", "value": {"authority": addr(1).to_string(),
            "fee_tokens": [{"denom": "usd-x", "rate": "1.50"}, {"denom": "eur-x", "rate": "2"}],
            "reason": "treasury_review", "reference": "ALCO 2026-12"}})
    );
}
