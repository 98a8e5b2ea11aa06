//! The bank codespace errors, with the SDK's codes and descriptions
//! (`x/bank/types/errors.go`). Logs read `"<detail>: <description>"` as
//! `errorsmod.Wrap` formats them.

pub const CODESPACE: &str = "bank";

paychain_framework::codespace_errors! { CODESPACE;
    no_inputs = 2, "no inputs to send transaction";
    no_outputs = 3, "no outputs to send transaction";
    input_output_mismatch = 4, "sum inputs != sum outputs";
    send_disabled = 5, "send transactions are disabled";
    denom_metadata_not_found = 6, "client denom metadata not found";
    invalid_key = 7, "invalid key";
    duplicate_entry = 8, "duplicate entry";
    multiple_senders = 9, "multiple senders not allowed";
}
