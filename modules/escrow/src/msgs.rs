//! The five escrow messages: decoding and the stateless checks (everything
//! that needs neither state nor params). The keeper makes the stateful ones.
//! Every message is signed by its first field's address.
//!
//! Escrow messages have no legacy amino JSON form: they are signed with
//! SIGN_MODE_DIRECT (the app answers `sdk`/37 for amino signatures).

use std::any::Any as StdAny;
use std::collections::BTreeSet;

use crate::time::Timestamp;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::Any;
use paychain_framework::module::decode_any;
use paychain_framework::{sdk, Address, Coins, Msg, SdkError, TypeUrl as _};

use crate::errors;
use crate::pb;
use crate::time;

pub const TYPE_URL_CREATE: &str = pb::MsgCreateEscrow::TYPE_URL;
pub const TYPE_URL_RELEASE: &str = pb::MsgReleaseEscrow::TYPE_URL;
pub const TYPE_URL_APPROVE: &str = pb::MsgApproveEscrow::TYPE_URL;
pub const TYPE_URL_REFUND: &str = pb::MsgRefundEscrow::TYPE_URL;
pub const TYPE_URL_CANCEL: &str = pb::MsgCancelEscrow::TYPE_URL;
pub const TYPE_URL_CREATE_RESPONSE: &str = pb::MsgCreateEscrowResponse::TYPE_URL;
pub const TYPE_URL_RELEASE_RESPONSE: &str = pb::MsgReleaseEscrowResponse::TYPE_URL;
pub const TYPE_URL_APPROVE_RESPONSE: &str = pb::MsgApproveEscrowResponse::TYPE_URL;
pub const TYPE_URL_REFUND_RESPONSE: &str = pb::MsgRefundEscrowResponse::TYPE_URL;
pub const TYPE_URL_CANCEL_RESPONSE: &str = pb::MsgCancelEscrowResponse::TYPE_URL;

/// Every message type URL the module handles.
pub const TYPE_URLS: &[&str] = &[TYPE_URL_CREATE, TYPE_URL_RELEASE, TYPE_URL_APPROVE, TYPE_URL_REFUND, TYPE_URL_CANCEL];

/// Length of a hash lock (sha256) and of its secret.
pub const HASH_LEN: usize = 32;

/// Parses an address field, naming it in the error (`invalid sender address: ...`).
pub(crate) fn address(s: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {what} address: {}", e.log)))
}

/// Coins that must be a valid, non-empty set (sorted, no duplicates, all positive).
fn positive_coins(coins: &[ProtoCoin], what: &str) -> Result<Coins, SdkError> {
    let coins = Coins::from_proto(coins).map_err(|e| e.wrap(what))?;
    if coins.is_empty() {
        return Err(sdk::invalid_coins(format!("{what}: coins cannot be empty")));
    }
    Ok(coins)
}

/// A reference may not contain control characters (it is carried into events and UIs).
pub(crate) fn check_reference(reference: &str) -> Result<(), String> {
    match reference.char_indices().find(|(_, c)| c.is_control()) {
        Some((i, c)) => Err(format!("reference contains the control character {:?} at byte {i}", c)),
        None => Ok(()),
    }
}

fn check_time(t: Option<&Timestamp>, what: &str) -> Result<(), SdkError> {
    match t {
        Some(t) => time::validate(t).map_err(|e| errors::invalid_timestamp(format!("{what}: {e}"))),
        None => Ok(()),
    }
}

/// The arbiter rules that need no state: valid, distinct, neither sender nor
/// recipient; threshold 0 without arbiters, else 1..=len(arbiters).
pub(crate) fn check_arbiters(
    arbiters: &[Address],
    threshold: u32,
    sender: &Address,
    recipient: &Address,
) -> Result<(), SdkError> {
    let mut seen = BTreeSet::new();
    for (i, a) in arbiters.iter().enumerate() {
        if a == sender || a == recipient {
            let who = if a == sender { "sender" } else { "recipient" };
            return Err(errors::invalid_arbiters(format!("arbiters[{i}] {a} is the {who}")));
        }
        if !seen.insert(a) {
            return Err(errors::invalid_arbiters(format!("arbiters[{i}] {a} is listed twice")));
        }
    }
    if arbiters.is_empty() && threshold != 0 {
        return Err(errors::invalid_threshold(format!("threshold must be 0 without arbiters, got {threshold}")));
    }
    if !arbiters.is_empty() && (threshold == 0 || threshold as usize > arbiters.len()) {
        return Err(errors::invalid_threshold(format!(
            "threshold must be between 1 and the number of arbiters ({}), got {threshold}",
            arbiters.len()
        )));
    }
    Ok(())
}

