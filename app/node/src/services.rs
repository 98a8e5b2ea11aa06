//! App-level query services that are not a module's: the SDK's tx service
//! (GetTx, GetTxsEvent, BroadcastTx; Simulate lives in `query.rs`), the
//! CometBFT service (`cosmos.base.tendermint.v1beta1.Service`), consensus
//! params and the node service.
//!
//! Most of them are answered from CometBFT's RPC (`cometbft_rpc` in app.toml),
//! as the SDK's gRPC gateway does with its local client. The handlers are
//! synchronous (ABCI query threads, or `spawn_blocking` in the gRPC/REST
//! servers), so the RPC calls run on a small private runtime and the caller
//! waits with a short timeout. Nothing here touches state: read-only, and no
//! wall clock reaches consensus. A CometBFT outage answers `Unavailable`.

use std::future::Future;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::base::node::v1beta1::{ConfigResponse, StatusResponse};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as tm_svc;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    BroadcastMode, BroadcastTxRequest, BroadcastTxResponse, GetTxRequest, GetTxResponse, GetTxsEventRequest,
    GetTxsEventResponse, OrderBy, Tx,
};
use cosmos_sdk_proto::Any;
use parking_lot::Mutex;
use paychain_framework::error::GrpcCode;
use paychain_framework::{Address, QueryError};
use prost::Message;
use tendermint_rpc::{Client as _, HttpClient, Paging};

use paychain_txindex::{IndexedTx, SearchError};

use crate::served::ServedApp;
use crate::tx_index::StoreIndex;

/// A query service handler: (app, protobuf request, height (0 = latest)) -> protobuf response.
pub type ServiceFn = fn(&ServedApp, &[u8], u64) -> Result<Vec<u8>, QueryError>;

pub const GET_TX: &str = "/cosmos.tx.v1beta1.Service/GetTx";
pub const GET_TXS_EVENT: &str = "/cosmos.tx.v1beta1.Service/GetTxsEvent";
pub const BROADCAST_TX: &str = "/cosmos.tx.v1beta1.Service/BroadcastTx";
pub const GET_NODE_INFO: &str = "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo";
pub const GET_SYNCING: &str = "/cosmos.base.tendermint.v1beta1.Service/GetSyncing";
pub const GET_LATEST_BLOCK: &str = "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock";
pub const GET_BLOCK_BY_HEIGHT: &str = "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight";
pub const GET_LATEST_VALIDATOR_SET: &str = "/cosmos.base.tendermint.v1beta1.Service/GetLatestValidatorSet";
pub const GET_VALIDATOR_SET_BY_HEIGHT: &str = "/cosmos.base.tendermint.v1beta1.Service/GetValidatorSetByHeight";
pub const CONSENSUS_PARAMS: &str = "/cosmos.consensus.v1.Query/Params";
pub const NODE_CONFIG: &str = "/cosmos.base.node.v1beta1.Service/Config";
pub const NODE_STATUS: &str = "/cosmos.base.node.v1beta1.Service/Status";

/// Every app-level service path (besides Simulate), for listings and tests.
pub const PATHS: &[&str] = &[
    GET_TX,
    GET_TXS_EVENT,
    BROADCAST_TX,
    GET_NODE_INFO,
    GET_SYNCING,
    GET_LATEST_BLOCK,
    GET_BLOCK_BY_HEIGHT,
    GET_LATEST_VALIDATOR_SET,
    GET_VALIDATOR_SET_BY_HEIGHT,
    CONSENSUS_PARAMS,
    NODE_CONFIG,
    NODE_STATUS,
];

