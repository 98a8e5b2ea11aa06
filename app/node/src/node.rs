//! Starting the app: open the store, build the app, serve ABCI.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;

use crate::abci::AbciApp;
use crate::config::AppConfig;
use crate::disk::{check_free_disk, store_failure_advice, StopCause};
use crate::served::ServedApp;

/// A running app serving ABCI on `abci_addr`. Dropping it does not stop the
/// server threads; the process exit does (every commit is atomic, so exiting
/// at any instant is safe).
pub struct RunningNode {
    pub abci_addr: SocketAddr,
    pub grpc_addr: Option<SocketAddr>,
    pub rest_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    /// The RPC front (`tx`/`tx_search` from the node's index, the rest CometBFT's).
    pub rpc_addr: Option<SocketAddr>,
    pub app: ServedApp,
    /// Runs the gRPC, REST and metrics servers; dropped with the node.
    _runtime: tokio::runtime::Runtime,
}

/// Opens `<home>/data/application.db` and serves ABCI on
/// `config.abci_address` in background threads. Returns once the listener is bound.
pub fn start(home: &Path, config: &AppConfig) -> anyhow::Result<RunningNode> {
    config.validate()?;
    // Before the state loads (seconds on a large store), so a bad risk setting fails at once.
    let risk = crate::risk::RiskScreener::from_config(config, home)?.map(std::sync::Arc::new);
    // As PostgreSQL does: with SIGXFSZ ignored, a file size limit (`ulimit -f`)
    // fails the write with EFBIG, which stops the node with a message, instead
    // of the signal killing it without one.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let db_path = AppConfig::db_path(home);
    std::fs::create_dir_all(&db_path).with_context(|| format!("creating {}", db_path.display()))?;
    check_free_disk(&db_path, config.min_free_disk_mb).map_err(|low| {
        let advice = store_failure_advice(&db_path, &StopCause::LowDisk(&low), None).unwrap_or_default();
        anyhow::anyhow!("cannot start: {low}{advice}")
    })?;
    let app = ServedApp::open(&db_path, config.clone()).map_err(|e| {
        let advice = store_failure_advice(&db_path, &StopCause::App(&e), None).unwrap_or_default();
        anyhow::anyhow!("cannot open the state store at {}: {e}{advice}", db_path.display())
    })?;
    let (height, app_hash) = app.info();
    tracing::info!(height, app_hash = %hex::encode_upper(&app_hash), chain_id = %app.chain_id(), "state loaded");

    let server = crate::abci_server::AbciServer::bind(config.abci_address, AbciApp::with_risk(app.clone(), risk))
        .map_err(|e| anyhow::anyhow!("cannot listen for ABCI on {}: {e}", config.abci_address))?;
    let abci_addr: SocketAddr = server.local_addr().context("ABCI listener address")?;
    std::thread::Builder::new().name("abci-accept".into()).spawn(move || {
        if let Err(e) = server.listen() {
            tracing::error!("ABCI server stopped: {e}");
            std::process::exit(crate::abci::EXIT_NODE_FAILURE);
        }
    })?;
    tracing::info!(%abci_addr, "serving ABCI");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("paychaind-api")
        .enable_all()
        .build()
        .context("starting the gRPC/REST runtime")?;
    let grpc_addr = match config.grpc_socket()? {
        Some(addr) => Some(crate::grpc::serve(app.clone(), addr, runtime.handle())?),
        None => None,
    };
    let rest_addr = match config.rest_socket()? {
        Some(addr) => Some(crate::rest::serve(app.clone(), addr, runtime.handle())?),
        None => None,
    };
    let metrics_addr = match config.metrics_socket()? {
        Some(addr) => Some(crate::metrics::serve(app.clone(), db_path.clone(), addr, runtime.handle())?),
        None => None,
    };
    let rpc_addr = match config.rpc_front_socket()? {
        Some(addr) => Some(crate::rpc_front::serve(app.clone(), addr, runtime.handle())?),
        None => None,
    };
    Ok(RunningNode { abci_addr, grpc_addr, rest_addr, metrics_addr, rpc_addr, app, _runtime: runtime })
}
