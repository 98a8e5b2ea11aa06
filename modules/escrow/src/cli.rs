//! The escrow module from the command line (feature `cli`; `paychaind` mounts
//! [`EscrowCli`]):
//!
//! * `paychaind tx escrow create|release|approve|refund|cancel` build, sign and
//!   broadcast `paychain.escrow.v1` messages (flags as for `tx bank send`);
//!   with `--wait` the result carries the message's response (`escrow_id` of a
//!   new escrow, `released`/`remaining`, `approvals`/`executed`, `refunded`).
//! * `paychaind query escrow escrow|by-sender|by-recipient|by-arbiter|params`.
//! * `paychaind escrow new-secret` makes a random 32-byte secret and its sha256
//!   hash lock, for hash-locked payments and cross-chain swaps.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::Any;
use paychain_client::cli::{
    broadcast_with, parse_address, parse_positive_coins, runtime, signer_info, Ctx, HeightArgs, ModuleCli, NodeArgs,
    PageArgs, TxFlags,
};
use paychain_client::rpc::AbciQueryError;
use paychain_framework::proto_json::{self, AnyTypes};
use paychain_framework::TypeUrl;
use prost::Message;
use serde_json::{json, Map, Value};

use crate::{pb, query};

/// The escrow module's commands, as `paychaind` mounts them.
pub struct EscrowCli;

impl ModuleCli for EscrowCli {
    type Tx = EscrowTxCmd;
    type Query = EscrowQueryCmd;
    type Tools = EscrowCmd;

    const TX_ABOUT: &'static str =
        "Escrow: coins held for a recipient until released (sender, secret, arbiters) or refunded";
    const QUERY_ABOUT: &'static str = "Escrow module queries";
    const TOOLS_ABOUT: &'static str =
        "Escrow helpers: a new secret and its hash lock (`tx escrow`, `query escrow` do the rest)";
    const HAS_TOOLS: bool = true;

    fn run_tx(ctx: &Ctx, home: &Path, cmd: EscrowTxCmd) -> anyhow::Result<()> {
        run_tx(ctx, home, cmd)
    }

    fn run_query(ctx: &Ctx, cmd: EscrowQueryCmd) -> anyhow::Result<()> {
        run_query(ctx, cmd)
    }

    fn run_tools(ctx: &Ctx, cmd: EscrowCmd) -> anyhow::Result<()> {
        run(ctx, cmd)
    }
}

/// Wraps a message in its `Any`.
pub fn any<M: Message + TypeUrl>(msg: &M) -> Any {
    Any { type_url: M::TYPE_URL.to_string(), value: msg.encode_to_vec() }
}

/// The sha256 hash lock of a secret.
pub fn hash_lock_of(secret: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(secret).into()
}

/// The message responses in a committed tx's `data` (a `TxMsgData`), flattened
/// into one object: `escrow_id` for a create, `released`/`remaining`,
/// `approvals`/`executed`, `refunded`. Empty when there are none.
pub fn response_fields(types: &AnyTypes, data: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    let Ok(d) = TxMsgData::decode(data) else { return out };
    for r in &d.msg_responses {
        let Some(t) = types.get(&r.type_url) else { continue };
        let Ok(Value::Object(fields)) = (t.to_json)(types, &r.value) else { continue };
        for (k, v) in fields {
            let create = r.type_url == pb::MsgCreateEscrowResponse::TYPE_URL;
            out.insert(if create && k == "id" { "escrow_id".to_string() } else { k }, v);
        }
    }
    out
}

// ------------------------------------------------------------------ tx

