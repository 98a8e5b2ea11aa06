//! `tx_search`: CometBFT's query language over the index (see the crate docs for semantics).

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::str::FromStr;

use tendermint_rpc::query::{Condition, Operand, Operation, Query};

use crate::records::{
    get_tx, key_prefix, parse_position, position, prefix_end, value_prefix, IndexStore, IndexedTx, ATTRIBUTE_PREFIX,
    BLOCK_ATTRIBUTE_PREFIX, MAX_KEY_LEN, POSITION_PREFIX, TIME_PREFIX,
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
/// A matching attribute: its tx (a block's own events: its index 0) and the event (its
/// position in the tx's result, or the block's) it is in.
type EventId = (u64, u32, u32);

/// What a search runs over: the events of txs, or the blocks' own (FinalizeBlock) events.
#[derive(Clone, Copy)]
struct Space {
    attributes: &'static [u8],
    /// The composite key that bounds heights rather than naming an attribute.
    height_key: &'static str,
}

const TXS: Space = Space { attributes: ATTRIBUTE_PREFIX, height_key: "tx.height" };
const BLOCKS: Space = Space { attributes: BLOCK_ATTRIBUTE_PREFIX, height_key: "block.height" };

/// Runs `query` and returns page `page` (1-based; `None` = the first) of `per_page` results
/// (`None` or 0 = [`DEFAULT_PER_PAGE`], at most [`MAX_PER_PAGE`]), as CometBFT's `tx_search`.
pub fn search(
    db: &dyn IndexStore,
    query: &str,
    page: Option<u64>,
    per_page: Option<u64>,
    order: Order,
) -> Result<SearchPage, SearchError> {
    let parsed = parse(query)?;
    let ids = matching(db, &parsed.conditions)?;
    let chosen = one_page(&ids, page, per_page, order)?;
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
    Ok(SearchPage { total: ids.len() as u64, txs })
}

/// One page of `block_search`: the heights of the matching blocks and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockPage {
    pub total: u64,
    pub heights: Vec<u64>,
}

/// CometBFT's `block_search` over the blocks' own events (FinalizeBlock's, not their txs'):
/// the same query language, with `block.height` bounding heights; a query on heights alone
/// finds every indexed block in them. Paged as [`search`]; the caller fetches the blocks.
/// CometBFT's default order here is [`Order::Desc`], unlike `tx_search`'s.
pub fn block_search(
    db: &dyn IndexStore,
    query: &str,
    page: Option<u64>,
    per_page: Option<u64>,
    order: Order,
) -> Result<BlockPage, SearchError> {
    let parsed = parse(query)?;
    let (heights, conditions) = split_heights(&parsed.conditions, BLOCKS)?;
    let found: BTreeSet<u64> = if heights.low > heights.high {
        BTreeSet::new()
    } else {
        match events_matching(db, BLOCKS, conditions, heights)? {
            Some(events) => events.into_iter().map(|(h, _, _)| h).collect(),
            None => indexed_blocks(db, heights)?,
        }
    };
    let heights = one_page(&found, page, per_page, order)?;
    Ok(BlockPage { total: found.len() as u64, heights })
}

fn parse(query: &str) -> Result<Query, SearchError> {
    if query.len() > MAX_QUERY_LENGTH {
        return invalid("maximum query length exceeded");
    }
    if query.trim().is_empty() {
        return invalid("empty query");
    }
    Query::from_str(query).map_err(|e| SearchError::Invalid(format!("invalid query {query:?}: {e}")))
}

/// Page `page` of `per_page` of `all` in `order`, as CometBFT validates and pages results (an
/// empty result has one empty page).
fn one_page<T: Copy>(
    all: &BTreeSet<T>,
    page: Option<u64>,
    per_page: Option<u64>,
    order: Order,
) -> Result<Vec<T>, SearchError> {
    let per_page = match per_page {
        None | Some(0) => DEFAULT_PER_PAGE,
        Some(n) => n.min(MAX_PER_PAGE),
    };
    let pages = (all.len() as u64).saturating_sub(1) / per_page + 1;
    let page = page.unwrap_or(1);
    if page == 0 || page > pages {
        return invalid(format!("page should be within [1, {pages}] range, given {page}"));
    }
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    Ok(match order {
        Order::Asc => all.iter().skip(skip).take(take).copied().collect(),
        Order::Desc => all.iter().rev().skip(skip).take(take).copied().collect(),
    })
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
    let (heights, conditions) = split_heights(conditions, TXS)?;
    if heights.low > heights.high {
        return Ok(BTreeSet::new());
    }
    match events_matching(db, TXS, conditions, heights)? {
        Some(events) => Ok(events.into_iter().map(|(h, i, _)| (h, i)).collect()),
        None => by_height(db, heights),
    }
}

