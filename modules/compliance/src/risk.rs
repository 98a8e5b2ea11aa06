//! Risk scoring in consensus: the committee's rule set ([`pb::RiskRuleSet`]) scores
//! every transfer an account makes (not its fees) and every IBC arrival; the sum
//! of the matching rules' scores above `refuse_above` refuses it, above
//! `hold_above` holds a send between two accounts (other routes are refused).
//! The same function decides wherever bank asks (CheckTx too, through the
//! messages' admission checks), so every node, in every mode, reaches the same
//! decision on the same state, and a refused transfer never enters the mempool;
//! the decision (score, reason codes) travels from the check to the record in
//! the policy's note, and every decision above zero that lets the transfer happen
//! emits a `compliance_risk` event. A refusal's codes are in its error log (a
//! failed tx keeps no events).
//!
//! Cost: one read of the rule set per transfer when rules exist (none: one read);
//! per rule, cheap conditions first, then at most two reads per credential
//! condition, one for velocity so far, two for the recipient's age.
//!
//! Account age: an account created by a transfer while a rule watches ages is
//! recorded then (`first_seen`); an account without a record that exists is
//! older than the tracking and counts as old; one that does not exist yet is new.
//!
//! Changes: committee members vote for a complete new set on top of the current
//! version (by content hash); it takes effect when as many current members as the
//! committee's threshold voted for the same content on the same base.

use paychain_bank::Transfer;
use paychain_framework::coins::parse_amount;
use paychain_framework::time::from_block_time;
use paychain_framework::{Address, BlockTime, Context, Event, SdkError, StateRead};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::errors;
use crate::keys;
use crate::memo::Memo;
use crate::pb;
use crate::store::{self, corrupt};
use crate::velocity;

pub const MAX_RULES: usize = 32;
pub const MAX_SCORE: u32 = 1000;
pub const COMPLIANCE_RISK: &str = "compliance_risk";

fn decode<T: Message + Default>(b: Option<Vec<u8>>, what: &str) -> Result<Option<T>, SdkError> {
    b.map(|b| T::decode(b.as_slice()).map_err(|e| corrupt(what, e))).transpose()
}

/// The rules in effect (none before the committee adopted any).
pub fn rules(state: &dyn StateRead) -> Result<Option<pb::RiskRuleSet>, SdkError> {
    decode(state.get(keys::STORE_KEY, keys::RISK_RULES_KEY)?, "risk rules")
}

/// A rule set as scoring uses it: each rule's amount parsed and credential issuers decoded
/// (once per stored content, see [`crate::memo`]).
pub struct RuleSet {
    pub set: pb::RiskRuleSet,
    /// Per rule of `set`, in order.
    prepared: Vec<PreparedRule>,
    /// Whether any rule watches the recipient's age (then new accounts are recorded).
    watches_age: bool,
}

struct PreparedRule {
    min_amount: Option<u128>,
    sender_lacks: Option<(Address, String)>,
    recipient_lacks: Option<(Address, String)>,
}

impl RuleSet {
    fn decode(bytes: &[u8]) -> Result<RuleSet, SdkError> {
        let set = pb::RiskRuleSet::decode(bytes).map_err(|e| corrupt("risk rules", e))?;
        let requirement = |r: &Option<pb::CredentialRequirement>| {
            r.as_ref()
                .map(|r| {
                    let issuer = Address::from_bech32(&r.issuer).map_err(|e| corrupt("risk rule issuer", e.log))?;
                    Ok::<_, SdkError>((issuer, r.r#type.clone()))
                })
                .transpose()
        };
        let prepared = set
            .rules
            .iter()
            .map(|r| {
                Ok(PreparedRule {
                    min_amount: (!r.min_amount.is_empty())
                        .then(|| parse_amount(&r.min_amount).map_err(|e| corrupt("risk rule", e.log)))
                        .transpose()?,
                    sender_lacks: requirement(&r.sender_lacks)?,
                    recipient_lacks: requirement(&r.recipient_lacks)?,
                })
            })
            .collect::<Result<_, SdkError>>()?;
        let watches_age = set.rules.iter().any(|r| r.recipient_newer_than_seconds > 0);
        Ok(RuleSet { set, prepared, watches_age })
    }
}

static RULE_SETS: Memo<RuleSet> = Memo::new();

/// The rules in effect, ready to score with.
pub fn rule_set(state: &dyn StateRead) -> Result<Option<std::sync::Arc<RuleSet>>, SdkError> {
    let Some(bytes) = state.get(keys::STORE_KEY, keys::RISK_RULES_KEY)? else { return Ok(None) };
    RULE_SETS.get(&bytes, RuleSet::decode).map(Some)
}

pub fn rules_version(state: &dyn StateRead, version: u64) -> Result<Option<pb::RiskRuleSet>, SdkError> {
    decode(state.get(keys::STORE_KEY, &keys::risk_rules_version_key(version))?, "risk rules")
}

fn first_seen(state: &dyn StateRead, who: &Address) -> Result<Option<i64>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::first_seen_key(who))? {
        None => Ok(None),
        Some(b) => {
            let raw: [u8; 8] = b.as_slice().try_into().map_err(|_| corrupt("first_seen", "not 8 bytes"))?;
            Ok(Some(i64::from_be_bytes(raw)))
        }
    }
}

