//! The app's events as ABCI events (FinalizeBlock results, Simulate answers).

use paychain_framework::Event;
use tendermint_proto::v0_38::abci as pb;

/// Every attribute keeps its `index` flag (the SDK indexes all of them), unless
/// `index_events` (app.toml) is non-empty: then only the attributes it names stay indexed
/// (`type` for all keys of a type, `type.key` for one).
pub fn to_abci_events(events: Vec<Event>, index_events: &[String]) -> Vec<pb::Event> {
    events
        .into_iter()
        .map(|e| {
            let attributes = e
                .attributes
                .into_iter()
                .map(|a| {
                    let index = a.index && (index_events.is_empty() || names(index_events, &e.kind, &a.key));
                    pb::EventAttribute { key: a.key, value: a.value, index }
                })
                .collect();
            pb::Event { r#type: e.kind, attributes }
        })
        .collect()
}

/// Whether `index_events` names attribute `key` of events of type `kind`: an entry equal to
/// `kind` or to `kind.key`, as the SDK matches (a typed event's type has dots of its own).
fn names(index_events: &[String], kind: &str, key: &str) -> bool {
    index_events.iter().any(|name| {
        name == kind || name.strip_prefix(kind).and_then(|rest| rest.strip_prefix('.')).is_some_and(|k| k == key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_attributes_stay_indexed() {
        let events = || {
            vec![
                Event::new("transfer").attr("recipient", "a").attr("amount", "1upay"),
                Event::new("coin_spent").attr("spender", "b"),
                Event::new("message").attr("sender", "b").attr("module", "bank"),
            ]
        };
        let flags = |out: &[pb::Event]| -> Vec<(String, String, bool)> {
            out.iter().flat_map(|e| e.attributes.iter().map(|a| (e.r#type.clone(), a.key.clone(), a.index))).collect()
        };
        assert!(flags(&to_abci_events(events(), &[])).iter().all(|(_, _, i)| *i), "empty = all, as the SDK");
        let chosen = ["transfer".to_string(), "message.sender".to_string()];
        let indexed: Vec<_> = flags(&to_abci_events(events(), &chosen)).into_iter().filter(|f| f.2).collect();
        let names: Vec<(&str, &str)> = indexed.iter().map(|(t, k, _)| (t.as_str(), k.as_str())).collect();
        assert_eq!(names, [("transfer", "recipient"), ("transfer", "amount"), ("message", "sender")]);

        // A typed event's type has dots: the entry is matched whole, not split at the first dot.
        let typed = || vec![Event::new("paychain.escrow.v1.EventCreated").attr("id", "1").attr("memo", "m")];
        let chosen = ["paychain.escrow.v1.EventCreated.id".to_string()];
        let flags_typed: Vec<bool> = flags(&to_abci_events(typed(), &chosen)).into_iter().map(|f| f.2).collect();
        assert_eq!(flags_typed, [true, false]);
        let whole = ["paychain.escrow.v1.EventCreated".to_string()];
        assert!(flags(&to_abci_events(typed(), &whole)).iter().all(|f| f.2));
        assert!(flags(&to_abci_events(typed(), &["paychain.escrow".to_string()])).iter().all(|f| !f.2));
    }
}
