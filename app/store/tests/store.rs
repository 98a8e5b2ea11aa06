mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use paychain_store::{ChangeSet, MerkleStore, StoreConfig, StoreError, EMPTY_ROOT};

fn kv(pairs: &[(&[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

#[test]
fn proofs_existence_and_non_existence() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    let mut c1 = ChangeSet::new();
    let acc = c1.entry("acc".into()).or_default();
    for i in 0u32..50 {
        acc.insert(format!("key{i:03}").into_bytes(), Some(format!("val{i}").into_bytes()));
    }
    c1.entry("bank".into()).or_default().insert(b"supply".to_vec(), Some(b"1000".to_vec()));
    let h1 = commit(&store, 1, &c1);
    let h2 = commit(
        &store,
        2,
        &cs(&[
            ("acc", b"key007", Some(b"changed")),
            ("acc", b"key010", None),
            ("ibc", b"clients/07-tendermint-0", Some(b"state")),
        ]),
    );
    assert_ne!(h1, h2);

    // Existence at both versions, against the right app hash.
    assert_eq!(proven_get(&store, "acc", b"key007", 1), Some(b"val7".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"key007", 2), Some(b"changed".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"key010", 1), Some(b"val10".to_vec()));
    assert_eq!(proven_get(&store, "bank", b"supply", 2), Some(b"1000".to_vec()));
    assert_eq!(proven_get(&store, "ibc", b"clients/07-tendermint-0", 2), Some(b"state".to_vec()));
    // Non-existence: deleted key, never-written keys (many of them, so left-most, right-most
    // and middle neighbours all occur), and a single-leaf tree.
    assert_eq!(proven_get(&store, "acc", b"key010", 2), None);
    for i in 0u32..40 {
        assert_eq!(proven_get(&store, "acc", format!("absent{i}").as_bytes(), 2), None);
    }
    assert_eq!(proven_get(&store, "bank", b"nope", 2), None);

    // Tampering fails.
    let (v, proofs) = store.get_with_proof("acc", b"key007", 2).unwrap();
    assert_eq!(v.as_deref(), Some(&b"changed"[..]));
    assert!(verify("acc", b"key007", Some(b"changed"), &proofs, &h2));
    assert!(!verify("acc", b"key007", Some(b"val7"), &proofs, &h2), "tampered value");
    assert!(!verify("acc", b"key007", Some(b"changed"), &proofs, &h1), "wrong app hash");
    assert!(!verify("acc", b"key008", Some(b"changed"), &proofs, &h2), "wrong key");
    assert!(!verify("bank", b"key007", Some(b"changed"), &proofs, &h2), "wrong substore");
    assert!(!verify("acc", b"key007", None, &proofs, &h2), "existence used as absence");
    let mut bad_app = h2;
    bad_app[0] ^= 1;
    assert!(!verify("acc", b"key007", Some(b"changed"), &proofs, &bad_app));
    // A non-existence proof does not prove a value, nor absence of another key.
    let (v, proofs) = store.get_with_proof("acc", b"key010", 2).unwrap();
    assert_eq!(v, None);
    assert!(verify("acc", b"key010", None, &proofs, &h2));
    assert!(!verify("acc", b"key010", Some(b"val10"), &proofs, &h2));
    assert!(!verify("acc", b"key011", None, &proofs, &h2), "key011 exists");
    assert!(!verify("acc", b"key010", None, &proofs, &h1), "wrong app hash");
    // Old proof of an overwritten value still verifies against the old app hash only.
    let (_, old) = store.get_with_proof("acc", b"key007", 1).unwrap();
    assert!(verify("acc", b"key007", Some(b"val7"), &old, &h1));
    assert!(!verify("acc", b"key007", Some(b"val7"), &old, &h2));

    // No ICS-23 non-existence proof exists in an empty tree; it is an explicit error.
    assert_eq!(store.substore_root("escrow", 2).unwrap(), EMPTY_ROOT);
    assert!(matches!(store.get_with_proof("escrow", b"x", 2), Err(StoreError::EmptySubstoreProof { .. })));
    assert!(matches!(store.get_with_proof("acc", b"", 2), Err(StoreError::EmptyKey { .. })));
    assert!(matches!(store.get_with_proof("nope", b"k", 2), Err(StoreError::UnknownSubstore(_))));
}

#[test]
fn past_height_reads_and_range_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    let keys: [&[u8]; 8] = [b"\0", b"a", b"a\0", b"a\0\0", b"a\0b", b"ab", b"b", b"\xff\0"];
    let mut c1 = ChangeSet::new();
    for (i, k) in keys.iter().enumerate() {
        c1.entry("acc".into()).or_default().insert(k.to_vec(), Some(vec![b'1', i as u8]));
    }
    commit(&store, 1, &c1);
    commit(
        &store,
        2,
        &cs(&[
            ("acc", b"a", None),
            ("acc", b"a\0\0", Some(b"v2")),
            ("acc", b"c", Some(b"v2")),
            ("acc", b"zzz-never", None), // no-op delete
        ]),
    );
    commit(
        &store,
        3,
        &cs(&[
            ("acc", b"a\0", None),
            ("acc", b"a", Some(b"v3")),
            ("acc", b"\0", None),
            ("bank", b"a\0", Some(b"other substore")),
        ]),
    );

    let v1: Vec<(Vec<u8>, Vec<u8>)> = keys.iter().enumerate().map(|(i, k)| (k.to_vec(), vec![b'1', i as u8])).collect();
    assert_eq!(collect(store.range("acc", b"", None, 1).unwrap()), v1);
    let rev: Vec<_> = v1.iter().rev().cloned().collect();
    assert_eq!(collect(store.range_rev("acc", b"", None, 1).unwrap()), rev);

    let v2 = kv(&[
        (b"\0", b"1\x00"),
        (b"a\0", b"1\x02"),
        (b"a\0\0", b"v2"),
        (b"a\0b", b"1\x04"),
        (b"ab", b"1\x05"),
        (b"b", b"1\x06"),
        (b"c", b"v2"),
        (b"\xff\0", b"1\x07"),
    ]);
    assert_eq!(collect(store.range("acc", b"", None, 2).unwrap()), v2);
    let v3 = kv(&[
        (b"a", b"v3"),
        (b"a\0\0", b"v2"),
        (b"a\0b", b"1\x04"),
        (b"ab", b"1\x05"),
        (b"b", b"1\x06"),
        (b"c", b"v2"),
        (b"\xff\0", b"1\x07"),
    ]);
    assert_eq!(collect(store.range("acc", b"", None, 3).unwrap()), v3);
    assert_eq!(collect(store.range_rev("acc", b"", None, 3).unwrap()), v3.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(collect(store.range("bank", b"", None, 3).unwrap()), kv(&[(b"a\0", b"other substore")]));
    assert!(collect(store.range("bank", b"", None, 2).unwrap()).is_empty());

    // Bounds: [a\0, ab) at version 2 includes the prefix-extended keys, excludes `ab`.
    assert_eq!(
        collect(store.range("acc", b"a\0", Some(b"ab"), 2).unwrap()),
        kv(&[(b"a\0", b"1\x02"), (b"a\0\0", b"v2"), (b"a\0b", b"1\x04")])
    );
    assert_eq!(
        collect(store.range_rev("acc", b"a\0", Some(b"ab"), 2).unwrap()),
        kv(&[(b"a\0b", b"1\x04"), (b"a\0\0", b"v2"), (b"a\0", b"1\x02")])
    );
    // [a, a\0) contains only `a`; at version 2 `a` is deleted.
    assert_eq!(collect(store.range("acc", b"a", Some(b"a\0"), 1).unwrap()), kv(&[(b"a", b"1\x01")]));
    assert!(collect(store.range("acc", b"a", Some(b"a\0"), 2).unwrap()).is_empty());
    assert!(collect(store.range_rev("acc", b"a", Some(b"a\0"), 2).unwrap()).is_empty());
    // Empty and inverted ranges.
    assert!(collect(store.range("acc", b"b", Some(b"b"), 3).unwrap()).is_empty());
    assert!(collect(store.range("acc", b"c", Some(b"b"), 3).unwrap()).is_empty());
    assert!(collect(store.range_rev("acc", b"c", Some(b"b"), 3).unwrap()).is_empty());

    // Point reads at every height.
    assert_eq!(store.get("acc", b"a", 1).unwrap(), Some(b"1\x01".to_vec()));
    assert_eq!(store.get("acc", b"a", 2).unwrap(), None);
    assert_eq!(store.get("acc", b"a", 3).unwrap(), Some(b"v3".to_vec()));
    assert_eq!(store.get("acc", b"c", 1).unwrap(), None);
    assert_eq!(store.get("acc", b"a\0", 3).unwrap(), None);
    assert_eq!(store.get("acc", b"a\0", 2).unwrap(), Some(b"1\x02".to_vec()));
    assert_eq!(store.get("bank", b"a\0", 2).unwrap(), None);
    assert_eq!(store.get("acc", b"", 3).unwrap(), None);
    assert!(matches!(store.get("acc", b"a", 4), Err(StoreError::VersionNotFound { requested: 4, latest: Some(3) })));
    assert!(matches!(store.get("nope", b"a", 1), Err(StoreError::UnknownSubstore(_))));
    // A reopened store reads the same history.
    drop(store);
    let store = open(dir.path(), None);
    assert_eq!(collect(store.range("acc", b"", None, 2).unwrap()), v2);
    assert_eq!(store.get("acc", b"a", 1).unwrap(), Some(b"1\x01".to_vec()));
}

#[test]
fn pruning_with_retention_three() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(3));
    for v in 1..=10u64 {
        let val = format!("v{v}");
        let mut c = cs(&[("acc", b"k", Some(val.as_bytes())), ("acc", b"fixed", Some(b"f"))]);
        if v % 2 == 0 {
            c.entry("bank".into()).or_default().insert(b"even".to_vec(), Some(val.clone().into_bytes()));
        }
        commit(&store, v, &c);
        assert_eq!(store.earliest_version(), Some(v.saturating_sub(2).max(1)));
    }
    let check = |store: &MerkleStore| {
        assert_eq!(store.earliest_version(), Some(8));
        for v in [7u64, 1, 5] {
            let pruned = |r: Result<(), StoreError>| {
                assert!(
                    matches!(r, Err(StoreError::VersionPruned { requested, earliest: 8 }) if requested == v),
                    "{r:?}"
                )
            };
            pruned(store.get("acc", b"k", v).map(|_| ()));
            pruned(store.range("acc", b"", None, v).map(|_| ()));
            pruned(store.app_hash(v).map(|_| ()));
            pruned(store.get_with_proof("acc", b"k", v).map(|_| ()));
        }
        for v in 8..=10u64 {
            assert_eq!(store.get("acc", b"k", v).unwrap(), Some(format!("v{v}").into_bytes()));
            assert_eq!(proven_get(store, "acc", b"fixed", v), Some(b"f".to_vec()));
            assert_eq!(proven_get(store, "acc", b"k", v), Some(format!("v{v}").into_bytes()));
            let even = format!("v{}", v - v % 2).into_bytes();
            assert_eq!(proven_get(store, "bank", b"even", v), Some(even.clone()));
            assert_eq!(collect(store.range("bank", b"", None, v).unwrap()), vec![(b"even".to_vec(), even)]);
        }
        assert!(matches!(store.get("acc", b"k", 11), Err(StoreError::VersionNotFound { .. })));
    };
    check(&store);
    drop(store);
    check(&open(dir.path(), Some(3)));
}

/// Rewriting the same keys forever, the tables reach a steady state with pruning and grow
/// linearly without it.
#[test]
fn pruning_bounds_disk_usage() {
    let pruned_dir = tempfile::tempdir().unwrap();
    let full_dir = tempfile::tempdir().unwrap();
    let pruned = open(pruned_dir.path(), Some(3));
    let full = open(full_dir.path(), None);
    let mut at_100 = None;
    for v in 1..=200u64 {
        let mut c = ChangeSet::new();
        let acc = c.entry("acc".into()).or_default();
        for i in 0..20u32 {
            acc.insert(format!("key{i}").into_bytes(), Some(format!("{v}-{i}").into_bytes()));
        }
        // Keys that live for one block only: tombstones and preimages must go too.
        acc.insert(format!("temp{v}").into_bytes(), Some(b"t".to_vec()));
        acc.insert(format!("temp{}", v - 1).into_bytes(), None);
        if v % 3 == 0 {
            c.entry("bank".into()).or_default().insert(b"b".to_vec(), Some(v.to_be_bytes().to_vec()));
        }
        let h = commit(&pruned, v, &c);
        assert_eq!(commit(&full, v, &c), h, "pruning must not change app hashes");
        if v == 100 {
            at_100 = Some(pruned.debug_entry_counts().unwrap());
        }
    }
    let at_100 = at_100.unwrap();
    let at_200 = pruned.debug_entry_counts().unwrap();
    let full_200 = full.debug_entry_counts().unwrap();
    println!("pruned@100 {at_100:?}\npruned@200 {at_200:?}\nfull@200 {full_200:?}");
    for cf in ["values", "preimages", "changelog", "roots"] {
        assert!(at_200[cf] <= at_100[cf], "{cf} grew: {} -> {}", at_100[cf], at_200[cf]);
    }
    // 21 live keys + 2 bank/main-ish keys, at most retention+1 versions each.
    assert!(at_200["values"] <= 4 * 30, "{at_200:?}");
    assert!(at_200["preimages"] <= 30, "{at_200:?}");
    assert_eq!(at_200["roots"], 3);
    assert!(full_200["changelog"] > 10 * at_200["changelog"], "{full_200:?} vs {at_200:?}");
    assert!(full_200["values"] > 10 * at_200["values"]);
    // Still fully readable inside the window.
    for v in 198..=200u64 {
        assert_eq!(proven_get(&pruned, "acc", b"key5", v), Some(format!("{v}-5").into_bytes()));
        assert_eq!(proven_get(&pruned, "acc", format!("temp{v}").as_bytes(), v), Some(b"t".to_vec()));
        assert_eq!(proven_get(&pruned, "acc", format!("temp{}", v - 1).as_bytes(), v), None);
    }
}

#[test]
fn determinism_and_sensitivity() {
    let (d1, d2, d3) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (s1, s2, s3) = (open(d1.path(), None), open(d2.path(), Some(2)), open(d3.path(), None));
    let mut hashes = vec![];
    for v in 1..=30u64 {
        let mut a = ChangeSet::new();
        let mut b = ChangeSet::new();
        // Same logical writes inserted in opposite orders.
        let writes: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = (0..10u64)
            .map(|i| {
                let s = common::SUBSTORES[(i % 4) as usize].to_string();
                let k = format!("k{}", (v * 7 + i * 3) % 13).into_bytes();
                let val = if (v + i) % 5 == 0 { None } else { Some(format!("{v}/{i}").into_bytes()) };
                (s, k, val)
            })
            .collect();
        for (s, k, val) in &writes {
            a.entry(s.clone()).or_default().insert(k.clone(), val.clone());
        }
        for (s, k, val) in writes.iter().rev() {
            b.entry(s.clone()).or_default().entry(k.clone()).or_insert(val.clone());
        }
        // `b` keeps the first write per key, `a` the last: make them agree.
        for (s, kvs) in &a {
            for (k, val) in kvs {
                b.get_mut(s).unwrap().insert(k.clone(), val.clone());
            }
        }
        assert_eq!(a, b);
        let h1 = commit(&s1, v, &a);
        let h2 = commit(&s2, v, &b);
        assert_eq!(h1, h2, "version {v}");
        // s3 differs in one value at version 10 only.
        let mut c = a.clone();
        if v == 10 {
            c.entry("bank".into()).or_default().insert(b"extra".to_vec(), Some(b"1".to_vec()));
        }
        let h3 = commit(&s3, v, &c);
        assert_eq!(h1 == h3, v < 10, "version {v}");
        hashes.push(h1);
    }
    let unique: std::collections::BTreeSet<_> = hashes.iter().collect();
    assert_eq!(unique.len(), hashes.len(), "every version changed something");

    // Same key/value in a different substore, or a different value, changes the hash.
    let base = fresh_app_hash(&Default::default(), 1);
    let mut m1 = Model::new();
    m1.entry("acc".into()).or_default().insert(b"k".to_vec(), b"v".to_vec());
    let mut m2 = Model::new();
    m2.entry("bank".into()).or_default().insert(b"k".to_vec(), b"v".to_vec());
    let mut m3 = Model::new();
    m3.entry("acc".into()).or_default().insert(b"k".to_vec(), b"w".to_vec());
    let hs = [base, fresh_app_hash(&m1, 1), fresh_app_hash(&m2, 1), fresh_app_hash(&m3, 1)];
    for i in 0..hs.len() {
        for j in 0..i {
            assert_ne!(hs[i], hs[j]);
        }
    }
    // The app hash does not depend on the version number, only on contents.
    assert_eq!(fresh_app_hash(&m1, 1), fresh_app_hash(&m1, 77));
}

#[test]
fn config_and_input_validation() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |c: StoreConfig| {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(MerkleStore::open(d.path(), c), Err(StoreError::InvalidConfig(_))));
    };
    bad(StoreConfig { substores: vec![], retention: None });
    bad(StoreConfig { substores: vec!["a".into(), "a".into()], retention: None });
    bad(StoreConfig { substores: vec!["".into()], retention: None });
    bad(StoreConfig { substores: vec!["é".into()], retention: None });
    bad(StoreConfig { substores: vec!["a".into()], retention: Some(0) });

    let store = open(dir.path(), None);
    assert_eq!(store.latest_version(), None);
    assert_eq!(store.earliest_version(), None);
    assert_eq!(store.latest_app_hash(), None);
    assert!(matches!(store.app_hash(0), Err(StoreError::VersionNotFound { latest: None, .. })));
    assert!(matches!(store.prepare(1, &cs(&[("nope", b"k", Some(b"v"))])), Err(StoreError::UnknownSubstore(_))));
    assert!(matches!(store.prepare(1, &cs(&[("acc", b"", Some(b"v"))])), Err(StoreError::EmptyKey { .. })));
    assert!(matches!(store.prepare(1, &cs(&[("acc", b"k", Some(b""))])), Err(StoreError::EmptyValue { .. })));
    // The first version may be anything (e.g. an initial height of 5); then strictly +1.
    commit(&store, 5, &cs(&[("acc", b"k", Some(b"v"))]));
    assert_eq!(store.earliest_version(), Some(5));
    assert!(matches!(store.prepare(7, &ChangeSet::new()), Err(StoreError::WrongVersion { expected: 6, got: 7 })));
    assert!(matches!(store.prepare(5, &ChangeSet::new()), Err(StoreError::WrongVersion { .. })));
    // Two prepares on top of 5: the second commit is rejected.
    let p1 = store.prepare(6, &cs(&[("acc", b"k", Some(b"p1"))])).unwrap();
    let p2 = store.prepare(6, &cs(&[("acc", b"k", Some(b"p2"))])).unwrap();
    assert_ne!(p1.app_hash, p2.app_hash);
    store.commit(p1.clone()).unwrap();
    assert!(matches!(store.commit(p2), Err(StoreError::StalePrepare { .. })));
    assert!(matches!(store.commit(p1), Err(StoreError::StalePrepare { .. })));
    assert_eq!(store.get("acc", b"k", 6).unwrap(), Some(b"p1".to_vec()));
    // An empty block keeps the app hash.
    let h6 = store.latest_app_hash().unwrap();
    assert_eq!(commit(&store, 7, &ChangeSet::new()), h6);
    assert_eq!(commit(&store, 8, &cs(&[("acc", b"absent", None)])), h6);
    drop(store);

    // Same set in another order opens; a different set does not.
    let mut reordered = cfg(None);
    reordered.substores.reverse();
    let store = MerkleStore::open(dir.path(), reordered).unwrap();
    assert_eq!(store.latest_version(), Some(8));
    drop(store);
    let mut fewer = cfg(None);
    fewer.substores.pop();
    let err = MerkleStore::open(dir.path(), fewer).unwrap_err();
    assert!(matches!(err, StoreError::SubstoreMismatch { .. }), "{err}");
    assert!(err.to_string().contains("ibc"), "{err}");
}

