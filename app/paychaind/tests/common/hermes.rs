//! Driving an unmodified Hermes (the `hermes` binary of `ibc-relayer-cli`
//! 1.11, installed by scripts/setup.sh) against `paychaind dev` chains: the
//! config (written by `paychaind ibc hermes-config`), one-shot commands with
//! a timeout and their captured output, and the relayer process, killed on
//! drop and on the death of the test thread, so Hermes never outlives a test.

use std::cell::RefCell;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `hermes` binary: $HERMES_BIN, else `hermes` on PATH, else ~/.cargo/bin/hermes.
pub fn hermes_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HERMES_BIN") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("hermes"))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/hermes");
        p.is_file().then_some(p)
    })
}

/// `hermes version`'s version when it is 1.11.x.
fn hermes_version(bin: &Path) -> Result<String, String> {
    let out = Command::new(bin).arg("version").output().map_err(|e| format!("running {}: {e}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(1).unwrap_or_default().to_string();
    if version.starts_with("1.11.") {
        Ok(version)
    } else {
        Err(format!("{} reports {:?}, expected 1.11.x", bin.display(), text.trim()))
    }
}

/// False (with a message) when Hermes 1.11 is missing outside CI; under CI a
/// missing Hermes fails the test instead of skipping it (as `cometbft_available`).
pub fn hermes_available(test: &str) -> bool {
    let problem = match hermes_bin() {
        None => "hermes is not installed".to_string(),
        Some(bin) => match hermes_version(&bin) {
            Ok(_) => return true,
            Err(e) => e,
        },
    };
    let msg = format!("{problem} (run `make setup`: cargo install ibc-relayer-cli --locked --version 1.11.0)");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: {test} must run in CI");
    }
    eprintln!("SKIPPED {test}: {msg}");
    false
}

/// Makes the child die (SIGKILL) when the thread that spawned it ends, even
/// if the test process is killed without running destructors.
fn die_with_parent(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// One chain in the Hermes config.
#[derive(Clone, Debug)]
pub struct HermesChain {
    pub id: String,
    pub rpc_port: u16,
    pub grpc_port: u16,
    /// Hermes's default signing key on this chain (`key_name`).
    pub key: String,
    /// `hermes-config`'s extra chain fields (`prefix=..`, `gas-price=..`, `store=..`); empty for paychain.
    pub extra: String,
}

impl HermesChain {
    /// A paychain chain (the config's defaults).
    pub fn paychain(id: &str, rpc_port: u16, grpc_port: u16, key: &str) -> Self {
        HermesChain { id: id.into(), rpc_port, grpc_port, key: key.into(), extra: String::new() }
    }

    /// A Cosmos SDK chain (IAVL store, Hermes's default proof specs).
    pub fn cosmos_sdk(id: &str, rpc_port: u16, grpc_port: u16, key: &str, prefix: &str, gas_price: &str) -> Self {
        let extra = format!(",prefix={prefix},gas-price={gas_price},store=iavl");
        HermesChain { id: id.into(), rpc_port, grpc_port, key: key.into(), extra }
    }
}

/// One `hermes tx ft-transfer`.
pub struct Transfer<'a> {
    pub src: &'a str,
    pub dst: &'a str,
    pub channel: &'a str,
    pub receiver: &'a str,
    pub amount: u128,
    pub denom: &'a str,
    /// e.g. `["--timeout-seconds", "120"]` or `["--timeout-height-offset", "2"]`.
    pub timeout: &'a [&'a str],
    /// Hermes's key on `src` that signs and pays.
    pub key: &'a str,
    pub memo: Option<&'a str>,
}

