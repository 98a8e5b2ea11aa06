//! IBC core queries, through ibc-query's handlers over our host (the `core-queries` feature).

use ibc::core::channel::types::channel::{IdentifiedChannelEnd, Order};
use ibc::core::channel::types::packet::PacketState;
use ibc::core::client::context::{ClientValidationContext, ExtClientValidationContext};
use ibc::core::client::types::Height;
use ibc::core::connection::types::IdentifiedConnectionEnd;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, CommitmentPath, Path, ReceiptPath, SeqRecvPath,
};
use ibc::core::host::{ClientStateRef, ConsensusStateRef, ValidationContext};
use ibc_proto::ibc::core::connection::v1::ClientPaths;
use ibc_query::core::context::{ProvableContext, QueryContext};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use paychain_framework::{BlockInfo, CacheState, Context, ExecMode, GasMeter, SdkError};

use crate::host::{decode_u64, HostEnv, IbcHost};
use crate::keys::{self, IBC_STORE};
use crate::staking::STAKING_PARAMS_PATH;
use crate::types::host_params;

/// Client ids are `07-tendermint-{n}` for every n below the client counter.
const TENDERMINT_CLIENT_TYPE: &str = "07-tendermint";

fn seq_of(key: &[u8]) -> Option<Sequence> {
    let s = std::str::from_utf8(key).ok()?;
    s.rsplit('/').next()?.parse::<u64>().ok().map(Sequence::from)
}

impl IbcHost<'_, '_> {
    fn packet_states(&self, prefix: &str, port: &PortId, chan: &ChannelId) -> Result<Vec<PacketState>, HostError> {
        self.scan_prefix(IBC_STORE, prefix.as_bytes())?
            .into_iter()
            .filter_map(|(k, v)| seq_of(&k).map(|seq| (seq, v)))
            .map(|(seq, data)| Ok(PacketState { port_id: port.clone(), chan_id: chan.clone(), seq, data }))
            .collect()
    }
}

impl ProvableContext for IbcHost<'_, '_> {
    fn get_proof(&self, height: Height, path: &Path) -> Option<Vec<u8>> {
        let view = self.view?;
        if view.committed_version() != Some(height.revision_height()) {
            return None;
        }
        view.commitment_proof(IBC_STORE, path.to_string().as_bytes()).ok().flatten()
    }
}

impl QueryContext for IbcHost<'_, '_> {
    fn client_states(&self) -> Result<Vec<(ClientId, ClientStateRef<Self>)>, HostError> {
        let count = self.client_counter()?;
        let mut out = Vec::new();
        for n in 0..count {
            let id = ClientId::new(TENDERMINT_CLIENT_TYPE, n).map_err(HostError::invalid_state)?;
            if let Ok(cs) = self.client_state(&id) {
                out.push((id, cs));
            }
        }
        Ok(out)
    }

