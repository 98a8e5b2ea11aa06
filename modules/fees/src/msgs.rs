//! `MsgSetFeeTokens`, decoded and statelessly checked.

use std::any::Any as StdAny;

use cosmos_sdk_proto::Any;
use paychain_framework::decimal::Decimal;
use paychain_framework::module::decode_any;
use paychain_framework::note::Note;
use paychain_framework::{sdk, Address, Msg, SdkError, TypeUrl};

use crate::errors;
use crate::pb;

/// Most fee tokens a chain lists (the ante looks each fee coin up, and the list is
/// shown whole).
pub const MAX_FEE_TOKENS: usize = 16;

/// (denom, rate), sorted by denom, distinct, rates positive.
pub type FeeTokens = Vec<(String, Decimal)>;

pub const TYPE_URLS: &[&str] = &[pb::MsgSetFeeTokens::TYPE_URL];

/// Parses a fee-token list: valid denoms, each once, rates positive decimals.
pub fn parse_fee_tokens(list: &[pb::FeeToken]) -> Result<FeeTokens, SdkError> {
    if list.len() > MAX_FEE_TOKENS {
        return Err(errors::invalid_fee_token(format!("{} fee tokens, at most {MAX_FEE_TOKENS}", list.len())));
    }
    let mut out: FeeTokens = Vec::with_capacity(list.len());
    for t in list {
        paychain_framework::coins::validate_denom(&t.denom)
            .map_err(|e| errors::invalid_fee_token(format!("denom {:?}: {}", t.denom, e.log)))?;
        let rate = Decimal::parse(&t.rate).map_err(|_| {
            errors::invalid_fee_token(format!("rate of {} must be a decimal, got {:?}", t.denom, t.rate))
        })?;
        if rate.is_zero() {
            return Err(errors::invalid_fee_token(format!("rate of {} must be positive", t.denom)));
        }
        out.push((t.denom.clone(), rate));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(errors::invalid_fee_token(format!("{} is listed twice", w[0].0)));
    }
    Ok(out)
}

/// The base denom is always accepted at face value; it is not listed.
pub fn validate_fee_tokens(tokens: &FeeTokens, base: &str) -> Result<(), SdkError> {
    match tokens.iter().find(|(d, _)| d == base) {
        Some(_) => Err(errors::invalid_fee_token(format!("{base} is the base denom; it needs no rate"))),
        None => Ok(()),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SetFeeTokens {
    pub authority: Address,
    pub fee_tokens: FeeTokens,
    pub note: Note,
    /// The message as signed (its amino form must be the signers').
    pub signed: pb::MsgSetFeeTokens,
}

pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    match any.type_url.as_str() {
        pb::MsgSetFeeTokens::TYPE_URL => {
            let m: pb::MsgSetFeeTokens = decode_any(any)?;
            let authority = Address::from_bech32(&m.authority)
                .map_err(|e| sdk::invalid_address(format!("invalid authority address: {}", e.log)))?;
            let fee_tokens = parse_fee_tokens(&m.fee_tokens)?;
            let note = Note::new(&m.reason, &m.reference)
                .map_err(|e| e.to_sdk(errors::invalid_reason, errors::reference_too_long, errors::invalid_reference))?;
            Ok(Box::new(SetFeeTokens { authority, fee_tokens, note, signed: m }))
        }
        other => Err(sdk::unknown_request(format!("unrecognized fees message type: {other}"))),
    }
}

impl Msg for SetFeeTokens {
    fn type_url(&self) -> &'static str {
        pb::MsgSetFeeTokens::TYPE_URL
    }
    fn signers(&self) -> Vec<Address> {
        vec![self.authority.clone()]
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
    /// `paychain/fees/MsgSetFeeTokens`: a multisig authority's members sign this.
    fn amino_json(&self) -> Option<serde_json::Value> {
        paychain_framework::amino::plain("paychain/fees/MsgSetFeeTokens", &self.signed)
    }
}
