//! IBC for paychain: ibc-rs 0.57's core handlers (07-tendermint client, connections,
//! channels, packets) over our state store, and ICS-20 fungible token transfer over our bank.
//!
//! Two modules, as in the Cosmos SDK: `ibc` (core messages, the `ibc` substore that
//! counterparties prove against, core queries, our own consensus state history) and
//! `transfer` (`MsgTransfer`, vouchers, denom traces, escrow totals, transfer queries).
//! A relayer (Hermes) needs nothing else from the chain beyond what `query` serves.

pub mod events;
pub mod genesis;
pub mod host;
pub mod keys;
pub mod msgs;
pub mod query;
pub mod transfer;
mod transfer_query;
pub mod types;

use std::sync::Arc;

use cosmos_sdk_proto::cosmos::staking::v1beta1::{Params as StakingParams, QueryParamsResponse};
use cosmos_sdk_proto::Any;
use ibc::apps::transfer::handler::send_transfer;
use ibc::apps::transfer::types::msgs::transfer::MsgTransfer as DomainMsgTransfer;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::ConsensusState as TmConsensusStateType;
use ibc::core::channel::types::channel::Order;
use ibc::core::channel::types::msgs::PacketMsg;
use ibc::core::commitment_types::commitment::CommitmentRoot;
use ibc::core::entrypoint::dispatch;
use ibc::core::handler::types::error::HandlerError;
use ibc::core::handler::types::msgs::MsgEnvelope;
use ibc::core::host::types::identifiers::{ChannelId, PortId, Sequence};
use ibc::core::host::types::path::{ChannelEndPath, CommitmentPath, ReceiptPath, SeqRecvPath, SeqSendPath};
use ibc::core::host::ValidationContext;
use ibc_proto::ibc::core::channel::v1::ResponseResultType;
use paychain_auth::AuthKeeper;
use paychain_bank::BankKeeper;
use paychain_framework::module::downcast;
use paychain_framework::{
    sdk, BlockHeader, BlockInfo, CacheState, Context, ExecMode, GasMeter, Module, Msg, MsgResponse, QueryError,
    SdkError, StateRead,
};
use prost::Message;

pub use genesis::TransferGenesis;
pub use host::{proof_specs, HostEnv, IbcHost};
pub use keys::{IBC_STORE, TRANSFER_STORE};
pub use types::HostParams;

use crate::host::block_timestamp;
use crate::msgs::{IbcCoreMsg, TransferMsg};
use crate::transfer::{TransferApp, TransferRouter};

pub const IBC_MODULE_NAME: &str = "ibc";
pub const TRANSFER_MODULE_NAME: &str = "transfer";
pub const STAKING_PARAMS_PATH: &str = "/cosmos.staking.v1beta1.Query/Params";
/// Key (in the `ibc` substore) of the chain id, so queries can build the host.
const CHAIN_ID_KEY: &[u8] = b"hostChainId";

/// Host parameters from state (defaults before genesis wrote them).
pub fn host_params(state: &dyn StateRead) -> Result<HostParams, SdkError> {
    match state.get(IBC_STORE, keys::HOST_PARAMS)? {
        None => Ok(HostParams::default()),
        Some(b) => serde_json::from_slice(&b).map_err(|e| SdkError::fatal(format!("ibc: corrupt host params: {e}"))),
    }
}

/// An IBC error in a tx result: codespace by layer, and the ibc-rs text.
fn handler_error(e: HandlerError) -> SdkError {
    let codespace = match &e {
        HandlerError::Client(_) => "client",
        HandlerError::Connection(_) => "connection",
        HandlerError::Channel(_) => "channel",
        HandlerError::Router(_) => "port",
    };
    SdkError::new(codespace, 2, e.to_string())
}

