//! The fees codespace errors.

pub const CODESPACE: &str = "fees";

paychain_framework::codespace_errors! { CODESPACE;
    invalid_fee_token = 2, "invalid fee token";
    no_base_denom = 3, "the chain has no base fee denom";
    invalid_reason = 4, "invalid reason";
    reference_too_long = 5, "reference too long";
    invalid_reference = 6, "invalid reference";
}
