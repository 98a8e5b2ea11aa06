//! The ibc-rs host: its validation and execution contexts over our state.
//!
//! One [`IbcHost`] serves one message (or one query). It shares the message's [`Context`] with
//! the ICS-20 module through an `Rc<RefCell<..>>`, because ibc-rs hands the core context and the
//! application module to its handlers as two separate `&mut` values that both touch state.
//! State access goes through the context, so it is gas-metered like any other module's, and
//! an error from the state itself (out of gas, a storage failure) is kept aside and reported
//! as it is, not as an IBC error.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::ChannelEnd;
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::client::context::{ClientExecutionContext, ClientValidationContext, ExtClientValidationContext};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::CommitmentPrefix;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::connection::types::ConnectionEnd;
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChainId, ClientId, ConnectionId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath, CommitmentPath,
    ConnectionPath, ReceiptPath, SeqAckPath, SeqRecvPath, SeqSendPath,
};
use ibc::core::host::{ExecutionContext, ValidationContext};
use ibc::cosmos_host::ValidateSelfClientContext;
use ibc::primitives::{Signer, Timestamp};
use ibc_proto::google::protobuf::Any;
use ibc_proto::ibc::core::channel::v1::Channel as RawChannelEnd;
use ibc_proto::ibc::core::connection::v1::{ClientPaths, ConnectionEnd as RawConnectionEnd};
use paychain_framework::state::KvPair;
use paychain_framework::{Address, BlockInfo, Context, SdkError, StateRead};
use prost::Message;

use crate::events::to_event;
use crate::keys::{self, IBC_STORE};
use crate::types::HostParams;

/// The upgrade path a counterparty's client of us must carry (or leave empty).
pub const UPGRADE_PATH: [&str; 2] = ["upgrade", "upgradedIBCState"];

/// The ICS-23 specs of our two-level store (substore tree, then main tree), both jmt trees.
pub fn proof_specs() -> ProofSpecs {
    let spec = jmt::ics23_spec();
    let raw = ibc_proto::ics23::ProofSpec::decode(prost::Message::encode_to_vec(&spec).as_slice())
        .expect("ics23 and ibc-proto share the ProofSpec schema");
    ProofSpecs::try_from(vec![raw.clone(), raw]).expect("jmt's spec is a valid proof spec")
}

/// What the host knows about itself while running: the block, the chain and its parameters.
pub struct HostEnv {
    pub chain_id: ChainId,
    pub height: Height,
    pub timestamp: Timestamp,
    pub params: HostParams,
    pub proof_specs: ProofSpecs,
    pub upgrade_path: Vec<String>,
}

