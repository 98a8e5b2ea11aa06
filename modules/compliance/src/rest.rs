//! The compliance module's REST routes (`paychain.compliance.v1.Query` over the LCD).

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![
        RestRoute::get::<pb::QueryIssuersRequest, pb::QueryIssuersResponse>(
            "/paychain/compliance/v1/issuers",
            query::ISSUERS,
        ),
        RestRoute::get::<pb::QueryIssuerRequest, pb::QueryIssuerResponse>(
            "/paychain/compliance/v1/issuers/{address}",
            query::ISSUER,
        ),
        RestRoute::get::<pb::QueryCredentialsByIssuerRequest, pb::QueryCredentialsResponse>(
            "/paychain/compliance/v1/issuers/{issuer}/credentials",
            query::CREDENTIALS_BY_ISSUER,
        ),
        RestRoute::get::<pb::QueryCredentialsBySubjectRequest, pb::QueryCredentialsResponse>(
            "/paychain/compliance/v1/subjects/{subject}/credentials",
            query::CREDENTIALS_BY_SUBJECT,
        ),
        RestRoute::get::<pb::QueryCredentialRequest, pb::QueryCredentialResponse>(
            "/paychain/compliance/v1/subjects/{subject}/credentials/{issuer}/{type}",
            query::CREDENTIAL,
        ),
    ]
}
