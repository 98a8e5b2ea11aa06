//! The node's RPC endpoint in front of CometBFT's (`rpc_front_address` in app.toml).
//!
//! It answers CometBFT's `tx`, `tx_search` and `block_search` from this node's own index,
//! exactly as CometBFT's RPC renders them (`block_search` with the blocks CometBFT's `block`
//! answers for the heights the index found), and passes everything else to CometBFT's RPC
//! (`cometbft_rpc`) unchanged: JSON-RPC over HTTP POST (single or batch), the URI form
//! (`GET /tx?hash=0x..`), and the `/websocket` endpoint, whose connections are spliced to
//! CometBFT byte for byte. So CometBFT's own indexer (its largest cost under load,
//! docs/benchmarks.md) can be off while wallets keep searching txs through one URL, unchanged.
//!
//! Hermes clears pending packets with `tx_search` and falls back to `block_search` for those
//! it does not find there, so it relays through the front with CometBFT's indexer off.
//!
//! `prove=true` adds each tx's Merkle proof of inclusion in its block, computed from the block's
//! tx hashes the index holds. One call still goes to CometBFT's index: `tx` for a hash the
//! node's index does not hold (it holds the blocks committed while it is on, so a node that
//! turned it on mid-chain lacks the earlier txs); with CometBFT's indexer off, it is "not found".

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use paychain_txindex::{
    block_search, block_search_json, proved_tx_json, search, search_json, tx_json, Order, SearchError,
};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

use crate::served::ServedApp;
use crate::tx_index::StoreIndex;

/// Largest request body accepted (CometBFT's `max_body_bytes` default).
const MAX_BODY_BYTES: usize = 1_000_000;
/// How long a forwarded call may take (CometBFT's `timeout_broadcast_tx_commit` default is 10 s).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// JSON-RPC's internal error, which CometBFT answers for every failed call.
const INTERNAL_ERROR: i64 = -32603;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// What each connection needs.
#[derive(Clone)]
struct Front {
    app: ServedApp,
    /// CometBFT's RPC, e.g. `http://127.0.0.1:26657` (no trailing slash).
    upstream: String,
    /// Its host:port, for spliced websocket connections.
    upstream_addr: String,
    client: reqwest::Client,
}

