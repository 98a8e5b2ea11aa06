//! The gRPC server in-process: an app driven block by block (as in
//! `app_blocks.rs`), `grpc::serve` on a free port, and cosmos-sdk-proto's
//! generated tonic clients talking to it. Also raw calls (garbage bytes,
//! unknown methods, oversized messages) and a CometBFT outage.

mod common;

use common::accounts::{funded_app_state, numbered_key as key, signed_send, FUND};
use cosmos_sdk_proto::cosmos::auth::v1beta1::query_client::QueryClient as AuthClient;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest};
use cosmos_sdk_proto::cosmos::bank::v1beta1::query_client::QueryClient as BankClient;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryBalanceRequest};
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::service_client::ServiceClient as TmClient;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::GetNodeInfoRequest;
use paychain_framework::BlockTime;
use paychain_node::config::AppConfig;
use paychain_node::grpc::{RawCodec, HEIGHT_HEADER, MAX_MESSAGE_BYTES};
use paychain_node::served::ServedApp;
use prost::Message;
use tonic::transport::Channel;
use tonic::Code;

const CHAIN_ID: &str = "paychain-test-1";

/// A port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Fixture {
    app: ServedApp,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    url: String,
}

/// Height 1: genesis balances. Height 2: key 0 sent 1000 upay to key 1.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        minimum_gas_prices: "0.025upay".into(),
        cometbft_rpc: format!("http://127.0.0.1:{}", dead_port()),
        ..AppConfig::default()
    };
    let app = ServedApp::open(dir.path(), config).unwrap();
    app.init_chain(CHAIN_ID, 1, &funded_app_state(2)).unwrap();
    for (height, txs) in [(1u64, vec![]), (2, vec![signed_send(CHAIN_ID, 0, &key(1).1, 1000, 0)])] {
        let out =
            app.finalize_block(height, BlockTime { seconds: 1_700_000_000 + height as i64, nanos: 0 }, &txs).unwrap();
        for r in &out.tx_results {
            assert!(r.result.is_ok(), "{:?}", r.result);
        }
        app.commit().unwrap();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let addr = paychain_node::grpc::serve(app.clone(), "127.0.0.1:0".parse().unwrap(), runtime.handle()).unwrap();
    assert_ne!(addr.port(), 0);
    Fixture { app, _dir: dir, runtime, url: format!("http://{addr}") }
}

async fn channel(url: &str) -> Channel {
    Channel::from_shared(url.to_string()).unwrap().connect().await.unwrap()
}

/// A raw unary call: bytes in, bytes out.
async fn raw_call(ch: Channel, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(ch).max_decoding_message_size(64 << 20);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    grpc.unary(tonic::Request::new(body), path, RawCodec).await.map(|r| r.into_inner())
}

#[test]
fn grpc_serves_module_queries_heights_and_errors() {
    let fx = fixture();
    let (_, alice) = key(0);
    let (_, bob) = key(1);
    let fee = 5000u128;
    let url = fx.url.clone();
    fx.runtime.block_on(async move {
        let ch = channel(&url).await;
        let mut bank = BankClient::new(ch.clone());

        // Latest: bob got 1000, alice paid 1000 + fee.
        let req = QueryBalanceRequest { address: bob.to_string(), denom: "upay".into() };
        let resp = bank.balance(req.clone()).await.unwrap();
        assert_eq!(resp.metadata().get(HEIGHT_HEADER).unwrap(), "2");
        assert_eq!(resp.into_inner().balance.unwrap().amount, (FUND + 1000).to_string());

        // At height 1 (header honoured): the genesis balance.
        let mut old = tonic::Request::new(req.clone());
        old.metadata_mut().insert(HEIGHT_HEADER, "1".parse().unwrap());
        let resp = bank.balance(old).await.unwrap();
        assert_eq!(resp.metadata().get(HEIGHT_HEADER).unwrap(), "1");
        assert_eq!(resp.into_inner().balance.unwrap().amount, FUND.to_string());

        // Bad heights: future, negative, not a number.
        for h in ["3", "-1", "abc"] {
            let mut r = tonic::Request::new(req.clone());
            r.metadata_mut().insert(HEIGHT_HEADER, h.parse().unwrap());
            let err = bank.balance(r).await.unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "height {h}: {err:?}");
        }

        let all = bank
            .all_balances(QueryAllBalancesRequest { address: alice.to_string(), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(all.balances.len(), 1);
        assert_eq!(all.balances[0].amount, (FUND - 1000 - fee).to_string());

        // Account: existing (sequence bumped) and missing (NotFound).
        let mut auth = AuthClient::new(ch.clone());
        let acc = auth.account(QueryAccountRequest { address: alice.to_string() }).await.unwrap().into_inner();
        let any = acc.account.unwrap();
        assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
        let base = BaseAccount::decode(any.value.as_slice()).unwrap();
        assert_eq!((base.account_number, base.sequence), (0, 1));
        let (_, nobody) = key(7);
        let err = auth.account(QueryAccountRequest { address: nobody.to_string() }).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert!(err.message().contains("not found"), "{err:?}");

        // Garbage protobuf -> InvalidArgument.
        let err = raw_call(ch.clone(), "/cosmos.bank.v1beta1.Query/Balance", vec![0xFF, 0xFF, 0xFF]).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        // Unknown methods -> Unimplemented.
        let err = raw_call(ch.clone(), "/cosmos.bank.v1beta1.Query/Nope", vec![]).await.unwrap_err();
        assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
        let err = raw_call(ch.clone(), "/no.such.Service/Method", vec![]).await.unwrap_err();
        assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
        // Oversized message -> refused before any handler runs.
        let huge = vec![0x0A; MAX_MESSAGE_BYTES + 1024];
        let err = raw_call(ch.clone(), "/cosmos.bank.v1beta1.Query/Balance", huge).await.unwrap_err();
        // tonic answers OutOfRange ("decoded message length too large"); gRPC-go says ResourceExhausted.
        assert!(matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted), "{err:?}");

        // Raw call of a real query works and matches the generated client's answer.
        let bytes = raw_call(ch.clone(), "/cosmos.bank.v1beta1.Query/Balance", req.encode_to_vec()).await.unwrap();
        let decoded = cosmos_sdk_proto::cosmos::bank::v1beta1::QueryBalanceResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.balance.unwrap().amount, (FUND + 1000).to_string());

        // CometBFT is not running here: services that need it say Unavailable.
        let mut tm = TmClient::new(ch.clone());
        let err = tm.get_node_info(GetNodeInfoRequest {}).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(err.message().contains("CometBFT"), "{err:?}");

        // Still serving after all of that, on a fresh connection too.
        let mut bank = BankClient::new(channel(&url).await);
        let resp = bank.balance(req).await.unwrap().into_inner();
        assert_eq!(resp.balance.unwrap().amount, (FUND + 1000).to_string());
    });
    // Node config is local: answered without CometBFT.
    let cfg = paychain_node::query::query_grpc(&fx.app, "/cosmos.base.node.v1beta1.Service/Config", &[], 0).unwrap();
    let cfg = cosmos_sdk_proto::cosmos::base::node::v1beta1::ConfigResponse::decode(cfg.as_slice()).unwrap();
    assert_eq!(cfg.minimum_gas_price, "0.025upay");
}

#[test]
fn grpc_serve_reports_a_busy_port() {
    let fx = fixture();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = paychain_node::grpc::serve(fx.app.clone(), taken.local_addr().unwrap(), fx.runtime.handle()).unwrap_err();
    assert!(format!("{err:#}").contains("cannot listen for gRPC"), "{err:#}");
}
