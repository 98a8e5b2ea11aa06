//! The `app_state.bank` genesis section, in the SDK's JSON shape:
//!
//! ```json
//! {"params": {"send_enabled": [], "default_send_enabled": true},
//!  "balances": [{"address": "pay1...", "coins": [{"denom": "upay", "amount": "1000"}]}],
//!  "supply": [], "denom_metadata": [], "send_enabled": [{"denom": "x", "enabled": false}]}
//! ```
//!
//! An empty `supply` is computed from the balances; a given one must equal it.

use std::collections::BTreeMap;

use cosmos_sdk_proto::cosmos::bank::v1beta1::{DenomUnit, Metadata};
use paychain_auth::json::{index, parse_u64, Obj};
use paychain_framework::coins::{parse_amount, validate_denom};
use paychain_framework::{Address, Coin, Coins, Context, SdkError, StateRead};
use serde_json::{json, Value};

use crate::keeper::BankKeeper;
use crate::types::{validate_metadata, BankParams, SendEnabled};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub address: Address,
    pub coins: Coins,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BankGenesis {
    pub params: BankParams,
    pub balances: Vec<Balance>,
    /// Empty = computed from the balances.
    pub supply: Coins,
    pub denom_metadata: Vec<Metadata>,
    /// Includes entries given in the deprecated `params.send_enabled`.
    pub send_enabled: Vec<SendEnabled>,
}

impl BankGenesis {
    /// Parses and validates `app_state.bank` (absent or `null` = defaults).
    /// Errors name the field (`bank.balances[1].coins: ...`).
    pub fn from_json(v: Option<&Value>) -> Result<Self, String> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let o = Obj::new(v, "bank")?;
        o.deny_unknown(&["params", "balances", "supply", "denom_metadata", "send_enabled"])?;

        let mut params = BankParams::default();
        let mut legacy_send_enabled = Vec::new();
        if let Some(p) = o.object("params")? {
            p.deny_unknown(&["send_enabled", "default_send_enabled"])?;
            // Absent means the SDK's default genesis value (true), not proto3's false:
            // a hand-written `"params": {}` should not switch sends off.
            params.default_send_enabled = p.bool_or("default_send_enabled", true)?;
            legacy_send_enabled = parse_send_enabled(&p)?;
        }
        let mut send_enabled = parse_send_enabled(&o)?;
        if !legacy_send_enabled.is_empty() {
            if !send_enabled.is_empty() {
                return Err(
                    "bank.params.send_enabled: send_enabled defined in both the send_enabled field and in params (deprecated)"
                        .into(),
                );
            }
            send_enabled = legacy_send_enabled;
        }

        let balances_path = o.field("balances");
        let balances = o
            .array("balances")?
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let b = Obj::new(b, &index(&balances_path, i))?;
                b.deny_unknown(&["address", "coins"])?;
                let address = Address::from_bech32(&b.string("address")?)
                    .map_err(|e| format!("{}: {}", b.field("address"), e.log))?;
                Ok(Balance { address, coins: parse_coins(&b, "coins")? })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let supply = parse_coins(&o, "supply")?;

        let meta_path = o.field("denom_metadata");
        let denom_metadata = o
            .array("denom_metadata")?
            .iter()
            .enumerate()
            .map(|(i, m)| parse_metadata(m, &index(&meta_path, i)))
            .collect::<Result<Vec<_>, String>>()?;

