//! Velocity limits (how much an account may send of a denom per rolling window
//! of block time, by credential tier) and corridor limits (how much of a denom
//! may leave through an IBC channel, net of what came in, per window).
//!
//! A window is kept in [`BUCKETS`] buckets of `window / 24` seconds (rounded up)
//! in one record per account and denom (or channel and denom): a check reads the
//! limit, the tier credentials it needs (two reads per tier tried) and that one
//! record, and sums at most 24 buckets; recording rewrites the record, dropping
//! buckets that left the window. O(1) per transfer, never a scan. Usage is kept
//! only under a limit: a denom without one costs a single read.
//!
//! Checks read state (bank asks wherever coins move, and IBC while validating a
//! packet) and compute the usage once the move is counted; the policy writes it
//! when bank reports the move made (`TransferPolicy::record_transfer`).

use paychain_framework::coins::parse_amount;
use paychain_framework::{Address, BlockTime, SdkError, StateRead};
use prost::Message;

use crate::errors;
use crate::keys;
use crate::memo::Memo;
use crate::pb;
use crate::store::{self, corrupt};

/// Buckets per window.
pub const BUCKETS: u64 = 24;
/// The shortest window: one second per bucket.
pub const MIN_WINDOW_SECONDS: u64 = BUCKETS;
/// The longest window: a leap year.
pub const MAX_WINDOW_SECONDS: u64 = 366 * 24 * 3600;
/// Most tiers of one velocity limit (each tried costs two reads).
pub const MAX_TIERS: usize = 8;

pub fn bucket_seconds(window_seconds: u64) -> u64 {
    window_seconds.div_ceil(BUCKETS).max(1)
}

/// The bucket `now` falls in (block times before 1970 count as bucket 0).
fn epoch(now: BlockTime, bucket_seconds: u64) -> u64 {
    u64::try_from(now.seconds).unwrap_or(0) / bucket_seconds
}

fn amount(s: &str, what: &str) -> Result<u128, SdkError> {
    if s.is_empty() {
        return Ok(0);
    }
    parse_amount(s).map_err(|e| corrupt(what, e.log))
}

/// Sent and received within the window ending in bucket `now`: buckets of another
/// length (the window changed since) or older than [`BUCKETS`] no longer count.
pub fn in_window(usage: &pb::WindowUsage, bucket_seconds: u64, now: u64) -> Result<(u128, u128), SdkError> {
    if usage.bucket_seconds != bucket_seconds {
        return Ok((0, 0));
    }
    let (mut sent, mut received) = (0u128, 0u128);
    for b in usage.buckets.iter().filter(|b| b.epoch <= now && now - b.epoch < BUCKETS) {
        // Saturating: a sum past u128 is past every limit anyway.
        sent = sent.saturating_add(amount(&b.sent, "usage")?);
        received = received.saturating_add(amount(&b.received, "usage")?);
    }
    Ok((sent, received))
}

/// `usage` with `sent` and `received` added in bucket `now`, buckets that left the
/// window dropped (so a record never holds more than [`BUCKETS`]).
fn add(
    mut usage: pb::WindowUsage,
    bucket_seconds: u64,
    now: u64,
    sent: u128,
    received: u128,
) -> Result<pb::WindowUsage, SdkError> {
    if usage.bucket_seconds != bucket_seconds {
        usage = pb::WindowUsage { bucket_seconds, buckets: Vec::new() };
    }
    usage.buckets.retain(|b| b.epoch <= now && now - b.epoch < BUCKETS);
    if usage.buckets.last().is_none_or(|b| b.epoch != now) {
        usage.buckets.push(pb::UsageBucket { epoch: now, sent: String::new(), received: String::new() });
    }
    let last = usage.buckets.last_mut().ok_or_else(|| SdkError::fatal("compliance: no current bucket"))?;
    let add_to = |field: &mut String, n: u128| -> Result<(), SdkError> {
        if n > 0 {
            *field = amount(field, "usage")?.saturating_add(n).to_string();
        }
        Ok(())
    };
    add_to(&mut last.sent, sent)?;
    add_to(&mut last.received, received)?;
    Ok(usage)
}

fn decode<T: Message + Default>(b: Option<Vec<u8>>, what: &str) -> Result<Option<T>, SdkError> {
    b.map(|b| T::decode(b.as_slice()).map_err(|e| corrupt(what, e))).transpose()
}

pub fn velocity_limit(state: &dyn StateRead, denom: &str) -> Result<Option<pb::VelocityLimit>, SdkError> {
    decode(state.get(keys::STORE_KEY, &keys::velocity_limit_key(denom))?, "velocity limit")
}

pub fn corridor_limit(
    state: &dyn StateRead,
    channel: &str,
    denom: &str,
) -> Result<Option<pb::CorridorLimit>, SdkError> {
    decode(state.get(keys::STORE_KEY, &keys::corridor_limit_key(channel, denom))?, "corridor limit")
}

