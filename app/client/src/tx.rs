//! Building and signing Cosmos SDK transactions (SIGN_MODE_DIRECT, secp256k1),
//! byte for byte as CosmJS and the SDK CLI do, plus decoding them for display.

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, Tx, TxBody, TxRaw};
use cosmos_sdk_proto::Any;
use paychain_framework::{Address, AnyTypes, Coins};
use prost::Message as _;

pub const MSG_SEND_TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
pub const MSG_MULTI_SEND_TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgMultiSend";
// Building and signing the tx itself is the tx crate's (the chain's fuzz target and benchmarks
// use it without the client); offered here beside the message builders.
pub use paychain_tx::build::{
    auth_info, build_multisigned_tx, build_signed_tx, build_simulation_tx, fee, multi_signature_bytes,
    multisig_signer_info, pubkey_any, sign_bytes, tx_body, tx_hash, SignerData,
};
pub use paychain_tx::decode::SECP256K1_PUBKEY_TYPE_URL;

/// A `MsgSend` wrapped in its `Any`.
pub fn msg_send(from: &Address, to: &Address, amount: &Coins) -> Any {
    let msg = MsgSend { from_address: from.to_string(), to_address: to.to_string(), amount: amount.to_proto() };
    Any { type_url: MSG_SEND_TYPE_URL.to_string(), value: msg.encode_to_vec() }
}

/// A `MsgMultiSend` from one sender paying `each` to every recipient. The
/// single input is the sum of the outputs, as the bank module requires.
pub fn msg_multi_send(from: &Address, recipients: &[Address], each: &Coins) -> anyhow::Result<Any> {
    let recipients: Vec<String> = recipients.iter().map(ToString::to_string).collect();
    msg_multi_send_bech32(&from.to_string(), &recipients, each)
}

/// [`msg_multi_send`] with addresses as bech32 text, for any Cosmos SDK chain's prefix.
pub fn msg_multi_send_bech32(from: &str, recipients: &[String], each: &Coins) -> anyhow::Result<Any> {
    if recipients.is_empty() {
        bail!("multi-send needs at least one recipient");
    }
    let mut total = Coins::empty();
    for _ in recipients {
        total = total.checked_add(each).map_err(|e| anyhow!("total amount overflows: {e}"))?;
    }
    let msg = MsgMultiSend {
        inputs: vec![Input { address: from.to_string(), coins: total.to_proto() }],
        outputs: recipients.iter().map(|to| Output { address: to.clone(), coins: each.to_proto() }).collect(),
    };
    Ok(Any { type_url: MSG_MULTI_SEND_TYPE_URL.to_string(), value: msg.encode_to_vec() })
}

/// Parses a tx hash as users paste it (upper/lower case, optional `0x`).
pub fn parse_tx_hash(s: &str) -> anyhow::Result<[u8; 32]> {
    let t = s.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| anyhow!("invalid tx hash {s:?}: expected 64 hex digits"))?;
    bytes.try_into().map_err(|_| anyhow!("invalid tx hash {s:?}: expected 64 hex digits (32 bytes)"))
}

/// Fee from a gas price: ceil(gas × price), in the price's denom.
pub fn fee_from_gas_price(gas_prices: &str, gas: u64) -> anyhow::Result<Coins> {
    let prices = paychain_tx::fees::parse_gas_prices(gas_prices)
        .map_err(|e| anyhow!("invalid --gas-prices {gas_prices:?}: {e}"))?;
    let [price] = prices.as_slice() else {
        bail!("--gas-prices must name exactly one denom, e.g. 0.025upay");
    };
    let amount = price.fee_for(gas).ok_or_else(|| anyhow!("fee for gas {gas} at {gas_prices} overflows"))?;
    Coins::normalize([paychain_framework::Coin::new(amount, price.denom.clone())])
        .map_err(|e| anyhow!("computed fee: {e}"))
}

// ---------------------------------------------------------------------------
// Decoding for display (`query tx`)
// ---------------------------------------------------------------------------

fn coins_json(coins: &[ProtoCoin]) -> serde_json::Value {
    coins.iter().map(|c| serde_json::json!({ "denom": c.denom, "amount": c.amount })).collect()
}

/// One message as the SDK prints it (`{"@type": …, fields…}`): the types in
/// `types` with their fields, others with their bytes (`value`, base64).
pub fn any_to_json(types: &AnyTypes, any: &Any) -> serde_json::Value {
    paychain_framework::proto_json::any_to_json(types, &any.type_url, &any.value)
}

