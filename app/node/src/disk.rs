//! Disk health: the node stops (and refuses to start) before its disk fills,
//! and a storage failure is reported with what to do about it.

use std::fmt;
use std::path::{Path, PathBuf};

use paychain_app::AppError;
use paychain_store::StoreError;

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

/// The disk reserve (app.toml's `min_free_disk_mb`) is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowDisk {
    pub path: PathBuf,
    pub free_mib: u64,
    pub min_free_mb: u64,
}

impl fmt::Display for LowDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state store: not enough free disk space: {} MiB free on the disk holding {}, below app.toml's \
             min_free_disk_mb = {}",
            self.free_mib,
            self.path.display(),
            self.min_free_mb
        )
    }
}

/// Fails when the disk holding `path` has less than `min_free_mb` MiB free
/// (app.toml's `min_free_disk_mb`; 0 = no check). A node whose disk fills up
/// must stop before RocksDB fails mid-write: some RocksDB builds (Debian's
/// librocksdb, built with assertions) abort the process on a WAL write error.
pub fn check_free_disk(path: &Path, min_free_mb: u64) -> Result<(), LowDisk> {
    if min_free_mb == 0 {
        return Ok(());
    }
    // When the free space cannot be read, RocksDB still reports real write failures.
    let Ok(free) = free_disk_bytes(path) else { return Ok(()) };
    if free >= min_free_mb.saturating_mul(1 << 20) {
        return Ok(());
    }
    Err(LowDisk { path: path.to_path_buf(), free_mib: free >> 20, min_free_mb })
}

/// Why the node stops, as far as the advice needs to tell causes apart.
#[derive(Debug)]
pub enum StopCause<'a> {
    LowDisk(&'a LowDisk),
    App(&'a AppError),
}

/// What went wrong with the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorageKind {
    Full,
    FileTooLarge,
    Locked,
    Corrupt,
    NotWritable,
    Other,
}

/// RocksDB reports its causes only as text (its error type has no kinds), so
/// below the typed [`StoreError`] variants this goes by its wording, falling
/// back to general advice for wording it does not know.
fn rocksdb_kind(text: &str) -> StorageKind {
    let c = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
    if has(&["no space left", "quota exceeded"]) {
        StorageKind::Full
    } else if c.contains("file too large") {
        StorageKind::FileTooLarge
    } else if c.contains("lock") && has(&["resource temporarily unavailable", "no locks available"]) {
        StorageKind::Locked
    } else if has(&["corrupt", "manifest", "current file"]) {
        StorageKind::Corrupt
    } else if has(&["permission denied", "read-only file system"]) {
        StorageKind::NotWritable
    } else {
        StorageKind::Other
    }
}

fn storage_kind(cause: &StopCause) -> Option<StorageKind> {
    match cause {
        StopCause::LowDisk(_) => Some(StorageKind::Full),
        StopCause::App(AppError::Store(StoreError::Corrupt(_))) => Some(StorageKind::Corrupt),
        StopCause::App(AppError::Store(StoreError::Db(e))) => Some(rocksdb_kind(e.as_ref())),
        StopCause::App(AppError::Store(_)) => Some(StorageKind::Other),
        // A module's state read failed: the store's error reached the app as a fatal SdkError's text.
        StopCause::App(AppError::Fatal(log)) => Some(rocksdb_kind(log)),
        StopCause::App(AppError::Invalid(_)) => None,
    }
}

