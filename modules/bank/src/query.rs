//! `cosmos.bank.v1beta1.Query` over ABCI / gRPC: protobuf request bytes in,
//! protobuf response bytes out, errors with the gRPC codes the SDK uses.

use cosmos_sdk_proto::cosmos::bank::v1beta1 as pb;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use paychain_framework::coins::{parse_amount, validate_denom};
use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{Address, QueryError, StateRead};
use prost::Message;

use crate::keeper::BankKeeper;
use crate::keys::{self, STORE_KEY};

macro_rules! paths {
    ($($name:ident = $method:literal;)*) => {
        $(pub const $name: &str = concat!("/cosmos.bank.v1beta1.Query/", $method);)*
        pub const QUERY_PATHS: &[&str] = &[$($name),*];
    };
}

paths! {
    BALANCE = "Balance";
    ALL_BALANCES = "AllBalances";
    SPENDABLE_BALANCES = "SpendableBalances";
    SPENDABLE_BALANCE_BY_DENOM = "SpendableBalanceByDenom";
    TOTAL_SUPPLY = "TotalSupply";
    SUPPLY_OF = "SupplyOf";
    PARAMS = "Params";
    DENOM_METADATA = "DenomMetadata";
    DENOM_METADATA_BY_QUERY_STRING = "DenomMetadataByQueryString";
    DENOMS_METADATA = "DenomsMetadata";
    DENOM_OWNERS = "DenomOwners";
    DENOM_OWNERS_BY_QUERY = "DenomOwnersByQuery";
    SEND_ENABLED = "SendEnabled";
}

fn check_denom(denom: &str) -> Result<(), QueryError> {
    validate_denom(denom).map_err(|_| QueryError::invalid_argument(format!("invalid denom: {denom}")))
}

fn corrupt(e: impl std::fmt::Display) -> QueryError {
    QueryError::internal(format!("bank: corrupt store entry: {e}"))
}

fn text(bytes: &[u8]) -> Result<String, QueryError> {
    String::from_utf8(bytes.to_vec()).map_err(corrupt)
}

fn amount(bytes: &[u8]) -> Result<u128, QueryError> {
    parse_amount(std::str::from_utf8(bytes).map_err(corrupt)?).map_err(|e| corrupt(e.log))
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.to_string(), amount: amount.to_string() }
}

/// One address's balances, one page (`resolve_denom` is not supported and ignored).
fn balances_page(
    state: &dyn StateRead,
    address: &str,
    page: Option<&PageRequest>,
) -> Result<(Vec<ProtoCoin>, cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse), QueryError> {
    let addr = parse_address(address)?;
    paginate(state, STORE_KEY, &keys::balances_prefix(&addr), page, |denom, value| {
        Ok(Some(ProtoCoin { denom: text(denom)?, amount: amount(value)?.to_string() }))
    })
}

fn denom_owners(
    keeper: &BankKeeper,
    state: &dyn StateRead,
    denom: &str,
    page: Option<&PageRequest>,
) -> Result<(Vec<pb::DenomOwner>, cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse), QueryError> {
    check_denom(denom)?;
    paginate(state, STORE_KEY, &keys::denom_owners_prefix(denom), page, |addr, _| {
        let addr = Address::from_bytes(addr.to_vec()).map_err(|e| corrupt(e.log))?;
        let balance = keeper.balance(state, &addr, denom)?;
        Ok(Some(pb::DenomOwner { address: addr.to_string(), balance: Some(coin(denom, balance)) }))
    })
}

