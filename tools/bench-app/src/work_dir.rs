//! Where a benchmark keeps its data.

use std::path::{Path, PathBuf};

/// Where a benchmark keeps its data: `given` (`flag`'s value, which must not exist yet: a
/// benchmark never writes into someone's data), or `name` inside a new temporary directory
/// that lives as long as the returned guard.
pub fn work_dir(
    given: Option<&Path>,
    flag: &str,
    prefix: &str,
    name: &str,
) -> anyhow::Result<(Option<tempfile::TempDir>, PathBuf)> {
    match given {
        Some(d) => {
            anyhow::ensure!(!d.exists(), "{flag} {} already exists; give a new path", d.display());
            Ok((None, d.to_path_buf()))
        }
        None => {
            let tmp = tempfile::Builder::new().prefix(prefix).tempdir()?;
            let path = tmp.path().join(name);
            Ok((Some(tmp), path))
        }
    }
}
