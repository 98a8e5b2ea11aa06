//! The one place modules are wired together, and how messages and queries
//! reach them.

use std::collections::BTreeMap;
use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_auth::{AuthKeeper, AuthModule, BURNER, MINTER};
use paychain_authority::{AuthorityKeeper, AuthorityModule};
use paychain_bank::{BankKeeper, BankModule};
use paychain_compliance::{ComplianceKeeper, DenomAdmins};
use paychain_fees::{FeesKeeper, FeesModule};
use paychain_framework::{sdk, Address, AnyType, AnyTypes, Module, SdkError};
use paychain_ibc::{IbcModule, TransferModule};
use paychain_tx::decode::{MsgRouter, RoutedMsg};

use crate::ante::FEE_COLLECTOR;

/// Substore of app-level values (chain id, last block time: modules' queries read
/// the time through `paychain_framework::time::committed_block_time`).
pub const APP_STORE: &str = paychain_framework::time::BLOCK_TIME_STORE;

/// The modules and how messages and queries reach them.
pub struct ModuleSet {
    modules: Vec<Box<dyn Module>>,
    msg_routes: BTreeMap<&'static str, usize>,
    query_routes: BTreeMap<&'static str, usize>,
}

impl ModuleSet {
    /// Panics on a route claimed by two modules: that is a wiring bug, found at start.
    pub fn new(modules: Vec<Box<dyn Module>>) -> Self {
        let mut msg_routes = BTreeMap::new();
        let mut query_routes = BTreeMap::new();
        for (i, m) in modules.iter().enumerate() {
            for url in m.msg_type_urls() {
                assert!(msg_routes.insert(*url, i).is_none(), "message {url} routed twice");
            }
            for path in m.query_paths() {
                assert!(query_routes.insert(*path, i).is_none(), "query {path} routed twice");
            }
        }
        Self { modules, msg_routes, query_routes }
    }

    pub fn route_msg(&self, type_url: &str) -> Result<usize, SdkError> {
        self.msg_routes
            .get(type_url)
            .copied()
            .ok_or_else(|| sdk::tx_decode(format!("unable to resolve type URL {type_url}")))
    }

    pub fn route_query(&self, path: &str) -> Option<usize> {
        self.query_routes.get(path).copied()
    }

    pub fn get(&self, index: usize) -> &dyn Module {
        self.modules[index].as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.modules.iter().map(|m| m.as_ref())
    }

    /// Every substore the app needs: the modules' and the app's own.
    pub fn store_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> =
            self.modules.iter().flat_map(|m| m.store_keys().iter().map(|k| k.to_string())).collect();
        keys.push(APP_STORE.to_string());
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The keepers the app itself calls (the ante: accounts, fee deduction, fee tokens), and the module list.
pub struct Wiring {
    pub modules: ModuleSet,
    pub auth: Arc<AuthKeeper>,
    pub bank: Arc<BankKeeper>,
    pub fees: Arc<FeesKeeper>,
}

/// An issued token's admin may attach a compliance policy to its token.
struct IssuedTokenAdmins;

impl DenomAdmins for IssuedTokenAdmins {
    fn admin_of(&self, state: &dyn paychain_framework::StateRead, denom: &str) -> Result<Option<Address>, SdkError> {
        let Some(token) = paychain_assets::keeper::token(state, denom)? else { return Ok(None) };
        let admin = token.roles.map(|r| r.admin).unwrap_or_default();
        Ok(Address::from_bech32(&admin).ok())
    }
}

/// The one place modules are wired together. A new module is one line here.
pub fn wire_modules() -> Wiring {
    let auth = Arc::new(AuthKeeper::new(vec![
        (FEE_COLLECTOR.to_string(), vec![]),
        (paychain_ibc::transfer::MODULE_ACCOUNT.to_string(), vec![MINTER.to_string(), BURNER.to_string()]),
        // Holds escrowed coins; it never mints or burns.
        (paychain_escrow::MODULE_ACCOUNT.to_string(), vec![]),
        // Mints and burns issued tokens.
        (paychain_assets::MODULE_ACCOUNT.to_string(), vec![MINTER.to_string(), BURNER.to_string()]),
        // Holds sends a compliance policy held for review; it never mints or burns.
        (paychain_compliance::keys::HOLDS_ACCOUNT.to_string(), vec![]),
    ]));
    let bank = Arc::new(BankKeeper::new(auth.clone()));
    let authority = Arc::new(AuthorityKeeper::new());
    let fees = Arc::new(FeesKeeper::new(authority.clone()));
    let compliance = Arc::new(ComplianceKeeper::new(authority.clone(), bank.clone()));
    compliance.set_denom_admins(Arc::new(IssuedTokenAdmins));
    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(AuthModule::new(auth.clone())),
        Box::new(BankModule::new(bank.clone())),
        Box::new(IbcModule::new(bank.clone(), auth.clone())),
        Box::new(TransferModule::new(bank.clone(), auth.clone())),
        Box::new(paychain_escrow::EscrowModule::new(bank.clone(), auth.clone())),
        Box::new(paychain_assets::AssetsModule::new(bank.clone(), auth.clone(), authority.clone(), FEE_COLLECTOR)),
        Box::new(paychain_compliance::ComplianceModule::new(compliance, &bank, auth.clone())),
        Box::new(AuthorityModule::new(authority)),
        Box::new(FeesModule::new(fees.clone())),
    ];
    Wiring { modules: ModuleSet::new(modules), auth, bank, fees }
}

/// The `Any` types the REST and tx JSON expand: the tx itself and every module's own.
pub fn any_types() -> AnyTypes {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::Tx;
    let mut types = AnyTypes::new([AnyType::named::<Tx>("/cosmos.tx.v1beta1.Tx")]);
    for module in wire_modules().modules.iter() {
        types.extend(module.any_types());
    }
    types
}

impl MsgRouter for ModuleSet {
    fn route_and_decode(&self, any: &Any) -> Result<RoutedMsg, SdkError> {
        let module = self.route_msg(&any.type_url)?;
        let msg = self.get(module).decode_msg(any)?;
        Ok(RoutedMsg { module, msg })
    }

    fn validate_extension(&self, any: &Any) -> Result<(), SdkError> {
        self.iter().find_map(|m| m.validate_tx_extension(any)).unwrap_or_else(|| {
            Err(sdk::unknown_extension_options(format!("unknown extension option {}", any.type_url)))
        })
    }
}
