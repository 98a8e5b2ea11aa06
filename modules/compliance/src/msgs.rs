//! The compliance messages: decoding and every check that needs no state. All
//! are carried by [`ComplianceMsg`]: a signer, a [`Body`] and the signed bytes
//! (for the amino JSON form multisig members sign).

use std::any::Any as StdAny;

use cosmos_sdk_proto::Any;
use paychain_framework::module::decode_any;
use paychain_framework::note::Note;
use paychain_framework::time::{self, Timestamp};
use paychain_framework::{sdk, Address, Msg, SdkError, TypeUrl};

use crate::errors;
use crate::pb;

/// Longest credential type (bytes), as XRPL's credentials.
pub const MAX_TYPE_LEN: usize = 64;
/// Most credential types one issuer may be registered for.
pub const MAX_ISSUER_TYPES: usize = 32;
pub const MAX_NAME_LEN: usize = 128;
pub const MAX_URI_LEN: usize = 256;

/// 1 to 64 bytes of `[a-z0-9._-]`, e.g. `kyc.tier2`.
pub fn validate_type(t: &str) -> Result<(), SdkError> {
    let ok = (1..=MAX_TYPE_LEN).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(errors::invalid_credential_type(format!(
            "type must be 1 to {MAX_TYPE_LEN} bytes of [a-z0-9._-], got {t:?}"
        )))
    }
}

fn text(value: &str, what: &str, max: usize) -> Result<(), SdkError> {
    if value.len() > max {
        return Err(errors::invalid_metadata(format!("{what} is {} bytes, at most {max}", value.len())));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(errors::invalid_metadata(format!("{what} contains the control character {c:?}")));
    }
    Ok(())
}

/// Empty, or 64 hex characters (a SHA-256).
pub fn validate_hash(h: &str) -> Result<(), SdkError> {
    if h.is_empty() || (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err(errors::invalid_metadata(format!("uri_hash must be a hex SHA-256 (64 characters), got {h:?}")))
    }
}

/// Sorted, distinct, each a valid type; at least one.
pub fn validate_types(types: &[String]) -> Result<(), SdkError> {
    if types.is_empty() || types.len() > MAX_ISSUER_TYPES {
        return Err(errors::invalid_credential_type(format!(
            "an issuer has 1 to {MAX_ISSUER_TYPES} types, got {}",
            types.len()
        )));
    }
    for t in types {
        validate_type(t)?;
    }
    if types.windows(2).any(|w| w[0] >= w[1]) {
        return Err(errors::invalid_credential_type("types must be sorted and distinct"));
    }
    Ok(())
}

pub fn note(reason: &str, reference: &str) -> Result<Note, SdkError> {
    Note::new(reason, reference)
        .map_err(|e| e.to_sdk(errors::invalid_reason, errors::reference_too_long, errors::invalid_reference))
}

fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    RegisterIssuer {
        issuer: Address,
        types: Vec<String>,
        name: String,
        uri: String,
        note: Note,
    },
    RemoveIssuer {
        issuer: Address,
        note: Note,
    },
    CreateCredential {
        subject: Address,
        credential_type: String,
        expiration: Option<Timestamp>,
        uri: String,
        uri_hash: String,
    },
    AcceptCredential {
        issuer: Address,
        credential_type: String,
    },
    RevokeCredential {
        subject: Address,
        issuer: Address,
        credential_type: String,
        note: Note,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComplianceMsg {
    pub type_url: &'static str,
    pub signer: Address,
    pub body: Body,
    /// The protobuf bytes as signed (for the amino JSON form).
    pub proto: Vec<u8>,
}

pub const TYPE_URLS: &[&str] = &[
    pb::MsgRegisterIssuer::TYPE_URL,
    pb::MsgRemoveIssuer::TYPE_URL,
    pb::MsgCreateCredential::TYPE_URL,
    pb::MsgAcceptCredential::TYPE_URL,
    pb::MsgRevokeCredential::TYPE_URL,
];

pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    Ok(Box::new(decode_msg(any)?))
}

