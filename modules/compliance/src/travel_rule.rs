//! Travel-rule records: per denom, a threshold above which a transfer must carry
//! the SHA-256 of its IVMS 101 payload and both VASPs' identifiers (no personal
//! data in clear on chain).
//!
//! Where the record rides: a transaction carries it as an extension option
//! ([`RECORD_TYPE_URL`], checked when the tx is decoded, so a malformed record is
//! refused before any state is read, CheckTx included); an IBC transfer carries it
//! in its memo as `{"travel_rule": {"ivms101_sha256": "…", "originator_vasp": "…",
//! "beneficiary_vasp": "…", "envelope_locator": "…"}}` (other memo keys are left
//! alone), so the counterparty sees it and a transfer arriving here is checked the
//! same way. A refund of our own IBC transfer is no new transfer and needs none.
//!
//! Which transfers need one: what an account sends above the threshold (sends,
//! multi-send outputs, escrow, IBC out; not fees) and what arrives by IBC above it.
//! Each one that carried a record emits a `compliance_travel_rule` event with the
//! record's fields, so the record is found by tx hash (the tx and its events) and
//! by VASP (`compliance_travel_rule.beneficiary_vasp='…'`).

use paychain_bank::{Route, Transfer};
use paychain_framework::coins::parse_amount;
use paychain_framework::{Event, SdkError, StateRead, TypeUrl};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::errors;
use crate::keys;
use crate::memo::Memo;
use crate::pb;
use crate::store::corrupt;

pub const RECORD_TYPE_URL: &str = pb::TravelRuleRecord::TYPE_URL;
pub const MAX_VASP_LEN: usize = 128;
pub const MAX_ENVELOPE_BYTES: usize = 4096;
pub const MAX_LOCATOR_LEN: usize = 256;
/// The memo key an IBC transfer carries its record under.
pub const MEMO_KEY: &str = "travel_rule";
pub const COMPLIANCE_TRAVEL_RULE: &str = "compliance_travel_rule";

fn printable(value: &str, what: &str, min: usize, max: usize) -> Result<(), SdkError> {
    if !(min..=max).contains(&value.len()) || value.chars().any(char::is_control) {
        return Err(errors::invalid_travel_rule(format!(
            "{what} must be {min} to {max} bytes without control characters, got {} bytes",
            value.len()
        )));
    }
    Ok(())
}

/// A record's fields: a lowercase hex SHA-256, both VASPs named, the envelope and
/// its locator bounded.
pub fn validate_record(r: &pb::TravelRuleRecord) -> Result<(), SdkError> {
    let h = &r.ivms101_sha256;
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(errors::invalid_travel_rule(format!(
            "ivms101_sha256 must be 64 lowercase hex characters, got {h:?}"
        )));
    }
    printable(&r.originator_vasp, "originator_vasp", 1, MAX_VASP_LEN)?;
    printable(&r.beneficiary_vasp, "beneficiary_vasp", 1, MAX_VASP_LEN)?;
    printable(&r.envelope_locator, "envelope_locator", 0, MAX_LOCATOR_LEN)?;
    if r.envelope.len() > MAX_ENVELOPE_BYTES {
        return Err(errors::invalid_travel_rule(format!(
            "envelope is {} bytes, at most {MAX_ENVELOPE_BYTES}",
            r.envelope.len()
        )));
    }
    Ok(())
}

/// A tx's extension option holding a record, decoded and checked.
pub fn decode_extension(any: &cosmos_sdk_proto::Any) -> Result<pb::TravelRuleRecord, SdkError> {
    let r = pb::TravelRuleRecord::decode(any.value.as_slice())
        .map_err(|e| errors::invalid_travel_rule(format!("undecodable travel-rule record: {e}")))?;
    validate_record(&r)?;
    Ok(r)
}

/// The record in an IBC memo, if the memo is a JSON object with a `travel_rule`
/// key; one that is there but malformed is an error.
pub fn from_memo(memo: &str) -> Result<Option<pb::TravelRuleRecord>, SdkError> {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(memo) else { return Ok(None) };
    let Some(v) = m.get(MEMO_KEY) else { return Ok(None) };
    let field = |k: &str| -> Result<String, SdkError> {
        match v.get(k) {
            None => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(errors::invalid_travel_rule(format!("memo travel_rule.{k} must be a string"))),
        }
    };
    if !v.is_object() {
        return Err(errors::invalid_travel_rule("memo travel_rule must be an object"));
    }
    let r = pb::TravelRuleRecord {
        ivms101_sha256: field("ivms101_sha256")?,
        originator_vasp: field("originator_vasp")?,
        beneficiary_vasp: field("beneficiary_vasp")?,
        envelope: Vec::new(),
        envelope_locator: field("envelope_locator")?,
    };
    validate_record(&r)?;
    Ok(Some(r))
}

pub fn threshold(state: &dyn StateRead, denom: &str) -> Result<Option<pb::TravelRuleThreshold>, SdkError> {
    state
        .get(keys::STORE_KEY, &keys::travel_rule_key(denom))?
        .map(|b| pb::TravelRuleThreshold::decode(b.as_slice()).map_err(|e| corrupt("travel-rule threshold", e)))
        .transpose()
}

