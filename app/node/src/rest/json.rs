//! Proto3 JSON as the SDK's gRPC gateway writes it, built on cosmos-sdk-proto's
//! pbjson serde impls.
//!
//! pbjson writes lowerCamelCase names, omits default values and renders `Any`
//! as `{typeUrl, value: base64}`. The gateway writes proto (snake_case) names,
//! emits defaults and expands `Any` as `{"@type": url, ...fields}`. We have no
//! descriptors, so we learn each message's shape from its own `Deserialize`
//! impl: a probing [`serde::Deserializer`] records the field names pbjson
//! passes to `deserialize_struct` and, for each field, which kind of value the
//! generated visitor asks for (string, bool, 64-bit number, enum variants,
//! nested message, list, map). That [`Kind`] tree (cached per type) drives
//!
//! - [`to_json`]: pbjson JSON → snake_case names, defaults filled in, `Any`s
//!   decoded through [`registry`] and expanded;
//! - [`from_json`]: request JSON (either case) with `@type` Anys → the
//!   message, by packing each known `Any` back to `{typeUrl, value}` before
//!   pbjson deserializes it (pbjson accepts both name cases itself).

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use prost::Message;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

const ANY: &str = "google.protobuf.Any";
const MAX_DEPTH: usize = 16;

/// The JSON shape of a field, as far as the gateway's output needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Str,
    /// Base64 in JSON; an empty value is written as `null` (Go's nil slice).
    Bytes,
    Bool,
    /// int64/uint64 (and doubles): strings in JSON, default `"0"`.
    Int64,
    /// int32/uint32: JSON numbers, default `0`.
    Int32,
    /// Variant names; the first is the default.
    Enum(Vec<String>),
    Opt(Box<Kind>),
    Seq(Box<Kind>),
    Map,
    Struct(Arc<Schema>),
    Unknown,
}

/// A message: proto name and fields as (snake_case name, lowerCamelCase name, kind).
#[derive(Debug, PartialEq)]
pub struct Schema {
    pub name: String,
    pub fields: Vec<(String, String, Kind)>,
}

pub use paychain_framework::json::camel_case as camel;

// ---------------------------------------------------------------- probing

#[derive(Debug)]
struct Probe {
    kind: Option<Kind>,
    variants: Option<Vec<String>>,
    msg: String,
}

impl Probe {
    fn kind(kind: Kind) -> Self {
        Self { kind: Some(kind), variants: None, msg: String::new() }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe: {}", self.msg)
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self { kind: None, variants: None, msg: msg.to_string() }
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self {
            kind: None,
            variants: Some(expected.iter().map(|s| s.to_string()).collect()),
            msg: format!("unknown variant {variant}"),
        }
    }
}

/// Explores one path of field indices through a message: each struct level
/// takes the next index and asks its visitor for that one field.
struct Prober<'p> {
    path: &'p [usize],
    depth: usize,
}

thread_local! {
    static PENDING_ANY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The kind a probed value reported, resolving a `deserialize_any` probe.
fn leaf<T>(r: Result<T, Probe>) -> Probe {
    if PENDING_ANY.with(|p| p.replace(false)) {
        return match r {
            Ok(_) => Probe::kind(Kind::Int64),
            Err(Probe { variants: Some(v), .. }) => Probe::kind(Kind::Enum(v)),
            Err(_) => Probe::kind(Kind::Int32),
        };
    }
    match r {
        Err(p) => p,
        Ok(_) => Probe::kind(Kind::Unknown),
    }
}

fn kind_of<T>(r: Result<T, Probe>) -> Kind {
    leaf(r).kind.unwrap_or(Kind::Unknown)
}

struct OneField<'p> {
    key: Option<String>,
    path: &'p [usize],
    depth: usize,
}

impl<'de> MapAccess<'de> for OneField<'_> {
    type Error = Probe;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Probe> {
        match self.key.take() {
            Some(k) => seed.deserialize(de::value::StringDeserializer::<Probe>::new(k)).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Probe> {
        Err(leaf(seed.deserialize(Prober { path: self.path, depth: self.depth })))
    }
}

struct OneElem<'p> {
    done: bool,
    path: &'p [usize],
    depth: usize,
}

impl<'de> SeqAccess<'de> for OneElem<'_> {
    type Error = Probe;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Probe> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        Err(leaf(seed.deserialize(Prober { path: self.path, depth: self.depth })))
    }
}

