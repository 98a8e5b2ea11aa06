//! Fees and gas prices, in fixed-point decimals (no floats).

use paychain_framework::decimal::Decimal;
use paychain_framework::{sdk, SdkError};

/// A price per unit of gas in one denom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasPrice {
    pub denom: String,
    pub price: Decimal,
}

impl GasPrice {
    /// The least fee for `gas` at this price: ceil(gas * price).
    pub fn fee_for(&self, gas: u64) -> Option<u128> {
        self.price.mul_ceil(gas as u128)
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
    let price = Decimal::parse(num).map_err(|_| sdk::invalid_coins(format!("invalid gas price {s:?}")))?;
    Ok(GasPrice { denom: denom.to_string(), price })
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
