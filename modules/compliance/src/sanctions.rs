//! Sanctions under the compliance committee.
//!
//! A committee member proposes to sanction or unsanction addresses, citing the
//! published list it follows (name, SHA-256, version); members vote yes. An
//! ordinary proposal passes at the committee's threshold, waits out the
//! timelock and executes (in end block, or at once by `MsgExecuteSanction` once
//! due). An emergency sanction takes effect as soon as the smaller emergency
//! quorum votes for it and lapses `emergency_lapse_seconds` later unless it
//! reaches the full threshold first. Each proposal has at most one pending
//! deadline (voting end, lapse, or execution) in a time-ordered queue that end
//! block works through, a bounded number per block.
//!
//! A sanctioned address (its raw bytes, so every bech32 form) sends nothing, fees
//! included; what it receives stays frozen (see [`crate::policy`]).

use paychain_framework::time::{from_block_time, Timestamp};
use paychain_framework::{Address, BlockTime, Context, SdkError, StateRead};
use prost::Message;

use crate::errors;
use crate::events;
use crate::keys;
use crate::pb::{self, ProposalStatus, SanctionAction};
use crate::store::corrupt;

/// Most members a committee may have.
pub const MAX_MEMBERS: usize = 32;
/// Most addresses one proposal may list.
pub const MAX_ADDRESSES: usize = 100;
/// Longest timelock, lapse or voting period: a year.
pub const MAX_PERIOD_SECONDS: u64 = 366 * 24 * 3600;
/// Most deadlines end block handles per block (each touches at most
/// [`MAX_ADDRESSES`] sanction records); the rest wait for the next block.
pub const MAX_DEADLINES_PER_BLOCK: usize = 50;

/// The committee's rules, checked without state.
pub fn validate_committee(c: &pb::Committee) -> Result<(), String> {
    if c.members.len() > MAX_MEMBERS {
        return Err(format!("members: at most {MAX_MEMBERS}, got {}", c.members.len()));
    }
    for m in &c.members {
        Address::from_bech32(m).map_err(|e| format!("members: {}", e.log))?;
    }
    if c.members.windows(2).any(|w| w[0] >= w[1]) {
        return Err("members: must be sorted and distinct".into());
    }
    if !c.seizure_account.is_empty() {
        Address::from_bech32(&c.seizure_account).map_err(|e| format!("seizure_account: {}", e.log))?;
    }
    if c.members.is_empty() {
        return if c.threshold == 0 && c.emergency_threshold == 0 {
            Ok(())
        } else {
            Err("threshold: a committee without members has no thresholds".into())
        };
    }
    let n = c.members.len() as u32;
    if c.threshold == 0 || c.threshold > n {
        return Err(format!("threshold: must be 1 to {n} (the members), got {}", c.threshold));
    }
    if c.emergency_threshold == 0 || c.emergency_threshold > c.threshold {
        return Err(format!(
            "emergency_threshold: must be 1 to the threshold {}, got {}",
            c.threshold, c.emergency_threshold
        ));
    }
    for (name, v) in [
        ("timelock_seconds", c.timelock_seconds),
        ("emergency_lapse_seconds", c.emergency_lapse_seconds),
        ("voting_period_seconds", c.voting_period_seconds),
    ] {
        if v > MAX_PERIOD_SECONDS {
            return Err(format!("{name}: at most {MAX_PERIOD_SECONDS}, got {v}"));
        }
    }
    if c.emergency_lapse_seconds == 0 || c.voting_period_seconds == 0 {
        return Err("emergency_lapse_seconds and voting_period_seconds: must be positive".into());
    }
    Ok(())
}

/// A list source: a name, the list's SHA-256 and its version.
pub fn validate_source(s: Option<&pb::ListSource>) -> Result<(), SdkError> {
    let Some(s) = s else {
        return Err(errors::invalid_proposal("the list source (name, sha256, version) is required"));
    };
    let short = |v: &str, what: &str| {
        if v.is_empty() || v.len() > 64 || v.chars().any(char::is_control) {
            Err(errors::invalid_proposal(format!("source {what}: 1 to 64 bytes without control characters")))
        } else {
            Ok(())
        }
    };
    short(&s.name, "name")?;
    short(&s.version, "version")?;
    if s.sha256.len() != 64 || !s.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(errors::invalid_proposal("source sha256: the list file's SHA-256, 64 hex characters"));
    }
    Ok(())
}

pub fn committee(state: &dyn StateRead) -> Result<pb::Committee, SdkError> {
    match state.get(keys::STORE_KEY, keys::COMMITTEE_KEY)? {
        None => Ok(pb::Committee::default()),
        Some(b) => pb::Committee::decode(b.as_slice()).map_err(|e| corrupt("committee", e)),
    }
}