impl Prober<'_> {
    fn at_end(&self) -> bool {
        self.depth >= self.path.len()
    }
}

impl<'de> de::Deserializer<'de> for Prober<'_> {
    type Error = Probe;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Probe> {
        // Numbers (pbjson's untagged NumberDeserialize) and enums come here.
        // A 64-bit number accepts this string and a 32-bit one does not (the
        // parse happens after we return); an enum reports its variants. The
        // caller reads the outcome with [`leaf`].
        PENDING_ANY.with(|p| p.set(true));
        visitor.visit_str::<Probe>("4294967296")
    }
    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::kind(Kind::Bool))
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        // pbjson reads strings with `deserialize_string`, bytes with `deserialize_str`.
        Err(Probe::kind(Kind::Bytes))
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::kind(Kind::Str))
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Probe> {
        let end = self.at_end();
        let inner = kind_of(visitor.visit_some(Prober { path: self.path, depth: self.depth }));
        Err(Probe::kind(if end { Kind::Opt(Box::new(inner)) } else { inner }))
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Probe> {
        let end = self.at_end();
        let inner = kind_of(visitor.visit_seq(OneElem { done: false, path: self.path, depth: self.depth }));
        Err(Probe::kind(if end { Kind::Seq(Box::new(inner)) } else { inner }))
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::kind(Kind::Map))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Probe> {
        // pbjson lists each field's proto name, then its JSON name when it differs.
        let mut names: Vec<&str> = Vec::new();
        for f in fields {
            if let Some(prev) = names.last() {
                if camel(prev) == *f && prev != f {
                    continue;
                }
            }
            names.push(f);
        }
        if self.at_end() {
            let fields = names.iter().map(|n| (n.to_string(), camel(n), Kind::Unknown)).collect();
            return Err(Probe::kind(Kind::Struct(Arc::new(Schema { name: name.to_string(), fields }))));
        }
        let Some(key) = names.get(self.path[self.depth]) else {
            return Err(Probe::kind(Kind::Unknown));
        };
        let map = OneField { key: Some(key.to_string()), path: self.path, depth: self.depth + 1 };
        Err(Probe::kind(kind_of(visitor.visit_map(map))))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct newtype_struct
        tuple tuple_struct enum identifier ignored_any
    }
}

fn explore<T: DeserializeOwned>(path: &[usize]) -> Kind {
    kind_of(T::deserialize(Prober { path, depth: 0 }))
}

/// Replaces the struct headers in `kind` (found at `path`) by full schemas.
fn complete<T: DeserializeOwned>(kind: Kind, path: &mut Vec<usize>) -> Kind {
    match kind {
        Kind::Opt(k) => Kind::Opt(Box::new(complete::<T>(*k, path))),
        Kind::Seq(k) => Kind::Seq(Box::new(complete::<T>(*k, path))),
        Kind::Struct(s) if s.name == ANY => Kind::Struct(Arc::new(Schema {
            name: ANY.into(),
            fields: vec![("type_url".into(), "typeUrl".into(), Kind::Str), ("value".into(), "value".into(), Kind::Str)],
        })),
        Kind::Struct(_) if path.len() >= MAX_DEPTH => Kind::Unknown,
        Kind::Struct(s) => {
            let mut fields = Vec::with_capacity(s.fields.len());
            for (i, (snake, camel, _)) in s.fields.iter().enumerate() {
                path.push(i);
                let k = explore::<T>(path);
                let k = complete::<T>(k, path);
                path.pop();
                fields.push((snake.clone(), camel.clone(), k));
            }
            Kind::Struct(Arc::new(Schema { name: s.name.clone(), fields }))
        }
        k => k,
    }
}

static BY_TYPE: OnceLock<Mutex<HashMap<TypeId, Kind>>> = OnceLock::new();

/// The shape of `T`, learned once from its `Deserialize` impl.
pub fn kind_for<T: DeserializeOwned + 'static>() -> Kind {
    let id = TypeId::of::<T>();
    if let Some(k) = BY_TYPE.get_or_init(Default::default).lock().expect("kind cache").get(&id) {
        return k.clone();
    }
    let kind = complete::<T>(explore::<T>(&[]), &mut Vec::new());
    BY_TYPE.get_or_init(Default::default).lock().expect("kind cache").insert(id, kind.clone());
    kind
}

// -------------------------------------------------------------- rendering

