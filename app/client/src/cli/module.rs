//! What every module's commands do the same way: wrap a message in its `Any`,
//! flatten a committed tx's message responses for printing, print a query's
//! response as proto3 JSON, and take a privileged action's reason and reference.

use anyhow::anyhow;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::Any;
use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::TypeUrl;
use prost::Message;
use serde_json::{Map, Value};

use super::{runtime, Ctx, HeightArgs, NodeArgs};

/// Why a privileged account acts (`--reason`, `--reference`); recorded in the action's event.
#[derive(clap::Args, Debug, Clone)]
pub struct NoteArgs {
    /// Reason code, 1-64 characters of [a-z0-9_.-] (e.g. court_order, reserve_deposit)
    #[arg(long)]
    pub reason: String,
    /// Reference: legal basis, case number, attestation id (at most 140 bytes)
    #[arg(long, default_value = "")]
    pub reference: String,
}

/// Wraps a message in its `Any`.
pub fn any_msg<M: Message + TypeUrl>(msg: &M) -> Any {
    Any { type_url: M::TYPE_URL.to_string(), value: msg.encode_to_vec() }
}

/// The message responses in a committed tx's `data` (a `TxMsgData`), their
/// fields flattened into one object. Empty when there are none.
pub fn msg_response_fields(types: &AnyTypes, data: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    let Ok(d) = TxMsgData::decode(data) else { return out };
    for r in &d.msg_responses {
        let Some(t) = types.get(&r.type_url) else { continue };
        if let Ok(Value::Object(fields)) = (t.to_json)(types, &r.value) {
            out.extend(fields);
        }
    }
    out
}

/// Sends a gRPC query over CometBFT's `abci_query` and prints the response.
pub fn show_query<Req: Message, Resp>(
    ctx: &Ctx,
    node: &NodeArgs,
    height: &HeightArgs,
    path: &str,
    req: &Req,
) -> anyhow::Result<()>
where
    Resp: Message + Default + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    let resp: Resp = runtime()?.block_on(node.client()?.grpc_query(path, req, height.height))?;
    ctx.print(&proto_json::to_json(&ctx.any_types, &resp).map_err(|e| anyhow!(e))?);
    Ok(())
}
