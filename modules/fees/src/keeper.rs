//! The fees keeper: the base denom, the fee-token list and what a fee is worth
//! in the base denom ([`FeesKeeper::value_in_base`], which the ante compares with
//! the node's minimum gas price).

use std::sync::Arc;

use paychain_authority::AuthorityKeeper;
use paychain_framework::decimal::Decimal;
use paychain_framework::note::Note;
use paychain_framework::{Address, Coins, Context, MsgResponse, SdkError, StateRead, TypeUrl};

use crate::events;
use crate::keys::{fee_token_key, BASE_DENOM_KEY, FEE_TOKEN_PREFIX, STORE_KEY};
use crate::msgs::{validate_fee_tokens, FeeTokens};
use crate::pb;

pub struct FeesKeeper {
    authority: Arc<AuthorityKeeper>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("fees: corrupt {what} in store: {e}"))
}

impl FeesKeeper {
    pub fn new(authority: Arc<AuthorityKeeper>) -> Self {
        Self { authority }
    }

    /// The denom rates are quoted in (`None`: a chain whose genesis predates the
    /// module; fees then count only in their own denom).
    pub fn base_denom(&self, state: &dyn StateRead) -> Result<Option<String>, SdkError> {
        match state.get(STORE_KEY, BASE_DENOM_KEY)? {
            None => Ok(None),
            Some(b) => String::from_utf8(b).map(Some).map_err(|e| corrupt("base denom", e)),
        }
    }

    /// The rate of a listed fee token (`None`: not listed).
    pub fn rate(&self, state: &dyn StateRead, denom: &str) -> Result<Option<Decimal>, SdkError> {
        match state.get(STORE_KEY, &fee_token_key(denom))? {
            None => Ok(None),
            Some(b) => {
                let s = std::str::from_utf8(&b).map_err(|e| corrupt("rate", e))?;
                Decimal::parse(s).map(Some).map_err(|e| corrupt("rate", e.log))
            }
        }
    }

    /// Every listed fee token, in denom order.
    pub fn fee_tokens(&self, state: &dyn StateRead) -> Result<Vec<pb::FeeToken>, SdkError> {
        let mut out = Vec::new();
        for kv in state.prefix(STORE_KEY, FEE_TOKEN_PREFIX, false)? {
            let (k, v) = kv?;
            let denom = std::str::from_utf8(&k[FEE_TOKEN_PREFIX.len()..]).map_err(|e| corrupt("fee token", e))?;
            let rate = std::str::from_utf8(&v).map_err(|e| corrupt("rate", e))?;
            out.push(pb::FeeToken { denom: denom.to_string(), rate: rate.to_string() });
        }
        Ok(out)
    }

    /// What `fee` is worth in the base denom: base-denom coins at face value,
    /// listed fee tokens at floor(amount × rate), anything else nothing (all of it
    /// nothing on a chain without a base denom).
    pub fn value_in_base(&self, state: &dyn StateRead, fee: &Coins) -> Result<u128, SdkError> {
        let Some(base) = self.base_denom(state)? else { return Ok(0) };
        let mut total: u128 = 0;
        for coin in fee.iter() {
            let value = if coin.denom == base {
                coin.amount
            } else {
                match self.rate(state, &coin.denom)? {
                    Some(rate) => rate.mul_floor_saturating(coin.amount),
                    None => 0,
                }
            };
            total = total.saturating_add(value);
        }
        Ok(total)
    }

    pub(crate) fn set_base_denom(&self, ctx: &mut Context, denom: &str) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, BASE_DENOM_KEY.to_vec(), denom.as_bytes().to_vec())
    }

    /// Replaces the list (already validated).
    pub(crate) fn replace_fee_tokens(&self, ctx: &mut Context, tokens: &FeeTokens) -> Result<(), SdkError> {
        for old in self.fee_tokens(&*ctx)? {
            ctx.delete(STORE_KEY, fee_token_key(&old.denom))?;
        }
        for (denom, rate) in tokens {
            ctx.set(STORE_KEY, fee_token_key(denom), rate.to_string().into_bytes())?;
        }
        Ok(())
    }

    pub fn set_fee_tokens(
        &self,
        ctx: &mut Context,
        authority: &Address,
        tokens: &FeeTokens,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        self.authority.require(&*ctx, authority)?;
        let base = self
            .base_denom(&*ctx)?
            .ok_or_else(|| crate::errors::no_base_denom("this chain's genesis set no fees.base_denom"))?;
        validate_fee_tokens(tokens, &base)?;
        self.replace_fee_tokens(ctx, tokens)?;
        ctx.emit(events::fee_tokens_set(authority, tokens, note));
        Ok(MsgResponse { type_url: pb::MsgSetFeeTokensResponse::TYPE_URL.to_string(), value: Vec::new() })
    }
}
