//! The issuer's rules on every ordinary movement of an issued token, as bank's
//! [`TransferPolicy`]: sends, multi-sends, fees, escrow, IBC, mints to accounts.
//!
//! - paused: nothing moves (issuer controls use their own, narrower checks);
//! - a frozen account sends nothing and receives nothing;
//! - frozen amounts: only the unfrozen part of a balance can be spent;
//! - allowlist: only approved accounts receive;
//! - balance cap: no recipient ends above the cap;
//! - transfer fee: the sender pays `bps` of the amount (rounded up) on top, to the treasury.
//!
//! Module accounts (fee collector, escrow, IBC) are never frozen, capped or
//! allowlisted: they must always work. The admin and treasury are exempt from the
//! allowlist, the cap and the fee (a holder can always redeem to the issuer).

use std::sync::Arc;

use paychain_auth::AuthKeeper;
use paychain_bank::{Transfer, TransferFee, TransferPolicy, Verdict};
use paychain_framework::{Address, BlockTime, SdkError, StateRead};

use crate::errors;
use crate::keeper::{has_feature, holder, stored_amount, token};
use crate::msgs::is_issued_denom;
use crate::pb::{self, Feature};

pub struct AssetsPolicy {
    auth: Arc<AuthKeeper>,
    fee_collector: Address,
}

impl AssetsPolicy {
    pub fn new(auth: Arc<AuthKeeper>, fee_collector: &str) -> Self {
        Self { auth, fee_collector: Address::module(fee_collector) }
    }

    fn is_module(&self, addr: &Address) -> bool {
        self.auth.module_name_of(addr).is_some()
    }
}

fn issuer_side(t: &pb::Token, addr: &Address) -> bool {
    let a = addr.to_string();
    t.roles.as_ref().is_some_and(|r| a == r.admin || a == r.treasury)
}

/// `amount * bps / 10_000`, rounded up, without overflow for any u128 amount.
pub fn transfer_fee(amount: u128, bps: u32) -> u128 {
    let bps = u128::from(bps);
    (amount / 10_000) * bps + ((amount % 10_000) * bps).div_ceil(10_000)
}

/// The recipient-side rules that hold whatever the amount: not frozen, and
/// allowlisted where the token requires it.
fn check_recipient(state: &dyn StateRead, t: &pb::Token, to: &Address) -> Result<(), SdkError> {
    let freezing = has_feature(t, Feature::Freezing);
    let allowlist = has_feature(t, Feature::Allowlist) && !issuer_side(t, to);
    if !freezing && !allowlist {
        return Ok(());
    }
    let h = holder(state, &t.denom, to)?;
    if freezing && h.account_frozen {
        return Err(errors::account_frozen(format!("recipient {to} is frozen for {}", t.denom)));
    }
    if allowlist && !h.allowed {
        return Err(errors::not_allowed(format!("{to} may not receive {}", t.denom)));
    }
    Ok(())
}

impl TransferPolicy for AssetsPolicy {
    fn may_govern(&self, denom: &str) -> bool {
        is_issued_denom(denom)
    }

    fn locked(&self, state: &dyn StateRead, addr: &Address, denom: &str) -> Result<u128, SdkError> {
        let Some(t) = token(state, denom)? else { return Ok(0) };
        if !has_feature(&t, Feature::Freezing) || self.is_module(addr) {
            return Ok(0);
        }
        stored_amount("frozen amount", &holder(state, denom, addr)?.frozen_amount)
    }

    fn check_transfer(
        &self,
        state: &dyn StateRead,
        tr: &Transfer<'_>,
        to_balance: &dyn Fn() -> Result<u128, SdkError>,
    ) -> Result<Verdict, SdkError> {
        let Some(t) = token(state, tr.denom)? else { return Ok(Verdict::default()) };
        if t.paused {
            return Err(errors::paused(format!("{} is paused", t.denom)));
        }
        // A channel's escrow address is treated as a module account (see `Route`).
        let from_module = tr.route.is_ibc_in() || self.is_module(tr.from);
        let to_module = tr.route.is_ibc_out() || self.is_module(tr.to);
        if tr.route.is_ibc_out() && !has_feature(&t, Feature::Ibc) {
            return Err(errors::ibc_disabled(format!("{} may not leave the chain over IBC", t.denom)));
        }
        // One read of the sender's record answers both the account freeze and the
        // frozen amount the debit must leave.
        let mut sender_locked = 0;
        if !from_module && has_feature(&t, Feature::Freezing) {
            let h = holder(state, tr.denom, tr.from)?;
            if h.account_frozen {
                return Err(errors::account_frozen(format!("sender {} is frozen for {}", tr.from, t.denom)));
            }
            sender_locked = stored_amount("frozen amount", &h.frozen_amount)?;
        }
        if !to_module {
            check_recipient(state, &t, tr.to)?;
            if has_feature(&t, Feature::BalanceCap) && !issuer_side(&t, tr.to) {
                let cap = stored_amount("balance cap", &t.balance_cap)?;
                let after = to_balance()?.checked_add(tr.amount);
                if after.is_none_or(|after| after > cap) {
                    return Err(errors::balance_cap_exceeded(format!(
                        "{} would hold more than the cap of {cap}{}",
                        tr.to, t.denom
                    )));
                }
            }
        }
        let charged = has_feature(&t, Feature::TransferFee)
            && !from_module
            && !issuer_side(&t, tr.from)
            && !issuer_side(&t, tr.to)
            && *tr.to != self.fee_collector;
        let mut fee = None;
        if charged {
            let amount = transfer_fee(tr.amount, t.transfer_fee_bps);
            let treasury = t.roles.as_ref().map(|r| r.treasury.as_str()).unwrap_or_default();
            let to = Address::from_bech32(treasury)
                .map_err(|e| crate::keeper::corrupt(format_args!("treasury of {}", t.denom), e.log))?;
            fee = (amount > 0).then(|| TransferFee { to, denom: t.denom.clone(), amount });
        }
        Ok(Verdict { fee, sender_locked, hold: None, track: None })
    }

    fn check_receiver(
        &self,
        state: &dyn StateRead,
        to: &Address,
        denom: &str,
        _now: BlockTime,
    ) -> Result<(), SdkError> {
        let Some(t) = token(state, denom)? else { return Ok(()) };
        if self.is_module(to) {
            return Ok(());
        }
        check_recipient(state, &t, to)
    }
}

#[cfg(test)]
mod tests {
    use super::transfer_fee;

    #[test]
    fn transfer_fee_rounds_up_and_never_overflows() {
        assert_eq!(transfer_fee(10_000, 25), 25);
        assert_eq!(transfer_fee(1, 25), 1, "a dust transfer still pays");
        assert_eq!(transfer_fee(0, 25), 0);
        assert_eq!(transfer_fee(40_001, 25), 101);
        assert_eq!(transfer_fee(u128::MAX, 5_000), u128::MAX / 2 + 1);
    }
}
