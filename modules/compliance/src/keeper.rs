//! The compliance keeper: every message's handling (credential issuers and
//! credentials; transfer policies, their versions, members and attachments; the
//! committee's sanctions; hold decisions). Reads are in `store.rs`; the policy
//! evaluation bank calls is in `policy.rs`.

use std::sync::{Arc, OnceLock};

use paychain_authority::AuthorityKeeper;
use paychain_framework::time::{from_block_time, reached};
use paychain_framework::{Address, Context, MsgResponse, SdkError, StateRead, TypeUrl};
use prost::Message;

use crate::errors;
use crate::events::{self, Action, LimitChange, PolicyAction};
use crate::holds::Holds;
use crate::keys;
use crate::msgs::{rule_kind, Body, ComplianceMsg};
use crate::pb;
use crate::policy::{check_party, Party};
use crate::sanctions::Sanctions;
use crate::store::{self, credential, issuer, DenomAdmins};
use crate::velocity;
use paychain_bank::BankKeeper;

fn response<T: TypeUrl>() -> MsgResponse {
    MsgResponse { type_url: T::TYPE_URL.to_string(), value: Vec::new() }
}

pub struct ComplianceKeeper {
    authority: Arc<AuthorityKeeper>,
    /// Pays out decided and expired holds.
    bank: Arc<BankKeeper>,
    denom_admins: OnceLock<Arc<dyn DenomAdmins>>,
}

impl ComplianceKeeper {
    pub fn new(authority: Arc<AuthorityKeeper>, bank: Arc<BankKeeper>) -> Self {
        Self { authority, bank, denom_admins: OnceLock::new() }
    }

