//! Proto3 JSON of the escrow types, written by hand (no pbjson): what the REST
//! gateway answers and what `app_state.escrow` holds. Field names are the
//! proto names (snake_case; camelCase is accepted when reading), 64-bit
//! integers are strings, enums their names (`ESCROW_STATUS_OPEN`), timestamps
//! RFC 3339 (`2026-01-02T03:04:05Z`), bytes base64, coins
//! `[{"denom": "upay", "amount": "100"}]`. Every field is written (unset
//! messages as `null`), as the SDK's genesis export and REST gateway do.
//!
//! Readers name the bad field in their errors (`escrow.escrows[2].status: ...`).

use base64::Engine;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use paychain_auth::json::{index, parse_u64, Obj};
use prost_types::Timestamp;
use serde_json::{json, Value};

use crate::keeper::default_params;
use crate::pb;
use crate::time;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

// ---- writing ----

pub fn coins_json(coins: &[ProtoCoin]) -> Value {
    Value::Array(coins.iter().map(|c| json!({"denom": c.denom, "amount": c.amount})).collect())
}

pub fn timestamp_json(t: Option<&Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time::format(t)))
}

fn status_name(status: i32) -> Value {
    match pb::EscrowStatus::try_from(status) {
        Ok(s) => Value::String(s.as_str_name().to_string()),
        // Unknown enum values are written as numbers, as proto3 JSON does.
        Err(_) => Value::from(status),
    }
}

/// `paychain.escrow.v1.Escrow` as proto3 JSON.
pub fn escrow_json(e: &pb::Escrow) -> Value {
    json!({
        "id": e.id.to_string(),
        "sender": e.sender,
        "recipient": e.recipient,
        "amount": coins_json(&e.amount),
        "remaining": coins_json(&e.remaining),
        "release_after": timestamp_json(e.release_after.as_ref()),
        "refund_after": timestamp_json(e.refund_after.as_ref()),
        "hash_lock": B64.encode(&e.hash_lock),
        "arbiters": e.arbiters,
        "threshold": e.threshold,
        "reference": e.reference,
        "status": status_name(e.status),
        "release_approvals": e.release_approvals,
        "refund_approvals": e.refund_approvals,
        "created_at": timestamp_json(e.created_at.as_ref()),
        "created_height": e.created_height.to_string(),
        "closed_at": timestamp_json(e.closed_at.as_ref()),
    })
}

/// `paychain.escrow.v1.Params` as proto3 JSON (uint32 are numbers).
pub fn params_json(p: &pb::Params) -> Value {
    json!({
        "max_arbiters": p.max_arbiters,
        "max_reference_length": p.max_reference_length,
        "max_coins": p.max_coins,
        "max_expired_refunds_per_block": p.max_expired_refunds_per_block,
    })
}

/// `app_state.escrow`.
pub fn genesis_json(g: &pb::GenesisState) -> Value {
    json!({
        "params": params_json(&g.params.unwrap_or_else(default_params)),
        "escrows": g.escrows.iter().map(escrow_json).collect::<Vec<_>>(),
        "next_id": g.next_id.to_string(),
    })
}

/// `cosmos.base.query.v1beta1.PageResponse` as the gateway writes it (`next_key` base64 or null).
pub fn page_response_json(p: Option<&PageResponse>) -> Value {
    match p {
        None => Value::Null,
        Some(p) => json!({
            "next_key": if p.next_key.is_empty() { Value::Null } else { Value::String(B64.encode(&p.next_key)) },
            "total": p.total.to_string(),
        }),
    }
}

/// `QueryEscrowResponse`.
pub fn escrow_response_json(r: &pb::QueryEscrowResponse) -> Value {
    json!({"escrow": r.escrow.as_ref().map_or(Value::Null, escrow_json)})
}

/// `QueryEscrowsResponse` (by sender, recipient or arbiter).
pub fn escrows_response_json(r: &pb::QueryEscrowsResponse) -> Value {
    json!({
        "escrows": r.escrows.iter().map(escrow_json).collect::<Vec<_>>(),
        "pagination": page_response_json(r.pagination.as_ref()),
    })
}

/// `QueryParamsResponse`.
pub fn params_response_json(r: &pb::QueryParamsResponse) -> Value {
    json!({"params": r.params.as_ref().map_or(Value::Null, params_json)})
}

// ---- reading ----

