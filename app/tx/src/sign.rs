//! Signature checks: the SIGN_MODE_DIRECT sign bytes and secp256k1
//! verification with libsecp256k1 (the chain verifies, the client signs, the
//! same bytes).

use cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc;
use prost::Message;
use secp256k1::{ecdsa::Signature, Message as SecpMessage, PublicKey, SECP256K1};
use sha2::{Digest, Sha256};

/// The bytes a SIGN_MODE_DIRECT signature covers.
pub fn direct_sign_bytes(body_bytes: &[u8], auth_info_bytes: &[u8], chain_id: &str, account_number: u64) -> Vec<u8> {
    SignDoc {
        body_bytes: body_bytes.to_vec(),
        auth_info_bytes: auth_info_bytes.to_vec(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}

/// Verifies a 64-byte compact (r||s) secp256k1 signature over sha256(msg).
/// High-S signatures are rejected, as the SDK does.
pub fn verify_secp256k1(pub_key: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    let Ok(pk) = PublicKey::from_slice(pub_key) else { return false };
    let Ok(sig) = Signature::from_compact(signature) else { return false };
    let digest: [u8; 32] = Sha256::digest(msg).into();
    SECP256K1.verify_ecdsa(&SecpMessage::from_digest(digest), &sig, &pk).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::SecretKey;

    #[test]
    fn verifies_direct_signatures_and_rejects_tampering() {
        let sk = SecretKey::from_slice(&[7u8; 32]).unwrap();
        let pk = PublicKey::from_secret_key(SECP256K1, &sk).serialize();
        let msg = direct_sign_bytes(b"body", b"auth", "paychain-1", 3);
        let digest: [u8; 32] = Sha256::digest(&msg).into();
        let sig = SECP256K1.sign_ecdsa(&SecpMessage::from_digest(digest), &sk).serialize_compact();
        assert!(verify_secp256k1(&pk, &msg, &sig));
        let other_chain = direct_sign_bytes(b"body", b"auth", "paychain-2", 3);
        assert!(!verify_secp256k1(&pk, &other_chain, &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!verify_secp256k1(&pk, &msg, &bad));
        assert!(!verify_secp256k1(&pk, &msg, &sig[..63]));
        assert!(!verify_secp256k1(&[2u8; 33], &msg, &sig));
    }
}
