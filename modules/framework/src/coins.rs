//! Coins with checked integer math. Amounts are `u128`: larger amounts (which
//! the SDK's 256-bit `Int` allows) are rejected as an overflow at decode time.

use std::collections::BTreeMap;
use std::fmt;

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

use crate::error::{sdk, SdkError};

/// Checks a denom against the SDK's default rule `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn validate_denom(denom: &str) -> Result<(), SdkError> {
    let bytes = denom.as_bytes();
    let ok = (3..=128).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..].iter().all(|b| b.is_ascii_alphanumeric() || b"/:._-".contains(b));
    if ok {
        Ok(())
    } else {
        Err(sdk::invalid_coins(format!("invalid denom: {denom}")))
    }
}

/// Parses a decimal amount string into `u128`, rejecting signs, blanks and overflow.
pub fn parse_amount(s: &str) -> Result<u128, SdkError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(sdk::invalid_coins(format!("invalid amount: {s:?}")));
    }
    s.parse::<u128>().map_err(|_| sdk::invalid_coins(format!("amount overflow: {s}")))
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coin {
    pub denom: String,
    pub amount: u128,
}

impl Coin {
    pub fn new(amount: u128, denom: impl Into<String>) -> Self {
        Self { denom: denom.into(), amount }
    }

    pub fn from_proto(c: &ProtoCoin) -> Result<Self, SdkError> {
        validate_denom(&c.denom)?;
        Ok(Self { denom: c.denom.clone(), amount: parse_amount(&c.amount)? })
    }

    pub fn to_proto(&self) -> ProtoCoin {
        ProtoCoin { denom: self.denom.clone(), amount: self.amount.to_string() }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

impl std::str::FromStr for Coin {
    type Err = SdkError;
    /// Parses `"<amount><denom>"`, e.g. `1000upay`.
    fn from_str(s: &str) -> Result<Self, SdkError> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (amount, denom) = s.split_at(split);
        validate_denom(denom.trim())?;
        Ok(Coin { denom: denom.trim().to_string(), amount: parse_amount(amount)? })
    }
}

/// A set of coins: sorted by denom, no duplicates, no zero amounts (the SDK's
/// `Coins.Validate` rule). Constructors enforce it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Coins(Vec<Coin>);

impl Coins {
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Validates coins as given (must already be sorted, unique and positive),
    /// as the SDK does for message amounts.
    pub fn new(coins: Vec<Coin>) -> Result<Self, SdkError> {
        for (i, c) in coins.iter().enumerate() {
            validate_denom(&c.denom)?;
            if c.amount == 0 {
                return Err(sdk::invalid_coins(format!("coin {c} amount is not positive")));
            }
            if i > 0 && coins[i - 1].denom >= c.denom {
                let what =
                    if coins[i - 1].denom == c.denom { "duplicate denomination" } else { "denomination not sorted" };
                return Err(sdk::invalid_coins(format!("{what} {}", c.denom)));
            }
        }
        Ok(Self(coins))
    }

    /// Sums arbitrary coins (any order, duplicates, zeros) into a valid set.
    pub fn normalize(coins: impl IntoIterator<Item = Coin>) -> Result<Self, SdkError> {
        let mut sum: BTreeMap<String, u128> = BTreeMap::new();
        for c in coins {
            validate_denom(&c.denom)?;
            let e = sum.entry(c.denom).or_default();
            *e = e.checked_add(c.amount).ok_or_else(|| sdk::invalid_coins("amount overflow"))?;
        }
        Ok(Self(sum.into_iter().filter(|(_, a)| *a > 0).map(|(denom, amount)| Coin { denom, amount }).collect()))
    }

    pub fn from_proto(coins: &[ProtoCoin]) -> Result<Self, SdkError> {
        Self::new(coins.iter().map(Coin::from_proto).collect::<Result<_, _>>()?)
    }

    pub fn to_proto(&self) -> Vec<ProtoCoin> {
        self.0.iter().map(Coin::to_proto).collect()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Coin> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn amount_of(&self, denom: &str) -> u128 {
        self.0.iter().find(|c| c.denom == denom).map_or(0, |c| c.amount)
    }

    /// `self + other`, erroring on overflow.
    pub fn checked_add(&self, other: &Coins) -> Result<Coins, SdkError> {
        Self::normalize(self.0.iter().chain(other.0.iter()).cloned())
    }

    /// `self - other`, or `None` if any denom would go negative.
    pub fn checked_sub(&self, other: &Coins) -> Option<Coins> {
        let mut out: BTreeMap<&str, u128> = self.0.iter().map(|c| (c.denom.as_str(), c.amount)).collect();
        for c in &other.0 {
            let have = out.get_mut(c.denom.as_str())?;
            *have = have.checked_sub(c.amount)?;
        }
        Some(Coins(out.into_iter().filter(|(_, a)| *a > 0).map(|(d, a)| Coin::new(a, d)).collect()))
    }

    /// True if every denom of `other` is covered by `self`.
    pub fn is_all_gte(&self, other: &Coins) -> bool {
        other.0.iter().all(|c| self.amount_of(&c.denom) >= c.amount)
    }

    pub fn into_vec(self) -> Vec<Coin> {
        self.0
    }
}

impl fmt::Display for Coins {
    /// The SDK's string form: `10upay,5uatom` (empty set = empty string).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Coins {
    type Err = SdkError;
    /// Parses `"10upay,5uatom"` in any order into a normalized set.
    fn from_str(s: &str) -> Result<Self, SdkError> {
        if s.trim().is_empty() {
            return Ok(Coins::empty());
        }
        let coins = s.split(',').map(str::parse::<Coin>).collect::<Result<Vec<_>, _>>()?;
        let n = coins.len();
        let set = Self::normalize(coins)?;
        if set.len() != n {
            return Err(sdk::invalid_coins(format!("duplicate or zero coins in {s:?}")));
        }
        Ok(set)
    }
}

impl<'a> IntoIterator for &'a Coins {
    type Item = &'a Coin;
    type IntoIter = std::slice::Iter<'a, Coin>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_follows_the_sdk() {
        assert!(validate_denom("upay").is_ok());
        assert!(validate_denom("ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2").is_ok());
        assert!(validate_denom("up").is_err());
        assert!(validate_denom("1pay").is_err());
        assert!(Coins::new(vec![Coin::new(1, "b"), Coin::new(1, "a")]).is_err());
        assert!(Coins::new(vec![Coin::new(0, "upay")]).is_err());
        assert!(Coins::new(vec![Coin::new(1, "upay"), Coin::new(2, "upay")]).is_err());
        assert_eq!(parse_amount("340282366920938463463374607431768211456").unwrap_err().code, 10);
        assert!(parse_amount("-1").is_err());
        assert!(parse_amount("").is_err());
    }

    #[test]
    fn arithmetic_is_checked() {
        let a: Coins = "10upay,5uatom".parse().unwrap();
        assert_eq!(a.to_string(), "5uatom,10upay");
        let b: Coins = "3upay".parse().unwrap();
        assert_eq!(a.checked_sub(&b).unwrap().to_string(), "5uatom,7upay");
        assert!(b.checked_sub(&a).is_none());
        let max = Coins::new(vec![Coin::new(u128::MAX, "upay")]).unwrap();
        assert_eq!(max.checked_add(&b).unwrap_err().code, 10);
        assert!(a.is_all_gte(&b) && !b.is_all_gte(&a));
    }
}
