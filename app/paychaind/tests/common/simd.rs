//! A real ibc-go v8 chain for the interop tests: `simd` of ibc-go's simapp
//! (Cosmos SDK v0.50, CometBFT in process), built by scripts/setup.sh into
//! `.cache/bin/simd` from tools/simd's pins. One validator on free loopback
//! ports, SIGKILLed on drop and on the death of the test thread.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::runtime::Runtime;

use super::ibc::GrpcChain;

pub const DENOM: &str = "stake";
pub const PREFIX: &str = "cosmos";
/// What each genesis account of [`SimdNode::start`] holds.
pub const GENESIS_BALANCE: u128 = 10_000_000_000_000_000;
/// The validator's self-delegation (above simapp's power reduction).
const SELF_DELEGATION: u128 = 100_000_000_000_000;

/// The `simd` binary: $SIMD_BIN, else `.cache/bin/simd` of this checkout.
pub fn simd_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SIMD_BIN") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/bin/simd");
    p.is_file().then_some(p)
}

/// False (with a message) when simd is missing outside CI; under CI a missing
/// simd fails the test instead of skipping it.
pub fn simd_available(test: &str) -> bool {
    if simd_bin().is_some() {
        return true;
    }
    let msg = "simd (ibc-go v8 simapp) is not built (run `make setup`: scripts/setup.sh builds .cache/bin/simd)";
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: {test} must run in CI");
    }
    eprintln!("SKIPPED {test}: {msg}");
    false
}

pub struct SimdPorts {
    pub rpc: u16,
    pub p2p: u16,
    pub grpc: u16,
    pub api: u16,
    pub abci: u16,
}

/// A single-validator simd chain.
pub struct SimdNode {
    pub id: String,
    pub home: PathBuf,
    pub ports: SimdPorts,
    pub q: GrpcChain,
    child: Option<Child>,
    log: PathBuf,
}

impl std::ops::Deref for SimdNode {
    type Target = GrpcChain;
    fn deref(&self) -> &GrpcChain {
        &self.q
    }
}

/// `simd <args>` with the home and a test keyring; panics with its output unless it succeeds.
fn simd(home: &Path, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let bin = simd_bin().expect("simd binary (check simd_available first)");
    let mut cmd = Command::new(&bin);
    cmd.args(args).arg("--home").arg(home);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "simd {}: {}\nstdout: {stdout}\nstderr: {stderr}", args.join(" "), out.status);
    stdout.into_owned()
}

impl SimdNode {
    /// Initialises `root/<chain_id>` (the validator's key from `validator_mnemonic`,
    /// `GENESIS_BALANCE` stake for it and for each of `funded`), and starts it.
    pub fn start(rt: &Runtime, root: &Path, chain_id: &str, validator_mnemonic: &str, funded: &[&str]) -> Self {
        let home = root.join(chain_id);
        let h = home.as_path();
        simd(h, &["init", "validator", "--chain-id", chain_id, "--default-denom", DENOM], None);
        simd(
            h,
            &["keys", "add", "validator", "--recover", "--keyring-backend", "test"],
            Some(&format!("{validator_mnemonic}\n")),
        );
        let validator =
            simd(h, &["keys", "show", "validator", "-a", "--keyring-backend", "test"], None).trim().to_string();
        let balance = format!("{GENESIS_BALANCE}{DENOM}");
        for addr in std::iter::once(validator.as_str()).chain(funded.iter().copied()) {
            simd(h, &["genesis", "add-genesis-account", addr, &balance], None);
        }
        let stake = format!("{SELF_DELEGATION}{DENOM}");
        simd(h, &["genesis", "gentx", "validator", &stake, "--chain-id", chain_id, "--keyring-backend", "test"], None);
        simd(h, &["genesis", "collect-gentxs"], None);
        // Blocks every ~0.5 s like our dev chains (simapp's default waits 5 s).
        let config = home.join("config/config.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains("timeout_commit = \"5s\""), "simd's config.toml changed shape: {}", config.display());
        std::fs::write(&config, text.replace("timeout_commit = \"5s\"", "timeout_commit = \"500ms\"")).unwrap();

        let b = super::free_port_block(5);
        let ports = SimdPorts { rpc: b, p2p: b + 1, grpc: b + 2, api: b + 3, abci: b + 4 };
        let log = root.join(format!("{chain_id}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(simd_bin().unwrap());
        cmd.arg("start")
            .arg("--home")
            .arg(&home)
            .args(["--rpc.laddr", &format!("tcp://127.0.0.1:{}", ports.rpc)])
            .args(["--p2p.laddr", &format!("tcp://127.0.0.1:{}", ports.p2p)])
            .args(["--grpc.address", &format!("127.0.0.1:{}", ports.grpc)])
            .args(["--api.enable", "--api.address", &format!("tcp://127.0.0.1:{}", ports.api)])
            .args(["--address", &format!("tcp://127.0.0.1:{}", ports.abci)])
            .args(["--rpc.pprof_laddr", "", "--minimum-gas-prices", &format!("0.001{DENOM}"), "--log_no_color"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawning simd start");
        let node = SimdNode {
            id: chain_id.to_string(),
            q: GrpcChain::new(rt, chain_id, ports.grpc),
            home,
            ports,
            child: Some(child),
            log,
        };
        node.wait_height(rt, 2, Duration::from_secs(120));
        node
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        super::hermes::tail(&text, 60)
    }

    /// Fails the test if simd has exited.
    pub fn assert_running(&self) {
        // try_wait needs &mut; the child is only reaped on drop, so a shared check via kill(pid, 0).
        let pid = self.child.as_ref().map(|c| c.id() as i32).unwrap();
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid);
        assert!(alive, "simd ({}) exited; log:\n{}", self.id, self.log_tail());
    }

    /// Waits until the chain is at height `h` or more (failing if simd died).
    pub fn wait_height(&self, rt: &Runtime, h: i64, within: Duration) {
        self.q.wait_height(rt, h, within, &|| self.assert_running(), &|| self.log_tail());
    }
}

/// True when `/proc/<pid>/stat` says the process has exited but is not reaped yet.
fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

impl Drop for SimdNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
