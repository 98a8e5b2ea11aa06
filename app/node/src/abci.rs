//! The ABCI 2.0 surface: converts CometBFT's requests into [`App`] calls and
//! app results into responses. A node-level failure (storage, genesis) stops
//! the process with a clear message rather than answering something other
//! nodes would not agree with.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;

use paychain_framework::BlockTime;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    self as pb, response_process_proposal::ProposalStatus, RequestCheckTx, RequestFinalizeBlock, RequestInfo,
    RequestInitChain, RequestPrepareProposal, RequestProcessProposal, RequestQuery, ResponseCheckTx, ResponseCommit,
    ResponseFinalizeBlock, ResponseInfo, ResponseInitChain, ResponsePrepareProposal, ResponseProcessProposal,
    ResponseQuery,
};

use crate::disk::{LowDisk, StopCause};
use crate::metrics::METRICS;
use crate::risk::RiskScreener;
use crate::served::ServedApp;
use paychain_app::app::{AppError, TxOutcome};

/// Exit status of a node that stopped on a failure it must not continue from (sysexits' EX_SOFTWARE).
pub const EXIT_NODE_FAILURE: i32 = 70;
use paychain_tx::decode::{decode_tx, DecodedTx};

/// The app behind CometBFT's four ABCI connections.
#[derive(Clone)]
pub struct AbciApp {
    pub app: ServedApp,
    /// This node's risk service, asked about new txs in CheckTx only (`None` = off).
    pub risk: Option<Arc<RiskScreener>>,
    /// The txs of this node's latest PrepareProposal answer, every one known there to decode,
    /// so ProcessProposal of that same proposal (CometBFT asks the proposer too) need not decode.
    prepared: Arc<Mutex<Vec<Bytes>>>,
}

impl AbciApp {
    /// `app` without risk screening.
    pub fn new(app: ServedApp) -> Self {
        Self::with_risk(app, None)
    }

    /// `app` with new txs screened by `risk` (`None` = off).
    pub fn with_risk(app: ServedApp, risk: Option<Arc<RiskScreener>>) -> Self {
        Self { app, risk, prepared: Arc::default() }
    }

    /// CheckTx, with the tx already decoded when `decoded` is `Some` (the ABCI server's
    /// parallel pass over a burst; see [`paychain_app::app::App::preverify_check_txs`]).
    pub fn check_tx_with(&self, request: RequestCheckTx, decoded: Option<DecodedTx>) -> ResponseCheckTx {
        let recheck = request.r#type == pb::CheckTxType::Recheck as i32;
        // Only txs new to this node are screened, before the app sees them, so a refusal leaves
        // its mempool state (the sender's sequence) as it was. A recheck is not asked again: the
        // tx was admitted, and blocks never depend on the service (see crate::risk).
        let screened = match &self.risk {
            Some(risk) if !recheck => risk.screen(&self.app, &request.tx),
            _ => None,
        };
        let outcome = screened.unwrap_or_else(|| self.app.check_tx_decoded(&request.tx, recheck, decoded));
        // CheckTx events are indexed by no one; their flags stay as the app set them.
        let result = exec_result(outcome, &[]);
        METRICS.record_check_tx(recheck, result.code, &result.codespace);
        ResponseCheckTx {
            code: result.code,
            data: result.data,
            log: result.log,
            info: result.info,
            gas_wanted: result.gas_wanted,
            gas_used: result.gas_used,
            events: result.events,
            codespace: result.codespace,
        }
    }
}

/// Stops the node: continuing after a storage or genesis failure could fork
/// it. Exits rather than panics: the state on disk is the last commit, intact.
fn halt(app: &ServedApp, what: &str, err: AppError) -> ! {
    stop(app, what, &err, StopCause::App(&err))
}

/// Stops the node before a commit the disk may not have room for.
fn halt_low_disk(app: &ServedApp, low: &LowDisk) -> ! {
    stop(app, "Commit", low, StopCause::LowDisk(low))
}

fn stop(app: &ServedApp, what: &str, err: &dyn std::fmt::Display, cause: StopCause) -> ! {
    let path = app.store().path();
    let advice = crate::disk::store_failure_advice(path, &cause, app.store().latest_version())
        .map(|a| format!("\n  State store: {}{a}", path.display()))
        .unwrap_or_default();
    tracing::error!(target: "paychaind", "{what} failed, stopping the node: {err}{advice}");
    // Not eprintln!: it panics when stderr is a file on the disk that just filled up.
    let _ = writeln!(std::io::stderr(), "paychaind: {what} failed, stopping the node: {err}{advice}");
    std::process::exit(EXIT_NODE_FAILURE)
}

/// `index_events`: app.toml's choice of indexed attributes (block results only).
fn exec_result(outcome: TxOutcome, index_events: &[String]) -> pb::ExecTxResult {
    let (code, codespace, log, data) = match outcome.result {
        Ok(data) => (0, String::new(), String::new(), data),
        Err(e) => (e.code, e.codespace.into_owned(), e.log, Vec::new()),
    };
    pb::ExecTxResult {
        code,
        data: data.into(),
        log,
        info: String::new(),
        gas_wanted: outcome.gas_wanted.min(i64::MAX as u64) as i64,
        gas_used: outcome.gas_used.min(i64::MAX as u64) as i64,
        events: crate::events::to_abci_events(outcome.events, index_events),
        codespace,
    }
}

fn block_time(t: Option<&tendermint_proto::google::protobuf::Timestamp>) -> BlockTime {
    t.map(|t| BlockTime { seconds: t.seconds, nanos: t.nanos }).unwrap_or_default()
}