/// Deadline order: a refund deadline must come strictly after the release time.
pub(crate) fn check_deadline_order(
    release_after: Option<&Timestamp>,
    refund_after: Option<&Timestamp>,
) -> Result<(), SdkError> {
    if let (Some(rel), Some(ref_)) = (release_after, refund_after) {
        if time::key(ref_) <= time::key(rel) {
            return Err(errors::invalid_deadline(format!(
                "refund_after {} must be after release_after {}",
                time::format(ref_),
                time::format(rel)
            )));
        }
    }
    Ok(())
}

/// `MsgCreateEscrow`, statelessly valid.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateEscrow {
    pub sender: Address,
    pub recipient: Address,
    pub amount: Coins,
    pub release_after: Option<Timestamp>,
    pub refund_after: Option<Timestamp>,
    /// Empty or 32 bytes.
    pub hash_lock: Vec<u8>,
    pub arbiters: Vec<Address>,
    pub threshold: u32,
    pub reference: String,
}

impl CreateEscrow {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        Self::from_proto(&decode_any::<pb::MsgCreateEscrow>(any)?)
    }

    pub fn from_proto(m: &pb::MsgCreateEscrow) -> Result<Self, SdkError> {
        let sender = address(&m.sender, "sender")?;
        let recipient = address(&m.recipient, "recipient")?;
        if sender == recipient {
            return Err(errors::same_sender_recipient(format!("sender and recipient are both {sender}")));
        }
        let amount = positive_coins(&m.amount, "amount")?;
        if !m.hash_lock.is_empty() && m.hash_lock.len() != HASH_LEN {
            return Err(errors::invalid_hash_lock(format!(
                "hash_lock must be empty or the {HASH_LEN}-byte sha256 of the secret, got {} bytes",
                m.hash_lock.len()
            )));
        }
        let arbiters = m
            .arbiters
            .iter()
            .enumerate()
            .map(|(i, a)| address(a, &format!("arbiters[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        check_arbiters(&arbiters, m.threshold, &sender, &recipient)?;
        check_reference(&m.reference).map_err(errors::invalid_reference)?;
        check_time(m.release_after.as_ref(), "release_after")?;
        check_time(m.refund_after.as_ref(), "refund_after")?;
        check_deadline_order(m.release_after.as_ref(), m.refund_after.as_ref())?;
        Ok(Self {
            sender,
            recipient,
            amount,
            release_after: m.release_after,
            refund_after: m.refund_after,
            hash_lock: m.hash_lock.clone(),
            arbiters,
            threshold: m.threshold,
            reference: m.reference.clone(),
        })
    }

    pub fn to_proto(&self) -> pb::MsgCreateEscrow {
        pb::MsgCreateEscrow {
            sender: self.sender.to_string(),
            recipient: self.recipient.to_string(),
            amount: self.amount.to_proto(),
            release_after: self.release_after,
            refund_after: self.refund_after,
            hash_lock: self.hash_lock.clone(),
            arbiters: self.arbiters.iter().map(Address::to_string).collect(),
            threshold: self.threshold,
            reference: self.reference.clone(),
        }
    }
}

/// `MsgReleaseEscrow`, statelessly valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseEscrow {
    pub signer: Address,
    pub id: u64,
    /// Empty = everything that remains.
    pub amount: Coins,
    /// Empty or 32 bytes.
    pub secret: Vec<u8>,
}

impl ReleaseEscrow {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        Self::from_proto(&decode_any::<pb::MsgReleaseEscrow>(any)?)
    }

    pub fn from_proto(m: &pb::MsgReleaseEscrow) -> Result<Self, SdkError> {
        let signer = address(&m.signer, "signer")?;
        // Empty = all that remains; otherwise a valid set of positive coins.
        let amount = Coins::from_proto(&m.amount).map_err(|e| e.wrap("amount"))?;
        if !m.secret.is_empty() && m.secret.len() != HASH_LEN {
            return Err(errors::invalid_secret(format!(
                "secret must be the {HASH_LEN}-byte preimage of the hash lock, got {} bytes",
                m.secret.len()
            )));
        }
        Ok(Self { signer, id: m.id, amount, secret: m.secret.clone() })
    }

    pub fn to_proto(&self) -> pb::MsgReleaseEscrow {
        pb::MsgReleaseEscrow {
            signer: self.signer.to_string(),
            id: self.id,
            amount: self.amount.to_proto(),
            secret: self.secret.clone(),
        }
    }
}

