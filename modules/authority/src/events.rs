//! The authority module's one event, every attribute indexed:
//! `authority_action` with `action` (`propose`, `cancel`, `accept`), `actor`
//! (the signer), `authority` (the authority after the action) and `pending` (the
//! proposed successor after it, empty when none), `reason` and `reference` (of a
//! proposal or cancellation; empty on acceptance).

use paychain_framework::note::Note;
use paychain_framework::{Address, Event};

pub const AUTHORITY_ACTION: &str = "authority_action";

pub fn action(
    action: &str,
    actor: &Address,
    authority: &Address,
    pending: Option<&Address>,
    note: Option<&Note>,
) -> Event {
    Event::new(AUTHORITY_ACTION)
        .attr("action", action)
        .attr("actor", actor.to_string())
        .attr("authority", authority.to_string())
        .attr("pending", pending.map(Address::to_string).unwrap_or_default())
        .attr("reason", note.map(|n| n.reason.as_str()).unwrap_or_default())
        .attr("reference", note.map(|n| n.reference.as_str()).unwrap_or_default())
}
