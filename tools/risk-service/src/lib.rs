//! The reference risk service: what a paychain node's `risk_service_url` (app.toml) points at.
//!
//! A node POSTs one JSON object per tx new to its mempool (`tx_hash`, `tx` in base64,
//! `signers`, `fee_payer`, `fee`, `memo`, `messages` in proto3 JSON with their `@type`) and
//! expects `{"decision": "allow" | "refuse", "score": N, "reason": "..."}`. This service decides
//! by rules given on its command line: refuse txs signed by (or moving coins from) listed
//! senders, refuse txs moving more than an amount of any coin. For a real deployment it is the
//! shape to copy; the node's side is `paychain_node::risk`.
//!
//! It also misbehaves on request (`delay`, `fail`) so a node's timeout and failure handling can
//! be shown against a real HTTP server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// What the service refuses, and how it misbehaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Addresses (bech32) whose txs are refused: as a signer, fee payer, or a message's sender.
    pub refuse_senders: Vec<String>,
    /// Refuse a tx moving more than this amount of any one coin in one place.
    pub refuse_above: Option<u128>,
    /// Answer this late (to show a node's timeout).
    pub delay: Duration,
    /// Answer every screening request with HTTP 500.
    pub fail: bool,
}

/// One decision, as the service answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub refuse: bool,
    pub score: u32,
    pub reason: String,
}

impl Verdict {
    pub fn to_json(&self) -> Value {
        json!({
            "decision": if self.refuse { "refuse" } else { "allow" },
            "score": self.score,
            "reason": self.reason,
        })
    }
}

/// Decides on one screening request.
pub fn judge(rules: &Rules, request: &Value) -> Verdict {
    let senders = senders(request);
    if let Some(s) = senders.iter().find(|s| rules.refuse_senders.iter().any(|r| r == *s)) {
        return Verdict { refuse: true, score: 100, reason: format!("sender {s} is on this service's refuse list") };
    }
    if let Some(limit) = rules.refuse_above {
        let mut coins = Vec::new();
        for m in request["messages"].as_array().into_iter().flatten() {
            collect_coins(m, &mut coins);
        }
        // An amount too long for u128 is above any limit.
        if let Some((amount, denom)) =
            coins.into_iter().find(|(amount, _)| amount.parse::<u128>().map_or(true, |a| a > limit))
        {
            return Verdict {
                refuse: true,
                score: 90,
                reason: format!("{amount}{denom} is above the limit of {limit}"),
            };
        }
    }
    Verdict { refuse: false, score: 0, reason: "no rule matched".to_string() }
}

/// Every address the request names as sending: its signers and fee payer, and the
/// `from_address` / `sender` / `inputs[].address` of its messages.
fn senders(request: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = request["signers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    out.extend(request["fee_payer"].as_str());
    for m in request["messages"].as_array().into_iter().flatten() {
        out.extend(["from_address", "sender"].iter().filter_map(|k| m[*k].as_str()));
        out.extend(m["inputs"].as_array().into_iter().flatten().filter_map(|i| i["address"].as_str()));
    }
    out
}

/// Every `{"denom", "amount"}` object in `v` (a MsgSend's `amount`, a MsgMultiSend's `coins`,
/// an ICS-20 `token`, an escrow's deposit...), wherever it sits.
fn collect_coins<'a>(v: &'a Value, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(o) => {
            if let (Some(Value::String(denom)), Some(amount)) = (o.get("denom"), o.get("amount")) {
                match amount {
                    Value::String(a) if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) => {
                        out.push((a.clone(), denom))
                    }
                    Value::Number(n) => out.push((n.to_string(), denom)),
                    _ => {}
                }
            }
            o.values().for_each(|x| collect_coins(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_coins(x, out)),
        _ => {}
    }
}

/// A running service's rules and what it has done.
pub struct Service {
    rules: Rules,
    /// Print one line per decision on stderr (the binary does; tests do not).
    print_decisions: bool,
    requests: AtomicU64,
    last_request: Mutex<Option<Value>>,
}

impl Service {
    pub fn new(rules: Rules, print_decisions: bool) -> Arc<Self> {
        Arc::new(Self { rules, print_decisions, requests: AtomicU64::new(0), last_request: Mutex::new(None) })
    }

    /// The last screening request that was a JSON object (what a node sends, for tests).
    pub fn last_request(&self) -> Option<Value> {
        self.last_request.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Screening requests received so far (answered or not).
    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    /// The HTTP face: `POST <any path>` screens, `GET /healthz` answers `ok`.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .fallback(screen)
            .with_state(self.clone())
    }
}