/// Runs `f` with the IBC host and the transfer router over the message's context; a failure
/// of the state underneath (out of gas, storage) wins over the IBC error it caused.
fn with_host<T, E>(
    ctx: &mut Context,
    bank: &Arc<BankKeeper>,
    auth: &Arc<AuthKeeper>,
    f: impl FnOnce(&mut IbcHost, &mut TransferRouter) -> Result<T, E>,
    on_err: impl FnOnce(E) -> SdkError,
) -> Result<T, SdkError> {
    let params = host_params(ctx)?;
    let env = HostEnv::new(ctx.block, params)?;
    let mut host = IbcHost::new(ctx, env);
    let mut router = TransferRouter { app: TransferApp::new(host.clone(), bank.clone(), auth.clone()) };
    let result = f(&mut host, &mut router);
    if let Some(failure) = host.take_state_failure() {
        return Err(failure);
    }
    result.map_err(on_err)
}

/// True when another relayer got this packet message in first: the packet is
/// already received (MsgRecvPacket), or its commitment is gone because it was
/// acknowledged or timed out (MsgAcknowledgement, MsgTimeout(OnClose)). ibc-go
/// answers these with a NOOP success before verifying any proof, so that two
/// relayers racing for a packet waste no fees and log no errors; ibc-rs 0.57
/// does so for acknowledgements and timeouts but refuses a second MsgRecvPacket
/// ("packet acknowledgment for sequence already exists"). A storage failure
/// here is kept by the host and wins in [`with_host`].
fn packet_msg_is_redundant(host: &IbcHost, msg: &PacketMsg) -> bool {
    let commitment_gone = |port: &PortId, channel: &ChannelId, seq: Sequence| {
        host.get_packet_commitment(&CommitmentPath::new(port, channel, seq)).is_err()
    };
    match msg {
        PacketMsg::Recv(m) => {
            let p = &m.packet;
            let Ok(end) = host.channel_end(&ChannelEndPath::new(&p.port_id_on_b, &p.chan_id_on_b)) else {
                return false; // no such channel: the handler's own error
            };
            match end.ordering {
                Order::Unordered => host
                    .get_packet_receipt(&ReceiptPath::new(&p.port_id_on_b, &p.chan_id_on_b, p.seq_on_a))
                    .is_ok_and(|r| r.is_ok()),
                Order::Ordered => host
                    .get_next_sequence_recv(&SeqRecvPath::new(&p.port_id_on_b, &p.chan_id_on_b))
                    .is_ok_and(|next| p.seq_on_a < next),
                Order::None => false,
            }
        }
        PacketMsg::Ack(m) => commitment_gone(&m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a),
        PacketMsg::Timeout(m) => commitment_gone(&m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a),
        PacketMsg::TimeoutOnClose(m) => {
            commitment_gone(&m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a)
        }
    }
}

/// IBC core: clients, connections, channels, packets.
pub struct IbcModule {
    bank: Arc<BankKeeper>,
    auth: Arc<AuthKeeper>,
}

impl IbcModule {
    pub fn new(bank: Arc<BankKeeper>, auth: Arc<AuthKeeper>) -> Self {
        Self { bank, auth }
    }
}

/// A host over committed state for a query.
fn query_host<R>(state: &dyn StateRead, f: impl FnOnce(&IbcHost) -> Result<R, QueryError>) -> Result<R, QueryError> {
    let internal = |e: SdkError| QueryError::new(paychain_framework::GrpcCode::Internal, e.log);
    let height = query::query_height(state);
    let chain_id = state
        .get(IBC_STORE, CHAIN_ID_KEY)
        .map_err(internal)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let params = host_params(state).map_err(internal)?;
    // The block time of a committed height is that of its own consensus state.
    let time = state
        .get(IBC_STORE, &keys::self_consensus_state(height))
        .map_err(internal)?
        .and_then(|b| host::decode_any::<TmConsensusState>(&b, "self consensus state").ok())
        .map(|cs| {
            let t = cs.timestamp();
            let nanos = t.unix_timestamp_nanos();
            paychain_framework::BlockTime {
                seconds: (nanos / 1_000_000_000) as i64,
                nanos: (nanos % 1_000_000_000) as i32,
            }
        })
        .unwrap_or_default();
    let block = BlockInfo { height, time, chain_id };
    let env = HostEnv::new(&block, params).map_err(internal)?;
    let mut cache = CacheState::new(state);
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Simulate, &mut cache, &gas);
    let host = IbcHost::for_query(&mut ctx, env, state);
    f(&host)
}

