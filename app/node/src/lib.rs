//! paychaind: the paychain node (ABCI app, tx pipeline, queries) and its CLI.

pub mod abci;
pub mod app;
pub mod cli;
pub mod client;
pub mod cometbft;
pub mod config;
pub mod genesis;
pub mod grpc;
pub mod keyring;
pub mod localnet;
pub mod metrics;
pub mod node;
pub mod query;
pub mod rest;
pub mod services;
pub mod snapshot;
pub mod tx;