/// The handler of an app-level gRPC method path, if it is one.
pub fn route(path: &str) -> Option<ServiceFn> {
    let f: ServiceFn = match path {
        GET_TX => get_tx,
        GET_TXS_EVENT => get_txs_event,
        BROADCAST_TX => broadcast_tx,
        GET_NODE_INFO => get_node_info,
        GET_SYNCING => get_syncing,
        GET_LATEST_BLOCK => get_latest_block,
        GET_BLOCK_BY_HEIGHT => get_block_by_height,
        GET_LATEST_VALIDATOR_SET => get_latest_validator_set,
        GET_VALIDATOR_SET_BY_HEIGHT => get_validator_set_by_height,
        CONSENSUS_PARAMS => consensus_params,
        NODE_CONFIG => node_config,
        NODE_STATUS => node_status,
        _ => return None,
    };
    Some(f)
}

/// The SDK's `Tx` type URL (for `TxResponse.tx`).
const TX_TYPE_URL: &str = "/cosmos.tx.v1beta1.Tx";
const ED25519_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.ed25519.PubKey";
/// Bech32 prefix of consensus (validator) addresses.
pub const VALCONS_PREFIX: &str = "payvalcons";
/// CometBFT's `tx_search` page size limit (and the SDK's default limit).
const MAX_PAGE_SIZE: u64 = 100;

// ---------------------------------------------------------------------------
// CometBFT RPC from synchronous code

/// How long a handler waits for CometBFT.
const RPC_TIMEOUT: Duration = Duration::from_secs(5);

fn decode<M: Message + Default>(data: &[u8], what: &str) -> Result<M, QueryError> {
    M::decode(data).map_err(|e| QueryError::invalid_argument(format!("invalid {what}: {e}")))
}

fn unavailable(message: impl Into<String>) -> QueryError {
    QueryError::new(GrpcCode::Unavailable, message)
}

/// The private runtime the RPC futures run on (callers may be inside another
/// runtime's `spawn_blocking`, where `block_on` is not allowed).
fn rpc_runtime() -> Result<&'static tokio::runtime::Runtime, QueryError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("paychaind-cometbft-rpc")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| QueryError::internal(format!("cannot start the CometBFT RPC runtime: {e}")))
}

/// One client per configured URL (normally exactly one), reused across calls.
fn rpc_client(url: &str) -> Result<HttpClient, QueryError> {
    static CLIENTS: OnceLock<Mutex<Vec<(String, HttpClient)>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Default::default);
    let mut clients = clients.lock();
    if let Some((_, c)) = clients.iter().find(|(u, _)| u == url) {
        return Ok(c.clone());
    }
    let parsed: tendermint_rpc::HttpClientUrl =
        url.parse().map_err(|e| unavailable(format!("invalid cometbft_rpc URL {url:?}: {e}")))?;
    let client = HttpClient::builder(parsed)
        .compat_mode(tendermint_rpc::client::CompatMode::V0_38)
        .timeout(RPC_TIMEOUT)
        .build()
        .map_err(|e| unavailable(format!("invalid cometbft_rpc URL {url:?}: {e}")))?;
    clients.push((url.to_string(), client.clone()));
    Ok(client)
}

fn rpc_error(url: &str, what: &str, e: &tendermint_rpc::Error) -> QueryError {
    let text = paychain_client::rpc::rpc_error_text(e);
    match e.detail() {
        // CometBFT answered, with an error (bad height, bad query, ...).
        tendermint_rpc::error::ErrorDetail::Response(_) => {
            QueryError::invalid_argument(format!("CometBFT {what}: {text}"))
        }
        _ => unavailable(format!("CometBFT RPC at {url} is unavailable ({what}): {text}")),
    }
}

/// Runs one CometBFT RPC call and waits (at most [`RPC_TIMEOUT`]) for its answer.
fn comet<T, F, Fut>(app: &ServedApp, what: &str, call: F) -> Result<T, QueryError>
where
    T: Send + 'static,
    F: FnOnce(HttpClient) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, tendermint_rpc::Error>> + Send + 'static,
{
    let url = app.config().cometbft_rpc.clone();
    let client = rpc_client(&url)?;
    let rt = rpc_runtime()?;
    let (tx, rx) = mpsc::sync_channel(1);
    rt.spawn(async move {
        let result = tokio::time::timeout(RPC_TIMEOUT, call(client)).await;
        let _ = tx.send(result);
    });
    match rx.recv_timeout(RPC_TIMEOUT + Duration::from_secs(1)) {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(rpc_error(&url, what, &e)),
        Ok(Err(_)) | Err(_) => {
            Err(unavailable(format!("CometBFT RPC at {url} did not answer {what} within {} s", RPC_TIMEOUT.as_secs())))
        }
    }
}

