//! The fees module's REST route.

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![RestRoute::get::<pb::QueryFeeTokensRequest, pb::QueryFeeTokensResponse>(
        "/paychain/fees/v1/fee_tokens",
        query::FEE_TOKENS,
    )]
}
