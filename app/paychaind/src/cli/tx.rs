//! `paychaind tx bank send | multi-send`, `paychaind tx ibc-transfer transfer`
//! (and the modules' `paychaind tx <module> ...`, mounted in [`super::modules`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, ModeInfo, SignerInfo, Tx};
use cosmos_sdk_proto::Any;
use paychain_client::cli::{KeyringArgs, NodeArgs};
use paychain_framework::Address;
use paychain_tx::multisig::PubKey;

use paychain_client as client;
use paychain_client::cli::Ctx;
use paychain_client::cli::{broadcast, parse_address, signer_info, tx_signer, TxFlags};

#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Bank transactions
    #[command(subcommand)]
    Bank(BankTxCmd),
    /// ICS-20 transfers to another chain over IBC
    #[command(subcommand)]
    IbcTransfer(IbcTransferTxCmd),
    /// Sign a JSON tx (from --generate-only); with --multisig print only this key's signature
    Sign(SignArgs),
    /// Combine the members' signatures (files from `tx sign --multisig`) into a multisig-signed tx
    Multisign(MultisignArgs),
    /// Broadcast a signed JSON tx
    Broadcast {
        /// The signed tx document (`-` = stdin)
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
    #[command(flatten)]
    Module(super::modules::ModuleTx),
}

/// What `tx sign` and `tx multisign` share: the chain the signatures bind.
#[derive(Args, Debug)]
pub struct OfflineArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Chain id to sign for [default: the node's]
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Do not ask the node: --account-number, --sequence and --chain-id must be given
    #[arg(long)]
    pub offline: bool,
    /// The signing account's number [default: looked up on the chain]
    #[arg(long)]
    pub account_number: Option<u64>,
    /// The signing account's sequence [default: looked up on the chain]
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Write the result to this file instead of stdout
    #[arg(long)]
    pub output_document: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The unsigned tx document (`-` = stdin)
    pub file: PathBuf,
    /// Key name (or its address) that signs
    #[arg(long)]
    pub from: String,
    /// Sign on behalf of this multisig (key name or address); prints only the signature
    #[arg(long)]
    pub multisig: Option<String>,
    /// amino-json or direct [default: amino-json with --multisig, else direct]
    #[arg(long)]
    pub sign_mode: Option<String>,
    /// Print only the signature
    #[arg(long)]
    pub signature_only: bool,
    #[command(flatten)]
    pub offline: OfflineArgs,
}

