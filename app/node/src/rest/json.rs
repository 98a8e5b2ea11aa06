//! The REST gateway's JSON: the framework's proto3 JSON engine
//! ([`paychain_framework::proto_json`]) over the app's `Any` types (the tx and
//! every module's own, [`paychain_app::any_types`]).

use std::sync::OnceLock;

use paychain_framework::proto_json::{self, AnyTypes};
pub use paychain_framework::proto_json::{kind_for, Kind, Schema};
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The app's `Any` types, assembled once from the module wiring.
pub fn any_types() -> &'static AnyTypes {
    static TYPES: OnceLock<AnyTypes> = OnceLock::new();
    TYPES.get_or_init(paychain_app::any_types)
}

/// A message as the gateway writes it.
pub fn to_json<T: Serialize + DeserializeOwned + 'static>(msg: &T) -> Result<Value, String> {
    proto_json::to_json(any_types(), msg)
}

/// Decodes protobuf `bytes` as `T` and renders it.
pub fn proto_to_json<T: Message + Default + Serialize + DeserializeOwned + 'static>(
    bytes: &[u8],
) -> Result<Value, String> {
    proto_json::proto_to_json::<T>(any_types(), bytes)
}

/// Parses request JSON (snake_case or camelCase, `@type` Anys) into `T`.
pub fn from_json<T: DeserializeOwned + 'static>(value: Value) -> Result<T, String> {
    proto_json::from_json(any_types(), value)
}

#[cfg(test)]
mod tests {
    use cosmos_sdk_proto::Any;
    use paychain_escrow::pb;
    use paychain_framework::TypeUrl;
    use serde_json::json;

    use super::*;

    fn any<M: Message + TypeUrl>(msg: &M) -> Any {
        Any { type_url: M::TYPE_URL.into(), value: msg.encode_to_vec() }
    }

    #[test]
    fn escrow_messages_in_a_tx_render_and_parse_back() {
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxBody};
        let create = pb::MsgCreateEscrow {
            sender: "pay1s".into(),
            recipient: "pay1r".into(),
            hash_lock: vec![9; 32],
            refund_after: Some(paychain_framework::time::Timestamp { seconds: 1_900_000_000, nanos: 0 }),
            ..Default::default()
        };
        let approve = pb::MsgApproveEscrow { arbiter: "pay1a".into(), id: 3, decision: pb::Decision::Refund as i32 };
        let tx = Tx {
            body: Some(TxBody { messages: vec![any(&create), any(&approve)], ..Default::default() }),
            ..Default::default()
        };
        let v = to_json(&tx).unwrap();
        let msgs = &v["body"]["messages"];
        assert_eq!(msgs[0]["@type"], pb::MsgCreateEscrow::TYPE_URL);
        assert_eq!(msgs[0]["recipient"], "pay1r");
        assert_eq!(msgs[0]["refund_after"], "2030-03-17T17:46:40Z");
        assert_eq!(
            msgs[1],
            json!({"@type": pb::MsgApproveEscrow::TYPE_URL, "arbiter": "pay1a", "id": "3", "decision": "DECISION_REFUND"})
        );
        let back: Tx = from_json(v).unwrap();
        assert_eq!(back, tx);
    }

    #[test]
    fn every_module_message_renders() {
        let urls: Vec<&str> = any_types().type_urls().collect();
        for url in ["/cosmos.bank.v1beta1.MsgSend", "/cosmos.auth.v1beta1.BaseAccount", pb::MsgCancelEscrow::TYPE_URL] {
            assert!(urls.contains(&url), "{url} missing from {urls:?}");
        }
    }
}
