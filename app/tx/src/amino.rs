//! SIGN_MODE_LEGACY_AMINO_JSON (127): the bytes a Ledger, Keplr's amino path
//! or CosmJS's `OfflineAminoSigner` sign, the SDK's `StdSignDoc`:
//!
//! ```text
//! {"account_number":"N","chain_id":"…","fee":{"amount":[{"amount":"…","denom":"…"}],"gas":"N"},
//!  "memo":"…","msgs":[{"type":"cosmos-sdk/MsgSend","value":{…}}],"sequence":"N"}
//! ```
//!
//! Keys sorted at every level, no whitespace, `&`, `<`, `>` escaped as
//! `\u0026`, `\u003c`, `\u003e` (Go's `encoding/json` and CosmJS's
//! `serializeSignDoc` both do this). `timeout_height` appears only when
//! non-zero, `fee.payer` / `fee.granter` only when set (the SDK's
//! `StdSignBytes` and x/tx's aminojson encoder, whose `AminoSignDoc` marks
//! them omitempty). Empty fee amounts are `[]`. Messages give their own amino
//! JSON through [`paychain_framework::Msg::amino_json`].

use cosmos_sdk_proto::cosmos::tx::v1beta1::AuthInfo;
use paychain_framework::{sdk, Coins, SdkError};
use prost::Message;
use serde_json::{json, Map, Value};

use super::decode::{DecodedTx, RoutedMsg};

/// The StdSignDoc of `tx` for one signer, as a JSON value (not yet canonical).
pub fn std_sign_doc(tx: &DecodedTx, chain_id: &str, account_number: u64, sequence: u64) -> Result<Value, SdkError> {
    // The fee's payer and granter as the tx carries them (decode keeps only the resolved payer).
    let fee = AuthInfo::decode(tx.auth_info_bytes.as_slice())
        .map_err(|e| sdk::tx_decode(format!("invalid AuthInfo: {e}")))?
        .fee
        .unwrap_or_default();
    let doc = SignDocParts {
        msgs: &tx.msgs,
        memo: &tx.body.memo,
        timeout_height: tx.body.timeout_height,
        fee: &tx.fee,
        gas_limit: tx.gas_limit,
        payer: &fee.payer,
        granter: &fee.granter,
    };
    doc.to_json(chain_id, account_number, sequence)
}

/// What a StdSignDoc is built from, so a client can build one for a tx that
/// is not signed yet (`tx sign` of a `--generate-only` document).
pub struct SignDocParts<'a> {
    pub msgs: &'a [RoutedMsg],
    pub memo: &'a str,
    pub timeout_height: u64,
    pub fee: &'a Coins,
    pub gas_limit: u64,
    pub payer: &'a str,
    pub granter: &'a str,
}

impl SignDocParts<'_> {
    /// The StdSignDoc as a JSON value (not yet canonical).
    pub fn to_json(&self, chain_id: &str, account_number: u64, sequence: u64) -> Result<Value, SdkError> {
        let msgs = self
            .msgs
            .iter()
            .map(|m| {
                m.msg.amino_json().ok_or_else(|| {
                    sdk::not_supported(format!(
                        "message {} has no amino JSON form and cannot be signed with SIGN_MODE_LEGACY_AMINO_JSON; \
                         use SIGN_MODE_DIRECT",
                        m.msg.type_url()
                    ))
                })
            })
            .collect::<Result<Vec<_>, SdkError>>()?;
        let mut fee_json = Map::new();
        fee_json.insert(
            "amount".into(),
            Value::Array(self.fee.iter().map(|c| json!({"amount": c.amount.to_string(), "denom": c.denom})).collect()),
        );
        fee_json.insert("gas".into(), Value::String(self.gas_limit.to_string()));
        if !self.payer.is_empty() {
            fee_json.insert("payer".into(), Value::String(self.payer.to_string()));
        }
        if !self.granter.is_empty() {
            fee_json.insert("granter".into(), Value::String(self.granter.to_string()));
        }
        let mut doc = Map::new();
        doc.insert("account_number".into(), Value::String(account_number.to_string()));
        doc.insert("chain_id".into(), Value::String(chain_id.to_string()));
        doc.insert("fee".into(), Value::Object(fee_json));
        doc.insert("memo".into(), Value::String(self.memo.to_string()));
        doc.insert("msgs".into(), Value::Array(msgs));
        doc.insert("sequence".into(), Value::String(sequence.to_string()));
        if self.timeout_height != 0 {
            doc.insert("timeout_height".into(), Value::String(self.timeout_height.to_string()));
        }
        Ok(Value::Object(doc))
    }

    /// The bytes a client signs: Go's spelling (what `simd` signs).
    pub fn sign_bytes(&self, chain_id: &str, account_number: u64, sequence: u64) -> Result<Vec<u8>, SdkError> {
        Ok(canonical_json(&self.to_json(chain_id, account_number, sequence)?, true).into_bytes())
    }
}

