//! The assets codespace errors. Logs read `"<detail>: <description>"` as the
//! SDK's `errorsmod.Wrap` formats them. Malformed addresses and amounts use the
//! SDK's root codes (`sdk`/7, `sdk`/10), insufficient funds bank's (`sdk`/5).

pub const CODESPACE: &str = "assets";

paychain_framework::codespace_errors! { CODESPACE;
    token_not_found = 2, "token not found";
    denom_exists = 3, "denom already exists";
    invalid_subunit = 4, "invalid subunit";
    invalid_metadata = 5, "invalid token metadata";
    invalid_feature = 6, "invalid feature";
    feature_disabled = 7, "feature is not enabled for this token";
    invalid_role = 8, "invalid role";
    unauthorized = 9, "signer does not hold the role";
    roles_not_separate = 10, "admin, master minter, freezer and pauser must be different addresses";
    allowance_exceeded = 11, "mint exceeds the minter's allowance";
    max_supply_exceeded = 12, "mint exceeds the token's maximum supply";
    paused = 13, "token is paused";
    account_frozen = 14, "account is frozen for this token";
    not_allowed = 15, "recipient is not on the token's allowlist";
    balance_cap_exceeded = 16, "transfer would exceed the token's balance cap";
    invalid_reason = 17, "invalid reason";
    reference_too_long = 18, "reference too long";
    invalid_amount = 19, "invalid amount";
    module_account = 20, "module accounts are not subject to issuer controls";
    no_pending_admin = 21, "no admin transfer is pending";
    frozen_amount_exceeded = 22, "unfreeze exceeds the frozen amount";
    invalid_transfer_fee = 23, "invalid transfer fee";
    invalid_balance_cap = 24, "invalid balance cap";
    ibc_disabled = 25, "token may not leave the chain over IBC";
    invalid_reference = 26, "invalid reference";
}
