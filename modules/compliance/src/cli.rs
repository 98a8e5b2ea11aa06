//! The compliance module from the command line (feature `cli`):
//!
//! * `paychaind tx compliance register-issuer|remove-issuer` (the chain authority),
//!   `create-credential` (an issuer), `accept-credential` (the subject),
//!   `revoke-credential` (the issuer or the chain authority);
//! * `paychaind query compliance issuers|issuer|credential|by-subject|by-issuer`.

use std::path::Path;

use anyhow::anyhow;
use clap::Subcommand;
use paychain_client::cli::{
    any_msg, broadcast_with, msg_response_fields, parse_address, show_query, tx_signer, Ctx, HeightArgs, ModuleCli,
    NoTools, NodeArgs, NoteArgs, PageArgs, TxFlags,
};

use crate::{pb, query};

pub struct ComplianceCli;

impl ModuleCli for ComplianceCli {
    type Tx = ComplianceTxCmd;
    type Query = ComplianceQueryCmd;
    type Tools = NoTools;

    const TX_ABOUT: &'static str = "Compliance: credential issuers and credentials";
    const QUERY_ABOUT: &'static str = "Compliance: credential issuers and credentials";

    fn run_tx(ctx: &Ctx, home: &Path, cmd: ComplianceTxCmd) -> anyhow::Result<()> {
        run_tx(ctx, home, cmd)
    }

    fn run_query(ctx: &Ctx, cmd: ComplianceQueryCmd) -> anyhow::Result<()> {
        run_query(ctx, cmd)
    }
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
}

fn run_tx(ctx: &Ctx, home: &Path, cmd: ComplianceTxCmd) -> anyhow::Result<()> {
    use ComplianceTxCmd as C;
    let address = |what: &str, s: &str| parse_address(what, s).map(|a| a.to_string());
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
    }
}
