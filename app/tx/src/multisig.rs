//! Threshold multisig signatures, as the Cosmos SDK v0.50 verifies them.
//!
//! On the wire a multisig signer's `SignerInfo` carries the
//! `LegacyAminoPubKey` as its key and `ModeInfo::Multi { bitarray, mode_infos }`;
//! its entry in `TxRaw.signatures` is a protobuf
//! `cosmos.crypto.multisig.v1beta1.MultiSignature { signatures }` holding one
//! sub-signature per set bit, in key order (x/auth/tx's
//! `SignatureDataToModeInfoAndSig`). Each sub-signature is over the sign bytes
//! of its own mode for the multisig account (same account number, sequence and
//! chain id): SIGN_MODE_LEGACY_AMINO_JSON is what `simd tx multisign` and
//! CosmJS's `makeMultisignedTxBytes` produce; SIGN_MODE_DIRECT sub-signatures
//! are accepted when they verify, as the SDK's `VerifyMultisignature` asks its
//! sign-mode handler for each sub-signature's mode (they must cover the final
//! `AuthInfo`, multisig mode info included, so wallets rarely make them).

use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, ModeInfo};
use paychain_auth::pubkey::MAX_MULTISIG_DEPTH;
pub use paychain_auth::pubkey::{MultisigPubKey, PubKey};
use paychain_framework::{sdk, SdkError};
use prost::Message;

use crate::sign_mode::{SIGN_MODE_LEGACY_AMINO_JSON, SIGN_MODE_UNSPECIFIED};

/// A signer's signature as the tx carries it (the SDK's `SignatureData`).
#[derive(Clone, Debug, PartialEq)]
pub enum SigData {
    Single { mode: i32, signature: Vec<u8> },
    Multi { bitarray: CompactBitArray, sigs: Vec<SigData> },
}

impl SigData {
    /// Reads a signer's mode info and raw signature (x/auth/tx's `ModeInfoAndSigToSignatureData`).
    pub fn from_mode_info(mode_info: Option<&ModeInfo>, signature: &[u8]) -> Result<Self, SdkError> {
        Self::from_mode_info_at(mode_info, signature, 0)
    }

