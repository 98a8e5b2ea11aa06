//! `paychain.assets.v1.Query` over ABCI / gRPC / REST (the node routes all three
//! to `Module::query`): bad arguments are InvalidArgument, unknown tokens NotFound.

use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::keeper::{holder, stored_amount, token, AssetsKeeper};
use crate::keys::{self, STORE_KEY};
use crate::pb;
use crate::policy::AssetsPolicy;

macro_rules! paths {
    ($($name:ident = $method:literal;)*) => {
        $(pub const $name: &str = concat!("/paychain.assets.v1.Query/", $method);)*
        pub const QUERY_PATHS: &[&str] = &[$($name),*];
    };
}

paths! {
    TOKEN = "Token";
    TOKENS = "Tokens";
    TOKENS_BY_ISSUER = "TokensByIssuer";
    HOLDER = "Holder";
    MINTERS = "Minters";
    PARAMS = "Params";
}

fn require_token(state: &dyn StateRead, denom: &str) -> Result<pb::Token, QueryError> {
    if denom.is_empty() {
        return Err(QueryError::invalid_argument("denom cannot be empty"));
    }
    token(state, denom)?.ok_or_else(|| QueryError::not_found(format!("no issued token {denom}")))
}

pub fn query(
    keeper: &AssetsKeeper,
    policy: &AssetsPolicy,
    state: &dyn StateRead,
    path: &str,
    request: &[u8],
) -> Result<Vec<u8>, QueryError> {
    use paychain_bank::TransferPolicy as _;
    let response = match path {
        TOKEN => {
            let req: pb::QueryTokenRequest = decode(request)?;
            let t = require_token(state, &req.denom)?;
            let supply = keeper.bank().supply_of(state, &t.denom)?;
            pb::QueryTokenResponse { token: Some(t), supply: supply.to_string() }.encode_to_vec()
        }
        TOKENS => {
            let req: pb::QueryTokensRequest = decode(request)?;
            let (tokens, page) = paginate(state, STORE_KEY, keys::TOKEN_PREFIX, req.pagination.as_ref(), |_, v| {
                pb::Token::decode(v).map(Some).map_err(|e| QueryError::internal(format!("assets: corrupt token: {e}")))
            })?;
            pb::QueryTokensResponse { tokens, pagination: Some(page) }.encode_to_vec()
        }
        TOKENS_BY_ISSUER => {
            let req: pb::QueryTokensByIssuerRequest = decode(request)?;
            let issuer = parse_address(&req.issuer)?;
            let (tokens, page) =
                paginate(state, STORE_KEY, &keys::issuer_prefix(&issuer), req.pagination.as_ref(), |rel, _| {
                    let denom = std::str::from_utf8(rel)
                        .map_err(|e| QueryError::internal(format!("assets: corrupt issuer index: {e}")))?;
                    let t = token(state, denom)?
                        .ok_or_else(|| QueryError::internal(format!("assets: issuer index names missing {denom}")))?;
                    Ok(Some(t))
                })?;
            pb::QueryTokensResponse { tokens, pagination: Some(page) }.encode_to_vec()
        }
        HOLDER => {
            let req: pb::QueryHolderRequest = decode(request)?;
            let t = require_token(state, &req.denom)?;
            let addr = parse_address(&req.address)?;
            let h = holder(state, &t.denom, &addr)?;
            let balance = keeper.bank().balance(state, &addr, &t.denom)?;
            let spendable = if t.paused || (h.account_frozen && crate::keeper::has_feature(&t, pb::Feature::Freezing)) {
                0
            } else {
                balance.saturating_sub(policy.locked(state, &addr, &t.denom)?)
            };
            let h = pb::Holder { frozen_amount: stored_amount("frozen amount", &h.frozen_amount)?.to_string(), ..h };
            pb::QueryHolderResponse { holder: Some(h), balance: balance.to_string(), spendable: spendable.to_string() }
                .encode_to_vec()
        }
        MINTERS => {
            let req: pb::QueryMintersRequest = decode(request)?;
            let t = require_token(state, &req.denom)?;
            let (minters, page) =
                paginate(state, STORE_KEY, &keys::minters_prefix(&t.denom), req.pagination.as_ref(), |_, v| {
                    pb::Minter::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("assets: corrupt minter: {e}")))
                })?;
            pb::QueryMintersResponse { minters, pagination: Some(page) }.encode_to_vec()
        }
        PARAMS => {
            let _: pb::QueryParamsRequest = decode(request)?;
            pb::QueryParamsResponse { params: Some(keeper.params(state)?) }.encode_to_vec()
        }
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}
