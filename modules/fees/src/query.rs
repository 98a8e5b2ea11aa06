//! `paychain.fees.v1.Query` over ABCI / gRPC / REST.

use paychain_framework::query::decode_request;
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::keeper::FeesKeeper;
use crate::pb;

pub const FEE_TOKENS: &str = "/paychain.fees.v1.Query/FeeTokens";
pub const QUERY_PATHS: &[&str] = &[FEE_TOKENS];

pub fn query(keeper: &FeesKeeper, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    match path {
        FEE_TOKENS => {
            let _: pb::QueryFeeTokensRequest = decode_request(request)?;
            Ok(pb::QueryFeeTokensResponse {
                base_denom: keeper.base_denom(state)?.unwrap_or_default(),
                fee_tokens: keeper.fee_tokens(state)?,
            }
            .encode_to_vec())
        }
        other => Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    }
}
