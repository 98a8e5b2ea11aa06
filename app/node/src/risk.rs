//! Node-local risk screening at admission: before a tx new to this node's mempool goes through
//! CheckTx, the node may ask its own risk service (app.toml `risk_service_url`) whether to
//! admit it, and refuse it with `risk_screening`/1 (the service refused) or
//! `risk_screening`/2 (no usable answer and `risk_service_fail_open = false`).
//!
//! Why this can never split the chain: the service is consulted for `CheckTx` of new txs only,
//! never on recheck, PrepareProposal, ProcessProposal or FinalizeBlock. A refused tx only stays
//! out of this node's mempool; another node may admit it and any proposer may include it, and
//! this node then executes that block like every other, without asking anyone. So consensus
//! never depends on an external answer, and nodes with different services (or none, or a
//! failing one) agree on every block and app hash.
//!
//! The call is a blocking HTTP POST on the ABCI mempool connection's own thread (a plain
//! thread, see [`crate::abci_server`]; no async runtime is involved), bounded as a whole by
//! `risk_service_timeout_ms`. The host is resolved once at start, so no DNS lookup ever runs
//! inside that budget. Each decision is counted ([`crate::metrics`]) and appended to a JSON
//! lines log.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use base64::Engine as _;
use paychain_app::app::TxOutcome;
use paychain_framework::{proto_json, SdkError};
use paychain_tx::decode::{decode_tx, DecodedTx};
use serde_json::{json, Value};

use crate::config::AppConfig;
use crate::metrics::METRICS;
use crate::served::ServedApp;

/// The codespace of this node's screening refusals (node-local: it is never in a block result).
pub const CODESPACE: &str = "risk_screening";
/// The risk service refused the tx.
pub const CODE_REFUSED: u32 = 1;
/// The risk service gave no usable answer and the node fails closed.
pub const CODE_UNAVAILABLE: u32 = 2;

/// An answer longer than this is an error: a decision is a few dozen bytes.
const MAX_ANSWER_BYTES: u64 = 64 << 10;
/// The service's reason is cut to this many characters in logs and CheckTx answers.
const MAX_REASON_CHARS: usize = 300;

/// What became of one screened tx; the index into [`crate::metrics::RISK_DECISIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow = 0,
    Refuse = 1,
    /// No usable answer; admitted (fail open).
    ErrorAdmitted = 2,
    /// No usable answer; refused (fail closed).
    ErrorRefused = 3,
}

impl Decision {
    pub fn label(self) -> &'static str {
        crate::metrics::RISK_DECISIONS[self as usize]
    }
}

/// A decision as the service answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub refuse: bool,
    pub score: Option<f64>,
    pub reason: String,
}

/// The client of this node's risk service.
pub struct RiskScreener {
    agent: ureq::Agent,
    url: String,
    timeout: Duration,
    fail_open: bool,
    log_path: PathBuf,
    /// Set while the service fails, so its failure and recovery are logged once each, not per tx.
    failing: AtomicBool,
    /// Likewise for the decision log.
    log_failing: AtomicBool,
}

