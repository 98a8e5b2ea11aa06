//! The index's answers as CometBFT v0.38's RPC renders them (its `libs/json`, and jsonpb for
//! the result): 64-bit numbers as strings, bytes as base64, hashes as upper-case hex, so clients
//! that parse CometBFT's `tx` and `tx_search` parse these unchanged. The e2e test
//! `e2e_tx_index` compares them with CometBFT's own answers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use tendermint_proto::v0_38::abci::ExecTxResult;

use crate::proof::TxProof;
use crate::records::IndexedTx;
use crate::search::SearchPage;

/// The `result` of CometBFT's `tx` for `tx` (without a proof).
pub fn tx_json(tx: &IndexedTx) -> Value {
    json!({
        "hash": hex::encode_upper(tx.hash),
        "height": tx.height.to_string(),
        "index": tx.index,
        "tx_result": result_json(&tx.result),
        "tx": STANDARD.encode(&tx.tx),
    })
}

/// The `result` of CometBFT's `tx` for `tx` with `prove=true`: [`tx_json`] and its proof.
pub fn proved_tx_json(tx: &IndexedTx, proof: &TxProof) -> Value {
    let mut merkle = json!({
        "total": proof.total.to_string(),
        "index": proof.index.to_string(),
        "leaf_hash": STANDARD.encode(proof.leaf_hash),
    });
    // `omitempty`: a block of one tx has no aunts and no such field.
    if !proof.aunts.is_empty() {
        merkle["aunts"] = proof.aunts.iter().map(|a| json!(STANDARD.encode(a))).collect();
    }
    let mut v = tx_json(tx);
    v["proof"] = json!({
        "root_hash": hex::encode_upper(proof.root_hash),
        "data": STANDARD.encode(&tx.tx),
        "proof": merkle,
    });
    v
}

/// The `result` of CometBFT's `tx_search` for `page` (with `proofs`, one per tx, for
/// `prove=true`).
pub fn search_json(page: &SearchPage, proofs: Option<&[TxProof]>) -> Value {
    let txs: Vec<Value> = match proofs {
        Some(proofs) => page.txs.iter().zip(proofs).map(|(t, p)| proved_tx_json(t, p)).collect(),
        None => page.txs.iter().map(tx_json).collect(),
    };
    json!({"txs": txs, "total_count": page.total.to_string()})
}

/// The `result` of CometBFT's `block_search`: `blocks` are CometBFT's own `block` answers
/// (`{"block_id": .., "block": ..}`) for the page's heights, `total` the matches in all.
pub fn block_search_json(total: u64, blocks: Vec<Value>) -> Value {
    json!({"blocks": blocks, "total_count": total.to_string()})
}

fn result_json(r: &ExecTxResult) -> Value {
    // CometBFT marshals the result with gogoproto's jsonpb, EmitDefaults on: every field is
    // there, empty bytes as null, 64-bit integers as strings.
    let data = if r.data.is_empty() { Value::Null } else { json!(STANDARD.encode(&r.data)) };
    let events: Vec<Value> = r
        .events
        .iter()
        .map(|e| {
            let attributes: Vec<Value> =
                e.attributes.iter().map(|a| json!({"key": a.key, "value": a.value, "index": a.index})).collect();
            json!({"type": e.r#type, "attributes": attributes})
        })
        .collect();
    json!({
        "code": r.code,
        "data": data,
        "log": r.log,
        "info": r.info,
        "gas_wanted": r.gas_wanted.to_string(),
        "gas_used": r.gas_used.to_string(),
        "events": events,
        "codespace": r.codespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{event, result};
    use crate::records::tx_hash;

    #[test]
    fn renders_as_cometbft_with_every_field() {
        let mut r = result(0, vec![event("message", &[("sender", "a")])]);
        r.events[0].attributes.push(tendermint_proto::v0_38::abci::EventAttribute {
            key: "module".into(),
            value: String::new(),
            index: false,
        });
        r.gas_wanted = 200_000;
        let tx = IndexedTx { hash: tx_hash(b"t"), height: 12, index: 3, tx: b"t".to_vec(), result: r };
        let want = json!({
            "hash": hex::encode_upper(tx_hash(b"t")),
            "height": "12",
            "index": 3,
            "tx_result": {
                "code": 0, "data": null, "log": "", "info": "",
                "gas_wanted": "200000",
                "gas_used": "7",
                "events": [{"type": "message", "attributes": [
                    {"key": "sender", "value": "a", "index": true},
                    {"key": "module", "value": "", "index": false}
                ]}],
                "codespace": ""
            },
            "tx": "dA==",
        });
        assert_eq!(tx_json(&tx), want);

        let mut failed = result(5, vec![]);
        failed.codespace = "bank".into();
        failed.log = "insufficient funds".into();
        failed.data = vec![1, 2].into();
        let want = json!({"code": 5, "data": "AQI=", "log": "insufficient funds", "info": "", "gas_wanted": "0",
            "gas_used": "7", "events": [], "codespace": "bank"});
        assert_eq!(result_json(&failed), want);

        let page = SearchPage { total: 41, txs: vec![tx] };
        let s = search_json(&page, None);
        assert_eq!(s["total_count"], "41");
        assert_eq!(s["txs"].as_array().map(Vec::len), Some(1));
        assert_eq!(search_json(&SearchPage { total: 0, txs: vec![] }, None), json!({"txs": [], "total_count": "0"}));

        let proof = TxProof { root_hash: [1; 32], total: 2, index: 1, leaf_hash: [2; 32], aunts: vec![[3; 32]] };
        let proved = proved_tx_json(&page.txs[0], &proof);
        assert_eq!(proved["hash"], hex::encode_upper(tx_hash(b"t")));
        let want = json!({"root_hash": hex::encode_upper([1u8; 32]), "data": "dA==", "proof": {
            "total": "2", "index": "1", "leaf_hash": STANDARD.encode([2u8; 32]), "aunts": [STANDARD.encode([3u8; 32])]
        }});
        assert_eq!(proved["proof"], want);
        let alone = TxProof { total: 1, index: 0, aunts: vec![], ..proof };
        assert!(proved_tx_json(&page.txs[0], &alone)["proof"]["proof"].get("aunts").is_none(), "omitempty");
    }
}