impl HostEnv {
    /// The host as of `block`. A chain id that does not follow `{name}-{revision}` has revision 0.
    pub fn new(block: &BlockInfo, params: HostParams) -> Result<Self, SdkError> {
        let chain_id = ChainId::new(&block.chain_id)
            .map_err(|e| SdkError::fatal(format!("ibc: chain id {:?} is not an IBC chain id: {e}", block.chain_id)))?;
        let height = Height::new(chain_id.revision_number(), block.height.max(1))
            .map_err(|e| SdkError::fatal(format!("ibc: host height: {e}")))?;
        Ok(Self {
            height,
            timestamp: block_timestamp(block),
            chain_id,
            params,
            proof_specs: proof_specs(),
            upgrade_path: UPGRADE_PATH.iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// Block time as an IBC timestamp (block times before 1970 do not occur; they map to 0).
pub fn block_timestamp(block: &BlockInfo) -> Timestamp {
    let nanos = u64::try_from(block.time.seconds)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|n| n.checked_add(u64::try_from(block.time.nanos).unwrap_or(0)))
        .unwrap_or(0);
    Timestamp::from_nanoseconds(nanos)
}

/// The message's context, shared by the core host and the transfer application.
pub type SharedCtx<'a, 'b> = Rc<RefCell<&'a mut Context<'b>>>;

pub struct IbcHost<'a, 'b> {
    pub(crate) ctx: SharedCtx<'a, 'b>,
    pub(crate) env: Rc<HostEnv>,
    /// The first failure of the state underneath (out of gas, storage), reported instead of
    /// the IBC error it caused.
    pub(crate) state_failure: Rc<RefCell<Option<SdkError>>>,
    /// The committed state a query reads (the source of its proofs); `None` in txs.
    pub(crate) view: Option<&'a dyn StateRead>,
}

impl<'a, 'b> IbcHost<'a, 'b> {
    pub fn new(ctx: &'a mut Context<'b>, env: HostEnv) -> Self {
        Self {
            ctx: Rc::new(RefCell::new(ctx)),
            env: Rc::new(env),
            state_failure: Rc::new(RefCell::new(None)),
            view: None,
        }
    }

    /// A host for queries over committed state `view` (proofs come from it).
    pub fn for_query(ctx: &'a mut Context<'b>, env: HostEnv, view: &'a dyn StateRead) -> Self {
        Self { view: Some(view), ..Self::new(ctx, env) }
    }

    pub fn env(&self) -> &HostEnv {
        &self.env
    }

    /// The failure of the state underneath, if one happened.
    pub fn take_state_failure(&self) -> Option<SdkError> {
        self.state_failure.borrow_mut().take()
    }

    pub(crate) fn state_err(&self, e: SdkError) -> HostError {
        let text = e.log.clone();
        self.state_failure.borrow_mut().get_or_insert(e);
        HostError::failed_to_retrieve(text)
    }

    pub(crate) fn read(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        let ctx = self.ctx.borrow();
        ctx.get(store, key).map_err(|e| self.state_err(e))
    }

    pub(crate) fn write(&self, store: &str, key: Vec<u8>, value: Vec<u8>) -> Result<(), HostError> {
        let mut ctx = self.ctx.borrow_mut();
        ctx.set(store, key, value).map_err(|e| self.state_err(e))
    }

    pub(crate) fn remove(&self, store: &str, key: Vec<u8>) -> Result<(), HostError> {
        let mut ctx = self.ctx.borrow_mut();
        ctx.delete(store, key).map_err(|e| self.state_err(e))
    }

    /// Entries under `prefix`, in key order (or reversed), at most `limit`.
    pub(crate) fn scan(
        &self,
        store: &str,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KvPair>, HostError> {
        let ctx = self.ctx.borrow();
        let iter = ctx.range(store, start, end, reverse).map_err(|e| self.state_err(e))?;
        let mut out = Vec::new();
        for item in iter.take(limit) {
            out.push(item.map_err(|e| self.state_err(e))?);
        }
        Ok(out)
    }

    pub(crate) fn scan_prefix(&self, store: &str, prefix: &[u8]) -> Result<Vec<KvPair>, HostError> {
        let end = paychain_framework::state::prefix_end(prefix);
        self.scan(store, prefix, end.as_deref(), false, usize::MAX)
    }

    fn read_ibc(&self, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        self.read(IBC_STORE, key.as_bytes())
    }

    fn read_u64(&self, key: &[u8]) -> Result<u64, HostError> {
        match self.read(IBC_STORE, key)? {
            None => Ok(0),
            Some(b) => decode_u64(&b).ok_or_else(|| corrupt(String::from_utf8_lossy(key), "not a u64")),
        }
    }

    fn increment(&self, key: &[u8]) -> Result<(), HostError> {
        let next = self.read_u64(key)?.checked_add(1).ok_or_else(|| HostError::invalid_state("counter overflow"))?;
        self.write(IBC_STORE, key.to_vec(), next.to_be_bytes().to_vec())
    }

    fn read_sequence(&self, path: &str) -> Result<Sequence, HostError> {
        match self.read_ibc(path)? {
            None => Err(HostError::missing_state(format!("no sequence at {path}"))),
            Some(b) => decode_u64(&b).map(Sequence::from).ok_or_else(|| corrupt(path, "not a u64")),
        }
    }

    fn write_sequence(&self, path: &str, seq: Sequence) -> Result<(), HostError> {
        self.write(IBC_STORE, path.as_bytes().to_vec(), seq.value().to_be_bytes().to_vec())
    }

    /// Our own consensus state at `height`, recorded when that block began.
    pub fn self_consensus_state(&self, height: &Height) -> Result<TmConsensusState, HostError> {
        if height.revision_number() != self.env.height.revision_number() {
            return Err(HostError::invalid_state(format!(
                "height {height} is not of this chain's revision {}",
                self.env.height.revision_number()
            )));
        }
        let bytes = self.read(IBC_STORE, &keys::self_consensus_state(height.revision_height()))?.ok_or_else(|| {
            HostError::missing_state(format!(
                "no consensus state of this chain at height {height} (only the last {} heights are kept)",
                self.env.params.historical_entries
            ))
        })?;
        decode_any::<TmConsensusState>(&bytes, "self consensus state")
    }

    fn consensus_state_at_index(&self, client_id: &ClientId, key: &[u8]) -> Result<TmConsensusState, HostError> {
        let (rev, h) = keys::height_from_index(key).ok_or_else(|| corrupt("consensus height index", "short key"))?;
        let path = ClientConsensusStatePath::new(client_id.clone(), rev, h);
        self.consensus_state(&path)
    }
}

impl Clone for IbcHost<'_, '_> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            env: self.env.clone(),
            state_failure: self.state_failure.clone(),
            view: self.view,
        }
    }
}

pub(crate) fn decode_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.try_into().ok()?))
}

