//! State layout of the `authority` substore.
//!
//! | key    | value                                   |
//! |--------|-----------------------------------------|
//! | `0x01` | the authority's address bytes           |
//! | `0x02` | the proposed successor's address bytes  |

pub const MODULE_NAME: &str = "authority";
pub const STORE_KEY: &str = "authority";

pub const AUTHORITY_KEY: &[u8] = &[0x01];
pub const PENDING_KEY: &[u8] = &[0x02];