/// Binds `addr` and serves the front on `runtime`; returns the bound address.
pub fn serve(app: ServedApp, addr: SocketAddr, runtime: &tokio::runtime::Handle) -> anyhow::Result<SocketAddr> {
    let upstream = app.config().cometbft_rpc.trim_end_matches('/').to_string();
    let url = url::Url::parse(&upstream).map_err(|e| anyhow::anyhow!("cometbft_rpc {upstream:?}: {e}"))?;
    let upstream_addr = match (url.scheme(), url.host_str(), url.port_or_known_default()) {
        ("http", Some(host), Some(port)) => format!("{host}:{port}"),
        _ => anyhow::bail!("cometbft_rpc {upstream:?}: the RPC front forwards to an http:// URL with a host"),
    };
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for RPC on {addr}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let client = reqwest::Client::builder().timeout(UPSTREAM_TIMEOUT).build()?;
    tracing::info!(rpc_addr = %bound, %upstream, "serving RPC (tx, tx_search, block_search from the node's index; the rest passed upstream)");
    let front = Front { app, upstream, upstream_addr, client };
    let _guard = runtime.enter();
    let listener = TcpListener::from_std(std_listener)?;
    runtime.spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(connection(front.clone(), stream));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!("RPC front: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(bound)
}

/// Serves one client connection: a websocket handshake is spliced to CometBFT; GET requests
/// are read here (CometBFT's URI form puts `"` and `>` in the target, which HTTP libraries
/// refuse); anything else is HTTP served by hyper.
async fn connection(front: Front, mut stream: TcpStream) {
    loop {
        match first_request(&stream).await {
            Opening::WebSocket => {
                // The handshake is still unread (peeked): CometBFT reads it from the splice.
                let Ok(mut upstream) = TcpStream::connect(&front.upstream_addr).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
                return;
            }
            Opening::Get => match serve_get(&front, &mut stream).await {
                Ok(true) => continue,
                _ => return,
            },
            Opening::Other => break,
            Opening::Closed => return,
        }
    }
    let service = hyper::service::service_fn(move |req| {
        let front = front.clone();
        async move { Ok::<_, Infallible>(handle(front, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

/// How a request on a connection starts.
enum Opening {
    WebSocket,
    Get,
    Other,
    Closed,
}

/// Peeks (without consuming) at the next request's first bytes, waiting at most a second for
/// them to arrive.
async fn first_request(stream: &TcpStream) -> Opening {
    const WEBSOCKET: &[u8] = b"GET /websocket";
    let mut buf = [0u8; 14];
    for _ in 0..100 {
        match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return Opening::Closed,
            Ok(n) if n >= WEBSOCKET.len() || (n >= 4 && !WEBSOCKET.starts_with(&buf[..n])) => {
                return if buf[..n] == *WEBSOCKET {
                    Opening::WebSocket
                } else if buf.starts_with(b"GET ") {
                    Opening::Get
                } else {
                    Opening::Other
                };
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    Opening::Other
}

/// Largest GET request head read.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Reads one GET request head (exactly: a following request stays unread), answers it, and
/// says whether the connection stays open.
async fn serve_get(front: &Front, stream: &mut TcpStream) -> std::io::Result<bool> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut peeked = vec![0u8; MAX_HEAD_BYTES];
    let mut head_len = None;
    for _ in 0..3000 {
        let n = stream.peek(&mut peeked).await?;
        if n == 0 {
            return Ok(false);
        }
        if let Some(end) = peeked[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            head_len = Some(end + 4);
            break;
        }
        if n == peeked.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let Some(head_len) = head_len else {
        stream
            .write_all(&raw_response(
                StatusCode::BAD_REQUEST,
                "text/plain",
                b"request head too large or incomplete",
                true,
            ))
            .await?;
        return Ok(false);
    };
    let mut head = vec![0u8; head_len];
    stream.read_exact(&mut head).await?;
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (_, target, version) = (parts.next(), parts.next().unwrap_or("/"), parts.next().unwrap_or("HTTP/1.0"));
    let connection_header = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("connection"))
        .map(|(_, v)| v.trim().to_ascii_lowercase());
    let close = match connection_header.as_deref() {
        Some("close") => true,
        Some("keep-alive") => false,
        _ => version != "HTTP/1.1",
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, content_type, body) = if is_ours_path(path) {
        let (status, answer) = uri_answer(front, path, query).await;
        (status, "application/json".to_string(), Bytes::from(answer.to_string()))
    } else {
        let url = format!("{}{}", front.upstream, encode_target(target));
        match front.client.get(url).send().await {
            Ok(answer) => {
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let content_type = answer
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/json")
                    .to_string();
                match answer.bytes().await {
                    Ok(body) => (status, content_type, body),
                    Err(e) => {
                        (StatusCode::BAD_GATEWAY, "text/plain".into(), Bytes::from(format!("CometBFT RPC answer: {e}")))
                    }
                }
            }
            Err(e) => (
                StatusCode::BAD_GATEWAY,
                "text/plain".into(),
                Bytes::from(format!("CometBFT RPC at {} unavailable: {e}", front.upstream)),
            ),
        }
    };
    stream.write_all(&raw_response(status, &content_type, &body, close)).await?;
    Ok(!close)
}

/// A request target with the bytes URIs do not allow (`"`, `<`, `>`, space, ...) percent-encoded,
/// as CometBFT's URI form is written by hand; CometBFT decodes both spellings alike.
fn encode_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn raw_response(status: StatusCode, content_type: &str, body: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
        if close { "Connection: close\r\n" } else { "" },
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn handle(front: Front, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")),
    };
    let path = parts.uri.path();
    if parts.method == Method::GET && is_ours_path(path) {
        let (status, answer) = uri_answer(&front, path, parts.uri.query().unwrap_or("")).await;
        return json_response(status, &answer);
    }
    if parts.method == Method::POST {
        if let Ok(request) = serde_json::from_slice::<Value>(&body) {
            if let Some(answer) = answer_json_rpc(&front, &request).await {
                return json_response(StatusCode::OK, &answer);
            }
        }
    }
    forward(&front, parts.method, parts.uri.path_and_query().map_or("/", |p| p.as_str()), &parts.headers, body).await
}

/// Answers a JSON-RPC request (or batch) that calls a method answered here; `None` when it
/// calls none, so it is forwarded untouched.
async fn answer_json_rpc(front: &Front, request: &Value) -> Option<Value> {
    match request {
        Value::Object(_) if is_ours(request) => Some(answer_one(front, request).await),
        Value::Array(calls) if calls.iter().any(is_ours) => {
            let mut answers = Vec::with_capacity(calls.len());
            for call in calls {
                if is_ours(call) {
                    answers.push(answer_one(front, call).await);
                } else {
                    answers.push(forward_one(front, call).await);
                }
            }
            Some(Value::Array(answers))
        }
        _ => None,
    }
}

/// The methods answered from the node's index.
const OURS: [&str; 3] = ["tx", "tx_search", "block_search"];

fn is_ours(call: &Value) -> bool {
    call.get("method").and_then(Value::as_str).is_some_and(|m| OURS.contains(&m))
}

fn is_ours_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|m| OURS.contains(&m))
}

async fn answer_one(front: &Front, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let params = Params::Json(call.get("params").cloned().unwrap_or(Value::Null));
    match local(front, method, params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message, data)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message, "data": data}})
        }
    }
}

/// The URI form's answer to `GET /tx?..`, `GET /tx_search?..` or `GET /block_search?..`.
async fn uri_answer(front: &Front, path: &str, query: &str) -> (StatusCode, Value) {
    let method = path.trim_start_matches('/').to_string();
    match local(front, method, Params::Uri(uri_params(query))).await {
        Ok(result) => (StatusCode::OK, json!({"jsonrpc": "2.0", "id": -1, "result": result})),
        Err((code, message, data)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"jsonrpc": "2.0", "id": -1, "error": {"code": code, "message": message, "data": data}}),
        ),
    }
}

