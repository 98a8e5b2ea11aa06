//! Transfer policies at work: bank asks [`CompliancePolicy`] about every movement
//! of every denom (sends, multi-sends, fees, escrow, IBC out and in, mints), the
//! same code in CheckTx (the fee in the ante, the messages' moves in their
//! `Module::check_admission`) and FinalizeBlock.
//!
//! A transfer must satisfy the chain's global policy and its denom's own policy,
//! each read in one lookup; then, per party, an allow or deny list is one read
//! and a credential requirement two (the credential and its issuer), bounded by
//! [`crate::msgs::MAX_REQUIREMENTS`]. The parties are the sender and the
//! recipient; module accounts (the fee collector, escrow, the issuing modules)
//! and IBC channel escrows are never parties, so only the chain-side account of
//! an IBC transfer is checked. A transfer from a module account that mints (an
//! issuer's mint, an IBC voucher arriving) is a mint: its recipient is checked
//! as a mint recipient.
//!
//! Before any policy: a sanctioned sender is refused (one read), whatever the
//! denom, fees included; a sanctioned account's balance is locked whole, so what
//! it receives stays frozen.
//!
//! After the policies: the sender's velocity limit (what an account sends, fees
//! excepted) and the channel's corridor limit (IBC transfers), see [`velocity`];
//! a move under a limit is counted once made ([`TransferPolicy::record_transfer`]).

use std::sync::Arc;

use paychain_auth::{AuthKeeper, FEE_COLLECTOR, MINTER};
use paychain_bank::{HoldRequest, Route, Transfer, TransferPolicy, Verdict};
use paychain_framework::{Address, BlockTime, Coins, Context, SdkError, StateRead};
use prost::Message;

use crate::errors;
use crate::holds;
use crate::keys;
use crate::pb::{self, policy_rule::Kind};
use crate::risk;
use crate::sanctions;
use crate::store;
use crate::store::corrupt;
use crate::travel_rule;
use crate::velocity;

/// What a transfer's check found that its record writes once the move is made
/// (bank carries it from `check_transfer` to `record_transfer` as the note).
#[derive(Clone, PartialEq, prost::Message)]
struct Assessment {
    /// The sender's encoded `WindowUsage` with this move counted (empty: no limit).
    #[prost(bytes = "vec", tag = "1")]
    account_usage: Vec<u8>,
    /// The channel's encoded `WindowUsage` with this move counted (empty: no limit).
    #[prost(bytes = "vec", tag = "2")]
    corridor_usage: Vec<u8>,
    /// The travel-rule record the move carried, when its threshold asked for one.
    #[prost(message, optional, tag = "3")]
    travel_rule: Option<pb::TravelRuleRecord>,
    /// The risk score, when above zero or noting a new account.
    #[prost(message, optional, tag = "4")]
    risk: Option<risk::Score>,
}

impl Assessment {
    /// The note to carry, if the record has anything to do.
    fn note(&self) -> Option<Vec<u8>> {
        (*self != Self::default()).then(|| self.encode_to_vec())
    }
}

/// The role a party plays in a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Sender,
    Recipient,
    /// The recipient of newly minted coins.
    MintRecipient,
}

impl Party {
    fn name(self) -> &'static str {
        match self {
            Party::Sender => "sender",
            Party::Recipient => "recipient",
            Party::MintRecipient => "mint recipient",
        }
    }
}

/// Why `p` refuses, naming it.
fn refused(p: &pb::Policy, why: String) -> Option<String> {
    Some(format!("policy {} ({:?}, version {}): {why}", p.id, p.name, p.version))
}

fn addr(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| corrupt(what, e.log))
}

