//! ICS-20 queries (`ibc.applications.transfer.v1.Query`), genesis export and invariants.
//!
//! Besides ibc-go v8's DenomTrace(s), ibc-go v9's Denom(s) (a base denom and its hops) are
//! served under the same service, so wallets of either generation resolve `ibc/<HASH>`.

use std::collections::BTreeMap;

use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use ibc_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ibc_proto::ibc::applications::transfer::v1 as pb;
use paychain_bank::BankKeeper;
use paychain_framework::pagination::paginate;
use paychain_framework::query::decode_request;
use paychain_framework::state::KvPair;
use paychain_framework::{GrpcCode, QueryError, SdkError, StateRead};
use prost::Message;

use crate::genesis::TransferGenesis;
use crate::keys::{self, IBC_STORE, TRANSFER_STORE};
use crate::transfer::{self, escrow_address, PORT_ID};
use crate::types::DenomTrace;

const SERVICE: &str = "/ibc.applications.transfer.v1.Query/";
pub const QUERY_PATHS: &[&str] = &[
    "/ibc.applications.transfer.v1.Query/DenomTrace",
    "/ibc.applications.transfer.v1.Query/DenomTraces",
    "/ibc.applications.transfer.v1.Query/Denom",
    "/ibc.applications.transfer.v1.Query/Denoms",
    "/ibc.applications.transfer.v1.Query/Params",
    "/ibc.applications.transfer.v1.Query/DenomHash",
    "/ibc.applications.transfer.v1.Query/EscrowAddress",
    "/ibc.applications.transfer.v1.Query/TotalEscrowForDenom",
];

