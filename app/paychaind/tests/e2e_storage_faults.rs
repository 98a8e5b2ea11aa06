//! Storage faults stop the node cleanly, never with a Rust panic. A disk
//! filling up under a running dev chain (real CometBFT, real RocksDB on a
//! small tmpfs) stops it at the `min_free_disk_mb` reserve with a clear
//! message; without the reserve, RocksDB's own failed write stops it; either
//! way nothing is half-written and the chain resumes once space is freed. A
//! corrupt store, or a disk below the reserve, is refused at start with a
//! message naming the store and saying how to recover.

use std::io::{Read, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use paychain_app::app::App;
use paychain_framework::BlockTime;
use paychain_node::config::AppConfig;
use serde_json::Value;

mod common;
use common::{clean_command, cometbft_available, free_ports, Ports};

fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn rpc(port: u16, path: &str) -> Option<Value> {
    let v: Value = reqwest::blocking::get(format!("http://127.0.0.1:{port}/{path}")).ok()?.json().ok()?;
    Some(v["result"].clone())
}

fn height(port: u16) -> Option<u64> {
    rpc(port, "status")?["sync_info"]["latest_block_height"].as_str()?.parse().ok()
}

/// Last committed height and app hash of the store, opened in-process (the node must be stopped).
fn store_state(db: &Path) -> (u64, Vec<u8>) {
    let app =
        App::open(db, AppConfig::default().app_options()).unwrap_or_else(|e| panic!("reopening {}: {e}", db.display()));
    app.info()
}

fn set_min_free_disk_mb(home: &Path, mb: u64) {
    let mut config = AppConfig::load(home).unwrap();
    config.min_free_disk_mb = mb;
    config.save(home).unwrap();
}

/// `paychaind dev` whose output reaches its log file through pipes, so a
/// file size limit put on the node never applies to its own log. SIGKILLed
/// on drop (its CometBFT child goes with it).
struct Node {
    child: Child,
    log: PathBuf,
}

impl Node {
    fn start(home: &Path, ports: &Ports, log: PathBuf) -> Self {
        let mut child = clean_command()
            .args(["dev", "--home"])
            .arg(home)
            .args(["--rpc-port", &ports.rpc.to_string(), "--p2p-port", &ports.p2p.to_string()])
            .args(["--cometbft-rpc-port", &ports.cometbft_rpc.to_string()])
            .args(["--abci-port", &ports.abci.to_string(), "--grpc-port", "0", "--rest-port", "0"])
            .args(["--metrics-port", &ports.metrics.to_string(), "--timeout-commit", "300ms"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning paychaind dev");
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        for mut pipe in [out, err] {
            let mut f = file.try_clone().unwrap();
            std::thread::spawn(move || std::io::copy(&mut pipe, &mut f));
        }
        Node { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_height(&mut self, port: u16, min: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("paychaind dev exited early ({s}); log:\n{}", self.log());
            }
            if let Some(h) = height(port).filter(|h| *h > min) {
                return h;
            }
            assert!(Instant::now() < deadline, "chain did not pass height {min}; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits for the node to stop by itself; fails the test if it does not within `within`.
    fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // Let the copier threads drain the pipes.
                std::thread::sleep(Duration::from_millis(300));
                return s;
            }
            assert!(Instant::now() < deadline, "the node kept running on a full disk; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tmpfs mounted for the test, unmounted on drop (lazily if still busy).
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// `None` when mounting is not permitted (not root, or no CAP_SYS_ADMIN in a container).
    fn mount(path: &Path, size: &str) -> Option<Self> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs { path: path.to_path_buf() })
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.path).status().unwrap();
        assert!(st.success(), "remounting {} with size {size}", self.path.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.path).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// How the full-disk test takes the space away, and gives it back.
enum Squeeze {
    /// The store moved onto a small tmpfs, filled up by a filler file.
    Tmpfs { fs: Tmpfs, filler: Option<PathBuf> },
    /// Without mount rights: the running node's RLIMIT_FSIZE (prlimit) is
    /// lowered to just above its write-ahead log's size. CometBFT, already
    /// running, keeps its own limit.
    Rlimit,
}

impl Squeeze {
    /// Moves the store at `db` onto an 8 MiB tmpfs when mounting is allowed.
    fn prepare(db: &Path) -> Self {
        if std::env::var_os("PAYCHAIN_TEST_NO_MOUNT").is_none() {
            let aside = db.with_extension("orig");
            std::fs::rename(db, &aside).unwrap();
            std::fs::create_dir(db).unwrap();
            if let Some(fs) = Tmpfs::mount(db, "8m") {
                for e in std::fs::read_dir(&aside).unwrap() {
                    let e = e.unwrap();
                    std::fs::copy(e.path(), db.join(e.file_name())).unwrap();
                }
                std::fs::remove_dir_all(&aside).unwrap();
                return Squeeze::Tmpfs { fs, filler: None };
            }
            std::fs::remove_dir(db).unwrap();
            std::fs::rename(&aside, db).unwrap();
        }
        eprintln!("mount not permitted: using RLIMIT_FSIZE instead of a full tmpfs");
        Squeeze::Rlimit
    }

    fn is_tmpfs(&self) -> bool {
        matches!(self, Squeeze::Tmpfs { .. })
    }

    /// Fills the tmpfs until at most `leave` bytes are free.
    fn fill(&mut self, db: &Path, leave: u64) {
        let Squeeze::Tmpfs { filler, .. } = self else { unreachable!("fill needs the tmpfs") };
        let path = db.join("filler");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
        let chunk = vec![0xa5u8; 64 * 1024];
        loop {
            let free = paychain_node::disk::free_disk_bytes(db).unwrap();
            if free <= leave {
                break;
            }
            let n = (free - leave).min(chunk.len() as u64) as usize;
            if f.write_all(&chunk[..n]).is_err() {
                break;
            }
        }
        *filler = Some(path);
    }

    /// Takes all the room left for the node `pid`'s next writes to its store.
    fn squeeze(&mut self, db: &Path, pid: u32) {
        if self.is_tmpfs() {
            return self.fill(db, 0);
        }
        let wal = std::fs::read_dir(db)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .max()
            .unwrap_or(0);
        let lim = libc::rlimit { rlim_cur: wal + 32 * 1024, rlim_max: libc::RLIM_INFINITY };
        // SAFETY: prlimit on our own child with a valid rlimit and no old-limit output.
        let rc = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_FSIZE, &lim, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    }

    /// Gives the space back (a restarted node has no file size limit anyway).
    fn release(&mut self, grow: bool) {
        if let Squeeze::Tmpfs { fs, filler } = self {
            if let Some(f) = filler.take() {
                std::fs::remove_file(f).unwrap();
            }
            if grow {
                fs.resize("256m");
            }
        }
    }
}

/// The line the node prints when it halts, with the message's checks common to every cause.
fn halt_message(log: &str, db: &Path) -> String {
    let line = log
        .lines()
        .find(|l| l.contains("paychaind: Commit failed, stopping the node"))
        .unwrap_or_else(|| panic!("no halt message; log:\n{log}"));
    assert!(log.contains(&format!("State store: {}", db.display())), "message names the store; log:\n{log}");
    assert!(log.contains("then start the node again"), "message says what to do; log:\n{log}");
    line.to_string()
}

#[test]
fn full_disk_stops_the_node_cleanly_and_it_resumes_after_space_is_freed() {
    if !cometbft_available("full_disk_stops_the_node_cleanly_and_it_resumes_after_space_is_freed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let db = AppConfig::db_path(&home);
    let ports = free_ports();

    // A chain with a few blocks, made on the normal disk.
    Node::start(&home, &ports, tmp.path().join("dev0.log")).wait_for_height(ports.rpc, 2);
    // Declared before the nodes below, so unmounted after they are killed.
    let mut squeeze = Squeeze::prepare(&db);

    if squeeze.is_tmpfs() {
        // The free-space reserve stops the node before RocksDB runs out:
        // 1 MiB left is below the 2 MiB reserve but more than any one block writes.
        set_min_free_disk_mb(&home, 2);
        let mut node = Node::start(&home, &ports, tmp.path().join("dev1.log"));
        let h0 = node.wait_for_height(ports.rpc, 2);
        squeeze.fill(&db, 1 << 20);
        let status = node.wait_exit(Duration::from_secs(60));
        let log = node.log();
        assert_eq!(status.code(), Some(70), "exit status {status}; log:\n{log}");
        assert!(!log.contains("panicked at"), "{log}");
        assert!(halt_message(&log, &db).contains("not enough free disk space"), "{log}");
        assert!(log.contains("The disk holding") && log.contains("is full"), "{log}");
        drop(node);
        squeeze.release(false);
        let (h, _) = store_state(&db);
        // CometBFT saves a block before the app commits it, so its height may be one ahead.
        assert!(h + 1 >= h0, "store at {h}, chain was at {h0}");
        assert!(log.contains(&format!("the store still holds block {h},")), "message names block {h}; log:\n{log}");
    }

    // Without the reserve, RocksDB's own write fails. A RocksDB built with
    // NDEBUG returns the error and the node halts with its message; Debian's
    // librocksdb (built with assertions) aborts in its WAL writer instead.
    // Either way: no Rust panic, and nothing half-written.
    set_min_free_disk_mb(&home, 0);
    let mut node = Node::start(&home, &ports, tmp.path().join("dev2.log"));
    let h1 = node.wait_for_height(ports.rpc, 2);
    squeeze.squeeze(&db, node.child.id());
    let status = node.wait_exit(Duration::from_secs(120));
    let log = node.log();
    assert!(!status.success(), "{log}");
    assert!(!log.contains("panicked at"), "{log}");
    let lines: Vec<&str> = log.lines().collect();
    let last = lines[lines.len().saturating_sub(4)..].join("\n");
    eprintln!("without the reserve the node stopped with {status}; its log ends with:\n{last}");
    match (status.code(), status.signal()) {
        (Some(70), _) => {
            let line = halt_message(&log, &db);
            assert!(line.contains("No space left on device") || line.contains("File too large"), "{log}");
        }
        (_, Some(libc::SIGABRT)) => assert!(log.contains("rocksdb") && log.contains("Assertion"), "{log}"),
        _ => panic!("unexpected exit {status}; log:\n{log}"),
    }
    drop(node);

    // Space back: the store opens at its last fully committed block...
    squeeze.release(true);
    set_min_free_disk_mb(&home, 2);
    let (h, hash) = store_state(&db);
    assert!(h + 1 >= h1, "store at {h}, chain was at {h1}");

    // ...and the chain resumes from it: CometBFT's next block carries that app hash.
    let mut node = Node::start(&home, &ports, tmp.path().join("dev3.log"));
    node.wait_for_height(ports.rpc, h + 3);
    let block = rpc(ports.rpc, &format!("block?height={}", h + 1)).unwrap();
    assert_eq!(block["block"]["header"]["app_hash"].as_str().unwrap(), hex::encode_upper(&hash), "app hash of {h}");
    let log = node.log();
    assert!(!log.contains("wrong Block.Header.AppHash") && !log.contains("panicked at"), "{log}");
}

/// A home whose store has three committed blocks (written in-process).
fn home_with_blocks(root: &Path) -> PathBuf {
    let home = root.join("home");
    let h = home.to_str().unwrap();
    let o = clean_command().args(["init", "faults", "--chain-id", "faults-1", "--home", h]).output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    // Off the default ports, and nothing listening: the test only needs the store opened.
    let mut config = AppConfig::load(&home).unwrap();
    // `init` sizes the app's admission limit from its CometBFT mempool.size (default 5,000).
    assert_eq!(config.mempool_max_txs, paychain_app::mempool::max_txs_for_cometbft_size(5_000));
    // `init`'s RPC layout: the node's front on the public port over its own index, CometBFT's
    // RPC behind it with its indexer off.
    assert_eq!(
        (config.rpc_front_address.as_str(), config.tx_index, config.cometbft_rpc.as_str()),
        ("127.0.0.1:26657", true, "http://127.0.0.1:26667")
    );
    let comet_config = std::fs::read_to_string(home.join("config/config.toml")).unwrap();
    assert!(comet_config.contains("laddr = \"tcp://127.0.0.1:26667\""), "{comet_config}");
    assert!(comet_config.contains("indexer = \"null\""), "{comet_config}");
    config.abci_address = "127.0.0.1:0".parse().unwrap();
    config.grpc_address.clear();
    config.rest_address.clear();
    config.metrics_address.clear();
    config.rpc_front_address.clear();
    config.save(&home).unwrap();

    let genesis: Value =
        serde_json::from_slice(&std::fs::read(home.join("config").join("genesis.json")).unwrap()).unwrap();
    let app = App::open(&AppConfig::db_path(&home), config.app_options()).unwrap();
    app.init_chain("faults-1", 1, genesis["app_state"].to_string().as_bytes()).unwrap();
    for height in 1..=3 {
        app.finalize_block(height, BlockTime { seconds: 1_700_000_000 + height as i64, nanos: 0 }, &[]).unwrap();
        app.commit().unwrap();
    }
    assert_eq!(app.info().0, 3);
    home
}

/// `paychaind start` on `home`: must exit by itself within seconds.
fn start(home: &Path) -> Output {
    let mut child = clean_command()
        .args(["start", "--home"])
        .arg(home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("paychaind start kept running on a corrupt store: {}", show(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn assert_refused_with_recovery_advice(home: &Path, what: &str) {
    let o = start(home);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{what}: start succeeded: {}", show(&o));
    assert!(!stderr.contains("panicked at"), "{what}: {}", show(&o));
    let db = AppConfig::db_path(home);
    assert!(stderr.contains(&format!("cannot open the state store at {}", db.display())), "{what}: {}", show(&o));
    assert!(stderr.contains("unreadable or corrupt"), "{what}: {}", show(&o));
    assert!(stderr.contains("backup or snapshot") && stderr.contains("state sync"), "{what}: {}", show(&o));
}

fn manifest(db: &Path) -> PathBuf {
    std::fs::read_dir(db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("MANIFEST-"))
        .expect("a MANIFEST file")
}

#[test]
fn corrupt_store_is_refused_at_start_with_recovery_advice() {
    if !cometbft_available("corrupt_store_is_refused_at_start_with_recovery_advice") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();

    // Garbage in CURRENT (the pointer to the live MANIFEST).
    let home = home_with_blocks(&tmp.path().join("current"));
    std::fs::write(AppConfig::db_path(&home).join("CURRENT"), b"\x00\x9f garbage, not a file name").unwrap();
    assert_refused_with_recovery_advice(&home, "garbage CURRENT");

    // A truncated MANIFEST (the list of live files).
    let home = home_with_blocks(&tmp.path().join("manifest"));
    let m = manifest(&AppConfig::db_path(&home));
    let len = std::fs::metadata(&m).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&m).unwrap().set_len(len / 3).unwrap();
    assert_refused_with_recovery_advice(&home, "truncated MANIFEST");

    // CURRENT gone: RocksDB would take the directory for a new, empty database.
    let home = home_with_blocks(&tmp.path().join("no-current"));
    std::fs::remove_file(AppConfig::db_path(&home).join("CURRENT")).unwrap();
    assert_refused_with_recovery_advice(&home, "missing CURRENT");
}

#[test]
fn start_refuses_a_disk_below_the_free_space_reserve() {
    if !cometbft_available("start_refuses_a_disk_below_the_free_space_reserve") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_blocks(tmp.path());
    // More than any disk has: the check must refuse, whatever the machine.
    set_min_free_disk_mb(&home, 1 << 40);
    let o = start(&home);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(!stderr.contains("panicked at"), "{}", show(&o));
    let db = AppConfig::db_path(&home);
    assert!(stderr.contains("not enough free disk space"), "{}", show(&o));
    assert!(stderr.contains(&format!("The disk holding {} is full", db.display())), "{}", show(&o));
    // The store was not touched: it still opens at its last block.
    assert_eq!(store_state(&db).0, 3);
}