/// Readers on other threads get either correct data or VersionPruned, never wrong data or
/// a missing-node error, while blocks are committed and pruned.
#[test]
fn concurrent_reads_during_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(2));
    commit(&store, 1, &cs(&[("acc", b"k", Some(&1u64.to_be_bytes())), ("acc", b"j", Some(b"x"))]));
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = vec![];
    for t in 0..3 {
        let (store, stop) = (store.clone(), stop.clone());
        readers.push(std::thread::spawn(move || {
            let (mut ok, mut pruned) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let latest = store.latest_version().unwrap();
                // Alternately the latest version (always readable with retention 2) and the
                // oldest one in the window (races with pruning).
                let v = if (ok + pruned) % 2 == 0 { latest.saturating_sub(1).max(1) } else { latest };
                let res = if t == 0 {
                    store.get_with_proof("acc", b"k", v).map(|(val, _)| val)
                } else if t == 2 {
                    // At the latest version, a point lookup of the entry the trees name.
                    store.get("acc", b"k", v)
                } else {
                    store.range("acc", b"", None, v).and_then(|it| {
                        let items: Result<Vec<_>, _> = it.collect();
                        Ok(items?.into_iter().find(|(k, _)| k == b"k").map(|(_, v)| v))
                    })
                };
                match res {
                    Ok(val) => {
                        assert_eq!(val, Some(v.to_be_bytes().to_vec()), "version {v}");
                        ok += 1;
                    }
                    Err(StoreError::VersionPruned { .. }) => {
                        // Only versions that a commit in flight (or done) is pruning.
                        let now = store.latest_version().unwrap();
                        assert!(now > v, "version {v} pruned at latest {now}");
                        pruned += 1;
                    }
                    Err(e) => panic!("reader error at {v}: {e}"),
                }
            }
            (ok, pruned)
        }));
    }
    for v in 2..=300u64 {
        commit(&store, v, &cs(&[("acc", b"k", Some(&v.to_be_bytes()))]));
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let (ok, pruned) = r.join().unwrap();
        println!("reads ok {ok}, pruned {pruned}");
        assert!(ok > 0);
    }
}

