//! What the IBC end-to-end tests ask of any Cosmos chain, ours or ibc-go's
//! simd alike, over the gRPC and REST interfaces relayers and wallets use:
//! heights, balances, supplies, channel ends, denom traces; plus ICS-20's
//! derivations (voucher denoms, escrow addresses) and the polling helpers.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cosmos_sdk_proto::cosmos::bank::v1beta1::query_client::QueryClient as BankClient;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QuerySupplyOfRequest};
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::service_client::ServiceClient as TmClient;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::GetLatestBlockRequest;
use ibc_proto::ibc::applications::transfer::v1::{DenomTrace, QueryDenomTraceRequest, QueryDenomTraceResponse};
use ibc_proto::ibc::core::channel::v1::{Channel as ChannelEnd, QueryChannelRequest, QueryChannelResponse};
use paychain_framework::Address;
use paychain_node::grpc::RawCodec;
use prost::Message;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

use super::{DevNode, Ports};

pub const PORT: &str = "transfer";

/// The voucher denom of `base` received over `port/channel`: `ibc/<HEX(sha256(path/base))>`.
pub fn voucher_denom(port: &str, channel: &str, base: &str) -> String {
    format!("ibc/{}", hex::encode_upper(Sha256::digest(format!("{port}/{channel}/{base}"))))
}

/// The ICS-20 escrow address of `port/channel` under `prefix`: first 20 bytes of sha256("ics20-1\0port/channel").
pub fn escrow_address(prefix: &str, port: &str, channel: &str) -> String {
    let digest = Sha256::digest(format!("ics20-1\0{port}/{channel}"));
    Address::from_bytes(digest[..20].to_vec()).unwrap().to_bech32_with_prefix(prefix)
}

/// A chain's gRPC endpoint (ours or any Cosmos SDK chain's), named for failure messages.
pub struct GrpcChain {
    pub id: String,
    pub grpc: Channel,
}

impl GrpcChain {
    /// A lazily connecting client of `127.0.0.1:port` (`rt` must be the runtime later calls use).
    pub fn new(rt: &Runtime, id: &str, port: u16) -> Self {
        let _rt = rt.enter(); // connect_lazy spawns onto the runtime
        let grpc = Channel::from_shared(format!("http://127.0.0.1:{port}")).unwrap().connect_lazy();
        GrpcChain { id: id.to_string(), grpc }
    }

    pub fn height(&self, rt: &Runtime) -> Option<i64> {
        rt.block_on(async {
            let b = TmClient::new(self.grpc.clone()).get_latest_block(GetLatestBlockRequest {}).await.ok()?;
            Some(b.into_inner().block?.header?.height)
        })
    }

    pub fn balance(&self, rt: &Runtime, addr: &str, denom: &str) -> u128 {
        rt.block_on(async {
            let r = BankClient::new(self.grpc.clone())
                .balance(QueryBalanceRequest { address: addr.to_string(), denom: denom.to_string() })
                .await
                .unwrap_or_else(|e| panic!("{}: Balance({addr}, {denom}): {e:?}", self.id));
            r.into_inner().balance.map_or(0, |c| c.amount.parse().unwrap())
        })
    }

    pub fn supply(&self, rt: &Runtime, denom: &str) -> u128 {
        rt.block_on(async {
            let r = BankClient::new(self.grpc.clone())
                .supply_of(QuerySupplyOfRequest { denom: denom.to_string() })
                .await
                .unwrap_or_else(|e| panic!("{}: SupplyOf({denom}): {e:?}", self.id));
            r.into_inner().amount.map_or(0, |c| c.amount.parse().unwrap())
        })
    }

