//! Running CometBFT as a child of the app (`dev`, `start --with-cometbft`), so
//! a node is one process tree: checked against our store before it starts,
//! stopped in order on SIGINT/SIGTERM, and gone with us if we are SIGKILLed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context as _};

use crate::cometbft::CometBft;
use paychain_node::node::RunningNode;

/// SIGINT and SIGTERM, caught (instead of killing us) from creation on.
pub struct ShutdownSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Installs the handlers; call inside a runtime context (`Runtime::enter`).
    pub fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            int: signal(SignalKind::interrupt()).map_err(|e| anyhow!("installing SIGINT handler: {e}"))?,
            term: signal(SignalKind::terminate()).map_err(|e| anyhow!("installing SIGTERM handler: {e}"))?,
        })
    }

    /// Waits for either signal; returns its name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

/// How long CometBFT gets to stop after SIGTERM before SIGKILL.
const CHILD_STOP_GRACE: Duration = Duration::from_secs(10);

/// Checks that CometBFT's stores and the app's describe one history, starts
/// CometBFT on `home`, and waits for a signal (then stops CometBFT, then the
/// app) or for CometBFT to exit (an error: the node cannot run without it).
pub fn run_with_cometbft(
    rt: &tokio::runtime::Runtime,
    signals: &mut ShutdownSignals,
    comet: &CometBft,
    home: &Path,
    node: RunningNode,
) -> anyhow::Result<ExitCode> {
    let (height, app_hash) = node.app.info();
    let db = paychain_node::config::AppConfig::db_path(home);
    let comet_height = rt.block_on(comet.check_history(home, &db, height, &app_hash))?;
    comet.reindex_recent(home, comet_height);

    let mut cmd = comet.start_command(home);
    cmd.stdin(std::process::Stdio::null());
    let outcome = rt.block_on(async {
        // Spawned from the main thread (block_on runs here), which the
        // parent-death signal of the child is tied to.
        let mut child = tokio::process::Command::from(cmd)
            .spawn()
            .with_context(|| format!("starting {} start --home {}", comet.bin.display(), home.display()))?;
        tokio::select! {
            status = child.wait() => Ok::<_, anyhow::Error>(Err(status.context("waiting for cometbft")?)),
            sig = signals.recv() => {
                tracing::info!("received {sig}: stopping CometBFT, then the app");
                stop_child(&mut child).await;
                Ok(Ok(sig))
            }
        }
    })?;
    // Every commit is one atomic write, so stopping the app now is safe.
    drop(node);
    match outcome {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(status) => {
            use std::os::unix::process::ExitStatusExt as _;
            eprintln!("Error: cometbft exited unexpectedly ({status}); see its log above");
            let code = match (status.code(), status.signal()) {
                (Some(c), _) if c != 0 => c,
                (_, Some(sig)) => 128 + sig,
                _ => 1,
            };
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
    }
}

/// SIGTERM, a grace period, then SIGKILL.
pub async fn stop_child(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill with a pid we own and have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    match tokio::time::timeout(CHILD_STOP_GRACE, child.wait()).await {
        Ok(Ok(status)) => tracing::info!("cometbft stopped ({status})"),
        Ok(Err(e)) => tracing::warn!("waiting for cometbft: {e}"),
        Err(_) => {
            tracing::warn!("cometbft did not stop within {} s; killing it", CHILD_STOP_GRACE.as_secs());
            let _ = child.kill().await;
        }
    }
}
