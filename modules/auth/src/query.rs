//! `cosmos.auth.v1beta1.Query` over ABCI / gRPC: protobuf request bytes in,
//! protobuf response bytes out, errors with the gRPC codes the SDK uses.

use cosmos_sdk_proto::cosmos::auth::v1beta1 as pb;
use cosmos_sdk_proto::Any;
use paychain_framework::address::ACCOUNT_PREFIX as BECH32_PREFIX;
use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{Address, QueryError, StateRead};
use prost::Message;

use crate::account::Account;
use crate::keeper::AuthKeeper;
use crate::keys::{self, STORE_KEY};

pub const ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const ACCOUNTS: &str = "/cosmos.auth.v1beta1.Query/Accounts";
pub const PARAMS: &str = "/cosmos.auth.v1beta1.Query/Params";
pub const MODULE_ACCOUNTS: &str = "/cosmos.auth.v1beta1.Query/ModuleAccounts";
pub const MODULE_ACCOUNT_BY_NAME: &str = "/cosmos.auth.v1beta1.Query/ModuleAccountByName";
pub const BECH32_PREFIX_PATH: &str = "/cosmos.auth.v1beta1.Query/Bech32Prefix";
pub const ADDRESS_BYTES_TO_STRING: &str = "/cosmos.auth.v1beta1.Query/AddressBytesToString";
pub const ADDRESS_STRING_TO_BYTES: &str = "/cosmos.auth.v1beta1.Query/AddressStringToBytes";
pub const ACCOUNT_ADDRESS_BY_ID: &str = "/cosmos.auth.v1beta1.Query/AccountAddressByID";
pub const ACCOUNT_INFO: &str = "/cosmos.auth.v1beta1.Query/AccountInfo";

pub const QUERY_PATHS: &[&str] = &[
    ACCOUNT,
    ACCOUNTS,
    PARAMS,
    MODULE_ACCOUNTS,
    MODULE_ACCOUNT_BY_NAME,
    BECH32_PREFIX_PATH,
    ADDRESS_BYTES_TO_STRING,
    ADDRESS_STRING_TO_BYTES,
    ACCOUNT_ADDRESS_BY_ID,
    ACCOUNT_INFO,
];

fn found_account(keeper: &AuthKeeper, state: &dyn StateRead, address: &str) -> Result<Account, QueryError> {
    let addr = parse_address(address)?;
    // The message matches the SDK's so CosmJS's "account does not exist" check works.
    keeper.account(state, &addr)?.ok_or_else(|| QueryError::not_found(format!("account {address} not found")))
}

pub fn query(keeper: &AuthKeeper, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    let response = match path {
        ACCOUNT => {
            let req: pb::QueryAccountRequest = decode(request)?;
            let acc = found_account(keeper, state, &req.address)?;
            pb::QueryAccountResponse { account: Some(acc.to_any()) }.encode_to_vec()
        }
        ACCOUNTS => {
            let req: pb::QueryAccountsRequest = decode(request)?;
            // Stored values are already the `Any` the response carries.
            let (accounts, page) =
                paginate(state, STORE_KEY, keys::ACCOUNT_PREFIX, req.pagination.as_ref(), |_, value| {
                    Any::decode(value).map(Some).map_err(|e| QueryError::internal(format!("corrupt account: {e}")))
                })?;
            pb::QueryAccountsResponse { accounts, pagination: Some(page) }.encode_to_vec()
        }
        PARAMS => {
            let _: pb::QueryParamsRequest = decode(request)?;
            pb::QueryParamsResponse { params: Some(keeper.params(state)?.to_proto()) }.encode_to_vec()
        }
        MODULE_ACCOUNTS => {
            let _: pb::QueryModuleAccountsRequest = decode(request)?;
            let mut names: Vec<&str> = keeper.registered_module_accounts().iter().map(|m| m.name.as_str()).collect();
            names.sort_unstable();
            let mut accounts = Vec::new();
            for name in names {
                if let Some(acc) = keeper.get_module_account(state, name)? {
                    accounts.push(acc.to_any());
                }
            }
            pb::QueryModuleAccountsResponse { accounts }.encode_to_vec()
        }
        MODULE_ACCOUNT_BY_NAME => {
            let req: pb::QueryModuleAccountByNameRequest = decode(request)?;
            if req.name.is_empty() {
                return Err(QueryError::invalid_argument("module name is empty"));
            }
            let acc = match keeper.module_permissions(&req.name) {
                Some(_) => keeper.get_module_account(state, &req.name)?,
                None => None,
            }
            .ok_or_else(|| QueryError::not_found(format!("account {} not found", req.name)))?;
            pb::QueryModuleAccountByNameResponse { account: Some(acc.to_any()) }.encode_to_vec()
        }
        BECH32_PREFIX_PATH => {
            let _: pb::Bech32PrefixRequest = decode(request)?;
            pb::Bech32PrefixResponse { bech32_prefix: BECH32_PREFIX.to_string() }.encode_to_vec()
        }
        ADDRESS_BYTES_TO_STRING => {
            let req: pb::AddressBytesToStringRequest = decode(request)?;
            if req.address_bytes.is_empty() {
                return Err(QueryError::invalid_argument("empty address bytes is not allowed"));
            }
            let addr = Address::from_bytes(req.address_bytes).map_err(|e| QueryError::invalid_argument(e.log))?;
            pb::AddressBytesToStringResponse { address_string: addr.to_string() }.encode_to_vec()
        }
        ADDRESS_STRING_TO_BYTES => {
            let req: pb::AddressStringToBytesRequest = decode(request)?;
            if req.address_string.trim().is_empty() {
                return Err(QueryError::invalid_argument("empty address string is not allowed"));
            }
            let addr = parse_address(&req.address_string)?;
            pb::AddressStringToBytesResponse { address_bytes: addr.as_bytes().to_vec() }.encode_to_vec()
        }
        ACCOUNT_ADDRESS_BY_ID => {
            let req: pb::QueryAccountAddressByIdRequest = decode(request)?;
            #[allow(deprecated)]
            if req.id != 0 {
                return Err(QueryError::invalid_argument(
                    "requesting with id isn't supported, try to request using account-id",
                ));
            }
            let addr = keeper.address_by_account_number(state, req.account_id)?.ok_or_else(|| {
                QueryError::not_found(format!("account address not found with account number {}", req.account_id))
            })?;
            pb::QueryAccountAddressByIdResponse { account_address: addr.to_string() }.encode_to_vec()
        }
        ACCOUNT_INFO => {
            let req: pb::QueryAccountInfoRequest = decode(request)?;
            let acc = found_account(keeper, state, &req.address)?;
            pb::QueryAccountInfoResponse { info: Some(acc.to_base_proto()) }.encode_to_vec()
        }
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}
