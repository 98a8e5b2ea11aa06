//! The auth keeper: accounts, account numbers, params, and the module accounts
//! the app registers at construction.

use paychain_framework::state::{decode_tagged_proto, encode_tagged_proto};
use paychain_framework::{sdk, Address, Context, SdkError, SetDigest, StateRead};

use crate::account::{Account, AuthParams};
use crate::keys::{self, STORE_KEY};

/// A module account the app registers: its name, address and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleAccountPerms {
    pub name: String,
    pub address: Address,
    pub permissions: Vec<String>,
}

pub struct AuthKeeper {
    /// In registration order: module accounts missing at genesis are created in
    /// this order, so their account numbers do not depend on anything else.
    module_accounts: Vec<ModuleAccountPerms>,
}

/// Corrupt stored bytes are a failure of the node, never of the input.
fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("auth: corrupt {what} in store: {e}"))
}

impl AuthKeeper {
    /// `module_accounts`: `(name, permissions)`, e.g. `("fee_collector", vec![])`.
    ///
    /// # Panics
    /// On an empty or duplicate name or permission: that is a wiring bug.
    pub fn new(module_accounts: Vec<(String, Vec<String>)>) -> Self {
        let mut out: Vec<ModuleAccountPerms> = Vec::new();
        for (name, permissions) in module_accounts {
            assert!(!name.trim().is_empty(), "module account name cannot be blank");
            assert!(out.iter().all(|m| m.name != name), "module account {name} registered twice");
            for (i, p) in permissions.iter().enumerate() {
                assert!(!p.trim().is_empty(), "module account {name}: blank permission");
                assert!(!permissions[..i].contains(p), "module account {name}: duplicate permission {p}");
            }
            out.push(ModuleAccountPerms { address: Address::module(&name), name, permissions });
        }
        Self { module_accounts: out }
    }

    /// A module account's address: `sha256(name)[..20]`, as the SDK's `address.Module`.
    pub fn module_address(name: &str) -> Address {
        Address::module(name)
    }

    pub fn registered_module_accounts(&self) -> &[ModuleAccountPerms] {
        &self.module_accounts
    }

    fn registered(&self, name: &str) -> Option<&ModuleAccountPerms> {
        self.module_accounts.iter().find(|m| m.name == name)
    }

    /// The registered permissions of a module account (`None`: not registered).
    pub fn module_permissions(&self, name: &str) -> Option<&[String]> {
        self.registered(name).map(|m| m.permissions.as_slice())
    }

    /// Whether a registered module account has `permission`. Permission checks
    /// use the registration, not stored accounts, so genesis cannot grant them.
    pub fn has_permission(&self, name: &str, permission: &str) -> bool {
        self.module_permissions(name).is_some_and(|ps| ps.iter().any(|p| p == permission))
    }

    /// The name of the registered module account at `addr`, if any.
    pub fn module_name_of(&self, addr: &Address) -> Option<&str> {
        self.module_accounts.iter().find(|m| &m.address == addr).map(|m| m.name.as_str())
    }

    pub fn account(&self, state: &dyn StateRead, addr: &Address) -> Result<Option<Account>, SdkError> {
        match state.get(STORE_KEY, &keys::account_key(addr))? {
            None => Ok(None),
            Some(bytes) => Account::decode(&bytes).map(Some).map_err(|e| corrupt(format!("account {addr}"), e.log)),
        }
    }

    /// Existence check at the SDK's `Has` gas cost.
    pub fn has_account(&self, ctx: &Context, addr: &Address) -> Result<bool, SdkError> {
        ctx.has(STORE_KEY, &keys::account_key(addr))
    }

    /// The address holding `account_number`, if any.
    pub fn address_by_account_number(&self, state: &dyn StateRead, number: u64) -> Result<Option<Address>, SdkError> {
        match state.get(STORE_KEY, &keys::account_number_key(number))? {
            None => Ok(None),
            Some(bytes) => Address::from_bytes(bytes).map(Some).map_err(|e| corrupt("account number index", e.log)),
        }
    }

