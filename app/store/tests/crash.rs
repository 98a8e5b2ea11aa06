mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use paychain_store::{ChangeSet, MerkleStore, Version};

#[test]
fn prepare_without_commit_is_invisible_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let block2 = cs(&[("acc", b"k", Some(b"v2")), ("bank", b"b", Some(b"x")), ("acc", b"old", None)]);
    let (h1, h2) = {
        let store = open(dir.path(), Some(5));
        let h1 = commit(&store, 1, &cs(&[("acc", b"k", Some(b"v1")), ("acc", b"old", Some(b"o"))]));
        let p = store.prepare(2, &block2).unwrap();
        assert_ne!(p.app_hash, h1);
        (h1, p.app_hash)
        // dropped without commit: the "crash"
    };
    let store = open(dir.path(), Some(5));
    assert_eq!(store.latest_version(), Some(1));
    assert_eq!(store.latest_app_hash(), Some(h1));
    assert_eq!(store.app_hash(1).unwrap(), h1);
    assert_eq!(store.get("acc", b"k", 1).unwrap(), Some(b"v1".to_vec()));
    assert!(store.get("acc", b"k", 2).is_err());
    // The same block prepared again gives the same app hash; committing it persists.
    let p = store.prepare(2, &block2).unwrap();
    assert_eq!(p.app_hash, h2);
    store.commit(p).unwrap();
    drop(store);
    let store = open(dir.path(), Some(5));
    assert_eq!(store.latest_version(), Some(2));
    assert_eq!(store.latest_app_hash(), Some(h2));
    assert_eq!(store.app_hash(1).unwrap(), h1);
    assert_eq!(proven_get(&store, "acc", b"k", 2), Some(b"v2".to_vec()));
    assert_eq!(proven_get(&store, "acc", b"old", 2), None);
    assert_eq!(proven_get(&store, "acc", b"old", 1), Some(b"o".to_vec()));
}

const CHILD_ENV: &str = "PAYCHAIN_STORE_CRASH_CHILD_DIR";
const RETENTION: u64 = 4;

/// Deterministic block contents for `version`.
fn block(version: Version) -> ChangeSet {
    let mut c = ChangeSet::new();
    for i in 0..8u64 {
        let x = version.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i as u32 * 8) ^ i;
        let s = SUBSTORES[(x % 3) as usize];
        let key = format!("key{}", (x >> 8) % 40).into_bytes();
        let val = if (x >> 20) % 4 == 0 { None } else { Some(format!("{version}:{i}").into_bytes()) };
        c.entry(s.to_string()).or_default().insert(key, val);
    }
    c
}

/// Child process body: commit blocks forever until killed. Says "committing" on stdout once
/// its first commit is done, so the parent kills it mid-stream rather than during start-up.
fn child_loop(dir: &str) {
    use std::io::Write;
    let store = open(std::path::Path::new(dir), Some(RETENTION));
    let first = store.latest_version().map_or(1, |l| l + 1);
    for v in first.. {
        let p = store.prepare(v, &block(v)).unwrap();
        store.commit(p).unwrap();
        if v == first {
            let mut out = std::io::stdout();
            out.write_all(b"\ncommitting\n").unwrap();
            out.flush().unwrap();
        }
    }
}

/// SIGKILL a process that is committing blocks as fast as it can, at random moments; every
/// reopen must find a consistent latest version whose contents and app hash match a replay.
#[test]
fn kill_during_commits_leaves_a_consistent_version() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child_loop(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last = 0;
    for (round, delay_ms) in [150u64, 400, 5, 230, 0].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args(["--exact", "kill_during_commits_leaves_a_consistent_version", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|l| l.unwrap() == "committing"), "child exited before committing");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = open(dir.path(), Some(RETENTION));
        let latest = store.latest_version().expect("the child committed");
        assert!(latest > last, "round {round}: went back from {last} to {latest}");
        last = latest;
        let mut model = Model::new();
        for v in 1..=latest {
            apply(&mut model, &block(v));
        }
        // Contents at `latest` equal the replay, and the app hash equals that of a store
        // built from scratch with the same contents.
        for s in SUBSTORES {
            let expect: Vec<(Vec<u8>, Vec<u8>)> =
                model.get(s).map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
            assert_eq!(collect(store.range(s, b"", None, latest).unwrap()), expect, "{s} @ {latest}");
        }
        assert_eq!(store.latest_app_hash().unwrap(), fresh_app_hash(&model, latest));
        assert_eq!(store.earliest_version(), Some(latest.saturating_sub(RETENTION - 1).max(1)));
        println!("round {round}: latest {latest}");
    }
}

/// A damaged database directory must fail to open, never open as a new, empty store (the node
/// would then start a different chain from genesis over it).
#[test]
fn a_damaged_directory_is_refused_not_taken_for_a_new_store() {
    type Damage = fn(&std::path::Path);
    let cases: [(&str, Damage); 3] = [
        ("garbage CURRENT", |db| std::fs::write(db.join("CURRENT"), b"\x00\x9f garbage").unwrap()),
        ("truncated MANIFEST", |db| {
            let m = std::fs::read_dir(db)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("MANIFEST-"))
                .unwrap();
            let len = std::fs::metadata(&m).unwrap().len();
            std::fs::OpenOptions::new().write(true).open(&m).unwrap().set_len(len / 3).unwrap();
        }),
        ("missing CURRENT", |db| std::fs::remove_file(db.join("CURRENT")).unwrap()),
    ];
    for (what, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path(), None);
            for v in 1..=3 {
                commit(&store, v, &block(v));
            }
        }
        damage(dir.path());
        match MerkleStore::open(dir.path(), cfg(None)) {
            Err(e) => assert!(e.to_string().to_ascii_lowercase().contains("corrupt"), "{what}: {e}"),
            Ok(s) => panic!("{what}: opened at {:?}", s.latest_version()),
        }
    }
}
