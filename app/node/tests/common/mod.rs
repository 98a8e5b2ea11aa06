//! Helpers shared by the in-process tests of the node (no CometBFT).
#![allow(dead_code)] // each test binary uses a different subset

pub mod accounts;
