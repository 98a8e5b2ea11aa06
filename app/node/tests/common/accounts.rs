//! Numbered test accounts and a genesis `app_state` funding them, for tests
//! that drive an in-process app.

use paychain_app::genesis::default_app_state;
use paychain_framework::Address;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde_json::json;

/// What each numbered account holds in `upay` at genesis.
pub const FUND: u128 = 1_000_000_000;

/// Account `i`: secret key `i + 1` (big-endian), so keys are distinct and valid.
pub fn numbered_key(i: usize) -> (SecretKey, Address) {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    let secret = SecretKey::from_slice(&bytes).unwrap();
    let address = Address::from_secp256k1_pubkey(&PublicKey::from_secret_key(SECP256K1, &secret).serialize());
    (secret, address)
}

/// Genesis `app_state` JSON with accounts `0..n` (account number `i`), each funded with [`FUND`] upay.
pub fn funded_app_state(n: usize) -> Vec<u8> {
    let mut state = default_app_state("upay");
    let accounts: Vec<_> = (0..n)
        .map(|i| {
            json!({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": numbered_key(i).1.to_string(),
                   "pub_key": null, "account_number": i.to_string(), "sequence": "0"})
        })
        .collect();
    let balances: Vec<_> = (0..n)
        .map(|i| {
            json!({"address": numbered_key(i).1.to_string(), "coins": [{"denom": "upay", "amount": FUND.to_string()}]})
        })
        .collect();
    state["auth"]["accounts"] = json!(accounts);
    state["bank"]["balances"] = json!(balances);
    serde_json::to_vec(&state).unwrap()
}

/// A signed (DIRECT) `MsgSend` of `amount` upay from account `from` (account
/// number `from`, as [`funded_app_state`] assigns) with a 5000upay fee.
pub fn signed_send(chain_id: &str, from: usize, to: &Address, amount: u128, sequence: u64) -> Vec<u8> {
    use paychain_client::tx::{build_signed_tx, fee, msg_send, tx_body, SignerData};
    let (secret, from_addr) = numbered_key(from);
    let amount: paychain_framework::Coins = format!("{amount}upay").parse().unwrap();
    let body = tx_body(vec![msg_send(&from_addr, to, &amount)], "", 0);
    let fee = fee(&"5000upay".parse().unwrap(), 200_000);
    build_signed_tx(&body, fee, &SignerData { key: &secret, chain_id, account_number: from as u64, sequence })
}