#[derive(Args, Debug)]
pub struct MultisignArgs {
    /// The unsigned tx document
    pub file: PathBuf,
    /// The multisig key (name or address) in the local keyring
    pub multisig: String,
    /// Signature files from `tx sign --multisig`
    #[arg(required = true)]
    pub signatures: Vec<PathBuf>,
    #[command(flatten)]
    pub offline: OfflineArgs,
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
        TxCmd::Sign(a) => return sign(ctx, &home, a),
        TxCmd::Multisign(a) => return multisign(ctx, &home, a),
        TxCmd::Broadcast { file, node } => return broadcast_file(ctx, &file, &node),
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
            let signer = tx_signer(&from, &flags, &home)?;
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
            let signer = tx_signer(from, &flags, &home)?;
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

/// The chain id, account number and sequence signatures bind: given, or asked of the node.
fn signing_numbers(o: &OfflineArgs, address: &Address) -> anyhow::Result<(String, u64, u64)> {
    if let Some(c) = &o.chain_id {
        client::validate_chain_id(c)?;
    }
    if o.offline {
        let (Some(chain_id), Some(a), Some(s)) = (&o.chain_id, o.account_number, o.sequence) else {
            bail!("--offline needs --chain-id, --account-number and --sequence");
        };
        return Ok((chain_id.clone(), a, s));
    }
    let node = o.node.client()?;
    let rt = paychain_client::cli::runtime()?;
    let chain_id = match &o.chain_id {
        Some(c) => c.clone(),
        None => rt.block_on(node.chain_id())?,
    };
    let (a, s) = match (o.account_number, o.sequence) {
        (Some(a), Some(s)) => (a, s),
        (a, s) => {
            let acc = rt.block_on(node.account(address, None))?.ok_or_else(|| {
                anyhow!("account {address} not found on chain: it must receive funds before it can send")
            })?;
            (a.unwrap_or(acc.account_number), s.unwrap_or(acc.sequence))
        }
    };
    Ok((chain_id, a, s))
}

/// A key by name, or by the address of a local key.
fn local_key(
    kr: &KeyringArgs,
    home: &Path,
    name_or_address: &str,
) -> anyhow::Result<paychain_client::keyring::KeyInfo> {
    signer_info(name_or_address, kr, home)
}

fn write_output(o: &OfflineArgs, value: &serde_json::Value) -> anyhow::Result<()> {
    match &o.output_document {
        Some(path) => std::fs::write(path, format!("{value}\n")).with_context(|| format!("writing {}", path.display())),
        None => {
            println!("{value}");
            Ok(())
        }
    }
}

fn parse_sign_mode(s: &str) -> anyhow::Result<SignMode> {
    match s {
        "amino-json" => Ok(SignMode::LegacyAminoJson),
        "direct" => Ok(SignMode::Direct),
        other => bail!("unsupported --sign-mode {other:?}: expected amino-json or direct"),
    }
}

/// `tx sign`: as the SDK's. With --multisig the signature is over the
/// multisig account's numbers and only the signature is printed (for
/// `tx multisign`); SIGN_MODE_DIRECT cannot be used there, as a DIRECT
/// signature covers the `AuthInfo`, which `tx multisign` then replaces.
fn sign(ctx: &Ctx, home: &Path, a: SignArgs) -> anyhow::Result<()> {
    let mut tx = client::tx::read_tx_file(&ctx.any_types, &a.file)?;
    let key_info = local_key(&a.offline.keyring, home, &a.from)?;
    if key_info.multisig.is_some() {
        bail!("{} is a multisig key: sign with its member keys and combine them with tx multisign", a.from);
    }
    let mode = match (&a.sign_mode, &a.multisig) {
        (Some(m), _) => parse_sign_mode(m)?,
        (None, Some(_)) => SignMode::LegacyAminoJson,
        (None, None) => SignMode::Direct,
    };
    let multisig = match &a.multisig {
        None => None,
        Some(m) => {
            let info = local_key(&a.offline.keyring, home, m)?;
            let key = info.multisig.with_context(|| format!("{m} is not a multisig key"))?;
            let PubKey::Multisig(ms) = &key else { bail!("{m} is not a multisig key") };
            if !ms.keys.iter().any(|k| k.as_secp256k1() == Some(key_info.pub_key.as_slice())) {
                bail!("signing key is not a part of multisig key");
            }
            if mode == SignMode::Direct {
                bail!("--sign-mode direct cannot sign for a multisig: the signature would cover an AuthInfo that tx multisign replaces; use --sign-mode amino-json");
            }
            Some((info.address, key))
        }
    };
    let signer_address = multisig.as_ref().map_or(key_info.address.clone(), |(addr, _)| addr.clone());
    let (chain_id, account_number, sequence) = signing_numbers(&a.offline, &signer_address)?;
    let pass = a.offline.keyring.passphrase(false)?;
    let secret = a.offline.keyring.open(home).private_key(&key_info.name, pass.as_ref().map(|p| p.as_str()))?;
    let router = paychain_app::wire_modules();

    if multisig.is_some() || a.signature_only {
        let bytes = match mode {
            SignMode::Direct => client::tx::direct_sign_bytes_of(&tx, &chain_id, account_number),
            _ => client::tx::amino_sign_bytes(&tx, &router.modules, &chain_id, account_number, sequence)?,
        };
        let signature = client::tx::sign_bytes(&bytes, &secret);
        let doc =
            client::tx::signature_descriptors_json(&ctx.any_types, &key_info.pub_key, mode, &signature, sequence)?;
        return write_output(&a.offline, &doc);
    }
    // A single signer: add its signer info, then sign (DIRECT covers the AuthInfo with it).
    let auth = tx.auth_info.get_or_insert_with(Default::default);
    auth.signer_infos.push(SignerInfo {
        public_key: Some(client::tx::pubkey_any(&key_info.pub_key)),
        mode_info: Some(ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: mode as i32 })) }),
        sequence,
    });
    let bytes = match mode {
        SignMode::Direct => client::tx::direct_sign_bytes_of(&tx, &chain_id, account_number),
        _ => client::tx::amino_sign_bytes(&tx, &router.modules, &chain_id, account_number, sequence)?,
    };
    tx.signatures.push(client::tx::sign_bytes(&bytes, &secret).to_vec());
    write_output(&a.offline, &client::tx::tx_to_json(&ctx.any_types, &tx)?)
}

