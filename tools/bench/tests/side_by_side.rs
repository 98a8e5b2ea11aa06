//! `paychain-bench load --side-by-side` end to end: the same signed-send load against a paychain
//! validator and a Cosmos SDK v0.50 simd validator it starts (real CometBFT, real simd), and
//! the comparison table. A small load: this checks that both chains take and commit every
//! send, not how fast they are (that is docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::Command;

fn simd_bin() -> Option<PathBuf> {
    let p = std::env::var_os("SIMD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/bin/simd"));
    p.is_file().then_some(p)
}

#[test]
fn the_same_load_commits_on_paychain_and_on_simd() {
    if simd_bin().is_none() {
        let msg = "simd is not built (run `make setup`: scripts/setup.sh builds .cache/bin/simd)";
        assert!(std::env::var_os("CI").is_none(), "{msg}: this test must run in CI");
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_paychain-bench"))
        .args(["load", "--side-by-side", "--rate", "40", "--duration", "3s", "--accounts", "50", "--drain", "30s"])
        .output()
        .expect("running paychain-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "paychain-bench failed ({}):\n{stdout}\n{stderr}", out.status);

    // Both runs: every one of the 120 sends accepted and committed, none failed.
    let committed: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("committed ") && l.contains(" accepted txs")).collect();
    assert_eq!(committed.len(), 2, "one result per chain:\n{stdout}");
    for line in &committed {
        assert!(line.starts_with("committed 120 of 120 accepted txs (0 not seen"), "{line}\n{stdout}");
        assert!(line.contains("; 0 failed in execution"), "{line}");
    }
    assert!(stdout.contains("a single paychain validator started"), "{stdout}");
    assert!(stdout.contains("a single simd validator started"), "{stdout}");
    // The comparison row: paychain and simd at 40/s, with a ratio.
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| 40 | ") && l.contains('x'))
        .unwrap_or_else(|| panic!("no side-by-side row:\n{stdout}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    for cell in &cells[2..4] {
        let per_sec: f64 = cell.parse().unwrap_or_else(|_| panic!("committed/s cell {cell:?} in {row}"));
        assert!(per_sec > 20.0, "{row}");
    }
}
