//! Stopping a load run cleanly on SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::bail;

/// Set by the first SIGINT or SIGTERM: the run stops at its next check and cleans up (stops the
/// validator it started, removes its temporary home) instead of dying on the spot. A second
/// signal exits at once.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn install_interrupt_handlers(runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let _context = runtime.enter();
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    runtime.spawn(async move {
        for _ in 0..2 {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if INTERRUPTED.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            eprintln!("interrupted: stopping (again to exit at once)");
        }
    });
    Ok(())
}

/// Fails once the run was interrupted.
pub fn check_interrupted() -> anyhow::Result<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

/// Whether the run was interrupted.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
