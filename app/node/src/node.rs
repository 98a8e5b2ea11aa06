//! Starting the app: open the store, build the app, serve ABCI.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;

use crate::abci::AbciApp;
use crate::app::App;
use crate::config::AppConfig;

/// ABCI read buffer per connection; messages larger than this are still read
/// (the codec grows its buffer), this only sizes each read.
const ABCI_READ_BUF: usize = 1 << 20;

/// A running app serving ABCI on `abci_addr`. Dropping it does not stop the
/// server threads; the process exit does (every commit is atomic, so exiting
/// at any instant is safe).
pub struct RunningNode {
    pub abci_addr: SocketAddr,
    pub grpc_addr: Option<SocketAddr>,
    pub rest_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub app: App,
    /// Runs the gRPC, REST and metrics servers; dropped with the node.
    _runtime: tokio::runtime::Runtime,
}

/// Opens `<home>/data/application.db` and serves ABCI on
/// `config.abci_address` in background threads. Returns once the listener is bound.
pub fn start(home: &Path, config: &AppConfig) -> anyhow::Result<RunningNode> {
    config.validate()?;
    // As PostgreSQL does: with SIGXFSZ ignored, a file size limit (`ulimit -f`)
    // fails the write with EFBIG, which stops the node with a message, instead
    // of the signal killing it without one.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let db_path = AppConfig::db_path(home);
    std::fs::create_dir_all(&db_path).with_context(|| format!("creating {}", db_path.display()))?;
    check_free_disk(&db_path, config.min_free_disk_mb).map_err(|e| {
        let advice = store_failure_advice(&db_path, &e, None).unwrap_or_default();
        anyhow::anyhow!("cannot start: {e}{advice}")
    })?;
    let app = App::open(&db_path, config.clone()).map_err(|e| {
        let advice = store_failure_advice(&db_path, &e.0, None).unwrap_or_default();
        anyhow::anyhow!("cannot open the state store at {}: {e}{advice}", db_path.display())
    })?;
    let (height, app_hash) = app.info();
    tracing::info!(height, app_hash = %hex::encode_upper(&app_hash), chain_id = %app.chain_id(), "state loaded");

    let server = tendermint_abci::ServerBuilder::new(ABCI_READ_BUF)
        .bind(config.abci_address, AbciApp { app: app.clone() })
        .map_err(|e| anyhow::anyhow!("cannot listen for ABCI on {}: {e}", config.abci_address))?;
    let abci_addr: SocketAddr = server.local_addr().parse().context("ABCI listener address")?;
    std::thread::Builder::new().name("abci-accept".into()).spawn(move || {
        if let Err(e) = server.listen() {
            tracing::error!("ABCI server stopped: {e}");
            std::process::exit(70);
        }
    })?;
    tracing::info!(%abci_addr, "serving ABCI");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("paychaind-api")
        .enable_all()
        .build()
        .context("starting the gRPC/REST runtime")?;
    let grpc_addr = match config.grpc_socket()? {
        Some(addr) => Some(crate::grpc::serve(app.clone(), addr, runtime.handle())?),
        None => None,
    };
    let rest_addr = match config.rest_socket()? {
        Some(addr) => Some(crate::rest::serve(app.clone(), addr, runtime.handle())?),
        None => None,
    };
    let metrics_addr = match config.metrics_socket()? {
        Some(addr) => Some(crate::metrics::serve(app.clone(), db_path.clone(), addr, runtime.handle())?),
        None => None,
    };
    Ok(RunningNode { abci_addr, grpc_addr, rest_addr, metrics_addr, app, _runtime: runtime })
}

/// Bytes available to unprivileged writers on the filesystem holding `path`.
pub fn free_disk_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: statvfs only writes into the zeroed struct we pass; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Fails when the disk holding `path` has less than `min_free_mb` MiB free
/// (app.toml's `min_free_disk_mb`; 0 = no check). A node whose disk fills up
/// must stop before RocksDB fails mid-write: some RocksDB builds (Debian's
/// librocksdb, built with assertions) abort the process on a WAL write error.
pub fn check_free_disk(path: &Path, min_free_mb: u64) -> Result<(), String> {
    if min_free_mb == 0 {
        return Ok(());
    }
    // When the free space cannot be read, RocksDB still reports real write failures.
    let Ok(free) = free_disk_bytes(path) else { return Ok(()) };
    if free >= min_free_mb.saturating_mul(1 << 20) {
        return Ok(());
    }
    Err(format!(
        "state store: not enough free disk space: {} MiB free on the disk holding {}, below app.toml's \
         min_free_disk_mb = {min_free_mb}",
        free >> 20,
        path.display()
    ))
}

