//! The application: module wiring, the block lifecycle and the tx runner.
//!
//! Three views of state exist at once, each behind its own lock so that none
//! waits for another:
//! - queries read committed versions straight from the store (no lock);
//! - the mempool state (CheckTx) is an overlay over the last commit;
//! - the block being finalized is an overlay that becomes a [`PreparedCommit`]
//!   in FinalizeBlock and is written atomically in Commit.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::Any;
use parking_lot::{Mutex, RwLock};
use paychain_framework::state::{KvIter, StateRead, Writes};
use paychain_framework::{
    sdk, BlockHeader, BlockInfo, BlockTime, CacheState, Context, Event, ExecMode, GasMeter, IndexedWrites, SdkError,
    StateWrite,
};
use paychain_store::timing::{PhaseCounter, PhaseTotal};
use paychain_store::{AppHash, MerkleStore, PreparedCommit, StoreConfig};
use prost::Message;
use rayon::prelude::*;
use tendermint_proto::v0_38::abci::{self as pb, response_offer_snapshot::Result as OfferResult};

use paychain_tx::decode::{decode_tx, DecodedTx};
use paychain_tx::fees::{parse_gas_prices, GasPrice};

use crate::ante::{run_ante, sign_bytes, sign_bytes_for_mode, AnteEnv};
use crate::mempool::{tx_key, PendingTxs, TxKey};
use crate::options::AppOptions;
use crate::sig_cache::SigCache;
use crate::snapshot::{self, SnapshotManager};
use crate::wiring::{wire_modules, ModuleSet, Wiring, APP_STORE};
use paychain_tx::multisig::{PubKey, SigData};

const CHAIN_ID_KEY: &[u8] = b"chain_id";
use paychain_framework::time::{decode_block_time, encode_block_time, BLOCK_TIME_KEY};

/// What the app keeps in memory of committed state, read back at start and after a state sync.
fn load_committed(store: &MerkleStore) -> Result<(String, BlockTime), AppError> {
    let view = StoreView::new(store, store.latest_version());
    let chain_id =
        view.get(APP_STORE, CHAIN_ID_KEY)?.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let time = match view.get(APP_STORE, BLOCK_TIME_KEY)? {
        Some(b) => decode_block_time(&b).ok_or_else(|| {
            AppError::Store(paychain_store::StoreError::Corrupt(format!("malformed block time {}", hex::encode(b))))
        })?,
        None => BlockTime::default(),
    };
    Ok((chain_id, time))
}

/// `ibc.core.commitment.v1.MerkleProof`: the proofs of one key, substore level first.
#[derive(Clone, PartialEq, prost::Message)]
struct MerkleProof {
    #[prost(message, repeated, tag = "1")]
    proofs: Vec<ics23::CommitmentProof>,
}

/// Committed state at one version, read straight from the store.
pub struct StoreView<'a> {
    store: &'a MerkleStore,
    version: Option<u64>,
}

impl<'a> StoreView<'a> {
    pub fn new(store: &'a MerkleStore, version: Option<u64>) -> Self {
        Self { store, version }
    }
}

fn store_err(e: paychain_store::StoreError) -> SdkError {
    SdkError::fatal(format!("state store: {e}"))
}

impl StateRead for StoreView<'_> {
    fn get(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        match self.version {
            None => Ok(None),
            Some(v) => self.store.get(store, key, v).map_err(store_err),
        }
    }

    fn committed_version(&self) -> Option<u64> {
        self.version
    }

    fn commitment_proof(&self, store: &str, key: &[u8]) -> Result<Option<Vec<u8>>, SdkError> {
        let Some(v) = self.version else { return Ok(None) };
        let (_, proofs) = self.store.get_with_proof(store, key, v).map_err(store_err)?;
        Ok(Some(MerkleProof { proofs: proofs.to_vec() }.encode_to_vec()))
    }

    fn range(&self, store: &str, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Result<KvIter<'_>, SdkError> {
        let Some(v) = self.version else { return Ok(Box::new(std::iter::empty())) };
        let iter: KvIter<'_> = if reverse {
            Box::new(self.store.range_rev(store, start, end, v).map_err(store_err)?.map(|r| r.map_err(store_err)))
        } else {
            Box::new(self.store.range(store, start, end, v).map_err(store_err)?.map(|r| r.map_err(store_err)))
        };
        Ok(iter)
    }
}

/// Where the in-order pass of a block is, for [`App::read_ahead`].
#[derive(Default)]
struct ReadAhead {
    executing: AtomicUsize,
    stopped: AtomicBool,
}

impl ReadAhead {
    fn stop_on_drop(&self) -> impl Drop + '_ {
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        Stop(&self.stopped)
    }
}

/// What running one tx produced.
#[derive(Debug)]
pub struct TxOutcome {
    pub result: Result<Vec<u8>, SdkError>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
    /// The decoded tx's msg responses (for Simulate's `result.msg_responses`).
    pub msg_responses: Vec<Any>,
}

