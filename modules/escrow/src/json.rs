//! `app_state.escrow` in proto3 JSON, through the types' generated serde
//! (`build.rs`) and the framework's gateway shape ([`paychain_framework::proto_json`]):
//! proto field names (camelCase accepted when reading), every field written,
//! 64-bit integers as strings, enums by name, timestamps RFC 3339, bytes base64.
//! Readers check shape only; [`crate::genesis::validate_genesis`] checks the rules.

use paychain_framework::proto_json::{self, AnyTypes};
use serde_json::{Map, Value};

use crate::keeper::default_params;
use crate::pb;

/// `app_state.escrow`. Fails only for state no valid chain holds (an unknown status
/// number), which the export reports rather than writing a section that would not load.
pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    let g = pb::GenesisState { params: Some(g.params.unwrap_or_else(default_params)), ..g.clone() };
    proto_json::to_json(&AnyTypes::default(), &g)
}

/// Reads `app_state.escrow` (absent or `null` = defaults: default params, no escrows,
/// next id 1). Absent params fields take their defaults (not proto3's 0, which is invalid).
/// Errors name the field from the section's root (`escrow.escrows[2].status: ...`).
pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(crate::genesis::default_genesis());
    };
    let mut v = v.clone();
    if let Some(Value::Object(params)) = v.get_mut("params") {
        fill_defaults(params);
    }
    let g: pb::GenesisState =
        proto_json::from_json(&AnyTypes::default(), v).map_err(|e| format!("escrow.{}", e.trim_start_matches('.')))?;
    Ok(pb::GenesisState { params: Some(g.params.unwrap_or_else(default_params)), ..g })
}

fn fill_defaults(params: &mut Map<String, Value>) {
    let Ok(Value::Object(defaults)) = proto_json::to_json(&AnyTypes::default(), &default_params()) else {
        return;
    };
    for (name, value) in defaults {
        let camel = paychain_framework::json::camel_case(&name);
        if !params.contains_key(&name) && !params.contains_key(&camel) {
            params.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
    use serde_json::json;

    #[test]
    fn genesis_json_round_trips_in_proto3_shape() {
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
        let g = pb::GenesisState { params: Some(default_params()), escrows: vec![e.clone()], next_id: 8 };
        let v = genesis_json(&g).unwrap();
        let bad = pb::GenesisState { escrows: vec![pb::Escrow { status: 99, ..Default::default() }], ..g.clone() };
        assert!(genesis_json(&bad).is_err(), "an unknown status is an error, not a silent null");
        let j = &v["escrows"][0];
        assert_eq!(j["id"], "7");
        assert_eq!(j["status"], "ESCROW_STATUS_OPEN");
        assert_eq!(j["release_after"], "2026-01-02T03:04:05Z");
        assert_eq!(j["created_at"], "2026-01-02T03:03:20.500Z");
        assert_eq!(j["refund_after"], Value::Null);
        assert_eq!(j["created_height"], "12");
        assert_eq!(j["threshold"], 1);
        assert_eq!(j["amount"], json!([{"denom": "upay", "amount": "100"}]));
        assert_eq!(j["hash_lock"], "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=");
        assert_eq!(j["release_approvals"], json!([]));
        assert_eq!(v["next_id"], "8");
        assert_eq!(
            v["params"],
            json!({"max_arbiters": 7, "max_reference_length": 140, "max_coins": 8, "max_expired_refunds_per_block": 100})
        );
        assert_eq!(genesis_from_json(Some(&v)).unwrap(), g);
        // camelCase names and numbers for 64-bit integers are accepted too.
        let camel = json!({"escrows": [{"id": 7, "createdHeight": "12", "releaseAfter": "2026-01-02T04:04:05+01:00",
                                        "status": "ESCROW_STATUS_OPEN"}],
                           "params": {"maxCoins": 3}});
        let back = genesis_from_json(Some(&camel)).unwrap();
        let b = &back.escrows[0];
        assert_eq!((b.id, b.created_height, b.status), (7, 12, 1));
        assert_eq!(b.release_after, e.release_after);
        let params = back.params.unwrap();
        assert_eq!((params.max_coins, params.max_arbiters), (3, default_params().max_arbiters));
        assert_eq!(genesis_from_json(None).unwrap(), crate::genesis::default_genesis());
        for (bad, expect) in [
            (json!({"id": "x"}), "escrow.escrows[0].id:"),
            (json!({"status": "OPEN"}), "escrow.escrows[0].status:"),
            (json!({"threshold": 4294967296u64}), "escrow.escrows[0].threshold:"),
            (json!({"hash_lock": "!!"}), "escrow.escrows[0].hash_lock:"),
            (json!({"closed_at": 5}), "escrow.escrows[0].closed_at:"),
            (json!({"closed_at": "2026-01-02"}), "escrow.escrows[0].closed_at: invalid RFC 3339"),
            (json!({"amount": [{"denom": "upay", "amount": 5}]}), "escrow.escrows[0].amount[0].amount:"),
            (json!({"created_height": "1.5"}), "escrow.escrows[0].created_height:"),
        ] {
            let err = genesis_from_json(Some(&json!({"escrows": [bad]}))).unwrap_err();
            assert!(err.starts_with(expect), "{err}");
        }
    }
}
