//! Client side of the node, shared by the CLI, the tests and later tools:
//! CometBFT RPC calls and ABCI queries ([`rpc`]), tx building and signing
//! ([`tx`]), and the whole "plan, sign, broadcast" flow ([`plan_tx`], [`prepare_tx`]).

#[cfg(feature = "cli")]
pub mod cli;
pub mod keyring;
pub mod rpc;
pub mod tx;

use anyhow::{anyhow, bail};
use cosmos_sdk_proto::Any;
use paychain_framework::Coins;
use secp256k1::SecretKey;

pub use rpc::{AccountInfo, BroadcastResult, NodeClient};

/// Checks a chain id as `genesis validate` does: 1-50 characters (CometBFT's
/// limit) of letters, digits, '-', '_' and '.' (Keplr and IBC read `name-N`).
pub fn validate_chain_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty() || id.len() > 50 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        bail!("invalid chain id {id:?}: use 1-50 letters, digits, '-', '_' or '.', e.g. paychain-1");
    }
    Ok(())
}

/// Gas limit used when none is given (the SDK CLI's default).
pub const DEFAULT_GAS: u64 = 200_000;
/// Multiplier applied to the simulated gas with `--gas auto` (the SDK CLI's default is 1; CosmJS uses 1.4).
pub const DEFAULT_GAS_ADJUSTMENT: f64 = 1.4;

/// How the gas limit is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Gas {
    Fixed(u64),
    /// Simulate, then multiply `gas_used` by the adjustment.
    Auto {
        adjustment: f64,
    },
}

impl Gas {
    /// Parses `--gas` (`auto` or a positive integer) with `--gas-adjustment`.
    pub fn parse(gas: &str, adjustment: f64) -> anyhow::Result<Self> {
        if !(adjustment.is_finite() && (1.0..=100.0).contains(&adjustment)) {
            bail!("invalid --gas-adjustment {adjustment}: must be between 1 and 100");
        }
        match gas.trim() {
            "auto" => Ok(Gas::Auto { adjustment }),
            n => match n.parse::<u64>() {
                Ok(0) | Err(_) => bail!("invalid --gas {gas:?}: expected \"auto\" or a positive integer"),
                Ok(v) => Ok(Gas::Fixed(v)),
            },
        }
    }
}

/// How the fee is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum FeeChoice {
    /// No fee (only accepted by nodes without a minimum gas price).
    None,
    /// An explicit fee (`--fees 5000upay`).
    Fixed(Coins),
    /// A price per gas unit (`--gas-prices 0.025upay`): fee = ceil(gas × price).
    GasPrices(String),
}

/// Everything besides the messages that shapes a transaction.
#[derive(Clone, Debug)]
pub struct TxOptions {
    /// Chain id to sign for; `None` = ask the node.
    pub chain_id: Option<String>,
    pub gas: Gas,
    pub fee: FeeChoice,
    pub memo: String,
    pub timeout_height: u64,
    /// Overrides of the on-chain numbers (offline signing, scripts that pipeline txs).
    pub account_number: Option<u64>,
    pub sequence: Option<u64>,
    /// Typed data the tx carries besides its messages (a travel-rule record).
    pub extension_options: Vec<cosmos_sdk_proto::Any>,
}

impl Default for TxOptions {
    fn default() -> Self {
        Self {
            chain_id: None,
            gas: Gas::Fixed(DEFAULT_GAS),
            fee: FeeChoice::None,
            memo: String::new(),
            timeout_height: 0,
            account_number: None,
            sequence: None,
            extension_options: Vec::new(),
        }
    }
}

/// A transaction decided but not yet signed: what a user confirms.
#[derive(Clone, Debug)]
pub struct TxPlan {
    pub body: cosmos_sdk_proto::cosmos::tx::v1beta1::TxBody,
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    pub gas_limit: u64,
    pub fee: Coins,
}

impl TxPlan {
    /// Signs the plan with `key` (SIGN_MODE_DIRECT).
    pub fn sign(&self, key: &SecretKey) -> PreparedTx {
        let bytes = tx::build_signed_tx(
            &self.body,
            tx::fee(&self.fee, self.gas_limit),
            &tx::SignerData {
                key,
                chain_id: &self.chain_id,
                account_number: self.account_number,
                sequence: self.sequence,
            },
        );
        PreparedTx { hash: tx::tx_hash(&bytes), bytes, plan: self.clone() }
    }