pub fn proposal(state: &dyn StateRead, id: u64) -> Result<Option<pb::SanctionProposal>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::proposal_key(id))? {
        None => Ok(None),
        Some(b) => {
            pb::SanctionProposal::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("proposal {id}"), e))
        }
    }
}

pub fn sanction(state: &dyn StateRead, addr: &Address) -> Result<Option<pb::Sanction>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::sanction_key(addr))? {
        None => Ok(None),
        Some(b) => pb::Sanction::decode(b.as_slice()).map(Some).map_err(|e| corrupt("sanction", e)),
    }
}

/// Whether `addr` is sanctioned: one read. An entry is in effect until it is
/// removed (an unsanction, or end block's lapse of an unconfirmed emergency).
pub fn is_sanctioned(state: &dyn StateRead, addr: &Address) -> Result<bool, SdkError> {
    Ok(state.get(keys::STORE_KEY, &keys::sanction_key(addr))?.is_some())
}

pub fn next_proposal_id(state: &dyn StateRead) -> Result<u64, SdkError> {
    match state.get(keys::STORE_KEY, keys::NEXT_PROPOSAL_ID_KEY)? {
        None => Ok(1),
        Some(b) => {
            let b: [u8; 8] = b.as_slice().try_into().map_err(|_| corrupt("next proposal id", "not 8 bytes"))?;
            Ok(u64::from_be_bytes(b))
        }
    }
}

fn after(now: BlockTime, seconds: u64) -> Timestamp {
    let s = now.seconds.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
    Timestamp { seconds: s, nanos: now.nanos }
}

fn reached(now: BlockTime, t: Option<&Timestamp>) -> bool {
    t.is_some_and(|t| paychain_framework::time::reached(now, t))
}

/// The time of `p`'s pending deadline, if any.
fn deadline(p: &pb::SanctionProposal) -> Option<&Timestamp> {
    match ProposalStatus::try_from(p.status) {
        Ok(ProposalStatus::Voting) => p.voting_ends_at.as_ref(),
        Ok(ProposalStatus::Emergency) => p.lapses_at.as_ref(),
        Ok(ProposalStatus::Passed) => p.execute_at.as_ref(),
        _ => None,
    }
}

fn addrs(p: &pb::SanctionProposal) -> Result<Vec<Address>, SdkError> {
    p.addresses.iter().map(|a| Address::from_bech32(a).map_err(|e| corrupt("proposal address", e.log))).collect()
}

pub(crate) fn status_name(status: i32) -> &'static str {
    ProposalStatus::try_from(status).map(|s| s.as_str_name()).unwrap_or("PROPOSAL_STATUS_UNSPECIFIED")
}

/// What the committee's keeper does with proposals; every write keeps the
/// deadline queue in step with the proposal's status.
pub struct Sanctions;

impl Sanctions {
    /// Stores `p`, moving its deadline entry from what `before` had.
    pub(crate) fn save(
        ctx: &mut Context,
        p: &pb::SanctionProposal,
        before: Option<&Timestamp>,
    ) -> Result<(), SdkError> {
        if let Some(t) = before {
            ctx.delete(keys::STORE_KEY, keys::deadline_key(t.seconds, t.nanos, p.id))?;
        }
        if let Some(t) = deadline(p) {
            ctx.set(keys::STORE_KEY, keys::deadline_key(t.seconds, t.nanos, p.id), keys::INDEX_MARKER.to_vec())?;
        }
        ctx.set(keys::STORE_KEY, keys::proposal_key(p.id), p.encode_to_vec())
    }

