//! The verified-signature cache FinalizeBlock's parallel pass fills and the
//! in-order tx runner reads.

use std::collections::HashMap;

use parking_lot::Mutex;
use paychain_store::timing::{PhaseCounter, PhaseTotal};
use paychain_tx::sign::verify_secp256k1;
use sha2::{Digest, Sha256};

/// Remembers (sign bytes, key, signature) triples that verified. Keyed by a
/// hash of all three, so a hit means exactly this signature was valid: reuse
/// can never accept something verification would reject. Only successes are
/// cached; the map is cleared when full (it is a cache, not state).
pub struct SigCache {
    verified: Mutex<HashMap<[u8; 32], ()>>,
    capacity: usize,
    /// Lookups answered by the cache (counted while phase timing is on).
    hits: PhaseCounter,
    /// secp256k1 verifications actually run, and their time summed over threads.
    verifications: PhaseCounter,
}

impl SigCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            verified: Mutex::new(HashMap::new()),
            capacity,
            hits: PhaseCounter::new(),
            verifications: PhaseCounter::new(),
        }
    }

    /// Lookups the cache answered (see [`paychain_store::timing`]).
    pub fn hits(&self) -> PhaseTotal {
        self.hits.total()
    }

    /// Verifications run and their CPU time (see [`paychain_store::timing`]).
    pub fn verifications(&self) -> PhaseTotal {
        self.verifications.total()
    }

    fn key(pub_key: &[u8], msg: &[u8], signature: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((pub_key.len() as u32).to_be_bytes());
        h.update(pub_key);
        h.update((signature.len() as u32).to_be_bytes());
        h.update(signature);
        h.update(msg);
        h.finalize().into()
    }

    /// Verifies, consulting and filling the cache.
    pub fn verify(&self, pub_key: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        let key = Self::key(pub_key, msg, signature);
        if self.verified.lock().contains_key(&key) {
            self.hits.count_one();
            return true;
        }
        let timer = self.verifications.time();
        let ok = verify_secp256k1(pub_key, msg, signature);
        drop(timer);
        if ok {
            let mut map = self.verified.lock();
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, ());
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paychain_tx::sign::direct_sign_bytes;
    use secp256k1::{Message as SecpMessage, PublicKey, SecretKey, SECP256K1};

    #[test]
    fn caches_only_what_verified() {
        let sk = SecretKey::from_slice(&[7u8; 32]).unwrap();
        let pk = PublicKey::from_secret_key(SECP256K1, &sk).serialize();
        let msg = direct_sign_bytes(b"body", b"auth", "paychain-1", 3);
        let digest: [u8; 32] = Sha256::digest(&msg).into();
        let sig = SECP256K1.sign_ecdsa(&SecpMessage::from_digest(digest), &sk).serialize_compact();
        let cache = SigCache::new(10);
        assert!(cache.verify(&pk, &msg, &sig));
        assert!(cache.verify(&pk, &msg, &sig), "cached");
        let other_chain = direct_sign_bytes(b"body", b"auth", "paychain-2", 3);
        assert!(!cache.verify(&pk, &other_chain, &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!cache.verify(&pk, &msg, &bad));
    }
}
