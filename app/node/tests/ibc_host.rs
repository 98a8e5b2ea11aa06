//! The IBC host in process: proofs from our store checked by ibc-rs's own 07-tendermint
//! membership / non-membership verification (what a counterparty runs), the history of our
//! own consensus states, `validate_self_client`, and bad IBC messages refused with no state
//! change.

mod common;

use std::time::Duration;

use common::accounts::{funded_app_state, numbered_key};
use cosmos_sdk_proto::Any;
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::types::{AllowUpdate, ClientState as TmClientStateType, TrustThreshold};
use ibc::core::client::context::client_state::ClientStateCommon;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::{CommitmentPrefix, CommitmentProofBytes, CommitmentRoot};
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::host::types::identifiers::{ChainId, ChannelId, PortId, Sequence};
use ibc::core::host::types::path::{CommitmentPath, Path, ReceiptPath};
use ibc::core::host::ValidationContext;
use paychain_app::app::StoreView;
use paychain_client::tx::{build_signed_tx, fee, tx_body, SignerData};
use paychain_framework::{BlockInfo, BlockTime, CacheState, Context, ExecMode, GasMeter, StateRead};
use paychain_ibc::{proof_specs, HostEnv, IbcHost, IBC_STORE};
use paychain_node::config::AppConfig;
use paychain_node::served::ServedApp;
use paychain_store::{MerkleStore, StoreConfig};
use prost::Message;
use tendermint_proto::v0_38::abci::RequestQuery;

const CHAIN_ID: &str = "paychain-a-1";

/// The client a counterparty holds of us, as Hermes creates it from our chain's config.
fn client_of_us(latest: u64) -> TmClientState {
    TmClientStateType::new(
        ChainId::new(CHAIN_ID).unwrap(),
        TrustThreshold::TWO_THIRDS,
        Duration::from_secs(14 * 24 * 3600),
        Duration::from_secs(paychain_ibc::genesis::DEFAULT_UNBONDING_SECS),
        Duration::from_secs(5),
        Height::new(1, latest).unwrap(),
        proof_specs(),
        vec!["upgrade".into(), "upgradedIBCState".into()],
        AllowUpdate { after_expiry: true, after_misbehaviour: true },
    )
    .unwrap()
    .into()
}

fn prefix() -> CommitmentPrefix {
    CommitmentPrefix::from_bytes(IBC_STORE)
}

fn commitment_path(seq: u64) -> CommitmentPath {
    CommitmentPath::new(&PortId::transfer(), &ChannelId::new(0), Sequence::from(seq))
}

fn receipt_path(seq: u64) -> ReceiptPath {
    ReceiptPath::new(&PortId::transfer(), &ChannelId::new(0), Sequence::from(seq))
}

fn commit(store: &MerkleStore, version: u64, writes: &[(String, Option<Vec<u8>>)]) -> [u8; 32] {
    let mut changes = paychain_store::ChangeSet::new();
    for (k, v) in writes {
        changes.entry(IBC_STORE.to_string()).or_default().insert(k.clone().into_bytes(), v.clone());
    }
    let prepared = store.prepare(version, &changes).unwrap();
    let hash = prepared.app_hash;
    store.commit(prepared).unwrap();
    hash
}

fn proof_at(store: &MerkleStore, version: u64, key: &str) -> CommitmentProofBytes {
    let bytes = StoreView::new(store, Some(version)).commitment_proof(IBC_STORE, key.as_bytes()).unwrap().unwrap();
    CommitmentProofBytes::try_from(bytes).unwrap()
}