/// [`local_call`] on a blocking thread: a broad search reads the index for a while, and the
/// runtime's two workers also serve gRPC and REST. `block_search` then adds the blocks.
async fn local(front: &Front, method: String, params: Params) -> Result<Value, CallError> {
    let app = front.app.clone();
    let answer = tokio::task::spawn_blocking(move || local_call(&app, &method, &params))
        .await
        .unwrap_or_else(|e| Err(internal(format!("the tx index query stopped: {e}"))))?;
    match answer {
        Local::Done(v) => Ok(v),
        Local::AskCometbft { method, params, otherwise } => {
            let call = json!({"jsonrpc": "2.0", "id": 0, "method": method, "params": params});
            match upstream_call(front, &call).await?.get("result") {
                Some(result) => Ok(result.clone()),
                None => Err(otherwise),
            }
        }
        Local::Blocks(page) => {
            let mut blocks = Vec::with_capacity(page.heights.len());
            for height in page.heights {
                // A block CometBFT no longer has (pruned) is left out, as its own block_search does.
                if let Some(block) = upstream_block(front, height).await? {
                    blocks.push(block);
                }
            }
            Ok(block_search_json(page.total, blocks))
        }
    }
}

/// CometBFT's `block` answer for `height`; `None` when it answers with an error.
async fn upstream_block(front: &Front, height: u64) -> Result<Option<Value>, CallError> {
    let call = json!({"jsonrpc": "2.0", "id": 0, "method": "block", "params": {"height": height.to_string()}});
    Ok(upstream_call(front, &call).await?.get("result").cloned())
}

/// CometBFT's JSON-RPC answer to `call`.
async fn upstream_call(front: &Front, call: &Value) -> Result<Value, CallError> {
    let unavailable = |e: reqwest::Error| internal(format!("CometBFT RPC unavailable: {e}"));
    front
        .client
        .post(format!("{}/", front.upstream))
        .json(call)
        .send()
        .await
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)
}

