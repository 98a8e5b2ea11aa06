//! The ante checks that run before a tx's messages, in the SDK's decorator
//! order: timeout height, memo, tx-size gas, fee (min gas price in CheckTx,
//! then deduction to the fee collector), public keys, signature count,
//! signature gas, signature verification (SIGN_MODE_DIRECT or
//! SIGN_MODE_LEGACY_AMINO_JSON; threshold multisig keys as the SDK's
//! `LegacyAminoPubKey`, see [`paychain_tx::multisig`]), sequence increment.
//!
//! Everything here writes through the tx's ante overlay: if any step fails
//! the app drops the overlay and nothing (not even the fee) is charged.

use base64::Engine as _;
use paychain_auth::AuthKeeper;
use paychain_bank::BankKeeper;
use paychain_fees::FeesKeeper;
use paychain_framework::{sdk, Coin, Coins, Context, Event, ExecMode, SdkError};

use paychain_tx::amino::std_sign_bytes;
use paychain_tx::decode::{DecodedTx, SignerData, SIGN_MODE_DIRECT, SIGN_MODE_LEGACY_AMINO_JSON};
use paychain_tx::fees::GasPrice;
use paychain_tx::multisig::{consume_multisig_gas, verify_multisig, PubKey, SigData};
use paychain_tx::sign::direct_sign_bytes;

use crate::sig_cache::SigCache;

/// The module account fees are paid to.
pub use paychain_auth::FEE_COLLECTOR;

/// Amino-encoded secp256k1 StdSignature (pubkey + 64-byte signature) + 6, as the SDK counts it.
const SIMULATED_SIGNATURE_BYTES: u64 = 112;

pub struct AnteEnv<'a> {
    pub auth: &'a AuthKeeper,
    pub bank: &'a BankKeeper,
    /// The fee tokens and their rates to the base denom (state, the same on every node).
    pub fees: &'a FeesKeeper,
    pub min_gas_prices: &'a [GasPrice],
    pub sig_cache: &'a SigCache,
}