fn default_of(kind: &Kind) -> Value {
    match kind {
        Kind::Str => Value::String(String::new()),
        Kind::Bool => Value::Bool(false),
        Kind::Int64 => Value::String("0".into()),
        Kind::Int32 => Value::from(0),
        Kind::Enum(v) => v.first().map(|s| Value::String(s.clone())).unwrap_or(Value::from(0)),
        Kind::Seq(_) => Value::Array(Vec::new()),
        Kind::Map => Value::Object(Map::new()),
        Kind::Bytes | Kind::Opt(_) | Kind::Struct(_) | Kind::Unknown => Value::Null,
    }
}

/// Renders pbjson output `value` of shape `kind` as the gateway does.
pub fn render(value: Value, kind: &Kind) -> Value {
    match (kind, value) {
        (_, Value::Null) => default_of(kind),
        (Kind::Opt(inner), v) => render(v, inner),
        (Kind::Seq(inner), Value::Array(items)) => Value::Array(items.into_iter().map(|v| render(v, inner)).collect()),
        (Kind::Struct(s), Value::Object(obj)) if s.name == ANY => render_any(obj),
        (Kind::Struct(s), Value::Object(mut obj)) => {
            let mut out = Map::new();
            for (snake, camel, k) in &s.fields {
                let v = obj.remove(camel).or_else(|| obj.remove(snake));
                let rendered = match v {
                    Some(v) => render(v, k),
                    None => default_of(k),
                };
                out.insert(snake.clone(), rendered);
            }
            // Anything the probe did not learn (should not happen) is kept.
            for (k, v) in obj {
                out.entry(k).or_insert(v);
            }
            Value::Object(out)
        }
        (_, v) => v,
    }
}

fn render_any(mut obj: Map<String, Value>) -> Value {
    let url = obj.remove("typeUrl").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let b64 = obj.remove("value").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD.decode(&b64).unwrap_or_default();
    if let Some(entry) = registry().get(url.as_str()) {
        if let Ok(Value::Object(fields)) = (entry.to_json)(&bytes) {
            let mut out = Map::new();
            out.insert("@type".into(), Value::String(url));
            out.extend(fields);
            return Value::Object(out);
        }
    }
    let mut out = Map::new();
    out.insert("@type".into(), Value::String(url));
    out.insert("value".into(), Value::String(b64));
    Value::Object(out)
}

/// A message as the gateway writes it.
pub fn to_json<T: Serialize + DeserializeOwned + 'static>(msg: &T) -> Result<Value, String> {
    let raw = serde_json::to_value(msg).map_err(|e| format!("rendering JSON: {e}"))?;
    Ok(render(raw, &kind_for::<T>()))
}

/// Decodes protobuf `bytes` as `T` and renders it.
pub fn proto_to_json<T: Message + Default + Serialize + DeserializeOwned + 'static>(
    bytes: &[u8],
) -> Result<Value, String> {
    let msg = T::decode(bytes).map_err(|e| format!("decoding response: {e}"))?;
    to_json(&msg)
}

// ---------------------------------------------------------------- parsing

/// Prepares request JSON of shape `kind` for pbjson: packs `@type` Anys.
pub fn unexpand(value: Value, kind: &Kind) -> Result<Value, String> {
    Ok(match (kind, value) {
        (Kind::Opt(inner), v) => unexpand(v, inner)?,
        (Kind::Seq(inner), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|v| unexpand(v, inner)).collect::<Result<_, _>>()?)
        }
        (Kind::Struct(s), Value::Object(obj)) if s.name == ANY => pack_any(obj)?,
        (Kind::Struct(s), Value::Object(obj)) => {
            let mut out = Map::new();
            for (k, v) in obj {
                let field = s.fields.iter().find(|(snake, camel, _)| *snake == k || *camel == k);
                let v = match field {
                    Some((_, _, kind)) => unexpand(v, kind)?,
                    None => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        (_, v) => v,
    })
}

fn pack_any(mut obj: Map<String, Value>) -> Result<Value, String> {
    let Some(url) = obj.remove("@type") else {
        return Ok(Value::Object(obj));
    };
    let url = url.as_str().ok_or("@type must be a string")?.to_string();
    let bytes = if let (Some(Value::String(b64)), 1) = (obj.get("value"), obj.len()) {
        if registry().contains_key(url.as_str()) {
            (registry()[url.as_str()].from_json)(Value::Object(obj))?
        } else {
            base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("Any value: {e}"))?
        }
    } else {
        let entry = registry().get(url.as_str()).ok_or_else(|| format!("unknown type URL {url}"))?;
        (entry.from_json)(Value::Object(obj))?
    };
    let mut out = Map::new();
    out.insert("typeUrl".into(), Value::String(url));
    out.insert("value".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)));
    Ok(Value::Object(out))
}

