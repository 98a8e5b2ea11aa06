//! Reading genesis JSON by hand, so that every error names the field it is
//! about (`auth.accounts[2].address: ...`); serde's derive reports only line
//! and column. Proto3 JSON rules: snake_case or camelCase names, 64-bit
//! integers as strings or numbers, `null` = absent = default. Unknown fields
//! are rejected (as the SDK's JSON codec does), which catches typos.

use serde_json::{Map, Value};

pub type JsonResult<T> = Result<T, String>;

/// A JSON object at a known path.
#[derive(Debug)]
pub struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub use paychain_framework::json::camel_case;

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &str) -> JsonResult<Self> {
        match v {
            Value::Object(map) => Ok(Self { path: path.to_string(), map }),
            other => Err(format!("{path}: expected an object, got {}", kind(other))),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Rejects fields not in `known` (snake_case names; camelCase accepted).
    pub fn deny_unknown(&self, known: &[&str]) -> JsonResult<()> {
        for k in self.map.keys() {
            if !known.iter().any(|n| n == k || camel_case(n) == *k) {
                return Err(format!("{}: unknown field (expected one of: {})", self.field(k), known.join(", ")));
            }
        }
        Ok(())
    }

    /// The value of `key` under its snake_case or camelCase name; `null` is absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).or_else(|| self.map.get(&camel_case(key))).filter(|v| !v.is_null())
    }

    pub fn u64_or(&self, key: &str, default: u64) -> JsonResult<u64> {
        self.get(key).map_or(Ok(default), |v| parse_u64(v, &self.field(key)))
    }

    /// A string field; absent = `""` (proto3 default).
    pub fn string(&self, key: &str) -> JsonResult<String> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("{}: expected a string, got {}", self.field(key), kind(other))),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> JsonResult<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("{}: expected a boolean, got {}", self.field(key), kind(other))),
        }
    }

    /// An array field; absent = empty.
    pub fn array(&self, key: &str) -> JsonResult<&'a [Value]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a.as_slice()),
            Some(other) => Err(format!("{}: expected an array, got {}", self.field(key), kind(other))),
        }
    }

    pub fn strings(&self, key: &str) -> JsonResult<Vec<String>> {
        let path = self.field(key);
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("{}: expected a string, got {}", index(&path, i), kind(other))),
            })
            .collect()
    }

    pub fn object(&self, key: &str) -> JsonResult<Option<Obj<'a>>> {
        self.get(key).map(|v| Obj::new(v, &self.field(key))).transpose()
    }
}

/// A uint64 as proto3 JSON writes it (a decimal string) or as a plain number.
pub fn parse_u64(v: &Value, path: &str) -> JsonResult<u64> {
    let bad = || format!("{path}: expected an unsigned 64-bit integer, got {v}");
    match v {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().map_err(|_| bad()),
        Value::Number(n) => n.as_u64().ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_fields_with_paths() {
        let v = json!({"account_number": "5", "sequenceNumber": 7, "name": "x", "flag": null, "bad": "-1"});
        let o = Obj::new(&v, "auth.accounts[0]").unwrap();
        assert_eq!(o.u64_or("account_number", 0).unwrap(), 5);
        assert_eq!(o.u64_or("sequence_number", 0).unwrap(), 7);
        assert_eq!(o.u64_or("missing", 3).unwrap(), 3);
        assert!(o.bool_or("flag", true).unwrap());
        assert!(o.u64_or("bad", 0).unwrap_err().starts_with("auth.accounts[0].bad: expected"));
        assert!(o.string("account_number").is_ok());
        assert!(o.array("name").unwrap_err().starts_with("auth.accounts[0].name: expected an array"));
        let err = o.deny_unknown(&["account_number", "sequence_number", "name", "flag"]).unwrap_err();
        assert!(err.starts_with("auth.accounts[0].bad: unknown field"), "{err}");
        assert!(Obj::new(&json!([1]), "p").unwrap_err().contains("expected an object, got an array"));
    }
}
