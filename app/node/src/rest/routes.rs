//! The LCD path table: (method, path pattern) → gRPC method and its request
//! and response messages. Query parameters and path parameters fill the
//! request message's fields by proto name (dotted for nested fields, e.g.
//! `pagination.limit`), as grpc-gateway does.

use axum::http::Method;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::base::node::v1beta1 as node;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as tm;
use cosmos_sdk_proto::cosmos::staking::v1beta1 as staking;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as tx;
use ibc_proto::ibc::applications::transfer::v1 as transfer;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::error::RestError;
use super::json;
use super::request::{percent_decode, request_json, Handler, Input, Route};
use crate::query::query_grpc;
use crate::served::ServedApp;

fn call<Req, Resp>(app: &ServedApp, grpc: &'static str, input: Input, height: u64) -> Result<Value, RestError>
where
    Req: Message + DeserializeOwned + 'static,
    Resp: Message + Default + Serialize + DeserializeOwned + 'static,
{
    let kind = json::kind_for::<Req>();
    let value = request_json(&kind, input)?;
    let req: Req = json::from_json(value).map_err(|e| RestError::bad_request(format!("invalid request: {e}")))?;
    let out = query_grpc(app, grpc, &req.encode_to_vec(), height)?;
    let mut value = json::proto_to_json::<Resp>(&out).map_err(RestError::internal)?;
    if grpc.starts_with("/cosmos.base.tendermint.v1beta1.Service/") {
        tendermint_fixups(&mut value, None);
    }
    Ok(value)
}

/// Fields tendermint-proto's serde writes as hex that proto JSON writes as base64.
const HEX_BYTES: &[&str] = &[
    "hash",
    "app_hash",
    "consensus_hash",
    "data_hash",
    "evidence_hash",
    "last_commit_hash",
    "last_results_hash",
    "next_validators_hash",
    "validators_hash",
    "proposer_address",
    "validator_address",
];

/// CometBFT types inside the tendermint service's responses carry
/// tendermint-proto's own serde shape (CometBFT RPC JSON); reshape them to
/// proto JSON as the gateway writes it: base64 hashes, `part_set_header`,
/// enum names, uint64 as strings, empty lists instead of null.
fn tendermint_fixups(v: &mut Value, key: Option<&str>) {
    use base64::Engine as _;
    match v {
        Value::Object(map) => {
            if let Some(parts) = map.remove("parts") {
                map.insert("part_set_header".into(), parts);
            }
            for (k, child) in map.iter_mut() {
                tendermint_fixups(child, Some(k.as_str()));
            }
        }
        Value::Array(items) => {
            if key == Some("channels") && items.iter().all(|i| i.is_u64()) {
                let bytes: Vec<u8> = items.iter().filter_map(|i| i.as_u64()).map(|b| b as u8).collect();
                *v = Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
                return;
            }
            for item in items.iter_mut() {
                tendermint_fixups(item, None);
            }
        }
        Value::String(s)
            if key.is_some_and(|k| HEX_BYTES.contains(&k))
                && !s.is_empty()
                && s.len() % 2 == 0
                && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            // Even-length hex always decodes.
            let bytes = hex::decode(&*s).unwrap_or_default();
            *s = base64::engine::general_purpose::STANDARD.encode(bytes);
        }
        Value::Number(n) => match key {
            Some("block_id_flag") => {
                let name = match n.as_u64() {
                    Some(1) => "BLOCK_ID_FLAG_ABSENT",
                    Some(2) => "BLOCK_ID_FLAG_COMMIT",
                    Some(3) => "BLOCK_ID_FLAG_NIL",
                    _ => "BLOCK_ID_FLAG_UNKNOWN",
                };
                *v = Value::String(name.into());
            }
            Some("p2p" | "block" | "app") => *v = Value::String(n.to_string()),
            _ => {}
        },
        Value::Null if matches!(key, Some("txs" | "evidence" | "signatures")) => *v = Value::Array(Vec::new()),
        _ => {}
    }
}

macro_rules! routes {
    ($($method:ident $pattern:literal => $grpc:literal, $req:ty, $resp:ty;)*) => {
        vec![$(Route { method: Method::$method, pattern: $pattern, grpc: $grpc, run: Handler::Builtin(call::<$req, $resp>) },)*]
    };
}

