//! `MsgSend` and `MsgMultiSend`: decoding and the stateless checks the SDK
//! v0.50 msg server makes before touching state, with the same codes.

use std::any::Any as StdAny;

use cosmos_sdk_proto::cosmos::bank::v1beta1 as pb;
use cosmos_sdk_proto::Any;
use paychain_framework::module::decode_any;
use paychain_framework::{sdk, Address, Coins, Msg, SdkError};
use serde_json::{json, Value};

use crate::errors;

pub const MSG_SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
pub const MSG_MULTI_SEND: &str = "/cosmos.bank.v1beta1.MsgMultiSend";
pub const MSG_SEND_RESPONSE: &str = "/cosmos.bank.v1beta1.MsgSendResponse";
pub const MSG_MULTI_SEND_RESPONSE: &str = "/cosmos.bank.v1beta1.MsgMultiSendResponse";

/// Parses an address field, naming it in the error (`invalid from address: ...`).
fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

/// Parses coins that must be a valid, non-empty, all-positive set.
fn positive_coins(coins: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]) -> Result<Coins, SdkError> {
    let coins = Coins::from_proto(coins)?;
    if coins.is_empty() {
        return Err(sdk::invalid_coins("coins cannot be empty"));
    }
    Ok(coins)
}

fn coins_amino(coins: &Coins) -> Value {
    Value::Array(coins.iter().map(|c| json!({"amount": c.amount.to_string(), "denom": c.denom})).collect())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgSend {
    pub from_address: Address,
    pub to_address: Address,
    pub amount: Coins,
}

impl MsgSend {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        Self::from_proto(&decode_any::<pb::MsgSend>(any)?)
    }

    pub fn from_proto(m: &pb::MsgSend) -> Result<Self, SdkError> {
        Ok(Self {
            from_address: address(&m.from_address, "from")?,
            to_address: address(&m.to_address, "to")?,
            amount: positive_coins(&m.amount)?,
        })
    }

    pub fn to_proto(&self) -> pb::MsgSend {
        pb::MsgSend {
            from_address: self.from_address.to_string(),
            to_address: self.to_address.to_string(),
            amount: self.amount.to_proto(),
        }
    }

    /// The legacy amino JSON form for SIGN_MODE_LEGACY_AMINO_JSON
    /// (`{"type": "cosmos-sdk/MsgSend", "value": {...}}`; the signer sorts keys).
    pub fn amino_json(&self) -> Value {
        json!({
            "type": "cosmos-sdk/MsgSend",
            "value": {
                "amount": coins_amino(&self.amount),
                "from_address": self.from_address.to_string(),
                "to_address": self.to_address.to_string(),
            }
        })
    }
}

impl Msg for MsgSend {
    fn type_url(&self) -> &'static str {
        MSG_SEND
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.from_address.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    fn amino_json(&self) -> Option<Value> {
        Some(MsgSend::amino_json(self))
    }
}

/// One side of a multi-send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub address: Address,
    pub coins: Coins,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub address: Address,
    pub coins: Coins,
}

/// Exactly one input (SDK v0.50), any number of outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgMultiSend {
    pub input: Input,
    pub outputs: Vec<Output>,
}

/// The SDK's `ValidateInputOutputs`: outputs must add up to the input exactly.
pub fn validate_input_outputs(input: &Input, outputs: &[Output]) -> Result<(), SdkError> {
    let mut total = Coins::empty();
    for out in outputs {
        total = total.checked_add(&out.coins)?;
    }
    if total != input.coins {
        return Err(errors::input_output_mismatch(format!("inputs {} != outputs {total}", input.coins)));
    }
    Ok(())
}

impl MsgMultiSend {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        Self::from_proto(&decode_any::<pb::MsgMultiSend>(any)?)
    }

    /// Checks in the SDK msg server's order: input count, output count, each
    /// input / output, then the sums.
    pub fn from_proto(m: &pb::MsgMultiSend) -> Result<Self, SdkError> {
        match m.inputs.len() {
            0 => return Err(errors::no_inputs("")),
            1 => {}
            _ => return Err(errors::multiple_senders("")),
        }
        if m.outputs.is_empty() {
            return Err(errors::no_outputs(""));
        }
        let i = &m.inputs[0];
        let input = Input { address: address(&i.address, "input")?, coins: positive_coins(&i.coins)? };
        let outputs = m
            .outputs
            .iter()
            .map(|o| Ok(Output { address: address(&o.address, "output")?, coins: positive_coins(&o.coins)? }))
            .collect::<Result<Vec<_>, SdkError>>()?;
        validate_input_outputs(&input, &outputs)?;
        Ok(Self { input, outputs })
    }

    pub fn to_proto(&self) -> pb::MsgMultiSend {
        pb::MsgMultiSend {
            inputs: vec![pb::Input { address: self.input.address.to_string(), coins: self.input.coins.to_proto() }],
            outputs: self
                .outputs
                .iter()
                .map(|o| pb::Output { address: o.address.to_string(), coins: o.coins.to_proto() })
                .collect(),
        }
    }

    pub fn amino_json(&self) -> Value {
        let side = |a: &Address, c: &Coins| json!({"address": a.to_string(), "coins": coins_amino(c)});
        json!({
            "type": "cosmos-sdk/MsgMultiSend",
            "value": {
                "inputs": [side(&self.input.address, &self.input.coins)],
                "outputs": self.outputs.iter().map(|o| side(&o.address, &o.coins)).collect::<Vec<_>>(),
            }
        })
    }
}

impl Msg for MsgMultiSend {
    fn type_url(&self) -> &'static str {
        MSG_MULTI_SEND
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.input.address.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    fn amino_json(&self) -> Option<Value> {
        Some(MsgMultiSend::amino_json(self))
    }
}
