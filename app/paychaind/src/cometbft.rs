//! The CometBFT binary we drive: finding it, checking its version, `cometbft
//! init`, editing its `config.toml`, and running it as a child process.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context as _};

/// The version `make setup` installs.
pub const PINNED_VERSION: &str = "0.38.26";
/// Any v0.38 speaks the ABCI 2.0 dialect the app implements.
pub const REQUIRED_SERIES: &str = "0.38.";
/// What to tell the user when CometBFT is missing or wrong.
pub const REQUIRED_MSG: &str = "CometBFT v0.38.x is required; run `make setup` \
     (it runs `go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.26`), \
     or point PAYCHAIN_COMETBFT / --cometbft at the binary";

/// A CometBFT binary whose version was checked.
#[derive(Clone, Debug)]
pub struct CometBft {
    pub bin: PathBuf,
    pub version: String,
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Looks for `cometbft`: the explicit path if given, else `PATH`, else the Go
/// install locations (`$GOBIN`, `$GOPATH/bin`, `~/go/bin`) so a fresh shell
/// that never sourced Go's profile still finds what `make setup` installed.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return is_executable(p).then(|| p.to_path_buf());
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("cometbft")));
    }
    if let Some(gobin) = std::env::var_os("GOBIN") {
        candidates.push(PathBuf::from(gobin).join("cometbft"));
    }
    if let Some(gopath) = std::env::var_os("GOPATH") {
        candidates.extend(std::env::split_paths(&gopath).map(|d| d.join("bin").join("cometbft")));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join("go").join("bin").join("cometbft"));
    }
    candidates.into_iter().find(|p| is_executable(p))
}