fn height_arg(h: i64) -> Result<tendermint::block::Height, QueryError> {
    tendermint::block::Height::try_from(h).map_err(|e| QueryError::invalid_argument(format!("invalid height {h}: {e}")))
}

// ---------------------------------------------------------------------------
// Formatting helpers

fn block_time_text(t: tendermint::Time) -> String {
    paychain_framework::time::rfc3339(t.unix_timestamp(), 0)
}

/// `ExecTxResult.data` as tendermint-rpc hands it over in v0.38 mode: the
/// base64 text from the JSON, not decoded.
fn exec_data_bytes(data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_else(|_| data.to_vec())
}

fn proto_events(events: &[tendermint::abci::Event]) -> Vec<tendermint_proto::abci::Event> {
    events
        .iter()
        .map(|e| tendermint_proto::abci::Event {
            r#type: e.kind.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| tendermint_proto::abci::EventAttribute {
                    key: a.key_str().map(str::to_string).unwrap_or_else(|_| hex::encode(a.key_bytes())),
                    value: a.value_str().map(str::to_string).unwrap_or_else(|_| hex::encode(a.value_bytes())),
                    index: a.index(),
                })
                .collect(),
        })
        .collect()
}

/// A tx as CometBFT's `tx`/`tx_search` returned it, in the node index's terms.
fn from_cometbft(r: &tendermint_rpc::endpoint::tx::Response) -> IndexedTx {
    let res = &r.tx_result;
    IndexedTx {
        // CometBFT's hash is sha256 of the tx; recomputed only if its answer held another form.
        hash: <[u8; 32]>::try_from(r.hash.as_bytes()).unwrap_or_else(|_| paychain_txindex::tx_hash(&r.tx)),
        height: r.height.value(),
        index: r.index,
        tx: r.tx.clone(),
        result: tendermint_proto::abci::ExecTxResult {
            code: res.code.value(),
            data: exec_data_bytes(&res.data).into(),
            log: res.log.clone(),
            info: res.info.clone(),
            gas_wanted: res.gas_wanted,
            gas_used: res.gas_used,
            events: proto_events(&res.events),
            codespace: res.codespace.clone(),
        },
    }
}

/// The SDK's `TxResponse` (and decoded `Tx`) of a committed tx.
fn tx_response(t: &IndexedTx, timestamp: String) -> (Option<Tx>, TxResponse) {
    let res = &t.result;
    let resp = TxResponse {
        height: i64::try_from(t.height).unwrap_or(i64::MAX),
        txhash: hex::encode_upper(t.hash),
        codespace: res.codespace.clone(),
        code: res.code,
        data: hex::encode_upper(&res.data),
        raw_log: res.log.clone(),
        logs: Vec::new(),
        info: res.info.clone(),
        gas_wanted: res.gas_wanted,
        gas_used: res.gas_used,
        tx: Some(Any { type_url: TX_TYPE_URL.to_string(), value: t.tx.clone() }),
        timestamp,
        events: res.events.clone(),
    };
    (Tx::decode(t.tx.as_slice()).ok(), resp)
}

/// The time of an indexed block (RFC 3339, whole seconds as the SDK writes it).
fn indexed_block_time(index: &StoreIndex<'_>, height: u64) -> Result<String, QueryError> {
    let (seconds, _) = paychain_txindex::block_time(index, height)
        .map_err(QueryError::internal)?
        .ok_or_else(|| QueryError::internal(format!("the tx index has no time for height {height}")))?;
    Ok(paychain_framework::time::rfc3339(seconds, 0))
}

