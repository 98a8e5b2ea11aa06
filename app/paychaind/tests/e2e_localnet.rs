//! Fault tolerance of a real 4-validator localnet (CometBFT + paychaind per
//! node, on loopback) under a steady load of bank sends: crashed nodes, a
//! halted chain, and recovery, with every node on one chain throughout.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::cometbft_available;
use common::localnet::{committed, test_account, Load, TestAccount, TestNet};
use paychain_framework::{Address, Coins};

const SENDERS: usize = 6;

/// One localnet at a time: four validators each already share two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn accounts() -> (Vec<TestAccount>, Vec<Address>) {
    let senders: Vec<TestAccount> = (0..SENDERS).map(|i| test_account(&format!("localnet-sender-{i}"))).collect();
    let recipients: Vec<Address> = (0..4).map(|i| test_account(&format!("localnet-recipient-{i}")).address).collect();
    (senders, recipients)
}

fn genesis_funds(senders: &[TestAccount]) -> Vec<(Address, Coins)> {
    senders.iter().map(|s| (s.address.clone(), "1000000000upay".parse().unwrap())).collect()
}

fn start_load(net: &TestNet, names: &[&str], senders: &[TestAccount], recipients: &[Address]) -> Load {
    let urls = names.iter().map(|n| net.node(n).ports.rpc_url()).collect();
    Load::start(&net.chain_id, urls, senders.to_vec(), recipients.to_vec())
}

fn wait_accepted(load: &Load, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while load.accepted_so_far() < n {
        assert!(Instant::now() < deadline, "the load got only {} txs accepted", load.accepted_so_far());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Heights of `names` stay put for `window` (the chain is halted).
fn assert_halted(net: &TestNet, names: &[&str], window: Duration) -> u64 {
    let before: Vec<u64> = names.iter().map(|n| net.height(n).unwrap()).collect();
    std::thread::sleep(window);
    let after: Vec<u64> = names.iter().map(|n| net.height(n).unwrap()).collect();
    assert_eq!(before, after, "blocks were committed with half the voting power down");
    *after.iter().max().unwrap()
}

#[test]
fn one_validator_down_continues_two_down_halts_and_all_recover() {
    if !cometbft_available("one_validator_down_continues_two_down_halts_and_all_recover") {
        return;
    }
    let _one = exclusive();
    let (senders, recipients) = accounts();
    let net = TestNet::init(4, 0, &genesis_funds(&senders), &[]);
    net.ok(&["start"]);
    net.wait_height("node0", 3, Duration::from_secs(60));
    let all = ["node0", "node1", "node2", "node3"];

    let load = start_load(&net, &all, &senders, &recipients);
    wait_accepted(&load, 30, Duration::from_secs(60));

    // One of four down: 3/4 of the power remains, blocks continue.
    net.ok(&["kill", "node3"]);
    let h = net.height("node0").unwrap();
    net.wait_height("node0", h + 5, Duration::from_secs(60));

    // Two of four down: 1/2 < 2/3, the chain must halt, not fork.
    net.ok(&["kill", "node2"]);
    std::thread::sleep(Duration::from_secs(3));
    let halted_at = assert_halted(&net, &["node0", "node1"], Duration::from_secs(8));
    assert_eq!(net.height("node0"), net.height("node1"));
    net.assert_same_chain(&["node0", "node1"], 1..=halted_at);

    // What was committed before the recovery.
    let report = load.stop();
    let before = committed(&net, "node0", &report.accepted);
    assert!(before.len() >= 20, "only {} of {} txs committed", before.len(), report.accepted.len());
    assert!(before.values().all(|(_, code)| *code == 0));

    // Restore both: the chain resumes and everyone agrees.
    net.ok(&["start", "node2", "node3"]);
    let load = start_load(&net, &all, &senders, &recipients);
    let target = halted_at + 5;
    for n in all {
        net.wait_height(n, target, Duration::from_secs(120));
    }
    let report2 = load.stop();
    net.assert_same_chain(&all, 1..=target);
    // Mempool txs may have been committed since; none committed before moved.
    for n in all {
        let now = committed(&net, n, &report.accepted);
        for (hash, at) in &before {
            assert_eq!(now.get(hash), Some(at), "{n} lost or moved committed tx {hash}");
        }
    }
    let after = committed(&net, "node0", &report2.accepted);
    assert!(!after.is_empty(), "no tx committed after the recovery");
    let addrs: Vec<Address> = senders.iter().map(|s| s.address.clone()).chain(recipients.iter().cloned()).collect();
    let reference = net.balances_at("node0", &addrs, target);
    for n in &all[1..] {
        assert_eq!(net.balances_at(n, &addrs, target), reference, "{n} disagrees on balances at {target}");
    }
}

#[test]
fn repeated_sigkill_of_one_node_always_recovers() {
    if !cometbft_available("repeated_sigkill_of_one_node_always_recovers") {
        return;
    }
    const KILLS: usize = 20;
    let _one = exclusive();
    let (senders, recipients) = accounts();
    let net = TestNet::init(4, 0, &genesis_funds(&senders), &[]);
    net.ok(&["start"]);
    net.wait_height("node0", 3, Duration::from_secs(60));
    let all = ["node0", "node1", "node2", "node3"];
    // Load through the nodes that stay up, so it never stalls on the victim.
    let load = start_load(&net, &["node0", "node2", "node3"], &senders, &recipients);
    wait_accepted(&load, 10, Duration::from_secs(60));

    // Kill moments spread over the block cycle (~300 ms blocks; FinalizeBlock
    // and Commit run inside it), from a seed printed for reproduction.
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("kill timing seed {seed}");
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..KILLS {
        let delay = Duration::from_millis(200 + next() % 1500);
        std::thread::sleep(delay);
        let out = net.run(&["kill", "node1"]);
        assert!(out.status.success(), "kill {round} failed");
        net.ok(&["start", "node1"]);
        // Caught up with the others again.
        let h = net.height("node0").unwrap();
        net.wait_height("node1", h, Duration::from_secs(90));
    }
    let report = load.stop();
    let top = all.iter().map(|n| net.height(n).unwrap()).min().unwrap();
    net.assert_same_chain(&all, 1..=top);
    // Txs up to the height every node has reached: the same on the victim.
    let on_node0: BTreeMap<String, (u64, u32)> =
        committed(&net, "node0", &report.accepted).into_iter().filter(|(_, (h, _))| *h <= top).collect();
    assert!(on_node0.len() >= 20, "only {} txs committed under the kills", on_node0.len());
    let hashes: Vec<String> = on_node0.keys().cloned().collect();
    let on_node1 = committed(&net, "node1", &hashes);
    for (hash, at) in &on_node0 {
        assert_eq!(on_node1.get(hash), Some(at), "node1 lost or moved committed tx {hash} (top {top})");
    }
    let addrs: Vec<Address> = senders.iter().map(|s| s.address.clone()).collect();
    assert_eq!(net.balances_at("node1", &addrs, top), net.balances_at("node0", &addrs, top));
}

/// Flips a byte in every snapshot chunk file of `homes` not flipped yet.
fn corrupt_new_chunks(homes: &[std::path::PathBuf], done: &mut std::collections::BTreeSet<std::path::PathBuf>) {
    for home in homes {
        let dir = paychain_node::config::AppConfig::snapshot_dir(home);
        let Ok(heights) = std::fs::read_dir(&dir) else { continue };
        for h in heights.flatten().filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit())) {
            let Ok(files) = std::fs::read_dir(h.path()) else { continue };
            for f in files.flatten() {
                let path = f.path();
                let is_chunk = f.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit());
                if !is_chunk || done.contains(&path) {
                    continue;
                }
                if let Ok(mut bytes) = std::fs::read(&path) {
                    let middle = bytes.len() / 2;
                    if let Some(b) = bytes.get_mut(middle) {
                        *b ^= 0xFF;
                        if std::fs::write(&path, &bytes).is_ok() {
                            done.insert(path);
                        }
                    }
                }
            }
        }
    }
}