/// Runs `<bin> version`.
pub fn version_of(bin: &Path) -> anyhow::Result<String> {
    let out =
        Command::new(bin).arg("version").output().with_context(|| format!("running {} version", bin.display()))?;
    if !out.status.success() {
        bail!("{} version failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether a `cometbft version` output is in the supported series.
pub fn is_supported_version(v: &str) -> bool {
    v.trim_start_matches('v').starts_with(REQUIRED_SERIES)
}

/// Finds CometBFT and checks it is v0.38.x, or explains how to get it.
pub fn require(explicit: Option<&Path>) -> anyhow::Result<CometBft> {
    let Some(bin) = locate(explicit) else {
        match explicit {
            Some(p) => bail!("{} is not an executable file. {REQUIRED_MSG}", p.display()),
            None => bail!("cometbft was not found on PATH or in ~/go/bin. {REQUIRED_MSG}"),
        }
    };
    let version = version_of(&bin).map_err(|e| anyhow!("{e:#}. {REQUIRED_MSG}"))?;
    if !is_supported_version(&version) {
        bail!("{} is CometBFT {version}. {REQUIRED_MSG}", bin.display());
    }
    Ok(CometBft { bin, version })
}

impl CometBft {
    /// `cometbft init --home <home>`: config.toml, genesis.json, node and
    /// validator keys, and the data directory (existing files are kept).
    pub fn init(&self, home: &Path) -> anyhow::Result<()> {
        let out = Command::new(&self.bin)
            .arg("init")
            .arg("--home")
            .arg(home)
            .output()
            .with_context(|| format!("running {} init", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "cometbft init --home {} failed ({}): {}{}",
                home.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// `cometbft start --home <home>`, set up to die with this process (see
    /// [`die_with_parent`]) and in its own process group so a terminal's Ctrl-C
    /// reaches only us; we then stop it in order.
    pub fn start_command(&self, home: &Path) -> Command {
        use std::os::unix::process::CommandExt as _;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("start").arg("--home").arg(home);
        cmd.process_group(0);
        die_with_parent(&mut cmd);
        cmd
    }
}

/// How long `cometbft inspect` gets to open CometBFT's stores and answer.
const INSPECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// What to tell an operator whose two stores disagree.
const RECOVERY_HINT: &str = "The app store and CometBFT's data must come from the same node history. To recover: \
     restore both directories from the same backup; or keep CometBFT's data and replace the app store with one \
     at or below CometBFT's height (CometBFT replays the missing blocks); or start this node afresh by state sync \
     (stop it, remove data/application.db, run `cometbft unsafe-reset-all --home <home>` with \
     data/priv_validator_state.json backed up and put back if this is a validator, and enable [statesync] in config.toml).";

/// A `cometbft inspect` server, killed on drop.
struct InspectServer(tokio::process::Child);

impl Drop for InspectServer {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

impl CometBft {
    /// Refuses to go on when the app store (at `app_height` with `app_hash`)
    /// and CometBFT's block store on `home` describe different histories:
    /// app ahead of CometBFT's blocks, or a different app hash at the app's
    /// height. Reads CometBFT's stores through `cometbft inspect`, so run it
    /// only while CometBFT is stopped (it also fails if CometBFT still holds
    /// them, which is then the error to report). An app behind CometBFT is
    /// fine: CometBFT's handshake replays the missing blocks.
    /// Returns the height of CometBFT's block store.
    pub async fn check_history(
        &self,
        home: &Path,
        app_db: &Path,
        app_height: u64,
        app_hash: &[u8],
    ) -> anyhow::Result<u64> {
        use tendermint_rpc::Client as _;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port for cometbft inspect")?
            .port();
        let mut std_cmd = Command::new(&self.bin);
        // Gone with us even if we are killed while it runs.
        die_with_parent(&mut std_cmd);
        let mut cmd = tokio::process::Command::from(std_cmd);
        cmd.arg("inspect")
            .arg("--home")
            .arg(home)
            .arg("--rpc.laddr")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("running {} inspect", self.bin.display()))?;
        let mut server = InspectServer(child);
        let client = paychain_client::NodeClient::new(&format!("http://127.0.0.1:{port}"))?;
        let deadline = tokio::time::Instant::now() + INSPECT_TIMEOUT;
        let comet_height = loop {
            match client.http().blockchain(1u32, 1u32).await {
                Ok(info) => break info.last_height.value(),
                // CometBFT refuses any range over an empty block store.
                Err(e) if paychain_client::rpc::rpc_error_text(&e).contains("greater than max height 0") => break 0,
                Err(e) => {
                    if let Some(status) = server.0.try_wait()? {
                        let mut err = String::new();
                        if let Some(mut pipe) = server.0.stderr.take() {
                            use tokio::io::AsyncReadExt as _;
                            let _ = pipe.read_to_string(&mut err).await;
                        }
                        bail!(
                            "cannot read CometBFT's data in {} ({status}; is another node running on this home?): {}",
                            home.join("data").display(),
                            err.trim()
                        );
                    }
                    if tokio::time::Instant::now() > deadline {
                        bail!(
                            "cometbft inspect on {} did not answer: {}",
                            home.display(),
                            paychain_client::rpc::rpc_error_text(&e)
                        );
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        if app_height == 0 {
            return Ok(comet_height);
        }
        if comet_height == 0 {
            // No blocks but app state: fine right after a state sync (CometBFT
            // then has its state at that height, validators included), else
            // CometBFT's data was reset under a kept app store.
            let next = tendermint::block::Height::try_from(app_height + 1)?;
            if client.http().validators(next, tendermint_rpc::Paging::Default).await.is_ok() {
                return Ok(0);
            }
            bail!(
                "the app store {} holds blocks up to height {app_height}, but CometBFT's data in {} is empty: it was \
                 reset (or is new) while the app store was kept. {RECOVERY_HINT}",
                app_db.display(),
                home.join("data").display()
            );
        }
        if app_height > comet_height {
            bail!(
                "the app store {} is at height {app_height}, ahead of CometBFT's block store in {} (height \
                 {comet_height}): CometBFT's data is older than the app's. {RECOVERY_HINT}",
                app_db.display(),
                home.join("data").display()
            );
        }
        // The app hash after block N is in the header of N+1, or, for the
        // latest block, in its results.
        let expected = if app_height < comet_height {
            let h = tendermint::block::Height::try_from(app_height + 1)?;
            client.http().header(h).await.ok().map(|r| r.header.app_hash.as_bytes().to_vec())
        } else {
            let h = tendermint::block::Height::try_from(app_height)?;
            client.http().block_results(h).await.ok().map(|r| r.app_hash.as_bytes().to_vec())
        };
        match expected {
            Some(expected) if expected != app_hash => bail!(
                "the app store {} does not match CometBFT's data in {}: at height {app_height} the app has app hash \
                 {} but CometBFT recorded {}. {RECOVERY_HINT}",
                app_db.display(),
                home.join("data").display(),
                hex::encode_upper(app_hash),
                hex::encode_upper(&expected)
            ),
            Some(_) => Ok(comet_height),
            None => {
                tracing::warn!(app_height, "CometBFT no longer has the app hash of this height; not checked");
                Ok(comet_height)
            }
        }
    }

    /// Re-indexes the txs and events of the last few blocks up to `height`.
    /// CometBFT indexes a block asynchronously after committing it, so a
    /// node killed at that moment keeps the block but loses its entries in
    /// the tx index (`/tx`, `tx_search`), and nothing re-indexes them.
    /// Offline, like `check_history`; a failure is only logged (the index is
    /// a lookup aid, not state).
    pub fn reindex_recent(&self, home: &Path, height: u64) {
        const RECENT_BLOCKS: u64 = 3;
        if height == 0 {
            return;
        }
        // CometBFT's indexer off (the node's own index, written in each block's commit, needs no repair).
        if read_config_string(home, Some("tx_index"), "indexer").ok().flatten().as_deref() == Some("null") {
            return;
        }
        // The last block may be stored but not yet executed (no results to index).
        for end in [height, height - 1].into_iter().filter(|h| *h > 0) {
            let start = end.saturating_sub(RECENT_BLOCKS - 1).max(1);
            let out = Command::new(&self.bin)
                .arg("reindex-event")
                .arg("--home")
                .arg(home)
                .arg("--start-height")
                .arg(start.to_string())
                .arg("--end-height")
                .arg(end.to_string())
                .output();
            match out {
                Ok(o) if o.status.success() => return,
                Ok(o) => tracing::debug!(start, end, "reindex-event: {}", String::from_utf8_lossy(&o.stderr).trim()),
                Err(e) => tracing::warn!("running cometbft reindex-event: {e}"),
            }
        }
        tracing::warn!(height, "could not re-index the last blocks; /tx may miss txs of the block before a crash");
    }
}

/// Makes the child get SIGKILL when the thread that spawned it dies (Linux
/// `PR_SET_PDEATHSIG`), so a SIGKILLed `paychaind dev` leaves no orphan
/// CometBFT behind. Spawn from the main thread: the signal follows the
/// spawning *thread*, not the process.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: getpid is async-signal-safe and called before fork.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs between fork and exec and only calls the
    // async-signal-safe prctl and getppid; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl; then no signal would come.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("parent exited before cometbft started"));
            }
            Ok(())
        });
    }
}

/// CometBFT's own tx and block indexer (`[tx_index] indexer` in config.toml).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TxIndexer {
    /// CometBFT indexes every tx and block event (goleveldb): what `tx`/`tx_search` need when
    /// CometBFT serves the node's RPC itself.
    Kv,
    /// No indexing by CometBFT: the node's own index answers through the RPC front.
    Null,
}

impl TxIndexer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kv => "kv",
            Self::Null => "null",
        }
    }
}

/// What `init`/`dev` set in CometBFT's `config.toml` (`None` = leave as is).
#[derive(Clone, Debug, Default)]
pub struct ConfigPatch {
    pub moniker: Option<String>,
    /// `proxy_app`, e.g. `tcp://127.0.0.1:26658`.
    pub proxy_app: Option<String>,
    /// `[rpc] laddr`, e.g. `tcp://127.0.0.1:26657`.
    pub rpc_laddr: Option<String>,
    /// `[p2p] laddr`, e.g. `tcp://0.0.0.0:26656`.
    pub p2p_laddr: Option<String>,
    /// `[consensus] timeout_commit`, a Go duration such as `1s`.
    pub timeout_commit: Option<String>,
    /// `[mempool] size` (txs).
    pub mempool_size: Option<u32>,
    /// CometBFT's own `log_level`.
    pub log_level: Option<String>,
    /// `[rpc] cors_allowed_origins = ["*"]`, which browser wallets need.
    pub wallet_defaults: bool,
    /// `[tx_index] indexer`.
    pub tx_indexer: Option<TxIndexer>,
    /// Any other settings: `(table, key, value)`, `table` "" for the top level.
    pub extra: Vec<(String, String, toml_edit::Value)>,
}

/// Applies `patch` to the text of a `config.toml`, keeping its comments and layout.
pub fn patch_config(text: &str, patch: &ConfigPatch) -> anyhow::Result<String> {
    use toml_edit::{value, Array, DocumentMut};
    let mut doc: DocumentMut = text.parse().context("config.toml is not valid TOML")?;
    let set_in = |doc: &mut DocumentMut, table: Option<&str>, key: &str, v: toml_edit::Item| -> anyhow::Result<()> {
        let t = match table {
            None => doc.as_table_mut(),
            Some(name) => doc
                .entry(name)
                .or_insert(toml_edit::table())
                .as_table_mut()
                .ok_or_else(|| anyhow!("config.toml: [{name}] is not a table"))?,
        };
        // Replace the value in place: `insert` would also replace the key and
        // with it the comment block CometBFT writes above each setting.
        match t.get_mut(key) {
            Some(item) => *item = v,
            None => {
                t.insert(key, v);
            }
        }
        Ok(())
    };
    if let Some(m) = &patch.moniker {
        set_in(&mut doc, None, "moniker", value(m.as_str()))?;
    }
    if let Some(p) = &patch.proxy_app {
        set_in(&mut doc, None, "proxy_app", value(p.as_str()))?;
    }
    if let Some(l) = &patch.log_level {
        set_in(&mut doc, None, "log_level", value(l.as_str()))?;
    }
    if let Some(a) = &patch.rpc_laddr {
        set_in(&mut doc, Some("rpc"), "laddr", value(a.as_str()))?;
    }
    if let Some(a) = &patch.p2p_laddr {
        set_in(&mut doc, Some("p2p"), "laddr", value(a.as_str()))?;
    }
    if let Some(t) = &patch.timeout_commit {
        validate_go_duration(t).map_err(|e| anyhow!("timeout_commit: {e}"))?;
        set_in(&mut doc, Some("consensus"), "timeout_commit", value(t.as_str()))?;
    }
    if let Some(n) = patch.mempool_size {
        set_in(&mut doc, Some("mempool"), "size", value(i64::from(n)))?;
    }
    if let Some(i) = patch.tx_indexer {
        set_in(&mut doc, Some("tx_index"), "indexer", value(i.as_str()))?;
    }
    if patch.wallet_defaults {
        set_in(&mut doc, Some("rpc"), "cors_allowed_origins", value(Array::from_iter(["*"])))?;
    }
    for (table, key, v) in &patch.extra {
        let table = (!table.is_empty()).then_some(table.as_str());
        set_in(&mut doc, table, key, toml_edit::Item::Value(v.clone()))?;
    }
    Ok(doc.to_string())
}

/// Applies `patch` to `<home>/config/config.toml` in place (written atomically).
pub fn patch_config_file(home: &Path, patch: &ConfigPatch) -> anyhow::Result<()> {
    let path = config_toml_path(home);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let patched = patch_config(&text, patch).with_context(|| format!("editing {}", path.display()))?;
    write_atomic(&path, patched.as_bytes())
}

/// Reads a string setting such as `rpc.laddr` from `<home>/config/config.toml`.
pub fn read_config_string(home: &Path, table: Option<&str>, key: &str) -> anyhow::Result<Option<String>> {
    let path = config_toml_path(home);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml_edit::DocumentMut = text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    let item = match table {
        None => doc.get(key),
        Some(t) => doc.get(t).and_then(|t| t.get(key)),
    };
    Ok(item.and_then(|i| i.as_str()).map(str::to_string))
}

pub fn config_toml_path(home: &Path) -> PathBuf {
    home.join("config").join("config.toml")
}

pub fn genesis_path(home: &Path) -> PathBuf {
    home.join("config").join("genesis.json")
}

/// Checks a Go `time.Duration` string as CometBFT parses it (`1s`, `500ms`, `1m30s`).
pub fn validate_go_duration(s: &str) -> anyhow::Result<()> {
    let bad = || anyhow!("invalid duration {s:?}: expected e.g. 1s, 500ms or 1m30s");
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        if !matches!(&rest[..unit_len], "ns" | "us" | "µs" | "ms" | "s" | "m" | "h") {
            return Err(bad());
        }
        rest = &rest[unit_len..];
    }
    Ok(())
}

