//! Helpers every module's query server needs, so request errors read the same everywhere.

use crate::address::Address;
use crate::error::QueryError;

/// Decodes a protobuf query request; garbage is an `InvalidArgument`.
pub fn decode_request<T: prost::Message + Default>(request: &[u8]) -> Result<T, QueryError> {
    T::decode(request).map_err(|e| QueryError::invalid_argument(format!("invalid request: {e}")))
}

/// Parses an address argument of a query (`InvalidArgument` when empty or malformed).
pub fn parse_address(s: &str) -> Result<Address, QueryError> {
    if s.is_empty() {
        return Err(QueryError::invalid_argument("address cannot be empty"));
    }
    Address::from_bech32(s).map_err(|e| QueryError::invalid_argument(format!("invalid address: {}", e.log)))
}