fn scrape_counter(port: u16, name: &str) -> f64 {
    let text = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics")).unwrap().text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
}

#[test]
fn a_new_node_joins_by_state_sync_refusing_corrupt_chunks() {
    if !cometbft_available("a_new_node_joins_by_state_sync_refusing_corrupt_chunks") {
        return;
    }
    let _one = exclusive();
    let (senders, recipients) = accounts();
    let net = TestNet::init(4, 1, &genesis_funds(&senders), &["--snapshot-interval", "10"]);
    let validators = ["node0", "node1", "node2", "node3"];
    // Small chunks, so a snapshot has many and each can be refused on its own. Every snapshot
    // kept: CometBFT does not give up a snapshot whose chunks its peers stop serving, so one
    // pruned mid-restore (10 blocks are ~6 s here) would stall the new node for good.
    for n in validators {
        let mut c = paychain_node::config::AppConfig::load(&net.home(n)).unwrap();
        c.snapshot_chunk_bytes = 256;
        c.snapshot_keep_recent = 1_000;
        c.save(&net.home(n)).unwrap();
    }
    net.ok(&["start"]);
    let load = start_load(&net, &validators, &senders, &recipients);
    wait_accepted(&load, 40, Duration::from_secs(60));
    net.wait_height("node0", 22, Duration::from_secs(120));

    // Three of four validators serve corrupted chunks (on disk, as they
    // appear); only node3's are intact.
    let bad_homes: Vec<_> = ["node0", "node1", "node2"].iter().map(|n| net.home(n)).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let corrupter = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut done = std::collections::BTreeSet::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                corrupt_new_chunks(&bad_homes, &mut done);
                std::thread::sleep(Duration::from_millis(50));
            }
            done.len()
        })
    };
    std::thread::sleep(Duration::from_millis(300));

    net.ok(&["add-node"]);
    let h = net.height("node0").unwrap();
    let joined = net.wait_height("node4", h, Duration::from_secs(240));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let corrupted = corrupter.join().unwrap();
    assert!(corrupted > 0, "no chunk was corrupted");
    load.stop();

    // It state-synced (its blocks start after a snapshot) instead of replaying.
    let client = net.client("node4");
    let status = common::localnet::rt().block_on(client.status()).unwrap();
    let earliest = status.sync_info.earliest_block_height.value();
    assert!(earliest > 10, "node4 has blocks from {earliest}: it replayed from genesis");
    let log = net.localnet().log_tail(&net.node("node4"), 100_000);
    assert!(log.contains("snapshot chunk rejected"), "no chunk was refused:\n{log}");
    let refused = scrape_counter(net.node("node4").ports.metrics, "paychain_snapshot_chunks_rejected_total");
    assert!(refused >= 1.0, "{refused}");

    // Same chain, same state, same answers.
    net.assert_same_chain(&["node0", "node4"], earliest..=joined);
    let addrs: Vec<Address> = senders.iter().map(|s| s.address.clone()).chain(recipients.iter().cloned()).collect();
    assert_eq!(net.balances_at("node4", &addrs, joined), net.balances_at("node0", &addrs, joined));
}
