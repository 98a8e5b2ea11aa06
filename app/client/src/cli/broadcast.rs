//! What every tx command shares: the signing and broadcast flags
//! ([`TxFlags`]), finding the signer's key, and the plan → confirm → sign →
//! broadcast → wait flow.

use std::time::Duration;

use crate::keyring::KeyInfo;
use crate::{self as client, FeeChoice, Gas, TxOptions};
use anyhow::{anyhow, bail, Context as _};
use cosmos_sdk_proto::Any;
use paychain_framework::Address;
use serde_json::json;

use super::context::{Ctx, KeyringArgs, TxFlags};
use super::output::OutputFormat;
use super::prompt;

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
            crate::validate_chain_id(c)?;
        }
        Ok(TxOptions {
            chain_id: self.chain_id.clone(),
            gas: Gas::parse(&self.gas, self.gas_adjustment)?,
            fee,
            memo: self.memo.clone(),
            timeout_height: self.timeout_height,
            account_number: self.account_number,
            sequence: self.sequence,
            extension_options: Vec::new(),
        })
    }
}

/// Coins a command moves: at least one, each positive (`1000upay`, `10upay,5uatom`).
pub fn parse_positive_coins(s: &str) -> anyhow::Result<paychain_framework::Coins> {
    let coins: paychain_framework::Coins = s.parse().map_err(|e: paychain_framework::SdkError| {
        anyhow!("invalid coins {s:?}: {} (expected e.g. 1000upay or 10upay,5uatom)", e.log)
    })?;
    if coins.is_empty() {
        bail!("invalid coins {s:?}: no coins given (expected e.g. 1000upay)");
    }
    Ok(coins)
}

pub fn parse_address(what: &str, s: &str) -> anyhow::Result<Address> {
    Address::from_bech32(s).map_err(|e| anyhow!("{what}: {}", e.log))
}

/// The tx's signer: [`signer_info`], except that with `--generate-only` an
/// address with no local key is fine (nothing is signed), as in the SDK.
pub fn tx_signer(from: &str, flags: &TxFlags, home: &std::path::Path) -> anyhow::Result<KeyInfo> {
    match signer_info(from, &flags.keyring, home) {
        Err(_) if flags.generate_only && Address::from_bech32(from).is_ok() => Ok(KeyInfo {
            name: String::new(),
            address: Address::from_bech32(from).map_err(|e| anyhow!("{}", e.log))?,
            pub_key: Vec::new(),
            hd_path: None,
            multisig: None,
        }),
        other => other,
    }
}

/// The signing key, named by key name or by the address of a local key.
pub fn signer_info(from: &str, keyring: &KeyringArgs, home: &std::path::Path) -> anyhow::Result<KeyInfo> {
    let kr = keyring.open(home);
    match Address::from_bech32(from) {
        Ok(addr) => kr.find_by_address(&addr)?.with_context(|| {
            format!("no key with address {addr} in the {} keyring at {}", kr.backend(), kr.dir().display())
        }),
        Err(_) => kr.get(from),
    }
}

pub fn broadcast(
    ctx: &Ctx,
    home: &std::path::Path,
    signer: &KeyInfo,
    msgs: Vec<Any>,
    flags: &TxFlags,
) -> anyhow::Result<()> {
    broadcast_with(ctx, home, signer, msgs, flags, &|_| serde_json::Map::new())
}

/// `--generate-only`: the unsigned tx as the SDK prints it (no signer infos, no
/// signatures; `tx sign` adds them). Needs no node: the gas must be given.
fn print_unsigned(ctx: &Ctx, msgs: Vec<Any>, opts: &TxOptions) -> anyhow::Result<()> {
    let gas = match opts.gas {
        Gas::Fixed(g) => g,
        Gas::Auto { .. } => {
            bail!("--gas auto needs a signer's key to simulate; give a fixed --gas with --generate-only")
        }
    };
    let fee = match &opts.fee {
        FeeChoice::None => paychain_framework::Coins::empty(),
        FeeChoice::Fixed(c) => c.clone(),
        FeeChoice::GasPrices(p) => client::tx::fee_from_gas_price(p, gas)?,
    };
    let mut body = client::tx::tx_body(msgs, &opts.memo, opts.timeout_height);
    body.extension_options = opts.extension_options.clone();
    let tx = cosmos_sdk_proto::cosmos::tx::v1beta1::Tx {
        body: Some(body),
        auth_info: Some(cosmos_sdk_proto::cosmos::tx::v1beta1::AuthInfo {
            signer_infos: Vec::new(),
            fee: Some(client::tx::fee(&fee, gas)),
            ..Default::default()
        }),
        signatures: Vec::new(),
    };
    // Always JSON, whatever --output: it is a document for the next command.
    println!("{}", client::tx::tx_to_json(&ctx.any_types, &tx)?);
    Ok(())
}

/// [`broadcast`], adding to a committed (`--wait`) result the fields `extras`
/// reads from the tx's result data (a `TxMsgData`), e.g. a new escrow's id.
pub fn broadcast_with(
    ctx: &Ctx,
    home: &std::path::Path,
    signer: &KeyInfo,
    msgs: Vec<Any>,
    flags: &TxFlags,
    extras: &dyn Fn(&[u8]) -> serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<()> {
    let mut opts = flags.options()?;
    let mut msgs = msgs;
    for prepare in &ctx.tx_preparers {
        opts.extension_options.extend(prepare(flags, &mut msgs)?);
    }
    if flags.generate_only {
        return print_unsigned(ctx, msgs, &opts);
    }
    if signer.multisig.is_some() {
        bail!(
            "{} is an offline multisig key: build the tx with --generate-only, sign it with the member keys \
             (tx sign --multisig), combine the signatures (tx multisign) and broadcast it (tx broadcast)",
            signer.name
        );
    }
    let node = flags.node.client()?;
    let rt = super::context::runtime()?;
    let plan = rt.block_on(client::plan_tx(&node, &signer.pub_key, msgs, &opts))?;
    if flags.dry_run {
        ctx.print(&plan.to_json(&ctx.any_types));
        return Ok(());
    }
    if !flags.yes && prompt::stdin_is_tty() {
        eprint!("{}", super::output::to_text(&plan.to_json(&ctx.any_types)));
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
    let mut full = client::rpc::tx_response_json(&ctx.any_types, &committed, time);
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
