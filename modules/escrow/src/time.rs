//! Timestamps: the framework's (validity 1970..=9999, ordering against block
//! time, RFC 3339 text as proto3 JSON writes it).

pub use paychain_framework::time::{
    format, format_opt, from_block_time, key, parse, reached, to_block_time, validate, Timestamp, MAX_SECONDS,
    MIN_SECONDS,
};
