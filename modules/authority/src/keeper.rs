//! The authority keeper: who the chain authority is, its two-step transfer, and
//! the one check other modules make before a governed change
//! ([`AuthorityKeeper::require`]).

use paychain_framework::{sdk, Address, Context, MsgResponse, SdkError, StateRead, TypeUrl};

use crate::errors;
use crate::events;
use crate::keys::{AUTHORITY_KEY, PENDING_KEY, STORE_KEY};
use crate::msgs::AuthorityMsg;
use crate::pb;

#[derive(Default)]
pub struct AuthorityKeeper;

fn stored_address(state: &dyn StateRead, key: &[u8]) -> Result<Option<Address>, SdkError> {
    match state.get(STORE_KEY, key)? {
        None => Ok(None),
        Some(b) => Address::from_bytes(b)
            .map(Some)
            .map_err(|e| SdkError::fatal(format!("authority: corrupt address in store: {}", e.log))),
    }
}

impl AuthorityKeeper {
    pub fn new() -> Self {
        Self
    }

    /// The chain authority (`None`: the chain has none).
    pub fn authority(&self, state: &dyn StateRead) -> Result<Option<Address>, SdkError> {
        stored_address(state, AUTHORITY_KEY)
    }

    /// The successor the authority proposed, if any.
    pub fn pending(&self, state: &dyn StateRead) -> Result<Option<Address>, SdkError> {
        stored_address(state, PENDING_KEY)
    }

    /// Succeeds only when `signer` is the chain authority: what every governed
    /// change (fee tokens, module params, compliance controls) checks first.
    pub fn require(&self, state: &dyn StateRead, signer: &Address) -> Result<(), SdkError> {
        match self.authority(state)? {
            None => Err(errors::no_authority("no account may change the chain's governed settings")),
            Some(a) if &a == signer => Ok(()),
            Some(a) => Err(errors::unauthorized(format!("{signer} is not the chain authority {a}"))),
        }
    }

    pub(crate) fn set_authority(&self, ctx: &mut Context, a: &Address) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, AUTHORITY_KEY.to_vec(), a.as_bytes().to_vec())
    }

    pub(crate) fn set_pending(&self, ctx: &mut Context, a: Option<&Address>) -> Result<(), SdkError> {
        match a {
            Some(a) => ctx.set(STORE_KEY, PENDING_KEY.to_vec(), a.as_bytes().to_vec()),
            None => ctx.delete(STORE_KEY, PENDING_KEY.to_vec()),
        }
    }

    pub fn handle(&self, ctx: &mut Context, msg: &AuthorityMsg) -> Result<MsgResponse, SdkError> {
        match msg {
            AuthorityMsg::Propose { authority, new_authority, note } => {
                self.require(&*ctx, authority)?;
                if new_authority.as_ref() == Some(authority) {
                    return Err(errors::same_authority(authority));
                }
                if new_authority.is_none() && self.pending(&*ctx)?.is_none() {
                    return Err(errors::no_pending_authority("nothing to cancel"));
                }
                self.set_pending(ctx, new_authority.as_ref())?;
                let action = if new_authority.is_some() { "propose" } else { "cancel" };
                ctx.emit(events::action(action, authority, authority, new_authority.as_ref(), Some(note)));
                Ok(response::<pb::MsgProposeAuthorityResponse>())
            }
            AuthorityMsg::Accept { new_authority } => {
                let pending = self.pending(&*ctx)?.ok_or_else(|| errors::no_pending_authority(""))?;
                if &pending != new_authority {
                    return Err(errors::not_pending_authority(format!("{new_authority} is not {pending}")));
                }
                self.set_authority(ctx, new_authority)?;
                self.set_pending(ctx, None)?;
                ctx.emit(events::action("accept", new_authority, new_authority, None, None));
                Ok(response::<pb::MsgAcceptAuthorityResponse>())
            }
        }
    }
}

/// An empty `Msg...Response`.
fn response<T: TypeUrl>() -> MsgResponse {
    MsgResponse { type_url: T::TYPE_URL.to_string(), value: Vec::new() }
}

/// A genesis address field (empty = none).
pub(crate) fn genesis_address(s: &str, field: &str) -> Result<Option<Address>, SdkError> {
    if s.is_empty() {
        return Ok(None);
    }
    Address::from_bech32(s).map(Some).map_err(|e| sdk::invalid_address(format!("authority.{field}: {}", e.log)))
}