/// Writes a file via a temp file and rename, so readers (and a crash) see the
/// old or the new content, never half of it.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"# top comment
proxy_app = "tcp://127.0.0.1:26658"
moniker = "old"
log_level = "info"

#######################################################
###       RPC Server Configuration Options          ###
#######################################################
[rpc]
# TCP or UNIX socket address for the RPC server to listen on
laddr = "tcp://127.0.0.1:26657"
cors_allowed_origins = []

[p2p]
laddr = "tcp://0.0.0.0:26656"

[mempool]
size = 5000

[consensus]
timeout_commit = "1s"

[tx_index]
indexer = "null"
"#;

    #[test]
    fn config_patch_sets_fields_and_keeps_comments() {
        let patch = ConfigPatch {
            moniker: Some("node0".into()),
            proxy_app: Some("tcp://127.0.0.1:4000".into()),
            rpc_laddr: Some("tcp://127.0.0.1:4001".into()),
            p2p_laddr: Some("tcp://127.0.0.1:4002".into()),
            timeout_commit: Some("500ms".into()),
            mempool_size: Some(100),
            log_level: None,
            wallet_defaults: true,
            tx_indexer: Some(TxIndexer::Kv),
            extra: vec![
                ("p2p".into(), "persistent_peers".into(), "id@127.0.0.1:1".into()),
                ("statesync".into(), "enable".into(), true.into()),
            ],
        };
        let out = patch_config(SAMPLE, &patch).unwrap();
        let doc: toml_edit::DocumentMut = out.parse().unwrap();
        assert_eq!(doc["moniker"].as_str(), Some("node0"));
        assert_eq!(doc["proxy_app"].as_str(), Some("tcp://127.0.0.1:4000"));
        assert_eq!(doc["log_level"].as_str(), Some("info"));
        assert_eq!(doc["rpc"]["laddr"].as_str(), Some("tcp://127.0.0.1:4001"));
        assert_eq!(doc["p2p"]["laddr"].as_str(), Some("tcp://127.0.0.1:4002"));
        assert_eq!(doc["consensus"]["timeout_commit"].as_str(), Some("500ms"));
        assert_eq!(doc["mempool"]["size"].as_integer(), Some(100));
        assert_eq!(doc["tx_index"]["indexer"].as_str(), Some("kv"));
        assert_eq!(doc["rpc"]["cors_allowed_origins"].as_array().unwrap().get(0).unwrap().as_str(), Some("*"));
        assert!(out.contains("# TCP or UNIX socket address for the RPC server to listen on"));
        assert_eq!(doc["p2p"]["persistent_peers"].as_str(), Some("id@127.0.0.1:1"));
        assert_eq!(doc["statesync"]["enable"].as_bool(), Some(true));
        assert!(out.contains("# top comment"));

        assert!(
            patch_config(SAMPLE, &ConfigPatch { timeout_commit: Some("soon".into()), ..Default::default() }).is_err()
        );
        assert!(patch_config("not = [toml", &ConfigPatch::default()).is_err());
        // Missing tables are created.
        let out = patch_config("", &ConfigPatch { rpc_laddr: Some("tcp://x:1".into()), ..Default::default() }).unwrap();
        assert!(out.contains("[rpc]"));
    }

    #[test]
    fn durations_and_versions() {
        for ok in ["1s", "500ms", "1m30s", "1.5s", "0s", "2h"] {
            validate_go_duration(ok).unwrap();
        }
        for bad in ["", "1", "s", "1x", "1..2s", "-1s", "1 s"] {
            assert!(validate_go_duration(bad).is_err(), "{bad:?}");
        }
        assert!(is_supported_version("0.38.26"));
        assert!(is_supported_version("v0.38.1+abc"));
        assert!(!is_supported_version("0.37.4"));
        assert!(!is_supported_version("1.0.0"));
    }

    #[test]
    fn missing_binary_gives_the_setup_hint() {
        let err = require(Some(Path::new("/nonexistent/cometbft"))).unwrap_err().to_string();
        assert!(err.contains("make setup"), "{err}");
    }
}