    /// Every account, in store (address) order. For export and invariants.
    pub fn accounts(&self, state: &dyn StateRead) -> Result<Vec<Account>, SdkError> {
        let mut out = Vec::new();
        for entry in state.prefix(STORE_KEY, keys::ACCOUNT_PREFIX, false)? {
            let (key, value) = entry?;
            let acc = Account::decode(&value).map_err(|e| corrupt(format!("account at key {}", hex(&key)), e.log))?;
            out.push(acc);
        }
        Ok(out)
    }

    /// Writes an account (and its account-number index entry). Refuses an
    /// invalid account or an account number already held by another address.
    pub fn set_account(&self, ctx: &mut Context, acc: &Account) -> Result<(), SdkError> {
        acc.validate()?;
        let old = self.account(ctx, &acc.address)?;
        let old_number = old.as_ref().map(|a| a.account_number);
        if old_number != Some(acc.account_number) {
            let index_key = keys::account_number_key(acc.account_number);
            if let Some(holder) = self.address_by_account_number(ctx, acc.account_number)? {
                if holder != acc.address {
                    return Err(sdk::logic(format!(
                        "account number {} is already used by {holder}",
                        acc.account_number
                    )));
                }
            }
            if let Some(n) = old_number {
                ctx.delete(STORE_KEY, keys::account_number_key(n))?;
            }
            ctx.set(STORE_KEY, index_key, acc.address.as_bytes().to_vec())?;
        }
        ctx.set(STORE_KEY, keys::account_key(&acc.address), acc.encode())
    }

    /// The next account number, reserved (the SDK's `NextAccountNumber`).
    pub fn next_account_number(&self, ctx: &mut Context) -> Result<u64, SdkError> {
        let n = self.peek_next_account_number(ctx)?;
        let next = n.checked_add(1).ok_or_else(|| sdk::logic("account numbers exhausted"))?;
        ctx.set(STORE_KEY, keys::GLOBAL_ACCOUNT_NUMBER_KEY.to_vec(), next.to_be_bytes().to_vec())?;
        Ok(n)
    }

    /// The number the next new account will get, without reserving it.
    pub fn peek_next_account_number(&self, state: &dyn StateRead) -> Result<u64, SdkError> {
        match state.get(STORE_KEY, keys::GLOBAL_ACCOUNT_NUMBER_KEY)? {
            None => Ok(0),
            Some(b) => {
                let arr: [u8; 8] =
                    b.as_slice().try_into().map_err(|_| corrupt("global account number", "not 8 bytes"))?;
                Ok(u64::from_be_bytes(arr))
            }
        }
    }

    /// Raises the next account number to at least `n` (genesis import).
    pub(crate) fn bump_next_account_number(&self, ctx: &mut Context, n: u64) -> Result<(), SdkError> {
        if self.peek_next_account_number(ctx)? < n {
            ctx.set(STORE_KEY, keys::GLOBAL_ACCOUNT_NUMBER_KEY.to_vec(), n.to_be_bytes().to_vec())?;
        }
        Ok(())
    }

    /// Creates and stores a new account for `addr` with the next account number.
    /// A registered module address gets its `ModuleAccount`. Errors if an account
    /// already exists (overwriting would reset its sequence and allow replays).
    pub fn create_account(&self, ctx: &mut Context, addr: &Address) -> Result<Account, SdkError> {
        if self.account(ctx, addr)?.is_some() {
            return Err(sdk::invalid_request(format!("account {addr} already exists")));
        }
        let number = self.next_account_number(ctx)?;
        let acc = match self.module_name_of(addr).and_then(|n| self.registered(n)) {
            Some(m) => Account::new_module(&m.name, m.permissions.clone(), number),
            None => Account::new(addr.clone(), number),
        };
        self.set_account(ctx, &acc)?;
        Ok(acc)
    }

    /// Creates the account on first receipt of funds (the SDK's bank `SendCoins`
    /// does `HasAccount` + `SetAccount(NewAccountWithAddress)`).
    pub fn ensure_account(&self, ctx: &mut Context, addr: &Address) -> Result<(), SdkError> {
        if !self.has_account(ctx, addr)? {
            self.create_account(ctx, addr)?;
        }
        Ok(())
    }

    /// The stored module account `name`, if it exists.
    pub fn get_module_account(&self, state: &dyn StateRead, name: &str) -> Result<Option<Account>, SdkError> {
        let Some(acc) = self.account(state, &Address::module(name))? else {
            return Ok(None);
        };
        match &acc.module {
            Some(m) if m.name == name => Ok(Some(acc)),
            _ => Err(sdk::logic(format!("account {} is not the module account {name}", acc.address))),
        }
    }