/// Reads running as rayon pool tasks never wait for a commit that itself waits for the pool:
/// `prepare` and `commit` update the trees on the pool under the trees' lock, so a pool task
/// that waited for that lock (a CheckTx burst's signature pass reading accounts while a block
/// is prepared) deadlocked the node. Pool readers run while blocks commit; if the commits
/// stop, the test fails instead of hanging.
#[test]
fn pool_reads_during_commits_never_deadlock() {
    use rayon::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(5));
    let key = |i: u64| format!("key-{i}").into_bytes();
    let block = move |v: u64| -> ChangeSet {
        let value = v.to_be_bytes();
        let writes: Vec<(&str, Vec<u8>)> =
            (0..64).flat_map(|i| [("acc", key(i * 1000 + v % 7)), ("bank", key(i))]).collect();
        cs(&writes.iter().map(|(s, k)| (*s, k.as_slice(), Some(&value[..]))).collect::<Vec<_>>())
    };
    commit(&store, 1, &block(1));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Keys never read before: no cache answers them, so each read asks the trees.
                (reads..reads + 256).into_par_iter().for_each(|i| {
                    let v = store.latest_version().unwrap();
                    let _ = store.get("acc", format!("unread-{i}").as_bytes(), v);
                });
                reads += 256;
            }
            reads
        })
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let committer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for v in 2..=400u64 {
                commit(&store, v, &block(v));
            }
            done_tx.send(()).unwrap();
        })
    };
    let finished = done_rx.recv_timeout(std::time::Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    assert!(finished.is_ok(), "commits stopped while pool tasks read the store: a deadlock");
    committer.join().unwrap();
    assert!(reader.join().unwrap() > 0);
}