pub fn table() -> &'static [Route] {
    static TABLE: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = routes! {
            GET "/cosmos/auth/v1beta1/accounts/{address}" => "/cosmos.auth.v1beta1.Query/Account", auth::QueryAccountRequest, auth::QueryAccountResponse;
            GET "/cosmos/auth/v1beta1/accounts" => "/cosmos.auth.v1beta1.Query/Accounts", auth::QueryAccountsRequest, auth::QueryAccountsResponse;
            GET "/cosmos/auth/v1beta1/params" => "/cosmos.auth.v1beta1.Query/Params", auth::QueryParamsRequest, auth::QueryParamsResponse;
            GET "/cosmos/auth/v1beta1/module_accounts" => "/cosmos.auth.v1beta1.Query/ModuleAccounts", auth::QueryModuleAccountsRequest, auth::QueryModuleAccountsResponse;
            GET "/cosmos/auth/v1beta1/module_accounts/{name}" => "/cosmos.auth.v1beta1.Query/ModuleAccountByName", auth::QueryModuleAccountByNameRequest, auth::QueryModuleAccountByNameResponse;
            GET "/cosmos/auth/v1beta1/bech32" => "/cosmos.auth.v1beta1.Query/Bech32Prefix", auth::Bech32PrefixRequest, auth::Bech32PrefixResponse;
            GET "/cosmos/auth/v1beta1/account_info/{address}" => "/cosmos.auth.v1beta1.Query/AccountInfo", auth::QueryAccountInfoRequest, auth::QueryAccountInfoResponse;
            GET "/cosmos/bank/v1beta1/balances/{address}" => "/cosmos.bank.v1beta1.Query/AllBalances", bank::QueryAllBalancesRequest, bank::QueryAllBalancesResponse;
            GET "/cosmos/bank/v1beta1/balances/{address}/by_denom" => "/cosmos.bank.v1beta1.Query/Balance", bank::QueryBalanceRequest, bank::QueryBalanceResponse;
            GET "/cosmos/bank/v1beta1/spendable_balances/{address}" => "/cosmos.bank.v1beta1.Query/SpendableBalances", bank::QuerySpendableBalancesRequest, bank::QuerySpendableBalancesResponse;
            GET "/cosmos/bank/v1beta1/spendable_balances/{address}/by_denom" => "/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom", bank::QuerySpendableBalanceByDenomRequest, bank::QuerySpendableBalanceByDenomResponse;
            GET "/cosmos/bank/v1beta1/supply" => "/cosmos.bank.v1beta1.Query/TotalSupply", bank::QueryTotalSupplyRequest, bank::QueryTotalSupplyResponse;
            GET "/cosmos/bank/v1beta1/supply/by_denom" => "/cosmos.bank.v1beta1.Query/SupplyOf", bank::QuerySupplyOfRequest, bank::QuerySupplyOfResponse;
            GET "/cosmos/bank/v1beta1/params" => "/cosmos.bank.v1beta1.Query/Params", bank::QueryParamsRequest, bank::QueryParamsResponse;
            GET "/cosmos/bank/v1beta1/denoms_metadata" => "/cosmos.bank.v1beta1.Query/DenomsMetadata", bank::QueryDenomsMetadataRequest, bank::QueryDenomsMetadataResponse;
            GET "/cosmos/bank/v1beta1/denoms_metadata_by_query_string" => "/cosmos.bank.v1beta1.Query/DenomMetadataByQueryString", bank::QueryDenomMetadataByQueryStringRequest, bank::QueryDenomMetadataByQueryStringResponse;
            GET "/cosmos/bank/v1beta1/denoms_metadata/{denom*}" => "/cosmos.bank.v1beta1.Query/DenomMetadata", bank::QueryDenomMetadataRequest, bank::QueryDenomMetadataResponse;
            GET "/cosmos/bank/v1beta1/denom_owners_by_query" => "/cosmos.bank.v1beta1.Query/DenomOwnersByQuery", bank::QueryDenomOwnersByQueryRequest, bank::QueryDenomOwnersByQueryResponse;
            GET "/cosmos/bank/v1beta1/denom_owners/{denom*}" => "/cosmos.bank.v1beta1.Query/DenomOwners", bank::QueryDenomOwnersRequest, bank::QueryDenomOwnersResponse;
            GET "/cosmos/bank/v1beta1/send_enabled" => "/cosmos.bank.v1beta1.Query/SendEnabled", bank::QuerySendEnabledRequest, bank::QuerySendEnabledResponse;
            POST "/cosmos/tx/v1beta1/simulate" => "/cosmos.tx.v1beta1.Service/Simulate", tx::SimulateRequest, tx::SimulateResponse;
            POST "/cosmos/tx/v1beta1/txs" => "/cosmos.tx.v1beta1.Service/BroadcastTx", tx::BroadcastTxRequest, tx::BroadcastTxResponse;
            GET "/cosmos/tx/v1beta1/txs" => "/cosmos.tx.v1beta1.Service/GetTxsEvent", tx::GetTxsEventRequest, tx::GetTxsEventResponse;
            GET "/cosmos/tx/v1beta1/txs/{hash}" => "/cosmos.tx.v1beta1.Service/GetTx", tx::GetTxRequest, tx::GetTxResponse;
            GET "/cosmos/base/tendermint/v1beta1/node_info" => "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo", tm::GetNodeInfoRequest, tm::GetNodeInfoResponse;
            GET "/cosmos/base/tendermint/v1beta1/syncing" => "/cosmos.base.tendermint.v1beta1.Service/GetSyncing", tm::GetSyncingRequest, tm::GetSyncingResponse;
            GET "/cosmos/base/tendermint/v1beta1/blocks/latest" => "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock", tm::GetLatestBlockRequest, tm::GetLatestBlockResponse;
            GET "/cosmos/base/tendermint/v1beta1/blocks/{height}" => "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight", tm::GetBlockByHeightRequest, tm::GetBlockByHeightResponse;
            GET "/cosmos/base/node/v1beta1/config" => "/cosmos.base.node.v1beta1.Service/Config", node::ConfigRequest, node::ConfigResponse;
            GET "/cosmos/base/node/v1beta1/status" => "/cosmos.base.node.v1beta1.Service/Status", node::StatusRequest, node::StatusResponse;
            GET "/cosmos/staking/v1beta1/params" => "/cosmos.staking.v1beta1.Query/Params", staking::QueryParamsRequest, staking::QueryParamsResponse;
            GET "/ibc/apps/transfer/v1/params" => "/ibc.applications.transfer.v1.Query/Params", transfer::QueryParamsRequest, transfer::QueryParamsResponse;
            GET "/ibc/apps/transfer/v1/denom_traces" => "/ibc.applications.transfer.v1.Query/DenomTraces", transfer::QueryDenomTracesRequest, transfer::QueryDenomTracesResponse;
            GET "/ibc/apps/transfer/v1/denom_traces/{hash*}" => "/ibc.applications.transfer.v1.Query/DenomTrace", transfer::QueryDenomTraceRequest, transfer::QueryDenomTraceResponse;
            GET "/ibc/apps/transfer/v1/denom_hashes/{trace*}" => "/ibc.applications.transfer.v1.Query/DenomHash", transfer::QueryDenomHashRequest, transfer::QueryDenomHashResponse;
            GET "/ibc/apps/transfer/v1/channels/{channel_id}/ports/{port_id}/escrow_address" => "/ibc.applications.transfer.v1.Query/EscrowAddress", transfer::QueryEscrowAddressRequest, transfer::QueryEscrowAddressResponse;
            GET "/ibc/apps/transfer/v1/denoms/{denom*}/total_escrow" => "/ibc.applications.transfer.v1.Query/TotalEscrowForDenom", transfer::QueryTotalEscrowForDenomRequest, transfer::QueryTotalEscrowForDenomResponse;
        };
        // Routes the modules serve themselves (escrow's).
        table.extend(paychain_app::wire_modules().modules.iter().flat_map(|m| m.rest_routes()).map(Route::from_module));
        table.push(Route {
            method: Method::GET,
            pattern: "/cosmos/consensus/v1/params",
            grpc: "/cosmos.consensus.v1.Query/Params",
            run: Handler::Builtin(consensus_params),
        });
        table
    })
}

