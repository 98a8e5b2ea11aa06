//! State layout of the bank substore. Prefixes follow the SDK v0.50
//! collections prefixes of x/bank.
//!
//! | key                                            | value                              |
//! |------------------------------------------------|------------------------------------|
//! | `0x00 ++ denom`                                | total supply, decimal string       |
//! | `0x01 ++ denom`                                | `bank.v1beta1.Metadata` (protobuf) |
//! | `0x02 ++ len(addr) ++ addr ++ denom`           | balance, decimal string (never 0)  |
//! | `0x03 ++ len(denom) ++ denom ++ addr`          | `[0]` (reverse index denom -> owner) |
//! | `0x04 ++ denom`                                | `[1]` enabled / `[0]` disabled     |
//! | `0x05`                                         | `bank.v1beta1.Params` (protobuf)   |
//!
//! One address's balances are one prefix scan, sorted by denom; one denom's
//! owners are one prefix scan of the reverse index. The index value is a
//! one-byte marker because the Merkle store cannot prove empty values.

use paychain_framework::Address;

pub const MODULE_NAME: &str = "bank";
pub const STORE_KEY: &str = "bank";

pub const SUPPLY_PREFIX: &[u8] = &[0x00];
pub const DENOM_METADATA_PREFIX: &[u8] = &[0x01];
pub const BALANCES_PREFIX: &[u8] = &[0x02];
pub const DENOM_ADDRESS_PREFIX: &[u8] = &[0x03];
pub const SEND_ENABLED_PREFIX: &[u8] = &[0x04];
pub const PARAMS_KEY: &[u8] = &[0x05];

/// Marker value of a reverse-index entry.
pub const INDEX_MARKER: &[u8] = &[0];

fn len_prefixed(bytes: &[u8]) -> Vec<u8> {
    // Addresses are at most 255 bytes and denoms at most 128 (both validated
    // before they get here), so one length byte suffices.
    let len = u8::try_from(bytes.len()).expect("address or denom longer than 255 bytes");
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(len);
    out.extend_from_slice(bytes);
    out
}

pub fn supply_key(denom: &str) -> Vec<u8> {
    [SUPPLY_PREFIX, denom.as_bytes()].concat()
}

pub fn denom_metadata_key(denom: &str) -> Vec<u8> {
    [DENOM_METADATA_PREFIX, denom.as_bytes()].concat()
}

/// Prefix of all balances of `addr`.
pub fn balances_prefix(addr: &Address) -> Vec<u8> {
    [BALANCES_PREFIX, &len_prefixed(addr.as_bytes())].concat()
}

pub fn balance_key(addr: &Address, denom: &str) -> Vec<u8> {
    [balances_prefix(addr).as_slice(), denom.as_bytes()].concat()
}

/// Splits a full balance key into (address bytes, denom bytes).
pub fn split_balance_key(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = key.strip_prefix(BALANCES_PREFIX)?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    (rest.len() > len).then(|| rest.split_at(len))
}

/// Prefix of the reverse-index entries of `denom`.
pub fn denom_owners_prefix(denom: &str) -> Vec<u8> {
    [DENOM_ADDRESS_PREFIX, &len_prefixed(denom.as_bytes())].concat()
}

pub fn denom_owner_key(denom: &str, addr: &Address) -> Vec<u8> {
    [denom_owners_prefix(denom).as_slice(), addr.as_bytes()].concat()
}

/// Splits a full reverse-index key into (denom bytes, address bytes).
pub fn split_denom_owner_key(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = key.strip_prefix(DENOM_ADDRESS_PREFIX)?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    (rest.len() > len).then(|| rest.split_at(len))
}

pub fn send_enabled_key(denom: &str) -> Vec<u8> {
    [SEND_ENABLED_PREFIX, denom.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back() {
        let a = Address::from_bytes(vec![9; 20]).unwrap();
        let k = balance_key(&a, "upay");
        assert_eq!(split_balance_key(&k), Some((&[9u8; 20][..], &b"upay"[..])));
        assert!(k.starts_with(&balances_prefix(&a)));
        let k = denom_owner_key("upay", &a);
        assert_eq!(split_denom_owner_key(&k), Some((&b"upay"[..], &[9u8; 20][..])));
        assert_eq!(split_balance_key(&[0x02, 5, 1]), None);
    }
}