#[test]
fn store_proofs_verify_with_ibc_rs_tendermint_client() {
    let dir = tempfile::tempdir().unwrap();
    let store = MerkleStore::open(
        dir.path(),
        StoreConfig { substores: vec!["bank".into(), IBC_STORE.into()], retention: None },
    )
    .unwrap();
    let c1 = commitment_path(1).to_string();
    let c2 = commitment_path(2).to_string();
    let r7 = receipt_path(7).to_string();
    let root1 = commit(&store, 1, &[(c1.clone(), Some(vec![0xAA; 32])), (c2.clone(), Some(vec![0xBB; 32]))]);
    let root2 = commit(&store, 2, &[(c1.clone(), None), (r7.clone(), Some(vec![1]))]);
    let client = client_of_us(1);
    let root = |h: [u8; 32]| CommitmentRoot::from_bytes(&h);

    // Existence: the right value under the right root verifies; anything else does not.
    let p = proof_at(&store, 1, &c1);
    client
        .verify_membership(&prefix(), &p, &root(root1), Path::Commitment(commitment_path(1)), vec![0xAA; 32])
        .unwrap();
    let forged =
        client.verify_membership(&prefix(), &p, &root(root1), Path::Commitment(commitment_path(1)), vec![0xAB; 32]);
    assert!(forged.is_err(), "a proof must not verify another value");
    let stale =
        client.verify_membership(&prefix(), &p, &root(root2), Path::Commitment(commitment_path(1)), vec![0xAA; 32]);
    assert!(stale.is_err(), "a proof of height 1 must not verify against the root of height 2");
    let wrong_path =
        client.verify_membership(&prefix(), &p, &root(root1), Path::Commitment(commitment_path(2)), vec![0xAA; 32]);
    assert!(wrong_path.is_err(), "a proof of one path must not verify another");
    let other_prefix = client.verify_membership(
        &CommitmentPrefix::from_bytes("bank"),
        &p,
        &root(root1),
        Path::Commitment(commitment_path(1)),
        vec![0xAA; 32],
    );
    assert!(other_prefix.is_err(), "the substore level binds the ibc prefix");

    // Non-existence (packet timeouts): the deleted commitment and a never-written receipt.
    let gone = proof_at(&store, 2, &c1);
    client.verify_non_membership(&prefix(), &gone, &root(root2), Path::Commitment(commitment_path(1))).unwrap();
    let no_receipt = proof_at(&store, 1, &receipt_path(7).to_string());
    client.verify_non_membership(&prefix(), &no_receipt, &root(root1), Path::Receipt(receipt_path(7))).unwrap();
    // ...but absence cannot be shown for what is there, nor presence for what is not.
    let present = proof_at(&store, 2, &r7);
    assert!(client.verify_non_membership(&prefix(), &present, &root(root2), Path::Receipt(receipt_path(7))).is_err());
    client.verify_membership(&prefix(), &present, &root(root2), Path::Receipt(receipt_path(7)), vec![1]).unwrap();
    assert!(client
        .verify_membership(&prefix(), &gone, &root(root2), Path::Commitment(commitment_path(1)), vec![0xAA; 32])
        .is_err());
    // A counterparty configured with the SDK's IAVL specs rejects our proofs.
    let iavl_client: TmClientState = {
        let mut inner = client.inner().clone();
        inner.proof_specs = ProofSpecs::cosmos();
        inner.into()
    };
    assert!(iavl_client
        .verify_membership(&prefix(), &p, &root(root1), Path::Commitment(commitment_path(1)), vec![0xAA; 32])
        .is_err());
}

fn app_with(dir: &std::path::Path, ibc_genesis: serde_json::Value) -> ServedApp {
    let app =
        ServedApp::open(dir, AppConfig { minimum_gas_prices: "0.025upay".into(), ..AppConfig::default() }).unwrap();
    let mut state: serde_json::Value = serde_json::from_slice(&funded_app_state(3)).unwrap();
    state["ibc"] = ibc_genesis;
    app.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
    app
}

fn time(h: u64) -> BlockTime {
    BlockTime { seconds: 1_700_000_000 + h as i64 * 2, nanos: 7 }
}

fn next_vals(h: u64) -> Vec<u8> {
    vec![h as u8; 32]
}

/// A host over committed state at `height` (as queries build it).
fn with_host<R>(app: &ServedApp, height: u64, f: impl FnOnce(&IbcHost) -> R) -> R {
    let view = StoreView::new(app.store(), Some(height));
    let block = BlockInfo { height, time: time(height), chain_id: CHAIN_ID.into() };
    let params = paychain_ibc::host_params(&view).unwrap();
    let mut cache = CacheState::new(&view);
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Simulate, &mut cache, &gas);
    let host = IbcHost::new(&mut ctx, HostEnv::new(&block, params).unwrap());
    f(&host)
}

