//! Proto3 JSON naming shared by genesis readers and the REST gateway.

/// `account_number` -> `accountNumber`: the lowerCamelCase name proto3 JSON
/// accepts besides the field's own name.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn camel_case_follows_proto3_json() {
        assert_eq!(super::camel_case("account_number"), "accountNumber");
        assert_eq!(super::camel_case("tx_bytes"), "txBytes");
        assert_eq!(super::camel_case("memo"), "memo");
    }
}
