//! The assets messages: decoding and every check that needs no state. The
//! keeper makes the stateful ones. Every message is signed by its first field's
//! address. All are carried by one type, [`AssetsMsg`]: a signer and a [`Body`].
//!
//! Every message has a legacy amino JSON form ([`AssetsMsg::amino_json`]), so
//! multisig role holders sign them.

use std::any::Any as StdAny;
use std::collections::BTreeSet;

use cosmos_sdk_proto::Any;
use paychain_framework::coins::parse_amount;
use paychain_framework::module::decode_any;
use paychain_framework::{sdk, Address, Msg, SdkError, TypeUrl};

use crate::errors;
use crate::pb::{self, Feature, Role};

pub use paychain_framework::note::{Note, MAX_REASON_LEN, MAX_REFERENCE_LEN};

/// Limits of the token's descriptive fields (bytes).
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_DESCRIPTION_LEN: usize = 512;
pub const MAX_URI_LEN: usize = 256;
/// Largest precision (the SDK's and Ethereum's 18 decimals).
pub const MAX_PRECISION: u32 = 18;
/// Largest transfer fee: half of every transfer.
pub const MAX_TRANSFER_FEE_BPS: u32 = 5_000;

/// A role holder's reason and reference, as the assets codespace reports them.
pub fn note(reason: &str, reference: &str) -> Result<Note, SdkError> {
    Note::new(reason, reference)
        .map_err(|e| e.to_sdk(errors::invalid_reason, errors::reference_too_long, errors::invalid_reference))
}

/// The issued token's denom: `<subunit>-<issuer bech32>`. Subunits have no `-` and
/// bech32 addresses none either, so the split is unique and two issuers (or two
/// subunits of one issuer) can never make the same denom.
pub fn token_denom(subunit: &str, issuer: &Address) -> String {
    format!("{subunit}-{issuer}")
}

/// Whether `denom` has an issued token's shape (no state read).
pub fn is_issued_denom(denom: &str) -> bool {
    denom.contains('-') && !denom.contains('/')
}

/// 3 to 40 characters of `[a-z0-9]`, starting with a letter.
pub fn validate_subunit(subunit: &str) -> Result<(), SdkError> {
    let b = subunit.as_bytes();
    let ok = (3..=40).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_subunit(format!(
            "subunit must be 3 to 40 characters of [a-z0-9] starting with a letter, got {subunit:?}"
        )))
    }
}

/// 3 to 12 characters of `[A-Za-z0-9]`, starting with a letter (it is the display
/// unit of the bank metadata, so it must be a valid denom).
pub fn validate_symbol(symbol: &str) -> Result<(), SdkError> {
    let b = symbol.as_bytes();
    let ok = (3..=12).contains(&b.len()) && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_metadata(format!(
            "symbol must be 3 to 12 characters of [A-Za-z0-9] starting with a letter, got {symbol:?}"
        )))
    }
}

fn text(value: &str, what: &str, max: usize) -> Result<(), SdkError> {
    if value.len() > max {
        return Err(errors::invalid_metadata(format!("{what} is {} bytes, at most {max}", value.len())));
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(errors::invalid_metadata(format!("{what} contains the control character {c:?}")));
    }
    Ok(())
}

/// An address field, naming it in the error.
pub(crate) fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

/// An optional address field (empty = none).
fn opt_address(s: &str, what: &str) -> Result<Option<Address>, SdkError> {
    if s.is_empty() {
        Ok(None)
    } else {
        address(s, what).map(Some)
    }
}

/// An amount field; `positive` refuses 0. Empty reads as 0.
fn amount(s: &str, what: &str, positive: bool) -> Result<u128, SdkError> {
    let v = if s.is_empty() { 0 } else { parse_amount(s).map_err(|e| e.wrap(what))? };
    if positive && v == 0 {
        return Err(errors::invalid_amount(format!("{what} must be positive")));
    }
    Ok(v)
}

fn denom(s: &str) -> Result<String, SdkError> {
    paychain_framework::coins::validate_denom(s)?;
    Ok(s.to_string())
}

pub fn feature(v: i32) -> Result<Feature, SdkError> {
    match Feature::try_from(v) {
        Ok(Feature::Unspecified) | Err(_) => Err(errors::invalid_feature(format!("unknown feature {v}"))),
        Ok(f) => Ok(f),
    }
}

