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

use crate::keeper::{validate_params, EscrowKeeper, MODULE_ACCOUNT};
use crate::msgs::{check_reference, HASH_LEN};
use crate::pb::{self, EscrowStatus};
use crate::time;

/// The genesis of a new chain: default params, no escrows, next id 1.
pub fn default_genesis() -> pb::GenesisState {
    pb::GenesisState { params: Some(crate::keeper::default_params()), escrows: vec![], next_id: 1 }
}

fn addr(s: &str, field: &str) -> Result<Address, String> {
    Address::from_bech32(s).map_err(|e| format!("{field}: {}", e.log))
}

fn coins(c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin], field: &str) -> Result<Coins, String> {
    Coins::from_proto(c).map_err(|e| format!("{field}: {}", e.log))
}

fn timestamp(t: Option<&prost_types::Timestamp>, field: &str) -> Result<(), String> {
    t.map_or(Ok(()), |t| time::validate(t).map_err(|e| format!("{field}: {e}")))
}

/// The rules every stored escrow keeps (those of `MsgCreateEscrow` that need no
/// params, plus status consistency). Errors start with the field, relative to
/// the escrow (`arbiters[0]: ...`).
pub fn validate_escrow(e: &pb::Escrow) -> Result<(), String> {
    if e.id == 0 {
        return Err("id: must be positive".into());
    }
    let sender = addr(&e.sender, "sender")?;
    let recipient = addr(&e.recipient, "recipient")?;
    if sender == recipient {
        return Err(format!("recipient: {recipient} is also the sender"));
    }
    let amount = coins(&e.amount, "amount")?;
    if amount.is_empty() {
        return Err("amount: must not be empty".into());
    }
    let remaining = coins(&e.remaining, "remaining")?;
    if !amount.is_all_gte(&remaining) {
        return Err(format!("remaining: {remaining} exceeds the deposited amount {amount}"));
    }
    timestamp(e.release_after.as_ref(), "release_after")?;
    timestamp(e.refund_after.as_ref(), "refund_after")?;
    if let (Some(rel), Some(ref_)) = (&e.release_after, &e.refund_after) {
        if time::key(ref_) <= time::key(rel) {
            return Err(format!(
                "refund_after: {} must be after release_after {}",
                time::format(ref_),
                time::format(rel)
            ));
        }
    }
    if !e.hash_lock.is_empty() && e.hash_lock.len() != HASH_LEN {
        return Err(format!("hash_lock: must be empty or {HASH_LEN} bytes, got {}", e.hash_lock.len()));
    }
    let mut arbiters = Vec::with_capacity(e.arbiters.len());
    for (i, a) in e.arbiters.iter().enumerate() {
        let field = format!("arbiters[{i}]");
        let a = addr(a, &field)?;
        if a == sender || a == recipient {
            return Err(format!("{field}: {a} is a party of the escrow"));
        }
        if arbiters.contains(&a) {
            return Err(format!("{field}: {a} is listed twice"));
        }
        arbiters.push(a);
    }
    if arbiters.is_empty() && e.threshold != 0 {
        return Err(format!("threshold: must be 0 without arbiters, got {}", e.threshold));
    }
    if !arbiters.is_empty() && (e.threshold == 0 || e.threshold as usize > arbiters.len()) {
        return Err(format!("threshold: must be between 1 and {}, got {}", arbiters.len(), e.threshold));
    }
    check_reference(&e.reference).map_err(|err| format!("reference: {err}"))?;
    let mut voted = Vec::new();
    for (name, list) in [("release_approvals", &e.release_approvals), ("refund_approvals", &e.refund_approvals)] {
        for (i, v) in list.iter().enumerate() {
            if !e.arbiters.contains(v) {
                return Err(format!("{name}[{i}]: {v} is not an arbiter"));
            }
            if voted.contains(&v) {
                return Err(format!("{name}[{i}]: {v} voted twice"));
            }
            voted.push(v);
        }
    }
    timestamp(e.created_at.as_ref(), "created_at")?;
    timestamp(e.closed_at.as_ref(), "closed_at")?;
    if e.created_height < 0 {
        return Err(format!("created_height: must not be negative, got {}", e.created_height));
    }
    match EscrowStatus::try_from(e.status) {
        Ok(EscrowStatus::Open) => {
            if remaining.is_empty() {
                return Err("remaining: an open escrow must hold coins".into());
            }
            if e.closed_at.is_some() {
                return Err("closed_at: must be unset while the escrow is open".into());
            }
            if e.threshold > 0 && e.refund_approvals.len() >= e.threshold as usize {
                return Err("refund_approvals: reached the threshold, so the escrow cannot be open".into());
            }
        }
        Ok(EscrowStatus::Released | EscrowStatus::Refunded | EscrowStatus::Cancelled) => {
            if !remaining.is_empty() {
                return Err(format!("remaining: a closed escrow holds nothing, got {remaining}"));
            }
            if e.closed_at.is_none() {
                return Err("closed_at: must be set once the escrow is closed".into());
            }
        }
        _ => {
            return Err(format!(
                "status: must be ESCROW_STATUS_OPEN, _RELEASED, _REFUNDED or _CANCELLED, got {}",
                e.status
            ))
        }
    }
    Ok(())
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
