//! The authority module's REST route.

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![RestRoute::get::<pb::QueryAuthorityRequest, pb::QueryAuthorityResponse>(
        "/paychain/authority/v1/authority",
        query::AUTHORITY,
    )]
}
