//! The IBC modules' own types, shared by the host, the ICS-20 application, the
//! queries and genesis: the host parameters (stored as JSON under
//! [`keys::HOST_PARAMS`](crate::keys::HOST_PARAMS)), the transfer parameters and
//! ICS-20 denom traces. Their genesis JSON is read and written in `genesis.rs`.

use std::time::Duration;

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

/// Host parameters from state (defaults before genesis wrote them).
pub fn host_params(state: &dyn paychain_framework::StateRead) -> Result<HostParams, paychain_framework::SdkError> {
    match state.get(crate::keys::IBC_STORE, crate::keys::HOST_PARAMS)? {
        None => Ok(HostParams::default()),
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| paychain_framework::SdkError::fatal(format!("ibc: corrupt host params: {e}"))),
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
}
