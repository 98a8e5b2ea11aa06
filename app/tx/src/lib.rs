//! Transactions as both sides of the wire see them: the chain decodes and
//! verifies with this crate, the client builds and signs with it, so the sign
//! bytes cannot drift apart.

pub mod amino;
pub mod build;
pub mod decode;
pub mod fees;
pub mod multisig;
pub mod sign;
pub mod sign_mode;
