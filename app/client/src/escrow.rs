//! Client side of the escrow module (`paychain.escrow.v1`): message builders
//! for the CLI, the query paths, and the messages as proto3 JSON (the gateway's
//! shape: snake_case, defaults written out, uint64 as strings, enums by name,
//! timestamps RFC 3339, bytes base64) in both directions, for `query tx`, the
//! REST tx endpoints and JSON request bodies.

use anyhow::{anyhow, bail};
use base64::Engine as _;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::Any;
use paychain_escrow::json::timestamp_json;
use paychain_escrow::pb;
use prost::Message as _;
use serde_json::{json, Map, Value};

// The module's own type URLs and query paths, under the names this client has used.
pub use paychain_escrow::msgs::{
    TYPE_URL_APPROVE as MSG_APPROVE, TYPE_URL_APPROVE_RESPONSE as MSG_APPROVE_RESPONSE, TYPE_URL_CANCEL as MSG_CANCEL,
    TYPE_URL_CANCEL_RESPONSE as MSG_CANCEL_RESPONSE, TYPE_URL_CREATE as MSG_CREATE,
    TYPE_URL_CREATE_RESPONSE as MSG_CREATE_RESPONSE, TYPE_URL_REFUND as MSG_REFUND,
    TYPE_URL_REFUND_RESPONSE as MSG_REFUND_RESPONSE, TYPE_URL_RELEASE as MSG_RELEASE,
    TYPE_URL_RELEASE_RESPONSE as MSG_RELEASE_RESPONSE,
};
pub use paychain_escrow::query::{
    ESCROW as QUERY_ESCROW, ESCROWS_BY_ARBITER as QUERY_BY_ARBITER, ESCROWS_BY_RECIPIENT as QUERY_BY_RECIPIENT,
    ESCROWS_BY_SENDER as QUERY_BY_SENDER, PARAMS as QUERY_PARAMS,
};

/// Every escrow type URL whose JSON [`to_json`] and [`from_json`] know.
pub const TYPE_URLS: [&str; 10] = [
    MSG_CREATE,
    MSG_RELEASE,
    MSG_APPROVE,
    MSG_REFUND,
    MSG_CANCEL,
    MSG_CREATE_RESPONSE,
    MSG_RELEASE_RESPONSE,
    MSG_APPROVE_RESPONSE,
    MSG_REFUND_RESPONSE,
    MSG_CANCEL_RESPONSE,
];

/// Wraps a message in its `Any`.
pub fn any<M: prost::Message>(type_url: &str, msg: &M) -> Any {
    Any { type_url: type_url.to_string(), value: msg.encode_to_vec() }
}

/// The sha256 hash lock of a secret.
pub fn hash_lock(secret: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(secret).into()
}

// ------------------------------------------------------------------ to JSON

fn b64(b: &[u8]) -> Value {
    if b.is_empty() {
        Value::Null
    } else {
        Value::String(base64::engine::general_purpose::STANDARD.encode(b))
    }
}

fn coins(c: &[ProtoCoin]) -> Value {
    c.iter().map(|c| json!({ "denom": c.denom, "amount": c.amount })).collect()
}

fn decision_name(d: i32) -> Value {
    match pb::Decision::try_from(d) {
        Ok(d) => Value::String(d.as_str_name().to_string()),
        Err(_) => Value::from(d),
    }
}

