//! `tx_search`: CometBFT's query language over the index (see the crate docs for semantics).

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::str::FromStr;

use tendermint_rpc::query::{Condition, Operand, Operation, Query};

use crate::records::{
    get_tx, key_prefix, parse_position, position, prefix_end, value_prefix, IndexStore, IndexedTx, MAX_KEY_LEN,
    POSITION_PREFIX,
};

/// CometBFT's default and largest `per_page`.
pub const DEFAULT_PER_PAGE: u64 = 30;
pub const MAX_PER_PAGE: u64 = 100;
/// Index entries one condition may match before the query is refused as too broad: a bound
/// on the memory and time of one query (CometBFT bounds it by a timeout instead).
pub const MAX_MATCHES: usize = 1_000_000;
/// CometBFT's `maxQueryLength`.
const MAX_QUERY_LENGTH: usize = 512;

/// Result order, by (height, index).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// One page of matches and how many there are in all.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    pub total: u64,
    pub txs: Vec<IndexedTx>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    /// The request is wrong: the query, an operand, the page.
    #[error("{0}")]
    Invalid(String),
    /// The index could not be read.
    #[error("tx index: {0}")]
    Storage(String),
}

fn invalid<T>(message: impl Into<String>) -> Result<T, SearchError> {
    Err(SearchError::Invalid(message.into()))
}

/// Inclusive height bounds.
#[derive(Clone, Copy, Debug)]
struct Heights {
    low: u64,
    high: u64,
}

impl Heights {
    fn contains(&self, h: u64) -> bool {
        self.low <= h && h <= self.high
    }
}

type TxId = (u64, u32);
/// Whether an attribute value meets a condition.
type ValueTest = dyn Fn(&[u8]) -> bool;
/// A matching attribute: its tx and the event (its position in the tx's result) it is in.
type EventId = (u64, u32, u32);

/// Runs `query` and returns page `page` (1-based; `None` = the first) of `per_page` results
/// (`None` or 0 = [`DEFAULT_PER_PAGE`], at most [`MAX_PER_PAGE`]), as CometBFT's `tx_search`.
pub fn search(
    db: &dyn IndexStore,
    query: &str,
    page: Option<u64>,
    per_page: Option<u64>,
    order: Order,
) -> Result<SearchPage, SearchError> {
    if query.len() > MAX_QUERY_LENGTH {
        return invalid("maximum query length exceeded");
    }
    if query.trim().is_empty() {
        return invalid("empty query");
    }
    let parsed = Query::from_str(query).map_err(|e| SearchError::Invalid(format!("invalid query {query:?}: {e}")))?;
    let ids = matching(db, &parsed.conditions)?;
    let per_page = match per_page {
        None | Some(0) => DEFAULT_PER_PAGE,
        Some(n) => n.min(MAX_PER_PAGE),
    };
    let total = ids.len() as u64;
    let pages = total.saturating_sub(1) / per_page + 1;
    let page = page.unwrap_or(1);
    if page == 0 || page > pages {
        return invalid(format!("page should be within [1, {pages}] range, given {page}"));
    }
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let chosen: Vec<TxId> = match order {
        Order::Asc => ids.iter().skip(skip).take(take).copied().collect(),
        Order::Desc => ids.iter().rev().skip(skip).take(take).copied().collect(),
    };
    let mut txs = Vec::with_capacity(chosen.len());
    for (height, index) in chosen {
        let hash = db
            .get(&[POSITION_PREFIX, &position(height, index)].concat())
            .map_err(SearchError::Storage)?
            .ok_or_else(|| SearchError::Storage(format!("no tx at height {height} index {index}")))?;
        let tx = get_tx(db, &hash)
            .map_err(SearchError::Storage)?
            .ok_or_else(|| SearchError::Storage(format!("no record of tx {}", hex::encode_upper(&hash))))?;
        txs.push(tx);
    }
    Ok(SearchPage { total, txs })
}