/// ibc-go v9's `Denom` messages (not in ibc-proto 0.51).
mod v9 {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Hop {
        #[prost(string, tag = "1")]
        pub port_id: String,
        #[prost(string, tag = "2")]
        pub channel_id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Denom {
        #[prost(string, tag = "1")]
        pub base: String,
        #[prost(message, repeated, tag = "3")]
        pub trace: Vec<Hop>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryDenomRequest {
        #[prost(string, tag = "1")]
        pub hash: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryDenomResponse {
        #[prost(message, optional, tag = "1")]
        pub denom: Option<Denom>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryDenomsRequest {
        #[prost(message, optional, tag = "1")]
        pub pagination: Option<cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryDenomsResponse {
        #[prost(message, repeated, tag = "1")]
        pub denoms: Vec<Denom>,
        #[prost(message, optional, tag = "2")]
        pub pagination: Option<cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse>,
    }
}

fn internal(e: SdkError) -> QueryError {
    QueryError::new(GrpcCode::Internal, e.log)
}

/// Our PageRequest type from ibc-proto's (the same message).
fn page(p: Option<&ibc_proto::cosmos::base::query::v1beta1::PageRequest>) -> Option<PageRequest> {
    p.map(|p| PageRequest::decode(p.encode_to_vec().as_slice()).unwrap_or_default())
}

fn ibc_page(p: PageResponse) -> ibc_proto::cosmos::base::query::v1beta1::PageResponse {
    ibc_proto::cosmos::base::query::v1beta1::PageResponse { next_key: p.next_key, total: p.total }
}

fn trace_of(value: &[u8]) -> Result<DenomTrace, QueryError> {
    let full = std::str::from_utf8(value).map_err(|e| QueryError::new(GrpcCode::Internal, e.to_string()))?;
    DenomTrace::parse(full).map_err(|e| QueryError::new(GrpcCode::Internal, e))
}

fn to_v9(t: &DenomTrace) -> v9::Denom {
    let parts: Vec<&str> = t.path.split('/').filter(|s| !s.is_empty()).collect();
    let trace = parts
        .chunks(2)
        .map(|c| v9::Hop { port_id: c[0].to_string(), channel_id: c.get(1).unwrap_or(&"").to_string() })
        .collect();
    v9::Denom { base: t.base_denom.clone(), trace }
}

/// A hash argument: hex, with or without the `ibc/` prefix.
fn find_trace(state: &dyn StateRead, hash: &str) -> Result<DenomTrace, QueryError> {
    let hex_hash = hash.strip_prefix(transfer::VOUCHER_PREFIX).unwrap_or(hash);
    if hex::decode(hex_hash).map(|b| b.len()) != Ok(32) {
        return Err(QueryError::invalid_argument(format!("invalid denom trace hash: {hash}")));
    }
    transfer::denom_trace(state, hex_hash)
        .map_err(internal)?
        .ok_or_else(|| QueryError::not_found(format!("denomination trace not found: {hash}")))
}

pub fn query(state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    let method = path.strip_prefix(SERVICE).unwrap_or(path);
    Ok(match method {
        "DenomTrace" => {
            let req: pb::QueryDenomTraceRequest = decode_request(request)?;
            let t = find_trace(state, &req.hash)?;
            pb::QueryDenomTraceResponse { denom_trace: Some(pb::DenomTrace { path: t.path, base_denom: t.base_denom }) }
                .encode_to_vec()
        }
        "DenomTraces" => {
            let req: pb::QueryDenomTracesRequest = decode_request(request)?;
            let (traces, p) = paginate(
                state,
                TRANSFER_STORE,
                keys::denom_trace_prefix(),
                page(req.pagination.as_ref()).as_ref(),
                |_, v| {
                    let t = trace_of(v)?;
                    Ok(Some(pb::DenomTrace { path: t.path, base_denom: t.base_denom }))
                },
            )?;
            pb::QueryDenomTracesResponse { denom_traces: traces, pagination: Some(ibc_page(p)) }.encode_to_vec()
        }
        "Denom" => {
            let req: v9::QueryDenomRequest = decode_request(request)?;
            let t = find_trace(state, &req.hash)?;
            v9::QueryDenomResponse { denom: Some(to_v9(&t)) }.encode_to_vec()
        }
        "Denoms" => {
            let req: v9::QueryDenomsRequest = decode_request(request)?;
            let (denoms, p) =
                paginate(state, TRANSFER_STORE, keys::denom_trace_prefix(), req.pagination.as_ref(), |_, v| {
                    Ok(Some(to_v9(&trace_of(v)?)))
                })?;
            v9::QueryDenomsResponse { denoms, pagination: Some(p) }.encode_to_vec()
        }
        "Params" => {
            let p = transfer::read_params(state).map_err(internal)?;
            pb::QueryParamsResponse {
                params: Some(pb::Params { send_enabled: p.send_enabled, receive_enabled: p.receive_enabled }),
            }
            .encode_to_vec()
        }
        "DenomHash" => {
            let req: pb::QueryDenomHashRequest = decode_request(request)?;
            let t = DenomTrace::parse(&req.trace).map_err(QueryError::invalid_argument)?;
            if t.path.is_empty() {
                return Err(QueryError::invalid_argument(format!("{:?} has no trace: it is not a voucher", req.trace)));
            }
            let full = t.full_path();
            if transfer::denom_trace(state, &hex::encode(transfer::denom_hash(&full))).map_err(internal)?.is_none() {
                return Err(QueryError::not_found(format!("denomination trace not found: {full}")));
            }
            pb::QueryDenomHashResponse { hash: hex::encode_upper(transfer::denom_hash(&full)) }.encode_to_vec()
        }
        "EscrowAddress" => {
            let req: pb::QueryEscrowAddressRequest = decode_request(request)?;
            let port: ibc::core::host::types::identifiers::PortId =
                req.port_id.parse().map_err(|e| QueryError::invalid_argument(format!("port id: {e}")))?;
            let chan: ibc::core::host::types::identifiers::ChannelId =
                req.channel_id.parse().map_err(|e| QueryError::invalid_argument(format!("channel id: {e}")))?;
            pb::QueryEscrowAddressResponse { escrow_address: escrow_address(port.as_str(), chan.as_str()).to_string() }
                .encode_to_vec()
        }
        "TotalEscrowForDenom" => {
            let req: pb::QueryTotalEscrowForDenomRequest = decode_request(request)?;
            paychain_framework::coins::validate_denom(&req.denom).map_err(|e| QueryError::invalid_argument(e.log))?;
            let amount = transfer::total_escrow(state, &req.denom).map_err(internal)?;
            pb::QueryTotalEscrowForDenomResponse {
                amount: Some(ProtoCoin { denom: req.denom, amount: amount.to_string() }),
            }
            .encode_to_vec()
        }
        _ => return Err(QueryError::unimplemented(format!("unknown query path {path}"))),
    })
}

fn all_under(state: &dyn StateRead, prefix: &[u8]) -> Result<Vec<KvPair>, SdkError> {
    state.prefix(TRANSFER_STORE, prefix, false)?.collect()
}

pub fn export(state: &dyn StateRead) -> Result<TransferGenesis, SdkError> {
    let params = transfer::read_params(state)?;
    let mut denom_traces = Vec::new();
    for (_, v) in all_under(state, keys::denom_trace_prefix())? {
        let full = String::from_utf8(v).map_err(|e| SdkError::fatal(format!("transfer: corrupt trace: {e}")))?;
        denom_traces.push(DenomTrace::parse(&full).map_err(SdkError::fatal)?);
    }
    let mut total_escrowed = Vec::new();
    for (k, v) in all_under(state, keys::total_escrow_prefix())? {
        let denom = String::from_utf8_lossy(&k[keys::total_escrow_prefix().len()..]).into_owned();
        let amount = std::str::from_utf8(&v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| SdkError::fatal(format!("transfer: corrupt total escrow of {denom}")))?;
        total_escrowed.push((denom, amount));
    }
    Ok(TransferGenesis { params, denom_traces, total_escrowed })
}

/// The escrow accounts of all transfer channels hold exactly the recorded total escrow of
/// every denom.
pub fn check_invariants(bank: &BankKeeper, state: &dyn StateRead) -> Result<(), String> {
    let prefix = format!("channelEnds/ports/{PORT_ID}/channels/");
    let mut held: BTreeMap<String, u128> = BTreeMap::new();
    let channels: Vec<_> = state.prefix(IBC_STORE, prefix.as_bytes(), false).map_err(|e| e.log)?.collect();
    for entry in channels {
        let (k, _) = entry.map_err(|e| e.log)?;
        let chan = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        for c in bank.all_balances(state, &escrow_address(PORT_ID, &chan)).map_err(|e| e.log)?.iter() {
            let sum = held.entry(c.denom.clone()).or_default();
            *sum = sum.checked_add(c.amount).ok_or("escrow balances overflow")?;
        }
    }
    let recorded: BTreeMap<String, u128> = export(state).map_err(|e| e.log)?.total_escrowed.into_iter().collect();
    if held != recorded {
        return Err(format!("escrow accounts hold {held:?} but the recorded total escrow is {recorded:?}"));
    }
    Ok(())
}
