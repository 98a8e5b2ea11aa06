//! The auth module: accounts (`BaseAccount` / `ModuleAccount` stored as the
//! SDK's protobuf `Any`), account numbers, auth params and module accounts.
//!
//! Auth has no messages of its own (the SDK's `MsgUpdateParams` needs
//! governance). The ante handler lives in the app and uses [`AuthKeeper`].

pub mod account;
pub mod genesis;
pub mod json;
pub mod keeper;
pub mod keys;
pub mod pubkey;
pub mod query;

use std::sync::Arc;

use paychain_framework::{Context, Module, QueryError, SdkError, StateRead};

pub use account::{Account, AuthParams, ModuleInfo, BURNER, FEE_COLLECTOR, MINTER, STAKING};
pub use genesis::AuthGenesis;
pub use keeper::{AuthKeeper, ModuleAccountPerms};
pub use keys::{MODULE_NAME, STORE_KEY};
pub use pubkey::{MultisigPubKey, PubKey};

pub struct AuthModule {
    keeper: Arc<AuthKeeper>,
}

impl AuthModule {
    pub fn new(keeper: Arc<AuthKeeper>) -> Self {
        Self { keeper }
    }

    pub fn keeper(&self) -> &Arc<AuthKeeper> {
        &self.keeper
    }
}

impl Module for AuthModule {
    fn any_types(&self) -> Vec<paychain_framework::AnyType> {
        use cosmos_sdk_proto::cosmos::{auth::v1beta1 as auth, crypto};
        use paychain_framework::AnyType;
        vec![
            AnyType::named::<auth::BaseAccount>(account::BASE_ACCOUNT_TYPE_URL),
            AnyType::named::<auth::ModuleAccount>(account::MODULE_ACCOUNT_TYPE_URL),
            AnyType::named::<crypto::secp256k1::PubKey>(account::SECP256K1_PUBKEY_TYPE_URL),
            AnyType::named::<crypto::ed25519::PubKey>("/cosmos.crypto.ed25519.PubKey"),
            AnyType::named::<crypto::multisig::LegacyAminoPubKey>(pubkey::MULTISIG_PUBKEY_TYPE_URL),
        ]
    }

    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        genesis::AuthGenesis::default().to_json()
    }

    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[STORE_KEY]
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(&self.keeper, state, path, request)
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let genesis = AuthGenesis::from_json(genesis).map_err(|e| {
            SdkError::new(paychain_framework::error::SDK_CODESPACE, 18, format!("invalid auth genesis: {e}"))
        })?;
        genesis::init_genesis(&self.keeper, ctx, &genesis)
    }

    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        AuthGenesis::from_json(genesis)?.validate(&self.keeper)
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
