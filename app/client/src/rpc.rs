//! Talking to a node through CometBFT's RPC: status, ABCI queries (gRPC method
//! paths with protobuf bodies, as CosmJS sends them), broadcast and tx lookup.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, ModuleAccount, QueryAccountRequest, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmos_sdk_proto::Any;
use paychain_framework::Address;
use prost::Message;
use tendermint_rpc::{Client as _, HttpClient};

pub use tendermint_rpc::endpoint::{broadcast::tx_sync, status, tx as tx_endpoint};

pub const ACCOUNT_QUERY_PATH: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const BALANCE_QUERY_PATH: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const ALL_BALANCES_QUERY_PATH: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";

const BASE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
const MODULE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";

/// A query the app answered with a non-zero code.
#[derive(Debug, thiserror::Error)]
#[error("query {path} failed: code {code} (codespace {codespace:?}): {log}")]
pub struct AbciQueryError {
    pub path: String,
    pub code: u32,
    pub codespace: String,
    pub log: String,
}

impl AbciQueryError {
    /// The SDK answers a missing account/key with gRPC NotFound inside the log
    /// (`rpc error: code = NotFound desc = …`, sdk code 38).
    pub fn is_not_found(&self) -> bool {
        self.log.contains("code = NotFound") || (self.codespace == "sdk" && self.code == 38)
    }
}

/// An account as `auth` stores it (BaseAccount, or the base of a ModuleAccount).
#[derive(Clone, Debug)]
pub struct AccountInfo {
    pub address: String,
    pub account_number: u64,
    pub sequence: u64,
    /// Compressed secp256k1 key, once the account has signed.
    pub pub_key: Option<Vec<u8>>,
    /// The account's multisig key, once a multisig account has signed (then `pub_key` is `None`).
    pub multisig_pub_key: Option<paychain_auth::PubKey>,
    /// The module name for module accounts.
    pub module_name: Option<String>,
    pub permissions: Vec<String>,
    pub type_url: String,
}

impl AccountInfo {
    /// Decodes the `Any` of `QueryAccountResponse.account`.
    pub fn from_any(any: &Any) -> anyhow::Result<Self> {
        let (base, module_name, permissions) = match any.type_url.as_str() {
            BASE_ACCOUNT_TYPE_URL => {
                (BaseAccount::decode(any.value.as_slice()).context("decoding BaseAccount")?, None, Vec::new())
            }
            MODULE_ACCOUNT_TYPE_URL => {
                let m = ModuleAccount::decode(any.value.as_slice()).context("decoding ModuleAccount")?;
                (m.base_account.unwrap_or_default(), Some(m.name), m.permissions)
            }
            other => bail!("unsupported account type {other}"),
        };
        let mut multisig_pub_key = None;
        let pub_key = match &base.pub_key {
            None => None,
            Some(pk) if pk.type_url == crate::tx::SECP256K1_PUBKEY_TYPE_URL => {
                Some(PubKey::decode(pk.value.as_slice()).context("decoding account pub_key")?.key)
            }
            Some(pk) if pk.type_url == paychain_auth::pubkey::MULTISIG_PUBKEY_TYPE_URL => {
                multisig_pub_key =
                    Some(paychain_auth::PubKey::from_any(pk).map_err(|e| anyhow!("account pub_key: {}", e.log))?);
                None
            }
            Some(pk) => bail!("unsupported account pub_key type {}", pk.type_url),
        };
        Ok(Self {
            address: base.address,
            account_number: base.account_number,
            sequence: base.sequence,
            pub_key,
            multisig_pub_key,
            module_name,
            permissions,
            type_url: any.type_url.clone(),
        })
    }

    /// The SDK's JSON shape (`query auth account --output json`).
    pub fn to_json(&self) -> serde_json::Value {
        use base64::Engine as _;
        let pub_key = self.pub_key.as_ref().map(|k| {
            serde_json::json!({
                "@type": crate::tx::SECP256K1_PUBKEY_TYPE_URL,
                "key": base64::engine::general_purpose::STANDARD.encode(k),
            })
        });
        let pub_key = pub_key.or_else(|| self.multisig_pub_key.as_ref().map(paychain_auth::PubKey::to_json));
        let base = serde_json::json!({
            "address": self.address,
            "pub_key": pub_key,
            "account_number": self.account_number.to_string(),
            "sequence": self.sequence.to_string(),
        });
        match &self.module_name {
            None => {
                let mut v = base;
                v.as_object_mut().expect("object").insert("@type".into(), self.type_url.clone().into());
                v
            }
            Some(name) => serde_json::json!({
                "@type": self.type_url,
                "base_account": base,
                "name": name,
                "permissions": self.permissions,
            }),
        }
    }
}