/// Block times by height (RFC 3339), fetched once per height.
fn block_times(app: &ServedApp, heights: Vec<u64>) -> Result<Vec<(u64, String)>, QueryError> {
    let mut heights = heights;
    heights.sort_unstable();
    heights.dedup();
    comet(app, "block", move |c| async move {
        let mut out = Vec::with_capacity(heights.len());
        for h in heights {
            let height = tendermint::block::Height::try_from(h).unwrap_or_default();
            let b = c.block(height).await?;
            out.push((h, block_time_text(b.block.header.time)));
        }
        Ok(out)
    })
}

// ---------------------------------------------------------------------------
// cosmos.tx.v1beta1.Service

fn get_tx(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: GetTxRequest = decode(data, "GetTxRequest")?;
    if req.hash.is_empty() {
        return Err(QueryError::invalid_argument("tx hash cannot be empty"));
    }
    let hash_text = req.hash.trim_start_matches("0x").to_ascii_uppercase();
    let bytes: [u8; 32] = hex::decode(&hash_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| QueryError::invalid_argument(format!("invalid tx hash {:?}: want 64 hex digits", req.hash)))?;
    let indexed = app.config().tx_index;
    if indexed {
        let index = StoreIndex(app.store());
        if let Some(t) = paychain_txindex::get_tx(&index, &bytes).map_err(QueryError::internal)? {
            let time = indexed_block_time(&index, t.height)?;
            let (tx, tx_response) = tx_response(&t, time);
            return Ok(GetTxResponse { tx, tx_response: Some(tx_response) }.encode_to_vec());
        }
        // The node's index holds the blocks committed while it is on; CometBFT's may hold an
        // earlier tx (with its indexer off it holds none: not found).
    }
    let found = comet(app, "tx", move |c| async move {
        match c.tx(tendermint::Hash::Sha256(bytes), false).await {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                let text = paychain_client::rpc::rpc_error_text(&e);
                if text.contains("not found") || (indexed && text.contains("indexing is disabled")) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    })?;
    let Some(r) = found else {
        return Err(QueryError::not_found(format!("tx not found: {hash_text}")));
    };
    let time = block_times(app, vec![r.height.value()])?.pop().map(|(_, t)| t).unwrap_or_default();
    let (tx, tx_response) = tx_response(&from_cometbft(&r), time);
    Ok(GetTxResponse { tx, tx_response: Some(tx_response) }.encode_to_vec())
}

/// The event query of a GetTxsEvent request: v0.50's `query`, else the
/// deprecated `events` joined with AND.
#[allow(deprecated)]
fn event_query(req: &GetTxsEventRequest) -> Result<String, QueryError> {
    let q = req.query.trim();
    if !q.is_empty() {
        return Ok(q.to_string());
    }
    let events: Vec<&str> = req.events.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).collect();
    if events.is_empty() {
        return Err(QueryError::invalid_argument("query cannot be empty"));
    }
    Ok(events.join(" AND "))
}

