//! State layout of the escrow substore.
//!
//! | key                                                   | value                                  |
//! |-------------------------------------------------------|----------------------------------------|
//! | `0x01`                                                | `Params` (tagged protobuf)             |
//! | `0x02`                                                | next escrow id, u64 big-endian         |
//! | `0x03 ++ id`                                          | `Escrow` (protobuf)                    |
//! | `0x04 ++ len(addr) ++ addr ++ id`                     | `[0]` (escrows by sender)              |
//! | `0x05 ++ len(addr) ++ addr ++ id`                     | `[0]` (escrows by recipient)           |
//! | `0x06 ++ len(addr) ++ addr ++ id`                     | `[0]` (escrows by arbiter)             |
//! | `0x07 ++ refund_after.seconds ++ refund_after.nanos ++ id` | `[0]` (open escrows with a deadline) |
//!
//! Ids are u64 big-endian, so every prefix scan runs in id order; the address
//! is length-prefixed so one address's prefix never covers another's. The
//! expiry index orders open escrows by deadline (seconds as u64, nanos as u32,
//! both big-endian; deadlines are validated to be on or after 1970), so the end
//! block walks only what is due. Closed escrows are kept (history, and a clear
//! "closed" error for late actions); they leave only the expiry index.

use crate::time::Timestamp;
use paychain_framework::Address;

pub const MODULE_NAME: &str = "escrow";
pub const STORE_KEY: &str = "escrow";

pub const PARAMS_KEY: &[u8] = &[0x01];
pub const NEXT_ID_KEY: &[u8] = &[0x02];
pub const ESCROW_PREFIX: &[u8] = &[0x03];
pub const BY_SENDER_PREFIX: &[u8] = &[0x04];
pub const BY_RECIPIENT_PREFIX: &[u8] = &[0x05];
pub const BY_ARBITER_PREFIX: &[u8] = &[0x06];
pub const EXPIRY_PREFIX: &[u8] = &[0x07];

/// Marker value of an index entry (the Merkle store cannot prove empty values).
pub const INDEX_MARKER: &[u8] = &[0];

pub fn escrow_key(id: u64) -> Vec<u8> {
    [ESCROW_PREFIX, &id.to_be_bytes()].concat()
}

/// The id of a full escrow key, or of the id part of an index key.
pub fn id_from_bytes(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn len_prefixed(bytes: &[u8]) -> Vec<u8> {
    // Addresses are at most 255 bytes (the framework's `Address` guarantees it).
    let len = u8::try_from(bytes.len()).expect("address longer than 255 bytes");
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(len);
    out.extend_from_slice(bytes);
    out
}

/// Which party index an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Sender,
    Recipient,
    Arbiter,
}

impl Party {
    fn prefix(self) -> &'static [u8] {
        match self {
            Party::Sender => BY_SENDER_PREFIX,
            Party::Recipient => BY_RECIPIENT_PREFIX,
            Party::Arbiter => BY_ARBITER_PREFIX,
        }
    }
}

/// Prefix of `addr`'s entries in one party index; the rest of a key is the id.
pub fn party_prefix(party: Party, addr: &Address) -> Vec<u8> {
    [party.prefix(), &len_prefixed(addr.as_bytes())].concat()
}

/// Prefix of a whole party index.
pub fn party_index_prefix(party: Party) -> &'static [u8] {
    party.prefix()
}

pub fn party_key(party: Party, addr: &Address, id: u64) -> Vec<u8> {
    [party_prefix(party, addr).as_slice(), &id.to_be_bytes()].concat()
}

/// Splits a full party index key into (address bytes, id).
pub fn split_party_key(party: Party, key: &[u8]) -> Option<(&[u8], u64)> {
    let rest = key.strip_prefix(party.prefix())?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if rest.len() != len + 8 {
        return None;
    }
    let (addr, id) = rest.split_at(len);
    Some((addr, id_from_bytes(id)?))
}

/// The expiry index key of an escrow refundable from `deadline` (a validated
/// timestamp: seconds >= 0, nanos in range).
pub fn expiry_key(deadline: &Timestamp, id: u64) -> Vec<u8> {
    let seconds = u64::try_from(deadline.seconds).expect("validated deadline is not before 1970");
    let nanos = u32::try_from(deadline.nanos).expect("validated nanos are not negative");
    [EXPIRY_PREFIX, &seconds.to_be_bytes(), &nanos.to_be_bytes(), &id.to_be_bytes()].concat()
}

/// Splits a full expiry key into (deadline, id).
pub fn split_expiry_key(key: &[u8]) -> Option<(Timestamp, u64)> {
    let rest = key.strip_prefix(EXPIRY_PREFIX)?;
    if rest.len() != 20 {
        return None;
    }
    let seconds = i64::try_from(u64::from_be_bytes(rest[..8].try_into().ok()?)).ok()?;
    let nanos = i32::try_from(u32::from_be_bytes(rest[8..12].try_into().ok()?)).ok()?;
    Some((Timestamp { seconds, nanos }, id_from_bytes(&rest[12..])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back_and_sort_by_id_and_deadline() {
        let a = Address::from_bytes(vec![9; 20]).unwrap();
        let k = party_key(Party::Arbiter, &a, 258);
        assert_eq!(split_party_key(Party::Arbiter, &k), Some((&[9u8; 20][..], 258)));
        assert_eq!(split_party_key(Party::Sender, &k), None);
        assert!(k.starts_with(&party_prefix(Party::Arbiter, &a)));
        // A 20-byte address is not a prefix of a 21-byte one that starts the same way.
        let longer = Address::from_bytes(vec![9; 21]).unwrap();
        assert!(!party_key(Party::Sender, &longer, 1).starts_with(&party_prefix(Party::Sender, &a)));
        assert!(party_key(Party::Sender, &a, 2) < party_key(Party::Sender, &a, 256));
        let t = |seconds, nanos| Timestamp { seconds, nanos };
        assert!(expiry_key(&t(5, 999), 9) < expiry_key(&t(6, 0), 1));
        assert!(expiry_key(&t(6, 0), 9) < expiry_key(&t(6, 1), 1));
        assert_eq!(split_expiry_key(&expiry_key(&t(6, 7), 8)), Some((t(6, 7), 8)));
        assert_eq!(id_from_bytes(&escrow_key(77)[1..]), Some(77));
    }
}
