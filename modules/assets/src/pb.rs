//! The generated protobuf types of `paychain.assets.v1` (see `build.rs`).
//!
//! A file of its own rather than an inline module of `lib.rs`: every other file
//! uses these types, and `lib.rs` uses every other file.
#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/paychain.assets.v1.rs"));
include!(concat!(env!("OUT_DIR"), "/paychain.assets.v1.serde.rs"));
include!(concat!(env!("OUT_DIR"), "/type_urls.rs"));
