//! The escrow module end to end on real CometBFT chains (`paychaind dev` on
//! free loopback ports), driven through the `paychaind tx escrow` and
//! `paychaind query escrow` commands a user runs:
//!
//! * `escrow_scenarios_on_one_chain`: (a) 2-of-3 arbiters release, a
//!   non-arbiter's and a double vote refused; (b) a hash lock released with
//!   the secret after a wrong one is refused; (c) an expired escrow refunded at
//!   the end of a block (the event found with `block_search`); (d) a release
//!   before `release_after` refused, a partial release, then MsgRefundEscrow of
//!   the rest while a queue of expired escrows is refunded one per block (this
//!   chain's genesis sets `max_expired_refunds_per_block` to 1; see (d) for
//!   why). After every step: balances to the unit, the escrow's status by
//!   query, the events of the tx, the upay supply unchanged and the escrow
//!   module account holding exactly what the open escrows hold.
//! * `hash_locked_swap_between_two_chains`: Alice and Bob swap coins on two
//!   chains with one secret; Bob learns it from the `escrow_released` event.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed,
//! and never under CI (`CI` set). Progress: `-- --nocapture`.

mod common;
use common::{cometbft_available, free_ports, DevNode, Ports};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use paychain_framework::Address;
use serde_json::Value;

/// Every escrow tx: a fixed gas limit and fee, so balances are exact.
const FEE: u128 = 5000;
const FEE_FLAGS: [&str; 4] = ["--gas", "400000", "--fees", "5000upay"];
const DENOM: &str = "upay";

fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn step(t0: Instant, what: &str) {
    eprintln!("[{:>6.1?}] == {what}", t0.elapsed());
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// The attributes of each event of type `kind` in a tx result (or block result) event list.
fn events(list: &Value, kind: &str) -> Vec<BTreeMap<String, String>> {
    list.as_array()
        .unwrap_or_else(|| panic!("no event list: {list}"))
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| {
            e["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["key"].as_str().unwrap().to_string(), a["value"].as_str().unwrap().to_string()))
                .collect()
        })
        .collect()
}

/// The one event of type `kind` in `tx`'s events.
fn event(tx: &Value, kind: &str) -> BTreeMap<String, String> {
    let mut all = events(&tx["events"], kind);
    assert_eq!(all.len(), 1, "expected one {kind} event in {}", tx["events"]);
    all.pop().unwrap()
}

fn coins_amount(v: &Value) -> u128 {
    v.as_array()
        .unwrap_or_else(|| panic!("not a coin list: {v}"))
        .iter()
        .filter(|c| c["denom"] == DENOM)
        .map(|c| c["amount"].as_str().unwrap().parse::<u128>().unwrap())
        .sum()
}

struct Chain {
    id: String,
    home: PathBuf,
    ports: Ports,
    node_url: String,
    node: RefCell<DevNode>,
    http: reqwest::blocking::Client,
    /// upay supply when the chain started.
    supply0: u128,
    /// Every escrow id created on this chain (for the module-account invariant).
    ids: RefCell<Vec<u64>>,
}

impl Chain {
    /// A `paychaind dev` chain. `escrow_params`, when given, replace
    /// `app_state.escrow.params` of the genesis: the home is then made first
    /// with `init`, a funded `dev` key and the edited genesis, and `dev` reuses it.
    fn start(root: &Path, id: &str, ports: Ports, escrow_params: Option<Value>) -> Chain {
        let home = root.join(id);
        if let Some(params) = escrow_params {
            make_home(&home, id, params);
        }
        let node = DevNode::start_with(&home, &ports, &format!("{id}.log"), &["--chain-id", id]);
        let mut chain = Chain {
            id: id.to_string(),
            home,
            node_url: format!("http://127.0.0.1:{}", ports.rpc),
            ports,
            node: RefCell::new(node),
            http: reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
            supply0: 0,
            ids: RefCell::new(Vec::new()),
        };
        chain.wait_for("height 2", Duration::from_secs(90), || {
            chain.rpc("status", &[]).ok().and_then(|s| {
                let h: u64 = s["sync_info"]["latest_block_height"].as_str()?.parse().ok()?;
                (h >= 2).then_some(())
            })
        });
        chain.supply0 = chain.supply();
        chain
    }

    fn log_tail(&self) -> String {
        self.node.borrow().log_tail()
    }

    /// Polls `f` every 200 ms until it returns `Some`, failing (with the node log) after `within`.
    fn wait_for<T>(&self, what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(v) = f() {
                return v;
            }
            self.node.borrow_mut().assert_running();
            assert!(
                Instant::now() < deadline,
                "{}: timed out after {within:?} waiting for {what}; log:\n{}",
                self.id,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `paychaind <args> --home <home> -o json`, plus `--node` for the commands that talk to the chain.
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = common::clean_command();
        cmd.arg("--home").arg(&self.home).args(args).args(["-o", "json"]);
        if matches!(args.first(), Some(&("tx" | "query" | "status"))) {
            cmd.args(["--node", &self.node_url]);
        }
        cmd.stdin(Stdio::null()).output().expect("running paychaind")
    }

    /// A query command's JSON (must succeed).
    fn query(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert!(o.status.success(), "{}: paychaind {args:?}: {}", self.id, show(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("paychaind {args:?}: bad JSON ({e}): {}", show(&o)))
    }

    fn sign_args<'a>(args: &'a [&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(FEE_FLAGS);
        all.extend(["--keyring-backend", "test", "--yes", "--wait"]);
        all
    }

    /// A tx command that must be committed with code 0; its TxResponse JSON.
    fn tx(&self, args: &[&str]) -> Value {
        let o = self.run(&Self::sign_args(args));
        assert!(o.status.success(), "{}: paychaind {args:?}: {}", self.id, show(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", show(&o)));
        assert_eq!(v["code"], 0, "{v}");
        v
    }

    /// A tx command that must pass CheckTx and then fail in the block: its TxResponse JSON.
    fn tx_fails(&self, args: &[&str]) -> Value {
        let o = self.run(&Self::sign_args(args));
        assert!(!o.status.success(), "{}: paychaind {args:?} should fail: {}", self.id, show(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", show(&o)));
        assert!(v["height"].as_str().is_some_and(|h| h != "0"), "must fail in a block, not CheckTx: {v}");
        assert_ne!(v["code"], 0, "{v}");
        v
    }

    /// `tx_fails` and the failure is the escrow codespace's `code`, with `log` in the raw log.
    fn tx_rejected(&self, args: &[&str], code: u32, log: &str) -> Value {
        let v = self.tx_fails(args);
        assert_eq!((v["codespace"].as_str(), v["code"].as_u64()), (Some("escrow"), Some(code as u64)), "{v}");
        assert!(v["raw_log"].as_str().unwrap().contains(log), "raw_log should contain {log:?}: {v}");
        assert!(
            events(&v["events"], "escrow_released").is_empty() && events(&v["events"], "escrow_refunded").is_empty()
        );
        v
    }

    fn key(&self, name: &str) -> String {
        let o = self.run(&["keys", "add", name, "--keyring-backend", "test"]);
        assert!(o.status.success(), "keys add {name}: {}", show(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["address"].as_str().unwrap().to_string()
    }

    fn balance(&self, addr: &str) -> u128 {
        let v = self.query(&["query", "bank", "balances", addr, "--denom", DENOM]);
        v["balance"]["amount"].as_str().unwrap().parse().unwrap()
    }

    fn rest(&self, path: &str) -> Value {
        let url = format!("http://127.0.0.1:{}{path}", self.ports.rest);
        let r = self.http.get(&url).send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = r.status();
        let text = r.text().unwrap();
        assert!(status.is_success(), "GET {url}: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// CometBFT RPC (JSON over GET); the `result`.
    fn rpc(&self, method: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = format!("{}/{method}", self.node_url);
        let r = self.http.get(&url).query(params).send().map_err(|e| e.to_string())?;
        let v: Value = r.json().map_err(|e| e.to_string())?;
        if v.get("error").is_some() {
            return Err(v["error"].to_string());
        }
        Ok(v["result"].clone())
    }

    fn supply(&self) -> u128 {
        let v = self.rest(&format!("/cosmos/bank/v1beta1/supply/by_denom?denom={DENOM}"));
        v["amount"]["amount"].as_str().unwrap().parse().unwrap()
    }

    fn escrow(&self, id: u64) -> Value {
        self.query(&["query", "escrow", "escrow", &id.to_string()])["escrow"].clone()
    }

    /// `tx escrow create ...`; returns the new id (recorded for the invariant check) and the TxResponse.
    fn create(&self, args: &[&str]) -> (u64, Value) {
        let tx = self.tx(&[&["tx", "escrow", "create"][..], args].concat());
        let id: u64 = tx["escrow_id"].as_str().unwrap_or_else(|| panic!("no escrow_id in {tx}")).parse().unwrap();
        assert_eq!(event(&tx, "escrow_created")["id"], id.to_string());
        self.ids.borrow_mut().push(id);
        (id, tx)
    }

    /// One tx of several messages signed by local key `from` (the CLI sends one
    /// message per tx), committed with code 0; its TxResponse JSON.
    fn tx_of(&self, from: &str, msgs: Vec<cosmos_sdk_proto::Any>) -> Value {
        use paychain_client::{prepare_tx, FeeChoice, Gas, NodeClient, TxOptions};
        let key = paychain_client::keyring::Keyring::open(&self.home, paychain_client::keyring::Backend::Test)
            .private_key(from, None)
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = NodeClient::new(&self.node_url).unwrap();
        let opts = TxOptions {
            gas: Gas::Fixed(5_000_000),
            fee: FeeChoice::Fixed("50000upay".parse().unwrap()),
            ..Default::default()
        };
        let prepared = rt.block_on(prepare_tx(&client, &key, msgs, &opts)).unwrap();
        let res = rt.block_on(client.broadcast_sync(prepared.bytes.clone())).unwrap();
        assert_eq!(res.code, 0, "CheckTx: {}", res.log);
        let hash = paychain_client::tx::parse_tx_hash(&prepared.hash).unwrap();
        let committed = rt.block_on(client.wait_for_tx(hash, Duration::from_secs(60))).unwrap();
        let v = paychain_client::rpc::tx_response_json(&paychain_app::any_types(), &committed, None);
        assert_eq!(v["code"], 0, "{v}");
        v
    }

    /// Total supply unchanged; the module account holds exactly the open escrows' remainders.
    fn check_invariants(&self, when: &str) {
        assert_eq!(self.supply(), self.supply0, "{}: {when}: the upay supply changed", self.id);
        // Everything at one height: end blocks may refund expired escrows between two queries.
        // The app's own last committed height (ABCI Info): CometBFT's latest block may not be
        // committed by the app yet, and the one below it may predate the last tx.
        let info = self.rpc("abci_info", &[]).unwrap_or_else(|e| panic!("{}: abci_info: {e}", self.id));
        let height = info["response"]["last_block_height"].as_str().unwrap().to_string();
        let at = |args: &[&str]| self.query(&[args, &["--height", &height]].concat());
        let mut open = 0u128;
        for id in self.ids.borrow().iter() {
            let e = at(&["query", "escrow", "escrow", &id.to_string()])["escrow"].clone();
            match e["status"].as_str().unwrap() {
                "ESCROW_STATUS_OPEN" => open += coins_amount(&e["remaining"]),
                _ => assert_eq!(e["remaining"], serde_json::json!([]), "closed escrow {id} holds nothing: {e}"),
            }
        }
        let module = Address::module("escrow").to_string();
        let held: u128 = at(&["query", "bank", "balances", &module, "--denom", DENOM])["balance"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(held, open, "{}: {when}: escrow module account != sum of open escrows at height {height}", self.id);
    }

    /// Latest block time, seconds since the epoch.
    fn block_time(&self) -> f64 {
        let s = self.query(&["status"]);
        let t = tendermint::Time::parse_from_rfc3339(s["latest_block_time"].as_str().unwrap()).unwrap();
        t.unix_timestamp_nanos() as f64 / 1e9
    }

    /// Waits until a committed block's time is at or past `t` (seconds since the epoch).
    fn wait_block_time(&self, t: f64) {
        self.wait_for(&format!("a block at or after {t}"), Duration::from_secs(60), || {
            (self.block_time() >= t).then_some(())
        });
    }
}

/// A node home for `paychaind dev` with a funded `dev` key and the escrow params replaced.
fn make_home(home: &Path, chain_id: &str, params: Value) {
    let h = home.to_str().unwrap();
    let ok = |args: &[&str]| {
        let o = common::clean_command().args(args).args(["--home", h]).stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "paychaind {args:?}: {}", show(&o));
    };
    ok(&["init", "escrow-test", "--chain-id", chain_id]);
    ok(&["keys", "add", "dev", "--keyring-backend", "test"]);
    ok(&["genesis", "add-account", "dev", "1000000000000upay", "--keyring-backend", "test"]);
    let path = home.join("config/genesis.json");
    let mut genesis: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(
        genesis["app_state"]["escrow"].is_object(),
        "no escrow section in the default genesis: {}",
        genesis["app_state"]
    );
    genesis["app_state"]["escrow"]["params"] = params;
    std::fs::write(&path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
    ok(&["genesis", "validate"]);
}

fn status(e: &Value) -> &str {
    e["status"].as_str().unwrap()
}

#[test]
fn escrow_scenarios_on_one_chain() {
    if !cometbft_available("escrow_scenarios_on_one_chain") {
        return;
    }
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let params = serde_json::json!({
        "max_arbiters": 7, "max_reference_length": 140, "max_coins": 8, "max_expired_refunds_per_block": 1,
    });
    let c = Chain::start(tmp.path(), "paychain-escrow-1", free_ports(), Some(params.clone()));
    step(t0, "chain up; keys and funds");
    let names = ["alice", "bob", "arb1", "arb2", "arb3", "mallory"];
    let addrs: Vec<String> = names.iter().map(|n| c.key(n)).collect();
    let [alice, bob, arb1, arb2, arb3, mallory] = [0, 1, 2, 3, 4, 5].map(|i| addrs[i].as_str());
    let funds = "100000000upay";
    let multi = c.tx(&[
        &["tx", "bank", "multi-send", "dev"][..],
        &addrs.iter().map(String::as_str).collect::<Vec<_>>(),
        &[funds],
    ]
    .concat());
    assert_eq!(multi["code"], 0);
    for a in &addrs {
        assert_eq!(c.balance(a), 100_000_000);
    }
    assert_eq!(c.query(&["query", "escrow", "params"])["params"], params);
    c.check_invariants("start");

    // ---- (a) three arbiters, threshold 2 ----
    step(t0, "(a) 2-of-3 arbiters");
    let arbiters = format!("{arb1},{arb2},{arb3}");
    let (alice0, bob0) = (c.balance(alice), c.balance(bob));
    let (a_id, tx) = c.create(&[
        "alice",
        bob,
        "1000000upay",
        "--arbiters",
        &arbiters,
        "--threshold",
        "2",
        "--reference",
        "order 17",
    ]);
    let ev = event(&tx, "escrow_created");
    assert_eq!((ev["sender"].as_str(), ev["recipient"].as_str(), ev["amount"].as_str()), (alice, bob, "1000000upay"));
    assert_eq!(
        (ev["arbiters"].as_str(), ev["threshold"].as_str(), ev["reference"].as_str()),
        (arbiters.as_str(), "2", "order 17")
    );
    assert_eq!(c.balance(alice), alice0 - 1_000_000 - FEE);
    let e = c.escrow(a_id);
    assert_eq!(status(&e), "ESCROW_STATUS_OPEN");
    assert_eq!(coins_amount(&e["remaining"]), 1_000_000);
    assert_eq!(e["arbiters"], serde_json::json!([arb1, arb2, arb3]));
    c.check_invariants("(a) created");

    let m0 = c.balance(mallory);
    c.tx_rejected(&["tx", "escrow", "approve", "mallory", &a_id.to_string(), "release"], 19, "not an arbiter");
    assert_eq!(c.balance(mallory), m0 - FEE, "the outsider pays the fee only");
    let e = c.escrow(a_id);
    assert_eq!(e["release_approvals"], serde_json::json!([]), "no vote recorded: {e}");
    assert_eq!(status(&e), "ESCROW_STATUS_OPEN");
    assert_eq!(c.balance(bob), bob0);

    let tx = c.tx(&["tx", "escrow", "approve", "arb1", &a_id.to_string(), "release"]);
    assert_eq!((tx["approvals"].as_u64(), tx["executed"].as_bool()), (Some(1), Some(false)), "{tx}");
    let ev = event(&tx, "escrow_approved");
    assert_eq!((ev["arbiter"].as_str(), ev["decision"].as_str(), ev["approvals"].as_str()), (arb1, "release", "1"));
    assert!(events(&tx["events"], "escrow_released").is_empty());
    assert_eq!(c.balance(bob), bob0, "one approval of two releases nothing");
    assert_eq!(c.escrow(a_id)["release_approvals"], serde_json::json!([arb1]));
    c.tx_rejected(&["tx", "escrow", "approve", "arb1", &a_id.to_string(), "release"], 20, "already voted");

    let tx = c.tx(&["tx", "escrow", "approve", "arb2", &a_id.to_string(), "release"]);
    assert_eq!((tx["approvals"].as_u64(), tx["executed"].as_bool()), (Some(2), Some(true)), "{tx}");
    let ev = event(&tx, "escrow_released");
    assert_eq!(
        (ev["amount"].as_str(), ev["released_by"].as_str(), ev["remaining"].as_str()),
        ("1000000upay", "arbiters", "")
    );
    assert_eq!((ev["id"].as_str(), ev["reference"].as_str()), (a_id.to_string().as_str(), "order 17"));
    assert_eq!(c.balance(bob), bob0 + 1_000_000);
    let e = c.escrow(a_id);
    assert_eq!(status(&e), "ESCROW_STATUS_RELEASED");
    assert_eq!(e["release_approvals"], serde_json::json!([arb1, arb2]));
    assert!(e["closed_at"].is_string(), "{e}");
    c.tx_rejected(&["tx", "escrow", "approve", "arb3", &a_id.to_string(), "release"], 3, "closed");
    let by_arbiter = c.query(&["query", "escrow", "by-arbiter", arb3]);
    assert_eq!(by_arbiter["escrows"].as_array().unwrap().len(), 1);
    assert_eq!(by_arbiter["escrows"][0]["id"], a_id.to_string());
    c.check_invariants("(a) released");

    // ---- (b) hash lock ----
    step(t0, "(b) hash lock");
    let secret_file = tmp.path().join("secret.hex");
    let ns = c.query(&["escrow", "new-secret", "--out", secret_file.to_str().unwrap()]);
    let lock = ns["hash_lock"].as_str().unwrap().to_string();
    let secret = std::fs::read_to_string(&secret_file).unwrap().trim().to_string();
    assert_eq!(lock, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(hex::decode(&secret).unwrap())));
    let (alice0, bob0) = (c.balance(alice), c.balance(bob));
    let (b_id, tx) = c.create(&["alice", bob, "500000upay", "--hash-lock", &lock]);
    assert_eq!(event(&tx, "escrow_created")["hash_lock"], lock);
    let bid = b_id.to_string();
    // The sender may not cancel a hash-locked escrow (the recipient may).
    c.tx_rejected(&["tx", "escrow", "cancel", "alice", &bid], 23, "unauthorized");
    let wrong = hex::encode([7u8; 32]);
    c.tx_rejected(&["tx", "escrow", "release", "bob", &bid, "--secret", &wrong], 18, "secret does not match");
    assert_eq!(status(&c.escrow(b_id)), "ESCROW_STATUS_OPEN");
    assert_eq!(c.balance(bob), bob0 - FEE);
    let tx = c.tx(&["tx", "escrow", "release", "bob", &bid, "--secret-file", secret_file.to_str().unwrap()]);
    let ev = event(&tx, "escrow_released");
    assert_eq!((ev["secret"].as_str(), ev["released_by"].as_str()), (secret.as_str(), "secret"));
    assert_eq!(coins_amount(&tx["released"]), 500_000, "{tx}");
    assert_eq!(c.balance(bob), bob0 - 2 * FEE + 500_000);
    assert_eq!(c.balance(alice), alice0 - 500_000 - 2 * FEE);
    assert_eq!(status(&c.escrow(b_id)), "ESCROW_STATUS_RELEASED");
    c.check_invariants("(b) released by secret");

    // ---- (c) automatic refund at the end of a block ----
    step(t0, "(c) expiry refund");
    let alice0 = c.balance(alice);
    let (c_id, tx) = c.create(&["alice", bob, "300000upay", "--refund-after", "+3s", "--reference", "expires"]);
    let refund_after = event(&tx, "escrow_created")["refund_after"].clone();
    assert_eq!(c.balance(alice), alice0 - 300_000 - FEE);
    let e = c.wait_for("the expired escrow refunded", Duration::from_secs(60), || {
        let e = c.escrow(c_id);
        (status(&e) != "ESCROW_STATUS_OPEN").then_some(e)
    });
    assert_eq!(status(&e), "ESCROW_STATUS_REFUNDED", "{e}");
    assert_eq!(c.balance(alice), alice0 - FEE, "the sender has it all back");
    let closed = tendermint::Time::parse_from_rfc3339(e["closed_at"].as_str().unwrap()).unwrap();
    assert!(
        closed >= tendermint::Time::parse_from_rfc3339(&refund_after).unwrap(),
        "closed {closed} before {refund_after}"
    );
    // The end-block event, found as a counterparty would: block_search, then block_results.
    let q = format!("\"escrow_refunded.id='{c_id}'\"");
    let found = c.rpc("block_search", &[("query", q.as_str())]).unwrap();
    let blocks = found["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{found}");
    let height = blocks[0]["block"]["header"]["height"].as_str().unwrap().to_string();
    let results = c.rpc("block_results", &[("height", height.as_str())]).unwrap();
    let refunded: Vec<_> = events(&results["finalize_block_events"], "escrow_refunded")
        .into_iter()
        .filter(|e| e["id"] == c_id.to_string())
        .collect();
    assert_eq!(refunded.len(), 1, "{results}");
    assert_eq!((refunded[0]["reason"].as_str(), refunded[0]["amount"].as_str()), ("expired", "300000upay"));
    assert_eq!((refunded[0]["sender"].as_str(), refunded[0]["reference"].as_str()), (alice, "expires"));
    c.check_invariants("(c) refunded at expiry");

    // ---- (d) time lock, partial release, refund of the rest ----
    // This chain refunds at most one expired escrow per block (genesis param),
    // and 12 "blocker" escrows expire a second before this one: the end blocks
    // work through them one per block, which leaves a few blocks after the
    // deadline in which the escrow is still open for MsgRefundEscrow. (With the
    // default 100 per block the first block past the deadline refunds it, and a
    // MsgRefundEscrow succeeds only if it lands in exactly that block.)
    step(t0, "(d) time lock, partial release, MsgRefundEscrow of the rest");
    let (alice0, bob0, m0) = (c.balance(alice), c.balance(bob), c.balance(mallory));
    let start = now_secs();
    let (release_at, refund_at) = (start + 4.0, start + 10.0);
    let rfc = |t: f64| {
        tendermint::Time::from_unix_timestamp(t.floor() as i64, ((t.fract() * 1e3).round() as u32).min(999) * 1_000_000)
            .unwrap()
            .to_rfc3339()
    };
    let (release_after, refund_after) = (rfc(release_at), rfc(refund_at));
    let (d_id, tx) =
        c.create(&["alice", bob, "400000upay", "--release-after", &release_after, "--refund-after", &refund_after]);
    let did = d_id.to_string();
    let ev = event(&tx, "escrow_created");
    assert_eq!(
        (
            tendermint::Time::parse_from_rfc3339(&ev["release_after"]).unwrap(),
            tendermint::Time::parse_from_rfc3339(&ev["refund_after"]).unwrap()
        ),
        (
            tendermint::Time::parse_from_rfc3339(&release_after).unwrap(),
            tendermint::Time::parse_from_rfc3339(&refund_after).unwrap()
        )
    );
    c.tx_rejected(&["tx", "escrow", "release", "alice", &did], 14, "time-locked");
    c.tx_rejected(&["tx", "escrow", "refund", "mallory", &did], 15, "refund deadline not reached");
    let blocker_deadline = rfc(refund_at - 1.0);
    let blockers: Vec<cosmos_sdk_proto::Any> = (0..12)
        .map(|i| {
            let json = serde_json::json!({
                "sender": alice, "recipient": bob, "amount": [{"denom": DENOM, "amount": (1 + i).to_string()}],
                "refund_after": blocker_deadline, "reference": format!("blocker {i}"),
            });
            // The message from its proto3 JSON, as a client holding JSON would build it.
            let msg: paychain_escrow::pb::MsgCreateEscrow =
                paychain_framework::proto_json::from_json(&Default::default(), json).unwrap();
            paychain_escrow::cli::any(&msg)
        })
        .collect();
    let tx = c.tx_of("alice", blockers);
    let blocker_ids: Vec<u64> =
        events(&tx["events"], "escrow_created").iter().map(|e| e["id"].parse().unwrap()).collect();
    assert_eq!(blocker_ids.len(), 12, "{tx}");
    c.ids.borrow_mut().extend(&blocker_ids);
    let blocker_fee = 50_000u128;
    let blocked: u128 = (1..=12).sum();
    c.check_invariants("(d) created");

    c.wait_block_time(release_at);
    let tx = c.tx(&["tx", "escrow", "release", "alice", &did, "--amount", "100000upay"]);
    let ev = event(&tx, "escrow_released");
    assert_eq!(
        (ev["amount"].as_str(), ev["remaining"].as_str(), ev["released_by"].as_str(), ev["secret"].as_str()),
        ("100000upay", "300000upay", "sender", "")
    );
    assert_eq!((coins_amount(&tx["released"]), coins_amount(&tx["remaining"])), (100_000, 300_000));
    assert_eq!(c.balance(bob), bob0 + 100_000);
    let e = c.escrow(d_id);
    assert_eq!(
        (status(&e), coins_amount(&e["remaining"]), coins_amount(&e["amount"])),
        ("ESCROW_STATUS_OPEN", 300_000, 400_000)
    );
    c.tx_rejected(&["tx", "escrow", "release", "alice", &did, "--amount", "300001upay"], 22, "exceeds");
    c.check_invariants("(d) partly released");

    c.wait_block_time(refund_at);
    assert_eq!(status(&c.escrow(d_id)), "ESCROW_STATUS_OPEN", "still open past its deadline: the blockers go first");
    let tx = c.tx(&["tx", "escrow", "refund", "mallory", &did]);
    assert_eq!(coins_amount(&tx["refunded"]), 300_000, "{tx}");
    let ev = event(&tx, "escrow_refunded");
    assert_eq!(
        (ev["reason"].as_str(), ev["amount"].as_str(), ev["sender"].as_str()),
        ("deadline", "300000upay", alice)
    );
    assert_eq!(status(&c.escrow(d_id)), "ESCROW_STATUS_REFUNDED");
    assert_eq!(c.balance(bob), bob0 + 100_000, "the recipient keeps the released part");
    assert_eq!(c.balance(mallory), m0 - 2 * FEE, "whoever refunds pays only fees");
    // Sender, at the refund's height (blockers keep expiring meanwhile): -400000, 4 fees (create,
    // release, two refused), +300000 back, -blockers and their tx fee, +the blockers refunded by then.
    let h = tx["height"].as_str().unwrap();
    let blockers_back: u128 = blocker_ids
        .iter()
        .map(|id| c.query(&["query", "escrow", "escrow", &id.to_string(), "--height", h])["escrow"].clone())
        .filter(|e| status(e) == "ESCROW_STATUS_REFUNDED")
        .map(|e| coins_amount(&e["amount"]))
        .sum();
    assert!(blockers_back < blocked, "some blockers were still waiting when the refund went in");
    let alice_at_h = c.query(&["query", "bank", "balances", alice, "--denom", DENOM, "--height", h]);
    assert_eq!(
        alice_at_h["balance"]["amount"].as_str().unwrap().parse::<u128>().unwrap(),
        alice0 - 400_000 - 4 * FEE + 300_000 - blocked - blocker_fee + blockers_back
    );
    c.tx_rejected(&["tx", "escrow", "refund", "mallory", &did], 3, "closed");

    // The blockers: all refunded at expiry, one per block (max_expired_refunds_per_block = 1).
    c.wait_for("every blocker refunded", Duration::from_secs(60), || {
        blocker_ids.iter().all(|id| status(&c.escrow(*id)) == "ESCROW_STATUS_REFUNDED").then_some(())
    });
    let mut heights = Vec::new();
    for id in &blocker_ids {
        let q = format!("\"escrow_refunded.id='{id}'\"");
        let found = c.rpc("block_search", &[("query", q.as_str())]).unwrap();
        assert_eq!(found["blocks"].as_array().unwrap().len(), 1, "blocker {id}: {found}");
        heights.push(found["blocks"][0]["block"]["header"]["height"].as_str().unwrap().parse::<u64>().unwrap());
    }
    // Same deadline, so id order; strictly increasing heights = at most one per block.
    assert!(heights.windows(2).all(|w| w[0] < w[1]), "one expiry refund per block, in id order: {heights:?}");
    assert_eq!(c.balance(alice), alice0 - 400_000 - 4 * FEE + 300_000 - blocker_fee);
    c.check_invariants("(d) done");
    step(t0, "done");
}

/// Two sets of free ports with no port in common.
fn two_port_sets() -> (Ports, Ports) {
    loop {
        let (a, b) = (free_ports(), free_ports());
        let (pa, pb) = (a.all(), b.all());
        if !pa.iter().any(|p| pb.contains(p)) {
            return (a, b);
        }
    }
}

/// An atomic swap with one secret on two chains: Alice pays Bob 700000upay on
/// chain A, Bob pays Alice 300000upay on chain B. Bob's escrow has the shorter
/// deadline, so Alice must reveal the secret (by releasing on B) while Bob
/// still has time to use it on A.
#[test]
fn hash_locked_swap_between_two_chains() {
    if !cometbft_available("hash_locked_swap_between_two_chains") {
        return;
    }
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (ports_a, ports_b) = two_port_sets();
    // Both chains start together (each waits for its own blocks).
    let (a, b) = std::thread::scope(|s| {
        let root = tmp.path();
        let ha = s.spawn(move || Chain::start(root, "paychain-swap-a-1", ports_a, None));
        let hb = s.spawn(move || Chain::start(root, "paychain-swap-b-1", ports_b, None));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    step(t0, "two chains up; keys and funds");
    let defaults = serde_json::json!({
        "max_arbiters": 7, "max_reference_length": 140, "max_coins": 8, "max_expired_refunds_per_block": 100,
    });
    assert_eq!(a.query(&["query", "escrow", "params"])["params"], defaults, "default params");
    let fund = |c: &Chain| -> (String, String) {
        let (alice, bob) = (c.key("alice"), c.key("bob"));
        c.tx(&["tx", "bank", "multi-send", "dev", &alice, &bob, "10000000upay"]);
        (alice, bob)
    };
    let (alice_a, bob_a) = fund(&a);
    let (alice_b, bob_b) = fund(&b);

    step(t0, "Alice: secret, escrow on A for Bob (refund after 10 min)");
    let secret_file = tmp.path().join("alice-secret.hex");
    let lock = a.query(&["escrow", "new-secret", "--out", secret_file.to_str().unwrap()])["hash_lock"]
        .as_str()
        .unwrap()
        .to_string();
    let (id_a, _) = a.create(&[
        "alice",
        &bob_a,
        "700000upay",
        "--hash-lock",
        &lock,
        "--refund-after",
        "+10m",
        "--reference",
        "swap",
    ]);

    step(t0, "Bob: checks Alice's escrow on A, escrows on B for Alice with the same hash (refund after 5 min)");
    let ea = a.escrow(id_a);
    assert_eq!(
        (ea["recipient"].as_str(), status(&ea), coins_amount(&ea["remaining"])),
        (Some(bob_a.as_str()), "ESCROW_STATUS_OPEN", 700_000)
    );
    let lock_b64 = ea["hash_lock"].as_str().unwrap().to_string();
    let (id_b, _) = b.create(&[
        "bob",
        &alice_b,
        "300000upay",
        "--hash-lock",
        &lock_b64,
        "--refund-after",
        "+5m",
        "--reference",
        "swap",
    ]);
    let eb = b.escrow(id_b);
    assert_eq!(eb["hash_lock"], ea["hash_lock"], "same hash lock on both chains");
    let deadline = |e: &Value| tendermint::Time::parse_from_rfc3339(e["refund_after"].as_str().unwrap()).unwrap();
    assert!(deadline(&eb) < deadline(&ea), "Bob's escrow expires first");
    // Without the secret nobody can take either side.
    a.tx_rejected(&["tx", "escrow", "release", "bob", &id_a.to_string()], 23, "unauthorized");

    step(t0, "Alice: releases Bob's escrow on B with the secret");
    let alice_b0 = b.balance(&alice_b);
    b.tx(&["tx", "escrow", "release", "alice", &id_b.to_string(), "--secret-file", secret_file.to_str().unwrap()]);
    assert_eq!(b.balance(&alice_b), alice_b0 + 300_000 - FEE);

    step(t0, "Bob: reads the secret from B's escrow_released event (tx_search), releases on A");
    let q = format!("\"escrow_released.id='{id_b}'\"");
    let found = b.rpc("tx_search", &[("query", q.as_str())]).unwrap();
    let txs = found["txs"].as_array().unwrap();
    assert_eq!(txs.len(), 1, "{found}");
    let released = events(&txs[0]["tx_result"]["events"], "escrow_released");
    let secret = released[0]["secret"].clone();
    assert_eq!(secret.len(), 64, "{released:?}");
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(hex::decode(&secret).unwrap())), lock);
    let bob_a0 = a.balance(&bob_a);
    let tx = a.tx(&["tx", "escrow", "release", "bob", &id_a.to_string(), "--secret", &secret]);
    assert_eq!(event(&tx, "escrow_released")["released_by"], "secret");
    assert_eq!(a.balance(&bob_a), bob_a0 + 700_000 - FEE);

    for (c, id) in [(&a, id_a), (&b, id_b)] {
        let e = c.escrow(id);
        assert_eq!(status(&e), "ESCROW_STATUS_RELEASED", "{}: {e}", c.id);
        c.check_invariants("after the swap");
    }
    assert_eq!(a.balance(&alice_a), 10_000_000 - 700_000 - FEE);
    assert_eq!(b.balance(&bob_b), 10_000_000 - 300_000 - FEE);
    step(t0, "done");
}
