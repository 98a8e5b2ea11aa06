//! The compliance messages: decoding and every check that needs no state. All
//! are carried by [`ComplianceMsg`]: a signer, a [`Body`] and the signed bytes
//! (for the amino JSON form multisig members sign).

use std::any::Any as StdAny;

use cosmos_sdk_proto::Any;
use paychain_framework::module::decode_any;
use paychain_framework::note::Note;
use paychain_framework::time::{self, Timestamp};
use paychain_framework::{sdk, Address, Msg, SdkError, TypeUrl};

use crate::errors;
use crate::pb;

/// Longest credential type (bytes), as XRPL's credentials.
pub const MAX_TYPE_LEN: usize = 64;
/// Most credential types one issuer may be registered for.
pub const MAX_ISSUER_TYPES: usize = 32;
pub const MAX_NAME_LEN: usize = 128;
pub const MAX_URI_LEN: usize = 256;
/// Longest policy name (bytes).
pub const MAX_POLICY_NAME_LEN: usize = 64;
/// Most credential requirements in one rule: a transfer's check reads two
/// records per requirement and party, so this bounds its cost.
pub const MAX_REQUIREMENTS: usize = 8;
/// Most list members one message adds and removes in all.
pub const MAX_MEMBERS_PER_MSG: usize = 100;

/// 1 to 64 bytes of `[a-z0-9._-]`, e.g. `kyc.tier2`.
pub fn validate_type(t: &str) -> Result<(), SdkError> {
    let ok = (1..=MAX_TYPE_LEN).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_credential_type(format!(
            "type must be 1 to {MAX_TYPE_LEN} bytes of [a-z0-9._-], got {t:?}"
        )))
    }
}

fn text(value: &str, what: &str, max: usize) -> Result<(), SdkError> {
    if value.len() > max {
        return Err(errors::invalid_metadata(format!("{what} is {} bytes, at most {max}", value.len())));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(errors::invalid_metadata(format!("{what} contains the control character {c:?}")));
    }
    Ok(())
}

/// Empty, or 64 hex characters (a SHA-256).
pub fn validate_hash(h: &str) -> Result<(), SdkError> {
    if h.is_empty() || (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err(errors::invalid_metadata(format!("uri_hash must be a hex SHA-256 (64 characters), got {h:?}")))
    }
}

/// Sorted, distinct, each a valid type; at least one.
pub fn validate_types(types: &[String]) -> Result<(), SdkError> {
    if types.is_empty() || types.len() > MAX_ISSUER_TYPES {
        return Err(errors::invalid_credential_type(format!(
            "an issuer has 1 to {MAX_ISSUER_TYPES} types, got {}",
            types.len()
        )));
    }
    for t in types {
        validate_type(t)?;
    }
    if types.windows(2).any(|w| w[0] >= w[1]) {
        return Err(errors::invalid_credential_type("types must be sorted and distinct"));
    }
    Ok(())
}

pub fn note(reason: &str, reference: &str) -> Result<Note, SdkError> {
    Note::new(reason, reference)
        .map_err(|e| e.to_sdk(errors::invalid_reason, errors::reference_too_long, errors::invalid_reference))
}