macro_rules! ibc_queries {
    ($path:expr, $host:expr, $req:expr; $($layer:ident: $name:literal => $raw_req:ident, $raw_resp:ident, $handler:ident;)*) => {
        match $path {
            $(
                concat!("/ibc.core.", stringify!($layer), ".v1.Query/", $name) => query::run::<
                    ibc_proto::ibc::core::$layer::v1::$raw_req,
                    ibc_query::core::$layer::$raw_req,
                    _,
                    ibc_proto::ibc::core::$layer::v1::$raw_resp,
                >($host, $req, |h, r| ibc_query::core::$layer::$handler(h, r)),
            )*
            other => Err(QueryError::unimplemented(format!("unknown query path {other}"))),
        }
    };
}

macro_rules! ibc_query_paths {
    ($($layer:ident: $name:literal,)*) => {
        &[$(concat!("/ibc.core.", stringify!($layer), ".v1.Query/", $name),)* STAKING_PARAMS_PATH]
    };
}

/// The IBC core queries Hermes makes, and the staking Params.
const IBC_QUERY_PATHS: &[&str] = ibc_query_paths! {
    client: "ClientState", client: "ClientStates", client: "ConsensusState", client: "ConsensusStates",
    client: "ConsensusStateHeights", client: "ClientStatus", client: "ClientParams",
    connection: "Connection", connection: "Connections", connection: "ClientConnections",
    connection: "ConnectionClientState", connection: "ConnectionConsensusState", connection: "ConnectionParams",
    channel: "Channel", channel: "Channels", channel: "ConnectionChannels", channel: "ChannelClientState",
    channel: "ChannelConsensusState", channel: "PacketCommitment", channel: "PacketCommitments",
    channel: "PacketReceipt", channel: "PacketAcknowledgement", channel: "PacketAcknowledgements",
    channel: "UnreceivedPackets", channel: "UnreceivedAcks", channel: "NextSequenceReceive",
    channel: "NextSequenceSend",
};

