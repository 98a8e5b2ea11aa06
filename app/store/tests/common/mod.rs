//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ics23::commitment_proof::Proof;
use ics23::{CommitmentProof, HostFunctionsManager};
use paychain_store::{proof_specs, AppHash, ChangeSet, MerkleStore, StoreConfig, Version};

pub const SUBSTORES: [&str; 4] = ["acc", "bank", "escrow", "ibc"];

pub fn cfg(retention: Option<u64>) -> StoreConfig {
    StoreConfig { substores: SUBSTORES.iter().map(|s| s.to_string()).collect(), retention }
}

pub fn open(path: &Path, retention: Option<u64>) -> MerkleStore {
    MerkleStore::open(path, cfg(retention)).expect("open store")
}

/// One write: `(substore, key, Some(value) | None)`.
pub type Write<'a> = (&'a str, &'a [u8], Option<&'a [u8]>);

/// Builds a change set from writes.
pub fn cs(entries: &[Write<'_>]) -> ChangeSet {
    let mut out = ChangeSet::new();
    for (s, k, v) in entries {
        out.entry(s.to_string()).or_default().insert(k.to_vec(), v.map(<[u8]>::to_vec));
    }
    out
}

pub fn commit(store: &MerkleStore, version: Version, changes: &ChangeSet) -> AppHash {
    let p = store.prepare(version, changes).expect("prepare");
    let h = p.app_hash;
    store.commit(p).expect("commit");
    assert_eq!(store.latest_version(), Some(version));
    assert_eq!(store.latest_app_hash(), Some(h));
    h
}

pub fn collect(
    it: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), paychain_store::StoreError>>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    it.map(|r| r.expect("iterator item")).collect()
}

/// The root a substore proof commits to (computed from its existence proof, or from one side
/// of its non-existence proof).
pub fn implied_root(p: &CommitmentProof) -> Vec<u8> {
    let exist = match p.proof.as_ref().expect("proof set") {
        Proof::Exist(e) => e,
        Proof::Nonexist(n) => n.left.as_ref().or(n.right.as_ref()).expect("non-existence proof has a neighbour"),
        other => panic!("unexpected proof kind {other:?}"),
    };
    ics23::calculate_existence_root::<HostFunctionsManager>(exist).expect("calculate root")
}

/// Verifies `(value, proofs)` for `key` in `substore` against `app_hash` in the two steps a
/// light client does. Returns false on any failure.
pub fn verify(
    substore: &str,
    key: &[u8],
    value: Option<&[u8]>,
    proofs: &[CommitmentProof; 2],
    app_hash: &[u8],
) -> bool {
    let specs = proof_specs();
    let sub_root = implied_root(&proofs[0]);
    let step1 = match value {
        Some(v) => ics23::verify_membership::<HostFunctionsManager>(&proofs[0], &specs[0], &sub_root, key, v),
        None => ics23::verify_non_membership::<HostFunctionsManager>(&proofs[0], &specs[0], &sub_root, key),
    };
    let step2 = ics23::verify_membership::<HostFunctionsManager>(
        &proofs[1],
        &specs[1],
        &app_hash.to_vec(),
        substore.as_bytes(),
        &sub_root,
    );
    step1 && step2
}

/// Fetches `key` with proofs at `version`, asserts they verify against the store's app hash
/// and that the value matches `get`, and returns the value.
pub fn proven_get(store: &MerkleStore, substore: &str, key: &[u8], version: Version) -> Option<Vec<u8>> {
    let (value, proofs) = store.get_with_proof(substore, key, version).expect("get_with_proof");
    let app = store.app_hash(version).unwrap();
    assert!(
        verify(substore, key, value.as_deref(), &proofs, &app),
        "proof of {substore}/{} at {version} does not verify",
        hex::encode(key)
    );
    assert_eq!(implied_root(&proofs[0]), store.substore_root(substore, version).unwrap());
    assert_eq!(store.get(substore, key, version).unwrap(), value);
    value
}

/// In-memory model: substore -> key -> value.
pub type Model = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

pub fn apply(model: &mut Model, changes: &ChangeSet) {
    for (s, kvs) in changes {
        let m = model.entry(s.clone()).or_default();
        for (k, v) in kvs {
            match v {
                Some(v) => {
                    m.insert(k.clone(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
    }
}

/// The app hash of `model` computed by jmt itself (a substore tree per substore, a main tree
/// over their roots, every configured substore in it), independently of the store's own
/// in-memory trees: the hashes must be the ones format 1 (jmt on disk) gave, or a chain would
/// fork at the upgrade.
pub fn jmt_app_hash(model: &Model) -> AppHash {
    use jmt::mock::MockTreeStore;
    use jmt::{KeyHash, Sha256Jmt};
    fn root(entries: Vec<(Vec<u8>, Vec<u8>)>) -> [u8; 32] {
        if entries.is_empty() {
            return paychain_store::EMPTY_ROOT;
        }
        let store = MockTreeStore::default();
        let set: Vec<(KeyHash, Option<Vec<u8>>)> =
            entries.into_iter().map(|(k, v)| (KeyHash::with::<sha2::Sha256>(&k), Some(v))).collect();
        Sha256Jmt::new(&store).put_value_set(set, 0).expect("jmt put").0 .0
    }
    let mut names: Vec<&str> = SUBSTORES.to_vec();
    names.sort();
    let main = names
        .iter()
        .map(|n| {
            let entries =
                model.get(*n).map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
            (n.as_bytes().to_vec(), root(entries).to_vec())
        })
        .collect();
    root(main)
}

/// App hash of `model` (committed in one block at `version`): roots depend only on contents,
/// so this must equal the incrementally built app hash. Checked against jmt's as well.
pub fn fresh_app_hash(model: &Model, version: Version) -> AppHash {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    let mut changes = ChangeSet::new();
    for (s, kvs) in model {
        let c = changes.entry(s.clone()).or_default();
        for (k, v) in kvs {
            c.insert(k.clone(), Some(v.clone()));
        }
    }
    let hash = store.prepare(version, &changes).unwrap().app_hash;
    assert_eq!(hash, jmt_app_hash(model), "the same app hash as jmt's");
    hash
}
