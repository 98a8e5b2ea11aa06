//! The `app_state.assets` genesis section (`GenesisState` in proto3 JSON):
//!
//! ```json
//! {"params": {"issue_fee": []},
//!  "tokens": [{"denom": "usdx-pay1...", "issuer": "pay1...", "subunit": "usdx", ...}],
//!  "minters": [{"denom": "usdx-pay1...", "address": "pay1...", "allowance": "1000000"}],
//!  "holders": [{"denom": "usdx-pay1...", "address": "pay1...", "frozen_amount": "5", ...}]}
//! ```
//!
//! Balances, supply and denom metadata of issued tokens are bank's (its section
//! loads first); init checks that each token's minted − burned equals bank's supply.

use std::collections::BTreeSet;

use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::{Address, Context, SdkError, StateRead};
use prost::Message;
use serde_json::Value;

use crate::keeper::{default_params, stored_amount, AssetsKeeper, MODULE_ACCOUNT};
use crate::keys::{self, STORE_KEY};
use crate::msgs::{check_separation, feature, token_denom, validate_subunit, validate_symbol};
use crate::pb;

pub fn default_genesis() -> pb::GenesisState {
    pb::GenesisState { params: Some(default_params()), tokens: vec![], minters: vec![], holders: vec![] }
}

pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    let g = pb::GenesisState { params: Some(g.params.clone().unwrap_or_else(default_params)), ..g.clone() };
    proto_json::to_json(&AnyTypes::default(), &g)
}

/// Reads `app_state.assets` (absent or `null` = defaults). Errors name the field.
pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(default_genesis());
    };
    let g: pb::GenesisState = proto_json::from_json(&AnyTypes::default(), v.clone())
        .map_err(|e| format!("assets.{}", e.trim_start_matches('.')))?;
    Ok(pb::GenesisState { params: Some(g.params.clone().unwrap_or_else(default_params)), ..g })
}

fn addr(s: &str, path: &str) -> Result<Address, String> {
    Address::from_bech32(s).map_err(|e| format!("{path}: {}", e.log))
}

fn amount(s: &str, path: &str) -> Result<u128, String> {
    stored_amount(path, s).map_err(|e| format!("{path}: {}", e.log))
}

/// Validates a token record as issuance would have made it.
pub fn validate_token(t: &pb::Token, path: &str) -> Result<(), String> {
    let issuer = addr(&t.issuer, &format!("{path}.issuer"))?;
    validate_subunit(&t.subunit).map_err(|e| format!("{path}.subunit: {}", e.log))?;
    validate_symbol(&t.symbol).map_err(|e| format!("{path}.symbol: {}", e.log))?;
    if t.denom != token_denom(&t.subunit, &issuer) {
        return Err(format!("{path}.denom: must be {}", token_denom(&t.subunit, &issuer)));
    }
    let mut seen = BTreeSet::new();
    for (i, &f) in t.features.iter().enumerate() {
        feature(f).map_err(|e| format!("{path}.features[{i}]: {}", e.log))?;
        if !seen.insert(f) || seen.iter().next_back() != Some(&f) {
            return Err(format!("{path}.features[{i}]: features must be sorted and distinct"));
        }
    }
    let roles = t.roles.as_ref().ok_or_else(|| format!("{path}.roles: missing"))?;
    for (name, a) in [
        ("admin", &roles.admin),
        ("pending_admin", &roles.pending_admin),
        ("master_minter", &roles.master_minter),
        ("freezer", &roles.freezer),
        ("pauser", &roles.pauser),
        ("clawback", &roles.clawback),
        ("allowlister", &roles.allowlister),
    ] {
        if !a.is_empty() {
            addr(a, &format!("{path}.roles.{name}"))?;
        }
    }
    addr(&roles.treasury, &format!("{path}.roles.treasury"))?;
    check_separation(roles).map_err(|e| format!("{path}.roles: {}", e.log))?;
    let minted = amount(&t.minted, &format!("{path}.minted"))?;
    let burned = amount(&t.burned, &format!("{path}.burned"))?;
    if burned > minted {
        return Err(format!("{path}.burned: {burned} is more than minted {minted}"));
    }
    amount(&t.max_supply, &format!("{path}.max_supply"))?;
    amount(&t.balance_cap, &format!("{path}.balance_cap"))?;
    Ok(())
}

