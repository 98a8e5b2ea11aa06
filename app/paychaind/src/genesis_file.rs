//! Editing a genesis file: reading and writing it atomically, adding a
//! funded account, parsing coins given on the command line.

use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use paychain_framework::{Address, Coin, Coins};
use serde_json::{json, Map, Value};

pub const BASE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
pub const MODULE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";

/// Parses coins from the command line; they must be non-empty and positive.
pub use paychain_client::cli::parse_positive_coins;

pub fn read_genesis(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading genesis file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("genesis file {} is not valid JSON", path.display()))
}

/// Writes genesis pretty-printed, atomically.
pub fn write_genesis(path: &Path, genesis: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(genesis)?;
    text.push('\n');
    crate::cometbft::write_atomic(path, text.as_bytes())
}

/// The object at `parent[key]`, created if missing; errors name the field.
fn object_field<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
    field: &str,
) -> anyhow::Result<&'a mut Map<String, Value>> {
    parent.entry(key).or_insert_with(|| json!({})).as_object_mut().ok_or_else(|| anyhow!("{field} is not an object"))
}

fn array_field<'a>(parent: &'a mut Map<String, Value>, key: &str, field: &str) -> anyhow::Result<&'a mut Vec<Value>> {
    let v = parent.entry(key).or_insert_with(|| json!([]));
    if v.is_null() {
        *v = json!([]);
    }
    v.as_array_mut().ok_or_else(|| anyhow!("{field} is not an array"))
}

/// A u64 written as a string (or, leniently, a number), as genesis stores them.
fn u64_field(v: &Value, field: &str) -> anyhow::Result<u64> {
    match v {
        Value::String(s) => s.parse().map_err(|_| anyhow!("{field}: {s:?} is not an unsigned integer")),
        Value::Number(n) => n.as_u64().ok_or_else(|| anyhow!("{field}: {n} is not an unsigned integer")),
        _ => bail!("{field} is missing or not a string"),
    }
}

/// The address of an account entry (BaseAccount, or ModuleAccount's base_account).
fn account_address<'a>(acc: &'a Value, field: &str) -> anyhow::Result<(&'a str, &'a Value)> {
    let base = match acc.get("@type").and_then(Value::as_str) {
        Some(BASE_ACCOUNT_TYPE_URL) => acc,
        Some(MODULE_ACCOUNT_TYPE_URL) => {
            acc.get("base_account").ok_or_else(|| anyhow!("{field}.base_account is missing"))?
        }
        Some(other) => bail!("{field}.@type: unsupported account type {other:?}"),
        None => bail!("{field}.@type is missing"),
    };
    let address = base.get("address").and_then(Value::as_str).ok_or_else(|| anyhow!("{field}: address is missing"))?;
    Ok((address, base))
}

fn coins_from_json(v: &Value, field: &str) -> anyhow::Result<Coins> {
    let items = v.as_array().ok_or_else(|| anyhow!("{field} is not an array"))?;
    let mut coins = Vec::with_capacity(items.len());
    for (i, c) in items.iter().enumerate() {
        let denom = c.get("denom").and_then(Value::as_str).ok_or_else(|| anyhow!("{field}[{i}].denom is missing"))?;
        let amount = c
            .get("amount")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{field}[{i}].amount is missing or not a string"))?;
        paychain_framework::coins::validate_denom(denom).map_err(|e| anyhow!("{field}[{i}].denom: {}", e.log))?;
        let amount =
            paychain_framework::coins::parse_amount(amount).map_err(|e| anyhow!("{field}[{i}].amount: {}", e.log))?;
        coins.push(Coin::new(amount, denom));
    }
    Coins::normalize(coins).map_err(|e| anyhow!("{field}: {}", e.log))
}

fn coins_to_json(coins: &Coins) -> Value {
    Value::Array(coins.iter().map(|c| json!({ "denom": c.denom, "amount": c.amount.to_string() })).collect())
}

/// Names the chain authority (`app_state.authority.authority`), clearing any
/// pending successor.
pub fn set_genesis_authority(genesis: &mut Value, address: &Address) -> anyhow::Result<()> {
    let app_state = genesis
        .get_mut("app_state")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow::anyhow!("genesis has no app_state object"))?;
    app_state.insert("authority".into(), json!({ "authority": address.to_string(), "pending_authority": "" }));
    Ok(())
}

