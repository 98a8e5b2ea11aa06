//! State layout of the `assets` substore.
//!
//! | key                                                | value                    |
//! |----------------------------------------------------|--------------------------|
//! | `0x01 ++ denom`                                    | `Token` (protobuf)       |
//! | `0x02 ++ len(denom) ++ denom ++ addr`              | `Minter` (protobuf)      |
//! | `0x03 ++ len(denom) ++ denom ++ addr`              | `Holder` (protobuf)      |
//! | `0x04 ++ len(issuer) ++ issuer ++ denom`           | `[0]` (tokens by issuer) |
//! | `0x05`                                             | `Params` (protobuf)      |
//!
//! A transfer of an issued token reads the token and one `Holder` per party:
//! O(1) lookups, never a scan.

use paychain_framework::Address;

pub const MODULE_NAME: &str = "assets";
pub const STORE_KEY: &str = "assets";

pub const TOKEN_PREFIX: &[u8] = &[0x01];
pub const MINTER_PREFIX: &[u8] = &[0x02];
pub const HOLDER_PREFIX: &[u8] = &[0x03];
pub const ISSUER_PREFIX: &[u8] = &[0x04];
pub const PARAMS_KEY: &[u8] = &[0x05];

/// Marker value of an index entry (the Merkle store cannot prove empty values).
pub const INDEX_MARKER: &[u8] = &[0];

fn len_prefixed(prefix: &[u8], bytes: &[u8]) -> Vec<u8> {
    // Denoms are at most 128 bytes and addresses 255 (both validated before here).
    let len = u8::try_from(bytes.len()).expect("denom or address longer than 255 bytes");
    let mut out = Vec::with_capacity(prefix.len() + 1 + bytes.len());
    out.extend_from_slice(prefix);
    out.push(len);
    out.extend_from_slice(bytes);
    out
}

pub fn token_key(denom: &str) -> Vec<u8> {
    [TOKEN_PREFIX, denom.as_bytes()].concat()
}

pub fn minters_prefix(denom: &str) -> Vec<u8> {
    len_prefixed(MINTER_PREFIX, denom.as_bytes())
}

pub fn minter_key(denom: &str, addr: &Address) -> Vec<u8> {
    [minters_prefix(denom).as_slice(), addr.as_bytes()].concat()
}

pub fn holders_prefix(denom: &str) -> Vec<u8> {
    len_prefixed(HOLDER_PREFIX, denom.as_bytes())
}

pub fn holder_key(denom: &str, addr: &Address) -> Vec<u8> {
    [holders_prefix(denom).as_slice(), addr.as_bytes()].concat()
}

pub fn issuer_prefix(issuer: &Address) -> Vec<u8> {
    len_prefixed(ISSUER_PREFIX, issuer.as_bytes())
}

pub fn issuer_key(issuer: &Address, denom: &str) -> Vec<u8> {
    [issuer_prefix(issuer).as_slice(), denom.as_bytes()].concat()
}
