//! `paychaind compliance audit` (feature `cli`): every compliance event in a
//! range of heights, read from the node's block results over CometBFT RPC,
//! as JSON lines or CSV.
//!
//! A compliance event is any event whose type starts with `compliance_`
//! (`compliance_action`, `compliance_policy`, `compliance_sanction`, and types
//! added later). For each height, `block_results` gives the events of every tx
//! (`txs_results[i].events`) and the block-level events of FinalizeBlock
//! (`finalize_block_events`: steps the chain takes itself, like a sanction's
//! `lapse`); `block` gives the block time and the txs (a tx's hash is the
//! uppercase hex SHA-256 of its bytes), fetched only for heights with a
//! compliance event.
//!
//! Rows come in chain order: by height, then each tx's events in tx order, then
//! the block-level events, each in emission order. `event_index` is the
//! event's position among all the events of its tx (or among the block-level
//! events), so it matches the `events` of `paychaind query tx`. A row is:
//!
//! ```json
//! {"height":42,"time":"2026-12-01T10:00:00.123456789Z","tx_hash":null,"tx_index":null,"event_index":0,
//!  "type":"compliance_sanction","attributes":{"step":"lapse","actor":"pay1…","mode":"EndBlock"}}
//! ```
//!
//! The CSV has the same columns (`height,time,tx_hash,tx_index,event_index,type,attributes`),
//! empty for a null, with the attributes as one JSON object in one quoted field
//! (RFC 4180 quoting), so the columns are the same whatever the event type.

use std::collections::VecDeque;
use std::io::Write;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, ValueEnum};
use paychain_client::cli::NodeArgs;
use paychain_client::rpc::rpc_error_text;
use paychain_client::NodeClient;
use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};
use serde_json::Value;
use tendermint::abci::types::ExecTxResult;
use tendermint::abci::Event;
use tendermint_rpc::Client as _;

/// The largest range one command exports; split larger ones.
pub const MAX_HEIGHTS: u64 = 100_000;

/// Event types with this prefix are compliance events.
pub const EVENT_PREFIX: &str = "compliance_";

/// The CSV header: the same columns for every event type.
pub const CSV_HEADER: &str = "height,time,tx_hash,tx_index,event_index,type,attributes";

/// Heights fetched at once (results are still written in height order).
const IN_FLIGHT: usize = 8;

/// `paychaind compliance audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// First height to export (inclusive, at least 1)
    #[arg(long, value_name = "H")]
    pub from_height: u64,
    /// Last height to export (inclusive, at most the node's latest height; at most 100000
    /// heights in all; default: the latest height)
    #[arg(long, value_name = "H")]
    pub to_height: Option<u64>,
    /// jsonl: one JSON object per line; csv: a header, then one row per event
    #[arg(long, value_enum, default_value_t = AuditFormat::Jsonl)]
    pub format: AuditFormat,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    Jsonl,
    Csv,
}

/// One compliance event where the chain recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub height: u64,
    /// The block time, RFC 3339.
    pub time: String,
    /// `None` for block-level (FinalizeBlock) events.
    pub tx_hash: Option<String>,
    pub tx_index: Option<usize>,
    pub event_index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(serialize_with = "ordered_map")]
    pub attributes: Vec<(String, Value)>,
}

/// The attributes as one JSON object, in emission order.
fn ordered_map<S: Serializer>(attrs: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(attrs.len()))?;
    for (k, v) in attrs {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

impl AuditEvent {
    /// The JSON line (without its newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("an audit event serializes")
    }

    /// The CSV row (without its line break).
    pub fn to_csv_row(&self) -> String {
        let attributes = {
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::new(&mut buf);
            ordered_map(&self.attributes, &mut ser).expect("attributes serialize");
            String::from_utf8(buf).expect("JSON is UTF-8")
        };
        [
            self.height.to_string(),
            csv_field(&self.time),
            self.tx_hash.as_deref().map(csv_field).unwrap_or_default(),
            self.tx_index.map(|i| i.to_string()).unwrap_or_default(),
            self.event_index.to_string(),
            csv_field(&self.kind),
            quoted(&attributes),
        ]
        .join(",")
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        quoted(s)
    } else {
        s.to_string()
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn is_compliance_event(kind: &str) -> bool {
    kind.starts_with(EVENT_PREFIX)
}

/// The checks that need no node: heights from 1, in order, at most [`MAX_HEIGHTS`].
pub fn check_range(from: u64, to: u64) -> anyhow::Result<()> {
    if from < 1 {
        bail!("--from-height must be at least 1 (got {from})");
    }
    if from > to {
        bail!("--from-height {from} is above --to-height {to}: the range must go from the lower height to the higher");
    }
    let count = to - from + 1;
    if count > MAX_HEIGHTS {
        bail!(
            "{from}..={to} is {count} heights; one export covers at most {MAX_HEIGHTS}: split the range into several \
             commands"
        );
    }
    Ok(())
}

/// The checks against what the node has: up to its latest height, from its earliest.
pub fn check_available(from: u64, to: u64, earliest: u64, latest: u64) -> anyhow::Result<()> {
    if to > latest {
        bail!("--to-height {to} is beyond the node's latest height {latest}");
    }
    if from < earliest {
        bail!("--from-height {from} is below the node's earliest height {earliest} (older blocks are pruned there)");
    }
    Ok(())
}

/// An event's attributes, in order; a key given twice keeps every value (as an array).
fn attributes(e: &Event) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::with_capacity(e.attributes.len());
    for a in &e.attributes {
        let key = a.key_str().map(str::to_string).unwrap_or_else(|_| String::from_utf8_lossy(a.key_bytes()).into());
        let value =
            a.value_str().map(str::to_string).unwrap_or_else(|_| String::from_utf8_lossy(a.value_bytes()).into());
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, Value::Array(values))) => values.push(value.into()),
            Some((_, v)) => *v = Value::Array(vec![v.take(), value.into()]),
            None => out.push((key, value.into())),
        }
    }
    out
}