/// Turning pruning on (or tightening it) for an existing store prunes the backlog at the next
/// commit; the first version may be 0.
#[test]
fn retention_change_on_reopen_and_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    for v in 0..=30u64 {
        let val = format!("{v}");
        commit(&store, v, &cs(&[("acc", b"k", Some(val.as_bytes())), ("bank", &[v as u8 + 1], Some(b"x"))]));
    }
    assert_eq!(store.earliest_version(), Some(0));
    assert_eq!(store.get("acc", b"k", 0).unwrap(), Some(b"0".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"k", 0), Some(b"0".to_vec()));
    let before = store.debug_entry_counts().unwrap();
    drop(store);

    let store = open(dir.path(), Some(5));
    assert_eq!(store.earliest_version(), Some(0), "nothing pruned before a commit");
    commit(&store, 31, &cs(&[("acc", b"k", Some(b"31"))]));
    assert_eq!(store.earliest_version(), Some(27));
    assert!(matches!(store.get("acc", b"k", 26), Err(StoreError::VersionPruned { earliest: 27, .. })));
    for v in 27..=31u64 {
        assert_eq!(proven_get(&store, "acc", b"k", v), Some(v.to_string().into_bytes()));
        assert_eq!(collect(store.range("bank", b"", None, v).unwrap()).len() as u64, v.min(30) + 1);
    }
    let after = store.debug_entry_counts().unwrap();
    assert_eq!(after["roots"], 5);
    assert!(after["changelog"] < before["changelog"] / 2, "{before:?} -> {after:?}");
    assert!(after["values"] < before["values"], "{before:?} -> {after:?}");
    drop(store);

    // Loosening retention later cannot bring pruned versions back.
    let store = open(dir.path(), None);
    assert_eq!(store.earliest_version(), Some(27));
    commit(&store, 32, &ChangeSet::new());
    assert_eq!(store.earliest_version(), Some(27));
    assert!(matches!(store.app_hash(20), Err(StoreError::VersionPruned { .. })));
    assert!(matches!(store.prepare(u64::MAX, &ChangeSet::new()), Err(StoreError::InvalidVersion(_))));
}

