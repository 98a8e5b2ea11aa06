//! The authority module: the chain authority, one account (a single key or the
//! SDK's threshold multisig, so several officers must sign) named in genesis that
//! decides the chain's governed settings: the fee-token list, module params, and
//! the compliance controls built on it. It changes hands in two steps (propose,
//! accept), so a mistyped address can never take it. Other modules ask
//! [`AuthorityKeeper::require`] before a governed change. The API is
//! `proto/paychain/authority/v1/*.proto` ([`pb`]); `keys.rs` has the state layout.

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

pub use keeper::AuthorityKeeper;
pub use keys::{MODULE_NAME, STORE_KEY};
pub use msgs::AuthorityMsg;

pub const CODESPACE: &str = errors::CODESPACE;

pub struct AuthorityModule {
    keeper: Arc<AuthorityKeeper>,
}

impl AuthorityModule {
    pub fn new(keeper: Arc<AuthorityKeeper>) -> Self {
        Self { keeper }
    }
}

impl Module for AuthorityModule {
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
        self.keeper.handle(ctx, downcast::<AuthorityMsg>(msg)?)
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
        vec![
            AnyType::of::<pb::MsgProposeAuthority>(),
            AnyType::of::<pb::MsgProposeAuthorityResponse>(),
            AnyType::of::<pb::MsgAcceptAuthority>(),
            AnyType::of::<pb::MsgAcceptAuthorityResponse>(),
        ]
    }

    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        genesis::genesis_json(&pb::GenesisState::default()).expect("the default genesis renders")
    }

    fn init_genesis(&self, ctx: &mut Context, g: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = genesis::genesis_from_json(g).map_err(|e| SdkError::invalid_genesis("authority", e))?;
        genesis::init_genesis(&self.keeper, ctx, &g)
    }

    fn validate_genesis(&self, g: Option<&serde_json::Value>) -> Result<(), String> {
        genesis::validate_genesis(&genesis::genesis_from_json(g)?)
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        genesis::genesis_json(&genesis::export_genesis(&self.keeper, state)?)
            .map_err(|e| SdkError::fatal(format!("exporting authority genesis: {e}")))
    }
}

#[cfg(test)]
mod tests;
