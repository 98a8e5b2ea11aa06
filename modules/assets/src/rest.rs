//! The assets module's REST routes (`paychain.assets.v1.Query` over the LCD).

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![
        RestRoute::get::<pb::QueryTokensRequest, pb::QueryTokensResponse>("/paychain/assets/v1/tokens", query::TOKENS),
        RestRoute::get::<pb::QueryTokenRequest, pb::QueryTokenResponse>(
            "/paychain/assets/v1/tokens/{denom}",
            query::TOKEN,
        ),
        RestRoute::get::<pb::QueryTokensByIssuerRequest, pb::QueryTokensResponse>(
            "/paychain/assets/v1/issuers/{issuer}/tokens",
            query::TOKENS_BY_ISSUER,
        ),
        RestRoute::get::<pb::QueryHolderRequest, pb::QueryHolderResponse>(
            "/paychain/assets/v1/tokens/{denom}/holders/{address}",
            query::HOLDER,
        ),
        RestRoute::get::<pb::QueryMintersRequest, pb::QueryMintersResponse>(
            "/paychain/assets/v1/tokens/{denom}/minters",
            query::MINTERS,
        ),
        RestRoute::get::<pb::QueryParamsRequest, pb::QueryParamsResponse>("/paychain/assets/v1/params", query::PARAMS),
    ]
}