/// What to do about a state store failure, as indented lines to append to
/// the error; `None` when `cause` is not a storage error. RocksDB reports
/// causes only as text, so this goes by its wording (and falls back to
/// general advice for wording it does not know).
pub fn store_failure_advice(path: &Path, cause: &str, last_height: Option<u64>) -> Option<String> {
    let c = cause.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
    if !has(&["state store", "database error", "corrupt"]) {
        return None;
    }
    let p = path.display();
    let (advice, resumable) = if has(&["no space left", "quota exceeded", "not enough free disk space"]) {
        let a = format!(
            "The disk holding {p} is full: free space on it (or move the home to a bigger disk), \
             then start the node again."
        );
        (a, true)
    } else if c.contains("file too large") {
        let a = format!("A file size limit (`ulimit -f`) stopped a write to {p}: raise it, then start the node again.");
        (a, true)
    } else if c.contains("lock") && has(&["resource temporarily unavailable", "no locks available"]) {
        let a =
            format!("{p} is in use by another process: is another paychaind running with this home? Stop it first.");
        (a, false)
    } else if has(&["corrupt", "manifest", "current file"]) {
        let a = format!(
            "The state store {p} is unreadable or corrupt, and the node cannot continue from it. To recover: \
             move {p} aside, then restore the home's data/ directory from a backup or snapshot taken while the \
             node was stopped, or set up a fresh home (`paychaind init`) that joins the network by state sync."
        );
        (a, false)
    } else if has(&["permission denied", "read-only file system"]) {
        let a = format!(
            "The node cannot write to {p}: check the disk is mounted read-write and the files belong to \
             the node's user."
        );
        (a, true)
    } else {
        let a = format!("Check the disk holding {p} (free space, kernel log, permissions), then start the node again.");
        (a, true)
    };
    // Every commit is one atomic RocksDB write, so a failed one leaves the previous block intact.
    let resume = match last_height {
        Some(h) if resumable => format!(
            "\n  Nothing was half-written: the store still holds block {h}, the last fully committed one, and the node \
             resumes from it when started again."
        ),
        _ => String::new(),
    };
    Some(format!("\n  {advice}{resume}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Causes as RocksDB 7.x words them, through `AppError`'s "state store: " prefix.
    const P: &str = "/h/data/application.db";

    fn advice(cause: &str, height: Option<u64>) -> String {
        store_failure_advice(Path::new(P), cause, height).unwrap_or_else(|| panic!("no advice for {cause:?}"))
    }

    #[test]
    fn advice_names_the_store_and_what_to_do_for_each_kind_of_failure() {
        let full = advice(
            "state store: database error: IO error: No space left on device: While appending to file: x.log",
            Some(41),
        );
        assert!(full.contains(&format!("The disk holding {P} is full")), "{full}");
        assert!(full.contains("still holds block 41"), "{full}");

        let reserve = advice(&check_free_disk(Path::new("/"), 1 << 40).unwrap_err(), None);
        assert!(reserve.contains("is full") && !reserve.contains("still holds"), "{reserve}");

        let limit = advice("state store: database error: IO error: File too large", Some(1));
        assert!(limit.contains("ulimit -f"), "{limit}");

        for cause in [
            "state store: database error: Corruption: CURRENT file does not end with newline",
            "state store: database error: Corruption: no log_file_number, next_file_number, last_sequence entry \
             in MANIFEST in file /h/data/application.db/MANIFEST-000005",
            "corrupt store: roots record of latest version 7 is missing or disagrees with meta",
        ] {
            let a = advice(cause, Some(7));
            assert!(a.contains("unreadable or corrupt") && a.contains("state sync"), "{cause}: {a}");
            // Restarting does not help a corrupt store: no promise to resume.
            assert!(!a.contains("resumes"), "{cause}: {a}");
        }

        let locked = advice(
            "state store: database error: IO error: While lock file: /h/data/application.db/LOCK: \
             Resource temporarily unavailable",
            None,
        );
        assert!(locked.contains("another paychaind"), "{locked}");

        let other = advice("state store: database error: IO error: Input/output error", Some(3));
        assert!(other.contains("Check the disk holding") && other.contains("still holds block 3"), "{other}");
    }

    #[test]
    fn failures_that_are_not_storage_get_no_storage_advice() {
        assert_eq!(store_failure_advice(Path::new(P), "FinalizeBlock for height 5, expected 4", Some(3)), None);
        assert_eq!(store_failure_advice(Path::new(P), "genesis app_state is not valid JSON: eof", None), None);
    }

    #[test]
    fn free_space_check() {
        let dir = std::env::temp_dir();
        assert!(free_disk_bytes(&dir).unwrap() > 0);
        check_free_disk(&dir, 0).unwrap();
        check_free_disk(&dir, 1).unwrap();
        let e = check_free_disk(&dir, 1 << 40).unwrap_err();
        assert!(e.contains("not enough free disk space") && e.contains("min_free_disk_mb = 1099511627776"), "{e}");
        assert!(free_disk_bytes(Path::new("/nonexistent/x")).is_err());
        // Unreadable free space is not a reason to stop: RocksDB reports real failures.
        check_free_disk(Path::new("/nonexistent/x"), 1).unwrap();
    }
}
