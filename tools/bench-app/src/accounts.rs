//! Deterministic funded accounts, fast enough for a million: keys, addresses, signed sends and
//! the genesis entries that fund them.

use cosmos_sdk_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use cosmos_sdk_proto::Any;
use paychain_framework::address::ACCOUNT_PREFIX;
use paychain_framework::{Address, Coins};
use paychain_tx::build::{build_signed_tx, tx_body, SignerData};
use prost::Message as _;
use rayon::prelude::*;
use secp256k1::{PublicKey, Scalar, SecretKey, SECP256K1};
use serde_json::{json, Value};

/// One account: its key and address.
pub struct Account {
    pub key: SecretKey,
    pub address: Address,
}

/// Keys derived per chunk from one scalar multiplication; the rest of the chunk walks by point
/// additions (each ~10x cheaper than a multiplication).
const DERIVE_CHUNK: usize = 4096;

/// `count` accounts whose secret keys are `first`, `first + 1`, ... (mod the curve order).
/// Account `i` of `derive_accounts(1, n)` is the tests' `numbered_key(i)` (secret key `i + 1`).
pub fn derive_accounts(first: &SecretKey, count: usize) -> Vec<Account> {
    let generator = PublicKey::from_secret_key(SECP256K1, &secret_from_u64(1));
    let chunks: Vec<usize> = (0..count).step_by(DERIVE_CHUNK).collect();
    chunks
        .par_iter()
        .flat_map_iter(|&start| {
            let len = DERIVE_CHUNK.min(count - start);
            let mut key = offset_key(first, start as u64);
            let mut public = PublicKey::from_secret_key(SECP256K1, &key);
            let mut out = Vec::with_capacity(len);
            for i in 0..len {
                if i > 0 {
                    key = key.add_tweak(&Scalar::ONE).expect("consecutive keys stay below the curve order");
                    public = public.combine(&generator).expect("consecutive public keys are never the identity");
                }
                out.push(Account { key, address: Address::from_secp256k1_pubkey(&public.serialize()) });
            }
            out
        })
        .collect()
}

/// The secret key with scalar `n` (n >= 1).
pub fn secret_from_u64(n: u64) -> SecretKey {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&n.to_be_bytes());
    SecretKey::from_slice(&bytes).expect("a small non-zero scalar is a valid key")
}

fn offset_key(first: &SecretKey, offset: u64) -> SecretKey {
    if offset == 0 {
        return *first;
    }
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&offset.to_be_bytes());
    let tweak = Scalar::from_be_bytes(bytes).expect("a u64 is below the curve order");
    first.add_tweak(&tweak).expect("offset keys stay valid")
}

/// The first secret key of a named set of accounts (so separate runs can use disjoint accounts).
pub fn first_key_of(seed: &str) -> SecretKey {
    use sha2::{Digest as _, Sha256};
    let digest: [u8; 32] = Sha256::digest(format!("paychain-bench accounts {seed}").as_bytes()).into();
    SecretKey::from_slice(&digest).expect("a sha256 digest is a valid key with overwhelming probability")
}

/// A signed single-`MsgSend` tx (SIGN_MODE_DIRECT).
pub struct Send<'a> {
    pub from: &'a Account,
    pub to: &'a Address,
    pub amount: &'a Coins,
    pub account_number: u64,
    pub sequence: u64,
}

impl Send<'_> {
    /// Signed for paychain (its `pay` addresses).
    pub fn sign(&self, chain_id: &str, fee: &Fee) -> Vec<u8> {
        self.sign_with_prefix(chain_id, fee, ACCOUNT_PREFIX)
    }

    /// Signed for a Cosmos SDK chain whose addresses have bech32 `prefix` (the same keys and
    /// address bytes: SDK chains derive both the same way).
    pub fn sign_with_prefix(&self, chain_id: &str, fee: &Fee, prefix: &str) -> Vec<u8> {
        let msg = MsgSend {
            from_address: self.from.address.to_bech32_with_prefix(prefix),
            to_address: self.to.to_bech32_with_prefix(prefix),
            amount: self.amount.to_proto(),
        };
        let any = Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() };
        let body = tx_body(vec![any], "", 0);
        let signer =
            SignerData { key: &self.from.key, chain_id, account_number: self.account_number, sequence: self.sequence };
        build_signed_tx(&body, fee.clone(), &signer)
    }
}

