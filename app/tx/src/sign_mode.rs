//! The sign modes paychain verifies (`cosmos.tx.signing.v1beta1.SignMode`).
//! A file of their own: decoding and multisig verification both use them.

pub const SIGN_MODE_UNSPECIFIED: i32 = 0;
pub const SIGN_MODE_DIRECT: i32 = 1;
pub const SIGN_MODE_LEGACY_AMINO_JSON: i32 = 127;
