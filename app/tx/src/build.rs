//! Building and signing single-signer transactions (SIGN_MODE_DIRECT,
//! secp256k1), byte for byte as CosmJS and the SDK CLI do.

use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw};
use cosmos_sdk_proto::Any;
use paychain_framework::Coins;
use prost::Message as _;
use secp256k1::{Message, PublicKey, SecretKey, SECP256K1};
use sha2::{Digest, Sha256};

use crate::decode::SECP256K1_PUBKEY_TYPE_URL;
use crate::sign::direct_sign_bytes;

/// A compressed secp256k1 public key as the `Any` signers carry.
pub fn pubkey_any(compressed: &[u8]) -> Any {
    Any { type_url: SECP256K1_PUBKEY_TYPE_URL.to_string(), value: PubKey { key: compressed.to_vec() }.encode_to_vec() }
}

pub fn tx_body(messages: Vec<Any>, memo: &str, timeout_height: u64) -> TxBody {
    TxBody { messages, memo: memo.to_string(), timeout_height, ..Default::default() }
}

pub fn fee(amount: &Coins, gas_limit: u64) -> Fee {
    Fee { amount: amount.to_proto(), gas_limit, payer: String::new(), granter: String::new() }
}

/// AuthInfo with a single signer.
pub fn auth_info(compressed_pubkey: &[u8], sequence: u64, mode: SignMode, fee: Fee) -> AuthInfo {
    AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(pubkey_any(compressed_pubkey)),
            mode_info: Some(ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: mode as i32 })) }),
            sequence,
        }],
        fee: Some(fee),
        // `tip` is deprecated and left unset.
        ..Default::default()
    }
}

/// secp256k1 over sha256(sign doc): 64 bytes r‖s. libsecp256k1 always
/// produces low-S signatures, which is what the SDK's verifier demands.
pub fn sign_bytes(sign_doc: &[u8], key: &SecretKey) -> [u8; 64] {
    let digest: [u8; 32] = Sha256::digest(sign_doc).into();
    SECP256K1.sign_ecdsa(&Message::from_digest(digest), key).serialize_compact()
}

/// Who signs, and the on-chain numbers the signature binds.
pub struct SignerData<'a> {
    pub key: &'a SecretKey,
    pub chain_id: &'a str,
    pub account_number: u64,
    pub sequence: u64,
}

/// Builds, signs (DIRECT) and encodes a single-signer transaction; returns the `TxRaw` bytes.
pub fn build_signed_tx(body: &TxBody, fee: Fee, signer: &SignerData<'_>) -> Vec<u8> {
    let pubkey = PublicKey::from_secret_key(SECP256K1, signer.key).serialize();
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth_info(&pubkey, signer.sequence, SignMode::Direct, fee).encode_to_vec();
    let doc = direct_sign_bytes(&body_bytes, &auth_info_bytes, signer.chain_id, signer.account_number);
    let signature = sign_bytes(&doc, signer.key);
    TxRaw { body_bytes, auth_info_bytes, signatures: vec![signature.to_vec()] }.encode_to_vec()
}

/// The transaction `Simulate` is asked to run, in the form CosmJS sends: the
/// signer's public key and sequence, sign mode UNSPECIFIED, gas 0, and one
/// empty signature (the node skips signature checks there). `fee_amount` should
/// be non-empty when the real tx pays a fee: deducting it costs gas too, and
/// an empty fee would leave that out of the estimate.
pub fn build_simulation_tx(body: &TxBody, compressed_pubkey: &[u8], sequence: u64, fee_amount: &Coins) -> Vec<u8> {
    let auth = auth_info(compressed_pubkey, sequence, SignMode::Unspecified, fee(fee_amount, 0));
    TxRaw { body_bytes: body.encode_to_vec(), auth_info_bytes: auth.encode_to_vec(), signatures: vec![Vec::new()] }
        .encode_to_vec()
}

/// The tx hash CometBFT indexes: uppercase hex sha256 of the `TxRaw` bytes.
pub fn tx_hash(tx_bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(tx_bytes))
}

/// The `SignerInfo` of a multisig signer whose sub-signatures use `modes`
/// (one per signature, in key order) with `bits` marking the keys that signed.
pub fn multisig_signer_info(
    key: &crate::multisig::PubKey,
    sequence: u64,
    bits: &[bool],
    modes: &[SignMode],
) -> SignerInfo {
    SignerInfo {
        public_key: Some(key.to_any()),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                bitarray: Some(crate::multisig::compact_bit_array(bits)),
                mode_infos: modes
                    .iter()
                    .map(|m| ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: *m as i32 })) })
                    .collect(),
            })),
        }),
        sequence,
    }
}

/// A multisig's combined signature: the protobuf `MultiSignature` of the
/// sub-signatures in key order (what `TxRaw.signatures` holds for it).
pub fn multi_signature_bytes(signatures: &[Vec<u8>]) -> Vec<u8> {
    cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::MultiSignature { signatures: signatures.to_vec() }
        .encode_to_vec()
}

/// Builds a tx signed by one multisig account whose keys signed with
/// SIGN_MODE_LEGACY_AMINO_JSON: `sigs[i]` is key i's signature, if it signed
/// (as `simd tx multisign` and CosmJS's `makeMultisignedTxBytes`).
pub fn build_multisigned_tx(
    body: &TxBody,
    fee: Fee,
    key: &crate::multisig::PubKey,
    sequence: u64,
    sigs: &[Option<Vec<u8>>],
) -> Vec<u8> {
    let bits: Vec<bool> = sigs.iter().map(Option::is_some).collect();
    let present: Vec<Vec<u8>> = sigs.iter().flatten().cloned().collect();
    let modes = vec![SignMode::LegacyAminoJson; present.len()];
    let auth = AuthInfo {
        signer_infos: vec![multisig_signer_info(key, sequence, &bits, &modes)],
        fee: Some(fee),
        ..Default::default()
    };
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures: vec![multi_signature_bytes(&present)],
    }
    .encode_to_vec()
}