/// Whether a height has any compliance event (else its block need not be fetched).
pub fn has_compliance_events(txs_results: &[ExecTxResult], block_events: &[Event]) -> bool {
    txs_results.iter().flat_map(|r| &r.events).chain(block_events).any(|e| is_compliance_event(&e.kind))
}

/// The compliance events of one height, in chain order: the txs' (with their
/// hashes, `tx_hashes[i]` for `txs_results[i]`), then the block-level ones.
pub fn height_events(
    height: u64,
    time: &str,
    tx_hashes: &[String],
    txs_results: &[ExecTxResult],
    block_events: &[Event],
) -> Vec<AuditEvent> {
    let event = |tx: Option<(usize, &String)>, event_index: usize, e: &Event| AuditEvent {
        height,
        time: time.to_string(),
        tx_hash: tx.map(|(_, h)| h.clone()),
        tx_index: tx.map(|(i, _)| i),
        event_index,
        kind: e.kind.clone(),
        attributes: attributes(e),
    };
    let in_txs = txs_results.iter().zip(tx_hashes).enumerate().flat_map(|(i, (r, hash))| {
        r.events
            .iter()
            .enumerate()
            .filter(|(_, e)| is_compliance_event(&e.kind))
            .map(move |(k, e)| (Some((i, hash)), k, e))
    });
    let in_block =
        block_events.iter().enumerate().filter(|(_, e)| is_compliance_event(&e.kind)).map(|(k, e)| (None, k, e));
    in_txs.chain(in_block).map(|(tx, k, e)| event(tx, k, e)).collect()
}

fn height_arg(height: u64) -> anyhow::Result<tendermint::block::Height> {
    tendermint::block::Height::try_from(height).map_err(|e| anyhow!("invalid height {height}: {e}"))
}

/// One height's compliance events from the node.
async fn fetch_height(client: &NodeClient, height: u64) -> anyhow::Result<Vec<AuditEvent>> {
    let h = height_arg(height)?;
    let failed = |what: &str, e: tendermint_rpc::Error| {
        anyhow!("{what} at height {height} from CometBFT RPC at {} failed: {}", client.url(), rpc_error_text(&e))
    };
    let results = client.http().block_results(h).await.map_err(|e| failed("block_results", e))?;
    let txs_results = results.txs_results.unwrap_or_default();
    if !has_compliance_events(&txs_results, &results.finalize_block_events) {
        return Ok(Vec::new());
    }
    let block = client.http().block(h).await.map_err(|e| failed("block", e))?.block;
    let txs = block.data();
    if txs.len() != txs_results.len() {
        bail!(
            "height {height}: the block has {} txs but block_results has {} tx results",
            txs.len(),
            txs_results.len()
        );
    }
    let hashes: Vec<String> = txs.iter().map(|tx| paychain_client::tx::tx_hash(tx)).collect();
    let time = block.header.time.to_rfc3339();
    Ok(height_events(height, &time, &hashes, &txs_results, &results.finalize_block_events))
}

/// Writes the range's events to `out` as they arrive, in chain order; returns how many.
async fn export(
    client: &NodeClient,
    from: u64,
    to: u64,
    format: AuditFormat,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    if format == AuditFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    let mut pending = VecDeque::with_capacity(IN_FLIGHT);
    let mut next = from;
    let mut written = 0u64;
    loop {
        while pending.len() < IN_FLIGHT && next <= to {
            let c = client.clone();
            let h = next;
            pending.push_back(tokio::spawn(async move { fetch_height(&c, h).await }));
            next += 1;
        }
        let Some(task) = pending.pop_front() else { break };
        let events = task.await.context("fetching a height")??;
        for e in &events {
            match format {
                AuditFormat::Jsonl => writeln!(out, "{}", e.to_json_line())?,
                AuditFormat::Csv => writeln!(out, "{}", e.to_csv_row())?,
            }
        }
        if !events.is_empty() {
            out.flush()?;
        }
        written += events.len() as u64;
    }
    out.flush()?;
    Ok(written)
}

