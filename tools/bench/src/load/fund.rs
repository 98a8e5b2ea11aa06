//! Accounts on a chain the benchmark did not create: reading their numbers and sequences, and
//! creating the missing ones with multi-sends from a funded key.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context as _};
use paychain_client::tx::{build_signed_tx, msg_multi_send_bech32, parse_tx_hash, tx_body, SignerData};
use paychain_client::NodeClient;
use paychain_framework::Coins;
use secp256k1::SecretKey;

use super::chain::ChainFormat;
use paychain_bench_app::accounts::Account;

/// Outputs per funding multi-send: ~40 KB txs, far below CometBFT's 1 MiB tx limit.
const OUTPUTS_PER_TX: usize = 500;
/// Gas limit of a funding tx (a new account costs ~15k gas; blocks have no gas limit).
const FUNDING_GAS: u64 = 50_000_000;
/// Account queries in flight at once.
const QUERY_CONCURRENCY: usize = 16;
/// How long a funding tx may take to commit.
const FUNDING_COMMIT_TIMEOUT: Duration = Duration::from_secs(120);

/// On-chain numbers of an account: what its signatures bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnChain {
    pub account_number: u64,
    pub sequence: u64,
}

/// The on-chain numbers of the accounts at `indexes` (`None` = no such account yet), queried
/// concurrently; in the order of `indexes`.
pub async fn query_accounts(
    client: &NodeClient,
    chain: &ChainFormat,
    accounts: &Arc<Vec<Account>>,
    indexes: &[usize],
) -> anyhow::Result<Vec<Option<OnChain>>> {
    let mut out = vec![None; indexes.len()];
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0usize;
    while next < indexes.len() || !tasks.is_empty() {
        while next < indexes.len() && tasks.len() < QUERY_CONCURRENCY {
            let (client, slot, index) = (client.clone(), next, indexes[next]);
            let address = chain.address(&accounts[index].address);
            tasks.spawn(async move {
                let info = client.account_by_bech32(&address, None).await;
                (slot, index, info)
            });
            next += 1;
        }
        let Some(joined) = tasks.join_next().await else { break };
        let (slot, index, info) = joined.context("account query task")?;
        let info = info.with_context(|| format!("querying account {}", chain.address(&accounts[index].address)))?;
        out[slot] = info.map(|a| OnChain { account_number: a.account_number, sequence: a.sequence });
    }
    Ok(out)
}

/// The on-chain numbers of every account, creating the missing ones first with `funder`'s
/// coins (`each` per account) when a funder is given.
pub async fn ensure_accounts(
    client: &NodeClient,
    chain: &ChainFormat,
    chain_id: &str,
    funder: Option<&SecretKey>,
    accounts: &Arc<Vec<Account>>,
    each: &Coins,
) -> anyhow::Result<Vec<OnChain>> {
    let all: Vec<usize> = (0..accounts.len()).collect();
    let mut found = query_accounts(client, chain, accounts, &all).await?;
    let missing: Vec<usize> = all.iter().copied().filter(|&i| found[i].is_none()).collect();
    if !missing.is_empty() {
        let Some(funder) = funder else {
            bail!(
                "{} of the {} load accounts do not exist on the chain; give a funded key with --funder-mnemonic-file",
                missing.len(),
                accounts.len()
            );
        };
        eprintln!("funding {} new accounts with {each} each ...", missing.len());
        fund_missing(client, chain, chain_id, funder, accounts, &missing, each).await?;
        for (slot, info) in query_accounts(client, chain, accounts, &missing).await?.into_iter().enumerate() {
            found[missing[slot]] = info;
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            f.ok_or_else(|| {
                anyhow!("account {} still does not exist after funding", chain.address(&accounts[i].address))
            })
        })
        .collect()
}

/// Creates the accounts at `missing` (indexes into `accounts`) by multi-sends of `each` from
/// `funder`, and waits until every funding tx is committed. Funding txs pay
/// [`ChainFormat::fee_for_gas`]: nothing on paychain's dev chains and localnets.
pub async fn fund_missing(
    client: &NodeClient,
    chain: &ChainFormat,
    chain_id: &str,
    funder: &SecretKey,
    accounts: &[Account],
    missing: &[usize],
    each: &Coins,
) -> anyhow::Result<()> {
    let funder_address = chain.address(&paychain_client::keyring::address_of(funder));
    let info = client
        .account_by_bech32(&funder_address, None)
        .await?
        .ok_or_else(|| anyhow!("the funding key {funder_address} has no account on the chain"))?;
    let mut hashes = Vec::new();
    for (sequence, chunk) in (info.sequence..).zip(missing.chunks(OUTPUTS_PER_TX)) {
        let recipients: Vec<String> = chunk.iter().map(|&i| chain.address(&accounts[i].address)).collect();
        let msg = msg_multi_send_bech32(&funder_address, &recipients, each)?;
        let signer = SignerData { key: funder, chain_id, account_number: info.account_number, sequence };
        let body = tx_body(vec![msg], "paychain-bench funding", 0);
        let tx = build_signed_tx(&body, chain.fee_for_gas(FUNDING_GAS), &signer);
        let result = client.broadcast_sync(tx).await?;
        ensure!(result.code == 0, "funding tx refused by CheckTx (code {}): {}", result.code, result.log);
        hashes.push(result.txhash);
    }
    for hash in &hashes {
        let committed = client.wait_for_tx(parse_tx_hash(hash)?, FUNDING_COMMIT_TIMEOUT).await?;
        if committed.tx_result.code.value() != 0 {
            bail!("funding tx {hash} failed (code {}): {}", committed.tx_result.code.value(), committed.tx_result.log);
        }
    }
    Ok(())
}
