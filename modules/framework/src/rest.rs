//! REST (LCD) routes a module serves beside its gRPC queries. The node's REST
//! server matches the path and runs the query; the module turns the request's
//! parameters into its protobuf request and renders the response as the
//! gateway's JSON. Modules whose types have no serde JSON of their own (escrow)
//! serve their REST face this way.

use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use serde_json::Value;

/// A request's parameters, as the node's REST server parsed them.
pub trait RestRequest {
    /// A path parameter (`{id}` in the pattern), percent-decoded; empty when absent.
    fn path_param(&self, name: &str) -> &str;
    /// `pagination.key|offset|limit|count_total|reverse`, parsed as the SDK's gateway parses
    /// them for every paginated route; `None` when none is given.
    fn page_request(&self) -> Result<Option<PageRequest>, String>;
}

/// A `GET` route answered by one of the module's gRPC queries.
#[derive(Clone, Copy, Debug)]
pub struct RestRoute {
    /// `/a/b/{name}`: `{name}` captures one path segment.
    pub pattern: &'static str,
    /// The gRPC method that answers it, e.g. `/paychain.escrow.v1.Query/Escrow`.
    pub grpc: &'static str,
    /// The protobuf request; an error is the caller's (HTTP 400, the message as given).
    pub request: fn(&dyn RestRequest) -> Result<Vec<u8>, String>,
    /// The protobuf response as JSON; an error is the node's (HTTP 500).
    pub response: fn(&[u8]) -> Result<Value, String>,
}
