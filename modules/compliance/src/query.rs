//! `paychain.compliance.v1.Query` over ABCI / gRPC / REST: bad arguments are
//! InvalidArgument, unknown issuers, credentials, policies, policy versions and
//! sanction proposals NotFound. An address that is not sanctioned is no error
//! (`sanctioned: false`), and a chain without a committee has an empty one.

use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::keys::{self, STORE_KEY};
use crate::store::{credential, issuer};
use crate::{pb, sanctions, store, velocity};

macro_rules! paths {
    ($($name:ident = $method:literal;)*) => {
        $(pub const $name: &str = concat!("/paychain.compliance.v1.Query/", $method);)*
        pub const QUERY_PATHS: &[&str] = &[$($name),*];
    };
}

paths! {
    ISSUERS = "Issuers";
    ISSUER = "Issuer";
    CREDENTIAL = "Credential";
    CREDENTIALS_BY_SUBJECT = "CredentialsBySubject";
    CREDENTIALS_BY_ISSUER = "CredentialsByIssuer";
    POLICIES = "Policies";
    POLICY = "Policy";
    POLICY_VERSIONS = "PolicyVersions";
    POLICY_MEMBERS = "PolicyMembers";
    POLICY_MEMBER = "PolicyMember";
    DENOM_POLICY = "DenomPolicy";
    COMMITTEE = "Committee";
    SANCTION_PROPOSAL = "SanctionProposal";
    SANCTION_PROPOSALS = "SanctionProposals";
    SANCTION = "Sanction";
    SANCTIONS = "Sanctions";
    HOLD = "Hold";
    HOLDS_BY_PARTY = "HoldsByParty";
    HOLDS_BY_STATUS = "HoldsByStatus";
    VELOCITY_LIMITS = "VelocityLimits";
    VELOCITY_LIMIT = "VelocityLimit";
    VELOCITY_USAGE = "VelocityUsage";
    CORRIDOR_LIMITS = "CorridorLimits";
    CORRIDOR = "Corridor";
    TRAVEL_RULE_THRESHOLDS = "TravelRuleThresholds";
    RISK_RULES = "RiskRules";
}

fn check_denom(denom: &str) -> Result<(), QueryError> {
    paychain_framework::coins::validate_denom(denom).map_err(|e| QueryError::invalid_argument(e.log))
}

/// The time of the block the state is at: what "within the window" is measured from.
fn block_time(state: &dyn StateRead) -> Result<paychain_framework::BlockTime, QueryError> {
    Ok(paychain_framework::time::committed_block_time(state)?.unwrap_or_default())
}

fn decode_credential(v: &[u8]) -> Result<pb::Credential, QueryError> {
    pb::Credential::decode(v).map_err(|e| QueryError::internal(format!("compliance: corrupt credential: {e}")))
}

fn decode_policy(v: &[u8]) -> Result<pb::Policy, QueryError> {
    pb::Policy::decode(v).map_err(|e| QueryError::internal(format!("compliance: corrupt policy: {e}")))
}

/// Policy `id` as it is now; id 0 (none) is InvalidArgument, an unknown id NotFound.
fn existing_policy(state: &dyn StateRead, id: u64) -> Result<pb::Policy, QueryError> {
    if id == 0 {
        return Err(QueryError::invalid_argument("policy_id cannot be 0"));
    }
    store::policy(state, id)?.ok_or_else(|| QueryError::not_found(format!("no policy {id}")))
}