pub(crate) fn corrupt(what: impl std::fmt::Display, why: impl std::fmt::Display) -> HostError {
    HostError::failed_to_retrieve(format!("corrupt {what} in the ibc store: {why}"))
}

pub(crate) fn decode_any<T: TryFrom<Any>>(bytes: &[u8], what: &str) -> Result<T, HostError>
where
    T::Error: std::fmt::Display,
{
    let any = Any::decode(bytes).map_err(|e| corrupt(what, e))?;
    T::try_from(any).map_err(|e| corrupt(what, e))
}

impl ValidateSelfClientContext for IbcHost<'_, '_> {
    fn chain_id(&self) -> &ChainId {
        &self.env.chain_id
    }

    fn host_current_height(&self) -> Height {
        self.env.height
    }

    fn proof_specs(&self) -> &ProofSpecs {
        &self.env.proof_specs
    }

    fn unbonding_period(&self) -> Duration {
        self.env.params.unbonding_period()
    }

    fn upgrade_path(&self) -> &[String] {
        &self.env.upgrade_path
    }
}

impl ClientValidationContext for IbcHost<'_, '_> {
    type ClientStateRef = TmClientState;
    type ConsensusStateRef = TmConsensusState;

    fn client_state(&self, client_id: &ClientId) -> Result<TmClientState, HostError> {
        let path = ClientStatePath::new(client_id.clone()).to_string();
        let bytes = self.read_ibc(&path)?.ok_or_else(|| HostError::missing_state(format!("client {client_id}")))?;
        decode_any(&bytes, &path)
    }

    fn consensus_state(&self, path: &ClientConsensusStatePath) -> Result<TmConsensusState, HostError> {
        let key = path.to_string();
        let bytes = self.read_ibc(&key)?.ok_or_else(|| {
            HostError::missing_state(format!(
                "consensus state of client {} at height {}-{}",
                path.client_id, path.revision_number, path.revision_height
            ))
        })?;
        decode_any(&bytes, &key)
    }