fn role(v: i32) -> Result<Role, SdkError> {
    match Role::try_from(v) {
        Ok(Role::Unspecified) | Err(_) => Err(errors::invalid_role(format!("unknown role {v}"))),
        Ok(r) => Ok(r),
    }
}

/// The feature a role acts for (`None`: the treasury, which every token has).
pub fn role_feature(role: Role) -> Option<Feature> {
    match role {
        Role::MasterMinter => Some(Feature::Minting),
        Role::Freezer => Some(Feature::Freezing),
        Role::Pauser => Some(Feature::Pausing),
        Role::Clawback => Some(Feature::Clawback),
        Role::Allowlister => Some(Feature::Allowlist),
        Role::Treasury | Role::Unspecified => None,
    }
}

/// The admin, master minter, freezer and pauser, where assigned, are four
/// different addresses: no single key may both create money and stop it.
pub fn check_separation(roles: &pb::Roles) -> Result<(), SdkError> {
    let mut seen = BTreeSet::new();
    for (name, a) in [
        ("admin", &roles.admin),
        ("master_minter", &roles.master_minter),
        ("freezer", &roles.freezer),
        ("pauser", &roles.pauser),
    ] {
        if !a.is_empty() && !seen.insert(a.as_str()) {
            return Err(errors::roles_not_separate(format!("{name} {a} already holds another of these roles")));
        }
    }
    Ok(())
}

/// `MsgIssue`, statelessly valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub subunit: String,
    pub symbol: String,
    pub name: String,
    pub precision: u32,
    pub description: String,
    pub uri: String,
    pub uri_hash: String,
    pub max_supply: u128,
    /// Sorted, distinct.
    pub features: Vec<Feature>,
    pub initial_supply: u128,
    pub transfer_fee_bps: u32,
    pub balance_cap: u128,
    pub master_minter: Option<Address>,
    pub freezer: Option<Address>,
    pub pauser: Option<Address>,
    pub clawback: Option<Address>,
    pub allowlister: Option<Address>,
    pub treasury: Option<Address>,
}