/// `prepare` stages its block in the in-memory trees. Until it is committed, proofs at
/// committed versions must see through it; a second `prepare` of the same version replaces it;
/// committing the *first* prepared block anyway must restage exactly that block.
#[test]
fn staged_blocks_are_invisible_until_committed_and_any_prepared_block_commits_right() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(10));
    commit(&store, 1, &cs(&[("acc", b"a", Some(b"1")), ("acc", b"b", Some(b"1")), ("bank", b"x", Some(b"1"))]));
    commit(&store, 2, &cs(&[("acc", b"a", Some(b"2")), ("acc", b"c", Some(b"2"))]));
    let first =
        store.prepare(3, &cs(&[("acc", b"a", Some(b"3")), ("acc", b"b", None), ("acc", b"d", Some(b"3"))])).unwrap();
    for (v, a, b) in [(1, Some(&b"1"[..]), Some(&b"1"[..])), (2, Some(b"2"), Some(b"1"))] {
        assert_eq!(proven_get(&store, "acc", b"a", v).as_deref(), a, "a at {v} with 3 staged");
        assert_eq!(proven_get(&store, "acc", b"b", v).as_deref(), b, "b at {v} with 3 staged");
        assert_eq!(proven_get(&store, "acc", b"d", v), None, "d at {v} with 3 staged");
    }
    let second = store.prepare(3, &cs(&[("acc", b"a", Some(b"other")), ("bank", b"y", Some(b"3"))])).unwrap();
    assert_ne!(first.app_hash, second.app_hash);
    assert_eq!(proven_get(&store, "bank", b"y", 2), None);
    // The block committed is the first one: the trees must hold it, not the second.
    let expected = first.app_hash;
    store.commit(first).unwrap();
    assert_eq!(store.latest_app_hash(), Some(expected));
    assert_eq!(proven_get(&store, "acc", b"a", 3), Some(b"3".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"b", 3), None);
    assert_eq!(proven_get(&store, "bank", b"y", 3), None);
    assert!(matches!(store.commit(second), Err(StoreError::StalePrepare { .. })));
    let next = commit(&store, 4, &cs(&[("acc", b"e", Some(b"4"))]));
    drop(store);
    // Rebuilt from the values on open: the same roots, the same proofs.
    let store = open(dir.path(), Some(10));
    assert_eq!(store.latest_app_hash(), Some(next));
    assert_eq!(proven_get(&store, "acc", b"a", 2), Some(b"2".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"e", 4), Some(b"4".to_vec()));
}