fn get_txs_event(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: GetTxsEventRequest = decode(data, "GetTxsEventRequest")?;
    let query_text = event_query(&req)?;
    let query: tendermint_rpc::query::Query = query_text
        .parse()
        .map_err(|e| QueryError::invalid_argument(format!("invalid event query {query_text:?}: {e}")))?;
    let page = if req.page == 0 { 1 } else { req.page };
    let page = u32::try_from(page).map_err(|_| QueryError::invalid_argument(format!("page {page} is too large")))?;
    let limit = if req.limit == 0 { MAX_PAGE_SIZE } else { req.limit.min(MAX_PAGE_SIZE) } as u8;
    let desc = match OrderBy::try_from(req.order_by) {
        Ok(OrderBy::Desc) => true,
        Ok(_) => false,
        Err(_) => return Err(QueryError::invalid_argument(format!("invalid order_by {}", req.order_by))),
    };
    if app.config().tx_index {
        let index = StoreIndex(app.store());
        let order = if desc { paychain_txindex::Order::Desc } else { paychain_txindex::Order::Asc };
        let found = paychain_txindex::search(&index, &query_text, Some(u64::from(page)), Some(u64::from(limit)), order)
            .map_err(|e| match e {
                SearchError::Invalid(m) => QueryError::invalid_argument(m),
                SearchError::Storage(m) => QueryError::internal(m),
            })?;
        let mut txs = Vec::with_capacity(found.txs.len());
        let mut tx_responses = Vec::with_capacity(found.txs.len());
        for t in &found.txs {
            let (tx, resp) = tx_response(t, indexed_block_time(&index, t.height)?);
            txs.push(tx.unwrap_or_default());
            tx_responses.push(resp);
        }
        #[allow(deprecated)]
        let resp = GetTxsEventResponse { txs, tx_responses, pagination: None, total: found.total };
        return Ok(resp.encode_to_vec());
    }
    let order = if desc { tendermint_rpc::Order::Descending } else { tendermint_rpc::Order::Ascending };
    let result = comet(app, "tx_search", move |c| async move { c.tx_search(query, false, page, limit, order).await })?;
    let times = block_times(app, result.txs.iter().map(|t| t.height.value()).collect())?;
    let mut txs = Vec::with_capacity(result.txs.len());
    let mut tx_responses = Vec::with_capacity(result.txs.len());
    for r in &result.txs {
        let time = times.iter().find(|(h, _)| *h == r.height.value()).map(|(_, t)| t.clone()).unwrap_or_default();
        let (tx, resp) = tx_response(&from_cometbft(r), time);
        txs.push(tx.unwrap_or_default());
        tx_responses.push(resp);
    }
    #[allow(deprecated)]
    let resp = GetTxsEventResponse { txs, tx_responses, pagination: None, total: u64::from(result.total_count) };
    Ok(resp.encode_to_vec())
}

/// CometBFT's broadcast RPC errors that the SDK turns into a `TxResponse`
/// code (`CheckCometError`): (needle, code, log).
const BROADCAST_ERRORS: &[(&str, u32, &str)] = &[
    ("tx already exists in cache", 19, "tx already in mempool"),
    ("mempool is full", 20, "mempool is full"),
    ("tx too large", 21, "tx too large"),
];

fn broadcast_tx(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: BroadcastTxRequest = decode(data, "BroadcastTxRequest")?;
    if req.tx_bytes.is_empty() {
        return Err(QueryError::invalid_argument("invalid empty tx"));
    }
    let mode = BroadcastMode::try_from(req.mode).unwrap_or(BroadcastMode::Unspecified);
    let sync = match mode {
        BroadcastMode::Sync => true,
        BroadcastMode::Async => false,
        BroadcastMode::Block => {
            return Err(QueryError::invalid_argument(
                "unsupported return type block; supported types: sync, async (BROADCAST_MODE_BLOCK was removed in SDK v0.47)",
            ))
        }
        BroadcastMode::Unspecified => {
            return Err(QueryError::invalid_argument("unsupported return type unspecified; supported types: sync, async"))
        }
    };
    let txhash = paychain_client::tx::tx_hash(&req.tx_bytes);
    let tx_bytes = req.tx_bytes;
    let result = comet(app, "broadcast_tx", move |c| async move {
        if sync {
            c.broadcast_tx_sync(tx_bytes).await.map(|r| (r.code.value(), r.codespace, r.log, r.data.to_vec()))
        } else {
            c.broadcast_tx_async(tx_bytes).await.map(|r| (r.code.value(), r.codespace, r.log, r.data.to_vec()))
        }
    });
    let (code, codespace, raw_log, data) = match result {
        Ok(v) => v,
        Err(e) => {
            let lower = e.message.to_ascii_lowercase();
            match BROADCAST_ERRORS.iter().find(|(needle, _, _)| lower.contains(needle)) {
                Some((_, code, log)) => (*code, "sdk".to_string(), log.to_string(), Vec::new()),
                None => return Err(e),
            }
        }
    };
    let tx_response =
        TxResponse { txhash, code, codespace, raw_log, data: hex::encode_upper(data), ..Default::default() };
    Ok(BroadcastTxResponse { tx_response: Some(tx_response) }.encode_to_vec())
}