pub fn account_usage(state: &dyn StateRead, addr: &Address, denom: &str) -> Result<pb::WindowUsage, SdkError> {
    Ok(decode(state.get(keys::STORE_KEY, &keys::account_usage_key(addr, denom))?, "account usage")?.unwrap_or_default())
}

pub fn corridor_usage(state: &dyn StateRead, channel: &str, denom: &str) -> Result<pb::WindowUsage, SdkError> {
    Ok(decode(state.get(keys::STORE_KEY, &keys::corridor_usage_key(channel, denom))?, "corridor usage")?
        .unwrap_or_default())
}

/// A velocity limit as checks use it: its amounts parsed and its tiers' issuers decoded
/// (once per stored content, see [`crate::memo`]).
pub struct Limit {
    pub window_seconds: u64,
    pub limit: u128,
    pub tiers: Vec<Tier>,
}

pub struct Tier {
    pub issuer: Address,
    pub credential_type: String,
    pub limit: u128,
    /// `issuer:type`, as refusals and queries name the tier.
    pub name: String,
}

impl Limit {
    fn decode(bytes: &[u8]) -> Result<Limit, SdkError> {
        let l = pb::VelocityLimit::decode(bytes).map_err(|e| corrupt("velocity limit", e))?;
        let tiers = l
            .tiers
            .into_iter()
            .map(|t| {
                Ok(Tier {
                    issuer: Address::from_bech32(&t.issuer).map_err(|e| corrupt("velocity tier issuer", e.log))?,
                    limit: amount(&t.limit, "velocity tier")?,
                    name: format!("{}:{}", t.issuer, t.r#type),
                    credential_type: t.r#type,
                })
            })
            .collect::<Result<_, SdkError>>()?;
        Ok(Limit { window_seconds: l.window_seconds, limit: amount(&l.limit, "velocity limit")?, tiers })
    }
}

static LIMITS: Memo<Limit> = Memo::new();

/// `denom`'s velocity limit, ready to check against.
pub fn limit(state: &dyn StateRead, denom: &str) -> Result<Option<std::sync::Arc<Limit>>, SdkError> {
    let Some(bytes) = state.get(keys::STORE_KEY, &keys::velocity_limit_key(denom))? else { return Ok(None) };
    LIMITS.get(&bytes, Limit::decode).map(Some)
}

/// An account's limit under `lim`: the first tier whose credential it holds at
/// `now` (named `issuer:type`), else the default (named "").
pub fn account_limit(
    state: &dyn StateRead,
    lim: &Limit,
    who: &Address,
    now: BlockTime,
) -> Result<(u128, String), SdkError> {
    for t in &lim.tiers {
        if store::holds_credential(state, who, &t.issuer, &t.credential_type, now)? {
            return Ok((t.limit, t.name.clone()));
        }
    }
    Ok((lim.limit, String::new()))
}

/// An account's standing under its denom's limit at `now`.
pub struct AccountStanding {
    pub limit: u128,
    pub tier: String,
    pub window_seconds: u64,
    pub used: u128,
}

impl AccountStanding {
    pub fn remaining(&self) -> u128 {
        self.limit.saturating_sub(self.used)
    }
}

pub fn account_standing(
    state: &dyn StateRead,
    denom: &str,
    lim: &Limit,
    who: &Address,
    now: BlockTime,
) -> Result<AccountStanding, SdkError> {
    standing_and_usage(state, denom, lim, who, now).map(|(s, _)| s)
}

/// An account's standing at `now` and the usage record it was computed from.
fn standing_and_usage(
    state: &dyn StateRead,
    denom: &str,
    lim: &Limit,
    who: &Address,
    now: BlockTime,
) -> Result<(AccountStanding, pb::WindowUsage), SdkError> {
    let (limit, tier) = account_limit(state, lim, who, now)?;
    let bs = bucket_seconds(lim.window_seconds);
    let usage = account_usage(state, who, denom)?;
    let (used, _) = in_window(&usage, bs, epoch(now, bs))?;
    Ok((AccountStanding { limit, tier, window_seconds: lim.window_seconds, used }, usage))
}

/// Refuses `amount` of `denom` from `from` past its velocity limit. Under a limit:
/// the account's standing before the move and its usage once the move is counted
/// (for the record to write: the record reads nothing again).
pub fn check_account(
    state: &dyn StateRead,
    from: &Address,
    denom: &str,
    amount: u128,
    now: BlockTime,
) -> Result<Option<(AccountStanding, pb::WindowUsage)>, SdkError> {
    let Some(lim) = limit(state, denom)? else { return Ok(None) };
    let (s, usage) = standing_and_usage(state, denom, &lim, from, now)?;
    if s.used.checked_add(amount).is_none_or(|after| after > s.limit) {
        let tier = if s.tier.is_empty() { "the default tier".to_string() } else { format!("tier {}", s.tier) };
        return Err(errors::velocity_limit_exceeded(format!(
            "{from} may send {limit}{denom} per {w} s ({tier}): {used}{denom} sent in the window, {rem}{denom} \
             remaining, {amount}{denom} asked",
            limit = s.limit,
            w = s.window_seconds,
            used = s.used,
            rem = s.remaining(),
        )));
    }
    let bs = bucket_seconds(lim.window_seconds);
    let after = add(usage, bs, epoch(now, bs), amount, 0)?;
    Ok(Some((s, after)))
}

/// A corridor's standing at `now`: (sent, received) within the window.
pub fn corridor_standing(
    state: &dyn StateRead,
    lim: &pb::CorridorLimit,
    now: BlockTime,
) -> Result<(u128, u128), SdkError> {
    let bs = bucket_seconds(lim.window_seconds);
    in_window(&corridor_usage(state, &lim.channel_id, &lim.denom)?, bs, epoch(now, bs))
}

/// Refuses `amount` of `denom` leaving through `channel` past its corridor limit
/// (what came in through it within the window makes room). Under a limit: the
/// corridor's usage once the move is counted. Coins coming in are never refused,
/// only counted.
pub fn check_corridor(
    state: &dyn StateRead,
    channel: &str,
    denom: &str,
    amount: u128,
    outgoing: bool,
    now: BlockTime,
) -> Result<Option<pb::WindowUsage>, SdkError> {
    let Some(lim) = corridor_limit(state, channel, denom)? else { return Ok(None) };
    let bs = bucket_seconds(lim.window_seconds);
    let usage = corridor_usage(state, channel, denom)?;
    let (sent, received) = in_window(&usage, bs, epoch(now, bs))?;
    if outgoing {
        let limit = parse_amount(&lim.limit).map_err(|e| corrupt("corridor limit", e.log))?;
        let net = sent.saturating_sub(received);
        if net.checked_add(amount).is_none_or(|after| after > limit) {
            return Err(errors::corridor_limit_exceeded(format!(
                "at most {limit}{denom} may leave through {channel} per {w} s, net of what comes in: {net}{denom} \
                 left net in the window ({sent} out, {received} in), {rem}{denom} remaining, {amount}{denom} asked",
                w = lim.window_seconds,
                rem = limit.saturating_sub(net),
            )));
        }
    }
    let (out, inn) = if outgoing { (amount, 0) } else { (0, amount) };
    Ok(Some(add(usage, bs, epoch(now, bs), out, inn)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(bs: u64, buckets: &[(u64, u128)]) -> pb::WindowUsage {
        pb::WindowUsage {
            bucket_seconds: bs,
            buckets: buckets
                .iter()
                .map(|&(epoch, sent)| pb::UsageBucket { epoch, sent: sent.to_string(), received: String::new() })
                .collect(),
        }
    }

    #[test]
    fn a_window_counts_its_last_24_buckets_only() {
        let u = usage(10, &[(100, 1), (110, 2), (123, 4)]);
        // At 123: buckets 100..=123 count; 100 is 23 old.
        assert_eq!(in_window(&u, 10, 123).unwrap(), (7, 0));
        // At 124 bucket 100 is 24 old and out.
        assert_eq!(in_window(&u, 10, 124).unwrap(), (6, 0));
        assert_eq!(in_window(&u, 10, 147).unwrap(), (0, 0));
        // Recorded under another bucket length (the window changed): nothing counts.
        assert_eq!(in_window(&u, 11, 123).unwrap(), (0, 0));
    }

    #[test]
    fn adding_drops_old_buckets_and_merges_the_current_one() {
        let u = add(usage(10, &[(100, 1), (110, 2)]), 10, 124, 5, 0).unwrap();
        assert_eq!(u.buckets.len(), 2, "bucket 100 left the window: {u:?}");
        let u = add(u, 10, 124, 1, 3).unwrap();
        assert_eq!(u.buckets.len(), 2);
        assert_eq!(in_window(&u, 10, 124).unwrap(), (8, 3));
        // A changed window starts afresh.
        let u = add(u, 20, 62, 1, 0).unwrap();
        assert_eq!((u.bucket_seconds, u.buckets.len()), (20, 1));
        // Never more than BUCKETS records, whatever the history.
        let mut u = pb::WindowUsage::default();
        for e in 0..200 {
            u = add(u, 1, e, 1, 0).unwrap();
        }
        assert_eq!(u.buckets.len() as u64, BUCKETS);
        assert_eq!(in_window(&u, 1, 199).unwrap(), (24, 0));
    }

    #[test]
    fn bucket_length_rounds_up() {
        assert_eq!(bucket_seconds(24), 1);
        assert_eq!(bucket_seconds(25), 2);
        assert_eq!(bucket_seconds(86_400), 3_600);
    }
}
