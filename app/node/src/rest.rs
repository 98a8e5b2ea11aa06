//! The REST server (default 127.0.0.1:1317): the SDK's LCD paths in proto3 JSON.
// PLACEHOLDER (being written): signature is final.

use std::net::SocketAddr;

use crate::app::App;

/// Binds `addr` and serves REST on `runtime`; returns the bound address.
pub fn serve(app: App, addr: SocketAddr, runtime: &tokio::runtime::Handle) -> anyhow::Result<SocketAddr> {
    let _ = (app, runtime);
    Ok(addr)
}