    pub(crate) fn set_committee(ctx: &mut Context, c: &pb::Committee) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::COMMITTEE_KEY.to_vec(), c.encode_to_vec())
    }

    pub(crate) fn set_next_proposal_id(ctx: &mut Context, id: u64) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::NEXT_PROPOSAL_ID_KEY.to_vec(), id.to_be_bytes().to_vec())
    }

    pub(crate) fn set_sanction(ctx: &mut Context, s: &pb::Sanction, addr: &Address) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::sanction_key(addr), s.encode_to_vec())
    }

    /// A member's new proposal, with the proposer's vote; returns it after the tally.
    pub(crate) fn propose(
        ctx: &mut Context,
        proposer: &Address,
        action: SanctionAction,
        targets: &[Address],
        emergency: bool,
        source: &pb::ListSource,
        note: &paychain_framework::note::Note,
    ) -> Result<pb::SanctionProposal, SdkError> {
        let c = committee(&*ctx)?;
        require_member(&c, proposer)?;
        let now = ctx.block.time;
        let id = next_proposal_id(&*ctx)?;
        let next = id.checked_add(1).ok_or_else(|| SdkError::fatal("compliance: proposal ids exhausted"))?;
        let mut p = pb::SanctionProposal {
            id,
            proposer: proposer.to_string(),
            action: action as i32,
            addresses: targets.iter().map(Address::to_string).collect(),
            emergency,
            source: Some(source.clone()),
            reason: note.reason.clone(),
            reference: note.reference.clone(),
            votes: vec![proposer.to_string()],
            status: ProposalStatus::Voting as i32,
            submitted_at: Some(from_block_time(now)),
            voting_ends_at: Some(after(now, c.voting_period_seconds)),
            ..Default::default()
        };
        Self::set_next_proposal_id(ctx, next)?;
        ctx.emit(events::sanction(&p, "propose", proposer, tally(&c, &p)));
        Self::save(ctx, &p, None)?;
        Self::advance(ctx, &c, &mut p)?;
        Ok(p)
    }

    /// A member's yes vote; returns the proposal after the tally.
    pub(crate) fn vote(ctx: &mut Context, voter: &Address, id: u64) -> Result<pb::SanctionProposal, SdkError> {
        let c = committee(&*ctx)?;
        require_member(&c, voter)?;
        let mut p =
            proposal(&*ctx, id)?.ok_or_else(|| errors::proposal_not_found(format!("no sanction proposal {id}")))?;
        let open = matches!(ProposalStatus::try_from(p.status), Ok(ProposalStatus::Voting | ProposalStatus::Emergency));
        // A deadline reached in this block closes the vote even before end block runs.
        if !open || reached(ctx.block.time, deadline(&p)) {
            return Err(errors::voting_closed(format!(
                "proposal {id} is {}: its vote is closed",
                status_name(p.status)
            )));
        }
        let v = voter.to_string();
        if p.votes.contains(&v) {
            return Err(errors::already_voted(format!("{voter} already voted on proposal {id}")));
        }
        p.votes.push(v);
        ctx.emit(events::sanction(&p, "vote", voter, tally(&c, &p)));
        Self::save(ctx, &p, None)?;
        Self::advance(ctx, &c, &mut p)?;
        Ok(p)
    }

    /// Executes a passed proposal whose timelock is over (anyone may ask).
    pub(crate) fn execute(ctx: &mut Context, signer: &Address, id: u64) -> Result<pb::SanctionProposal, SdkError> {
        let mut p =
            proposal(&*ctx, id)?.ok_or_else(|| errors::proposal_not_found(format!("no sanction proposal {id}")))?;
        if p.status != ProposalStatus::Passed as i32 {
            return Err(errors::voting_closed(format!("proposal {id} is {}, not passed", status_name(p.status))));
        }
        if !reached(ctx.block.time, p.execute_at.as_ref()) {
            return Err(errors::timelock_not_passed(format!(
                "proposal {id} executes at {}",
                paychain_framework::time::format_opt(p.execute_at.as_ref())
            )));
        }
        Self::apply(ctx, &mut p, signer, None)?;
        Ok(p)
    }

    /// Moves `p` on after a vote: an emergency sanction into effect, a confirmed
    /// one made permanent, an ordinary one passed (and executed when there is no
    /// timelock).
    fn advance(ctx: &mut Context, c: &pb::Committee, p: &mut pb::SanctionProposal) -> Result<(), SdkError> {
        let now = ctx.block.time;
        let yes = tally(c, p);
        let before = deadline(p).copied();
        let status = ProposalStatus::try_from(p.status).unwrap_or_default();
        let full = yes >= c.threshold && c.threshold > 0;
        let system = Address::module(keys::MODULE_NAME);
        match status {
            ProposalStatus::Voting if p.emergency && full => Self::apply(ctx, p, &system, None)?,
            ProposalStatus::Voting if p.emergency && yes >= c.emergency_threshold && c.emergency_threshold > 0 => {
                let lapses = after(now, c.emergency_lapse_seconds);
                p.status = ProposalStatus::Emergency as i32;
                p.lapses_at = Some(lapses);
                Self::save(ctx, p, before.as_ref())?;
                Self::apply_sanctions(ctx, p, Some(lapses))?;
                ctx.emit(events::sanction(p, "emergency_effective", &system, yes));
            }
            ProposalStatus::Emergency if full => {
                // Confirmed in time: the entries it made stay, without a lapse.
                for a in addrs(p)? {
                    if let Some(mut s) = sanction(&*ctx, &a)? {
                        if s.proposal_id == p.id {
                            s.lapses_at = None;
                            Self::set_sanction(ctx, &s, &a)?;
                        }
                    }
                }
                p.status = ProposalStatus::Executed as i32;
                p.executed_at = Some(from_block_time(now));
                Self::save(ctx, p, before.as_ref())?;
                ctx.emit(events::sanction(p, "confirm", &system, yes));
            }
            ProposalStatus::Voting if !p.emergency && full => {
                p.status = ProposalStatus::Passed as i32;
                p.execute_at = Some(after(now, c.timelock_seconds));
                if c.timelock_seconds == 0 {
                    Self::apply(ctx, p, &system, before.as_ref())?;
                } else {
                    Self::save(ctx, p, before.as_ref())?;
                    ctx.emit(events::sanction(p, "pass", &system, yes));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Carries out `p` now and marks it executed.
    fn apply(
        ctx: &mut Context,
        p: &mut pb::SanctionProposal,
        actor: &Address,
        before: Option<&Timestamp>,
    ) -> Result<(), SdkError> {
        let before = before.copied().or_else(|| deadline(p).copied());
        Self::apply_sanctions(ctx, p, None)?;
        p.status = ProposalStatus::Executed as i32;
        p.executed_at = Some(from_block_time(ctx.block.time));
        Self::save(ctx, p, before.as_ref())?;
        let yes = tally(&committee(&*ctx)?, p);
        ctx.emit(events::sanction(p, "execute", actor, yes));
        Ok(())
    }

    /// Writes or removes the sanction entries of `p`. An emergency entry never
    /// replaces a permanent one.
    fn apply_sanctions(
        ctx: &mut Context,
        p: &pb::SanctionProposal,
        lapses_at: Option<Timestamp>,
    ) -> Result<(), SdkError> {
        let now = ctx.block.time;
        for a in addrs(p)? {
            if p.action == SanctionAction::Unsanction as i32 {
                ctx.delete(keys::STORE_KEY, keys::sanction_key(&a))?;
                continue;
            }
            let existing = sanction(&*ctx, &a)?;
            if lapses_at.is_some() && existing.as_ref().is_some_and(|s| s.lapses_at.is_none()) {
                continue;
            }
            let s = pb::Sanction {
                address: a.to_string(),
                proposal_id: p.id,
                source: p.source.clone(),
                since: Some(from_block_time(now)),
                lapses_at,
            };
            Self::set_sanction(ctx, &s, &a)?;
        }
        Ok(())
    }

    /// End block: proposals whose deadline has come, oldest first, at most
    /// [`MAX_DEADLINES_PER_BLOCK`]: votes expire, unconfirmed emergency sanctions
    /// lapse, timelocked proposals execute.
    pub fn end_block(ctx: &mut Context) -> Result<usize, SdkError> {
        let due = crate::store::due(&*ctx, keys::DEADLINE_PREFIX, ctx.block.time, MAX_DEADLINES_PER_BLOCK)?;
        let system = Address::module(keys::MODULE_NAME);
        for id in &due {
            let mut p =
                proposal(&*ctx, *id)?.ok_or_else(|| corrupt("deadline queue", format_args!("no proposal {id}")))?;
            let before = deadline(&p).copied();
            let yes = tally(&committee(&*ctx)?, &p);
            match ProposalStatus::try_from(p.status) {
                Ok(ProposalStatus::Voting) => {
                    p.status = ProposalStatus::Expired as i32;
                    Self::save(ctx, &p, before.as_ref())?;
                    ctx.emit(events::sanction(&p, "expire", &system, yes));
                }
                Ok(ProposalStatus::Emergency) => {
                    for a in addrs(&p)? {
                        if sanction(&*ctx, &a)?.is_some_and(|s| s.proposal_id == p.id && s.lapses_at.is_some()) {
                            ctx.delete(keys::STORE_KEY, keys::sanction_key(&a))?;
                        }
                    }
                    p.status = ProposalStatus::Lapsed as i32;
                    Self::save(ctx, &p, before.as_ref())?;
                    ctx.emit(events::sanction(&p, "lapse", &system, yes));
                }
                Ok(ProposalStatus::Passed) => Self::apply(ctx, &mut p, &system, before.as_ref())?,
                _ => return Err(corrupt("deadline queue", format_args!("proposal {id} is {}", status_name(p.status)))),
            }
        }
        Ok(due.len())
    }
}

fn require_member(c: &pb::Committee, who: &Address) -> Result<(), SdkError> {
    if c.members.contains(&who.to_string()) {
        Ok(())
    } else {
        Err(errors::not_committee_member(format!("{who} is not a member of the compliance committee")))
    }
}

/// Yes votes of current members.
pub fn tally(c: &pb::Committee, p: &pb::SanctionProposal) -> u32 {
    p.votes.iter().filter(|v| c.members.contains(v)).count() as u32
}
