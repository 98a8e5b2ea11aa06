//! Helpers shared by the end-to-end tests: a `paychaind dev` chain on free
//! loopback ports that is killed on drop, so a failing test leaves nothing running.
#![allow(dead_code)] // each test binary uses a different subset

pub mod cli;
pub mod hermes;
pub mod ibc;
pub mod localnet;
pub mod simd;

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_paychaind");
pub const MIN_GAS_PRICE: &str = "0.01upay";

/// The funded key `paychaind dev` made in `home` (from the mnemonic it keeps there).
pub fn dev_secret(home: &Path) -> secp256k1::SecretKey {
    let mnemonic = std::fs::read_to_string(home.join("dev-mnemonic.txt")).unwrap();
    paychain_client::keyring::derive_private_key(mnemonic.trim(), paychain_client::keyring::DEFAULT_HD_PATH).unwrap()
}

/// False (with a message) when CometBFT is missing outside CI; under CI a
/// missing CometBFT fails the test instead of skipping it.
pub fn cometbft_available(test: &str) -> bool {
    if paychaind::cometbft::require(None).is_ok() {
        return true;
    }
    let msg = "cometbft v0.38.x is not installed (run `make setup`)";
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: {test} must run in CI");
    }
    eprintln!("SKIPPED {test}: {msg}");
    false
}

/// A `paychaind dev` process, SIGKILLed on drop (its CometBFT child dies with
/// it through the parent-death signal), so a failing test leaves nothing running.
pub struct DevNode {
    child: Option<Child>,
    log: PathBuf,
}

impl DevNode {
    pub fn start(home: &Path, ports: &Ports, log_name: &str) -> Self {
        Self::start_with(home, ports, log_name, &[])
    }

    /// [`DevNode::start`] with extra `paychaind dev` flags.
    pub fn start_with(home: &Path, ports: &Ports, log_name: &str, extra: &[&str]) -> Self {
        let log = home.parent().unwrap().join(log_name);
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        // CometBFT's RPC behind the front, unless `extra` says otherwise (`0`: no front).
        let cometbft_rpc = ["--cometbft-rpc-port".to_string(), ports.cometbft_rpc.to_string()];
        let child = clean_command()
            .args(["dev", "--home"])
            .arg(home)
            .args(["--rpc-port", &ports.rpc.to_string()])
            .args(["--p2p-port", &ports.p2p.to_string()])
            .args(["--abci-port", &ports.abci.to_string()])
            .args(["--grpc-port", &ports.grpc.to_string()])
            .args(["--rest-port", &ports.rest.to_string()])
            .args(["--metrics-port", &ports.metrics.to_string()])
            .args(["--timeout-commit", "300ms", "--minimum-gas-prices", MIN_GAS_PRICE])
            .args(extra)
            .args(if extra.contains(&"--cometbft-rpc-port") { &[][..] } else { &cometbft_rpc[..] })
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawning paychaind dev");
        DevNode { child: Some(child), log }
    }

    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Fails the test if the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
            panic!("paychaind dev exited early ({status}); log:\n{}", self.log_tail());
        }
    }

    /// Waits for the process to exit by itself; `None` if it still runs after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The whole log (stdout and stderr of paychaind and its CometBFT).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn sigkill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM; returns the exit status (panics if it does not stop within `within`).
    pub fn sigterm(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        // SAFETY: plain kill(2) on our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("paychaind dev did not stop within {within:?} of SIGTERM; log:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub struct Ports {
    /// The node's RPC: its RPC front, by default, or CometBFT's own with `--cometbft-rpc-port 0`.
    pub rpc: u16,
    pub p2p: u16,
    pub abci: u16,
    pub grpc: u16,
    pub rest: u16,
    pub metrics: u16,
    /// CometBFT's own RPC, behind the node's front.
    pub cometbft_rpc: u16,
}

impl Ports {
    pub fn all(&self) -> [u16; 7] {
        [self.rpc, self.p2p, self.abci, self.grpc, self.rest, self.metrics, self.cometbft_rpc]
    }
}

/// Seven free loopback ports, outside the kernel's ephemeral range (see [`free_port_block`]).
pub fn free_ports() -> Ports {
    let b = free_port_block(7);
    Ports { rpc: b, p2p: b + 1, abci: b + 2, grpc: b + 3, rest: b + 4, metrics: b + 5, cometbft_rpc: b + 6 }
}

/// The kernel's ephemeral port range (`ip_local_port_range`); Linux's default if unreadable.
fn ephemeral_ports() -> (u32, u32) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut range = text.split_whitespace().map(|p| p.parse::<u32>().ok());
    match (range.next().flatten(), range.next().flatten()) {
        (Some(low), Some(high)) if low <= high => (low, high),
        _ => (32768, 60999),
    }
}

/// The first of `span` consecutive free loopback ports, all outside the
/// kernel's ephemeral port range. Tests stop and restart servers on the same
/// ports: while one is down, a port of it inside that range can become the
/// local port of any outgoing connection on the host (a peer's dial, an RPC
/// poll, another test), which then holds it (open or in TIME_WAIT) and the
/// restart fails with "bind: address already in use". Blocks handed out in
/// one test process never overlap (a process-wide cursor); concurrent test
/// processes start their search apart (by pid) and skip ports in use.
pub fn free_port_block(span: u32) -> u16 {
    static CURSOR: std::sync::Mutex<Option<u32>> = std::sync::Mutex::new(None);
    let (eph_low, eph_high) = ephemeral_ports();
    // Below the ephemeral range if there is room, else above it.
    let (low, high) = if eph_low >= 10_000 + 2_000 + span { (10_000, eph_low) } else { (eph_high + 1, 65_536) };
    assert!(high >= low + span + 100, "no room for {span} ports outside the ephemeral range {eph_low}-{eph_high}");
    let slots = (high - low - span) / 100;
    let mut cursor = CURSOR.lock().unwrap_or_else(|p| p.into_inner());
    let mut base = cursor.unwrap_or(low + (std::process::id() % slots) * 100);
    for _ in 0..=slots {
        if base + span > high {
            base = low;
        }
        let all_free = (base..base + span).all(|p| TcpListener::bind(("127.0.0.1", p as u16)).is_ok());
        if all_free {
            *cursor = Some(base + span + 10);
            return base as u16;
        }
        base += span + 100;
    }
    panic!("no {span} free ports in {low}..{high}");
}

/// The binary with no PAYCHAIN_* settings leaking in from the environment.
pub fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("PAYCHAIN_") {
            cmd.env_remove(k);
        }
    }
    cmd
}
