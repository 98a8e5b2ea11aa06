//! The escrow module's REST routes (`paychain.escrow.v1.Query` over the LCD).
//! Path and query parameters fill the request by field name, as for the SDK's
//! routes: `pagination.key|offset|limit|count_total|reverse` on the lists.

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![
        RestRoute::get::<pb::QueryEscrowRequest, pb::QueryEscrowResponse>(
            "/paychain/escrow/v1/escrows/{id}",
            query::ESCROW,
        ),
        RestRoute::get::<pb::QueryEscrowsBySenderRequest, pb::QueryEscrowsResponse>(
            "/paychain/escrow/v1/escrows/by_sender/{sender}",
            query::ESCROWS_BY_SENDER,
        ),
        RestRoute::get::<pb::QueryEscrowsByRecipientRequest, pb::QueryEscrowsResponse>(
            "/paychain/escrow/v1/escrows/by_recipient/{recipient}",
            query::ESCROWS_BY_RECIPIENT,
        ),
        RestRoute::get::<pb::QueryEscrowsByArbiterRequest, pb::QueryEscrowsResponse>(
            "/paychain/escrow/v1/escrows/by_arbiter/{arbiter}",
            query::ESCROWS_BY_ARBITER,
        ),
        RestRoute::get::<pb::QueryParamsRequest, pb::QueryParamsResponse>("/paychain/escrow/v1/params", query::PARAMS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use paychain_framework::proto_json::AnyTypes;
    use prost::Message;
    use serde_json::json;

    #[test]
    fn routes_build_requests_and_render_responses_from_the_types() {
        let types = AnyTypes::default();
        let by_sender = routes().into_iter().find(|r| r.grpc == query::ESCROWS_BY_SENDER).unwrap();
        let req = (by_sender.request)(&types, json!({"sender": "pay1s", "pagination": {"limit": "5"}})).unwrap();
        let req = pb::QueryEscrowsBySenderRequest::decode(req.as_slice()).unwrap();
        assert_eq!((req.sender.as_str(), req.pagination.unwrap().limit), ("pay1s", 5));
        let one = routes().into_iter().find(|r| r.grpc == query::ESCROW).unwrap();
        assert!((one.request)(&types, json!({"id": "x7"})).is_err());
        let resp = pb::QueryEscrowResponse { escrow: Some(pb::Escrow { id: 3, ..Default::default() }) };
        let v = (one.response)(&types, &resp.encode_to_vec()).unwrap();
        assert_eq!(v["escrow"]["id"], "3");
        assert_eq!(v["escrow"]["status"], "ESCROW_STATUS_UNSPECIFIED");
        assert_eq!(v["escrow"]["hash_lock"], json!(null));
        assert!((one.response)(&types, &[0xff]).is_err(), "undecodable responses are the node's error");
    }
}
