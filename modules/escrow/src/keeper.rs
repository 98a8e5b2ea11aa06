//! The escrow keeper: escrows in the escrow substore, coins in the `escrow`
//! module account. Coins move only through bank's keeper (never its keys), so
//! supply never changes and every movement carries bank's SDK events.
//!
//! Every handler makes all of its checks before its first write, so a failed
//! message writes nothing even before the app discards its overlay.

use std::collections::BTreeMap;
use std::sync::Arc;

use paychain_auth::AuthKeeper;
use paychain_bank::{BankKeeper, Route};
use paychain_framework::state::{decode_tagged_proto, encode_tagged_proto};
use paychain_framework::{sdk, Address, BlockTime, Coins, Context, SdkError, StateRead};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::errors;
use crate::events;
use crate::keys::{self, Party, STORE_KEY};
use crate::msgs::{check_reference, ApproveEscrow, CancelEscrow, CreateEscrow, RefundEscrow, ReleaseEscrow, HASH_LEN};
use crate::pb::{self, Decision, EscrowStatus};
use crate::time;

/// Name of the module account that holds escrowed coins (no mint or burn permission).
pub const MODULE_ACCOUNT: &str = "escrow";

/// Upper bound of `max_expired_refunds_per_block`, so no genesis can make end blocks unbounded.
pub const MAX_EXPIRED_REFUNDS_PER_BLOCK_LIMIT: u32 = 10_000;

/// Params defaults: 7 arbiters, a 140-byte reference (ISO 20022 unstructured
/// remittance information), 8 denoms, 100 automatic refunds per block.
pub fn default_params() -> pb::Params {
    pb::Params { max_arbiters: 7, max_reference_length: 140, max_coins: 8, max_expired_refunds_per_block: 100 }
}

/// Checks params; the error starts with the field name (`max_coins: ...`).
pub fn validate_params(p: &pb::Params) -> Result<(), String> {
    for (name, v) in [
        ("max_arbiters", p.max_arbiters),
        ("max_reference_length", p.max_reference_length),
        ("max_coins", p.max_coins),
        ("max_expired_refunds_per_block", p.max_expired_refunds_per_block),
    ] {
        if v == 0 {
            return Err(format!("{name}: must be positive"));
        }
    }
    if p.max_expired_refunds_per_block > MAX_EXPIRED_REFUNDS_PER_BLOCK_LIMIT {
        return Err(format!(
            "max_expired_refunds_per_block: {} exceeds the limit {MAX_EXPIRED_REFUNDS_PER_BLOCK_LIMIT}",
            p.max_expired_refunds_per_block
        ));
    }
    Ok(())
}

pub(crate) fn addr(s: &str, field: &str) -> Result<Address, String> {
    Address::from_bech32(s).map_err(|e| format!("{field}: {}", e.log))
}

fn coins(c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin], field: &str) -> Result<Coins, String> {
    Coins::from_proto(c).map_err(|e| format!("{field}: {}", e.log))
}

fn timestamp(t: Option<&crate::time::Timestamp>, field: &str) -> Result<(), String> {
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

/// Corrupt stored bytes are a failure of the node, never of the input.
pub(crate) fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("escrow: corrupt {what} in store: {e}"))
}

/// Lower-case name of a status, for messages.
pub fn status_name(status: i32) -> &'static str {
    match EscrowStatus::try_from(status) {
        Ok(EscrowStatus::Open) => "open",
        Ok(EscrowStatus::Released) => "released",
        Ok(EscrowStatus::Refunded) => "refunded",
        Ok(EscrowStatus::Cancelled) => "cancelled",
        _ => "in an unknown state",
    }
}

/// The coins of a stored escrow field.
pub(crate) fn stored_coins(
    e: &pb::Escrow,
    field: &str,
    coins: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin],
) -> Result<Coins, SdkError> {
    Coins::from_proto(coins).map_err(|err| corrupt(format_args!("escrow {} {field}", e.id), err.log))
}

fn stored_address(e: &pb::Escrow, field: &str, s: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|err| corrupt(format_args!("escrow {} {field}", e.id), err.log))
}

