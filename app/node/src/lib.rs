//! The paychain node around the state machine: the ABCI adapter CometBFT v0.38
//! drives, the query router, the gRPC and REST servers, the services backed by
//! CometBFT's RPC, Prometheus metrics, app.toml and disk-health checks.

pub mod abci;
pub mod abci_server;
pub mod config;
pub mod disk;
pub mod events;
pub mod grpc;
pub mod metrics;
pub mod node;
pub mod query;
pub mod rest;
pub mod risk;
pub mod rpc_front;
pub mod served;
pub mod services;
pub mod tx_index;