    fn client_update_meta(&self, client_id: &ClientId, height: &Height) -> Result<(Timestamp, Height), HostError> {
        let missing = || HostError::missing_state(format!("update time of client {client_id} at height {height}"));
        let time = self.read(IBC_STORE, &keys::processed_time(client_id, height))?.ok_or_else(missing)?;
        let time = decode_u64(&time).ok_or_else(|| corrupt("processed time", "not a u64"))?;
        let at = self.read(IBC_STORE, &keys::processed_height(client_id, height))?.ok_or_else(missing)?;
        let at = String::from_utf8(at).map_err(|e| corrupt("processed height", e))?;
        let at: Height = at.parse().map_err(|e| corrupt("processed height", e))?;
        Ok((Timestamp::from_nanoseconds(time), at))
    }
}

impl ClientExecutionContext for IbcHost<'_, '_> {
    type ClientStateMut = TmClientState;

    fn store_client_state(&mut self, path: ClientStatePath, client_state: TmClientState) -> Result<(), HostError> {
        self.write(IBC_STORE, path.to_string().into_bytes(), Any::from(client_state).encode_to_vec())
    }

    fn store_consensus_state(
        &mut self,
        path: ClientConsensusStatePath,
        consensus_state: TmConsensusState,
    ) -> Result<(), HostError> {
        let height = Height::new(path.revision_number, path.revision_height).map_err(HostError::invalid_state)?;
        self.write(IBC_STORE, keys::consensus_height_index(&path.client_id, &height), height.to_string().into_bytes())?;
        self.write(IBC_STORE, path.to_string().into_bytes(), Any::from(consensus_state).encode_to_vec())
    }

    fn delete_consensus_state(&mut self, path: ClientConsensusStatePath) -> Result<(), HostError> {
        let height = Height::new(path.revision_number, path.revision_height).map_err(HostError::invalid_state)?;
        self.remove(IBC_STORE, keys::consensus_height_index(&path.client_id, &height))?;
        self.remove(IBC_STORE, path.to_string().into_bytes())
    }

    fn store_update_meta(
        &mut self,
        client_id: ClientId,
        height: Height,
        host_timestamp: Timestamp,
        host_height: Height,
    ) -> Result<(), HostError> {
        self.write(
            IBC_STORE,
            keys::processed_time(&client_id, &height),
            host_timestamp.nanoseconds().to_be_bytes().to_vec(),
        )?;
        self.write(IBC_STORE, keys::processed_height(&client_id, &height), host_height.to_string().into_bytes())
    }

    fn delete_update_meta(&mut self, client_id: ClientId, height: Height) -> Result<(), HostError> {
        self.remove(IBC_STORE, keys::processed_time(&client_id, &height))?;
        self.remove(IBC_STORE, keys::processed_height(&client_id, &height))
    }
}

impl ExtClientValidationContext for IbcHost<'_, '_> {
    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        Ok(self.env.timestamp)
    }

    fn host_height(&self) -> Result<Height, HostError> {
        Ok(self.env.height)
    }

    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        let prefix = keys::consensus_height_index_prefix(client_id);
        self.scan_prefix(IBC_STORE, &prefix)?
            .into_iter()
            .map(|(k, _)| {
                let (rev, h) = keys::height_from_index(&k).ok_or_else(|| corrupt("consensus height index", "short"))?;
                Height::new(rev, h).map_err(|e| corrupt("consensus height index", e))
            })
            .collect()
    }

    fn next_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        let prefix = keys::consensus_height_index_prefix(client_id);
        let start = keys::consensus_height_index(client_id, &height.increment());
        let end = paychain_framework::state::prefix_end(&prefix);
        match self.scan(IBC_STORE, &start, end.as_deref(), false, 1)?.first() {
            Some((k, _)) => self.consensus_state_at_index(client_id, k).map(Some),
            None => Ok(None),
        }
    }

    fn prev_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        let prefix = keys::consensus_height_index_prefix(client_id);
        let end = keys::consensus_height_index(client_id, height);
        match self.scan(IBC_STORE, &prefix, Some(&end), true, 1)?.first() {
            Some((k, _)) => self.consensus_state_at_index(client_id, k).map(Some),
            None => Ok(None),
        }
    }
}