impl RiskScreener {
    /// The screener app.toml asks for, `None` when `risk_service_url` is empty. Resolves the
    /// service's host and opens the decision log now, so a typo stops the start, not every tx.
    pub fn from_config(config: &AppConfig, home: &Path) -> anyhow::Result<Option<Self>> {
        let Some(url) = config.risk_service().context("risk_service_url")? else { return Ok(None) };
        let addrs = url.socket_addrs(|| None).with_context(|| format!("risk_service_url: resolving {url}"))?;
        if addrs.is_empty() {
            anyhow::bail!("risk_service_url: {url} resolves to no address");
        }
        let timeout = Duration::from_millis(config.risk_service_timeout_ms);
        let agent = ureq::AgentBuilder::new()
            // The addresses resolved above, whatever ureq asks for: DNS stays out of CheckTx.
            .resolver(move |_: &str| -> std::io::Result<Vec<std::net::SocketAddr>> { Ok(addrs.clone()) })
            .timeout(timeout)
            .redirects(0)
            // CheckTx runs one at a time, so one kept-alive connection serves every call.
            .max_idle_connections(2)
            .max_idle_connections_per_host(2)
            .user_agent(concat!("paychaind/", env!("CARGO_PKG_VERSION")))
            .build();
        let log_path = config.risk_log_path(home);
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        open_log(&log_path).with_context(|| format!("risk_service_log: opening {}", log_path.display()))?;
        // Built on first use otherwise, inside the first screened tx's CheckTx.
        crate::rest::json::any_types();
        tracing::info!(
            url = %url, timeout_ms = config.risk_service_timeout_ms, fail_open = config.risk_service_fail_open,
            log = %log_path.display(), "screening new txs with this node's risk service (CheckTx only)"
        );
        Ok(Some(Self {
            agent,
            url: url.to_string(),
            timeout,
            fail_open: config.risk_service_fail_open,
            log_path,
            failing: AtomicBool::new(false),
            log_failing: AtomicBool::new(false),
        }))
    }

    /// Screens a tx new to the mempool. `Some` is CheckTx's refusal; `None` lets CheckTx run.
    /// A tx that is too large or does not decode is not sent: CheckTx refuses it anyway.
    pub fn screen(&self, app: &ServedApp, tx: &[u8]) -> Option<TxOutcome> {
        if tx.len() > app.config().max_tx_bytes {
            return None;
        }
        let decoded = decode_tx(tx, app.modules()).ok()?;
        let request = request_json(&app.chain_id(), tx, &decoded);
        let tx_hash = hex::encode_upper(decoded.hash);
        let started = Instant::now();
        let answer = self.call(request.to_string().as_bytes());
        let took = started.elapsed();
        let decision = match &answer {
            Ok(a) if a.refuse => Decision::Refuse,
            Ok(_) => Decision::Allow,
            Err(_) if self.fail_open => Decision::ErrorAdmitted,
            Err(_) => Decision::ErrorRefused,
        };
        METRICS.record_risk_screening(decision as usize, took);
        self.note_health(&answer);
        self.log_decision(&tx_hash, decision, &answer, took);
        let refusal = match (decision, &answer) {
            (Decision::Refuse, Ok(a)) => {
                SdkError::new(CODESPACE, CODE_REFUSED, format!("refused by this node's risk service: {}", a.reason))
            }
            (Decision::ErrorRefused, Err(e)) => {
                SdkError::new(CODESPACE, CODE_UNAVAILABLE, format!("risk service unavailable (fail-closed): {e}"))
            }
            _ => return None,
        };
        Some(TxOutcome {
            result: Err(refusal),
            gas_wanted: 0,
            gas_used: 0,
            events: Vec::new(),
            msg_responses: Vec::new(),
        })
    }