fn core_query(host: &IbcHost, path: &str, req: &[u8]) -> Result<Vec<u8>, QueryError> {
    if path == "/ibc.core.client.v1.Query/ClientParams" {
        use ibc_proto::ibc::core::client::v1::{Params, QueryClientParamsResponse};
        let params = Params { allowed_clients: vec!["07-tendermint".to_string()] };
        return Ok(QueryClientParamsResponse { params: Some(params) }.encode_to_vec());
    }
    if path == "/ibc.core.connection.v1.Query/ConnectionParams" {
        return Ok(connection_params(host));
    }
    ibc_queries! { path, host, req;
        client: "ClientState" => QueryClientStateRequest, QueryClientStateResponse, query_client_state;
        client: "ClientStates" => QueryClientStatesRequest, QueryClientStatesResponse, query_client_states;
        client: "ConsensusState" => QueryConsensusStateRequest, QueryConsensusStateResponse, query_consensus_state;
        client: "ConsensusStates" => QueryConsensusStatesRequest, QueryConsensusStatesResponse, query_consensus_states;
        client: "ConsensusStateHeights" => QueryConsensusStateHeightsRequest, QueryConsensusStateHeightsResponse,
            query_consensus_state_heights;
        client: "ClientStatus" => QueryClientStatusRequest, QueryClientStatusResponse, query_client_status;
        connection: "Connection" => QueryConnectionRequest, QueryConnectionResponse, query_connection;
        connection: "Connections" => QueryConnectionsRequest, QueryConnectionsResponse, query_connections;
        connection: "ClientConnections" => QueryClientConnectionsRequest, QueryClientConnectionsResponse,
            query_client_connections;
        connection: "ConnectionClientState" => QueryConnectionClientStateRequest, QueryConnectionClientStateResponse,
            query_connection_client_state;
        connection: "ConnectionConsensusState" => QueryConnectionConsensusStateRequest,
            QueryConnectionConsensusStateResponse, query_connection_consensus_state;
        channel: "Channel" => QueryChannelRequest, QueryChannelResponse, query_channel;
        channel: "Channels" => QueryChannelsRequest, QueryChannelsResponse, query_channels;
        channel: "ConnectionChannels" => QueryConnectionChannelsRequest, QueryConnectionChannelsResponse,
            query_connection_channels;
        channel: "ChannelClientState" => QueryChannelClientStateRequest, QueryChannelClientStateResponse,
            query_channel_client_state;
        channel: "ChannelConsensusState" => QueryChannelConsensusStateRequest, QueryChannelConsensusStateResponse,
            query_channel_consensus_state;
        channel: "PacketCommitment" => QueryPacketCommitmentRequest, QueryPacketCommitmentResponse,
            query_packet_commitment;
        channel: "PacketCommitments" => QueryPacketCommitmentsRequest, QueryPacketCommitmentsResponse,
            query_packet_commitments;
        channel: "PacketReceipt" => QueryPacketReceiptRequest, QueryPacketReceiptResponse, query_packet_receipt;
        channel: "PacketAcknowledgement" => QueryPacketAcknowledgementRequest, QueryPacketAcknowledgementResponse,
            query_packet_acknowledgement;
        channel: "PacketAcknowledgements" => QueryPacketAcknowledgementsRequest, QueryPacketAcknowledgementsResponse,
            query_packet_acknowledgements;
        channel: "UnreceivedPackets" => QueryUnreceivedPacketsRequest, QueryUnreceivedPacketsResponse,
            query_unreceived_packets;
        channel: "UnreceivedAcks" => QueryUnreceivedAcksRequest, QueryUnreceivedAcksResponse, query_unreceived_acks;
        channel: "NextSequenceReceive" => QueryNextSequenceReceiveRequest, QueryNextSequenceReceiveResponse,
            query_next_sequence_receive;
        channel: "NextSequenceSend" => QueryNextSequenceSendRequest, QueryNextSequenceSendResponse,
            query_next_sequence_send;
    }
}

/// ibc-go's connection Params: `max_expected_time_per_block` in nanoseconds (ibc-rs 0.57's
/// `query_connection_params` puts seconds there, which Hermes reads as a 30 ns block time).
fn connection_params(host: &IbcHost) -> Vec<u8> {
    use ibc_proto::ibc::core::connection::v1::{Params, QueryConnectionParamsResponse};
    let nanos = u64::try_from(host.max_expected_time_per_block().as_nanos()).unwrap_or(u64::MAX);
    QueryConnectionParamsResponse { params: Some(Params { max_expected_time_per_block: nanos }) }.encode_to_vec()
}

/// The SDK staking Params relayers read: the unbonding period from genesis and a non-zero
/// history (this chain has no staking module; validators are fixed in genesis).
fn staking_params(state: &dyn StateRead) -> Result<Vec<u8>, QueryError> {
    let p = host_params(state).map_err(|e| QueryError::new(paychain_framework::GrpcCode::Internal, e.log))?;
    let params = StakingParams {
        unbonding_time: Some(tendermint_proto::google::protobuf::Duration {
            seconds: p.unbonding_secs as i64,
            nanos: 0,
        }),
        max_validators: 100,
        max_entries: 7,
        historical_entries: u32::try_from(p.historical_entries).unwrap_or(u32::MAX),
        bond_denom: String::new(),
        min_commission_rate: "0".to_string(),
    };
    Ok(QueryParamsResponse { params: Some(params) }.encode_to_vec())
}