/// One call of a batch that is not ours, sent to CometBFT alone.
async fn forward_one(front: &Front, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let sent = front.client.post(format!("{}/", front.upstream)).json(call).send().await;
    match sent {
        Ok(r) => match r.json::<Value>().await {
            Ok(v) => v,
            Err(e) => rpc_error(id, INTERNAL_ERROR, format!("CometBFT's answer is not JSON: {e}")),
        },
        Err(e) => rpc_error(id, INTERNAL_ERROR, format!("CometBFT RPC unavailable: {e}")),
    }
}

fn rpc_error(id: Value, code: i64, data: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": "Internal error", "data": data}})
}

/// A call's parameters: JSON-RPC's (an object by name, or an array by position), or the URI
/// form's (`?hash=0x..&prove=false`; strings quoted, bytes as 0x-hex).
enum Params {
    Json(Value),
    Uri(Vec<(String, String)>),
}

impl Params {
    /// The parameter `name` (at `position` in an array) as text: a JSON string or number, or
    /// the URI value without its quotes.
    fn text(&self, name: &str, position: usize) -> Option<String> {
        match self {
            Params::Json(v) => {
                let value = match v {
                    Value::Array(a) => a.get(position),
                    _ => v.get(name),
                }?;
                match value {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }
            }
            Params::Uri(pairs) => pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).to_string()),
        }
    }

    /// Bytes: base64 in JSON-RPC, 0x-hex (or a quoted string) in the URI form, as CometBFT.
    fn bytes(&self, name: &str, position: usize) -> Result<Option<Vec<u8>>, String> {
        let Some(text) = self.text(name, position) else { return Ok(None) };
        match self {
            Params::Json(_) => STANDARD.decode(&text).map(Some).map_err(|e| format!("{name}: not base64: {e}")),
            Params::Uri(_) => match text.strip_prefix("0x") {
                Some(hex_text) => hex::decode(hex_text).map(Some).map_err(|e| format!("{name}: not hex: {e}")),
                None => Ok(Some(text.into_bytes())),
            },
        }
    }

    fn number(&self, name: &str, position: usize) -> Result<Option<u64>, String> {
        // CometBFT's JSON takes 64-bit integers as strings only.
        if let Params::Json(v) = self {
            let value = match v {
                Value::Array(a) => a.get(position),
                _ => v.get(name),
            };
            if let Some(Value::Number(n)) = value {
                return Err(format!(
                    "error converting json params to arguments: invalid 64-bit integer encoding \"{n}\", expected string"
                ));
            }
        }
        match self.text(name, position) {
            None => Ok(None),
            Some(t) if t.is_empty() => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| format!("{name}: {t:?} is not a page number")),
        }
    }

    /// `order_by`: `asc`, `desc`, or `empty` for the method's default.
    fn order(&self, position: usize, empty: Order) -> Result<Order, CallError> {
        match self.text("order_by", position).as_deref() {
            None | Some("") => Ok(empty),
            Some("asc") => Ok(Order::Asc),
            Some("desc") => Ok(Order::Desc),
            Some(_) => Err(internal("expected order_by to be either `asc` or `desc` or empty".into())),
        }
    }

    fn flag(&self, name: &str, position: usize) -> Result<bool, String> {
        match self.text(name, position).as_deref() {
            None | Some("" | "false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(format!("{name}: {other:?} is not true or false")),
        }
    }
}

