//! The compliance codespace errors.

pub const CODESPACE: &str = "compliance";

paychain_framework::codespace_errors! { CODESPACE;
    issuer_not_registered = 2, "not a registered credential issuer";
    type_not_allowed = 3, "the issuer may not issue this credential type";
    invalid_credential_type = 4, "invalid credential type";
    credential_not_found = 5, "credential not found";
    invalid_expiration = 6, "invalid expiration";
    unauthorized = 7, "signer may not do this";
    credential_revoked = 8, "credential is revoked";
    invalid_metadata = 9, "invalid name, URI or hash";
    invalid_reason = 10, "invalid reason";
    reference_too_long = 11, "reference too long";
    invalid_reference = 12, "invalid reference";
    already_accepted = 13, "credential is already accepted";
    policy_not_found = 14, "transfer policy not found";
    invalid_policy = 15, "invalid transfer policy";
    refused_by_policy = 16, "transfer refused by policy";
    not_committee_member = 17, "not a member of the compliance committee";
    already_voted = 18, "already voted";
    proposal_not_found = 19, "sanction proposal not found";
    voting_closed = 20, "the proposal's vote is closed";
    timelock_not_passed = 21, "the timelock has not passed";
    sanctioned = 22, "the address is sanctioned";
    invalid_committee = 23, "invalid committee";
    invalid_proposal = 24, "invalid sanction proposal";
    hold_not_found = 25, "hold not found";
    hold_closed = 26, "the hold is already decided";
    invalid_decision = 27, "invalid hold decision";
    velocity_limit_exceeded = 28, "velocity limit exceeded";
    corridor_limit_exceeded = 29, "corridor limit exceeded";
    invalid_limit = 30, "invalid velocity or corridor limit";
    travel_rule_required = 31, "a travel-rule record is required";
    invalid_travel_rule = 32, "invalid travel-rule record";
    refused_by_risk = 33, "transfer refused by the risk rules";
    invalid_risk_rules = 34, "invalid risk rules";
}