/// An escrow message or response (by type URL) as JSON, without `@type`;
/// `None` for other type URLs or bytes that do not decode.
pub fn to_json(type_url: &str, bytes: &[u8]) -> Option<Value> {
    Some(match type_url {
        MSG_CREATE => {
            let m = pb::MsgCreateEscrow::decode(bytes).ok()?;
            json!({
                "sender": m.sender,
                "recipient": m.recipient,
                "amount": coins(&m.amount),
                "release_after": timestamp_json(m.release_after.as_ref()),
                "refund_after": timestamp_json(m.refund_after.as_ref()),
                "hash_lock": b64(&m.hash_lock),
                "arbiters": m.arbiters,
                "threshold": m.threshold,
                "reference": m.reference,
            })
        }
        MSG_RELEASE => {
            let m = pb::MsgReleaseEscrow::decode(bytes).ok()?;
            json!({ "signer": m.signer, "id": m.id.to_string(), "amount": coins(&m.amount), "secret": b64(&m.secret) })
        }
        MSG_APPROVE => {
            let m = pb::MsgApproveEscrow::decode(bytes).ok()?;
            json!({ "arbiter": m.arbiter, "id": m.id.to_string(), "decision": decision_name(m.decision) })
        }
        MSG_REFUND => {
            let m = pb::MsgRefundEscrow::decode(bytes).ok()?;
            json!({ "signer": m.signer, "id": m.id.to_string() })
        }
        MSG_CANCEL => {
            let m = pb::MsgCancelEscrow::decode(bytes).ok()?;
            json!({ "signer": m.signer, "id": m.id.to_string() })
        }
        MSG_CREATE_RESPONSE => {
            let m = pb::MsgCreateEscrowResponse::decode(bytes).ok()?;
            json!({ "id": m.id.to_string() })
        }
        MSG_RELEASE_RESPONSE => {
            let m = pb::MsgReleaseEscrowResponse::decode(bytes).ok()?;
            json!({ "released": coins(&m.released), "remaining": coins(&m.remaining) })
        }
        MSG_APPROVE_RESPONSE => {
            let m = pb::MsgApproveEscrowResponse::decode(bytes).ok()?;
            json!({ "approvals": m.approvals, "executed": m.executed })
        }
        MSG_REFUND_RESPONSE => {
            let m = pb::MsgRefundEscrowResponse::decode(bytes).ok()?;
            json!({ "refunded": coins(&m.refunded) })
        }
        MSG_CANCEL_RESPONSE => {
            let m = pb::MsgCancelEscrowResponse::decode(bytes).ok()?;
            json!({ "refunded": coins(&m.refunded) })
        }
        _ => return None,
    })
}

/// The escrow message responses in a committed tx's `data` (a `TxMsgData`),
/// flattened into one object: `escrow_id` for a create, `released`/`remaining`,
/// `approvals`/`executed`, `refunded`. Empty when there are none.
pub fn response_fields(data: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    let Ok(d) = TxMsgData::decode(data) else { return out };
    for r in &d.msg_responses {
        let Some(Value::Object(fields)) = to_json(&r.type_url, &r.value) else { continue };
        for (k, v) in fields {
            let key = if r.type_url == MSG_CREATE_RESPONSE && k == "id" { "escrow_id".to_string() } else { k };
            out.insert(key, v);
        }
    }
    out
}

// ---------------------------------------------------------------- from JSON

