//! State layout of the `compliance` substore.
//!
//! | key                                                          | value                      |
//! |--------------------------------------------------------------|----------------------------|
//! | `0x01 ++ issuer`                                             | `CredentialIssuer`         |
//! | `0x02 ++ len(subject) ++ subject ++ len(issuer) ++ issuer ++ type` | `Credential`         |
//! | `0x03 ++ len(issuer) ++ issuer ++ len(subject) ++ subject ++ type` | `[0]` (by issuer)    |
//! | `0x04 ++ id (u64 BE)`                                        | `Policy` (current version) |
//! | `0x05 ++ id (u64 BE) ++ version (u64 BE)`                    | `Policy` (every version)   |
//! | `0x06 ++ id (u64 BE) ++ member`                              | `[0]` (allow/deny list)    |
//! | `0x07`                                                       | next policy id (u64 BE)    |
//! | `0x08 ++ denom`                                              | policy id (u64 BE); `0x08` alone: the global policy |
//! | `0x09`                                                       | `Committee`                |
//! | `0x0a ++ id (u64 BE)`                                        | `SanctionProposal`         |
//! | `0x0b`                                                       | next proposal id (u64 BE)  |
//! | `0x0c ++ raw address bytes`                                  | `Sanction`                 |
//! | `0x0d ++ deadline (seconds ^ 2^63, u64 BE; nanos u32 BE) ++ id` | `[0]` (the proposal's next deadline) |
//! | `0x0e ++ id (u64 BE)`                                        | `Hold`                     |
//! | `0x0f ++ len(party) ++ party ++ id`                          | `[0]` (holds by sender and by recipient) |
//! | `0x10 ++ status (u8) ++ id`                                  | `[0]` (holds by status)    |
//! | `0x11 ++ deadline (as 0x0d) ++ id`                           | `[0]` (open holds by deadline) |
//! | `0x12`                                                       | next hold id (u64 BE)      |
//! | `0x13 ++ denom`                                              | `VelocityLimit`            |
//! | `0x14 ++ len(account) ++ account ++ denom`                   | `WindowUsage` (under a velocity limit) |
//! | `0x15 ++ len(channel) ++ channel ++ denom`                   | `CorridorLimit`            |
//! | `0x16 ++ len(channel) ++ channel ++ denom`                   | `WindowUsage` (under a corridor limit) |
//! | `0x17 ++ denom`                                              | `TravelRuleThreshold`      |
//! | `0x18`                                                       | `RiskRuleSet` (in effect)  |
//! | `0x19 ++ version (u64 BE)`                                   | `RiskRuleSet` (every version) |
//! | `0x1a ++ base version (u64 BE) ++ content hash (hex)`        | `RiskRuleVote`             |
//! | `0x1b ++ account`                                            | first seen (block seconds, i64 BE), accounts created while a risk rule watches ages |
//!
//! Whether an account holds a credential is one read of its record and one of its
//! issuer's; whether it is on a list, one read; whether it is sanctioned, one
//! read of its raw bytes (so every bech32 form is the same entry): O(1), never a scan.

use paychain_framework::Address;

pub const MODULE_NAME: &str = "compliance";
pub const STORE_KEY: &str = "compliance";

pub const ISSUER_PREFIX: &[u8] = &[0x01];
pub const CREDENTIAL_PREFIX: &[u8] = &[0x02];
pub const BY_ISSUER_PREFIX: &[u8] = &[0x03];
pub const POLICY_PREFIX: &[u8] = &[0x04];
pub const POLICY_VERSION_PREFIX: &[u8] = &[0x05];
pub const POLICY_MEMBER_PREFIX: &[u8] = &[0x06];
pub const NEXT_POLICY_ID_KEY: &[u8] = &[0x07];
pub const DENOM_POLICY_PREFIX: &[u8] = &[0x08];
pub const COMMITTEE_KEY: &[u8] = &[0x09];
pub const PROPOSAL_PREFIX: &[u8] = &[0x0a];
pub const NEXT_PROPOSAL_ID_KEY: &[u8] = &[0x0b];
pub const SANCTION_PREFIX: &[u8] = &[0x0c];
pub const DEADLINE_PREFIX: &[u8] = &[0x0d];
pub const HOLD_PREFIX: &[u8] = &[0x0e];
pub const HOLD_PARTY_PREFIX: &[u8] = &[0x0f];
pub const HOLD_STATUS_PREFIX: &[u8] = &[0x10];
pub const HOLD_DEADLINE_PREFIX: &[u8] = &[0x11];
pub const NEXT_HOLD_ID_KEY: &[u8] = &[0x12];
pub const VELOCITY_LIMIT_PREFIX: &[u8] = &[0x13];
pub const ACCOUNT_USAGE_PREFIX: &[u8] = &[0x14];
pub const CORRIDOR_LIMIT_PREFIX: &[u8] = &[0x15];
pub const CORRIDOR_USAGE_PREFIX: &[u8] = &[0x16];
pub const TRAVEL_RULE_PREFIX: &[u8] = &[0x17];
pub const RISK_RULES_KEY: &[u8] = &[0x18];
pub const RISK_RULES_VERSION_PREFIX: &[u8] = &[0x19];
pub const RISK_VOTE_PREFIX: &[u8] = &[0x1a];
pub const FIRST_SEEN_PREFIX: &[u8] = &[0x1b];

