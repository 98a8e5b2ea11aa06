//! State layout of the `fees` substore.
//!
//! | key               | value                                     |
//! |-------------------|-------------------------------------------|
//! | `0x01`            | the base denom (UTF-8)                    |
//! | `0x02 ++ denom`   | the fee token's rate (its decimal string) |
//!
//! The ante looks up one rate per fee coin: O(1), never a scan.

pub const MODULE_NAME: &str = "fees";
pub const STORE_KEY: &str = "fees";

pub const BASE_DENOM_KEY: &[u8] = &[0x01];
pub const FEE_TOKEN_PREFIX: &[u8] = &[0x02];

pub fn fee_token_key(denom: &str) -> Vec<u8> {
    [FEE_TOKEN_PREFIX, denom.as_bytes()].concat()
}
