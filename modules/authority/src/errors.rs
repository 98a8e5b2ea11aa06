//! The authority codespace errors.

pub const CODESPACE: &str = "authority";

paychain_framework::codespace_errors! { CODESPACE;
    no_authority = 2, "the chain has no authority";
    unauthorized = 3, "signer is not the chain authority";
    no_pending_authority = 4, "no authority transfer is pending";
    not_pending_authority = 5, "signer is not the proposed authority";
    same_authority = 6, "the proposed authority is already the authority";
    invalid_reason = 7, "invalid reason";
    reference_too_long = 8, "reference too long";
    invalid_reference = 9, "invalid reference";
}
