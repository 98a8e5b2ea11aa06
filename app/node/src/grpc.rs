//! The gRPC server (default 127.0.0.1:9090): the same handlers as ABCI queries.
// PLACEHOLDER (being written): signature is final.

use std::net::SocketAddr;

use crate::app::App;

/// Binds `addr` and serves gRPC on `runtime`; returns the bound address.
pub fn serve(app: App, addr: SocketAddr, runtime: &tokio::runtime::Handle) -> anyhow::Result<SocketAddr> {
    let _ = (app, runtime);
    Ok(addr)
}
