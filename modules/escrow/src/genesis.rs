//! The `app_state.escrow` genesis section (`GenesisState` in proto3 JSON, see
//! [`crate::json`]):
//!
//! ```json
//! {"params": {"max_arbiters": 7, "max_reference_length": 140, "max_coins": 8,
//!             "max_expired_refunds_per_block": 100},
//!  "escrows": [{"id": "1", "sender": "pay1...", "recipient": "pay1...", "amount": [...], ...}],
//!  "next_id": "2"}
//! ```
//!
//! Genesis never mints: the escrow module account's balance (given in bank's
//! section, which loads first) must equal what the open escrows hold.
//! `next_id` 0 (or absent) means one more than the largest id.

use std::collections::BTreeMap;

use paychain_framework::{Address, Coins, Context, SdkError, StateRead};

// `validate_escrow` is defined next to `validate_params`, in `keeper.rs` (the keeper's
// invariants check every stored escrow with it too); re-exported for the `genesis::` path.
pub use crate::keeper::validate_escrow;
use crate::keeper::{addr, validate_params, EscrowKeeper, MODULE_ACCOUNT};
use crate::pb::{self, EscrowStatus};

/// The genesis of a new chain: default params, no escrows, next id 1.
pub fn default_genesis() -> pb::GenesisState {
    pb::GenesisState { params: Some(crate::keeper::default_params()), escrows: vec![], next_id: 1 }
}

/// Validates a genesis state. Errors name the field from the section's root
/// (`escrow.escrows[2].arbiters[0]: ...`). `is_module_address` tells module
/// accounts, which may not be a sender or recipient (they cannot receive funds).
pub fn validate_genesis(g: &pb::GenesisState, is_module_address: &dyn Fn(&Address) -> bool) -> Result<(), String> {
    let params = g.params.unwrap_or_else(crate::keeper::default_params);
    validate_params(&params).map_err(|e| format!("escrow.params.{e}"))?;
    let mut ids: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, e) in g.escrows.iter().enumerate() {
        let path = format!("escrow.escrows[{i}]");
        validate_escrow(e).map_err(|err| format!("{path}.{err}"))?;
        if let Some(j) = ids.insert(e.id, i) {
            return Err(format!("{path}.id: duplicate id {} (also escrow.escrows[{j}])", e.id));
        }
        if g.next_id != 0 && e.id >= g.next_id {
            return Err(format!("{path}.id: {} is not below next_id {}", e.id, g.next_id));
        }
        if g.next_id == 0 && e.id == u64::MAX {
            return Err(format!("{path}.id: the largest id leaves no next id"));
        }
        for (field, s) in [("sender", &e.sender), ("recipient", &e.recipient)] {
            let a = addr(s, field)?;
            if is_module_address(&a) {
                return Err(format!("{path}.{field}: {a} is a module account"));
            }
        }
    }
    Ok(())
}

fn genesis_error(msg: impl std::fmt::Display) -> SdkError {
    SdkError::new(paychain_framework::error::SDK_CODESPACE, 18, format!("invalid escrow genesis: {msg}"))
}

pub(crate) fn parse_error(msg: String) -> SdkError {
    genesis_error(msg)
}

/// Loads genesis: params, escrows with their indexes, the next id; then checks
/// that the module account (funded by bank's genesis) holds exactly what the
/// open escrows hold.
pub fn init_genesis(keeper: &EscrowKeeper, ctx: &mut Context, g: &pb::GenesisState) -> Result<(), SdkError> {
    let bank = keeper.bank().clone();
    validate_genesis(g, &|a| bank.blocked_addr(a)).map_err(genesis_error)?;
    keeper.set_params(ctx, &g.params.unwrap_or_else(crate::keeper::default_params))?;
    keeper.auth().module_account(ctx, MODULE_ACCOUNT)?;
    let mut escrows: Vec<&pb::Escrow> = g.escrows.iter().collect();
    escrows.sort_by_key(|e| e.id);
    let mut held = Coins::empty();
    for e in &escrows {
        keeper.insert(ctx, e)?;
        if e.status == EscrowStatus::Open as i32 {
            held = held.checked_add(&Coins::from_proto(&e.remaining)?).map_err(genesis_error)?;
        }
    }
    let next_id = match g.next_id {
        0 => {
            escrows.last().map_or(Some(1), |e| e.id.checked_add(1)).ok_or_else(|| genesis_error("next_id overflows"))?
        }
        n => n,
    };
    keeper.set_next_id(ctx, next_id)?;
    let balance = keeper.module_balance(ctx)?;
    if balance != held {
        return Err(genesis_error(format!(
            "escrow.escrows: open escrows hold {:?} but the escrow module account {} holds {:?}; give it exactly \
             the escrowed coins as its balance in bank's genesis",
            held.to_string(),
            EscrowKeeper::module_address(),
            balance.to_string()
        )));
    }
    Ok(())
}

/// Exports params, every escrow (id order) and the next id.
pub fn export_genesis(keeper: &EscrowKeeper, state: &dyn StateRead) -> Result<pb::GenesisState, SdkError> {
    Ok(pb::GenesisState {
        params: Some(keeper.params(state)?),
        escrows: keeper.escrows(state)?,
        next_id: keeper.next_id(state)?,
    })
}