impl Issue {
    fn from_proto(m: &pb::MsgIssue) -> Result<Self, SdkError> {
        validate_subunit(&m.subunit)?;
        validate_symbol(&m.symbol)?;
        if m.name.trim().is_empty() {
            return Err(errors::invalid_metadata("name cannot be blank"));
        }
        text(&m.name, "name", MAX_NAME_LEN)?;
        text(&m.description, "description", MAX_DESCRIPTION_LEN)?;
        text(&m.uri, "uri", MAX_URI_LEN)?;
        if m.precision > MAX_PRECISION {
            return Err(errors::invalid_metadata(format!(
                "precision must be at most {MAX_PRECISION}, got {}",
                m.precision
            )));
        }
        let uri_hash_ok = m.uri_hash.is_empty()
            || (m.uri_hash.len() == 64 && m.uri_hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        if !uri_hash_ok {
            return Err(errors::invalid_metadata("uri_hash must be empty or 64 lowercase hex characters (SHA-256)"));
        }
        let mut features = Vec::with_capacity(m.features.len());
        for &f in &m.features {
            features.push(feature(f)?);
        }
        let mut sorted = features.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != features.len() {
            return Err(errors::invalid_feature("features are listed twice"));
        }
        let has = |f: Feature| sorted.contains(&f);
        let max_supply = amount(&m.max_supply, "max_supply", false)?;
        let initial_supply = amount(&m.initial_supply, "initial_supply", false)?;
        if max_supply > 0 && initial_supply > max_supply {
            return Err(errors::max_supply_exceeded(format!(
                "initial_supply {initial_supply} is above max_supply {max_supply}"
            )));
        }
        let balance_cap = amount(&m.balance_cap, "balance_cap", false)?;
        if has(Feature::BalanceCap) != (balance_cap > 0) {
            return Err(errors::invalid_balance_cap(
                "a positive balance_cap goes with FEATURE_BALANCE_CAP, and only with it",
            ));
        }
        if has(Feature::TransferFee) != (m.transfer_fee_bps > 0) || m.transfer_fee_bps > MAX_TRANSFER_FEE_BPS {
            return Err(errors::invalid_transfer_fee(format!(
                "transfer_fee_bps goes with FEATURE_TRANSFER_FEE, from 1 to {MAX_TRANSFER_FEE_BPS}; got {}",
                m.transfer_fee_bps
            )));
        }
        let issue = Self {
            subunit: m.subunit.clone(),
            symbol: m.symbol.clone(),
            name: m.name.clone(),
            precision: m.precision,
            description: m.description.clone(),
            uri: m.uri.clone(),
            uri_hash: m.uri_hash.clone(),
            max_supply,
            features: sorted,
            initial_supply,
            transfer_fee_bps: m.transfer_fee_bps,
            balance_cap,
            master_minter: opt_address(&m.master_minter, "master_minter")?,
            freezer: opt_address(&m.freezer, "freezer")?,
            pauser: opt_address(&m.pauser, "pauser")?,
            clawback: opt_address(&m.clawback, "clawback")?,
            allowlister: opt_address(&m.allowlister, "allowlister")?,
            treasury: opt_address(&m.treasury, "treasury")?,
        };
        for (role, holder) in [
            (Role::MasterMinter, &issue.master_minter),
            (Role::Freezer, &issue.freezer),
            (Role::Pauser, &issue.pauser),
            (Role::Clawback, &issue.clawback),
            (Role::Allowlister, &issue.allowlister),
        ] {
            if let (Some(f), Some(_)) = (role_feature(role), holder) {
                if !issue.features.contains(&f) {
                    return Err(errors::feature_disabled(format!("{} needs {}", role.as_str_name(), f.as_str_name())));
                }
            }
        }
        Ok(issue)
    }
}

/// What a message asks, after decoding.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Issue(Box<Issue>),
    Mint {
        denom: String,
        recipient: Address,
        amount: u128,
        note: Note,
    },
    Burn {
        denom: String,
        amount: u128,
        note: Note,
    },
    ConfigureMinter {
        denom: String,
        minter: Address,
        allowance: u128,
        note: Note,
    },
    Freeze {
        denom: String,
        account: Address,
        amount: u128,
        note: Note,
    },
    Unfreeze {
        denom: String,
        account: Address,
        amount: u128,
        note: Note,
    },
    FreezeAccount {
        denom: String,
        account: Address,
        note: Note,
    },
    UnfreezeAccount {
        denom: String,
        account: Address,
        note: Note,
    },
    Pause {
        denom: String,
        note: Note,
    },
    Unpause {
        denom: String,
        note: Note,
    },
    Clawback {
        denom: String,
        account: Address,
        amount: u128,
        note: Note,
    },
    SetAllowed {
        denom: String,
        account: Address,
        allowed: bool,
        note: Note,
    },
    SetRole {
        denom: String,
        role: Role,
        address: Option<Address>,
        note: Note,
    },
    ProposeAdmin {
        denom: String,
        new_admin: Option<Address>,
        note: Note,
    },
    AcceptAdmin {
        denom: String,
    },
    RenounceAdmin {
        denom: String,
        note: Note,
    },
    RenounceFeature {
        denom: String,
        feature: Feature,
        note: Note,
    },
    /// Signed by the chain authority.
    UpdateParams {
        params: pb::Params,
        note: Note,
    },
}

/// Any assets message: its type URL, its one signer and what it asks.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetsMsg {
    pub type_url: &'static str,
    pub signer: Address,
    pub body: Body,
    /// The protobuf bytes as signed (for the amino JSON form).
    pub proto: Vec<u8>,
}

impl Msg for AssetsMsg {
    fn type_url(&self) -> &'static str {
        self.type_url
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.signer.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    /// Amino JSON, as the SDK's legacy codec writes a gogoproto message: type
    /// `paychain/assets/<MsgName>`, proto field names, zero values omitted,
    /// enums and 32-bit integers as numbers. Multisig members sign this form
    /// (`tx sign --multisig`, CosmJS's `makeMultisignedTxBytes`), so a role held by
    /// a multisig account works.
    fn amino_json(&self) -> Option<serde_json::Value> {
        amino_json(self.type_url, &self.proto)
    }
}

