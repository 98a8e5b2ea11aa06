//! The `app_state.auth` genesis section, in the SDK's JSON shape:
//!
//! ```json
//! {"params": {"max_memo_characters": "256", "tx_sig_limit": "7", "tx_size_cost_per_byte": "10",
//!             "sig_verify_cost_ed25519": "590", "sig_verify_cost_secp256k1": "1000"},
//!  "accounts": [{"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": "pay1...",
//!                "pub_key": null, "account_number": "0", "sequence": "0"}]}
//! ```
//!
//! Module accounts are `{"@type": "/cosmos.auth.v1beta1.ModuleAccount",
//! "base_account": {...}, "name": "...", "permissions": [...]}`.

use std::collections::BTreeMap;

use paychain_framework::{Address, Context, SdkError, StateRead};
use serde_json::{json, Value};

use crate::account::{Account, AuthParams, ModuleInfo, PubKey, BASE_ACCOUNT_TYPE_URL, MODULE_ACCOUNT_TYPE_URL};
use crate::json::{index, Obj};
use crate::keeper::AuthKeeper;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthGenesis {
    pub params: AuthParams,
    pub accounts: Vec<Account>,
}

const PARAM_FIELDS: [&str; 5] = [
    "max_memo_characters",
    "tx_sig_limit",
    "tx_size_cost_per_byte",
    "sig_verify_cost_ed25519",
    "sig_verify_cost_secp256k1",
];
const BASE_FIELDS: [&str; 4] = ["address", "pub_key", "account_number", "sequence"];

