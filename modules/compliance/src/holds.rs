//! Holds for review: a send between two accounts that a policy with
//! `hold_seconds` refuses goes into the holds account under a case id instead,
//! visible to both parties. The committee (by its threshold of votes) or the
//! held token's admin (alone, for its token) releases it to the recipient,
//! returns it to the sender, or, when a party is sanctioned, seizes it to the
//! committee's seizure account. A hold not decided by its deadline goes back to
//! the sender in end block, a bounded number per block.

use std::sync::Arc;

use paychain_bank::{BankKeeper, HoldRequest};
use paychain_framework::time::{from_block_time, Timestamp};
use paychain_framework::{Address, Coins, Context, SdkError, StateRead};
use prost::Message;

use crate::errors;
use crate::events;
use crate::keys;
use crate::pb::{self, HoldDecision, HoldStatus};
use crate::sanctions;
use crate::store::{corrupt, DenomAdmins};

/// Most expired holds end block returns per block (the rest wait for the next).
pub const MAX_EXPIRED_HOLDS_PER_BLOCK: usize = 100;

pub fn hold(state: &dyn StateRead, id: u64) -> Result<Option<pb::Hold>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::hold_key(id))? {
        None => Ok(None),
        Some(b) => pb::Hold::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("hold {id}"), e)),
    }
}

pub fn next_hold_id(state: &dyn StateRead) -> Result<u64, SdkError> {
    match state.get(keys::STORE_KEY, keys::NEXT_HOLD_ID_KEY)? {
        None => Ok(1),
        Some(b) => {
            let b: [u8; 8] = b.as_slice().try_into().map_err(|_| corrupt("next hold id", "not 8 bytes"))?;
            Ok(u64::from_be_bytes(b))
        }
    }
}

pub fn holds_account() -> Address {
    Address::module(keys::HOLDS_ACCOUNT)
}

pub(crate) fn status_name(status: i32) -> &'static str {
    HoldStatus::try_from(status).map(|s| s.as_str_name()).unwrap_or("HOLD_STATUS_UNSPECIFIED")
}

fn amount(h: &pb::Hold) -> Result<Coins, SdkError> {
    Coins::from_proto(&h.amount).map_err(|e| corrupt(format_args!("hold {}", h.id), e.log))
}

fn party(s: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| corrupt("hold party", e.log))
}

/// Writes `h` and its indexes; `before` is its stored status (to move the status index).
pub(crate) fn save(ctx: &mut Context, h: &pb::Hold, before: Option<i32>) -> Result<(), SdkError> {
    let marker = keys::INDEX_MARKER.to_vec();
    if let Some(old) = before {
        ctx.delete(keys::STORE_KEY, keys::hold_status_key(old, h.id))?;
    } else {
        ctx.set(keys::STORE_KEY, keys::hold_party_key(&party(&h.sender)?, h.id), marker.clone())?;
        ctx.set(keys::STORE_KEY, keys::hold_party_key(&party(&h.recipient)?, h.id), marker.clone())?;
    }
    let deadline = h.deadline.unwrap_or_default();
    let queue = keys::hold_deadline_key(deadline.seconds, deadline.nanos, h.id);
    if h.status == HoldStatus::Held as i32 {
        ctx.set(keys::STORE_KEY, queue, marker.clone())?;
    } else {
        ctx.delete(keys::STORE_KEY, queue)?;
    }
    ctx.set(keys::STORE_KEY, keys::hold_status_key(h.status, h.id), marker)?;
    ctx.set(keys::STORE_KEY, keys::hold_key(h.id), h.encode_to_vec())
}

pub(crate) fn set_next_hold_id(ctx: &mut Context, id: u64) -> Result<(), SdkError> {
    ctx.set(keys::STORE_KEY, keys::NEXT_HOLD_ID_KEY.to_vec(), id.to_be_bytes().to_vec())
}