/// `tx multisign`: checks every member signature against the tx and puts them
/// together in key order (bit array + `MultiSignature`), as the SDK's.
fn multisign(ctx: &Ctx, home: &Path, a: MultisignArgs) -> anyhow::Result<()> {
    let mut tx = client::tx::read_tx_file(&ctx.any_types, &a.file)?;
    let info = local_key(&a.offline.keyring, home, &a.multisig)?;
    let key = info.multisig.clone().with_context(|| format!("{} is not a multisig key", a.multisig))?;
    let PubKey::Multisig(ms) = &key else { bail!("{} is not a multisig key", a.multisig) };
    let (chain_id, account_number, sequence) = signing_numbers(&a.offline, &info.address)?;
    let router = paychain_app::wire_modules();
    let amino = client::tx::amino_sign_bytes(&tx, &router.modules, &chain_id, account_number, sequence)?;
    let mut slots: Vec<Option<Vec<u8>>> = vec![None; ms.keys.len()];
    for file in &a.signatures {
        for sig in client::tx::read_signature_file(&ctx.any_types, file)? {
            let signer = Address::from_secp256k1_pubkey(&sig.pub_key);
            if sig.mode != SignMode::LegacyAminoJson as i32 {
                bail!("{}: the signature of {signer} is not SIGN_MODE_LEGACY_AMINO_JSON (sign with --sign-mode amino-json)", file.display());
            }
            if !paychain_tx::sign::verify_secp256k1(&sig.pub_key, &amino, &sig.signature) {
                bail!(
                    "couldn't verify signature for address {signer} in {} (account number {account_number}, sequence {sequence}, chain-id {chain_id})",
                    file.display()
                );
            }
            // The first free position holding this key (a key listed twice signs twice).
            let slot = ms
                .keys
                .iter()
                .enumerate()
                .position(|(i, k)| k.as_secp256k1() == Some(sig.pub_key.as_slice()) && slots[i].is_none())
                .with_context(|| {
                    format!("{}: {signer} is not a member of the multisig (or signed twice)", file.display())
                })?;
            slots[slot] = Some(sig.signature);
        }
    }
    let bits: Vec<bool> = slots.iter().map(Option::is_some).collect();
    let present: Vec<Vec<u8>> = slots.into_iter().flatten().collect();
    let auth = tx.auth_info.get_or_insert_with(Default::default);
    auth.signer_infos =
        vec![client::tx::multisig_signer_info(&key, sequence, &bits, &vec![SignMode::LegacyAminoJson; present.len()])];
    tx.signatures = vec![client::tx::multi_signature_bytes(&present)];
    write_output(&a.offline, &client::tx::tx_to_json(&ctx.any_types, &tx)?)
}

/// `tx broadcast`: CheckTx's answer, as the SDK's sync mode prints it.
fn broadcast_file(ctx: &Ctx, file: &Path, node: &NodeArgs) -> anyhow::Result<()> {
    let tx: Tx = client::tx::read_tx_file(&ctx.any_types, file)?;
    let bytes = client::tx::tx_raw_bytes(&tx);
    let node = node.client()?;
    let rt = paychain_client::cli::runtime()?;
    let res = rt.block_on(node.broadcast_sync(bytes))?;
    ctx.print(&serde_json::json!({
        "txhash": res.txhash,
        "code": res.code,
        "codespace": res.codespace,
        "raw_log": res.log,
    }));
    if res.code != 0 {
        bail!("transaction rejected by CheckTx: code {} (codespace {:?}): {}", res.code, res.codespace, res.log);
    }
    Ok(())
}