/// A store written by the format with tree nodes on disk is refused with a message that says
/// what it is and what to do, not misread.
#[test]
fn a_format_one_store_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let db = rocksdb::DB::open_cf(&opts, dir.path(), ["meta", "nodes", "values", "stale"]).unwrap();
        db.put_cf(db.cf_handle("meta").unwrap(), b"format", [1u8]).unwrap();
    }
    match MerkleStore::open(dir.path(), cfg(None)) {
        Err(e @ StoreError::UnsupportedFormat(_)) => {
            let msg = e.to_string();
            assert!(msg.contains("format 1") && msg.contains("state-sync"), "{msg}");
        }
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
}

/// At the latest version the in-memory trees answer a read of an absent key without the disk,
/// and turn a present key's read into a point lookup of the entry that wrote it, also with a
/// block staged on top; past versions and keys the staged block touches search the disk, and
/// every answer is the right one.
#[test]
fn reads_at_the_latest_version_go_through_the_trees() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(10));
    commit(&store, 1, &cs(&[("acc", b"a", Some(b"1")), ("acc", b"b", Some(b"1"))]));
    commit(&store, 2, &cs(&[("acc", b"b", None), ("acc", b"c", Some(b"2"))]));
    // Reopened: the latest-value cache, which holds what a commit wrote, starts empty.
    drop(store);
    let store = open(dir.path(), Some(10));
    paychain_store::timing::set_enabled(true);
    let reads = |s: &MerkleStore| {
        let t = s.timings().total();
        (t.value_reads.count, t.value_point_reads.count, t.value_absent_hits.count)
    };
    let diff = |a: (u64, u64, u64), b: (u64, u64, u64)| (a.0 - b.0, a.1 - b.1, a.2 - b.2);

    let before = reads(&store);
    assert_eq!(store.get("acc", b"b", 2).unwrap(), None, "deleted at 2");
    assert_eq!(store.get("acc", b"never", 2).unwrap(), None, "never written");
    assert_eq!(store.get("bank", b"never", 2).unwrap(), None, "another substore");
    let after = reads(&store);
    assert_eq!(diff(after, before), (0, 0, 3), "three absences, no disk read");

    // A present key at the latest version (written at 1) is a point lookup; a past version
    // searches.
    assert_eq!(store.get("acc", b"a", 2).unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get("acc", b"c", 2).unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.get("acc", b"b", 1).unwrap(), Some(b"1".to_vec()));
    let later = reads(&store);
    assert_eq!(diff(later, after), (3, 2, 0));

    // Block 3 staged: it deletes c and writes d. At 2, c is still there and d is not; the
    // trees hold 3's contents, so for those two keys the answer comes from the disk.
    // A reopened store again, so the latest-value cache does not answer.
    drop(store);
    let store = open(dir.path(), Some(10));
    let later = reads(&store);
    store.prepare(3, &cs(&[("acc", b"c", None), ("acc", b"d", Some(b"3")), ("acc", b"a", Some(b"3"))])).unwrap();
    assert_eq!(store.get("acc", b"c", 2).unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.get("acc", b"d", 2).unwrap(), None);
    assert_eq!(store.get("acc", b"a", 2).unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get("acc", b"other", 2).unwrap(), None);
    let staged = reads(&store);
    assert_eq!(diff(staged, later), (3, 0, 1), "the staged block's keys search");

    // Committed: a was rewritten at 3, so its point lookup finds 3's entry; c is gone.
    store.commit(store.prepare(3, &cs(&[("acc", b"c", None), ("acc", b"a", Some(b"3"))])).unwrap()).unwrap();
    drop(store);
    let store = open(dir.path(), Some(10));
    let before = reads(&store);
    assert_eq!(store.get("acc", b"a", 3).unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.get("acc", b"c", 3).unwrap(), None);
    assert_eq!(diff(reads(&store), before), (1, 1, 1));
}

