//! paychaind: the command line (`cli`), the CometBFT binary and its config
//! (`cometbft`), running it as our child (`supervisor`), node homes (`home`,
//! `genesis_file`) and local multi-node networks (`localnet`). The state
//! machine, servers and client it drives are their own crates.

pub mod cli;
pub mod cometbft;
pub mod genesis_file;
pub mod home;
pub mod localnet;
pub mod supervisor;