/// What a one-shot `hermes` command did.
#[derive(Debug)]
pub struct HermesOutput {
    pub cmdline: String,
    /// `None` when it was killed after its timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl HermesOutput {
    /// The final `{"result": ..., "status": "success"|"error"}` line of `--json` output.
    pub fn json(&self) -> Option<Value> {
        self.stdout
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .find(|v| v.get("status").is_some() && v.get("result").is_some())
    }

    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success()) && self.json().is_some_and(|v| v["status"] == "success")
    }

    /// The `result` of a successful command.
    pub fn result(&self) -> Value {
        self.json().map(|v| v["result"].clone()).unwrap_or(Value::Null)
    }

    /// The command, how it ended, and the tails of its output, for failure messages.
    pub fn show(&self) -> String {
        let status = match self.status {
            Some(s) => s.to_string(),
            None => format!("KILLED after {:?} (timeout)", self.elapsed),
        };
        format!(
            "$ {}\n{status} after {:.1?}\n--- result ---\n{}\n--- stdout (last 60 lines) ---\n{}\n--- stderr (last 40 lines) ---\n{}",
            self.cmdline,
            self.elapsed,
            self.json().map(|v| v.to_string()).unwrap_or_else(|| "(no JSON result line)".into()),
            tail(&self.stdout, 60),
            tail(&self.stderr, 40),
        )
    }
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The lines Hermes logged at level ERROR in `dir/<log_name>` (every `hermes start` of a test appends there).
pub fn logged_errors(dir: &Path, log_name: &str) -> Vec<String> {
    let log = std::fs::read_to_string(dir.join(log_name)).unwrap_or_default();
    log.lines().filter(|l| l.contains(" ERROR ")).map(str::to_string).collect()
}

/// Hermes with a config of its own in a test directory (its key store too,
/// so nothing touches ~/.hermes).
pub struct Hermes {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub config: PathBuf,
    runs: AtomicUsize,
}

impl Hermes {
    /// Writes `dir/config.toml` with `paychaind ibc hermes-config` (key store `dir/keys`).
    pub fn new(dir: &Path, chains: &[HermesChain]) -> Self {
        let bin = hermes_bin().expect("hermes binary (check hermes_available first)");
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("config.toml");
        let mut cmd = super::clean_command();
        cmd.args(["ibc", "hermes-config", "--out"]).arg(&config).arg("--key-store").arg(dir.join("keys"));
        cmd.args(["--clear-interval", "5"]);
        // IBC_E2E_HERMES_LOG=debug for Hermes's debug log.
        cmd.args(["--log-level", &std::env::var("IBC_E2E_HERMES_LOG").unwrap_or_else(|_| "info".into())]);
        for c in chains {
            cmd.arg("--chain").arg(format!(
                "id={},rpc=127.0.0.1:{},grpc=127.0.0.1:{},key={}{}",
                c.id, c.rpc_port, c.grpc_port, c.key, c.extra
            ));
        }
        let out = cmd.output().expect("running paychaind ibc hermes-config");
        assert!(
            out.status.success(),
            "paychaind ibc hermes-config failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let hermes = Hermes { bin, dir: dir.to_path_buf(), config, runs: AtomicUsize::new(0) };
        let v = hermes.run(&["config", "validate"], Duration::from_secs(30));
        assert!(v.success(), "hermes rejects the config {}:\n{}", hermes.config.display(), v.show());
        hermes
    }

    /// `hermes --config <config> --json` (output to files: `run` reads them).
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(&self.config).arg("--json").args(args);
        // Neither Hermes's own RUST_LOG nor a colour setting from the outside.
        cmd.env_remove("RUST_LOG").env("NO_COLOR", "1").stdin(Stdio::null());
        die_with_parent(&mut cmd);
        cmd
    }

    /// Runs `hermes <args>`, killing it after `timeout`; never panics.
    pub fn run(&self, args: &[&str], timeout: Duration) -> HermesOutput {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let (out_path, err_path) = (self.dir.join(format!("cmd-{n}.out")), self.dir.join(format!("cmd-{n}.err")));
        let mut cmd = self.command(args);
        cmd.stdout(std::fs::File::create(&out_path).unwrap()).stderr(std::fs::File::create(&err_path).unwrap());
        let cmdline = format!("hermes --config {} --json {}", self.config.display(), args.join(" "));
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {cmdline}: {e}"));
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        HermesOutput {
            cmdline,
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed: started.elapsed(),
        }
    }

    /// [`Hermes::run`], panicking with the output (and `context`, e.g. node log tails) unless it succeeded.
    pub fn run_ok(&self, args: &[&str], timeout: Duration, context: &dyn Fn() -> String) -> Value {
        let out = self.run(args, timeout);
        if !out.success() {
            panic!("hermes command failed:\n{}\n{}", out.show(), context());
        }
        out.result()
    }

    /// `hermes keys add --chain <chain> --key-name <name> --mnemonic-file <file> --overwrite`.
    pub fn add_key(&self, chain: &str, key_name: &str, mnemonic_file: &Path) {
        let file = mnemonic_file.to_str().unwrap();
        let out = self.run(
            &["keys", "add", "--chain", chain, "--key-name", key_name, "--mnemonic-file", file, "--overwrite"],
            Duration::from_secs(30),
        );
        assert!(out.success(), "adding key {key_name} for {chain} to hermes:\n{}", out.show());
    }

