//! A small YAML writer for Traefik's file provider. Strings are always double-quoted with
//! JSON escapes, which YAML reads the same way, so no value can change the structure; maps
//! and lists are written as blocks that an operator can read and diff.

use serde_json::Value;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    block(&mut out, value, 0);
    out
}

fn block(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                out.push_str(&" ".repeat(indent));
                out.push_str(&key_text(key));
                out.push(':');
                entry(out, item, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&" ".repeat(indent));
                out.push('-');
                entry(out, item, indent);
            }
        }
        scalar => {
            out.push_str(&" ".repeat(indent));
            out.push_str(&scalar.to_string());
            out.push('\n');
        }
    }
}

/// What follows `key:` or `-`: a nested block on the next lines, or an inline value.
fn entry(out: &mut String, value: &Value, indent: usize) {
    let nested = match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
        _ => false,
    };
    if nested {
        out.push('\n');
        block(out, value, indent + 2);
    } else {
        // Scalars and lists of scalars inline, in JSON syntax (valid YAML flow style).
        out.push(' ');
        out.push_str(&value.to_string());
        out.push('\n');
    }
}

pub(super) fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && key.as_bytes()[0].is_ascii_alphanumeric();
    if plain {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_blocks_with_quoted_strings() {
        let value = json!({
            "http": {
                "routers": {"a.example.com": {"rule": "Host(`a.example.com`)", "entryPoints": ["websecure"], "tls": {}}},
                "services": {"_x": {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:1"}]}}},
            }
        });
        let expected = "http:\n  routers:\n    a.example.com:\n      entryPoints: [\"websecure\"]\n      \
            rule: \"Host(`a.example.com`)\"\n      tls: {}\n  services:\n    \"_x\":\n      loadBalancer:\n        \
            servers:\n          -\n            url: \"http://127.0.0.1:1\"\n";
        assert_eq!(to_yaml(&value), expected);
    }

    #[test]
    fn strings_cannot_break_out_of_their_value() {
        let text = to_yaml(&json!({"k": "a\"\nb: c"}));
        assert_eq!(text, "k: \"a\\\"\\nb: c\"\n");
    }
}
