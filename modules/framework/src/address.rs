//! Account addresses: 20 bytes, shown as bech32 with the chain's prefix.

use std::fmt;

use bech32::{Bech32, Hrp};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

use crate::bech32_fast;
use crate::error::{sdk, SdkError};

/// The bech32 prefix of account addresses on paychain.
pub const ACCOUNT_PREFIX: &str = "pay";

/// Longest address the SDK accepts (`address.MaxAddrLen`).
pub const MAX_ADDRESS_LEN: usize = 255;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(Vec<u8>);

impl Address {
    /// Wraps raw address bytes (1..=255 bytes, as the SDK's `VerifyAddressFormat`).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, SdkError> {
        let bytes = bytes.into();
        if bytes.is_empty() || bytes.len() > MAX_ADDRESS_LEN {
            return Err(sdk::invalid_address(format!("address length {} out of range", bytes.len())));
        }
        Ok(Self(bytes))
    }

    /// The address of a secp256k1 key: ripemd160(sha256(33-byte compressed key)).
    pub fn from_secp256k1_pubkey(compressed: &[u8]) -> Self {
        let sha = Sha256::digest(compressed);
        Self(Ripemd160::digest(sha).to_vec())
    }

    /// A module account's address: sha256(name)[..20] (the SDK's `address.Module`).
    pub fn module(name: &str) -> Self {
        Self(Sha256::digest(name.as_bytes())[..20].to_vec())
    }

    /// Parses a bech32 address with the `pay` prefix.
    pub fn from_bech32(s: &str) -> Result<Self, SdkError> {
        Self::from_bech32_with_prefix(s, ACCOUNT_PREFIX)
    }

    pub fn from_bech32_with_prefix(s: &str, prefix: &str) -> Result<Self, SdkError> {
        if s.trim().is_empty() {
            return Err(sdk::invalid_address("empty address string is not allowed"));
        }
        if let Some(bytes) = bech32_fast::decode(s, prefix) {
            return Self::from_bytes(bytes);
        }
        let (hrp, data) = bech32::decode(s).map_err(|e| sdk::invalid_address(format!("invalid address {s:?}: {e}")))?;
        if hrp.as_str() != prefix {
            return Err(sdk::invalid_address(format!(
                "invalid Bech32 prefix; expected {prefix}, got {}",
                hrp.as_str()
            )));
        }
        Self::from_bytes(data)
    }

    /// The raw bytes of a bech32 address of any prefix (`cosmos1…`, `osmo1…`):
    /// the same account on every chain that derives addresses alike.
    pub fn from_any_bech32(s: &str) -> Result<Self, SdkError> {
        if s.trim().is_empty() {
            return Err(sdk::invalid_address("empty address string is not allowed"));
        }
        let (_, data) = bech32::decode(s).map_err(|e| sdk::invalid_address(format!("invalid address {s:?}: {e}")))?;
        Self::from_bytes(data)
    }

    pub fn to_bech32_with_prefix(&self, prefix: &str) -> String {
        if let Some(s) = bech32_fast::encode(prefix, &self.0) {
            return s;
        }
        let hrp = Hrp::parse(prefix).expect("prefix is a valid human-readable part");
        bech32::encode::<Bech32>(hrp, &self.0).expect("address length is bounded")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32_with_prefix(ACCOUNT_PREFIX))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl std::str::FromStr for Address {
    type Err = SdkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bech32(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_address_matches_the_sdk() {
        // The SDK's fee collector is cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta.
        let fee = Address::module("fee_collector");
        assert_eq!(fee.to_bech32_with_prefix("cosmos"), "cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta");
    }

    #[test]
    fn bech32_round_trip_and_errors() {
        let a = Address::from_bytes(vec![7u8; 20]).unwrap();
        let s = a.to_string();
        assert!(s.starts_with("pay1"));
        assert_eq!(Address::from_bech32(&s).unwrap(), a);
        assert_eq!(Address::from_bech32(&a.to_bech32_with_prefix("cosmos")).unwrap_err().code, 7);
        assert_eq!(Address::from_bech32("pay1notanaddress").unwrap_err().code, 7);
        assert_eq!(Address::from_bech32("").unwrap_err().code, 7);
    }
}