    /// `hermes tx ft-transfer` of `t`; panics (with `context()`) unless it succeeded.
    pub fn ft_transfer(&self, t: &Transfer, context: &dyn Fn() -> String) -> Value {
        let amount = t.amount.to_string();
        let mut args = vec![
            "tx",
            "ft-transfer",
            "--dst-chain",
            t.dst,
            "--src-chain",
            t.src,
            "--src-port",
            "transfer",
            "--src-channel",
            t.channel,
            "--amount",
            &amount,
            "--denom",
            t.denom,
            "--receiver",
            t.receiver,
            "--key-name",
            t.key,
        ];
        args.extend_from_slice(t.timeout);
        if let Some(memo) = t.memo {
            args.extend_from_slice(&["--memo", memo]);
        }
        let res = self.run_ok(&args, Duration::from_secs(120), context);
        let mut line = res.to_string();
        line.truncate(line.char_indices().nth(300).map_or(line.len(), |(i, _)| i));
        eprintln!("   ft-transfer {amount}{} {} → {} over {}: {line}", t.denom, t.src, t.dst, t.channel);
        res
    }

    /// `Some(())` when `hermes query packet pending` shows nothing pending either way on `chain`'s `channel`.
    pub fn nothing_pending(&self, chain: &str, channel: &str, context: &dyn Fn() -> String) -> Option<()> {
        let out = self.run(
            &["query", "packet", "pending", "--chain", chain, "--port", "transfer", "--channel", channel],
            Duration::from_secs(120),
        );
        if !out.success() {
            panic!("hermes query packet pending:\n{}{}", out.show(), context());
        }
        let r = out.result();
        let empty = |v: &Value| v.as_array().is_none_or(|x| x.is_empty());
        (empty(&r["src"]["unreceived_packets"])
            && empty(&r["src"]["unreceived_acks"])
            && empty(&r["dst"]["unreceived_packets"])
            && empty(&r["dst"]["unreceived_acks"]))
        .then_some(())
    }

    /// `hermes start` in the background, logging to `dir/<log_name>` (appended).
    pub fn start(&self, log_name: &str) -> Relayer {
        let log = self.dir.join(log_name);
        let f = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(&self.config).arg("start");
        cmd.env_remove("RUST_LOG").env("NO_COLOR", "1").stdin(Stdio::null());
        cmd.stdout(f.try_clone().unwrap()).stderr(f);
        die_with_parent(&mut cmd);
        let start_offset = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let child = cmd.spawn().expect("spawning hermes start");
        let relayer = Relayer { child: RefCell::new(Some(child)), log, start_offset };
        relayer.wait_started(Duration::from_secs(60));
        relayer
    }
}

/// A running `hermes start`; SIGKILLed on drop.
pub struct Relayer {
    /// In a RefCell so `assert_running` works through `&self` (failure messages borrow the relayer too).
    child: RefCell<Option<Child>>,
    log: PathBuf,
    start_offset: u64,
}

impl Relayer {
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `n` lines this relayer run logged.
    pub fn log_tail(&self, n: usize) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        let mine = &all[(self.start_offset as usize).min(all.len())..];
        tail(&String::from_utf8_lossy(mine), n)
    }

    /// Waits until Hermes logs "Hermes has started": its event subscriptions are then in place.
    /// Hermes spawns packet workers only for packets pending at its start-up scan and for
    /// events it receives, so a packet sent between the scan and the subscription would
    /// wait for the next restart; tests must not send before this.
    fn wait_started(&self, within: Duration) {
        let started = Instant::now();
        loop {
            let all = std::fs::read(&self.log).unwrap_or_default();
            let mine = String::from_utf8_lossy(&all[(self.start_offset as usize).min(all.len())..]).into_owned();
            if mine.contains("Hermes has started") {
                return;
            }
            self.assert_running();
            if started.elapsed() > within {
                panic!("hermes start did not start within {within:?}; log:\n{}", self.log_tail(80));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails the test if Hermes has exited.
    pub fn assert_running(&self) {
        let status = self.child.borrow_mut().as_mut().and_then(|c| c.try_wait().unwrap());
        if let Some(status) = status {
            panic!("hermes start exited ({status}); log:\n{}", self.log_tail(80));
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after 5 s.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        let Some(mut child) = self.child.get_mut().take() else { return };
        // SAFETY: plain kill(2) on our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Relayer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.get_mut().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