    /// POSTs `body` and reads the decision, all within `timeout`.
    fn call(&self, body: &[u8]) -> Result<Answer, String> {
        let deadline = Instant::now() + self.timeout;
        let mut retried = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timed_out());
            }
            let sent =
                self.agent.post(&self.url).timeout(left).set("Content-Type", "application/json").send_bytes(body);
            match sent {
                // Redirects are not followed (`redirects(0)`), so a 3xx arrives here.
                Ok(response) if response.status() / 100 != 2 => {
                    return Err(format!("HTTP {} instead of a decision", response.status()));
                }
                Ok(response) => {
                    let mut bytes = Vec::new();
                    let read = response.into_reader().take(MAX_ANSWER_BYTES + 1).read_to_end(&mut bytes);
                    return match read {
                        Err(_) if Instant::now() >= deadline => Err(self.timed_out()),
                        Err(e) => Err(format!("reading the answer: {e}")),
                        Ok(_) if bytes.len() as u64 > MAX_ANSWER_BYTES => {
                            Err(format!("an answer over {MAX_ANSWER_BYTES} bytes"))
                        }
                        Ok(_) => parse_answer(&bytes),
                    };
                }
                Err(ureq::Error::Status(code, response)) => {
                    let text = response.into_string().unwrap_or_default();
                    return Err(format!("HTTP {code}: {}", clip(text.trim())));
                }
                // A kept-alive connection the service closed just as it was reused (ureq skips
                // those closed earlier) fails at once; screening is a question, safe to ask
                // again, once, on a new connection.
                Err(ureq::Error::Transport(t)) if !retried && closed_connection(&t) => retried = true,
                Err(ureq::Error::Transport(_)) if Instant::now() >= deadline => return Err(self.timed_out()),
                Err(ureq::Error::Transport(t)) => return Err(t.to_string()),
            }
        }
    }

    fn timed_out(&self) -> String {
        format!("no answer within {} ms", self.timeout.as_millis())
    }

    fn note_health(&self, answer: &Result<Answer, String>) {
        match answer {
            Err(e) if !self.failing.swap(true, Relaxed) => {
                let admits = if self.fail_open { "admitting" } else { "refusing" };
                tracing::warn!("risk service {} failed ({e}); {admits} new txs while it fails", self.url);
            }
            Ok(_) if self.failing.swap(false, Relaxed) => tracing::info!("risk service {} answers again", self.url),
            _ => {}
        }
    }

    /// Appends the decision to the log. Opened per line (cheap next to the call), so the file can
    /// be rotated by renaming it. A write failure is logged; the decision stands.
    fn log_decision(&self, tx_hash: &str, decision: Decision, answer: &Result<Answer, String>, took: Duration) {
        let line = decision_line(now_rfc3339(), tx_hash, decision, answer, took);
        let written = open_log(&self.log_path).and_then(|mut f| f.write_all(line.as_bytes()));
        match written {
            Err(e) if !self.log_failing.swap(true, Relaxed) => {
                tracing::warn!("risk decision log {}: {e}", self.log_path.display())
            }
            Ok(()) => self.log_failing.store(false, Relaxed),
            _ => {}
        }
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).append(true).open(path)
}

fn now_rfc3339() -> String {
    // Wall clock is fine here: the log is node-local and in no hash.
    let d = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    paychain_framework::time::rfc3339(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos() as i32)
}

/// One line of the decision log, newline included.
pub fn decision_line(
    time: String,
    tx_hash: &str,
    decision: Decision,
    answer: &Result<Answer, String>,
    took: Duration,
) -> String {
    let (score, reason, error) = match answer {
        Ok(a) => (a.score, Some(a.reason.as_str()), None),
        Err(e) => (None, None, Some(e.as_str())),
    };
    let latency_ms = (took.as_secs_f64() * 1e6).round() / 1e3;
    let mut line = json!({
        "time": time,
        "tx_hash": tx_hash,
        "decision": decision.label(),
        "score": score,
        "reason": reason,
        "latency_ms": latency_ms,
        "error": error,
    })
    .to_string();
    line.push('\n');
    line
}

/// What the service is asked: the tx, its hash as CometBFT shows it, and what it does, with
/// each message in proto3 JSON (as the REST gateway writes it) under its `@type`.
pub fn request_json(chain_id: &str, tx: &[u8], decoded: &DecodedTx) -> Value {
    let types = crate::rest::json::any_types();
    let messages: Vec<Value> =
        decoded.body.messages.iter().map(|m| proto_json::any_to_json(types, &m.type_url, &m.value)).collect();
    let fee: Vec<Value> =
        decoded.fee.iter().map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()})).collect();
    json!({
        "chain_id": chain_id,
        "tx_hash": hex::encode_upper(decoded.hash),
        "tx": base64::engine::general_purpose::STANDARD.encode(tx),
        "signers": decoded.signers.iter().map(|s| s.address.to_string()).collect::<Vec<_>>(),
        "fee_payer": decoded.fee_payer.to_string(),
        "fee": fee,
        "gas_limit": decoded.gas_limit.to_string(),
        "memo": decoded.body.memo,
        "messages": messages,
    })
}

