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
/// IBC core gRPC queries, answered by ibc-query's handlers over our host. A feature because
/// ibc-query depends on tonic: the node turns it on, the bare state machine (fuzzing,
/// app-level benchmarks) leaves it off and keeps servers out of its dependency tree.
#[cfg(feature = "core-queries")]
pub mod query;
mod staking;
pub mod transfer;
mod transfer_query;
pub mod types;

use std::str::FromStr;
use std::sync::Arc;

use cosmos_sdk_proto::Any;
use ibc::apps::transfer::handler::send_transfer;
use ibc::apps::transfer::types::msgs::transfer::MsgTransfer as DomainMsgTransfer;
use ibc::apps::transfer::types::{is_sender_chain_source, PrefixedDenom};
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
use paychain_bank::{BankKeeper, Route};
use paychain_framework::coins::parse_amount;
use paychain_framework::module::downcast;
use paychain_framework::{
    sdk, Address, BlockHeader, Coin, Coins, Context, Module, Msg, MsgResponse, QueryError, SdkError, StateRead,
};
use prost::Message;

pub use genesis::TransferGenesis;
pub use host::{proof_specs, HostEnv, IbcHost};
pub use keys::{IBC_STORE, TRANSFER_STORE};
pub use staking::STAKING_PARAMS_PATH;
pub use types::{host_params, HostParams};

use crate::staking::staking_params;

use crate::host::block_timestamp;
use crate::msgs::{IbcCoreMsg, TransferMsg};
use crate::transfer::{TransferApp, TransferRouter};

pub const IBC_MODULE_NAME: &str = "ibc";
pub const TRANSFER_MODULE_NAME: &str = "transfer";
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

impl Module for IbcModule {
    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        HostParams::default().to_json()
    }

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
        #[cfg(feature = "core-queries")]
        return query::IBC_QUERY_PATHS;
        #[cfg(not(feature = "core-queries"))]
        return &[STAKING_PARAMS_PATH];
    }

    fn query(&self, state: &dyn StateRead, path: &str, request: &[u8]) -> Result<Vec<u8>, QueryError> {
        if path == STAKING_PARAMS_PATH {
            return staking_params(state);
        }
        #[cfg(feature = "core-queries")]
        return query::query_host(state, |host| query::core_query(host, path, request));
        #[cfg(not(feature = "core-queries"))]
        {
            let _ = request;
            Err(QueryError::unimplemented(format!("unknown query path {path} (IBC core queries are off)")))
        }
    }

    fn init_genesis(&self, ctx: &mut Context, genesis: Option<&serde_json::Value>) -> Result<(), SdkError> {
        let params = HostParams::from_json(genesis).map_err(sdk::invalid_request)?;
        let bytes = serde_json::to_vec(&params).map_err(|e| SdkError::fatal(e.to_string()))?;
        ctx.set(IBC_STORE, keys::HOST_PARAMS.to_vec(), bytes)?;
        let chain_id = ctx.block.chain_id.clone();
        ibc::core::host::types::identifiers::ChainId::new(&chain_id)
            .map_err(|e| sdk::invalid_request(format!("chain id {chain_id:?} is not usable for IBC: {e}")))?;
        ctx.set(IBC_STORE, keys::HOST_CHAIN_ID.to_vec(), chain_id.into_bytes())
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
    fn default_genesis(&self, _fee_denom: &str) -> serde_json::Value {
        TransferGenesis::default().to_json()
    }

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
                send_transfer(host, &mut router.app, domain).map(|()| sequence).map_err(|e| {
                    // A policy's or bank's refusal keeps its own codespace and code.
                    let text = e.to_string();
                    router.app.refusal_behind(&text).unwrap_or_else(|| SdkError::new(TRANSFER_MODULE_NAME, 2, text))
                })
            },
            |e| e,
        )?;
        let resp = ibc_proto::ibc::applications::transfer::v1::MsgTransferResponse { sequence };
        Ok(MsgResponse { type_url: msgs::MSG_TRANSFER_RESPONSE.into(), value: resp.encode_to_vec() })
    }

    /// The move a transfer makes out through its channel (into the channel's escrow, or
    /// burnt when a voucher goes home the way it came): the transfer policies on the
    /// sender, the corridor and the travel rule, as the escrow and burn validation asks
    /// them in the block. A transfer that cannot be resolved is left to `deliver`.
    fn check_admission(&self, ctx: &Context, msg: &dyn Msg) -> Result<(), SdkError> {
        let m = downcast::<TransferMsg>(msg)?;
        let Some(token) = m.raw.token.as_ref() else { return Ok(()) };
        let (Ok(full_path), Ok(amount)) = (self.resolve_denom(ctx, &token.denom), parse_amount(&token.amount)) else {
            return Ok(());
        };
        let (port, channel) = (m.raw.source_port.as_str(), m.raw.source_channel.as_str());
        let (Ok(port_id), Ok(channel_id), Ok(denom)) =
            (PortId::from_str(port), ChannelId::from_str(channel), PrefixedDenom::from_str(&full_path))
        else {
            return Ok(());
        };
        // ibc-rs's own test of escrow (we are the source) against burn (a voucher going home).
        let to = if is_sender_chain_source(port_id, channel_id, &denom) {
            transfer::escrow_address(port, channel)
        } else {
            Address::module(transfer::MODULE_ACCOUNT)
        };
        let Ok(coins) = Coins::new(vec![Coin::new(amount, transfer::bank_denom(&full_path))]) else { return Ok(()) };
        self.bank.check_send(ctx, &m.sender, &to, &coins, Route::IbcOut { channel, memo: &m.raw.memo })
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