    /// What `--dry-run` and the confirmation prompt show (`types`: the messages to expand).
    pub fn to_json(&self, types: &paychain_framework::AnyTypes) -> serde_json::Value {
        serde_json::json!({
            "chain_id": self.chain_id,
            "account_number": self.account_number.to_string(),
            "sequence": self.sequence.to_string(),
            "gas_limit": self.gas_limit.to_string(),
            "fee": self.fee.to_string(),
            "memo": self.body.memo,
            "timeout_height": self.body.timeout_height.to_string(),
            "messages": self.body.messages.iter().map(|m| tx::any_to_json(types, m)).collect::<Vec<_>>(),
            "extension_options": self.body.extension_options.iter().map(|m| tx::any_to_json(types, m)).collect::<Vec<_>>(),
        })
    }
}

/// A signed tx ready to broadcast, with the plan it was built from.
#[derive(Clone, Debug)]
pub struct PreparedTx {
    pub bytes: Vec<u8>,
    /// Uppercase hex sha256 of `bytes`.
    pub hash: String,
    pub plan: TxPlan,
}

/// Looks up the signer's account (unless overridden), picks gas (simulating
/// if asked) and fee. Needs only the signer's public key, so it can run
/// before the user unlocks the private key.
pub async fn plan_tx(
    client: &NodeClient,
    compressed_pubkey: &[u8],
    messages: Vec<Any>,
    opts: &TxOptions,
) -> anyhow::Result<TxPlan> {
    let address = paychain_framework::Address::from_secp256k1_pubkey(compressed_pubkey);
    let chain_id = match &opts.chain_id {
        Some(c) => c.clone(),
        None => client.chain_id().await?,
    };
    let (account_number, sequence) = match (opts.account_number, opts.sequence) {
        (Some(a), Some(s)) => (a, s),
        (a, s) => {
            let acc = client.account(&address, None).await?.ok_or_else(|| {
                anyhow!("account {address} not found on chain: it must receive funds before it can send")
            })?;
            (a.unwrap_or(acc.account_number), s.unwrap_or(acc.sequence))
        }
    };
    let mut body = tx::tx_body(messages, &opts.memo, opts.timeout_height);
    body.extension_options = opts.extension_options.clone();
    let gas_limit = match opts.gas {
        Gas::Fixed(g) => g,
        Gas::Auto { adjustment } => {
            // Simulate with a fee of the kind the real tx pays, so the fee
            // deduction's reads and writes are part of the estimate.
            let sim_fee = match &opts.fee {
                FeeChoice::None => Coins::empty(),
                FeeChoice::Fixed(c) => c.clone(),
                FeeChoice::GasPrices(p) => tx::fee_from_gas_price(p, 1)?,
            };
            let used = client.simulate(tx::build_simulation_tx(&body, compressed_pubkey, sequence, &sim_fee)).await?;
            // Client-side estimate only (never state): a float is fine here.
            let g = (used as f64 * adjustment).ceil();
            if !(g.is_finite() && g >= 1.0 && g <= u64::MAX as f64) {
                bail!("gas estimate {used} × {adjustment} is out of range");
            }
            g as u64
        }
    };
    let fee = match &opts.fee {
        FeeChoice::None => Coins::empty(),
        FeeChoice::Fixed(c) => c.clone(),
        FeeChoice::GasPrices(p) => tx::fee_from_gas_price(p, gas_limit)?,
    };
    Ok(TxPlan { body, chain_id, account_number, sequence, gas_limit, fee })
}

/// [`plan_tx`] then sign: the one-call path for tests and tools.
pub async fn prepare_tx(
    client: &NodeClient,
    key: &SecretKey,
    messages: Vec<Any>,
    opts: &TxOptions,
) -> anyhow::Result<PreparedTx> {
    let plan = plan_tx(client, &crate::keyring::compressed_pubkey(key), messages, opts).await?;
    Ok(plan.sign(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_flags_parse() {
        assert_eq!(Gas::parse("auto", 1.4).unwrap(), Gas::Auto { adjustment: 1.4 });
        assert_eq!(Gas::parse("250000", 1.0).unwrap(), Gas::Fixed(250_000));
        assert!(Gas::parse("0", 1.0).is_err());
        assert!(Gas::parse("-5", 1.0).is_err());
        assert!(Gas::parse("lots", 1.0).is_err());
        assert!(Gas::parse("auto", 0.5).is_err());
        assert!(Gas::parse("auto", f64::NAN).is_err());
    }
}