/// Checks `who` against a simple policy (a list or credentials): why it refuses, if it does.
fn check_simple(
    state: &dyn StateRead,
    p: &pb::Policy,
    who: &Address,
    party: Party,
    now: BlockTime,
) -> Result<Option<String>, SdkError> {
    let role = party.name();
    match p.rule.as_ref().and_then(|r| r.kind.as_ref()) {
        Some(Kind::AllowList(_)) => {
            if !store::is_member(state, p.id, who)? {
                return Ok(refused(p, format!("{role} {who} is not on its allow list")));
            }
        }
        Some(Kind::DenyList(_)) => {
            if store::is_member(state, p.id, who)? {
                return Ok(refused(p, format!("{role} {who} is on its deny list")));
            }
        }
        Some(Kind::Credentials(rule)) => {
            let holds = |r: &pb::CredentialRequirement| -> Result<bool, SdkError> {
                store::holds_credential(state, who, &addr(&r.issuer, "policy issuer")?, &r.r#type, now)
            };
            for r in &rule.all_of {
                if !holds(r)? {
                    return Ok(refused(p, format!("{role} {who} holds no {} credential from {}", r.r#type, r.issuer)));
                }
            }
            if !rule.any_of.is_empty() {
                let mut any = false;
                for r in &rule.any_of {
                    if holds(r)? {
                        any = true;
                        break;
                    }
                }
                if !any {
                    let wanted: Vec<String> =
                        rule.any_of.iter().map(|r| format!("{} from {}", r.r#type, r.issuer)).collect();
                    return Ok(refused(p, format!("{role} {who} holds none of: {}", wanted.join(", "))));
                }
            }
        }
        Some(Kind::Compound(_)) | None => {
            return Err(corrupt(format_args!("policy {}", p.id), "a simple rule was expected"));
        }
    }
    Ok(None)
}

/// Checks `who` in the role `party` against policy `p`: a simple policy applies to
/// every role; a compound one names the simple policy of each role (a mint
/// recipient falls back to the recipient's when it names none).
pub fn check_party(
    state: &dyn StateRead,
    p: &pb::Policy,
    who: &Address,
    party: Party,
    now: BlockTime,
) -> Result<(), SdkError> {
    let Some(Kind::Compound(c)) = p.rule.as_ref().and_then(|r| r.kind.as_ref()) else {
        return match check_simple(state, p, who, party, now)? {
            Some(why) => Err(errors::refused_by_policy(why)),
            None => Ok(()),
        };
    };
    let sub = match party {
        Party::Sender => c.sender_policy,
        Party::Recipient => c.recipient_policy,
        Party::MintRecipient if c.mint_recipient_policy != 0 => c.mint_recipient_policy,
        Party::MintRecipient => c.recipient_policy,
    };
    if sub == 0 {
        return Ok(());
    }
    let sp = store::policy(state, sub)?
        .ok_or_else(|| corrupt(format_args!("policy {}", p.id), format_args!("names missing policy {sub}")))?;
    match check_simple(state, &sp, who, party, now)? {
        Some(why) => {
            Err(errors::refused_by_policy(format!("policy {} ({:?}) for the {}: {why}", p.id, p.name, party.name())))
        }
        None => Ok(()),
    }
}

/// The compliance module's [`TransferPolicy`]: the global and the denom's policy.
pub struct CompliancePolicy {
    auth: Arc<AuthKeeper>,
}

impl CompliancePolicy {
    pub fn new(auth: Arc<AuthKeeper>) -> Self {
        Self { auth }
    }

    /// Whether `addr` is a module account, and whether that module mints.
    fn module(&self, addr: &Address) -> Option<bool> {
        self.auth.module_name_of(addr).map(|m| self.auth.has_permission(m, MINTER))
    }

    /// Whose sending counts against a velocity limit: an account's, except its fees.
    fn velocity_sender<'a>(&self, tr: &Transfer<'a>) -> Option<&'a Address> {
        let counts = !tr.route.is_ibc_in()
            && self.module(tr.from).is_none()
            && self.auth.module_name_of(tr.to) != Some(FEE_COLLECTOR);
        counts.then_some(tr.from)
    }

    /// The channel and direction of an IBC transfer.
    fn corridor<'a>(tr: &Transfer<'a>) -> Option<(&'a str, bool)> {
        match tr.route {
            Route::IbcOut { channel, .. } => Some((channel, true)),
            Route::IbcIn { channel, .. } => Some((channel, false)),
            Route::Local => None,
        }
    }

    /// Whether a move needs a travel-rule record above its denom's threshold: what an
    /// account sends (not fees), and what arrives by IBC (not refunds).
    fn needs_travel_rule(&self, tr: &Transfer<'_>) -> bool {
        self.velocity_sender(tr).is_some() || matches!(tr.route, Route::IbcIn { memo: Some(_), .. })
    }

    /// The velocity and corridor limits and the travel rule on a move: what the
    /// record must write once it is made, and the sender's standing before it.
    fn check_limits(
        &self,
        state: &dyn StateRead,
        tr: &Transfer<'_>,
    ) -> Result<(Assessment, Option<velocity::AccountStanding>), SdkError> {
        let mut a = Assessment {
            travel_rule: travel_rule::check(state, tr, self.needs_travel_rule(tr))?,
            ..Default::default()
        };
        let mut standing = None;
        if let Some(from) = self.velocity_sender(tr) {
            if let Some((s, usage)) = velocity::check_account(state, from, tr.denom, tr.amount, tr.now)? {
                standing = Some(s);
                a.account_usage = usage.encode_to_vec();
            }
        }
        if let Some((channel, out)) = Self::corridor(tr) {
            if let Some(usage) = velocity::check_corridor(state, channel, tr.denom, tr.amount, out, tr.now)? {
                a.corridor_usage = usage.encode_to_vec();
            }
        }
        Ok((a, standing))
    }

    /// The account receiving, as policies and risk rules see it (none for IBC out
    /// and module accounts).
    fn recipient<'a>(&self, tr: &Transfer<'a>) -> Option<&'a Address> {
        (!tr.route.is_ibc_out() && self.module(tr.to).is_none()).then_some(tr.to)
    }

    /// The committee's risk rules on a move an account makes or an IBC arrival:
    /// refused above the refusal level; held (added to `hold`) above the hold level.
    /// The score goes to the record when it is above zero or notes a new account.
    fn check_risk(
        &self,
        state: &dyn StateRead,
        tr: &Transfer<'_>,
        velocity: Option<&velocity::AccountStanding>,
        holdable: bool,
        hold: &mut Option<HoldRequest>,
    ) -> Result<Option<risk::Score>, SdkError> {
        if !self.needs_travel_rule(tr) {
            return Ok(None);
        }
        let Some(rules) = risk::rule_set(state)? else { return Ok(None) };
        let facts = risk::Facts {
            tr,
            sender: self.velocity_sender(tr),
            recipient: self.recipient(tr),
            has_travel_rule: travel_rule::carried(tr),
            velocity,
        };
        let mut s = risk::score(state, &rules, &facts)?;
        if let risk::Decision::Hold { reason, hold_seconds } = risk::decide(&rules.set, &s, holdable)? {
            s.held = true;
            hold.get_or_insert(HoldRequest { policy_id: 0, policy_version: rules.set.version, reason, hold_seconds });
        }
        Ok((s.total > 0 || s.recipient_new).then_some(s))
    }

    /// The policies governing `denom`, global first (one read each).
    fn governing(&self, state: &dyn StateRead, denom: &str) -> Result<Vec<pb::Policy>, SdkError> {
        let mut out = Vec::new();
        for id in [store::denom_policy(state, "")?, store::denom_policy(state, denom)?] {
            if id == 0 || out.iter().any(|p: &pb::Policy| p.id == id) {
                continue;
            }
            out.push(
                store::policy(state, id)?
                    .ok_or_else(|| corrupt("denom policy", format_args!("policy {id} is missing")))?,
            );
        }
        Ok(out)
    }
}

impl TransferPolicy for CompliancePolicy {
    fn may_govern(&self, _denom: &str) -> bool {
        true
    }

    /// A sanctioned account's whole balance, of every denom: what it receives stays
    /// frozen. Module accounts are never sanctioned parties.
    fn locked(&self, state: &dyn StateRead, addr: &Address, _denom: &str) -> Result<u128, SdkError> {
        if self.module(addr).is_none() && sanctions::is_sanctioned(state, addr)? {
            return Ok(u128::MAX);
        }
        Ok(0)
    }

    fn check_transfer(
        &self,
        state: &dyn StateRead,
        tr: &Transfer<'_>,
        _to_balance: &dyn Fn() -> Result<u128, SdkError>,
    ) -> Result<Verdict, SdkError> {
        // The holds account pays out a decided hold: the decision was the review.
        if *tr.from == holds::holds_account() {
            return Ok(Verdict::default());
        }
        let from_module = self.module(tr.from);
        let sender = (!tr.route.is_ibc_in() && from_module.is_none()).then_some(tr.from);
        let recipient = self.recipient(tr);
        if let Some(from) = sender {
            if sanctions::is_sanctioned(state, from)? {
                return Err(errors::sanctioned(format!("{from} is sanctioned: it can send nothing, fees included")));
            }
        }
        if sender.is_none() && recipient.is_none() {
            let (assessment, _) = self.check_limits(state, tr)?;
            return Ok(Verdict { track: assessment.note(), ..Verdict::default() });
        }
        let recipient_role = if from_module == Some(true) { Party::MintRecipient } else { Party::Recipient };
        // Only a send between two accounts may be held; every other path refuses.
        let holdable = tr.route == Route::Local && sender.is_some() && recipient.is_some();
        let mut hold = None;
        for p in self.governing(state, tr.denom)? {
            let checked = sender
                .map_or(Ok(()), |from| check_party(state, &p, from, Party::Sender, tr.now))
                .and_then(|()| recipient.map_or(Ok(()), |to| check_party(state, &p, to, recipient_role, tr.now)));
            match checked {
                Ok(()) => {}
                Err(e) if e.fatal || !holdable || p.hold_seconds == 0 => return Err(e),
                // Held, unless a later policy refuses outright.
                Err(e) => {
                    hold.get_or_insert(HoldRequest {
                        policy_id: p.id,
                        policy_version: p.version,
                        reason: e.log,
                        hold_seconds: p.hold_seconds,
                    });
                }
            }
        }
        let (mut assessment, standing) = self.check_limits(state, tr)?;
        assessment.risk = self.check_risk(state, tr, standing.as_ref(), holdable, &mut hold)?;
        Ok(Verdict { hold, track: assessment.note(), ..Verdict::default() })
    }

    /// Writes what the check computed: nothing is read or decided again.
    fn record_transfer(&self, ctx: &mut Context, tr: &Transfer<'_>, note: &[u8]) -> Result<(), SdkError> {
        let a = Assessment::decode(note).map_err(|e| SdkError::fatal(format!("compliance: bad transfer note: {e}")))?;
        if !a.account_usage.is_empty() {
            ctx.set(keys::STORE_KEY, keys::account_usage_key(tr.from, tr.denom), a.account_usage)?;
        }
        if !a.corridor_usage.is_empty() {
            ctx.set(keys::STORE_KEY, keys::corridor_usage_key(tr.route.channel(), tr.denom), a.corridor_usage)?;
        }
        if let Some(r) = &a.travel_rule {
            ctx.emit(travel_rule::event(tr, r));
        }
        if let Some(s) = &a.risk {
            risk::record(ctx, tr, s)?;
        }
        Ok(())
    }

    fn record_hold(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amount: &Coins,
        request: &HoldRequest,
    ) -> Result<Address, SdkError> {
        self.auth.module_account(ctx, keys::HOLDS_ACCOUNT)?;
        holds::record(ctx, from, to, amount, request)?;
        Ok(holds::holds_account())
    }

    fn check_receiver(&self, state: &dyn StateRead, to: &Address, denom: &str, now: BlockTime) -> Result<(), SdkError> {
        if self.module(to).is_some() {
            return Ok(());
        }
        for p in self.governing(state, denom)? {
            check_party(state, &p, to, Party::Recipient, now)?;
        }
        Ok(())
    }
}
