//! The host contexts over in-memory state: what ibc-rs stores comes back the same, under the
//! ICS-24 paths counterparties prove; counters, sequences and consensus-state ordering.

use std::time::Duration;

use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::ConsensusState as TmConsensusStateType;
use ibc::core::channel::types::channel::{ChannelEnd, Counterparty as ChanCounterparty, Order, State as ChanState};
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::channel::types::Version as ChanVersion;
use ibc::core::client::context::{ClientExecutionContext, ClientValidationContext, ExtClientValidationContext};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::{CommitmentPrefix, CommitmentRoot};
use ibc::core::connection::types::version::Version as ConnVersion;
use ibc::core::connection::types::{ConnectionEnd, Counterparty, State as ConnState};
use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, CommitmentPath, ConnectionPath,
    ReceiptPath, SeqSendPath,
};
use ibc::core::host::{ExecutionContext, ValidationContext};
use paychain_framework::{BlockInfo, BlockTime, CacheState, Context, ExecMode, GasMeter, StateRead};

use crate::host::{HostEnv, IbcHost};
use crate::keys::IBC_STORE;
use crate::HostParams;

fn block() -> BlockInfo {
    BlockInfo { height: 20, time: BlockTime { seconds: 1_700_000_000, nanos: 5 }, chain_id: "paychain-a-1".into() }
}

fn with_host(state: &mut CacheState, f: impl FnOnce(&mut IbcHost)) {
    let block = block();
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Finalize, state, &gas);
    let mut host = IbcHost::new(&mut ctx, HostEnv::new(&block, HostParams::default()).unwrap());
    f(&mut host);
}

fn consensus_state(n: u8) -> TmConsensusState {
    TmConsensusStateType::new(
        CommitmentRoot::from_bytes(&[n; 32]),
        tendermint::Time::from_unix_timestamp(1_700_000_000 + i64::from(n), 0).unwrap(),
        tendermint::Hash::Sha256([n; 32]),
    )
    .into()
}

#[test]
fn host_height_and_time_come_from_the_block() {
    let mut state = CacheState::in_memory();
    with_host(&mut state, |host| {
        assert_eq!(ValidationContext::host_height(host).unwrap(), Height::new(1, 20).unwrap());
        assert_eq!(ValidationContext::host_timestamp(host).unwrap().nanoseconds(), 1_700_000_000_000_000_005);
        assert_eq!(host.commitment_prefix(), CommitmentPrefix::from_bytes("ibc"));
        assert_eq!(host.max_expected_time_per_block(), Duration::from_secs(30));
        // Served in ibc-go's unit, nanoseconds (Hermes compares it with its `max_block_time`).
        let params = <ibc_proto::ibc::core::connection::v1::QueryConnectionParamsResponse as prost::Message>::decode(
            super::query::connection_params(host).as_slice(),
        )
        .unwrap();
        assert_eq!(params.params.unwrap().max_expected_time_per_block, 30_000_000_000);
        assert!(host.validate_message_signer(&"pay1notanaddress".to_string().into()).is_err());
    });
}

