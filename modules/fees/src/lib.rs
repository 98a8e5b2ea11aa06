//! The fees module: which tokens pay fees besides the base denom (upay), and
//! what each is worth in it. The chain authority sets the list
//! (`MsgSetFeeTokens`); the ante counts a fee in a listed token at its rate
//! against the node's minimum gas price, so a holder of only a stablecoin can pay
//! in it. The list is state, so every node prices a fee the same way; minimum gas
//! prices stay node-local (they decide admission to a node's mempool, never a
//! block). The API is `proto/paychain/fees/v1/*.proto` ([`pb`]).

#[cfg(feature = "cli")]
pub mod cli;
pub mod errors;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod keys;
pub mod msgs;
pub mod pb;
pub mod query;
pub mod rest;

use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_framework::module::downcast;
use paychain_framework::{AnyType, Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead};

pub use keeper::FeesKeeper;
pub use keys::{MODULE_NAME, STORE_KEY};

pub const CODESPACE: &str = errors::CODESPACE;

pub struct FeesModule {
    keeper: Arc<FeesKeeper>,
}

impl FeesModule {
    pub fn new(keeper: Arc<FeesKeeper>) -> Self {
        Self { keeper }
    }
}

impl Module for FeesModule {
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
        let m = downcast::<msgs::SetFeeTokens>(msg)?;
        self.keeper.set_fee_tokens(ctx, &m.authority, &m.fee_tokens, &m.note)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(&self.keeper, state, path, request)
    }

    fn rest_routes(&self) -> Vec<paychain_framework::RestRoute> {
        rest::routes()
    }

    fn any_types(&self) -> Vec<AnyType> {
        vec![AnyType::of::<pb::MsgSetFeeTokens>(), AnyType::of::<pb::MsgSetFeeTokensResponse>()]
    }

    fn default_genesis(&self, fee_denom: &str) -> serde_json::Value {
        let g = pb::GenesisState { base_denom: fee_denom.to_string(), fee_tokens: vec![] };
        genesis::genesis_json(&g).expect("the default genesis renders")
    }

    fn init_genesis(&self, ctx: &mut Context, g: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = genesis::genesis_from_json(g).map_err(|e| SdkError::invalid_genesis("fees", e))?;
        genesis::init_genesis(&self.keeper, ctx, &g)
    }

    fn validate_genesis(&self, g: Option<&serde_json::Value>) -> Result<(), String> {
        genesis::validate_genesis(&genesis::genesis_from_json(g)?)
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        genesis::genesis_json(&genesis::export_genesis(&self.keeper, state)?)
            .map_err(|e| SdkError::fatal(format!("exporting fees genesis: {e}")))
    }
}

#[cfg(test)]
mod tests;
