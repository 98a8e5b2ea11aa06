//! The escrow module: coins held by the `escrow` module account for a
//! recipient until a condition releases them (the sender, the secret of a hash
//! lock, or a threshold of arbiters, after an optional time lock) or a deadline,
//! the arbiters or a cancellation returns them to the sender. Expired escrows
//! are refunded automatically at the end of a block, a bounded number per block.
//!
//! The API is `proto/paychain/escrow/v1/*.proto` ([`pb`]); coins move through
//! bank's keeper, never its keys. See `keys.rs` for the state layout,
//! `errors.rs` for the codes, `json.rs` for the proto3 JSON (REST, genesis).

#[cfg(feature = "cli")]
pub mod cli;
pub mod errors;
pub mod events;
pub mod genesis;
pub mod json;
pub mod keeper;
pub mod keys;
pub mod msgs;
pub mod pb;
pub mod query;
pub mod rest;
pub mod time;

use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_auth::AuthKeeper;
use paychain_bank::BankKeeper;
use paychain_framework::{sdk, Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead};
use prost::Message;

pub use keeper::{default_params, EscrowKeeper, MODULE_ACCOUNT};
pub use keys::{MODULE_NAME, STORE_KEY};
pub use msgs::{
    ApproveEscrow, CancelEscrow, CreateEscrow, RefundEscrow, ReleaseEscrow, TYPE_URL_APPROVE, TYPE_URL_CANCEL,
    TYPE_URL_CREATE, TYPE_URL_REFUND, TYPE_URL_RELEASE,
};

/// Codespace of the module's errors.
pub const CODESPACE: &str = errors::CODESPACE;

pub struct EscrowModule {
    keeper: Arc<EscrowKeeper>,
}

impl EscrowModule {
    /// Wired like the transfer module: bank moves the coins, auth provides the
    /// `escrow` module account (which the app must register, without permissions).
    pub fn new(bank: Arc<BankKeeper>, auth: Arc<AuthKeeper>) -> Self {
        Self { keeper: Arc::new(EscrowKeeper::new(bank, auth)) }
    }

    pub fn keeper(&self) -> &Arc<EscrowKeeper> {
        &self.keeper
    }
}

fn response(type_url: &str, msg: &impl Message) -> MsgResponse {
    MsgResponse { type_url: type_url.to_string(), value: msg.encode_to_vec() }
}

impl Module for EscrowModule {
    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        json::genesis_json(&genesis::default_genesis()).expect("the default genesis renders")
    }

    fn rest_routes(&self) -> Vec<paychain_framework::RestRoute> {
        rest::routes()
    }

    fn any_types(&self) -> Vec<paychain_framework::AnyType> {
        use paychain_framework::AnyType;
        vec![
            AnyType::of::<pb::MsgCreateEscrow>(),
            AnyType::of::<pb::MsgReleaseEscrow>(),
            AnyType::of::<pb::MsgApproveEscrow>(),
            AnyType::of::<pb::MsgRefundEscrow>(),
            AnyType::of::<pb::MsgCancelEscrow>(),
            AnyType::of::<pb::MsgCreateEscrowResponse>(),
            AnyType::of::<pb::MsgReleaseEscrowResponse>(),
            AnyType::of::<pb::MsgApproveEscrowResponse>(),
            AnyType::of::<pb::MsgRefundEscrowResponse>(),
            AnyType::of::<pb::MsgCancelEscrowResponse>(),
        ]
    }

    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[STORE_KEY]
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        msgs::TYPE_URLS
    }

    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        msgs::decode(msg)
    }

    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        let any = msg.as_any();
        let k = &self.keeper;
        if let Some(m) = any.downcast_ref::<CreateEscrow>() {
            let id = k.create(ctx, m)?;
            Ok(response(msgs::TYPE_URL_CREATE_RESPONSE, &pb::MsgCreateEscrowResponse { id }))
        } else if let Some(m) = any.downcast_ref::<ReleaseEscrow>() {
            Ok(response(msgs::TYPE_URL_RELEASE_RESPONSE, &k.release(ctx, m)?))
        } else if let Some(m) = any.downcast_ref::<ApproveEscrow>() {
            Ok(response(msgs::TYPE_URL_APPROVE_RESPONSE, &k.approve(ctx, m)?))
        } else if let Some(m) = any.downcast_ref::<RefundEscrow>() {
            Ok(response(msgs::TYPE_URL_REFUND_RESPONSE, &k.refund(ctx, m)?))
        } else if let Some(m) = any.downcast_ref::<CancelEscrow>() {
            Ok(response(msgs::TYPE_URL_CANCEL_RESPONSE, &k.cancel(ctx, m)?))
        } else {
            Err(sdk::unknown_request(format!("unrecognized escrow message type: {}", msg.type_url())))
        }
    }

    /// A new escrow's deposit: the recipient's eligibility and the rules on the sender's
    /// move into the escrow account, as `create` checks them.
    fn check_admission(&self, ctx: &Context, msg: &dyn Msg) -> Result<(), SdkError> {
        match msg.as_any().downcast_ref::<CreateEscrow>() {
            Some(m) => self.keeper.check_deposit(ctx, m),
            None => Ok(()),
        }
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(&self.keeper, state, path, request)
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = json::genesis_from_json(genesis).map_err(genesis::parse_error)?;
        genesis::init_genesis(&self.keeper, ctx, &g)
    }

    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        let g = json::genesis_from_json(genesis)?;
        let bank = self.keeper.bank().clone();
        genesis::validate_genesis(&g, &|a| bank.blocked_addr(a))
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        json::genesis_json(&genesis::export_genesis(&self.keeper, state)?)
            .map_err(|e| SdkError::fatal(format!("exporting escrow genesis: {e}")))
    }

    /// Refunds expired escrows, at most `max_expired_refunds_per_block` per block.
    fn end_block(&self, ctx: &mut Context) -> Result<(), SdkError> {
        self.keeper.refund_expired(ctx).map(|_| ())
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        self.keeper.check_invariants(state)
    }
}

#[cfg(test)]
mod tests;
