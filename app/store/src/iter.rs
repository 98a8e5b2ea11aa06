//! Range iteration over the versioned `values` table.

use rocksdb::{DBRawIteratorWithThreadMode, DB};

use crate::codec::{decode_value, inv_version, parse_value_key, value_prefix, value_prefix_end};
use crate::types::{Snapshot, StoreError, Version};

/// Iterator over `(key, value)` pairs of one substore at one version, in raw-key order
/// (ascending for [`MerkleStore::range`](crate::MerkleStore::range), descending for
/// [`MerkleStore::range_rev`](crate::MerkleStore::range_rev)). Holds a RocksDB snapshot, so
/// concurrent commits (and their pruning) do not affect it.
pub struct StoreIter<'a> {
    // Field order matters: the iterator must be dropped before the snapshot it reads.
    it: DBRawIteratorWithThreadMode<'a, DB>,
    _snap: Snapshot<'a>,
    sid: u8,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    version: Version,
    reverse: bool,
    /// Where to seek next (`seek` forward, `seek_for_prev` in reverse); `None` = exhausted.
    next_target: Option<Vec<u8>>,
}

impl<'a> StoreIter<'a> {
    pub(crate) fn new(
        it: DBRawIteratorWithThreadMode<'a, DB>,
        snap: Snapshot<'a>,
        sid: u8,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        version: Version,
        reverse: bool,
    ) -> Self {
        let empty = matches!(&end, Some(e) if *e <= start);
        let next_target = if empty {
            None
        } else if reverse {
            // The last entry before `enc(end)` belongs to the greatest key below `end`.
            Some(match &end {
                Some(e) => value_prefix(sid, e),
                None => vec![sid + 1],
            })
        } else {
            Some(value_prefix(sid, &start))
        };
        StoreIter { it, _snap: snap, sid, start, end, version, reverse, next_target }
    }

    fn fail(&mut self, e: StoreError) -> Option<<Self as Iterator>::Item> {
        self.next_target = None;
        Some(Err(e))
    }
}

impl Iterator for StoreIter<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let target = self.next_target.take()?;
            if self.reverse {
                self.it.seek_for_prev(&target);
            } else {
                self.it.seek(&target);
            }
            let Some(key) = self.it.key() else {
                return match self.it.status() {
                    Ok(()) => None,
                    Err(e) => self.fail(e.into()),
                };
            };
            if key.first() != Some(&self.sid) {
                return None;
            }
            let Some(parsed) = parse_value_key(key) else {
                let msg = format!("malformed values key {}", hex::encode(key));
                return self.fail(StoreError::Corrupt(msg));
            };
            let in_range =
                if self.reverse { parsed.raw >= self.start } else { self.end.as_ref().is_none_or(|e| parsed.raw < *e) };
            if !in_range {
                return None;
            }
            let prefix = key[..parsed.prefix_len].to_vec();
            self.next_target = Some(if self.reverse {
                // seek_for_prev(prefix) lands on the previous key's oldest entry.
                prefix.clone()
            } else {
                value_prefix_end(&prefix)
            });

            // Newest entry of this key at or below `version`.
            if self.reverse || parsed.version > self.version {
                let mut t = prefix.clone();
                t.extend_from_slice(&inv_version(self.version));
                self.it.seek(&t);
            }
            match self.it.item() {
                Some((k, v)) if k.len() == prefix.len() + 8 && k.starts_with(&prefix) => {
                    match decode_value(v) {
                        Some(Some(value)) => return Some(Ok((parsed.raw, value))),
                        Some(None) => continue, // deleted at this version
                        None => {
                            let msg = format!("malformed value entry {}", hex::encode(k));
                            return self.fail(StoreError::Corrupt(msg));
                        }
                    }
                }
                Some(_) => continue, // key not yet written at `version`
                None => {
                    if let Err(e) = self.it.status() {
                        return self.fail(e.into());
                    }
                    continue;
                }
            }
        }
    }
}
