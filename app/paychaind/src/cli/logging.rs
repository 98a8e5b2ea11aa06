//! The log subscriber of the long-running commands (`start`, `dev`).

/// Installs the log subscriber (stderr). `level` is a tracing filter such as `info` or `paychaind=debug,info`.
pub fn init_tracing(level: &str, format: paychain_node::config::LogFormat) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("invalid log level {level:?}: {e}"))?;
    use std::io::IsTerminal as _;
    // Colour codes only for a terminal, not for log files and collectors.
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        paychain_node::config::LogFormat::Text => fmt.try_init().ok(),
        // Event fields at the top level, as log shippers expect (`{"timestamp","level","message",...}`).
        paychain_node::config::LogFormat::Json => fmt.json().flatten_event(true).try_init().ok(),
    };
    Ok(())
}