/// A signed single-`MsgMultiSend` tx (SIGN_MODE_DIRECT): `each` from `from` to every one of
/// `to`, as a payout to many new addresses (how the benchmark grows its state past genesis).
pub struct MultiSend<'a> {
    pub from: &'a Account,
    pub to: &'a [Account],
    pub each: &'a Coins,
    pub account_number: u64,
    pub sequence: u64,
}

impl MultiSend<'_> {
    pub fn sign(&self, chain_id: &str, fee: &Fee) -> anyhow::Result<Vec<u8>> {
        let mut total = Coins::empty();
        for _ in self.to {
            total = total.checked_add(self.each)?;
        }
        let msg = MsgMultiSend {
            inputs: vec![Input { address: self.from.address.to_string(), coins: total.to_proto() }],
            outputs: self
                .to
                .iter()
                .map(|a| Output { address: a.address.to_string(), coins: self.each.to_proto() })
                .collect(),
        };
        let any = Any { type_url: "/cosmos.bank.v1beta1.MsgMultiSend".into(), value: msg.encode_to_vec() };
        let body = tx_body(vec![any], "", 0);
        let signer =
            SignerData { key: &self.from.key, chain_id, account_number: self.account_number, sequence: self.sequence };
        Ok(build_signed_tx(&body, fee.clone(), &signer))
    }
}

/// Appends `accounts` to a genesis `app_state` (`auth.accounts`, `bank.balances`) with account
/// numbers `first_number + i`, each holding `coins`, with bech32 `prefix` addresses, and clears
/// `bank.supply` so InitChain computes it from the balances (paychain and the Cosmos SDK both do). In bulk: the CLI's one-at-a-time `add-account` rescans the
/// whole genesis per account, which is quadratic in the account count.
pub fn fund_in_app_state(app_state: &mut Value, accounts: &[Account], first_number: u64, coins: &Coins, prefix: &str) {
    let coins_json: Value = coins.iter().map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()})).collect();
    let entries: Vec<(Value, Value)> = accounts
        .par_iter()
        .enumerate()
        .map(|(i, a)| {
            let address = a.address.to_bech32_with_prefix(prefix);
            let account = json!({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": address,
                "pub_key": null, "account_number": (first_number + i as u64).to_string(), "sequence": "0"});
            (account, json!({"address": address, "coins": coins_json}))
        })
        .collect();
    let (new_accounts, new_balances): (Vec<Value>, Vec<Value>) = entries.into_iter().unzip();
    extend_array(&mut app_state["auth"]["accounts"], new_accounts);
    extend_array(&mut app_state["bank"]["balances"], new_balances);
    app_state["bank"]["supply"] = json!([]);
}

fn extend_array(slot: &mut Value, items: Vec<Value>) {
    match slot {
        Value::Array(existing) => existing.extend(items),
        other => *other = Value::Array(items),
    }
}

/// The next free account number of a genesis `app_state` (after every listed account).
pub fn next_account_number(app_state: &Value) -> u64 {
    let numbers = app_state["auth"]["accounts"].as_array().into_iter().flatten().filter_map(|a| {
        let base = if a.get("base_account").is_some() { &a["base_account"] } else { a };
        base["account_number"].as_str()?.parse::<u64>().ok()
    });
    numbers.map(|n| n + 1).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walked_keys_match_directly_derived_ones() {
        let first = first_key_of("test");
        let accounts = derive_accounts(&first, DERIVE_CHUNK + 3);
        for i in [0, 1, 2, DERIVE_CHUNK - 1, DERIVE_CHUNK, DERIVE_CHUNK + 2] {
            let key = offset_key(&first, i as u64);
            assert_eq!(accounts[i].key, key, "key {i}");
            assert_eq!(
                accounts[i].address,
                Address::from_secp256k1_pubkey(&PublicKey::from_secret_key(SECP256K1, &key).serialize()),
                "address {i}"
            );
        }
        // Scalar 1, 2, ...: the tests' numbered keys.
        let numbered = derive_accounts(&secret_from_u64(1), 2);
        assert_eq!(numbered[1].key, secret_from_u64(2));
    }

    #[test]
    fn funding_appends_after_existing_accounts() {
        let mut state = paychain_app::genesis::default_app_state("upay");
        assert_eq!(next_account_number(&state), 0);
        let accounts = derive_accounts(&secret_from_u64(1), 3);
        fund_in_app_state(&mut state, &accounts, 0, &"5upay".parse().unwrap(), ACCOUNT_PREFIX);
        assert_eq!(next_account_number(&state), 3);
        assert_eq!(state["bank"]["balances"][2]["coins"][0]["amount"], "5");
        assert_eq!(state["auth"]["accounts"][2]["account_number"], "2");
    }
}
