//! Fuzzes tx decoding and the ante path through CheckTx and Simulate on a
//! real (RocksDB-backed) app with funded accounts. Half the inputs are used
//! raw (decoding), half as the body of a tx correctly signed by a funded
//! account, so mutations reach fee, sequence and message handling past the
//! signature check. A quarter of the inputs become the signature (and bit
//! array) of a funded 2-of-3 multisig account's tx, to reach multisig
//! decoding, gas and verification. Any panic is a bug: all of this is
//! reachable from outside.
#![no_main]

use std::sync::OnceLock;

use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use libfuzzer_sys::fuzz_target;
use paychain_framework::{Address, BlockTime};
use paychain_app::{App, AppOptions};
use paychain_tx::build::{auth_info, fee, multisig_signer_info, sign_bytes};
use paychain_tx::multisig::PubKey;
use paychain_tx::sign::direct_sign_bytes;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use prost::Message;

const CHAIN_ID: &str = "paychain-fuzz-1";

struct Fixture {
    app: App,
    key: SecretKey,
    multisig: PubKey,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = AppOptions { minimum_gas_prices: "0.025upay".into(), ..AppOptions::default() };
        let app = App::open(dir.path(), config).unwrap();
        let key = SecretKey::from_slice(&[1u8; 32]).unwrap();
        let address = Address::from_secp256k1_pubkey(&PublicKey::from_secret_key(SECP256K1, &key).serialize());
        let member = |i: u8| {
            let sk = SecretKey::from_slice(&[i; 32]).unwrap();
            PubKey::Secp256k1(PublicKey::from_secret_key(SECP256K1, &sk).serialize().to_vec())
        };
        let multisig = PubKey::multisig(2, vec![member(2), member(3), member(4)]).unwrap();
        let ms = multisig.address();
        let mut state = paychain_app::genesis::default_app_state("upay");
        state["auth"]["accounts"] = serde_json::json!([{"@type": "/cosmos.auth.v1beta1.BaseAccount",
            "address": address.to_string(), "pub_key": null, "account_number": "0", "sequence": "0"},
            {"@type": "/cosmos.auth.v1beta1.BaseAccount",
            "address": ms.to_string(), "pub_key": null, "account_number": "1", "sequence": "0"}]);
        state["bank"]["balances"] = serde_json::json!([{"address": address.to_string(),
            "coins": [{"denom": "upay", "amount": "1000000000000"}]}, {"address": ms.to_string(),
            "coins": [{"denom": "upay", "amount": "1000000000000"}]}]);
        app.init_chain(CHAIN_ID, 1, &serde_json::to_vec(&state).unwrap()).unwrap();
        app.finalize_block(1, BlockTime { seconds: 1, nanos: 0 }, &[]).unwrap();
        app.commit().unwrap();
        Fixture { app, key, multisig, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&selector, rest)) = data.split_first() else { return };
    let tx = if selector & 3 == 2 {
        // `rest` is the multisig's signature bytes; the selector picks the bit array.
        let msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: f.multisig.address().to_string(),
            to_address: f.multisig.address().to_string(),
            amount: vec![],
        };
        let body = cosmos_sdk_proto::cosmos::tx::v1beta1::TxBody {
            messages: vec![cosmos_sdk_proto::Any {
                type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                value: msg.encode_to_vec(),
            }],
            ..Default::default()
        };
        let bits: Vec<bool> = (0..(selector >> 5) as usize).map(|i| selector & (1 << (i % 3 + 2)) != 0).collect();
        let modes = vec![SignMode::LegacyAminoJson; bits.iter().filter(|b| **b).count()];
        let auth = cosmos_sdk_proto::cosmos::tx::v1beta1::AuthInfo {
            signer_infos: vec![multisig_signer_info(&f.multisig, 0, &bits, &modes)],
            fee: Some(fee(&"5000upay".parse().unwrap(), 200_000)),
            ..Default::default()
        };
        TxRaw { body_bytes: body.encode_to_vec(), auth_info_bytes: auth.encode_to_vec(), signatures: vec![rest.to_vec()] }
            .encode_to_vec()
    } else if selector & 1 == 0 {
        rest.to_vec()
    } else {
        // `rest` becomes the TxBody bytes of a validly signed tx.
        let pubkey = PublicKey::from_secret_key(SECP256K1, &f.key).serialize();
        let sequence = u64::from(selector >> 1) % 4;
        let auth_info_bytes =
            auth_info(&pubkey, sequence, SignMode::Direct, fee(&"5000upay".parse().unwrap(), 200_000)).encode_to_vec();
        let sign_doc = direct_sign_bytes(rest, &auth_info_bytes, CHAIN_ID, 0);
        let signature = sign_bytes(&sign_doc, &f.key).to_vec();
        TxRaw { body_bytes: rest.to_vec(), auth_info_bytes, signatures: vec![signature] }.encode_to_vec()
    };
    let _ = f.app.check_tx(&tx, false);
    let _ = f.app.simulate(&tx);
});