/// A policy's rule, checked without state: a kind is set; credential rules have 1
/// to [`MAX_REQUIREMENTS`] distinct, well-formed requirements; a compound rule
/// names at least one policy.
pub fn validate_rule(rule: Option<&pb::PolicyRule>) -> Result<(), SdkError> {
    use pb::policy_rule::Kind;
    match rule.and_then(|r| r.kind.as_ref()) {
        None => Err(errors::invalid_policy("a rule is required: an allow list, a deny list, credentials or compound")),
        Some(Kind::AllowList(_) | Kind::DenyList(_)) => Ok(()),
        Some(Kind::Credentials(c)) => {
            let all: Vec<&pb::CredentialRequirement> = c.all_of.iter().chain(&c.any_of).collect();
            if all.is_empty() || all.len() > MAX_REQUIREMENTS {
                return Err(errors::invalid_policy(format!(
                    "a credential rule has 1 to {MAX_REQUIREMENTS} requirements, got {}",
                    all.len()
                )));
            }
            let mut seen = std::collections::BTreeSet::new();
            for r in all {
                address(&r.issuer, "credential issuer")?;
                validate_type(&r.r#type)?;
                if !seen.insert((r.issuer.as_str(), r.r#type.as_str())) {
                    return Err(errors::invalid_policy(format!("{} from {} is required twice", r.r#type, r.issuer)));
                }
            }
            Ok(())
        }
        Some(Kind::Compound(c)) => {
            if c.sender_policy == 0 && c.recipient_policy == 0 && c.mint_recipient_policy == 0 {
                return Err(errors::invalid_policy("a compound rule names at least one policy"));
            }
            Ok(())
        }
    }
}

/// The rule's kind, as events and errors name it.
pub fn rule_kind(rule: Option<&pb::PolicyRule>) -> &'static str {
    use pb::policy_rule::Kind;
    match rule.and_then(|r| r.kind.as_ref()) {
        Some(Kind::AllowList(_)) => "allow_list",
        Some(Kind::DenyList(_)) => "deny_list",
        Some(Kind::Credentials(_)) => "credentials",
        Some(Kind::Compound(_)) => "compound",
        None => "none",
    }
}

/// Whether the rule keeps a member list.
pub fn is_list(rule: Option<&pb::PolicyRule>) -> bool {
    matches!(rule_kind(rule), "allow_list" | "deny_list")
}

pub fn validate_policy_name(name: &str) -> Result<(), SdkError> {
    if name.is_empty() {
        return Err(errors::invalid_policy("a policy needs a name"));
    }
    text(name, "name", MAX_POLICY_NAME_LEN).map_err(|e| errors::invalid_policy(e.log))
}

/// A hold period: at most a year (0: refuse instead).
fn hold_seconds(s: u64) -> Result<u64, SdkError> {
    if s > crate::sanctions::MAX_PERIOD_SECONDS {
        return Err(errors::invalid_policy(format!(
            "hold_seconds: at most {}, got {s}",
            crate::sanctions::MAX_PERIOD_SECONDS
        )));
    }
    Ok(s)
}

/// Distinct, well-formed addresses.
fn members(list: &[String], what: &str) -> Result<Vec<Address>, SdkError> {
    let mut out = Vec::with_capacity(list.len());
    let mut seen = std::collections::BTreeSet::new();
    for m in list {
        let a = address(m, what)?;
        if !seen.insert(a.clone()) {
            return Err(errors::invalid_policy(format!("{m} is listed twice")));
        }
        out.push(a);
    }
    Ok(out)
}

fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

/// An integer amount, in canonical form.
fn limit_amount(s: &str, what: &str) -> Result<String, SdkError> {
    paychain_framework::coins::parse_amount(s)
        .map(|n| n.to_string())
        .map_err(|e| errors::invalid_limit(format!("{what}: {}", e.log)))
}

fn window(seconds: u64) -> Result<u64, SdkError> {
    use crate::velocity::{MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS};
    if !(MIN_WINDOW_SECONDS..=MAX_WINDOW_SECONDS).contains(&seconds) {
        return Err(errors::invalid_limit(format!(
            "window_seconds must be {MIN_WINDOW_SECONDS} to {MAX_WINDOW_SECONDS}, got {seconds}"
        )));
    }
    Ok(seconds)
}

/// `channel-N`, as IBC names our end of a channel.
pub fn validate_channel_id(id: &str) -> Result<(), SdkError> {
    let ok = id.len() <= 64
        && id.strip_prefix("channel-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_limit(format!("channel_id must be channel-N, got {id:?}")))
    }
}

/// A velocity limit checked without state, amounts canonical; the chain sets
/// version and time. With `remove`, only the denom is read.
pub fn velocity_limit(l: pb::VelocityLimit, remove: bool) -> Result<pb::VelocityLimit, SdkError> {
    paychain_framework::coins::validate_denom(&l.denom)?;
    if remove {
        return Ok(pb::VelocityLimit { denom: l.denom, ..Default::default() });
    }
    if l.tiers.len() > crate::velocity::MAX_TIERS {
        return Err(errors::invalid_limit(format!(
            "at most {} tiers, got {}",
            crate::velocity::MAX_TIERS,
            l.tiers.len()
        )));
    }
    let mut tiers = Vec::with_capacity(l.tiers.len());
    let mut seen = std::collections::BTreeSet::new();
    for t in l.tiers {
        address(&t.issuer, "tier issuer")?;
        validate_type(&t.r#type)?;
        if !seen.insert((t.issuer.clone(), t.r#type.clone())) {
            return Err(errors::invalid_limit(format!("tier {}:{} is listed twice", t.issuer, t.r#type)));
        }
        let limit = limit_amount(&t.limit, "tier limit")?;
        tiers.push(pb::VelocityTier { limit, ..t });
    }
    Ok(pb::VelocityLimit {
        window_seconds: window(l.window_seconds)?,
        limit: limit_amount(&l.limit, "limit")?,
        tiers,
        version: 0,
        updated_at: None,
        denom: l.denom,
    })
}

/// A corridor limit checked without state (as [`velocity_limit`]).
pub fn corridor_limit(l: pb::CorridorLimit, remove: bool) -> Result<pb::CorridorLimit, SdkError> {
    validate_channel_id(&l.channel_id)?;
    paychain_framework::coins::validate_denom(&l.denom)?;
    if remove {
        return Ok(pb::CorridorLimit { channel_id: l.channel_id, denom: l.denom, ..Default::default() });
    }
    Ok(pb::CorridorLimit {
        window_seconds: window(l.window_seconds)?,
        limit: limit_amount(&l.limit, "limit")?,
        version: 0,
        updated_at: None,
        channel_id: l.channel_id,
        denom: l.denom,
    })
}

/// A travel-rule threshold checked without state (as [`velocity_limit`]).
pub fn travel_rule_threshold(t: pb::TravelRuleThreshold, remove: bool) -> Result<pb::TravelRuleThreshold, SdkError> {
    paychain_framework::coins::validate_denom(&t.denom)?;
    let threshold = if remove { String::new() } else { limit_amount(&t.threshold, "threshold")? };
    Ok(pb::TravelRuleThreshold { denom: t.denom, threshold, version: 0, updated_at: None })
}

/// A risk rule set checked without state, amounts canonical (version and time
/// are the chain's): at most 32 rules with distinct codes, scores 1 to 1000,
/// conditions well formed, a hold period when it holds.
pub fn risk_rule_set(set: pb::RiskRuleSet) -> Result<pb::RiskRuleSet, SdkError> {
    use crate::risk::{MAX_RULES, MAX_SCORE};
    let bad = |why: String| errors::invalid_risk_rules(why);
    if set.rules.len() > MAX_RULES {
        return Err(bad(format!("at most {MAX_RULES} rules, got {}", set.rules.len())));
    }
    if set.hold_above > 0 && !(1..=crate::sanctions::MAX_PERIOD_SECONDS).contains(&set.hold_seconds) {
        return Err(bad(format!(
            "hold_seconds must be 1 to {} when hold_above is set",
            crate::sanctions::MAX_PERIOD_SECONDS
        )));
    }
    let mut codes = std::collections::BTreeSet::new();
    let mut rules = Vec::with_capacity(set.rules.len());
    for (n, mut r) in set.rules.into_iter().enumerate() {
        let at = |why: &str| bad(format!("rules[{n}] ({}): {why}", r.code));
        validate_type(&r.code).map_err(|e| bad(format!("rules[{n}].code: {}", e.log)))?;
        if !codes.insert(r.code.clone()) {
            return Err(at("the code is used twice"));
        }
        if !(1..=MAX_SCORE).contains(&r.score) {
            return Err(at(&format!("score must be 1 to {MAX_SCORE}")));
        }
        if !r.denom.is_empty() {
            paychain_framework::coins::validate_denom(&r.denom).map_err(|e| at(&e.log))?;
        }
        if !r.min_amount.is_empty() {
            r.min_amount = limit_amount(&r.min_amount, "min_amount").map_err(|e| at(&e.log))?;
        }
        if !["", "local", "ibc_out", "ibc_in"].contains(&r.route.as_str()) {
            return Err(at("route must be local, ibc_out, ibc_in or empty"));
        }
        if !r.channel_id.is_empty() {
            validate_channel_id(&r.channel_id).map_err(|e| at(&e.log))?;
        }
        for req in [&r.sender_lacks, &r.recipient_lacks].into_iter().flatten() {
            address(&req.issuer, "credential issuer")?;
            validate_type(&req.r#type).map_err(|e| at(&e.log))?;
        }
        if r.velocity_used_percent > 100 {
            return Err(at("velocity_used_percent is at most 100"));
        }
        rules.push(r);
    }
    Ok(pb::RiskRuleSet { version: 0, updated_at: None, rules, ..set })
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    RegisterIssuer {
        issuer: Address,
        types: Vec<String>,
        name: String,
        uri: String,
        note: Note,
    },
    RemoveIssuer {
        issuer: Address,
        note: Note,
    },
    CreateCredential {
        subject: Address,
        credential_type: String,
        expiration: Option<Timestamp>,
        uri: String,
        uri_hash: String,
    },
    AcceptCredential {
        issuer: Address,
        credential_type: String,
    },
    RevokeCredential {
        subject: Address,
        issuer: Address,
        credential_type: String,
        note: Note,
    },
    CreatePolicy {
        name: String,
        rule: pb::PolicyRule,
        admin: Address,
        members: Vec<Address>,
        hold_seconds: u64,
        note: Note,
    },
    UpdatePolicy {
        policy_id: u64,
        name: String,
        rule: pb::PolicyRule,
        new_admin: Option<Address>,
        hold_seconds: u64,
        note: Note,
    },
    UpdatePolicyMembers {
        policy_id: u64,
        add: Vec<Address>,
        remove: Vec<Address>,
        note: Note,
    },
    AttachPolicy {
        /// Empty: the global policy.
        denom: String,
        /// 0: detach.
        policy_id: u64,
        note: Note,
    },
    SetCommittee {
        committee: pb::Committee,
        note: Note,
    },
    ProposeSanction {
        action: pb::SanctionAction,
        /// Raw bytes, from any bech32 form.
        addresses: Vec<Address>,
        emergency: bool,
        source: pb::ListSource,
        note: Note,
    },
    VoteSanction {
        proposal_id: u64,
    },
    ExecuteSanction {
        proposal_id: u64,
    },
    DecideHold {
        hold_id: u64,
        decision: pb::HoldDecision,
        note: Note,
    },
    /// Amounts in canonical form; with `remove`, only the denom counts.
    SetVelocityLimit {
        limit: pb::VelocityLimit,
        remove: bool,
        note: Note,
    },
    SetCorridorLimit {
        limit: pb::CorridorLimit,
        remove: bool,
        note: Note,
    },
    SetTravelRuleThreshold {
        threshold: pb::TravelRuleThreshold,
        remove: bool,
        note: Note,
    },
    VoteRiskRules {
        base_version: u64,
        rules: pb::RiskRuleSet,
        note: Note,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComplianceMsg {
    pub type_url: &'static str,
    pub signer: Address,
    pub body: Body,
    /// The protobuf bytes as signed (for the amino JSON form).
    pub proto: Vec<u8>,
}

pub const TYPE_URLS: &[&str] = &[
    pb::MsgRegisterIssuer::TYPE_URL,
    pb::MsgRemoveIssuer::TYPE_URL,
    pb::MsgCreateCredential::TYPE_URL,
    pb::MsgAcceptCredential::TYPE_URL,
    pb::MsgRevokeCredential::TYPE_URL,
    pb::MsgCreatePolicy::TYPE_URL,
    pb::MsgUpdatePolicy::TYPE_URL,
    pb::MsgUpdatePolicyMembers::TYPE_URL,
    pb::MsgAttachPolicy::TYPE_URL,
    pb::MsgSetCommittee::TYPE_URL,
    pb::MsgProposeSanction::TYPE_URL,
    pb::MsgVoteSanction::TYPE_URL,
    pb::MsgExecuteSanction::TYPE_URL,
    pb::MsgDecideHold::TYPE_URL,
    pb::MsgSetVelocityLimit::TYPE_URL,
    pb::MsgSetCorridorLimit::TYPE_URL,
    pb::MsgSetTravelRuleThreshold::TYPE_URL,
    pb::MsgVoteRiskRules::TYPE_URL,
];

pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    Ok(Box::new(decode_msg(any)?))
}

pub fn decode_msg(any: &Any) -> Result<ComplianceMsg, SdkError> {
    use pb::*;
    let (type_url, signer, body) = match any.type_url.as_str() {
        MsgRegisterIssuer::TYPE_URL => {
            let m: MsgRegisterIssuer = decode_any(any)?;
            validate_types(&m.types)?;
            text(&m.name, "name", MAX_NAME_LEN)?;
            text(&m.uri, "uri", MAX_URI_LEN)?;
            let body = Body::RegisterIssuer {
                issuer: address(&m.issuer, "issuer")?,
                types: m.types,
                name: m.name,
                uri: m.uri,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgRegisterIssuer::TYPE_URL, address(&m.authority, "authority")?, body)
        }
        MsgRemoveIssuer::TYPE_URL => {
            let m: MsgRemoveIssuer = decode_any(any)?;
            let body =
                Body::RemoveIssuer { issuer: address(&m.issuer, "issuer")?, note: note(&m.reason, &m.reference)? };
            (MsgRemoveIssuer::TYPE_URL, address(&m.authority, "authority")?, body)
        }
        MsgCreateCredential::TYPE_URL => {
            let m: MsgCreateCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            text(&m.uri, "uri", MAX_URI_LEN)?;
            validate_hash(&m.uri_hash)?;
            if let Some(t) = &m.expiration {
                time::validate(t).map_err(errors::invalid_expiration)?;
            }
            let issuer = address(&m.issuer, "issuer")?;
            let subject = address(&m.subject, "subject")?;
            if subject == issuer {
                return Err(errors::unauthorized("an issuer cannot credential itself"));
            }
            let body = Body::CreateCredential {
                subject,
                credential_type: m.r#type,
                expiration: m.expiration,
                uri: m.uri,
                uri_hash: m.uri_hash.to_ascii_lowercase(),
            };
            (MsgCreateCredential::TYPE_URL, issuer, body)
        }
        MsgAcceptCredential::TYPE_URL => {
            let m: MsgAcceptCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            let body = Body::AcceptCredential { issuer: address(&m.issuer, "issuer")?, credential_type: m.r#type };
            (MsgAcceptCredential::TYPE_URL, address(&m.subject, "subject")?, body)
        }
        MsgRevokeCredential::TYPE_URL => {
            let m: MsgRevokeCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            let body = Body::RevokeCredential {
                subject: address(&m.subject, "subject")?,
                issuer: address(&m.issuer, "issuer")?,
                credential_type: m.r#type,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgRevokeCredential::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgCreatePolicy::TYPE_URL => {
            let m: MsgCreatePolicy = decode_any(any)?;
            validate_policy_name(&m.name)?;
            validate_rule(m.rule.as_ref())?;
            if m.members.len() > MAX_MEMBERS_PER_MSG {
                return Err(errors::invalid_policy(format!("at most {MAX_MEMBERS_PER_MSG} members per message")));
            }
            if !m.members.is_empty() && !is_list(m.rule.as_ref()) {
                return Err(errors::invalid_policy("only an allow or deny list has members"));
            }
            let creator = address(&m.creator, "creator")?;
            let admin = if m.admin.is_empty() { creator.clone() } else { address(&m.admin, "admin")? };
            let body = Body::CreatePolicy {
                name: m.name,
                rule: m.rule.unwrap_or_default(),
                admin,
                members: members(&m.members, "member")?,
                hold_seconds: hold_seconds(m.hold_seconds)?,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgCreatePolicy::TYPE_URL, creator, body)
        }
        MsgUpdatePolicy::TYPE_URL => {
            let m: MsgUpdatePolicy = decode_any(any)?;
            validate_policy_name(&m.name)?;
            validate_rule(m.rule.as_ref())?;
            let new_admin = if m.new_admin.is_empty() { None } else { Some(address(&m.new_admin, "new admin")?) };
            let body = Body::UpdatePolicy {
                policy_id: m.policy_id,
                name: m.name,
                rule: m.rule.unwrap_or_default(),
                new_admin,
                hold_seconds: hold_seconds(m.hold_seconds)?,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgUpdatePolicy::TYPE_URL, address(&m.admin, "admin")?, body)
        }
        MsgUpdatePolicyMembers::TYPE_URL => {
            let m: MsgUpdatePolicyMembers = decode_any(any)?;
            let n = m.add.len().saturating_add(m.remove.len());
            if n == 0 || n > MAX_MEMBERS_PER_MSG {
                return Err(errors::invalid_policy(format!(
                    "add or remove 1 to {MAX_MEMBERS_PER_MSG} members in all, got {n}"
                )));
            }
            let (add, remove) = (members(&m.add, "member")?, members(&m.remove, "member")?);
            if let Some(both) = add.iter().find(|a| remove.contains(a)) {
                return Err(errors::invalid_policy(format!("{both} is both added and removed")));
            }
            let body =
                Body::UpdatePolicyMembers { policy_id: m.policy_id, add, remove, note: note(&m.reason, &m.reference)? };
            (MsgUpdatePolicyMembers::TYPE_URL, address(&m.admin, "admin")?, body)
        }
        MsgAttachPolicy::TYPE_URL => {
            let m: MsgAttachPolicy = decode_any(any)?;
            if !m.denom.is_empty() {
                paychain_framework::coins::validate_denom(&m.denom)?;
            }
            let body =
                Body::AttachPolicy { denom: m.denom, policy_id: m.policy_id, note: note(&m.reason, &m.reference)? };
            (MsgAttachPolicy::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgSetCommittee::TYPE_URL => {
            let m: MsgSetCommittee = decode_any(any)?;
            let committee = m.committee.unwrap_or_default();
            crate::sanctions::validate_committee(&committee).map_err(errors::invalid_committee)?;
            let body = Body::SetCommittee { committee, note: note(&m.reason, &m.reference)? };
            (MsgSetCommittee::TYPE_URL, address(&m.authority, "authority")?, body)
        }
        MsgProposeSanction::TYPE_URL => {
            let m: MsgProposeSanction = decode_any(any)?;
            let action = match SanctionAction::try_from(m.action) {
                Ok(a @ (SanctionAction::Sanction | SanctionAction::Unsanction)) => a,
                _ => return Err(errors::invalid_proposal("action must be SANCTION_ACTION_SANCTION or _UNSANCTION")),
            };
            if m.emergency && action != SanctionAction::Sanction {
                return Err(errors::invalid_proposal("only a sanction may be an emergency"));
            }
            if m.addresses.is_empty() || m.addresses.len() > crate::sanctions::MAX_ADDRESSES {
                return Err(errors::invalid_proposal(format!(
                    "a proposal lists 1 to {} addresses, got {}",
                    crate::sanctions::MAX_ADDRESSES,
                    m.addresses.len()
                )));
            }
            let mut addresses = Vec::with_capacity(m.addresses.len());
            for a in &m.addresses {
                let raw = Address::from_any_bech32(a)
                    .map_err(|e| sdk::invalid_address(format!("invalid address to sanction: {}", e.log)))?;
                if addresses.contains(&raw) {
                    return Err(errors::invalid_proposal(format!("{a} is listed twice (as raw bytes)")));
                }
                addresses.push(raw);
            }
            crate::sanctions::validate_source(m.source.as_ref())?;
            let mut source = m.source.unwrap_or_default();
            source.sha256 = source.sha256.to_ascii_lowercase();
            let body = Body::ProposeSanction {
                action,
                addresses,
                emergency: m.emergency,
                source,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgProposeSanction::TYPE_URL, address(&m.proposer, "proposer")?, body)
        }
        MsgVoteSanction::TYPE_URL => {
            let m: MsgVoteSanction = decode_any(any)?;
            (MsgVoteSanction::TYPE_URL, address(&m.voter, "voter")?, Body::VoteSanction { proposal_id: m.proposal_id })
        }
        MsgExecuteSanction::TYPE_URL => {
            let m: MsgExecuteSanction = decode_any(any)?;
            let body = Body::ExecuteSanction { proposal_id: m.proposal_id };
            (MsgExecuteSanction::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgDecideHold::TYPE_URL => {
            let m: MsgDecideHold = decode_any(any)?;
            let decision = match HoldDecision::try_from(m.decision) {
                Ok(d @ (HoldDecision::Release | HoldDecision::Return | HoldDecision::Seize)) => d,
                _ => return Err(errors::invalid_decision("decision must be HOLD_DECISION_RELEASE, _RETURN or _SEIZE")),
            };
            let body = Body::DecideHold { hold_id: m.hold_id, decision, note: note(&m.reason, &m.reference)? };
            (MsgDecideHold::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgSetVelocityLimit::TYPE_URL => {
            let m: MsgSetVelocityLimit = decode_any(any)?;
            let limit = velocity_limit(m.limit.unwrap_or_default(), m.remove)?;
            let body = Body::SetVelocityLimit { limit, remove: m.remove, note: note(&m.reason, &m.reference)? };
            (MsgSetVelocityLimit::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgSetCorridorLimit::TYPE_URL => {
            let m: MsgSetCorridorLimit = decode_any(any)?;
            let limit = corridor_limit(m.limit.unwrap_or_default(), m.remove)?;
            let body = Body::SetCorridorLimit { limit, remove: m.remove, note: note(&m.reason, &m.reference)? };
            (MsgSetCorridorLimit::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgSetTravelRuleThreshold::TYPE_URL => {
            let m: MsgSetTravelRuleThreshold = decode_any(any)?;
            let threshold = travel_rule_threshold(m.threshold.unwrap_or_default(), m.remove)?;
            let body =
                Body::SetTravelRuleThreshold { threshold, remove: m.remove, note: note(&m.reason, &m.reference)? };
            (MsgSetTravelRuleThreshold::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        MsgVoteRiskRules::TYPE_URL => {
            let m: MsgVoteRiskRules = decode_any(any)?;
            let rules = risk_rule_set(m.rules.unwrap_or_default())?;
            let body =
                Body::VoteRiskRules { base_version: m.base_version, rules, note: note(&m.reason, &m.reference)? };
            (MsgVoteRiskRules::TYPE_URL, address(&m.member, "member")?, body)
        }
        other => return Err(sdk::unknown_request(format!("unrecognized compliance message type: {other}"))),
    };
    Ok(ComplianceMsg { type_url, signer, body, proto: any.value.clone() })
}

impl Msg for ComplianceMsg {
    fn type_url(&self) -> &'static str {
        self.type_url
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.signer.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    /// `paychain/compliance/<MsgName>`, proto field names, zero values omitted,
    /// timestamps in RFC 3339: what multisig members sign.
    fn amino_json(&self) -> Option<serde_json::Value> {
        use paychain_framework::amino;
        use prost::Message as _;
        let fields = match self.type_url {
            pb::MsgRegisterIssuer::TYPE_URL => {
                amino::fields(&pb::MsgRegisterIssuer::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgRemoveIssuer::TYPE_URL => amino::fields(&pb::MsgRemoveIssuer::decode(self.proto.as_slice()).ok()?),
            pb::MsgCreateCredential::TYPE_URL => {
                amino::fields(&pb::MsgCreateCredential::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgAcceptCredential::TYPE_URL => {
                amino::fields(&pb::MsgAcceptCredential::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgRevokeCredential::TYPE_URL => {
                amino::fields(&pb::MsgRevokeCredential::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgCreatePolicy::TYPE_URL => amino::fields(&pb::MsgCreatePolicy::decode(self.proto.as_slice()).ok()?),
            pb::MsgUpdatePolicy::TYPE_URL => amino::fields(&pb::MsgUpdatePolicy::decode(self.proto.as_slice()).ok()?),
            pb::MsgUpdatePolicyMembers::TYPE_URL => {
                amino::fields(&pb::MsgUpdatePolicyMembers::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgAttachPolicy::TYPE_URL => amino::fields(&pb::MsgAttachPolicy::decode(self.proto.as_slice()).ok()?),
            pb::MsgSetCommittee::TYPE_URL => amino::fields(&pb::MsgSetCommittee::decode(self.proto.as_slice()).ok()?),
            pb::MsgProposeSanction::TYPE_URL => {
                amino::fields(&pb::MsgProposeSanction::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgVoteSanction::TYPE_URL => amino::fields(&pb::MsgVoteSanction::decode(self.proto.as_slice()).ok()?),
            pb::MsgExecuteSanction::TYPE_URL => {
                amino::fields(&pb::MsgExecuteSanction::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgDecideHold::TYPE_URL => amino::fields(&pb::MsgDecideHold::decode(self.proto.as_slice()).ok()?),
            pb::MsgSetVelocityLimit::TYPE_URL => {
                amino::fields(&pb::MsgSetVelocityLimit::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgSetCorridorLimit::TYPE_URL => {
                amino::fields(&pb::MsgSetCorridorLimit::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgSetTravelRuleThreshold::TYPE_URL => {
                amino::fields(&pb::MsgSetTravelRuleThreshold::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgVoteRiskRules::TYPE_URL => amino::fields(&pb::MsgVoteRiskRules::decode(self.proto.as_slice()).ok()?),
            _ => return None,
        }?;
        let name = self.type_url.rsplit('.').next()?;
        Some(amino::msg(&format!("paychain/compliance/{name}"), fields))
    }
}