impl TxOutcome {
    fn failed(err: SdkError, gas_wanted: u64, gas_used: u64, events: Vec<Event>) -> Self {
        Self { result: Err(err), gas_wanted, gas_used, events, msg_responses: Vec::new() }
    }
}

/// A message's failure as a tx result says it, the same in CheckTx and FinalizeBlock
/// (a fatal error keeps its own text: the node stops on it).
fn message_failure(e: SdkError, index: usize) -> SdkError {
    if e.fatal {
        e
    } else {
        e.wrap(format!("failed to execute message; message index: {index}"))
    }
}

/// A node-level failure: the node must stop rather than continue from it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The state store failed (disk, corruption, a locked or mismatched database).
    #[error("state store: {0}")]
    Store(#[from] paychain_store::StoreError),
    /// A module failed for a reason that is not its input's fault: a fatal [`SdkError`]
    /// (in practice a state read whose store error reached the module as text).
    #[error("{0}")]
    Fatal(String),
    /// Genesis, options or the order of the consensus engine's calls are not something the app
    /// can run.
    #[error("{0}")]
    Invalid(String),
}

impl From<SdkError> for AppError {
    fn from(e: SdkError) -> Self {
        AppError::Fatal(e.log)
    }
}

/// Results of FinalizeBlock, in app terms (the ABCI layer converts them).
pub struct BlockOutcome {
    pub tx_results: Vec<TxOutcome>,
    pub events: Vec<Event>,
    pub app_hash: AppHash,
}

/// Where the app's time goes (blocks and CheckTx), for benchmarks: filled only while
/// [`paychain_store::timing`] is enabled. The rest of a block, the Merkle update and the
/// RocksDB write, is in the store's [`MerkleStore::timings`].
#[derive(Debug, Default)]
struct AppTimings {
    begin_block: PhaseCounter,
    decode: PhaseCounter,
    signature_prepass: PhaseCounter,
    execute: PhaseCounter,
    end_block: PhaseCounter,
    check_tx: PhaseCounter,
    check_tx_preverify: PhaseCounter,
}

/// A reading of the app's phase timers (see [`App::timings`]); subtract two readings with
/// [`AppTimingsTotal::since`] to get one block's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppTimingsTotal {
    /// Every module's BeginBlock.
    pub begin_block: PhaseTotal,
    /// Decoding the block's txs (in parallel).
    pub decode: PhaseTotal,
    /// FinalizeBlock's parallel signature pass: signer accounts read, sign bytes built,
    /// signatures verified (wall time).
    pub signature_prepass: PhaseTotal,
    /// Running the txs in order: ante (fee, sequence, signature checks, which the pass above
    /// has cached) and messages.
    pub execute: PhaseTotal,
    /// Every module's EndBlock and collecting the block's writes for the store.
    pub end_block: PhaseTotal,
    /// CheckTx calls (not part of a block; on a node they run beside it).
    pub check_tx: PhaseTotal,
    /// The parallel signature pass over CheckTx requests that arrived together, ahead of their
    /// CheckTx calls (wall time).
    pub check_tx_preverify: PhaseTotal,
    /// secp256k1 verifications actually run, time summed over threads.
    pub signature_verifications: PhaseTotal,
    /// Signature checks answered by the verified-signature cache (count only).
    pub signature_cache_hits: PhaseTotal,
}

impl AppTimingsTotal {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &AppTimingsTotal) -> AppTimingsTotal {
        AppTimingsTotal {
            begin_block: self.begin_block.since(&earlier.begin_block),
            decode: self.decode.since(&earlier.decode),
            signature_prepass: self.signature_prepass.since(&earlier.signature_prepass),
            execute: self.execute.since(&earlier.execute),
            end_block: self.end_block.since(&earlier.end_block),
            check_tx: self.check_tx.since(&earlier.check_tx),
            check_tx_preverify: self.check_tx_preverify.since(&earlier.check_tx_preverify),
            signature_verifications: self.signature_verifications.since(&earlier.signature_verifications),
            signature_cache_hits: self.signature_cache_hits.since(&earlier.signature_cache_hits),
        }
    }
}

/// One signature for the parallel pass: a secp256k1 key, the bytes it may have
/// signed (one per sign-mode spelling), the signature.
struct SigJob {
    key: Vec<u8>,
    candidates: Vec<Vec<u8>>,
    signature: Vec<u8>,
}

#[derive(Default)]
struct BlockState {
    /// Genesis writes from InitChain, applied with the first block.
    genesis_writes: Option<Writes>,
    /// App hash of the genesis state: the first block's header carries it.
    genesis_app_hash: Option<AppHash>,
    initial_height: u64,
    finalized: Option<PreparedCommit>,
    /// The finalized block's txs, for the mempool's count (empty when it tracks none).
    finalized_tx_keys: Vec<TxKey>,
    /// How many txs the finalized block holds (the mempool's admission follows the rate).
    finalized_tx_count: usize,
}

struct MempoolState {
    version: Option<u64>,
    writes: IndexedWrites,
    pending: PendingTxs,
}

