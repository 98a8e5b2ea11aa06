//! Genesis of the two IBC modules.
//!
//! `app_state.ibc`: `{"params": {"unbonding_time": "1814400s", "historical_entries": 10000,
//! "max_expected_time_per_block": "30s"}}`. The unbonding time is what counterparties' clients
//! of this chain must carry (there is no staking module: it is a genesis constant, also served
//! on the staking Params query Hermes reads); `historical_entries` is how many of our own
//! consensus states are kept for connection handshakes.
//!
//! `app_state.transfer`: the SDK's ICS-20 genesis: `{"port_id": "transfer", "denom_traces":
//! [{"path": "transfer/channel-0", "base_denom": "upay"}], "params": {"send_enabled": true,
//! "receive_enabled": true}, "total_escrowed": [{"denom": "upay", "amount": "10"}]}`.

use paychain_auth::json::{index, Obj};
use paychain_framework::coins::{parse_amount, validate_denom};
use serde_json::{json, Value};

// Defined in `types.rs` (the host and the transfer app use them too); re-exported so that
// `genesis::` paths keep working for the app.
pub use crate::types::{
    DenomTrace, HostParams, TransferParams, DEFAULT_HISTORICAL_ENTRIES, DEFAULT_MAX_BLOCK_TIME_SECS,
    DEFAULT_UNBONDING_SECS, MAX_HISTORICAL_ENTRIES,
};

/// The `app_state.ibc` section.
impl HostParams {
    pub fn from_json(v: Option<&Value>) -> Result<Self, String> {
        let mut p = HostParams::default();
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(p) };
        let o = Obj::new(v, "ibc")?;
        o.deny_unknown(&["params"])?;
        if let Some(po) = o.object("params")? {
            po.deny_unknown(&["unbonding_time", "historical_entries", "max_expected_time_per_block"])?;
            if let Some(d) = po.get("unbonding_time") {
                p.unbonding_secs = parse_duration(d, &po.field("unbonding_time"))?;
            }
            p.historical_entries = po.u64_or("historical_entries", p.historical_entries)?;
            if let Some(d) = po.get("max_expected_time_per_block") {
                p.max_expected_time_per_block_secs = parse_duration(d, &po.field("max_expected_time_per_block"))?;
            }
        }
        p.validate().map_err(|e| format!("ibc.{e}"))?;
        Ok(p)
    }

    pub fn to_json(&self) -> Value {
        json!({"params": {
            "unbonding_time": format!("{}s", self.unbonding_secs),
            "historical_entries": self.historical_entries,
            "max_expected_time_per_block": format!("{}s", self.max_expected_time_per_block_secs),
        }})
    }
}

/// A protobuf-JSON duration in whole seconds (`"1814400s"`).
fn parse_duration(v: &Value, path: &str) -> Result<u64, String> {
    let s = v.as_str().ok_or_else(|| format!("{path}: must be a duration string like \"1814400s\""))?;
    s.strip_suffix('s')
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| format!("{path}: {s:?} is not a whole number of seconds like \"1814400s\""))
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferGenesis {
    pub params: TransferParams,
    pub denom_traces: Vec<DenomTrace>,
    pub total_escrowed: Vec<(String, u128)>,
}

impl TransferGenesis {
    pub fn from_json(v: Option<&Value>) -> Result<Self, String> {
        let mut g = TransferGenesis::default();
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(g) };
        let o = Obj::new(v, "transfer")?;
        o.deny_unknown(&["port_id", "denom_traces", "params", "total_escrowed"])?;
        let port = o.string("port_id")?;
        if !port.is_empty() && port != crate::transfer::PORT_ID {
            return Err(format!("{}: only {:?} is supported", o.field("port_id"), crate::transfer::PORT_ID));
        }
        if let Some(po) = o.object("params")? {
            po.deny_unknown(&["send_enabled", "receive_enabled"])?;
            g.params.send_enabled = po.bool_or("send_enabled", true)?;
            g.params.receive_enabled = po.bool_or("receive_enabled", true)?;
        }
        let traces_path = o.field("denom_traces");
        for (i, t) in o.array("denom_traces")?.iter().enumerate() {
            let to = Obj::new(t, &index(&traces_path, i))?;
            to.deny_unknown(&["path", "base_denom"])?;
            let trace = DenomTrace { path: to.string("path")?, base_denom: to.string("base_denom")? };
            match DenomTrace::parse(&trace.full_path()) {
                Ok(reparsed) if reparsed == trace && !trace.path.is_empty() => g.denom_traces.push(trace),
                _ => return Err(format!("{}: invalid trace {:?}", to.path(), trace.full_path())),
            }
        }
        let escrow_path = o.field("total_escrowed");
        for (i, e) in o.array("total_escrowed")?.iter().enumerate() {
            let eo = Obj::new(e, &index(&escrow_path, i))?;
            eo.deny_unknown(&["denom", "amount"])?;
            let denom = eo.string("denom")?;
            validate_denom(&denom).map_err(|e| format!("{}: {}", eo.field("denom"), e.log))?;
            let amount =
                parse_amount(&eo.string("amount")?).map_err(|e| format!("{}: {}", eo.field("amount"), e.log))?;
            g.total_escrowed.push((denom, amount));
        }
        Ok(g)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "port_id": crate::transfer::PORT_ID,
            "denom_traces": self.denom_traces.iter()
                .map(|t| json!({"path": t.path, "base_denom": t.base_denom})).collect::<Vec<_>>(),
            "params": {"send_enabled": self.params.send_enabled, "receive_enabled": self.params.receive_enabled},
            "total_escrowed": self.total_escrowed.iter()
                .map(|(d, a)| json!({"denom": d, "amount": a.to_string()})).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_round_trips_and_rejects_bad_fields() {
        let g = TransferGenesis {
            params: TransferParams { send_enabled: false, receive_enabled: true },
            denom_traces: vec![DenomTrace { path: "transfer/channel-3".into(), base_denom: "uatom".into() }],
            total_escrowed: vec![("upay".into(), 42)],
        };
        assert_eq!(TransferGenesis::from_json(Some(&g.to_json())).unwrap(), g);
        assert!(TransferGenesis::from_json(Some(&json!({"port_id": "other"}))).is_err());
        assert!(
            TransferGenesis::from_json(Some(&json!({"total_escrowed": [{"denom": "upay", "amount": "-1"}]}))).is_err()
        );
        let p = HostParams { unbonding_secs: 100, historical_entries: 5, max_expected_time_per_block_secs: 7 };
        assert_eq!(HostParams::from_json(Some(&p.to_json())).unwrap(), p);
        assert!(HostParams::from_json(Some(&json!({"params": {"historical_entries": 0}}))).is_err());
        assert!(HostParams::from_json(Some(&json!({"params": {"unbonding_time": "3 weeks"}}))).is_err());
    }
}