impl AuthGenesis {
    /// Parses `app_state.auth` (absent or `null` = defaults) with the checks
    /// that need no state or registry. Errors name the field (`auth.params.tx_sig_limit: ...`).
    pub fn from_json(v: Option<&Value>) -> Result<Self, String> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let o = Obj::new(v, "auth")?;
        o.deny_unknown(&["params", "accounts"])?;
        let params = match o.object("params")? {
            None => AuthParams::default(),
            Some(p) => parse_params(&p)?,
        };
        let accounts_path = o.field("accounts");
        let accounts = o
            .array("accounts")?
            .iter()
            .enumerate()
            .map(|(i, a)| parse_account(a, &index(&accounts_path, i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { params, accounts })
    }

    /// The SDK JSON form (u64 as strings, defaults emitted).
    pub fn to_json(&self) -> Value {
        let params: serde_json::Map<String, Value> =
            self.params.fields().iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
        json!({
            "params": params,
            "accounts": self.accounts.iter().map(account_json).collect::<Vec<_>>(),
        })
    }

    /// Checks across accounts and against the app's registered module accounts.
    pub fn validate(&self, keeper: &AuthKeeper) -> Result<(), String> {
        let mut by_addr: BTreeMap<&Address, usize> = BTreeMap::new();
        let mut by_number: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, acc) in self.accounts.iter().enumerate() {
            let path = format!("auth.accounts[{i}]");
            let addr_path =
                if acc.is_module() { format!("{path}.base_account.address") } else { format!("{path}.address") };
            if let Some(j) = by_addr.insert(&acc.address, i) {
                return Err(format!("{addr_path}: duplicate account {} (also auth.accounts[{j}])", acc.address));
            }
            if let Some(j) = by_number.insert(acc.account_number, i) {
                let num_path = if acc.is_module() {
                    format!("{path}.base_account.account_number")
                } else {
                    format!("{path}.account_number")
                };
                return Err(format!(
                    "{num_path}: duplicate account number {} (also used by auth.accounts[{j}])",
                    acc.account_number
                ));
            }
            if let Some(name) = keeper.module_name_of(&acc.address) {
                let registered = keeper.module_permissions(name).unwrap_or_default();
                match &acc.module {
                    None => {
                        return Err(format!(
                            "{addr_path}: address {} is reserved for the module account {name}",
                            acc.address
                        ))
                    }
                    Some(m) if m.permissions.as_slice() != registered => {
                        return Err(format!(
                            "{path}.permissions: module account {name} has permissions {:?} but the app registers {:?}",
                            m.permissions, registered
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

fn parse_params(p: &Obj) -> Result<AuthParams, String> {
    p.deny_unknown(&PARAM_FIELDS)?;
    let d = AuthParams::default();
    let params = AuthParams {
        max_memo_characters: p.u64_or("max_memo_characters", d.max_memo_characters)?,
        tx_sig_limit: p.u64_or("tx_sig_limit", d.tx_sig_limit)?,
        tx_size_cost_per_byte: p.u64_or("tx_size_cost_per_byte", d.tx_size_cost_per_byte)?,
        sig_verify_cost_ed25519: p.u64_or("sig_verify_cost_ed25519", d.sig_verify_cost_ed25519)?,
        sig_verify_cost_secp256k1: p.u64_or("sig_verify_cost_secp256k1", d.sig_verify_cost_secp256k1)?,
    };
    params.validate().map_err(|e| format!("{}.{e}", p.path()))?;
    Ok(params)
}

fn parse_account(v: &Value, path: &str) -> Result<Account, String> {
    let o = Obj::new(v, path)?;
    match o.string("@type")?.as_str() {
        BASE_ACCOUNT_TYPE_URL => {
            o.deny_unknown(&["@type", "address", "pub_key", "account_number", "sequence"])?;
            parse_base(&o)
        }
        MODULE_ACCOUNT_TYPE_URL => {
            o.deny_unknown(&["@type", "base_account", "name", "permissions"])?;
            let base = o.object("base_account")?.ok_or_else(|| format!("{}: missing", o.field("base_account")))?;
            base.deny_unknown(&BASE_FIELDS)?;
            let mut acc = parse_base(&base)?;
            let name = o.string("name")?;
            if name.trim().is_empty() {
                return Err(format!("{}: module account name cannot be blank", o.field("name")));
            }
            if Address::module(&name) != acc.address {
                return Err(format!(
                    "{}: address {} cannot be derived from the module name '{name}'",
                    base.field("address"),
                    acc.address
                ));
            }
            if acc.pub_key.is_some() {
                return Err(format!("{}: a module account cannot have a pubkey", base.field("pub_key")));
            }
            let permissions = o.strings("permissions")?;
            for (i, p) in permissions.iter().enumerate() {
                if p.trim().is_empty() || permissions[..i].contains(p) {
                    return Err(format!("{}: blank or duplicate permission {p:?}", index(&o.field("permissions"), i)));
                }
            }
            acc.module = Some(ModuleInfo { name, permissions });
            Ok(acc)
        }
        "" => Err(format!("{}: missing account type", o.field("@type"))),
        other => Err(format!(
            "{}: unsupported account type {other:?} (expected {BASE_ACCOUNT_TYPE_URL} or {MODULE_ACCOUNT_TYPE_URL})",
            o.field("@type")
        )),
    }
}

fn parse_base(o: &Obj) -> Result<Account, String> {
    let address =
        Address::from_bech32(&o.string("address")?).map_err(|e| format!("{}: {}", o.field("address"), e.log))?;
    let pub_key = match o.get("pub_key") {
        None => None,
        Some(v) => {
            let key = PubKey::from_json(v, &o.field("pub_key"))?;
            if key.address() != address {
                return Err(format!(
                    "{}: pubkey address {} does not match the account address {address}",
                    o.field("pub_key"),
                    key.address()
                ));
            }
            Some(key)
        }
    };
    Ok(Account {
        address,
        pub_key,
        account_number: o.u64_or("account_number", 0)?,
        sequence: o.u64_or("sequence", 0)?,
        module: None,
    })
}

fn base_json(acc: &Account) -> Value {
    let pub_key = acc.pub_key.as_ref().map_or(Value::Null, PubKey::to_json);
    json!({
        "address": acc.address.to_string(),
        "pub_key": pub_key,
        "account_number": acc.account_number.to_string(),
        "sequence": acc.sequence.to_string(),
    })
}

/// An account as the SDK's JSON `Any` (`{"@type": ..., fields...}`).
pub fn account_json(acc: &Account) -> Value {
    match &acc.module {
        None => {
            let mut v = base_json(acc);
            v.as_object_mut().expect("object").insert("@type".into(), BASE_ACCOUNT_TYPE_URL.into());
            v
        }
        Some(m) => json!({
            "@type": MODULE_ACCOUNT_TYPE_URL,
            "base_account": base_json(acc),
            "name": m.name,
            "permissions": m.permissions,
        }),
    }
}

fn genesis_error(msg: String) -> SdkError {
    SdkError::new(paychain_framework::error::SDK_CODESPACE, 18, format!("invalid auth genesis: {msg}"))
}

/// Loads genesis: params, accounts (in account-number order), the next
/// account number above all of them, then any registered module account
/// still missing (in registration order).
pub fn init_genesis(keeper: &AuthKeeper, ctx: &mut Context, genesis: &AuthGenesis) -> Result<(), SdkError> {
    genesis.validate(keeper).map_err(genesis_error)?;
    keeper.set_params(ctx, &genesis.params)?;
    let mut accounts: Vec<&Account> = genesis.accounts.iter().collect();
    accounts.sort_by_key(|a| a.account_number);
    for acc in &accounts {
        keeper.set_account(ctx, acc)?;
    }
    if let Some(last) = accounts.last() {
        let next = last.account_number.checked_add(1).ok_or_else(|| genesis_error("account number overflow".into()))?;
        keeper.bump_next_account_number(ctx, next)?;
    }
    let names: Vec<String> = keeper.registered_module_accounts().iter().map(|m| m.name.clone()).collect();
    for name in names {
        keeper.module_account(ctx, &name)?;
    }
    Ok(())
}

/// Exports params and every account, sorted by account number.
pub fn export_genesis(keeper: &AuthKeeper, state: &dyn StateRead) -> Result<AuthGenesis, SdkError> {
    let mut accounts = keeper.accounts(state)?;
    accounts.sort_by_key(|a| a.account_number);
    Ok(AuthGenesis { params: keeper.params(state)?, accounts })
}
