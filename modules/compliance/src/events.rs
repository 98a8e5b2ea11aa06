//! The compliance module's events. Every credential action emits one `compliance_action`
//! event, every attribute indexed, so `compliance_action.subject='pay1…'` or
//! `compliance_action.issuer='pay1…'` finds an account's whole history:
//!
//! | attribute   | value                                                                  |
//! |-------------|------------------------------------------------------------------------|
//! | `action`    | `register_issuer`, `remove_issuer`, `create_credential`, `accept_credential`, `revoke_credential` |
//! | `actor`     | the signer                                                             |
//! | `issuer`    | the credential issuer concerned                                        |
//! | `subject`   | the credential's subject (empty for issuer actions)                    |
//! | `detail`    | the credential type, or the issuer's types (comma-separated)           |
//! | `reason`    | the reason code (privileged actions)                                   |
//! | `reference` | the reference (legal basis, case number)                               |
//!
//! Every policy change emits one `compliance_policy` event, every attribute indexed:
//!
//! | attribute   | value                                                                   |
//! |-------------|-------------------------------------------------------------------------|
//! | `action`    | `create_policy`, `update_policy`, `update_policy_members`, `attach_policy` |
//! | `actor`     | the signer                                                              |
//! | `policy_id` | the policy (for `attach_policy`, 0 when a policy is detached)           |
//! | `version`   | the policy's version after the change                                   |
//! | `denom`     | for `attach_policy`: the denom (empty: the global policy)               |
//! | `detail`    | the rule kind, or the members added (`+pay1…`) and removed (`-pay1…`)   |
//! | `reason`, `reference` | as above                                                      |

//!
//! Every step of a sanctions decision emits one `compliance_sanction` event,
//! every attribute indexed (`compliance_sanction.addresses CONTAINS 'pay1…'`):
//!
//! | attribute        | value                                                              |
//! |------------------|--------------------------------------------------------------------|
//! | `step`           | `propose`, `vote`, `emergency_effective`, `confirm`, `pass`, `execute`, `expire`, `lapse`, `set_committee` |
//! | `actor`          | the member, the signer, or the module (steps the chain takes itself) |
//! | `proposal_id`    | the proposal                                                       |
//! | `action`         | `SANCTION_ACTION_SANCTION` or `SANCTION_ACTION_UNSANCTION`         |
//! | `addresses`      | the addresses, comma-separated                                     |
//! | `emergency`      | `true` or `false`                                                  |
//! | `status`         | the proposal's status after the step                               |
//! | `votes`          | yes votes of current members after the step                        |
//! | `list_name`, `list_sha256`, `list_version` | the published list it follows            |
//! | `reason`, `reference` | as the proposer gave them                                     |
//!
//! Every step of a hold emits one `compliance_hold` event, every attribute indexed
//! (`compliance_hold.recipient='pay1…'`): `step` (`hold`, `vote`, `decide`,
//! `return_failed`), `actor`, `hold_id`, `sender`, `recipient`, `amount`,
//! `policy_id`, `policy_version`, `status`, `detail` (the decision, or why a return
//! failed), `reason` (why it was held, or the decision's reason) and `reference`.
//!
//! Every change of a velocity or corridor limit emits one `compliance_limit` event,
//! every attribute indexed: `action` (`set_velocity_limit`, `remove_velocity_limit`,
//! `set_corridor_limit`, `remove_corridor_limit`, `set_travel_rule_threshold`,
//! `remove_travel_rule_threshold`, `vote_risk_rules`, `adopt_risk_rules`), `actor`,
//! `denom`, `channel_id` (corridors), `window_seconds`, `limit` (the threshold for
//! the travel rule; the voted content's hash for risk rules), `version`, `tiers`
//! (`issuer:type=limit`, comma-separated), `version`, `reason`, `reference`.
//!
//! Every transfer that carried a travel-rule record emits one
//! `compliance_travel_rule` event (see [`crate::travel_rule`]): `sender`,
//! `recipient`, `amount`, `route` (`local`, `ibc_out`, `ibc_in`), `channel_id`,
//! `ivms101_sha256`, `originator_vasp`, `beneficiary_vasp`, `envelope_locator`,
//! `envelope_sha256`.

use paychain_framework::note::Note;
use paychain_framework::{Address, Event};

pub const COMPLIANCE_ACTION: &str = "compliance_action";
pub const COMPLIANCE_POLICY: &str = "compliance_policy";
pub const COMPLIANCE_SANCTION: &str = "compliance_sanction";
pub const COMPLIANCE_HOLD: &str = "compliance_hold";
pub const COMPLIANCE_LIMIT: &str = "compliance_limit";

pub struct Action<'a> {
    pub action: &'static str,
    pub actor: &'a Address,
    pub issuer: &'a Address,
    pub subject: Option<&'a Address>,
    pub detail: String,
    pub note: Option<&'a Note>,
}

