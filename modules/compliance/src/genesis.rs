//! The `app_state.compliance` genesis section (`GenesisState` in proto3 JSON):
//! `{"issuers": [{"address": "pay1…", "types": ["kyc.tier2"], "name": "…", "uri": ""}],
//!   "credentials": [{"subject": "pay1…", "issuer": "pay1…", "type": "kyc.tier2", …}]}`.
//! A credential whose issuer is not (or no longer) registered for its type is kept
//! (for audit, as the chain keeps it) and does not count.

use std::collections::BTreeSet;

use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::time;
use paychain_framework::{Address, Context, SdkError, StateRead};
use prost::Message;
use serde_json::Value;

use crate::keeper::ComplianceKeeper;
use crate::keys::{self, STORE_KEY};
use crate::msgs::{validate_hash, validate_type, validate_types};
use crate::pb;

pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    proto_json::genesis_section("compliance", v)
}

pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    proto_json::to_json(&AnyTypes::default(), g)
}

fn addr(s: &str, path: &str) -> Result<Address, String> {
    Address::from_bech32(s).map_err(|e| format!("{path}: {}", e.log))
}

pub fn validate_genesis(g: &pb::GenesisState) -> Result<(), String> {
    let mut issuers = BTreeSet::new();
    for (n, i) in g.issuers.iter().enumerate() {
        let path = format!("compliance.issuers[{n}]");
        let a = addr(&i.address, &format!("{path}.address"))?;
        validate_types(&i.types).map_err(|e| format!("{path}.types: {}", e.log))?;
        if !issuers.insert(a) {
            return Err(format!("{path}.address: {} is listed twice", i.address));
        }
    }
    let mut seen = BTreeSet::new();
    for (n, c) in g.credentials.iter().enumerate() {
        let path = format!("compliance.credentials[{n}]");
        let subject = addr(&c.subject, &format!("{path}.subject"))?;
        let issuer = addr(&c.issuer, &format!("{path}.issuer"))?;
        validate_type(&c.r#type).map_err(|e| format!("{path}.type: {}", e.log))?;
        validate_hash(&c.uri_hash).map_err(|e| format!("{path}.uri_hash: {}", e.log))?;
        for (name, t) in [("expiration", &c.expiration), ("created_at", &c.created_at), ("revoked_at", &c.revoked_at)] {
            if let Some(t) = t {
                time::validate(t).map_err(|e| format!("{path}.{name}: {e}"))?;
            }
        }
        if !seen.insert((subject, issuer, c.r#type.clone())) {
            return Err(format!("{path}: listed twice"));
        }
    }
    Ok(())
}

pub fn init_genesis(keeper: &ComplianceKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    validate_genesis(g).map_err(|e| SdkError::invalid_genesis("compliance", e))?;
    for i in &g.issuers {
        keeper.set_issuer(ctx, i, &Address::from_bech32(&i.address)?)?;
    }
    for c in &g.credentials {
        keeper.set_credential(ctx, c, &Address::from_bech32(&c.subject)?, &Address::from_bech32(&c.issuer)?)?;
    }
    Ok(())
}

pub fn export_genesis(state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    let mut g = pb::GenesisState::default();
    for kv in state.prefix(STORE_KEY, keys::ISSUER_PREFIX, false)? {
        let (_, v) = kv?;
        g.issuers.push(pb::CredentialIssuer::decode(v.as_slice()).map_err(|e| crate::keeper::corrupt("issuer", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::CREDENTIAL_PREFIX, false)? {
        let (_, v) = kv?;
        g.credentials.push(pb::Credential::decode(v.as_slice()).map_err(|e| crate::keeper::corrupt("credential", e))?);
    }
    Ok(g)
}
