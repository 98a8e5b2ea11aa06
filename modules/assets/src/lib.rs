//! The assets module: tokens issued by any account (stablecoins, tokenized
//! deposits, real-world assets) under the controls their issuer chose at
//! issuance: minting within allowances, burning, freezing (an amount or the
//! whole account), a global pause, clawback, an allowlist, a balance cap, a
//! transfer fee and IBC. Roles are kept apart, and every action of a role holder
//! is an indexed event with its actor, target, amount, reason and reference.
//!
//! The rules reach every movement of coins through bank's transfer policy
//! ([`policy::AssetsPolicy`]), not through this module's messages only. The API
//! is `proto/paychain/assets/v1/*.proto` ([`pb`]); `keys.rs` has the state layout,
//! `errors.rs` the codes.

#[cfg(feature = "cli")]
pub mod cli;
pub mod errors;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod keys;
pub mod msgs;
pub mod pb;
pub mod policy;
pub mod query;
pub mod rest;

use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_auth::AuthKeeper;
use paychain_authority::AuthorityKeeper;
use paychain_bank::BankKeeper;
use paychain_framework::module::downcast;
use paychain_framework::{Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead};

pub use keeper::{AssetsKeeper, MODULE_ACCOUNT};
pub use keys::{MODULE_NAME, STORE_KEY};
pub use msgs::{token_denom, AssetsMsg, Body};
pub use policy::AssetsPolicy;

/// Codespace of the module's errors.
pub const CODESPACE: &str = errors::CODESPACE;

pub struct AssetsModule {
    keeper: Arc<AssetsKeeper>,
    policy: Arc<AssetsPolicy>,
}

impl AssetsModule {
    /// Installs the module's transfer policy in bank, so every movement of an
    /// issued token follows its issuer's rules. The app must register the
    /// `assets` module account with the minter and burner permissions.
    /// `authority` decides the module's params (`MsgUpdateParams`).
    pub fn new(
        bank: Arc<BankKeeper>,
        auth: Arc<AuthKeeper>,
        authority: Arc<AuthorityKeeper>,
        fee_collector: &str,
    ) -> Self {
        let policy = Arc::new(AssetsPolicy::new(auth.clone(), fee_collector));
        bank.add_transfer_policy(policy.clone());
        Self { keeper: Arc::new(AssetsKeeper::new(bank, auth, authority, fee_collector)), policy }
    }

    pub fn keeper(&self) -> &Arc<AssetsKeeper> {
        &self.keeper
    }
}

impl Module for AssetsModule {
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
        self.keeper.handle(ctx, downcast::<AssetsMsg>(msg)?)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(&self.keeper, &self.policy, state, path, request)
    }

    fn rest_routes(&self) -> Vec<paychain_framework::RestRoute> {
        rest::routes()
    }

    fn any_types(&self) -> Vec<paychain_framework::AnyType> {
        use paychain_framework::AnyType;
        macro_rules! types {
            ($($t:ident),*) => { vec![$(AnyType::of::<pb::$t>()),*] };
        }
        types![
            MsgIssue,
            MsgIssueResponse,
            MsgMint,
            MsgMintResponse,
            MsgBurn,
            MsgBurnResponse,
            MsgConfigureMinter,
            MsgConfigureMinterResponse,
            MsgFreeze,
            MsgFreezeResponse,
            MsgUnfreeze,
            MsgUnfreezeResponse,
            MsgFreezeAccount,
            MsgFreezeAccountResponse,
            MsgUnfreezeAccount,
            MsgUnfreezeAccountResponse,
            MsgPause,
            MsgPauseResponse,
            MsgUnpause,
            MsgUnpauseResponse,
            MsgClawback,
            MsgClawbackResponse,
            MsgSetAllowed,
            MsgSetAllowedResponse,
            MsgSetRole,
            MsgSetRoleResponse,
            MsgProposeAdmin,
            MsgProposeAdminResponse,
            MsgAcceptAdmin,
            MsgAcceptAdminResponse,
            MsgRenounceAdmin,
            MsgRenounceAdminResponse,
            MsgRenounceFeature,
            MsgRenounceFeatureResponse,
            MsgUpdateParams,
            MsgUpdateParamsResponse
        ]
    }

    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        genesis::genesis_json(&genesis::default_genesis()).expect("the default genesis renders")
    }

    fn init_genesis(&self, ctx: &mut Context, g: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = genesis::genesis_from_json(g).map_err(genesis::genesis_error)?;
        genesis::init_genesis(&self.keeper, ctx, &g)
    }

    fn validate_genesis(&self, g: Option<&serde_json::Value>) -> Result<(), String> {
        genesis::validate_genesis(&genesis::genesis_from_json(g)?)
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        genesis::genesis_json(&genesis::export_genesis(&self.keeper, state)?)
            .map_err(|e| SdkError::fatal(format!("exporting assets genesis: {e}")))
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        self.keeper.check_invariants(state)
    }
}

#[cfg(test)]
mod tests;
