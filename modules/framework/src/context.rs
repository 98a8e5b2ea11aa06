//! The context a message, ante step or end-block hook runs in: block
//! information, metered state access, and the events it emits.

use crate::error::SdkError;
use crate::events::Event;
use crate::gas::{GasMeter, KvGasConfig};
use crate::state::{KvIter, StateRead, StateWrite};

/// A block timestamp (proto `Timestamp` semantics). Block time only: never the wall clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockTime {
    pub seconds: i64,
    pub nanos: i32,
}

/// What every handler may know about the block it runs in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    pub time: BlockTime,
    pub chain_id: String,
}

/// Header fields of the block being finalized that [`BlockInfo`] does not carry (CometBFT 0.38
/// sends no header in FinalizeBlock; these come from the request and the last commit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockHeader {
    /// The header's app hash: the state root after the previous block (the genesis app hash
    /// for the first block).
    pub app_hash: Vec<u8>,
    /// Hash of the validator set of the next block.
    pub next_validators_hash: Vec<u8>,
}

/// Why code is running: some checks differ (e.g. min gas price only in CheckTx,
/// no signature checks in Simulate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    Genesis,
    Check,
    ReCheck,
    Simulate,
    Finalize,
}

pub struct Context<'a> {
    pub block: &'a BlockInfo,
    pub mode: ExecMode,
    state: &'a mut dyn StateWrite,
    gas: &'a GasMeter,
    gas_config: KvGasConfig,
    events: Vec<Event>,
    /// The tx's extension options that its modules accepted (see
    /// `Module::validate_tx_extension`): typed data the tx carries besides its messages.
    tx_extensions: &'a [cosmos_sdk_proto::Any],
}

impl<'a> Context<'a> {
    pub fn new(block: &'a BlockInfo, mode: ExecMode, state: &'a mut dyn StateWrite, gas: &'a GasMeter) -> Self {
        Self { block, mode, state, gas, gas_config: KvGasConfig::default(), events: Vec::new(), tx_extensions: &[] }
    }

    /// The context of a tx carrying `extensions`.
    pub fn with_tx_extensions(mut self, extensions: &'a [cosmos_sdk_proto::Any]) -> Self {
        self.tx_extensions = extensions;
        self
    }

    pub fn tx_extensions(&self) -> &'a [cosmos_sdk_proto::Any] {
        self.tx_extensions
    }

    pub fn gas_meter(&self) -> &GasMeter {
        self.gas
    }

    /// Charges gas outside state access (signature checks, tx bytes).
    pub fn consume_gas(&self, amount: u64, descriptor: &str) -> Result<(), SdkError> {
        self.gas.consume(amount, descriptor)
    }

    /// Stores `value` (non-empty: the Merkle store cannot prove empty values).
    pub fn set(&mut self, store: &str, key: Vec<u8>, value: Vec<u8>) -> Result<(), SdkError> {
        if value.is_empty() || key.is_empty() {
            return Err(crate::error::sdk::logic(format!("empty key or value in substore {store}")));
        }
        let cost = self.gas_config.write_cost_per_byte.saturating_mul((key.len() + value.len()) as u64);
        self.gas.consume(self.gas_config.write_cost_flat.saturating_add(cost), "WriteFlat")?;
        self.state.set(store, key, value);
        Ok(())
    }

    pub fn delete(&mut self, store: &str, key: Vec<u8>) -> Result<(), SdkError> {
        self.gas.consume(self.gas_config.delete_cost, "Delete")?;
        self.state.delete(store, key);
        Ok(())
    }

    pub fn has(&self, store: &str, key: &[u8]) -> Result<bool, SdkError> {
        self.gas.consume(self.gas_config.has_cost, "Has")?;
        Ok(self.state.get(store, key)?.is_some())
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Runs `f` on a child overlay: its writes and events land only if it succeeds.
    /// For bounded end-block work where one item's failure must not fail the block.
    pub fn attempt<R>(&mut self, f: impl FnOnce(&mut Context<'_>) -> Result<R, SdkError>) -> Result<R, SdkError> {
        let mut child = crate::state::CacheState::new(&*self.state);
        let (result, events) = {
            let mut ctx = Context::new(self.block, self.mode, &mut child, self.gas);
            let r = f(&mut ctx);
            (r, ctx.take_events())
        };
        let writes = child.into_writes();
        if result.is_ok() {
            self.state.apply(writes);
            self.events.extend(events);
        }
        result
    }

    /// Unmetered read access to the state underneath (for code that charges
    /// its own gas, or runs outside a tx).
    pub fn state(&self) -> &dyn StateRead {
        &*self.state
    }
}

/// Reads through a context are metered like the SDK's gas KV store.
impl StateRead for Context<'_> {
    fn get(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        self.gas.consume(self.gas_config.read_cost_flat, "ReadFlat")?;
        let value = self.state.get(store, key)?;
        let len = key.len() + value.as_ref().map_or(0, Vec::len);
        self.gas.consume(self.gas_config.read_cost_per_byte.saturating_mul(len as u64), "ReadPerByte")?;
        Ok(value)
    }

    fn range(&self, store: &str, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Result<KvIter<'_>, SdkError> {
        let inner = self.state.range(store, start, end, reverse)?;
        let gas = self.gas;
        let cfg = self.gas_config;
        Ok(Box::new(inner.map(move |item| {
            let (k, v) = item?;
            gas.consume(cfg.iter_next_cost_flat, "IterNextFlat")?;
            gas.consume(cfg.read_cost_per_byte.saturating_mul((k.len() + v.len()) as u64), "ValuePerByte")?;
            Ok((k, v))
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CacheState;

    #[test]
    fn state_access_is_metered_and_can_run_out() {
        let block = BlockInfo::default();
        let mut state = CacheState::in_memory();
        let gas = GasMeter::new(5_000);
        let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state, &gas);
        ctx.set("s", b"k".to_vec(), b"v".to_vec()).unwrap();
        assert_eq!(gas.consumed(), 2000 + 30 * 2);
        assert_eq!(ctx.get("s", b"k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(gas.consumed(), 2060 + 1000 + 3 * 2);
        let err = ctx.set("s", b"k2".to_vec(), vec![0; 100]).unwrap_err();
        assert_eq!(err.code, 11);
    }
}
