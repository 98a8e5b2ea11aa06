//! Fees and gas prices, in fixed-point decimals (no floats).

use paychain_framework::{sdk, SdkError};

/// Fractional digits of a gas price (as the SDK's `LegacyDec`).
pub const PRICE_DECIMALS: u32 = 18;
const SCALE: u128 = 10u128.pow(PRICE_DECIMALS);

/// A price per unit of gas in one denom, scaled by 10^18.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasPrice {
    pub denom: String,
    pub scaled: u128,
}

impl GasPrice {
    /// The least fee for `gas` at this price: ceil(gas * price).
    pub fn fee_for(&self, gas: u64) -> Option<u128> {
        let product = self.scaled.checked_mul(gas as u128)?;
        Some(product.div_ceil(SCALE))
    }
}

/// Parses `"0.025upay"` or `"0.025upay,1uatom"` (empty = no minimum).
pub fn parse_gas_prices(s: &str) -> Result<Vec<GasPrice>, SdkError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',').map(parse_gas_price).collect()
}

fn parse_gas_price(s: &str) -> Result<GasPrice, SdkError> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, denom) = s.split_at(split);
    paychain_framework::coins::validate_denom(denom)?;
    let bad = || sdk::invalid_coins(format!("invalid gas price {s:?}"));
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty()
        || frac.len() > PRICE_DECIMALS as usize
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: u128 = int.parse().map_err(|_| bad())?;
    let frac_scaled: u128 = if frac.is_empty() { 0 } else { format!("{frac:0<18}").parse().map_err(|_| bad())? };
    let scaled = int.checked_mul(SCALE).and_then(|v| v.checked_add(frac_scaled)).ok_or_else(bad)?;
    Ok(GasPrice { denom: denom.to_string(), scaled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rounds_up() {
        let p = parse_gas_prices("0.025upay").unwrap();
        assert_eq!(p[0].fee_for(200_000), Some(5_000));
        assert_eq!(p[0].fee_for(1), Some(1));
        assert_eq!(p[0].fee_for(0), Some(0));
        assert!(parse_gas_prices("").unwrap().is_empty());
        assert!(parse_gas_prices("abc").is_err());
        assert!(parse_gas_prices("1.2.3upay").is_err());
        assert!(parse_gas_prices("-1upay").is_err());
        assert_eq!(parse_gas_prices("2upay,0.5uatom").unwrap().len(), 2);
    }
}
