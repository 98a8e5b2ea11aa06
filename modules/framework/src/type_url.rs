//! Type URLs of protobuf messages.

/// A protobuf message's type URL (`/package.Message`). Module crates generate
/// these impls from their `.proto` files in `build.rs`, so a type URL is
/// written nowhere by hand.
pub trait TypeUrl {
    const TYPE_URL: &'static str;
}