impl ValidationContext for IbcHost<'_, '_> {
    type V = Self;
    type HostClientState = TmClientState;
    type HostConsensusState = TmConsensusState;

    fn get_client_validation_context(&self) -> &Self::V {
        self
    }

    fn host_height(&self) -> Result<Height, HostError> {
        Ok(self.env.height)
    }

    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        Ok(self.env.timestamp)
    }

    fn host_consensus_state(&self, height: &Height) -> Result<TmConsensusState, HostError> {
        self.self_consensus_state(height)
    }

    fn client_counter(&self) -> Result<u64, HostError> {
        self.read_u64(keys::NEXT_CLIENT_SEQUENCE)
    }

    fn connection_end(&self, conn_id: &ConnectionId) -> Result<ConnectionEnd, HostError> {
        let path = ConnectionPath::new(conn_id).to_string();
        let bytes = self.read_ibc(&path)?.ok_or_else(|| HostError::missing_state(format!("connection {conn_id}")))?;
        let raw = RawConnectionEnd::decode(bytes.as_slice()).map_err(|e| corrupt(&path, e))?;
        ConnectionEnd::try_from(raw).map_err(|e| corrupt(&path, e))
    }

    fn validate_self_client(&self, client_state_of_host_on_counterparty: TmClientState) -> Result<(), HostError> {
        self.validate_self_tendermint_client(client_state_of_host_on_counterparty.inner().clone())
    }

    fn commitment_prefix(&self) -> CommitmentPrefix {
        CommitmentPrefix::from_bytes(IBC_STORE.as_bytes())
    }

    fn connection_counter(&self) -> Result<u64, HostError> {
        self.read_u64(keys::NEXT_CONNECTION_SEQUENCE)
    }

    fn channel_end(&self, path: &ChannelEndPath) -> Result<ChannelEnd, HostError> {
        let key = path.to_string();
        let bytes = self
            .read_ibc(&key)?
            .ok_or_else(|| HostError::missing_state(format!("channel {} on port {}", path.1, path.0)))?;
        let raw = RawChannelEnd::decode(bytes.as_slice()).map_err(|e| corrupt(&key, e))?;
        ChannelEnd::try_from(raw).map_err(|e| corrupt(&key, e))
    }

    fn get_next_sequence_send(&self, path: &SeqSendPath) -> Result<Sequence, HostError> {
        self.read_sequence(&path.to_string())
    }

    fn get_next_sequence_recv(&self, path: &SeqRecvPath) -> Result<Sequence, HostError> {
        self.read_sequence(&path.to_string())
    }

    fn get_next_sequence_ack(&self, path: &SeqAckPath) -> Result<Sequence, HostError> {
        self.read_sequence(&path.to_string())
    }

    fn get_packet_commitment(&self, path: &CommitmentPath) -> Result<PacketCommitment, HostError> {
        self.read_ibc(&path.to_string())?
            .map(PacketCommitment::from)
            .ok_or_else(|| HostError::missing_state(format!("packet commitment {path}")))
    }

    fn get_packet_receipt(&self, path: &ReceiptPath) -> Result<Receipt, HostError> {
        Ok(if self.read_ibc(&path.to_string())?.is_some() { Receipt::Ok } else { Receipt::None })
    }

    fn get_packet_acknowledgement(&self, path: &AckPath) -> Result<AcknowledgementCommitment, HostError> {
        self.read_ibc(&path.to_string())?
            .map(AcknowledgementCommitment::from)
            .ok_or_else(|| HostError::missing_state(format!("packet acknowledgement {path}")))
    }

    fn channel_counter(&self) -> Result<u64, HostError> {
        self.read_u64(keys::NEXT_CHANNEL_SEQUENCE)
    }

    fn max_expected_time_per_block(&self) -> Duration {
        self.env.params.max_expected_time_per_block()
    }

    fn validate_message_signer(&self, signer: &Signer) -> Result<(), HostError> {
        Address::from_bech32(signer.as_ref())
            .map(|_| ())
            .map_err(|e| HostError::invalid_state(format!("signer {signer}: {}", e.log)))
    }
}