/// `compact` leaves nothing for RocksDB to rewrite on its own later: the bottommost files it
/// writes carry no sequence numbers, so a reopened store whose reads take and release
/// snapshots (when RocksDB looks for files that still carry them) starts no compaction. A
/// compaction that only moved the files down kept them, and RocksDB rewrote every file of a
/// 1M-account genesis in the middle of the first blocks after a restart.
#[test]
fn a_compacted_store_is_not_rewritten_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(10));
    let keys: Vec<Vec<u8>> = (0..2_000u32).map(|i| format!("account-{i:05}").into_bytes()).collect();
    let writes: Vec<Write<'_>> = keys.iter().map(|k| ("acc", k.as_slice(), Some(&b"balance"[..]))).collect();
    commit(&store, 1, &cs(&writes));
    drop(store);
    // Reopened: the log is replayed into table files, as a bulk-loaded genesis is.
    let store = open(dir.path(), Some(10));
    store.compact();
    let compacted = store.debug_table_files().unwrap();
    assert!(compacted.iter().any(|f| f.starts_with("values/")), "{compacted:?}");
    drop(store);

    let store = open(dir.path(), Some(10));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        // A proof reads through a snapshot and releases it.
        let (value, _) = store.get_with_proof("acc", b"account-00007", 1).unwrap();
        assert_eq!(value.as_deref(), Some(&b"balance"[..]));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(store.debug_table_files().unwrap(), compacted, "RocksDB rewrote the compacted files");
    }
}