/// The txs meeting every condition, in (height, index) order.
fn matching(db: &dyn IndexStore, conditions: &[Condition]) -> Result<BTreeSet<TxId>, SearchError> {
    // `tx.hash` answers that one tx, whatever else the query says (as CometBFT).
    if let Some(c) = conditions.iter().find(|c| c.key == "tx.hash") {
        let Operation::Eq(Operand::String(h)) = &c.operation else {
            return invalid("tx.hash takes = and a hex string");
        };
        let hash = hex::decode(h).map_err(|e| SearchError::Invalid(format!("tx.hash {h:?} is not hex: {e}")))?;
        return Ok(get_tx(db, &hash).map_err(SearchError::Storage)?.map(|t| (t.height, t.index)).into_iter().collect());
    }
    let mut heights = Heights { low: 0, high: u64::MAX };
    let mut attribute_conditions = Vec::new();
    for c in conditions {
        if c.key == "tx.height" {
            narrow_heights(&mut heights, &c.operation)?;
        } else {
            attribute_conditions.push(c);
        }
    }
    if heights.low > heights.high {
        return Ok(BTreeSet::new());
    }
    // Equalities first: each is one prefix scan, usually the narrowest.
    attribute_conditions.sort_by_key(|c| !matches!(c.operation, Operation::Eq(_)));
    // All attribute conditions must hold in one event (CometBFT v0.38).
    let mut found: Option<BTreeSet<EventId>> = None;
    for c in attribute_conditions {
        let ids = attribute_matches(db, c, heights, found.as_ref())?;
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        found = Some(ids);
    }
    match found {
        Some(ids) => Ok(ids.into_iter().map(|(h, i, _)| (h, i)).collect()),
        None => by_height(db, heights),
    }
}

fn narrow_heights(h: &mut Heights, op: &Operation) -> Result<(), SearchError> {
    let number = |o: &Operand| -> Result<i128, SearchError> {
        match o {
            Operand::Unsigned(n) => Ok(i128::from(*n)),
            Operand::Signed(n) => Ok(i128::from(*n)),
            other => invalid(format!("tx.height takes a whole number, not {other}")),
        }
    };
    // Bounds in i128 so that `< 0`, `> u64::MAX - 1` and negative operands need no cases.
    let (mut low, mut high) = (i128::from(h.low), i128::from(h.high));
    match op {
        Operation::Eq(o) => {
            let n = number(o)?;
            low = low.max(n);
            high = high.min(n);
        }
        Operation::Gt(o) => low = low.max(number(o)? + 1),
        Operation::Gte(o) => low = low.max(number(o)?),
        Operation::Lt(o) => high = high.min(number(o)? - 1),
        Operation::Lte(o) => high = high.min(number(o)?),
        Operation::Exists => {}
        Operation::Contains(_) => return invalid("tx.height takes =, <, <=, > or >=, not CONTAINS"),
    }
    *h = match (u64::try_from(low.max(0)), u64::try_from(high)) {
        (Ok(low), Ok(high)) if low <= high => Heights { low, high },
        // Empty: a range `contains` rejects for every height.
        _ => Heights { low: 1, high: 0 },
    };
    Ok(())
}

/// Every indexed tx in `heights`.
fn by_height(db: &dyn IndexStore, heights: Heights) -> Result<BTreeSet<TxId>, SearchError> {
    let from = [POSITION_PREFIX, &heights.low.to_be_bytes()].concat();
    let to = match heights.high.checked_add(1) {
        Some(h) => [POSITION_PREFIX, &h.to_be_bytes()].concat(),
        None => prefix_end(POSITION_PREFIX),
    };
    let mut ids = BTreeSet::new();
    let mut too_many = false;
    db.scan(&from, &to, &mut |k, _| {
        if let Some(id) = k.get(POSITION_PREFIX.len()..).and_then(parse_position) {
            ids.insert(id);
        }
        too_many = ids.len() > MAX_MATCHES;
        !too_many
    })
    .map_err(SearchError::Storage)?;
    if too_many {
        return invalid(too_broad());
    }
    Ok(ids)
}

fn too_broad() -> String {
    format!("the query matches more than {MAX_MATCHES} txs: narrow it, e.g. with tx.height")
}

/// A number as an attribute value or an operand: whole numbers exactly, others as decimals.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Number {
    Whole(i128),
    // Query results only, never state: a float cannot decide a block from here.
    Decimal(f64),
}