/// `paychaind compliance audit`: the events to stdout; errors (and an incomplete export) fail the command.
pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    let AuditArgs { from_height: from, to_height, format, node } = args;
    if let Some(to) = to_height {
        check_range(from, to)?;
    }
    let client = node.client()?;
    let rt = paychain_client::cli::runtime()?;
    rt.block_on(async {
        let status = client.status().await?;
        let latest = status.sync_info.latest_block_height.value();
        let earliest = status.sync_info.earliest_block_height.value();
        let to = to_height.unwrap_or(latest);
        check_range(from, to)?;
        check_available(from, to, earliest, latest)?;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        export(&client, from, to, format, &mut out)
            .await
            .map_err(|e| e.context(format!("the export of heights {from}..={to} is incomplete")))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, attrs: &[(&str, &str)]) -> Event {
        Event::new(kind, attrs.iter().map(|(k, v)| (*k, *v, true)))
    }

    fn tx(events: Vec<Event>) -> ExecTxResult {
        ExecTxResult { events, ..Default::default() }
    }

    #[test]
    fn ranges_are_checked() {
        check_range(1, 1).unwrap();
        check_range(5, 5 + MAX_HEIGHTS - 1).unwrap();
        assert!(check_range(0, 3).unwrap_err().to_string().contains("at least 1"));
        assert!(check_range(9, 3).unwrap_err().to_string().contains("--from-height 9 is above --to-height 3"));
        let e = check_range(1, MAX_HEIGHTS + 1).unwrap_err().to_string();
        assert!(e.contains("100001 heights") && e.contains("at most 100000"), "{e}");
        check_available(3, 10, 1, 10).unwrap();
        assert!(check_available(3, 11, 1, 10).unwrap_err().to_string().contains("latest height 10"));
        assert!(check_available(3, 10, 5, 10).unwrap_err().to_string().contains("earliest height 5"));
    }

    #[test]
    fn events_come_in_chain_order_with_their_tx() {
        let txs = vec![
            tx(vec![ev("message", &[("action", "x")]), ev("compliance_action", &[("action", "register_issuer")])]),
            tx(vec![ev("transfer", &[])]),
            tx(vec![ev("compliance_policy", &[("action", "attach_policy")]), ev("compliance_hold", &[("id", "1")])]),
        ];
        let block =
            vec![ev("escrow_refund", &[]), ev("compliance_sanction", &[("step", "lapse"), ("mode", "EndBlock")])];
        assert!(has_compliance_events(&txs, &block));
        assert!(!has_compliance_events(&txs[1..2], &block[..1]));
        let hashes: Vec<String> = ["AA", "BB", "CC"].map(String::from).to_vec();
        let got = height_events(7, "2026-01-01T00:00:00Z", &hashes, &txs, &block);
        let summary: Vec<_> =
            got.iter().map(|e| (e.tx_hash.as_deref(), e.tx_index, e.event_index, e.kind.as_str())).collect();
        assert_eq!(
            summary,
            [
                (Some("AA"), Some(0), 1, "compliance_action"),
                (Some("CC"), Some(2), 0, "compliance_policy"),
                (Some("CC"), Some(2), 1, "compliance_hold"),
                (None, None, 1, "compliance_sanction"),
            ]
        );
        assert_eq!(
            got[3].to_json_line(),
            r#"{"height":7,"time":"2026-01-01T00:00:00Z","tx_hash":null,"tx_index":null,"event_index":1,"type":"compliance_sanction","attributes":{"step":"lapse","mode":"EndBlock"}}"#
        );
        assert_eq!(
            got[3].to_csv_row(),
            r#"7,2026-01-01T00:00:00Z,,,1,compliance_sanction,"{""step"":""lapse"",""mode"":""EndBlock""}""#
        );
        assert_eq!(
            got[0].to_csv_row(),
            r#"7,2026-01-01T00:00:00Z,AA,0,1,compliance_action,"{""action"":""register_issuer""}""#
        );
    }

    #[test]
    fn awkward_values_stay_in_their_field() {
        let e = ev("compliance_action", &[("reference", "a, \"b\"\nc"), ("k", "1"), ("k", "2"), ("k", "3")]);
        let got = height_events(1, "t", &["H".into()], &[tx(vec![e])], &[]);
        let json: Value = serde_json::from_str(&got[0].to_json_line()).unwrap();
        assert_eq!(json["attributes"]["reference"], "a, \"b\"\nc");
        assert_eq!(json["attributes"]["k"], serde_json::json!(["1", "2", "3"]));
        let row = got[0].to_csv_row();
        let field = row.split_once(",compliance_action,").unwrap().1;
        assert!(field.starts_with('"') && field.ends_with('"'), "{row}");
        let inner = field[1..field.len() - 1].replace("\"\"", "\"");
        assert_eq!(serde_json::from_str::<Value>(&inner).unwrap(), json["attributes"]);
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