/// Records a new hold (the coins are moved into the holds account by bank).
pub(crate) fn record(
    ctx: &mut Context,
    from: &Address,
    to: &Address,
    amt: &Coins,
    request: &HoldRequest,
) -> Result<pb::Hold, SdkError> {
    let id = next_hold_id(&*ctx)?;
    let next = id.checked_add(1).ok_or_else(|| SdkError::fatal("compliance: hold ids exhausted"))?;
    let now = ctx.block.time;
    let seconds = i64::try_from(request.hold_seconds).unwrap_or(i64::MAX);
    let h = pb::Hold {
        id,
        sender: from.to_string(),
        recipient: to.to_string(),
        amount: amt.to_proto(),
        policy_id: request.policy_id,
        policy_version: request.policy_version,
        reason: request.reason.clone(),
        status: HoldStatus::Held as i32,
        created_at: Some(from_block_time(now)),
        deadline: Some(Timestamp { seconds: now.seconds.saturating_add(seconds), nanos: now.nanos }),
        ..Default::default()
    };
    set_next_hold_id(ctx, next)?;
    save(ctx, &h, None)?;
    ctx.emit(events::hold(&h, "hold", from, ""));
    Ok(h)
}

pub struct Holds<'a> {
    pub bank: &'a BankKeeper,
    pub denom_admins: Option<&'a Arc<dyn DenomAdmins>>,
}

