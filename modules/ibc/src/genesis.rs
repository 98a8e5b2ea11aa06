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

use std::time::Duration;

use paychain_auth::json::{index, Obj};
use paychain_framework::coins::{parse_amount, validate_denom};
use serde_json::{json, Value};

pub const DEFAULT_UNBONDING_SECS: u64 = 21 * 24 * 3600;
pub const DEFAULT_HISTORICAL_ENTRIES: u64 = 10_000;
pub const DEFAULT_MAX_BLOCK_TIME_SECS: u64 = 30;
/// Bound on the history window, so pruning and storage stay small.
pub const MAX_HISTORICAL_ENTRIES: u64 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostParams {
    pub unbonding_secs: u64,
    pub historical_entries: u64,
    pub max_expected_time_per_block_secs: u64,
}

impl Default for HostParams {
    fn default() -> Self {
        Self {
            unbonding_secs: DEFAULT_UNBONDING_SECS,
            historical_entries: DEFAULT_HISTORICAL_ENTRIES,
            max_expected_time_per_block_secs: DEFAULT_MAX_BLOCK_TIME_SECS,
        }
    }
}

impl HostParams {
    pub fn unbonding_period(&self) -> Duration {
        Duration::from_secs(self.unbonding_secs)
    }

    pub fn max_expected_time_per_block(&self) -> Duration {
        Duration::from_secs(self.max_expected_time_per_block_secs)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.unbonding_secs == 0 {
            return Err("params.unbonding_time: must be positive".into());
        }
        if self.historical_entries == 0 || self.historical_entries > MAX_HISTORICAL_ENTRIES {
            return Err(format!("params.historical_entries: must be 1..={MAX_HISTORICAL_ENTRIES}"));
        }
        if self.max_expected_time_per_block_secs == 0 {
            return Err("params.max_expected_time_per_block: must be positive".into());
        }
        Ok(())
    }

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferParams {
    pub send_enabled: bool,
    pub receive_enabled: bool,
}

impl Default for TransferParams {
    fn default() -> Self {
        Self { send_enabled: true, receive_enabled: true }
    }
}

/// A voucher's origin: the channels it came through (`transfer/channel-0`) and its base denom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenomTrace {
    pub path: String,
    pub base_denom: String,
}

impl DenomTrace {
    /// The full ICS-20 denom (`transfer/channel-0/upay`).
    pub fn full_path(&self) -> String {
        if self.path.is_empty() {
            self.base_denom.clone()
        } else {
            format!("{}/{}", self.path, self.base_denom)
        }
    }

    /// Splits a full denom into its trace (pairs of port/channel) and base denom.
    pub fn parse(full: &str) -> Result<Self, String> {
        let parts: Vec<&str> = full.split('/').collect();
        let mut i = 0;
        while i + 1 < parts.len() && is_port_channel(parts[i], parts[i + 1]) {
            i += 2;
        }
        let base = parts[i..].join("/");
        if base.is_empty() || parts.iter().any(|p| p.is_empty()) {
            return Err(format!("invalid denom trace {full:?}"));
        }
        Ok(Self { path: parts[..i].join("/"), base_denom: base })
    }
}

fn is_port_channel(port: &str, channel: &str) -> bool {
    !port.is_empty()
        && channel.strip_prefix("channel-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
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
    fn denom_traces_split_port_channel_pairs_from_the_base() {
        let t = DenomTrace::parse("transfer/channel-0/transfer/channel-12/upay").unwrap();
        assert_eq!(t.path, "transfer/channel-0/transfer/channel-12");
        assert_eq!(t.base_denom, "upay");
        let t = DenomTrace::parse("upay").unwrap();
        assert_eq!((t.path.as_str(), t.base_denom.as_str()), ("", "upay"));
        // A base denom may itself contain slashes (e.g. a factory denom).
        let t = DenomTrace::parse("transfer/channel-1/factory/pay1x/coin").unwrap();
        assert_eq!(t.base_denom, "factory/pay1x/coin");
        assert!(DenomTrace::parse("transfer/channel-0/").is_err());
        assert!(DenomTrace::parse("").is_err());
    }

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