// ---------------------------------------------------------------------------
// cosmos.base.tendermint.v1beta1.Service

fn get_node_info(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: tm_svc::GetNodeInfoRequest = decode(data, "GetNodeInfoRequest")?;
    let status = comet(app, "status", |c| async move { c.status().await })?;
    let ni = &status.node_info;
    let default_node_info = tendermint_proto::p2p::DefaultNodeInfo {
        protocol_version: Some(tendermint_proto::p2p::ProtocolVersion {
            p2p: ni.protocol_version.p2p,
            block: ni.protocol_version.block,
            app: ni.protocol_version.app,
        }),
        default_node_id: ni.id.to_string(),
        listen_addr: ni.listen_addr.as_str().to_string(),
        network: ni.network.to_string(),
        version: ni.version.to_string(),
        channels: hex::decode(ni.channels.to_string()).unwrap_or_default(),
        moniker: ni.moniker.to_string(),
        other: Some(tendermint_proto::p2p::DefaultNodeInfoOther {
            tx_index: match ni.other.tx_index {
                tendermint::node::info::TxIndexStatus::On => "on".to_string(),
                tendermint::node::info::TxIndexStatus::Off => "off".to_string(),
            },
            rpc_address: ni.other.rpc_address.clone(),
        }),
    };
    let application_version = tm_svc::VersionInfo {
        name: "paychain".to_string(),
        app_name: "paychaind".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        cosmos_sdk_version: "v0.50-compatible".to_string(),
        // Relayers (Hermes) read the consensus engine's version from the build deps, as a Go
        // chain reports it; ours is the CometBFT binary we run beside the app.
        // The SDK entry is the version whose interfaces (messages, queries, events) we serve;
        // Hermes's health check requires one in its supported range.
        build_deps: vec![
            tm_svc::Module {
                path: "github.com/cometbft/cometbft".to_string(),
                version: format!("v{}", ni.version.to_string().trim_start_matches('v')),
                sum: String::new(),
            },
            tm_svc::Module {
                path: "github.com/cosmos/cosmos-sdk".to_string(),
                version: "v0.50.0".to_string(),
                sum: String::new(),
            },
            // Likewise the IBC interfaces: ibc-go v8's core and ICS-20 (through ibc-rs).
            tm_svc::Module {
                path: "github.com/cosmos/ibc-go/v8".to_string(),
                version: "v8.0.0".to_string(),
                sum: String::new(),
            },
        ],
        ..Default::default()
    };
    Ok(tm_svc::GetNodeInfoResponse {
        default_node_info: Some(default_node_info),
        application_version: Some(application_version),
    }
    .encode_to_vec())
}

fn get_syncing(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: tm_svc::GetSyncingRequest = decode(data, "GetSyncingRequest")?;
    let status = comet(app, "status", |c| async move { c.status().await })?;
    Ok(tm_svc::GetSyncingResponse { syncing: status.sync_info.catching_up }.encode_to_vec())
}

/// The SDK's `sdk_block`: the CometBFT block with a bech32 proposer address.
fn sdk_block(block: &tendermint_proto::types::Block) -> tm_svc::Block {
    let header = block.header.as_ref().map(|h| tm_svc::Header {
        version: h.version,
        chain_id: h.chain_id.clone(),
        height: h.height,
        time: h.time,
        last_block_id: h.last_block_id.clone(),
        last_commit_hash: h.last_commit_hash.clone(),
        data_hash: h.data_hash.clone(),
        validators_hash: h.validators_hash.clone(),
        next_validators_hash: h.next_validators_hash.clone(),
        consensus_hash: h.consensus_hash.clone(),
        app_hash: h.app_hash.clone(),
        last_results_hash: h.last_results_hash.clone(),
        evidence_hash: h.evidence_hash.clone(),
        proposer_address: valcons(&h.proposer_address),
    });
    tm_svc::Block {
        header,
        data: block.data.clone(),
        evidence: block.evidence.clone(),
        last_commit: block.last_commit.clone(),
    }
}