fn parse_u32(v: &Value, path: &str) -> Result<u32, String> {
    let n = parse_u64(v, path).map_err(|_| format!("{path}: expected an unsigned 32-bit integer, got {v}"))?;
    u32::try_from(n).map_err(|_| format!("{path}: {n} does not fit in 32 bits"))
}

fn parse_i64(v: &Value, path: &str) -> Result<i64, String> {
    let bad = || format!("{path}: expected a signed 64-bit integer, got {v}");
    match v {
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        }
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn u32_field(o: &Obj, key: &str, default: u32) -> Result<u32, String> {
    o.get(key).map_or(Ok(default), |v| parse_u32(v, &o.field(key)))
}

fn timestamp_field(o: &Obj, key: &str) -> Result<Option<Timestamp>, String> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => time::parse(s).map(Some).map_err(|e| format!("{}: {e}", o.field(key))),
        Some(other) => Err(format!("{}: expected an RFC 3339 timestamp string, got {other}", o.field(key))),
    }
}

fn bytes_field(o: &Obj, key: &str) -> Result<Vec<u8>, String> {
    let s = o.string(key)?;
    B64.decode(&s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&s))
        .map_err(|e| format!("{}: invalid base64: {e}", o.field(key)))
}

fn coins_field(o: &Obj, key: &str) -> Result<Vec<ProtoCoin>, String> {
    let path = o.field(key);
    o.array(key)?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = Obj::new(c, &index(&path, i))?;
            c.deny_unknown(&["denom", "amount"])?;
            Ok(ProtoCoin { denom: c.string("denom")?, amount: c.string("amount")? })
        })
        .collect()
}

fn status_field(o: &Obj, key: &str) -> Result<i32, String> {
    match o.get(key) {
        None => Ok(0),
        Some(Value::String(s)) => pb::EscrowStatus::from_str_name(s)
            .map(|s| s as i32)
            .ok_or_else(|| format!("{}: unknown status {s:?}", o.field(key))),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{}: invalid status {n}", o.field(key))),
        Some(other) => Err(format!("{}: expected a status name, got {other}", o.field(key))),
    }
}

const ESCROW_FIELDS: [&str; 17] = [
    "id",
    "sender",
    "recipient",
    "amount",
    "remaining",
    "release_after",
    "refund_after",
    "hash_lock",
    "arbiters",
    "threshold",
    "reference",
    "status",
    "release_approvals",
    "refund_approvals",
    "created_at",
    "created_height",
    "closed_at",
];

/// Reads an `Escrow` (shape only; [`crate::genesis::validate_escrow`] checks the rules).
pub fn escrow_from_json(v: &Value, path: &str) -> Result<pb::Escrow, String> {
    let o = Obj::new(v, path)?;
    o.deny_unknown(&ESCROW_FIELDS)?;
    Ok(pb::Escrow {
        id: o.u64_or("id", 0)?,
        sender: o.string("sender")?,
        recipient: o.string("recipient")?,
        amount: coins_field(&o, "amount")?,
        remaining: coins_field(&o, "remaining")?,
        release_after: timestamp_field(&o, "release_after")?,
        refund_after: timestamp_field(&o, "refund_after")?,
        hash_lock: bytes_field(&o, "hash_lock")?,
        arbiters: o.strings("arbiters")?,
        threshold: u32_field(&o, "threshold", 0)?,
        reference: o.string("reference")?,
        status: status_field(&o, "status")?,
        release_approvals: o.strings("release_approvals")?,
        refund_approvals: o.strings("refund_approvals")?,
        created_at: timestamp_field(&o, "created_at")?,
        created_height: o.get("created_height").map_or(Ok(0), |v| parse_i64(v, &o.field("created_height")))?,
        closed_at: timestamp_field(&o, "closed_at")?,
    })
}

/// Reads `Params`; an absent field takes its default (not proto3's 0, which is invalid).
pub fn params_from_json(v: &Value, path: &str) -> Result<pb::Params, String> {
    let o = Obj::new(v, path)?;
    o.deny_unknown(&["max_arbiters", "max_reference_length", "max_coins", "max_expired_refunds_per_block"])?;
    let d = default_params();
    Ok(pb::Params {
        max_arbiters: u32_field(&o, "max_arbiters", d.max_arbiters)?,
        max_reference_length: u32_field(&o, "max_reference_length", d.max_reference_length)?,
        max_coins: u32_field(&o, "max_coins", d.max_coins)?,
        max_expired_refunds_per_block: u32_field(&o, "max_expired_refunds_per_block", d.max_expired_refunds_per_block)?,
    })
}

