//! `paychain.authority.v1.Query` over ABCI / gRPC / REST.

use paychain_framework::query::decode_request;
use paychain_framework::{Address, QueryError, StateRead};
use prost::Message;

use crate::keeper::AuthorityKeeper;
use crate::pb;

pub const AUTHORITY: &str = "/paychain.authority.v1.Query/Authority";
pub const QUERY_PATHS: &[&str] = &[AUTHORITY];

pub fn query(
    keeper: &AuthorityKeeper,
    state: &dyn StateRead,
    path: &str,
    request: &[u8],
) -> Result<Vec<u8>, QueryError> {
    match path {
        AUTHORITY => {
            let _: pb::QueryAuthorityRequest = decode_request(request)?;
            let show = |a: Option<Address>| a.map(|a| a.to_string()).unwrap_or_default();
            Ok(pb::QueryAuthorityResponse {
                authority: show(keeper.authority(state)?),
                pending_authority: show(keeper.pending(state)?),
            }
            .encode_to_vec())
        }
        other => Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    }
}