type CallError = (i64, &'static str, String);

fn invalid_params(data: String) -> CallError {
    (INVALID_PARAMS, "Invalid params", data)
}

fn internal(data: String) -> CallError {
    (INTERNAL_ERROR, "Internal error", data)
}

/// What the index answers: the call's result, the heights whose blocks `block_search` shows,
/// or a call for CometBFT's own index.
enum Local {
    Done(Value),
    Blocks(paychain_txindex::BlockPage),
    /// A tx the node's index does not hold (it holds the blocks committed while it is on):
    /// CometBFT's index may answer `method(params)` (with its indexer on); when it does not,
    /// the answer is `otherwise`.
    AskCometbft {
        method: &'static str,
        params: Value,
        otherwise: CallError,
    },
}

/// `tx`, `tx_search` or `block_search`, answered from the index.
fn local_call(app: &ServedApp, method: &str, params: &Params) -> Result<Local, CallError> {
    let index = StoreIndex(app.store());
    let searched = |e| match e {
        SearchError::Invalid(m) | SearchError::Storage(m) => internal(m),
    };
    match method {
        "tx" => {
            let hash = params.bytes("hash", 0).map_err(invalid_params)?.ok_or_else(|| invalid_params("hash".into()))?;
            let prove = params.flag("prove", 1).map_err(invalid_params)?;
            match paychain_txindex::get_tx(&index, &hash).map_err(internal)? {
                Some(t) if prove => {
                    let proof = proofs_of(&index, std::slice::from_ref(&t))?.remove(0);
                    Ok(Local::Done(proved_tx_json(&t, &proof)))
                }
                Some(t) => Ok(Local::Done(tx_json(&t))),
                None => Ok(Local::AskCometbft {
                    method: "tx",
                    params: json!({"hash": STANDARD.encode(&hash), "prove": prove}),
                    otherwise: internal(format!("tx ({}) not found", hex::encode_upper(&hash))),
                }),
            }
        }
        "tx_search" => {
            let query = params.text("query", 0).ok_or_else(|| invalid_params("query".into()))?;
            let page = params.number("page", 2).map_err(invalid_params)?;
            let per_page = params.number("per_page", 3).map_err(invalid_params)?;
            let order = params.order(4, Order::Asc)?;
            let prove = params.flag("prove", 1).map_err(invalid_params)?;
            let found = search(&index, &query, page, per_page, order).map_err(searched)?;
            let proofs = match prove {
                true => Some(proofs_of(&index, &found.txs)?),
                false => None,
            };
            Ok(Local::Done(search_json(&found, proofs.as_deref())))
        }
        "block_search" => {
            // CometBFT's order: query, page, per_page, order_by (desc when empty).
            let query = params.text("query", 0).ok_or_else(|| invalid_params("query".into()))?;
            let page = params.number("page", 1).map_err(invalid_params)?;
            let per_page = params.number("per_page", 2).map_err(invalid_params)?;
            let order = params.order(3, Order::Desc)?;
            Ok(Local::Blocks(block_search(&index, &query, page, per_page, order).map_err(searched)?))
        }
        other => Err((INVALID_REQUEST, "Method not found", other.to_string())),
    }
}

/// The inclusion proofs of indexed txs (each block read once).
fn proofs_of(
    index: &StoreIndex,
    txs: &[paychain_txindex::IndexedTx],
) -> Result<Vec<paychain_txindex::TxProof>, CallError> {
    let at: Vec<(u64, u32)> = txs.iter().map(|t| (t.height, t.index)).collect();
    let proofs = paychain_txindex::tx_proofs(index, &at).map_err(internal)?;
    txs.iter()
        .zip(proofs)
        .map(|(t, p)| {
            p.ok_or_else(|| {
                internal(format!("block {} of tx {} is not fully indexed", t.height, hex::encode_upper(t.hash)))
            })
        })
        .collect()
}

/// `a=1&b="x"` into pairs, percent-decoded.
fn uri_params(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Passes a request to CometBFT's RPC and its answer back.
async fn forward(
    front: &Front,
    method: Method,
    path_and_query: &str,
    headers: &hyper::HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let Ok(method) = reqwest::Method::from_bytes(method.as_str().as_bytes()) else {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into());
    };
    let mut request = front.client.request(method, format!("{}{path_and_query}", front.upstream)).body(body);
    if let Some(ct) = headers.get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        request = request.header(reqwest::header::CONTENT_TYPE, ct);
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => {
            return plain(StatusCode::BAD_GATEWAY, format!("CometBFT RPC at {} unavailable: {e}", front.upstream))
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type =
        answer.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
    let body = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("CometBFT RPC answer: {e}")),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Some(ct) = content_type.and_then(|c| hyper::header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, ct);
    }
    response
}

fn json_response(status: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(v.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}