/// The events (in `heights`) meeting every attribute condition, all in one event (CometBFT
/// v0.38); `None` when there is no attribute condition.
fn events_matching(
    db: &dyn IndexStore,
    space: Space,
    mut conditions: Vec<&Condition>,
    heights: Heights,
) -> Result<Option<BTreeSet<EventId>>, SearchError> {
    // Equalities first: each is one prefix scan, usually the narrowest.
    conditions.sort_by_key(|c| !matches!(c.operation, Operation::Eq(_)));
    let mut found: Option<BTreeSet<EventId>> = None;
    for c in conditions {
        let ids = attribute_matches(db, space, c, heights, found.as_ref())?;
        if ids.is_empty() {
            return Ok(Some(BTreeSet::new()));
        }
        found = Some(ids);
    }
    Ok(found)
}

/// The height bounds a query's `tx.height` / `block.height` conditions set, and its other
/// conditions. As CometBFT v0.38 (`dedupHeight`): when there is a range (`<`, `<=`, `>`,
/// `>=`) on heights, equalities on heights are ignored; otherwise the first equality alone
/// counts. Several ranges are intersected (CometBFT keeps the last bound on each side; the
/// two agree unless a query bounds one side twice).
fn split_heights(conditions: &[Condition], space: Space) -> Result<(Heights, Vec<&Condition>), SearchError> {
    let number = |o: &Operand| -> Result<i128, SearchError> {
        match o {
            Operand::Unsigned(n) => Ok(i128::from(*n)),
            Operand::Signed(n) => Ok(i128::from(*n)),
            other => invalid(format!("{} takes a whole number, not {other}", space.height_key)),
        }
    };
    let on_heights: Vec<&Condition> = conditions.iter().filter(|c| c.key == space.height_key).collect();
    let others = conditions.iter().filter(|c| c.key != space.height_key).collect();
    let is_range = |c: &Condition| {
        matches!(c.operation, Operation::Gt(_) | Operation::Gte(_) | Operation::Lt(_) | Operation::Lte(_))
    };
    // Bounds in i128 so that `< 0`, `> u64::MAX - 1` and negative operands need no cases.
    let (mut low, mut high) = (0i128, i128::from(u64::MAX));
    for c in &on_heights {
        match &c.operation {
            Operation::Contains(_) => {
                return invalid(format!("{} takes =, <, <=, > or >=, not CONTAINS", space.height_key))
            }
            Operation::Eq(o) => {
                number(o)?;
            }
            _ => {}
        }
    }
    if on_heights.iter().any(|c| is_range(c)) {
        for c in on_heights.iter().filter(|c| is_range(c)) {
            match &c.operation {
                Operation::Gt(o) => low = low.max(number(o)? + 1),
                Operation::Gte(o) => low = low.max(number(o)?),
                Operation::Lt(o) => high = high.min(number(o)? - 1),
                Operation::Lte(o) => high = high.min(number(o)?),
                _ => {}
            }
        }
    } else if let Some(Operation::Eq(o)) =
        on_heights.iter().map(|c| &c.operation).find(|o| matches!(o, Operation::Eq(_)))
    {
        let n = number(o)?;
        (low, high) = (n, n);
    }
    let heights = match (u64::try_from(low.max(0)), u64::try_from(high)) {
        (Ok(low), Ok(high)) if low <= high => Heights { low, high },
        // Empty: a range `contains` rejects for every height.
        _ => Heights { low: 1, high: 0 },
    };
    Ok((heights, others))
}

/// Every indexed tx in `heights`.
fn by_height(db: &dyn IndexStore, heights: Heights) -> Result<BTreeSet<TxId>, SearchError> {
    let mut ids = BTreeSet::new();
    scan_heights(db, POSITION_PREFIX, heights, &mut |k| {
        if let Some(id) = parse_position(k) {
            ids.insert(id);
        }
        ids.len()
    })?;
    Ok(ids)
}

/// Every indexed block in `heights` (each has its time record).
fn indexed_blocks(db: &dyn IndexStore, heights: Heights) -> Result<BTreeSet<u64>, SearchError> {
    let mut found = BTreeSet::new();
    scan_heights(db, TIME_PREFIX, heights, &mut |k| {
        if let Some(h) = k.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes) {
            found.insert(h);
        }
        found.len()
    })?;
    Ok(found)
}