/// Reads `app_state.escrow` (absent or `null` = defaults: default params, no
/// escrows, next id 1). Shape only; [`crate::genesis::validate_genesis`] checks the rules.
pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(crate::genesis::default_genesis());
    };
    let o = Obj::new(v, "escrow")?;
    o.deny_unknown(&["params", "escrows", "next_id"])?;
    let params = match o.get("params") {
        None => default_params(),
        Some(p) => params_from_json(p, &o.field("params"))?,
    };
    let path = o.field("escrows");
    let escrows = o
        .array("escrows")?
        .iter()
        .enumerate()
        .map(|(i, e)| escrow_from_json(e, &index(&path, i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pb::GenesisState { params: Some(params), escrows, next_id: o.u64_or("next_id", 0)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escrow_json_round_trips_in_proto3_shape() {
        let e = pb::Escrow {
            id: 7,
            sender: "pay1a".into(),
            recipient: "pay1b".into(),
            amount: vec![ProtoCoin { denom: "upay".into(), amount: "100".into() }],
            remaining: vec![ProtoCoin { denom: "upay".into(), amount: "40".into() }],
            release_after: Some(Timestamp { seconds: 1_767_323_045, nanos: 0 }),
            refund_after: None,
            hash_lock: vec![0xab; 32],
            arbiters: vec!["pay1c".into()],
            threshold: 1,
            reference: "INV-1".into(),
            status: pb::EscrowStatus::Open as i32,
            release_approvals: vec![],
            refund_approvals: vec![],
            created_at: Some(Timestamp { seconds: 1_767_323_000, nanos: 500_000_000 }),
            created_height: 12,
            closed_at: None,
        };
        let v = escrow_json(&e);
        assert_eq!(v["id"], "7");
        assert_eq!(v["status"], "ESCROW_STATUS_OPEN");
        assert_eq!(v["release_after"], "2026-01-02T03:04:05Z");
        assert_eq!(v["created_at"], "2026-01-02T03:03:20.500Z");
        assert_eq!(v["refund_after"], Value::Null);
        assert_eq!(v["created_height"], "12");
        assert_eq!(v["threshold"], 1);
        assert_eq!(v["amount"], json!([{"denom": "upay", "amount": "100"}]));
        assert_eq!(v["hash_lock"], B64.encode([0xab; 32]));
        assert_eq!(escrow_from_json(&v, "e").unwrap(), e);
        // camelCase names and numbers for 64-bit integers are accepted too.
        let camel = json!({"id": 7, "createdHeight": "12", "releaseAfter": "2026-01-02T04:04:05+01:00", "status": 1});
        let back = escrow_from_json(&camel, "e").unwrap();
        assert_eq!((back.id, back.created_height, back.status), (7, 12, 1));
        assert_eq!(back.release_after, e.release_after);
        for (bad, expect) in [
            (json!({"id": "x"}), "e.id: expected"),
            (json!({"status": "OPEN"}), "e.status: unknown status"),
            (json!({"threshold": 4294967296u64}), "e.threshold: 4294967296 does not fit"),
            (json!({"hash_lock": "!!"}), "e.hash_lock: invalid base64"),
            (json!({"closed_at": 5}), "e.closed_at: expected an RFC 3339"),
            (json!({"closed_at": "2026-01-02"}), "e.closed_at: invalid RFC 3339"),
            (json!({"amount": [{"denom": "upay", "amount": 5}]}), "e.amount[0].amount: expected a string"),
            (json!({"colour": 1}), "e.colour: unknown field"),
            (json!({"created_height": "1.5"}), "e.created_height: expected"),
        ] {
            let err = escrow_from_json(&bad, "e").unwrap_err();
            assert!(err.starts_with(expect), "{err}");
        }
        assert_eq!(
            params_json(&default_params()),
            json!({"max_arbiters": 7, "max_reference_length": 140, "max_coins": 8, "max_expired_refunds_per_block": 100})
        );
        assert_eq!(params_from_json(&json!({"maxCoins": "3"}), "p").unwrap().max_coins, 3);
        assert_eq!(params_from_json(&json!({}), "p").unwrap(), default_params());
    }
}
