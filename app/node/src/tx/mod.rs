//! The tx pipeline: decoding and stateless checks ([`decode`]), signatures
//! ([`sign`], amino JSON sign docs in [`amino`]), fees ([`fees`]) and the ante checks run before messages ([`ante`]).

pub mod amino;
pub mod ante;
pub mod decode;
pub mod fees;
pub mod sign;
