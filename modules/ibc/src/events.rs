//! IBC events as ABCI events. ibc-rs builds its attributes unindexed; CometBFT's indexer
//! (and so Hermes's `tx_search` when it clears packets or looks up client updates) only
//! finds indexed ones, so every attribute is converted with `index: true`.

use ibc::core::handler::types::events::IbcEvent;
use paychain_framework::Event;

pub fn to_event(event: IbcEvent) -> Result<Event, String> {
    let abci = tendermint::abci::Event::try_from(event).map_err(|e| format!("ibc event: {e}"))?;
    let mut out = Event::new(abci.kind);
    for a in &abci.attributes {
        let key = a.key_str().map_err(|e| format!("ibc event attribute key: {e}"))?;
        let value = a.value_str().map_err(|e| format!("ibc event attribute value: {e}"))?;
        out = out.attr(key, value);
    }
    Ok(out)
}
