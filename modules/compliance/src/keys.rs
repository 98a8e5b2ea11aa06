//! State layout of the `compliance` substore.
//!
//! | key                                                          | value                      |
//! |--------------------------------------------------------------|----------------------------|
//! | `0x01 ++ issuer`                                             | `CredentialIssuer`         |
//! | `0x02 ++ len(subject) ++ subject ++ len(issuer) ++ issuer ++ type` | `Credential`         |
//! | `0x03 ++ len(issuer) ++ issuer ++ len(subject) ++ subject ++ type` | `[0]` (by issuer)    |
//!
//! Whether an account holds a credential is one read of its record and one of its
//! issuer's: O(1), never a scan.

use paychain_framework::Address;

pub const MODULE_NAME: &str = "compliance";
pub const STORE_KEY: &str = "compliance";

pub const ISSUER_PREFIX: &[u8] = &[0x01];
pub const CREDENTIAL_PREFIX: &[u8] = &[0x02];
pub const BY_ISSUER_PREFIX: &[u8] = &[0x03];

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
