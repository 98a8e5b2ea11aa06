//! A node whose app store and CometBFT data disagree: an app store restored
//! from an older backup is replayed forward; one from another history, one
//! ahead of CometBFT, or a reset CometBFT is refused with a clear error and a
//! way to recover. Real CometBFT, through `paychaind dev`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{cometbft_available, free_ports, DevNode, Ports};

fn height(ports: &Ports) -> Option<u64> {
    let client = paychain_client::NodeClient::new(&format!("http://127.0.0.1:{}", ports.rpc)).ok()?;
    common::localnet::rt().block_on(client.latest_height()).ok()
}

fn run_until(home: &Path, ports: &Ports, log: &str, min: u64) -> u64 {
    let mut node = DevNode::start(home, ports, log);
    let deadline = Instant::now() + Duration::from_secs(90);
    let h = loop {
        node.assert_running();
        if let Some(h) = height(ports).filter(|h| *h >= min) {
            break h;
        }
        assert!(Instant::now() < deadline, "no height {min}; log:\n{}", node.log_tail());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(node.sigterm(Duration::from_secs(20)).success());
    h
}

/// Runs `dev` on `home` expecting it to refuse: returns its log.
fn refused(home: &Path, ports: &Ports, log: &str) -> String {
    let mut node = DevNode::start(home, ports, log);
    let status = node
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("paychaind dev kept running on inconsistent stores; log:\n{}", node.log_tail()));
    assert!(!status.success(), "exit status {status}");
    let log = node.log();
    assert!(!log.contains("panicked at"), "{log}");
    log
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn app_db(home: &Path) -> std::path::PathBuf {
    home.join("data").join("application.db")
}

#[test]
fn mismatched_stores_are_replayed_or_refused() {
    if !cometbft_available("mismatched_stores_are_replayed_or_refused") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (pa, pb) = (free_ports(), free_ports());
    let backups = tmp.path().join("backups");

    // An app store from an older backup of the same node: CometBFT replays
    // the blocks it lacks, with the same app hashes.
    run_until(&a, &pa, "a1.log", 4);
    copy_dir(&app_db(&a), &backups.join("a-old"));
    let a_top = run_until(&a, &pa, "a2.log", 9);
    copy_dir(&app_db(&a), &backups.join("a-new"));
    copy_dir(&backups.join("a-old"), &app_db(&a));
    let resumed = run_until(&a, &pa, "a3.log", a_top + 2);
    assert!(resumed >= a_top + 2);

    // Another chain's app store (lower height): a different app hash.
    let b_top = run_until(&b, &pb, "b1.log", 3);
    copy_dir(&app_db(&b), &backups.join("b"));
    copy_dir(&app_db(&b), &app_db(&a));
    let log = refused(&a, &pa, "a4.log");
    assert!(log.contains("does not match CometBFT's data"), "{log}");
    assert!(log.contains("To recover"), "{log}");

    // An app store ahead of CometBFT's blocks.
    copy_dir(&backups.join("a-new"), &app_db(&b));
    let log = refused(&b, &pb, "b2.log");
    assert!(log.contains("ahead of CometBFT's block store"), "{log}");

    // CometBFT's data reset while the app store was kept.
    copy_dir(&backups.join("a-new"), &app_db(&a));
    for d in ["blockstore.db", "state.db", "tx_index.db", "evidence.db", "cs.wal"] {
        let p = a.join("data").join(d);
        if p.exists() {
            std::fs::remove_dir_all(&p).unwrap();
        }
    }
    std::fs::write(a.join("data").join("priv_validator_state.json"), "{\"height\": \"0\", \"round\": 0, \"step\": 0}")
        .unwrap();
    let log = refused(&a, &pa, "a5.log");
    assert!(log.contains("but CometBFT's data in") && log.contains("is empty"), "{log}");

    // The refusals changed nothing: b with its own store runs on.
    copy_dir(&backups.join("b"), &app_db(&b));
    assert!(run_until(&b, &pb, "b3.log", b_top + 2) >= b_top + 2);
}
