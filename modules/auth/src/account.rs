//! Accounts and auth params, and their protobuf forms (`BaseAccount`,
//! `ModuleAccount`, `Params`) exactly as the SDK encodes them, so queries can
//! return stored bytes and wallets decode them unchanged.

use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, ModuleAccount, Params};
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as ProtoSecp256k1;
use cosmos_sdk_proto::Any;
use paychain_framework::{sdk, Address, SdkError};
use prost::Message;

pub use crate::pubkey::{validate_secp256k1_pubkey, PubKey, SECP256K1_PUBKEY_LEN, SECP256K1_PUBKEY_TYPE_URL};

pub const BASE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
pub const MODULE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";

/// Module account permissions the SDK defines (`x/auth/types/permissions.go`).
pub const MINTER: &str = "minter";
/// The module account fees are paid to (the SDK's name).
pub const FEE_COLLECTOR: &str = "fee_collector";
pub const BURNER: &str = "burner";
pub const STAKING: &str = "staking";

/// The module-account part of an account: its name and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    pub name: String,
    pub permissions: Vec<String>,
}

/// An account: a `BaseAccount`, or a `ModuleAccount` when `module` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub address: Address,
    /// The account's key (secp256k1 or a multisig), set by the ante handler on first signature.
    pub pub_key: Option<PubKey>,
    pub account_number: u64,
    pub sequence: u64,
    pub module: Option<ModuleInfo>,
}

impl Account {
    /// A fresh base account (no pubkey, sequence 0).
    pub fn new(address: Address, account_number: u64) -> Self {
        Self { address, pub_key: None, account_number, sequence: 0, module: None }
    }

    /// A fresh module account at `Address::module(name)`.
    pub fn new_module(name: &str, permissions: Vec<String>, account_number: u64) -> Self {
        Self {
            address: Address::module(name),
            pub_key: None,
            account_number,
            sequence: 0,
            module: Some(ModuleInfo { name: name.to_string(), permissions }),
        }
    }

    pub fn is_module(&self) -> bool {
        self.module.is_some()
    }

    pub fn has_permission(&self, permission: &str) -> bool {
        self.module.as_ref().is_some_and(|m| m.permissions.iter().any(|p| p == permission))
    }

    pub fn type_url(&self) -> &'static str {
        if self.is_module() {
            MODULE_ACCOUNT_TYPE_URL
        } else {
            BASE_ACCOUNT_TYPE_URL
        }
    }

    /// The `BaseAccount` part (what `Query/AccountInfo` returns).
    pub fn to_base_proto(&self) -> BaseAccount {
        BaseAccount {
            address: self.address.to_string(),
            pub_key: self.pub_key.as_ref().map(PubKey::to_any),
            account_number: self.account_number,
            sequence: self.sequence,
        }
    }

    /// The account as the `Any` that queries return and the store holds.
    pub fn to_any(&self) -> Any {
        let value = match &self.module {
            None => self.to_base_proto().encode_to_vec(),
            Some(m) => ModuleAccount {
                base_account: Some(self.to_base_proto()),
                name: m.name.clone(),
                permissions: m.permissions.clone(),
            }
            .encode_to_vec(),
        };
        Any { type_url: self.type_url().to_string(), value }
    }

    pub fn from_any(any: &Any) -> Result<Self, SdkError> {
        match any.type_url.as_str() {
            BASE_ACCOUNT_TYPE_URL => {
                let base = BaseAccount::decode(any.value.as_slice())
                    .map_err(|e| sdk::unpack_any(format!("decoding BaseAccount: {e}")))?;
                Self::from_base_proto(&base, None)
            }
            MODULE_ACCOUNT_TYPE_URL => {
                let m = ModuleAccount::decode(any.value.as_slice())
                    .map_err(|e| sdk::unpack_any(format!("decoding ModuleAccount: {e}")))?;
                let base = m.base_account.ok_or_else(|| sdk::unpack_any("module account without base_account"))?;
                Self::from_base_proto(&base, Some(ModuleInfo { name: m.name, permissions: m.permissions }))
            }
            other => Err(sdk::unpack_any(format!("unsupported account type {other:?}"))),
        }
    }

    fn from_base_proto(base: &BaseAccount, module: Option<ModuleInfo>) -> Result<Self, SdkError> {
        let address = Address::from_bech32(&base.address)?;
        let pub_key = base.pub_key.as_ref().map(PubKey::from_any).transpose()?;
        Ok(Self { address, pub_key, account_number: base.account_number, sequence: base.sequence, module })
    }

    /// Protobuf `Any` bytes, the stored form.
    pub fn encode(&self) -> Vec<u8> {
        self.to_any().encode_to_vec()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, SdkError> {
        let any = Any::decode(bytes).map_err(|e| sdk::unpack_any(format!("decoding account Any: {e}")))?;
        Self::from_any(&any)
    }

    /// Checks that hold for any account we store: the key is well formed and
    /// belongs to the address, and a module account lives at its name's address.
    pub fn validate(&self) -> Result<(), SdkError> {
        if let Some(key) = &self.pub_key {
            if let PubKey::Secp256k1(k) = key {
                validate_secp256k1_pubkey(k)?;
            }
            if key.address() != self.address {
                return Err(sdk::invalid_pubkey(format!(
                    "account address {} and pubkey address {} do not match",
                    self.address,
                    key.address()
                )));
            }
        }
        if let Some(m) = &self.module {
            if m.name.trim().is_empty() {
                return Err(sdk::invalid_address("module account name cannot be blank"));
            }
            if Address::module(&m.name) != self.address {
                return Err(sdk::invalid_address(format!(
                    "address {} cannot be derived from the module name '{}'",
                    self.address, m.name
                )));
            }
            if self.pub_key.is_some() {
                return Err(sdk::invalid_pubkey(format!("module account {} cannot have a pubkey", m.name)));
            }
        }
        Ok(())
    }
}

