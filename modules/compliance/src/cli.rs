//! The compliance module from the command line (feature `cli`):
//!
//! * `paychaind tx compliance register-issuer|remove-issuer` (the chain authority),
//!   `create-credential` (an issuer), `accept-credential` (the subject),
//!   `revoke-credential` (the issuer or the chain authority);
//! * transfer policies: `paychaind tx compliance create-policy` (anyone),
//!   `update-policy|update-policy-members` (the policy's admin), `attach-policy`
//!   (the chain authority; for an issued token's own policy, also its admin). A
//!   rule is one of `--allow-list`, `--deny-list`, credentials (`--all-of` and/or
//!   `--any-of ISSUER:TYPE,...`) or `--compound` (a simple policy per role); with
//!   `--wait` the result carries the response (`policy_id`, `version`);
//! * sanctions: `paychaind tx compliance set-committee` (the chain authority;
//!   the members are sorted for the chain), `propose-sanction|propose-unsanction`
//!   (a committee member, citing the list followed: `--list-name`, `--list-sha256`,
//!   `--list-version`; addresses of any bech32 prefix, `--emergency` for a sanction
//!   in effect at the emergency threshold), `vote-sanction` (a member),
//!   `execute-sanction` (anyone, once a passed proposal's timelock is over); with
//!   `--wait` the result carries the response (`proposal_id`, `status`);
//! * limits: `paychaind tx compliance set-velocity-limit|remove-velocity-limit`
//!   (per denom, `--window SECONDS --limit N [--tier ISSUER:TYPE=N]...`) and
//!   `set-corridor-limit|remove-corridor-limit` (per IBC channel and denom): the
//!   chain authority, or an issued token's admin;
//! * travel rule: `set-travel-rule-threshold|remove-travel-rule-threshold`, and
//!   `--travel-rule payload.json` on every tx (see `ComplianceCli::prepare_tx`);
//! * risk rules: `vote-risk-rules FROM RULES.json --base-version N` (a committee member);
//! * `paychaind query compliance issuers|issuer|credential|by-subject|by-issuer|
//!   policies|policy|policy-versions|policy-members|policy-member|denom-policy|
//!   committee|sanction-proposal|sanction-proposals|sanction|sanctions|holds|
//!   velocity-limits|velocity-limit|velocity-usage|corridors|corridor|
//!   travel-rule-thresholds|travel-rule|risk-rules`;
//! * `paychaind compliance audit --from-height H1 --to-height H2 [--format jsonl|csv]`
//!   exports every compliance event (`compliance_*`) of those heights, block-level
//!   ones included, from the node's block results ([`audit`]).

use std::path::Path;

use anyhow::anyhow;
use clap::{ArgGroup, Args, Subcommand};
use paychain_client::cli::{
    any_msg, broadcast_with, msg_response_fields, parse_address, show_query, tx_signer, Ctx, HeightArgs, ModuleCli,
    NodeArgs, NoteArgs, PageArgs, TxFlags,
};

use crate::{pb, query, sanctions};

// Beside this file (`src/audit.rs`), mounted from here so it stays behind `cli`.
#[path = "audit.rs"]
pub mod audit;

pub struct ComplianceCli;

impl ModuleCli for ComplianceCli {
    type Tx = ComplianceTxCmd;
    type Query = ComplianceQueryCmd;
    type Tools = ComplianceCmd;

    const TX_ABOUT: &'static str =
        "Compliance: credential issuers, credentials, transfer policies, sanctions (the compliance committee), holds, velocity and corridor limits";
    const QUERY_ABOUT: &'static str =
        "Compliance: credential issuers, credentials, transfer policies, the committee, sanctions, holds, velocity and corridor limits";
    const TOOLS_ABOUT: &'static str = "Compliance helpers: export the chain's compliance events (audit)";
    const HAS_TOOLS: bool = true;

    fn run_tx(ctx: &Ctx, home: &Path, cmd: ComplianceTxCmd) -> anyhow::Result<()> {
        run_tx(ctx, home, cmd)
    }

    fn run_query(ctx: &Ctx, cmd: ComplianceQueryCmd) -> anyhow::Result<()> {
        run_query(ctx, cmd)
    }

    /// `--travel-rule payload.json`: the record as an extension option, and in the memo of
    /// every IBC transfer of the tx.
    fn prepare_tx(flags: &TxFlags, msgs: &mut [cosmos_sdk_proto::Any]) -> anyhow::Result<Vec<cosmos_sdk_proto::Any>> {
        let Some(path) = &flags.travel_rule else { return Ok(Vec::new()) };
        let record = travel_rule_record(
            path,
            flags.originator_vasp.as_deref(),
            flags.beneficiary_vasp.as_deref(),
            flags.travel_rule_locator.as_deref(),
        )?;
        for m in msgs.iter_mut().filter(|m| m.type_url == IBC_TRANSFER_TYPE_URL) {
            use prost::Message as _;
            let mut t = ibc_proto::ibc::applications::transfer::v1::MsgTransfer::decode(m.value.as_slice())?;
            t.memo = memo_with_record(&t.memo, &record)?;
            m.value = t.encode_to_vec();
        }
        Ok(vec![any_msg(&record)])
    }

    fn run_tools(_ctx: &Ctx, cmd: ComplianceCmd) -> anyhow::Result<()> {
        match cmd {
            ComplianceCmd::Audit(args) => audit::run(args),
        }
    }
}

/// `paychaind compliance ...`: helpers beside `tx compliance` and `query compliance`.
#[derive(Subcommand, Debug)]
pub enum ComplianceCmd {
    /// Export every compliance event (compliance_*) in a range of heights, tx and block-level, as JSON lines or CSV
    Audit(audit::AuditArgs),
}

