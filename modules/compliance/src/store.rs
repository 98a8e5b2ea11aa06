//! Reads of the policy records (see `keys.rs` for the layout). Every read a
//! transfer's check makes is one of these: a point lookup, never a scan.

use paychain_framework::{Address, SdkError, StateRead};
use prost::Message;

use crate::keeper::corrupt;
use crate::keys;
use crate::pb;

fn u64_value(what: &str, bytes: &[u8]) -> Result<u64, SdkError> {
    let b: [u8; 8] = bytes.try_into().map_err(|_| corrupt(what, format_args!("{} bytes, not 8", bytes.len())))?;
    Ok(u64::from_be_bytes(b))
}

/// Policy `id` as it is now.
pub fn policy(state: &dyn StateRead, id: u64) -> Result<Option<pb::Policy>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::policy_key(id))? {
        None => Ok(None),
        Some(b) => pb::Policy::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("policy {id}"), e)),
    }
}

/// Policy `id` as it was at `version`.
pub fn policy_version(state: &dyn StateRead, id: u64, version: u64) -> Result<Option<pb::Policy>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::policy_version_key(id, version))? {
        None => Ok(None),
        Some(b) => pb::Policy::decode(b.as_slice())
            .map(Some)
            .map_err(|e| corrupt(format_args!("policy {id} version {version}"), e)),
    }
}

/// Whether `addr` is on policy `id`'s list.
pub fn is_member(state: &dyn StateRead, id: u64, addr: &Address) -> Result<bool, SdkError> {
    Ok(state.get(keys::STORE_KEY, &keys::policy_member_key(id, addr))?.is_some())
}

/// The policy governing `denom` (the empty denom: the global policy); 0 = none.
pub fn denom_policy(state: &dyn StateRead, denom: &str) -> Result<u64, SdkError> {
    match state.get(keys::STORE_KEY, &keys::denom_policy_key(denom))? {
        None => Ok(0),
        Some(b) => u64_value("denom policy", &b),
    }
}

/// The id the next policy gets (ids start at 1; 0 means "none").
pub fn next_policy_id(state: &dyn StateRead) -> Result<u64, SdkError> {
    match state.get(keys::STORE_KEY, keys::NEXT_POLICY_ID_KEY)? {
        None => Ok(1),
        Some(b) => u64_value("next policy id", &b),
    }
}