pub fn secp256k1_pubkey_any(key: &[u8]) -> Any {
    Any { type_url: SECP256K1_PUBKEY_TYPE_URL.to_string(), value: ProtoSecp256k1 { key: key.to_vec() }.encode_to_vec() }
}

pub fn secp256k1_pubkey_from_any(any: &Any) -> Result<Vec<u8>, SdkError> {
    if any.type_url != SECP256K1_PUBKEY_TYPE_URL {
        return Err(sdk::invalid_pubkey(format!(
            "unsupported pubkey type {:?}; only {SECP256K1_PUBKEY_TYPE_URL} is supported",
            any.type_url
        )));
    }
    let pk = ProtoSecp256k1::decode(any.value.as_slice())
        .map_err(|e| sdk::invalid_pubkey(format!("decoding PubKey: {e}")))?;
    validate_secp256k1_pubkey(&pk.key)?;
    Ok(pk.key)
}

/// `cosmos.auth.v1beta1.Params`, with the SDK defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthParams {
    pub max_memo_characters: u64,
    pub tx_sig_limit: u64,
    pub tx_size_cost_per_byte: u64,
    pub sig_verify_cost_ed25519: u64,
    pub sig_verify_cost_secp256k1: u64,
}

impl Default for AuthParams {
    fn default() -> Self {
        Self {
            max_memo_characters: 256,
            tx_sig_limit: 7,
            tx_size_cost_per_byte: 10,
            sig_verify_cost_ed25519: 590,
            sig_verify_cost_secp256k1: 1000,
        }
    }
}

impl AuthParams {
    /// Field names (proto / JSON) with their values, in proto order.
    pub fn fields(&self) -> [(&'static str, u64); 5] {
        [
            ("max_memo_characters", self.max_memo_characters),
            ("tx_sig_limit", self.tx_sig_limit),
            ("tx_size_cost_per_byte", self.tx_size_cost_per_byte),
            ("sig_verify_cost_ed25519", self.sig_verify_cost_ed25519),
            ("sig_verify_cost_secp256k1", self.sig_verify_cost_secp256k1),
        ]
    }

    /// The SDK requires every param to be positive. Errors name the field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in self.fields() {
            if value == 0 {
                return Err(format!("{name}: must be positive, got 0"));
            }
        }
        Ok(())
    }

    pub fn to_proto(&self) -> Params {
        Params {
            max_memo_characters: self.max_memo_characters,
            tx_sig_limit: self.tx_sig_limit,
            tx_size_cost_per_byte: self.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: self.sig_verify_cost_ed25519,
            sig_verify_cost_secp256k1: self.sig_verify_cost_secp256k1,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: p.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: p.sig_verify_cost_ed25519,
            sig_verify_cost_secp256k1: p.sig_verify_cost_secp256k1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Vec<u8> {
        let mut k = vec![0x02];
        k.extend([7u8; 32]);
        k
    }

    #[test]
    fn base_and_module_accounts_round_trip_through_any() {
        let k = key();
        let mut a = Account::new(Address::from_secp256k1_pubkey(&k), 4);
        a.pub_key = Some(PubKey::Secp256k1(k));
        a.sequence = 9;
        a.validate().unwrap();
        let any = a.to_any();
        assert_eq!(any.type_url, BASE_ACCOUNT_TYPE_URL);
        assert_eq!(Account::decode(&a.encode()).unwrap(), a);

        let m = Account::new_module("escrow", vec![MINTER.into(), BURNER.into()], 2);
        m.validate().unwrap();
        assert_eq!(m.to_any().type_url, MODULE_ACCOUNT_TYPE_URL);
        let back = Account::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        assert!(back.has_permission(MINTER) && !back.has_permission(STAKING));
    }

    #[test]
    fn validation_catches_bad_keys_and_module_addresses() {
        let mut a = Account::new(Address::from_bytes(vec![1; 20]).unwrap(), 0);
        a.pub_key = Some(PubKey::Secp256k1(key()));
        assert_eq!(a.validate().unwrap_err().code, 8, "pubkey of another address");
        a.pub_key = Some(PubKey::Secp256k1(vec![0x02; 10]));
        assert_eq!(a.validate().unwrap_err().code, 8);
        let mut m = Account::new_module("escrow", vec![], 1);
        m.address = Address::module("other");
        assert_eq!(m.validate().unwrap_err().code, 7);
        let bad = Any { type_url: "/cosmos.crypto.ed25519.PubKey".into(), value: vec![] };
        assert_eq!(secp256k1_pubkey_from_any(&bad).unwrap_err().code, 8);
        assert_eq!(Account::from_any(&Any { type_url: "/x.Y".into(), value: vec![] }).unwrap_err().code, 34);
    }

    #[test]
    fn params_defaults_and_validation() {
        let p = AuthParams::default();
        assert_eq!(p.to_proto().sig_verify_cost_secp256k1, 1000);
        assert_eq!(AuthParams::from_proto(&p.to_proto()), p);
        p.validate().unwrap();
        let bad = AuthParams { tx_sig_limit: 0, ..p };
        assert_eq!(bad.validate().unwrap_err(), "tx_sig_limit: must be positive, got 0");
    }
}