#[derive(Subcommand, Debug)]
pub enum EscrowTxCmd {
    /// Put coins in escrow for a recipient (MsgCreateEscrow); prints the new escrow's id with --wait
    Create {
        /// Key name (or its address) that signs, pays the fee and deposits the coins
        from: String,
        /// Who receives the coins when they are released
        recipient: String,
        /// Coins to hold, e.g. 1000000upay
        amount: String,
        /// Nothing is released before this time: RFC 3339 (2030-01-31T12:00:00Z) or +DURATION from now (+30s, +10m, +2h, +1d, +1h30m)
        #[arg(long, value_name = "TIME")]
        release_after: Option<String>,
        /// From this time the rest goes back to the sender (automatically at the end of a block): RFC 3339 or +DURATION
        #[arg(long, value_name = "TIME")]
        refund_after: Option<String>,
        /// sha256 of the 32-byte secret that releases the escrow (64 hex digits, or base64)
        #[arg(long, value_name = "HASH", conflicts_with = "secret_file")]
        hash_lock: Option<String>,
        /// File holding the secret (64 hex digits, as `paychaind escrow new-secret --out` writes); its sha256 becomes the hash lock
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
        /// Arbiters' addresses, comma-separated
        #[arg(long, value_name = "ADDR,...", value_delimiter = ',', requires = "threshold")]
        arbiters: Vec<String>,
        /// How many arbiters must agree (to release, or to refund)
        #[arg(long, value_name = "N", requires = "arbiters")]
        threshold: Option<u32>,
        /// Your reference (invoice number, end-to-end id), carried into every event
        #[arg(long, default_value = "")]
        reference: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Release to the recipient (MsgReleaseEscrow): as the sender, with the secret, or after the arbiters approved
    Release {
        /// Key name (or its address) that signs
        from: String,
        /// Escrow id
        id: u64,
        /// Release only this much (default: everything that remains)
        #[arg(long)]
        amount: Option<String>,
        /// The secret of the hash lock (64 hex digits)
        #[arg(long, value_name = "HEX", conflicts_with = "secret_file")]
        secret: Option<String>,
        /// File holding the secret (64 hex digits)
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// An arbiter's vote to release or to refund (MsgApproveEscrow); the vote reaching the threshold carries it out
    Approve {
        /// The arbiter's key name (or address)
        from: String,
        /// Escrow id
        id: u64,
        /// release or refund
        #[arg(value_enum)]
        decision: DecisionArg,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Refund what remains to the sender once refund_after has passed (MsgRefundEscrow; anyone may sign)
    Refund {
        /// Key name (or its address) that signs
        from: String,
        /// Escrow id
        id: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Cancel: what remains goes back to the sender (MsgCancelEscrow). The recipient may always
    /// cancel; the sender only an escrow without hash lock and arbiters
    Cancel {
        /// Key name (or its address) that signs
        from: String,
        /// Escrow id
        id: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    Release,
    Refund,
}

impl DecisionArg {
    fn to_proto(self) -> pb::Decision {
        match self {
            DecisionArg::Release => pb::Decision::Release,
            DecisionArg::Refund => pb::Decision::Refund,
        }
    }
}

/// `+30s`, `+10m`, `+2h`, `+1d`, `+1h30m` (the `+` already removed).
fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut parts = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => bail!("unknown unit {c:?} (use s, m, h or d)"),
        };
        let n: u64 = digits.parse().map_err(|_| anyhow!("a number must come before {c:?}"))?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(|| anyhow!("too long"))?;
        digits.clear();
        parts += 1;
    }
    if !digits.is_empty() {
        bail!("{digits:?} has no unit (use s, m, h or d, e.g. +{digits}s)");
    }
    if parts == 0 {
        bail!("empty duration");
    }
    Ok(Duration::from_secs(total))
}

/// A `--release-after`/`--refund-after` value: RFC 3339, or `+DURATION` from `now`.
/// Returns (seconds, nanos) since the epoch.
pub fn parse_time(flag: &str, s: &str, now: SystemTime) -> anyhow::Result<(i64, i32)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        let d = parse_duration(rest).map_err(|e| anyhow!("--{flag} {s:?}: {e}"))?;
        let at = now.checked_add(d).ok_or_else(|| anyhow!("--{flag} {s:?}: too far in the future"))?;
        let since = at.duration_since(UNIX_EPOCH)?;
        return Ok((i64::try_from(since.as_secs())?, since.subsec_nanos() as i32));
    }
    let t = crate::time::parse(s).map_err(|e| {
        anyhow!("--{flag}: {e} (expected an RFC 3339 time such as 2030-01-31T12:00:00Z, or +DURATION: +30s, +10m, +2h, +1d)")
    })?;
    Ok((t.seconds, t.nanos))
}

