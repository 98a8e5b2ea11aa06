//! `paychaind genesis add-account | set-authority | validate`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use paychain_framework::Address;
use serde_json::json;

use crate::genesis_file::{
    add_genesis_account, parse_positive_coins, read_genesis, set_genesis_authority, write_genesis,
};
use paychain_client::cli::{Ctx, KeyringArgs};

#[derive(Subcommand, Debug)]
pub enum GenesisCmd {
    /// Fund an account in genesis (creates its BaseAccount; adds to an existing balance)
    AddAccount(AddAccountArgs),
    /// Name the chain authority: the account (key or multisig) that sets fee tokens and module params
    SetAuthority {
        /// A pay1… address, or the name of a key in the keyring
        address_or_key: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Check a genesis file (default: <home>/config/genesis.json)
    Validate {
        /// Genesis file to check
        file: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct AddAccountArgs {
    /// A pay1… address, or the name of a key in the keyring
    pub address_or_key: String,
    /// Coins to add, e.g. 1000000upay or 10upay,5uatom
    pub coins: String,
    #[command(flatten)]
    pub keyring: KeyringArgs,
}

pub fn run(ctx: &Ctx, cmd: GenesisCmd) -> anyhow::Result<()> {
    match cmd {
        GenesisCmd::AddAccount(a) => {
            let home = ctx.home()?;
            let address = resolve_address(&a.address_or_key, &a.keyring, &home)?;
            let coins = parse_positive_coins(&a.coins)?;
            let path = crate::cometbft::genesis_path(&home);
            let mut genesis = read_genesis(&path)?;
            add_genesis_account(&mut genesis, &address, &coins)?;
            write_genesis(&path, &genesis)?;
            ctx.print(&json!({ "address": address.to_string(), "added": coins.to_string(), "genesis": path.display().to_string() }));
            Ok(())
        }
        GenesisCmd::SetAuthority { address_or_key, keyring } => {
            let home = ctx.home()?;
            let address = resolve_address(&address_or_key, &keyring, &home)?;
            let path = crate::cometbft::genesis_path(&home);
            let mut genesis = read_genesis(&path)?;
            set_genesis_authority(&mut genesis, &address)?;
            write_genesis(&path, &genesis)?;
            ctx.print(&json!({ "authority": address.to_string(), "genesis": path.display().to_string() }));
            Ok(())
        }
        GenesisCmd::Validate { file } => {
            let path = match file {
                Some(f) => f,
                None => crate::cometbft::genesis_path(&ctx.home()?),
            };
            if !path.exists() {
                bail!("genesis file {} does not exist", path.display());
            }
            paychain_app::genesis::validate_genesis_file(&path)
                .map_err(|e| anyhow!("genesis file {} is invalid: {e:#}", path.display()))?;
            ctx.print(&json!({ "valid": true, "file": path.display().to_string() }));
            Ok(())
        }
    }
}

/// A bech32 address, or a key name looked up in the keyring.
pub fn resolve_address(s: &str, keyring: &KeyringArgs, home: &Path) -> anyhow::Result<Address> {
    match Address::from_bech32(s) {
        Ok(a) => Ok(a),
        Err(addr_err) => {
            if s.starts_with("pay1") {
                bail!("{}", addr_err.log);
            }
            let kr = keyring.open(home);
            if kr.exists(s) {
                return Ok(kr.get(s)?.address);
            }
            bail!(
                "{s:?} is neither a pay1… address nor a key in the {} keyring at {}",
                kr.backend(),
                kr.dir().display()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(b: u8) -> Address {
        Address::from_bytes(vec![b; 20]).unwrap()
    }

    #[test]
    fn cli_inputs_are_checked() {
        let home = tempfile::tempdir().unwrap();
        let kr = KeyringArgs { keyring_backend: paychain_client::keyring::Backend::Test, passphrase_file: None };
        assert_eq!(resolve_address(&addr(3).to_string(), &kr, home.path()).unwrap(), addr(3));
        assert!(resolve_address("pay1bad", &kr, home.path()).unwrap_err().to_string().contains("pay1bad"));
        assert!(resolve_address("nokey", &kr, home.path()).unwrap_err().to_string().contains("neither"));
        let secret = paychain_client::keyring::Secret::private_key(
            &paychain_client::keyring::parse_private_key_hex(&"22".repeat(32)).unwrap(),
        );
        let info = kr.open(home.path()).add("bob", &secret, None).unwrap();
        assert_eq!(resolve_address("bob", &kr, home.path()).unwrap(), info.address);
    }
}