impl Number {
    fn parse(s: &str) -> Option<Number> {
        if let Ok(n) = s.parse::<i128>() {
            return Some(Number::Whole(n));
        }
        if s.contains('.') && s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
            return s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Number::Decimal);
        }
        None
    }

    fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Whole(a), Number::Whole(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Whole(n) => n as f64,
            Number::Decimal(f) => f,
        }
    }
}

fn operand_number(o: &Operand) -> Result<Number, SearchError> {
    match o {
        Operand::Unsigned(n) => Ok(Number::Whole(i128::from(*n))),
        Operand::Signed(n) => Ok(Number::Whole(i128::from(*n))),
        Operand::Float(f) if f.is_finite() => Ok(Number::Decimal(*f)),
        other => invalid(format!("a range condition takes a number, not {other}")),
    }
}

/// The txs (in `heights`, and in `within` if given) with an indexed attribute meeting `c`.
fn attribute_matches(
    db: &dyn IndexStore,
    c: &Condition,
    heights: Heights,
    within: Option<&BTreeSet<EventId>>,
) -> Result<BTreeSet<EventId>, SearchError> {
    let mut ids = BTreeSet::new();
    if c.key.len() > MAX_KEY_LEN {
        return Ok(ids);
    }
    // Which values match, for the scans over all of a key's values.
    let value_test: Box<ValueTest> = match &c.operation {
        Operation::Eq(o) => {
            let value = match o {
                Operand::String(s) => s.clone(),
                Operand::Unsigned(_) | Operand::Signed(_) | Operand::Float(_) => o.to_string(),
                other => return invalid(format!("{} = {other}: dates and times are not indexed", c.key)),
            };
            // One scan over this value's entries, from the lowest height asked for.
            let prefix = value_prefix(&c.key, &value);
            let from = [&prefix[..], &heights.low.to_be_bytes()].concat();
            let to = match heights.high.checked_add(1) {
                Some(h) => [&prefix[..], &h.to_be_bytes()].concat(),
                None => prefix_end(&prefix),
            };
            collect(db, &from, &to, prefix.len(), heights, within, &mut ids, &|_| true)?;
            return Ok(ids);
        }
        Operation::Exists => Box::new(|_| true),
        Operation::Contains(s) => {
            let needle = s.clone();
            Box::new(move |v| std::str::from_utf8(v).is_ok_and(|v| v.contains(needle.as_str())))
        }
        Operation::Lt(o) | Operation::Lte(o) | Operation::Gt(o) | Operation::Gte(o) => {
            let bound = operand_number(o)?;
            let accept: fn(Ordering) -> bool = match &c.operation {
                Operation::Lt(_) => |o| o == Ordering::Less,
                Operation::Lte(_) => |o| o != Ordering::Greater,
                Operation::Gt(_) => |o| o == Ordering::Greater,
                _ => |o| o != Ordering::Less,
            };
            Box::new(move |v| {
                std::str::from_utf8(v).ok().and_then(Number::parse).and_then(|n| n.compare(bound)).is_some_and(accept)
            })
        }
    };
    let prefix = key_prefix(&c.key);
    collect(db, &prefix, &prefix_end(&prefix), prefix.len(), heights, within, &mut ids, &*value_test)?;
    Ok(ids)
}

