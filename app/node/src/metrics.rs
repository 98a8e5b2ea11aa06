//! Prometheus metrics of the app, served in the text exposition format at
//! `GET /metrics` on app.toml's `metrics_address`.
//!
//! A small hand-written registry rather than the `prometheus`/`prometheus-client`
//! crates: their labelled families sit behind a `RwLock<HashMap>`, while here
//! every update on the ABCI path is a few relaxed atomic adds (label slots are
//! claimed once, lock-free), and no dependency is added. Metrics are written
//! by the ABCI layer and only read back by the scraper: nothing in state or
//! consensus ever reads them.
//!
//! Values that already live elsewhere (height, store size, snapshot chunk
//! rejections) are read when scraped rather than tracked.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::served::ServedApp;

/// The process's metrics. One node per process, so one registry (as with
/// Prometheus' default registry); it keeps the ABCI structs unchanged.
pub static METRICS: Metrics = Metrics::new();

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram upper bounds, in seconds: sub-millisecond empty blocks up to
/// multi-second blocks full of transfers.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Distinct (code, codespace) label pairs kept per counter; more (which no
/// module defines today) are counted under `code="other"`.
const LABEL_SLOTS: usize = 64;

/// A duration histogram with fixed [`BUCKETS`].
pub struct Histogram {
    /// Per-bucket (not cumulative) counts; the last one is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub const fn new() -> Self {
        Self { buckets: [const { AtomicU64::new(0) }; BUCKETS.len() + 1], sum_nanos: AtomicU64::new(0) }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

struct Slot {
    labels: OnceLock<(u32, Box<str>)>,
    count: AtomicU64,
}

/// A counter labelled by an ABCI result `(code, codespace)`: a fixed
/// open-addressed table whose slots are claimed once and then only added to.
pub struct CodeCounter {
    slots: [Slot; LABEL_SLOTS],
    overflow: AtomicU64,
}

impl CodeCounter {
    pub const fn new() -> Self {
        Self {
            slots: [const { Slot { labels: OnceLock::new(), count: AtomicU64::new(0) } }; LABEL_SLOTS],
            overflow: AtomicU64::new(0),
        }
    }

    pub fn inc(&self, code: u32, codespace: &str) {
        let start = slot_hash(code, codespace) % LABEL_SLOTS;
        for i in 0..LABEL_SLOTS {
            let slot = &self.slots[(start + i) % LABEL_SLOTS];
            let labels = match slot.labels.get() {
                Some(l) => l,
                // Another thread may claim it first (with other labels): then probe on.
                None => slot.labels.get_or_init(|| (code, codespace.into())),
            };
            if labels.0 == code && *labels.1 == *codespace {
                slot.count.fetch_add(1, Relaxed);
                return;
            }
        }
        self.overflow.fetch_add(1, Relaxed);
    }

    /// Current value for one label pair (0 if never counted).
    pub fn get(&self, code: u32, codespace: &str) -> u64 {
        self.series().into_iter().find(|(c, s, _)| *c == code && s == codespace).map_or(0, |(_, _, n)| n)
    }

