//! The SDK's `PageRequest` / `PageResponse` over a prefix of a substore.

use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

use crate::error::QueryError;
use crate::state::{prefix_end, StateRead};

/// Default page size when a request gives none (the SDK's `DefaultLimit`).
pub const DEFAULT_LIMIT: u64 = 100;
/// Largest page served; bigger requests are refused rather than walking the store.
pub const MAX_LIMIT: u64 = 10_000;

/// Walks `prefix` in `store` one page at a time. `decode` turns a
/// (key without prefix, value) pair into an item, or `None` to skip it (filtered
/// entries still count as walked, as the SDK's `FilteredPaginate` does not).
/// `next_key` in the response is the key without prefix to resume from.
pub fn paginate<T>(
    state: &dyn StateRead,
    store: &str,
    prefix: &[u8],
    page: Option<&PageRequest>,
    mut decode: impl FnMut(&[u8], &[u8]) -> Result<Option<T>, QueryError>,
) -> Result<(Vec<T>, PageResponse), QueryError> {
    let default = PageRequest::default();
    let page = page.unwrap_or(&default);
    if !page.key.is_empty() && page.offset > 0 {
        return Err(QueryError::invalid_argument(
            "paginate: invalid request, either offset or key is expected, got both",
        ));
    }
    let limit = if page.limit == 0 { DEFAULT_LIMIT } else { page.limit };
    if limit > MAX_LIMIT {
        return Err(QueryError::invalid_argument(format!("pagination limit {limit} exceeds the maximum {MAX_LIMIT}")));
    }
    let count_total = page.count_total && page.key.is_empty();

    let (start, end) = if page.key.is_empty() {
        (prefix.to_vec(), prefix_end(prefix))
    } else if page.reverse {
        (prefix.to_vec(), Some([prefix, page.key.as_slice(), &[0]].concat()))
    } else {
        ([prefix, page.key.as_slice()].concat(), prefix_end(prefix))
    };
    let iter = state.range(store, &start, end.as_deref(), page.reverse)?;

    let mut items = Vec::new();
    let mut next_key = Vec::new();
    let mut total: u64 = 0;
    let mut skipped: u64 = 0;
    for entry in iter {
        let (key, value) = entry?;
        let rel = &key[prefix.len()..];
        if skipped < page.offset {
            skipped += 1;
            total += 1;
            continue;
        }
        if items.len() as u64 == limit {
            if next_key.is_empty() {
                next_key = rel.to_vec();
            }
            if !count_total {
                break;
            }
            total += 1;
            continue;
        }
        if let Some(item) = decode(rel, &value)? {
            items.push(item);
        }
        total += 1;
    }
    Ok((items, PageResponse { next_key, total: if count_total { total } else { 0 } }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{CacheState, StateWrite};

    fn state() -> CacheState<'static> {
        let mut s = CacheState::in_memory();
        for i in 0u8..10 {
            s.set("s", vec![b'p', i], vec![i]);
        }
        s.set("s", b"q".to_vec(), b"other".to_vec());
        s
    }

    fn page(key: Vec<u8>, offset: u64, limit: u64, count_total: bool, reverse: bool) -> PageRequest {
        PageRequest { key, offset, limit, count_total, reverse }
    }

    #[test]
    fn pages_by_key_offset_and_reverse() {
        let s = state();
        let dec = |_: &[u8], v: &[u8]| Ok(Some(v[0]));
        let (items, resp) = paginate(&s, "s", b"p", Some(&page(vec![], 0, 4, true, false)), dec).unwrap();
        assert_eq!(items, vec![0, 1, 2, 3]);
        assert_eq!(resp.total, 10);
        assert_eq!(resp.next_key, vec![4]);
        let (items, resp) = paginate(&s, "s", b"p", Some(&page(resp.next_key, 0, 4, false, false)), dec).unwrap();
        assert_eq!(items, vec![4, 5, 6, 7]);
        let (items, resp) = paginate(&s, "s", b"p", Some(&page(resp.next_key, 0, 4, false, false)), dec).unwrap();
        assert_eq!(items, vec![8, 9]);
        assert!(resp.next_key.is_empty());
        let (items, _) = paginate(&s, "s", b"p", Some(&page(vec![], 8, 4, false, false)), dec).unwrap();
        assert_eq!(items, vec![8, 9]);
        let (items, resp) = paginate(&s, "s", b"p", Some(&page(vec![], 0, 3, false, true)), dec).unwrap();
        assert_eq!(items, vec![9, 8, 7]);
        let (items, _) = paginate(&s, "s", b"p", Some(&page(resp.next_key, 0, 3, false, true)), dec).unwrap();
        assert_eq!(items, vec![6, 5, 4]);
        assert!(paginate(&s, "s", b"p", Some(&page(vec![1], 1, 3, false, false)), dec).is_err());
        assert!(paginate(&s, "s", b"p", Some(&page(vec![], 0, u64::MAX, false, false)), dec).is_err());
    }
}