/// Parses request JSON (snake_case or camelCase, `@type` Anys) into `T`.
pub fn from_json<T: DeserializeOwned + 'static>(value: Value) -> Result<T, String> {
    let prepared = unexpand(value, &kind_for::<T>())?;
    serde_path_to_error::deserialize(prepared).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let hint = if inner.contains("Invalid byte") || inner.contains("base64") { " (bytes are base64)" } else { "" };
        if path == "." {
            format!("{inner}{hint}")
        } else {
            format!("{path}: {inner}{hint}")
        }
    })
}

// ---------------------------------------------------------------- registry

/// How one `Any` type URL is rendered and parsed.
pub struct AnyType {
    pub to_json: fn(&[u8]) -> Result<Value, String>,
    pub from_json: fn(Value) -> Result<Vec<u8>, String>,
}

fn encode_json<T: Message + DeserializeOwned + 'static>(v: Value) -> Result<Vec<u8>, String> {
    Ok(from_json::<T>(v)?.encode_to_vec())
}

fn entry<T: Message + Default + Serialize + DeserializeOwned + 'static>() -> AnyType {
    AnyType { to_json: proto_to_json::<T>, from_json: encode_json::<T> }
}

/// The `Any` types we know: accounts, keys, bank and escrow messages and responses, txs.
pub fn registry() -> &'static HashMap<&'static str, AnyType> {
    use cosmos_sdk_proto::cosmos::{auth, bank, crypto, tx};
    static REG: OnceLock<HashMap<&'static str, AnyType>> = OnceLock::new();
    REG.get_or_init(|| {
        let mut reg = HashMap::from([
            ("/cosmos.auth.v1beta1.BaseAccount", entry::<auth::v1beta1::BaseAccount>()),
            ("/cosmos.auth.v1beta1.ModuleAccount", entry::<auth::v1beta1::ModuleAccount>()),
            ("/cosmos.crypto.secp256k1.PubKey", entry::<crypto::secp256k1::PubKey>()),
            ("/cosmos.crypto.ed25519.PubKey", entry::<crypto::ed25519::PubKey>()),
            ("/cosmos.crypto.multisig.LegacyAminoPubKey", entry::<crypto::multisig::LegacyAminoPubKey>()),
            ("/cosmos.bank.v1beta1.MsgSend", entry::<bank::v1beta1::MsgSend>()),
            ("/cosmos.bank.v1beta1.MsgSendResponse", entry::<bank::v1beta1::MsgSendResponse>()),
            ("/cosmos.bank.v1beta1.MsgMultiSend", entry::<bank::v1beta1::MsgMultiSend>()),
            ("/cosmos.bank.v1beta1.MsgMultiSendResponse", entry::<bank::v1beta1::MsgMultiSendResponse>()),
            ("/cosmos.tx.v1beta1.Tx", entry::<tx::v1beta1::Tx>()),
        ]);
        reg.extend(escrow_entries());
        reg
    })
}

/// The escrow module's messages and responses (prost types without serde:
/// their JSON is [`paychain_client::escrow`]'s).
fn escrow_entries() -> Vec<(&'static str, AnyType)> {
    use paychain_client::escrow as ce;
    macro_rules! entries {
        ($($url:path),* $(,)?) => {
            vec![$(($url, AnyType {
                to_json: |b| ce::to_json($url, b).ok_or_else(|| format!("{} does not decode", $url)),
                from_json: |v| ce::from_json($url, &v).expect("escrow type URL").map_err(|e| format!("{e:#}")),
            }),)*]
        };
    }
    entries![
        ce::MSG_CREATE,
        ce::MSG_RELEASE,
        ce::MSG_APPROVE,
        ce::MSG_REFUND,
        ce::MSG_CANCEL,
        ce::MSG_CREATE_RESPONSE,
        ce::MSG_RELEASE_RESPONSE,
        ce::MSG_APPROVE_RESPONSE,
        ce::MSG_REFUND_RESPONSE,
        ce::MSG_CANCEL_RESPONSE,
    ]
}

