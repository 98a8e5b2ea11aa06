//! What a send must say to be valid on the chain under load: paychain's or any Cosmos SDK
//! chain's bech32 prefix and fee denom. Keys, address bytes, `MsgSend` and SIGN_MODE_DIRECT are
//! the same on both, so the same accounts and the same load run against either.

use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use paychain_framework::{Address, Coin, Coins};

/// Fee and gas limit of every load send, on every chain (a bank send costs well under the
/// limit on paychain and on simd).
pub const FEE_AMOUNT: u128 = 5_000;
pub const GAS_LIMIT: u64 = 200_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFormat {
    /// Bech32 prefix of account addresses.
    pub prefix: String,
    /// The denom sends move and fees are paid in.
    pub denom: String,
    /// What a funding multi-send of `fund::FUNDING_GAS` pays: nothing on paychain's dev chains
    /// and localnets (no minimum gas price), the load's gas price elsewhere.
    pays_funding_fee: bool,
}

impl ChainFormat {
    pub fn paychain() -> Self {
        Self {
            prefix: paychain_framework::address::ACCOUNT_PREFIX.to_string(),
            denom: "upay".to_string(),
            pays_funding_fee: false,
        }
    }

    /// The Cosmos SDK's simapp (`cosmos` addresses, `stake`).
    pub fn simd() -> Self {
        Self::new("cosmos", "stake")
    }

    /// A chain named by its prefix and denom: paychain's for `pay`/`upay`, else any other
    /// Cosmos SDK chain.
    pub fn new(prefix: &str, denom: &str) -> Self {
        let paychain = Self::paychain();
        if prefix == paychain.prefix && denom == paychain.denom {
            return paychain;
        }
        Self { prefix: prefix.to_string(), denom: denom.to_string(), pays_funding_fee: true }
    }

    pub fn address(&self, a: &Address) -> String {
        a.to_bech32_with_prefix(&self.prefix)
    }

    pub fn coins(&self, amount: u128) -> Coins {
        Coins::new(vec![Coin::new(amount, self.denom.as_str())]).expect("a positive amount of a valid denom")
    }

    /// The fee of every load send.
    pub fn load_fee(&self) -> Fee {
        paychain_client::tx::fee(&self.coins(FEE_AMOUNT), GAS_LIMIT)
    }

    /// The fee of a tx with `gas_limit`, at the load's gas price where the chain needs one.
    pub fn fee_for_gas(&self, gas_limit: u64) -> Fee {
        let amount = if self.pays_funding_fee {
            self.coins(u128::from(gas_limit) * FEE_AMOUNT / u128::from(GAS_LIMIT))
        } else {
            Coins::empty()
        };
        paychain_client::tx::fee(&amount, gas_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_account_has_each_chains_address() {
        let a = paychain_client::keyring::address_of(&paychain_bench_app::accounts::secret_from_u64(7));
        assert_eq!(ChainFormat::paychain().address(&a), a.to_string());
        let on_simd = ChainFormat::simd().address(&a);
        assert!(on_simd.starts_with("cosmos1"), "{on_simd}");
        assert_eq!(Address::from_bech32_with_prefix(&on_simd, "cosmos").unwrap(), a);
        assert!(ChainFormat::paychain().fee_for_gas(1_000_000).amount.is_empty());
        assert_eq!(ChainFormat::simd().fee_for_gas(1_000_000).amount[0].amount, "25000");
        assert_eq!(ChainFormat::simd().load_fee().amount[0].denom, "stake");
    }
}
