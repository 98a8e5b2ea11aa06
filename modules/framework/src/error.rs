//! Errors with a codespace and a code, as the Cosmos SDK reports them in
//! `ResponseCheckTx` / `ExecTxResult`, so wallets that match on
//! `(codespace, code)` (e.g. `sdk`/32 for a sequence mismatch) work unchanged.

use std::borrow::Cow;
use std::fmt;

/// The SDK's root codespace.
pub const SDK_CODESPACE: &str = "sdk";

/// An error a transaction or query can fail with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkError {
    pub codespace: Cow<'static, str>,
    pub code: u32,
    pub log: String,
    /// Set for failures of the node itself (storage unreadable, disk full): the
    /// app must stop rather than record a result other nodes would not agree on.
    pub fatal: bool,
}

impl SdkError {
    pub fn new(codespace: impl Into<Cow<'static, str>>, code: u32, log: impl Into<String>) -> Self {
        Self { codespace: codespace.into(), code, log: log.into(), fatal: false }
    }

    /// A failure of the node, not of the input (see [`SdkError::fatal`]).
    pub fn fatal(log: impl Into<String>) -> Self {
        Self { codespace: Cow::Borrowed(SDK_CODESPACE), code: 1, log: log.into(), fatal: true }
    }

    /// Prefixes the log with context, keeping codespace and code.
    /// A module's genesis section that does not hold (the SDK's invalid request, 18).
    pub fn invalid_genesis(module: &str, detail: impl fmt::Display) -> Self {
        Self::new(SDK_CODESPACE, 18, format!("invalid {module} genesis: {detail}"))
    }

    pub fn wrap(mut self, context: impl fmt::Display) -> Self {
        self.log = format!("{context}: {}", self.log);
        self
    }
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (codespace {}, code {})", self.log, self.codespace, self.code)
    }
}

impl std::error::Error for SdkError {}

impl SdkError {
    /// The input was not a decodable tx ([`sdk::tx_decode`]).
    pub fn is_tx_decode(&self) -> bool {
        self.codespace == SDK_CODESPACE && self.code == sdk::TX_DECODE_CODE
    }
}

/// Declares a codespace's errors: for each `name = code, "description";` a constructor
/// `name(detail) -> SdkError` whose log reads `"<detail>: <description>"` (as the SDK's
/// `errorsmod.Wrap` formats it, or just the description when the detail is empty), plus
/// `CODES` (every code and description) and `description(code)`.
#[macro_export]
macro_rules! codespace_errors {
    ($codespace:expr; $($name:ident = $code:literal, $desc:literal;)*) => {
        $(
            #[doc = $desc]
            pub fn $name(detail: impl ::std::fmt::Display) -> $crate::SdkError {
                let detail = detail.to_string();
                let log = if detail.is_empty() { $desc.to_string() } else { format!("{detail}: {}", $desc) };
                $crate::SdkError::new($codespace, $code, log)
            }
        )*
        /// Every (code, description) of the codespace, for documentation and tests.
        pub const CODES: &[(u32, &str)] = &[$(($code, $desc)),*];
        /// The description registered for `code`, if any.
        pub fn description(code: u32) -> Option<&'static str> {
            CODES.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
        }
    };
}

/// The Cosmos SDK's registered root errors (`types/errors/errors.go`), with the
/// same codes and descriptions. The log of an error is `"<detail>: <description>"`
/// as the SDK's `errorsmod.Wrap` formats it.
pub mod sdk {
    use super::SDK_CODESPACE;

    /// Code of [`tx_decode`]: bytes that are not a tx (callers tell them from other failures).
    pub const TX_DECODE_CODE: u32 = 2;