pub fn action(a: Action<'_>) -> Event {
    Event::new(COMPLIANCE_ACTION)
        .attr("action", a.action)
        .attr("actor", a.actor.to_string())
        .attr("issuer", a.issuer.to_string())
        .attr("subject", a.subject.map(Address::to_string).unwrap_or_default())
        .attr("detail", a.detail)
        .attr("reason", a.note.map(|n| n.reason.as_str()).unwrap_or_default())
        .attr("reference", a.note.map(|n| n.reference.as_str()).unwrap_or_default())
}

pub struct PolicyAction<'a> {
    pub action: &'static str,
    pub actor: &'a Address,
    pub policy_id: u64,
    pub version: u64,
    pub denom: &'a str,
    pub detail: String,
    pub note: &'a Note,
}

pub fn policy_action(a: PolicyAction<'_>) -> Event {
    Event::new(COMPLIANCE_POLICY)
        .attr("action", a.action)
        .attr("actor", a.actor.to_string())
        .attr("policy_id", a.policy_id.to_string())
        .attr("version", a.version.to_string())
        .attr("denom", a.denom)
        .attr("detail", a.detail)
        .attr("reason", a.note.reason.as_str())
        .attr("reference", a.note.reference.as_str())
}

pub fn sanction(p: &crate::pb::SanctionProposal, step: &str, actor: &Address, votes: u32) -> Event {
    let source = p.source.clone().unwrap_or_default();
    Event::new(COMPLIANCE_SANCTION)
        .attr("step", step)
        .attr("actor", actor.to_string())
        .attr("proposal_id", p.id.to_string())
        .attr("action", crate::pb::SanctionAction::try_from(p.action).unwrap_or_default().as_str_name())
        .attr("addresses", p.addresses.join(","))
        .attr("emergency", p.emergency.to_string())
        .attr("status", crate::pb::ProposalStatus::try_from(p.status).unwrap_or_default().as_str_name())
        .attr("votes", votes.to_string())
        .attr("list_name", source.name)
        .attr("list_sha256", source.sha256)
        .attr("list_version", source.version)
        .attr("reason", p.reason.as_str())
        .attr("reference", p.reference.as_str())
}

pub fn committee_set(actor: &Address, c: &crate::pb::Committee, note: &Note) -> Event {
    Event::new(COMPLIANCE_SANCTION)
        .attr("step", "set_committee")
        .attr("actor", actor.to_string())
        .attr("members", c.members.join(","))
        .attr("threshold", c.threshold.to_string())
        .attr("emergency_threshold", c.emergency_threshold.to_string())
        .attr("reason", note.reason.as_str())
        .attr("reference", note.reference.as_str())
}

pub fn hold(h: &crate::pb::Hold, step: &str, actor: &Address, detail: &str) -> Event {
    let amount: Vec<String> = h.amount.iter().map(|c| format!("{}{}", c.amount, c.denom)).collect();
    let (reason, reference) = if h.decided_at.is_some() {
        (h.decision_reason.as_str(), h.decision_reference.as_str())
    } else {
        (h.reason.as_str(), "")
    };
    Event::new(COMPLIANCE_HOLD)
        .attr("step", step)
        .attr("actor", actor.to_string())
        .attr("hold_id", h.id.to_string())
        .attr("sender", h.sender.as_str())
        .attr("recipient", h.recipient.as_str())
        .attr("amount", amount.join(","))
        .attr("policy_id", h.policy_id.to_string())
        .attr("policy_version", h.policy_version.to_string())
        .attr("status", crate::pb::HoldStatus::try_from(h.status).unwrap_or_default().as_str_name())
        .attr("detail", detail)
        .attr("reason", reason)
        .attr("reference", reference)
}

/// A velocity limit (`channel_id` empty) or corridor limit set or removed.
pub struct LimitChange<'a> {
    pub action: &'static str,
    pub actor: &'a Address,
    pub denom: &'a str,
    pub channel_id: &'a str,
    pub window_seconds: u64,
    pub limit: &'a str,
    pub tiers: &'a [crate::pb::VelocityTier],
    pub version: u64,
    pub note: &'a Note,
}

pub fn limit_change(c: LimitChange<'_>) -> Event {
    let tiers: Vec<String> = c.tiers.iter().map(|t| format!("{}:{}={}", t.issuer, t.r#type, t.limit)).collect();
    Event::new(COMPLIANCE_LIMIT)
        .attr("action", c.action)
        .attr("actor", c.actor.to_string())
        .attr("denom", c.denom)
        .attr("channel_id", c.channel_id)
        .attr("window_seconds", c.window_seconds.to_string())
        .attr("limit", c.limit)
        .attr("tiers", tiers.join(","))
        .attr("version", c.version.to_string())
        .attr("reason", c.note.reason.as_str())
        .attr("reference", c.note.reference.as_str())
}