/// Decodes `TxRaw` bytes into the SDK's JSON shape of a `Tx` (body, auth_info, signatures).
pub fn decode_tx_json(types: &AnyTypes, tx_bytes: &[u8]) -> anyhow::Result<serde_json::Value> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let raw = TxRaw::decode(tx_bytes).context("not a cosmos.tx.v1beta1.TxRaw")?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).context("tx body does not decode")?;
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).context("tx auth_info does not decode")?;
    let fee = auth.fee.unwrap_or_default();
    let signer_infos: Vec<_> = auth
        .signer_infos
        .iter()
        .map(|s| {
            let mode = match s.mode_info.as_ref().and_then(|m| m.sum.as_ref()) {
                Some(mode_info::Sum::Single(single)) => SignMode::try_from(single.mode)
                    .map(|m| m.as_str_name().to_string())
                    .unwrap_or_else(|_| single.mode.to_string()),
                Some(mode_info::Sum::Multi(_)) => "MULTI".to_string(),
                None => String::new(),
            };
            serde_json::json!({
                "public_key": s.public_key.as_ref().map(|k| any_to_json(types, k)),
                "mode_info": { "single": { "mode": mode } },
                "sequence": s.sequence.to_string(),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "body": {
            "messages": body.messages.iter().map(|m| any_to_json(types, m)).collect::<Vec<_>>(),
            "memo": body.memo,
            "timeout_height": body.timeout_height.to_string(),
            "extension_options": body.extension_options.iter().map(|m| any_to_json(types, m)).collect::<Vec<_>>(),
            "non_critical_extension_options":
                body.non_critical_extension_options.iter().map(|m| any_to_json(types, m)).collect::<Vec<_>>(),
        },
        "auth_info": {
            "signer_infos": signer_infos,
            "fee": {
                "amount": coins_json(&fee.amount),
                "gas_limit": fee.gas_limit.to_string(),
                "payer": fee.payer,
                "granter": fee.granter,
            },
        },
        "signatures": raw.signatures.iter().map(|s| b64(s)).collect::<Vec<_>>(),
    }))
}

// ---------------------------------------------------------------------------
// Offline documents: the SDK CLI's JSON tx (`--generate-only`, `tx sign`,
// `tx multisign`, `tx broadcast`)
// ---------------------------------------------------------------------------

/// A `Tx` in the SDK CLI's JSON (`{"body", "auth_info", "signatures"}`, proto
/// field names, `@type` Anys), as `simd tx ... --generate-only` prints it.
pub fn tx_to_json(types: &AnyTypes, tx: &Tx) -> anyhow::Result<serde_json::Value> {
    paychain_framework::proto_json::to_json(types, tx).map_err(|e| anyhow!("rendering the tx as JSON: {e}"))
}

/// Reads [`tx_to_json`]'s form (either name case).
pub fn tx_from_json(types: &AnyTypes, value: serde_json::Value) -> anyhow::Result<Tx> {
    paychain_framework::proto_json::from_json(types, value).map_err(|e| anyhow!("not a JSON tx: {e}"))
}

/// Reads a JSON tx document (`-` = stdin).
pub fn read_tx_file(types: &AnyTypes, path: &std::path::Path) -> anyhow::Result<Tx> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the tx from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    tx_from_json(types, value).with_context(|| format!("reading {}", path.display()))
}

/// The `TxRaw` bytes of a JSON tx (what is broadcast).
pub fn tx_raw_bytes(tx: &Tx) -> Vec<u8> {
    TxRaw {
        body_bytes: tx.body.clone().unwrap_or_default().encode_to_vec(),
        auth_info_bytes: tx.auth_info.clone().unwrap_or_default().encode_to_vec(),
        signatures: tx.signatures.clone(),
    }
    .encode_to_vec()
}

