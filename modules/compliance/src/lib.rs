//! The compliance module.
//!
//! **Credentials without personal data**: the chain authority registers
//! credential issuers (a KYC provider) with the types each may issue; an issuer
//! creates a credential for a subject (type such as `kyc.tier2`, expiry, URI and
//! SHA-256 of off-chain evidence), the subject accepts it, the issuer or the
//! authority revokes it. A credential counts from acceptance until it expires or
//! is revoked, at block time, and only while its issuer is registered for its
//! type ([`store::holds_credential`]: two reads).
//!
//! **Transfer policies**: named, versioned rule sets (allow list, deny list,
//! required credentials, or a compound of sender, recipient and mint-recipient
//! rules). The chain authority sets a global policy that governs every denom;
//! the authority or an issued token's admin attaches a policy to a denom. Bank
//! asks [`policy::CompliancePolicy`] about every movement of coins.
//!
//! **Sanctions under the compliance committee** ([`sanctions`]): an m-of-n
//! committee (genesis; replaced by the authority) votes sanctions and
//! unsanctions citing the published list; ordinary decisions wait out a
//! timelock, emergency sanctions take effect at a smaller quorum and lapse
//! unless confirmed. A sanctioned address sends nothing, fees included, and
//! what it receives stays frozen.
//!
//! **Holds for review** ([`holds`]): a policy may hold a send instead of
//! refusing it; the committee or the token's admin releases, returns or (for
//! sanctioned parties) seizes it; undecided, it returns at its deadline.
//!
//! **Velocity and corridor limits** ([`velocity`]): per denom, how much an account
//! may send within a rolling window of block time (by credential tier), and per
//! IBC channel how much may leave net of what came in; set by the authority or the
//! token's admin, enforced on every path that moves coins.
//!
//! **Travel rule** ([`travel_rule`]): per denom, a threshold above which a transfer
//! carries a travel-rule record (IVMS 101 hash and VASP identifiers) as a tx
//! extension option or, over IBC, in the packet memo.
//!
//! **Risk scoring** ([`risk`]): the committee's versioned rules score transfers
//! (amount, denom, route, credentials, account age, velocity so far, travel-rule
//! presence); above its levels a transfer is refused or held. The API is
//! `proto/paychain/compliance/v1/*.proto` ([`pb`]); `keys.rs` has the state layout.

#[cfg(feature = "cli")]
pub mod cli;
pub mod errors;
pub mod events;
pub mod genesis;
pub mod holds;
pub mod keeper;
pub mod keys;
mod memo;
pub mod msgs;
pub mod pb;
pub mod policy;
pub mod query;
pub mod rest;
pub mod risk;
pub mod sanctions;
pub mod store;
pub mod travel_rule;
pub mod velocity;

use std::sync::Arc;

use cosmos_sdk_proto::Any;
use paychain_auth::AuthKeeper;
use paychain_bank::BankKeeper;
use paychain_framework::module::downcast;
use paychain_framework::{AnyType, Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead};

pub use keeper::ComplianceKeeper;
pub use keys::{MODULE_NAME, STORE_KEY};
pub use msgs::ComplianceMsg;
pub use policy::CompliancePolicy;
pub use store::DenomAdmins;

pub const CODESPACE: &str = errors::CODESPACE;

pub struct ComplianceModule {
    keeper: Arc<ComplianceKeeper>,
}

impl ComplianceModule {
    /// Installs the module's transfer policy in bank, so every movement of every
    /// denom meets the global and the denom's policy.
    /// The app must register the [`keys::HOLDS_ACCOUNT`] module account (no permissions).
    pub fn new(keeper: Arc<ComplianceKeeper>, bank: &BankKeeper, auth: Arc<AuthKeeper>) -> Self {
        bank.add_transfer_policy(Arc::new(CompliancePolicy::new(auth)));
        Self { keeper }
    }
}

impl Module for ComplianceModule {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[STORE_KEY]
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        msgs::TYPE_URLS
    }

    /// A travel-rule record a tx carries (checked here, so CheckTx refuses a malformed one).
    fn validate_tx_extension(&self, extension: &Any) -> Option<Result<(), SdkError>> {
        (extension.type_url == travel_rule::RECORD_TYPE_URL)
            .then(|| travel_rule::decode_extension(extension).map(|_| ()))
    }

    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        msgs::decode(msg)
    }

    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        self.keeper.handle(ctx, downcast::<ComplianceMsg>(msg)?)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        query::query(state, path, request)
    }

    fn rest_routes(&self) -> Vec<paychain_framework::RestRoute> {
        rest::routes()
    }

    fn any_types(&self) -> Vec<AnyType> {
        macro_rules! types {
            ($($t:ident),*) => { vec![$(AnyType::of::<pb::$t>()),*] };
        }
        types![
            MsgRegisterIssuer,
            MsgRegisterIssuerResponse,
            MsgRemoveIssuer,
            MsgRemoveIssuerResponse,
            MsgCreateCredential,
            MsgCreateCredentialResponse,
            MsgAcceptCredential,
            MsgAcceptCredentialResponse,
            MsgRevokeCredential,
            MsgRevokeCredentialResponse,
            MsgCreatePolicy,
            MsgCreatePolicyResponse,
            MsgUpdatePolicy,
            MsgUpdatePolicyResponse,
            MsgUpdatePolicyMembers,
            MsgUpdatePolicyMembersResponse,
            MsgAttachPolicy,
            MsgAttachPolicyResponse,
            MsgSetCommittee,
            MsgSetCommitteeResponse,
            MsgProposeSanction,
            MsgProposeSanctionResponse,
            MsgVoteSanction,
            MsgVoteSanctionResponse,
            MsgExecuteSanction,
            MsgExecuteSanctionResponse,
            MsgDecideHold,
            MsgDecideHoldResponse,
            MsgSetVelocityLimit,
            MsgSetVelocityLimitResponse,
            MsgSetCorridorLimit,
            MsgSetCorridorLimitResponse,
            MsgSetTravelRuleThreshold,
            MsgSetTravelRuleThresholdResponse,
            MsgVoteRiskRules,
            MsgVoteRiskRulesResponse,
            TravelRuleRecord
        ]
    }

    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        // The committee's fields shown empty, for an operator to fill in.
        let g = pb::GenesisState {
            next_policy_id: 1,
            next_proposal_id: 1,
            next_hold_id: 1,
            committee: Some(pb::Committee::default()),
            ..Default::default()
        };
        genesis::genesis_json(&g).expect("the default genesis renders")
    }

    fn init_genesis(&self, ctx: &mut Context, g: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = genesis::genesis_from_json(g).map_err(|e| SdkError::invalid_genesis("compliance", e))?;
        genesis::init_genesis(&self.keeper, ctx, &g)
    }

    fn validate_genesis(&self, g: Option<&serde_json::Value>) -> Result<(), String> {
        genesis::validate_genesis(&genesis::genesis_from_json(g)?)
    }

    /// Sanction proposals whose deadline came: votes expire, unconfirmed emergency
    /// sanctions lapse, timelocked decisions execute (bounded per block).
    fn end_block(&self, ctx: &mut Context) -> Result<(), SdkError> {
        sanctions::Sanctions::end_block(ctx)?;
        self.keeper.hold_desk().return_expired(ctx).map(|_| ())
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        self.keeper.hold_desk().check_invariants(state)
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        genesis::genesis_json(&genesis::export_genesis(state)?)
            .map_err(|e| SdkError::fatal(format!("exporting compliance genesis: {e}")))
    }
}

#[cfg(test)]
mod tests;