/// `{"decision": "allow" | "refuse", "score": N, "reason": "..."}`; `score` and `reason` may be
/// left out (or null). Anything else is an error, never a decision.
pub fn parse_answer(bytes: &[u8]) -> Result<Answer, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("an answer that is not JSON ({e})"))?;
    let Value::Object(o) = v else { return Err("an answer that is not a JSON object".into()) };
    let refuse = match o.get("decision") {
        Some(Value::String(d)) if d == "allow" => false,
        Some(Value::String(d)) if d == "refuse" => true,
        other => {
            let got = other.map_or_else(|| "none".to_string(), |d| clip(&d.to_string()));
            return Err(format!("an answer whose decision is {got}, not \"allow\" or \"refuse\""));
        }
    };
    let score = match o.get("score") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(other) => return Err(format!("an answer whose score is {}, not a number", clip(&other.to_string()))),
    };
    let reason = match o.get("reason") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => clip(s),
        Some(other) => return Err(format!("an answer whose reason is {}, not a string", clip(&other.to_string()))),
    };
    Ok(Answer { refuse, score, reason })
}

/// At most [`MAX_REASON_CHARS`] characters, on one line.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_REASON_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.chars().nth(MAX_REASON_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Whether `t` is a connection the service closed (a stale kept-alive one), worth one retry.
fn closed_connection(t: &ureq::Transport) -> bool {
    use std::io::ErrorKind as K;
    let io = std::error::Error::source(t).and_then(|s| s.downcast_ref::<std::io::Error>());
    io.is_some_and(|e| matches!(e.kind(), K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, Read as _};
    use std::net::TcpListener;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn answers_parse_and_anything_else_is_an_error() {
        let a = parse_answer(br#"{"decision":"refuse","score":87.5,"reason":"listed sender","extra":1}"#).unwrap();
        assert_eq!(a, Answer { refuse: true, score: Some(87.5), reason: "listed sender".into() });
        let a = parse_answer(br#"{"decision":"allow"}"#).unwrap();
        assert_eq!(a, Answer { refuse: false, score: None, reason: String::new() });
        for bad in [
            &b""[..],
            b"allow",
            b"[]",
            br#"{"decision":"ALLOW"}"#,
            br#"{"decision":true}"#,
            br#"{"score":1}"#,
            br#"{"decision":"allow","score":"high"}"#,
            br#"{"decision":"refuse","reason":7}"#,
            b"\xff\xfe",
        ] {
            assert!(parse_answer(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!(r#"{{"decision":"refuse","reason":"{}\n"}}"#, "x".repeat(1000));
        let a = parse_answer(long.replace('\n', "\\n").as_bytes()).unwrap();
        assert_eq!(a.reason.chars().count(), MAX_REASON_CHARS + 1, "clipped, with an ellipsis");
    }

    #[test]
    fn a_decision_line_is_one_json_object() {
        let ok = Ok(Answer { refuse: true, score: Some(90.0), reason: "r \"q\"".into() });
        let line = decision_line("T".into(), "AB", Decision::Refuse, &ok, Duration::from_micros(1234));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1, "{line:?}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["decision"], "refuse");
        assert_eq!(v["reason"], "r \"q\"");
        assert_eq!(v["latency_ms"], 1.234);
        assert_eq!(v["error"], Value::Null);
        let err = Err("no answer within 20 ms".to_string());
        let v: Value =
            serde_json::from_str(&decision_line("T".into(), "AB", Decision::ErrorAdmitted, &err, Duration::ZERO))
                .unwrap();
        assert_eq!(
            (v["decision"].as_str(), v["error"].as_str()),
            (Some("error_admitted"), Some("no answer within 20 ms"))
        );
        assert_eq!(v["score"], Value::Null);
    }

    fn screener(url: &str, timeout_ms: u64, fail_open: bool) -> (RiskScreener, tempfile::TempDir) {
        let home = tempfile::tempdir().unwrap();
        let config = AppConfig {
            risk_service_url: url.to_string(),
            risk_service_timeout_ms: timeout_ms,
            risk_service_fail_open: fail_open,
            ..AppConfig::default()
        };
        (RiskScreener::from_config(&config, home.path()).unwrap().unwrap(), home)
    }

    /// A loopback server answering every request with `answer` after `delay`; when `close`, it
    /// closes each connection after one answer without saying so (as an idle timeout would).
    /// Returns its URL and how many connections it accepted.
    fn server(answer: &'static str, delay: Duration, close: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                counter.fetch_add(1, Relaxed);
                std::thread::spawn(move || {
                    let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
                    let mut writer = conn;
                    loop {
                        let mut len = 0usize;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap();
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0; len];
                        reader.read_exact(&mut body).unwrap();
                        std::thread::sleep(delay);
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        if writer.write_all(reply.as_bytes()).is_err() || close {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}/screen"), accepted)
    }

    #[test]
    fn calls_are_bounded_by_the_timeout_and_kept_alive() {
        let (url, accepted) = server(r#"{"decision":"allow","score":1}"#, Duration::ZERO, false);
        let (s, _home) = screener(&url, 1000, true);
        for _ in 0..3 {
            assert_eq!(s.call(b"{}").unwrap().score, Some(1.0));
        }
        assert_eq!(accepted.load(Relaxed), 1, "one kept-alive connection");

        let (url, _) = server(r#"{"decision":"allow"}"#, Duration::from_millis(500), false);
        let (slow, _home) = screener(&url, 50, true);
        let started = Instant::now();
        let err = slow.call(b"{}").unwrap_err();
        assert!(err.contains("within 50 ms"), "{err}");
        assert!(started.elapsed() < Duration::from_millis(300), "{:?}", started.elapsed());

        let (url, _) = server("not json", Duration::ZERO, false);
        let (garbage, _home) = screener(&url, 1000, true);
        assert!(garbage.call(b"{}").unwrap_err().contains("not JSON"));

        // A port nothing listens on.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let (refused, _home) = screener(&format!("http://{closed}/"), 1000, true);
        assert!(!refused.call(b"{}").unwrap_err().is_empty());

        // The reference service answering HTTP 500 (`--fail`).
        let rules = paychain_risk_service::Rules { fail: true, ..Default::default() };
        let failing = paychain_risk_service::Running::start("127.0.0.1:0".parse().unwrap(), rules).unwrap();
        let (s, _home) = screener(&failing.url(), 1000, true);
        let err = s.call(b"{}").unwrap_err();
        assert!(err.starts_with("HTTP 500: failing on purpose"), "{err}");
    }

    #[test]
    fn a_connection_the_service_closed_while_idle_is_replaced_not_an_error() {
        let (url, accepted) = server(r#"{"decision":"refuse"}"#, Duration::ZERO, true);
        let (s, _home) = screener(&url, 1000, false);
        for i in 1..=3 {
            // Let the server's close arrive before the pooled connection is reused.
            std::thread::sleep(Duration::from_millis(20));
            assert!(s.call(b"{}").unwrap().refuse, "call {i}");
            assert_eq!(accepted.load(Relaxed), i);
        }
    }

    #[test]
    fn an_unwritable_log_or_unresolvable_host_stops_the_start() {
        let home = tempfile::tempdir().unwrap();
        let dir_as_log = AppConfig {
            risk_service_url: "http://127.0.0.1:1/".into(),
            risk_service_log: ".".into(),
            ..AppConfig::default()
        };
        let err = RiskScreener::from_config(&dir_as_log, home.path()).err().unwrap();
        assert!(format!("{err:#}").contains("risk_service_log"), "{err:#}");
        let nowhere = AppConfig { risk_service_url: "http://no-such-host.invalid/".into(), ..AppConfig::default() };
        let err = RiskScreener::from_config(&nowhere, home.path()).err().unwrap();
        assert!(format!("{err:#}").contains("resolving"), "{err:#}");
        assert!(RiskScreener::from_config(&AppConfig::default(), home.path()).unwrap().is_none());
    }
}
