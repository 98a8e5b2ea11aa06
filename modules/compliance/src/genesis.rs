//! The `app_state.compliance` genesis section (`GenesisState` in proto3 JSON):
//! `{"issuers": [{"address": "pay1…", "types": ["kyc.tier2"], "name": "…", "uri": ""}],
//!   "credentials": [{"subject": "pay1…", "issuer": "pay1…", "type": "kyc.tier2", …}]}`.
//! A credential whose issuer is not (or no longer) registered for its type is kept
//! (for audit, as the chain keeps it) and does not count. Transfer policies come
//! with every version (`policies`, the highest version of an id is current), their
//! list members, the denoms they govern (`denom_policies`; the empty denom is the
//! global policy) and `next_policy_id`.

use std::collections::{BTreeMap, BTreeSet};

use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::time;
use paychain_framework::{Address, Context, SdkError, StateRead};
use prost::Message;
use serde_json::Value;

use crate::keeper::ComplianceKeeper;
use crate::keys::{self, STORE_KEY};
use crate::msgs::{
    is_list, rule_kind, validate_hash, validate_policy_name, validate_rule, validate_type, validate_types,
};
use crate::pb;
use crate::sanctions::Sanctions;

pub fn genesis_from_json(v: Option<&Value>) -> Result<pb::GenesisState, String> {
    proto_json::genesis_section("compliance", v)
}

pub fn genesis_json(g: &pb::GenesisState) -> Result<Value, String> {
    proto_json::to_json(&AnyTypes::default(), g)
}

fn addr(s: &str, path: &str) -> Result<Address, String> {
    Address::from_bech32(s).map_err(|e| format!("{path}: {}", e.log))
}