pub fn run_ante(ctx: &mut Context, tx: &DecodedTx, env: &AnteEnv) -> Result<(), SdkError> {
    let simulate = ctx.mode == ExecMode::Simulate;
    let params = env.auth.params(ctx.state())?;

    if tx.body.timeout_height > 0 && ctx.block.height > tx.body.timeout_height {
        return Err(sdk::tx_timeout_height(format!(
            "block height: {}, timeout height: {}",
            ctx.block.height, tx.body.timeout_height
        )));
    }
    let memo_len = tx.body.memo.len() as u64;
    if memo_len > params.max_memo_characters {
        return Err(sdk::memo_too_large(format!(
            "maximum number of characters is {} but received {memo_len} characters",
            params.max_memo_characters
        )));
    }
    ctx.consume_gas(params.tx_size_cost_per_byte.saturating_mul(tx.size as u64), "txSize")?;
    if simulate {
        // Simulated txs carry empty or zero signatures: charge the size of a real
        // one (the SDK's amino StdSignature with key, plus 6), as the SDK does.
        let unsigned = tx.signers.iter().filter(|s| s.signature.iter().all(|b| *b == 0)).count() as u64;
        ctx.consume_gas(params.tx_size_cost_per_byte.saturating_mul(SIMULATED_SIGNATURE_BYTES * unsigned), "txSize")?;
    }

    deduct_fee(ctx, tx, env, simulate)?;

    // SetPubKey: bind keys to accounts on first use; emit acc_seq/signature events.
    let mut accounts = Vec::with_capacity(tx.signers.len());
    for (i, signer) in tx.signers.iter().enumerate() {
        let mut acc = env
            .auth
            .account(&*ctx, &signer.address)?
            .ok_or_else(|| sdk::unknown_address(format!("account {} does not exist", signer.address)))?;
        if let Some(pk) = &signer.pub_key {
            if pk.address() != signer.address {
                return Err(sdk::invalid_pubkey(format!(
                    "pubKey does not match signer address {} with signer index: {i}",
                    signer.address
                )));
            }
            if acc.pub_key.is_none() {
                acc.pub_key = Some(pk.clone());
            }
        }
        ctx.emit(Event::new("tx").attr("acc_seq", format!("{}/{}", signer.address, signer.sequence)));
        for sig in signer.data.event_signatures() {
            ctx.emit(Event::new("tx").attr("signature", base64::engine::general_purpose::STANDARD.encode(sig)));
        }
        accounts.push(acc);
    }

    // ValidateSigCount: every key the tx's signer infos carry counts, each
    // multisig's sub-keys included (the SDK's CountSubKeys; no key = 0).
    let mut sig_count: u64 = 0;
    for signer in &tx.signers {
        sig_count = sig_count.saturating_add(signer.pub_key.as_ref().map_or(0, PubKey::count_sub_keys));
        if sig_count > params.tx_sig_limit {
            return Err(sdk::too_many_signatures(format!("signatures: {sig_count}, limit: {}", params.tx_sig_limit)));
        }
    }
    // SigGasConsume, by the account's key (a simulation without one is charged as secp256k1).
    for (signer, acc) in tx.signers.iter().zip(accounts.iter()) {
        match (&acc.pub_key, &signer.data) {
            (Some(PubKey::Multisig(key)), SigData::Multi { bitarray, sigs }) => {
                consume_multisig_gas(key, bitarray, sigs, params.sig_verify_cost_secp256k1, &mut |cost| {
                    ctx.consume_gas(cost, "ante verify: secp256k1")
                })?
            }
            (Some(PubKey::Multisig(_)), SigData::Single { .. }) => {
                return Err(sdk::unauthorized(format!(
                    "account {} has a multisig key but the tx carries a single signature for it",
                    signer.address
                )))
            }
            _ => ctx.consume_gas(params.sig_verify_cost_secp256k1, "ante verify: secp256k1")?,
        }
    }

    for (signer, acc) in tx.signers.iter().zip(accounts.iter_mut()) {
        if signer.sequence != acc.sequence {
            return Err(sdk::wrong_sequence(format!(
                "account sequence mismatch, expected {}, got {}",
                acc.sequence, signer.sequence
            )));
        }
        // Simulation checks everything but the signature (wallets send none).
        if !simulate {
            let pub_key = acc
                .pub_key
                .as_ref()
                .ok_or_else(|| sdk::invalid_pubkey(format!("pubkey on account {} is not set", signer.address)))?;
            verify_signer(tx, signer, pub_key, &ctx.block.chain_id, acc.account_number, acc.sequence, env)?;
        }
        acc.sequence = acc.sequence.checked_add(1).ok_or_else(|| sdk::logic("sequence overflow"))?;
        env.auth.set_account(ctx, acc)?;
    }
    Ok(())
}