/// What `broadcast_tx_sync` (CheckTx) answered.
#[derive(Clone, Debug)]
pub struct BroadcastResult {
    pub txhash: String,
    pub code: u32,
    pub codespace: String,
    pub log: String,
}

/// A CometBFT RPC endpoint.
#[derive(Clone)]
pub struct NodeClient {
    http: HttpClient,
    url: String,
}

impl NodeClient {
    /// `url` like `http://127.0.0.1:26657` (a bare `host:port` or `tcp://` form is accepted too).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let trimmed = url.trim();
        let normalized = if let Some(rest) = trimmed.strip_prefix("tcp://") {
            format!("http://{rest}")
        } else if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("http://{trimmed}")
        };
        let parsed: tendermint_rpc::HttpClientUrl =
            normalized.parse().map_err(|e| anyhow!("invalid --node URL {url:?}: {e}"))?;
        let http = HttpClient::builder(parsed)
            .compat_mode(tendermint_rpc::client::CompatMode::V0_38)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow!("invalid --node URL {url:?}: {e}"))?;
        Ok(Self { http, url: normalized })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying RPC client, for endpoints without a wrapper here.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn unreachable(&self, e: tendermint_rpc::Error) -> anyhow::Error {
        anyhow!("CometBFT RPC at {} failed (is the node running?): {}", self.url, rpc_error_text(&e))
    }

    pub async fn status(&self) -> anyhow::Result<status::Response> {
        self.http.status().await.map_err(|e| self.unreachable(e))
    }

    /// The chain id the node runs (`node_info.network`).
    pub async fn chain_id(&self) -> anyhow::Result<String> {
        Ok(self.status().await?.node_info.network.to_string())
    }

    pub async fn latest_height(&self) -> anyhow::Result<u64> {
        Ok(self.status().await?.sync_info.latest_block_height.value())
    }

    /// Raw `abci_query`; height `None` (or 0) = latest.
    pub async fn abci_query(
        &self,
        path: &str,
        data: Vec<u8>,
        height: Option<u64>,
    ) -> anyhow::Result<tendermint_rpc::endpoint::abci_query::AbciQuery> {
        let height = match height {
            None | Some(0) => None,
            Some(h) => Some(tendermint::block::Height::try_from(h).map_err(|e| anyhow!("invalid height {h}: {e}"))?),
        };
        self.http.abci_query(Some(path.to_string()), data, height, false).await.map_err(|e| self.unreachable(e))
    }

    /// A gRPC-style query: protobuf request in, protobuf response out.
    /// An answer with a non-zero code comes back as an [`AbciQueryError`] inside the error.
    pub async fn grpc_query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: &Req,
        height: Option<u64>,
    ) -> anyhow::Result<Resp> {
        let res = self.abci_query(path, req.encode_to_vec(), height).await?;
        if res.code.is_err() {
            return Err(AbciQueryError {
                path: path.to_string(),
                code: res.code.value(),
                codespace: res.codespace.clone(),
                log: res.log.clone(),
            }
            .into());
        }
        Resp::decode(res.value.as_slice()).with_context(|| format!("decoding the answer to {path}"))
    }

    /// The account at `address`, or `None` if it does not exist yet.
    pub async fn account(&self, address: &Address, height: Option<u64>) -> anyhow::Result<Option<AccountInfo>> {
        self.account_by_bech32(&address.to_string(), height).await
    }

    /// [`Self::account`] by its bech32 text, so any Cosmos SDK chain's prefix works.
    pub async fn account_by_bech32(&self, address: &str, height: Option<u64>) -> anyhow::Result<Option<AccountInfo>> {
        let req = QueryAccountRequest { address: address.to_string() };
        match self.grpc_query::<_, QueryAccountResponse>(ACCOUNT_QUERY_PATH, &req, height).await {
            Ok(resp) => {
                let any = resp.account.ok_or_else(|| anyhow!("node answered an Account query without an account"))?;
                Ok(Some(AccountInfo::from_any(&any)?))
            }
            Err(e) if e.downcast_ref::<AbciQueryError>().is_some_and(AbciQueryError::is_not_found) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One denom's balance (zero if none).
    pub async fn balance(&self, address: &Address, denom: &str, height: Option<u64>) -> anyhow::Result<ProtoCoin> {
        let req = QueryBalanceRequest { address: address.to_string(), denom: denom.to_string() };
        let resp: QueryBalanceResponse = self.grpc_query(BALANCE_QUERY_PATH, &req, height).await?;
        Ok(resp.balance.unwrap_or(ProtoCoin { denom: denom.to_string(), amount: "0".to_string() }))
    }

    /// Every balance of `address`, following pagination to the end.
    pub async fn all_balances(&self, address: &Address, height: Option<u64>) -> anyhow::Result<Vec<ProtoCoin>> {
        let mut out = Vec::new();
        let mut key = Vec::new();
        // A node that keeps handing out the same page must not loop us forever.
        for _ in 0..10_000 {
            let req = QueryAllBalancesRequest {
                address: address.to_string(),
                pagination: Some(PageRequest { key: key.clone(), limit: 1000, ..Default::default() }),
                resolve_denom: false,
            };
            let resp: QueryAllBalancesResponse = self.grpc_query(ALL_BALANCES_QUERY_PATH, &req, height).await?;
            out.extend(resp.balances);
            match resp.pagination {
                Some(p) if !p.next_key.is_empty() && p.next_key != key => key = p.next_key,
                _ => return Ok(out),
            }
        }
        bail!("balances of {address} did not finish paginating")
    }

    /// Gas the node estimates for `tx_bytes` (built by `build_simulation_tx`).
    pub async fn simulate(&self, tx_bytes: Vec<u8>) -> anyhow::Result<u64> {
        // `tx` is deprecated in favour of `tx_bytes`; leave it unset.
        let req = SimulateRequest { tx_bytes, ..Default::default() };
        let resp: SimulateResponse =
            self.grpc_query(SIMULATE_PATH, &req, None).await.context("simulating the transaction")?;
        let info = resp.gas_info.ok_or_else(|| anyhow!("Simulate answered without gas_info"))?;
        Ok(info.gas_used)
    }

    /// `broadcast_tx_sync`: submits the tx and returns CheckTx's verdict.
    pub async fn broadcast_sync(&self, tx_bytes: Vec<u8>) -> anyhow::Result<BroadcastResult> {
        let txhash = crate::tx::tx_hash(&tx_bytes);
        let r = self.http.broadcast_tx_sync(tx_bytes).await.map_err(|e| self.unreachable(e))?;
        Ok(BroadcastResult { txhash, code: r.code.value(), codespace: r.codespace, log: r.log })
    }

    /// The committed tx with this hash, or `None` if the node has not indexed it.
    pub async fn tx(&self, hash: [u8; 32]) -> anyhow::Result<Option<tx_endpoint::Response>> {
        let hash = tendermint::Hash::Sha256(hash);
        match self.http.tx(hash, false).await {
            Ok(r) => Ok(Some(r)),
            // CometBFT answers an unknown hash with an RPC error "tx (…) not found".
            Err(e) if rpc_error_text(&e).contains("not found") => Ok(None),
            Err(e) => Err(self.unreachable(e)),
        }
    }

    /// Polls `/tx` until the tx is committed or `timeout` passes.
    pub async fn wait_for_tx(&self, hash: [u8; 32], timeout: Duration) -> anyhow::Result<tx_endpoint::Response> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(r) = self.tx(hash).await? {
                return Ok(r);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "tx {} was not committed within {} s (it may still be in the mempool; check with `query tx`)",
                    hex::encode_upper(hash),
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The block time at `height`, RFC 3339.
    pub async fn block_time(&self, height: u64) -> anyhow::Result<String> {
        let h = tendermint::block::Height::try_from(height).map_err(|e| anyhow!("invalid height {height}: {e}"))?;
        let b = self.http.block(h).await.map_err(|e| self.unreachable(e))?;
        Ok(b.block.header.time.to_rfc3339())
    }
}

/// tendermint-rpc's errors render their whole trace (and, with
/// RUST_BACKTRACE set, a stack backtrace); keep only the messages, one line.
pub fn rpc_error_text(e: &tendermint_rpc::Error) -> String {
    let full = e.to_string();
    let head = full.split("\nLocation:").next().unwrap_or(&full);
    let head = head.split("\nStack backtrace:").next().unwrap_or(head);
    head.split('\n').map(str::trim).filter(|l| !l.is_empty() && *l != "Caused by:").collect::<Vec<_>>().join(": ")
}

/// `ExecTxResult.data` as tendermint-rpc hands it over in v0.38 mode: the
/// base64 text from the JSON, not decoded. Decode it (falling back to the
/// bytes as they are).
pub fn exec_data_bytes(data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_else(|_| data.to_vec())
}

/// The SDK's `TxResponse` JSON for a committed tx (`query tx`, `tx … --wait`).
/// A committed tx as `query tx` prints it; `types` are the messages to expand.
pub fn tx_response_json(
    types: &paychain_framework::AnyTypes,
    r: &tx_endpoint::Response,
    timestamp: Option<String>,
) -> serde_json::Value {
    use base64::Engine as _;
    let res = &r.tx_result;
    let events: Vec<_> = res
        .events
        .iter()
        .map(|e| {
            serde_json::json!({
                "type": e.kind,
                "attributes": e.attributes.iter().map(|a| serde_json::json!({
                    "key": a.key_str().map(str::to_string).unwrap_or_else(|_| hex::encode(a.key_bytes())),
                    "value": a.value_str().map(str::to_string).unwrap_or_else(|_| hex::encode(a.value_bytes())),
                    "index": a.index(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "height": r.height.value().to_string(),
        "txhash": r.hash.to_string(),
        "codespace": res.codespace,
        "code": res.code.value(),
        "data": hex::encode_upper(exec_data_bytes(&res.data)),
        "raw_log": res.log,
        "info": res.info,
        "gas_wanted": res.gas_wanted.to_string(),
        "gas_used": res.gas_used.to_string(),
        "tx": crate::tx::decode_tx_json(types, &r.tx).unwrap_or_else(|e| serde_json::json!({
            "error": format!("{e:#}"),
            "raw": base64::engine::general_purpose::STANDARD.encode(&r.tx),
        })),
        "timestamp": timestamp.unwrap_or_default(),
        "events": events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_are_normalized_and_checked() {
        assert_eq!(NodeClient::new("http://127.0.0.1:26657").unwrap().url(), "http://127.0.0.1:26657");
        assert_eq!(NodeClient::new("tcp://127.0.0.1:26657").unwrap().url(), "http://127.0.0.1:26657");
        assert_eq!(NodeClient::new("localhost:1").unwrap().url(), "http://localhost:1");
        assert!(NodeClient::new("ftp://x").is_err());
        assert!(NodeClient::new("http://").is_err());
    }

    #[test]
    fn accounts_decode_and_print_like_the_sdk() {
        let base = BaseAccount {
            address: "pay1x".into(),
            pub_key: Some(crate::tx::pubkey_any(&[2u8; 33])),
            account_number: 4,
            sequence: 9,
        };
        let any = Any { type_url: BASE_ACCOUNT_TYPE_URL.into(), value: base.encode_to_vec() };
        let info = AccountInfo::from_any(&any).unwrap();
        assert_eq!((info.account_number, info.sequence), (4, 9));
        assert_eq!(info.pub_key.as_deref(), Some(&[2u8; 33][..]));
        let j = info.to_json();
        assert_eq!(j["@type"], BASE_ACCOUNT_TYPE_URL);
        assert_eq!(j["account_number"], "4");
        assert_eq!(j["pub_key"]["@type"], "/cosmos.crypto.secp256k1.PubKey");

        let module = ModuleAccount {
            base_account: Some(BaseAccount { address: "pay1m".into(), pub_key: None, account_number: 1, sequence: 0 }),
            name: "fee_collector".into(),
            permissions: vec![],
        };
        let any = Any { type_url: MODULE_ACCOUNT_TYPE_URL.into(), value: module.encode_to_vec() };
        let j = AccountInfo::from_any(&any).unwrap().to_json();
        assert_eq!(j["name"], "fee_collector");
        assert_eq!(j["base_account"]["pub_key"], serde_json::Value::Null);

        assert!(AccountInfo::from_any(&Any { type_url: "/x.Y".into(), value: vec![] }).is_err());
        assert!(AccountInfo::from_any(&Any { type_url: BASE_ACCOUNT_TYPE_URL.into(), value: vec![0xFF] }).is_err());
    }

    #[test]
    fn exec_data_is_decoded() {
        assert_eq!(exec_data_bytes(b"EiY="), vec![0x12, 0x26]);
        assert_eq!(exec_data_bytes(&[0xFF, 0x00]), vec![0xFF, 0x00]);
    }

    #[test]
    fn not_found_is_recognized() {
        let e = |code, codespace: &str, log: &str| AbciQueryError {
            path: ACCOUNT_QUERY_PATH.into(),
            code,
            codespace: codespace.into(),
            log: log.into(),
        };
        assert!(e(38, "sdk", "").is_not_found());
        assert!(e(5, "", "rpc error: code = NotFound desc = account pay1 not found: key not found").is_not_found());
        assert!(!e(1, "sdk", "internal").is_not_found());
    }
}
