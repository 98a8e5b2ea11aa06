//! What a module is to the app: messages it handles, queries it answers,
//! genesis it owns, end-block work and invariants. The app keeps a list of
//! modules and routes by type URL and query path; adding a module is one
//! line of wiring.

use std::any::Any as StdAny;
use std::fmt::Debug;

use cosmos_sdk_proto::Any;

use crate::address::Address;
use crate::context::{BlockHeader, Context};
use crate::error::{QueryError, SdkError};
use crate::state::StateRead;

/// A decoded, statelessly validated message.
pub trait Msg: Debug + Send + Sync + 'static {
    /// The protobuf type URL, e.g. `/cosmos.bank.v1beta1.MsgSend`.
    fn type_url(&self) -> &'static str;
    /// Accounts that must sign, in the order the SDK derives them.
    fn signers(&self) -> Vec<Address>;
    fn as_any(&self) -> &dyn StdAny;
    /// The legacy amino JSON form (`{"type": "<amino name>", "value": {...}}`)
    /// that SIGN_MODE_LEGACY_AMINO_JSON signs; `None` if the message has none
    /// (it can then only be signed with SIGN_MODE_DIRECT).
    fn amino_json(&self) -> Option<serde_json::Value> {
        None
    }
}

/// What a message returns: the protobuf-encoded `Msg...Response` (it goes into
/// `TxMsgData.msg_responses` as an `Any`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MsgResponse {
    pub type_url: String,
    pub value: Vec<u8>,
}

pub trait Module: Send + Sync {
    /// Module name as events' `message.module` report it (e.g. `bank`).
    fn name(&self) -> &'static str;

    /// Substores this module owns (created in the Merkle store at start).
    fn store_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Message type URLs this module handles.
    fn msg_type_urls(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks, without state, an extension option of a tx (`TxBody.extension_options`)
    /// whose type this module owns: `None` when it is not this module's. A tx with an
    /// extension no module owns is refused (`sdk`/31), as the SDK does.
    fn validate_tx_extension(&self, extension: &Any) -> Option<Result<(), SdkError>> {
        let _ = extension;
        None
    }

    /// Decodes and statelessly validates a message this module handles.
    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        Err(crate::error::sdk::unknown_request(format!("unrecognized message type: {}", msg.type_url)))
    }

    /// Executes a message decoded by `decode_msg`.
    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        let _ = ctx;
        Err(crate::error::sdk::unknown_request(format!("unrecognized message type: {}", msg.type_url())))
    }

    /// CheckTx's look at a message once the ante handler passed: the rules on the coins it
    /// would move (issuer rules, compliance policies, sanctions, velocity and corridor limits,
    /// the travel rule, risk scores), by the same functions `deliver` runs before it moves
    /// them, against the mempool state, writing nothing. A refusal here refuses the tx
    /// before it enters the mempool (it pays no fee and keeps its sequence); everything else
    /// (balances, the module's own rules) is decided in the block, as in the SDK. The default
    /// checks nothing.
    fn check_admission(&self, ctx: &Context, msg: &dyn Msg) -> Result<(), SdkError> {
        let _ = (ctx, msg);
        Ok(())
    }

    /// gRPC method paths this module answers, e.g. `/cosmos.bank.v1beta1.Query/Balance`.
    fn query_paths(&self) -> &'static [&'static str] {
        &[]
    }

    /// REST (LCD) routes of this module's queries (see [`crate::rest`]).
    fn rest_routes(&self) -> Vec<crate::rest::RestRoute> {
        Vec::new()
    }

    /// The protobuf types of this module that travel in an `Any` (its messages and their
    /// responses, accounts, keys), so the REST and tx JSON expand them (see
    /// [`crate::proto_json`]).
    fn any_types(&self) -> Vec<crate::proto_json::AnyType> {
        Vec::new()
    }

    /// Answers a query with a protobuf-encoded response.
    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        let _ = (state, request);
        Err(QueryError::unimplemented(format!("unknown query path {path}")))
    }

    /// This module's section of a new chain's genesis `app_state` (`paychaind init`, `dev`,
    /// localnet); `fee_denom` is the chain's fee denom. `Null` = the module has no section.
    fn default_genesis(&self, fee_denom: &str) -> serde_json::Value {
        let _ = fee_denom;
        serde_json::Value::Null
    }

    /// Loads this module's part of genesis (`app_state.<name>`; `None` = defaults).
    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let _ = (ctx, genesis);
        Ok(())
    }

    /// Checks this module's genesis without touching state; errors name the bad field.
    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        let _ = genesis;
        Ok(())
    }

    /// Exports this module's state as its genesis section.
    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        let _ = state;
        Ok(serde_json::Value::Null)
    }

    /// Work at the start of every block, before its txs (bounded).
    fn begin_block(&self, ctx: &mut Context, header: &BlockHeader) -> Result<(), SdkError> {
        let _ = (ctx, header);
        Ok(())
    }

    /// Work at the end of every block (bounded).
    fn end_block(&self, ctx: &mut Context) -> Result<(), SdkError> {
        let _ = ctx;
        Ok(())
    }

    /// Checks the module's invariants; returns a description of the first broken one.
    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}

/// Downcasts a decoded message to its concrete type.
pub fn downcast<T: 'static>(msg: &dyn Msg) -> Result<&T, SdkError> {
    msg.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| crate::error::sdk::invalid_type(format!("unexpected message {}", msg.type_url())))
}

/// Decodes a protobuf `Any` body as `T`, with an SDK-style error.
pub fn decode_any<T: prost::Message + Default>(any: &Any) -> Result<T, SdkError> {
    T::decode(any.value.as_slice())
        .map_err(|e| crate::error::sdk::tx_decode(format!("failed to decode {}: {e}", any.type_url)))
}