impl Holds<'_> {
    /// A decision on hold `id` by `signer`: the admin of every held denom decides
    /// alone; a committee member's decision is a vote, carried out at the
    /// committee's threshold.
    pub(crate) fn decide(
        &self,
        ctx: &mut Context,
        signer: &Address,
        id: u64,
        decision: HoldDecision,
        note: &paychain_framework::note::Note,
    ) -> Result<pb::Hold, SdkError> {
        let mut h = hold(&*ctx, id)?.ok_or_else(|| errors::hold_not_found(format!("no hold {id}")))?;
        if h.status != HoldStatus::Held as i32 {
            return Err(errors::hold_closed(format!("hold {id} is {}", status_name(h.status))));
        }
        let c = sanctions::committee(&*ctx)?;
        if decision == HoldDecision::Seize {
            let (from, to) = (party(&h.sender)?, party(&h.recipient)?);
            if !(sanctions::is_sanctioned(&*ctx, &from)? || sanctions::is_sanctioned(&*ctx, &to)?) {
                return Err(errors::invalid_decision("only funds of a sanctioned sender or recipient may be seized"));
            }
            if c.seizure_account.is_empty() {
                return Err(errors::invalid_decision("the committee has no seizure account"));
            }
        }
        let issuer = self.admin_of_all(&*ctx, &h, signer)?;
        let member = c.members.contains(&signer.to_string());
        if !issuer && !member {
            return Err(errors::unauthorized(format!(
                "{signer} is neither a committee member nor the admin of the held token"
            )));
        }
        if !issuer {
            let s = signer.to_string();
            if h.votes.iter().any(|v| v.member == s) {
                return Err(errors::already_voted(format!("{signer} already decided on hold {id}")));
            }
            h.votes.push(pb::HoldVote { member: s, decision: decision as i32 });
            let agreeing =
                h.votes.iter().filter(|v| v.decision == decision as i32 && c.members.contains(&v.member)).count();
            if (agreeing as u32) < c.threshold {
                save(ctx, &h, Some(h.status))?;
                ctx.emit(events::hold(&h, "vote", signer, decision.as_str_name()));
                return Ok(h);
            }
        }
        h.decision_reason = note.reason.clone();
        h.decision_reference = note.reference.clone();
        let to = match decision {
            HoldDecision::Release => party(&h.recipient)?,
            HoldDecision::Return => party(&h.sender)?,
            HoldDecision::Seize => {
                Address::from_bech32(&c.seizure_account).map_err(|e| corrupt("seizure account", e.log))?
            }
            HoldDecision::Unspecified => return Err(errors::invalid_decision("a decision is required")),
        };
        let status = match decision {
            HoldDecision::Release => HoldStatus::Released,
            HoldDecision::Return => HoldStatus::Returned,
            _ => HoldStatus::Seized,
        };
        self.close(ctx, &mut h, &to, status, signer)?;
        Ok(h)
    }

    /// Whether `signer` administers every denom the hold holds.
    fn admin_of_all(&self, state: &dyn StateRead, h: &pb::Hold, signer: &Address) -> Result<bool, SdkError> {
        let Some(admins) = self.denom_admins else { return Ok(false) };
        for c in &h.amount {
            if admins.admin_of(state, &c.denom)?.as_ref() != Some(signer) {
                return Ok(false);
            }
        }
        Ok(!h.amount.is_empty())
    }

    /// Pays the hold out to `to` and marks it decided.
    fn close(
        &self,
        ctx: &mut Context,
        h: &mut pb::Hold,
        to: &Address,
        status: HoldStatus,
        actor: &Address,
    ) -> Result<(), SdkError> {
        let amt = amount(h)?;
        // The decision is the compliance review: compliance policies let the
        // holds account's payment through (see `policy.rs`); issuers' rules still apply.
        self.bank.send_coins(ctx, &holds_account(), to, &amt)?;
        let before = h.status;
        h.status = status as i32;
        h.decided_at = Some(from_block_time(ctx.block.time));
        if status != HoldStatus::Expired {
            h.decided_by = actor.to_string();
        }
        save(ctx, h, Some(before))?;
        ctx.emit(events::hold(h, "decide", actor, status.as_str_name()));
        Ok(())
    }

    /// End block: holds past their deadline go back to their senders, oldest
    /// first, at most [`MAX_EXPIRED_HOLDS_PER_BLOCK`]. A return an issuer's rules
    /// refuse (a paused token) does not fail the block: it is retried next block.
    pub fn return_expired(&self, ctx: &mut Context) -> Result<usize, SdkError> {
        let due = crate::store::due(&*ctx, keys::HOLD_DEADLINE_PREFIX, ctx.block.time, MAX_EXPIRED_HOLDS_PER_BLOCK)?;
        let system = Address::module(keys::MODULE_NAME);
        for id in &due {
            let mut h = hold(&*ctx, *id)?.ok_or_else(|| corrupt("hold queue", format_args!("no hold {id}")))?;
            let sender = party(&h.sender)?;
            let returned = ctx.attempt(|ctx| self.close(ctx, &mut h, &sender, HoldStatus::Expired, &system));
            match returned {
                Ok(()) => {}
                Err(e) if e.fatal => return Err(e),
                Err(e) => ctx.emit(events::hold(&h, "return_failed", &system, &e.log)),
            }
        }
        Ok(due.len())
    }

    /// The holds account holds exactly what open holds hold, per denom; every
    /// open hold is in the deadline queue.
    pub fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        let mut held: std::collections::BTreeMap<String, u128> = Default::default();
        let open = keys::hold_status_prefix(HoldStatus::Held as i32);
        for entry in state.prefix(keys::STORE_KEY, &open, false).map_err(|e| e.log)? {
            let (key, _) = entry.map_err(|e| e.log)?;
            let id = u64::from_be_bytes(key[open.len()..].try_into().map_err(|_| "compliance: bad hold status key")?);
            let h = hold(state, id).map_err(|e| e.log)?.ok_or(format!("compliance: indexed hold {id} is missing"))?;
            let d = h.deadline.unwrap_or_default();
            if state
                .get(keys::STORE_KEY, &keys::hold_deadline_key(d.seconds, d.nanos, id))
                .map_err(|e| e.log)?
                .is_none()
            {
                return Err(format!("compliance: open hold {id} is not in the deadline queue"));
            }
            for c in amount(&h).map_err(|e| e.log)?.iter() {
                let sum = held.entry(c.denom.clone()).or_default();
                *sum = sum.checked_add(c.amount).ok_or("compliance: held amounts overflow")?;
            }
        }
        let have = self.bank.all_balances(state, &holds_account()).map_err(|e| e.log)?;
        let have: std::collections::BTreeMap<String, u128> = have.iter().map(|c| (c.denom.clone(), c.amount)).collect();
        if have != held {
            return Err(format!("compliance: the holds account has {have:?}, open holds {held:?}"));
        }
        Ok(())
    }
}
