//! The public keys an account can hold: a compressed secp256k1 key, or the
//! SDK's threshold multisig `cosmos.crypto.multisig.LegacyAminoPubKey` (m of n
//! keys, each a secp256k1 key or, nested, another multisig).
//!
//! A multisig's address is the SDK's (CometBFT's `AddressHash`): the first 20
//! bytes of sha256 of the key's amino binary encoding
//! (`22c1f7e2 08 <threshold varint> (12 <len varint> <amino sub-key>)*`, a
//! secp256k1 sub-key being `eb5ae987 21 <33 bytes>`), as CosmJS's
//! `pubkeyToRawAddress` computes it.

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::crypto::multisig::LegacyAminoPubKey;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as ProtoSecp256k1;
use cosmos_sdk_proto::Any;
use paychain_framework::{sdk, Address, SdkError};
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const SECP256K1_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
pub const MULTISIG_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";
/// Compressed secp256k1 public key length.
pub const SECP256K1_PUBKEY_LEN: usize = 33;
/// How deep multisigs may nest (a multisig inside a multisig is depth 2). The
/// SDK has no limit; ours keeps decoding of hostile input off deep recursion.
/// The tx sig limit (every sub-key counts) bounds real keys far earlier.
pub const MAX_MULTISIG_DEPTH: usize = 4;

const AMINO_PREFIX_SECP256K1: [u8; 5] = [0xeb, 0x5a, 0xe9, 0x87, 0x21];
const AMINO_PREFIX_MULTISIG: [u8; 4] = [0x22, 0xc1, 0xf7, 0xe2];

/// A threshold multisig key: `threshold` of `keys` must sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultisigPubKey {
    pub threshold: u32,
    /// In the key's order (the SDK CLI sorts by address unless `--nosort`).
    /// Duplicates are allowed, as in the SDK: each position must sign on its own.
    pub keys: Vec<PubKey>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PubKey {
    /// 33-byte compressed secp256k1 key.
    Secp256k1(Vec<u8>),
    Multisig(MultisigPubKey),
}

impl PubKey {
    /// A checked secp256k1 key.
    pub fn secp256k1(key: &[u8]) -> Result<Self, SdkError> {
        validate_secp256k1_pubkey(key)?;
        Ok(PubKey::Secp256k1(key.to_vec()))
    }

    /// A checked multisig key (1 ≤ threshold ≤ number of keys, nesting bounded).
    pub fn multisig(threshold: u32, keys: Vec<PubKey>) -> Result<Self, SdkError> {
        let key = PubKey::Multisig(MultisigPubKey { threshold, keys });
        key.validate_at(1)?;
        Ok(key)
    }

    /// Decodes a key `Any` (secp256k1 or LegacyAminoPubKey) and checks it.
    pub fn from_any(any: &Any) -> Result<Self, SdkError> {
        Self::from_any_at(any, 0)
    }

    fn from_any_at(any: &Any, depth: usize) -> Result<Self, SdkError> {
        match any.type_url.as_str() {
            SECP256K1_PUBKEY_TYPE_URL => {
                let pk = ProtoSecp256k1::decode(any.value.as_slice())
                    .map_err(|e| sdk::invalid_pubkey(format!("decoding secp256k1 PubKey: {e}")))?;
                Self::secp256k1(&pk.key)
            }
            MULTISIG_PUBKEY_TYPE_URL => {
                if depth + 1 > MAX_MULTISIG_DEPTH {
                    return Err(sdk::invalid_pubkey(format!(
                        "multisig keys nest deeper than {MAX_MULTISIG_DEPTH} levels"
                    )));
                }
                let m = LegacyAminoPubKey::decode(any.value.as_slice())
                    .map_err(|e| sdk::invalid_pubkey(format!("decoding LegacyAminoPubKey: {e}")))?;
                let keys =
                    m.public_keys.iter().map(|k| Self::from_any_at(k, depth + 1)).collect::<Result<Vec<_>, _>>()?;
                let key = PubKey::Multisig(MultisigPubKey { threshold: m.threshold, keys });
                key.validate_at(depth + 1)?;
                Ok(key)
            }
            other => Err(sdk::invalid_pubkey(format!(
                "unsupported pubkey type {other:?}; supported: {SECP256K1_PUBKEY_TYPE_URL}, {MULTISIG_PUBKEY_TYPE_URL}"
            ))),
        }
    }

