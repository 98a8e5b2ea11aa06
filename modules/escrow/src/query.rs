//! `paychain.escrow.v1.Query` over ABCI / gRPC (the node routes both to
//! `Module::query`): protobuf request bytes in, protobuf response bytes out,
//! errors with the gRPC codes the SDK uses (bad argument = InvalidArgument,
//! unknown escrow = NotFound).

use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use paychain_framework::pagination::paginate;
use paychain_framework::query::{decode_request as decode, parse_address};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::keeper::EscrowKeeper;
use crate::keys::{self, Party, STORE_KEY};
use crate::pb;

macro_rules! paths {
    ($($name:ident = $method:literal;)*) => {
        $(pub const $name: &str = concat!("/paychain.escrow.v1.Query/", $method);)*
        pub const QUERY_PATHS: &[&str] = &[$($name),*];
    };
}

paths! {
    ESCROW = "Escrow";
    ESCROWS_BY_SENDER = "EscrowsBySender";
    ESCROWS_BY_RECIPIENT = "EscrowsByRecipient";
    ESCROWS_BY_ARBITER = "EscrowsByArbiter";
    PARAMS = "Params";
}

/// One page of one party's escrows, in id order (open and closed alike). The
/// page key is the 8-byte big-endian id to resume from.
fn escrows_page(
    keeper: &EscrowKeeper,
    state: &dyn StateRead,
    party: Party,
    address: &str,
    page: Option<&PageRequest>,
) -> Result<(Vec<pb::Escrow>, PageResponse), QueryError> {
    let addr = parse_address(address)?;
    paginate(state, STORE_KEY, &keys::party_prefix(party, &addr), page, |rel, _| {
        let id = keys::id_from_bytes(rel)
            .ok_or_else(|| QueryError::internal(format!("escrow: corrupt index key {}", hex::encode(rel))))?;
        let e = keeper
            .escrow(state, id)?
            .ok_or_else(|| QueryError::internal(format!("escrow: index names missing escrow {id}")))?;
        Ok(Some(e))
    })
}

pub fn query(keeper: &EscrowKeeper, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
    let response = match path {
        ESCROW => {
            let req: pb::QueryEscrowRequest = decode(request)?;
            let escrow = keeper
                .escrow(state, req.id)?
                .ok_or_else(|| QueryError::not_found(format!("escrow {} not found", req.id)))?;
            pb::QueryEscrowResponse { escrow: Some(escrow) }.encode_to_vec()
        }
        ESCROWS_BY_SENDER => {
            let req: pb::QueryEscrowsBySenderRequest = decode(request)?;
            let (escrows, page) = escrows_page(keeper, state, Party::Sender, &req.sender, req.pagination.as_ref())?;
            pb::QueryEscrowsResponse { escrows, pagination: Some(page) }.encode_to_vec()
        }
        ESCROWS_BY_RECIPIENT => {
            let req: pb::QueryEscrowsByRecipientRequest = decode(request)?;
            let (escrows, page) =
                escrows_page(keeper, state, Party::Recipient, &req.recipient, req.pagination.as_ref())?;
            pb::QueryEscrowsResponse { escrows, pagination: Some(page) }.encode_to_vec()
        }
        ESCROWS_BY_ARBITER => {
            let req: pb::QueryEscrowsByArbiterRequest = decode(request)?;
            let (escrows, page) = escrows_page(keeper, state, Party::Arbiter, &req.arbiter, req.pagination.as_ref())?;
            pb::QueryEscrowsResponse { escrows, pagination: Some(page) }.encode_to_vec()
        }
        PARAMS => {
            let _: pb::QueryParamsRequest = decode(request)?;
            pb::QueryParamsResponse { params: Some(keeper.params(state)?) }.encode_to_vec()
        }
        other => return Err(QueryError::unimplemented(format!("unknown query path {other}"))),
    };
    Ok(response)
}