#[test]
fn connections_channels_and_packets_round_trip_under_ics24_paths() {
    let mut state = CacheState::in_memory();
    let client = ClientId::new("07-tendermint", 0).unwrap();
    let conn_id = ConnectionId::new(0);
    let (port, chan) = (PortId::transfer(), ChannelId::new(0));
    let conn = ConnectionEnd::new(
        ConnState::Init,
        client.clone(),
        Counterparty::new(client.clone(), None, CommitmentPrefix::from_bytes("ibc")),
        ConnVersion::compatibles(),
        Duration::ZERO,
    )
    .unwrap();
    let channel = ChannelEnd::new(
        ChanState::Open,
        Order::Unordered,
        ChanCounterparty::new(port.clone(), Some(ChannelId::new(3))),
        vec![conn_id.clone()],
        ChanVersion::new("ics20-1".into()),
    )
    .unwrap();
    with_host(&mut state, |host| {
        assert_eq!(host.connection_counter().unwrap(), 0);
        host.store_connection(&ConnectionPath::new(&conn_id), conn.clone()).unwrap();
        host.store_connection_to_client(&ClientConnectionPath::new(client.clone()), conn_id.clone()).unwrap();
        host.store_connection_to_client(&ClientConnectionPath::new(client.clone()), ConnectionId::new(1)).unwrap();
        host.increase_connection_counter().unwrap();
        host.increase_connection_counter().unwrap();
        host.store_channel(&ChannelEndPath::new(&port, &chan), channel.clone()).unwrap();
        host.store_next_sequence_send(&SeqSendPath::new(&port, &chan), Sequence::from(7)).unwrap();
        let cpath = CommitmentPath::new(&port, &chan, Sequence::from(6));
        host.store_packet_commitment(&cpath, PacketCommitment::from(vec![9; 32])).unwrap();
        let rpath = ReceiptPath::new(&port, &chan, Sequence::from(2));
        host.store_packet_receipt(&rpath, Receipt::Ok).unwrap();
        let apath = AckPath::new(&port, &chan, Sequence::from(2));
        host.store_packet_acknowledgement(&apath, AcknowledgementCommitment::from(vec![8; 32])).unwrap();
    });
    // Under the ICS-24 path strings in the ibc substore, as counterparties prove them.
    for key in [
        "connections/connection-0",
        "clients/07-tendermint-0/connections",
        "channelEnds/ports/transfer/channels/channel-0",
        "nextSequenceSend/ports/transfer/channels/channel-0",
        "commitments/ports/transfer/channels/channel-0/sequences/6",
        "receipts/ports/transfer/channels/channel-0/sequences/2",
        "acks/ports/transfer/channels/channel-0/sequences/2",
    ] {
        assert!(state.get(IBC_STORE, key.as_bytes()).unwrap().is_some(), "{key} stored");
    }
    assert_eq!(state.get(IBC_STORE, b"receipts/ports/transfer/channels/channel-0/sequences/2").unwrap(), Some(vec![1]));
    with_host(&mut state, |host| {
        assert_eq!(host.connection_end(&conn_id).unwrap(), conn);
        assert_eq!(host.connection_counter().unwrap(), 2);
        assert_eq!(host.channel_end(&ChannelEndPath::new(&port, &chan)).unwrap(), channel);
        assert_eq!(host.get_next_sequence_send(&SeqSendPath::new(&port, &chan)).unwrap(), Sequence::from(7));
        let c6 = CommitmentPath::new(&port, &chan, Sequence::from(6));
        assert_eq!(host.get_packet_commitment(&c6).unwrap(), PacketCommitment::from(vec![9; 32]));
        let r2 = ReceiptPath::new(&port, &chan, Sequence::from(2));
        let r3 = ReceiptPath::new(&port, &chan, Sequence::from(3));
        assert!(matches!(host.get_packet_receipt(&r2).unwrap(), Receipt::Ok));
        assert!(matches!(host.get_packet_receipt(&r3).unwrap(), Receipt::None));
        host.delete_packet_commitment(&c6).unwrap();
        assert!(host.get_packet_commitment(&c6).is_err());
        assert!(host.connection_end(&ConnectionId::new(5)).is_err());
        use ibc_query::core::context::QueryContext;
        let conns = host.client_connection_ends(&ClientId::new("07-tendermint", 0).unwrap()).unwrap();
        assert_eq!(conns, vec![ConnectionId::new(0), ConnectionId::new(1)]);
        assert_eq!(host.channel_ends().unwrap().len(), 1);
        let path = ChannelEndPath::new(&port, &chan);
        let seqs = [1u64, 2, 3].map(Sequence::from);
        assert_eq!(
            host.unreceived_packets(&path, seqs.into_iter()).unwrap(),
            vec![Sequence::from(1), Sequence::from(3)]
        );
    });
}

#[test]
fn consensus_states_are_ordered_by_height_not_by_path_string() {
    let mut state = CacheState::in_memory();
    let client = ClientId::new("07-tendermint", 0).unwrap();
    let path = |h: u64| ClientConsensusStatePath::new(client.clone(), 1, h);
    with_host(&mut state, |host| {
        for h in [9u64, 10, 2, 100] {
            host.store_consensus_state(path(h), consensus_state(h as u8)).unwrap();
            host.store_update_meta(
                client.clone(),
                Height::new(1, h).unwrap(),
                ibc::primitives::Timestamp::from_nanoseconds(h * 1000),
                Height::new(1, 20).unwrap(),
            )
            .unwrap();
        }
    });
    with_host(&mut state, |host| {
        let heights: Vec<u64> =
            host.consensus_state_heights(&client).unwrap().iter().map(|h| h.revision_height()).collect();
        assert_eq!(heights, vec![2, 9, 10, 100]);
        let h = |n| Height::new(1, n).unwrap();
        assert_eq!(host.next_consensus_state(&client, &h(9)).unwrap(), Some(consensus_state(10)));
        assert_eq!(host.next_consensus_state(&client, &h(10)).unwrap(), Some(consensus_state(100)));
        assert_eq!(host.prev_consensus_state(&client, &h(10)).unwrap(), Some(consensus_state(9)));
        assert_eq!(host.prev_consensus_state(&client, &h(2)).unwrap(), None);
        assert_eq!(host.next_consensus_state(&client, &h(100)).unwrap(), None);
        let (t, at) = host.client_update_meta(&client, &h(10)).unwrap();
        assert_eq!((t.nanoseconds(), at), (10_000, h(20)));
        host.delete_consensus_state(path(10)).unwrap();
        host.delete_update_meta(client.clone(), h(10)).unwrap();
        assert_eq!(host.next_consensus_state(&client, &h(9)).unwrap(), Some(consensus_state(100)));
        assert!(host.consensus_state(&path(10)).is_err());
        assert!(host.client_update_meta(&client, &h(10)).is_err());
    });
}

#[test]
fn a_state_failure_is_reported_as_itself_not_as_an_ibc_error() {
    let block = block();
    let gas = GasMeter::new(1_500);
    let mut state = CacheState::in_memory();
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state, &gas);
    let mut host = IbcHost::new(&mut ctx, HostEnv::new(&block, HostParams::default()).unwrap());
    // Out of gas on the write: ibc-rs sees a host error, the app must see out-of-gas (sdk/11).
    assert!(host.increase_client_counter().is_err());
    let failure = host.take_state_failure().expect("the state failure is kept");
    assert_eq!((failure.codespace.as_ref(), failure.code), ("sdk", 11));
}