/// Side records are written with their version, in no hash, and survive a reopen; a prepared
/// version never committed leaves none; a store without the `side` column family (created by a
/// paychaind before it existed) opens with it empty.
#[test]
fn side_records_are_durable_with_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = open(&path, None);
    let changes = cs(&[("acc", b"k", Some(b"v"))]);

    let mut p = store.prepare(1, &changes).unwrap();
    let plain_hash = p.app_hash;
    p.add_side_records(kv(&[(b"tx/b", b"2"), (b"tx/a", b"1"), (b"zz", b"3")]));
    store.commit(p).unwrap();
    assert_eq!(store.latest_app_hash(), Some(plain_hash), "side records are in no hash");

    // A version prepared with side records but never committed writes none of them.
    let mut p = store.prepare(2, &cs(&[("acc", b"k", Some(b"w"))])).unwrap();
    p.add_side_records(kv(&[(b"tx/c", b"lost")]));
    drop(p);
    drop(store);

    let store = open(&path, None);
    assert_eq!(store.latest_version(), Some(1));
    assert_eq!(store.side_get(b"tx/a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(store.side_get(b"tx/c").unwrap(), None);
    let mut seen = Vec::new();
    store
        .side_scan(b"tx/", b"tx0", |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            true
        })
        .unwrap();
    assert_eq!(seen, kv(&[(b"tx/a", b"1"), (b"tx/b", b"2")]), "in key order, bounded");
    let mut first = Vec::new();
    store
        .side_scan(b"", b"\xff", |k, _| {
            first.push(k.to_vec());
            false
        })
        .unwrap();
    assert_eq!(first, [b"tx/a".to_vec()], "stops when told");
    drop(store);

    // A database without the column family (as a paychaind before it left it) gains it, empty.
    {
        let mut opts = rocksdb::Options::default();
        opts.create_missing_column_families(true);
        let names = ["meta", "values", "preimages", "changelog", "roots", "side"];
        let mut db = rocksdb::DB::open_cf(&opts, &path, names).unwrap();
        db.drop_cf("side").unwrap();
    }
    let store = open(&path, None);
    assert_eq!(store.latest_app_hash(), Some(plain_hash));
    assert_eq!(store.side_get(b"tx/a").unwrap(), None);
    assert_eq!(commit(&store, 2, &cs(&[("acc", b"k", Some(b"w"))])).len(), 32);
}