fn fmt_time(t: BlockTime) -> String {
    time::format(&time::from_block_time(t))
}

pub struct EscrowKeeper {
    bank: Arc<BankKeeper>,
    auth: Arc<AuthKeeper>,
}

impl EscrowKeeper {
    pub fn new(bank: Arc<BankKeeper>, auth: Arc<AuthKeeper>) -> Self {
        Self { bank, auth }
    }

    pub fn bank(&self) -> &Arc<BankKeeper> {
        &self.bank
    }

    pub fn auth(&self) -> &Arc<AuthKeeper> {
        &self.auth
    }

    /// The escrow module account's address (`sha256("escrow")[..20]`).
    pub fn module_address() -> Address {
        Address::module(MODULE_ACCOUNT)
    }

    // ---- reads ----

    /// Stored params, or the defaults before genesis wrote any.
    pub fn params(&self, state: &dyn StateRead) -> Result<pb::Params, SdkError> {
        match state.get(STORE_KEY, keys::PARAMS_KEY)? {
            None => Ok(default_params()),
            Some(b) => decode_tagged_proto::<pb::Params>(&b).map_err(|e| corrupt("params", e)),
        }
    }

    pub fn set_params(&self, ctx: &mut Context, params: &pb::Params) -> Result<(), SdkError> {
        validate_params(params).map_err(|e| sdk::invalid_request(format!("invalid escrow params: {e}")))?;
        ctx.set(STORE_KEY, keys::PARAMS_KEY.to_vec(), encode_tagged_proto(params))
    }

    /// The id the next escrow gets (1 on a new chain).
    pub fn next_id(&self, state: &dyn StateRead) -> Result<u64, SdkError> {
        match state.get(STORE_KEY, keys::NEXT_ID_KEY)? {
            None => Ok(1),
            Some(b) => keys::id_from_bytes(&b).ok_or_else(|| corrupt("next id", hex::encode(&b))),
        }
    }