        let genesis = Self { params, balances, supply, denom_metadata, send_enabled };
        genesis.validate()?;
        Ok(genesis)
    }

    /// Checks across entries: duplicates and the supply.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen_denoms: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, se) in self.send_enabled.iter().enumerate() {
            validate_denom(&se.denom).map_err(|e| format!("bank.send_enabled[{i}].denom: {}", e.log))?;
            if let Some(j) = seen_denoms.insert(&se.denom, i) {
                return Err(format!(
                    "bank.send_enabled[{i}].denom: duplicate send enabled found: '{}' (also bank.send_enabled[{j}])",
                    se.denom
                ));
            }
        }
        let mut seen_addrs: BTreeMap<&Address, usize> = BTreeMap::new();
        let mut total = Coins::empty();
        for (i, b) in self.balances.iter().enumerate() {
            if let Some(j) = seen_addrs.insert(&b.address, i) {
                return Err(format!(
                    "bank.balances[{i}].address: duplicate balance for address {} (also bank.balances[{j}])",
                    b.address
                ));
            }
            total = total
                .checked_add(&b.coins)
                .map_err(|_| format!("bank.balances[{i}].coins: total supply overflows a 128-bit amount"))?;
        }
        let mut seen_meta: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, m) in self.denom_metadata.iter().enumerate() {
            validate_metadata(m).map_err(|e| format!("bank.denom_metadata[{i}].{e}"))?;
            if let Some(j) = seen_meta.insert(&m.base, i) {
                return Err(format!(
                    "bank.denom_metadata[{i}].base: duplicate client metadata for denom {} (also bank.denom_metadata[{j}])",
                    m.base
                ));
            }
        }
        if !self.supply.is_empty() && self.supply != total {
            return Err(format!("bank.supply: genesis supply is incorrect, expected {}, got {total}", self.supply));
        }
        Ok(())
    }

    /// The supply genesis establishes: the sum of the balances.
    pub fn total_supply(&self) -> Result<Coins, SdkError> {
        self.balances.iter().try_fold(Coins::empty(), |acc, b| acc.checked_add(&b.coins))
    }

    /// The SDK JSON form (defaults emitted).
    pub fn to_json(&self) -> Value {
        json!({
            "params": {"send_enabled": [], "default_send_enabled": self.params.default_send_enabled},
            "balances": self.balances.iter().map(|b| json!({
                "address": b.address.to_string(),
                "coins": coins_json(&b.coins),
            })).collect::<Vec<_>>(),
            "supply": coins_json(&self.supply),
            "denom_metadata": self.denom_metadata.iter().map(metadata_json).collect::<Vec<_>>(),
            "send_enabled": self.send_enabled.iter().map(|s| json!({"denom": s.denom, "enabled": s.enabled})).collect::<Vec<_>>(),
        })
    }
}

fn coins_json(coins: &Coins) -> Value {
    Value::Array(coins.iter().map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()})).collect())
}

fn metadata_json(m: &Metadata) -> Value {
    json!({
        "description": m.description,
        "denom_units": m.denom_units.iter().map(|u| json!({
            "denom": u.denom, "exponent": u.exponent, "aliases": u.aliases,
        })).collect::<Vec<_>>(),
        "base": m.base,
        "display": m.display,
        "name": m.name,
        "symbol": m.symbol,
        "uri": m.uri,
        "uri_hash": m.uri_hash,
    })
}

/// A coin list that must be a valid set (sorted by denom, no duplicates, positive).
fn parse_coins(o: &Obj, key: &str) -> Result<Coins, String> {
    let path = o.field(key);
    let coins = o
        .array(key)?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = Obj::new(c, &index(&path, i))?;
            c.deny_unknown(&["denom", "amount"])?;
            let denom = c.string("denom")?;
            validate_denom(&denom).map_err(|e| format!("{}: {}", c.field("denom"), e.log))?;
            let amount = parse_amount(&c.string("amount")?).map_err(|e| format!("{}: {}", c.field("amount"), e.log))?;
            Ok(Coin { denom, amount })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Coins::new(coins).map_err(|e| format!("{path}: {}", e.log))
}

fn parse_send_enabled(o: &Obj) -> Result<Vec<SendEnabled>, String> {
    let path = o.field("send_enabled");
    o.array("send_enabled")?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = Obj::new(s, &index(&path, i))?;
            s.deny_unknown(&["denom", "enabled"])?;
            let denom = s.string("denom")?;
            validate_denom(&denom).map_err(|e| format!("{}: {}", s.field("denom"), e.log))?;
            // proto3: an absent bool is false.
            Ok(SendEnabled { denom, enabled: s.bool_or("enabled", false)? })
        })
        .collect()
}