fn valcons(address: &[u8]) -> String {
    match Address::from_bytes(address.to_vec()) {
        Ok(a) => a.to_bech32_with_prefix(VALCONS_PREFIX),
        Err(_) => hex::encode_upper(address),
    }
}

type BlockParts =
    (Option<tendermint_proto::types::BlockId>, Option<tendermint_proto::types::Block>, Option<tm_svc::Block>);

fn block_parts(r: tendermint_rpc::endpoint::block::Response) -> BlockParts {
    let block: tendermint_proto::types::Block = r.block.into();
    let sdk = sdk_block(&block);
    (Some(r.block_id.into()), Some(block), Some(sdk))
}

fn get_latest_block(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: tm_svc::GetLatestBlockRequest = decode(data, "GetLatestBlockRequest")?;
    let r = comet(app, "block", |c| async move { c.latest_block().await })?;
    let (block_id, block, sdk_block) = block_parts(r);
    Ok(tm_svc::GetLatestBlockResponse { block_id, block, sdk_block }.encode_to_vec())
}

/// Latest block height as CometBFT reports it.
fn latest_height(app: &ServedApp) -> Result<i64, QueryError> {
    let status = comet(app, "status", |c| async move { c.status().await })?;
    Ok(status.sync_info.latest_block_height.value() as i64)
}

fn get_block_by_height(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: tm_svc::GetBlockByHeightRequest = decode(data, "GetBlockByHeightRequest")?;
    if req.height <= 0 {
        return Err(QueryError::invalid_argument(format!("invalid height {}: must be positive", req.height)));
    }
    if req.height > latest_height(app)? {
        return Err(QueryError::invalid_argument("requested block height is bigger then the chain length"));
    }
    let h = height_arg(req.height)?;
    let r = comet(app, "block", move |c| async move { c.block(h).await })?;
    let (block_id, block, sdk_block) = block_parts(r);
    Ok(tm_svc::GetBlockByHeightResponse { block_id, block, sdk_block }.encode_to_vec())
}

/// A validator set page: `offset`/`limit` of the page request over the full set.
fn validator_set(
    app: &ServedApp,
    height: Option<i64>,
    page: Option<PageRequest>,
) -> Result<(i64, Vec<tm_svc::Validator>, PageResponse), QueryError> {
    let h = match height {
        Some(h) => h,
        None => latest_height(app)?,
    };
    let height = height_arg(h)?;
    let r = comet(app, "validators", move |c| async move { c.validators(height, Paging::All).await })?;
    let total = r.validators.len() as u64;
    let page = page.unwrap_or_default();
    if !page.key.is_empty() {
        return Err(QueryError::invalid_argument(
            "key-based pagination is not supported for validator sets; use offset",
        ));
    }
    let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let limit =
        if page.limit == 0 { MAX_PAGE_SIZE as usize } else { usize::try_from(page.limit).unwrap_or(usize::MAX) };
    let validators = r
        .validators
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| tm_svc::Validator {
            address: valcons(v.address.as_bytes()),
            pub_key: Some(tendermint_proto::google::protobuf::Any {
                type_url: ED25519_PUBKEY_TYPE_URL.to_string(),
                value: cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key: v.pub_key.to_bytes() }.encode_to_vec(),
            }),
            voting_power: v.power.value() as i64,
            proposer_priority: v.proposer_priority.value(),
        })
        .collect();
    Ok((r.block_height.value() as i64, validators, PageResponse { next_key: Vec::new(), total }))
}

fn get_latest_validator_set(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: tm_svc::GetLatestValidatorSetRequest = decode(data, "GetLatestValidatorSetRequest")?;
    let (block_height, validators, page) = validator_set(app, None, req.pagination)?;
    Ok(tm_svc::GetLatestValidatorSetResponse { block_height, validators, pagination: Some(page) }.encode_to_vec())
}

