//! `paychain-risk-service`: the reference risk service (see the library's docs).
//!
//! ```sh
//! paychain-risk-service --listen 127.0.0.1:7070 --refuse-sender pay1... --refuse-above 1000000
//! ```

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use paychain_risk_service::{Rules, Service};

/// A risk service for paychain nodes (app.toml `risk_service_url = "http://ADDR/screen"`):
/// refuses txs by sender or amount, answers allow otherwise.
#[derive(Parser, Debug)]
#[command(name = "paychain-risk-service", version)]
struct Args {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// Refuse txs signed by, paid by or sending from this address (repeatable)
    #[arg(long = "refuse-sender", value_name = "ADDRESS")]
    refuse_senders: Vec<String>,
    /// Refuse txs moving more than this amount of any coin
    #[arg(long, value_name = "AMOUNT")]
    refuse_above: Option<u128>,
    /// Answer this many milliseconds late
    #[arg(long, default_value_t = 0, value_name = "MS")]
    delay_ms: u64,
    /// Answer every screening request with HTTP 500
    #[arg(long)]
    fail: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rules = Rules {
        refuse_senders: args.refuse_senders,
        refuse_above: args.refuse_above,
        delay: Duration::from_millis(args.delay_ms),
        fail: args.fail,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    // The bound address (port 0 picks one), on stdout for whoever started us.
    let mut out = std::io::stdout();
    writeln!(out, "listening on http://{}/screen", listener.local_addr()?)?;
    out.flush()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    paychain_risk_service::serve(listener, Service::new(rules, true), shutdown).await?;
    Ok(())
}