/// The SIGN_MODE_LEGACY_AMINO_JSON bytes of `tx` for one signer (the SDK's
/// `StdSignDoc`, as `simd tx sign --sign-mode amino-json` signs it). `router`
/// gives each message's amino JSON (the app's module set).
pub fn amino_sign_bytes(
    tx: &Tx,
    router: &dyn paychain_tx::decode::MsgRouter,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
) -> anyhow::Result<Vec<u8>> {
    let body = tx.body.clone().unwrap_or_default();
    let fee = tx.auth_info.clone().unwrap_or_default().fee.unwrap_or_default();
    let msgs = body
        .messages
        .iter()
        .map(|m| router.route_and_decode(m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("message: {}", e.log))?;
    let fee_coins = Coins::from_proto(&fee.amount).map_err(|e| anyhow!("fee: {}", e.log))?;
    let parts = paychain_tx::amino::SignDocParts {
        msgs: &msgs,
        memo: &body.memo,
        timeout_height: body.timeout_height,
        fee: &fee_coins,
        gas_limit: fee.gas_limit,
        payer: &fee.payer,
        granter: &fee.granter,
    };
    parts.sign_bytes(chain_id, account_number, sequence).map_err(|e| anyhow!("{}", e.log))
}

/// The SIGN_MODE_DIRECT bytes of `tx` as it stands (its current `AuthInfo`).
pub fn direct_sign_bytes_of(tx: &Tx, chain_id: &str, account_number: u64) -> Vec<u8> {
    paychain_tx::sign::direct_sign_bytes(
        &tx.body.clone().unwrap_or_default().encode_to_vec(),
        &tx.auth_info.clone().unwrap_or_default().encode_to_vec(),
        chain_id,
        account_number,
    )
}

/// One signature as `simd tx sign --multisig` prints it (`SignatureDescriptors`).
pub fn signature_descriptors_json(
    types: &AnyTypes,
    pub_key: &[u8],
    mode: SignMode,
    signature: &[u8],
    sequence: u64,
) -> anyhow::Result<serde_json::Value> {
    use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::{
        signature_descriptor, SignatureDescriptor, SignatureDescriptors,
    };
    let d = SignatureDescriptors {
        signatures: vec![SignatureDescriptor {
            public_key: Some(pubkey_any(pub_key)),
            data: Some(signature_descriptor::Data {
                sum: Some(signature_descriptor::data::Sum::Single(signature_descriptor::data::Single {
                    mode: mode as i32,
                    signature: signature.to_vec(),
                })),
            }),
            sequence,
        }],
    };
    paychain_framework::proto_json::to_json(types, &d).map_err(|e| anyhow!("rendering the signature: {e}"))
}

/// A single signature read from a `SignatureDescriptors` document.
#[derive(Clone, Debug)]
pub struct SignatureFromFile {
    pub pub_key: Vec<u8>,
    pub mode: i32,
    pub signature: Vec<u8>,
    pub sequence: u64,
}

/// Reads a signature file written by `tx sign --multisig` (ours or simd's).
pub fn read_signature_file(types: &AnyTypes, path: &std::path::Path) -> anyhow::Result<Vec<SignatureFromFile>> {
    use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::{signature_descriptor, SignatureDescriptors};
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let d: SignatureDescriptors = paychain_framework::proto_json::from_json(types, value)
        .map_err(|e| anyhow!("{} is not a signature file: {e}", path.display()))?;
    d.signatures
        .iter()
        .map(|s| {
            let any =
                s.public_key.as_ref().ok_or_else(|| anyhow!("{}: a signature without public_key", path.display()))?;
            let pk = paychain_auth::PubKey::from_any(any).map_err(|e| anyhow!("{}: {}", path.display(), e.log))?;
            let pub_key = pk
                .as_secp256k1()
                .ok_or_else(|| anyhow!("{}: only secp256k1 signatures can be combined", path.display()))?
                .to_vec();
            match s.data.as_ref().and_then(|d| d.sum.as_ref()) {
                Some(signature_descriptor::data::Sum::Single(single)) => Ok(SignatureFromFile {
                    pub_key,
                    mode: single.mode,
                    signature: single.signature.clone(),
                    sequence: s.sequence,
                }),
                _ => bail!("{}: only single signatures can be combined", path.display()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::{compressed_pubkey, derive_private_key, DEFAULT_HD_PATH};
    use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
    use paychain_tx::sign::direct_sign_bytes;
    use secp256k1::ecdsa::Signature;
    use secp256k1::{Message, PublicKey, SecretKey, SECP256K1};
    use sha2::{Digest, Sha256};

    fn test_key() -> SecretKey {
        derive_private_key(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            DEFAULT_HD_PATH,
        )
        .unwrap()
    }

    #[test]
    fn signed_tx_verifies_over_its_sign_doc() {
        let key = test_key();
        let from = crate::keyring::address_of(&key);
        let to = Address::from_bytes(vec![9u8; 20]).unwrap();
        let amount: Coins = "12345upay".parse().unwrap();
        let body = tx_body(vec![msg_send(&from, &to, &amount)], "hello", 0);
        let fee = fee(&"5000upay".parse().unwrap(), 200_000);
        let tx = build_signed_tx(
            &body,
            fee,
            &SignerData { key: &key, chain_id: "paychain-dev-1", account_number: 7, sequence: 3 },
        );

        let raw = TxRaw::decode(tx.as_slice()).unwrap();
        assert_eq!(raw.signatures.len(), 1);
        assert_eq!(raw.signatures[0].len(), 64);
        let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
        assert_eq!(auth.signer_infos[0].sequence, 3);
        assert_eq!(auth.fee.as_ref().unwrap().gas_limit, 200_000);
        let pk = PubKey::decode(auth.signer_infos[0].public_key.as_ref().unwrap().value.as_slice()).unwrap();
        assert_eq!(pk.key, compressed_pubkey(&key));

        let doc = direct_sign_bytes(&raw.body_bytes, &raw.auth_info_bytes, "paychain-dev-1", 7);
        assert!(paychain_tx::sign::verify_secp256k1(&pk.key, &doc, &raw.signatures[0]));
        // Independent check with the secp256k1 crate directly: sha256 of the SignDoc.
        let digest: [u8; 32] = Sha256::digest(&doc).into();
        let mut sig = Signature::from_compact(&raw.signatures[0]).unwrap();
        SECP256K1.verify_ecdsa(&Message::from_digest(digest), &sig, &PublicKey::from_slice(&pk.key).unwrap()).unwrap();
        // Already low-S: normalizing changes nothing.
        let before = sig.serialize_compact();
        sig.normalize_s();
        assert_eq!(before, sig.serialize_compact());
        // The signature binds the chain id and the account number.
        let verify = |doc: &[u8]| paychain_tx::sign::verify_secp256k1(&pk.key, doc, &raw.signatures[0]);
        assert!(!verify(&direct_sign_bytes(&raw.body_bytes, &raw.auth_info_bytes, "other-1", 7)));
        assert!(!verify(&direct_sign_bytes(&raw.body_bytes, &raw.auth_info_bytes, "paychain-dev-1", 8)));

        // The body decodes back to the message.
        let types = AnyTypes::new([
            paychain_framework::AnyType::named::<MsgSend>(MSG_SEND_TYPE_URL),
            paychain_framework::AnyType::named::<PubKey>(SECP256K1_PUBKEY_TYPE_URL),
        ]);
        let json = decode_tx_json(&types, &tx).unwrap();
        assert_eq!(
            json["auth_info"]["signer_infos"][0]["public_key"]["key"],
            base64::engine::general_purpose::STANDARD.encode(&pk.key)
        );
        assert_eq!(json["body"]["messages"][0]["@type"], MSG_SEND_TYPE_URL);
        assert_eq!(json["body"]["messages"][0]["amount"][0]["amount"], "12345");
        assert_eq!(json["body"]["memo"], "hello");
        assert_eq!(json["auth_info"]["signer_infos"][0]["mode_info"]["single"]["mode"], "SIGN_MODE_DIRECT");
        assert_eq!(tx_hash(&tx).len(), 64);
        assert_eq!(tx_hash(&tx), tx_hash(&tx).to_uppercase());
    }

    #[test]
    fn sign_doc_field_numbers_match_the_sdk() {
        // body_bytes=1, auth_info_bytes=2, chain_id=3, account_number=4.
        let doc = direct_sign_bytes(&[0xAA], &[0xBB], "c", 5);
        assert_eq!(doc, vec![0x0A, 1, 0xAA, 0x12, 1, 0xBB, 0x1A, 1, b'c', 0x20, 5]);
    }

    #[test]
    fn multi_send_sums_inputs() {
        let from = Address::from_bytes(vec![1u8; 20]).unwrap();
        let to = [Address::from_bytes(vec![2u8; 20]).unwrap(), Address::from_bytes(vec![3u8; 20]).unwrap()];
        let any = msg_multi_send(&from, &to, &"10upay".parse().unwrap()).unwrap();
        let m = MsgMultiSend::decode(any.value.as_slice()).unwrap();
        assert_eq!(m.inputs[0].coins[0].amount, "20");
        assert_eq!(m.outputs.len(), 2);
        assert!(msg_multi_send(&from, &[], &"10upay".parse().unwrap()).is_err());
        let huge = Coins::new(vec![paychain_framework::Coin::new(u128::MAX, "upay")]).unwrap();
        assert!(msg_multi_send(&from, &to, &huge).is_err());
    }

    #[test]
    fn simulation_tx_has_an_empty_signature_and_fee() {
        let key = test_key();
        let body = tx_body(vec![], "", 0);
        let raw =
            TxRaw::decode(build_simulation_tx(&body, &compressed_pubkey(&key), 4, &Coins::empty()).as_slice()).unwrap();
        assert_eq!(raw.signatures, vec![Vec::<u8>::new()]);
        let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
        assert_eq!(auth.fee.unwrap().gas_limit, 0);
        assert_eq!(auth.signer_infos[0].sequence, 4);
    }

    #[test]
    fn hashes_and_gas_prices_parse() {
        let h = "AB".repeat(32);
        assert_eq!(parse_tx_hash(&h).unwrap(), [0xAB; 32]);
        assert_eq!(parse_tx_hash(&format!("0x{}", h.to_lowercase())).unwrap(), [0xAB; 32]);
        assert!(parse_tx_hash("abc").is_err());
        assert!(parse_tx_hash(&"AB".repeat(31)).is_err());
        assert_eq!(fee_from_gas_price("0.025upay", 200_000).unwrap().to_string(), "5000upay");
        assert!(fee_from_gas_price("0.025upay,1uatom", 1).is_err());
        assert!(fee_from_gas_price("nope", 1).is_err());
    }
}
