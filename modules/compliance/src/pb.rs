//! The generated protobuf types of `paychain.compliance.v1` (see `build.rs`).
#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/paychain.compliance.v1.rs"));
include!(concat!(env!("OUT_DIR"), "/paychain.compliance.v1.serde.rs"));
include!(concat!(env!("OUT_DIR"), "/type_urls.rs"));