/// Consensus params as the gateway writes them (tendermint-proto's own serde
/// shape differs: numbers, not strings).
fn consensus_params(app: &ServedApp, grpc: &'static str, _input: Input, height: u64) -> Result<Value, RestError> {
    let out = query_grpc(app, grpc, &[], height)?;
    let resp = crate::services::QueryConsensusParamsResponse::decode(out.as_slice())
        .map_err(|e| RestError::internal(format!("decoding consensus params: {e}")))?;
    let Some(p) = resp.params else {
        return Ok(serde_json::json!({ "params": null }));
    };
    let block =
        p.block.map(|b| serde_json::json!({"max_bytes": b.max_bytes.to_string(), "max_gas": b.max_gas.to_string()}));
    let evidence = p.evidence.map(|e| {
        let d = e.max_age_duration.unwrap_or_default();
        let duration = if d.nanos == 0 {
            format!("{}s", d.seconds)
        } else {
            format!("{}.{:09}s", d.seconds, d.nanos).trim_end_matches('0').to_string()
        };
        serde_json::json!({
            "max_age_num_blocks": e.max_age_num_blocks.to_string(),
            "max_age_duration": duration,
            "max_bytes": e.max_bytes.to_string(),
        })
    });
    let validator = p.validator.map(|v| serde_json::json!({ "pub_key_types": v.pub_key_types }));
    let version = p.version.map(|v| serde_json::json!({ "app": v.app.to_string() }));
    let abci = p
        .abci
        .map(|a| serde_json::json!({ "vote_extensions_enable_height": a.vote_extensions_enable_height.to_string() }));
    Ok(serde_json::json!({
        "params": {"block": block, "evidence": evidence, "validator": validator, "version": version, "abci": abci}
    }))
}