struct Inner {
    store: MerkleStore,
    wiring: Wiring,
    options: AppOptions,
    min_gas_prices: Vec<GasPrice>,
    sig_cache: SigCache,
    chain_id: RwLock<String>,
    block: Mutex<BlockState>,
    mempool: Mutex<MempoolState>,
    /// Time of the last finalized block (CheckTx and Simulate run "in" the next
    /// block). Its own lock, so CheckTx never nests the block lock.
    last_block_time: RwLock<BlockTime>,
    snapshots: SnapshotManager,
    timings: AppTimings,
}

/// The app. Cheap to clone: ABCI connections each hold one.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl App {
    /// Opens (or creates) the state store at `db_path`.
    pub fn open(db_path: &std::path::Path, options: AppOptions) -> Result<Self, AppError> {
        let wiring = wire_modules();
        let retention = (options.state_retention > 0).then_some(options.state_retention);
        let store = MerkleStore::open(db_path, StoreConfig { substores: wiring.modules.store_keys(), retention })?;
        Self::build(store, wiring, options, Some(snapshot::snapshot_dir_for(db_path)))
    }

    /// An app over `store` without a snapshot directory (takes and serves no snapshots).
    pub fn with_store(store: MerkleStore, wiring: Wiring, options: AppOptions) -> Result<Self, AppError> {
        Self::build(store, wiring, options, None)
    }

    fn build(
        store: MerkleStore,
        wiring: Wiring,
        options: AppOptions,
        snapshot_dir: Option<std::path::PathBuf>,
    ) -> Result<Self, AppError> {
        let min_gas_prices = parse_gas_prices(&options.minimum_gas_prices)
            .map_err(|e| AppError::Invalid(format!("minimum_gas_prices: {}", e.log)))?;
        let snapshots = SnapshotManager::new(snapshot_dir, &options.snapshots)
            .map_err(|e| AppError::Invalid(format!("snapshots: {e:#}")))?;
        let (chain_id, last_block_time) = load_committed(&store)?;
        let mempool = MempoolState {
            version: store.latest_version(),
            writes: IndexedWrites::default(),
            pending: PendingTxs::with_max_wait(options.mempool_max_txs, options.mempool_max_wait),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                wiring,
                options,
                min_gas_prices,
                sig_cache: SigCache::new(200_000),
                chain_id: RwLock::new(chain_id),
                block: Mutex::new(BlockState::default()),
                mempool: Mutex::new(mempool),
                last_block_time: RwLock::new(last_block_time),
                snapshots,
                timings: AppTimings::default(),
            }),
        })
    }

    pub fn store(&self) -> &MerkleStore {
        &self.inner.store
    }

    pub fn modules(&self) -> &ModuleSet {
        &self.inner.wiring.modules
    }

    pub fn options(&self) -> &AppOptions {
        &self.inner.options
    }

    /// The app's phase timers so far (all zero unless [`paychain_store::timing`] is enabled).
    pub fn timings(&self) -> AppTimingsTotal {
        let t = &self.inner.timings;
        AppTimingsTotal {
            begin_block: t.begin_block.total(),
            decode: t.decode.total(),
            signature_prepass: t.signature_prepass.total(),
            execute: t.execute.total(),
            end_block: t.end_block.total(),
            check_tx: t.check_tx.total(),
            check_tx_preverify: t.check_tx_preverify.total(),
            signature_verifications: self.inner.sig_cache.verifications(),
            signature_cache_hits: self.inner.sig_cache.hits(),
        }
    }

    pub fn chain_id(&self) -> String {
        self.inner.chain_id.read().clone()
    }

    /// Last committed height (0 before the first block) and its app hash.
    pub fn info(&self) -> (u64, Vec<u8>) {
        match self.inner.store.latest_version() {
            Some(v) => (v, self.inner.store.latest_app_hash().map(|h| h.to_vec()).unwrap_or_default()),
            None => (0, Vec::new()),
        }
    }

    /// Loads genesis `app_state` (JSON) into state held until the first block;
    /// returns the app hash of the genesis state.
    pub fn init_chain(&self, chain_id: &str, initial_height: u64, app_state: &[u8]) -> Result<AppHash, AppError> {
        let inner = &*self.inner;
        if inner.store.latest_version().is_some() {
            // CometBFT starts from genesis only when its own data is empty.
            return Err(AppError::Invalid(format!(
                "CometBFT is starting the chain from genesis, but the app store already holds blocks up to height \
                 {}: CometBFT's data directory was reset (or is new) while the app's was kept. To recover: restore \
                 CometBFT's data/ from the same backup as the app store, or also remove data/application.db so both \
                 start from genesis (or state-sync a fresh home)",
                inner.store.latest_version().unwrap_or_default()
            )));
        }
        let app_state: serde_json::Value = if app_state.is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_slice(app_state)
                .map_err(|e| AppError::Invalid(format!("genesis app_state is not valid JSON: {e}")))?
        };
        crate::genesis::validate_app_state(&inner.wiring.modules, &app_state).map_err(AppError::Invalid)?;
        *inner.chain_id.write() = chain_id.to_string();

        let block = BlockInfo { height: initial_height, time: BlockTime::default(), chain_id: chain_id.to_string() };
        let empty = StoreView::new(&inner.store, None);
        let mut state = CacheState::new(&empty);
        state.set(APP_STORE, CHAIN_ID_KEY.to_vec(), chain_id.as_bytes().to_vec());
        let gas = GasMeter::infinite();
        for module in inner.wiring.modules.iter() {
            let mut ctx = Context::new(&block, ExecMode::Genesis, &mut state, &gas);
            module
                .init_genesis(&mut ctx, app_state.get(module.name()))
                .map_err(|e| AppError::Invalid(format!("genesis of module {}: {}", module.name(), e.log)))?;
        }
        let writes = state.into_writes();
        let app_hash = inner.store.prepare(initial_height, &writes)?.app_hash;
        let mut bs = inner.block.lock();
        bs.genesis_writes = Some(writes);
        bs.genesis_app_hash = Some(app_hash);
        bs.initial_height = initial_height;
        Ok(app_hash)
    }

    fn block_info(&self, height: u64, time: BlockTime) -> BlockInfo {
        BlockInfo { height, time, chain_id: self.chain_id() }
    }

    fn ante_env(&self) -> AnteEnv<'_> {
        let inner = &*self.inner;
        AnteEnv {
            auth: &inner.wiring.auth,
            bank: &inner.wiring.bank,
            fees: &inner.wiring.fees,
            min_gas_prices: &inner.min_gas_prices,
            sig_cache: &inner.sig_cache,
        }
    }

    /// Runs one tx against `state`: ante on an overlay, then (except in
    /// CheckTx) the messages on a second overlay. Ante effects (fee, sequence)
    /// land even when a message fails; nothing lands when ante fails.
    pub fn run_tx(&self, tx_bytes: &[u8], mode: ExecMode, block: &BlockInfo, state: &mut dyn StateWrite) -> TxOutcome {
        let tx = match decode_tx(tx_bytes, self.modules()) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::failed(e, 0, 0, Vec::new()),
        };
        self.run_decoded_tx(&tx, mode, block, state)
    }

    pub fn run_decoded_tx(
        &self,
        tx: &DecodedTx,
        mode: ExecMode,
        block: &BlockInfo,
        state: &mut dyn StateWrite,
    ) -> TxOutcome {
        let gas_wanted = tx.gas_limit;
        let gas = if mode == ExecMode::Simulate { GasMeter::infinite() } else { GasMeter::new(gas_wanted) };

        let mut ante_state = CacheState::new(&*state);
        let ante_events = {
            let mut ctx =
                Context::new(block, mode, &mut ante_state, &gas).with_tx_extensions(&tx.body.extension_options);
            if let Err(e) = run_ante(&mut ctx, tx, &self.ante_env()) {
                return TxOutcome::failed(e, gas_wanted, gas.consumed(), Vec::new());
            }
            ctx.take_events()
        };
        if matches!(mode, ExecMode::Check | ExecMode::ReCheck) {
            // The rules on the coins the messages move decide here as in the block, so a
            // transfer they refuse never enters the mempool (and its fee and sequence stay).
            let ctx = Context::new(block, mode, &mut ante_state, &gas).with_tx_extensions(&tx.body.extension_options);
            for (index, routed) in tx.msgs.iter().enumerate() {
                if let Err(e) = self.modules().get(routed.module).check_admission(&ctx, routed.msg.as_ref()) {
                    return TxOutcome::failed(message_failure(e, index), gas_wanted, gas.consumed(), Vec::new());
                }
            }
            drop(ctx);
            let writes = ante_state.into_writes();
            state.apply(writes);
            // SDK v0.50 answers a passing CheckTx without events (its ante
            // events reach only FinalizeBlock and Simulate results).
            return TxOutcome {
                result: Ok(Vec::new()),
                gas_wanted,
                gas_used: gas.consumed(),
                events: Vec::new(),
                msg_responses: Vec::new(),
            };
        }

        let mut msg_state = CacheState::new(&ante_state);
        let mut events = ante_events.clone();
        let mut responses = Vec::with_capacity(tx.msgs.len());
        let mut failure = None;
        for (index, routed) in tx.msgs.iter().enumerate() {
            let module = self.modules().get(routed.module);
            let mut ctx =
                Context::new(block, mode, &mut msg_state, &gas).with_tx_extensions(&tx.body.extension_options);
            match module.deliver(&mut ctx, routed.msg.as_ref()) {
                Ok(resp) => {
                    let sender = routed.msg.signers().first().map(|s| s.to_string()).unwrap_or_default();
                    let msg_index = index.to_string();
                    events.push(
                        Event::new("message")
                            .attr("action", routed.msg.type_url())
                            .attr("sender", sender)
                            .attr("module", module.name())
                            .attr("msg_index", msg_index.clone()),
                    );
                    events.extend(ctx.take_events().into_iter().map(|e| e.attr("msg_index", msg_index.clone())));
                    responses.push(Any { type_url: resp.type_url, value: resp.value });
                }
                Err(e) => {
                    failure = Some(message_failure(e, index));
                    break;
                }
            }
        }
        if let Some(err) = failure {
            drop(msg_state);
            state.apply(ante_state.into_writes());
            return TxOutcome::failed(err, gas_wanted, gas.consumed(), ante_events);
        }
        let msg_writes = msg_state.into_writes();
        ante_state.apply(msg_writes);
        state.apply(ante_state.into_writes());
        let data = TxMsgData { msg_responses: responses.clone(), ..Default::default() }.encode_to_vec();
        TxOutcome { result: Ok(data), gas_wanted, gas_used: gas.consumed(), events, msg_responses: responses }
    }

    /// CheckTx (new or recheck) against the mempool state.
    pub fn check_tx(&self, tx_bytes: &[u8], recheck: bool) -> TxOutcome {
        self.check_tx_decoded(tx_bytes, recheck, None)
    }

    /// [`App::check_tx`] with `tx_bytes` already decoded by [`App::preverify_check_txs`]
    /// (`None`, or a decoding of other bytes, decodes here).
    pub fn check_tx_decoded(&self, tx_bytes: &[u8], recheck: bool, decoded: Option<DecodedTx>) -> TxOutcome {
        let inner = &*self.inner;
        let _timer = inner.timings.check_tx.time();
        let latest = inner.store.latest_version();
        let mut mp = inner.mempool.lock();
        if mp.version != latest {
            mp.version = latest;
            mp.writes.clear();
        }
        let view = StoreView::new(&inner.store, latest);
        let mut state = CacheState::indexed(&view, std::mem::take(&mut mp.writes));
        let time = *inner.last_block_time.read();
        let block = self.block_info(latest.unwrap_or(0) + 1, time);
        let mode = if recheck { ExecMode::ReCheck } else { ExecMode::Check };
        let max = inner.options.max_tx_bytes;
        // Also the check that `decoded` is these bytes' decoding: a mismatch decodes here instead.
        let key = (mp.pending.is_limited() || decoded.is_some()).then(|| tx_key(tx_bytes));
        let outcome = if tx_bytes.len() > max {
            TxOutcome::failed(
                sdk::tx_too_large(format!("tx size {} exceeds the maximum {max}", tx_bytes.len())),
                0,
                0,
                Vec::new(),
            )
        } else if !recheck && key.is_some_and(|k| mp.pending.is_full_for(&k)) {
            // Before the ante handler: a refused tx must not advance its sender's sequence.
            let log = format!(
                "{} txs are waiting for a block (this node lets {} wait now); resend later",
                mp.pending.len(),
                mp.pending.limit()
            );
            TxOutcome::failed(sdk::mempool_is_full(log), 0, 0, Vec::new())
        } else if let Some(tx) = decoded.filter(|t| key == Some(t.hash)) {
            self.run_decoded_tx(&tx, mode, &block, &mut state)
        } else {
            self.run_tx(tx_bytes, mode, &block, &mut state)
        };
        mp.writes = state.into_indexed_writes();
        if let Some(key) = key {
            if outcome.result.is_ok() {
                mp.pending.passed(key, latest.unwrap_or(0));
            } else if recheck {
                mp.pending.recheck_failed(&key);
            }
        }
        outcome
    }

    /// Verifies the signatures of new txs about to go through [`App::check_tx_decoded`] one by
    /// one, in parallel, so each CheckTx finds its signature in the cache (the ABCI server calls
    /// this for the CheckTx requests that arrived together). Checked against the last committed
    /// state; the results are not trusted, only cached: CheckTx verifies again, in order. Skipped
    /// while admission control refuses new txs: under overload that work would be thrown away.
    ///
    /// Returns what it decoded, `txs[i]` at `[i]` (`None` where it did not decode: too large, or
    /// malformed), for each CheckTx to take instead of decoding again; empty when skipped.
    pub fn preverify_check_txs(&self, txs: &[&[u8]]) -> Vec<Option<DecodedTx>> {
        let inner = &*self.inner;
        if txs.len() < 2 || inner.mempool.lock().pending.is_at_limit() {
            return Vec::new();
        }
        let _timer = inner.timings.check_tx_preverify.time();
        let max = inner.options.max_tx_bytes;
        let decoded: Vec<Result<DecodedTx, SdkError>> = txs
            .par_iter()
            .map(|bytes| {
                if bytes.len() > max {
                    return Err(sdk::tx_too_large("checked in CheckTx"));
                }
                decode_tx(bytes, self.modules())
            })
            .collect();
        let view = StoreView::new(&inner.store, inner.store.latest_version());
        self.preverify(&decoded, &view, &self.chain_id());
        decoded.into_iter().map(Result::ok).collect()
    }

    /// Which of `txs` decode (PrepareProposal's filter), `[i]` for `txs[i]`. A tx waiting in the
    /// mempool passed CheckTx, whose first step decoded it, so only the others are decoded here.
    pub fn txs_decode(&self, txs: &[&[u8]]) -> Vec<bool> {
        let waiting: Vec<bool> = if self.inner.mempool.lock().pending.is_empty() {
            vec![false; txs.len()]
        } else {
            let keys: Vec<TxKey> = txs.par_iter().map(|t| tx_key(t)).collect();
            let mp = self.inner.mempool.lock();
            keys.iter().map(|k| mp.pending.contains(k)).collect()
        };
        txs.par_iter().zip(waiting).map(|(tx, waiting)| waiting || decode_tx(tx, self.modules()).is_ok()).collect()
    }

    /// Runs a tx as Simulate against the mempool state without keeping anything.
    pub fn simulate(&self, tx_bytes: &[u8]) -> TxOutcome {
        let inner = &*self.inner;
        let latest = inner.store.latest_version();
        let pending = {
            let mp = inner.mempool.lock();
            if mp.version == latest {
                mp.writes.writes().clone()
            } else {
                Writes::new()
            }
        };
        let view = StoreView::new(&inner.store, latest);
        let mut state = CacheState::with_writes(&view, pending);
        let time = *inner.last_block_time.read();
        let block = self.block_info(latest.unwrap_or(0) + 1, time);
        self.run_tx(tx_bytes, ExecMode::Simulate, &block, &mut state)
    }

    /// [`App::finalize_block_with`] without a next validator set hash (tests, benchmarks).
    pub fn finalize_block(&self, height: u64, time: BlockTime, txs: &[Vec<u8>]) -> Result<BlockOutcome, AppError> {
        self.finalize_block_with(height, time, &[], txs)
    }

    /// Executes a decided block and computes its app hash; nothing is written
    /// until [`App::commit`]. `next_validators_hash` is the block header's (IBC's record of
    /// our own consensus state needs it).
    pub fn finalize_block_with(
        &self,
        height: u64,
        time: BlockTime,
        next_validators_hash: &[u8],
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, AppError> {
        let inner = &*self.inner;
        let mut bs = inner.block.lock();
        let latest = inner.store.latest_version();
        let expected = latest.map_or(bs.initial_height.max(1), |v| v + 1);
        if height != expected {
            return Err(AppError::Invalid(format!("FinalizeBlock for height {height}, expected {expected}")));
        }
        let block = self.block_info(height, time);
        let view = StoreView::new(&inner.store, latest);
        let base = if latest.is_none() { bs.genesis_writes.clone().unwrap_or_default() } else { Writes::new() };
        let mut state = CacheState::indexed(&view, IndexedWrites::from(base));

        // The header's app hash is the state root before this block.
        let last_app_hash = match latest {
            Some(_) => inner.store.latest_app_hash().map(|h| h.to_vec()),
            None => bs.genesis_app_hash.map(|h| h.to_vec()),
        }
        .unwrap_or_default();
        let header = BlockHeader { app_hash: last_app_hash, next_validators_hash: next_validators_hash.to_vec() };
        let timer = inner.timings.begin_block.time();
        let begin_gas = GasMeter::infinite();
        for module in inner.wiring.modules.iter() {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state, &begin_gas);
            module
                .begin_block(&mut ctx, &header)
                .map_err(|e| AppError::Fatal(format!("begin block of {}: {}", module.name(), e.log)))?;
        }
        drop(timer);

        // Decode and verify signatures of the whole block in parallel; the
        // sequential pass below then hits the signature cache.
        let timer = inner.timings.decode.time();
        let decoded: Vec<Result<DecodedTx, SdkError>> =
            txs.par_iter().map(|bytes| decode_tx(bytes, self.modules())).collect();
        bs.finalized_tx_count = txs.len();
        bs.finalized_tx_keys = if inner.mempool.lock().pending.is_empty() {
            Vec::new()
        } else {
            // The decoding's hash is the key (both sha256 of the bytes); computed again only
            // for bytes that did not decode.
            txs.par_iter().zip(&decoded).map(|(t, d)| d.as_ref().map_or_else(|_| tx_key(t), |d| d.hash)).collect()
        };
        drop(timer);
        // Against the committed state, which threads can share (begin block writes no
        // account). The block right after InitChain has its accounts only in the genesis
        // writes: it verifies in order, in the ante.
        if latest.is_some() {
            let timer = inner.timings.signature_prepass.time();
            self.preverify(&decoded, &view, &block.chain_id);
            drop(timer);
        }

        let execute_timer = inner.timings.execute.time();
        let progress = ReadAhead::default();
        let tx_results = std::thread::scope(|scope| {
            if inner.options.read_ahead && latest.is_some() && decoded.len() > 1 {
                // Speed only: if no thread can be had, the block runs without one
                // (`Scope::spawn` would panic).
                let _ = std::thread::Builder::new()
                    .name("read-ahead".into())
                    .spawn_scoped(scope, || self.read_ahead(&decoded, &block, latest, &progress));
            }
            // However the in-order pass ends (a fatal error included), the reader stops.
            let _stop = progress.stop_on_drop();
            let mut tx_results = Vec::with_capacity(txs.len());
            for (i, tx) in decoded.iter().enumerate() {
                progress.executing.store(i, Ordering::Relaxed);
                let outcome = match tx {
                    Ok(tx) => self.run_decoded_tx(tx, ExecMode::Finalize, &block, &mut state),
                    Err(e) => TxOutcome::failed(e.clone(), 0, 0, Vec::new()),
                };
                if let Err(e) = &outcome.result {
                    if e.fatal {
                        return Err(AppError::Fatal(e.log.clone()));
                    }
                }
                tx_results.push(outcome);
            }
            Ok(tx_results)
        })?;
        drop(execute_timer);

        let end_block_timer = inner.timings.end_block.time();
        let gas = GasMeter::infinite();
        let mut events = Vec::new();
        for module in inner.wiring.modules.iter() {
            let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state, &gas);
            module
                .end_block(&mut ctx)
                .map_err(|e| AppError::Fatal(format!("end block of {}: {}", module.name(), e.log)))?;
            events.extend(ctx.take_events().into_iter().map(|e| e.attr("mode", "EndBlock")));
        }

        state.set(APP_STORE, BLOCK_TIME_KEY.to_vec(), encode_block_time(time));
        let writes = state.into_writes();
        drop(end_block_timer);
        let prepared = inner.store.prepare(height, &writes)?;
        let app_hash = prepared.app_hash;
        bs.finalized = Some(prepared);
        *inner.last_block_time.write() = time;
        Ok(BlockOutcome { tx_results, events, app_hash })
    }

    /// Runs the block's messages ([`App::warm_messages`]), discarding everything, against the
    /// committed state on a second thread, ahead of the in-order pass: what each reads is then
    /// in the store's latest-value cache when its turn comes, instead of a RocksDB read (~8-25
    /// us each on this class of machine) on the one thread that decides the block. The cache
    /// only ever holds committed values, so results cannot depend on it. A tx the in-order pass
    /// has reached is skipped, so this thread never trails behind it.
    fn read_ahead(&self, txs: &[Result<DecodedTx, SdkError>], block: &BlockInfo, latest: Option<u64>, at: &ReadAhead) {
        let view = StoreView::new(&self.inner.store, latest);
        let mut i = 0;
        while i < txs.len() && !at.stopped.load(Ordering::Relaxed) {
            i = i.max(at.executing.load(Ordering::Relaxed) + 1);
            if let Some(Ok(tx)) = txs.get(i) {
                // Nothing a speculative run does may stop the block, not even a panic.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.warm_messages(tx, block, &view)));
            }
            i += 1;
        }
    }

    /// Runs `tx`'s messages, without its ante handler, on a throw-away overlay of `view`: what
    /// they read is then cached. The ante's reads (signer account, fee balance) are warm from
    /// CheckTx (cold only for a tx this node's mempool never saw), so skipping it lets this
    /// thread run ahead of the in-order pass instead of abreast of it; a message that fails
    /// here (its fee not taken, an earlier tx's effect unseen) merely warms less.
    fn warm_messages(&self, tx: &DecodedTx, block: &BlockInfo, view: &StoreView<'_>) {
        let gas = GasMeter::infinite();
        let mut scratch = CacheState::new(view);
        for routed in &tx.msgs {
            let module = self.modules().get(routed.module);
            let mut ctx = Context::new(block, ExecMode::Simulate, &mut scratch, &gas)
                .with_tx_extensions(&tx.body.extension_options);
            if module.deliver(&mut ctx, routed.msg.as_ref()).is_err() {
                return;
            }
        }
    }

    /// Verifies every signature of the block against pre-block accounts, in
    /// parallel, to warm the signature cache. Results are not trusted: the
    /// ante handler checks again (cheaply, via the cache) in order. A
    /// multisig's sub-signatures are verified one by one against their
    /// sub-keys (the cache holds exactly the triples that verified; the
    /// threshold and bit array are the ante handler's to check).
    fn preverify(&self, txs: &[Result<DecodedTx, SdkError>], state: &(dyn StateRead + Sync), chain_id: &str) {
        // Each tx's jobs are built on the thread that verifies them: the signers' accounts
        // read and the sign bytes built are a quarter of the work, too much to leave serial.
        txs.par_iter().filter_map(|t| t.as_ref().ok()).for_each(|tx| {
            for j in self.sig_jobs(tx, state, chain_id) {
                j.candidates.iter().any(|bytes| self.inner.sig_cache.verify(&j.key, bytes, &j.signature));
            }
        });
    }

    /// The signature checks of `tx`'s signers, as its ante handler will make them.
    fn sig_jobs(&self, tx: &DecodedTx, state: &dyn StateRead, chain_id: &str) -> Vec<SigJob> {
        let auth = &self.inner.wiring.auth;
        let mut jobs: Vec<SigJob> = Vec::new();
        for s in &tx.signers {
            let Ok(Some(acc)) = auth.account(state, &s.address) else { continue };
            let Some(pk) = s.pub_key.as_ref().or(acc.pub_key.as_ref()) else { continue };
            match (pk, &s.data) {
                (PubKey::Secp256k1(pk), SigData::Single { .. }) => {
                    if let Ok(candidates) = sign_bytes(tx, s, chain_id, acc.account_number) {
                        jobs.push(SigJob { key: pk.clone(), candidates, signature: s.signature.clone() });
                    }
                }
                (PubKey::Multisig(key), SigData::Multi { bitarray, sigs }) => {
                    let mut subs = Vec::new();
                    paychain_tx::multisig::sub_signatures(key, bitarray, sigs, &mut subs);
                    let mut by_mode: Vec<(i32, Vec<Vec<u8>>)> = Vec::new();
                    for (sub_pk, mode, sig) in subs {
                        let candidates = match by_mode.iter().find(|(m, _)| *m == mode) {
                            Some((_, c)) => c.clone(),
                            None => {
                                let Ok(c) = sign_bytes_for_mode(tx, mode, s.sequence, chain_id, acc.account_number)
                                else {
                                    continue;
                                };
                                by_mode.push((mode, c.clone()));
                                c
                            }
                        };
                        jobs.push(SigJob { key: sub_pk.to_vec(), candidates, signature: sig.to_vec() });
                    }
                }
                _ => {}
            }
        }
        jobs
    }

    /// Adds node-local side records (the node's tx index) to the finalized block's commit: they
    /// are written in its atomic batch, so they are durable exactly when the block is, and they
    /// are in no hash (see `paychain_store`'s "Side records").
    pub fn add_side_records(&self, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), AppError> {
        let mut bs = self.inner.block.lock();
        let prepared =
            bs.finalized.as_mut().ok_or_else(|| AppError::Invalid("side records without a finalized block".into()))?;
        prepared.add_side_records(records);
        Ok(())
    }

    /// Writes the finalized block atomically and resets the mempool state.
    pub fn commit(&self) -> Result<u64, AppError> {
        let inner = &*self.inner;
        let mut bs = inner.block.lock();
        let prepared = bs.finalized.take().ok_or_else(|| AppError::Invalid("Commit without FinalizeBlock".into()))?;
        let height = prepared.version;
        inner.store.commit(prepared)?;
        bs.genesis_writes = None;
        bs.genesis_app_hash = None;
        let mut mp = inner.mempool.lock();
        mp.version = Some(height);
        mp.writes.clear();
        mp.pending.committed(&std::mem::take(&mut bs.finalized_tx_keys), bs.finalized_tx_count, height);
        drop((mp, bs));
        inner.snapshots.on_commit(&inner.store, height);
        Ok(height)
    }

    /// Time of the last finalized block (what CheckTx and Simulate run with).
    pub fn last_block_time(&self) -> BlockTime {
        *self.inner.last_block_time.read()
    }

    /// State-sync snapshots: taking, listing, serving chunks.
    pub fn snapshots(&self) -> &SnapshotManager {
        &self.inner.snapshots
    }

    /// Snapshot chunks refused since start because they did not match their snapshot.
    pub fn snapshot_chunks_rejected(&self) -> u64 {
        self.inner.snapshots.chunks_rejected()
    }

    /// OfferSnapshot (see [`SnapshotManager::offer`]).
    pub fn offer_snapshot(&self, snapshot: Option<&pb::Snapshot>, trusted_app_hash: &[u8]) -> OfferResult {
        self.inner.snapshots.offer(&self.inner.store, snapshot, trusted_app_hash)
    }

    /// ApplySnapshotChunk; once the last chunk is in and committed, reloads what the app keeps
    /// in memory so Info, queries and CheckTx see the restored state.
    pub fn apply_snapshot_chunk(
        &self,
        index: u32,
        chunk: &[u8],
        sender: &str,
    ) -> Result<pb::ResponseApplySnapshotChunk, AppError> {
        let inner = &*self.inner;
        let applied = inner.snapshots.apply_chunk(&inner.store, index, chunk, sender)?;
        if applied.restored {
            let (chain_id, time) = load_committed(&inner.store)?;
            let mut bs = inner.block.lock();
            *bs = BlockState::default();
            *inner.chain_id.write() = chain_id;
            *inner.last_block_time.write() = time;
            let mut mp = inner.mempool.lock();
            mp.version = inner.store.latest_version();
            mp.writes.clear();
            mp.pending = PendingTxs::with_max_wait(inner.options.mempool_max_txs, inner.options.mempool_max_wait);
        }
        Ok(applied.response)
    }

    /// Runs every module's invariant checks on committed state.
    pub fn check_invariants(&self) -> Result<(), String> {
        let view = StoreView::new(&self.inner.store, self.inner.store.latest_version());
        for m in self.modules().iter() {
            m.check_invariants(&view).map_err(|e| format!("{}: {e}", m.name()))?;
        }
        Ok(())
    }

    /// Exports every module's genesis section from committed state.
    pub fn export_app_state(&self) -> Result<serde_json::Value, AppError> {
        let view = StoreView::new(&self.inner.store, self.inner.store.latest_version());
        let mut out = serde_json::Map::new();
        for m in self.modules().iter() {
            out.insert(m.name().to_string(), m.export_genesis(&view)?);
        }
        Ok(serde_json::Value::Object(out))
    }
}