    pub(crate) fn hold_desk(&self) -> Holds<'_> {
        Holds { bank: &self.bank, denom_admins: self.denom_admins.get() }
    }

    /// Installs who administers denoms (once, at wiring; a second call is a wiring bug).
    pub fn set_denom_admins(&self, admins: Arc<dyn DenomAdmins>) {
        assert!(self.denom_admins.set(admins).is_ok(), "compliance: denom admins set twice");
    }

    /// Writes `p` as the current version and into its history.
    pub(crate) fn set_policy(&self, ctx: &mut Context, p: &pb::Policy) -> Result<(), SdkError> {
        let bytes = p.encode_to_vec();
        ctx.set(keys::STORE_KEY, keys::policy_version_key(p.id, p.version), bytes.clone())?;
        ctx.set(keys::STORE_KEY, keys::policy_key(p.id), bytes)
    }

    pub(crate) fn set_member(&self, ctx: &mut Context, id: u64, member: &Address) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::policy_member_key(id, member), keys::INDEX_MARKER.to_vec())
    }

    pub(crate) fn set_denom_policy(&self, ctx: &mut Context, denom: &str, id: u64) -> Result<(), SdkError> {
        if id == 0 {
            ctx.delete(keys::STORE_KEY, keys::denom_policy_key(denom))
        } else {
            ctx.set(keys::STORE_KEY, keys::denom_policy_key(denom), id.to_be_bytes().to_vec())
        }
    }

    pub(crate) fn set_next_policy_id(&self, ctx: &mut Context, id: u64) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::NEXT_POLICY_ID_KEY.to_vec(), id.to_be_bytes().to_vec())
    }

    /// A compound rule names existing simple policies, never itself.
    fn check_rule_refs(&self, state: &dyn StateRead, rule: &pb::PolicyRule) -> Result<(), SdkError> {
        let Some(pb::policy_rule::Kind::Compound(c)) = &rule.kind else { return Ok(()) };
        for id in [c.sender_policy, c.recipient_policy, c.mint_recipient_policy] {
            if id == 0 {
                continue;
            }
            let p = store::policy(state, id)?.ok_or_else(|| errors::policy_not_found(format!("policy {id}")))?;
            if rule_kind(p.rule.as_ref()) == "compound" {
                return Err(errors::invalid_policy(format!("a compound rule names simple policies; {id} is compound")));
            }
        }
        Ok(())
    }

    /// The policy `signer` administers.
    fn admin_policy(&self, state: &dyn StateRead, signer: &Address, id: u64) -> Result<pb::Policy, SdkError> {
        let p = store::policy(state, id)?.ok_or_else(|| errors::policy_not_found(format!("policy {id}")))?;
        if p.admin != signer.to_string() {
            return Err(errors::unauthorized(format!("only the policy's admin {} may change policy {id}", p.admin)));
        }
        Ok(p)
    }

    /// Who may attach a policy to `denom`: the chain authority always; an issued
    /// token's admin for its token.
    /// `what`: the change asked for, for the refusal (`attach a policy to`).
    fn require_denom_admin(
        &self,
        state: &dyn StateRead,
        signer: &Address,
        denom: &str,
        what: &str,
    ) -> Result<(), SdkError> {
        if self.authority.require(state, signer).is_ok() {
            return Ok(());
        }
        let admin = match (denom.is_empty(), self.denom_admins.get()) {
            (false, Some(admins)) => admins.admin_of(state, denom)?,
            _ => None,
        };
        if admin.as_ref() == Some(signer) {
            return Ok(());
        }
        Err(errors::unauthorized(if denom.is_empty() {
            "only the chain authority may set the global policy".to_string()
        } else {
            format!("only the chain authority or the token's admin may {what} {denom}")
        }))
    }

    pub(crate) fn set_issuer(
        &self,
        ctx: &mut Context,
        i: &pb::CredentialIssuer,
        addr: &Address,
    ) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::issuer_key(addr), i.encode_to_vec())
    }

    pub(crate) fn set_credential(
        &self,
        ctx: &mut Context,
        c: &pb::Credential,
        subject: &Address,
        issuer: &Address,
    ) -> Result<(), SdkError> {
        ctx.set(keys::STORE_KEY, keys::credential_key(subject, issuer, &c.r#type), c.encode_to_vec())?;
        ctx.set(keys::STORE_KEY, keys::by_issuer_key(issuer, subject, &c.r#type), keys::INDEX_MARKER.to_vec())
    }

    pub fn handle(&self, ctx: &mut Context, msg: &ComplianceMsg) -> Result<MsgResponse, SdkError> {
        let signer = &msg.signer;
        let now = ctx.block.time;
        match &msg.body {
            Body::RegisterIssuer { issuer: addr, types, name, uri, note } => {
                self.authority.require(&*ctx, signer)?;
                let record = pb::CredentialIssuer {
                    address: addr.to_string(),
                    types: types.clone(),
                    name: name.clone(),
                    uri: uri.clone(),
                };
                self.set_issuer(ctx, &record, addr)?;
                ctx.emit(events::action(Action {
                    action: "register_issuer",
                    actor: signer,
                    issuer: addr,
                    subject: None,
                    detail: types.join(","),
                    note: Some(note),
                }));
                Ok(response::<pb::MsgRegisterIssuerResponse>())
            }
            Body::RemoveIssuer { issuer: addr, note } => {
                self.authority.require(&*ctx, signer)?;
                if issuer(&*ctx, addr)?.is_none() {
                    return Err(errors::issuer_not_registered(addr));
                }
                ctx.delete(keys::STORE_KEY, keys::issuer_key(addr))?;
                ctx.emit(events::action(Action {
                    action: "remove_issuer",
                    actor: signer,
                    issuer: addr,
                    subject: None,
                    detail: String::new(),
                    note: Some(note),
                }));
                Ok(response::<pb::MsgRemoveIssuerResponse>())
            }
            Body::CreateCredential { subject, credential_type, expiration, uri, uri_hash } => {
                let registered = issuer(&*ctx, signer)?.ok_or_else(|| errors::issuer_not_registered(signer))?;
                if !registered.types.iter().any(|t| t == credential_type) {
                    return Err(errors::type_not_allowed(format!("{signer} may not issue {credential_type}")));
                }
                if let Some(t) = expiration {
                    if reached(now, t) {
                        return Err(errors::invalid_expiration("the expiration must be later than the block time"));
                    }
                }
                // Renewing keeps the subject's acceptance unless the old one was revoked.
                let accepted = credential(&*ctx, subject, signer, credential_type)?
                    .is_some_and(|old| old.accepted && old.revoked_at.is_none());
                let c = pb::Credential {
                    subject: subject.to_string(),
                    issuer: signer.to_string(),
                    r#type: credential_type.clone(),
                    expiration: *expiration,
                    uri: uri.clone(),
                    uri_hash: uri_hash.clone(),
                    accepted,
                    created_at: Some(from_block_time(now)),
                    revoked_at: None,
                };
                self.set_credential(ctx, &c, subject, signer)?;
                ctx.emit(events::action(Action {
                    action: "create_credential",
                    actor: signer,
                    issuer: signer,
                    subject: Some(subject),
                    detail: credential_type.clone(),
                    note: None,
                }));
                Ok(response::<pb::MsgCreateCredentialResponse>())
            }
            Body::AcceptCredential { issuer: issuer_addr, credential_type } => {
                let mut c = credential(&*ctx, signer, issuer_addr, credential_type)?.ok_or_else(|| {
                    errors::credential_not_found(format!("{issuer_addr} gave {signer} no {credential_type}"))
                })?;
                if c.revoked_at.is_some() {
                    return Err(errors::credential_revoked(""));
                }
                if c.accepted {
                    return Err(errors::already_accepted(""));
                }
                if c.expiration.as_ref().is_some_and(|t| reached(now, t)) {
                    return Err(errors::invalid_expiration("the credential has expired"));
                }
                c.accepted = true;
                self.set_credential(ctx, &c, signer, issuer_addr)?;
                ctx.emit(events::action(Action {
                    action: "accept_credential",
                    actor: signer,
                    issuer: issuer_addr,
                    subject: Some(signer),
                    detail: credential_type.clone(),
                    note: None,
                }));
                Ok(response::<pb::MsgAcceptCredentialResponse>())
            }
            Body::RevokeCredential { subject, issuer: issuer_addr, credential_type, note } => {
                if signer != issuer_addr {
                    self.authority.require(&*ctx, signer).map_err(|_| {
                        errors::unauthorized(format!("only the issuer {issuer_addr} or the chain authority may revoke"))
                    })?;
                }
                let mut c = credential(&*ctx, subject, issuer_addr, credential_type)?.ok_or_else(|| {
                    errors::credential_not_found(format!("{issuer_addr} gave {subject} no {credential_type}"))
                })?;
                if c.revoked_at.is_some() {
                    return Err(errors::credential_revoked("already revoked"));
                }
                c.revoked_at = Some(from_block_time(now));
                self.set_credential(ctx, &c, subject, issuer_addr)?;
                ctx.emit(events::action(Action {
                    action: "revoke_credential",
                    actor: signer,
                    issuer: issuer_addr,
                    subject: Some(subject),
                    detail: credential_type.clone(),
                    note: Some(note),
                }));
                Ok(response::<pb::MsgRevokeCredentialResponse>())
            }
            Body::CreatePolicy { name, rule, admin, members, hold_seconds, note } => {
                self.check_rule_refs(&*ctx, rule)?;
                let id = store::next_policy_id(&*ctx)?;
                let next = id.checked_add(1).ok_or_else(|| SdkError::fatal("compliance: policy ids exhausted"))?;
                let p = pb::Policy {
                    id,
                    name: name.clone(),
                    version: 1,
                    admin: admin.to_string(),
                    rule: Some(rule.clone()),
                    updated_at: Some(from_block_time(now)),
                    hold_seconds: *hold_seconds,
                };
                self.set_policy(ctx, &p)?;
                self.set_next_policy_id(ctx, next)?;
                for m in members {
                    self.set_member(ctx, id, m)?;
                }
                ctx.emit(events::policy_action(PolicyAction {
                    action: "create_policy",
                    actor: signer,
                    policy_id: id,
                    version: 1,
                    denom: "",
                    detail: rule_kind(Some(rule)).to_string(),
                    note,
                }));
                let value = pb::MsgCreatePolicyResponse { policy_id: id }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgCreatePolicyResponse::TYPE_URL.to_string(), value })
            }
            Body::UpdatePolicy { policy_id, name, rule, new_admin, hold_seconds, note } => {
                let mut p = self.admin_policy(&*ctx, signer, *policy_id)?;
                let (was, is) = (rule_kind(p.rule.as_ref()), rule_kind(Some(rule)));
                // Compound rules name simple policies; a kind change between the two
                // could make a compound rule name a compound one.
                if (was == "compound") != (is == "compound") {
                    return Err(errors::invalid_policy(format!(
                        "policy {policy_id} is {was}: a compound policy stays compound and a simple one simple"
                    )));
                }
                self.check_rule_refs(&*ctx, rule)?;
                if let Some(pb::policy_rule::Kind::Compound(c)) = &rule.kind {
                    if [c.sender_policy, c.recipient_policy, c.mint_recipient_policy].contains(policy_id) {
                        return Err(errors::invalid_policy("a compound policy cannot name itself"));
                    }
                }
                p.version = next_version(&p)?;
                p.name = name.clone();
                p.rule = Some(rule.clone());
                p.hold_seconds = *hold_seconds;
                if let Some(a) = new_admin {
                    p.admin = a.to_string();
                }
                p.updated_at = Some(from_block_time(now));
                self.set_policy(ctx, &p)?;
                ctx.emit(events::policy_action(PolicyAction {
                    action: "update_policy",
                    actor: signer,
                    policy_id: p.id,
                    version: p.version,
                    denom: "",
                    detail: is.to_string(),
                    note,
                }));
                let value = pb::MsgUpdatePolicyResponse { version: p.version }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgUpdatePolicyResponse::TYPE_URL.to_string(), value })
            }
            Body::UpdatePolicyMembers { policy_id, add, remove, note } => {
                let mut p = self.admin_policy(&*ctx, signer, *policy_id)?;
                if !crate::msgs::is_list(p.rule.as_ref()) {
                    return Err(errors::invalid_policy(format!(
                        "policy {policy_id} is {}: only an allow or deny list has members",
                        rule_kind(p.rule.as_ref())
                    )));
                }
                for m in add {
                    self.set_member(ctx, p.id, m)?;
                }
                for m in remove {
                    ctx.delete(keys::STORE_KEY, keys::policy_member_key(p.id, m))?;
                }
                p.version = next_version(&p)?;
                p.updated_at = Some(from_block_time(now));
                self.set_policy(ctx, &p)?;
                let detail: Vec<String> =
                    add.iter().map(|a| format!("+{a}")).chain(remove.iter().map(|a| format!("-{a}"))).collect();
                ctx.emit(events::policy_action(PolicyAction {
                    action: "update_policy_members",
                    actor: signer,
                    policy_id: p.id,
                    version: p.version,
                    denom: "",
                    detail: detail.join(","),
                    note,
                }));
                let value = pb::MsgUpdatePolicyMembersResponse { version: p.version }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgUpdatePolicyMembersResponse::TYPE_URL.to_string(), value })
            }
            Body::AttachPolicy { denom, policy_id, note } => {
                self.require_denom_admin(&*ctx, signer, denom, "attach a policy to")?;
                let mut version = 0;
                if *policy_id != 0 {
                    let p = store::policy(&*ctx, *policy_id)?
                        .ok_or_else(|| errors::policy_not_found(format!("policy {policy_id}")))?;
                    // The authority pays its fees under the global policy: one that
                    // refused it as a sender could never be changed again.
                    if denom.is_empty() {
                        if let Err(e) = check_party(&*ctx, &p, signer, Party::Sender, now) {
                            return Err(errors::invalid_policy(format!(
                                "the global policy must let the chain authority send (it pays fees to change it): {}",
                                e.log
                            )));
                        }
                    }
                    version = p.version;
                }
                self.set_denom_policy(ctx, denom, *policy_id)?;
                ctx.emit(events::policy_action(PolicyAction {
                    action: "attach_policy",
                    actor: signer,
                    policy_id: *policy_id,
                    version,
                    denom,
                    detail: if denom.is_empty() { "global".into() } else { String::new() },
                    note,
                }));
                Ok(response::<pb::MsgAttachPolicyResponse>())
            }
            Body::SetCommittee { committee, note } => {
                self.authority.require(&*ctx, signer)?;
                Sanctions::set_committee(ctx, committee)?;
                ctx.emit(events::committee_set(signer, committee, note));
                Ok(response::<pb::MsgSetCommitteeResponse>())
            }
            Body::ProposeSanction { action, addresses, emergency, source, note } => {
                let p = Sanctions::propose(ctx, signer, *action, addresses, *emergency, source, note)?;
                let value = pb::MsgProposeSanctionResponse { proposal_id: p.id, status: p.status }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgProposeSanctionResponse::TYPE_URL.to_string(), value })
            }
            Body::VoteSanction { proposal_id } => {
                let p = Sanctions::vote(ctx, signer, *proposal_id)?;
                let value = pb::MsgVoteSanctionResponse { status: p.status }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgVoteSanctionResponse::TYPE_URL.to_string(), value })
            }
            Body::ExecuteSanction { proposal_id } => {
                Sanctions::execute(ctx, signer, *proposal_id)?;
                Ok(response::<pb::MsgExecuteSanctionResponse>())
            }
            Body::SetVelocityLimit { limit, remove, note } => {
                self.require_denom_admin(&*ctx, signer, &limit.denom, "set the velocity limit of")?;
                let key = keys::velocity_limit_key(&limit.denom);
                let old = velocity::velocity_limit(&*ctx, &limit.denom)?;
                let (action, record) = if *remove {
                    let old = old.ok_or_else(|| {
                        errors::invalid_limit(format!("{} has no velocity limit to remove", limit.denom))
                    })?;
                    ctx.delete(keys::STORE_KEY, key)?;
                    ("remove_velocity_limit", old)
                } else {
                    let version = next_limit_version(old.map(|o| o.version))?;
                    let l = pb::VelocityLimit { version, updated_at: Some(from_block_time(now)), ..limit.clone() };
                    ctx.set(keys::STORE_KEY, key, l.encode_to_vec())?;
                    ("set_velocity_limit", l)
                };
                ctx.emit(events::limit_change(LimitChange {
                    action,
                    actor: signer,
                    denom: &record.denom,
                    channel_id: "",
                    window_seconds: record.window_seconds,
                    limit: &record.limit,
                    tiers: &record.tiers,
                    version: record.version,
                    note,
                }));
                let value = pb::MsgSetVelocityLimitResponse { version: record.version }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgSetVelocityLimitResponse::TYPE_URL.to_string(), value })
            }
            Body::SetCorridorLimit { limit, remove, note } => {
                self.require_denom_admin(&*ctx, signer, &limit.denom, "set a corridor limit on")?;
                let key = keys::corridor_limit_key(&limit.channel_id, &limit.denom);
                let old = velocity::corridor_limit(&*ctx, &limit.channel_id, &limit.denom)?;
                let (action, record) = if *remove {
                    let old = old.ok_or_else(|| {
                        errors::invalid_limit(format!(
                            "{} has no corridor limit on {} to remove",
                            limit.channel_id, limit.denom
                        ))
                    })?;
                    ctx.delete(keys::STORE_KEY, key)?;
                    ("remove_corridor_limit", old)
                } else {
                    let version = next_limit_version(old.map(|o| o.version))?;
                    let l = pb::CorridorLimit { version, updated_at: Some(from_block_time(now)), ..limit.clone() };
                    ctx.set(keys::STORE_KEY, key, l.encode_to_vec())?;
                    ("set_corridor_limit", l)
                };
                ctx.emit(events::limit_change(LimitChange {
                    action,
                    actor: signer,
                    denom: &record.denom,
                    channel_id: &record.channel_id,
                    window_seconds: record.window_seconds,
                    limit: &record.limit,
                    tiers: &[],
                    version: record.version,
                    note,
                }));
                let value = pb::MsgSetCorridorLimitResponse { version: record.version }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgSetCorridorLimitResponse::TYPE_URL.to_string(), value })
            }
            Body::SetTravelRuleThreshold { threshold, remove, note } => {
                self.require_denom_admin(&*ctx, signer, &threshold.denom, "set the travel-rule threshold of")?;
                let key = keys::travel_rule_key(&threshold.denom);
                let old = crate::travel_rule::threshold(&*ctx, &threshold.denom)?;
                let (action, record) = if *remove {
                    let old = old.ok_or_else(|| {
                        errors::invalid_limit(format!("{} has no travel-rule threshold to remove", threshold.denom))
                    })?;
                    ctx.delete(keys::STORE_KEY, key)?;
                    ("remove_travel_rule_threshold", old)
                } else {
                    let version = next_limit_version(old.map(|o| o.version))?;
                    let t = pb::TravelRuleThreshold {
                        version,
                        updated_at: Some(from_block_time(now)),
                        ..threshold.clone()
                    };
                    ctx.set(keys::STORE_KEY, key, t.encode_to_vec())?;
                    ("set_travel_rule_threshold", t)
                };
                ctx.emit(events::limit_change(LimitChange {
                    action,
                    actor: signer,
                    denom: &record.denom,
                    channel_id: "",
                    window_seconds: 0,
                    limit: &record.threshold,
                    tiers: &[],
                    version: record.version,
                    note,
                }));
                let value = pb::MsgSetTravelRuleThresholdResponse { version: record.version }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgSetTravelRuleThresholdResponse::TYPE_URL.to_string(), value })
            }
            Body::VoteRiskRules { base_version, rules, note } => {
                let (version, votes) = crate::risk::vote(ctx, signer, *base_version, rules)?;
                let adopted = version > *base_version;
                ctx.emit(events::limit_change(LimitChange {
                    action: if adopted { "adopt_risk_rules" } else { "vote_risk_rules" },
                    actor: signer,
                    denom: "",
                    channel_id: "",
                    window_seconds: 0,
                    limit: &crate::risk::proposal_hash(rules),
                    tiers: &[],
                    version,
                    note,
                }));
                let value = pb::MsgVoteRiskRulesResponse { version, votes }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgVoteRiskRulesResponse::TYPE_URL.to_string(), value })
            }
            Body::DecideHold { hold_id, decision, note } => {
                let h = self.hold_desk().decide(ctx, signer, *hold_id, *decision, note)?;
                let value = pb::MsgDecideHoldResponse { status: h.status }.encode_to_vec();
                Ok(MsgResponse { type_url: pb::MsgDecideHoldResponse::TYPE_URL.to_string(), value })
            }
        }
    }
}

fn next_limit_version(old: Option<u64>) -> Result<u64, SdkError> {
    old.unwrap_or(0).checked_add(1).ok_or_else(|| errors::invalid_limit("the limit has no versions left"))
}

fn next_version(p: &pb::Policy) -> Result<u64, SdkError> {
    p.version.checked_add(1).ok_or_else(|| errors::invalid_policy(format!("policy {} has no versions left", p.id)))
}