    fn from_mode_info_at(mode_info: Option<&ModeInfo>, signature: &[u8], depth: usize) -> Result<Self, SdkError> {
        match mode_info.and_then(|m| m.sum.as_ref()) {
            None => Ok(SigData::Single { mode: SIGN_MODE_UNSPECIFIED, signature: signature.to_vec() }),
            Some(mode_info::Sum::Single(s)) => Ok(SigData::Single { mode: s.mode, signature: signature.to_vec() }),
            Some(mode_info::Sum::Multi(multi)) => {
                if depth + 1 > MAX_MULTISIG_DEPTH {
                    return Err(sdk::tx_decode(format!("multisig mode infos nest deeper than {MAX_MULTISIG_DEPTH}")));
                }
                let decoded = MultiSignature::decode(signature)
                    .map_err(|e| sdk::tx_decode(format!("invalid MultiSignature: {e}")))?;
                // The SDK rejects unknown fields here: they would let anyone
                // bloat (and so change the hash of) a valid tx. Re-encoding
                // must give back exactly the bytes sent.
                if decoded.encode_to_vec() != signature {
                    return Err(sdk::tx_decode("rejecting unrecognized fields found in MultiSignature"));
                }
                if multi.mode_infos.len() != decoded.signatures.len() {
                    return Err(sdk::unauthorized(format!(
                        "multisig has {} mode infos but {} signatures",
                        multi.mode_infos.len(),
                        decoded.signatures.len()
                    )));
                }
                let sigs = multi
                    .mode_infos
                    .iter()
                    .zip(decoded.signatures.iter())
                    .map(|(mi, sig)| Self::from_mode_info_at(Some(mi), sig, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(SigData::Multi { bitarray: multi.bitarray.clone().unwrap_or_default(), sigs })
            }
        }
    }

    /// The SDK's `OnlyLegacyAminoSigners`.
    pub fn only_legacy_amino(&self) -> bool {
        match self {
            SigData::Single { mode, .. } => *mode == SIGN_MODE_LEGACY_AMINO_JSON,
            SigData::Multi { sigs, .. } => sigs.iter().all(SigData::only_legacy_amino),
        }
    }

    /// The `tx{signature}` event values (the SDK's `signatureDataToBz`): a
    /// single signature; for a multisig every sub-signature (flattened) and
    /// then the `MultiSignature` of that flattened list.
    pub fn event_signatures(&self) -> Vec<Vec<u8>> {
        match self {
            SigData::Single { signature, .. } => vec![signature.clone()],
            SigData::Multi { sigs, .. } => {
                let mut all: Vec<Vec<u8>> = sigs.iter().flat_map(SigData::event_signatures).collect();
                let aggregated = MultiSignature { signatures: all.clone() }.encode_to_vec();
                all.push(aggregated);
                all
            }
        }
    }
}

/// The SDK's `CompactBitArray.Count()`; `None` for an array no SDK encoder
/// makes (extra bits ≥ 8, or extra bits with no bytes), which Go would misread.
pub fn bit_count(b: &CompactBitArray) -> Option<usize> {
    match (b.elems.len(), b.extra_bits_stored) {
        (_, 0) => b.elems.len().checked_mul(8),
        (0, _) => None,
        (n, extra) if extra < 8 => (n - 1).checked_mul(8)?.checked_add(extra as usize),
        _ => None,
    }
}

/// Bit `i` (most significant bit of each byte first, as Go and CosmJS).
pub fn bit(b: &CompactBitArray, i: usize) -> bool {
    b.elems.get(i / 8).is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
}

/// A bit array of `bits` (what `simd tx multisign` and CosmJS's `makeCompactBitArray` build).
pub fn compact_bit_array(bits: &[bool]) -> CompactBitArray {
    let mut elems = vec![0u8; bits.len().div_ceil(8)];
    for (i, set) in bits.iter().enumerate() {
        if *set {
            elems[i / 8] |= 0x80 >> (i % 8);
        }
    }
    CompactBitArray { extra_bits_stored: (bits.len() % 8) as u32, elems }
}

/// Checks the bit array and signature list against the key (the first checks
/// of the SDK's `VerifyMultisignature`, which its gas consumer relies on).
fn check_shape(key: &MultisigPubKey, bitarray: &CompactBitArray, sigs: &[SigData]) -> Result<usize, String> {
    let n = key.keys.len();
    let size = bit_count(bitarray)
        .filter(|s| *s == n)
        .ok_or_else(|| format!("bit array size is incorrect, expecting: {n}"))?;
    let threshold = key.threshold as usize;
    if sigs.len() < threshold || sigs.len() > size {
        return Err(format!("signature size is incorrect {}", sigs.len()));
    }
    let set = (0..size).filter(|i| bit(bitarray, *i)).count();
    if set < threshold {
        return Err(format!("not enough signatures set, have {set}, expected {threshold}"));
    }
    // The SDK indexes the signature list by set bits; more set bits than
    // signatures would index past its end.
    if set != sigs.len() {
        return Err(format!("bit array has {set} bits set but there are {} signatures", sigs.len()));
    }
    Ok(size)
}

/// Checks one secp256k1 signature: `(compressed key, signed bytes, signature)`.
pub type VerifySignature<'a> = dyn FnMut(&[u8], &[u8], &[u8]) -> bool + 'a;

/// The SDK's `LegacyAminoPubKey.VerifyMultisignature`. `sign_bytes(mode)` gives
/// the bytes a sub-signature of that mode may cover (one or more spellings);
/// `verify(key, bytes, signature)` checks one secp256k1 signature. The error is
/// the SDK's text.
pub fn verify_multisig(
    key: &MultisigPubKey,
    bitarray: &CompactBitArray,
    sigs: &[SigData],
    sign_bytes: &mut dyn FnMut(i32) -> Result<Vec<Vec<u8>>, SdkError>,
    verify: &mut VerifySignature<'_>,
) -> Result<(), String> {
    let size = check_shape(key, bitarray, sigs)?;
    let mut sig_index = 0usize;
    for i in 0..size {
        if !bit(bitarray, i) {
            continue;
        }
        let (Some(sig), Some(sub_key)) = (sigs.get(sig_index), key.keys.get(i)) else {
            return Err(format!("improper signature data type for index {sig_index}"));
        };
        match (sig, sub_key) {
            (SigData::Single { mode, signature }, PubKey::Secp256k1(pk)) => {
                let candidates = sign_bytes(*mode).map_err(|e| e.log)?;
                if !candidates.iter().any(|bytes| verify(pk, bytes, signature)) {
                    return Err(format!("unable to verify signature at index {i}"));
                }
            }
            (SigData::Multi { bitarray, sigs }, PubKey::Multisig(nested)) => {
                verify_multisig(nested, bitarray, sigs, sign_bytes, verify)?;
            }
            (SigData::Multi { .. }, PubKey::Secp256k1(_)) => {
                return Err(format!("unable to parse pubkey of index {i}"));
            }
            // The SDK would call VerifySignature on the multisig key, which panics.
            (SigData::Single { .. }, PubKey::Multisig(_)) => {
                return Err(format!("a single signature cannot verify the multisig key at index {i}"));
            }
        }
        sig_index += 1;
    }
    Ok(())
}

/// The SDK's `ConsumeMultisignatureVerificationGas`: for every set bit, the
/// sub-key's verification cost (`secp256k1_cost`, or a nested multisig's own
/// sum). `consume` charges the meter.
pub fn consume_multisig_gas(
    key: &MultisigPubKey,
    bitarray: &CompactBitArray,
    sigs: &[SigData],
    secp256k1_cost: u64,
    consume: &mut dyn FnMut(u64) -> Result<(), SdkError>,
) -> Result<(), SdkError> {
    // Go would index out of range (a panic) on a malformed array: refuse it here.
    let size = check_shape(key, bitarray, sigs).map_err(sdk::unauthorized)?;
    let mut sig_index = 0usize;
    for i in 0..size {
        if !bit(bitarray, i) {
            continue;
        }
        let (Some(sig), Some(sub_key)) = (sigs.get(sig_index), key.keys.get(i)) else {
            return Err(sdk::unauthorized(format!("improper signature data type for index {sig_index}")));
        };
        match (sub_key, sig) {
            (PubKey::Secp256k1(_), _) => consume(secp256k1_cost)?,
            (PubKey::Multisig(nested), SigData::Multi { bitarray, sigs }) => {
                consume_multisig_gas(nested, bitarray, sigs, secp256k1_cost, consume)?
            }
            (PubKey::Multisig(_), SigData::Single { .. }) => {
                return Err(sdk::unauthorized(format!(
                    "expected MultiSignatureData for the multisig key at index {i}, got SingleSignatureData"
                )))
            }
        }
        sig_index += 1;
    }
    Ok(())
}

/// Every (sub-key, mode, signature) of a well-formed multisig signature, in
/// order, for a signature pre-pass; malformed parts are skipped (the ante
/// handler refuses them).
pub fn sub_signatures<'a>(
    key: &'a MultisigPubKey,
    bitarray: &'a CompactBitArray,
    sigs: &'a [SigData],
    out: &mut Vec<(&'a [u8], i32, &'a [u8])>,
) {
    let Ok(size) = check_shape(key, bitarray, sigs) else { return };
    let mut sig_index = 0usize;
    for i in 0..size {
        if !bit(bitarray, i) {
            continue;
        }
        match (sigs.get(sig_index), key.keys.get(i)) {
            (Some(SigData::Single { mode, signature }), Some(PubKey::Secp256k1(pk))) => {
                out.push((pk, *mode, signature))
            }
            (Some(SigData::Multi { bitarray, sigs }), Some(PubKey::Multisig(nested))) => {
                sub_signatures(nested, bitarray, sigs, out)
            }
            _ => return,
        }
        sig_index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_arrays_match_the_sdk() {
        let b = compact_bit_array(&[true, false, true]);
        assert_eq!((b.extra_bits_stored, b.elems.clone()), (3, vec![0b1010_0000]));
        assert_eq!(bit_count(&b), Some(3));
        assert!(bit(&b, 0) && !bit(&b, 1) && bit(&b, 2) && !bit(&b, 9));
        let nine = compact_bit_array(&[false; 9]);
        assert_eq!((nine.elems.len(), bit_count(&nine)), (2, Some(9)));
        assert_eq!(bit_count(&compact_bit_array(&[true; 8])), Some(8));
        assert_eq!(bit_count(&CompactBitArray { extra_bits_stored: 3, elems: vec![] }), None);
        assert_eq!(bit_count(&CompactBitArray { extra_bits_stored: 9, elems: vec![1] }), None);
        assert_eq!(bit_count(&CompactBitArray::default()), Some(0));
    }
}
