//! The fees module's event: `fee_tokens_set` with `actor` (the authority) and
//! `fee_tokens` (the new list, `denom:rate` comma-separated; empty when cleared),
//! `reason` and `reference`, every attribute indexed.

use paychain_framework::note::Note;
use paychain_framework::{Address, Event};

use crate::msgs::FeeTokens;

pub const FEE_TOKENS_SET: &str = "fee_tokens_set";

pub fn fee_tokens_set(actor: &Address, tokens: &FeeTokens, note: &Note) -> Event {
    let list: Vec<String> = tokens.iter().map(|(d, r)| format!("{d}:{r}")).collect();
    Event::new(FEE_TOKENS_SET)
        .attr("actor", actor.to_string())
        .attr("fee_tokens", list.join(","))
        .attr("reason", note.reason.as_str())
        .attr("reference", note.reference.as_str())
}
