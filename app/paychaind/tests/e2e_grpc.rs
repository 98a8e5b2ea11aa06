//! The gRPC services that need CometBFT, end to end: `paychaind dev` on free
//! loopback ports, then cosmos-sdk-proto's generated clients over gRPC:
//! node info, blocks, validators, consensus params, node config, and a signed
//! send broadcast with BroadcastTx, found again with GetTx and GetTxsEvent.
//!
//! Skipped (with a message) only when the `cometbft` binary is not installed,
//! and never under CI (`CI` set).

mod common;
use common::{cometbft_available, dev_secret, free_ports, DevNode, MIN_GAS_PRICE};
use std::time::{Duration, Instant};

use cosmos_sdk_proto::cosmos::auth::v1beta1::query_client::QueryClient as AuthClient;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::node::v1beta1::service_client::ServiceClient as NodeClient;
use cosmos_sdk_proto::cosmos::base::node::v1beta1::{ConfigRequest, StatusRequest};
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::service_client::ServiceClient as TmClient;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{
    GetBlockByHeightRequest, GetLatestBlockRequest, GetLatestValidatorSetRequest, GetNodeInfoRequest, GetSyncingRequest,
};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::service_client::ServiceClient as TxClient;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    BroadcastMode, BroadcastTxRequest, Fee, GetTxRequest, GetTxsEventRequest, OrderBy,
};
use cosmos_sdk_proto::Any;
use paychain_client::tx::{build_signed_tx, tx_body, SignerData};
use paychain_node::grpc::RawCodec;
use paychain_node::services::{QueryConsensusParamsRequest, QueryConsensusParamsResponse};
use prost::Message;
use tonic::transport::Channel;
use tonic::Code;

async fn raw_call(ch: Channel, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(ch);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    grpc.unary(tonic::Request::new(body), path, RawCodec).await.map(|r| r.into_inner())
}

