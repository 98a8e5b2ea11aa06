//! Configuration records decoded once, memoized by their stored bytes.
//!
//! Every transfer reads the same few configuration records (its denom's velocity limit and
//! travel-rule threshold, the risk rule set, the issuer of each credential it checks) and
//! would decode them, and parse the amounts and addresses in them, again each time: a tenth
//! of a send's execution under payment controls. Decoding is a pure function of the bytes,
//! so a memo keyed by the bytes answers exactly what decoding again would: nothing to
//! invalidate when a record changes (new bytes, a new entry), and every node decides the
//! same whatever its memo holds. Only successes are kept; a corrupt record fails each time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use paychain_framework::SdkError;

/// Distinct records a memo keeps before it starts over: a chain has a handful of each kind
/// (one per denom under a limit), so this is only a bound.
const MAX_ENTRIES: usize = 64;

pub struct Memo<T> {
    entries: Mutex<BTreeMap<Vec<u8>, Arc<T>>>,
}

impl<T> Memo<T> {
    pub const fn new() -> Self {
        Self { entries: Mutex::new(BTreeMap::new()) }
    }

    /// What `make` gives for `bytes`, made at most once while memoized.
    pub fn get(&self, bytes: &[u8], make: impl FnOnce(&[u8]) -> Result<T, SdkError>) -> Result<Arc<T>, SdkError> {
        if let Some(hit) = self.lock().get(bytes) {
            return Ok(hit.clone());
        }
        let made = Arc::new(make(bytes)?);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(bytes.to_vec(), made.clone());
        Ok(made)
    }

    /// A panic elsewhere while holding the lock leaves the map whole (inserts are atomic).
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Vec<u8>, Arc<T>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_makes_once_per_content_and_keeps_no_errors() {
        let memo: Memo<usize> = Memo::new();
        let made = std::cell::Cell::new(0);
        let parse = |b: &[u8]| {
            made.set(made.get() + 1);
            std::str::from_utf8(b).map(str::len).map_err(|e| SdkError::fatal(e.to_string()))
        };
        assert_eq!(*memo.get(b"abc", parse).unwrap(), 3);
        assert_eq!(*memo.get(b"abc", parse).unwrap(), 3);
        assert_eq!(*memo.get(b"abcd", parse).unwrap(), 4, "other bytes, another entry");
        assert_eq!(made.get(), 2);
        assert!(memo.get(&[0xff], parse).is_err());
        assert!(memo.get(&[0xff], parse).is_err(), "a failure is made again, never kept");
        assert_eq!(made.get(), 4);
        for i in 0..2 * MAX_ENTRIES {
            memo.get(i.to_string().as_bytes(), parse).unwrap();
        }
        assert!(memo.lock().len() <= MAX_ENTRIES, "bounded");
    }
}