    /// The registered module account `name`, created if missing (the SDK's
    /// `GetModuleAccount`). Errors for a name the app did not register.
    pub fn module_account(&self, ctx: &mut Context, name: &str) -> Result<Account, SdkError> {
        let Some(reg) = self.registered(name) else {
            return Err(sdk::unknown_address(format!("module account {name} does not exist")));
        };
        if let Some(acc) = self.get_module_account(ctx, name)? {
            return Ok(acc);
        }
        let address = reg.address.clone();
        self.create_account(ctx, &address)
    }

    /// Stored params, or the defaults before genesis wrote any.
    pub fn params(&self, state: &dyn StateRead) -> Result<AuthParams, SdkError> {
        match state.get(STORE_KEY, keys::PARAMS_KEY)? {
            None => Ok(AuthParams::default()),
            Some(b) => decode_tagged_proto::<cosmos_sdk_proto::cosmos::auth::v1beta1::Params>(&b)
                .map(|p| AuthParams::from_proto(&p))
                .map_err(|e| corrupt("params", e)),
        }
    }

    pub fn set_params(&self, ctx: &mut Context, params: &AuthParams) -> Result<(), SdkError> {
        params.validate().map_err(|e| sdk::invalid_request(format!("invalid auth params: {e}")))?;
        ctx.set(STORE_KEY, keys::PARAMS_KEY.to_vec(), encode_tagged_proto(&params.to_proto()))
    }

    /// Consistency of the account store: keys match the accounts in them, the
    /// number index maps both ways, and the next number is above every number.
    pub fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        // One sequential scan of each side (no index lookup per account: at 10M accounts those
        // are random reads); only a mismatch pays for the search that names it.
        let next = self.peek_next_account_number(state).map_err(|e| e.log)?;
        let mut accounts = SetDigest::default();
        for entry in state.prefix(STORE_KEY, keys::ACCOUNT_PREFIX, false).map_err(|e| e.log)? {
            let (key, value) = entry.map_err(|e| e.log)?;
            let acc = Account::decode(&value)
                .map_err(|e| format!("auth: undecodable account at key {}: {}", hex(&key), e.log))?;
            if key != keys::account_key(&acc.address) {
                return Err(format!("auth: account {} stored under key {}", acc.address, hex(&key)));
            }
            if acc.account_number >= next {
                return Err(format!(
                    "auth: account {} has number {} but the next account number is {next}",
                    acc.address, acc.account_number
                ));
            }
            accounts.add(&[&acc.account_number.to_be_bytes(), acc.address.as_bytes()]);
        }
        let mut indexed = SetDigest::default();
        for entry in state.prefix(STORE_KEY, keys::ACCOUNT_NUMBER_PREFIX, false).map_err(|e| e.log)? {
            let (key, address) = entry.map_err(|e| e.log)?;
            let number = key.strip_prefix(keys::ACCOUNT_NUMBER_PREFIX).unwrap_or(&key);
            indexed.add(&[number, &address]);
        }
        if indexed != accounts {
            return Err(self.locate_number_index_mismatch(state, accounts.count(), indexed.count()));
        }
        Ok(())
    }

    /// Names what differs between the accounts and the number index (they hold `accounts` and
    /// `indexed` entries and their digests differ).
    fn locate_number_index_mismatch(&self, state: &dyn StateRead, accounts: u64, indexed: u64) -> String {
        let search = || -> Result<Option<String>, SdkError> {
            for entry in state.prefix(STORE_KEY, keys::ACCOUNT_PREFIX, false)? {
                let (_, value) = entry?;
                let Ok(acc) = Account::decode(&value) else { continue };
                match self.address_by_account_number(state, acc.account_number)? {
                    Some(a) if a == acc.address => {}
                    other => {
                        return Ok(Some(format!(
                            "auth: account number index for {} points to {other:?}, expected {}",
                            acc.account_number, acc.address
                        )))
                    }
                }
            }
            Ok(None)
        };
        match search() {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => format!("auth: {indexed} account number index entries for {accounts} accounts"),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
