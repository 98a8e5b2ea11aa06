//! From an HTTP request to the request message: the route a path matches
//! ([`Route`]), and the message's JSON built from path and query parameters
//! by proto field name (dotted for nested fields), as grpc-gateway does.

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::{Map, Value};

use super::error::RestError;
use super::json::{self, Kind};
use crate::query::query_grpc;
use crate::served::ServedApp;
use paychain_framework::RestRoute;

/// What a request carries besides the height.
pub struct Input {
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

pub type Runner = fn(&ServedApp, &'static str, Input, u64) -> Result<Value, RestError>;

/// How a route is answered.
#[derive(Clone, Copy)]
pub enum Handler {
    /// By the gateway itself (request and response JSON from the message types).
    Builtin(Runner),
    /// By a module's route ([`paychain_framework::RestRoute`]), from its message types.
    Module(RestRoute),
}

pub struct Route {
    pub method: Method,
    /// `/a/b/{name}`; a segment `{name*}` captures one or more segments, up to
    /// the fixed segments that follow it (or the end of the path).
    pub pattern: &'static str,
    pub grpc: &'static str,
    pub run: Handler,
}

/// Names of unsigned counters clients send as query parameters.
const UNSIGNED: &[&str] = &["offset", "limit", "page"];

/// Builds the request message's JSON from the body, query and path parameters.
pub fn request_json(kind: &Kind, input: Input) -> Result<Value, RestError> {
    let mut obj = match input.body {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut repeated: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, raw) in input.query.iter().chain(input.params.iter()) {
        let path: Vec<&str> = name.split('.').collect();
        let Some(field_kind) = lookup(kind, &path) else {
            continue; // unknown parameters are ignored
        };
        let value = param_value(name, raw, &field_kind)?;
        if let Kind::Seq(_) = field_kind {
            repeated.entry(name.clone()).or_default().push(value);
        } else {
            insert(&mut obj, &path, value);
        }
    }
    for (name, values) in repeated {
        let path: Vec<&str> = name.split('.').collect();
        insert(&mut obj, &path, Value::Array(values));
    }
    Ok(Value::Object(obj))
}

fn lookup(kind: &Kind, path: &[&str]) -> Option<Kind> {
    let Some((first, rest)) = path.split_first() else {
        return Some(kind.clone());
    };
    match kind {
        Kind::Opt(k) => lookup(k, path),
        Kind::Struct(s) => {
            let (_, _, k) = s.fields.iter().find(|(snake, camel, _)| snake == first || camel == first)?;
            lookup(k, rest)
        }
        _ => None,
    }
}

fn insert(obj: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            obj.insert(last.to_string(), value);
        }
        [first, rest @ ..] => {
            let entry = obj.entry(first.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                insert(m, rest, value);
            }
        }
    }
}

fn param_value(name: &str, raw: &str, kind: &Kind) -> Result<Value, RestError> {
    let leaf = name.rsplit('.').next().unwrap_or(name);
    Ok(match kind {
        Kind::Seq(inner) | Kind::Opt(inner) => param_value(name, raw, inner)?,
        Kind::Bool => match raw {
            "true" | "1" | "" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(RestError::bad_request(format!("{name}: {raw:?} is not a boolean (true or false)"))),
        },
        Kind::Int64 | Kind::Int32 => {
            let n: i128 =
                raw.trim().parse().map_err(|_| RestError::bad_request(format!("{name}: {raw:?} is not an integer")))?;
            if n < 0 && UNSIGNED.contains(&leaf) {
                return Err(RestError::bad_request(format!("{name}: {raw} must not be negative")));
            }
            let (min, max): (i128, i128) = match kind {
                Kind::Int32 if UNSIGNED.contains(&leaf) => (0, u32::MAX as i128),
                Kind::Int32 => (i32::MIN as i128, u32::MAX as i128),
                _ if UNSIGNED.contains(&leaf) => (0, u64::MAX as i128),
                _ => (i64::MIN as i128, u64::MAX as i128),
            };
            if n < min || n > max {
                return Err(RestError::bad_request(format!("{name}: {raw} is out of range")));
            }
            match kind {
                Kind::Int32 => Value::from(n as i64),
                _ => Value::String(n.to_string()),
            }
        }
        Kind::Enum(variants) => match raw.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) if variants.iter().any(|v| v == raw) => Value::String(raw.to_string()),
            Err(_) => {
                return Err(RestError::bad_request(format!("{name}: {raw:?} is not one of {}", variants.join(", "))))
            }
        },
        // Base64 (pagination.key) arrives with '+' decoded as a space.
        Kind::Bytes => Value::String(raw.replace(' ', "+")),
        _ => Value::String(raw.to_string()),
    })
}

/// `a=b&c=d` with percent-decoding and `+` as space (as the gateway decodes).
pub(super) fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%' && i + 2 < bytes.len() {
            match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b),
            }
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Route {
    /// A module's route (always `GET`).
    pub fn from_module(route: RestRoute) -> Self {
        Route { method: Method::GET, pattern: route.pattern, grpc: route.grpc, run: Handler::Module(route) }
    }

    /// Answers the request at `height`.
    pub fn answer(&self, app: &ServedApp, input: Input, height: u64) -> Result<Value, RestError> {
        match self.run {
            Handler::Builtin(run) => run(app, self.grpc, input, height),
            Handler::Module(route) => {
                let value = request_json(&(route.request_kind)(), input)?;
                let req = (route.request)(json::any_types(), value)
                    .map_err(|e| RestError::bad_request(format!("invalid request: {e}")))?;
                let out = query_grpc(app, self.grpc, &req, height)?;
                (route.response)(json::any_types(), &out).map_err(RestError::internal)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
    use paychain_escrow::pb::QueryEscrowsBySenderRequest;

    fn input(params: &[(&str, &str)], query: &[(&str, &str)]) -> Input {
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Input { params: pairs(params), query: pairs(query), body: None }
    }

    fn by_sender(params: &[(&str, &str)], query: &[(&str, &str)]) -> Result<QueryEscrowsBySenderRequest, String> {
        let kind = json::kind_for::<QueryEscrowsBySenderRequest>();
        let value = request_json(&kind, input(params, query)).map_err(|e| e.message)?;
        json::from_json(value)
    }

    #[test]
    fn path_and_pagination_parameters_fill_a_module_request() {
        let r = by_sender(
            &[("sender", "pay1s")],
            &[
                ("pagination.limit", "5"),
                ("pagination.key", "AAE="),
                ("pagination.count_total", "true"),
                ("pagination.reverse", "1"),
                ("other", "1"),
            ],
        )
        .unwrap();
        assert_eq!(r.sender, "pay1s");
        assert_eq!(
            r.pagination,
            Some(PageRequest { key: vec![0, 1], offset: 0, limit: 5, count_total: true, reverse: true })
        );
        assert_eq!(by_sender(&[("sender", "pay1s")], &[]).unwrap().pagination, None);
        let e = by_sender(&[], &[("pagination.limit", "-1")]).unwrap_err();
        assert!(e.contains("pagination.limit"), "{e}");
        assert!(by_sender(&[], &[("pagination.offset", "x")]).is_err());
    }
}