    fn consensus_states(&self, client_id: &ClientId) -> Result<Vec<(Height, ConsensusStateRef<Self>)>, HostError> {
        let heights = ExtClientValidationContext::consensus_state_heights(self, client_id)?;
        heights
            .into_iter()
            .map(|h| {
                let path = ibc::core::host::types::path::ClientConsensusStatePath::new(
                    client_id.clone(),
                    h.revision_number(),
                    h.revision_height(),
                );
                Ok((h, self.consensus_state(&path)?))
            })
            .collect()
    }

    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        ExtClientValidationContext::consensus_state_heights(self, client_id)
    }

    fn connection_ends(&self) -> Result<Vec<IdentifiedConnectionEnd>, HostError> {
        let count = self.connection_counter()?;
        let mut out = Vec::new();
        for n in 0..count {
            let id = ConnectionId::new(n);
            if let Ok(end) = self.connection_end(&id) {
                out.push(IdentifiedConnectionEnd::new(id, end));
            }
        }
        Ok(out)
    }

    fn client_connection_ends(&self, client_id: &ClientId) -> Result<Vec<ConnectionId>, HostError> {
        let key = ClientConnectionPath::new(client_id.clone()).to_string();
        let Some(bytes) = self.read(IBC_STORE, key.as_bytes())? else { return Ok(Vec::new()) };
        let paths = ClientPaths::decode(bytes.as_slice()).map_err(|e| HostError::failed_to_retrieve(e.to_string()))?;
        paths.paths.iter().map(|p| p.parse().map_err(HostError::invalid_state)).collect()
    }

    fn channel_ends(&self) -> Result<Vec<IdentifiedChannelEnd>, HostError> {
        let mut out = Vec::new();
        for (k, _) in self.scan_prefix(IBC_STORE, b"channelEnds/ports/")? {
            let key = String::from_utf8_lossy(&k).into_owned();
            let parts: Vec<&str> = key.split('/').collect();
            let [_, _, port, _, chan] = parts.as_slice() else { continue };
            let (Ok(port), Ok(chan)) = (port.parse::<PortId>(), chan.parse::<ChannelId>()) else { continue };
            let end = self.channel_end(&ChannelEndPath::new(&port, &chan))?;
            out.push(IdentifiedChannelEnd::new(port, chan, end));
        }
        Ok(out)
    }

    fn packet_commitments(&self, path: &ChannelEndPath) -> Result<Vec<PacketState>, HostError> {
        let prefix = format!("commitments/ports/{}/channels/{}/sequences/", path.0, path.1);
        self.packet_states(&prefix, &path.0, &path.1)
    }

    fn packet_acknowledgements(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<PacketState>, HostError> {
        if sequences.len() == 0 {
            let prefix = format!("acks/ports/{}/channels/{}/sequences/", path.0, path.1);
            return self.packet_states(&prefix, &path.0, &path.1);
        }
        let mut out = Vec::new();
        for seq in sequences {
            let ack = AckPath::new(&path.0, &path.1, seq);
            if let Some(data) = self.read(IBC_STORE, ack.to_string().as_bytes())? {
                out.push(PacketState { port_id: path.0.clone(), chan_id: path.1.clone(), seq, data });
            }
        }
        Ok(out)
    }

    fn unreceived_packets(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<Sequence>, HostError> {
        let channel = self.channel_end(path)?;
        let mut out = Vec::new();
        if channel.ordering == Order::Ordered {
            let next = match self.read(IBC_STORE, SeqRecvPath::new(&path.0, &path.1).to_string().as_bytes())? {
                Some(b) => decode_u64(&b).unwrap_or(1),
                None => 1,
            };
            out.extend(sequences.filter(|s| s.value() >= next));
        } else {
            for seq in sequences {
                let receipt = ReceiptPath::new(&path.0, &path.1, seq);
                if self.read(IBC_STORE, receipt.to_string().as_bytes())?.is_none() {
                    out.push(seq);
                }
            }
        }
        Ok(out)
    }

    fn unreceived_acks(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<Sequence>, HostError> {
        let mut out = Vec::new();
        for seq in sequences {
            let commitment = CommitmentPath::new(&path.0, &path.1, seq);
            if self.read(IBC_STORE, commitment.to_string().as_bytes())?.is_some() {
                out.push(seq);
            }
        }
        Ok(out)
    }
}

/// An ibc-query failure as a gRPC status: missing things are NotFound, malformed requests
/// InvalidArgument.
pub fn query_error(e: ibc_query::error::QueryError) -> QueryError {
    use ibc_query::error::QueryError as E;
    match &e {
        E::MissingProof(_) => QueryError::not_found(e.to_string()),
        E::MissingField(_) | E::Decoding(_) => QueryError::invalid_argument(e.to_string()),
        E::Host(HostError::MissingState { .. }) => QueryError::not_found(e.to_string()),
        E::Handler(h) if h.to_string().contains("missing") => QueryError::not_found(e.to_string()),
        _ => QueryError::new(paychain_framework::GrpcCode::Unknown, e.to_string()),
    }
}

/// Decodes a raw request, converts it to ibc-query's domain request, runs `handler`, encodes
/// the raw response.
pub fn run<Raw, Req, Resp, RawResp>(
    host: &IbcHost<'_, '_>,
    request: &[u8],
    handler: impl FnOnce(&IbcHost<'_, '_>, &Req) -> Result<Resp, ibc_query::error::QueryError>,
) -> Result<Vec<u8>, QueryError>
where
    Raw: Message + Default,
    Req: TryFrom<Raw>,
    <Req as TryFrom<Raw>>::Error: std::fmt::Display,
    Resp: Into<RawResp>,
    RawResp: Message,
{
    let raw = Raw::decode(request).map_err(|e| QueryError::invalid_argument(format!("invalid request: {e}")))?;
    let req = Req::try_from(raw).map_err(|e| QueryError::invalid_argument(format!("invalid request: {e}")))?;
    let resp = handler(host, &req).map_err(|e| match host.take_state_failure() {
        Some(f) => QueryError::new(paychain_framework::GrpcCode::Internal, f.log),
        None => query_error(e),
    })?;
    Ok(resp.into().encode_to_vec())
}

/// The state a query reads, with its height (0 when it is not a committed state).
pub fn query_height(state: &dyn StateRead) -> u64 {
    state.committed_version().unwrap_or(0)
}

/// A host over committed state for a query.
pub fn query_host<R>(
    state: &dyn StateRead,
    f: impl FnOnce(&IbcHost) -> Result<R, QueryError>,
) -> Result<R, QueryError> {
    let internal = |e: SdkError| QueryError::new(paychain_framework::GrpcCode::Internal, e.log);
    let height = query_height(state);
    let chain_id = state
        .get(IBC_STORE, keys::HOST_CHAIN_ID)
        .map_err(internal)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let params = host_params(state).map_err(internal)?;
    // The block time of a committed height is that of its own consensus state.
    let time = state
        .get(IBC_STORE, &keys::self_consensus_state(height))
        .map_err(internal)?
        .and_then(|b| crate::host::decode_any::<TmConsensusState>(&b, "self consensus state").ok())
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
                concat!("/ibc.core.", stringify!($layer), ".v1.Query/", $name) => run::<
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
pub const IBC_QUERY_PATHS: &[&str] = ibc_query_paths! {
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

pub fn core_query(host: &IbcHost, path: &str, req: &[u8]) -> Result<Vec<u8>, QueryError> {
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
pub(crate) fn connection_params(host: &IbcHost) -> Vec<u8> {
    use ibc_proto::ibc::core::connection::v1::{Params, QueryConnectionParamsResponse};
    let nanos = u64::try_from(host.max_expected_time_per_block().as_nanos()).unwrap_or(u64::MAX);
    QueryConnectionParamsResponse { params: Some(Params { max_expected_time_per_block: nanos }) }.encode_to_vec()
}