/// A page of holds from an index whose keys end with the hold id.
fn holds_page(
    state: &dyn StateRead,
    prefix: &[u8],
    page: Option<&cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<Vec<u8>, QueryError> {
    let (holds, page) = paginate(state, STORE_KEY, prefix, page, |rel, _| {
        let id =
            rel.try_into().map(u64::from_be_bytes).map_err(|_| QueryError::internal("compliance: bad hold index"))?;
        crate::holds::hold(state, id)?.ok_or_else(|| QueryError::internal("compliance: indexed hold missing")).map(Some)
    })?;
    Ok(pb::QueryHoldsResponse { holds, pagination: Some(page) }.encode_to_vec())
}

pub fn query(state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    let response = match path {
        ISSUERS => {
            let req: pb::QueryIssuersRequest = decode(request)?;
            let (issuers, page) = paginate(state, STORE_KEY, keys::ISSUER_PREFIX, req.pagination.as_ref(), |_, v| {
                pb::CredentialIssuer::decode(v)
                    .map(Some)
                    .map_err(|e| QueryError::internal(format!("compliance: corrupt issuer: {e}")))
            })?;
            pb::QueryIssuersResponse { issuers, pagination: Some(page) }.encode_to_vec()
        }
        ISSUER => {
            let req: pb::QueryIssuerRequest = decode(request)?;
            let addr = parse_address(&req.address)?;
            let i = issuer(state, &addr)?
                .ok_or_else(|| QueryError::not_found(format!("{addr} is no credential issuer")))?;
            pb::QueryIssuerResponse { issuer: Some(i) }.encode_to_vec()
        }
        CREDENTIAL => {
            let req: pb::QueryCredentialRequest = decode(request)?;
            let (subject, issuer_addr) = (parse_address(&req.subject)?, parse_address(&req.issuer)?);
            if req.r#type.is_empty() {
                return Err(QueryError::invalid_argument("type cannot be empty"));
            }
            let c = credential(state, &subject, &issuer_addr, &req.r#type)?.ok_or_else(|| {
                QueryError::not_found(format!("{issuer_addr} gave {subject} no {} credential", req.r#type))
            })?;
            pb::QueryCredentialResponse { credential: Some(c) }.encode_to_vec()
        }
        CREDENTIALS_BY_SUBJECT => {
            let req: pb::QueryCredentialsBySubjectRequest = decode(request)?;
            let subject = parse_address(&req.subject)?;
            let (credentials, page) =
                paginate(state, STORE_KEY, &keys::subject_prefix(&subject), req.pagination.as_ref(), |_, v| {
                    decode_credential(v).map(Some)
                })?;
            pb::QueryCredentialsResponse { credentials, pagination: Some(page) }.encode_to_vec()
        }
        CREDENTIALS_BY_ISSUER => {
            let req: pb::QueryCredentialsByIssuerRequest = decode(request)?;
            let issuer_addr = parse_address(&req.issuer)?;
            let prefix = keys::by_issuer_prefix(&issuer_addr);
            let (credentials, page) = paginate(state, STORE_KEY, &prefix, req.pagination.as_ref(), |rel, _| {
                // rel = len(subject) ++ subject ++ type
                let bad = || QueryError::internal("compliance: corrupt issuer index");
                let len = usize::from(*rel.first().ok_or_else(bad)?);
                let subject = paychain_framework::Address::from_bytes(rel.get(1..1 + len).ok_or_else(bad)?.to_vec())
                    .map_err(|_| bad())?;
                let t = std::str::from_utf8(&rel[1 + len..]).map_err(|_| bad())?;
                credential(state, &subject, &issuer_addr, t)?.ok_or_else(bad).map(Some)
            })?;
            pb::QueryCredentialsResponse { credentials, pagination: Some(page) }.encode_to_vec()
        }
        POLICIES => {
            let req: pb::QueryPoliciesRequest = decode(request)?;
            let (policies, page) = paginate(state, STORE_KEY, keys::POLICY_PREFIX, req.pagination.as_ref(), |_, v| {
                decode_policy(v).map(Some)
            })?;
            pb::QueryPoliciesResponse { policies, pagination: Some(page) }.encode_to_vec()
        }
        POLICY => {
            let req: pb::QueryPolicyRequest = decode(request)?;
            let current = existing_policy(state, req.policy_id)?;
            let policy = if req.version == 0 || req.version == current.version {
                current
            } else {
                store::policy_version(state, req.policy_id, req.version)?.ok_or_else(|| {
                    QueryError::not_found(format!(
                        "policy {} has no version {} (its current version is {})",
                        req.policy_id, req.version, current.version
                    ))
                })?
            };
            pb::QueryPolicyResponse { policy: Some(policy) }.encode_to_vec()
        }
        POLICY_VERSIONS => {
            let req: pb::QueryPolicyVersionsRequest = decode(request)?;
            existing_policy(state, req.policy_id)?;
            let prefix = keys::policy_versions_prefix(req.policy_id);
            let (policies, page) =
                paginate(state, STORE_KEY, &prefix, req.pagination.as_ref(), |_, v| decode_policy(v).map(Some))?;
            pb::QueryPoliciesResponse { policies, pagination: Some(page) }.encode_to_vec()
        }
        POLICY_MEMBERS => {
            let req: pb::QueryPolicyMembersRequest = decode(request)?;
            existing_policy(state, req.policy_id)?;
            let prefix = keys::policy_members_prefix(req.policy_id);
            let (members, page) = paginate(state, STORE_KEY, &prefix, req.pagination.as_ref(), |rel, _| {
                // rel = the member's address bytes
                paychain_framework::Address::from_bytes(rel.to_vec())
                    .map(|a| Some(a.to_string()))
                    .map_err(|_| QueryError::internal("compliance: corrupt policy member key"))
            })?;
            pb::QueryPolicyMembersResponse { members, pagination: Some(page) }.encode_to_vec()
        }
        POLICY_MEMBER => {
            let req: pb::QueryPolicyMemberRequest = decode(request)?;
            let addr = parse_address(&req.address)?;
            existing_policy(state, req.policy_id)?;
            let member = store::is_member(state, req.policy_id, &addr)?;
            pb::QueryPolicyMemberResponse { member }.encode_to_vec()
        }
        DENOM_POLICY => {
            // The empty denom asks for the global policy alone.
            let req: pb::QueryDenomPolicyRequest = decode(request)?;
            let global_policy_id = store::denom_policy(state, "")?;
            let denom_policy_id = if req.denom.is_empty() { 0 } else { store::denom_policy(state, &req.denom)? };
            pb::QueryDenomPolicyResponse { global_policy_id, denom_policy_id }.encode_to_vec()
        }
        COMMITTEE => {
            let _: pb::QueryCommitteeRequest = decode(request)?;
            pb::QueryCommitteeResponse { committee: Some(sanctions::committee(state)?) }.encode_to_vec()
        }
        SANCTION_PROPOSAL => {
            let req: pb::QuerySanctionProposalRequest = decode(request)?;
            let id = req.proposal_id;
            if id == 0 {
                return Err(QueryError::invalid_argument("proposal_id cannot be 0"));
            }
            let proposal = sanctions::proposal(state, id)?
                .ok_or_else(|| QueryError::not_found(format!("no sanction proposal {id}")))?;
            pb::QuerySanctionProposalResponse { proposal: Some(proposal) }.encode_to_vec()
        }
        SANCTION_PROPOSALS => {
            let req: pb::QuerySanctionProposalsRequest = decode(request)?;
            let (proposals, page) =
                paginate(state, STORE_KEY, keys::PROPOSAL_PREFIX, req.pagination.as_ref(), |_, v| {
                    pb::SanctionProposal::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("compliance: corrupt sanction proposal: {e}")))
                })?;
            pb::QuerySanctionProposalsResponse { proposals, pagination: Some(page) }.encode_to_vec()
        }
        SANCTION => {
            // Any bech32 prefix: the entry is keyed by the raw address bytes.
            let req: pb::QuerySanctionRequest = decode(request)?;
            if req.address.is_empty() {
                return Err(QueryError::invalid_argument("address cannot be empty"));
            }
            let addr = paychain_framework::Address::from_any_bech32(&req.address)
                .map_err(|e| QueryError::invalid_argument(format!("invalid address: {}", e.log)))?;
            // An entry is in effect until it is removed (see `sanctions::is_sanctioned`).
            let sanction = sanctions::sanction(state, &addr)?;
            pb::QuerySanctionResponse { sanctioned: sanction.is_some(), sanction }.encode_to_vec()
        }
        SANCTIONS => {
            let req: pb::QuerySanctionsRequest = decode(request)?;
            let (sanctions, page) =
                paginate(state, STORE_KEY, keys::SANCTION_PREFIX, req.pagination.as_ref(), |_, v| {
                    pb::Sanction::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("compliance: corrupt sanction: {e}")))
                })?;
            pb::QuerySanctionsResponse { sanctions, pagination: Some(page) }.encode_to_vec()
        }
        HOLD => {
            let req: pb::QueryHoldRequest = decode(request)?;
            if req.hold_id == 0 {
                return Err(QueryError::invalid_argument("hold_id must be positive"));
            }
            let h = crate::holds::hold(state, req.hold_id)?
                .ok_or_else(|| QueryError::not_found(format!("no hold {}", req.hold_id)))?;
            pb::QueryHoldResponse { hold: Some(h) }.encode_to_vec()
        }
        HOLDS_BY_PARTY => {
            let req: pb::QueryHoldsByPartyRequest = decode(request)?;
            let party = parse_address(&req.address)?;
            let prefix = keys::hold_party_prefix(&party);
            holds_page(state, &prefix, req.pagination.as_ref())?
        }
        HOLDS_BY_STATUS => {
            let req: pb::QueryHoldsByStatusRequest = decode(request)?;
            if pb::HoldStatus::try_from(req.status).unwrap_or_default() == pb::HoldStatus::Unspecified {
                return Err(QueryError::invalid_argument("status must be a HOLD_STATUS_ value"));
            }
            holds_page(state, &keys::hold_status_prefix(req.status), req.pagination.as_ref())?
        }
        VELOCITY_LIMITS => {
            let req: pb::QueryVelocityLimitsRequest = decode(request)?;
            let (limits, page) =
                paginate(state, STORE_KEY, keys::VELOCITY_LIMIT_PREFIX, req.pagination.as_ref(), |_, v| {
                    pb::VelocityLimit::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("compliance: corrupt velocity limit: {e}")))
                })?;
            pb::QueryVelocityLimitsResponse { limits, pagination: Some(page) }.encode_to_vec()
        }
        VELOCITY_LIMIT => {
            let req: pb::QueryVelocityLimitRequest = decode(request)?;
            check_denom(&req.denom)?;
            let limit = velocity::velocity_limit(state, &req.denom)?
                .ok_or_else(|| QueryError::not_found(format!("{} has no velocity limit", req.denom)))?;
            pb::QueryVelocityLimitResponse { limit: Some(limit) }.encode_to_vec()
        }
        VELOCITY_USAGE => {
            let req: pb::QueryVelocityUsageRequest = decode(request)?;
            let addr = parse_address(&req.address)?;
            check_denom(&req.denom)?;
            let limit = velocity::limit(state, &req.denom)?
                .ok_or_else(|| QueryError::not_found(format!("{} has no velocity limit", req.denom)))?;
            let s = velocity::account_standing(state, &req.denom, &limit, &addr, block_time(state)?)?;
            pb::QueryVelocityUsageResponse {
                limit: s.limit.to_string(),
                tier: s.tier.clone(),
                window_seconds: s.window_seconds,
                used: s.used.to_string(),
                remaining: s.remaining().to_string(),
            }
            .encode_to_vec()
        }
        CORRIDOR_LIMITS => {
            let req: pb::QueryCorridorLimitsRequest = decode(request)?;
            let (limits, page) =
                paginate(state, STORE_KEY, keys::CORRIDOR_LIMIT_PREFIX, req.pagination.as_ref(), |_, v| {
                    pb::CorridorLimit::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("compliance: corrupt corridor limit: {e}")))
                })?;
            pb::QueryCorridorLimitsResponse { limits, pagination: Some(page) }.encode_to_vec()
        }
        CORRIDOR => {
            let req: pb::QueryCorridorRequest = decode(request)?;
            crate::msgs::validate_channel_id(&req.channel_id).map_err(|e| QueryError::invalid_argument(e.log))?;
            check_denom(&req.denom)?;
            let limit = velocity::corridor_limit(state, &req.channel_id, &req.denom)?.ok_or_else(|| {
                QueryError::not_found(format!("{} has no corridor limit on {}", req.channel_id, req.denom))
            })?;
            let (sent, received) = velocity::corridor_standing(state, &limit, block_time(state)?)?;
            let net = sent.saturating_sub(received);
            let cap = paychain_framework::coins::parse_amount(&limit.limit)
                .map_err(|e| QueryError::internal(format!("compliance: corrupt corridor limit: {}", e.log)))?;
            pb::QueryCorridorResponse {
                limit: Some(limit),
                sent: sent.to_string(),
                received: received.to_string(),
                net: net.to_string(),
                remaining: cap.saturating_sub(net).to_string(),
            }
            .encode_to_vec()
        }
        TRAVEL_RULE_THRESHOLDS => {
            let req: pb::QueryTravelRuleThresholdsRequest = decode(request)?;
            let (thresholds, page) =
                paginate(state, STORE_KEY, keys::TRAVEL_RULE_PREFIX, req.pagination.as_ref(), |_, v| {
                    pb::TravelRuleThreshold::decode(v)
                        .map(Some)
                        .map_err(|e| QueryError::internal(format!("compliance: corrupt travel-rule threshold: {e}")))
                })?;
            pb::QueryTravelRuleThresholdsResponse { thresholds, pagination: Some(page) }.encode_to_vec()
        }
        RISK_RULES => {
            let req: pb::QueryRiskRulesRequest = decode(request)?;
            let rules = if req.version == 0 {
                crate::risk::rules(state)?
            } else {
                Some(
                    crate::risk::rules_version(state, req.version)?
                        .ok_or_else(|| QueryError::not_found(format!("no risk rules version {}", req.version)))?,
                )
            };
            pb::QueryRiskRulesResponse { rules, votes: crate::risk::open_votes(state)? }.encode_to_vec()
        }
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use paychain_framework::{Address, CacheState, GrpcCode, StateWrite};

    use super::*;

    fn addr(n: u8) -> Address {
        Address::from_bytes(vec![n; 20]).unwrap()
    }

    fn ask<Req: Message, Resp: Message + Default>(
        state: &dyn StateRead,
        path: &str,
        req: Req,
    ) -> Result<Resp, GrpcCode> {
        query(state, path, &req.encode_to_vec()).map(|b| Resp::decode(b.as_slice()).unwrap()).map_err(|e| e.code)
    }

    #[test]
    fn committee_proposals_and_sanctions() {
        let mut state = CacheState::in_memory();
        let r: pb::QueryCommitteeResponse = ask(&state, COMMITTEE, pb::QueryCommitteeRequest {}).unwrap();
        assert_eq!(r.committee, Some(pb::Committee::default()));

        let committee = pb::Committee { members: vec![addr(3).to_string()], threshold: 1, ..Default::default() };
        state.set(STORE_KEY, keys::COMMITTEE_KEY.to_vec(), committee.encode_to_vec());
        for id in [1, 2, 3] {
            let p = pb::SanctionProposal { id, addresses: vec![addr(9).to_string()], ..Default::default() };
            state.set(STORE_KEY, keys::proposal_key(id), p.encode_to_vec());
        }
        let listed = pb::Sanction { address: addr(9).to_string(), proposal_id: 1, ..Default::default() };
        state.set(STORE_KEY, keys::sanction_key(&addr(9)), listed.encode_to_vec());

        let r: pb::QueryCommitteeResponse = ask(&state, COMMITTEE, pb::QueryCommitteeRequest {}).unwrap();
        assert_eq!(r.committee, Some(committee));

        let one = |id| {
            ask::<_, pb::QuerySanctionProposalResponse>(
                &state,
                SANCTION_PROPOSAL,
                pb::QuerySanctionProposalRequest { proposal_id: id },
            )
        };
        assert_eq!(one(2).unwrap().proposal.unwrap().id, 2);
        assert_eq!(one(0).unwrap_err(), GrpcCode::InvalidArgument);
        assert_eq!(one(4).unwrap_err(), GrpcCode::NotFound);

        let page = cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest { limit: 2, ..Default::default() };
        let r: pb::QuerySanctionProposalsResponse =
            ask(&state, SANCTION_PROPOSALS, pb::QuerySanctionProposalsRequest { pagination: Some(page) }).unwrap();
        assert_eq!(r.proposals.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 2]);
        assert!(!r.pagination.unwrap().next_key.is_empty());

        // Any bech32 form of the same bytes is the same entry.
        let sanction =
            |a: String| ask::<_, pb::QuerySanctionResponse>(&state, SANCTION, pb::QuerySanctionRequest { address: a });
        let r = sanction(addr(9).to_bech32_with_prefix("cosmos")).unwrap();
        assert!(r.sanctioned);
        assert_eq!(r.sanction, Some(listed.clone()));
        let r = sanction(addr(8).to_string()).unwrap();
        assert!(!r.sanctioned && r.sanction.is_none());
        assert_eq!(sanction(String::new()).unwrap_err(), GrpcCode::InvalidArgument);
        assert_eq!(sanction("cosmos1bogus".into()).unwrap_err(), GrpcCode::InvalidArgument);

        let r: pb::QuerySanctionsResponse =
            ask(&state, SANCTIONS, pb::QuerySanctionsRequest { pagination: None }).unwrap();
        assert_eq!(r.sanctions, [listed]);
    }
}
