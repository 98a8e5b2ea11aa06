//! REST routes of the escrow module (`paychain.escrow.v1.Query`), served from
//! the same query path as ABCI and gRPC, rendered with `paychain_escrow::json`:
//!
//! * `GET /paychain/escrow/v1/escrows/{id}`
//! * `GET /paychain/escrow/v1/escrows/by_sender/{sender}` (and `by_recipient/{recipient}`,
//!   `by_arbiter/{arbiter}`), with `pagination.key|offset|limit|count_total|reverse`
//! * `GET /paychain/escrow/v1/params`

use axum::http::Method;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use paychain_escrow::pb;
use prost::Message;
use serde_json::Value;

use super::error::RestError;
use super::json;
use super::request::{request_json, Input, Route};
use crate::query::query_grpc;
use crate::served::ServedApp;
use paychain_client::escrow as ce;

pub fn routes() -> Vec<Route> {
    vec![
        Route { method: Method::GET, pattern: "/paychain/escrow/v1/escrows/{id}", grpc: ce::QUERY_ESCROW, run: escrow },
        Route {
            method: Method::GET,
            pattern: "/paychain/escrow/v1/escrows/by_sender/{sender}",
            grpc: ce::QUERY_BY_SENDER,
            run: by_sender,
        },
        Route {
            method: Method::GET,
            pattern: "/paychain/escrow/v1/escrows/by_recipient/{recipient}",
            grpc: ce::QUERY_BY_RECIPIENT,
            run: by_recipient,
        },
        Route {
            method: Method::GET,
            pattern: "/paychain/escrow/v1/escrows/by_arbiter/{arbiter}",
            grpc: ce::QUERY_BY_ARBITER,
            run: by_arbiter,
        },
        Route { method: Method::GET, pattern: "/paychain/escrow/v1/params", grpc: ce::QUERY_PARAMS, run: params },
    ]
}