static THRESHOLDS: Memo<u128> = Memo::new();

/// `denom`'s threshold amount (parsed once per stored content, see [`crate::memo`]).
pub fn threshold_amount(state: &dyn StateRead, denom: &str) -> Result<Option<u128>, SdkError> {
    let Some(bytes) = state.get(keys::STORE_KEY, &keys::travel_rule_key(denom))? else { return Ok(None) };
    let parse = |b: &[u8]| {
        let t = pb::TravelRuleThreshold::decode(b).map_err(|e| corrupt("travel-rule threshold", e))?;
        parse_amount(&t.threshold).map_err(|e| corrupt("travel-rule threshold", e.log))
    };
    THRESHOLDS.get(&bytes, parse).map(|t| Some(*t))
}

/// Where a transfer's record must be, for the refusal.
fn where_it_goes(route: Route<'_>) -> &'static str {
    match route {
        Route::Local => "attach one to the transaction as extension option /paychain.compliance.v1.TravelRuleRecord",
        Route::IbcOut { .. } => "put one in the transfer's memo as {\"travel_rule\": {...}}",
        Route::IbcIn { .. } => "the sending chain must put one in the packet memo as {\"travel_rule\": {...}}",
    }
}

/// The record `tr` carries, when its denom's threshold asks for one: refused if
/// it is missing or malformed. `sends`: an account sends it (or it arrives by IBC);
/// fees, mints and refunds need none.
pub fn check(state: &dyn StateRead, tr: &Transfer<'_>, sends: bool) -> Result<Option<pb::TravelRuleRecord>, SdkError> {
    if !sends {
        return Ok(None);
    }
    let Some(limit) = threshold_amount(state, tr.denom)? else { return Ok(None) };
    if tr.amount <= limit {
        return Ok(None);
    }
    let record = match tr.route {
        Route::Local => {
            tr.extensions.iter().find(|e| e.type_url == RECORD_TYPE_URL).map(decode_extension).transpose()?
        }
        Route::IbcOut { memo, .. } | Route::IbcIn { memo: Some(memo), .. } => from_memo(memo)?,
        Route::IbcIn { memo: None, .. } => return Ok(None),
    };
    record.map(Some).ok_or_else(|| {
        errors::travel_rule_required(format!(
            "a transfer of {amount}{denom} (more than {limit}{denom}) needs a travel-rule record: {how}",
            amount = tr.amount,
            denom = tr.denom,
            how = where_it_goes(tr.route),
        ))
    })
}

/// Whether `tr` carries a record at all, checked or not (for risk rules).
pub fn carried(tr: &Transfer<'_>) -> bool {
    match tr.route {
        Route::Local => tr.extensions.iter().any(|e| e.type_url == RECORD_TYPE_URL),
        Route::IbcOut { memo, .. } | Route::IbcIn { memo: Some(memo), .. } => {
            from_memo(memo).is_ok_and(|r| r.is_some())
        }
        Route::IbcIn { memo: None, .. } => false,
    }
}

/// The `compliance_travel_rule` event of a transfer that carried `r`.
pub fn event(tr: &Transfer<'_>, r: &pb::TravelRuleRecord) -> Event {
    let envelope = if r.envelope.is_empty() { String::new() } else { hex::encode(Sha256::digest(&r.envelope)) };
    Event::new(COMPLIANCE_TRAVEL_RULE)
        .attr("sender", tr.from.to_string())
        .attr("recipient", tr.to.to_string())
        .attr("amount", format!("{}{}", tr.amount, tr.denom))
        .attr("route", tr.route.kind())
        .attr("channel_id", tr.route.channel())
        .attr("ivms101_sha256", r.ivms101_sha256.as_str())
        .attr("originator_vasp", r.originator_vasp.as_str())
        .attr("beneficiary_vasp", r.beneficiary_vasp.as_str())
        .attr("envelope_locator", r.envelope_locator.as_str())
        .attr("envelope_sha256", envelope)
}

/// IVMS 101's canonical form: the payload's JSON with object keys sorted (by
/// their UTF-8 bytes), no whitespace, strings escaped as JSON requires, integers
/// only. The CLI and the JS helper (`clients/js/travel-rule.mjs`) write it the same way.
pub fn canonical_json(v: &serde_json::Value, out: &mut String) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&m[k], out)?;
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out)?;
            }
            out.push(']');
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Value::Number(n) => return Err(format!("numbers must be integers, got {n}")),
        other => out.push_str(&other.to_string()),
    }
    Ok(())
}

