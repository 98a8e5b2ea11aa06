//! From an HTTP request to the request message: the route a path matches
//! ([`Route`]), and the message's JSON built from path and query parameters
//! by proto field name (dotted for nested fields), as grpc-gateway does.

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::{Map, Value};

use super::error::RestError;
use super::json::Kind;
use crate::served::ServedApp;

/// What a request carries besides the height.
pub struct Input {
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

pub type Runner = fn(&ServedApp, &'static str, Input, u64) -> Result<Value, RestError>;

pub struct Route {
    pub method: Method,
    /// `/a/b/{name}`; a segment `{name*}` captures one or more segments, up to
    /// the fixed segments that follow it (or the end of the path).
    pub pattern: &'static str,
    pub grpc: &'static str,
    pub run: Runner,
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