    /// `(code, codespace, count)`, sorted so scrapes are stable.
    fn series(&self) -> Vec<(u32, String, u64)> {
        let mut out: Vec<_> = self
            .slots
            .iter()
            .filter_map(|s| s.labels.get().map(|(c, cs)| (*c, cs.to_string(), s.count.load(Relaxed))))
            .collect();
        out.sort();
        out
    }
}

impl Default for CodeCounter {
    fn default() -> Self {
        Self::new()
    }
}

/// FNV-1a: cheap and good enough to spread a handful of label pairs.
fn slot_hash(code: u32, codespace: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in codespace.bytes().chain(code.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

/// The risk screening's outcomes ([`crate::risk`]), in the order of [`Metrics::risk_screened`].
pub const RISK_DECISIONS: [&str; 4] = ["allow", "refuse", "error_admitted", "error_refused"];

/// Everything the ABCI layer records.
pub struct Metrics {
    /// Txs executed by FinalizeBlock, by result.
    pub block_txs: CodeCounter,
    pub check_tx_new: AtomicU64,
    pub check_tx_recheck: AtomicU64,
    pub check_tx_rejected_new: CodeCounter,
    pub check_tx_rejected_recheck: CodeCounter,
    pub finalize_block_seconds: Histogram,
    pub commit_seconds: Histogram,
    /// Txs screened by this node's risk service, by [`RISK_DECISIONS`].
    pub risk_screened: [AtomicU64; RISK_DECISIONS.len()],
    /// Time spent calling the risk service (whatever it answered, timeouts included).
    pub risk_screening_seconds: Histogram,
}

impl Metrics {
    pub const fn new() -> Self {
        Self {
            block_txs: CodeCounter::new(),
            check_tx_new: AtomicU64::new(0),
            check_tx_recheck: AtomicU64::new(0),
            check_tx_rejected_new: CodeCounter::new(),
            check_tx_rejected_recheck: CodeCounter::new(),
            finalize_block_seconds: Histogram::new(),
            commit_seconds: Histogram::new(),
            risk_screened: [const { AtomicU64::new(0) }; RISK_DECISIONS.len()],
            risk_screening_seconds: Histogram::new(),
        }
    }

    /// One screening: `decision` indexes [`RISK_DECISIONS`].
    pub fn record_risk_screening(&self, decision: usize, took: Duration) {
        if let Some(c) = self.risk_screened.get(decision) {
            c.fetch_add(1, Relaxed);
        }
        self.risk_screening_seconds.observe(took);
    }

    pub fn record_check_tx(&self, recheck: bool, code: u32, codespace: &str) {
        let (total, rejected) = if recheck {
            (&self.check_tx_recheck, &self.check_tx_rejected_recheck)
        } else {
            (&self.check_tx_new, &self.check_tx_rejected_new)
        };
        total.fetch_add(1, Relaxed);
        if code != 0 {
            rejected.inc(code, codespace);
        }
    }

    /// The exposition text: what this registry recorded plus the values read at scrape time.
    pub fn render(&self, scraped: &Scraped) -> String {
        let mut out = String::with_capacity(4096);
        header(&mut out, "paychain_block_height", "gauge", "Height of the last committed block.");
        sample(&mut out, "paychain_block_height", &[], scraped.height);

        header(&mut out, "paychain_block_txs_total", "counter", "Txs executed in FinalizeBlock, by result code.");
        code_samples(&mut out, "paychain_block_txs_total", &[], &self.block_txs);

        header(&mut out, "paychain_check_tx_total", "counter", "CheckTx calls; type is new or recheck.");
        sample(&mut out, "paychain_check_tx_total", &[("type", "new")], self.check_tx_new.load(Relaxed));
        sample(&mut out, "paychain_check_tx_total", &[("type", "recheck")], self.check_tx_recheck.load(Relaxed));

        let name = "paychain_check_tx_rejected_total";
        header(&mut out, name, "counter", "Txs CheckTx rejected, by type (new or recheck) and result code.");
        code_samples(&mut out, name, &[("type", "new")], &self.check_tx_rejected_new);
        code_samples(&mut out, name, &[("type", "recheck")], &self.check_tx_rejected_recheck);

        let name = "paychain_finalize_block_duration_seconds";
        header(&mut out, name, "histogram", "Time spent executing FinalizeBlock.");
        histogram(&mut out, name, &self.finalize_block_seconds);
        let name = "paychain_commit_duration_seconds";
        header(&mut out, name, "histogram", "Time spent in Commit (the synced state write).");
        histogram(&mut out, name, &self.commit_seconds);

        let name = "paychain_risk_screened_total";
        header(&mut out, name, "counter", "New txs screened by this node's risk service, by decision (CheckTx only).");
        for (label, n) in RISK_DECISIONS.iter().zip(&self.risk_screened) {
            sample(&mut out, name, &[("decision", label)], n.load(Relaxed));
        }
        let name = "paychain_risk_screening_duration_seconds";
        header(&mut out, name, "histogram", "Time spent calling the risk service, timeouts included.");
        histogram(&mut out, name, &self.risk_screening_seconds);

        let name = "paychain_store_size_bytes";
        header(&mut out, name, "gauge", "Size of the state store's files on disk.");
        if let Some(bytes) = scraped.store_bytes {
            sample(&mut out, name, &[], bytes);
        }
        let name = "paychain_snapshot_chunks_rejected_total";
        header(&mut out, name, "counter", "State-sync snapshot chunks rejected.");
        sample(&mut out, name, &[], scraped.snapshot_chunks_rejected);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Values read from the node when scraped.
#[derive(Clone, Debug, Default)]
pub struct Scraped {
    pub height: u64,
    /// `None` when the store directory could not be read.
    pub store_bytes: Option<u64>,
    pub snapshot_chunks_rejected: u64,
}

impl Scraped {
    pub fn read(app: &ServedApp, db_path: &Path) -> Self {
        let store_bytes = match paychain_store::dir_size(db_path) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::debug!("metrics: cannot size {}: {e}", db_path.display());
                None
            }
        };
        Self { height: app.info().0, store_bytes, snapshot_chunks_rejected: app.snapshot_chunks_rejected() }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn code_samples(out: &mut String, name: &str, extra: &[(&str, &str)], counter: &CodeCounter) {
    for (code, codespace, n) in counter.series() {
        let code = code.to_string();
        let labels: Vec<(&str, &str)> =
            extra.iter().copied().chain([("code", code.as_str()), ("codespace", codespace.as_str())]).collect();
        sample(out, name, &labels, n);
    }
    let overflow = counter.overflow.load(Relaxed);
    if overflow > 0 {
        let labels: Vec<(&str, &str)> = extra.iter().copied().chain([("code", "other"), ("codespace", "")]).collect();
        sample(out, name, &labels, overflow);
    }
}

fn histogram(out: &mut String, name: &str, h: &Histogram) {
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0u64;
    for (i, b) in h.buckets.iter().enumerate() {
        cumulative += b.load(Relaxed);
        let le = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        sample(out, &bucket, &[("le", &le)], cumulative);
    }
    let sum = h.sum_nanos.load(Relaxed) as f64 / 1e9;
    sample(out, &format!("{name}_sum"), &[], sum);
    // The `+Inf` bucket, so `_count` always equals it even mid-update.
    sample(out, &format!("{name}_count"), &[], cumulative);
}

#[derive(Clone)]
struct Scraper {
    app: ServedApp,
    db_path: PathBuf,
}

/// Serves `GET /metrics` on `addr` from `runtime`; returns the bound address.
pub fn serve(
    app: ServedApp,
    db_path: PathBuf,
    addr: SocketAddr,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<SocketAddr> {
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let router = axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(Scraper { app, db_path });
    let _guard = runtime.enter();
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    runtime.spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("metrics server stopped: {e}");
        }
    });
    tracing::info!(metrics_addr = %bound, "serving Prometheus metrics at /metrics");
    Ok(bound)
}

async fn scrape(State(s): State<Scraper>) -> Response {
    // Reading the store directory is blocking I/O.
    match tokio::task::spawn_blocking(move || METRICS.render(&Scraped::read(&s.app, &s.db_path))).await {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("metrics: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses exposition text into `(name, labels, value)`, checking each
    /// sample follows a `# TYPE` of its family.
    /// `(name, labels, value)` of one sample.
    type Sample = (String, Vec<(String, String)>, f64);

    fn parse(text: &str) -> Vec<Sample> {
        let mut typed = std::collections::BTreeMap::new();
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(typed.insert(name.to_string(), kind.to_string()).is_none(), "family typed twice: {line}");
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
            let (name, labels) = match series.split_once('{') {
                None => (series.to_string(), Vec::new()),
                Some((n, l)) => {
                    let l = l.strip_suffix('}').unwrap();
                    let mut labels = Vec::new();
                    let mut rest = l;
                    while !rest.is_empty() {
                        let (k, v) = rest.split_once("=\"").unwrap();
                        // Find the closing quote, skipping escaped characters.
                        let mut val = String::new();
                        let mut chars = v.char_indices();
                        let end = loop {
                            match chars.next().unwrap() {
                                (_, '\\') => match chars.next().unwrap().1 {
                                    'n' => val.push('\n'),
                                    c => val.push(c),
                                },
                                (i, '"') => break i,
                                (_, c) => val.push(c),
                            }
                        };
                        labels.push((k.to_string(), val));
                        rest = v[end + 1..].strip_prefix(',').unwrap_or(&v[end + 1..]);
                    }
                    (n.to_string(), labels)
                }
            };
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| typed.get(*f).is_some_and(|k| k == "histogram")))
                .unwrap_or(&name);
            assert!(typed.contains_key(family), "sample before its # TYPE: {line}");
            out.push((name, labels, value));
        }
        out
    }

    fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels.iter().all(|(k, v)| l.contains(&(k.to_string(), v.to_string())))
            })
            .map(|s| s.2)
    }

    #[test]
    fn exposition_text_is_well_formed_and_carries_the_values() {
        let m = Metrics::new();
        m.block_txs.inc(0, "");
        m.block_txs.inc(0, "");
        m.block_txs.inc(5, "bank");
        m.record_check_tx(false, 0, "");
        m.record_check_tx(false, 32, "sdk");
        m.record_check_tx(true, 32, "sdk");
        m.record_check_tx(true, 13, "we\"ird\\cs\n");
        m.finalize_block_seconds.observe(Duration::from_micros(300));
        m.finalize_block_seconds.observe(Duration::from_millis(30));
        m.finalize_block_seconds.observe(Duration::from_secs(60));
        m.commit_seconds.observe(Duration::from_millis(2));
        let text = m.render(&Scraped { height: 42, store_bytes: Some(123_456), snapshot_chunks_rejected: 3 });
        assert!(text.ends_with('\n'));
        let s = parse(&text);

        assert_eq!(value(&s, "paychain_block_height", &[]), Some(42.0));
        assert_eq!(value(&s, "paychain_block_txs_total", &[("code", "0"), ("codespace", "")]), Some(2.0));
        assert_eq!(value(&s, "paychain_block_txs_total", &[("code", "5"), ("codespace", "bank")]), Some(1.0));
        assert_eq!(value(&s, "paychain_check_tx_total", &[("type", "new")]), Some(2.0));
        assert_eq!(value(&s, "paychain_check_tx_total", &[("type", "recheck")]), Some(2.0));
        let rejected = "paychain_check_tx_rejected_total";
        assert_eq!(value(&s, rejected, &[("type", "new"), ("code", "32"), ("codespace", "sdk")]), Some(1.0));
        assert_eq!(value(&s, rejected, &[("type", "recheck"), ("code", "32"), ("codespace", "sdk")]), Some(1.0));
        assert_eq!(value(&s, rejected, &[("type", "new"), ("code", "0"), ("codespace", "")]), None, "accepted txs");
        // Label values are escaped and round-trip.
        assert_eq!(
            value(&s, rejected, &[("type", "recheck"), ("code", "13"), ("codespace", "we\"ird\\cs\n")]),
            Some(1.0)
        );

        let fb = "paychain_finalize_block_duration_seconds";
        assert_eq!(value(&s, &format!("{fb}_bucket"), &[("le", "0.0005")]), Some(1.0));
        assert_eq!(value(&s, &format!("{fb}_bucket"), &[("le", "0.05")]), Some(2.0));
        assert_eq!(value(&s, &format!("{fb}_bucket"), &[("le", "10")]), Some(2.0));
        assert_eq!(value(&s, &format!("{fb}_bucket"), &[("le", "+Inf")]), Some(3.0));
        assert_eq!(value(&s, &format!("{fb}_count"), &[]), Some(3.0));
        let sum = value(&s, &format!("{fb}_sum"), &[]).unwrap();
        assert!((sum - 60.0303).abs() < 1e-9, "{sum}");
        // Buckets are cumulative: never decreasing.
        let buckets: Vec<f64> = s.iter().filter(|(n, _, _)| *n == format!("{fb}_bucket")).map(|(_, _, v)| *v).collect();
        assert_eq!(buckets.len(), BUCKETS.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        assert_eq!(value(&s, "paychain_commit_duration_seconds_count", &[]), Some(1.0));

        assert_eq!(value(&s, "paychain_store_size_bytes", &[]), Some(123_456.0));
        assert_eq!(value(&s, "paychain_snapshot_chunks_rejected_total", &[]), Some(3.0));
    }

    #[test]
    fn risk_screening_counts_each_decision_and_its_latency() {
        let m = Metrics::new();
        m.record_risk_screening(0, Duration::from_micros(400));
        m.record_risk_screening(1, Duration::from_millis(2));
        m.record_risk_screening(3, Duration::from_millis(20));
        m.record_risk_screening(RISK_DECISIONS.len(), Duration::ZERO); // out of range: latency only
        let s = parse(&m.render(&Scraped::default()));
        let screened = "paychain_risk_screened_total";
        assert_eq!(value(&s, screened, &[("decision", "allow")]), Some(1.0));
        assert_eq!(value(&s, screened, &[("decision", "refuse")]), Some(1.0));
        assert_eq!(value(&s, screened, &[("decision", "error_admitted")]), Some(0.0), "zero, not missing");
        assert_eq!(value(&s, screened, &[("decision", "error_refused")]), Some(1.0));
        assert_eq!(value(&s, "paychain_risk_screening_duration_seconds_count", &[]), Some(4.0));
        let sum = value(&s, "paychain_risk_screening_duration_seconds_sum", &[]).unwrap();
        assert!((sum - 0.0224).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn unreadable_store_size_is_left_out_not_reported_as_zero() {
        let text = Metrics::new().render(&Scraped { height: 1, store_bytes: None, snapshot_chunks_rejected: 0 });
        let s = parse(&text);
        assert_eq!(value(&s, "paychain_store_size_bytes", &[]), None);
        assert!(text.contains("# TYPE paychain_store_size_bytes gauge"));
    }

    #[test]
    fn code_counter_keeps_label_pairs_apart_and_overflows_without_losing_counts() {
        let c = CodeCounter::new();
        // More distinct pairs than slots: the rest land in the overflow series.
        for code in 0..(LABEL_SLOTS as u32 + 10) {
            c.inc(code, "sdk");
            c.inc(code, "bank");
        }
        c.inc(3, "sdk");
        let kept: u64 = c.series().iter().map(|s| s.2).sum();
        assert_eq!(c.series().len(), LABEL_SLOTS);
        assert_eq!(kept + c.overflow.load(Relaxed), 2 * (LABEL_SLOTS as u64 + 10) + 1);
        assert_eq!(c.get(3, "sdk"), 2);
        assert_eq!(c.get(3, "bank"), 1);
    }

    #[test]
    fn code_counter_counts_every_increment_under_contention() {
        let c = CodeCounter::new();
        std::thread::scope(|s| {
            for t in 0..8u32 {
                let c = &c;
                s.spawn(move || {
                    for i in 0..10_000u32 {
                        c.inc((i + t) % 4, if i % 2 == 0 { "sdk" } else { "bank" });
                    }
                });
            }
        });
        let total: u64 = c.series().iter().map(|s| s.2).sum();
        assert_eq!(total, 80_000);
        assert_eq!(c.series().len(), 8, "each pair claimed exactly one slot: {:?}", c.series());
    }
}
