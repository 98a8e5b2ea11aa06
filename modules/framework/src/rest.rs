//! REST (LCD) routes a module serves beside its gRPC queries. The node's REST
//! server matches the path, fills the request message from the path and query
//! parameters by proto field name (as grpc-gateway does), runs the query and
//! renders the response as the gateway's JSON: all from the message types'
//! generated proto3 JSON ([`crate::proto_json`]), so a module only lists its
//! routes.

use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::proto_json::{self, AnyTypes, Kind};

/// A `GET` route answered by one of the module's gRPC queries.
#[derive(Clone, Copy)]
pub struct RestRoute {
    /// `/a/b/{name}`: `{name}` captures one path segment and fills the request's field `name`.
    pub pattern: &'static str,
    /// The gRPC method that answers it, e.g. `/paychain.escrow.v1.Query/Escrow`.
    pub grpc: &'static str,
    /// The request message's shape, which path and query parameters are matched against.
    pub request_kind: fn() -> Kind,
    /// The request's JSON to protobuf; an error is the caller's (HTTP 400).
    pub request: fn(&AnyTypes, Value) -> Result<Vec<u8>, String>,
    /// The protobuf response as JSON; an error is the node's (HTTP 500).
    pub response: fn(&AnyTypes, &[u8]) -> Result<Value, String>,
}

impl RestRoute {
    /// `GET pattern`, answered by `grpc` with request `Req` and response `Resp`.
    pub fn get<Req, Resp>(pattern: &'static str, grpc: &'static str) -> Self
    where
        Req: Message + Default + Serialize + DeserializeOwned + 'static,
        Resp: Message + Default + Serialize + DeserializeOwned + 'static,
    {
        RestRoute {
            pattern,
            grpc,
            request_kind: proto_json::kind_for::<Req>,
            request: |types, v| Ok(proto_json::from_json::<Req>(types, v)?.encode_to_vec()),
            response: proto_json::proto_to_json::<Resp>,
        }
    }
}

impl std::fmt::Debug for RestRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestRoute").field("pattern", &self.pattern).field("grpc", &self.grpc).finish()
    }
}