fn amino_json(type_url: &str, proto: &[u8]) -> Option<serde_json::Value> {
    use paychain_framework::amino;
    use prost::Message as _;
    macro_rules! render {
        ($($t:ident),*) => {
            match type_url {
                $(pb::$t::TYPE_URL => amino::fields(&pb::$t::decode(proto).ok()?)?,)*
                _ => return None,
            }
        };
    }
    let fields = render!(
        MsgIssue,
        MsgMint,
        MsgBurn,
        MsgConfigureMinter,
        MsgFreeze,
        MsgUnfreeze,
        MsgFreezeAccount,
        MsgUnfreezeAccount,
        MsgPause,
        MsgUnpause,
        MsgClawback,
        MsgSetAllowed,
        MsgSetRole,
        MsgProposeAdmin,
        MsgAcceptAdmin,
        MsgRenounceAdmin,
        MsgRenounceFeature,
        MsgUpdateParams
    );
    let enum_number = |field: &str, name: &str| -> Option<i32> {
        match field {
            "role" => Role::from_str_name(name).map(|r| r as i32),
            _ => Feature::from_str_name(name).map(|f| f as i32),
        }
    };
    let mut out = serde_json::Map::new();
    for (k, v) in fields {
        use serde_json::Value as V;
        // The gateway JSON names enums; amino writes their numbers.
        let v = match (k.as_str(), v) {
            ("role" | "feature", V::String(name)) => V::from(enum_number(&k, &name)?),
            ("features", V::Array(list)) => V::Array(
                list.iter()
                    .map(|f| f.as_str().and_then(|n| enum_number("feature", n)).map(V::from))
                    .collect::<Option<_>>()?,
            ),
            (_, v) => v,
        };
        out.insert(k, v);
    }
    let name = type_url.rsplit('.').next()?;
    Some(amino::msg(&format!("paychain/assets/{name}"), out))
}

/// Every message type URL the module handles, and its response's.
pub const TYPE_URLS: &[&str] = &[
    pb::MsgIssue::TYPE_URL,
    pb::MsgMint::TYPE_URL,
    pb::MsgBurn::TYPE_URL,
    pb::MsgConfigureMinter::TYPE_URL,
    pb::MsgFreeze::TYPE_URL,
    pb::MsgUnfreeze::TYPE_URL,
    pb::MsgFreezeAccount::TYPE_URL,
    pb::MsgUnfreezeAccount::TYPE_URL,
    pb::MsgPause::TYPE_URL,
    pb::MsgUnpause::TYPE_URL,
    pb::MsgClawback::TYPE_URL,
    pb::MsgSetAllowed::TYPE_URL,
    pb::MsgSetRole::TYPE_URL,
    pb::MsgProposeAdmin::TYPE_URL,
    pb::MsgAcceptAdmin::TYPE_URL,
    pb::MsgRenounceAdmin::TYPE_URL,
    pb::MsgRenounceFeature::TYPE_URL,
    pb::MsgUpdateParams::TYPE_URL,
];

fn msg<T: TypeUrl>(signer: Address, body: Body) -> AssetsMsg {
    AssetsMsg { type_url: T::TYPE_URL, signer, body, proto: Vec::new() }
}

/// Decodes and statelessly validates any assets message.
pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    Ok(Box::new(decode_msg(any)?))
}

pub fn decode_msg(any: &Any) -> Result<AssetsMsg, SdkError> {
    let mut m = decode_body(any)?;
    m.proto = any.value.clone();
    Ok(m)
}

