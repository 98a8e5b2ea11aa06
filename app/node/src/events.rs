//! The app's events as ABCI events (FinalizeBlock results, Simulate answers).

use paychain_framework::Event;
use tendermint_proto::v0_38::abci as pb;

/// Every attribute keeps its `index` flag (the SDK indexes all of them).
pub fn to_abci_events(events: Vec<Event>) -> Vec<pb::Event> {
    events
        .into_iter()
        .map(|e| pb::Event {
            r#type: e.kind,
            attributes: e
                .attributes
                .into_iter()
                .map(|a| pb::EventAttribute { key: a.key, value: a.value, index: a.index })
                .collect(),
        })
        .collect()
}