pub fn decode_msg(any: &Any) -> Result<ComplianceMsg, SdkError> {
    use pb::*;
    let (type_url, signer, body) = match any.type_url.as_str() {
        MsgRegisterIssuer::TYPE_URL => {
            let m: MsgRegisterIssuer = decode_any(any)?;
            validate_types(&m.types)?;
            text(&m.name, "name", MAX_NAME_LEN)?;
            text(&m.uri, "uri", MAX_URI_LEN)?;
            let body = Body::RegisterIssuer {
                issuer: address(&m.issuer, "issuer")?,
                types: m.types,
                name: m.name,
                uri: m.uri,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgRegisterIssuer::TYPE_URL, address(&m.authority, "authority")?, body)
        }
        MsgRemoveIssuer::TYPE_URL => {
            let m: MsgRemoveIssuer = decode_any(any)?;
            let body =
                Body::RemoveIssuer { issuer: address(&m.issuer, "issuer")?, note: note(&m.reason, &m.reference)? };
            (MsgRemoveIssuer::TYPE_URL, address(&m.authority, "authority")?, body)
        }
        MsgCreateCredential::TYPE_URL => {
            let m: MsgCreateCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            text(&m.uri, "uri", MAX_URI_LEN)?;
            validate_hash(&m.uri_hash)?;
            if let Some(t) = &m.expiration {
                time::validate(t).map_err(errors::invalid_expiration)?;
            }
            let issuer = address(&m.issuer, "issuer")?;
            let subject = address(&m.subject, "subject")?;
            if subject == issuer {
                return Err(errors::unauthorized("an issuer cannot credential itself"));
            }
            let body = Body::CreateCredential {
                subject,
                credential_type: m.r#type,
                expiration: m.expiration,
                uri: m.uri,
                uri_hash: m.uri_hash.to_ascii_lowercase(),
            };
            (MsgCreateCredential::TYPE_URL, issuer, body)
        }
        MsgAcceptCredential::TYPE_URL => {
            let m: MsgAcceptCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            let body = Body::AcceptCredential { issuer: address(&m.issuer, "issuer")?, credential_type: m.r#type };
            (MsgAcceptCredential::TYPE_URL, address(&m.subject, "subject")?, body)
        }
        MsgRevokeCredential::TYPE_URL => {
            let m: MsgRevokeCredential = decode_any(any)?;
            validate_type(&m.r#type)?;
            let body = Body::RevokeCredential {
                subject: address(&m.subject, "subject")?,
                issuer: address(&m.issuer, "issuer")?,
                credential_type: m.r#type,
                note: note(&m.reason, &m.reference)?,
            };
            (MsgRevokeCredential::TYPE_URL, address(&m.signer, "signer")?, body)
        }
        other => return Err(sdk::unknown_request(format!("unrecognized compliance message type: {other}"))),
    };
    Ok(ComplianceMsg { type_url, signer, body, proto: any.value.clone() })
}

impl Msg for ComplianceMsg {
    fn type_url(&self) -> &'static str {
        self.type_url
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.signer.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    /// `paychain/compliance/<MsgName>`, proto field names, zero values omitted,
    /// timestamps in RFC 3339: what multisig members sign.
    fn amino_json(&self) -> Option<serde_json::Value> {
        use paychain_framework::amino;
        use prost::Message as _;
        let fields = match self.type_url {
            pb::MsgRegisterIssuer::TYPE_URL => {
                amino::fields(&pb::MsgRegisterIssuer::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgRemoveIssuer::TYPE_URL => amino::fields(&pb::MsgRemoveIssuer::decode(self.proto.as_slice()).ok()?),
            pb::MsgCreateCredential::TYPE_URL => {
                amino::fields(&pb::MsgCreateCredential::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgAcceptCredential::TYPE_URL => {
                amino::fields(&pb::MsgAcceptCredential::decode(self.proto.as_slice()).ok()?)
            }
            pb::MsgRevokeCredential::TYPE_URL => {
                amino::fields(&pb::MsgRevokeCredential::decode(self.proto.as_slice()).ok()?)
            }
            _ => return None,
        }?;
        let name = self.type_url.rsplit('.').next()?;
        Some(amino::msg(&format!("paychain/compliance/{name}"), fields))
    }
}
