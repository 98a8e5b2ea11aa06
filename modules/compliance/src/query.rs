//! `paychain.compliance.v1.Query` over ABCI / gRPC / REST: bad arguments are
//! InvalidArgument, unknown issuers and credentials NotFound.

use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::keeper::{credential, issuer};
use crate::keys::{self, STORE_KEY};
use crate::pb;

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
}

fn decode_credential(v: &[u8]) -> Result<pb::Credential, QueryError> {
    pb::Credential::decode(v).map_err(|e| QueryError::internal(format!("compliance: corrupt credential: {e}")))
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
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}