#[cfg(test)]
mod tests {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{BroadcastTxRequest, GetTxsEventRequest};
    use cosmos_sdk_proto::Any;
    use prost::Message;
    use serde_json::json;

    use super::*;
    use paychain_client::escrow as ce;
    use paychain_escrow::pb;

    #[test]
    fn escrow_messages_in_a_tx_render_and_parse_back() {
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxBody};
        let create = pb::MsgCreateEscrow {
            sender: "pay1s".into(),
            recipient: "pay1r".into(),
            hash_lock: vec![9; 32],
            refund_after: Some(prost_types::Timestamp { seconds: 1_900_000_000, nanos: 0 }),
            ..Default::default()
        };
        let approve = pb::MsgApproveEscrow { arbiter: "pay1a".into(), id: 3, decision: pb::Decision::Refund as i32 };
        let tx = Tx {
            body: Some(TxBody {
                messages: vec![ce::any(ce::MSG_CREATE, &create), ce::any(ce::MSG_APPROVE, &approve)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = to_json(&tx).unwrap();
        let msgs = &v["body"]["messages"];
        assert_eq!(msgs[0]["@type"], ce::MSG_CREATE);
        assert_eq!(msgs[0]["recipient"], "pay1r");
        assert_eq!(msgs[0]["refund_after"], "2030-03-17T17:46:40Z");
        assert_eq!(
            msgs[1],
            json!({"@type": ce::MSG_APPROVE, "arbiter": "pay1a", "id": "3", "decision": "DECISION_REFUND"})
        );
        let back: Tx = from_json(v).unwrap();
        assert_eq!(back, tx);
    }

    #[test]
    fn defaults_names_and_number_kinds() {
        let v = to_json(&TxResponse { txhash: "AB".into(), ..Default::default() }).unwrap();
        assert_eq!(v["code"], json!(0)); // uint32: a number
        assert_eq!(v["height"], json!("0")); // int64: a string
        assert_eq!(v["gas_wanted"], json!("0"));
        assert_eq!(v["raw_log"], json!(""));
        assert_eq!(v["logs"], json!([]));
        assert_eq!(v["tx"], json!(null));
        assert_eq!(v["data"], json!("")); // a string field
        assert_eq!(v["txhash"], json!("AB"));
        let page = to_json(&cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse::default()).unwrap();
        assert_eq!(page, json!({"next_key": null, "total": "0"})); // empty bytes: null, as Go writes a nil slice
        let k = kind_for::<GetTxsEventRequest>();
        let Kind::Struct(s) = k else { panic!("{k:?}") };
        let order_by = s.fields.iter().find(|f| f.0 == "order_by").unwrap();
        assert!(matches!(&order_by.2, Kind::Enum(v) if v[0] == "ORDER_BY_UNSPECIFIED"), "{order_by:?}");
        let events = s.fields.iter().find(|f| f.0 == "events").unwrap();
        assert_eq!(events.2, Kind::Seq(Box::new(Kind::Str)));
    }

    #[test]
    fn any_expands_and_packs_back() {
        let acc = BaseAccount { address: "pay1x".into(), account_number: 7, ..Default::default() };
        let resp = QueryAccountResponse {
            account: Some(Any { type_url: "/cosmos.auth.v1beta1.BaseAccount".into(), value: acc.encode_to_vec() }),
        };
        let v = to_json(&resp).unwrap();
        assert_eq!(
            v,
            json!({"account": {"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": "pay1x",
                               "pub_key": null, "account_number": "7", "sequence": "0"}})
        );
        let back: QueryAccountResponse = from_json(v).unwrap();
        assert_eq!(back, resp);
        // Unknown types keep their bytes.
        let unknown = QueryAccountResponse { account: Some(Any { type_url: "/x.Y".into(), value: vec![1, 2] }) };
        let v = to_json(&unknown).unwrap();
        assert_eq!(v, json!({"account": {"@type": "/x.Y", "value": "AQI="}}));
        assert_eq!(from_json::<QueryAccountResponse>(v).unwrap(), unknown);
        // Enums by name, both cases of field names.
        let r: BroadcastTxRequest = from_json(json!({"txBytes": "AQI=", "mode": "BROADCAST_MODE_SYNC"})).unwrap();
        assert_eq!((r.tx_bytes, r.mode), (vec![1, 2], 2));
    }
}
