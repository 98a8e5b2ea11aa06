//! The ante checks that run before a tx's messages, in the SDK's decorator
//! order: timeout height, memo, tx-size gas, fee (min gas price in CheckTx,
//! then deduction to the fee collector), public keys, signature count,
//! signature gas, signature verification (SIGN_MODE_DIRECT or
//! SIGN_MODE_LEGACY_AMINO_JSON), sequence increment.
//!
//! Everything here writes through the tx's ante overlay: if any step fails
//! the app drops the overlay and nothing (not even the fee) is charged.

use base64::Engine as _;
use paychain_auth::AuthKeeper;
use paychain_bank::BankKeeper;
use paychain_framework::{sdk, Address, Coin, Coins, Context, Event, ExecMode, SdkError};

use paychain_tx::amino::std_sign_bytes;
use paychain_tx::decode::{DecodedTx, SignerData, SIGN_MODE_DIRECT, SIGN_MODE_LEGACY_AMINO_JSON};
use paychain_tx::fees::GasPrice;
use paychain_tx::sign::direct_sign_bytes;

use crate::sig_cache::SigCache;

/// The module account fees are paid to.
pub const FEE_COLLECTOR: &str = "fee_collector";

/// Amino-encoded secp256k1 StdSignature (pubkey + 64-byte signature) + 6, as the SDK counts it.
const SIMULATED_SIGNATURE_BYTES: u64 = 112;

pub struct AnteEnv<'a> {
    pub auth: &'a AuthKeeper,
    pub bank: &'a BankKeeper,
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
            if Address::from_secp256k1_pubkey(pk) != signer.address {
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
        ctx.emit(
            Event::new("tx").attr("signature", base64::engine::general_purpose::STANDARD.encode(&signer.signature)),
        );
        accounts.push(acc);
    }

    if tx.signers.len() as u64 > params.tx_sig_limit {
        return Err(sdk::too_many_signatures(format!(
            "signatures: {}, limit: {}",
            tx.signers.len(),
            params.tx_sig_limit
        )));
    }
    for _ in &tx.signers {
        ctx.consume_gas(params.sig_verify_cost_secp256k1, "ante verify: secp256k1")?;
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
                .as_deref()
                .ok_or_else(|| sdk::invalid_pubkey(format!("pubkey on account {} is not set", signer.address)))?;
            let candidates = sign_bytes(tx, signer, &ctx.block.chain_id, acc.account_number)?;
            if !candidates.iter().any(|bytes| env.sig_cache.verify(pub_key, bytes, &signer.signature)) {
                return Err(sdk::unauthorized(format!(
                    "signature verification failed; please verify account number ({}), sequence ({}) and chain-id ({})",
                    acc.account_number, acc.sequence, ctx.block.chain_id
                )));
            }
        }
        acc.sequence = acc.sequence.checked_add(1).ok_or_else(|| sdk::logic("sequence overflow"))?;
        env.auth.set_account(ctx, acc)?;
    }
    Ok(())
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
    match signer.sign_mode {
        SIGN_MODE_DIRECT => Ok(vec![direct_sign_bytes(&tx.body_bytes, &tx.auth_info_bytes, chain_id, account_number)]),
        SIGN_MODE_LEGACY_AMINO_JSON => std_sign_bytes(tx, chain_id, account_number, signer.sequence),
        mode => Err(sdk::not_supported(format!("sign mode {mode} is not supported"))),
    }
}

/// Wallets simulate with an empty fee (CosmJS, Keplr) and then pay one, so
/// the estimate must include what deducting a fee costs. Simulation state is
/// thrown away, so this moves one unit of a fee denom the payer holds (the
/// minimum-gas-price denom first) for real, then drops the events it made.
fn charge_simulated_fee_deduction(ctx: &mut Context, tx: &DecodedTx, env: &AnteEnv) -> Result<(), SdkError> {
    let held = env.bank.all_balances(&*ctx, &tx.fee_payer)?;
    let denom = env
        .min_gas_prices
        .iter()
        .map(|p| p.denom.as_str())
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

fn deduct_fee(ctx: &mut Context, tx: &DecodedTx, env: &AnteEnv, simulate: bool) -> Result<(), SdkError> {
    let checking = matches!(ctx.mode, ExecMode::Check | ExecMode::ReCheck);
    if checking && !simulate && !env.min_gas_prices.is_empty() {
        let required = env
            .min_gas_prices
            .iter()
            .map(|p| {
                let amount = p.fee_for(tx.gas_limit).ok_or_else(|| sdk::insufficient_fee("required fee overflows"))?;
                Ok(Coin::new(amount, p.denom.clone()))
            })
            .collect::<Result<Vec<_>, SdkError>>()?;
        // Any one denom covering its requirement is enough (the SDK's IsAnyGTE).
        let covered = required.iter().any(|r| tx.fee.amount_of(&r.denom) >= r.amount);
        let zero_required = required.iter().all(|r| r.amount == 0);
        if !covered && !zero_required {
            let required = Coins::normalize(required)?;
            return Err(sdk::insufficient_fee(format!("insufficient fees; got: {} required: {}", tx.fee, required)));
        }
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
