//! Decoding a `cosmos.tx.v1beta1.TxRaw` and the checks that need no state
//! (the SDK's `ValidateBasic` and the parts of ante that read nothing).

use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use paychain_framework::{sdk, Address, Coins, Msg, SdkError};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::multisig::{PubKey, SigData};

/// What decoding needs from the app: which module handles a message and how it
/// decodes it (the app's module set implements it).
pub trait MsgRouter {
    /// Decodes and statelessly validates `any`, naming the module that handles it;
    /// an unknown type URL is `sdk`/2 (`unable to resolve type URL ...`).
    fn route_and_decode(&self, any: &cosmos_sdk_proto::Any) -> Result<RoutedMsg, SdkError>;

    /// Checks an extension option statelessly; one no module owns is `sdk`/31.
    fn validate_extension(&self, any: &cosmos_sdk_proto::Any) -> Result<(), SdkError> {
        Err(sdk::unknown_extension_options(format!("unknown extension option {}", any.type_url)))
    }
}

pub use paychain_auth::pubkey::{MULTISIG_PUBKEY_TYPE_URL, SECP256K1_PUBKEY_TYPE_URL};

/// Sign modes (`cosmos.tx.signing.v1beta1.SignMode`).
pub use crate::sign_mode::{SIGN_MODE_DIRECT, SIGN_MODE_LEGACY_AMINO_JSON, SIGN_MODE_UNSPECIFIED};

/// Most extension options one tx may carry.
pub const MAX_EXTENSION_OPTIONS: usize = 4;

/// A message with the index of the module that handles it.
#[derive(Debug)]
pub struct RoutedMsg {
    pub module: usize,
    pub msg: Box<dyn Msg>,
}

/// One signer as the tx declares it.
#[derive(Clone, Debug)]
pub struct SignerData {
    pub address: Address,
    /// The signer's key (secp256k1 or multisig), if the tx carries one (first tx of an account must).
    pub pub_key: Option<PubKey>,
    pub sequence: u64,
    /// The sign mode of a single signature; SIGN_MODE_UNSPECIFIED for a multisig (see `data`).
    pub sign_mode: i32,
    /// The signature bytes as sent (for a multisig, the encoded `MultiSignature`).
    pub signature: Vec<u8>,
    /// The signature with its mode(s): single, or a multisig's bit array and sub-signatures.
    pub data: SigData,
}

#[derive(Debug)]
pub struct DecodedTx {
    /// sha256 of the raw bytes (the tx hash CometBFT indexes).
    pub hash: [u8; 32],
    pub size: usize,
    pub body: TxBody,
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub msgs: Vec<RoutedMsg>,
    pub signers: Vec<SignerData>,
    pub fee: Coins,
    pub fee_payer: Address,
    pub gas_limit: u64,
}

/// Decodes `bytes` and checks everything that needs no state.
/// Size limits are not checked here: the node's own limit applies in CheckTx
/// only (it is local config, and block execution must not depend on it).
pub fn decode_tx(bytes: &[u8], modules: &dyn MsgRouter) -> Result<DecodedTx, SdkError> {
    if bytes.is_empty() {
        return Err(sdk::tx_decode("tx bytes are empty"));
    }
    let raw = TxRaw::decode(bytes).map_err(|e| sdk::tx_decode(format!("invalid TxRaw: {e}")))?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| sdk::tx_decode(format!("invalid TxBody: {e}")))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| sdk::tx_decode(format!("invalid AuthInfo: {e}")))?;

    // Typed data a module reads while the tx runs (a travel-rule record); at most a few.
    if body.extension_options.len() > MAX_EXTENSION_OPTIONS {
        return Err(sdk::unknown_extension_options(format!(
            "at most {MAX_EXTENSION_OPTIONS} extension options, got {}",
            body.extension_options.len()
        )));
    }
    for ext in &body.extension_options {
        modules.validate_extension(ext)?;
    }
    if !body.non_critical_extension_options.is_empty() {
        return Err(sdk::unknown_extension_options("no non-critical extension options are supported"));
    }
    if body.messages.is_empty() {
        return Err(sdk::invalid_request("must contain at least one message"));
    }
    let msgs = body.messages.iter().map(|any| modules.route_and_decode(any)).collect::<Result<Vec<_>, SdkError>>()?;

    let fee = auth_info.fee.clone().unwrap_or_default();
    if !fee.granter.is_empty() {
        return Err(sdk::not_supported("fee grants are not supported"));
    }
    let fee_coins = Coins::from_proto(&fee.amount).map_err(|e| e.wrap("invalid fee"))?;
    let gas_limit = fee.gas_limit;

    // Required signers, deduplicated in first-appearance order (the SDK's GetSigners).
    let mut required: Vec<Address> = Vec::new();
    for m in &msgs {
        for s in m.msg.signers() {
            if !required.contains(&s) {
                required.push(s);
            }
        }
    }
    if raw.signatures.len() != auth_info.signer_infos.len() {
        return Err(sdk::unauthorized(format!(
            "wrong number of signatures; expected {}, got {}",
            auth_info.signer_infos.len(),
            raw.signatures.len()
        )));
    }
    if required.len() != auth_info.signer_infos.len() {
        return Err(sdk::unauthorized(format!(
            "wrong number of signers; expected {}, got {}",
            required.len(),
            auth_info.signer_infos.len()
        )));
    }
    let fee_payer = if fee.payer.is_empty() {
        required[0].clone()
    } else {
        let payer = Address::from_bech32(&fee.payer)?;
        if !required.contains(&payer) {
            return Err(sdk::unauthorized(format!("fee payer {payer} is not a signer")));
        }
        payer
    };

    let signers = required
        .into_iter()
        .zip(auth_info.signer_infos.iter())
        .zip(raw.signatures.iter())
        .map(|((address, info), signature)| {
            let pub_key = info.public_key.as_ref().map(PubKey::from_any).transpose()?;
            let data = SigData::from_mode_info(info.mode_info.as_ref(), signature)?;
            let sign_mode = match &data {
                SigData::Single { mode, .. } => *mode,
                SigData::Multi { .. } => SIGN_MODE_UNSPECIFIED,
            };
            Ok(SignerData { address, pub_key, sequence: info.sequence, sign_mode, signature: signature.clone(), data })
        })
        .collect::<Result<Vec<_>, SdkError>>()?;

    Ok(DecodedTx {
        hash: Sha256::digest(bytes).into(),
        size: bytes.len(),
        body,
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        msgs,
        signers,
        fee: fee_coins,
        fee_payer,
        gas_limit,
    })
}