/// Scans the keys `prefix` ++ BE8(height) ++ .. for `heights`, giving `f` each key after the
/// prefix; `f` answers how many results it holds, and past [`MAX_MATCHES`] the query is refused.
fn scan_heights(
    db: &dyn IndexStore,
    prefix: &[u8],
    heights: Heights,
    f: &mut dyn FnMut(&[u8]) -> usize,
) -> Result<(), SearchError> {
    let from = [prefix, &heights.low.to_be_bytes()].concat();
    let to = match heights.high.checked_add(1) {
        Some(h) => [prefix, &h.to_be_bytes()].concat(),
        None => prefix_end(prefix),
    };
    let mut too_many = false;
    db.scan(&from, &to, &mut |k, _| {
        too_many = f(k.get(prefix.len()..).unwrap_or_default()) > MAX_MATCHES;
        !too_many
    })
    .map_err(SearchError::Storage)?;
    if too_many {
        return invalid(too_broad());
    }
    Ok(())
}

fn too_broad() -> String {
    format!("the query matches more than {MAX_MATCHES} entries: narrow it, e.g. with tx.height or block.height")
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

/// The events (in `heights`, and in `within` if given) with an indexed attribute meeting `c`.
fn attribute_matches(
    db: &dyn IndexStore,
    space: Space,
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
            let prefix = value_prefix(space.attributes, &c.key, &value);
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
    let prefix = key_prefix(space.attributes, &c.key);
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
    fn height_conditions_combine_as_cometbfts() {
        // A range on heights makes equalities on heights ignored; otherwise the first counts.
        assert_eq!(ids("tx.height=7 AND tx.height>4"), [(5, 0), (7, 0), (7, 1)]);
        assert_eq!(ids("tx.height=4 AND tx.height=7"), [(4, 0), (4, 1)]);
        assert_eq!(ids("tx.height>3 AND tx.height>4"), [(5, 0), (7, 0), (7, 1)], "ranges intersect");
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

    /// Blocks 4, 5, 6 (empty) and 7 of [`db`], with block events at 5 and 7.
    fn blocks_db() -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
        let mut d = db();
        let refund = |id: &str, reason: &str| event("escrow_refunded", &[("id", id), ("reason", reason)]);
        let none: [Vec<u8>; 0] = [];
        for (h, events) in [
            (5u64, vec![refund("1", "expired"), event("escrow_refunded", &[("id", "2")])]),
            (6, vec![]),
            (7, vec![event("mint", &[("amount", "5")]), refund("2", "expired")]),
        ] {
            d.extend(crate::records::block_records(h, (h as i64, 0), &none, &[], &events));
        }
        d
    }

    fn heights(query: &str, order: Order) -> Vec<u64> {
        let page = block_search(&blocks_db(), query, None, Some(100), order).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(page.total as usize, page.heights.len());
        page.heights
    }

    #[test]
    fn block_search_over_the_blocks_own_events() {
        use Order::{Asc, Desc};
        assert_eq!(heights("escrow_refunded.reason='expired'", Desc), [7, 5]);
        assert_eq!(heights("escrow_refunded.id='2'", Asc), [5, 7]);
        // In one event: block 5's id 2 has no reason.
        assert_eq!(heights("escrow_refunded.id='2' AND escrow_refunded.reason='expired'", Asc), [7]);
        assert_eq!(heights("escrow_refunded.id='1' AND mint.amount='5'", Asc), [0u64; 0], "two events");
        assert_eq!(heights("escrow_refunded.id > 1", Asc), [5, 7]);
        assert_eq!(heights("escrow_refunded.id EXISTS AND block.height<7", Asc), [5]);
        // Heights alone: every indexed block, empty ones included (the old db has 4 too).
        assert_eq!(heights("block.height>=5", Asc), [5, 6, 7]);
        assert_eq!(heights("block.height=6", Asc), [6]);
        assert_eq!(heights("block.height=8", Asc), [0u64; 0]);
        assert_eq!(heights("block.height>4 AND block.height<=6", Desc), [6, 5]);
        // A tx's events are not a block's, and tx.height is not block.height.
        assert_eq!(heights("transfer.sender='alice'", Asc), [0u64; 0]);
        assert_eq!(heights("tx.height=5", Asc), [0u64; 0]);
        let page = block_search(&blocks_db(), "block.height>0", Some(2), Some(2), Desc).unwrap();
        assert_eq!((page.total, page.heights), (4, vec![5, 4]));
        let err = block_search(&blocks_db(), "block.height>0", Some(3), Some(2), Desc).unwrap_err();
        assert_eq!(err, SearchError::Invalid("page should be within [1, 2] range, given 3".into()));
        let err = block_search(&blocks_db(), "block.height CONTAINS '5'", None, None, Asc).unwrap_err();
        assert!(err.to_string().contains("block.height takes"), "{err}");
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