/// The module account holds wait in.
pub const HOLDS_ACCOUNT: &str = "compliance_holds";

/// Marker value of an index entry (the Merkle store cannot prove empty values).
pub const INDEX_MARKER: &[u8] = &[0];

fn push_len_prefixed(key: &mut Vec<u8>, bytes: &[u8]) {
    // Addresses are at most 255 bytes (validated when parsed).
    key.push(u8::try_from(bytes.len()).expect("address longer than 255 bytes"));
    key.extend_from_slice(bytes);
}

pub fn issuer_key(issuer: &Address) -> Vec<u8> {
    [ISSUER_PREFIX, issuer.as_bytes()].concat()
}

/// The prefix of every credential of `subject`.
pub fn subject_prefix(subject: &Address) -> Vec<u8> {
    let mut k = CREDENTIAL_PREFIX.to_vec();
    push_len_prefixed(&mut k, subject.as_bytes());
    k
}

pub fn credential_key(subject: &Address, issuer: &Address, credential_type: &str) -> Vec<u8> {
    let mut k = subject_prefix(subject);
    push_len_prefixed(&mut k, issuer.as_bytes());
    k.extend_from_slice(credential_type.as_bytes());
    k
}

/// The prefix of every credential `issuer` created.
pub fn by_issuer_prefix(issuer: &Address) -> Vec<u8> {
    let mut k = BY_ISSUER_PREFIX.to_vec();
    push_len_prefixed(&mut k, issuer.as_bytes());
    k
}

pub fn by_issuer_key(issuer: &Address, subject: &Address, credential_type: &str) -> Vec<u8> {
    let mut k = by_issuer_prefix(issuer);
    push_len_prefixed(&mut k, subject.as_bytes());
    k.extend_from_slice(credential_type.as_bytes());
    k
}

pub fn policy_key(id: u64) -> Vec<u8> {
    [POLICY_PREFIX, &id.to_be_bytes()].concat()
}

/// The prefix of every version of policy `id`.
pub fn policy_versions_prefix(id: u64) -> Vec<u8> {
    [POLICY_VERSION_PREFIX, &id.to_be_bytes()].concat()
}

pub fn policy_version_key(id: u64, version: u64) -> Vec<u8> {
    [POLICY_VERSION_PREFIX, &id.to_be_bytes(), &version.to_be_bytes()].concat()
}

/// The prefix of every member of policy `id`'s list.
pub fn policy_members_prefix(id: u64) -> Vec<u8> {
    [POLICY_MEMBER_PREFIX, &id.to_be_bytes()].concat()
}

pub fn policy_member_key(id: u64, member: &Address) -> Vec<u8> {
    [POLICY_MEMBER_PREFIX, &id.to_be_bytes(), member.as_bytes()].concat()
}

/// The key of `denom`'s policy; the empty denom is the global policy.
pub fn denom_policy_key(denom: &str) -> Vec<u8> {
    [DENOM_POLICY_PREFIX, denom.as_bytes()].concat()
}

pub fn proposal_key(id: u64) -> Vec<u8> {
    [PROPOSAL_PREFIX, &id.to_be_bytes()].concat()
}

pub fn sanction_key(addr: &Address) -> Vec<u8> {
    [SANCTION_PREFIX, addr.as_bytes()].concat()
}

/// Orders like the time: seconds with the sign bit flipped, then nanos.
pub fn deadline_key(seconds: i64, nanos: i32, id: u64) -> Vec<u8> {
    timed_key(DEADLINE_PREFIX, seconds, nanos, id)
}