#[derive(Subcommand, Debug)]
pub enum ComplianceTxCmd {
    /// Register a credential issuer, or replace its types (MsgRegisterIssuer; the chain authority)
    RegisterIssuer {
        /// The chain authority (key name or address)
        from: String,
        issuer: String,
        /// Credential types it may issue, comma-separated (e.g. kyc.tier1,kyc.tier2)
        #[arg(long, value_delimiter = ',', required = true)]
        types: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        uri: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Remove a credential issuer; its credentials stop counting (MsgRemoveIssuer; the chain authority)
    RemoveIssuer {
        from: String,
        issuer: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Create or renew a credential for a subject (MsgCreateCredential; a registered issuer)
    CreateCredential {
        /// The issuer (key name or address)
        from: String,
        subject: String,
        /// The credential type, e.g. kyc.tier2
        credential_type: String,
        /// It stops counting at this time (RFC 3339, e.g. 2027-12-31T00:00:00Z); default: never
        #[arg(long)]
        expiration: Option<String>,
        /// Where the evidence is kept (off chain)
        #[arg(long, default_value = "")]
        uri: String,
        /// SHA-256 of the evidence, hex
        #[arg(long, default_value = "")]
        uri_hash: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Accept a credential issued to you (MsgAcceptCredential; the subject)
    AcceptCredential {
        from: String,
        issuer: String,
        credential_type: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Revoke a credential (MsgRevokeCredential; its issuer or the chain authority)
    RevokeCredential {
        from: String,
        subject: String,
        issuer: String,
        credential_type: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Create a transfer policy, version 1 (MsgCreatePolicy; anyone); prints its id with --wait
    CreatePolicy {
        /// The creator (key name or address)
        from: String,
        /// 1 to 64 bytes, for people reading the chain
        name: String,
        #[command(flatten)]
        rule: RuleArgs,
        /// Who may change it (default: the creator)
        #[arg(long, value_name = "ADDR", default_value = "")]
        admin: String,
        /// An allow or deny list's first members, comma-separated (at most 100)
        #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
        members: Vec<String>,
        /// Hold a refused send between two accounts for review this many seconds
        /// instead of refusing it (0: refuse)
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        hold_seconds: u64,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Replace a policy's name and rule, and perhaps its admin (MsgUpdatePolicy; its admin)
    UpdatePolicy {
        /// The policy's admin (key name or address)
        from: String,
        policy_id: u64,
        name: String,
        #[command(flatten)]
        rule: RuleArgs,
        /// Hand the policy to a new admin (default: unchanged)
        #[arg(long, value_name = "ADDR", default_value = "")]
        new_admin: String,
        /// Hold a refused send between two accounts for review this many seconds
        /// instead of refusing it (0: refuse)
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        hold_seconds: u64,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Add and remove members of an allow or deny list (MsgUpdatePolicyMembers; its admin)
    #[command(group(ArgGroup::new("changes").args(["add", "remove"]).required(true).multiple(true)))]
    UpdatePolicyMembers {
        /// The policy's admin (key name or address)
        from: String,
        policy_id: u64,
        /// Addresses to add, comma-separated
        #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
        add: Vec<String>,
        /// Addresses to remove, comma-separated
        #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
        remove: Vec<String>,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Make a policy govern a denom (--denom) or every denom (--global); policy id 0 detaches (MsgAttachPolicy)
    #[command(group(ArgGroup::new("target").args(["denom", "global"]).required(true)))]
    AttachPolicy {
        /// The chain authority, or an issued token's admin for its own denom (key name or address)
        from: String,
        /// The policy (0: none)
        policy_id: u64,
        /// The denom it governs
        #[arg(long)]
        denom: Option<String>,
        /// Set the chain's global policy, which governs every denom (the chain authority)
        #[arg(long)]
        global: bool,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Replace the compliance committee (MsgSetCommittee; the chain authority)
    ///
    /// Open proposals keep their votes; only the votes of current members count.
    SetCommittee {
        /// The chain authority (key name or address)
        from: String,
        /// The members, comma-separated (1 to 32; sorted here). `--members ""` with thresholds 0:
        /// no committee
        #[arg(long, value_name = "ADDR,...", value_delimiter = ',', required = true)]
        members: Vec<String>,
        /// Yes votes an ordinary proposal needs to pass (1 to the number of members)
        #[arg(long, value_name = "N")]
        threshold: u32,
        /// Yes votes an emergency sanction needs to take effect at once (1 to the threshold)
        #[arg(long, value_name = "N")]
        emergency_threshold: u32,
        /// How long a passed proposal waits before it executes
        #[arg(long, value_name = "SECONDS")]
        timelock: u64,
        /// How long an emergency sanction lasts unless the full threshold confirms it
        #[arg(long, value_name = "SECONDS")]
        emergency_lapse: u64,
        /// How long a proposal may gather votes
        #[arg(long, value_name = "SECONDS")]
        voting_period: u64,
        /// Where seized held funds go (empty: no seizure)
        #[arg(long, value_name = "ADDR", default_value = "")]
        seizure_account: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Propose to sanction addresses (MsgProposeSanction; a committee member); prints its id with --wait
    ///
    /// The proposal counts as the proposer's yes vote. With --wait the result carries the new
    /// proposal's id and status.
    ProposeSanction {
        /// The proposer, a committee member (key name or address)
        from: String,
        /// 1 to 100 addresses of any bech32 prefix (pay1..., cosmos1..., ...), comma-separated
        #[arg(value_name = "ADDRESS,...", value_delimiter = ',', required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        source: SourceArgs,
        /// An emergency sanction: in effect once the emergency threshold votes for it, lapsing
        /// unless the full threshold confirms it in time
        #[arg(long)]
        emergency: bool,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Propose to lift sanctions (MsgProposeSanction; a committee member); prints its id with --wait
    ///
    /// The proposal counts as the proposer's yes vote. With --wait the result carries the new
    /// proposal's id and status.
    ProposeUnsanction {
        /// The proposer, a committee member (key name or address)
        from: String,
        /// 1 to 100 addresses of any bech32 prefix, comma-separated
        #[arg(value_name = "ADDRESS,...", value_delimiter = ',', required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Vote yes on an open sanction proposal (MsgVoteSanction; a committee member, once)
    ///
    /// With --wait the result carries the proposal's status after the vote.
    VoteSanction {
        /// The voter, a committee member (key name or address)
        from: String,
        proposal_id: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Execute a passed sanction proposal whose timelock is over (MsgExecuteSanction; anyone)
    ///
    /// End block also executes due proposals by itself.
    ExecuteSanction {
        from: String,
        proposal_id: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Decide a hold for review (MsgDecideHold): release to the recipient, return to
    /// the sender, or seize (only when a party is sanctioned)
    ///
    /// A committee member's decision is a vote, carried out when the committee's
    /// threshold of members agree; the held token's admin decides alone.
    DecideHold {
        /// A committee member or the held token's admin (key name or address)
        from: String,
        hold_id: u64,
        #[arg(value_enum)]
        decision: DecisionArg,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Set a denom's velocity limit: how much an account may send per rolling window of block
    /// time (MsgSetVelocityLimit; the chain authority, or the token's admin)
    ///
    /// Sends, multi-send outputs, escrow and IBC transfers out count; fees do not. An account's
    /// limit is that of the first --tier whose credential it holds, else --limit.
    SetVelocityLimit {
        /// The chain authority or the token's admin (key name or address)
        from: String,
        denom: String,
        /// The limit of accounts in no tier (an integer amount of the denom)
        #[arg(long)]
        limit: String,
        /// The window in seconds (24 to 31622400, e.g. 86400 for a day)
        #[arg(long, value_name = "SECONDS")]
        window: u64,
        /// A tier: accounts holding credential TYPE from ISSUER may send LIMIT (repeatable, at most 8)
        #[arg(long, value_name = "ISSUER:TYPE=LIMIT", value_parser = parse_tier)]
        tier: Vec<pb::VelocityTier>,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Take a denom's velocity limit away (MsgSetVelocityLimit with remove)
    RemoveVelocityLimit {
        from: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Limit how much of a denom may leave through an IBC channel per rolling window, net of what
    /// comes in through it (MsgSetCorridorLimit; the chain authority, or the token's admin)
    SetCorridorLimit {
        from: String,
        /// Our end of the channel, e.g. channel-0
        channel_id: String,
        denom: String,
        #[arg(long)]
        limit: String,
        /// The window in seconds (24 to 31622400)
        #[arg(long, value_name = "SECONDS")]
        window: u64,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Require a travel-rule record on transfers of a denom above an amount
    /// (MsgSetTravelRuleThreshold; the chain authority, or the token's admin)
    SetTravelRuleThreshold {
        from: String,
        denom: String,
        /// Transfers of more than this (an integer amount of the denom) need a record
        #[arg(long)]
        threshold: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Take a denom's travel-rule threshold away (MsgSetTravelRuleThreshold with remove)
    RemoveTravelRuleThreshold {
        from: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Vote, as a committee member, for a new risk rule set on top of the version in effect
    /// (MsgVoteRiskRules); it takes effect when the committee's threshold voted for the same set
    ///
    /// RULES is a JSON file: {"rules": [{"code": "large", "score": 50, "min_amount": "10000"},
    /// ...], "refuse_above": 100, "hold_above": 60, "hold_seconds": "600"} (proto3 JSON of
    /// paychain.compliance.v1.RiskRuleSet; conditions: denom, min_amount, route, channel_id,
    /// sender_lacks / recipient_lacks {issuer, type}, recipient_newer_than_seconds,
    /// velocity_used_percent, without_travel_rule).
    VoteRiskRules {
        /// A committee member (key name or address)
        from: String,
        /// The rule set file (JSON)
        rules: std::path::PathBuf,
        /// The version in effect it replaces (0: none yet; see `query compliance risk-rules`)
        #[arg(long, value_name = "N")]
        base_version: u64,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Take a corridor limit away (MsgSetCorridorLimit with remove)
    RemoveCorridorLimit {
        from: String,
        channel_id: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
}

const IBC_TRANSFER_TYPE_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";

/// The travel-rule record of an IVMS 101 payload file: checked against the field
/// set, hashed canonically ([`crate::travel_rule::ivms101_sha256`]), the VASPs named
/// by the flags or else by the payload's national identifiers.
pub fn travel_rule_record(
    path: &Path,
    originator_vasp: Option<&str>,
    beneficiary_vasp: Option<&str>,
    locator: Option<&str>,
) -> anyhow::Result<pb::TravelRuleRecord> {
    use crate::travel_rule::{ivms101_sha256, validate_ivms101, validate_record};
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("--travel-rule {}: {e}", path.display()))?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("--travel-rule {}: not JSON: {e}", path.display()))?;
    validate_ivms101(&payload).map_err(|e| anyhow!("--travel-rule {}: {e}", path.display()))?;
    let vasp = |flag: Option<&str>, key: &str, name: &str| -> anyhow::Result<String> {
        if let Some(v) = flag {
            return Ok(v.to_string());
        }
        payload
            .pointer(&format!("/{key}/{key}/legalPerson/nationalIdentification/nationalIdentifier"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("--{name}: not given, and the payload's {key} has no nationalIdentifier"))
    };
    let record = pb::TravelRuleRecord {
        ivms101_sha256: ivms101_sha256(&payload).map_err(|e| anyhow!("--travel-rule {}: {e}", path.display()))?,
        originator_vasp: vasp(originator_vasp, "originatingVASP", "originator-vasp")?,
        beneficiary_vasp: vasp(beneficiary_vasp, "beneficiaryVASP", "beneficiary-vasp")?,
        envelope: Vec::new(),
        envelope_locator: locator.unwrap_or_default().to_string(),
    };
    validate_record(&record).map_err(|e| anyhow!("travel-rule record: {}", e.log))?;
    Ok(record)
}

/// `memo` with the record under `travel_rule` (the documented memo form); other
/// keys of a JSON-object memo stay, a memo that is other text is refused.
pub fn memo_with_record(memo: &str, r: &pb::TravelRuleRecord) -> anyhow::Result<String> {
    let mut m = match memo.trim() {
        "" => serde_json::Map::new(),
        text => match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(anyhow!("--memo must be empty or a JSON object to carry a travel-rule record")),
        },
    };
    let mut record = serde_json::json!({
        "ivms101_sha256": r.ivms101_sha256,
        "originator_vasp": r.originator_vasp,
        "beneficiary_vasp": r.beneficiary_vasp,
    });
    if !r.envelope_locator.is_empty() {
        record["envelope_locator"] = r.envelope_locator.clone().into();
    }
    m.insert(crate::travel_rule::MEMO_KEY.to_string(), record);
    Ok(serde_json::Value::Object(m).to_string())
}

/// What `query compliance travel-rule` shows of a committed tx (its `query tx` JSON):
/// the records it carried, in its extension options and in its IBC transfers'
/// memos, and the transfers they covered.
pub fn travel_rule_view(tx: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let record_type = crate::travel_rule::RECORD_TYPE_URL;
    let body = &tx["tx"]["body"];
    let mut records: Vec<Value> = body["extension_options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["@type"] == record_type)
        .cloned()
        .collect();
    for m in body["messages"].as_array().into_iter().flatten().filter(|m| m["@type"] == IBC_TRANSFER_TYPE_URL) {
        if let Some(Ok(Value::Object(memo))) = m["memo"].as_str().map(serde_json::from_str::<Value>) {
            if let Some(r) = memo.get(crate::travel_rule::MEMO_KEY) {
                records.push(serde_json::json!({ "memo": r }));
            }
        }
    }
    let transfers: Vec<Value> = tx["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == crate::travel_rule::COMPLIANCE_TRAVEL_RULE)
        .map(|e| {
            let attrs = e["attributes"].as_array().into_iter().flatten();
            Value::Object(attrs.map(|a| (a["key"].as_str().unwrap_or("").to_string(), a["value"].clone())).collect())
        })
        .collect();
    serde_json::json!({ "txhash": tx["txhash"], "height": tx["height"], "code": tx["code"], "records": records, "transfers": transfers })
}

/// `ISSUER:TYPE=LIMIT`.
fn parse_tier(s: &str) -> Result<pb::VelocityTier, String> {
    let (who, limit) = s.rsplit_once('=').ok_or_else(|| format!("{s:?}: expected ISSUER:TYPE=LIMIT"))?;
    let req = parse_requirement(who)?;
    Ok(pb::VelocityTier { issuer: req.issuer, r#type: req.r#type, limit: limit.to_string() })
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DecisionArg {
    Release,
    Return,
    Seize,
}

impl DecisionArg {
    fn proto(self) -> pb::HoldDecision {
        match self {
            DecisionArg::Release => pb::HoldDecision::Release,
            DecisionArg::Return => pb::HoldDecision::Return,
            DecisionArg::Seize => pb::HoldDecision::Seize,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum HoldStatusArg {
    Held,
    Released,
    Returned,
    Seized,
    Expired,
}

impl HoldStatusArg {
    fn proto(self) -> pb::HoldStatus {
        match self {
            HoldStatusArg::Held => pb::HoldStatus::Held,
            HoldStatusArg::Released => pb::HoldStatus::Released,
            HoldStatusArg::Returned => pb::HoldStatus::Returned,
            HoldStatusArg::Seized => pb::HoldStatus::Seized,
            HoldStatusArg::Expired => pb::HoldStatus::Expired,
        }
    }
}

/// The published list a sanctions proposal follows.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// The list's name, e.g. "OFAC SDN", "EU consolidated" (at most 64 bytes)
    #[arg(long, value_name = "NAME")]
    list_name: String,
    /// SHA-256 of the published list file, hex (64 characters; e.g. from `sha256sum FILE`)
    #[arg(long, value_name = "HEX")]
    list_sha256: String,
    /// The list's version or publication date (at most 64 bytes)
    #[arg(long, value_name = "V")]
    list_version: String,
}

impl SourceArgs {
    fn into_proto(self) -> anyhow::Result<pb::ListSource> {
        let source = pb::ListSource {
            name: self.list_name,
            sha256: self.list_sha256.to_ascii_lowercase(),
            version: self.list_version,
        };
        sanctions::validate_source(Some(&source)).map_err(|e| anyhow!("{}", e.log))?;
        Ok(source)
    }
}

/// Addresses to (un)sanction, each of any bech32 prefix: passed on as given
/// (the chain lists their raw bytes), after checking they parse and are distinct.
fn sanction_targets(list: Vec<String>) -> anyhow::Result<Vec<String>> {
    let list: Vec<String> = list.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if list.is_empty() || list.len() > sanctions::MAX_ADDRESSES {
        return Err(anyhow!("a proposal lists 1 to {} addresses, got {}", sanctions::MAX_ADDRESSES, list.len()));
    }
    let mut raw = Vec::with_capacity(list.len());
    for a in &list {
        let addr = paychain_framework::Address::from_any_bech32(a).map_err(|e| anyhow!("address {a:?}: {}", e.log))?;
        if raw.contains(&addr) {
            return Err(anyhow!("{a} is listed twice (the same account as another address given)"));
        }
        raw.push(addr);
    }
    Ok(list)
}

fn propose_sanction(
    proposer: String,
    action: pb::SanctionAction,
    addresses: Vec<String>,
    source: SourceArgs,
    emergency: bool,
    note: NoteArgs,
) -> anyhow::Result<pb::MsgProposeSanction> {
    Ok(pb::MsgProposeSanction {
        proposer,
        action: action as i32,
        addresses: sanction_targets(addresses)?,
        emergency,
        source: Some(source.into_proto()?),
        reason: note.reason,
        reference: note.reference,
    })
}

/// The flags of a simple rule. (The per-role policies conflict with them rather
/// than `requires = "compound"`: a flag's implicit `false` default satisfies `requires`.)
const SIMPLE_RULES: [&str; 4] = ["allow_list", "deny_list", "all_of", "any_of"];

/// A policy's rule: exactly one of `--allow-list`, `--deny-list`, credentials
/// (`--all-of` and/or `--any-of`) or `--compound`.
#[derive(Args, Debug)]
#[command(group(
    ArgGroup::new("rule").args(["allow_list", "deny_list", "all_of", "any_of", "compound"]).required(true).multiple(true)
))]
pub struct RuleArgs {
    /// Only the policy's members may take part
    #[arg(long, conflicts_with_all = ["deny_list", "all_of", "any_of", "compound"])]
    allow_list: bool,
    /// The policy's members may not take part
    #[arg(long, conflicts_with_all = ["all_of", "any_of", "compound"])]
    deny_list: bool,
    /// Credentials a party needs every one of: ISSUER:TYPE, comma-separated (e.g. pay1...:kyc.tier2)
    #[arg(long, value_name = "ISSUER:TYPE,...", value_delimiter = ',', value_parser = parse_requirement)]
    all_of: Vec<pb::CredentialRequirement>,
    /// Credentials a party needs at least one of: ISSUER:TYPE, comma-separated
    #[arg(long, value_name = "ISSUER:TYPE,...", value_delimiter = ',', value_parser = parse_requirement)]
    any_of: Vec<pb::CredentialRequirement>,
    /// A simple policy for each role (--sender-policy, --recipient-policy, --mint-recipient-policy)
    #[arg(long, conflicts_with_all = ["all_of", "any_of"])]
    compound: bool,
    /// With --compound: the policy the sender must satisfy (0: none)
    #[arg(long, value_name = "ID", default_value_t = 0, conflicts_with_all = SIMPLE_RULES)]
    sender_policy: u64,
    /// With --compound: the policy the recipient must satisfy (0: none)
    #[arg(long, value_name = "ID", default_value_t = 0, conflicts_with_all = SIMPLE_RULES)]
    recipient_policy: u64,
    /// With --compound: the policy the recipient of a mint or an incoming IBC transfer must
    /// satisfy (0: the recipient policy)
    #[arg(long, value_name = "ID", default_value_t = 0, conflicts_with_all = SIMPLE_RULES)]
    mint_recipient_policy: u64,
}

impl RuleArgs {
    fn into_proto(self) -> pb::PolicyRule {
        use pb::policy_rule::Kind;
        let kind = if self.allow_list {
            Kind::AllowList(pb::MemberList {})
        } else if self.deny_list {
            Kind::DenyList(pb::MemberList {})
        } else if self.compound {
            Kind::Compound(pb::CompoundRule {
                sender_policy: self.sender_policy,
                recipient_policy: self.recipient_policy,
                mint_recipient_policy: self.mint_recipient_policy,
            })
        } else {
            Kind::Credentials(pb::CredentialRule { all_of: self.all_of, any_of: self.any_of })
        };
        pb::PolicyRule { kind: Some(kind) }
    }
}

/// `ISSUER:TYPE` (the issuer's address, the credential type).
fn parse_requirement(s: &str) -> Result<pb::CredentialRequirement, String> {
    let (issuer, credential_type) =
        s.split_once(':').ok_or_else(|| format!("{s:?}: expected ISSUER:TYPE (e.g. pay1...:kyc.tier2)"))?;
    let issuer = parse_address("issuer", issuer.trim()).map_err(|e| e.to_string())?;
    let credential_type = credential_type.trim();
    if credential_type.is_empty() {
        return Err(format!("{s:?}: the credential type is empty"));
    }
    Ok(pb::CredentialRequirement { issuer: issuer.to_string(), r#type: credential_type.to_string() })
}

/// A new proposal's id comes back in the tx's response, seen with `--wait`.
fn wait_hint(flags: &TxFlags) {
    if !flags.wait && !flags.dry_run && !flags.generate_only {
        eprintln!(
            "(add --wait to see the proposal's id and status, or read them later from `paychaind query tx <hash>`)"
        );
    }
}

/// The message, checked here as the chain will check it.
fn velocity_msg(
    from: &str,
    flags: &TxFlags,
    home: &Path,
    limit: pb::VelocityLimit,
    remove: bool,
    note: NoteArgs,
) -> anyhow::Result<(String, TxFlags, cosmos_sdk_proto::Any)> {
    let limit = crate::msgs::velocity_limit(limit, remove).map_err(|e| anyhow!("{}", e.log))?;
    let m = pb::MsgSetVelocityLimit {
        signer: tx_signer(from, flags, home)?.address.to_string(),
        limit: Some(limit),
        remove,
        reason: note.reason,
        reference: note.reference,
    };
    Ok((from.to_string(), flags.clone(), any_msg(&m)))
}

fn travel_rule_msg(
    from: &str,
    flags: &TxFlags,
    home: &Path,
    threshold: pb::TravelRuleThreshold,
    remove: bool,
    note: NoteArgs,
) -> anyhow::Result<(String, TxFlags, cosmos_sdk_proto::Any)> {
    let threshold = crate::msgs::travel_rule_threshold(threshold, remove).map_err(|e| anyhow!("{}", e.log))?;
    let m = pb::MsgSetTravelRuleThreshold {
        signer: tx_signer(from, flags, home)?.address.to_string(),
        threshold: Some(threshold),
        remove,
        reason: note.reason,
        reference: note.reference,
    };
    Ok((from.to_string(), flags.clone(), any_msg(&m)))
}

fn corridor_msg(
    from: &str,
    flags: &TxFlags,
    home: &Path,
    limit: pb::CorridorLimit,
    remove: bool,
    note: NoteArgs,
) -> anyhow::Result<(String, TxFlags, cosmos_sdk_proto::Any)> {
    let limit = crate::msgs::corridor_limit(limit, remove).map_err(|e| anyhow!("{}", e.log))?;
    let m = pb::MsgSetCorridorLimit {
        signer: tx_signer(from, flags, home)?.address.to_string(),
        limit: Some(limit),
        remove,
        reason: note.reason,
        reference: note.reference,
    };
    Ok((from.to_string(), flags.clone(), any_msg(&m)))
}

fn run_tx(ctx: &Ctx, home: &Path, cmd: ComplianceTxCmd) -> anyhow::Result<()> {
    use ComplianceTxCmd as C;
    let address = |what: &str, s: &str| parse_address(what, s).map(|a| a.to_string());
    let opt_address = |what: &str, s: &str| if s.is_empty() { Ok(String::new()) } else { address(what, s) };
    let addresses = |what: &str, list: Vec<String>| -> anyhow::Result<Vec<String>> {
        list.iter().map(|s| address(what, s.trim())).collect()
    };
    let (from, flags, msg) = match cmd {
        C::RegisterIssuer { from, issuer, mut types, name, uri, note, flags } => {
            types.sort();
            types.dedup();
            let m = pb::MsgRegisterIssuer {
                authority: tx_signer(&from, &flags, home)?.address.to_string(),
                issuer: address("issuer", &issuer)?,
                types,
                name,
                uri,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::RemoveIssuer { from, issuer, note, flags } => {
            let m = pb::MsgRemoveIssuer {
                authority: tx_signer(&from, &flags, home)?.address.to_string(),
                issuer: address("issuer", &issuer)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::CreateCredential { from, subject, credential_type, expiration, uri, uri_hash, flags } => {
            let expiration = expiration
                .map(|s| paychain_framework::time::parse(&s).map_err(|e| anyhow!("--expiration: {e}")))
                .transpose()?;
            let m = pb::MsgCreateCredential {
                issuer: tx_signer(&from, &flags, home)?.address.to_string(),
                subject: address("subject", &subject)?,
                r#type: credential_type,
                expiration,
                uri,
                uri_hash,
            };
            (from, flags, any_msg(&m))
        }
        C::AcceptCredential { from, issuer, credential_type, flags } => {
            let m = pb::MsgAcceptCredential {
                subject: tx_signer(&from, &flags, home)?.address.to_string(),
                issuer: address("issuer", &issuer)?,
                r#type: credential_type,
            };
            (from, flags, any_msg(&m))
        }
        C::RevokeCredential { from, subject, issuer, credential_type, note, flags } => {
            let m = pb::MsgRevokeCredential {
                signer: tx_signer(&from, &flags, home)?.address.to_string(),
                subject: address("subject", &subject)?,
                issuer: address("issuer", &issuer)?,
                r#type: credential_type,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::CreatePolicy { from, name, rule, admin, members, hold_seconds, note, flags } => {
            let m = pb::MsgCreatePolicy {
                creator: tx_signer(&from, &flags, home)?.address.to_string(),
                name,
                rule: Some(rule.into_proto()),
                admin: opt_address("--admin", &admin)?,
                members: addresses("--members", members)?,
                reason: note.reason,
                reference: note.reference,
                hold_seconds,
            };
            if !flags.wait && !flags.dry_run && !flags.generate_only {
                eprintln!("(add --wait to see the new policy's id, or read it later from `paychaind query tx <hash>`)");
            }
            (from, flags, any_msg(&m))
        }
        C::UpdatePolicy { from, policy_id, name, rule, new_admin, hold_seconds, note, flags } => {
            let m = pb::MsgUpdatePolicy {
                admin: tx_signer(&from, &flags, home)?.address.to_string(),
                policy_id,
                name,
                rule: Some(rule.into_proto()),
                new_admin: opt_address("--new-admin", &new_admin)?,
                reason: note.reason,
                reference: note.reference,
                hold_seconds,
            };
            (from, flags, any_msg(&m))
        }
        C::UpdatePolicyMembers { from, policy_id, add, remove, note, flags } => {
            let m = pb::MsgUpdatePolicyMembers {
                admin: tx_signer(&from, &flags, home)?.address.to_string(),
                policy_id,
                add: addresses("--add", add)?,
                remove: addresses("--remove", remove)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::AttachPolicy { from, policy_id, denom, global, note, flags } => {
            // clap makes --denom and --global exclusive; --denom "" would set the global policy.
            let denom = match denom {
                Some(d) if d.is_empty() => return Err(anyhow!("--denom: empty (use --global for the global policy)")),
                Some(d) => d,
                None if global => String::new(),
                None => return Err(anyhow!("give --denom DENOM or --global")),
            };
            let m = pb::MsgAttachPolicy {
                signer: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                policy_id,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::SetCommittee {
            from,
            members,
            threshold,
            emergency_threshold,
            timelock,
            emergency_lapse,
            voting_period,
            note,
            flags,
            seizure_account,
        } => {
            // The chain requires the members sorted and distinct (as strings).
            let members = members.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            let mut members = addresses("--members", members)?;
            members.sort();
            if let Some(w) = members.windows(2).find(|w| w[0] == w[1]) {
                return Err(anyhow!("--members: {} is listed twice", w[0]));
            }
            let committee = pb::Committee {
                members,
                threshold,
                emergency_threshold,
                timelock_seconds: timelock,
                emergency_lapse_seconds: emergency_lapse,
                voting_period_seconds: voting_period,
                seizure_account: opt_address("--seizure-account", &seizure_account)?,
            };
            sanctions::validate_committee(&committee).map_err(|e| anyhow!("committee: {e}"))?;
            let m = pb::MsgSetCommittee {
                authority: tx_signer(&from, &flags, home)?.address.to_string(),
                committee: Some(committee),
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::ProposeSanction { from, addresses, source, emergency, note, flags } => {
            let proposer = tx_signer(&from, &flags, home)?.address.to_string();
            let m = propose_sanction(proposer, pb::SanctionAction::Sanction, addresses, source, emergency, note)?;
            wait_hint(&flags);
            (from, flags, any_msg(&m))
        }
        C::ProposeUnsanction { from, addresses, source, note, flags } => {
            let proposer = tx_signer(&from, &flags, home)?.address.to_string();
            let m = propose_sanction(proposer, pb::SanctionAction::Unsanction, addresses, source, false, note)?;
            wait_hint(&flags);
            (from, flags, any_msg(&m))
        }
        C::VoteSanction { from, proposal_id, flags } => {
            let m = pb::MsgVoteSanction { voter: tx_signer(&from, &flags, home)?.address.to_string(), proposal_id };
            (from, flags, any_msg(&m))
        }
        C::ExecuteSanction { from, proposal_id, flags } => {
            let m = pb::MsgExecuteSanction { signer: tx_signer(&from, &flags, home)?.address.to_string(), proposal_id };
            (from, flags, any_msg(&m))
        }
        C::SetVelocityLimit { from, denom, limit, window, tier, note, flags } => {
            let l = pb::VelocityLimit { denom, window_seconds: window, limit, tiers: tier, ..Default::default() };
            velocity_msg(&from, &flags, home, l, false, note)?
        }
        C::RemoveVelocityLimit { from, denom, note, flags } => {
            let l = pb::VelocityLimit { denom, ..Default::default() };
            velocity_msg(&from, &flags, home, l, true, note)?
        }
        C::SetCorridorLimit { from, channel_id, denom, limit, window, note, flags } => {
            let l = pb::CorridorLimit { channel_id, denom, window_seconds: window, limit, ..Default::default() };
            corridor_msg(&from, &flags, home, l, false, note)?
        }
        C::RemoveCorridorLimit { from, channel_id, denom, note, flags } => {
            let l = pb::CorridorLimit { channel_id, denom, ..Default::default() };
            corridor_msg(&from, &flags, home, l, true, note)?
        }
        C::SetTravelRuleThreshold { from, denom, threshold, note, flags } => travel_rule_msg(
            &from,
            &flags,
            home,
            pb::TravelRuleThreshold { denom, threshold, ..Default::default() },
            false,
            note,
        )?,
        C::RemoveTravelRuleThreshold { from, denom, note, flags } => {
            travel_rule_msg(&from, &flags, home, pb::TravelRuleThreshold { denom, ..Default::default() }, true, note)?
        }
        C::VoteRiskRules { from, rules, base_version, note, flags } => {
            let text = std::fs::read_to_string(&rules).map_err(|e| anyhow!("{}: {e}", rules.display()))?;
            let set: pb::RiskRuleSet =
                serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a risk rule set: {e}", rules.display()))?;
            let set = crate::msgs::risk_rule_set(set).map_err(|e| anyhow!("{}: {}", rules.display(), e.log))?;
            let m = pb::MsgVoteRiskRules {
                member: tx_signer(&from, &flags, home)?.address.to_string(),
                base_version,
                rules: Some(set),
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::DecideHold { from, hold_id, decision, note, flags } => {
            let m = pb::MsgDecideHold {
                signer: tx_signer(&from, &flags, home)?.address.to_string(),
                hold_id,
                decision: decision.proto() as i32,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
    };
    let signer = tx_signer(&from, &flags, home)?;
    broadcast_with(ctx, home, &signer, vec![msg], &flags, &|data| msg_response_fields(&ctx.any_types, data))
}

#[derive(Subcommand, Debug)]
pub enum ComplianceQueryCmd {
    /// Every registered credential issuer and its types
    Issuers {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One credential issuer
    Issuer {
        address: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One credential: subject, issuer, type
    Credential {
        subject: String,
        issuer: String,
        credential_type: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The credentials an account holds (revoked and expired ones included)
    BySubject {
        subject: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The credentials an issuer created
    ByIssuer {
        issuer: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every transfer policy, as it is now
    Policies {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One transfer policy, now or as of a version
    Policy {
        policy_id: u64,
        /// The version to show (0: the current one)
        #[arg(long, default_value_t = 0)]
        version: u64,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every version of a transfer policy, oldest first
    PolicyVersions {
        policy_id: u64,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The members of an allow or deny list
    PolicyMembers {
        policy_id: u64,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Whether an address is on a policy's list
    PolicyMember {
        policy_id: u64,
        address: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The global policy and a denom's own (0: none); without a denom, the global policy alone
    DenomPolicy {
        denom: Option<String>,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The compliance committee: members, thresholds and periods (empty: none)
    Committee {
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One sanction proposal: its addresses, source, votes, status and deadlines
    SanctionProposal {
        proposal_id: u64,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every sanction proposal, oldest first
    SanctionProposals {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Whether an address (any bech32 prefix) is sanctioned, with its provenance
    Sanction {
        address: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The sanctions list with its provenance (emergency entries show when they lapse)
    Sanctions {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A hold for review by its case id
    Hold {
        hold_id: u64,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Holds an address sent or was to receive
    HoldsByParty {
        address: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every velocity limit, by denom
    VelocityLimits {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A denom's velocity limit: window, default limit and tiers
    VelocityLimit {
        denom: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An account's velocity limit of a denom, what it sent in the window and what remains
    VelocityUsage {
        address: String,
        denom: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every corridor limit, by channel then denom
    Corridors {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A corridor's limit, what went out and came in within the window, and what remains
    Corridor {
        channel_id: String,
        denom: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The risk rules in effect (or as of --version) and the open votes for the next version
    RiskRules {
        #[arg(long, default_value_t = 0)]
        version: u64,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every travel-rule threshold, by denom
    TravelRuleThresholds {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The travel-rule records a committed tx carried (its extension option and IBC memos) and
    /// the transfers they covered (its compliance_travel_rule events)
    TravelRule {
        /// The tx hash (hex)
        hash: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Holds by status (default: held, awaiting a decision)
    Holds {
        #[arg(long, value_enum, default_value = "held")]
        status: HoldStatusArg,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn run_query(ctx: &Ctx, cmd: ComplianceQueryCmd) -> anyhow::Result<()> {
    use ComplianceQueryCmd as Q;
    let address = |what: &str, s: &str| parse_address(what, s).map(|a| a.to_string());
    match cmd {
        Q::Issuers { page, height, node } => {
            let req = pb::QueryIssuersRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryIssuersResponse>(ctx, &node, &height, query::ISSUERS, &req)
        }
        Q::Issuer { address: a, height, node } => {
            let req = pb::QueryIssuerRequest { address: address("address", &a)? };
            show_query::<_, pb::QueryIssuerResponse>(ctx, &node, &height, query::ISSUER, &req)
        }
        Q::Credential { subject, issuer, credential_type, height, node } => {
            let req = pb::QueryCredentialRequest {
                subject: address("subject", &subject)?,
                issuer: address("issuer", &issuer)?,
                r#type: credential_type,
            };
            show_query::<_, pb::QueryCredentialResponse>(ctx, &node, &height, query::CREDENTIAL, &req)
        }
        Q::BySubject { subject, page, height, node } => {
            let req = pb::QueryCredentialsBySubjectRequest {
                subject: address("subject", &subject)?,
                pagination: Some(page.request()?),
            };
            show_query::<_, pb::QueryCredentialsResponse>(ctx, &node, &height, query::CREDENTIALS_BY_SUBJECT, &req)
        }
        Q::ByIssuer { issuer, page, height, node } => {
            let req = pb::QueryCredentialsByIssuerRequest {
                issuer: address("issuer", &issuer)?,
                pagination: Some(page.request()?),
            };
            show_query::<_, pb::QueryCredentialsResponse>(ctx, &node, &height, query::CREDENTIALS_BY_ISSUER, &req)
        }
        Q::Policies { page, height, node } => {
            let req = pb::QueryPoliciesRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryPoliciesResponse>(ctx, &node, &height, query::POLICIES, &req)
        }
        Q::Policy { policy_id, version, height, node } => {
            let req = pb::QueryPolicyRequest { policy_id, version };
            show_query::<_, pb::QueryPolicyResponse>(ctx, &node, &height, query::POLICY, &req)
        }
        Q::PolicyVersions { policy_id, page, height, node } => {
            let req = pb::QueryPolicyVersionsRequest { policy_id, pagination: Some(page.request()?) };
            show_query::<_, pb::QueryPoliciesResponse>(ctx, &node, &height, query::POLICY_VERSIONS, &req)
        }
        Q::PolicyMembers { policy_id, page, height, node } => {
            let req = pb::QueryPolicyMembersRequest { policy_id, pagination: Some(page.request()?) };
            show_query::<_, pb::QueryPolicyMembersResponse>(ctx, &node, &height, query::POLICY_MEMBERS, &req)
        }
        Q::PolicyMember { policy_id, address: a, height, node } => {
            let req = pb::QueryPolicyMemberRequest { policy_id, address: address("address", &a)? };
            show_query::<_, pb::QueryPolicyMemberResponse>(ctx, &node, &height, query::POLICY_MEMBER, &req)
        }
        Q::DenomPolicy { denom, height, node } => {
            let req = pb::QueryDenomPolicyRequest { denom: denom.unwrap_or_default() };
            show_query::<_, pb::QueryDenomPolicyResponse>(ctx, &node, &height, query::DENOM_POLICY, &req)
        }
        Q::Committee { height, node } => {
            let req = pb::QueryCommitteeRequest {};
            show_query::<_, pb::QueryCommitteeResponse>(ctx, &node, &height, query::COMMITTEE, &req)
        }
        Q::SanctionProposal { proposal_id, height, node } => {
            let req = pb::QuerySanctionProposalRequest { proposal_id };
            show_query::<_, pb::QuerySanctionProposalResponse>(ctx, &node, &height, query::SANCTION_PROPOSAL, &req)
        }
        Q::SanctionProposals { page, height, node } => {
            let req = pb::QuerySanctionProposalsRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QuerySanctionProposalsResponse>(ctx, &node, &height, query::SANCTION_PROPOSALS, &req)
        }
        Q::Sanction { address: a, height, node } => {
            // Any bech32 prefix: checked here for a clear error, passed on as given.
            let a = a.trim().to_string();
            paychain_framework::Address::from_any_bech32(&a).map_err(|e| anyhow!("address: {}", e.log))?;
            let req = pb::QuerySanctionRequest { address: a };
            show_query::<_, pb::QuerySanctionResponse>(ctx, &node, &height, query::SANCTION, &req)
        }
        Q::Sanctions { page, height, node } => {
            let req = pb::QuerySanctionsRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QuerySanctionsResponse>(ctx, &node, &height, query::SANCTIONS, &req)
        }
        Q::Hold { hold_id, height, node } => {
            let req = pb::QueryHoldRequest { hold_id };
            show_query::<_, pb::QueryHoldResponse>(ctx, &node, &height, query::HOLD, &req)
        }
        Q::HoldsByParty { address, page, height, node } => {
            let req = pb::QueryHoldsByPartyRequest {
                address: parse_address("address", &address)?.to_string(),
                pagination: Some(page.request()?),
            };
            show_query::<_, pb::QueryHoldsResponse>(ctx, &node, &height, query::HOLDS_BY_PARTY, &req)
        }
        Q::VelocityLimits { page, height, node } => {
            let req = pb::QueryVelocityLimitsRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryVelocityLimitsResponse>(ctx, &node, &height, query::VELOCITY_LIMITS, &req)
        }
        Q::VelocityLimit { denom, height, node } => {
            let req = pb::QueryVelocityLimitRequest { denom };
            show_query::<_, pb::QueryVelocityLimitResponse>(ctx, &node, &height, query::VELOCITY_LIMIT, &req)
        }
        Q::VelocityUsage { address, denom, height, node } => {
            let req = pb::QueryVelocityUsageRequest { address: parse_address("address", &address)?.to_string(), denom };
            show_query::<_, pb::QueryVelocityUsageResponse>(ctx, &node, &height, query::VELOCITY_USAGE, &req)
        }
        Q::Corridors { page, height, node } => {
            let req = pb::QueryCorridorLimitsRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryCorridorLimitsResponse>(ctx, &node, &height, query::CORRIDOR_LIMITS, &req)
        }
        Q::Corridor { channel_id, denom, height, node } => {
            let req = pb::QueryCorridorRequest { channel_id, denom };
            show_query::<_, pb::QueryCorridorResponse>(ctx, &node, &height, query::CORRIDOR, &req)
        }
        Q::RiskRules { version, height, node } => {
            let req = pb::QueryRiskRulesRequest { version };
            show_query::<_, pb::QueryRiskRulesResponse>(ctx, &node, &height, query::RISK_RULES, &req)
        }
        Q::TravelRuleThresholds { page, height, node } => {
            let req = pb::QueryTravelRuleThresholdsRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryTravelRuleThresholdsResponse>(
                ctx,
                &node,
                &height,
                query::TRAVEL_RULE_THRESHOLDS,
                &req,
            )
        }
        Q::TravelRule { hash, node } => {
            let h = paychain_client::tx::parse_tx_hash(&hash)?;
            let client = node.client()?;
            let rt = paychain_client::cli::runtime()?;
            let r = rt.block_on(client.tx(h))?.ok_or_else(|| {
                anyhow!("tx {} not found (not committed yet, or the node's tx indexer is off)", hex::encode_upper(h))
            })?;
            let tx = paychain_client::rpc::tx_response_json(&ctx.any_types, &r, None);
            ctx.print(&travel_rule_view(&tx));
            Ok(())
        }
        Q::Holds { status, page, height, node } => {
            let req =
                pb::QueryHoldsByStatusRequest { status: status.proto() as i32, pagination: Some(page.request()?) };
            show_query::<_, pb::QueryHoldsResponse>(ctx, &node, &height, query::HOLDS_BY_STATUS, &req)
        }
    }
}