/// Reads JSON request fields by proto name or lowerCamelCase name.
struct Fields<'a> {
    what: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn new(what: &'a str, v: &'a Value) -> anyhow::Result<Self> {
        let obj = v.as_object().ok_or_else(|| anyhow!("{what}: expected a JSON object"))?;
        Ok(Self { what, obj })
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        let camel = paychain_framework::json::camel_case(name);
        self.obj.get(name).or_else(|| self.obj.get(&camel)).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> anyhow::Result<String> {
        match self.get(name) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => bail!("{}.{name}: expected a string, got {other}", self.what),
        }
    }

    fn u64(&self, name: &str) -> anyhow::Result<u64> {
        match self.get(name) {
            None => Ok(0),
            Some(Value::String(s)) => {
                s.trim().parse().map_err(|_| anyhow!("{}.{name}: {s:?} is not an unsigned integer", self.what))
            }
            Some(Value::Number(n)) => {
                n.as_u64().ok_or_else(|| anyhow!("{}.{name}: {n} is not an unsigned integer", self.what))
            }
            Some(other) => bail!("{}.{name}: expected an unsigned integer, got {other}", self.what),
        }
    }

    fn u32(&self, name: &str) -> anyhow::Result<u32> {
        let v = self.u64(name)?;
        u32::try_from(v).map_err(|_| anyhow!("{}.{name}: {v} is out of range", self.what))
    }

    fn bytes(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
                .map_err(|e| anyhow!("{}.{name}: not base64: {e}", self.what)),
            Some(other) => bail!("{}.{name}: expected a base64 string, got {other}", self.what),
        }
    }

    fn strings(&self, name: &str) -> anyhow::Result<Vec<String>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| anyhow!("{}.{name}: expected strings", self.what))
                })
                .collect(),
            Some(other) => bail!("{}.{name}: expected a list of strings, got {other}", self.what),
        }
    }

    fn coins(&self, name: &str) -> anyhow::Result<Vec<ProtoCoin>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let what = format!("{}.{name}[{i}]", self.what);
                    let f = Fields::new(&what, c)?;
                    let amount = match f.get("amount") {
                        Some(Value::Number(n)) => n.to_string(),
                        _ => f.string("amount")?,
                    };
                    Ok(ProtoCoin { denom: f.string("denom")?, amount })
                })
                .collect(),
            Some(other) => bail!("{}.{name}: expected a list of coins, got {other}", self.what),
        }
    }

    fn timestamp(&self, name: &str) -> anyhow::Result<Option<prost_types::Timestamp>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => {
                paychain_escrow::time::parse(s).map(Some).map_err(|e| anyhow!("{}.{name}: {e}", self.what))
            }
            Some(other) => bail!("{}.{name}: expected an RFC 3339 time string, got {other}", self.what),
        }
    }

    fn decision(&self, name: &str) -> anyhow::Result<i32> {
        match self.get(name) {
            None => Ok(0),
            Some(Value::String(s)) => pb::Decision::from_str_name(s)
                .map(|d| d as i32)
                .ok_or_else(|| anyhow!("{}.{name}: {s:?} is not DECISION_RELEASE or DECISION_REFUND", self.what)),
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| anyhow!("{}.{name}: {n} is out of range", self.what)),
            Some(other) => bail!("{}.{name}: expected a decision name, got {other}", self.what),
        }
    }
}

