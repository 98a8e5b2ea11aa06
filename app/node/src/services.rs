//! App-level query services that are not a module's: the SDK's tx service,
//! CometBFT service, consensus params and node config.
// PLACEHOLDER (being written): signature is final.

use paychain_framework::QueryError;

use crate::app::App;

/// A query service handler: (app, protobuf request, height (0 = latest)) -> protobuf response.
pub type ServiceFn = fn(&App, &[u8], u64) -> Result<Vec<u8>, QueryError>;

/// The handler of an app-level gRPC method path, if it is one.
pub fn route(path: &str) -> Option<ServiceFn> {
    let _ = path;
    None
}
