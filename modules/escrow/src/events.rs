//! The events the escrow module emits (shapes documented in `events.proto`):
//! plain ABCI events, every attribute indexed (the framework's `Event::attr`),
//! coins as `100upay,5uatom`, timestamps RFC 3339, bytes hex.

use paychain_framework::{Coins, Event};

use crate::pb;
use crate::time;

pub const ESCROW_CREATED: &str = "escrow_created";
pub const ESCROW_RELEASED: &str = "escrow_released";
pub const ESCROW_APPROVED: &str = "escrow_approved";
pub const ESCROW_REFUNDED: &str = "escrow_refunded";
pub const ESCROW_REFUND_FAILED: &str = "escrow_refund_failed";

/// `released_by` values.
pub const BY_SENDER: &str = "sender";
pub const BY_SECRET: &str = "secret";
pub const BY_ARBITERS: &str = "arbiters";

/// `reason` values of `escrow_refunded`.
pub const REASON_DEADLINE: &str = "deadline";
pub const REASON_EXPIRED: &str = "expired";
pub const REASON_ARBITERS: &str = "arbiters";
pub const REASON_CANCELLED: &str = "cancelled";

fn coins_text(coins: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]) -> String {
    coins.iter().map(|c| format!("{}{}", c.amount, c.denom)).collect::<Vec<_>>().join(",")
}

pub fn escrow_created(e: &pb::Escrow) -> Event {
    Event::new(ESCROW_CREATED)
        .attr("id", e.id.to_string())
        .attr("sender", &e.sender)
        .attr("recipient", &e.recipient)
        .attr("amount", coins_text(&e.amount))
        .attr("reference", &e.reference)
        .attr("release_after", time::format_opt(e.release_after.as_ref()))
        .attr("refund_after", time::format_opt(e.refund_after.as_ref()))
        .attr("hash_lock", hex::encode(&e.hash_lock))
        .attr("arbiters", e.arbiters.join(","))
        .attr("threshold", e.threshold.to_string())
}

/// `e` is the escrow after the release (its `remaining` is what is left).
pub fn escrow_released(e: &pb::Escrow, released: &Coins, secret: &[u8], released_by: &str) -> Event {
    Event::new(ESCROW_RELEASED)
        .attr("id", e.id.to_string())
        .attr("sender", &e.sender)
        .attr("recipient", &e.recipient)
        .attr("amount", released.to_string())
        .attr("remaining", coins_text(&e.remaining))
        .attr("reference", &e.reference)
        .attr("secret", hex::encode(secret))
        .attr("released_by", released_by)
}

pub fn escrow_approved(e: &pb::Escrow, arbiter: &str, decision: pb::Decision, approvals: usize) -> Event {
    let decision = match decision {
        pb::Decision::Refund => "refund",
        _ => "release",
    };
    Event::new(ESCROW_APPROVED)
        .attr("id", e.id.to_string())
        .attr("arbiter", arbiter)
        .attr("decision", decision)
        .attr("approvals", approvals.to_string())
        .attr("threshold", e.threshold.to_string())
        .attr("reference", &e.reference)
}

pub fn escrow_refunded(e: &pb::Escrow, refunded: &Coins, reason: &str) -> Event {
    Event::new(ESCROW_REFUNDED)
        .attr("id", e.id.to_string())
        .attr("sender", &e.sender)
        .attr("recipient", &e.recipient)
        .attr("amount", refunded.to_string())
        .attr("reference", &e.reference)
        .attr("reason", reason)
}

/// An automatic refund at the deadline that the coins' rules refused (retried next block).
pub fn escrow_refund_failed(e: &pb::Escrow, error: &str) -> Event {
    Event::new(ESCROW_REFUND_FAILED)
        .attr("id", e.id.to_string())
        .attr("sender", &e.sender)
        .attr("remaining", coins_text(&e.remaining))
        .attr("error", error)
}
