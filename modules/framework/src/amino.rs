//! The legacy amino JSON form of our own modules' messages, the document
//! SIGN_MODE_LEGACY_AMINO_JSON signs (multisig members and Ledger sign it):
//! `{"type": "<amino name>", "value": {...}}` with the message's proto field
//! names and zero values omitted, as the SDK's legacy codec writes a gogoproto
//! message.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::proto_json::{to_json, AnyTypes};

/// The message's fields in proto3 JSON (the gateway's form, before amino's changes).
pub fn fields<T: Serialize + DeserializeOwned + 'static>(msg: &T) -> Option<Map<String, Value>> {
    match to_json(&AnyTypes::default(), msg).ok()? {
        Value::Object(fields) => Some(fields),
        _ => None,
    }
}

/// `{"type": amino_type, "value": fields}`, fields with zero values dropped (in
/// nested messages too).
pub fn msg(amino_type: &str, fields: Map<String, Value>) -> Value {
    serde_json::json!({ "type": amino_type, "value": strip(fields) })
}

fn strip(fields: Map<String, Value>) -> Map<String, Value> {
    fields.into_iter().filter(|(_, v)| !is_zero(v)).map(|(k, v)| (k, strip_value(v))).collect()
}

fn strip_value(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip(m)),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_value).collect()),
        v => v,
    }
}

/// The amino form of a message whose proto3 JSON needs no other change.
pub fn plain<T: Serialize + DeserializeOwned + 'static>(amino_type: &str, msg_value: &T) -> Option<Value> {
    Some(msg(amino_type, fields(msg_value)?))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_u64() == Some(0),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn zero_values_are_omitted() {
        let fields = serde_json::json!({"a": "", "b": "x", "c": false, "d": 0, "e": [], "f": 3,
            "g": {"h": "", "i": [{"j": "", "k": "1"}]}});
        let serde_json::Value::Object(fields) = fields else { unreachable!() };
        let v = super::msg("paychain/x/MsgY", fields);
        let want = serde_json::json!({"b": "x", "f": 3, "g": {"i": [{"k": "1"}]}});
        assert_eq!(v, serde_json::json!({"type": "paychain/x/MsgY", "value": want}));
    }
}
