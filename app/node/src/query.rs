//! ABCI `Query`: gRPC method paths with protobuf bodies (routed to modules or
//! to app services such as Simulate) and `store/<substore>/key` with ICS-23
//! proofs. Queries read committed versions only, so they never wait for the
//! block being executed.

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use paychain_framework::error::GrpcCode;
use paychain_framework::{sdk, QueryError, SdkError};
use prost::Message;
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};

use crate::served::ServedApp;
use paychain_app::app::StoreView;

pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
/// Proof op type of both levels (substore tree, then main tree).
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

/// How the SDK maps a gRPC status into an ABCI query error (`gRPCErrorToSDKError`).
fn grpc_to_sdk(err: &QueryError) -> SdkError {
    let log = err.abci_log();
    match err.code {
        GrpcCode::NotFound => sdk::key_not_found(log),
        GrpcCode::InvalidArgument => sdk::invalid_request(log),
        _ => sdk::unknown_request(log),
    }
}

fn error_response(err: SdkError, height: u64) -> ResponseQuery {
    ResponseQuery {
        code: err.code,
        log: err.log,
        codespace: err.codespace.into_owned(),
        height: height as i64,
        ..Default::default()
    }
}

/// Resolves the requested height: 0 = latest; the future and pruned heights are errors.
fn resolve_height(app: &ServedApp, requested: i64) -> Result<u64, SdkError> {
    let latest = app.store().latest_version().unwrap_or(0);
    if requested < 0 {
        return Err(sdk::invalid_request(format!(
            "cannot query with height < 0; please provide a valid height: {requested}"
        )));
    }
    let requested = requested as u64;
    if requested == 0 {
        return Ok(latest);
    }
    if requested > latest {
        return Err(sdk::invalid_height(format!(
            "cannot query with height in the future; please provide a valid height: latest is {latest}, got {requested}"
        )));
    }
    if let Some(earliest) = app.store().earliest_version() {
        if requested < earliest {
            return Err(sdk::invalid_request(format!(
                "failed to load state at height {requested}; version does not exist (earliest kept: {earliest})"
            )));
        }
    }
    Ok(requested)
}

pub fn handle_abci_query(app: &ServedApp, req: &RequestQuery) -> ResponseQuery {
    let height = match resolve_height(app, req.height) {
        Ok(h) => h,
        Err(e) => return error_response(e, 0),
    };
    let path = req.path.as_str();
    if let Some(rest) = path.strip_prefix("store/").or_else(|| path.strip_prefix("/store/")) {
        return store_query(app, rest, &req.data, height, req.prove);
    }
    match query_grpc(app, path, &req.data, height) {
        Ok(value) => ResponseQuery { code: 0, value: value.into(), height: height as i64, ..Default::default() },
        Err(e) => error_response(grpc_to_sdk(&e), height),
    }
}

/// Answers a gRPC method path at `height` (0 = latest; used by ABCI queries and the gRPC/REST servers).
pub fn query_grpc(app: &ServedApp, path: &str, data: &[u8], height: u64) -> Result<Vec<u8>, QueryError> {
    if path == SIMULATE_PATH {
        return simulate(app, data);
    }
    if let Some(service) = crate::services::route(path) {
        return service(app, data, height);
    }
    let Some(module) = app.modules().route_query(path) else {
        return Err(QueryError::unimplemented(format!("unknown query path {path}")));
    };
    let version = if height == 0 { app.store().latest_version() } else { Some(height) };
    let view = StoreView::new(app.store(), version);
    app.modules().get(module).query(&view, path, data)
}

fn store_query(app: &ServedApp, rest: &str, key: &[u8], height: u64, prove: bool) -> ResponseQuery {
    let Some(substore) = rest.strip_suffix("/key") else {
        return error_response(sdk::unknown_request(format!("unsupported store query: store/{rest}")), height);
    };
    if !app.modules().store_keys().iter().any(|k| k == substore) {
        return error_response(sdk::unknown_request(format!("no such substore: {substore}")), height);
    }
    if height == 0 {
        return error_response(sdk::invalid_request("no committed state yet"), 0);
    }
    let result = if prove {
        app.store().get_with_proof(substore, key, height).map(|(value, proofs)| {
            let ops = vec![
                ProofOp { r#type: PROOF_OP_TYPE.into(), key: key.to_vec(), data: proofs[0].encode_to_vec() },
                ProofOp {
                    r#type: PROOF_OP_TYPE.into(),
                    key: substore.as_bytes().to_vec(),
                    data: proofs[1].encode_to_vec(),
                },
            ];
            (value, Some(ProofOps { ops }))
        })
    } else {
        app.store().get(substore, key, height).map(|v| (v, None))
    };
    match result {
        Ok((value, proof_ops)) => ResponseQuery {
            code: 0,
            key: key.to_vec().into(),
            value: value.unwrap_or_default().into(),
            proof_ops,
            height: height as i64,
            ..Default::default()
        },
        Err(e) => error_response(sdk::invalid_request(format!("store query failed: {e}")), height),
    }
}

/// cosmpy still sends the tx in SimulateRequest's deprecated `tx` field.
#[allow(deprecated)]
fn deprecated_tx_field(req: &SimulateRequest) -> Option<cosmos_sdk_proto::cosmos::tx::v1beta1::Tx> {
    req.tx.clone()
}

/// `cosmos.tx.v1beta1.Service/Simulate`: runs the tx without signature checks
/// or gas limit against the mempool state and reports gas and events.
fn simulate(app: &ServedApp, data: &[u8]) -> Result<Vec<u8>, QueryError> {
    let req = SimulateRequest::decode(data)
        .map_err(|e| QueryError::invalid_argument(format!("invalid SimulateRequest: {e}")))?;
    let tx_bytes = if !req.tx_bytes.is_empty() {
        req.tx_bytes
    } else if let Some(tx) = deprecated_tx_field(&req) {
        // The deprecated `tx` field (cosmpy): re-encode as TxRaw.
        TxRaw {
            body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
            auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
            signatures: tx.signatures,
        }
        .encode_to_vec()
    } else {
        return Err(QueryError::invalid_argument("empty txBytes is not allowed"));
    };
    let outcome = app.simulate(&tx_bytes);
    match outcome.result {
        Ok(_) => {
            let events = crate::events::to_abci_events(outcome.events, &[])
                .into_iter()
                .map(|e| tendermint_proto::abci::Event {
                    r#type: e.r#type,
                    attributes: e
                        .attributes
                        .into_iter()
                        .map(|a| tendermint_proto::abci::EventAttribute { key: a.key, value: a.value, index: a.index })
                        .collect(),
                })
                .collect();
            Ok(SimulateResponse {
                gas_info: Some(GasInfo { gas_wanted: outcome.gas_wanted, gas_used: outcome.gas_used }),
                result: Some(AbciResult { events, msg_responses: outcome.msg_responses, ..Default::default() }),
            }
            .encode_to_vec())
        }
        // Bytes that are not a tx are the caller's error (REST answers 400).
        Err(e) if e.is_tx_decode() => Err(QueryError::invalid_argument(format!("invalid tx: {}", e.log))),
        Err(e) => Err(QueryError::new(
            GrpcCode::Unknown,
            format!("{} With gas wanted: '{}' and gas used: '{}' ", e.log, outcome.gas_wanted, outcome.gas_used),
        )),
    }
}