/// What a transfer is, as the rules see it.
pub struct Facts<'a, 'b> {
    pub tr: &'a Transfer<'b>,
    /// The account sending (none for an IBC arrival).
    pub sender: Option<&'a Address>,
    /// The account receiving (none for IBC out and module recipients).
    pub recipient: Option<&'a Address>,
    pub has_travel_rule: bool,
    /// The sender's standing under its velocity limit before the move (none: no limit).
    pub velocity: Option<&'a velocity::AccountStanding>,
}

/// A transfer's score and the codes of the rules that matched, in rule order
/// (a message: it travels from the check to the record in the policy's note).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Score {
    #[prost(uint32, tag = "1")]
    pub total: u32,
    #[prost(string, repeated, tag = "2")]
    pub codes: Vec<String>,
    #[prost(uint64, tag = "3")]
    pub version: u64,
    /// The recipient had no account before this transfer (recorded as first seen now).
    #[prost(bool, tag = "4")]
    pub recipient_new: bool,
    /// The rules held the transfer.
    #[prost(bool, tag = "5")]
    pub held: bool,
}

/// Whether a rule's credential condition matches: no condition matches, and a condition
/// matches a party that lacks the credential (never an absent party).
fn lacks(
    state: &dyn StateRead,
    who: Option<&Address>,
    req: Option<&(Address, String)>,
    now: BlockTime,
) -> Result<bool, SdkError> {
    let (Some(who), Some((issuer, credential_type))) = (who, req) else { return Ok(req.is_none()) };
    Ok(!store::holds_credential(state, who, issuer, credential_type, now)?)
}

/// Scores `f` under `rules`: cheap conditions first, reads only for rules still matching.
pub fn score(state: &dyn StateRead, rules: &RuleSet, f: &Facts<'_, '_>) -> Result<Score, SdkError> {
    let tr = f.tr;
    let (route, channel) = (tr.route.kind(), tr.route.channel());
    let mut out = Score { version: rules.set.version, ..Score::default() };
    // Whether the recipient is new, asked once.
    let mut recipient_age: Option<Option<u64>> = None;
    for (r, p) in rules.set.rules.iter().zip(&rules.prepared) {
        let cheap = (r.denom.is_empty() || r.denom == tr.denom)
            && (r.route.is_empty() || r.route == route)
            && (r.channel_id.is_empty() || r.channel_id == channel)
            && p.min_amount.is_none_or(|min| tr.amount >= min)
            && (!r.without_travel_rule || !f.has_travel_rule);
        if !cheap
            || !lacks(state, f.sender, p.sender_lacks.as_ref(), tr.now)?
            || !lacks(state, f.recipient, p.recipient_lacks.as_ref(), tr.now)?
        {
            continue;
        }
        if r.velocity_used_percent > 0 {
            let Some(s) = f.velocity else { continue };
            // used / limit ≥ percent / 100, in integers.
            let used = s.used.saturating_mul(100);
            if s.limit > 0 && used < s.limit.saturating_mul(u128::from(r.velocity_used_percent)) {
                continue;
            }
        }
        if r.recipient_newer_than_seconds > 0 {
            let Some(to) = f.recipient else { continue };
            let age = match recipient_age {
                Some(a) => a,
                None => {
                    let a = recipient_age_seconds(state, to, tr.now, &mut out)?;
                    recipient_age = Some(a);
                    a
                }
            };
            if age.is_none_or(|a| a >= r.recipient_newer_than_seconds) {
                continue;
            }
        }
        out.total = out.total.saturating_add(r.score);
        out.codes.push(r.code.clone());
    }
    if rules.watches_age && recipient_age.is_none() {
        if let Some(to) = f.recipient {
            recipient_age_seconds(state, to, tr.now, &mut out)?;
        }
    }
    Ok(out)
}

/// The recipient's age in seconds (`None`: older than the tracking); notes a new one.
fn recipient_age_seconds(
    state: &dyn StateRead,
    to: &Address,
    now: BlockTime,
    out: &mut Score,
) -> Result<Option<u64>, SdkError> {
    if let Some(seen) = first_seen(state, to)? {
        return Ok(Some(u64::try_from(now.seconds.saturating_sub(seen)).unwrap_or(0)));
    }
    let exists = state.get(paychain_auth::keys::STORE_KEY, &paychain_auth::keys::account_key(to))?.is_some();
    out.recipient_new = !exists;
    Ok((!exists).then_some(0))
}

/// What the rule set decides for a score: refuse (the error), hold, or let it pass.
pub enum Decision {
    Pass,
    Hold { reason: String, hold_seconds: u64 },
}