/// The route for `method` `path` and its path parameters.
pub fn find(method: &Method, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    'routes: for route in table() {
        if route.method != *method {
            continue;
        }
        let pat: Vec<&str> = route.pattern.split('/').collect();
        let mut params = Vec::new();
        for (i, p) in pat.iter().enumerate() {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix("*}")) {
                // Fixed segments after it (grpc-gateway's `{denom=**}/total_escrow`) end the capture.
                let fixed_tail = &pat[i + 1..];
                if segs.len() < i + 1 + fixed_tail.len() {
                    continue 'routes;
                }
                let end = segs.len() - fixed_tail.len();
                if segs[end..] != *fixed_tail {
                    continue 'routes;
                }
                let rest = segs[i..end].join("/");
                if rest.is_empty() {
                    continue 'routes;
                }
                params.push((name.to_string(), percent_decode(&rest)));
                return Some((route, params));
            }
            let Some(seg) = segs.get(i) else { continue 'routes };
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                if seg.is_empty() {
                    continue 'routes;
                }
                params.push((name.to_string(), percent_decode(seg)));
            } else if p != seg {
                continue 'routes;
            }
        }
        if pat.len() == segs.len() {
            return Some((route, params));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_path() {
        let find = |p: &str| find(&Method::GET, p).map(|(r, params)| (r.grpc, params));
        let (grpc, params) = find("/paychain/escrow/v1/escrows/7").unwrap();
        assert_eq!((grpc, params), (paychain_escrow::query::ESCROW, vec![("id".to_string(), "7".to_string())]));
        let (grpc, params) = find("/paychain/escrow/v1/escrows/by_arbiter/pay1x").unwrap();
        assert_eq!(
            (grpc, params),
            (paychain_escrow::query::ESCROWS_BY_ARBITER, vec![("arbiter".to_string(), "pay1x".to_string())])
        );
        assert_eq!(find("/paychain/escrow/v1/params").unwrap().0, paychain_escrow::query::PARAMS);
        assert!(find("/paychain/escrow/v1/escrows/by_sender/a/b").is_none());
    }

    #[test]
    fn a_rest_capture_may_be_followed_by_fixed_segments() {
        let find = |p: &str| find(&Method::GET, p).map(|(r, params)| (r.grpc, params));
        let total = "/ibc.applications.transfer.v1.Query/TotalEscrowForDenom";
        let (grpc, params) = find("/ibc/apps/transfer/v1/denoms/upay/total_escrow").unwrap();
        assert_eq!((grpc, params), (total, vec![("denom".to_string(), "upay".to_string())]));
        // A voucher denom spans segments, as grpc-gateway's `{denom=**}` does.
        let (_, params) = find("/ibc/apps/transfer/v1/denoms/ibc/ABC123/total_escrow").unwrap();
        assert_eq!(params, vec![("denom".to_string(), "ibc/ABC123".to_string())]);
        assert!(find("/ibc/apps/transfer/v1/denoms/total_escrow").is_none(), "an empty capture");
        assert!(find("/ibc/apps/transfer/v1/denoms/upay").is_none(), "the fixed tail is required");
        assert!(find("/ibc/apps/transfer/v1/total_escrow/upay").is_none(), "not ibc-go's path");
        // A capture at the end still takes the rest of the path.
        let (_, params) = find("/ibc/apps/transfer/v1/denom_traces/ibc/ABC123").unwrap();
        assert_eq!(params, vec![("hash".to_string(), "ibc/ABC123".to_string())]);
    }
}