/// Scans attribute entries in `from..to` (keys `prefix` (`prefix_len` bytes) ++ [BE4(len) ++
/// value when the prefix stops at the key] ++ position ++ BE4(event)) into `ids`.
#[allow(clippy::too_many_arguments)]
fn collect(
    db: &dyn IndexStore,
    from: &[u8],
    to: &[u8],
    prefix_len: usize,
    heights: Heights,
    within: Option<&BTreeSet<EventId>>,
    ids: &mut BTreeSet<EventId>,
    value_test: &dyn Fn(&[u8]) -> bool,
) -> Result<(), SearchError> {
    let mut scanned = 0usize;
    db.scan(from, to, &mut |k, _| {
        scanned += 1;
        let Some(rest) = k.get(prefix_len..) else { return true };
        let Some(id_at) = rest.len().checked_sub(16) else { return true };
        let (value_part, id) = rest.split_at(id_at);
        let (Some((height, index)), Ok(event)) = (parse_position(id), <[u8; 4]>::try_from(&id[12..])) else {
            return true;
        };
        let id = (height, index, u32::from_be_bytes(event));
        // A value-prefixed scan has no value part left; a key-prefixed one has BE4(len) ++ value.
        let value = value_part.get(4..).unwrap_or(&[]);
        if heights.contains(height) && within.is_none_or(|w| w.contains(&id)) && value_test(value) {
            ids.insert(id);
        }
        scanned <= MAX_MATCHES
    })
    .map_err(SearchError::Storage)?;
    if scanned > MAX_MATCHES {
        return invalid(too_broad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{event, index, result};
    use crate::records::tx_hash;

    fn send(from: &str, to: &str, amount: &str) -> tendermint_proto::v0_38::abci::ExecTxResult {
        result(
            0,
            vec![
                event("message", &[("sender", from), ("action", "/cosmos.bank.v1beta1.MsgSend")]),
                event("transfer", &[("sender", from), ("recipient", to), ("amount", amount)]),
                event("escrow", &[("count", if amount.starts_with('1') { "2.5" } else { "12" })]),
            ],
        )
    }

    fn db() -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
        index(&[
            (4, vec![(b"a".to_vec(), send("alice", "bob", "10upay")), (b"b".to_vec(), send("bob", "carol", "5upay"))]),
            (5, vec![(b"c".to_vec(), send("alice", "carol", "7upay"))]),
            (7, vec![(b"d".to_vec(), send("carol", "alice", "1upay")), (b"e".to_vec(), result(11, vec![]))]),
        ])
    }

    /// (height, index) of each result of `query`, ascending, all on one page.
    fn ids(query: &str) -> Vec<TxId> {
        let page = search(&db(), query, None, Some(100), Order::Asc).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(page.total as usize, page.txs.len());
        page.txs.iter().map(|t| (t.height, t.index)).collect()
    }

    #[test]
    fn equality_and_and() {
        assert_eq!(ids("message.sender='alice'"), [(4, 0), (5, 0)]);
        assert_eq!(ids("transfer.recipient = 'carol'"), [(4, 1), (5, 0)]);
        // Conditions on attributes hold in one event: never across two events, as CometBFT.
        assert_eq!(ids("transfer.sender='alice' AND transfer.recipient='carol'"), [(5, 0)]);
        assert_eq!(ids("message.sender='alice' AND transfer.recipient='carol'"), []);
        assert_eq!(ids("transfer.sender='alice' AND transfer.recipient='bob' AND transfer.amount='10upay'"), [(4, 0)]);
        assert_eq!(ids("message.sender='nobody'"), []);
        assert_eq!(ids("transfer.sender='alice' AND transfer.recipient='nobody'"), []);
        // A prefix of a value is not the value.
        assert_eq!(ids("message.sender='ali'"), []);
    }

    #[test]
    fn heights_bound_every_condition() {
        assert_eq!(ids("tx.height=7"), [(7, 0), (7, 1)], "failed txs are indexed too");
        assert_eq!(ids("tx.height>4 AND tx.height<7"), [(5, 0)]);
        assert_eq!(ids("tx.height>=5"), [(5, 0), (7, 0), (7, 1)]);
        assert_eq!(ids("tx.height<=4"), [(4, 0), (4, 1)]);
        assert_eq!(ids("tx.height<0"), []);
        assert_eq!(ids("tx.height>5 AND tx.height<5"), []);
        assert_eq!(ids("message.sender='alice' AND tx.height>=5"), [(5, 0)]);
        assert_eq!(ids("transfer.sender EXISTS AND tx.height<5"), [(4, 0), (4, 1)]);
    }

    #[test]
    fn hash_answers_that_tx_alone() {
        let h = hex::encode_upper(tx_hash(b"c"));
        assert_eq!(ids(&format!("tx.hash='{h}'")), [(5, 0)]);
        assert_eq!(ids(&format!("tx.hash='{h}' AND message.sender='bob'")), [(5, 0)], "as CometBFT");
        assert_eq!(ids(&format!("tx.hash='{}'", hex::encode(tx_hash(b"zz")))), []);
        assert!(matches!(search(&db(), "tx.hash='xyz'", None, None, Order::Asc), Err(SearchError::Invalid(_))));
    }

    #[test]
    fn contains_exists_and_numeric_ranges() {
        assert_eq!(ids("transfer.amount CONTAINS 'upay' AND transfer.recipient CONTAINS 'aro'"), [(4, 1), (5, 0)]);
        assert_eq!(ids("transfer.amount CONTAINS 'upay' AND escrow.count EXISTS"), [], "two events");
        assert_eq!(ids("transfer.recipient EXISTS"), [(4, 0), (4, 1), (5, 0), (7, 0)]);
        assert_eq!(ids("escrow.count > 3"), [(4, 1), (5, 0)]);
        assert_eq!(ids("escrow.count < 12"), [(4, 0), (7, 0)]);
        assert_eq!(ids("escrow.count <= 12 AND escrow.count >= 12"), [(4, 1), (5, 0)]);
        assert_eq!(ids("escrow.count > 2.4 AND escrow.count < 2.6"), [(4, 0), (7, 0)]);
        assert_eq!(ids("escrow.count = 12"), [(4, 1), (5, 0)], "a number equals its decimal text");
        // A range condition on a value that is not a number matches nothing.
        assert_eq!(ids("transfer.amount > 1"), []);
    }

    #[test]
    fn order_and_pages_as_cometbft() {
        let d = db();
        let all = |order| search(&d, "tx.height>0", None, None, order).unwrap();
        let asc: Vec<TxId> = all(Order::Asc).txs.iter().map(|t| (t.height, t.index)).collect();
        let mut desc: Vec<TxId> = all(Order::Desc).txs.iter().map(|t| (t.height, t.index)).collect();
        desc.reverse();
        assert_eq!(asc, desc);
        assert_eq!(asc.len(), 5);

        let page2 = search(&d, "tx.height>0", Some(2), Some(2), Order::Desc).unwrap();
        assert_eq!(page2.total, 5);
        let got: Vec<TxId> = page2.txs.iter().map(|t| (t.height, t.index)).collect();
        assert_eq!(got, [(5, 0), (4, 1)]);
        assert_eq!(search(&d, "tx.height>0", Some(3), Some(2), Order::Asc).unwrap().txs.len(), 1);
        let err = search(&d, "tx.height>0", Some(4), Some(2), Order::Asc).unwrap_err();
        assert_eq!(err, SearchError::Invalid("page should be within [1, 3] range, given 4".into()));
        assert!(search(&d, "tx.height>0", Some(0), None, Order::Asc).is_err());
        // No match: one empty page, as CometBFT.
        let none = search(&d, "message.sender='x'", Some(1), None, Order::Asc).unwrap();
        assert_eq!((none.total, none.txs.len()), (0, 0));
        // per_page above the limit is the limit; 0 is the default.
        assert_eq!(search(&d, "tx.height>0", None, Some(1000), Order::Asc).unwrap().txs.len(), 5);
        assert_eq!(search(&d, "tx.height>0", None, Some(0), Order::Asc).unwrap().txs.len(), 5);
    }

    #[test]
    fn bad_queries_are_refused_with_a_reason() {
        let d = db();
        for q in ["", "   ", "message.sender=", "message.sender='a' OR x='b'", "tx.height CONTAINS '1'"] {
            let err = search(&d, q, None, None, Order::Asc).unwrap_err();
            assert!(matches!(err, SearchError::Invalid(_)), "{q:?}: {err:?}");
        }
        let long = format!("message.sender='{}'", "a".repeat(600));
        assert_eq!(search(&d, &long, None, None, Order::Asc).unwrap_err().to_string(), "maximum query length exceeded");
        let err = search(&d, "escrow.count > 'x'", None, None, Order::Asc).unwrap_err();
        assert!(err.to_string().contains("takes a number"), "{err}");
        let err = search(&d, "tx.height = 'x'", None, None, Order::Asc).unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
        let err = search(&d, "escrow.when = DATE 2026-01-01", None, None, Order::Asc).unwrap_err();
        assert!(err.to_string().contains("dates"), "{err}");
    }
}