fn decode_body(any: &Any) -> Result<AssetsMsg, SdkError> {
    use pb::*;
    Ok(match any.type_url.as_str() {
        MsgIssue::TYPE_URL => {
            let m: MsgIssue = decode_any(any)?;
            msg::<MsgIssue>(address(&m.issuer, "issuer")?, Body::Issue(Box::new(Issue::from_proto(&m)?)))
        }
        MsgMint::TYPE_URL => {
            let m: MsgMint = decode_any(any)?;
            msg::<MsgMint>(
                address(&m.minter, "minter")?,
                Body::Mint {
                    denom: denom(&m.denom)?,
                    recipient: address(&m.recipient, "recipient")?,
                    amount: amount(&m.amount, "amount", true)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgBurn::TYPE_URL => {
            let m: MsgBurn = decode_any(any)?;
            msg::<MsgBurn>(
                address(&m.holder, "holder")?,
                Body::Burn {
                    denom: denom(&m.denom)?,
                    amount: amount(&m.amount, "amount", true)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgConfigureMinter::TYPE_URL => {
            let m: MsgConfigureMinter = decode_any(any)?;
            msg::<MsgConfigureMinter>(
                address(&m.master_minter, "master_minter")?,
                Body::ConfigureMinter {
                    denom: denom(&m.denom)?,
                    minter: address(&m.minter, "minter")?,
                    allowance: amount(&m.allowance, "allowance", false)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgFreeze::TYPE_URL => {
            let m: MsgFreeze = decode_any(any)?;
            msg::<MsgFreeze>(
                address(&m.freezer, "freezer")?,
                Body::Freeze {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    amount: amount(&m.amount, "amount", true)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgUnfreeze::TYPE_URL => {
            let m: MsgUnfreeze = decode_any(any)?;
            msg::<MsgUnfreeze>(
                address(&m.freezer, "freezer")?,
                Body::Unfreeze {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    amount: amount(&m.amount, "amount", true)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgFreezeAccount::TYPE_URL => {
            let m: MsgFreezeAccount = decode_any(any)?;
            msg::<MsgFreezeAccount>(
                address(&m.freezer, "freezer")?,
                Body::FreezeAccount {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgUnfreezeAccount::TYPE_URL => {
            let m: MsgUnfreezeAccount = decode_any(any)?;
            msg::<MsgUnfreezeAccount>(
                address(&m.freezer, "freezer")?,
                Body::UnfreezeAccount {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgPause::TYPE_URL => {
            let m: MsgPause = decode_any(any)?;
            msg::<MsgPause>(
                address(&m.pauser, "pauser")?,
                Body::Pause { denom: denom(&m.denom)?, note: note(&m.reason, &m.reference)? },
            )
        }
        MsgUnpause::TYPE_URL => {
            let m: MsgUnpause = decode_any(any)?;
            msg::<MsgUnpause>(
                address(&m.pauser, "pauser")?,
                Body::Unpause { denom: denom(&m.denom)?, note: note(&m.reason, &m.reference)? },
            )
        }
        MsgClawback::TYPE_URL => {
            let m: MsgClawback = decode_any(any)?;
            msg::<MsgClawback>(
                address(&m.clawback, "clawback")?,
                Body::Clawback {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    amount: amount(&m.amount, "amount", true)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgSetAllowed::TYPE_URL => {
            let m: MsgSetAllowed = decode_any(any)?;
            msg::<MsgSetAllowed>(
                address(&m.allowlister, "allowlister")?,
                Body::SetAllowed {
                    denom: denom(&m.denom)?,
                    account: address(&m.account, "account")?,
                    allowed: m.allowed,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgSetRole::TYPE_URL => {
            let m: MsgSetRole = decode_any(any)?;
            msg::<MsgSetRole>(
                address(&m.admin, "admin")?,
                Body::SetRole {
                    denom: denom(&m.denom)?,
                    role: role(m.role)?,
                    address: opt_address(&m.address, "role")?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgProposeAdmin::TYPE_URL => {
            let m: MsgProposeAdmin = decode_any(any)?;
            msg::<MsgProposeAdmin>(
                address(&m.admin, "admin")?,
                Body::ProposeAdmin {
                    denom: denom(&m.denom)?,
                    new_admin: opt_address(&m.new_admin, "new_admin")?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgAcceptAdmin::TYPE_URL => {
            let m: MsgAcceptAdmin = decode_any(any)?;
            msg::<MsgAcceptAdmin>(address(&m.new_admin, "new_admin")?, Body::AcceptAdmin { denom: denom(&m.denom)? })
        }
        MsgRenounceAdmin::TYPE_URL => {
            let m: MsgRenounceAdmin = decode_any(any)?;
            msg::<MsgRenounceAdmin>(
                address(&m.admin, "admin")?,
                Body::RenounceAdmin { denom: denom(&m.denom)?, note: note(&m.reason, &m.reference)? },
            )
        }
        MsgRenounceFeature::TYPE_URL => {
            let m: MsgRenounceFeature = decode_any(any)?;
            msg::<MsgRenounceFeature>(
                address(&m.admin, "admin")?,
                Body::RenounceFeature {
                    denom: denom(&m.denom)?,
                    feature: feature(m.feature)?,
                    note: note(&m.reason, &m.reference)?,
                },
            )
        }
        MsgUpdateParams::TYPE_URL => {
            let m: MsgUpdateParams = decode_any(any)?;
            let params = m.params.ok_or_else(|| sdk::invalid_request("params are required"))?;
            paychain_framework::Coins::from_proto(&params.issue_fee).map_err(|e| e.wrap("issue_fee"))?;
            msg::<MsgUpdateParams>(
                address(&m.authority, "authority")?,
                Body::UpdateParams { params, note: note(&m.reason, &m.reference)? },
            )
        }
        other => return Err(sdk::unknown_request(format!("unrecognized assets message type: {other}"))),
    })
}