pub fn validate_genesis(g: &pb::GenesisState) -> Result<(), String> {
    if let Some(p) = &g.params {
        paychain_framework::Coins::from_proto(&p.issue_fee)
            .map_err(|e| format!("assets.params.issue_fee: {}", e.log))?;
    }
    let mut denoms = BTreeSet::new();
    for (i, t) in g.tokens.iter().enumerate() {
        let path = format!("assets.tokens[{i}]");
        validate_token(t, &path)?;
        if !denoms.insert(t.denom.as_str()) {
            return Err(format!("{path}.denom: {} is listed twice", t.denom));
        }
    }
    let mut minters = BTreeSet::new();
    for (i, m) in g.minters.iter().enumerate() {
        let path = format!("assets.minters[{i}]");
        if !denoms.contains(m.denom.as_str()) {
            return Err(format!("{path}.denom: no token {}", m.denom));
        }
        let a = addr(&m.address, &format!("{path}.address"))?;
        amount(&m.allowance, &format!("{path}.allowance"))?;
        if !minters.insert((m.denom.as_str(), a)) {
            return Err(format!("{path}: listed twice"));
        }
    }
    let mut holders = BTreeSet::new();
    for (i, h) in g.holders.iter().enumerate() {
        let path = format!("assets.holders[{i}]");
        if !denoms.contains(h.denom.as_str()) {
            return Err(format!("{path}.denom: no token {}", h.denom));
        }
        let a = addr(&h.address, &format!("{path}.address"))?;
        amount(&h.frozen_amount, &format!("{path}.frozen_amount"))?;
        if !holders.insert((h.denom.as_str(), a)) {
            return Err(format!("{path}: listed twice"));
        }
    }
    Ok(())
}

pub(crate) fn genesis_error(msg: impl std::fmt::Display) -> SdkError {
    SdkError::invalid_genesis("assets", msg)
}

pub fn init_genesis(keeper: &AssetsKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    validate_genesis(g).map_err(genesis_error)?;
    keeper.set_params(ctx, &g.params.clone().unwrap_or_else(default_params))?;
    keeper.auth().module_account(ctx, MODULE_ACCOUNT)?;
    for t in &g.tokens {
        let supply = keeper.bank().supply_of(ctx, &t.denom)?;
        let minted = stored_amount("minted", &t.minted)?;
        let burned = stored_amount("burned", &t.burned)?;
        if minted - burned != supply {
            return Err(genesis_error(format!(
                "assets.tokens: {} minted {minted} - burned {burned} but bank's supply is {supply}",
                t.denom
            )));
        }
        keeper.set_token(ctx, t)?;
        let issuer = Address::from_bech32(&t.issuer)?;
        ctx.set(STORE_KEY, keys::issuer_key(&issuer, &t.denom), keys::INDEX_MARKER.to_vec())?;
    }
    for m in &g.minters {
        let a = Address::from_bech32(&m.address)?;
        keeper.set_minter(ctx, &m.denom, &a, stored_amount("allowance", &m.allowance)?)?;
    }
    for h in &g.holders {
        let a = Address::from_bech32(&h.address)?;
        keeper.set_holder(ctx, &a, h)?;
    }
    Ok(())
}

fn all<T: Message + Default>(state: &dyn StateRead, prefix: &[u8]) -> Result<Vec<T>, SdkError> {
    let mut out = Vec::new();
    for entry in state.prefix(STORE_KEY, prefix, false)? {
        let (_, v) = entry?;
        out.push(T::decode(v.as_slice()).map_err(|e| crate::keeper::corrupt("record", e))?);
    }
    Ok(out)
}

pub fn export_genesis(keeper: &AssetsKeeper, state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    Ok(pb::GenesisState {
        params: Some(keeper.params(state)?),
        tokens: all(state, keys::TOKEN_PREFIX)?,
        minters: all(state, keys::MINTER_PREFIX)?,
        holders: all(state, keys::HOLDER_PREFIX)?,
    })
}