fn param(input: &Input, name: &str) -> String {
    input.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

fn decode<T: Message + Default>(bytes: &[u8]) -> Result<T, RestError> {
    T::decode(bytes).map_err(|e| RestError::internal(format!("decoding the query response: {e}")))
}

fn escrow(app: &ServedApp, grpc: &'static str, input: Input, height: u64) -> Result<Value, RestError> {
    let raw = param(&input, "id");
    let id: u64 = raw
        .trim()
        .parse()
        .map_err(|_| RestError::bad_request(format!("id: {raw:?} is not an escrow id (an unsigned integer)")))?;
    let out = query_grpc(app, grpc, &pb::QueryEscrowRequest { id }.encode_to_vec(), height)?;
    Ok(paychain_escrow::json::escrow_response_json(&decode(&out)?))
}

/// `pagination.*` query parameters, parsed as the bank routes parse them.
fn pagination(input: &Input) -> Result<Option<PageRequest>, RestError> {
    let query: Vec<(String, String)> =
        input.query.iter().filter(|(k, _)| k.starts_with("pagination.")).cloned().collect();
    if query.is_empty() {
        return Ok(None);
    }
    // A request message with only the `pagination` field.
    let kind = json::Kind::Struct(std::sync::Arc::new(json::Schema {
        name: "pagination".into(),
        fields: vec![(
            "pagination".into(),
            "pagination".into(),
            json::Kind::Opt(Box::new(json::kind_for::<PageRequest>())),
        )],
    }));
    let mut value = request_json(&kind, Input { params: Vec::new(), query, body: None })?;
    json::from_json::<PageRequest>(value["pagination"].take())
        .map(Some)
        .map_err(|e| RestError::bad_request(format!("invalid request: pagination: {e}")))
}

fn list(app: &ServedApp, grpc: &'static str, request: Vec<u8>, height: u64) -> Result<Value, RestError> {
    let out = query_grpc(app, grpc, &request, height)?;
    Ok(paychain_escrow::json::escrows_response_json(&decode(&out)?))
}

fn by_sender(app: &ServedApp, grpc: &'static str, input: Input, height: u64) -> Result<Value, RestError> {
    let req = pb::QueryEscrowsBySenderRequest { sender: param(&input, "sender"), pagination: pagination(&input)? };
    list(app, grpc, req.encode_to_vec(), height)
}

fn by_recipient(app: &ServedApp, grpc: &'static str, input: Input, height: u64) -> Result<Value, RestError> {
    let req =
        pb::QueryEscrowsByRecipientRequest { recipient: param(&input, "recipient"), pagination: pagination(&input)? };
    list(app, grpc, req.encode_to_vec(), height)
}

fn by_arbiter(app: &ServedApp, grpc: &'static str, input: Input, height: u64) -> Result<Value, RestError> {
    let req = pb::QueryEscrowsByArbiterRequest { arbiter: param(&input, "arbiter"), pagination: pagination(&input)? };
    list(app, grpc, req.encode_to_vec(), height)
}

fn params(app: &ServedApp, grpc: &'static str, _input: Input, height: u64) -> Result<Value, RestError> {
    let out = query_grpc(app, grpc, &pb::QueryParamsRequest {}.encode_to_vec(), height)?;
    Ok(paychain_escrow::json::params_response_json(&decode(&out)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(query: &[(&str, &str)]) -> Input {
        Input {
            params: Vec::new(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: None,
        }
    }

    #[test]
    fn pagination_parameters_parse_like_the_bank_routes() {
        assert_eq!(pagination(&input(&[("other", "1")])).unwrap(), None);
        let p = pagination(&input(&[
            ("pagination.limit", "5"),
            ("pagination.key", "AAE="),
            ("pagination.count_total", "true"),
            ("pagination.reverse", "1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(p, PageRequest { key: vec![0, 1], offset: 0, limit: 5, count_total: true, reverse: true });
        let e = pagination(&input(&[("pagination.limit", "-1")])).unwrap_err();
        assert!(e.message.contains("pagination.limit"), "{}", e.message);
        assert!(pagination(&input(&[("pagination.offset", "x")])).is_err());
    }

    #[test]
    fn escrow_messages_in_a_tx_render_and_parse_back() {
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxBody};
        let create = pb::MsgCreateEscrow {
            sender: "pay1s".into(),
            recipient: "pay1r".into(),
            hash_lock: vec![9; 32],
            refund_after: Some(prost_types::Timestamp { seconds: 1_900_000_000, nanos: 0 }),
            ..Default::default()
        };
        let approve = pb::MsgApproveEscrow { arbiter: "pay1a".into(), id: 3, decision: pb::Decision::Refund as i32 };
        let tx = Tx {
            body: Some(TxBody {
                messages: vec![ce::any(ce::MSG_CREATE, &create), ce::any(ce::MSG_APPROVE, &approve)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = json::to_json(&tx).unwrap();
        let msgs = &v["body"]["messages"];
        assert_eq!(msgs[0]["@type"], ce::MSG_CREATE);
        assert_eq!(msgs[0]["recipient"], "pay1r");
        assert_eq!(msgs[0]["refund_after"], "2030-03-17T17:46:40Z");
        assert_eq!(
            msgs[1],
            json!({"@type": ce::MSG_APPROVE, "arbiter": "pay1a", "id": "3", "decision": "DECISION_REFUND"})
        );
        let back: Tx = json::from_json(v).unwrap();
        assert_eq!(back, tx);
    }

    #[test]
    fn routes_are_found_by_path() {
        let find = |p: &str| super::super::routes::find(&Method::GET, p).map(|(r, params)| (r.grpc, params));
        let (grpc, params) = find("/paychain/escrow/v1/escrows/7").unwrap();
        assert_eq!((grpc, params), (ce::QUERY_ESCROW, vec![("id".to_string(), "7".to_string())]));
        let (grpc, params) = find("/paychain/escrow/v1/escrows/by_arbiter/pay1x").unwrap();
        assert_eq!((grpc, params), (ce::QUERY_BY_ARBITER, vec![("arbiter".to_string(), "pay1x".to_string())]));
        assert_eq!(find("/paychain/escrow/v1/params").unwrap().0, ce::QUERY_PARAMS);
        assert!(find("/paychain/escrow/v1/escrows/by_sender/a/b").is_none());
    }
}
