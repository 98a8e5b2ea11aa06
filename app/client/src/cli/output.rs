//! Printing results: JSON (`--output json`, one line, for scripts) or a
//! YAML-like text form (the default, as the SDK CLI prints).

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

pub fn print(format: OutputFormat, value: &Value) {
    match format {
        OutputFormat::Json => println!("{value}"),
        OutputFormat::Text => print!("{}", to_text(value)),
    }
}

/// Renders a JSON value as block-style YAML. Strings that YAML would read as
/// something else (numbers, booleans, empty, special characters) are quoted,
/// so the text stays valid YAML with the same meaning.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_list(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (k, v) in m {
        let key = scalar(&Value::String(k.clone()));
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                write_list(out, items, indent);
            }
            _ => out.push_str(&format!("{pad}{key}: {}\n", scalar(v))),
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                // Render the map two deeper, then turn the first line's indent into "- ".
                let mut block = String::new();
                write_map(&mut block, m, indent + 2);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&block[indent + 2..]);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push_str(&format!("{pad}-\n"));
                write_list(out, a, indent + 2);
            }
            _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`~".contains(c))
                && !s.ends_with(char::is_whitespace)
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.chars().any(char::is_control)
                && !matches!(s.to_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~")
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else {
                // A JSON string is a valid double-quoted YAML scalar.
                Value::String(s.clone()).to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_yaml_like_the_sdk() {
        let v = serde_json::json!({
            "balances": [{"amount": "12345", "denom": "upay"}, {"amount": "1", "denom": "uatom"}],
            "pagination": {"next_key": null, "total": "0"},
            "empty": [],
            "memo": "",
            "note": "a: b",
        });
        let text = to_text(&v);
        assert_eq!(
            text,
            "balances:\n- amount: \"12345\"\n  denom: upay\n- amount: \"1\"\n  denom: uatom\nempty: []\nmemo: \"\"\nnote: \"a: b\"\npagination:\n  next_key: null\n  total: \"0\"\n"
        );
        assert_eq!(to_text(&serde_json::json!(["x", "true"])), "- x\n- \"true\"\n");
        assert_eq!(to_text(&serde_json::json!([])), "[]\n");
        assert_eq!(to_text(&serde_json::json!({"a": {"b": [{"c": 1}]}})), "a:\n  b:\n  - c: 1\n");
    }
}
