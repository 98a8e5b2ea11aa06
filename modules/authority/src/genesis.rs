//! The `app_state.authority` genesis section:
//! `{"authority": "pay1…", "pending_authority": ""}`. An absent section or an empty
//! `authority` is a chain without an authority (its governed settings are fixed).

use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::{Context, SdkError, StateRead};
use serde_json::Value;

use crate::keeper::{genesis_address, AuthorityKeeper};
use crate::pb;

pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    proto_json::genesis_section("authority", v)
}

pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    proto_json::to_json(&AnyTypes::default(), g)
}

pub fn validate_genesis(g: &pb::GenesisState) -> Result<(), String> {
    let authority = genesis_address(&g.authority, "authority").map_err(|e| e.log)?;
    let pending = genesis_address(&g.pending_authority, "pending_authority").map_err(|e| e.log)?;
    if authority.is_none() && pending.is_some() {
        return Err("authority.pending_authority: set without an authority".into());
    }
    if pending.is_some() && pending == authority {
        return Err("authority.pending_authority: is the authority itself".into());
    }
    Ok(())
}

pub fn init_genesis(keeper: &AuthorityKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    validate_genesis(g).map_err(|e| {
        SdkError::new(paychain_framework::error::SDK_CODESPACE, 18, format!("invalid authority genesis: {e}"))
    })?;
    if let Some(a) = genesis_address(&g.authority, "authority")? {
        keeper.set_authority(ctx, &a)?;
    }
    if let Some(p) = genesis_address(&g.pending_authority, "pending_authority")? {
        keeper.set_pending(ctx, Some(&p))?;
    }
    Ok(())
}

pub fn export_genesis(keeper: &AuthorityKeeper, state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    Ok(pb::GenesisState {
        authority: keeper.authority(state)?.map(|a| a.to_string()).unwrap_or_default(),
        pending_authority: keeper.pending(state)?.map(|a| a.to_string()).unwrap_or_default(),
    })
}