/// The SHA-256 of the canonical form, lowercase hex.
pub fn ivms101_sha256(payload: &serde_json::Value) -> Result<String, String> {
    let mut text = String::new();
    canonical_json(payload, &mut text)?;
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// Checks an IVMS 101 payload against the field set a travel-rule message needs:
/// originator and beneficiary persons (each a natural or a legal person with a
/// name), and both VASPs. What it names is not checked further: the chain sees
/// only the hash.
pub fn validate_ivms101(payload: &serde_json::Value) -> Result<(), String> {
    let persons = |path: &[&str]| -> Result<(), String> {
        let mut v = payload;
        for p in path {
            v = v.get(p).ok_or_else(|| format!("IVMS 101 payload: {} is missing", path.join(".")))?;
        }
        let list = match v {
            serde_json::Value::Array(a) if !a.is_empty() => a.clone(),
            serde_json::Value::Object(_) => vec![v.clone()],
            _ => return Err(format!("IVMS 101 payload: {} must name at least one person", path.join("."))),
        };
        for (n, person) in list.iter().enumerate() {
            let named = ["naturalPerson", "legalPerson"]
                .iter()
                .filter_map(|k| person.get(k))
                .any(|p| p.get("name").is_some_and(|n| !n.is_null()));
            if !named {
                return Err(format!(
                    "IVMS 101 payload: {}[{n}] must be a naturalPerson or legalPerson with a name",
                    path.join(".")
                ));
            }
        }
        Ok(())
    };
    persons(&["originator", "originatorPersons"])?;
    persons(&["beneficiary", "beneficiaryPersons"])?;
    persons(&["originatingVASP", "originatingVASP"])?;
    persons(&["beneficiaryVASP", "beneficiaryVASP"])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> pb::TravelRuleRecord {
        pb::TravelRuleRecord {
            ivms101_sha256: "ab".repeat(32),
            originator_vasp: "LEI:5493001KJTIIGC8Y1R12".into(),
            beneficiary_vasp: "LEI:213800D1EI4B9WTWWD28".into(),
            envelope: vec![],
            envelope_locator: String::new(),
        }
    }

    #[test]
    fn records_are_checked_field_by_field() {
        validate_record(&record()).unwrap();
        for bad in [
            pb::TravelRuleRecord { ivms101_sha256: "AB".repeat(32), ..record() },
            pb::TravelRuleRecord { ivms101_sha256: "ab".repeat(31), ..record() },
            pb::TravelRuleRecord { originator_vasp: String::new(), ..record() },
            pb::TravelRuleRecord { beneficiary_vasp: "x".repeat(129), ..record() },
            pb::TravelRuleRecord { envelope_locator: "a\nb".into(), ..record() },
            pb::TravelRuleRecord { envelope: vec![0; 4097], ..record() },
        ] {
            assert_eq!(validate_record(&bad).unwrap_err().code, 32, "{bad:?}");
        }
    }

    #[test]
    fn memos_carry_a_record_beside_other_keys() {
        assert_eq!(from_memo("").unwrap(), None);
        assert_eq!(from_memo("invoice 7").unwrap(), None);
        assert_eq!(from_memo(r#"{"forward": {}}"#).unwrap(), None);
        let memo = format!(
            r#"{{"forward": {{}}, "travel_rule": {{"ivms101_sha256": "{}", "originator_vasp": "A", "beneficiary_vasp": "B"}}}}"#,
            "ab".repeat(32)
        );
        let r = from_memo(&memo).unwrap().unwrap();
        assert_eq!((r.originator_vasp.as_str(), r.beneficiary_vasp.as_str()), ("A", "B"));
        assert_eq!(from_memo(r#"{"travel_rule": 7}"#).unwrap_err().code, 32);
        assert_eq!(from_memo(r#"{"travel_rule": {"ivms101_sha256": 1}}"#).unwrap_err().code, 32);
        assert_eq!(from_memo(r#"{"travel_rule": {"ivms101_sha256": "00"}}"#).unwrap_err().code, 32);
    }

    /// The test vector the CLI, the JS helper and this share (hashed independently by Python).
    #[test]
    fn the_shared_ivms101_fixture_hashes_to_its_recorded_value() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
        let payload: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}ivms101.json")).unwrap()).unwrap();
        validate_ivms101(&payload).unwrap();
        let want = std::fs::read_to_string(format!("{dir}ivms101.sha256")).unwrap();
        assert_eq!(ivms101_sha256(&payload).unwrap(), want.trim());
        let mut incomplete = payload.clone();
        incomplete["beneficiary"]["beneficiaryPersons"] = serde_json::json!([]);
        assert!(validate_ivms101(&incomplete).unwrap_err().contains("beneficiary.beneficiaryPersons"));
        let mut unnamed = payload;
        unnamed["originator"]["originatorPersons"][0] = serde_json::json!({"naturalPerson": {}});
        assert!(validate_ivms101(&unnamed).unwrap_err().contains("originatorPersons[0]"));
    }

    #[test]
    fn the_ivms101_hash_ignores_key_order_and_whitespace() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "é"}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":"é","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(ivms101_sha256(&a), ivms101_sha256(&b));
        let mut text = String::new();
        canonical_json(&a, &mut text).unwrap();
        assert_eq!(text, r#"{"a":{"x":"é","y":[1,2]},"b":1}"#);
        assert_eq!(ivms101_sha256(&a).unwrap(), hex::encode(Sha256::digest(text.as_bytes())));
        let float: serde_json::Value = serde_json::from_str(r#"{"a": 1.5}"#).unwrap();
        assert!(ivms101_sha256(&float).is_err());
    }
}