/// Parses an escrow message or response (by type URL) from JSON (proto or
/// lowerCamelCase names, `@type` ignored) into its protobuf bytes; `None` for
/// other type URLs.
pub fn from_json(type_url: &str, v: &Value) -> Option<anyhow::Result<Vec<u8>>> {
    let name = type_url.rsplit('.').next().unwrap_or(type_url);
    let parse = || -> anyhow::Result<Vec<u8>> {
        let f = Fields::new(name, v)?;
        Ok(match type_url {
            MSG_CREATE => pb::MsgCreateEscrow {
                sender: f.string("sender")?,
                recipient: f.string("recipient")?,
                amount: f.coins("amount")?,
                release_after: f.timestamp("release_after")?,
                refund_after: f.timestamp("refund_after")?,
                hash_lock: f.bytes("hash_lock")?,
                arbiters: f.strings("arbiters")?,
                threshold: f.u32("threshold")?,
                reference: f.string("reference")?,
            }
            .encode_to_vec(),
            MSG_RELEASE => pb::MsgReleaseEscrow {
                signer: f.string("signer")?,
                id: f.u64("id")?,
                amount: f.coins("amount")?,
                secret: f.bytes("secret")?,
            }
            .encode_to_vec(),
            MSG_APPROVE => pb::MsgApproveEscrow {
                arbiter: f.string("arbiter")?,
                id: f.u64("id")?,
                decision: f.decision("decision")?,
            }
            .encode_to_vec(),
            MSG_REFUND => pb::MsgRefundEscrow { signer: f.string("signer")?, id: f.u64("id")? }.encode_to_vec(),
            MSG_CANCEL => pb::MsgCancelEscrow { signer: f.string("signer")?, id: f.u64("id")? }.encode_to_vec(),
            MSG_CREATE_RESPONSE => pb::MsgCreateEscrowResponse { id: f.u64("id")? }.encode_to_vec(),
            MSG_RELEASE_RESPONSE => {
                pb::MsgReleaseEscrowResponse { released: f.coins("released")?, remaining: f.coins("remaining")? }
                    .encode_to_vec()
            }
            MSG_APPROVE_RESPONSE => pb::MsgApproveEscrowResponse {
                approvals: f.u32("approvals")?,
                executed: match f.get("executed") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => bail!("{name}.executed: expected true or false, got {other}"),
                },
            }
            .encode_to_vec(),
            MSG_REFUND_RESPONSE => pb::MsgRefundEscrowResponse { refunded: f.coins("refunded")? }.encode_to_vec(),
            MSG_CANCEL_RESPONSE => pb::MsgCancelEscrowResponse { refunded: f.coins("refunded")? }.encode_to_vec(),
            _ => unreachable!("checked below"),
        })
    };
    TYPE_URLS.contains(&type_url).then(parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let create = pb::MsgCreateEscrow {
            sender: "pay1s".into(),
            recipient: "pay1r".into(),
            amount: vec![ProtoCoin { denom: "upay".into(), amount: "100".into() }],
            release_after: Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: 500_000_000 }),
            refund_after: None,
            hash_lock: vec![7u8; 32],
            arbiters: vec!["pay1a".into(), "pay1b".into()],
            threshold: 2,
            reference: "inv-1".into(),
        };
        let v = to_json(MSG_CREATE, &create.encode_to_vec()).unwrap();
        assert_eq!(v["release_after"], "2023-11-14T22:13:20.500Z");
        assert_eq!(v["refund_after"], Value::Null);
        assert_eq!(v["threshold"], 2);
        assert_eq!(v["hash_lock"], base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
        let back = from_json(MSG_CREATE, &v).unwrap().unwrap();
        assert_eq!(pb::MsgCreateEscrow::decode(back.as_slice()).unwrap(), create);

        let approve = pb::MsgApproveEscrow { arbiter: "pay1a".into(), id: u64::MAX, decision: 2 };
        let v = to_json(MSG_APPROVE, &approve.encode_to_vec()).unwrap();
        assert_eq!(v, json!({"arbiter": "pay1a", "id": u64::MAX.to_string(), "decision": "DECISION_REFUND"}));
        // lowerCamelCase and numbers are accepted too.
        let camel = json!({"arbiter": "pay1a", "id": 5, "decision": 1});
        let m = pb::MsgApproveEscrow::decode(from_json(MSG_APPROVE, &camel).unwrap().unwrap().as_slice()).unwrap();
        assert_eq!((m.id, m.decision), (5, 1));
        let release =
            json!({"signer": "x", "id": "3", "secret": base64::engine::general_purpose::STANDARD.encode([1u8; 32])});
        let m = pb::MsgReleaseEscrow::decode(from_json(MSG_RELEASE, &release).unwrap().unwrap().as_slice()).unwrap();
        assert_eq!((m.id, m.secret.len()), (3, 32));

        for url in TYPE_URLS {
            let empty = from_json(url, &json!({})).unwrap().unwrap();
            assert!(to_json(url, &empty).is_some(), "{url}");
        }
        assert!(from_json("/cosmos.bank.v1beta1.MsgSend", &json!({})).is_none());
        assert!(from_json(MSG_RELEASE, &json!({"id": "x"})).unwrap().is_err());
        assert!(from_json(MSG_APPROVE, &json!({"decision": "MAYBE"})).unwrap().is_err());
        assert!(from_json(MSG_CREATE, &json!({"refund_after": "tomorrow"})).unwrap().is_err());
    }

    #[test]
    fn response_fields_flatten_the_tx_data() {
        let data = TxMsgData {
            msg_responses: vec![
                any(MSG_CREATE_RESPONSE, &pb::MsgCreateEscrowResponse { id: 42 }),
                any(MSG_APPROVE_RESPONSE, &pb::MsgApproveEscrowResponse { approvals: 2, executed: true }),
            ],
            ..Default::default()
        };
        let f = response_fields(&data.encode_to_vec());
        assert_eq!(Value::Object(f), json!({"escrow_id": "42", "approvals": 2, "executed": true}));
        assert!(response_fields(b"\xff\xff").is_empty());
    }
}
