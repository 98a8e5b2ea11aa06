//! The `app_state.fees` genesis section:
//! `{"base_denom": "upay", "fee_tokens": [{"denom": "usd-pay1…", "rate": "1"}]}`.
//! An absent section (a genesis older than the module) has no base denom: fees
//! then count only in their own denom, as before.

use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::{Context, SdkError, StateRead};
use serde_json::Value;

use crate::keeper::FeesKeeper;
use crate::msgs::{parse_fee_tokens, validate_fee_tokens};
use crate::pb;

pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    proto_json::genesis_section("fees", v)
}

pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    proto_json::to_json(&AnyTypes::default(), g)
}

pub fn validate_genesis(g: &pb::GenesisState) -> Result<(), String> {
    if g.base_denom.is_empty() {
        if !g.fee_tokens.is_empty() {
            return Err("fees.base_denom: fee tokens need a base denom to be priced in".into());
        }
        return Ok(());
    }
    paychain_framework::coins::validate_denom(&g.base_denom).map_err(|e| format!("fees.base_denom: {}", e.log))?;
    let tokens = parse_fee_tokens(&g.fee_tokens).map_err(|e| format!("fees.fee_tokens: {}", e.log))?;
    validate_fee_tokens(&tokens, &g.base_denom).map_err(|e| format!("fees.fee_tokens: {}", e.log))
}

pub fn init_genesis(keeper: &FeesKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    validate_genesis(g).map_err(|e| SdkError::invalid_genesis("fees", e))?;
    if g.base_denom.is_empty() {
        return Ok(());
    }
    keeper.set_base_denom(ctx, &g.base_denom)?;
    keeper.replace_fee_tokens(ctx, &parse_fee_tokens(&g.fee_tokens)?)
}

pub fn export_genesis(keeper: &FeesKeeper, state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    Ok(pb::GenesisState {
        base_denom: keeper.base_denom(state)?.unwrap_or_default(),
        fee_tokens: keeper.fee_tokens(state)?,
    })
}