pub fn validate_genesis(g: &pb::GenesisState) -> Result<(), String> {
    let mut issuers = BTreeSet::new();
    for (n, i) in g.issuers.iter().enumerate() {
        let path = format!("compliance.issuers[{n}]");
        let a = addr(&i.address, &format!("{path}.address"))?;
        validate_types(&i.types).map_err(|e| format!("{path}.types: {}", e.log))?;
        if !issuers.insert(a) {
            return Err(format!("{path}.address: {} is listed twice", i.address));
        }
    }
    let mut seen = BTreeSet::new();
    for (n, c) in g.credentials.iter().enumerate() {
        let path = format!("compliance.credentials[{n}]");
        let subject = addr(&c.subject, &format!("{path}.subject"))?;
        let issuer = addr(&c.issuer, &format!("{path}.issuer"))?;
        validate_type(&c.r#type).map_err(|e| format!("{path}.type: {}", e.log))?;
        validate_hash(&c.uri_hash).map_err(|e| format!("{path}.uri_hash: {}", e.log))?;
        for (name, t) in [("expiration", &c.expiration), ("created_at", &c.created_at), ("revoked_at", &c.revoked_at)] {
            if let Some(t) = t {
                time::validate(t).map_err(|e| format!("{path}.{name}: {e}"))?;
            }
        }
        if !seen.insert((subject, issuer, c.r#type.clone())) {
            return Err(format!("{path}: listed twice"));
        }
    }
    validate_policies(g)?;
    validate_sanctions(g)?;
    validate_limits(g)
}

/// A window's usage: at most 24 buckets in increasing epochs, amounts integers.
fn validate_usage(u: Option<&pb::WindowUsage>, path: &str) -> Result<(), String> {
    let u = u.ok_or(format!("{path}.usage: required"))?;
    if u.bucket_seconds == 0 || u.buckets.len() as u64 > crate::velocity::BUCKETS {
        return Err(format!("{path}.usage: bucket_seconds must be positive, at most 24 buckets"));
    }
    if u.buckets.windows(2).any(|w| w[0].epoch >= w[1].epoch) {
        return Err(format!("{path}.usage.buckets: epochs must increase"));
    }
    for b in &u.buckets {
        for a in [&b.sent, &b.received] {
            if !a.is_empty() {
                paychain_framework::coins::parse_amount(a).map_err(|e| format!("{path}.usage.buckets: {}", e.log))?;
            }
        }
    }
    Ok(())
}

/// Limits as their messages would set them (canonical amounts, version ≥ 1), one
/// per denom or channel and denom; usage only under a limit.
fn validate_limits(g: &pb::GenesisState) -> Result<(), String> {
    let mut denoms = BTreeSet::new();
    for (n, l) in g.velocity_limits.iter().enumerate() {
        let path = format!("compliance.velocity_limits[{n}]");
        let checked = crate::msgs::velocity_limit(l.clone(), false).map_err(|e| format!("{path}: {}", e.log))?;
        if l.version == 0 || checked.limit != l.limit || checked.tiers != l.tiers {
            return Err(format!("{path}: version must be positive and amounts integers without leading zeros"));
        }
        if !denoms.insert(l.denom.as_str()) {
            return Err(format!("{path}.denom: {} is listed twice", l.denom));
        }
    }
    let mut corridors = BTreeSet::new();
    for (n, l) in g.corridor_limits.iter().enumerate() {
        let path = format!("compliance.corridor_limits[{n}]");
        let checked = crate::msgs::corridor_limit(l.clone(), false).map_err(|e| format!("{path}: {}", e.log))?;
        if l.version == 0 || checked.limit != l.limit {
            return Err(format!("{path}: version must be positive and the limit an integer without leading zeros"));
        }
        if !corridors.insert((l.channel_id.as_str(), l.denom.as_str())) {
            return Err(format!("{path}: {} {} is listed twice", l.channel_id, l.denom));
        }
    }
    let mut thresholds = BTreeSet::new();
    for (n, t) in g.travel_rule_thresholds.iter().enumerate() {
        let path = format!("compliance.travel_rule_thresholds[{n}]");
        let checked = crate::msgs::travel_rule_threshold(t.clone(), false).map_err(|e| format!("{path}: {}", e.log))?;
        if t.version == 0 || checked.threshold != t.threshold {
            return Err(format!("{path}: version must be positive and the threshold an integer without leading zeros"));
        }
        if !thresholds.insert(t.denom.as_str()) {
            return Err(format!("{path}.denom: {} is listed twice", t.denom));
        }
    }
    for (n, set) in g.risk_rule_versions.iter().enumerate() {
        let path = format!("compliance.risk_rule_versions[{n}]");
        let checked = crate::msgs::risk_rule_set(set.clone()).map_err(|e| format!("{path}: {}", e.log))?;
        if set.version != n as u64 + 1 || checked.rules != set.rules {
            return Err(format!("{path}: versions 1, 2, ... in order, amounts integers without leading zeros"));
        }
    }
    let next_version = g.risk_rule_versions.len() as u64;
    for (n, v) in g.risk_rule_votes.iter().enumerate() {
        let path = format!("compliance.risk_rule_votes[{n}]");
        let proposed = v.proposed.clone().ok_or(format!("{path}.proposed: required"))?;
        crate::msgs::risk_rule_set(proposed.clone()).map_err(|e| format!("{path}.proposed: {}", e.log))?;
        if v.base_version != next_version || v.proposal_hash != crate::risk::proposal_hash(&proposed) {
            return Err(format!("{path}: base_version must be the latest version and proposal_hash its content's"));
        }
        for m in &v.voters {
            addr(m, &format!("{path}.voters"))?;
        }
    }
    let mut seen = BTreeSet::new();
    for (n, f) in g.first_seen.iter().enumerate() {
        let path = format!("compliance.first_seen[{n}]");
        if !seen.insert(addr(&f.address, &format!("{path}.address"))?) {
            return Err(format!("{path}.address: listed twice"));
        }
    }
    let mut seen = BTreeSet::new();
    for (n, u) in g.account_usage.iter().enumerate() {
        let path = format!("compliance.account_usage[{n}]");
        let a = addr(&u.address, &format!("{path}.address"))?;
        if !denoms.contains(u.denom.as_str()) {
            return Err(format!("{path}.denom: {} has no velocity limit", u.denom));
        }
        validate_usage(u.usage.as_ref(), &path)?;
        if !seen.insert((a, u.denom.as_str())) {
            return Err(format!("{path}: listed twice"));
        }
    }
    let mut seen = BTreeSet::new();
    for (n, u) in g.corridor_usage.iter().enumerate() {
        let path = format!("compliance.corridor_usage[{n}]");
        if !corridors.contains(&(u.channel_id.as_str(), u.denom.as_str())) {
            return Err(format!("{path}: {} {} has no corridor limit", u.channel_id, u.denom));
        }
        validate_usage(u.usage.as_ref(), &path)?;
        if !seen.insert((u.channel_id.as_str(), u.denom.as_str())) {
            return Err(format!("{path}: listed twice"));
        }
    }
    Ok(())
}

/// The committee's rules; proposals well formed with ids below
/// `next_proposal_id`; sanctions of distinct addresses citing a list.
fn validate_sanctions(g: &pb::GenesisState) -> Result<(), String> {
    use crate::sanctions::{validate_committee, validate_source};
    if let Some(c) = &g.committee {
        validate_committee(c).map_err(|e| format!("compliance.committee.{e}"))?;
    }
    let next = g.next_proposal_id.max(1);
    let mut ids = BTreeSet::new();
    for (n, p) in g.sanction_proposals.iter().enumerate() {
        let path = format!("compliance.sanction_proposals[{n}]");
        if p.id == 0 || p.id >= next || !ids.insert(p.id) {
            return Err(format!("{path}.id: {} is 0, listed twice or not below next_proposal_id {next}", p.id));
        }
        addr(&p.proposer, &format!("{path}.proposer"))?;
        if p.addresses.is_empty() || p.addresses.len() > crate::sanctions::MAX_ADDRESSES {
            return Err(format!("{path}.addresses: 1 to {} addresses", crate::sanctions::MAX_ADDRESSES));
        }
        for a in &p.addresses {
            addr(a, &format!("{path}.addresses"))?;
        }
        for v in &p.votes {
            addr(v, &format!("{path}.votes"))?;
        }
        validate_source(p.source.as_ref()).map_err(|e| format!("{path}.source: {}", e.log))?;
        let status = pb::ProposalStatus::try_from(p.status).unwrap_or_default();
        let needed = match status {
            pb::ProposalStatus::Voting => Some(&p.voting_ends_at),
            pb::ProposalStatus::Emergency => Some(&p.lapses_at),
            pb::ProposalStatus::Passed => Some(&p.execute_at),
            pb::ProposalStatus::Executed | pb::ProposalStatus::Expired | pb::ProposalStatus::Lapsed => None,
            pb::ProposalStatus::Unspecified => return Err(format!("{path}.status: unspecified")),
        };
        if needed.is_some_and(|t| t.is_none()) {
            return Err(format!("{path}: a {} proposal needs its deadline", status.as_str_name()));
        }
        for t in [&p.submitted_at, &p.voting_ends_at, &p.execute_at, &p.executed_at, &p.lapses_at].into_iter().flatten()
        {
            time::validate(t).map_err(|e| format!("{path}: {e}"))?;
        }
    }
    let next = g.next_hold_id.max(1);
    let mut ids = BTreeSet::new();
    for (n, h) in g.holds.iter().enumerate() {
        let path = format!("compliance.holds[{n}]");
        if h.id == 0 || h.id >= next || !ids.insert(h.id) {
            return Err(format!("{path}.id: {} is 0, listed twice or not below next_hold_id {next}", h.id));
        }
        addr(&h.sender, &format!("{path}.sender"))?;
        addr(&h.recipient, &format!("{path}.recipient"))?;
        paychain_framework::Coins::from_proto(&h.amount).map_err(|e| format!("{path}.amount: {}", e.log))?;
        if pb::HoldStatus::try_from(h.status).unwrap_or_default() == pb::HoldStatus::Unspecified {
            return Err(format!("{path}.status: unspecified"));
        }
        let deadline = h.deadline.as_ref().ok_or(format!("{path}.deadline: required"))?;
        time::validate(deadline).map_err(|e| format!("{path}.deadline: {e}"))?;
    }
    let mut listed = BTreeSet::new();
    for (n, sanction) in g.sanctions.iter().enumerate() {
        let path = format!("compliance.sanctions[{n}]");
        let a = addr(&sanction.address, &format!("{path}.address"))?;
        validate_source(sanction.source.as_ref()).map_err(|e| format!("{path}.source: {}", e.log))?;
        if !listed.insert(a) {
            return Err(format!("{path}.address: listed twice"));
        }
    }
    Ok(())
}

/// Every version well formed, ids below `next_policy_id`, versions 1..=n with no
/// gap; members only on lists; compound rules naming simple policies; attached
/// policies existing.
fn validate_policies(g: &pb::GenesisState) -> Result<(), String> {
    // id -> current (highest) version's rule kind
    let mut current: BTreeMap<u64, &pb::Policy> = BTreeMap::new();
    let mut versions: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    let next = g.next_policy_id.max(1);
    for (n, p) in g.policies.iter().enumerate() {
        let path = format!("compliance.policies[{n}]");
        if p.id == 0 || p.id >= next {
            return Err(format!("{path}.id: {} must be between 1 and next_policy_id - 1 ({})", p.id, next - 1));
        }
        validate_policy_name(&p.name).map_err(|e| format!("{path}.name: {}", e.log))?;
        validate_rule(p.rule.as_ref()).map_err(|e| format!("{path}.rule: {}", e.log))?;
        addr(&p.admin, &format!("{path}.admin"))?;
        if let Some(t) = &p.updated_at {
            time::validate(t).map_err(|e| format!("{path}.updated_at: {e}"))?;
        }
        if p.version == 0 || !versions.entry(p.id).or_default().insert(p.version) {
            return Err(format!("{path}.version: {} is 0 or listed twice for policy {}", p.version, p.id));
        }
        if current.get(&p.id).is_none_or(|c| c.version < p.version) {
            current.insert(p.id, p);
        }
    }
    for (id, vs) in &versions {
        if vs.iter().copied().ne(1..=vs.len() as u64) {
            return Err(format!("compliance.policies: policy {id} must have every version from 1 to its latest"));
        }
    }
    for p in current.values() {
        if let Some(pb::policy_rule::Kind::Compound(c)) = p.rule.as_ref().and_then(|r| r.kind.as_ref()) {
            for sub in [c.sender_policy, c.recipient_policy, c.mint_recipient_policy] {
                let kind = current.get(&sub).map(|s| rule_kind(s.rule.as_ref()));
                if sub != 0 && (kind.is_none() || kind == Some("compound")) {
                    return Err(format!("compliance.policies: policy {} names {sub}, which is no simple policy", p.id));
                }
            }
        }
    }
    let mut members = BTreeSet::new();
    for (n, m) in g.policy_members.iter().enumerate() {
        let path = format!("compliance.policy_members[{n}]");
        let a = addr(&m.address, &format!("{path}.address"))?;
        if !current.get(&m.policy_id).is_some_and(|p| is_list(p.rule.as_ref())) {
            return Err(format!("{path}.policy_id: {} is no allow or deny list", m.policy_id));
        }
        if !members.insert((m.policy_id, a)) {
            return Err(format!("{path}: listed twice"));
        }
    }
    let mut denoms = BTreeSet::new();
    for (n, d) in g.denom_policies.iter().enumerate() {
        let path = format!("compliance.denom_policies[{n}]");
        if !d.denom.is_empty() {
            paychain_framework::coins::validate_denom(&d.denom).map_err(|e| format!("{path}.denom: {}", e.log))?;
        }
        if !current.contains_key(&d.policy_id) {
            return Err(format!("{path}.policy_id: no policy {}", d.policy_id));
        }
        if !denoms.insert(d.denom.as_str()) {
            return Err(format!("{path}.denom: {:?} is listed twice", d.denom));
        }
    }
    Ok(())
}

pub fn init_genesis(keeper: &ComplianceKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    validate_genesis(g).map_err(|e| SdkError::invalid_genesis("compliance", e))?;
    for i in &g.issuers {
        keeper.set_issuer(ctx, i, &Address::from_bech32(&i.address)?)?;
    }
    for c in &g.credentials {
        keeper.set_credential(ctx, c, &Address::from_bech32(&c.subject)?, &Address::from_bech32(&c.issuer)?)?;
    }
    // Versions in order, so each id's last write (its current record) is its highest.
    let mut policies: Vec<&pb::Policy> = g.policies.iter().collect();
    policies.sort_by_key(|p| (p.id, p.version));
    for p in policies {
        keeper.set_policy(ctx, p)?;
    }
    for m in &g.policy_members {
        keeper.set_member(ctx, m.policy_id, &Address::from_bech32(&m.address)?)?;
    }
    for d in &g.denom_policies {
        keeper.set_denom_policy(ctx, &d.denom, d.policy_id)?;
    }
    // 1 is what an absent record reads as: a chain without policies writes nothing.
    if g.next_policy_id > 1 {
        keeper.set_next_policy_id(ctx, g.next_policy_id)?;
    }
    if let Some(c) = &g.committee {
        if *c != pb::Committee::default() {
            Sanctions::set_committee(ctx, c)?;
        }
    }
    for p in &g.sanction_proposals {
        Sanctions::save(ctx, p, None)?;
    }
    for sanction in &g.sanctions {
        Sanctions::set_sanction(ctx, sanction, &Address::from_bech32(&sanction.address)?)?;
    }
    if g.next_proposal_id > 1 {
        Sanctions::set_next_proposal_id(ctx, g.next_proposal_id)?;
    }
    // The coins of open holds are in the holds account's genesis balance (bank).
    for h in &g.holds {
        crate::holds::save(ctx, h, None)?;
    }
    if g.next_hold_id > 1 {
        crate::holds::set_next_hold_id(ctx, g.next_hold_id)?;
    }
    for l in &g.velocity_limits {
        ctx.set(STORE_KEY, keys::velocity_limit_key(&l.denom), l.encode_to_vec())?;
    }
    for l in &g.corridor_limits {
        ctx.set(STORE_KEY, keys::corridor_limit_key(&l.channel_id, &l.denom), l.encode_to_vec())?;
    }
    for t in &g.travel_rule_thresholds {
        ctx.set(STORE_KEY, keys::travel_rule_key(&t.denom), t.encode_to_vec())?;
    }
    for set in &g.risk_rule_versions {
        ctx.set(STORE_KEY, keys::risk_rules_version_key(set.version), set.encode_to_vec())?;
    }
    if let Some(current) = g.risk_rule_versions.last() {
        ctx.set(STORE_KEY, keys::RISK_RULES_KEY.to_vec(), current.encode_to_vec())?;
    }
    for v in &g.risk_rule_votes {
        ctx.set(STORE_KEY, keys::risk_vote_key(v.base_version, &v.proposal_hash), v.encode_to_vec())?;
    }
    for f in &g.first_seen {
        let key = keys::first_seen_key(&Address::from_bech32(&f.address)?);
        ctx.set(STORE_KEY, key, f.seconds.to_be_bytes().to_vec())?;
    }
    for u in &g.account_usage {
        let key = keys::account_usage_key(&Address::from_bech32(&u.address)?, &u.denom);
        ctx.set(STORE_KEY, key, u.usage.clone().unwrap_or_default().encode_to_vec())?;
    }
    for u in &g.corridor_usage {
        let key = keys::corridor_usage_key(&u.channel_id, &u.denom);
        ctx.set(STORE_KEY, key, u.usage.clone().unwrap_or_default().encode_to_vec())?;
    }
    Ok(())
}

pub fn export_genesis(state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    let mut g = pb::GenesisState::default();
    for kv in state.prefix(STORE_KEY, keys::ISSUER_PREFIX, false)? {
        let (_, v) = kv?;
        g.issuers.push(pb::CredentialIssuer::decode(v.as_slice()).map_err(|e| crate::store::corrupt("issuer", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::CREDENTIAL_PREFIX, false)? {
        let (_, v) = kv?;
        g.credentials.push(pb::Credential::decode(v.as_slice()).map_err(|e| crate::store::corrupt("credential", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::POLICY_VERSION_PREFIX, false)? {
        let (_, v) = kv?;
        g.policies.push(pb::Policy::decode(v.as_slice()).map_err(|e| crate::store::corrupt("policy", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::POLICY_MEMBER_PREFIX, false)? {
        let (k, _) = kv?;
        // 0x06 ++ id ++ member
        let id = k.get(1..9).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
        let id = id.ok_or_else(|| crate::store::corrupt("member key", "too short"))?;
        let member = Address::from_bytes(k[9..].to_vec()).map_err(|e| crate::store::corrupt("member key", e.log))?;
        g.policy_members.push(pb::PolicyMember { policy_id: id, address: member.to_string() });
    }
    for kv in state.prefix(STORE_KEY, keys::DENOM_POLICY_PREFIX, false)? {
        let (k, v) = kv?;
        let denom = String::from_utf8(k[keys::DENOM_POLICY_PREFIX.len()..].to_vec())
            .map_err(|e| crate::store::corrupt("denom policy key", e))?;
        let id = u64::from_be_bytes(
            v.as_slice().try_into().map_err(|_| crate::store::corrupt("denom policy", "not 8 bytes"))?,
        );
        g.denom_policies.push(pb::DenomPolicy { denom, policy_id: id });
    }
    g.next_policy_id = crate::store::next_policy_id(state)?;
    g.committee = Some(crate::sanctions::committee(state)?);
    for kv in state.prefix(STORE_KEY, keys::PROPOSAL_PREFIX, false)? {
        let (_, v) = kv?;
        g.sanction_proposals
            .push(pb::SanctionProposal::decode(v.as_slice()).map_err(|e| crate::store::corrupt("proposal", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::SANCTION_PREFIX, false)? {
        let (_, v) = kv?;
        g.sanctions.push(pb::Sanction::decode(v.as_slice()).map_err(|e| crate::store::corrupt("sanction", e))?);
    }
    g.next_proposal_id = crate::sanctions::next_proposal_id(state)?;
    for kv in state.prefix(STORE_KEY, keys::HOLD_PREFIX, false)? {
        let (_, v) = kv?;
        g.holds.push(pb::Hold::decode(v.as_slice()).map_err(|e| crate::store::corrupt("hold", e))?);
    }
    g.next_hold_id = crate::holds::next_hold_id(state)?;
    export_limits(state, &mut g)?;
    Ok(g)
}

fn export_limits(state: &dyn StateRead, g: &mut pb::GenesisState) -> Result<(), SdkError> {
    use crate::store::corrupt;
    for kv in state.prefix(STORE_KEY, keys::VELOCITY_LIMIT_PREFIX, false)? {
        let (_, v) = kv?;
        g.velocity_limits.push(pb::VelocityLimit::decode(v.as_slice()).map_err(|e| corrupt("velocity limit", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::CORRIDOR_LIMIT_PREFIX, false)? {
        let (_, v) = kv?;
        g.corridor_limits.push(pb::CorridorLimit::decode(v.as_slice()).map_err(|e| corrupt("corridor limit", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::TRAVEL_RULE_PREFIX, false)? {
        let (_, v) = kv?;
        g.travel_rule_thresholds
            .push(pb::TravelRuleThreshold::decode(v.as_slice()).map_err(|e| corrupt("travel-rule threshold", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::RISK_RULES_VERSION_PREFIX, false)? {
        let (_, v) = kv?;
        g.risk_rule_versions.push(pb::RiskRuleSet::decode(v.as_slice()).map_err(|e| corrupt("risk rules", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::RISK_VOTE_PREFIX, false)? {
        let (_, v) = kv?;
        g.risk_rule_votes.push(pb::RiskRuleVote::decode(v.as_slice()).map_err(|e| corrupt("risk rule vote", e))?);
    }
    for kv in state.prefix(STORE_KEY, keys::FIRST_SEEN_PREFIX, false)? {
        let (k, v) = kv?;
        let account = Address::from_bytes(k[keys::FIRST_SEEN_PREFIX.len()..].to_vec())
            .map_err(|e| corrupt("first_seen key", e.log))?;
        let raw: [u8; 8] = v.as_slice().try_into().map_err(|_| corrupt("first_seen", "not 8 bytes"))?;
        g.first_seen.push(pb::AccountFirstSeen { address: account.to_string(), seconds: i64::from_be_bytes(raw) });
    }
    let text = |b: &[u8], what: &str| String::from_utf8(b.to_vec()).map_err(|e| corrupt(what, e));
    for kv in state.prefix(STORE_KEY, keys::ACCOUNT_USAGE_PREFIX, false)? {
        let (k, v) = kv?;
        let (account, denom) = keys::split_len_prefixed(keys::ACCOUNT_USAGE_PREFIX, &k)
            .ok_or_else(|| corrupt("usage key", "too short"))?;
        let account = Address::from_bytes(account.to_vec()).map_err(|e| corrupt("usage key", e.log))?;
        let usage = pb::WindowUsage::decode(v.as_slice()).map_err(|e| corrupt("account usage", e))?;
        g.account_usage.push(pb::AccountUsage {
            address: account.to_string(),
            denom: text(denom, "usage key")?,
            usage: Some(usage),
        });
    }
    for kv in state.prefix(STORE_KEY, keys::CORRIDOR_USAGE_PREFIX, false)? {
        let (k, v) = kv?;
        let (channel, denom) = keys::split_len_prefixed(keys::CORRIDOR_USAGE_PREFIX, &k)
            .ok_or_else(|| corrupt("corridor usage key", "too short"))?;
        let usage = pb::WindowUsage::decode(v.as_slice()).map_err(|e| corrupt("corridor usage", e))?;
        g.corridor_usage.push(pb::CorridorUsage {
            channel_id: text(channel, "corridor usage key")?,
            denom: text(denom, "corridor usage key")?,
            usage: Some(usage),
        });
    }
    Ok(())
}
