//! The compliance module's REST routes (`paychain.compliance.v1.Query` over the LCD).
//! Query parameters fill the rest of a request (`?version=3` for a policy as of a
//! version, `pagination.limit`, ...). A denom may span segments (`ibc/HASH`), and
//! `denom_policy` without one gives the global policy alone. `sanctions/{address}`
//! takes an address of any bech32 prefix (`cosmos1...` too).

use paychain_framework::RestRoute;

use crate::{pb, query};

pub fn routes() -> Vec<RestRoute> {
    vec![
        RestRoute::get::<pb::QueryIssuersRequest, pb::QueryIssuersResponse>(
            "/paychain/compliance/v1/issuers",
            query::ISSUERS,
        ),
        RestRoute::get::<pb::QueryIssuerRequest, pb::QueryIssuerResponse>(
            "/paychain/compliance/v1/issuers/{address}",
            query::ISSUER,
        ),
        RestRoute::get::<pb::QueryCredentialsByIssuerRequest, pb::QueryCredentialsResponse>(
            "/paychain/compliance/v1/issuers/{issuer}/credentials",
            query::CREDENTIALS_BY_ISSUER,
        ),
        RestRoute::get::<pb::QueryCredentialsBySubjectRequest, pb::QueryCredentialsResponse>(
            "/paychain/compliance/v1/subjects/{subject}/credentials",
            query::CREDENTIALS_BY_SUBJECT,
        ),
        RestRoute::get::<pb::QueryCredentialRequest, pb::QueryCredentialResponse>(
            "/paychain/compliance/v1/subjects/{subject}/credentials/{issuer}/{type}",
            query::CREDENTIAL,
        ),
        RestRoute::get::<pb::QueryPoliciesRequest, pb::QueryPoliciesResponse>(
            "/paychain/compliance/v1/policies",
            query::POLICIES,
        ),
        RestRoute::get::<pb::QueryPolicyRequest, pb::QueryPolicyResponse>(
            "/paychain/compliance/v1/policies/{policy_id}",
            query::POLICY,
        ),
        RestRoute::get::<pb::QueryPolicyVersionsRequest, pb::QueryPoliciesResponse>(
            "/paychain/compliance/v1/policies/{policy_id}/versions",
            query::POLICY_VERSIONS,
        ),
        RestRoute::get::<pb::QueryPolicyMembersRequest, pb::QueryPolicyMembersResponse>(
            "/paychain/compliance/v1/policies/{policy_id}/members",
            query::POLICY_MEMBERS,
        ),
        RestRoute::get::<pb::QueryPolicyMemberRequest, pb::QueryPolicyMemberResponse>(
            "/paychain/compliance/v1/policies/{policy_id}/members/{address}",
            query::POLICY_MEMBER,
        ),
        RestRoute::get::<pb::QueryDenomPolicyRequest, pb::QueryDenomPolicyResponse>(
            "/paychain/compliance/v1/denom_policy",
            query::DENOM_POLICY,
        ),
        RestRoute::get::<pb::QueryDenomPolicyRequest, pb::QueryDenomPolicyResponse>(
            "/paychain/compliance/v1/denom_policy/{denom*}",
            query::DENOM_POLICY,
        ),
        RestRoute::get::<pb::QueryCommitteeRequest, pb::QueryCommitteeResponse>(
            "/paychain/compliance/v1/committee",
            query::COMMITTEE,
        ),
        RestRoute::get::<pb::QuerySanctionProposalsRequest, pb::QuerySanctionProposalsResponse>(
            "/paychain/compliance/v1/sanction_proposals",
            query::SANCTION_PROPOSALS,
        ),
        RestRoute::get::<pb::QuerySanctionProposalRequest, pb::QuerySanctionProposalResponse>(
            "/paychain/compliance/v1/sanction_proposals/{proposal_id}",
            query::SANCTION_PROPOSAL,
        ),
        RestRoute::get::<pb::QuerySanctionsRequest, pb::QuerySanctionsResponse>(
            "/paychain/compliance/v1/sanctions",
            query::SANCTIONS,
        ),
        RestRoute::get::<pb::QuerySanctionRequest, pb::QuerySanctionResponse>(
            "/paychain/compliance/v1/sanctions/{address}",
            query::SANCTION,
        ),
        RestRoute::get::<pb::QueryHoldRequest, pb::QueryHoldResponse>(
            "/paychain/compliance/v1/holds/{hold_id}",
            query::HOLD,
        ),
        RestRoute::get::<pb::QueryHoldsByPartyRequest, pb::QueryHoldsResponse>(
            "/paychain/compliance/v1/parties/{address}/holds",
            query::HOLDS_BY_PARTY,
        ),
        // ?status=HOLD_STATUS_HELD
        RestRoute::get::<pb::QueryHoldsByStatusRequest, pb::QueryHoldsResponse>(
            "/paychain/compliance/v1/holds",
            query::HOLDS_BY_STATUS,
        ),
        RestRoute::get::<pb::QueryVelocityLimitsRequest, pb::QueryVelocityLimitsResponse>(
            "/paychain/compliance/v1/velocity_limits",
            query::VELOCITY_LIMITS,
        ),
        RestRoute::get::<pb::QueryVelocityLimitRequest, pb::QueryVelocityLimitResponse>(
            "/paychain/compliance/v1/velocity_limits/{denom*}",
            query::VELOCITY_LIMIT,
        ),
        // ?denom=upay
        RestRoute::get::<pb::QueryVelocityUsageRequest, pb::QueryVelocityUsageResponse>(
            "/paychain/compliance/v1/accounts/{address}/velocity",
            query::VELOCITY_USAGE,
        ),
        RestRoute::get::<pb::QueryCorridorLimitsRequest, pb::QueryCorridorLimitsResponse>(
            "/paychain/compliance/v1/corridors",
            query::CORRIDOR_LIMITS,
        ),
        RestRoute::get::<pb::QueryTravelRuleThresholdsRequest, pb::QueryTravelRuleThresholdsResponse>(
            "/paychain/compliance/v1/travel_rule_thresholds",
            query::TRAVEL_RULE_THRESHOLDS,
        ),
        // ?version=N for an earlier version
        RestRoute::get::<pb::QueryRiskRulesRequest, pb::QueryRiskRulesResponse>(
            "/paychain/compliance/v1/risk_rules",
            query::RISK_RULES,
        ),
        RestRoute::get::<pb::QueryCorridorRequest, pb::QueryCorridorResponse>(
            "/paychain/compliance/v1/corridors/{channel_id}/{denom*}",
            query::CORRIDOR,
        ),
    ]
}
