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
