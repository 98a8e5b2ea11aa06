//! The bank module: balances, supply, denom metadata, send-enabled flags, and
//! `MsgSend` / `MsgMultiSend`, following Cosmos SDK v0.50 `x/bank` (codes,
//! events, query answers, genesis JSON).
//!
//! Other modules move coins through [`BankKeeper`], never through its keys.

pub mod errors;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod keys;
pub mod msgs;
pub mod policy;
pub mod query;
pub mod types;

use std::sync::Arc;

use cosmos_sdk_proto::cosmos::bank::v1beta1::{MsgMultiSendResponse, MsgSendResponse};
use cosmos_sdk_proto::Any;
use paychain_framework::{sdk, Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead};
use prost::Message;

pub use genesis::{Balance, BankGenesis};
pub use keeper::{AccountKeeper, BankKeeper, Enforcement};
pub use keys::{MODULE_NAME, STORE_KEY};
pub use msgs::{Input, MsgMultiSend, MsgSend, Output};
pub use policy::{HoldRequest, Route, Transfer, TransferFee, TransferPolicy, Verdict};
pub use types::{BankParams, SendEnabled};

pub struct BankModule {
    keeper: Arc<BankKeeper>,
}

impl BankModule {
    pub fn new(keeper: Arc<BankKeeper>) -> Self {
        Self { keeper }
    }

    pub fn keeper(&self) -> &Arc<BankKeeper> {
        &self.keeper
    }
}

impl Module for BankModule {
    fn any_types(&self) -> Vec<paychain_framework::AnyType> {
        use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
        use paychain_framework::AnyType;
        vec![
            AnyType::named::<bank::MsgSend>(msgs::MSG_SEND),
            AnyType::named::<MsgSendResponse>(msgs::MSG_SEND_RESPONSE),
            AnyType::named::<bank::MsgMultiSend>(msgs::MSG_MULTI_SEND),
            AnyType::named::<MsgMultiSendResponse>(msgs::MSG_MULTI_SEND_RESPONSE),
        ]
    }

    fn default_genesis(&self, fee_denom: &str) -> serde_json::Value {
        genesis::default_genesis_json(fee_denom)
    }

    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[STORE_KEY]
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        &[msgs::MSG_SEND, msgs::MSG_MULTI_SEND]
    }

    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        match msg.type_url.as_str() {
            msgs::MSG_SEND => Ok(Box::new(MsgSend::decode(msg)?)),
            msgs::MSG_MULTI_SEND => Ok(Box::new(MsgMultiSend::decode(msg)?)),
            other => Err(sdk::unknown_request(format!("unrecognized bank message type: {other}"))),
        }
    }

    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        let any = msg.as_any();
        if let Some(m) = any.downcast_ref::<MsgSend>() {
            self.keeper.handle_send(ctx, m)?;
            Ok(MsgResponse { type_url: msgs::MSG_SEND_RESPONSE.into(), value: MsgSendResponse {}.encode_to_vec() })
        } else if let Some(m) = any.downcast_ref::<MsgMultiSend>() {
            self.keeper.handle_multi_send(ctx, m)?;
            Ok(MsgResponse {
                type_url: msgs::MSG_MULTI_SEND_RESPONSE.into(),
                value: MsgMultiSendResponse {}.encode_to_vec(),
            })
        } else {
            Err(sdk::unknown_request(format!("unrecognized bank message type: {}", msg.type_url())))
        }
    }

    /// The transfer policies on each move a send would make (`send_coins` and
    /// `input_output_coins` ask them the same way before moving coins).
    fn check_admission(&self, ctx: &Context, msg: &dyn Msg) -> Result<(), SdkError> {
        let any = msg.as_any();
        if let Some(m) = any.downcast_ref::<MsgSend>() {
            self.keeper.check_send(ctx, &m.from_address, &m.to_address, &m.amount, Route::Local)
        } else if let Some(m) = any.downcast_ref::<MsgMultiSend>() {
            let from = &m.input.address;
            m.outputs
                .iter()
                .try_for_each(|out| self.keeper.check_send(ctx, from, &out.address, &out.coins, Route::Local))
        } else {
            Ok(())
        }
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(&self.keeper, state, path, request)
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let genesis = BankGenesis::from_json(genesis).map_err(genesis::parse_error)?;
        genesis::init_genesis(&self.keeper, ctx, &genesis)
    }

    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        BankGenesis::from_json(genesis).map(|_| ())
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        Ok(genesis::export_genesis(&self.keeper, state)?.to_json())
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        self.keeper.check_invariants(state)
    }
}

#[cfg(test)]
mod tests;
