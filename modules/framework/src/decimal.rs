//! Fixed-point decimals with 18 fractional digits (the SDK's `LegacyDec`), for
//! prices and rates: no floats anywhere state is decided.

use std::fmt;

use crate::error::{sdk, SdkError};

/// Fractional digits.
pub const DECIMALS: u32 = 18;
const SCALE: u128 = 10u128.pow(DECIMALS);

/// A non-negative decimal, stored as its value × 10^18.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    pub scaled: u128,
}

impl Decimal {
    pub const ONE: Decimal = Decimal { scaled: SCALE };

    /// Parses `"12"`, `"0.025"`, `"1.000000000000000001"`: digits, at most one dot, at most
    /// 18 fractional digits, no sign or exponent.
    pub fn parse(s: &str) -> Result<Self, SdkError> {
        let bad = || sdk::invalid_request(format!("invalid decimal {s:?}"));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty()
            || frac.len() > DECIMALS as usize
            || (s.contains('.') && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int: u128 = int.parse().map_err(|_| bad())?;
        let frac: u128 = if frac.is_empty() { 0 } else { format!("{frac:0<18}").parse().map_err(|_| bad())? };
        let scaled = int.checked_mul(SCALE).and_then(|v| v.checked_add(frac)).ok_or_else(bad)?;
        Ok(Self { scaled })
    }

    pub fn is_zero(&self) -> bool {
        self.scaled == 0
    }

    /// ceil(n × self); `None` on overflow.
    pub fn mul_ceil(&self, n: u128) -> Option<u128> {
        Some(self.scaled.checked_mul(n)?.div_ceil(SCALE))
    }

    /// floor(n × self), saturating at `u128::MAX` (exact below it).
    pub fn mul_floor_saturating(&self, n: u128) -> u128 {
        match self.scaled.checked_mul(n) {
            Some(p) => p / SCALE,
            // Split n = q·SCALE + r: n·x/SCALE = q·x + r·x/SCALE, each part smaller.
            None => {
                let (q, r) = (n / SCALE, n % SCALE);
                let whole = q.saturating_mul(self.scaled);
                let part = r.checked_mul(self.scaled).map_or(u128::MAX, |p| p / SCALE);
                whole.saturating_add(part)
            }
        }
    }
}

impl fmt::Display for Decimal {
    /// The shortest exact form: `0.025`, `12`, `1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.scaled / SCALE, self.scaled % SCALE);
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:018}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_multiplies_exactly() {
        let d = Decimal::parse("0.025").unwrap();
        assert_eq!(d.to_string(), "0.025");
        assert_eq!(d.mul_ceil(200_000), Some(5_000));
        assert_eq!(d.mul_ceil(1), Some(1));
        assert_eq!(d.mul_floor_saturating(39), 0);
        assert_eq!(d.mul_floor_saturating(40), 1);
        assert_eq!(Decimal::parse("12").unwrap().to_string(), "12");
        assert_eq!(Decimal::parse("1.000000000000000001").unwrap().scaled, SCALE + 1);
        for bad in ["", ".5", "5.", "-1", "1e3", "1.2.3", "0.0000000000000000001", "abc", " 1"] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?}");
        }
        let max = Decimal::parse(&(u128::MAX / SCALE).to_string()).unwrap();
        assert!(Decimal::parse(&(u128::MAX / SCALE + 1).to_string()).is_err());
        assert_eq!(max.mul_ceil(2), None);
    }

    #[test]
    fn floor_saturates_instead_of_overflowing() {
        let two = Decimal::parse("2").unwrap();
        assert_eq!(two.mul_floor_saturating(u128::MAX), u128::MAX);
        let half = Decimal::parse("0.5").unwrap();
        assert_eq!(half.mul_floor_saturating(u128::MAX), u128::MAX / 2);
        assert_eq!(half.mul_floor_saturating(7), 3);
    }
}