pub fn hold_deadline_key(seconds: i64, nanos: i32, id: u64) -> Vec<u8> {
    timed_key(HOLD_DEADLINE_PREFIX, seconds, nanos, id)
}

fn timed_key(prefix: &[u8], seconds: i64, nanos: i32, id: u64) -> Vec<u8> {
    let s = (seconds as u64) ^ (1 << 63);
    [prefix, &s.to_be_bytes(), &(nanos.max(0) as u32).to_be_bytes(), &id.to_be_bytes()].concat()
}

/// `(seconds, nanos, id)` of a deadline key under `prefix`.
pub fn split_timed_key(prefix: &[u8], key: &[u8]) -> Option<(i64, i32, u64)> {
    let rest = key.strip_prefix(prefix)?;
    if rest.len() != 20 {
        return None;
    }
    let s = u64::from_be_bytes(rest[..8].try_into().ok()?) ^ (1 << 63);
    let n = u32::from_be_bytes(rest[8..12].try_into().ok()?);
    let id = u64::from_be_bytes(rest[12..].try_into().ok()?);
    Some((s as i64, i32::try_from(n).ok()?, id))
}

pub fn hold_key(id: u64) -> Vec<u8> {
    [HOLD_PREFIX, &id.to_be_bytes()].concat()
}

/// The prefix of every hold `party` sent or was to receive.
pub fn hold_party_prefix(party: &Address) -> Vec<u8> {
    let mut k = HOLD_PARTY_PREFIX.to_vec();
    push_len_prefixed(&mut k, party.as_bytes());
    k
}

pub fn hold_party_key(party: &Address, id: u64) -> Vec<u8> {
    [hold_party_prefix(party).as_slice(), &id.to_be_bytes()].concat()
}

pub fn hold_status_prefix(status: i32) -> Vec<u8> {
    [HOLD_STATUS_PREFIX, &[u8::try_from(status).unwrap_or(u8::MAX)]].concat()
}

pub fn hold_status_key(status: i32, id: u64) -> Vec<u8> {
    [hold_status_prefix(status).as_slice(), &id.to_be_bytes()].concat()
}

pub fn velocity_limit_key(denom: &str) -> Vec<u8> {
    [VELOCITY_LIMIT_PREFIX, denom.as_bytes()].concat()
}

pub fn risk_rules_version_key(version: u64) -> Vec<u8> {
    [RISK_RULES_VERSION_PREFIX, &version.to_be_bytes()].concat()
}

pub fn risk_votes_prefix(base_version: u64) -> Vec<u8> {
    [RISK_VOTE_PREFIX, &base_version.to_be_bytes()].concat()
}

pub fn risk_vote_key(base_version: u64, content_hash: &str) -> Vec<u8> {
    [risk_votes_prefix(base_version).as_slice(), content_hash.as_bytes()].concat()
}

pub fn first_seen_key(account: &Address) -> Vec<u8> {
    [FIRST_SEEN_PREFIX, account.as_bytes()].concat()
}

pub fn travel_rule_key(denom: &str) -> Vec<u8> {
    [TRAVEL_RULE_PREFIX, denom.as_bytes()].concat()
}

pub fn account_usage_key(account: &Address, denom: &str) -> Vec<u8> {
    let mut k = ACCOUNT_USAGE_PREFIX.to_vec();
    push_len_prefixed(&mut k, account.as_bytes());
    k.extend_from_slice(denom.as_bytes());
    k
}

/// Channel ids are at most 64 bytes (validated when parsed).
fn channel_key(prefix: &[u8], channel: &str, denom: &str) -> Vec<u8> {
    let mut k = prefix.to_vec();
    push_len_prefixed(&mut k, channel.as_bytes());
    k.extend_from_slice(denom.as_bytes());
    k
}

pub fn corridor_limit_key(channel: &str, denom: &str) -> Vec<u8> {
    channel_key(CORRIDOR_LIMIT_PREFIX, channel, denom)
}

pub fn corridor_usage_key(channel: &str, denom: &str) -> Vec<u8> {
    channel_key(CORRIDOR_USAGE_PREFIX, channel, denom)
}

/// `(length-prefixed part, rest)` of a key under `prefix` (usage and corridor keys).
pub fn split_len_prefixed<'a>(prefix: &[u8], key: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    let rest = key.strip_prefix(prefix)?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    (rest.len() >= len).then(|| rest.split_at(len))
}