pub fn query(keeper: &BankKeeper, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    let response = match path {
        BALANCE => {
            let req: pb::QueryBalanceRequest = decode(request)?;
            check_denom(&req.denom)?;
            let addr = parse_address(&req.address)?;
            // Always a coin, "0" when empty: CosmJS relies on it.
            let amount = keeper.balance(state, &addr, &req.denom)?;
            pb::QueryBalanceResponse { balance: Some(coin(&req.denom, amount)) }.encode_to_vec()
        }
        SPENDABLE_BALANCE_BY_DENOM => {
            let req: pb::QuerySpendableBalanceByDenomRequest = decode(request)?;
            check_denom(&req.denom)?;
            let addr = parse_address(&req.address)?;
            let amount = keeper.balance(state, &addr, &req.denom)?;
            pb::QuerySpendableBalanceByDenomResponse { balance: Some(coin(&req.denom, amount)) }.encode_to_vec()
        }
        ALL_BALANCES => {
            let req: pb::QueryAllBalancesRequest = decode(request)?;
            let (balances, page) = balances_page(state, &req.address, req.pagination.as_ref())?;
            pb::QueryAllBalancesResponse { balances, pagination: Some(page) }.encode_to_vec()
        }
        SPENDABLE_BALANCES => {
            let req: pb::QuerySpendableBalancesRequest = decode(request)?;
            let (balances, page) = balances_page(state, &req.address, req.pagination.as_ref())?;
            pb::QuerySpendableBalancesResponse { balances, pagination: Some(page) }.encode_to_vec()
        }
        TOTAL_SUPPLY => {
            let req: pb::QueryTotalSupplyRequest = decode(request)?;
            let (supply, page) =
                paginate(state, STORE_KEY, keys::SUPPLY_PREFIX, req.pagination.as_ref(), |denom, value| {
                    Ok(Some(ProtoCoin { denom: text(denom)?, amount: amount(value)?.to_string() }))
                })?;
            pb::QueryTotalSupplyResponse { supply, pagination: Some(page) }.encode_to_vec()
        }
        SUPPLY_OF => {
            let req: pb::QuerySupplyOfRequest = decode(request)?;
            check_denom(&req.denom)?;
            let amount = keeper.supply_of(state, &req.denom)?;
            pb::QuerySupplyOfResponse { amount: Some(coin(&req.denom, amount)) }.encode_to_vec()
        }
        PARAMS => {
            let _: pb::QueryParamsRequest = decode(request)?;
            pb::QueryParamsResponse { params: Some(keeper.params(state)?.to_proto()) }.encode_to_vec()
        }
        DENOM_METADATA | DENOM_METADATA_BY_QUERY_STRING => {
            // Both requests are `{denom}` on the wire (field 1).
            let req: pb::QueryDenomMetadataRequest = decode(request)?;
            check_denom(&req.denom)?;
            let metadata = keeper
                .denom_metadata(state, &req.denom)?
                .ok_or_else(|| QueryError::not_found(format!("client metadata for denom {}", req.denom)))?;
            if path == DENOM_METADATA {
                pb::QueryDenomMetadataResponse { metadata: Some(metadata) }.encode_to_vec()
            } else {
                pb::QueryDenomMetadataByQueryStringResponse { metadata: Some(metadata) }.encode_to_vec()
            }
        }
        DENOMS_METADATA => {
            let req: pb::QueryDenomsMetadataRequest = decode(request)?;
            let (metadatas, page) =
                paginate(state, STORE_KEY, keys::DENOM_METADATA_PREFIX, req.pagination.as_ref(), |_, value| {
                    pb::Metadata::decode(value).map(Some).map_err(corrupt)
                })?;
            pb::QueryDenomsMetadataResponse { metadatas, pagination: Some(page) }.encode_to_vec()
        }
        DENOM_OWNERS => {
            let req: pb::QueryDenomOwnersRequest = decode(request)?;
            let (denom_owners, page) = denom_owners(keeper, state, &req.denom, req.pagination.as_ref())?;
            pb::QueryDenomOwnersResponse { denom_owners, pagination: Some(page) }.encode_to_vec()
        }
        DENOM_OWNERS_BY_QUERY => {
            let req: pb::QueryDenomOwnersByQueryRequest = decode(request)?;
            let (denom_owners, page) = denom_owners(keeper, state, &req.denom, req.pagination.as_ref())?;
            pb::QueryDenomOwnersByQueryResponse { denom_owners, pagination: Some(page) }.encode_to_vec()
        }
        SEND_ENABLED => {
            let req: pb::QuerySendEnabledRequest = decode(request)?;
            if req.denoms.is_empty() {
                let (send_enabled, page) =
                    paginate(state, STORE_KEY, keys::SEND_ENABLED_PREFIX, req.pagination.as_ref(), |denom, value| {
                        Ok(Some(pb::SendEnabled { denom: text(denom)?, enabled: value == [1] }))
                    })?;
                pb::QuerySendEnabledResponse { send_enabled, pagination: Some(page) }.encode_to_vec()
            } else {
                // Named denoms: only those with an explicit flag, no pagination (as the SDK).
                let mut send_enabled = Vec::new();
                for denom in &req.denoms {
                    if let Some(enabled) = keeper.send_enabled_entry(state, denom)? {
                        send_enabled.push(pb::SendEnabled { denom: denom.clone(), enabled });
                    }
                }
                pb::QuerySendEnabledResponse { send_enabled, pagination: None }.encode_to_vec()
            }
        }
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}
