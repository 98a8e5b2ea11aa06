//! `paychaind tx bank send | multi-send`, `paychaind tx ibc-transfer transfer`
//! (and the modules' `paychaind tx <module> ...`, mounted in [`super::modules`]).

use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use cosmos_sdk_proto::Any;

use paychain_client as client;
use paychain_client::cli::Ctx;
use paychain_client::cli::{broadcast, parse_address, signer_info, TxFlags};

#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Bank transactions
    #[command(subcommand)]
    Bank(BankTxCmd),
    /// ICS-20 transfers to another chain over IBC
    #[command(subcommand)]
    IbcTransfer(IbcTransferTxCmd),
    #[command(flatten)]
    Module(super::modules::ModuleTx),
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

pub fn run(ctx: &Ctx, cmd: TxCmd) -> anyhow::Result<()> {
    let home = ctx.home()?;
    let bank = match cmd {
        TxCmd::Bank(bank) => bank,
        TxCmd::Module(cmd) => return cmd.run(ctx, &home),
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
            let coins = crate::genesis_file::parse_positive_coins(&amount)?;
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
            let amount = crate::genesis_file::parse_positive_coins(&amount)?;
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
            let amount = crate::genesis_file::parse_positive_coins(amount)?;
            let msg = client::tx::msg_multi_send(&signer.address, &to, &amount)?;
            broadcast(ctx, &home, &signer, vec![msg], &flags)
        }
    }
}
