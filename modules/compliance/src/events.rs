//! The compliance module's events. Every action emits one `compliance_action`
//! event, every attribute indexed, so `compliance_action.subject='pay1…'` or
//! `compliance_action.issuer='pay1…'` finds an account's whole history:
//!
//! | attribute   | value                                                                  |
//! |-------------|------------------------------------------------------------------------|
//! | `action`    | `register_issuer`, `remove_issuer`, `create_credential`, `accept_credential`, `revoke_credential` |
//! | `actor`     | the signer                                                             |
//! | `issuer`    | the credential issuer concerned                                        |
//! | `subject`   | the credential's subject (empty for issuer actions)                    |
//! | `detail`    | the credential type, or the issuer's types (comma-separated)           |
//! | `reason`    | the reason code (privileged actions)                                   |
//! | `reference` | the reference (legal basis, case number)                               |

use paychain_framework::note::Note;
use paychain_framework::{Address, Event};

pub const COMPLIANCE_ACTION: &str = "compliance_action";

pub struct Action<'a> {
    pub action: &'static str,
    pub actor: &'a Address,
    pub issuer: &'a Address,
    pub subject: Option<&'a Address>,
    pub detail: String,
    pub note: Option<&'a Note>,
}

pub fn action(a: Action<'_>) -> Event {
    Event::new(COMPLIANCE_ACTION)
        .attr("action", a.action)
        .attr("actor", a.actor.to_string())
        .attr("issuer", a.issuer.to_string())
        .attr("subject", a.subject.map(Address::to_string).unwrap_or_default())
        .attr("detail", a.detail)
        .attr("reason", a.note.map(|n| n.reason.as_str()).unwrap_or_default())
        .attr("reference", a.note.map(|n| n.reference.as_str()).unwrap_or_default())
}