    crate::codespace_errors! { SDK_CODESPACE;
        tx_decode = 2, "tx parse error";
        invalid_sequence = 3, "invalid sequence";
        unauthorized = 4, "unauthorized";
        insufficient_funds = 5, "insufficient funds";
        unknown_request = 6, "unknown request";
        invalid_address = 7, "invalid address";
        invalid_pubkey = 8, "invalid pubkey";
        unknown_address = 9, "unknown address";
        invalid_coins = 10, "invalid coins";
        out_of_gas = 11, "out of gas";
        memo_too_large = 12, "memo too large";
        insufficient_fee = 13, "insufficient fee";
        too_many_signatures = 14, "maximum number of signatures exceeded";
        no_signatures = 15, "no signatures supplied";
        json_marshal = 16, "failed to marshal JSON bytes";
        json_unmarshal = 17, "failed to unmarshal JSON bytes";
        invalid_request = 18, "invalid request";
        tx_in_mempool_cache = 19, "tx already in mempool";
        mempool_is_full = 20, "mempool is full";
        tx_too_large = 21, "tx too large";
        key_not_found = 22, "key not found";
        wrong_password = 23, "invalid account password";
        invalid_signer = 24, "tx intended signer does not match the given signer";
        invalid_gas_adjustment = 25, "invalid gas adjustment";
        invalid_height = 26, "invalid height";
        invalid_version = 27, "invalid version";
        invalid_chain_id = 28, "invalid chain-id";
        invalid_type = 29, "invalid type";
        tx_timeout_height = 30, "tx timeout height";
        unknown_extension_options = 31, "unknown extension options";
        wrong_sequence = 32, "incorrect account sequence";
        pack_any = 33, "failed packing protobuf message to Any";
        unpack_any = 34, "failed unpacking protobuf message from Any";
        logic = 35, "internal logic error";
        conflict = 36, "conflict";
        not_supported = 37, "feature not supported";
        not_found = 38, "not found";
        io = 39, "Internal IO error";
        app_config = 40, "error in app.toml";
        invalid_gas_limit = 41, "invalid gas limit";
        tx_timeout = 42, "tx timeout";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_errors_format_like_errorsmod_wrap() {
        let e = sdk::wrong_sequence("account sequence mismatch, expected 3, got 2");
        assert_eq!(e.codespace, "sdk");
        assert_eq!(e.code, 32);
        assert_eq!(e.log, "account sequence mismatch, expected 3, got 2: incorrect account sequence");
        assert_eq!(sdk::out_of_gas("").log, "out of gas");
        assert_eq!(sdk::description(13), Some("insufficient fee"));
        assert!(!e.fatal && SdkError::fatal("disk").fatal);
        assert!(sdk::tx_decode("x").is_tx_decode() && !sdk::unauthorized("x").is_tx_decode());
    }
}

/// gRPC status codes queries fail with (a subset of `google.rpc.Code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrpcCode {
    Unknown = 2,
    InvalidArgument = 3,
    NotFound = 5,
    Internal = 13,
    Unimplemented = 12,
    Unavailable = 14,
}

impl GrpcCode {
    /// Name as gRPC-go prints it in `rpc error: code = <Name> desc = ...`.
    pub fn name(self) -> &'static str {
        match self {
            GrpcCode::Unknown => "Unknown",
            GrpcCode::InvalidArgument => "InvalidArgument",
            GrpcCode::NotFound => "NotFound",
            GrpcCode::Internal => "Internal",
            GrpcCode::Unimplemented => "Unimplemented",
            GrpcCode::Unavailable => "Unavailable",
        }
    }
}

/// A failed query, as the SDK's gRPC query services report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub code: GrpcCode,
    pub message: String,
}

impl QueryError {
    pub fn new(code: GrpcCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::NotFound, message)
    }
    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::Unimplemented, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::Internal, message)
    }

    /// The ABCI log the SDK writes for this error: `rpc error: code = NotFound desc = ...`
    /// (CosmJS matches on it to detect a missing account).
    pub fn abci_log(&self) -> String {
        format!("rpc error: code = {} desc = {}", self.code.name(), self.message)
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.abci_log())
    }
}

impl std::error::Error for QueryError {}

/// Errors inside query handlers (state reads) surface as `Internal`.
impl From<SdkError> for QueryError {
    fn from(e: SdkError) -> Self {
        if e.code == 38 && e.codespace == SDK_CODESPACE {
            QueryError::not_found(e.log)
        } else if e.fatal {
            QueryError::internal(e.log)
        } else {
            QueryError::invalid_argument(e.log)
        }
    }
}
