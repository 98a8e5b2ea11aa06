//! The authority messages, decoded and statelessly checked.

use std::any::Any as StdAny;

use cosmos_sdk_proto::Any;
use paychain_framework::module::decode_any;
use paychain_framework::note::Note;
use paychain_framework::{sdk, Address, Msg, SdkError, TypeUrl};

use crate::{errors, pb};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorityMsg {
    /// `new_authority: None` cancels a pending proposal.
    Propose {
        authority: Address,
        new_authority: Option<Address>,
        note: Note,
    },
    Accept {
        new_authority: Address,
    },
}

pub const TYPE_URLS: &[&str] = &[pb::MsgProposeAuthority::TYPE_URL, pb::MsgAcceptAuthority::TYPE_URL];

fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    Ok(Box::new(match any.type_url.as_str() {
        pb::MsgProposeAuthority::TYPE_URL => {
            let m: pb::MsgProposeAuthority = decode_any(any)?;
            let new_authority =
                if m.new_authority.is_empty() { None } else { Some(address(&m.new_authority, "new authority")?) };
            let note = Note::new(&m.reason, &m.reference)
                .map_err(|e| e.to_sdk(errors::invalid_reason, errors::reference_too_long, errors::invalid_reference))?;
            AuthorityMsg::Propose { authority: address(&m.authority, "authority")?, new_authority, note }
        }
        pb::MsgAcceptAuthority::TYPE_URL => {
            let m: pb::MsgAcceptAuthority = decode_any(any)?;
            AuthorityMsg::Accept { new_authority: address(&m.new_authority, "new authority")? }
        }
        other => return Err(sdk::unknown_request(format!("unrecognized authority message type: {other}"))),
    }))
}

impl Msg for AuthorityMsg {
    fn type_url(&self) -> &'static str {
        match self {
            AuthorityMsg::Propose { .. } => pb::MsgProposeAuthority::TYPE_URL,
            AuthorityMsg::Accept { .. } => pb::MsgAcceptAuthority::TYPE_URL,
        }
    }
    fn signers(&self) -> Vec<Address> {
        match self {
            AuthorityMsg::Propose { authority, .. } => vec![authority.clone()],
            AuthorityMsg::Accept { new_authority } => vec![new_authority.clone()],
        }
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    /// `paychain/authority/<MsgName>`, proto field names, empty fields omitted:
    /// a multisig authority's members sign this.
    fn amino_json(&self) -> Option<serde_json::Value> {
        use paychain_framework::amino::plain;
        match self {
            AuthorityMsg::Propose { authority, new_authority, note } => {
                let m = pb::MsgProposeAuthority {
                    authority: authority.to_string(),
                    new_authority: new_authority.as_ref().map(Address::to_string).unwrap_or_default(),
                    reason: note.reason.clone(),
                    reference: note.reference.clone(),
                };
                plain("paychain/authority/MsgProposeAuthority", &m)
            }
            AuthorityMsg::Accept { new_authority } => {
                let m = pb::MsgAcceptAuthority { new_authority: new_authority.to_string() };
                plain("paychain/authority/MsgAcceptAuthority", &m)
            }
        }
    }
}
