//! The assets module's events. Every action of an issuer or role holder emits
//! one `assets_action` event, every attribute indexed, so a compliance officer
//! finds all actions on a token with one search (`assets_action.denom='…'`):
//!
//! | attribute   | value                                                        |
//! |-------------|--------------------------------------------------------------|
//! | `action`    | `issue`, `mint`, `burn`, `configure_minter`, `freeze`, `unfreeze`, `freeze_account`, `unfreeze_account`, `pause`, `unpause`, `clawback`, `set_allowed`, `set_role`, `propose_admin`, `accept_admin`, `renounce_admin`, `renounce_feature`, `update_params` (by the chain authority; no denom) |
//! | `denom`     | the token                                                    |
//! | `actor`     | the signer                                                   |
//! | `target`    | the account acted on (empty when none)                       |
//! | `amount`    | the amount acted on (empty when none)                        |
//! | `detail`    | what changed: the role or feature, `allowed=true`, the new frozen amount, … |
//! | `reason`    | the reason code                                              |
//! | `reference` | the reference (legal basis, case number)                     |

use paychain_framework::{Address, Event};

use crate::msgs::Note;

pub const ASSETS_ACTION: &str = "assets_action";

/// One action, for [`action`].
pub struct Action<'a> {
    pub action: &'static str,
    pub denom: &'a str,
    pub actor: &'a Address,
    pub target: Option<&'a Address>,
    pub amount: Option<u128>,
    pub detail: String,
    pub note: Option<&'a Note>,
}

pub fn action(a: Action<'_>) -> Event {
    Event::new(ASSETS_ACTION)
        .attr("action", a.action)
        .attr("denom", a.denom)
        .attr("actor", a.actor.to_string())
        .attr("target", a.target.map(Address::to_string).unwrap_or_default())
        .attr("amount", a.amount.map(|v| v.to_string()).unwrap_or_default())
        .attr("detail", a.detail)
        .attr("reason", a.note.map(|n| n.reason.as_str()).unwrap_or_default())
        .attr("reference", a.note.map(|n| n.reference.as_str()).unwrap_or_default())
}