/// What to do about a failure that stops the node, as indented lines to
/// append to the error; `None` when it is not a storage failure.
pub fn store_failure_advice(path: &Path, cause: &StopCause, last_height: Option<u64>) -> Option<String> {
    let kind = storage_kind(cause)?;
    let p = path.display();
    let (advice, resumable) = match kind {
        StorageKind::Full => {
            let a = format!(
                "The disk holding {p} is full: free space on it (or move the home to a bigger disk), \
                 then start the node again."
            );
            (a, true)
        }
        StorageKind::FileTooLarge => {
            let a =
                format!("A file size limit (`ulimit -f`) stopped a write to {p}: raise it, then start the node again.");
            (a, true)
        }
        StorageKind::Locked => {
            let a = format!(
                "{p} is in use by another process: is another paychaind running with this home? Stop it first."
            );
            (a, false)
        }
        StorageKind::Corrupt => {
            let a = format!(
                "The state store {p} is unreadable or corrupt, and the node cannot continue from it. To recover: \
                 move {p} aside, then restore the home's data/ directory from a backup or snapshot taken while the \
                 node was stopped, or set up a fresh home (`paychaind init`) that joins the network by state sync."
            );
            (a, false)
        }
        StorageKind::NotWritable => {
            let a = format!(
                "The node cannot write to {p}: check the disk is mounted read-write and the files belong to \
                 the node's user."
            );
            (a, true)
        }
        StorageKind::Other => {
            let a =
                format!("Check the disk holding {p} (free space, kernel log, permissions), then start the node again.");
            (a, true)
        }
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

    const P: &str = "/h/data/application.db";

    fn advice(cause: StopCause, height: Option<u64>) -> String {
        store_failure_advice(Path::new(P), &cause, height).unwrap_or_else(|| panic!("no advice for {cause:?}"))
    }

    /// A store failure as it reaches the app from a module's state read (RocksDB 7.x wording).
    fn fatal(text: &str) -> AppError {
        AppError::Fatal(format!("state store: database error: {text}"))
    }

    #[test]
    fn advice_names_the_store_and_what_to_do_for_each_kind_of_failure() {
        let full = advice(
            StopCause::App(&fatal("IO error: No space left on device: While appending to file: x.log")),
            Some(41),
        );
        assert!(full.contains(&format!("The disk holding {P} is full")), "{full}");
        assert!(full.contains("still holds block 41"), "{full}");

        let low = check_free_disk(Path::new("/"), 1 << 40).unwrap_err();
        let reserve = advice(StopCause::LowDisk(&low), None);
        assert!(reserve.contains("is full") && !reserve.contains("still holds"), "{reserve}");

        let limit = advice(StopCause::App(&fatal("IO error: File too large")), Some(1));
        assert!(limit.contains("ulimit -f"), "{limit}");

        for cause in [
            fatal("Corruption: CURRENT file does not end with newline"),
            fatal(
                "Corruption: no log_file_number, next_file_number, last_sequence entry in MANIFEST in file \
                 /h/data/application.db/MANIFEST-000005",
            ),
            AppError::Store(StoreError::Corrupt("roots record of latest version 7 is missing".into())),
        ] {
            let a = advice(StopCause::App(&cause), Some(7));
            assert!(a.contains("unreadable or corrupt") && a.contains("state sync"), "{cause}: {a}");
            // Restarting does not help a corrupt store: no promise to resume.
            assert!(!a.contains("resumes"), "{cause}: {a}");
        }

        let locked = advice(
            StopCause::App(&fatal(
                "IO error: While lock file: /h/data/application.db/LOCK: Resource temporarily unavailable",
            )),
            None,
        );
        assert!(locked.contains("another paychaind"), "{locked}");

        let other = advice(StopCause::App(&fatal("IO error: Input/output error")), Some(3));
        assert!(other.contains("Check the disk holding") && other.contains("still holds block 3"), "{other}");
        let mismatch = AppError::Store(StoreError::UnknownSubstore("x".into()));
        assert!(advice(StopCause::App(&mismatch), None).contains("Check the disk holding"));
    }

    #[test]
    fn failures_that_are_not_storage_get_no_storage_advice() {
        for err in [
            AppError::Invalid("FinalizeBlock for height 5, expected 4".into()),
            AppError::Invalid("genesis app_state is not valid JSON: eof".into()),
        ] {
            assert_eq!(store_failure_advice(Path::new(P), &StopCause::App(&err), Some(3)), None);
        }
    }

    #[test]
    fn free_space_check() {
        let dir = std::env::temp_dir();
        assert!(free_disk_bytes(&dir).unwrap() > 0);
        check_free_disk(&dir, 0).unwrap();
        check_free_disk(&dir, 1).unwrap();
        let e = check_free_disk(&dir, 1 << 40).unwrap_err().to_string();
        assert!(e.contains("not enough free disk space") && e.contains("min_free_disk_mb = 1099511627776"), "{e}");
        assert!(free_disk_bytes(Path::new("/nonexistent/x")).is_err());
        // Unreadable free space is not a reason to stop: RocksDB reports real failures.
        check_free_disk(Path::new("/nonexistent/x"), 1).unwrap();
    }
}