pub fn decide(set: &pb::RiskRuleSet, s: &Score, holdable: bool) -> Result<Decision, SdkError> {
    let why = || format!("risk score {} (rules version {}): {}", s.total, set.version, s.codes.join(","));
    if set.refuse_above > 0 && s.total > set.refuse_above {
        return Err(errors::refused_by_risk(format!("{} is above {}", why(), set.refuse_above)));
    }
    if set.hold_above > 0 && s.total > set.hold_above {
        if !holdable {
            return Err(errors::refused_by_risk(format!(
                "{} is above the hold level {} and this transfer cannot be held",
                why(),
                set.hold_above
            )));
        }
        return Ok(Decision::Hold { reason: why(), hold_seconds: set.hold_seconds });
    }
    Ok(Decision::Pass)
}

/// After the move: the decision's event (score above zero) and a new recipient's
/// first sighting (`recipient_new` is only ever set for an account recipient).
pub fn record(ctx: &mut Context, tr: &Transfer<'_>, s: &Score) -> Result<(), SdkError> {
    if s.recipient_new {
        ctx.set(keys::STORE_KEY, keys::first_seen_key(tr.to), tr.now.seconds.to_be_bytes().to_vec())?;
    }
    if s.total > 0 {
        ctx.emit(
            Event::new(COMPLIANCE_RISK)
                .attr("sender", tr.from.to_string())
                .attr("recipient", tr.to.to_string())
                .attr("amount", format!("{}{}", tr.amount, tr.denom))
                .attr("route", tr.route.kind())
                .attr("channel_id", tr.route.channel())
                .attr("score", s.total.to_string())
                .attr("codes", s.codes.join(","))
                .attr("rules_version", s.version.to_string())
                .attr("decision", if s.held { "hold" } else { "pass" }),
        );
    }
    Ok(())
}

/// The content a vote names: the set without its version and time.
pub fn proposal_hash(set: &pb::RiskRuleSet) -> String {
    let bare = pb::RiskRuleSet { version: 0, updated_at: None, ..set.clone() };
    hex::encode(Sha256::digest(bare.encode_to_vec()))
}

/// A member's vote for `proposed` on top of `base_version`; adopts it at the
/// committee's threshold. Returns (version in effect, votes for this content).
pub fn vote(
    ctx: &mut Context,
    member: &Address,
    base_version: u64,
    proposed: &pb::RiskRuleSet,
) -> Result<(u64, u32), SdkError> {
    let committee = crate::sanctions::committee(&*ctx)?;
    if !committee.members.contains(&member.to_string()) {
        return Err(errors::not_committee_member(format!("{member} is not a member of the compliance committee")));
    }
    let current = rules(&*ctx)?.map_or(0, |r| r.version);
    if base_version != current {
        return Err(errors::invalid_risk_rules(format!(
            "the vote is on version {base_version}, but version {current} is in effect"
        )));
    }
    let hash = proposal_hash(proposed);
    let key = keys::risk_vote_key(base_version, &hash);
    let mut v: pb::RiskRuleVote = decode(ctx.get(keys::STORE_KEY, &key)?, "risk rule vote")?.unwrap_or_else(|| {
        pb::RiskRuleVote { base_version, proposal_hash: hash.clone(), proposed: Some(proposed.clone()), voters: vec![] }
    });
    if v.voters.contains(&member.to_string()) {
        return Err(errors::already_voted(format!("{member} already voted for these rules")));
    }
    v.voters.push(member.to_string());
    let votes = v.voters.iter().filter(|m| committee.members.contains(m)).count() as u32;
    if committee.threshold == 0 || votes < committee.threshold {
        ctx.set(keys::STORE_KEY, key, v.encode_to_vec())?;
        return Ok((current, votes));
    }
    let version = current.checked_add(1).ok_or_else(|| errors::invalid_risk_rules("no versions left"))?;
    let adopted = pb::RiskRuleSet { version, updated_at: Some(from_block_time(ctx.block.time)), ..proposed.clone() };
    let bytes = adopted.encode_to_vec();
    ctx.set(keys::STORE_KEY, keys::RISK_RULES_KEY.to_vec(), bytes.clone())?;
    ctx.set(keys::STORE_KEY, keys::risk_rules_version_key(version), bytes)?;
    // Every open vote was on the version just replaced.
    let stale: Vec<Vec<u8>> = ctx
        .prefix(keys::STORE_KEY, &keys::risk_votes_prefix(base_version), false)?
        .map(|kv| kv.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for k in stale {
        ctx.delete(keys::STORE_KEY, k)?;
    }
    Ok((version, votes))
}

/// Open votes (on the version in effect).
pub fn open_votes(state: &dyn StateRead) -> Result<Vec<pb::RiskRuleVote>, SdkError> {
    let current = rules(state)?.map_or(0, |r| r.version);
    let mut out = Vec::new();
    for kv in state.prefix(keys::STORE_KEY, &keys::risk_votes_prefix(current), false)? {
        let (_, v) = kv?;
        out.push(pb::RiskRuleVote::decode(v.as_slice()).map_err(|e| corrupt("risk rule vote", e))?);
    }
    Ok(out)
}
