//! The compliance keeper: credential issuers and credentials, and the one
//! question transfer policies will ask ([`ComplianceKeeper::holds`]).

use std::sync::Arc;

use paychain_authority::AuthorityKeeper;
use paychain_framework::time::{from_block_time, reached};
use paychain_framework::{Address, BlockTime, Context, MsgResponse, SdkError, StateRead, TypeUrl};
use prost::Message;

use crate::errors;
use crate::events::{self, Action};
use crate::keys;
use crate::msgs::{Body, ComplianceMsg};
use crate::pb;

pub(crate) fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("compliance: corrupt {what} in store: {e}"))
}

pub fn issuer(state: &dyn StateRead, addr: &Address) -> Result<Option<pb::CredentialIssuer>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::issuer_key(addr))? {
        None => Ok(None),
        Some(b) => {
            pb::CredentialIssuer::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("issuer {addr}"), e))
        }
    }
}

pub fn credential(
    state: &dyn StateRead,
    subject: &Address,
    issuer: &Address,
    credential_type: &str,
) -> Result<Option<pb::Credential>, SdkError> {
    match state.get(keys::STORE_KEY, &keys::credential_key(subject, issuer, credential_type))? {
        None => Ok(None),
        Some(b) => pb::Credential::decode(b.as_slice()).map(Some).map_err(|e| corrupt("credential", e)),
    }
}

/// Whether a credential counts at block time `now`: accepted, not revoked, not
/// expired, and its issuer still registered for its type.
pub fn counts(c: &pb::Credential, issuer: Option<&pb::CredentialIssuer>, now: BlockTime) -> bool {
    c.accepted
        && c.revoked_at.is_none()
        && !c.expiration.as_ref().is_some_and(|t| reached(now, t))
        && issuer.is_some_and(|i| i.types.contains(&c.r#type))
}

fn response<T: TypeUrl>() -> MsgResponse {
    MsgResponse { type_url: T::TYPE_URL.to_string(), value: Vec::new() }
}

pub struct ComplianceKeeper {
    authority: Arc<AuthorityKeeper>,
}

impl ComplianceKeeper {
    pub fn new(authority: Arc<AuthorityKeeper>) -> Self {
        Self { authority }
    }

    /// Whether `subject` holds a counting credential of `credential_type` from
    /// `issuer` at block time `now`: two reads, never a scan.
    pub fn holds(
        &self,
        state: &dyn StateRead,
        subject: &Address,
        issuer_addr: &Address,
        credential_type: &str,
        now: BlockTime,
    ) -> Result<bool, SdkError> {
        let Some(c) = credential(state, subject, issuer_addr, credential_type)? else { return Ok(false) };
        Ok(counts(&c, issuer(state, issuer_addr)?.as_ref(), now))
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
        }
    }
}