    /// Threshold and nesting checks (sub-keys are checked when built).
    fn validate_at(&self, depth: usize) -> Result<(), SdkError> {
        let PubKey::Multisig(m) = self else { return Ok(()) };
        if depth > MAX_MULTISIG_DEPTH {
            return Err(sdk::invalid_pubkey(format!("multisig keys nest deeper than {MAX_MULTISIG_DEPTH} levels")));
        }
        // The SDK's NewLegacyAminoPubKey refuses these (it panics); a key with
        // threshold 0 would need no signature at all.
        if m.threshold == 0 {
            return Err(sdk::invalid_pubkey("threshold k of n multisignature: k <= 0"));
        }
        if (m.keys.len() as u64) < u64::from(m.threshold) {
            return Err(sdk::invalid_pubkey(format!(
                "threshold k of n multisignature: len(pubKeys) {} < k {}",
                m.keys.len(),
                m.threshold
            )));
        }
        m.keys.iter().try_for_each(|k| k.validate_at(depth + 1))
    }

    pub fn to_any(&self) -> Any {
        match self {
            PubKey::Secp256k1(k) => Any {
                type_url: SECP256K1_PUBKEY_TYPE_URL.to_string(),
                value: ProtoSecp256k1 { key: k.clone() }.encode_to_vec(),
            },
            PubKey::Multisig(m) => Any {
                type_url: MULTISIG_PUBKEY_TYPE_URL.to_string(),
                value: LegacyAminoPubKey {
                    threshold: m.threshold,
                    public_keys: m.keys.iter().map(PubKey::to_any).collect(),
                }
                .encode_to_vec(),
            },
        }
    }

    /// The key's amino binary encoding (what its address hashes).
    pub fn amino_bytes(&self) -> Vec<u8> {
        match self {
            PubKey::Secp256k1(k) => [&AMINO_PREFIX_SECP256K1[..], k].concat(),
            PubKey::Multisig(m) => {
                let mut out = AMINO_PREFIX_MULTISIG.to_vec();
                out.push(0x08);
                put_uvarint(&mut out, u64::from(m.threshold));
                for k in &m.keys {
                    let sub = k.amino_bytes();
                    out.push(0x12);
                    put_uvarint(&mut out, sub.len() as u64);
                    out.extend_from_slice(&sub);
                }
                out
            }
        }
    }

    /// The account address this key controls.
    pub fn address(&self) -> Address {
        match self {
            PubKey::Secp256k1(k) => Address::from_secp256k1_pubkey(k),
            PubKey::Multisig(_) => {
                let hash = Sha256::digest(self.amino_bytes());
                Address::from_bytes(hash[..20].to_vec()).expect("20 bytes is a valid address length")
            }
        }
    }

    /// The SDK's `CountSubKeys`: 1 for a single key, the sum over sub-keys for a multisig.
    pub fn count_sub_keys(&self) -> u64 {
        match self {
            PubKey::Secp256k1(_) => 1,
            PubKey::Multisig(m) => m.keys.iter().map(PubKey::count_sub_keys).fold(0u64, u64::saturating_add),
        }
    }

    pub fn as_secp256k1(&self) -> Option<&[u8]> {
        match self {
            PubKey::Secp256k1(k) => Some(k),
            PubKey::Multisig(_) => None,
        }
    }

    /// Proto3 JSON as the SDK prints it in accounts and genesis
    /// (`{"@type", "key"}`, or `{"@type", "threshold", "public_keys"}`).
    pub fn to_json(&self) -> Value {
        match self {
            PubKey::Secp256k1(k) => json!({
                "@type": SECP256K1_PUBKEY_TYPE_URL,
                "key": base64::engine::general_purpose::STANDARD.encode(k),
            }),
            PubKey::Multisig(m) => json!({
                "@type": MULTISIG_PUBKEY_TYPE_URL,
                "threshold": m.threshold,
                "public_keys": m.keys.iter().map(PubKey::to_json).collect::<Vec<_>>(),
            }),
        }
    }

    /// Reads [`PubKey::to_json`]'s form; errors name the field at `path`.
    pub fn from_json(v: &Value, path: &str) -> Result<Self, String> {
        Self::from_json_at(v, path, 0)
    }

