//! How much disk a store uses.

use std::path::Path;

/// Total size of the files directly in `dir` (RocksDB keeps its SSTs, WAL and
/// MANIFEST in one flat directory): a readdir and a stat per file, cheap at
/// scrape intervals, and unlike RocksDB's own size properties it counts the WAL.
pub fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir)? {
        let meta = match entry.and_then(|e| e.metadata()) {
            Ok(m) => m,
            // Compaction deletes files while we list them.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.is_file() {
            total = total.saturating_add(meta.len());
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_size_sums_the_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![0u8; 1000]).unwrap();
        std::fs::write(dir.path().join("b"), vec![0u8; 24]).unwrap();
        assert_eq!(dir_size(dir.path()).unwrap(), 1024);
        assert!(dir_size(&dir.path().join("missing")).is_err());
    }
}
