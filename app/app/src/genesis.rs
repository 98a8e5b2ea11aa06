//! The genesis file: CometBFT's `genesis.json` whose `app_state` holds one
//! section per module (`auth`, `bank`, ...), in the Cosmos SDK's JSON shapes.
//! The schema is documented in `genesis/README.md`.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::wiring::{wire_modules, ModuleSet};

/// Default `app_state` for a new chain whose fee denom is `denom`: each module's own
/// default section ([`paychain_framework::Module::default_genesis`]).
pub fn default_app_state(denom: &str) -> Value {
    let sections = wire_modules()
        .modules
        .iter()
        .map(|m| (m.name().to_string(), m.default_genesis(denom)))
        .filter(|(_, section)| !section.is_null())
        .collect::<serde_json::Map<_, _>>();
    Value::Object(sections)
}

/// Checks every module's section of `app_state`; errors name the field
/// (`app_state.bank.balances[1].coins: ...`).
pub fn validate_app_state(modules: &ModuleSet, app_state: &Value) -> Result<(), String> {
    let Some(sections) = app_state.as_object() else {
        return Err("app_state: must be a JSON object".to_string());
    };
    for key in sections.keys() {
        if !modules.iter().any(|m| m.name() == key) {
            return Err(format!("app_state.{key}: unknown module"));
        }
    }
    for m in modules.iter() {
        m.validate_genesis(sections.get(m.name())).map_err(|e| {
            if e.starts_with(m.name()) {
                format!("app_state.{e}")
            } else {
                format!("app_state.{}: {e}", m.name())
            }
        })?;
    }
    Ok(())
}

/// Chain ids as CometBFT accepts them (non-empty, at most 50 characters).
fn validate_chain_id(id: &str) -> anyhow::Result<()> {
    if id.trim().is_empty() {
        bail!("chain_id: must not be empty");
    }
    if id.len() > 50 {
        bail!("chain_id: {id:?} is longer than 50 characters");
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        bail!("chain_id: {id:?} may only contain letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

/// Validates a genesis file: CometBFT's top-level fields and every module's
/// `app_state` section. Each error names the bad field.
pub fn validate_genesis_file(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    validate_genesis_doc(&doc)
}

pub fn validate_genesis_doc(doc: &Value) -> anyhow::Result<()> {
    let chain_id = doc.get("chain_id").and_then(Value::as_str).context("chain_id: missing or not a string")?;
    validate_chain_id(chain_id)?;
    // CometBFT reads 0 (what `cometbft init` writes) as 1.
    if let Some(h) = doc.get("initial_height") {
        let ok = match h {
            Value::String(s) => s.parse::<u64>().is_ok(),
            Value::Number(n) => n.as_u64().is_some(),
            _ => false,
        };
        if !ok {
            bail!("initial_height: must be a non-negative integer, got {h}");
        }
    }
    if let Some(validators) = doc.get("validators") {
        let list = validators.as_array().context("validators: must be a list")?;
        for (i, v) in list.iter().enumerate() {
            let power = v
                .get("power")
                .and_then(|p| p.as_str().map(str::to_string).or_else(|| p.as_u64().map(|n| n.to_string())));
            if !power.is_some_and(|p| p.parse::<u64>().is_ok_and(|p| p > 0)) {
                bail!("validators[{i}].power: must be a positive integer");
            }
            if v.get("pub_key").and_then(|k| k.get("value")).and_then(Value::as_str).is_none() {
                bail!("validators[{i}].pub_key: missing");
            }
        }
    }
    let app_state = doc.get("app_state").cloned().unwrap_or_else(|| json!({}));
    let wiring = wire_modules();
    validate_app_state(&wiring.modules, &app_state).map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module's default section, as the app wrote them before modules owned them:
    /// a new chain's genesis must not change with where the defaults live.
    #[test]
    fn default_app_state_is_each_modules_default_section() {
        let expected = json!({
            "auth": {
                "params": {
                    "max_memo_characters": "256",
                    "tx_sig_limit": "7",
                    "tx_size_cost_per_byte": "10",
                    "sig_verify_cost_ed25519": "590",
                    "sig_verify_cost_secp256k1": "1000"
                },
                "accounts": []
            },
            "bank": {
                "params": { "send_enabled": [], "default_send_enabled": true },
                "balances": [],
                "supply": [],
                "denom_metadata": [{
                    "description": "The native token of paychain (pay)",
                    "denom_units": [
                        { "denom": "upay", "exponent": 0, "aliases": [] },
                        { "denom": "pay", "exponent": 6, "aliases": [] }
                    ],
                    "base": "upay",
                    "display": "pay",
                    "name": "PAY",
                    "symbol": "PAY",
                    "uri": "",
                    "uri_hash": ""
                }],
                "send_enabled": []
            },
            "ibc": paychain_ibc::HostParams::default().to_json(),
            "transfer": paychain_ibc::TransferGenesis::default().to_json(),
            "escrow": paychain_escrow::json::genesis_json(&paychain_escrow::genesis::default_genesis()).unwrap(),
            "assets": paychain_assets::genesis::genesis_json(&paychain_assets::genesis::default_genesis()).unwrap(),
            "authority": {"authority": "", "pending_authority": ""},
            "fees": {"base_denom": "upay", "fee_tokens": []},
            "compliance": {"issuers": [], "credentials": [], "policies": [], "policy_members": [], "denom_policies": [],
                "next_policy_id": "1", "sanction_proposals": [], "sanctions": [], "next_proposal_id": "1", "holds": [], "next_hold_id": "1",
                "velocity_limits": [], "corridor_limits": [], "account_usage": [], "corridor_usage": [],
                "travel_rule_thresholds": [], "risk_rule_versions": [], "risk_rule_votes": [], "first_seen": [],
                "committee": {"members": [], "threshold": 0, "emergency_threshold": 0, "timelock_seconds": "0",
                    "emergency_lapse_seconds": "0", "voting_period_seconds": "0", "seizure_account": ""}}
        });
        assert_eq!(default_app_state("upay"), expected);
    }

    #[test]
    fn default_app_state_is_valid_and_errors_name_fields() {
        let wiring = wire_modules();
        validate_app_state(&wiring.modules, &default_app_state("upay")).unwrap();
        let doc = json!({"chain_id": "paychain-1", "app_state": default_app_state("upay")});
        validate_genesis_doc(&doc).unwrap();

        let bad_chain = json!({"chain_id": "", "app_state": {}});
        assert!(validate_genesis_doc(&bad_chain).unwrap_err().to_string().starts_with("chain_id"));
        let unknown = json!({"chain_id": "c-1", "app_state": {"nope": {}}});
        assert_eq!(validate_genesis_doc(&unknown).unwrap_err().to_string(), "app_state.nope: unknown module");
        let mut state = default_app_state("upay");
        state["bank"]["balances"] = json!([{"address": "pay1xyz", "coins": [{"denom": "upay", "amount": "10"}]}]);
        let err = validate_genesis_doc(&json!({"chain_id": "c-1", "app_state": state})).unwrap_err().to_string();
        assert!(err.starts_with("app_state.bank.balances[0]"), "{err}");
    }
}