    /// Waits until the chain is at height `h` or more; `assert_running` fails the test
    /// if its node died, `log_tail` is shown if the height does not come.
    pub fn wait_height(
        &self,
        rt: &Runtime,
        h: i64,
        within: Duration,
        assert_running: &dyn Fn(),
        log_tail: &dyn Fn() -> String,
    ) {
        let deadline = Instant::now() + within;
        loop {
            if self.height(rt).is_some_and(|x| x >= h) {
                return;
            }
            assert_running();
            assert!(Instant::now() < deadline, "{}: no height {h} within {within:?}; log:\n{}", self.id, log_tail());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A unary gRPC call by method path, with prost messages (for services without a generated client here).
    pub fn unary<Req: Message, Resp: Message + Default>(
        &self,
        rt: &Runtime,
        path: &'static str,
        req: Req,
    ) -> Result<Resp, String> {
        rt.block_on(async {
            let mut grpc = tonic::client::Grpc::new(self.grpc.clone());
            grpc.ready().await.map_err(|e| format!("unavailable: {e}"))?;
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
            let bytes = grpc
                .unary(tonic::Request::new(req.encode_to_vec()), path, RawCodec)
                .await
                .map_err(|e| format!("{e:?}"))?
                .into_inner();
            Resp::decode(bytes.as_slice()).map_err(|e| format!("decoding the response: {e}"))
        })
    }

    /// ibc.core.channel.v1.Query/Channel.
    pub fn channel_end(&self, rt: &Runtime, port: &str, channel: &str) -> Result<ChannelEnd, String> {
        let req = QueryChannelRequest { port_id: port.into(), channel_id: channel.into() };
        let resp: QueryChannelResponse = self.unary(rt, "/ibc.core.channel.v1.Query/Channel", req)?;
        resp.channel.ok_or_else(|| "no channel in the response".to_string())
    }

    /// Asserts (over gRPC) that `transfer/<channel>` is an OPEN, unordered `ics20-1`
    /// channel whose counterparty is `transfer/<counterparty>`.
    pub fn assert_open_transfer_channel(
        &self,
        rt: &Runtime,
        channel: &str,
        counterparty: &str,
        context: &dyn Fn() -> String,
    ) {
        let end = self
            .channel_end(rt, PORT, channel)
            .unwrap_or_else(|e| panic!("{}: Query/Channel {PORT}/{channel}: {e}{}", self.id, context()));
        assert_eq!(end.state, 3, "{}: {channel} must be OPEN (3): {end:?}{}", self.id, context());
        assert_eq!(end.ordering, 1, "{}: {channel} must be unordered: {end:?}", self.id);
        assert_eq!(end.version, "ics20-1", "{}: {end:?}", self.id);
        let cp = end.counterparty.as_ref().unwrap();
        assert_eq!((cp.port_id.as_str(), cp.channel_id.as_str()), (PORT, counterparty), "{}: {end:?}", self.id);
    }

    /// ibc.applications.transfer.v1.Query/DenomTrace of `ibc/<HASH>` (or the bare hash).
    pub fn denom_trace(&self, rt: &Runtime, denom: &str) -> Result<DenomTrace, String> {
        let hash = denom.strip_prefix("ibc/").unwrap_or(denom).to_string();
        let resp: QueryDenomTraceResponse =
            self.unary(rt, "/ibc.applications.transfer.v1.Query/DenomTrace", QueryDenomTraceRequest { hash })?;
        resp.denom_trace.ok_or_else(|| "no denom_trace in the response".to_string())
    }
}

/// A `paychaind dev` chain in an IBC test, with its dev account (mnemonic in its home).
pub struct DevChain {
    pub id: &'static str,
    pub home: PathBuf,
    /// `ports.rpc` is the node's RPC front, which Hermes, the CLI and CosmJS use; CometBFT's
    /// own indexer is off (`dev`'s default), so `tx`, `tx_search` and `block_search` come from
    /// the node's index.
    pub ports: Ports,
    /// In a RefCell: `assert_running` needs `&mut`, the checks share `&DevChain`.
    node: RefCell<DevNode>,
    q: GrpcChain,
    pub dev_addr: String,
    pub dev_mnemonic: PathBuf,
}

impl DevChain {
    pub fn start(rt: &Runtime, root: &Path, id: &'static str, ports: Ports) -> DevChain {
        let home = root.join(id);
        let node = DevNode::start_with(&home, &ports, &format!("{id}.log"), &["--chain-id", id]);
        let mut chain = DevChain {
            id,
            home,
            q: GrpcChain::new(rt, id, ports.grpc),
            ports,
            node: RefCell::new(node),
            dev_addr: String::new(),
            dev_mnemonic: PathBuf::new(),
        };
        chain.wait_height(rt, 2, Duration::from_secs(120));
        chain.dev_mnemonic = chain.home.join("dev-mnemonic.txt");
        let secret = super::dev_secret(&chain.home);
        chain.dev_addr = paychain_client::keyring::address_of(&secret).to_string();
        chain
    }

    pub fn log_tail(&self) -> String {
        self.node.borrow().log_tail()
    }

    /// Waits until the chain is at height `h` or more (failing if the node died).
    pub fn wait_height(&self, rt: &Runtime, h: i64, within: Duration) {
        self.q.wait_height(rt, h, within, &|| self.node.borrow_mut().assert_running(), &|| self.log_tail());
    }

    /// `paychaind tx bank send dev <to> <amount>upay` on this chain, waiting for the block.
    /// `paychaind keys add <name>` in this chain's test keyring: the new address.
    pub fn add_key(&self, name: &str) -> String {
        let out = super::clean_command()
            .arg("--home")
            .arg(&self.home)
            .args(["keys", "add", name, "--keyring-backend", "test", "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: keys add {name}: {}", self.id, String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["address"].as_str().unwrap().to_string()
    }

    /// `paychaind tx <args>` (signed by the key the command names as its sender, from this
    /// chain's test keyring), waited for.
    fn cli_tx_output(&self, args: &[&str]) -> std::process::Output {
        let node = format!("http://127.0.0.1:{}", self.ports.rpc);
        super::clean_command()
            .arg("--home")
            .arg(&self.home)
            .arg("tx")
            .args(args)
            .args(["--fees", "5000upay", "--gas", "400000", "--keyring-backend", "test", "--node", &node])
            .args(["--yes", "--wait", "-o", "json"])
            .output()
            .unwrap()
    }

    /// [`DevChain::cli_tx_output`] of a tx that must fail in its block with `codespace`/`code`:
    /// the TxResponse JSON.
    pub fn cli_tx_refused(&self, args: &[&str], codespace: &str, code: u64) -> Value {
        let out = self.cli_tx_output(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{}: tx {args:?}: no TxResponse ({e}): {stdout}", self.id));
        assert!(!out.status.success(), "{}: tx {args:?} should fail: {v}", self.id);
        assert_eq!((v["codespace"].as_str(), v["code"].as_u64()), (Some(codespace), Some(code)), "{}: {v}", self.id);
        v
    }

    /// [`DevChain::cli_tx_output`] of a tx that must succeed: the TxResponse JSON.
    pub fn cli_tx(&self, args: &[&str]) -> Value {
        let out = self.cli_tx_output(args);
        assert!(
            out.status.success(),
            "{}: tx {args:?}: {}\n{}\n{}",
            self.id,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `paychaind query <args>` against this chain: its JSON.
    pub fn cli_query(&self, args: &[&str]) -> Value {
        let node = format!("http://127.0.0.1:{}", self.ports.rpc);
        let out = super::clean_command()
            .arg("--home")
            .arg(&self.home)
            .arg("query")
            .args(args)
            .args(["--node", &node, "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: query {args:?}: {}", self.id, String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn send_from_dev(&self, to: &str, amount: u128) {
        self.cli_tx(&["bank", "send", "dev", to, &format!("{amount}upay")]);
    }
}

impl std::ops::Deref for DevChain {
    type Target = GrpcChain;
    fn deref(&self) -> &GrpcChain {
        &self.q
    }
}

/// An IBC test's directory (kept afterwards with IBC_E2E_KEEP=1, for a look at
/// the homes, logs and Hermes files; removed with the returned guard otherwise)
/// and its tokio runtime.
pub fn test_env() -> (Option<tempfile::TempDir>, PathBuf, Runtime) {
    let tmp = tempfile::tempdir().unwrap();
    let (guard, root) = if std::env::var_os("IBC_E2E_KEEP").is_some() {
        (None, tmp.keep())
    } else {
        let root = tmp.path().to_path_buf();
        (Some(tmp), root)
    };
    eprintln!("   test directory: {}", root.display());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    (guard, root, rt)
}

/// GET `http://127.0.0.1:<port><path>` as JSON: (HTTP status, body).
pub fn rest_get(port: u16, path: &str) -> (u16, Value) {
    let url = format!("http://127.0.0.1:{port}{path}");
    let resp = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(&url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The JSON's shape: every object key and every value's JSON type, values
/// left out ("string", "number", ...), arrays by their first element.
pub fn json_shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), json_shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(json_shape).into_iter().collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

/// Polls `f` until it returns `Some`, at most `within`; panics with `what` and `context()` otherwise.
pub fn wait_for<T>(what: &str, within: Duration, context: &dyn Fn() -> String, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            eprintln!("   ... {what}: after {:.1?}", started.elapsed());
            return v;
        }
        if started.elapsed() > within {
            panic!("timed out after {within:?} waiting for: {what}{}", context());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A progress line: time since `t0`, step number, what it does.
pub fn step(n: &str, what: &str, t0: Instant) {
    eprintln!("[{:>6.1?}] == {n}. {what}", t0.elapsed());
}

/// A one-line summary of a JSON value for the progress output.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}...", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}