/// The sign bytes a valid amino signature may cover. Usually one; two when a
/// string holds U+2028/U+2029, which Go's encoder escapes and CosmJS's
/// `JSON.stringify` does not (either client's signature is accepted).
pub fn std_sign_bytes(
    tx: &DecodedTx,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
) -> Result<Vec<Vec<u8>>, SdkError> {
    let doc = std_sign_doc(tx, chain_id, account_number, sequence)?;
    let go = canonical_json(&doc, true);
    let js = canonical_json(&doc, false);
    Ok(if go == js { vec![go.into_bytes()] } else { vec![go.into_bytes(), js.into_bytes()] })
}

/// Sorted-key, whitespace-free JSON with HTML characters escaped as Go and
/// CosmJS do; `escape_line_separators` also escapes U+2028/U+2029 as Go does.
pub fn canonical_json(v: &Value, escape_line_separators: bool) -> String {
    let mut out = String::new();
    write_canonical(v, escape_line_separators, &mut out);
    out
}

fn write_canonical(v: &Value, els: bool, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, els, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, els, out);
                out.push(':');
                write_canonical(&map[k], els, out);
            }
            out.push('}');
        }
        Value::String(s) => write_string(s, els, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, els: bool, out: &mut String) {
    // serde_json escapes `"`, `\` and control characters exactly as
    // JSON.stringify and Go do (\b \f \n \r \t, else \u00xx lowercase).
    let quoted = Value::String(s.to_string()).to_string();
    for ch in quoted.chars() {
        match ch {
            '&' => out.push_str("\\u0026"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '\u{2028}' if els => out.push_str("\\u2028"),
            '\u{2029}' if els => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{MsgRouter, RoutedMsg};
    use crate::sign::verify_secp256k1;
    use paychain_framework::Coin;
    use paychain_framework::Module as _;

    // Signed by @cosmjs/stargate 0.39 `SigningStargateClient.offline(Secp256k1Wallet)`
    // (an amino signer) with key [7; 32], account 7, sequence 3, chain
    // paychain-test-1. The send's memo holds "<&>" and U+2028; the multi-send
    // has a fee payer, an empty fee amount and timeout height 99.
    const COSMJS_SEND: &str = "0aa5010a92010a1c2f636f736d6f732e62616e6b2e763162657461312e4d736753656e6412720a2a7061793135307274726d6a326638766c3974656d38717066773336796c77356a67396a32796a71363836122a70617931717971737a716770717971737a716770717971737a716770717971737a716770397a74646e6c1a0a0a057561746f6d1201351a0c0a0475706179120431303030120e6d656d6f203c263e20e280a8207812660a500a460a1f2f636f736d6f732e63727970746f2e736563703235366b312e5075624b657912230a2102989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f12040a02087f180312120a0c0a047570617912043530303010c09a0c1a40d25c39cee44c0b6e78f6d3a400ba1755dc4927a65ff55370afc7a4204513dde7085f621304c35e88a2872adceacb05816d346c95d83aa06da01d4dde733f18af";
    const COSMJS_MULTI: &str = "0ad9010ad4010a212f636f736d6f732e62616e6b2e763162657461312e4d73674d756c746953656e6412ae010a380a2a7061793135307274726d6a326638766c3974656d38717066773336796c77356a67396a32796a71363836120a0a04757061791202333012380a2a70617931717971737a716770717971737a716770717971737a716770717971737a716770397a74646e6c120a0a04757061791202313012380a2a7061793135307274726d6a326638766c3974656d38717066773336796c77356a67396a32796a71363836120a0a04757061791202323018631284010a500a460a1f2f636f736d6f732e63727970746f2e736563703235366b312e5075624b657912230a2102989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f12040a02087f1803123010a08d061a2a7061793135307274726d6a326638766c3974656d38717066773336796c77356a67396a32796a713638361a40027db284eda3e16760a17994228160f9862236f924cb257474b7f31cced4e8f730cd32100ac0cfb94cf042ee84c2db5990e711f014a252bd648dc80f6294427c";
    const PUBKEY: &str = "02989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f";
    const CHAIN: &str = "paychain-test-1";

    /// Bank's messages are all these txs carry.
    struct BankOnly(paychain_bank::BankModule);

    impl MsgRouter for BankOnly {
        fn route_and_decode(&self, any: &cosmos_sdk_proto::Any) -> Result<RoutedMsg, SdkError> {
            Ok(RoutedMsg { module: 0, msg: self.0.decode_msg(any)? })
        }
    }

    fn decode(hex_tx: &str) -> DecodedTx {
        let auth = std::sync::Arc::new(paychain_auth::AuthKeeper::new(vec![]));
        let bank = BankOnly(paychain_bank::BankModule::new(std::sync::Arc::new(paychain_bank::BankKeeper::new(auth))));
        crate::decode::decode_tx(&hex::decode(hex_tx).unwrap(), &bank).unwrap()
    }

    fn verifies(tx: &DecodedTx, chain: &str, account_number: u64, sequence: u64) -> bool {
        let pk = hex::decode(PUBKEY).unwrap();
        std_sign_bytes(tx, chain, account_number, sequence)
            .unwrap()
            .iter()
            .any(|b| verify_secp256k1(&pk, b, &tx.signers[0].signature))
    }

    #[test]
    fn cosmjs_amino_signatures_verify() {
        let send = decode(COSMJS_SEND);
        assert_eq!(send.signers[0].sign_mode, crate::decode::SIGN_MODE_LEGACY_AMINO_JSON);
        assert!(verifies(&send, CHAIN, 7, 3));
        let multi = decode(COSMJS_MULTI);
        assert!(verifies(&multi, CHAIN, 7, 3));
        let doc = String::from_utf8(std_sign_bytes(&multi, CHAIN, 7, 3).unwrap().remove(0)).unwrap();
        assert_eq!(
            doc,
            r#"{"account_number":"7","chain_id":"paychain-test-1","fee":{"amount":[],"gas":"100000","payer":"{a}"},"memo":"","msgs":[{"type":"cosmos-sdk/MsgMultiSend","value":{"inputs":[{"address":"{a}","coins":[{"amount":"30","denom":"upay"}]}],"outputs":[{"address":"pay1qyqszqgpqyqszqgpqyqszqgpqyqszqgp9ztdnl","coins":[{"amount":"10","denom":"upay"}]},{"address":"{a}","coins":[{"amount":"20","denom":"upay"}]}]}}],"sequence":"3","timeout_height":"99"}"#
            .replace("{a}", "pay150rtrmj2f8vl9tem8qpfw36ylw5jg9j2yjq686")
        );
    }

    #[test]
    fn tampered_amino_docs_fail() {
        assert!(!verifies(&decode(COSMJS_SEND), "paychain-test-2", 7, 3), "chain id");
        assert!(!verifies(&decode(COSMJS_SEND), CHAIN, 8, 3), "account number");
        assert!(!verifies(&decode(COSMJS_SEND), CHAIN, 7, 4), "sequence");
        let mut tx = decode(COSMJS_SEND);
        tx.body.memo.push('!');
        assert!(!verifies(&tx, CHAIN, 7, 3), "memo");
        let mut tx = decode(COSMJS_SEND);
        tx.fee = Coins::new(vec![Coin::new(5001, "upay")]).unwrap();
        assert!(!verifies(&tx, CHAIN, 7, 3), "fee amount");
        let mut tx = decode(COSMJS_SEND);
        tx.gas_limit += 1;
        assert!(!verifies(&tx, CHAIN, 7, 3), "gas");
        let mut tx = decode(COSMJS_MULTI);
        tx.body.timeout_height = 0;
        assert!(!verifies(&tx, CHAIN, 7, 3), "timeout height");
    }

    #[test]
    fn messages_without_amino_json_are_a_clear_error() {
        #[derive(Debug)]
        struct Plain;
        impl paychain_framework::Msg for Plain {
            fn type_url(&self) -> &'static str {
                "/x.v1.MsgPlain"
            }
            fn signers(&self) -> Vec<paychain_framework::Address> {
                Vec::new()
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
        let mut tx = decode(COSMJS_SEND);
        tx.msgs[0].msg = Box::new(Plain);
        let err = std_sign_bytes(&tx, CHAIN, 7, 3).unwrap_err();
        assert_eq!((err.codespace.as_ref(), err.code), ("sdk", 37));
        assert!(err.log.contains("/x.v1.MsgPlain") && err.log.contains("SIGN_MODE_LEGACY_AMINO_JSON"), "{}", err.log);
    }

    #[test]
    fn canonical_json_sorts_and_escapes_like_cosmjs() {
        let v = json!({"b": [ {"z": 1, "a": "x&y<z>"} ], "a": "q\"\n\u{1}", "c": true});
        assert_eq!(
            canonical_json(&v, true),
            r#"{"a":"q\"\n\u0001","b":[{"a":"x\u0026y\u003cz\u003e","z":1}],"c":true}"#
        );
        let ls = json!({"m": "a\u{2028}b"});
        assert_eq!(canonical_json(&ls, true), r#"{"m":"a\u2028b"}"#);
        assert_eq!(canonical_json(&ls, false), "{\"m\":\"a\u{2028}b\"}");
    }
}