    pub(crate) fn set_next_id(&self, ctx: &mut Context, id: u64) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, keys::NEXT_ID_KEY.to_vec(), id.to_be_bytes().to_vec())
    }

    pub fn escrow(&self, state: &dyn StateRead, id: u64) -> Result<Option<pb::Escrow>, SdkError> {
        match state.get(STORE_KEY, &keys::escrow_key(id))? {
            None => Ok(None),
            Some(b) => pb::Escrow::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("escrow {id}"), e)),
        }
    }

    /// Every escrow, open and closed, in id order.
    pub fn escrows(&self, state: &dyn StateRead) -> Result<Vec<pb::Escrow>, SdkError> {
        let mut out = Vec::new();
        for entry in state.prefix(STORE_KEY, keys::ESCROW_PREFIX, false)? {
            let (key, value) = entry?;
            let e = pb::Escrow::decode(value.as_slice()).map_err(|e| corrupt(format_args!("escrow key {key:?}"), e))?;
            out.push(e);
        }
        Ok(out)
    }

    /// What the module account holds.
    pub fn module_balance(&self, state: &dyn StateRead) -> Result<Coins, SdkError> {
        self.bank.all_balances(state, &Self::module_address())
    }

    /// An escrow that must exist and be open.
    fn load_open(&self, ctx: &Context, id: u64) -> Result<pb::Escrow, SdkError> {
        let e = self.escrow(ctx, id)?.ok_or_else(|| errors::escrow_not_found(format!("escrow {id} does not exist")))?;
        if e.status != EscrowStatus::Open as i32 {
            let when = e.closed_at.as_ref().map(|t| format!(" at {}", time::format(t))).unwrap_or_default();
            return Err(errors::escrow_closed(format!("escrow {id} was already {}{when}", status_name(e.status))));
        }
        Ok(e)
    }

    /// Past the refund deadline an escrow can only be refunded (so a secret or an
    /// approval can never race the deadline).
    fn ensure_not_expired(&self, ctx: &Context, e: &pb::Escrow) -> Result<(), SdkError> {
        match &e.refund_after {
            Some(t) if time::reached(ctx.block.time, t) => Err(errors::expired(format!(
                "escrow {} reached its refund deadline {} (block time {}); it can only be refunded to the sender now",
                e.id,
                time::format(t),
                fmt_time(ctx.block.time)
            ))),
            _ => Ok(()),
        }
    }

    // ---- writes ----

    fn save(&self, ctx: &mut Context, e: &pb::Escrow) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, keys::escrow_key(e.id), e.encode_to_vec())
    }

    /// Writes a new (or genesis) escrow with its index entries.
    pub(crate) fn insert(&self, ctx: &mut Context, e: &pb::Escrow) -> Result<(), SdkError> {
        self.save(ctx, e)?;
        let sender = stored_address(e, "sender", &e.sender)?;
        let recipient = stored_address(e, "recipient", &e.recipient)?;
        ctx.set(STORE_KEY, keys::party_key(Party::Sender, &sender, e.id), keys::INDEX_MARKER.to_vec())?;
        ctx.set(STORE_KEY, keys::party_key(Party::Recipient, &recipient, e.id), keys::INDEX_MARKER.to_vec())?;
        for a in &e.arbiters {
            let a = stored_address(e, "arbiter", a)?;
            ctx.set(STORE_KEY, keys::party_key(Party::Arbiter, &a, e.id), keys::INDEX_MARKER.to_vec())?;
        }
        if e.status == EscrowStatus::Open as i32 {
            if let Some(t) = &e.refund_after {
                ctx.set(STORE_KEY, keys::expiry_key(t, e.id), keys::INDEX_MARKER.to_vec())?;
            }
        }
        Ok(())
    }

    /// Marks `e` closed with `status` (nothing remains) and drops it from the expiry index.
    fn close(&self, ctx: &mut Context, e: &mut pb::Escrow, status: EscrowStatus) -> Result<(), SdkError> {
        e.remaining.clear();
        e.status = status as i32;
        e.closed_at = Some(time::from_block_time(ctx.block.time));
        if let Some(t) = &e.refund_after {
            ctx.delete(STORE_KEY, keys::expiry_key(t, e.id))?;
        }
        self.save(ctx, e)
    }

    /// Pays `amount` (part of what remains) to the recipient; closes the escrow as
    /// released when nothing remains.
    fn pay_recipient(
        &self,
        ctx: &mut Context,
        e: &mut pb::Escrow,
        amount: &Coins,
        secret: &[u8],
        released_by: &str,
    ) -> Result<Coins, SdkError> {
        let remaining = stored_coins(e, "remaining", &e.remaining)?;
        let left = remaining.checked_sub(amount).ok_or_else(|| {
            SdkError::fatal(format!("escrow: releasing {amount} from escrow {} that holds {remaining}", e.id))
        })?;
        let recipient = stored_address(e, "recipient", &e.recipient)?;
        self.bank.send_coins_from_module_to_account(ctx, MODULE_ACCOUNT, &recipient, amount)?;
        if left.is_empty() {
            self.close(ctx, e, EscrowStatus::Released)?;
        } else {
            e.remaining = left.to_proto();
            self.save(ctx, e)?;
        }
        ctx.emit(events::escrow_released(e, amount, secret, released_by));
        Ok(left)
    }

    /// Returns everything that remains to the sender and closes the escrow with `status`.
    fn refund_remaining(
        &self,
        ctx: &mut Context,
        e: &mut pb::Escrow,
        status: EscrowStatus,
        reason: &str,
    ) -> Result<Coins, SdkError> {
        let remaining = stored_coins(e, "remaining", &e.remaining)?;
        let sender = stored_address(e, "sender", &e.sender)?;
        if !remaining.is_empty() {
            self.bank.send_coins_from_module_to_account(ctx, MODULE_ACCOUNT, &sender, &remaining)?;
        }
        self.close(ctx, e, status)?;
        ctx.emit(events::escrow_refunded(e, &remaining, reason));
        Ok(remaining)
    }

    /// CheckTx's view of the transfer rules `create` applies, read only: the recipient's
    /// eligibility, then the policies on the sender's move into the escrow account (which
    /// `create` meets when `send_coins` moves the coins).
    pub fn check_deposit(&self, ctx: &Context, msg: &CreateEscrow) -> Result<(), SdkError> {
        self.bank.check_receiver(ctx, &msg.recipient, &msg.amount, ctx.block.time)?;
        self.bank.check_send(ctx, &msg.sender, &Address::module(MODULE_ACCOUNT), &msg.amount, Route::Local)
    }

    // ---- message handlers ----

    /// `MsgCreateEscrow`: the stateful checks (params limits, send-enabled denoms,
    /// deadline after the block time, recipient able to receive), then the deposit.
    pub fn create(&self, ctx: &mut Context, msg: &CreateEscrow) -> Result<u64, SdkError> {
        let params = self.params(ctx)?;
        if msg.amount.len() > params.max_coins as usize {
            return Err(errors::too_many_coins(format!(
                "amount has {} denominations, at most {} are allowed",
                msg.amount.len(),
                params.max_coins
            )));
        }
        if msg.arbiters.len() > params.max_arbiters as usize {
            return Err(errors::too_many_arbiters(format!(
                "{} arbiters named, at most {} are allowed",
                msg.arbiters.len(),
                params.max_arbiters
            )));
        }
        if msg.reference.len() > params.max_reference_length as usize {
            return Err(errors::reference_too_long(format!(
                "reference is {} bytes, at most {} are allowed",
                msg.reference.len(),
                params.max_reference_length
            )));
        }
        let now = ctx.block.time;
        if let Some(t) = &msg.refund_after {
            if time::reached(now, t) {
                return Err(errors::invalid_deadline(format!(
                    "refund_after {} must be after the block time {}",
                    time::format(t),
                    fmt_time(now)
                )));
            }
        }
        self.bank.is_send_enabled_coins(ctx, &msg.amount)?;
        for (who, addr) in [("sender", &msg.sender), ("recipient", &msg.recipient)] {
            if self.bank.blocked_addr(addr) {
                return Err(sdk::unauthorized(format!(
                    "{who} {addr} is a module account and is not allowed to hold or receive escrowed funds"
                )));
            }
        }
        // The recipient must be able to receive these coins at all (an issuer's frozen
        // account or allowlist); what it will be able to receive at release is checked then.
        self.bank.check_receiver(ctx, &msg.recipient, &msg.amount, ctx.block.time)?;
        let id = self.next_id(ctx)?;
        let next = id.checked_add(1).ok_or_else(|| sdk::logic("escrow id overflow"))?;
        let created_height = i64::try_from(ctx.block.height)
            .map_err(|_| sdk::logic(format!("block height {} overflows", ctx.block.height)))?;

        self.bank.send_coins_from_account_to_module(ctx, &msg.sender, MODULE_ACCOUNT, &msg.amount)?;
        let e = pb::Escrow {
            id,
            sender: msg.sender.to_string(),
            recipient: msg.recipient.to_string(),
            amount: msg.amount.to_proto(),
            remaining: msg.amount.to_proto(),
            release_after: msg.release_after,
            refund_after: msg.refund_after,
            hash_lock: msg.hash_lock.clone(),
            arbiters: msg.arbiters.iter().map(Address::to_string).collect(),
            threshold: msg.threshold,
            reference: msg.reference.clone(),
            status: EscrowStatus::Open as i32,
            release_approvals: vec![],
            refund_approvals: vec![],
            created_at: Some(time::from_block_time(now)),
            created_height,
            closed_at: None,
        };
        self.set_next_id(ctx, next)?;
        self.insert(ctx, &e)?;
        ctx.emit(events::escrow_created(&e));
        Ok(id)
    }

    /// `MsgReleaseEscrow`.
    pub fn release(&self, ctx: &mut Context, msg: &ReleaseEscrow) -> Result<pb::MsgReleaseEscrowResponse, SdkError> {
        let mut e = self.load_open(ctx, msg.id)?;
        self.ensure_not_expired(ctx, &e)?;
        let now = ctx.block.time;
        if let Some(t) = &e.release_after {
            if !time::reached(now, t) {
                return Err(errors::time_locked(format!(
                    "escrow {} is locked until {} (block time {})",
                    e.id,
                    time::format(t),
                    fmt_time(now)
                )));
            }
        }
        let signer = msg.signer.to_string();
        let released_by = if !msg.secret.is_empty() {
            if e.hash_lock.is_empty() {
                return Err(errors::invalid_secret(format!("escrow {} has no hash lock; omit the secret", e.id)));
            }
            let hash = Sha256::digest(&msg.secret);
            if hash.as_slice() != e.hash_lock.as_slice() {
                return Err(errors::wrong_secret(format!(
                    "sha256 of the secret is {}, escrow {} is locked with {}",
                    hex::encode(hash),
                    e.id,
                    hex::encode(&e.hash_lock)
                )));
            }
            events::BY_SECRET
        } else if signer == e.sender {
            events::BY_SENDER
        } else if e.threshold > 0 && e.release_approvals.len() >= e.threshold as usize {
            events::BY_ARBITERS
        } else {
            let mut ways = vec!["its sender"];
            if !e.hash_lock.is_empty() {
                ways.push("anyone presenting the secret of its hash lock");
            }
            if e.threshold > 0 {
                ways.push("anyone once its arbiters approved the release");
            }
            let approvals = if e.threshold > 0 {
                format!(" ({} of {} release approvals so far)", e.release_approvals.len(), e.threshold)
            } else {
                String::new()
            };
            return Err(errors::unauthorized(format!(
                "{signer} may not release escrow {}: only {} can{approvals}",
                e.id,
                ways.join(", or ")
            )));
        };
        let remaining = stored_coins(&e, "remaining", &e.remaining)?;
        let amount = if msg.amount.is_empty() {
            remaining.clone()
        } else {
            for c in &msg.amount {
                let have = remaining.amount_of(&c.denom);
                if c.amount > have {
                    return Err(errors::exceeds_remaining(format!(
                        "cannot release {c} from escrow {}: it holds {}{}",
                        e.id, have, c.denom
                    )));
                }
            }
            msg.amount.clone()
        };
        let left = self.pay_recipient(ctx, &mut e, &amount, &msg.secret, released_by)?;
        Ok(pb::MsgReleaseEscrowResponse { released: amount.to_proto(), remaining: left.to_proto() })
    }

    /// `MsgApproveEscrow`: an arbiter votes once (for release or for refund);
    /// the decision that reaches the threshold is carried out at once (a release
    /// waits for `release_after`, after which any `MsgReleaseEscrow` executes it).
    pub fn approve(&self, ctx: &mut Context, msg: &ApproveEscrow) -> Result<pb::MsgApproveEscrowResponse, SdkError> {
        let mut e = self.load_open(ctx, msg.id)?;
        let arbiter = msg.arbiter.to_string();
        if !e.arbiters.contains(&arbiter) {
            return Err(errors::not_arbiter(format!("{arbiter} is not an arbiter of escrow {}", e.id)));
        }
        self.ensure_not_expired(ctx, &e)?;
        for (list, what) in [(&e.release_approvals, "release"), (&e.refund_approvals, "refund")] {
            if list.contains(&arbiter) {
                return Err(errors::already_voted(format!(
                    "{arbiter} already voted to {what} escrow {}; each arbiter votes once",
                    e.id
                )));
            }
        }
        let list = match msg.decision {
            Decision::Refund => &mut e.refund_approvals,
            _ => &mut e.release_approvals,
        };
        list.push(arbiter.clone());
        let approvals = list.len();
        ctx.emit(events::escrow_approved(&e, &arbiter, msg.decision, approvals));
        let reached = e.threshold > 0 && approvals >= e.threshold as usize;
        let executed = match msg.decision {
            Decision::Refund if reached => {
                self.refund_remaining(ctx, &mut e, EscrowStatus::Refunded, events::REASON_ARBITERS)?;
                true
            }
            Decision::Release
                if reached && e.release_after.as_ref().is_none_or(|t| time::reached(ctx.block.time, t)) =>
            {
                let remaining = stored_coins(&e, "remaining", &e.remaining)?;
                self.pay_recipient(ctx, &mut e, &remaining, &[], events::BY_ARBITERS)?;
                true
            }
            _ => {
                self.save(ctx, &e)?;
                false
            }
        };
        let approvals = u32::try_from(approvals).unwrap_or(u32::MAX);
        Ok(pb::MsgApproveEscrowResponse { approvals, executed })
    }

    /// `MsgRefundEscrow`: anyone, once the refund deadline has passed.
    pub fn refund(&self, ctx: &mut Context, msg: &RefundEscrow) -> Result<pb::MsgRefundEscrowResponse, SdkError> {
        let mut e = self.load_open(ctx, msg.id)?;
        let Some(deadline) = e.refund_after else {
            return Err(errors::no_deadline(format!(
                "escrow {} has no refund deadline (its recipient can cancel it{})",
                e.id,
                if e.threshold > 0 { ", or its arbiters can refund it" } else { "" }
            )));
        };
        let now = ctx.block.time;
        if !time::reached(now, &deadline) {
            return Err(errors::refund_not_due(format!(
                "escrow {} can be refunded from {} (block time {})",
                e.id,
                time::format(&deadline),
                fmt_time(now)
            )));
        }
        let refunded = self.refund_remaining(ctx, &mut e, EscrowStatus::Refunded, events::REASON_DEADLINE)?;
        Ok(pb::MsgRefundEscrowResponse { refunded: refunded.to_proto() })
    }

    /// `MsgCancelEscrow`: the recipient always; the sender only without hash lock and arbiters.
    pub fn cancel(&self, ctx: &mut Context, msg: &CancelEscrow) -> Result<pb::MsgCancelEscrowResponse, SdkError> {
        let mut e = self.load_open(ctx, msg.id)?;
        let signer = msg.signer.to_string();
        if signer == e.recipient {
            // The recipient gives up its claim.
        } else if signer == e.sender {
            let mut locks = Vec::new();
            if !e.hash_lock.is_empty() {
                locks.push("a hash lock");
            }
            if !e.arbiters.is_empty() {
                locks.push("arbiters");
            }
            if !locks.is_empty() {
                return Err(errors::unauthorized(format!(
                    "escrow {} has {}, so only its recipient can cancel it (the sender may cancel only an escrow \
                     without hash lock and arbiters)",
                    e.id,
                    locks.join(" and ")
                )));
            }
        } else {
            return Err(errors::unauthorized(format!(
                "{signer} may not cancel escrow {}: only its recipient (or its sender, when it has no hash lock and \
                 no arbiters) can",
                e.id
            )));
        }
        let refunded = self.refund_remaining(ctx, &mut e, EscrowStatus::Cancelled, events::REASON_CANCELLED)?;
        Ok(pb::MsgCancelEscrowResponse { refunded: refunded.to_proto() })
    }

    // ---- end block ----

    /// Refunds open escrows whose deadline has passed, oldest deadline first, at most
    /// `max_expired_refunds_per_block` of them (the rest wait for the next blocks).
    /// Walks at most that many index entries plus one. Returns how many it refunded.
    pub fn refund_expired(&self, ctx: &mut Context) -> Result<usize, SdkError> {
        let limit = self.params(ctx)?.max_expired_refunds_per_block as usize;
        let now = ctx.block.time;
        let mut due = Vec::new();
        for entry in ctx.prefix(STORE_KEY, keys::EXPIRY_PREFIX, false)? {
            if due.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let (deadline, id) =
                keys::split_expiry_key(&key).ok_or_else(|| corrupt("expiry key", hex::encode(&key)))?;
            if !time::reached(now, &deadline) {
                break;
            }
            due.push(id);
        }
        for id in &due {
            let mut e =
                self.escrow(ctx, *id)?.ok_or_else(|| corrupt("expiry index", format!("escrow {id} is missing")))?;
            if e.status != EscrowStatus::Open as i32 {
                return Err(corrupt("expiry index", format!("escrow {id} is {}", status_name(e.status))));
            }
            // A refund an issuer's rules refuse (a paused token, a frozen sender) must not
            // fail the block: the escrow stays open, is retried next block, and its sender
            // or arbiters can still act on it.
            let refunded =
                ctx.attempt(|ctx| self.refund_remaining(ctx, &mut e, EscrowStatus::Refunded, events::REASON_EXPIRED));
            match refunded {
                Ok(_) => {}
                Err(err) if err.fatal => return Err(err),
                Err(err) => ctx.emit(events::escrow_refund_failed(&e, &err.log)),
            }
        }
        Ok(due.len())
    }

    // ---- invariants ----

    /// The module account holds exactly what open escrows have remaining (per
    /// denom); every stored escrow is consistent ([`validate_escrow`]);
    /// the party and expiry indexes match the escrows exactly; ids are below the next id.
    pub fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        let next_id = self.next_id(state).map_err(|e| e.log)?;
        let mut held: BTreeMap<String, u128> = BTreeMap::new();
        let (mut party_entries, mut expiry_entries) = (0u64, 0u64);
        for entry in state.prefix(STORE_KEY, keys::ESCROW_PREFIX, false).map_err(|e| e.log)? {
            let (key, value) = entry.map_err(|e| e.log)?;
            let e = pb::Escrow::decode(value.as_slice())
                .map_err(|err| format!("escrow: undecodable escrow at key {}: {err}", hex::encode(&key)))?;
            if key != keys::escrow_key(e.id) {
                return Err(format!("escrow: escrow {} stored under key {}", e.id, hex::encode(&key)));
            }
            if e.id >= next_id {
                return Err(format!("escrow: escrow {} is not below the next id {next_id}", e.id));
            }
            validate_escrow(&e).map_err(|err| format!("escrow: escrow {}: {err}", e.id))?;
            let has = |k: Vec<u8>, what: &str| -> Result<(), String> {
                match state.get(STORE_KEY, &k).map_err(|e| e.log)? {
                    Some(_) => Ok(()),
                    None => Err(format!("escrow: escrow {} is missing from the {what} index", e.id)),
                }
            };
            let addr = |s: &str| Address::from_bech32(s).map_err(|err| err.log);
            has(keys::party_key(Party::Sender, &addr(&e.sender)?, e.id), "sender")?;
            has(keys::party_key(Party::Recipient, &addr(&e.recipient)?, e.id), "recipient")?;
            for a in &e.arbiters {
                has(keys::party_key(Party::Arbiter, &addr(a)?, e.id), "arbiter")?;
            }
            party_entries += 2 + e.arbiters.len() as u64;
            if e.status == EscrowStatus::Open as i32 {
                if let Some(t) = &e.refund_after {
                    has(keys::expiry_key(t, e.id), "expiry")?;
                    expiry_entries += 1;
                }
                for c in &e.remaining {
                    let amount = paychain_framework::coins::parse_amount(&c.amount).map_err(|err| err.log)?;
                    let sum = held.entry(c.denom.clone()).or_default();
                    *sum = sum
                        .checked_add(amount)
                        .ok_or_else(|| format!("escrow: sum of escrowed {} overflows", c.denom))?;
                }
            }
        }
        let mut indexed = 0u64;
        for party in [Party::Sender, Party::Recipient, Party::Arbiter] {
            indexed +=
                state.prefix(STORE_KEY, keys::party_index_prefix(party), false).map_err(|e| e.log)?.count() as u64;
        }
        if indexed != party_entries {
            return Err(format!("escrow: {indexed} party index entries for {party_entries} escrow parties"));
        }
        let expiry = state.prefix(STORE_KEY, keys::EXPIRY_PREFIX, false).map_err(|e| e.log)?.count() as u64;
        if expiry != expiry_entries {
            return Err(format!(
                "escrow: {expiry} expiry index entries for {expiry_entries} open escrows with a deadline"
            ));
        }
        let balance = self.module_balance(state).map_err(|e| e.log)?;
        let held =
            Coins::normalize(held.into_iter().map(|(d, a)| paychain_framework::Coin::new(a, d))).map_err(|e| e.log)?;
        if balance != held {
            return Err(format!(
                "escrow: the module account {} holds {:?} but open escrows hold {:?}",
                Self::module_address(),
                balance.to_string(),
                held.to_string()
            ));
        }
        Ok(())
    }
}