    fn from_json_at(v: &Value, path: &str, depth: usize) -> Result<Self, String> {
        let o = crate::json::Obj::new(v, path)?;
        let ty = o.string("@type")?;
        match ty.as_str() {
            SECP256K1_PUBKEY_TYPE_URL => {
                o.deny_unknown(&["@type", "key"])?;
                let key = base64::engine::general_purpose::STANDARD
                    .decode(o.string("key")?)
                    .map_err(|e| format!("{}: invalid base64: {e}", o.field("key")))?;
                Self::secp256k1(&key).map_err(|e| format!("{}: {}", o.field("key"), e.log))
            }
            MULTISIG_PUBKEY_TYPE_URL => {
                o.deny_unknown(&["@type", "threshold", "public_keys"])?;
                if depth + 1 > MAX_MULTISIG_DEPTH {
                    return Err(format!("{path}: multisig keys nest deeper than {MAX_MULTISIG_DEPTH} levels"));
                }
                let threshold = u32::try_from(o.u64_or("threshold", 0)?)
                    .map_err(|_| format!("{}: out of range", o.field("threshold")))?;
                let field = o.field("public_keys");
                let keys = o
                    .array("public_keys")?
                    .iter()
                    .enumerate()
                    .map(|(i, k)| Self::from_json_at(k, &crate::json::index(&field, i), depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                let key = PubKey::Multisig(MultisigPubKey { threshold, keys });
                key.validate_at(depth + 1).map_err(|e| format!("{path}: {}", e.log))?;
                Ok(key)
            }
            other => Err(format!(
                "{}: unsupported pubkey type {other:?} (expected {SECP256K1_PUBKEY_TYPE_URL} or {MULTISIG_PUBKEY_TYPE_URL})",
                o.field("@type")
            )),
        }
    }
}

/// Checks a compressed secp256k1 key's shape (length and prefix byte).
/// Whether the point is on the curve is left to signature verification.
pub fn validate_secp256k1_pubkey(key: &[u8]) -> Result<(), SdkError> {
    if key.len() != SECP256K1_PUBKEY_LEN || !matches!(key[0], 0x02 | 0x03) {
        return Err(sdk::invalid_pubkey(format!(
            "secp256k1 pubkey must be {SECP256K1_PUBKEY_LEN} bytes starting with 0x02 or 0x03, got {} bytes",
            key.len()
        )));
    }
    Ok(())
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> PubKey {
        let mut k = vec![0x02];
        k.extend([b; 32]);
        PubKey::Secp256k1(k)
    }

    #[test]
    fn multisig_round_trips_and_is_checked() {
        let m = PubKey::multisig(2, vec![key(1), key(2), key(3)]).unwrap();
        assert_eq!(PubKey::from_any(&m.to_any()).unwrap(), m);
        assert_eq!(PubKey::from_json(&m.to_json(), "pk").unwrap(), m);
        assert_eq!(m.count_sub_keys(), 3);
        let nested = PubKey::multisig(1, vec![m.clone(), key(4)]).unwrap();
        assert_eq!(nested.count_sub_keys(), 4);
        assert_eq!(PubKey::from_any(&nested.to_any()).unwrap(), nested);
        assert_eq!(PubKey::multisig(0, vec![key(1)]).unwrap_err().code, 8);
        assert_eq!(PubKey::multisig(3, vec![key(1), key(2)]).unwrap_err().code, 8);
        let mut deep = key(1);
        for _ in 0..MAX_MULTISIG_DEPTH {
            deep = PubKey::Multisig(MultisigPubKey { threshold: 1, keys: vec![deep] });
        }
        assert!(PubKey::from_any(&deep.to_any()).is_ok());
        let deeper = PubKey::Multisig(MultisigPubKey { threshold: 1, keys: vec![deep] });
        assert!(PubKey::from_any(&deeper.to_any()).unwrap_err().log.contains("nest deeper"));
        assert!(PubKey::from_any(&Any { type_url: MULTISIG_PUBKEY_TYPE_URL.into(), value: vec![0xff] }).is_err());
    }

    /// Produced with @cosmjs/amino 0.39 in node (tests/js/node_modules): the
    /// compressed keys of secp256k1 secrets [1; 32], [2; 32], [3; 32];
    /// `createMultisigThresholdPubkey([k1, k2, k3], 2)` (sorted by address:
    /// k3, k1, k2), then `encodeAminoPubkey` and `pubkeyToAddress(ms, "pay")`;
    /// the nested one is `createMultisigThresholdPubkey([ms, k3], 1, true)`.
    #[test]
    fn address_matches_cosmjs() {
        let k = |h: &str| PubKey::Secp256k1(hex_bytes(h));
        let k1 = k("031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");
        let k2 = k("024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766");
        let k3 = k("02531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe337");
        let mut keys = vec![k1, k2, k3.clone()];
        keys.sort_by_key(|k| k.address().as_bytes().to_vec());
        let ms = PubKey::multisig(2, keys).unwrap();
        assert_eq!(
            ms.amino_bytes(),
            hex_bytes(
                "22c1f7e208021226eb5ae9872102531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe3371226eb5ae9\
                 8721031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f1226eb5ae98721024d4b6cd1361032ca\
                 9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
            )
        );
        assert_eq!(ms.address().to_string(), "pay10522r7w8h7s4pwu0sp7lxthcmjatdxcnddjyff");
        let nested = PubKey::multisig(1, vec![ms, k3]).unwrap();
        assert_eq!(nested.address().to_string(), "pay18pm88altusycmjut0z6vcttmyk2fmt2lulxgwx");
    }

    fn hex_bytes(h: &str) -> Vec<u8> {
        (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
    }
}