fn get_validator_set_by_height(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let req: tm_svc::GetValidatorSetByHeightRequest = decode(data, "GetValidatorSetByHeightRequest")?;
    if req.height <= 0 {
        return Err(QueryError::invalid_argument(format!("invalid height {}: must be positive", req.height)));
    }
    if req.height > latest_height(app)? {
        return Err(QueryError::invalid_argument("requested block height is bigger then the chain length"));
    }
    let (block_height, validators, page) = validator_set(app, Some(req.height), req.pagination)?;
    Ok(tm_svc::GetValidatorSetByHeightResponse { block_height, validators, pagination: Some(page) }.encode_to_vec())
}

// ---------------------------------------------------------------------------
// cosmos.consensus.v1.Query/Params (not generated by cosmos-sdk-proto 0.26)

/// `cosmos.consensus.v1.QueryParamsRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryConsensusParamsRequest {}

/// `cosmos.consensus.v1.QueryParamsResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryConsensusParamsResponse {
    #[prost(message, optional, tag = "1")]
    pub params: Option<tendermint_proto::types::ConsensusParams>,
}

fn consensus_params(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: QueryConsensusParamsRequest = decode(data, "QueryParamsRequest")?;
    // At an explicit committed height: without one CometBFT uses the next
    // (uncommitted) height, whose params may not be saved yet right after a commit.
    let h = height_arg(latest_height(app)?.max(1))?;
    let r = comet(app, "consensus_params", move |c| async move { c.consensus_params(h).await })?;
    let params: tendermint_proto::types::ConsensusParams = r.consensus_params.into();
    Ok(QueryConsensusParamsResponse { params: Some(params) }.encode_to_vec())
}

// ---------------------------------------------------------------------------
// cosmos.base.node.v1beta1.Service

fn node_config(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: cosmos_sdk_proto::cosmos::base::node::v1beta1::ConfigRequest = decode(data, "ConfigRequest")?;
    let cfg = app.config();
    Ok(ConfigResponse {
        minimum_gas_price: cfg.minimum_gas_prices.clone(),
        pruning_keep_recent: cfg.state_retention.to_string(),
        pruning_interval: String::new(),
        halt_height: 0,
    }
    .encode_to_vec())
}

fn node_status(app: &ServedApp, data: &[u8], _height: u64) -> Result<Vec<u8>, QueryError> {
    let _: cosmos_sdk_proto::cosmos::base::node::v1beta1::StatusRequest = decode(data, "StatusRequest")?;
    let (height, app_hash) = app.info();
    // The block time and validator hash come from CometBFT's header of that
    // height when it answers; the height and app hash are ours.
    let header = if height > 0 {
        let h = height_arg(height as i64)?;
        comet(app, "header", move |c| async move { c.header(h).await }).ok().map(|r| r.header)
    } else {
        None
    };
    Ok(StatusResponse {
        earliest_store_height: app.store().earliest_version().unwrap_or(0),
        height,
        timestamp: header.as_ref().map(|h| {
            let t: tendermint_proto::google::protobuf::Timestamp = h.time.into();
            t
        }),
        app_hash,
        validator_hash: header.map(|h| h.next_validators_hash.as_bytes().to_vec()).unwrap_or_default(),
    }
    .encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_routes() {
        for p in PATHS {
            assert!(route(p).is_some(), "{p}");
        }
        assert!(route("/cosmos.tx.v1beta1.Service/Nope").is_none());
    }

    #[test]
    #[allow(deprecated)]
    fn event_query_falls_back_to_events() {
        let mut req = GetTxsEventRequest { query: "  ".into(), ..Default::default() };
        assert!(event_query(&req).is_err());
        req.events = vec!["message.sender='a'".into(), "tx.height=5".into()];
        assert_eq!(event_query(&req).unwrap(), "message.sender='a' AND tx.height=5");
        req.query = "tx.height=6".into();
        assert_eq!(event_query(&req).unwrap(), "tx.height=6");
    }
}
