//! State layout of the auth substore. Prefixes follow the SDK v0.50 collections
//! prefixes of x/auth so that raw-store proofs look familiar.
//!
//! | key                                | value                                   |
//! |------------------------------------|-----------------------------------------|
//! | `0x00`                             | `cosmos.auth.v1beta1.Params` (protobuf) |
//! | `0x01 ++ address`                  | account as protobuf `Any`               |
//! | `0x02`                             | next account number, u64 big-endian     |
//! | `0x03 ++ BE(account_number)`       | address bytes (unique index)            |

use paychain_framework::Address;

/// Module name (events, genesis section `app_state.auth`).
pub const MODULE_NAME: &str = "auth";
/// Substore name.
pub const STORE_KEY: &str = "acc";

pub const PARAMS_KEY: &[u8] = &[0x00];
pub const ACCOUNT_PREFIX: &[u8] = &[0x01];
pub const GLOBAL_ACCOUNT_NUMBER_KEY: &[u8] = &[0x02];
pub const ACCOUNT_NUMBER_PREFIX: &[u8] = &[0x03];

pub fn account_key(addr: &Address) -> Vec<u8> {
    [ACCOUNT_PREFIX, addr.as_bytes()].concat()
}

pub fn account_number_key(number: u64) -> Vec<u8> {
    [ACCOUNT_NUMBER_PREFIX, &number.to_be_bytes()[..]].concat()
}
