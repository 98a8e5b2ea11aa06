//! The Cosmos SDK side of a side-by-side run: a single `simd` validator (ibc-go v8.8.0's simapp
//! on Cosmos SDK v0.50, CometBFT v0.38 in its process; built by scripts/setup.sh from
//! tools/simd's pins) started with the same CometBFT settings as the paychain validator and the
//! same load accounts funded at genesis. simd runs as shipped (its app-side mempool off, IAVL
//! with its default cache and pruning); only its gRPC server is off, as paychain's is.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{ensure, Context as _};
use paychaind::cometbft::{self, ConfigPatch};

use super::chain::ChainFormat;
use super::target::{free_ports, CometSettings, ConfigOverride, NodeProcess, SpawnOptions};
use paychain_bench_app::accounts::{fund_in_app_state, next_account_number, Account};

/// Chain id of the simd validator the benchmark starts.
pub const SIMD_CHAIN_ID: &str = "simd-bench-load-1";
/// The validator's own account and its self-delegation (above simapp's power reduction, 10^6).
const VALIDATOR_BALANCE: &str = "100000000000000000000stake";
const SELF_DELEGATION: &str = "100000000000000stake";
/// simd refuses to start without a minimum gas price; below the load's (5,000 / 200,000 gas).
const MINIMUM_GAS_PRICES: &str = "0.001stake";
/// As the paychain validator's CometBFT: startup and one line per block, errors otherwise.
const LOG_LEVEL: &str = "main:info,state:info,*:error";

/// `$SIMD_BIN`, else `.cache/bin/simd` of this checkout (where `make setup` builds it).
pub fn default_simd_bin() -> PathBuf {
    std::env::var_os("SIMD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/bin/simd"))
}

/// A single simd validator on free loopback ports; stopped when dropped, SIGKILLed if this
/// process dies first.
pub struct SpawnedSimd {
    pub home: PathBuf,
    pub rpc_url: String,
    pub settings: CometSettings,
    process: NodeProcess,
    _tmp: Option<tempfile::TempDir>,
}

impl SpawnedSimd {
    /// Writes a home whose genesis funds `accounts` with `opts.funds` (in `stake`; account
    /// numbers `first..`, returned) and
    /// starts simd; returns once it has committed block 1. Call from the main thread (see
    /// [`cometbft::die_with_parent`]).
    pub fn start(bin: &Path, opts: &SpawnOptions, accounts: &[Account]) -> anyhow::Result<(Self, u64)> {
        ensure!(
            bin.is_file(),
            "simd is not at {} (run `make setup`, which builds .cache/bin/simd, or set SIMD_BIN)",
            bin.display()
        );
        let chain = ChainFormat::simd();
        let (tmp, home) =
            paychain_bench_app::work_dir::work_dir(opts.home.as_deref(), "--home", "paychain-bench-simd", "home")?;
        let run = |args: &[&str]| run_simd(bin, &home, args);
        run(&["init", "paychain-bench", "--chain-id", SIMD_CHAIN_ID, "--default-denom", &chain.denom])?;
        run(&["keys", "add", "validator", "--keyring-backend", "test"])?;
        run(&["genesis", "add-genesis-account", "validator", VALIDATOR_BALANCE, "--keyring-backend", "test"])?;
        run(&[
            "genesis",
            "gentx",
            "validator",
            SELF_DELEGATION,
            "--chain-id",
            SIMD_CHAIN_ID,
            "--keyring-backend",
            "test",
        ])?;
        run(&["genesis", "collect-gentxs"])?;

        let genesis_path = cometbft::genesis_path(&home);
        let mut genesis = paychaind::genesis_file::read_genesis(&genesis_path)?;
        let first_number = next_account_number(&genesis["app_state"]);
        fund_in_app_state(&mut genesis["app_state"], accounts, first_number, &opts.funds, &chain.prefix);
        let block = &mut genesis["consensus"]["params"]["block"];
        ensure!(block.is_object(), "simd's genesis has no consensus.params.block (its layout changed)");
        block["max_bytes"] = opts.max_block_bytes.to_string().into();
        paychaind::genesis_file::write_genesis(&genesis_path, &genesis)?;
        drop(genesis);
        run(&["genesis", "validate"]).context("the benchmark's simd genesis does not validate")?;

        let ports = free_ports(2)?;
        let loopback = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let rpc_url = format!("http://{}", loopback(ports[0]));
        cometbft::patch_config_file(
            &home,
            &ConfigPatch {
                rpc_laddr: Some(format!("tcp://{}", loopback(ports[0]))),
                p2p_laddr: Some(format!("tcp://{}", loopback(ports[1]))),
                timeout_commit: Some(opts.timeout_commit.clone()),
                mempool_size: Some(opts.mempool_size),
                extra: std::iter::once(("tx_index".into(), "indexer".into(), opts.tx_index.as_str().into()))
                    .chain(opts.overrides.iter().map(ConfigOverride::to_patch))
                    .collect(),
                ..Default::default()
            },
        )?;
        let mut settings = CometSettings::read(&home)?;
        settings.overrides = opts.overrides.iter().map(ToString::to_string).collect();

        let mut cmd = Command::new(bin);
        cmd.arg("start").arg("--home").arg(&home);
        cmd.args(["--grpc.enable=false", "--rpc.pprof_laddr", "", "--minimum-gas-prices", MINIMUM_GAS_PRICES]);
        cmd.args(["--log_level", LOG_LEVEL, "--log_no_color"]);
        cmd.process_group(0);
        cometbft::die_with_parent(&mut cmd);
        let mut process = NodeProcess::spawn("simd", cmd, home.join("simd.log"))?;
        process.wait_first_block(&rpc_url)?;
        Ok((Self { home, rpc_url, settings, process, _tmp: tmp }, first_number))
    }

    /// simd's process (CometBFT runs inside it).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        self.process.ensure_running()
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// `simd <args> --home <home>`, failing with its output unless it succeeds.
fn run_simd(bin: &Path, home: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .args(args)
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} {}", bin.display(), args.join(" ")))?;
    ensure!(
        out.status.success(),
        "simd {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