#[test]
fn grpc_services_against_a_dev_chain() {
    if !cometbft_available("grpc_services_against_a_dev_chain") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ports = free_ports();
    let mut dev = DevNode::start(&home, &ports, "dev.log");
    let url = format!("http://127.0.0.1:{}", ports.grpc);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Wait for the gRPC server and the first block.
    let deadline = Instant::now() + Duration::from_secs(120);
    let ch = loop {
        dev.assert_running();
        let attempt = rt.block_on(async {
            let ch = Channel::from_shared(url.clone()).unwrap().connect().await.ok()?;
            let b = TmClient::new(ch.clone()).get_latest_block(GetLatestBlockRequest {}).await.ok()?;
            let h = b.into_inner().block?.header?.height;
            // CometBFT stores a block before the app commits it: wait for the second.
            (h >= 2).then_some(ch)
        });
        if let Some(ch) = attempt {
            break ch;
        }
        assert!(Instant::now() < deadline, "no block within 120 s; log:\n{}", dev.log_tail());
        std::thread::sleep(Duration::from_millis(300));
    };
    let started = Instant::now();

    let secret = dev_secret(&home);
    let dev_addr = paychain_client::keyring::address_of(&secret);

    rt.block_on(async {
        let mut tm = TmClient::new(ch.clone());
        let info = tm.get_node_info(GetNodeInfoRequest {}).await.unwrap().into_inner();
        let node = info.default_node_info.unwrap();
        let chain_id = node.network.clone();
        assert_eq!(chain_id, "paychain-dev-1");
        assert!(node.version.starts_with("0.38."), "{}", node.version);
        let app_version = info.application_version.unwrap();
        assert_eq!(app_version.app_name, "paychaind");
        assert_eq!(app_version.version, env!("CARGO_PKG_VERSION"));
        assert!(!tm.get_syncing(GetSyncingRequest {}).await.unwrap().into_inner().syncing);

        let latest = tm.get_latest_block(GetLatestBlockRequest {}).await.unwrap().into_inner();
        let header = latest.block.unwrap().header.unwrap();
        assert_eq!(header.chain_id, chain_id);
        let sdk_header = latest.sdk_block.unwrap().header.unwrap();
        assert!(sdk_header.proposer_address.starts_with("payvalcons1"), "{}", sdk_header.proposer_address);
        assert!(latest.block_id.unwrap().hash.len() == 32);

        let vals =
            tm.get_latest_validator_set(GetLatestValidatorSetRequest { pagination: None }).await.unwrap().into_inner();
        assert_eq!(vals.validators.len(), 1);
        assert_eq!(vals.validators[0].address, sdk_header.proposer_address);
        assert_eq!(vals.validators[0].pub_key.as_ref().unwrap().type_url, "/cosmos.crypto.ed25519.PubKey");

        // A height beyond the chain is InvalidArgument.
        let err = tm.get_block_by_height(GetBlockByHeightRequest { height: 1 << 40 }).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

        // Consensus params (cosmpy needs block.max_gas) and node config/status.
        let bytes =
            raw_call(ch.clone(), "/cosmos.consensus.v1.Query/Params", QueryConsensusParamsRequest {}.encode_to_vec())
                .await
                .unwrap();
        let params = QueryConsensusParamsResponse::decode(bytes.as_slice()).unwrap().params.unwrap();
        let block = params.block.unwrap();
        assert!(block.max_gas == -1 || block.max_gas > 0, "{block:?}");
        assert!(block.max_bytes > 0);

        let mut node_svc = NodeClient::new(ch.clone());
        let cfg = node_svc.config(ConfigRequest {}).await.unwrap().into_inner();
        assert_eq!(cfg.minimum_gas_price, MIN_GAS_PRICE);
        let status = node_svc.status(StatusRequest {}).await.unwrap().into_inner();
        assert!(status.height >= 1);
        assert_eq!(status.app_hash.len(), 32);
        assert!(status.timestamp.is_some());

        // A signed send through BroadcastTx.
        let mut auth = AuthClient::new(ch.clone());
        let acc = auth.account(QueryAccountRequest { address: dev_addr.to_string() }).await.unwrap().into_inner();
        let acc = BaseAccount::decode(acc.account.unwrap().value.as_slice()).unwrap();
        let to = paychain_client::keyring::address_of(&secp256k1::SecretKey::from_slice(&[7u8; 32]).unwrap());
        let msg = MsgSend {
            from_address: dev_addr.to_string(),
            to_address: to.to_string(),
            amount: vec![ProtoCoin { denom: "upay".into(), amount: "4242".into() }],
        };
        let body = tx_body(
            vec![Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }],
            "grpc e2e",
            0,
        );
        let fee = Fee {
            amount: vec![ProtoCoin { denom: "upay".into(), amount: "5000".into() }],
            gas_limit: 200_000,
            ..Default::default()
        };
        let signer = SignerData {
            key: &secret,
            chain_id: &chain_id,
            account_number: acc.account_number,
            sequence: acc.sequence,
        };
        let tx_bytes = build_signed_tx(&body, fee, &signer);
        let hash = paychain_client::tx::tx_hash(&tx_bytes);

        let mut txs = TxClient::new(ch.clone());
        // BLOCK mode is gone since SDK v0.47.
        let err = txs
            .broadcast_tx(BroadcastTxRequest { tx_bytes: tx_bytes.clone(), mode: BroadcastMode::Block as i32 })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        // Not committed yet: NotFound with "tx not found".
        let err = txs.get_tx(GetTxRequest { hash: hash.clone() }).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert!(err.message().contains("tx not found"), "{err:?}");

        let resp = txs
            .broadcast_tx(BroadcastTxRequest { tx_bytes: tx_bytes.clone(), mode: BroadcastMode::Sync as i32 })
            .await
            .unwrap()
            .into_inner()
            .tx_response
            .unwrap();
        assert_eq!(resp.code, 0, "{resp:?}");
        assert_eq!(resp.txhash, hash);
        // The same tx again: CometBFT's cache says it exists (SDK code 19), not an RPC error.
        let again = txs
            .broadcast_tx(BroadcastTxRequest { tx_bytes, mode: BroadcastMode::Sync as i32 })
            .await
            .unwrap()
            .into_inner()
            .tx_response
            .unwrap();
        assert_ne!(again.code, 0, "{again:?}");

        // GetTx polls until the block commits.
        let deadline = Instant::now() + Duration::from_secs(30);
        let got = loop {
            match txs.get_tx(GetTxRequest { hash: hash.clone() }).await {
                Ok(r) => break r.into_inner(),
                Err(e) if e.code() == Code::NotFound && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Err(e) => panic!("GetTx: {e:?}"),
            }
        };
        let tr = got.tx_response.unwrap();
        assert_eq!((tr.code, tr.txhash.as_str()), (0, hash.as_str()), "{tr:?}");
        assert!(tr.height >= 1 && tr.gas_used > 0 && tr.gas_wanted == 200_000);
        assert!(tr.timestamp.ends_with('Z') && tr.timestamp.len() == 20, "{}", tr.timestamp);
        assert_eq!(tr.tx.as_ref().unwrap().type_url, "/cosmos.tx.v1beta1.Tx");
        assert!(tr.events.iter().any(|e| e.r#type == "transfer"));
        assert_eq!(got.tx.unwrap().body.unwrap().memo, "grpc e2e");

        // GetTxsEvent by sender (v0.50 `query`), and with the deprecated `events`.
        let by_sender = txs
            .get_txs_event(GetTxsEventRequest {
                query: format!("message.sender='{dev_addr}'"),
                order_by: OrderBy::Desc as i32,
                page: 1,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(by_sender.total >= 1);
        assert!(by_sender.tx_responses.iter().any(|t| t.txhash == hash), "{by_sender:?}");
        assert_eq!(by_sender.txs.len(), by_sender.tx_responses.len());
        #[allow(deprecated)]
        let by_events = txs
            .get_txs_event(GetTxsEventRequest {
                events: vec![format!("transfer.recipient='{to}'"), format!("tx.height={}", tr.height)],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(by_events.tx_responses.len(), 1, "{by_events:?}");
        assert_eq!(by_events.tx_responses[0].txhash, hash);
        let err = txs.get_txs_event(GetTxsEventRequest::default()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

        // The same handlers answer ABCI queries through CometBFT's RPC.
        let rpc = paychain_client::rpc::NodeClient::new(&format!("http://127.0.0.1:{}", ports.rpc)).unwrap();
        let cfg: cosmos_sdk_proto::cosmos::base::node::v1beta1::ConfigResponse =
            rpc.grpc_query("/cosmos.base.node.v1beta1.Service/Config", &ConfigRequest {}, None).await.unwrap();
        assert_eq!(cfg.minimum_gas_price, MIN_GAS_PRICE);
        let via_abci: cosmos_sdk_proto::cosmos::tx::v1beta1::GetTxResponse = rpc
            .grpc_query("/cosmos.tx.v1beta1.Service/GetTx", &GetTxRequest { hash: hash.clone() }, None)
            .await
            .unwrap();
        assert_eq!(via_abci.tx_response.unwrap().txhash, hash);

        // The tx's block, by height.
        let b = tm.get_block_by_height(GetBlockByHeightRequest { height: tr.height }).await.unwrap().into_inner();
        assert_eq!(b.block.unwrap().data.unwrap().txs.len(), 1);
    });
    eprintln!("grpc e2e checks took {:?} after the first block", started.elapsed());
    dev.assert_running();
}