/// Verifies one signer's signature (single or multisig) against its account's key.
fn verify_signer(
    tx: &DecodedTx,
    signer: &SignerData,
    pub_key: &PubKey,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
    env: &AnteEnv,
) -> Result<(), SdkError> {
    let amino_msg = || {
        format!(
            "signature verification failed; please verify account number ({account_number}), sequence ({sequence}) and chain-id ({chain_id})"
        )
    };
    match (pub_key, &signer.data) {
        (PubKey::Secp256k1(pk), SigData::Single { .. }) => {
            let candidates = sign_bytes(tx, signer, chain_id, account_number)?;
            if !candidates.iter().any(|bytes| env.sig_cache.verify(pk, bytes, &signer.signature)) {
                return Err(sdk::unauthorized(amino_msg()));
            }
            Ok(())
        }
        (PubKey::Multisig(key), SigData::Multi { bitarray, sigs }) => {
            // Each mode's sign bytes are built once, whatever the number of sub-signatures.
            let mut by_mode: Vec<(i32, Vec<Vec<u8>>)> = Vec::new();
            let mut get = |mode: i32| -> Result<Vec<Vec<u8>>, SdkError> {
                if let Some((_, b)) = by_mode.iter().find(|(m, _)| *m == mode) {
                    return Ok(b.clone());
                }
                let b = sign_bytes_for_mode(tx, mode, signer.sequence, chain_id, account_number)?;
                by_mode.push((mode, b.clone()));
                Ok(b)
            };
            verify_multisig(key, bitarray, sigs, &mut get, &mut |pk, msg, sig| env.sig_cache.verify(pk, msg, sig))
                .map_err(|e| {
                    // The SDK's two messages: amino-only signers may have the wrong sequence.
                    if signer.data.only_legacy_amino() {
                        sdk::unauthorized(amino_msg())
                    } else {
                        sdk::unauthorized(format!(
                            "signature verification failed; please verify account number ({account_number}) and chain-id ({chain_id}): ({e})"
                        ))
                    }
                })
        }
        (PubKey::Secp256k1(_), SigData::Multi { .. }) => Err(sdk::unauthorized(format!(
            "signature verification failed; please verify account number ({account_number}) and chain-id ({chain_id}): \
             (expected multisig.PubKey, got secp256k1.PubKey)"
        ))),
        (PubKey::Multisig(_), SigData::Single { .. }) => Err(sdk::unauthorized(format!(
            "signature verification failed; please verify account number ({account_number}) and chain-id ({chain_id}): \
             (a single signature cannot verify a multisig key)"
        ))),
    }
}

/// The bytes `signer`'s signature may cover under its sign mode (one, or for
/// amino JSON two spellings of the same document; see [`paychain_tx::amino`]).
/// SIGN_MODE_DIRECT signs the protobuf `SignDoc`; SIGN_MODE_LEGACY_AMINO_JSON
/// the SDK's `StdSignDoc`. Other modes are not supported.
pub fn sign_bytes(
    tx: &DecodedTx,
    signer: &SignerData,
    chain_id: &str,
    account_number: u64,
) -> Result<Vec<Vec<u8>>, SdkError> {
    sign_bytes_for_mode(tx, signer.sign_mode, signer.sequence, chain_id, account_number)
}

/// [`sign_bytes`] for a given mode (a multisig's sub-signatures each name theirs).
pub fn sign_bytes_for_mode(
    tx: &DecodedTx,
    mode: i32,
    sequence: u64,
    chain_id: &str,
    account_number: u64,
) -> Result<Vec<Vec<u8>>, SdkError> {
    match mode {
        SIGN_MODE_DIRECT => Ok(vec![direct_sign_bytes(&tx.body_bytes, &tx.auth_info_bytes, chain_id, account_number)]),
        SIGN_MODE_LEGACY_AMINO_JSON => std_sign_bytes(tx, chain_id, account_number, sequence),
        mode => Err(sdk::not_supported(format!("sign mode {mode} is not supported"))),
    }
}

/// Wallets simulate with an empty fee (CosmJS, Keplr) and then pay one, so
/// the estimate must include what deducting a fee costs. Simulation state is
/// thrown away, so this moves one unit of a fee denom the payer holds (a
/// minimum-gas-price denom first, then a listed fee token) for real, then drops
/// the events it made.
fn charge_simulated_fee_deduction(ctx: &mut Context, tx: &DecodedTx, env: &AnteEnv) -> Result<(), SdkError> {
    let held = env.bank.all_balances(&*ctx, &tx.fee_payer)?;
    let fee_tokens = env.fees.fee_tokens(&*ctx)?;
    let denom = env
        .min_gas_prices
        .iter()
        .map(|p| p.denom.as_str())
        .chain(fee_tokens.iter().map(|t| t.denom.as_str()))
        .find(|d| held.amount_of(d) > 0)
        .or_else(|| held.iter().next().map(|c| c.denom.as_str()));
    let Some(denom) = denom else { return Ok(()) };
    let one = Coins::new(vec![Coin::new(1, denom)])?;
    let kept = ctx.take_events();
    env.bank.send_coins_from_account_to_module(ctx, &tx.fee_payer, FEE_COLLECTOR, &one)?;
    ctx.take_events();
    for e in kept {
        ctx.emit(e);
    }
    Ok(())
}

