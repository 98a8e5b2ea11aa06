//! `paychaind keys add | import | list | show | delete`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde_json::json;
use zeroize::Zeroizing;

use paychain_client::cli::{prompt, Ctx, KeyringArgs, OutputFormat};
use paychain_client::keyring::{self, Secret, DEFAULT_HD_PATH};

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a key from a new mnemonic, or recover one (--recover reads the mnemonic from stdin)
    Add(AddArgs),
    /// Import a key from a file holding a BIP-39 mnemonic or a hex private key
    Import {
        name: String,
        /// File with the mnemonic (or 64 hex digits of a private key)
        file: PathBuf,
        /// HD path used when the file holds a mnemonic
        #[arg(long, default_value = DEFAULT_HD_PATH)]
        hd_path: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// List all keys
    List {
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Show one key (by name or address)
    Show {
        name: String,
        /// Print only the address
        #[arg(short = 'a', long)]
        address: bool,
        /// Print only the public key
        #[arg(short = 'p', long, conflicts_with = "address")]
        pubkey: bool,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Delete a key
    Delete {
        name: String,
        /// Do not ask for confirmation
        #[arg(short = 'y', long)]
        yes: bool,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    /// Recover the key from a mnemonic (prompted on a terminal, else read from stdin)
    #[arg(long)]
    pub recover: bool,
    /// HD derivation path
    #[arg(long, default_value = DEFAULT_HD_PATH)]
    pub hd_path: String,
    /// Do not print the new mnemonic
    #[arg(long)]
    pub no_backup: bool,
    /// Store an offline multisig key made of these local keys (names or addresses, comma-separated)
    #[arg(long, value_delimiter = ',', conflicts_with = "recover")]
    pub multisig: Vec<String>,
    /// K out of N required signatures. For use in conjunction with --multisig
    #[arg(long, default_value_t = 1)]
    pub multisig_threshold: u32,
    /// Keys passed to --multisig are taken in the order they're supplied (default: sorted by address, as the SDK)
    #[arg(long)]
    pub nosort: bool,
    #[command(flatten)]
    pub keyring: KeyringArgs,
}

pub fn run(ctx: &Ctx, cmd: KeysCmd) -> anyhow::Result<()> {
    let home = ctx.home()?;
    match cmd {
        KeysCmd::Add(a) => {
            let kr = a.keyring.open(&home);
            keyring::validate_key_name(&a.name)?;
            if kr.exists(&a.name) {
                bail!(
                    "key {:?} already exists in the {} keyring; delete it first or pick another name",
                    a.name,
                    kr.backend()
                );
            }
            if !a.multisig.is_empty() {
                let info = add_multisig(&kr, &a)?;
                ctx.print(&info.to_json());
                return Ok(());
            }
            keyring::parse_hd_path(&a.hd_path)?;
            let (mnemonic, generated) =
                if a.recover { (prompt::read_mnemonic()?, false) } else { (keyring::generate_mnemonic(), true) };
            let secret = Secret::mnemonic(&mnemonic, &a.hd_path)?;
            let pass = a.keyring.passphrase(true)?;
            let info = kr.add(&a.name, &secret, pass.as_ref().map(|p| p.as_str()))?;
            let show_mnemonic = generated && !a.no_backup;
            match ctx.output {
                OutputFormat::Json => {
                    let mut v = info.to_json();
                    if show_mnemonic {
                        v["mnemonic"] = mnemonic.as_str().into();
                    }
                    println!("{v}");
                }
                OutputFormat::Text => {
                    print!("{}", paychain_client::cli::output::to_text(&json!([info.to_json()])));
                    if show_mnemonic {
                        println!(
                            "\n**Important** write this mnemonic phrase in a safe place.\n\
                             It is the only way to recover your account if you ever forget your password.\n\n{}",
                            mnemonic.as_str()
                        );
                    }
                }
            }
            Ok(())
        }
        KeysCmd::Import { name, file, hd_path, keyring: ka } => {
            let kr = ka.open(&home);
            keyring::validate_key_name(&name)?;
            if kr.exists(&name) {
                bail!(
                    "key {name:?} already exists in the {} keyring; delete it first or pick another name",
                    kr.backend()
                );
            }
            let text =
                Zeroizing::new(std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?);
            let trimmed = text.trim();
            // 64 hex digits is a raw key; anything else must be a mnemonic.
            let is_hex_key = {
                let t = trimmed.strip_prefix("0x").unwrap_or(trimmed);
                t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
            };
            let secret = if is_hex_key {
                Secret::private_key(&keyring::parse_private_key_hex(trimmed)?)
            } else {
                Secret::mnemonic(trimmed, &hd_path)
                    .with_context(|| format!("{} holds neither a mnemonic nor a hex private key", file.display()))?
            };
            let pass = ka.passphrase(true)?;
            let info = kr.add(&name, &secret, pass.as_ref().map(|p| p.as_str()))?;
            ctx.print(&info.to_json());
            Ok(())
        }
        KeysCmd::List { keyring: ka } => {
            let keys = ka.open(&home).list()?;
            ctx.print(&serde_json::Value::Array(keys.iter().map(|k| k.to_json()).collect()));
            Ok(())
        }
        KeysCmd::Show { name, address, pubkey, keyring: ka } => {
            let kr = ka.open(&home);
            let info = match paychain_framework::Address::from_bech32(&name) {
                Ok(addr) => kr
                    .find_by_address(&addr)?
                    .with_context(|| format!("no key with address {addr} in the {} keyring", kr.backend()))?,
                Err(_) => kr.get(&name)?,
            };
            if address {
                println!("{}", info.address);
            } else if pubkey {
                println!("{}", info.to_json()["pubkey"].as_str().unwrap_or_default());
            } else {
                ctx.print(&info.to_json());
            }
            Ok(())
        }
        KeysCmd::Delete { name, yes, keyring: ka } => {
            let kr = ka.open(&home);
            let info = kr.get(&name)?;
            if !yes {
                if !prompt::stdin_is_tty() {
                    bail!("deleting key {name:?} needs confirmation: pass -y");
                }
                if !prompt::confirm(&format!("Key {name:?} ({}) will be deleted. Continue?", info.address))? {
                    bail!("aborted");
                }
            }
            kr.delete(&name)?;
            if ctx.output == OutputFormat::Text {
                println!("Key {name:?} deleted");
            } else {
                println!("{}", json!({ "deleted": name }));
            }
            Ok(())
        }
    }
}

/// `keys add NAME --multisig k1,k2,k3 --multisig-threshold 2`: the SDK's
/// `LegacyAminoPubKey` of the members' keys, sorted by address unless `--nosort`.
fn add_multisig(kr: &keyring::Keyring, a: &AddArgs) -> anyhow::Result<keyring::KeyInfo> {
    let n = a.multisig.len();
    // The SDK's validateMultisigThreshold.
    if a.multisig_threshold == 0 {
        bail!("threshold must be a positive integer");
    }
    if (n as u64) < u64::from(a.multisig_threshold) {
        bail!("threshold k of n multisignature: {n} < {}", a.multisig_threshold);
    }
    let mut keys = Vec::with_capacity(n);
    for member in &a.multisig {
        let info = match paychain_framework::Address::from_bech32(member) {
            Ok(addr) => kr
                .find_by_address(&addr)?
                .with_context(|| format!("no key with address {addr} in the {} keyring", kr.backend()))?,
            Err(_) => kr.get(member)?,
        };
        let key = match info.multisig {
            Some(m) => m,
            None => {
                paychain_tx::multisig::PubKey::secp256k1(&info.pub_key).map_err(|e| anyhow::anyhow!("{}", e.log))?
            }
        };
        keys.push(key);
    }
    if !a.nosort {
        keys.sort_by_key(|k| k.address().as_bytes().to_vec());
    }
    let key = paychain_tx::multisig::PubKey::multisig(a.multisig_threshold, keys)
        .map_err(|e| anyhow::anyhow!("{}", e.log))?;
    kr.add_multisig(&a.name, &key)
}