impl Application for AbciApp {
    fn info(&self, _request: RequestInfo) -> ResponseInfo {
        let (height, app_hash) = self.app.info();
        ResponseInfo {
            data: "paychain".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            app_version: 1,
            last_block_height: height as i64,
            last_block_app_hash: app_hash.into(),
        }
    }

    fn init_chain(&self, request: RequestInitChain) -> ResponseInitChain {
        let initial_height = u64::try_from(request.initial_height).unwrap_or(1).max(1);
        match self.app.init_chain(&request.chain_id, initial_height, &request.app_state_bytes) {
            // Empty validators = take CometBFT's genesis validators as they are.
            Ok(app_hash) => {
                ResponseInitChain { consensus_params: None, validators: vec![], app_hash: app_hash.to_vec().into() }
            }
            Err(e) => halt(&self.app, "InitChain", e),
        }
    }

    fn query(&self, request: RequestQuery) -> ResponseQuery {
        crate::query::handle_abci_query(&self.app, &request)
    }

    fn check_tx(&self, request: RequestCheckTx) -> ResponseCheckTx {
        self.check_tx_with(request, None)
    }

    fn commit(&self) -> ResponseCommit {
        // Stop while the write can still succeed rather than let RocksDB fail in the middle of it.
        let store = self.app.store().path();
        if let Err(low) = crate::disk::check_free_disk(store, self.app.config().min_free_disk_mb) {
            halt_low_disk(&self.app, &low);
        }
        let started = Instant::now();
        match self.app.commit() {
            Ok(_) => {
                METRICS.commit_seconds.observe(started.elapsed());
                ResponseCommit { retain_height: 0 }
            }
            Err(e) => halt(&self.app, "Commit", e),
        }
    }

    /// Keeps txs in mempool order, dropping those that do not decode and
    /// any beyond `max_tx_bytes`.
    fn prepare_proposal(&self, request: RequestPrepareProposal) -> ResponsePrepareProposal {
        let max = usize::try_from(request.max_tx_bytes).unwrap_or(0);
        let mut total = 0usize;
        let mut txs = Vec::with_capacity(request.txs.len());
        let decodes = self.app.txs_decode(&request.txs.iter().map(|t| &t[..]).collect::<Vec<_>>());
        for (tx, decodes) in request.txs.into_iter().zip(decodes) {
            if !decodes {
                continue;
            }
            if total + tx.len() > max {
                break;
            }
            total += tx.len();
            txs.push(tx);
        }
        self.prepared.lock().clone_from(&txs);
        ResponsePrepareProposal { txs }
    }

    /// Rejects a proposal carrying a tx that does not decode: an honest
    /// proposer never includes one.
    fn process_proposal(&self, request: RequestProcessProposal) -> ResponseProcessProposal {
        let ok = *self.prepared.lock() == request.txs
            || request.txs.iter().all(|tx| decode_tx(tx, self.app.modules()).is_ok());
        let status = if ok { ProposalStatus::Accept } else { ProposalStatus::Reject };
        ResponseProcessProposal { status: status as i32 }
    }

    fn finalize_block(&self, request: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let height = u64::try_from(request.height).unwrap_or(0);
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        // The proposal is decided: let go of its txs.
        self.prepared.lock().clear();
        let started = Instant::now();
        match self.app.finalize_block_with(
            height,
            block_time(request.time.as_ref()),
            &request.next_validators_hash,
            &txs,
        ) {
            Ok(outcome) => {
                METRICS.finalize_block_seconds.observe(started.elapsed());
                let index_events = &self.app.config().index_events;
                let tx_results: Vec<pb::ExecTxResult> =
                    outcome.tx_results.into_iter().map(|r| exec_result(r, index_events)).collect();
                for r in &tx_results {
                    METRICS.block_txs.inc(r.code, &r.codespace);
                }
                let events = crate::events::to_abci_events(outcome.events, index_events);
                if self.app.config().tx_index {
                    let time = block_time(request.time.as_ref());
                    let records =
                        paychain_txindex::block_records(height, (time.seconds, time.nanos), &txs, &tx_results, &events);
                    if let Err(e) = self.app.add_side_records(records) {
                        halt(&self.app, "FinalizeBlock", e);
                    }
                }
                ResponseFinalizeBlock {
                    events,
                    tx_results,
                    validator_updates: vec![],
                    consensus_param_updates: None,
                    app_hash: outcome.app_hash.to_vec().into(),
                }
            }
            Err(e) => halt(&self.app, "FinalizeBlock", e),
        }
    }

    // State sync (see paychain_app::snapshot for the format and the trust model).

    fn list_snapshots(&self) -> pb::ResponseListSnapshots {
        pb::ResponseListSnapshots { snapshots: self.app.snapshots().list() }
    }

    fn load_snapshot_chunk(&self, request: pb::RequestLoadSnapshotChunk) -> pb::ResponseLoadSnapshotChunk {
        let chunk = self.app.snapshots().load_chunk(request.height, request.format, request.chunk);
        pb::ResponseLoadSnapshotChunk { chunk: chunk.into() }
    }

    fn offer_snapshot(&self, request: pb::RequestOfferSnapshot) -> pb::ResponseOfferSnapshot {
        let result = self.app.offer_snapshot(request.snapshot.as_ref(), &request.app_hash);
        pb::ResponseOfferSnapshot { result: result as i32 }
    }

    fn apply_snapshot_chunk(&self, request: pb::RequestApplySnapshotChunk) -> pb::ResponseApplySnapshotChunk {
        match self.app.apply_snapshot_chunk(request.index, &request.chunk, &request.sender) {
            Ok(response) => response,
            Err(e) => halt(&self.app, "ApplySnapshotChunk", e),
        }
    }
}