/// 32 bytes from 64 hex digits (or, for a hash lock, base64 as queries print it).
fn parse_32(what: &str, s: &str, allow_base64: bool) -> anyhow::Result<Vec<u8>> {
    let s = s.trim();
    let bytes = match hex::decode(s) {
        Ok(b) => b,
        Err(_) if allow_base64 => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| anyhow!("{what}: expected 64 hex digits (or base64 of 32 bytes)"))?,
        Err(_) => bail!("{what}: expected 64 hex digits"),
    };
    if bytes.len() != 32 {
        bail!("{what}: expected 32 bytes, got {}", bytes.len());
    }
    Ok(bytes)
}

fn read_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading secret file {}", path.display()))?;
    parse_32(&format!("secret file {}", path.display()), &text, false)
}

fn time_slot(flag: &str, value: &Option<String>, now: SystemTime) -> anyhow::Result<Option<crate::time::Timestamp>> {
    value
        .as_deref()
        .map(|s| parse_time(flag, s, now).map(|(seconds, nanos)| crate::time::Timestamp { seconds, nanos }))
        .transpose()
}

pub fn run_tx(ctx: &Ctx, home: &Path, cmd: EscrowTxCmd) -> anyhow::Result<()> {
    let (signer, msg, flags, is_create) = match cmd {
        EscrowTxCmd::Create {
            from,
            recipient,
            amount,
            release_after,
            refund_after,
            hash_lock,
            secret_file,
            arbiters,
            threshold,
            reference,
            flags,
        } => {
            let signer = signer_info(&from, &flags.keyring, home)?;
            let recipient = parse_address("recipient", &recipient)?;
            let amount = parse_positive_coins(&amount)?;
            let now = SystemTime::now();
            let release_after = time_slot("release-after", &release_after, now)?;
            let refund_after = time_slot("refund-after", &refund_after, now)?;
            if let (Some(rel), Some(refund)) = (&release_after, &refund_after) {
                if (refund.seconds, refund.nanos) <= (rel.seconds, rel.nanos) {
                    bail!("--refund-after must be later than --release-after");
                }
            }
            let hash_lock = match (hash_lock, secret_file) {
                (Some(h), _) => parse_32("--hash-lock", &h, true)?,
                (None, Some(f)) => hash_lock_of(&read_secret_file(&f)?).to_vec(),
                (None, None) => Vec::new(),
            };
            let arbiters = arbiters
                .iter()
                .enumerate()
                .map(|(i, a)| parse_address(&format!("arbiter {}", i + 1), a.trim()).map(|a| a.to_string()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let threshold = threshold.unwrap_or(0);
            if !arbiters.is_empty() && (threshold == 0 || threshold as usize > arbiters.len()) {
                bail!("--threshold must be between 1 and the number of arbiters ({})", arbiters.len());
            }
            let msg = pb::MsgCreateEscrow {
                sender: signer.address.to_string(),
                recipient: recipient.to_string(),
                amount: amount.to_proto(),
                release_after,
                refund_after,
                hash_lock,
                arbiters,
                threshold,
                reference,
            };
            (signer, any(&msg), flags, true)
        }
        EscrowTxCmd::Release { from, id, amount, secret, secret_file, flags } => {
            let signer = signer_info(&from, &flags.keyring, home)?;
            let amount = amount.map(|a| parse_positive_coins(&a)).transpose()?;
            let secret = match (secret, secret_file) {
                (Some(s), _) => parse_32("--secret", &s, false)?,
                (None, Some(f)) => read_secret_file(&f)?,
                (None, None) => Vec::new(),
            };
            let msg = pb::MsgReleaseEscrow {
                signer: signer.address.to_string(),
                id,
                amount: amount.map(|a| a.to_proto()).unwrap_or_default(),
                secret,
            };
            (signer, any(&msg), flags, false)
        }
        EscrowTxCmd::Approve { from, id, decision, flags } => {
            let signer = signer_info(&from, &flags.keyring, home)?;
            let msg =
                pb::MsgApproveEscrow { arbiter: signer.address.to_string(), id, decision: decision.to_proto() as i32 };
            (signer, any(&msg), flags, false)
        }
        EscrowTxCmd::Refund { from, id, flags } => {
            let signer = signer_info(&from, &flags.keyring, home)?;
            let msg = pb::MsgRefundEscrow { signer: signer.address.to_string(), id };
            (signer, any(&msg), flags, false)
        }
        EscrowTxCmd::Cancel { from, id, flags } => {
            let signer = signer_info(&from, &flags.keyring, home)?;
            let msg = pb::MsgCancelEscrow { signer: signer.address.to_string(), id };
            (signer, any(&msg), flags, false)
        }
    };
    if is_create && !flags.wait && !flags.dry_run {
        eprintln!("(add --wait to see the new escrow's id, or read it later from `paychaind query tx <hash>`)");
    }
    broadcast_with(ctx, home, &signer, vec![msg], &flags, &|data| response_fields(&ctx.any_types, data))
}

// ------------------------------------------------------------------ query

#[derive(Subcommand, Debug)]
pub enum EscrowQueryCmd {
    /// One escrow by id
    Escrow {
        id: u64,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Escrows an address created, in id order (open and closed)
    BySender {
        address: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Escrows paying an address, in id order (open and closed)
    ByRecipient {
        address: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Escrows naming an address as arbiter, in id order (open and closed)
    ByArbiter {
        address: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The module's parameters
    Params {
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// One page of escrows by party: `path` is the party's query.
fn print_list<Req: Message>(
    ctx: &Ctx,
    node: &NodeArgs,
    height: &HeightArgs,
    path: &str,
    req: &Req,
) -> anyhow::Result<()> {
    let resp: pb::QueryEscrowsResponse = runtime()?.block_on(node.client()?.grpc_query(path, req, height.height))?;
    print_json(ctx, &resp)
}

fn print_json<T: serde::Serialize + serde::de::DeserializeOwned + 'static>(ctx: &Ctx, resp: &T) -> anyhow::Result<()> {
    ctx.print(&proto_json::to_json(&ctx.any_types, resp).map_err(|e| anyhow!(e))?);
    Ok(())
}

pub fn run_query(ctx: &Ctx, cmd: EscrowQueryCmd) -> anyhow::Result<()> {
    let rt = runtime()?;
    let address = |s: &str| parse_address("address", s).map(|a| a.to_string());
    match cmd {
        EscrowQueryCmd::Escrow { id, height, node } => {
            let client = node.client()?;
            let req = pb::QueryEscrowRequest { id };
            match rt.block_on(client.grpc_query::<_, pb::QueryEscrowResponse>(query::ESCROW, &req, height.height)) {
                Ok(resp) => {
                    if resp.escrow.is_none() {
                        bail!("the node answered without an escrow");
                    }
                    print_json(ctx, &resp)
                }
                Err(e) if e.downcast_ref::<AbciQueryError>().is_some_and(AbciQueryError::is_not_found) => {
                    bail!("escrow {id} not found")
                }
                Err(e) => Err(e),
            }
        }
        EscrowQueryCmd::BySender { address: a, page, height, node } => {
            let req = pb::QueryEscrowsBySenderRequest { sender: address(&a)?, pagination: Some(page.request()?) };
            print_list(ctx, &node, &height, query::ESCROWS_BY_SENDER, &req)
        }
        EscrowQueryCmd::ByRecipient { address: a, page, height, node } => {
            let req = pb::QueryEscrowsByRecipientRequest { recipient: address(&a)?, pagination: Some(page.request()?) };
            print_list(ctx, &node, &height, query::ESCROWS_BY_RECIPIENT, &req)
        }
        EscrowQueryCmd::ByArbiter { address: a, page, height, node } => {
            let req = pb::QueryEscrowsByArbiterRequest { arbiter: address(&a)?, pagination: Some(page.request()?) };
            print_list(ctx, &node, &height, query::ESCROWS_BY_ARBITER, &req)
        }
        EscrowQueryCmd::Params { height, node } => {
            let resp: pb::QueryParamsResponse =
                rt.block_on(node.client()?.grpc_query(query::PARAMS, &pb::QueryParamsRequest {}, height.height))?;
            if resp.params.is_none() {
                bail!("the node answered without params");
            }
            print_json(ctx, &resp)
        }
    }
}

// ------------------------------------------------------------------ helpers

#[derive(Subcommand, Debug)]
pub enum EscrowCmd {
    /// A random 32-byte secret and its sha256 hash lock (for --hash-lock / --secret-file)
    NewSecret {
        /// Write the secret (64 hex digits) to this new file, readable only by you, and print only the hash lock
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn run(ctx: &Ctx, cmd: EscrowCmd) -> anyhow::Result<()> {
    match cmd {
        EscrowCmd::NewSecret { out } => {
            use rand::RngCore as _;
            let mut secret = zeroize::Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(secret.as_mut());
            let lock = hex::encode(hash_lock_of(secret.as_ref()));
            let secret_hex = zeroize::Zeroizing::new(hex::encode(secret.as_ref()));
            match out {
                None => ctx.print(&json!({ "secret": secret_hex.as_str(), "hash_lock": lock })),
                Some(path) => {
                    if path.exists() {
                        bail!("{} already exists; not overwriting a secret", path.display());
                    }
                    let dir = match path.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                        _ => PathBuf::from("."),
                    };
                    paychain_client::keyring::write_private_file(
                        &dir,
                        &path,
                        format!("{}\n", secret_hex.as_str()).as_bytes(),
                    )?;
                    ctx.print(&json!({ "hash_lock": lock, "secret_file": path.display().to_string() }));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_absolute_and_relative() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_time("x", "+30s", now).unwrap(), (1_000_030, 0));
        assert_eq!(parse_time("x", "+10m", now).unwrap(), (1_000_600, 0));
        assert_eq!(parse_time("x", "+1h30m", now).unwrap(), (1_005_400, 0));
        assert_eq!(parse_time("x", "+2d", now).unwrap(), (1_172_800, 0));
        assert_eq!(parse_time("x", "2030-01-31T12:00:00Z", now).unwrap(), (1_896_091_200, 0));
        assert_eq!(parse_time("x", "2030-01-31T13:00:00.25+01:00", now).unwrap(), (1_896_091_200, 250_000_000));
        for bad in ["+", "+10", "+5x", "+m", "tomorrow", "2030-01-31", ""] {
            let e = parse_time("refund-after", bad, now).unwrap_err().to_string();
            assert!(e.contains("--refund-after"), "{bad}: {e}");
        }
    }

    #[test]
    fn secrets_and_locks_parse() {
        let hex64 = "ab".repeat(32);
        assert_eq!(parse_32("s", &hex64, false).unwrap(), vec![0xab; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0xab; 32]);
        assert_eq!(parse_32("h", &b64, true).unwrap(), vec![0xab; 32]);
        assert!(parse_32("s", &b64, false).is_err());
        assert!(parse_32("s", &"ab".repeat(31), false).is_err());
        assert!(parse_32("s", "zz", false).is_err());
    }

    #[test]
    fn response_fields_flatten_the_tx_data() {
        let types = AnyTypes::new([
            paychain_framework::AnyType::of::<pb::MsgCreateEscrowResponse>(),
            paychain_framework::AnyType::of::<pb::MsgApproveEscrowResponse>(),
        ]);
        let data = TxMsgData {
            msg_responses: vec![
                any(&pb::MsgCreateEscrowResponse { id: 42 }),
                any(&pb::MsgApproveEscrowResponse { approvals: 2, executed: true }),
                any(&pb::MsgRefundEscrowResponse::default()), // not in `types`: skipped
            ],
            ..Default::default()
        };
        let f = response_fields(&types, &data.encode_to_vec());
        assert_eq!(Value::Object(f), json!({"escrow_id": "42", "approvals": 2, "executed": true}));
        assert!(response_fields(&types, b"\xff\xff").is_empty());
    }
}
