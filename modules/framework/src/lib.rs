//! The contract between the paychain app and its modules.
//!
//! Modules see state only through [`state::StateRead`] / [`context::Context`],
//! report failures as [`error::SdkError`] (codespace + code, as the Cosmos SDK),
//! and plug into the app through [`module::Module`]. Nothing here touches
//! RocksDB or ABCI: unit tests of a module run over [`state::CacheState::in_memory`].

pub mod address;
pub mod amino;
mod bech32_fast;
pub mod coins;
pub mod context;
pub mod decimal;
pub mod error;
pub mod events;
pub mod gas;
pub mod json;
pub mod module;
pub mod note;
pub mod pagination;
pub mod proto_json;
pub mod query;
pub mod rest;
pub mod set_digest;
pub mod state;
pub mod testing;
pub mod time;
pub mod type_url;

pub use address::Address;
pub use coins::{Coin, Coins};
pub use context::{BlockHeader, BlockInfo, BlockTime, Context, ExecMode};
pub use error::{sdk, GrpcCode, QueryError, SdkError};
pub use events::{Event, EventAttribute};
pub use gas::{Gas, GasMeter};
pub use module::{Module, Msg, MsgResponse};
pub use proto_json::{AnyType, AnyTypes};
pub use rest::RestRoute;
pub use set_digest::SetDigest;
pub use state::{CacheState, IndexedWrites, StateRead, StateWrite, Writes};
pub use type_url::TypeUrl;