/// CheckTx's minimum-gas-price check: the fee covers `gas × price` for one of the
/// node's prices, paid in that denom or, for the base denom's price, in any mix
/// of the base denom and listed fee tokens at their rates (the SDK's IsAnyGTE,
/// with conversion).
fn check_min_gas_price(ctx: &Context, tx: &DecodedTx, env: &AnteEnv) -> Result<(), SdkError> {
    let required = env
        .min_gas_prices
        .iter()
        .map(|p| {
            let amount = p.fee_for(tx.gas_limit).ok_or_else(|| sdk::insufficient_fee("required fee overflows"))?;
            Ok(Coin::new(amount, p.denom.clone()))
        })
        .collect::<Result<Vec<_>, SdkError>>()?;
    if required.iter().all(|r| r.amount == 0) || required.iter().any(|r| tx.fee.amount_of(&r.denom) >= r.amount) {
        return Ok(());
    }
    if let Some(base) = env.fees.base_denom(ctx.state())? {
        if let Some(r) = required.iter().find(|r| r.denom == base) {
            if env.fees.value_in_base(ctx.state(), &tx.fee)? >= r.amount {
                return Ok(());
            }
        }
    }
    let required = Coins::normalize(required)?;
    Err(sdk::insufficient_fee(format!(
        "insufficient fees; got: {} required: {} (listed fee tokens count at their rates: query fees tokens)",
        tx.fee, required
    )))
}

