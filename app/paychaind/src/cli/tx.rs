//! `paychaind tx bank send | multi-send`, `paychaind tx ibc-transfer transfer`
//! (and `paychaind tx escrow ...`, in [`super::escrow`]).

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use cosmos_sdk_proto::Any;
use paychain_framework::Address;
use serde_json::json;

use super::{prompt, Ctx, KeyringArgs, NodeArgs, OutputFormat};
use paychain_client::keyring::KeyInfo;
use paychain_client::{self as client, FeeChoice, Gas, TxOptions};

#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Bank transactions
    #[command(subcommand)]
    Bank(BankTxCmd),
    /// ICS-20 transfers to another chain over IBC
    #[command(subcommand)]
    IbcTransfer(IbcTransferTxCmd),
    /// Escrow: coins held for a recipient until released (sender, secret, arbiters) or refunded
    #[command(subcommand)]
    Escrow(Box<super::escrow::EscrowTxCmd>),
}

#[derive(Subcommand, Debug)]
pub enum IbcTransferTxCmd {
    /// Send coins to an address on another chain through a transfer channel (MsgTransfer)
    Transfer {
        /// Key name (or its address) that signs, pays and sends
        from: String,
        /// Source channel on this chain, e.g. channel-0
        channel: String,
        /// Recipient address on the other chain
        receiver: String,
        /// Coins to send, e.g. 1000upay or 10ibc/<HASH>
        amount: String,
        /// Source port
        #[arg(long, default_value = "transfer")]
        source_port: String,
        /// The packet times out this many seconds from now (0 = no time limit)
        #[arg(long, default_value_t = 600)]
        packet_timeout_seconds: u64,
        /// The packet times out at this height of the other chain, as REVISION-HEIGHT (e.g. 1-5000; 0-0 = none)
        #[arg(long, default_value = "0-0")]
        packet_timeout_height: String,
        /// ICS-20 memo carried in the packet (at most 32768 bytes)
        #[arg(long, default_value = "")]
        packet_memo: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand, Debug)]
