//! What the IBC modules keep in state, and under which keys.
//!
//! The `ibc` substore holds the ICS-24 paths (`clients/{id}/clientState`, `connections/{id}`,
//! `commitments/ports/{port}/channels/{chan}/sequences/{seq}`, ...) as their path strings, so a
//! counterparty proves them under the commitment prefix `ibc`, plus a few host-only entries
//! under names that are not ICS-24 paths. The `transfer` substore holds ICS-20 state.

use ibc::core::client::types::Height;
use ibc::core::host::types::identifiers::ClientId;

/// Substore of IBC core (the commitment prefix counterparties prove against).
pub const IBC_STORE: &str = "ibc";
/// Substore of the ICS-20 transfer application.
pub const TRANSFER_STORE: &str = "transfer";

pub const NEXT_CLIENT_SEQUENCE: &[u8] = b"nextClientSequence";
pub const NEXT_CONNECTION_SEQUENCE: &[u8] = b"nextConnectionSequence";
pub const NEXT_CHANNEL_SEQUENCE: &[u8] = b"nextChannelSequence";
/// Host parameters (unbonding period, history window, block time bound).
pub const HOST_PARAMS: &[u8] = b"hostParams";

/// Our own consensus states by height (root, time, next validators hash), for connection
/// handshakes: `selfConsensusStates/` + height (u64 BE).
const SELF_CONSENSUS_PREFIX: &[u8] = b"selfConsensusStates/";

pub fn self_consensus_state(height: u64) -> Vec<u8> {
    [SELF_CONSENSUS_PREFIX, &height.to_be_bytes()[..]].concat()
}

/// ICS-24 path of a client's consensus state (`clients/{id}/consensusStates/{rev}-{height}`).
fn consensus_state_dir(client_id: &ClientId, height: &Height) -> String {
    format!("clients/{client_id}/consensusStates/{}-{}", height.revision_number(), height.revision_height())
}

/// When (host time, u64 nanos BE) a client's consensus state at `height` was stored (ibc-go's key).
pub fn processed_time(client_id: &ClientId, height: &Height) -> Vec<u8> {
    format!("{}/processedTime", consensus_state_dir(client_id, height)).into_bytes()
}

/// At which host height (`{rev}-{height}`) a client's consensus state at `height` was stored.
pub fn processed_height(client_id: &ClientId, height: &Height) -> Vec<u8> {
    format!("{}/processedHeight", consensus_state_dir(client_id, height)).into_bytes()
}

/// Index of a client's consensus state heights in numeric order (ICS-24 paths sort as
/// strings): `clients/{id}/iterateConsensusStates` + revision (u64 BE) + height (u64 BE).
pub fn consensus_height_index_prefix(client_id: &ClientId) -> Vec<u8> {
    format!("clients/{client_id}/iterateConsensusStates").into_bytes()
}

pub fn consensus_height_index(client_id: &ClientId, height: &Height) -> Vec<u8> {
    let mut k = consensus_height_index_prefix(client_id);
    k.extend_from_slice(&height.revision_number().to_be_bytes());
    k.extend_from_slice(&height.revision_height().to_be_bytes());
    k
}

/// The height encoded at the end of a [`consensus_height_index`] key.
pub fn height_from_index(key: &[u8]) -> Option<(u64, u64)> {
    let tail = key.len().checked_sub(16).map(|start| &key[start..])?;
    let rev = u64::from_be_bytes(tail[..8].try_into().ok()?);
    let h = u64::from_be_bytes(tail[8..].try_into().ok()?);
    Some((rev, h))
}

// ---- transfer ----

pub const TRANSFER_PARAMS: &[u8] = b"params";
/// `denomTrace/` + sha256 of the full trace path -> the full path (`transfer/channel-0/upay`).
const DENOM_TRACE_PREFIX: &[u8] = b"denomTrace/";
/// `totalEscrow/` + denom -> amount (decimal string) escrowed for all channels.
const TOTAL_ESCROW_PREFIX: &[u8] = b"totalEscrow/";

pub fn denom_trace_prefix() -> &'static [u8] {
    DENOM_TRACE_PREFIX
}

pub fn denom_trace(hash: &[u8; 32]) -> Vec<u8> {
    [DENOM_TRACE_PREFIX, &hash[..]].concat()
}

pub fn total_escrow_prefix() -> &'static [u8] {
    TOTAL_ESCROW_PREFIX
}

pub fn total_escrow(denom: &str) -> Vec<u8> {
    [TOTAL_ESCROW_PREFIX, denom.as_bytes()].concat()
}

/// The chain id (in the `ibc` substore), so queries can build the host over committed state.
pub const HOST_CHAIN_ID: &[u8] = b"hostChainId";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consensus_height_index_orders_numerically() {
        let client = ClientId::new("07-tendermint", 0).unwrap();
        let h9 = consensus_height_index(&client, &Height::new(1, 9).unwrap());
        let h10 = consensus_height_index(&client, &Height::new(1, 10).unwrap());
        assert!(h9 < h10, "BE heights sort numerically, unlike the path strings");
        assert_eq!(height_from_index(&h10), Some((1, 10)));
        assert!(h10.starts_with(&consensus_height_index_prefix(&client)));
    }
}