fn deduct_fee(ctx: &mut Context, tx: &DecodedTx, env: &AnteEnv, simulate: bool) -> Result<(), SdkError> {
    let checking = matches!(ctx.mode, ExecMode::Check | ExecMode::ReCheck);
    if checking && !simulate && !env.min_gas_prices.is_empty() {
        check_min_gas_price(ctx, tx, env)?;
    }
    if env.auth.account(&*ctx, &tx.fee_payer)?.is_none() {
        return Err(sdk::unknown_address(format!("fee payer address: {} does not exist", tx.fee_payer)));
    }
    if !tx.fee.is_empty() {
        env.bank.send_coins_from_account_to_module(ctx, &tx.fee_payer, FEE_COLLECTOR, &tx.fee).map_err(|e| {
            if e.fatal {
                e
            } else {
                e.wrap("failed to deduct fees")
            }
        })?;
    } else if simulate {
        charge_simulated_fee_deduction(ctx, tx, env)?;
    }
    ctx.emit(Event::new("tx").attr("fee", tx.fee.to_string()).attr("fee_payer", tx.fee_payer.to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Multisig accounts through the whole app (decode, ante, the signature
    //! pre-pass, state), over a real RocksDB store.

    use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::CompactBitArray;
    use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, Fee, TxBody, TxRaw};
    use cosmos_sdk_proto::Any;
    use paychain_framework::{Address, BlockTime};
    use paychain_tx::amino::SignDocParts;
    use paychain_tx::build::{multi_signature_bytes, multisig_signer_info, sign_bytes as sign};
    use paychain_tx::decode::MsgRouter as _;
    use paychain_tx::multisig::PubKey;
    use prost::Message as _;
    use secp256k1::{PublicKey, SecretKey, SECP256K1};

    use crate::{App, AppOptions};

    const CHAIN: &str = "paychain-ms-1";

    fn secret(i: u8) -> SecretKey {
        SecretKey::from_slice(&[i; 32]).unwrap()
    }

    fn pk(i: u8) -> PubKey {
        PubKey::Secp256k1(PublicKey::from_secret_key(SECP256K1, &secret(i)).serialize().to_vec())
    }

    /// 2 of (k1, k2, k3), in this order.
    fn two_of_three() -> PubKey {
        PubKey::multisig(2, vec![pk(1), pk(2), pk(3)]).unwrap()
    }

    fn recipient() -> Address {
        Address::from_bytes(vec![9; 20]).unwrap()
    }

    struct Chain {
        app: App,
        _dir: tempfile::TempDir,
        height: u64,
    }

    impl Chain {
        /// A chain where every multisig in `funded` holds 1_000_000upay.
        fn new(funded: &[&PubKey], tx_sig_limit: u64) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let app = App::open(dir.path(), AppOptions::default()).unwrap();
            let mut state = crate::genesis::default_app_state("upay");
            state["auth"]["params"]["tx_sig_limit"] = tx_sig_limit.to_string().into();
            state["auth"]["accounts"] = funded
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    serde_json::json!({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": k.address().to_string(),
                        "pub_key": null, "account_number": i.to_string(), "sequence": "0"})
                })
                .collect();
            state["bank"]["balances"] = funded
                .iter()
                .map(|k| {
                    serde_json::json!({"address": k.address().to_string(),
                        "coins": [{"denom": "upay", "amount": "1000000"}]})
                })
                .collect();
            app.init_chain(CHAIN, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
            let mut c = Self { app, _dir: dir, height: 0 };
            c.block(&[]);
            c
        }

        fn block(&mut self, txs: &[Vec<u8>]) -> Vec<Result<Vec<u8>, paychain_framework::SdkError>> {
            self.height += 1;
            let out =
                self.app.finalize_block(self.height, BlockTime { seconds: self.height as i64, nanos: 0 }, txs).unwrap();
            self.app.commit().unwrap();
            out.tx_results.into_iter().map(|o| o.result).collect()
        }

        fn balance(&self, addr: &Address) -> String {
            let state = self.app.export_app_state().unwrap();
            state["bank"]["balances"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["address"] == addr.to_string())
                .map(|b| b["coins"][0]["amount"].as_str().unwrap().to_string())
                .unwrap_or_default()
        }

        fn account(&self, addr: &Address) -> serde_json::Value {
            let state = self.app.export_app_state().unwrap();
            state["auth"]["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["address"] == addr.to_string())
                .unwrap()
                .clone()
        }
    }

    fn body(from: &Address) -> TxBody {
        let msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: from.to_string(),
            to_address: recipient().to_string(),
            amount: vec![cosmos_sdk_proto::cosmos::base::v1beta1::Coin { denom: "upay".into(), amount: "100".into() }],
        };
        TxBody {
            messages: vec![Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }],
            ..Default::default()
        }
    }

    fn fee() -> Fee {
        Fee { amount: vec![], gas_limit: 400_000, payer: String::new(), granter: String::new() }
    }

    /// The amino StdSignDoc bytes the members sign (account number `acc`, sequence `seq`).
    fn amino_doc(body: &TxBody, acc: u64, seq: u64) -> Vec<u8> {
        let w = crate::wire_modules();
        let msgs: Vec<_> = body.messages.iter().map(|m| w.modules.route_and_decode(m).unwrap()).collect();
        let fee = paychain_framework::Coins::empty();
        SignDocParts { msgs: &msgs, memo: "", timeout_height: 0, fee: &fee, gas_limit: 400_000, payer: "", granter: "" }
            .sign_bytes(CHAIN, acc, seq)
            .unwrap()
    }

    /// A tx from `key`'s account with amino sub-signatures by `signers`
    /// (positions in the key; a position listed means that key signs).
    fn multisig_tx(key: &PubKey, signers: &[usize], acc: u64, seq: u64) -> Vec<u8> {
        let PubKey::Multisig(m) = key else { panic!() };
        let body = body(&key.address());
        let doc = amino_doc(&body, acc, seq);
        let secrets = secrets_of(m);
        let bits: Vec<bool> = (0..m.keys.len()).map(|i| signers.contains(&i)).collect();
        let sigs: Vec<Vec<u8>> = signers.iter().map(|i| sign(&doc, &secrets[*i]).to_vec()).collect();
        raw(key, &body, &bits, vec![SignMode::LegacyAminoJson; sigs.len()], &sigs, seq)
    }

    fn secrets_of(m: &paychain_tx::multisig::MultisigPubKey) -> Vec<SecretKey> {
        m.keys
            .iter()
            .map(|k| {
                (1..=9)
                    .map(secret)
                    .find(|s| Some(&PublicKey::from_secret_key(SECP256K1, s).serialize()[..]) == k.as_secp256k1())
                    .unwrap()
            })
            .collect()
    }

    fn raw(key: &PubKey, body: &TxBody, bits: &[bool], modes: Vec<SignMode>, sigs: &[Vec<u8>], seq: u64) -> Vec<u8> {
        let auth = AuthInfo {
            signer_infos: vec![multisig_signer_info(key, seq, bits, &modes)],
            fee: Some(fee()),
            ..Default::default()
        };
        TxRaw {
            body_bytes: body.encode_to_vec(),
            auth_info_bytes: auth.encode_to_vec(),
            signatures: vec![multi_signature_bytes(sigs)],
        }
        .encode_to_vec()
    }

    fn code(r: &Result<Vec<u8>, paychain_framework::SdkError>) -> (String, u32) {
        match r {
            Ok(_) => ("".into(), 0),
            Err(e) => (e.codespace.to_string(), e.code),
        }
    }

    #[test]
    fn two_of_three_signs_and_binds_the_multisig_key() {
        let key = two_of_three();
        let mut c = Chain::new(&[&key], 7);
        let addr = key.address();
        assert!(c.app.check_tx(&multisig_tx(&key, &[0, 2], 0, 0), false).result.is_ok());
        let results = c.block(&[multisig_tx(&key, &[0, 2], 0, 0)]);
        assert_eq!(code(&results[0]), ("".into(), 0), "{:?}", results[0]);
        assert_eq!(c.balance(&addr), "999900");
        assert_eq!(c.balance(&recipient()), "100");
        let acc = c.account(&addr);
        assert_eq!(acc["sequence"], "1");
        // The account's key is now the multisig, rendered as the SDK's JSON.
        assert_eq!(acc["pub_key"]["@type"], "/cosmos.crypto.multisig.LegacyAminoPubKey");
        assert_eq!(acc["pub_key"]["threshold"], 2);
        assert_eq!(acc["pub_key"]["public_keys"].as_array().unwrap().len(), 3);
        // Any two of three, next sequence.
        let results = c.block(&[multisig_tx(&key, &[1, 2], 0, 1), multisig_tx(&key, &[0, 1, 2], 0, 2)]);
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        assert_eq!(c.balance(&recipient()), "300");
    }

    #[test]
    fn too_few_bad_or_malformed_signatures_are_refused_and_change_nothing() {
        let key = two_of_three();
        let PubKey::Multisig(m) = &key else { panic!() };
        let mut c = Chain::new(&[&key], 7);
        let b = body(&key.address());
        let doc = amino_doc(&b, 0, 0);
        let s = secrets_of(m);
        let sig = |i: usize| sign(&doc, &s[i]).to_vec();
        let amino = |n: usize| vec![SignMode::LegacyAminoJson; n];
        let mut tampered = sig(2);
        tampered[5] ^= 1;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("one of three", multisig_tx(&key, &[1], 0, 0)),
            ("tampered sub-signature", raw(&key, &b, &[true, false, true], amino(2), &[sig(0), tampered], 0)),
            ("signature in the wrong position", raw(&key, &b, &[true, true, false], amino(2), &[sig(0), sig(2)], 0)),
            ("same key twice", raw(&key, &b, &[true, true, false], amino(2), &[sig(0), sig(0)], 0)),
            ("bit array of 4 keys", raw(&key, &b, &[true, false, true, false], amino(2), &[sig(0), sig(2)], 0)),
            ("3 bits set, 2 signatures", raw(&key, &b, &[true, true, true], amino(2), &[sig(0), sig(1)], 0)),
            ("2 bits set, 3 signatures", raw(&key, &b, &[true, true, false], amino(3), &[sig(0), sig(1), sig(2)], 0)),
            ("wrong sequence", multisig_tx(&key, &[0, 1], 0, 5)),
        ];
        for (name, tx) in &cases {
            let out = c.app.check_tx(tx, false);
            let (space, code) = code(&out.result);
            if *name == "wrong sequence" {
                assert_eq!((space.as_str(), code), ("sdk", 32), "{name}");
            } else {
                assert_eq!((space.as_str(), code), ("sdk", 4), "{name}: {:?}", out.result);
            }
        }
        // A malformed bit array (extra bits >= 8) and mismatched mode infos.
        let mut bad_bits = raw(&key, &b, &[true, false, true], amino(2), &[sig(0), sig(2)], 0);
        {
            let mut r = TxRaw::decode(bad_bits.as_slice()).unwrap();
            let mut a = AuthInfo::decode(r.auth_info_bytes.as_slice()).unwrap();
            if let Some(cosmos_sdk_proto::cosmos::tx::v1beta1::mode_info::Sum::Multi(mi)) =
                a.signer_infos[0].mode_info.as_mut().and_then(|m| m.sum.as_mut())
            {
                mi.bitarray = Some(CompactBitArray { extra_bits_stored: 11, elems: vec![0xa0] });
            }
            r.auth_info_bytes = a.encode_to_vec();
            bad_bits = r.encode_to_vec();
        }
        assert_eq!(code(&c.app.check_tx(&bad_bits, false).result), ("sdk".into(), 4));
        let mismatched = raw(&key, &b, &[true, false, true], amino(1), &[sig(0), sig(2)], 0);
        assert_eq!(code(&c.app.check_tx(&mismatched, false).result), ("sdk".into(), 4));

        // In a block (through the parallel signature pass) too, and nothing moves.
        let txs: Vec<Vec<u8>> = cases.into_iter().map(|(_, t)| t).chain([bad_bits, mismatched]).collect();
        let results = c.block(&txs);
        assert!(results.iter().all(|r| r.is_err()), "{results:?}");
        assert_eq!(c.balance(&key.address()), "1000000");
        let acc = c.account(&key.address());
        assert_eq!((acc["sequence"].as_str(), &acc["pub_key"]), (Some("0"), &serde_json::Value::Null));
        // The valid tx at sequence 0 still goes through.
        assert!(c.block(&[multisig_tx(&key, &[0, 1], 0, 0)])[0].is_ok());
    }

    #[test]
    fn every_sub_key_counts_toward_the_sig_limit() {
        let key = two_of_three();
        let c = Chain::new(&[&key], 2);
        let out = c.app.check_tx(&multisig_tx(&key, &[0, 1], 0, 0), false);
        let err = out.result.unwrap_err();
        // The SDK's ErrTooManySignatures.
        assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 14));
        assert_eq!(err.log, "signatures: 3, limit: 2: maximum number of signatures exceeded");
        let c = Chain::new(&[&key], 3);
        assert!(c.app.check_tx(&multisig_tx(&key, &[0, 1], 0, 0), false).result.is_ok());
    }

    #[test]
    fn gas_is_charged_per_set_bit() {
        let key = two_of_three();
        let c = Chain::new(&[&key], 7);
        let two = multisig_tx(&key, &[0, 1], 0, 0);
        let three = multisig_tx(&key, &[0, 1, 2], 0, 0);
        let g2 = c.app.check_tx(&two, false).gas_used;
        let g3 = c.app.check_tx(&three, false).gas_used;
        // Only the CheckTx of `two` moved state, and it set the account's key:
        // compare simulations instead, which run on the same state.
        let s2 = c.app.simulate(&two);
        let s3 = c.app.simulate(&three);
        assert!(g2 > 0 && g3 > 0);
        let size_gas = 10 * (three.len() as u64 - two.len() as u64);
        assert_eq!(s3.gas_used - s2.gas_used, 1000 + size_gas, "one more secp256k1 verification (1000) plus the bytes");
    }

    #[test]
    fn direct_sub_signatures_verify_as_in_the_sdk() {
        // The SDK asks its sign-mode handler for each sub-signature's mode: a
        // DIRECT sub-signature covers the final AuthInfo (multisig mode info included).
        let key = two_of_three();
        let PubKey::Multisig(m) = &key else { panic!() };
        let mut c = Chain::new(&[&key], 7);
        let b = body(&key.address());
        let bits = [true, true, false];
        let modes = vec![SignMode::Direct, SignMode::Direct];
        let auth = AuthInfo {
            signer_infos: vec![multisig_signer_info(&key, 0, &bits, &modes)],
            fee: Some(fee()),
            ..Default::default()
        };
        let doc = paychain_tx::sign::direct_sign_bytes(&b.encode_to_vec(), &auth.encode_to_vec(), CHAIN, 0);
        let s = secrets_of(m);
        let sigs = vec![sign(&doc, &s[0]).to_vec(), sign(&doc, &s[1]).to_vec()];
        let tx = TxRaw {
            body_bytes: b.encode_to_vec(),
            auth_info_bytes: auth.encode_to_vec(),
            signatures: vec![multi_signature_bytes(&sigs)],
        }
        .encode_to_vec();
        assert!(c.block(&[tx])[0].is_ok());
    }

    #[test]
    fn nested_and_duplicate_key_multisigs_work_as_in_the_sdk() {
        let inner = PubKey::multisig(2, vec![pk(1), pk(2)]).unwrap();
        let nested = PubKey::multisig(1, vec![inner.clone(), pk(3)]).unwrap();
        // The same key twice: its holder must sign at both positions.
        let dup = PubKey::multisig(2, vec![pk(4), pk(4), pk(5)]).unwrap();
        let mut c = Chain::new(&[&nested, &dup], 7);

        let b = body(&nested.address());
        let doc = amino_doc(&b, 0, 0);
        let amino = SignMode::LegacyAminoJson as i32;
        let inner_bytes = multi_signature_bytes(&[sign(&doc, &secret(1)).to_vec(), sign(&doc, &secret(2)).to_vec()]);
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, ModeInfo, SignerInfo};
        let single = || ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: amino })) };
        let inner_mode = ModeInfo {
            sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                bitarray: Some(paychain_tx::multisig::compact_bit_array(&[true, true])),
                mode_infos: vec![single(), single()],
            })),
        };
        let outer_mode = ModeInfo {
            sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                bitarray: Some(paychain_tx::multisig::compact_bit_array(&[true, false])),
                mode_infos: vec![inner_mode],
            })),
        };
        let auth = AuthInfo {
            signer_infos: vec![SignerInfo {
                public_key: Some(nested.to_any()),
                mode_info: Some(outer_mode),
                sequence: 0,
            }],
            fee: Some(fee()),
            ..Default::default()
        };
        let tx = TxRaw {
            body_bytes: b.encode_to_vec(),
            auth_info_bytes: auth.encode_to_vec(),
            signatures: vec![multi_signature_bytes(&[inner_bytes])],
        }
        .encode_to_vec();

        let db = body(&dup.address());
        let ddoc = amino_doc(&db, 1, 0);
        let s4 = sign(&ddoc, &secret(4)).to_vec();
        let one_holder = raw(&dup, &db, &[true, true, false], vec![SignMode::LegacyAminoJson; 2], &[s4.clone(), s4], 0);
        let results = c.block(&[tx, one_holder]);
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        assert_eq!(
            c.account(&nested.address())["pub_key"]["public_keys"][0]["@type"],
            "/cosmos.crypto.multisig.LegacyAminoPubKey"
        );
    }

    #[test]
    fn a_multisig_key_must_match_the_signer_address() {
        let key = two_of_three();
        let other = PubKey::multisig(1, vec![pk(1), pk(2)]).unwrap();
        let c = Chain::new(&[&key, &other], 7);
        // The tx names `key`'s account as signer but carries `other` as key.
        let b = body(&key.address());
        let doc = amino_doc(&b, 0, 0);
        let tx =
            raw(&other, &b, &[true, false], vec![SignMode::LegacyAminoJson], &[sign(&doc, &secret(1)).to_vec()], 0);
        let err = c.app.check_tx(&tx, false).result.unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 8), "{}", err.log);
    }
}
