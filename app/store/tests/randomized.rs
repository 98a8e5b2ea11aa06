mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use common::*;
use paychain_store::{ChangeSet, MerkleStore, StoreError, Version};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_key(rng: &mut ChaCha8Rng) -> Vec<u8> {
    // Small alphabet with 0x00 and 0xFF so that prefixes, embedded zeros and escape bytes
    // are common.
    const ALPHABET: [u8; 5] = [0x00, 0x01, b'a', b'b', 0xFF];
    let len = rng.gen_range(1..=4);
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())]).collect()
}

fn random_bound(rng: &mut ChaCha8Rng) -> Vec<u8> {
    if rng.gen_bool(0.2) {
        vec![]
    } else {
        random_key(rng)
    }
}

fn model_range(m: &BTreeMap<Vec<u8>, Vec<u8>>, start: &[u8], end: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    if end.is_some_and(|e| e <= start) {
        return vec![];
    }
    let upper = end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec()));
    m.range((Bound::Included(start.to_vec()), upper)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn run(seed: u64, versions: Version, retention: Option<u64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), retention);
    let mut history: Vec<Model> = vec![Model::new()]; // history[v] = contents at version v
    let mut hashes = vec![[0u8; 32]];
    let substores = ["acc", "bank", "escrow"]; // "ibc" stays empty
    for v in 1..=versions {
        let mut changes = ChangeSet::new();
        let n = rng.gen_range(0..12);
        for _ in 0..n {
            let s = substores[rng.gen_range(0..substores.len())];
            let k = random_key(&mut rng);
            let val = if rng.gen_bool(0.35) {
                None
            } else {
                let len = rng.gen_range(1..6);
                Some((0..len).map(|_| rng.gen()).collect())
            };
            changes.entry(s.to_string()).or_default().insert(k, val);
        }
        let mut model = history.last().unwrap().clone();
        apply(&mut model, &changes);
        let h = commit(&store, v, &changes);
        history.push(model);
        hashes.push(h);

        let earliest = retention.map_or(1, |r| v.saturating_sub(r - 1).max(1));
        assert_eq!(store.earliest_version(), Some(earliest));
        if earliest > 1 {
            assert!(matches!(store.get("acc", b"a", earliest - 1), Err(StoreError::VersionPruned { .. })));
        }
        // Random reads at random versions in the window.
        for _ in 0..4 {
            let at = rng.gen_range(earliest..=v);
            let m = &history[at as usize];
            assert_eq!(store.app_hash(at).unwrap(), hashes[at as usize]);
            let s = ["acc", "bank", "escrow", "ibc"][rng.gen_range(0..4)];
            let empty = BTreeMap::new();
            let sm = m.get(s).unwrap_or(&empty);
            for _ in 0..5 {
                let k = random_key(&mut rng);
                assert_eq!(store.get(s, &k, at).unwrap(), sm.get(&k).cloned(), "{s} {k:?} @ {at}");
            }
            let start = random_bound(&mut rng);
            let end = if rng.gen_bool(0.3) { None } else { Some(random_bound(&mut rng)) };
            let expect = model_range(sm, &start, end.as_deref());
            let got = collect(store.range(s, &start, end.as_deref(), at).unwrap());
            assert_eq!(got, expect, "range {s} [{start:?}, {end:?}) @ {at}");
            let mut rev = collect(store.range_rev(s, &start, end.as_deref(), at).unwrap());
            rev.reverse();
            assert_eq!(rev, expect, "range_rev {s} [{start:?}, {end:?}) @ {at}");
            // Proofs: a present key (if any) and a random key.
            if !sm.is_empty() {
                let idx = rng.gen_range(0..sm.len());
                let (k, val) = sm.iter().nth(idx).unwrap();
                assert_eq!(proven_get(&store, s, k, at).as_ref(), Some(val));
                let k = random_key(&mut rng);
                assert_eq!(proven_get(&store, s, &k, at), sm.get(&k).cloned());
            }
        }
        // JMT roots depend only on contents: the incrementally built app hash equals a
        // from-scratch build of the model.
        if v % 25 == 0 {
            assert_eq!(h, fresh_app_hash(history.last().unwrap(), v), "version {v}");
        }
        // Now and then everything goes to table files (where the key-prefix Bloom filters of
        // `values` decide which files a read looks into), and the store is reopened.
        if v % 30 == 0 {
            store.compact();
        }
        if v % 50 == 0 {
            drop(store);
            store = open(dir.path(), retention);
            assert_eq!(store.latest_version(), Some(v));
            assert_eq!(store.latest_app_hash(), Some(h));
        }
    }
    if let Some(r) = retention {
        let counts = store.debug_entry_counts().unwrap();
        assert_eq!(counts["roots"], r, "{counts:?}");
    }
    check_full_window(&store, &history, versions, retention);
}

fn check_full_window(store: &MerkleStore, history: &[Model], latest: Version, retention: Option<u64>) {
    let earliest = retention.map_or(1, |r| latest.saturating_sub(r - 1).max(1));
    for at in earliest..=latest {
        for s in ["acc", "bank", "escrow", "ibc"] {
            let expect: Vec<_> = history[at as usize]
                .get(s)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            assert_eq!(collect(store.range(s, b"", None, at).unwrap()), expect, "{s} @ {at}");
        }
    }
}

#[test]
fn randomized_against_model_with_retention() {
    run(0xC0FFEE, 200, Some(20));
}

#[test]
fn randomized_against_model_without_pruning() {
    run(7, 120, None);
}

#[test]
fn randomized_against_model_retention_one() {
    run(42, 80, Some(1));
}

/// Proofs at every version of the retention window, built from the latest in-memory tree and
/// the change log, must verify against that version's app hash and show that version's value
/// (present, changed later, deleted later, or absent), for keys that collide in long prefixes.
#[test]
fn proofs_at_every_version_of_the_window() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xBA7C4);
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(12));
    let mut history = vec![Model::new()];
    for v in 1..=40u64 {
        let mut changes = ChangeSet::new();
        let n = if v % 7 == 1 { 300 } else { rng.gen_range(1..40) };
        for _ in 0..n {
            let s = ["acc", "bank", "escrow"][rng.gen_range(0..3)];
            let k = random_key(&mut rng);
            let val = if rng.gen_bool(0.3) { None } else { Some(vec![rng.gen(), 1]) };
            changes.entry(s.to_string()).or_default().insert(k, val);
        }
        let mut model = history.last().unwrap().clone();
        apply(&mut model, &changes);
        let h = commit(&store, v, &changes);
        assert_eq!(h, jmt_app_hash(&model), "app hash at {v}");
        history.push(model);
        let earliest = store.earliest_version().unwrap();
        for at in [earliest, rng.gen_range(earliest..=v), v.saturating_sub(1).max(earliest), v] {
            for s in ["acc", "bank", "escrow"] {
                let m = &history[at as usize];
                if let Some(sm) = m.get(s).filter(|m| !m.is_empty()) {
                    let (k, val) = sm.iter().nth(rng.gen_range(0..sm.len())).unwrap();
                    assert_eq!(proven_get(&store, s, k, at).as_ref(), Some(val), "{s} {k:?} at {at} (latest {v})");
                }
                let k = random_key(&mut rng);
                if m.get(s).is_some_and(|m| !m.is_empty()) {
                    assert_eq!(proven_get(&store, s, &k, at), m.get(s).and_then(|m| m.get(&k)).cloned(), "{s} at {at}");
                }
            }
        }
    }
}
