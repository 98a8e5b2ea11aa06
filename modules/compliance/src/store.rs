//! Reads of the compliance records (see `keys.rs` for the layout): credentials,
//! their issuers, policies. Every read a transfer's check makes is one of these:
//! a point lookup, never a scan.

use std::sync::Arc;

use paychain_framework::time::reached;
use paychain_framework::{Address, BlockTime, SdkError, StateRead};
use prost::Message;

use crate::keys;
use crate::memo::Memo;
use crate::pb;

pub fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("compliance: corrupt {what} in store: {e}"))
}

pub fn issuer(state: &dyn StateRead, addr: &Address) -> Result<Option<pb::CredentialIssuer>, SdkError> {
    Ok(issuer_record(state, addr)?.map(|i| (*i).clone()))
}

static ISSUERS: Memo<pb::CredentialIssuer> = Memo::new();

/// The issuer's record, shared: every check of its credentials reads it, and it is
/// decoded once per stored content (see [`crate::memo`]).
fn issuer_record(state: &dyn StateRead, addr: &Address) -> Result<Option<Arc<pb::CredentialIssuer>>, SdkError> {
    let Some(bytes) = state.get(keys::STORE_KEY, &keys::issuer_key(addr))? else { return Ok(None) };
    let decode = |b: &[u8]| pb::CredentialIssuer::decode(b).map_err(|e| corrupt(format_args!("issuer {addr}"), e));
    ISSUERS.get(&bytes, decode).map(Some)
}

pub fn credential(
    state: &dyn StateRead,
    subject: &Address,
    issuer: &Address,
    credential_type: &str,
) -> Result<Option<pb::Credential>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::credential_key(subject, issuer, credential_type))? {
        None => Ok(None),
        Some(b) => pb::Credential::decode(b.as_slice()).map(Some).map_err(|e| corrupt("credential", e)),
    }
}

/// Whether a credential counts at block time `now`: accepted, not revoked, not
/// expired, and its issuer still registered for its type.
pub fn counts(c: &pb::Credential, issuer: Option<&pb::CredentialIssuer>, now: BlockTime) -> bool {
    c.accepted
        && c.revoked_at.is_none()
        && !c.expiration.as_ref().is_some_and(|t| reached(now, t))
        && issuer.is_some_and(|i| i.types.contains(&c.r#type))
}

/// Whether `subject` holds a counting credential of `credential_type` from
/// `issuer` at block time `now`: two reads, never a scan (the issuer's record,
/// read by every check of its credentials, decoded once per content).
pub fn holds_credential(
    state: &dyn StateRead,
    subject: &Address,
    issuer_addr: &Address,
    credential_type: &str,
    now: BlockTime,
) -> Result<bool, SdkError> {
    let Some(c) = credential(state, subject, issuer_addr, credential_type)? else { return Ok(false) };
    Ok(counts(&c, issuer_record(state, issuer_addr)?.as_deref(), now))
}

/// Who, besides the chain authority, may attach a policy to a denom: an issued
/// token's admin (the assets module answers; the app wires it).
pub trait DenomAdmins: Send + Sync {
    fn admin_of(&self, state: &dyn StateRead, denom: &str) -> Result<Option<Address>, SdkError>;
}

/// The ids in a time-ordered queue (`keys::timed_key` under `prefix`) whose time
/// has come by `now`, oldest first, at most `limit`: end block's bounded work.
pub fn due(state: &dyn StateRead, prefix: &[u8], now: BlockTime, limit: usize) -> Result<Vec<u64>, SdkError> {
    let mut due = Vec::new();
    for entry in state.prefix(keys::STORE_KEY, prefix, false)? {
        if due.len() >= limit {
            break;
        }
        let (key, _) = entry?;
        let (seconds, nanos, id) =
            keys::split_timed_key(prefix, &key).ok_or_else(|| corrupt("deadline key", format_args!("{key:?}")))?;
        if !reached(now, &paychain_framework::time::Timestamp { seconds, nanos }) {
            break;
        }
        due.push(id);
    }
    Ok(due)
}

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
