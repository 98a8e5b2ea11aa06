//! The escrow module's REST routes (`paychain.escrow.v1.Query` over the LCD),
//! rendered with [`crate::json`]:
//!
//! * `GET /paychain/escrow/v1/escrows/{id}`
//! * `GET /paychain/escrow/v1/escrows/by_sender/{sender}` (and `by_recipient/{recipient}`,
//!   `by_arbiter/{arbiter}`), with `pagination.key|offset|limit|count_total|reverse`
//! * `GET /paychain/escrow/v1/params`

use paychain_framework::{RestRequest, RestRoute};
use prost::Message;
use serde_json::Value;

use crate::{json, pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![
        RestRoute {
            pattern: "/paychain/escrow/v1/escrows/{id}",
            grpc: query::ESCROW,
            request: escrow_request,
            response: |b| Ok(json::escrow_response_json(&decode(b)?)),
        },
        RestRoute {
            pattern: "/paychain/escrow/v1/escrows/by_sender/{sender}",
            grpc: query::ESCROWS_BY_SENDER,
            request: |r| {
                let req = pb::QueryEscrowsBySenderRequest {
                    sender: r.path_param("sender").to_string(),
                    pagination: r.page_request()?,
                };
                Ok(req.encode_to_vec())
            },
            response: escrows_response,
        },
        RestRoute {
            pattern: "/paychain/escrow/v1/escrows/by_recipient/{recipient}",
            grpc: query::ESCROWS_BY_RECIPIENT,
            request: |r| {
                let req = pb::QueryEscrowsByRecipientRequest {
                    recipient: r.path_param("recipient").to_string(),
                    pagination: r.page_request()?,
                };
                Ok(req.encode_to_vec())
            },
            response: escrows_response,
        },
        RestRoute {
            pattern: "/paychain/escrow/v1/escrows/by_arbiter/{arbiter}",
            grpc: query::ESCROWS_BY_ARBITER,
            request: |r| {
                let req = pb::QueryEscrowsByArbiterRequest {
                    arbiter: r.path_param("arbiter").to_string(),
                    pagination: r.page_request()?,
                };
                Ok(req.encode_to_vec())
            },
            response: escrows_response,
        },
        RestRoute {
            pattern: "/paychain/escrow/v1/params",
            grpc: query::PARAMS,
            request: |_| Ok(pb::QueryParamsRequest {}.encode_to_vec()),
            response: |b| Ok(json::params_response_json(&decode(b)?)),
        },
    ]
}

fn decode<T: Message + Default>(bytes: &[u8]) -> Result<T, String> {
    T::decode(bytes).map_err(|e| format!("decoding the query response: {e}"))
}

fn escrow_request(r: &dyn RestRequest) -> Result<Vec<u8>, String> {
    let raw = r.path_param("id");
    let id: u64 = raw.trim().parse().map_err(|_| format!("id: {raw:?} is not an escrow id (an unsigned integer)"))?;
    Ok(pb::QueryEscrowRequest { id }.encode_to_vec())
}

fn escrows_response(bytes: &[u8]) -> Result<Value, String> {
    Ok(json::escrows_response_json(&decode(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;

    struct Params(&'static str, Option<PageRequest>);

    impl RestRequest for Params {
        fn path_param(&self, _name: &str) -> &str {
            self.0
        }
        fn page_request(&self) -> Result<Option<PageRequest>, String> {
            Ok(self.1.clone())
        }
    }

    #[test]
    fn requests_carry_the_path_and_pagination() {
        let id = escrow_request(&Params("7", None)).unwrap();
        assert_eq!(pb::QueryEscrowRequest::decode(id.as_slice()).unwrap().id, 7);
        let err = escrow_request(&Params("x7", None)).unwrap_err();
        assert!(err.contains("not an escrow id"), "{err}");
        let page = PageRequest { limit: 5, ..Default::default() };
        let by_sender = routes().into_iter().find(|r| r.grpc == query::ESCROWS_BY_SENDER).unwrap();
        let req = (by_sender.request)(&Params("pay1s", Some(page.clone()))).unwrap();
        let req = pb::QueryEscrowsBySenderRequest::decode(req.as_slice()).unwrap();
        assert_eq!((req.sender.as_str(), req.pagination), ("pay1s", Some(page)));
        assert!((by_sender.response)(&[0xff]).is_err(), "undecodable responses are the node's error");
    }
}
