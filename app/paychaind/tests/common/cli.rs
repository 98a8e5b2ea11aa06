//! Running `paychaind` commands from a test: output, success, JSON.

use std::fmt::Debug;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{clean_command, DevNode};

pub fn run<S: AsRef<str> + Debug>(args: &[S]) -> Output {
    clean_command().args(args.iter().map(AsRef::as_ref)).stdin(Stdio::null()).output().expect("running paychaind")
}

pub fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Stdout of a command that must succeed.
pub fn ok<S: AsRef<str> + Debug>(args: &[S]) -> String {
    let o = run(args);
    assert!(o.status.success(), "paychaind {args:?} failed: {}", show(&o));
    String::from_utf8(o.stdout).unwrap()
}

pub fn json_ok<S: AsRef<str> + Debug>(args: &[S]) -> Value {
    let out = ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("paychaind {args:?}: bad JSON ({e}): {out}"))
}

/// Polls `f` until it answers, while the node keeps running.
pub fn wait_for<T>(what: &str, dev: &mut DevNode, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        dev.assert_running();
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", dev.log_tail());
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Wallet commands against one dev node: the home's test keyring, `--node`, and
/// for txs a fixed fee and gas, `--yes --wait -o json`.
pub struct Wallet {
    pub home: String,
    pub node: String,
}

impl Wallet {
    /// `args` with the home and test keyring.
    pub fn cmd(&self, args: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--home", &self.home, "--keyring-backend", "test"].map(String::from));
        a
    }

    /// A tx, signed and waited for: whether the command succeeded, and the TxResponse.
    pub fn tx(&self, args: &[&str]) -> (bool, Value) {
        let mut a = self.cmd(args);
        a.extend(
            ["--fees", "5000upay", "--gas", "400000", "--node", &self.node, "--yes", "--wait", "-o", "json"]
                .map(String::from),
        );
        let o = run(&a);
        let v =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}) from {args:?}: {}", show(&o)));
        (o.status.success(), v)
    }

    pub fn tx_ok(&self, args: &[&str]) -> Value {
        let (ok, v) = self.tx(args);
        assert!(ok && v["code"] == 0, "{args:?}: {v}");
        v
    }

    /// A tx that must fail with `codespace`/`code`.
    pub fn tx_refused(&self, args: &[&str], codespace: &str, code: u64) -> Value {
        let (ok, v) = self.tx(args);
        assert!(!ok, "{args:?} should fail: {v}");
        assert_eq!((v["codespace"].as_str(), v["code"].as_u64()), (Some(codespace), Some(code)), "{args:?}: {v}");
        v
    }

    /// A query's JSON.
    pub fn query(&self, args: &[&str]) -> Value {
        let mut a: Vec<String> = std::iter::once("query").chain(args.iter().copied()).map(String::from).collect();
        a.extend(["--node", &self.node, "-o", "json"].map(String::from));
        json_ok(&a)
    }

    /// A new key's address.
    pub fn add_key(&self, name: &str) -> String {
        json_ok(&self.cmd(&["keys", "add", name, "-o", "json"]))["address"].as_str().unwrap().to_string()
    }
}

/// The attributes of a tx's first event of `kind`.
pub fn event_attrs(tx: &Value, kind: &str) -> serde_json::Map<String, Value> {
    let ev = tx["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event: {tx}"));
    ev["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["key"].as_str().unwrap().to_string(), a["value"].clone()))
        .collect()
}