/// `MsgApproveEscrow`, statelessly valid (the decision is release or refund).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproveEscrow {
    pub arbiter: Address,
    pub id: u64,
    pub decision: pb::Decision,
}

impl ApproveEscrow {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        Self::from_proto(&decode_any::<pb::MsgApproveEscrow>(any)?)
    }

    pub fn from_proto(m: &pb::MsgApproveEscrow) -> Result<Self, SdkError> {
        let arbiter = address(&m.arbiter, "arbiter")?;
        let decision = match pb::Decision::try_from(m.decision) {
            Ok(d @ (pb::Decision::Release | pb::Decision::Refund)) => d,
            _ => {
                return Err(errors::invalid_decision(format!(
                    "decision must be DECISION_RELEASE (1) or DECISION_REFUND (2), got {}",
                    m.decision
                )))
            }
        };
        Ok(Self { arbiter, id: m.id, decision })
    }

    pub fn to_proto(&self) -> pb::MsgApproveEscrow {
        pb::MsgApproveEscrow { arbiter: self.arbiter.to_string(), id: self.id, decision: self.decision as i32 }
    }
}

/// `MsgRefundEscrow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundEscrow {
    pub signer: Address,
    pub id: u64,
}

impl RefundEscrow {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        let m = decode_any::<pb::MsgRefundEscrow>(any)?;
        Ok(Self { signer: address(&m.signer, "signer")?, id: m.id })
    }

    pub fn to_proto(&self) -> pb::MsgRefundEscrow {
        pb::MsgRefundEscrow { signer: self.signer.to_string(), id: self.id }
    }
}

/// `MsgCancelEscrow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelEscrow {
    pub signer: Address,
    pub id: u64,
}

impl CancelEscrow {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        let m = decode_any::<pb::MsgCancelEscrow>(any)?;
        Ok(Self { signer: address(&m.signer, "signer")?, id: m.id })
    }

    pub fn to_proto(&self) -> pb::MsgCancelEscrow {
        pb::MsgCancelEscrow { signer: self.signer.to_string(), id: self.id }
    }
}

macro_rules! impl_msg {
    ($($ty:ty => $url:expr, $signer:ident;)*) => {
        $(
            impl Msg for $ty {
                fn type_url(&self) -> &'static str {
                    $url
                }
                fn signers(&self) -> Vec<Address> {
                    vec![self.$signer.clone()]
                }
                fn as_any(&self) -> &dyn StdAny {
                    self
                }
            }
        )*
    };
}

impl_msg! {
    CreateEscrow => TYPE_URL_CREATE, sender;
    ReleaseEscrow => TYPE_URL_RELEASE, signer;
    ApproveEscrow => TYPE_URL_APPROVE, arbiter;
    RefundEscrow => TYPE_URL_REFUND, signer;
    CancelEscrow => TYPE_URL_CANCEL, signer;
}

/// Decodes and statelessly validates any escrow message.
pub fn decode(any: &Any) -> Result<Box<dyn Msg>, SdkError> {
    Ok(match any.type_url.as_str() {
        TYPE_URL_CREATE => Box::new(CreateEscrow::decode(any)?),
        TYPE_URL_RELEASE => Box::new(ReleaseEscrow::decode(any)?),
        TYPE_URL_APPROVE => Box::new(ApproveEscrow::decode(any)?),
        TYPE_URL_REFUND => Box::new(RefundEscrow::decode(any)?),
        TYPE_URL_CANCEL => Box::new(CancelEscrow::decode(any)?),
        other => return Err(sdk::unknown_request(format!("unrecognized escrow message type: {other}"))),
    })
}