pub enum BankTxCmd {
    /// Send coins from a local key to an address
    Send {
        /// Key name (or its address) that signs and pays
        from: String,
        /// Recipient address
        to: String,
        /// Coins to send, e.g. 1000upay
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Send the same coins from a local key to several addresses (one MsgMultiSend)
    #[command(override_usage = "paychaind tx bank multi-send [OPTIONS] <FROM> <TO>... <AMOUNT>")]
    MultiSend {
        /// FROM TO... AMOUNT: the signing key, one or more recipients, and the coins each receives
        #[arg(num_args = 3.., value_name = "ARGS", required = true)]
        args: Vec<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
}

/// Flags every transaction takes.
#[derive(Args, Debug, Clone)]
pub struct TxFlags {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Fee to pay, e.g. 5000upay
    #[arg(long, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Gas price to pay, e.g. 0.025upay (fee = ceil(gas × price))
    #[arg(long)]
    pub gas_prices: Option<String>,
    /// Gas limit, or `auto` to simulate first
    #[arg(long, default_value = "200000")]
    pub gas: String,
    /// Multiplier on the simulated gas with --gas auto
    #[arg(long, default_value_t = client::DEFAULT_GAS_ADJUSTMENT)]
    pub gas_adjustment: f64,
    /// Note attached to the tx
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Chain id to sign for [default: the node's]
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Block height after which the tx is no longer valid (0 = none)
    #[arg(long, default_value_t = 0)]
    pub timeout_height: u64,
    /// Account number to sign with (skips the lookup when given with --sequence)
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Sequence to sign with [default: the account's]
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Skip the confirmation prompt
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Wait until the tx is committed and print its result
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait_timeout: u64,
    /// Plan the tx (account lookup, gas, fee) and print it without signing or broadcasting
    #[arg(long)]
    pub dry_run: bool,
}

impl TxFlags {
    fn options(&self) -> anyhow::Result<TxOptions> {
        let fee = match (&self.fees, &self.gas_prices) {
            (Some(_), Some(_)) => bail!("give --fees or --gas-prices, not both"),
            (Some(f), None) => {
                let coins: paychain_framework::Coins = f.parse().map_err(|e: paychain_framework::SdkError| {
                    anyhow!("invalid --fees {f:?}: {} (expected e.g. 5000upay)", e.log)
                })?;
                if coins.is_empty() {
                    FeeChoice::None
                } else {
                    FeeChoice::Fixed(coins)
                }
            }
            (None, Some(p)) => {
                paychain_tx::fees::parse_gas_prices(p).map_err(|e| anyhow!("invalid --gas-prices {p:?}: {}", e.log))?;
                FeeChoice::GasPrices(p.clone())
            }
            (None, None) => FeeChoice::None,
        };
        if let Some(c) = &self.chain_id {
            super::init::validate_chain_id(c)?;
        }
        Ok(TxOptions {
            chain_id: self.chain_id.clone(),
            gas: Gas::parse(&self.gas, self.gas_adjustment)?,
            fee,
            memo: self.memo.clone(),
            timeout_height: self.timeout_height,
            account_number: self.account_number,
            sequence: self.sequence,
        })
    }
}

pub fn run(ctx: &Ctx, cmd: TxCmd) -> anyhow::Result<()> {
    let home = ctx.home()?;
    let bank = match cmd {
        TxCmd::Bank(bank) => bank,
        TxCmd::Escrow(escrow) => return super::escrow::run_tx(ctx, &home, *escrow),
        TxCmd::IbcTransfer(IbcTransferTxCmd::Transfer {
            from,
            channel,
            receiver,
            amount,
            source_port,
            packet_timeout_seconds,
            packet_timeout_height,
            packet_memo,
            flags,
        }) => {
            let signer = signer_info(&from, &flags.keyring, &home)?;
            let coins = super::genesis::parse_positive_coins(&amount)?;
            let [coin] = coins.iter().collect::<Vec<_>>()[..] else {
                bail!("amount: a transfer carries exactly one denom, got {amount:?}");
            };
            let (rev, height) = packet_timeout_height
                .split_once('-')
                .and_then(|(r, h)| Some((r.parse::<u64>().ok()?, h.parse::<u64>().ok()?)))
                .ok_or_else(|| {
                    anyhow!("--packet-timeout-height {packet_timeout_height:?}: expected REVISION-HEIGHT")
                })?;
            let timeout_timestamp = if packet_timeout_seconds == 0 {
                0
            } else {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
                u64::try_from((now + Duration::from_secs(packet_timeout_seconds)).as_nanos())?
            };
            if height == 0 && timeout_timestamp == 0 {
                bail!("give --packet-timeout-seconds or --packet-timeout-height: a packet without timeout could be stuck forever");
            }
            let msg = ibc_proto::ibc::applications::transfer::v1::MsgTransfer {
                source_port,
                source_channel: channel,
                token: Some(ibc_proto::cosmos::base::v1beta1::Coin {
                    denom: coin.denom.clone(),
                    amount: coin.amount.to_string(),
                }),
                sender: signer.address.to_string(),
                receiver,
                timeout_height: Some(ibc_proto::ibc::core::client::v1::Height {
                    revision_number: rev,
                    revision_height: height,
                }),
                timeout_timestamp,
                memo: packet_memo,
            };
            let any =
                Any { type_url: paychain_ibc::msgs::MSG_TRANSFER.into(), value: prost::Message::encode_to_vec(&msg) };
            return broadcast(ctx, &home, &signer, vec![any], &flags);
        }
    };
    match bank {
        BankTxCmd::Send { from, to, amount, flags } => {
            let signer = signer_info(&from, &flags.keyring, &home)?;
            let to = parse_address("recipient", &to)?;
            let amount = super::genesis::parse_positive_coins(&amount)?;
            let msg = client::tx::msg_send(&signer.address, &to, &amount);
            broadcast(ctx, &home, &signer, vec![msg], &flags)
        }
        BankTxCmd::MultiSend { args, flags } => {
            let (from, rest) = args.split_first().ok_or_else(|| anyhow!("missing FROM"))?;
            let (amount, recipients) = rest.split_last().ok_or_else(|| anyhow!("missing AMOUNT"))?;
            if recipients.is_empty() {
                bail!("multi-send needs at least one recipient: FROM TO... AMOUNT");
            }
            let signer = signer_info(from, &flags.keyring, &home)?;
            let to = recipients
                .iter()
                .enumerate()
                .map(|(i, r)| parse_address(&format!("recipient {}", i + 1), r))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let amount = super::genesis::parse_positive_coins(amount)?;
            let msg = client::tx::msg_multi_send(&signer.address, &to, &amount)?;
            broadcast(ctx, &home, &signer, vec![msg], &flags)
        }
    }
}

pub(super) fn parse_address(what: &str, s: &str) -> anyhow::Result<Address> {
    Address::from_bech32(s).map_err(|e| anyhow!("{what}: {}", e.log))
}

/// The signing key, named by key name or by the address of a local key.
pub(super) fn signer_info(from: &str, keyring: &KeyringArgs, home: &std::path::Path) -> anyhow::Result<KeyInfo> {
    let kr = keyring.open(home);
    match Address::from_bech32(from) {
        Ok(addr) => kr.find_by_address(&addr)?.with_context(|| {
            format!("no key with address {addr} in the {} keyring at {}", kr.backend(), kr.dir().display())
        }),
        Err(_) => kr.get(from),
    }
}

fn broadcast(
    ctx: &Ctx,
    home: &std::path::Path,
    signer: &KeyInfo,
    msgs: Vec<Any>,
    flags: &TxFlags,
) -> anyhow::Result<()> {
    broadcast_with(ctx, home, signer, msgs, flags, &|_| serde_json::Map::new())
}

/// [`broadcast`], adding to a committed (`--wait`) result the fields `extras`
/// reads from the tx's result data (a `TxMsgData`), e.g. a new escrow's id.
pub(super) fn broadcast_with(
    ctx: &Ctx,
    home: &std::path::Path,
    signer: &KeyInfo,
    msgs: Vec<Any>,
    flags: &TxFlags,
    extras: &dyn Fn(&[u8]) -> serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<()> {
    let opts = flags.options()?;
    let node = flags.node.client()?;
    let rt = super::runtime()?;
    let plan = rt.block_on(client::plan_tx(&node, &signer.pub_key, msgs, &opts))?;
    if flags.dry_run {
        ctx.print(&plan.to_json());
        return Ok(());
    }
    if !flags.yes && prompt::stdin_is_tty() {
        eprint!("{}", super::output::to_text(&plan.to_json()));
        if !prompt::confirm("confirm transaction before signing and broadcasting")? {
            bail!("aborted: transaction not sent");
        }
    }
    let pass = flags.keyring.passphrase(false)?;
    let key = flags.keyring.open(home).private_key(&signer.name, pass.as_ref().map(|p| p.as_str()))?;
    let prepared = plan.sign(&key);
    let res = rt.block_on(node.broadcast_sync(prepared.bytes.clone()))?;
    let check = json!({
        "txhash": res.txhash,
        "code": res.code,
        "codespace": res.codespace,
        "raw_log": res.log,
    });
    if res.code != 0 || !flags.wait {
        ctx.print(&check);
        if res.code != 0 {
            bail!("transaction rejected by CheckTx: code {} (codespace {:?}): {}", res.code, res.codespace, res.log);
        }
        return Ok(());
    }
    let hash = client::tx::parse_tx_hash(&res.txhash)?;
    let committed = rt.block_on(node.wait_for_tx(hash, Duration::from_secs(flags.wait_timeout)))?;
    let time = rt.block_on(node.block_time(committed.height.value())).ok();
    let mut full = client::rpc::tx_response_json(&committed, time);
    let data = full["data"].as_str().and_then(|h| hex::decode(h).ok()).unwrap_or_default();
    let extra = extras(&data);
    match ctx.output {
        OutputFormat::Json => {
            if let Some(obj) = full.as_object_mut() {
                obj.extend(extra);
            }
            println!("{full}")
        }
        OutputFormat::Text => {
            let mut summary = json!({
                "txhash": full["txhash"],
                "height": full["height"],
                "code": full["code"],
                "codespace": full["codespace"],
                "raw_log": full["raw_log"],
                "gas_wanted": full["gas_wanted"],
                "gas_used": full["gas_used"],
            });
            if let Some(obj) = summary.as_object_mut() {
                obj.extend(extra);
            }
            print!("{}", super::output::to_text(&summary))
        }
    }
    let code = committed.tx_result.code.value();
    if code != 0 {
        bail!(
            "transaction failed in block {}: code {} (codespace {:?}): {}",
            committed.height,
            code,
            committed.tx_result.codespace,
            committed.tx_result.log
        );
    }
    Ok(())
}