impl Module for IbcModule {
    fn name(&self) -> &'static str {
        IBC_MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[IBC_STORE]
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        msgs::CORE_MSGS
    }

    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        Ok(Box::new(IbcCoreMsg::decode(msg)?))
    }

    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        let m = downcast::<IbcCoreMsg>(msg)?;
        let envelope = m.envelope.clone();
        let result = with_host(
            ctx,
            &self.bank,
            &self.auth,
            |host, router| {
                if let MsgEnvelope::Packet(packet_msg) = &envelope {
                    if packet_msg_is_redundant(host, packet_msg) {
                        return Ok(ResponseResultType::Noop);
                    }
                }
                dispatch(host, router, envelope).map(|()| ResponseResultType::Success)
            },
            handler_error,
        )?;
        let value = match &m.envelope {
            // ibc-go's packet message responses: `result` (field 1) says NOOP or SUCCESS.
            MsgEnvelope::Packet(_) => {
                ibc_proto::ibc::core::channel::v1::MsgRecvPacketResponse { result: result as i32 }.encode_to_vec()
            }
            _ => Vec::new(),
        };
        Ok(MsgResponse { type_url: format!("{}Response", m.type_url), value })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        IBC_QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        if path == STAKING_PARAMS_PATH {
            return staking_params(state);
        }
        query_host(state, |host| core_query(host, path, request))
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let params = HostParams::from_json(genesis).map_err(sdk::invalid_request)?;
        let bytes = serde_json::to_vec(&params).map_err(|e| SdkError::fatal(e.to_string()))?;
        ctx.set(IBC_STORE, keys::HOST_PARAMS.to_vec(), bytes)?;
        let chain_id = ctx.block.chain_id.clone();
        ibc::core::host::types::identifiers::ChainId::new(&chain_id)
            .map_err(|e| sdk::invalid_request(format!("chain id {chain_id:?} is not usable for IBC: {e}")))?;
        ctx.set(IBC_STORE, CHAIN_ID_KEY.to_vec(), chain_id.into_bytes())
    }

    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        HostParams::from_json(genesis).map(|_| ())
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        Ok(host_params(state)?.to_json())
    }

    /// Records our consensus state at this height (what a counterparty's client of us stores
    /// for it: the header's app hash, time and next validators hash) and drops the one that
    /// fell out of the history window: one write and one delete per block.
    fn begin_block(&self, ctx: &mut Context, header: &BlockHeader) -> Result<(), SdkError> {
        let params = host_params(ctx)?;
        let height = ctx.block.height;
        let time = block_timestamp(ctx.block);
        let time = tendermint::Time::from_unix_timestamp(
            i64::try_from(time.nanoseconds() / 1_000_000_000).unwrap_or(0),
            (time.nanoseconds() % 1_000_000_000) as u32,
        )
        .map_err(|e| SdkError::fatal(format!("ibc: block time: {e}")))?;
        let next_vals = tendermint::Hash::from_bytes(tendermint::hash::Algorithm::Sha256, &header.next_validators_hash)
            .map_err(|e| SdkError::fatal(format!("ibc: next validators hash: {e}")))?;
        let cs = TmConsensusStateType::new(CommitmentRoot::from_bytes(&header.app_hash), time, next_vals);
        let value = ibc_proto::google::protobuf::Any::from(TmConsensusState::from(cs)).encode_to_vec();
        ctx.set(IBC_STORE, keys::self_consensus_state(height), value)?;
        if let Some(old) = height.checked_sub(params.historical_entries) {
            ctx.delete(IBC_STORE, keys::self_consensus_state(old))?;
        }
        Ok(())
    }
}

/// ICS-20 fungible token transfer.
pub struct TransferModule {
    bank: Arc<BankKeeper>,
    auth: Arc<AuthKeeper>,
}