fn parse_metadata(v: &Value, path: &str) -> Result<Metadata, String> {
    let o = Obj::new(v, path)?;
    o.deny_unknown(&["description", "denom_units", "base", "display", "name", "symbol", "uri", "uri_hash"])?;
    let units_path = o.field("denom_units");
    let denom_units = o
        .array("denom_units")?
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let u = Obj::new(u, &index(&units_path, i))?;
            u.deny_unknown(&["denom", "exponent", "aliases"])?;
            let exponent = match u.get("exponent") {
                None => 0,
                Some(e) => {
                    let n = parse_u64(e, &u.field("exponent"))?;
                    u32::try_from(n).map_err(|_| format!("{}: exponent {n} out of range", u.field("exponent")))?
                }
            };
            Ok(DenomUnit { denom: u.string("denom")?, exponent, aliases: u.strings("aliases")? })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Metadata {
        description: o.string("description")?,
        denom_units,
        base: o.string("base")?,
        display: o.string("display")?,
        name: o.string("name")?,
        symbol: o.string("symbol")?,
        uri: o.string("uri")?,
        uri_hash: o.string("uri_hash")?,
    })
}

/// Loads genesis. Balance holders without an auth account get one (in
/// balance order), so a genesis that lists only balances is usable.
pub fn init_genesis(keeper: &BankKeeper, ctx: &mut Context, genesis: &BankGenesis) -> Result<(), SdkError> {
    genesis.validate().map_err(genesis_error)?;
    keeper.set_params(ctx, &genesis.params)?;
    for se in &genesis.send_enabled {
        keeper.set_send_enabled(ctx, &se.denom, se.enabled)?;
    }
    let mut balances: Vec<&Balance> = genesis.balances.iter().collect();
    balances.sort_by(|a, b| a.address.as_bytes().cmp(b.address.as_bytes()));
    for b in balances {
        for c in &b.coins {
            keeper.init_balance(ctx, &b.address, c)?;
        }
        keeper.ensure_account(ctx, &b.address)?;
    }
    for c in &genesis.total_supply()? {
        keeper.init_supply(ctx, c)?;
    }
    for m in &genesis.denom_metadata {
        keeper.set_denom_metadata(ctx, m)?;
    }
    Ok(())
}

fn genesis_error(msg: String) -> SdkError {
    SdkError::new(paychain_framework::error::SDK_CODESPACE, 18, format!("invalid bank genesis: {msg}"))
}

pub(crate) fn parse_error(msg: String) -> SdkError {
    genesis_error(msg)
}

/// Exports the state: balances sorted by address, the supply, metadata and
/// send-enabled entries in store order.
pub fn export_genesis(keeper: &BankKeeper, state: &dyn StateRead) -> Result<BankGenesis, SdkError> {
    Ok(BankGenesis {
        params: keeper.params(state)?,
        balances: keeper
            .all_account_balances(state)?
            .into_iter()
            .map(|(address, coins)| Balance { address, coins })
            .collect(),
        supply: keeper.total_supply(state)?,
        denom_metadata: keeper.all_denom_metadata(state)?,
        send_enabled: keeper.send_enabled_entries(state)?,
    })
}
/// A new chain's bank section: no balances, the fee denom's metadata (micro-units, displayed
/// as the denom without its `u`, exponent 6).
pub fn default_genesis_json(fee_denom: &str) -> Value {
    let display = fee_denom.strip_prefix('u').unwrap_or(fee_denom);
    serde_json::json!({
        "params": { "send_enabled": [], "default_send_enabled": true },
        "balances": [],
        "supply": [],
        "denom_metadata": [{
            "description": format!("The native token of paychain ({display})"),
            "denom_units": [
                { "denom": fee_denom, "exponent": 0, "aliases": [] },
                { "denom": display, "exponent": 6, "aliases": [] }
            ],
            "base": fee_denom,
            "display": display,
            "name": display.to_uppercase(),
            "symbol": display.to_uppercase(),
            "uri": "",
            "uri_hash": ""
        }],
        "send_enabled": []
    })
}