#[test]
fn self_consensus_states_follow_the_headers_and_the_history_window() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(dir.path(), serde_json::json!({"params": {"historical_entries": 3}}));
    let mut header_app_hash = vec![app.store().latest_app_hash().map(|h| h.to_vec()).unwrap_or_default()];
    let genesis_hash = {
        // The first header carries the InitChain app hash: re-derive it from a twin app.
        let twin_dir = tempfile::tempdir().unwrap();
        let twin = ServedApp::open(twin_dir.path(), AppConfig::default()).unwrap();
        let mut state: serde_json::Value = serde_json::from_slice(&funded_app_state(3)).unwrap();
        state["ibc"] = serde_json::json!({"params": {"historical_entries": 3}});
        twin.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap().to_vec()
    };
    header_app_hash[0] = genesis_hash;
    for h in 1..=6u64 {
        let out = app.finalize_block_with(h, time(h), &next_vals(h), &[]).unwrap();
        app.commit().unwrap();
        header_app_hash.push(out.app_hash.to_vec());
    }
    with_host(&app, 6, |host| {
        for h in 4..=6u64 {
            let cs = host.host_consensus_state(&Height::new(1, h).unwrap()).unwrap();
            assert_eq!(cs.inner().root.as_bytes(), header_app_hash[(h - 1) as usize].as_slice(), "root at {h}");
            assert_eq!(cs.next_validators_hash().as_bytes(), next_vals(h).as_slice());
            let t = cs.timestamp().unix_timestamp_nanos();
            assert_eq!(t, (time(h).seconds as i128) * 1_000_000_000 + 7);
        }
        let pruned = host.host_consensus_state(&Height::new(1, 3).unwrap());
        assert!(pruned.is_err(), "height 3 is outside a 3-entry window at height 6");
        assert!(host.host_consensus_state(&Height::new(2, 5).unwrap()).is_err(), "other revision");
        assert_eq!(host.host_height().unwrap(), Height::new(1, 6).unwrap());
    });
}

#[test]
fn validate_self_client_checks_what_a_counterparty_holds_of_us() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(dir.path(), serde_json::Value::Null);
    for h in 1..=10u64 {
        app.finalize_block_with(h, time(h), &next_vals(h), &[]).unwrap();
        app.commit().unwrap();
    }
    with_host(&app, 10, |host| {
        host.validate_self_client(client_of_us(9)).unwrap();
        let mut bad: Vec<(&str, TmClientState)> = Vec::new();
        let mut c = client_of_us(9).inner().clone();
        c.chain_id = ChainId::new("paychain-b-1").unwrap();
        bad.push(("chain id", c.into()));
        let mut c = client_of_us(9).inner().clone();
        c.proof_specs = ProofSpecs::cosmos();
        bad.push(("proof specs", c.into()));
        let mut c = client_of_us(9).inner().clone();
        c.unbonding_period = Duration::from_secs(3600 * 24 * 30);
        bad.push(("unbonding period", c.into()));
        let mut c = client_of_us(9).inner().clone();
        c.upgrade_path = vec!["upgrade".into(), "elsewhere".into()];
        bad.push(("upgrade path", c.into()));
        bad.push(("height not below ours", client_of_us(10)));
        let mut c = client_of_us(9).inner().clone();
        c.latest_height = Height::new(2, 5).unwrap();
        bad.push(("revision", c.into()));
        for (what, cs) in bad {
            assert!(host.validate_self_client(cs).is_err(), "a client with a wrong {what} must be refused");
        }
    });
}

#[test]
fn abci_store_query_proofs_are_what_hermes_turns_into_merkle_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(dir.path(), serde_json::Value::Null);
    let mut hashes = Vec::new();
    for h in 1..=3u64 {
        hashes.push(app.finalize_block_with(h, time(h), &next_vals(h), &[]).unwrap().app_hash);
        app.commit().unwrap();
    }
    let client = client_of_us(3);
    // Our consensus state at height 2, as stored under its key in the ibc substore.
    let key = [&b"selfConsensusStates/"[..], &2u64.to_be_bytes()[..]].concat();
    let resp = paychain_node::query::handle_abci_query(
        &app,
        &RequestQuery { path: "store/ibc/key".into(), data: key.clone().into(), height: 2, prove: true },
    );
    assert_eq!(resp.code, 0, "{}", resp.log);
    assert!(!resp.value.is_empty());
    // Hermes: each op's data is a CommitmentProof, leaf level first, into a MerkleProof.
    let ops = resp.proof_ops.unwrap().ops;
    assert_eq!(ops.len(), 2);
    let merkle = ibc_proto::ibc::core::commitment::v1::MerkleProof {
        proofs: ops.iter().map(|op| ibc_proto::ics23::CommitmentProof::decode(op.data.as_slice()).unwrap()).collect(),
    };
    let proof = CommitmentProofBytes::try_from(merkle).unwrap();
    // The root after block 2 is what header 3 carries.
    let root = CommitmentRoot::from_bytes(&hashes[1]);
    client
        .verify_membership_raw(&prefix(), &proof, &root, key.clone().into(), resp.value.to_vec())
        .expect("store/ibc/key proof verifies against the app hash of its height");
    assert!(client
        .verify_membership_raw(
            &prefix(),
            &proof,
            &CommitmentRoot::from_bytes(&hashes[2]),
            key.into(),
            resp.value.to_vec()
        )
        .is_err());
}

