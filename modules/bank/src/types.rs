//! Bank params and denom metadata rules.

use std::collections::BTreeSet;

use cosmos_sdk_proto::cosmos::bank::v1beta1::{Metadata, Params};
use paychain_framework::coins::validate_denom;

/// `cosmos.bank.v1beta1.Params`. The deprecated per-denom `send_enabled` list
/// is always empty here: per-denom flags live in their own keys (as in v0.50).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankParams {
    pub default_send_enabled: bool,
}

impl Default for BankParams {
    fn default() -> Self {
        Self { default_send_enabled: true }
    }
}

impl BankParams {
    pub fn to_proto(&self) -> Params {
        #[allow(deprecated)]
        Params { send_enabled: vec![], default_send_enabled: self.default_send_enabled }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self { default_send_enabled: p.default_send_enabled }
    }
}

/// A denom's send-enabled flag (overrides `default_send_enabled`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendEnabled {
    pub denom: String,
    pub enabled: bool,
}

fn denom_ok(denom: &str) -> bool {
    validate_denom(denom).is_ok()
}

/// The SDK's `Metadata.Validate`. Errors start with the field they are about,
/// relative to the metadata (`display: ...`, `denom_units[1].exponent: ...`).
pub fn validate_metadata(m: &Metadata) -> Result<(), String> {
    if m.name.trim().is_empty() {
        return Err("name: name field cannot be blank".into());
    }
    if m.symbol.trim().is_empty() {
        return Err("symbol: symbol field cannot be blank".into());
    }
    if !denom_ok(&m.base) {
        return Err(format!("base: invalid metadata base denom: {:?}", m.base));
    }
    if !denom_ok(&m.display) {
        return Err(format!("display: invalid metadata display denom: {:?}", m.display));
    }
    let mut has_display = false;
    let mut seen = BTreeSet::new();
    let mut exponent = 0u32;
    for (i, unit) in m.denom_units.iter().enumerate() {
        let path = format!("denom_units[{i}]");
        if i == 0 {
            if unit.denom != m.base {
                return Err(format!(
                    "{path}.denom: metadata's first denomination unit must be the one with base denom '{}'",
                    m.base
                ));
            }
            if unit.exponent != 0 {
                return Err(format!("{path}.exponent: the exponent for base denomination unit {} must be 0", m.base));
            }
        } else if exponent >= unit.exponent {
            return Err(format!("{path}.exponent: the denomination units must be sorted in ascending order"));
        }
        exponent = unit.exponent;
        if !denom_ok(&unit.denom) {
            return Err(format!("{path}.denom: invalid denom {:?}", unit.denom));
        }
        if !seen.insert(unit.denom.as_str()) {
            return Err(format!("{path}.denom: duplicate denomination unit {}", unit.denom));
        }
        if unit.denom == m.display {
            has_display = true;
        }
        let mut aliases = BTreeSet::new();
        for (j, alias) in unit.aliases.iter().enumerate() {
            if alias.trim().is_empty() {
                return Err(format!("{path}.aliases[{j}]: alias for denom unit {} cannot be blank", unit.denom));
            }
            if !aliases.insert(alias.as_str()) {
                return Err(format!(
                    "{path}.aliases[{j}]: duplicate denomination unit alias {alias} for denomination unit {}",
                    unit.denom
                ));
            }
        }
    }
    if !has_display {
        return Err(format!("display: metadata must contain a denomination unit with display denom '{}'", m.display));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::DenomUnit;

    pub fn pay_metadata() -> Metadata {
        Metadata {
            description: "paychain fee token".into(),
            denom_units: vec![
                DenomUnit { denom: "upay".into(), exponent: 0, aliases: vec!["micropay".into()] },
                DenomUnit { denom: "pay".into(), exponent: 6, aliases: vec![] },
            ],
            base: "upay".into(),
            display: "pay".into(),
            name: "Pay".into(),
            symbol: "PAY".into(),
            uri: String::new(),
            uri_hash: String::new(),
        }
    }

    #[test]
    fn metadata_rules_follow_the_sdk() {
        validate_metadata(&pay_metadata()).unwrap();
        let check = |f: &dyn Fn(&mut Metadata), expect: &str| {
            let mut m = pay_metadata();
            f(&mut m);
            let e = validate_metadata(&m).unwrap_err();
            assert!(e.starts_with(expect), "{e}");
        };
        check(&|m| m.name = " ".into(), "name:");
        check(&|m| m.symbol.clear(), "symbol:");
        check(&|m| m.base = "u".into(), "base:");
        check(&|m| m.display = "nope".into(), "display: metadata must contain");
        check(&|m| m.denom_units.swap(0, 1), "denom_units[0].denom:");
        check(&|m| m.denom_units[0].exponent = 1, "denom_units[0].exponent:");
        check(&|m| m.denom_units[1].exponent = 0, "denom_units[1].exponent:");
        check(&|m| m.denom_units[0].aliases.push("micropay".into()), "denom_units[0].aliases[1]: duplicate");
        check(&|m| m.denom_units[1].aliases.push("".into()), "denom_units[1].aliases[0]:");
    }
}
