//! The tx pipeline: decoding and stateless checks ([`decode`]), signatures
//! ([`sign`]), fees ([`fees`]) and the ante checks run before messages ([`ante`]).

pub mod ante;
pub mod decode;
pub mod fees;
pub mod sign;