/// Adds `coins` to `address` in a genesis document: creates its BaseAccount
/// in `app_state.auth.accounts` (next free account number) unless present,
/// adds the coins to its entry in `app_state.bank.balances` (sorted by denom),
/// and recomputes `app_state.bank.supply` as the sum of all balances.
/// On error `genesis` is left as it was.
pub fn add_genesis_account(genesis: &mut Value, address: &Address, coins: &Coins) -> anyhow::Result<()> {
    let mut work = genesis.clone();
    add_account_in_place(&mut work, address, coins)?;
    *genesis = work;
    Ok(())
}

fn add_account_in_place(genesis: &mut Value, address: &Address, coins: &Coins) -> anyhow::Result<()> {
    if coins.is_empty() {
        bail!("no coins to add");
    }
    let addr = address.to_string();
    let root = genesis.as_object_mut().ok_or_else(|| anyhow!("genesis is not a JSON object"))?;
    let app_state = object_field(root, "app_state", "app_state")?;

    // auth: the account itself.
    {
        let auth = object_field(app_state, "auth", "app_state.auth")?;
        let accounts = array_field(auth, "accounts", "app_state.auth.accounts")?;
        let mut exists = false;
        let mut next_number = 0u64;
        for (i, acc) in accounts.iter().enumerate() {
            let field = format!("app_state.auth.accounts[{i}]");
            let (a, base) = account_address(acc, &field)?;
            exists |= a == addr;
            let n = u64_field(base.get("account_number").unwrap_or(&Value::Null), &format!("{field}.account_number"))?;
            next_number = next_number.max(n.checked_add(1).ok_or_else(|| anyhow!("{field}.account_number overflows"))?);
        }
        if !exists {
            accounts.push(json!({
                "@type": BASE_ACCOUNT_TYPE_URL,
                "address": addr,
                "pub_key": null,
                "account_number": next_number.to_string(),
                "sequence": "0",
            }));
        }
    }

    // bank: the balance, then the supply.
    let bank = object_field(app_state, "bank", "app_state.bank")?;
    let balances = array_field(bank, "balances", "app_state.bank.balances")?;
    let mut found = false;
    for (i, b) in balances.iter_mut().enumerate() {
        let field = format!("app_state.bank.balances[{i}]");
        if b.get("address").and_then(Value::as_str) == Some(addr.as_str()) {
            let have = coins_from_json(b.get("coins").unwrap_or(&json!([])), &format!("{field}.coins"))?;
            let sum = have.checked_add(coins).map_err(|e| anyhow!("{field}.coins: adding {coins}: {e}"))?;
            b.as_object_mut()
                .ok_or_else(|| anyhow!("{field} is not an object"))?
                .insert("coins".into(), coins_to_json(&sum));
            found = true;
            break;
        }
    }
    if !found {
        balances.push(json!({ "address": addr, "coins": coins_to_json(coins) }));
    }
    let mut supply = Coins::empty();
    for (i, b) in balances.iter().enumerate() {
        let field = format!("app_state.bank.balances[{i}].coins");
        let c = coins_from_json(b.get("coins").ok_or_else(|| anyhow!("{field} is missing"))?, &field)?;
        supply = supply.checked_add(&c).map_err(|e| anyhow!("app_state.bank.supply: {e}"))?;
    }
    bank.insert("supply".into(), coins_to_json(&supply));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(b: u8) -> Address {
        Address::from_bytes(vec![b; 20]).unwrap()
    }

    fn sample() -> Value {
        json!({
            "chain_id": "paychain-1",
            "app_state": {
                "auth": {
                    "params": {"max_memo_characters": "256"},
                    "accounts": [{
                        "@type": MODULE_ACCOUNT_TYPE_URL,
                        "base_account": {"address": addr(9).to_string(), "pub_key": null, "account_number": "4", "sequence": "0"},
                        "name": "fee_collector",
                        "permissions": [],
                    }],
                },
                "bank": {"params": {"default_send_enabled": true}, "balances": [], "supply": [], "denom_metadata": [], "send_enabled": []},
            },
        })
    }

    #[test]
    fn adds_accounts_balances_and_supply() {
        let mut g = sample();
        add_genesis_account(&mut g, &addr(1), &"100upay".parse().unwrap()).unwrap();
        add_genesis_account(&mut g, &addr(2), &"5uatom,7upay".parse().unwrap()).unwrap();
        // Merging into an existing account adds coins, keeps one account entry, sorts denoms.
        add_genesis_account(&mut g, &addr(1), &"3uatom,1upay".parse().unwrap()).unwrap();

        let accounts = g["app_state"]["auth"]["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 3);
        assert_eq!(
            accounts[1],
            json!({"@type": BASE_ACCOUNT_TYPE_URL, "address": addr(1).to_string(), "pub_key": null, "account_number": "5", "sequence": "0"})
        );
        assert_eq!(accounts[2]["account_number"], "6");

        let balances = g["app_state"]["bank"]["balances"].as_array().unwrap();
        assert_eq!(balances.len(), 2);
        assert_eq!(
            balances[0]["coins"],
            json!([{"denom": "uatom", "amount": "3"}, {"denom": "upay", "amount": "101"}])
        );
        assert_eq!(
            g["app_state"]["bank"]["supply"],
            json!([{"denom": "uatom", "amount": "8"}, {"denom": "upay", "amount": "108"}])
        );
        // Untouched sections stay.
        assert_eq!(g["app_state"]["auth"]["params"]["max_memo_characters"], "256");
        assert_eq!(g["chain_id"], "paychain-1");
    }

    #[test]
    fn first_account_gets_number_zero_and_sections_are_created() {
        let mut g = json!({"app_state": {}});
        add_genesis_account(&mut g, &addr(1), &"1upay".parse().unwrap()).unwrap();
        assert_eq!(g["app_state"]["auth"]["accounts"][0]["account_number"], "0");
        assert_eq!(g["app_state"]["bank"]["supply"], json!([{"denom": "upay", "amount": "1"}]));
    }

    #[test]
    fn bad_documents_name_the_field() {
        let err =
            |mut g: Value| add_genesis_account(&mut g, &addr(1), &"1upay".parse().unwrap()).unwrap_err().to_string();
        assert!(err(json!([])).contains("not a JSON object"));
        assert!(
            err(json!({"app_state": {"auth": {"accounts": {}}}})).contains("app_state.auth.accounts is not an array")
        );
        assert!(err(json!({"app_state": {"auth": {"accounts": [{"@type": "/x.Y"}]}}}))
            .contains("app_state.auth.accounts[0].@type"));
        assert!(err(json!({"app_state": {"auth": {"accounts": [{"@type": BASE_ACCOUNT_TYPE_URL, "address": "a", "account_number": "x"}]}}}))
            .contains("app_state.auth.accounts[0].account_number"));
        assert!(err(json!({"app_state": {"bank": {"balances": [{"address": "z", "coins": [{"denom": "upay", "amount": "-1"}]}]}}}))
            .contains("app_state.bank.balances[0].coins[0].amount"));
        let mut g = json!({"app_state": {}});
        let max = Coins::new(vec![Coin::new(u128::MAX, "upay")]).unwrap();
        add_genesis_account(&mut g, &addr(1), &max).unwrap();
        assert!(add_genesis_account(&mut g, &addr(1), &"1upay".parse().unwrap())
            .unwrap_err()
            .to_string()
            .contains("balances[0].coins"));
        let before = g.clone();
        assert!(add_genesis_account(&mut g, &addr(2), &"1upay".parse().unwrap())
            .unwrap_err()
            .to_string()
            .contains("supply"));
        assert_eq!(g, before, "a failed edit changes nothing");
    }

    #[test]
    fn example_genesis_in_the_repo_is_valid() {
        // genesis/example.json is documentation; keep it true as the schema evolves.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../genesis/example.json");
        paychain_app::genesis::validate_genesis_file(&path).unwrap();
        let g = read_genesis(&path).unwrap();
        assert_eq!(g["app_state"]["auth"]["accounts"][0]["address"], "pay19rl4cm2hmr8afy4kldpxz3fka4jguq0at38wpk");
    }

    #[test]
    fn coins_from_the_command_line_are_checked() {
        assert!(parse_positive_coins("").is_err());
        assert!(parse_positive_coins("0upay").is_err());
        assert!(parse_positive_coins("1.5upay").is_err());
        assert!(parse_positive_coins("upay").is_err());
        assert_eq!(parse_positive_coins("2upay,1uatom").unwrap().to_string(), "1uatom,2upay");
    }
}