async fn screen(State(service): State<Arc<Service>>, method: Method, body: axum::body::Bytes) -> Response {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "POST a screening request\n").into_response();
    }
    service.requests.fetch_add(1, Relaxed);
    let rules = &service.rules;
    if !rules.delay.is_zero() {
        tokio::time::sleep(rules.delay).await;
    }
    if rules.fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "failing on purpose (--fail)\n").into_response();
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return (StatusCode::BAD_REQUEST, "expected a JSON object\n").into_response(),
    };
    let verdict = judge(rules, &request);
    *service.last_request.lock().unwrap_or_else(|e| e.into_inner()) = Some(request.clone());
    if service.print_decisions {
        eprintln!(
            "{} {} score={} {}",
            request["tx_hash"].as_str().unwrap_or("?"),
            if verdict.refuse { "refuse" } else { "allow" },
            verdict.score,
            verdict.reason
        );
    }
    Json(verdict.to_json()).into_response()
}

/// Serves `service` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, service.router()).with_graceful_shutdown(shutdown).await
}

/// The service on its own thread and runtime (for tests and embedding), printing nothing;
/// stopped on drop.
pub struct Running {
    pub addr: SocketAddr,
    service: Arc<Service>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Binds `addr` (port 0 = any) and serves `rules` in the background.
    pub fn start(addr: SocketAddr, rules: Rules) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let service = Service::new(rules, false);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = service.clone();
        let thread = std::thread::Builder::new().name("risk-service".into()).spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(listener) => {
                        let shutdown = async move {
                            let _ = stopped.await;
                        };
                        if let Err(e) = serve(listener, served, shutdown).await {
                            eprintln!("risk service on {addr} stopped: {e}");
                        }
                    }
                    Err(e) => eprintln!("risk service on {addr}: {e}"),
                }
            })
        })?;
        Ok(Self { addr, service, stop: Some(stop), thread: Some(thread) })
    }

    /// `http://<addr>/screen`, what a node's `risk_service_url` names.
    pub fn url(&self) -> String {
        format!("http://{}/screen", self.addr)
    }

    /// Screening requests received so far.
    pub fn requests(&self) -> u64 {
        self.service.requests()
    }

    /// See [`Service::last_request`].
    pub fn last_request(&self) -> Option<Value> {
        self.service.last_request()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(from: &str, amount: &str) -> Value {
        json!({
            "tx_hash": "AB",
            "signers": [from],
            "fee_payer": from,
            "messages": [{
                "@type": "/cosmos.bank.v1beta1.MsgSend",
                "from_address": from,
                "to_address": "pay1to",
                "amount": [{"denom": "upay", "amount": amount}]
            }]
        })
    }

    #[test]
    fn refuses_listed_senders_and_large_amounts_and_allows_the_rest() {
        let rules = Rules { refuse_senders: vec!["pay1bad".into()], refuse_above: Some(1000), ..Rules::default() };
        let v = judge(&rules, &send("pay1bad", "1"));
        assert!(v.refuse && v.reason.contains("pay1bad"), "{v:?}");
        let v = judge(&rules, &send("pay1ok", "1001"));
        assert!(v.refuse && v.reason.contains("1001upay"), "{v:?}");
        assert!(!judge(&rules, &send("pay1ok", "1000")).refuse);
        let huge = "9".repeat(60);
        assert!(judge(&rules, &send("pay1ok", &huge)).refuse, "beyond u128 is above any limit");
        assert_eq!(judge(&rules, &send("pay1ok", "5")).to_json()["decision"], "allow");
    }

    #[test]
    fn finds_senders_and_coins_in_other_messages() {
        let rules = Rules { refuse_senders: vec!["pay1bad".into()], refuse_above: Some(10), ..Rules::default() };
        let multi = json!({"messages": [{
            "@type": "/cosmos.bank.v1beta1.MsgMultiSend",
            "inputs": [{"address": "pay1bad", "coins": [{"denom": "upay", "amount": "2"}]}],
            "outputs": []
        }]});
        assert!(judge(&rules, &multi).refuse);
        let transfer = json!({"messages": [{
            "@type": "/ibc.applications.transfer.v1.MsgTransfer",
            "sender": "pay1ok",
            "token": {"denom": "upay", "amount": "11"}
        }]});
        let v = judge(&rules, &transfer);
        assert!(v.refuse && v.reason.contains("11upay"), "{v:?}");
        assert!(!judge(&rules, &json!({"messages": "not a list"})).refuse);
    }
}
