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
        // `try_with`: a thread tearing down its thread-locals still encodes, unremembered.
        RECENT_ENCODINGS
            .try_with(|recent| {
                let mut recent = recent.borrow_mut();
                if let Some(s) = recent.find(prefix, &self.0) {
                    return s.to_string();
                }
                let s = self.encode_bech32(prefix);
                recent.remember(prefix, &self.0, &s);
                s
            })
            .unwrap_or_else(|_| self.encode_bech32(prefix))
    }

    fn encode_bech32(&self, prefix: &str) -> String {
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

/// How many of a thread's latest encodings [`Address::to_bech32_with_prefix`] keeps.
const RECENT_CAPACITY: usize = 8;

thread_local! {
    /// A tx's events name the same few addresses again and again (its sender in the fee's and
    /// the message's transfer, coin_spent and message events; the recipient; the fee
    /// collector): each is encoded once per tx instead of ~10 times. Encoding is a pure
    /// function, so what is remembered cannot change an answer.
    static RECENT_ENCODINGS: std::cell::RefCell<RecentEncodings> = const { std::cell::RefCell::new(RecentEncodings::new()) };
}

/// A ring of (prefix, address bytes, bech32 string), newest replacing oldest.
struct RecentEncodings {
    entries: Vec<(String, Vec<u8>, String)>,
    next: usize,
}

impl RecentEncodings {
    const fn new() -> Self {
        Self { entries: Vec::new(), next: 0 }
    }

    fn find(&self, prefix: &str, bytes: &[u8]) -> Option<&str> {
        self.entries.iter().find(|(p, b, _)| b == bytes && p == prefix).map(|(_, _, s)| s.as_str())
    }

    fn remember(&mut self, prefix: &str, bytes: &[u8], encoded: &str) {
        let entry = (prefix.to_string(), bytes.to_vec(), encoded.to_string());
        if self.entries.len() < RECENT_CAPACITY {
            self.entries.push(entry);
        } else {
            self.entries[self.next] = entry;
            self.next = (self.next + 1) % RECENT_CAPACITY;
        }
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

    #[test]
    fn remembered_encodings_answer_as_the_codec_does() {
        // More distinct (prefix, address) pairs than the ring holds, revisited out of order,
        // the same bytes under two prefixes, and lengths other than 20.
        let addresses: Vec<Address> =
            (0..12u8).map(|i| Address::from_bytes(vec![i; 20 + usize::from(i % 3) * 6]).unwrap()).collect();
        for round in 0..3 {
            for (i, a) in addresses.iter().enumerate() {
                for prefix in ["pay", "cosmos", "payvaloper"] {
                    let expected = bech32::encode::<Bech32>(Hrp::parse(prefix).unwrap(), a.as_bytes()).unwrap();
                    assert_eq!(a.to_bech32_with_prefix(prefix), expected, "round {round}, address {i}");
                    assert_eq!(a.to_bech32_with_prefix(prefix), expected, "again: round {round}, address {i}");
                }
            }
        }
    }
}