/// A signed tx carrying `msgs` from account 0.
fn tx(msgs: Vec<Any>, sequence: u64) -> Vec<u8> {
    let (secret, _) = numbered_key(0);
    let body = tx_body(msgs, "", 0);
    build_signed_tx(
        &body,
        fee(&"10000upay".parse().unwrap(), 400_000),
        &SignerData { key: &secret, chain_id: CHAIN_ID, account_number: 0, sequence },
    )
}

fn transfer(denom: &str, amount: &str, channel: &str, memo: String, timeout_ts: u64) -> Any {
    let (_, sender) = numbered_key(0);
    let msg = ibc_proto::ibc::applications::transfer::v1::MsgTransfer {
        source_port: "transfer".into(),
        source_channel: channel.into(),
        token: Some(ibc_proto::cosmos::base::v1beta1::Coin { denom: denom.into(), amount: amount.into() }),
        sender: sender.to_string(),
        receiver: "pay1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v".into(),
        timeout_height: None,
        timeout_timestamp: timeout_ts,
        memo,
    };
    Any { type_url: "/ibc.applications.transfer.v1.MsgTransfer".into(), value: msg.encode_to_vec() }
}

#[test]
fn bad_ibc_messages_are_refused_and_change_nothing_but_the_fee() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(dir.path(), serde_json::Value::Null);
    app.finalize_block_with(1, time(1), &next_vals(1), &[]).unwrap();
    app.commit().unwrap();
    let far = 4_000_000_000_000_000_000u64;

    // Stateless: refused at CheckTx, before any state is touched.
    let stateless = [
        ("oversized memo", transfer("upay", "10", "channel-0", "m".repeat(32_769), far)),
        ("zero amount", transfer("upay", "0", "channel-0", String::new(), far)),
        ("malformed denom", transfer("transfer/channel-0/", "10", "channel-0", String::new(), far)),
        ("no timeout", transfer("upay", "10", "channel-0", String::new(), 0)),
    ];
    for (what, msg) in stateless {
        let out = app.check_tx(&tx(vec![msg], 0), false);
        assert!(out.result.is_err(), "{what} must be refused at CheckTx");
    }

    // Stateful: unknown channel, unknown voucher, a packet for a channel that does not exist.
    let recv = ibc_proto::ibc::core::channel::v1::MsgRecvPacket {
        packet: Some(ibc_proto::ibc::core::channel::v1::Packet {
            sequence: 1,
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            destination_port: "transfer".into(),
            destination_channel: "channel-9".into(),
            data: br#"{"denom":"upay","amount":"1","sender":"a","receiver":"b"}"#.to_vec(),
            timeout_height: Some(ibc_proto::ibc::core::client::v1::Height {
                revision_number: 1,
                revision_height: 1000,
            }),
            timeout_timestamp: 0,
        }),
        proof_commitment: vec![1, 2, 3],
        proof_height: Some(ibc_proto::ibc::core::client::v1::Height { revision_number: 1, revision_height: 1 }),
        signer: numbered_key(0).1.to_string(),
    };
    let stateful = [
        transfer("upay", "10", "channel-0", String::new(), far),
        transfer(
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
            "10",
            "channel-0",
            String::new(),
            far,
        ),
        Any { type_url: "/ibc.core.channel.v1.MsgRecvPacket".into(), value: recv.encode_to_vec() },
    ];
    let txs: Vec<Vec<u8>> = stateful.into_iter().enumerate().map(|(i, m)| tx(vec![m], i as u64)).collect();
    let before = app.export_app_state().unwrap();
    let out = app.finalize_block_with(2, time(2), &next_vals(2), &txs).unwrap();
    app.commit().unwrap();
    for (i, r) in out.tx_results.iter().enumerate() {
        let err = r.result.as_ref().expect_err("must fail");
        assert!(!err.log.is_empty(), "tx {i} has a reason");
        eprintln!("tx {i}: {} {} {}", err.codespace, err.code, err.log);
    }
    let after = app.export_app_state().unwrap();
    assert_eq!(before["ibc"], after["ibc"]);
    assert_eq!(before["transfer"], after["transfer"]);
    let supply = |s: &serde_json::Value| s["bank"]["supply"].clone();
    assert_eq!(supply(&before), supply(&after), "no mint or burn");
    app.check_invariants().unwrap();
}
