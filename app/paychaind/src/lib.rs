//! paychaind: the command line (`cli`), the CometBFT supervisor and binary
//! lookup (`cometbft`), and local multi-node networks (`localnet`). The
//! state machine, servers and client it drives are their own crates.

pub mod cli;
pub mod cometbft;
pub mod localnet;
