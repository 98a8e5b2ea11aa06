//! The escrow codespace errors. Logs read `"<detail>: <description>"` as the
//! SDK's `errorsmod.Wrap` formats them. Malformed addresses and coins use the
//! SDK's root codes (`sdk`/7, `sdk`/10) as every SDK module does; insufficient
//! funds and disabled denoms are bank's own errors (`sdk`/5, `bank`/5).

pub const CODESPACE: &str = "escrow";

paychain_framework::codespace_errors! { CODESPACE;
    escrow_not_found = 2, "escrow not found";
    escrow_closed = 3, "escrow is closed";
    same_sender_recipient = 4, "sender and recipient must differ";
    invalid_hash_lock = 5, "invalid hash lock";
    invalid_arbiters = 6, "invalid arbiters";
    too_many_arbiters = 7, "too many arbiters";
    invalid_threshold = 8, "invalid threshold";
    invalid_reference = 9, "invalid reference";
    reference_too_long = 10, "reference too long";
    invalid_timestamp = 11, "invalid timestamp";
    invalid_deadline = 12, "invalid refund deadline";
    too_many_coins = 13, "too many denominations";
    time_locked = 14, "escrow is time-locked";
    refund_not_due = 15, "refund deadline not reached";
    no_deadline = 16, "escrow has no refund deadline";
    invalid_secret = 17, "invalid secret";
    wrong_secret = 18, "secret does not match the hash lock";
    not_arbiter = 19, "signer is not an arbiter of the escrow";
    already_voted = 20, "arbiter has already voted";
    invalid_decision = 21, "invalid decision";
    exceeds_remaining = 22, "amount exceeds what the escrow holds";
    unauthorized = 23, "unauthorized";
    expired = 24, "escrow has expired";
}
