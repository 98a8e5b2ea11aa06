//! `paychain-txindex`: the node's own tx index.
//!
//! CometBFT's kv tx indexer was the largest cost of a loaded node (docs/benchmarks.md): a
//! goleveldb write per indexed attribute, its compaction, all on CometBFT's side of the ABCI
//! socket. Wallets still need `tx`, `tx_search`, `GetTx` and `GetTxsEvent`, so the node indexes
//! each block itself, in the block's own atomic commit (the store's side records: durable
//! exactly when the block is, and in no hash), and answers those queries from it.
//!
//! # Records (keys under `tx/` in the store's side table)
//!
//! | key                                                        | value                     |
//! |------------------------------------------------------------|---------------------------|
//! | `tx/h/` ++ sha256(tx)                                      | CometBFT's `abci.TxResult` (height, index, tx, result) |
//! | `tx/p/` ++ BE8(height) ++ BE4(index)                       | sha256(tx)                |
//! | `tx/a/` ++ BE2(len) ++ `type.key` ++ BE4(len) ++ value ++ BE8(height) ++ BE4(index) ++ BE4(event) | empty |
//! | `tx/b/` ++ (as `tx/a/`, with index 0)                        | empty: a block's own (FinalizeBlock) event attribute |
//! | `tx/t/` ++ BE8(height)                                     | block time: BE8(unix seconds) ++ BE4(nanos); one per indexed block |
//!
//! Every tx of a block is indexed, failed ones too, as CometBFT does; an attribute is indexed
//! when its `index` flag is set (the node's `index_events` decides the flags). Nothing is ever
//! pruned. A node that state-synced has no txs before its snapshot, like CometBFT's index.
//!
//! # Queries
//!
//! [`search`] takes CometBFT's query language (`message.sender='pay1..' AND tx.height>=5`)
//! with its v0.38 semantics: conditions are joined by AND, and the conditions on attributes must
//! all hold in *one event* of the tx (CometBFT keys each indexed attribute by its event, so
//! `message.sender='a' AND transfer.recipient='b'` finds nothing, as on CometBFT); `tx.hash`
//! answers that one tx; `tx.height` bounds the scan. Results are ordered by (height, index)
//! and paged as CometBFT pages them.
//!
//! [`block_search`] is CometBFT's `block_search` over the blocks' own events (FinalizeBlock's
//! `events`, e.g. an escrow refunded at the end of a block), with the same semantics and
//! `block.height` in place of `tx.height`: it answers the heights; the caller adds the blocks.

mod json;
mod proof;
mod records;
mod search;

pub use json::{block_search_json, proved_tx_json, search_json, tx_json};
pub use proof::{tx_proof, tx_proofs, TxProof};
pub use records::{block_records, block_time, get_tx, tx_hash, IndexStore, IndexedTx};
pub use search::{
    block_search, search, BlockPage, Order, SearchError, SearchPage, DEFAULT_PER_PAGE, MAX_MATCHES, MAX_PER_PAGE,
};