impl TransferModule {
    pub fn new(bank: Arc<BankKeeper>, auth: Arc<AuthKeeper>) -> Self {
        Self { bank, auth }
    }

    /// `MsgTransfer` with an `ibc/<HASH>` token names the voucher; ibc-rs needs its full trace
    /// to tell a return (burn) from a send (escrow).
    fn resolve_denom(&self, state: &dyn StateRead, denom: &str) -> Result<String, SdkError> {
        let Some(hash) = denom.strip_prefix(transfer::VOUCHER_PREFIX) else { return Ok(denom.to_string()) };
        match transfer::denom_trace(state, hash)? {
            Some(trace) => Ok(trace.full_path()),
            None => Err(sdk::invalid_coins(format!("{denom}: denomination trace not found"))),
        }
    }
}

impl Module for TransferModule {
    fn name(&self) -> &'static str {
        TRANSFER_MODULE_NAME
    }

    fn store_keys(&self) -> &'static [&'static str] {
        &[TRANSFER_STORE]
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        &[msgs::MSG_TRANSFER]
    }

    fn decode_msg(&self, msg: &Any) -> Result<Box<dyn Msg>, SdkError> {
        Ok(Box::new(TransferMsg::decode(msg)?))
    }

    fn deliver(&self, ctx: &mut Context, msg: &dyn Msg) -> Result<MsgResponse, SdkError> {
        let m = downcast::<TransferMsg>(msg)?;
        let mut raw = m.raw.clone();
        if let Some(token) = raw.token.as_mut() {
            token.denom = self.resolve_denom(ctx, &token.denom)?;
        }
        let domain = DomainMsgTransfer::try_from(raw).map_err(|e| sdk::invalid_request(format!("MsgTransfer: {e}")))?;
        let seq_path = SeqSendPath::new(&domain.port_id_on_a, &domain.chan_id_on_a);
        let sequence = with_host(
            ctx,
            &self.bank,
            &self.auth,
            |host, router| {
                let sequence = host.get_next_sequence_send(&seq_path).map(u64::from).unwrap_or(0);
                send_transfer(host, &mut router.app, domain).map(|()| sequence)
            },
            |e| SdkError::new(TRANSFER_MODULE_NAME, 2, e.to_string()),
        )?;
        let resp = ibc_proto::ibc::applications::transfer::v1::MsgTransferResponse { sequence };
        Ok(MsgResponse { type_url: msgs::MSG_TRANSFER_RESPONSE.into(), value: resp.encode_to_vec() })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        transfer_query::QUERY_PATHS
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        transfer_query::query(state, path, request)
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let g = TransferGenesis::from_json(genesis).map_err(sdk::invalid_request)?;
        ctx.set(TRANSFER_STORE, keys::TRANSFER_PARAMS.to_vec(), transfer::params_value(&g.params))?;
        for t in &g.denom_traces {
            let full = t.full_path();
            ctx.set(TRANSFER_STORE, keys::denom_trace(&transfer::denom_hash(&full)), full.into_bytes())?;
        }
        for (denom, amount) in &g.total_escrowed {
            if *amount > 0 {
                ctx.set(TRANSFER_STORE, keys::total_escrow(denom), amount.to_string().into_bytes())?;
            }
        }
        self.auth.module_account(ctx, transfer::MODULE_ACCOUNT)?;
        Ok(())
    }

    fn validate_genesis(&self, genesis: Option<&serde_json::Value>) -> Result<(), String> {
        TransferGenesis::from_json(genesis).map(|_| ())
    }

    fn export_genesis(&self, state: &dyn StateRead) -> Result<serde_json::Value, SdkError> {
        Ok(transfer_query::export(state)?.to_json())
    }

    /// The coins escrowed for each denom equal the recorded total escrow; vouchers in
    /// circulation have a known trace.
    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        transfer_query::check_invariants(&self.bank, state)
    }
}

#[cfg(test)]
mod tests;