impl ExecutionContext for IbcHost<'_, '_> {
    type E = Self;

    fn get_client_execution_context(&mut self) -> &mut Self::E {
        self
    }

    fn increase_client_counter(&mut self) -> Result<(), HostError> {
        self.increment(keys::NEXT_CLIENT_SEQUENCE)
    }

    fn store_connection(&mut self, path: &ConnectionPath, connection_end: ConnectionEnd) -> Result<(), HostError> {
        self.write(IBC_STORE, path.to_string().into_bytes(), RawConnectionEnd::from(connection_end).encode_to_vec())
    }

    fn store_connection_to_client(
        &mut self,
        path: &ClientConnectionPath,
        conn_id: ConnectionId,
    ) -> Result<(), HostError> {
        let key = path.to_string();
        let mut paths = match self.read_ibc(&key)? {
            Some(b) => ClientPaths::decode(b.as_slice()).map_err(|e| corrupt(&key, e))?,
            None => ClientPaths::default(),
        };
        paths.paths.push(conn_id.to_string());
        self.write(IBC_STORE, key.into_bytes(), paths.encode_to_vec())
    }

    fn increase_connection_counter(&mut self) -> Result<(), HostError> {
        self.increment(keys::NEXT_CONNECTION_SEQUENCE)
    }

    fn store_packet_commitment(
        &mut self,
        path: &CommitmentPath,
        commitment: PacketCommitment,
    ) -> Result<(), HostError> {
        self.write(IBC_STORE, path.to_string().into_bytes(), commitment.into_vec())
    }

    fn delete_packet_commitment(&mut self, path: &CommitmentPath) -> Result<(), HostError> {
        self.remove(IBC_STORE, path.to_string().into_bytes())
    }

    fn store_packet_receipt(&mut self, path: &ReceiptPath, _receipt: Receipt) -> Result<(), HostError> {
        // ibc-go's receipt value: one byte.
        self.write(IBC_STORE, path.to_string().into_bytes(), vec![1])
    }

    fn store_packet_acknowledgement(
        &mut self,
        path: &AckPath,
        ack_commitment: AcknowledgementCommitment,
    ) -> Result<(), HostError> {
        self.write(IBC_STORE, path.to_string().into_bytes(), ack_commitment.into_vec())
    }

    fn delete_packet_acknowledgement(&mut self, path: &AckPath) -> Result<(), HostError> {
        self.remove(IBC_STORE, path.to_string().into_bytes())
    }

    fn store_channel(&mut self, path: &ChannelEndPath, channel_end: ChannelEnd) -> Result<(), HostError> {
        self.write(IBC_STORE, path.to_string().into_bytes(), RawChannelEnd::from(channel_end).encode_to_vec())
    }

    fn store_next_sequence_send(&mut self, path: &SeqSendPath, seq: Sequence) -> Result<(), HostError> {
        self.write_sequence(&path.to_string(), seq)
    }

    fn store_next_sequence_recv(&mut self, path: &SeqRecvPath, seq: Sequence) -> Result<(), HostError> {
        self.write_sequence(&path.to_string(), seq)
    }

    fn store_next_sequence_ack(&mut self, path: &SeqAckPath, seq: Sequence) -> Result<(), HostError> {
        self.write_sequence(&path.to_string(), seq)
    }

    fn increase_channel_counter(&mut self) -> Result<(), HostError> {
        self.increment(keys::NEXT_CHANNEL_SEQUENCE)
    }

    fn emit_ibc_event(&mut self, event: IbcEvent) -> Result<(), HostError> {
        let event = to_event(event).map_err(HostError::invalid_state)?;
        self.ctx.borrow_mut().emit(event);
        Ok(())
    }

    fn log_message(&mut self, _message: String) -> Result<(), HostError> {
        Ok(())
    }
}
