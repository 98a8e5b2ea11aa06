//! `paychain-bench app`: blocks of signed bank sends through FinalizeBlock + Commit, in process,
//! on the real RocksDB store, no consensus. Reports tx/s and where the time goes: decode,
//! signature checks, execution, Merkle update, RocksDB write (the app's and the store's phase
//! timers, see `paychain_store::timing`). Ends by checking every tx succeeded and the supply
//! invariant.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use paychain_app::app::{App, AppTimingsTotal};
use paychain_app::AppOptions;
use paychain_framework::{BlockTime, Coins};
use paychain_store::timing;
use paychain_store::StoreTimingsTotal;
use paychain_tx::build::fee;
use rand::{Rng as _, SeedableRng as _};
use rayon::prelude::*;

use crate::accounts::{derive_accounts, fund_in_app_state, secret_from_u64, Send};
use crate::report::{average, mib, ms, per_sec, percent, today, us};

const CHAIN_ID: &str = "paychain-bench-1";
const DENOM: &str = "upay";
/// Each genesis account's balance: enough for any number of 1upay sends and their fees.
const FUNDS: &str = "1000000000000upay";
/// Fee and gas limit of every send (what a wallet would pay on a chain with a 0.025 gas price).
const FEE_AMOUNT: u128 = 5000;
const GAS_LIMIT: u64 = 200_000;

/// By default at most this many accounts are funded in genesis: InitChain holds the whole genesis in
/// memory (about 9 KiB per account at peak, ~9 GiB at 1M), so past it the benchmark grows its
/// state as a live chain does, by payments to new addresses.
const GENESIS_ACCOUNTS_MAX: usize = 1_000_000;
/// Growth: new accounts per tx (one `MsgMultiSend` from a genesis account) and txs per block.
const GROWTH_OUTPUTS: usize = 100;
const GROWTH_TXS_PER_BLOCK: usize = 100;
/// What each new account receives.
const GROWTH_EACH: &str = "1000upay";

#[derive(Debug, Clone)]
pub struct AppArgs {
    /// Accounts in the state the blocks run over: funded in genesis up to `genesis_accounts`,
    /// the rest created by blocks of payouts to new addresses
    pub accounts: usize,
    /// At most this many accounts funded in genesis [default: [`GENESIS_ACCOUNTS_MAX`]]
    pub genesis_accounts: usize,
    /// Bank sends per block
    pub txs_per_block: usize,
    /// Blocks measured (after the genesis block)
    pub blocks: usize,
    /// Run CheckTx on each block's txs before FinalizeBlock, as the mempool does, so FinalizeBlock
    /// finds their signatures already verified; CheckTx time is reported apart
    pub check_tx: bool,
    /// `--check-tx-bursts N`: CheckTx as the node's ABCI server runs a burst of N requests
    /// that arrived together (their signatures verified in parallel first, then each
    /// checked in order); 0: one request at a time
    pub check_tx_burst: usize,
    /// Directory for the store; must not exist yet, and is kept [default: a temporary directory]
    pub dir: Option<PathBuf>,
    /// Keep the genesis store here and reuse it in later runs with the same accounts (a copy
    /// with hard-linked table files): InitChain over 1M accounts takes minutes
    pub genesis_cache: Option<PathBuf>,
    /// Seed of the random choice of recipients
    pub seed: u64,
    /// `--no-read-ahead`: execute blocks without the speculative read-ahead thread
    pub read_ahead: bool,
    /// What each send moves and pays its fee in
    pub payment: Payment,
}

/// What each send moves, and what it pays its fee in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payment {
    /// upay, fee in upay
    Upay,
    /// `--issued-token`: an issued token (assets module: a stablecoin with minting, burning,
    /// freezing, pausing and clawback, as a regulated issuer sets it up), fee in upay
    IssuedToken,
    /// `--issued-token --fee-in-token`: the token, fee in the token too (listed as a fee token
    /// at rate 1), as a wallet holding only the stablecoin pays
    IssuedTokenFeeInToken,
    /// `--credential-policy`: upay, fee in upay, under a global compliance policy that
    /// every party (the fee payer, the sender, the recipient) hold an accepted
    /// `kyc.tier2` credential from a registered issuer: two reads per party
    UpayUnderCredentialPolicy,
    /// `--payment-controls`: upay, fee in upay, every account holding `kyc.tier2`, under a
    /// velocity limit on upay with a tier for it (never reached), a travel-rule threshold
    /// above the sends, and four risk rules (amount, the recipient's credential, its age,
    /// velocity used so far) that score the sends zero: every check runs, nothing refuses
    UpayUnderPaymentControls,
}

impl Payment {
    fn issued(self) -> bool {
        matches!(self, Payment::IssuedToken | Payment::IssuedTokenFeeInToken)
    }
}

impl AppArgs {
    pub const USAGE: &'static str = "paychain-bench-app app [--accounts N (1000000)] [--txs-per-block N (10000)] \
[--genesis-accounts N (1000000)] [--blocks N (5)] [--check-tx [--check-tx-bursts N (0: one at a time)]] [--issued-token [--fee-in-token] | --credential-policy | --payment-controls] [--dir DIR] \
[--genesis-cache DIR] [--seed N (7)] [--no-read-ahead]";

    pub fn parse(flags: &mut crate::flags::Flags) -> anyhow::Result<Self> {
        let args = Self {
            accounts: flags.number("accounts", 1_000_000)?,
            genesis_accounts: flags.number("genesis-accounts", GENESIS_ACCOUNTS_MAX)?,
            txs_per_block: flags.number("txs-per-block", 10_000)?,
            blocks: flags.number("blocks", 5)?,
            check_tx: flags.switch("check-tx")?,
            check_tx_burst: flags.number("check-tx-bursts", 0)?,
            dir: flags.path("dir"),
            genesis_cache: flags.path("genesis-cache"),
            seed: flags.number("seed", 7)?,
            read_ahead: !flags.switch("no-read-ahead")?,
            payment: match (
                flags.switch("issued-token")?,
                flags.switch("fee-in-token")?,
                flags.switch("credential-policy")?,
                flags.switch("payment-controls")?,
            ) {
                (false, false, false, false) => Payment::Upay,
                (true, false, false, false) => Payment::IssuedToken,
                (true, true, false, false) => Payment::IssuedTokenFeeInToken,
                (false, false, true, false) => Payment::UpayUnderCredentialPolicy,
                (false, false, false, true) => Payment::UpayUnderPaymentControls,
                (false, true, _, _) => anyhow::bail!("--fee-in-token needs --issued-token"),
                _ => anyhow::bail!("--issued-token, --credential-policy and --payment-controls are separate cases"),
            },
        };
        flags.finish()?;
        if args.check_tx_burst > 0 && !args.check_tx {
            anyhow::bail!("--check-tx-bursts needs --check-tx");
        }
        Ok(args)
    }
}

/// One measured block.
struct BlockRun {
    height: u64,
    txs: usize,
    check_tx: Duration,
    /// Of `check_tx`, the bursts' parallel signature passes.
    check_burst_pass: Duration,
    finalize: Duration,
    commit: Duration,
    app: AppTimingsTotal,
    store: StoreTimingsTotal,
}

impl BlockRun {
    fn total(&self) -> Duration {
        self.finalize + self.commit
    }
}

pub fn run(args: &AppArgs) -> anyhow::Result<()> {
    ensure!(args.accounts >= 2, "--accounts must be at least 2");
    ensure!(args.txs_per_block >= 1 && args.blocks >= 1, "--txs-per-block and --blocks must be positive");
    ensure!(args.genesis_accounts >= 2, "--genesis-accounts must be at least 2");
    let growth = Growth::of(args.accounts, args.genesis_accounts);
    if let Some(g) = &growth {
        ensure!(
            g.txs() <= g.genesis,
            "{} accounts: more than {} genesis accounts can pay ({GROWTH_OUTPUTS} new ones each); raise \
             --genesis-accounts",
            g.accounts,
            g.genesis
        );
        ensure!(
            args.payment == Payment::Upay,
            "past --genesis-accounts only plain upay sends are measured (accounts created by payouts \
             hold no issued token or credential)"
        );
        ensure!(
            args.blocks * args.txs_per_block <= g.first_payer(),
            "--blocks x --txs-per-block must be at most {}: the later genesis accounts paid the new ones",
            g.first_payer()
        );
    }
    let (_tmp, dir) = crate::work_dir::work_dir(args.dir.as_deref(), "--dir", "paychain-bench-app", "application.db")?;
    println!(
        "app benchmark: {} accounts{}, {} blocks of {} bank sends of {}{}, store {}",
        args.accounts,
        match &growth {
            None => " funded in genesis".to_string(),
            Some(g) => format!(
                " ({} funded in genesis, the rest paid by {} of them, {GROWTH_OUTPUTS} new accounts each)",
                g.genesis,
                g.txs()
            ),
        },
        args.blocks,
        args.txs_per_block,
        match args.payment {
            Payment::Upay => DENOM,
            Payment::IssuedToken => "an issued token, fee in upay",
            Payment::IssuedTokenFeeInToken => "an issued token, fee in the token",
            Payment::UpayUnderCredentialPolicy => "upay under a global credential policy",
            Payment::UpayUnderPaymentControls => "upay under velocity limits, a travel-rule threshold and risk rules",
        },
        match (args.check_tx, args.check_tx_burst) {
            (false, _) => String::new(),
            (true, 0) => ", CheckTx first".to_string(),
            (true, n) => format!(", CheckTx first in bursts of {n}"),
        },
        dir.display()
    );
    println!("  {} threads (rayon), release build: {}", rayon::current_num_threads(), !cfg!(debug_assertions));
    println!("  {}", crate::report::machine_line());

    // Setup: not measured by the phase timers.
    timing::set_enabled(false);
    let t = Instant::now();
    let accounts = derive_accounts(&secret_from_u64(1), args.accounts);
    let keys_time = t.elapsed();
    println!(
        "setup: {} keys derived in {} ms ({}/s)",
        accounts.len(),
        ms(keys_time),
        per_sec(accounts.len() as u64, keys_time)
    );
    let options = AppOptions { read_ahead: args.read_ahead, ..AppOptions::default() };
    let mut built_here = args.genesis_cache.is_none();
    let app = match &args.genesis_cache {
        Some(cache) => {
            let fingerprint = genesis_fingerprint(args.accounts, args.genesis_accounts, args.payment)?;
            let entry = cache.join(format!("app-genesis-{}-{fingerprint}", args.accounts));
            let cached_db = entry.join("application.db");
            if entry.join(CACHE_COMPLETE).exists() {
                println!("setup: genesis store from the cache {}", entry.display());
            } else {
                if entry.exists() {
                    std::fs::remove_dir_all(&entry)
                        .with_context(|| format!("removing the partial {}", entry.display()))?;
                }
                std::fs::create_dir_all(&entry)?;
                built_here = true;
                drop(build_state(&cached_db, &accounts, args, growth.as_ref(), AppOptions::default())?);
                // The genesis is one write batch, still only in RocksDB's log; opening the store
                // again replays it into table files, which later copies hard-link instead of
                // copying and replaying a log as big as the genesis.
                // Compacted too, as a node's store is after running a while: bulk-loaded
                // overlapping files would make every read of the benchmark look into each.
                let t = Instant::now();
                let reopened =
                    App::open(&cached_db, AppOptions::default()).map_err(|e| anyhow::anyhow!("reopening: {e}"))?;
                reopened.store().compact();
                drop(reopened);
                println!("  genesis store compacted in {} ms", ms(t.elapsed()));
                std::fs::write(entry.join(CACHE_COMPLETE), b"")?;
                println!("  genesis store cached in {}", entry.display());
            }
            let t = Instant::now();
            copy_store(&cached_db, &dir)?;
            let app = App::open(&dir, options).map_err(|e| anyhow::anyhow!("opening the app: {e}"))?;
            println!(
                "  genesis store copied and opened in {} ms (resident memory {} MiB, peak {} MiB)",
                ms(t.elapsed()),
                crate::report::mib_or_unknown(crate::report::rss_mib()),
                crate::report::mib_or_unknown(crate::report::peak_rss_mib())
            );
            app
        }
        None => build_state(&dir, &accounts, args, growth.as_ref(), options)?,
    };
    let first_height = app.info().0 + 1;

    let t = Instant::now();
    let blocks = sign_blocks(&accounts, args)?;
    let sign_time = t.elapsed();
    let total_txs = (args.blocks * args.txs_per_block) as u64;
    println!(
        "signed {total_txs} sends offline in {} ms ({}/s, client side, not part of the results)",
        ms(sign_time),
        per_sec(total_txs, sign_time)
    );
    drop(accounts);

    timing::set_enabled(true);
    println!();
    println!(
        "{:>6} {:>6} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "height", "txs", "CheckTx", "Finalize", "Commit", "tx/s", "decode", "sigs", "execute", "merkle", "write"
    );
    println!(
        "{:>6} {:>6} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "", "", "ms", "ms", "ms", "", "ms", "ms", "ms", "ms", "ms"
    );
    let mut runs = Vec::with_capacity(blocks.len());
    for (index, txs) in blocks.iter().enumerate() {
        let height = first_height + index as u64;
        let run = run_block(&app, height, txs, args.check_tx, args.check_tx_burst)?;
        println!(
            "{:>6} {:>6} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
            run.height,
            run.txs,
            if args.check_tx { ms(run.check_tx) } else { "-".to_string() },
            ms(run.finalize),
            ms(run.commit),
            per_sec(run.txs as u64, run.total()),
            ms(run.app.decode.duration()),
            ms(run.app.signature_prepass.duration()),
            ms(run.app.execute.duration()),
            ms(run.store.prepare.duration()),
            ms(run.store.commit_batch.duration() + run.store.commit_write.duration()),
        );
        runs.push(run);
    }
    timing::set_enabled(false);

    print_breakdown(&runs, args);

    println!(
        "state of {} accounts: store on disk {} MiB; resident memory {} MiB (peak {} MiB{})",
        args.accounts,
        mib(paychain_store::dir_size(&dir).unwrap_or(0)),
        crate::report::mib_or_unknown(crate::report::rss_mib()),
        crate::report::mib_or_unknown(crate::report::peak_rss_mib()),
        if built_here { ", building the state in this run included" } else { "" }
    );
    app.check_invariants().map_err(|e| anyhow::anyhow!("supply invariant violated: {e}"))?;
    println!("every tx succeeded; supply invariant holds");
    Ok(())
}

/// How the state grows past its genesis accounts: the last genesis accounts each pay
/// [`GROWTH_OUTPUTS`] new ones in one `MsgMultiSend`, in blocks of [`GROWTH_TXS_PER_BLOCK`]
/// txs, through FinalizeBlock and Commit like any block (not measured).
struct Growth {
    /// All accounts, genesis ones first.
    accounts: usize,
    /// Accounts funded in genesis.
    genesis: usize,
}

impl Growth {
    fn of(accounts: usize, genesis: usize) -> Option<Self> {
        (accounts > genesis).then_some(Self { accounts, genesis })
    }

    fn txs(&self) -> usize {
        (self.accounts - self.genesis).div_ceil(GROWTH_OUTPUTS)
    }

    /// The first genesis account that pays new ones (the measured sends come from earlier ones,
    /// so their sequences stay 0, 1, ...).
    fn first_payer(&self) -> usize {
        self.genesis.saturating_sub(self.txs())
    }

    fn grow(&self, app: &App, accounts: &[crate::accounts::Account]) -> anyhow::Result<()> {
        use crate::accounts::MultiSend;
        let t = Instant::now();
        let each: Coins = GROWTH_EACH.parse()?;
        let fee =
            fee(&format!("{}{DENOM}", FEE_AMOUNT * GROWTH_OUTPUTS as u128).parse()?, GAS_LIMIT * GROWTH_OUTPUTS as u64);
        let first_height = app.info().0 + 1;
        let tx_indexes: Vec<usize> = (0..self.txs()).collect();
        for (n, block) in tx_indexes.chunks(GROWTH_TXS_PER_BLOCK).enumerate() {
            let height = first_height + n as u64;
            let txs: Vec<Vec<u8>> = block
                .par_iter()
                .map(|&i| {
                    let payer = self.first_payer() + i;
                    let first = self.genesis + i * GROWTH_OUTPUTS;
                    let to = &accounts[first..(first + GROWTH_OUTPUTS).min(self.accounts)];
                    MultiSend { from: &accounts[payer], to, each: &each, account_number: payer as u64, sequence: 0 }
                        .sign(CHAIN_ID, &fee)
                })
                .collect::<anyhow::Result<_>>()?;
            let outcome = app
                .finalize_block(height, block_time(height), &txs)
                .map_err(|e| anyhow::anyhow!("growth block {height}: {e}"))?;
            if let Some(e) = outcome.tx_results.iter().find_map(|r| r.result.as_ref().err()) {
                bail!("a payout to new accounts in growth block {height} failed: {}", e.log);
            }
            app.commit().map_err(|e| anyhow::anyhow!("growth commit {height}: {e}"))?;
            let created = ((block[block.len() - 1] + 1) * GROWTH_OUTPUTS).min(self.accounts - self.genesis);
            if (n + 1) % 100 == 0 || created == self.accounts - self.genesis {
                println!(
                    "  grown to {} accounts (height {height}, {} new accounts/s)",
                    self.genesis + created,
                    per_sec(created as u64, t.elapsed())
                );
            }
        }
        Ok(())
    }
}

/// The issued token of `--issued-token`: `usdb-<first account>`.
fn issued_denom(accounts: &[crate::accounts::Account]) -> String {
    paychain_assets::token_denom("usdb", &accounts[0].address)
}

/// The token's `app_state.assets` entry, as issuance would have written it, with `minted`
/// equal to what genesis gives the accounts. Roles apart: admin and treasury the first
/// account, freezer the second, pauser the third, clawback the fourth.
fn issued_token_genesis(accounts: &[crate::accounts::Account], each: u128) -> serde_json::Value {
    use paychain_assets::pb::Feature;
    let who = |i: usize| accounts[i % accounts.len()].address.to_string();
    let minted = each * accounts.len() as u128;
    let features = [Feature::Minting, Feature::Burning, Feature::Freezing, Feature::Pausing, Feature::Clawback];
    serde_json::json!({"tokens": [{
        "denom": issued_denom(accounts), "issuer": who(0), "subunit": "usdb", "symbol": "USDB",
        "name": "Bench Dollar", "precision": 6, "max_supply": "0",
        "features": features.iter().map(|f| f.as_str_name()).collect::<Vec<_>>(),
        "roles": {"admin": who(0), "treasury": who(0), "freezer": who(1), "pauser": who(2), "clawback": who(3)},
        "balance_cap": "0", "minted": minted.to_string(), "burned": "0"}]})
}

/// `app_state.compliance` for `--credential-policy`: a registered issuer of
/// `kyc.tier2` (no bench account), every account holding it (accepted), and a
/// global policy requiring it.
fn credential_policy_genesis(accounts: &[crate::accounts::Account]) -> serde_json::Value {
    let issuer = paychain_framework::Address::from_bytes(vec![0xEE; 20]).expect("20 bytes").to_string();
    let credentials: Vec<serde_json::Value> = accounts
        .iter()
        .map(|a| serde_json::json!({"subject": a.address.to_string(), "issuer": issuer, "type": "kyc.tier2", "accepted": true}))
        .collect();
    serde_json::json!({
        "issuers": [{"address": issuer, "types": ["kyc.tier2"], "name": "Bench KYC"}],
        "credentials": credentials,
        "policies": [{"id": "1", "name": "kyc-tier2", "version": "1", "admin": issuer,
            "rule": {"credentials": {"all_of": [{"issuer": issuer, "type": "kyc.tier2"}]}}}],
        "denom_policies": [{"denom": "", "policy_id": "1"}],
        "next_policy_id": "2"
    })
}

/// `app_state.compliance` for `--payment-controls` (see [`Payment::UpayUnderPaymentControls`]).
fn payment_controls_genesis(accounts: &[crate::accounts::Account]) -> serde_json::Value {
    let mut g = credential_policy_genesis(accounts);
    let issuer = g["issuers"][0]["address"].clone();
    let kyc = serde_json::json!({"issuer": issuer, "type": "kyc.tier2"});
    for k in ["policies", "denom_policies", "next_policy_id"] {
        g.as_object_mut().expect("an object").remove(k);
    }
    g["velocity_limits"] = serde_json::json!([{"denom": DENOM, "window_seconds": "86400", "limit": "1000000000",
        "tiers": [{"issuer": issuer, "type": "kyc.tier2", "limit": "1000000000000000"}], "version": "1"}]);
    g["travel_rule_thresholds"] = serde_json::json!([{"denom": DENOM, "threshold": "1000000000", "version": "1"}]);
    g["risk_rule_versions"] = serde_json::json!([{"version": "1", "refuse_above": 100, "hold_above": 0, "rules": [
        {"code": "large", "score": 60, "min_amount": "1000000000"},
        {"code": "recipient_no_kyc", "score": 40, "recipient_lacks": kyc},
        {"code": "new_recipient", "score": 30, "recipient_newer_than_seconds": "3600"},
        {"code": "burst", "score": 50, "velocity_used_percent": 90}]}]);
    g
}

/// The state the blocks run over: the genesis of the first `--genesis-accounts` accounts, then,
/// past them, `growth`'s payouts to the rest. Reopened before growing, so the genesis's memory
/// (~9 KiB per account at peak) is returned first.
fn build_state(
    db: &Path,
    accounts: &[crate::accounts::Account],
    args: &AppArgs,
    growth: Option<&Growth>,
    options: AppOptions,
) -> anyhow::Result<App> {
    let genesis_accounts = &accounts[..args.accounts.min(args.genesis_accounts)];
    let Some(growth) = growth else {
        return build_genesis(db, genesis_accounts, args.payment, options);
    };
    drop(build_genesis(db, genesis_accounts, args.payment, AppOptions::default())?);
    let app = App::open(db, options).map_err(|e| anyhow::anyhow!("reopening: {e}"))?;
    growth.grow(&app, accounts)?;
    Ok(app)
}

/// The genesis store: InitChain with every account funded, then the (empty) first block.
fn build_genesis(
    db: &Path,
    accounts: &[crate::accounts::Account],
    payment: Payment,
    options: AppOptions,
) -> anyhow::Result<App> {
    let t = Instant::now();
    let mut app_state = paychain_app::genesis::default_app_state(DENOM);
    let mut funds: Coins = FUNDS.parse()?;
    if payment.issued() {
        let each = funds.amount_of(DENOM);
        funds = funds.checked_add(&format!("{each}{}", issued_denom(accounts)).parse()?)?;
        app_state["assets"] = issued_token_genesis(accounts, each);
    }
    if payment == Payment::IssuedTokenFeeInToken {
        app_state["fees"]["fee_tokens"] = serde_json::json!([{"denom": issued_denom(accounts), "rate": "1"}]);
    }
    if payment == Payment::UpayUnderCredentialPolicy {
        app_state["compliance"] = credential_policy_genesis(accounts);
    }
    if payment == Payment::UpayUnderPaymentControls {
        app_state["compliance"] = payment_controls_genesis(accounts);
    }
    fund_in_app_state(&mut app_state, accounts, 0, &funds, paychain_framework::address::ACCOUNT_PREFIX);
    let genesis_bytes = serde_json::to_vec(&app_state)?;
    drop(app_state);
    let json_time = t.elapsed();

    let app = App::open(db, options).map_err(|e| anyhow::anyhow!("opening the app: {e}"))?;
    let t = Instant::now();
    app.init_chain(CHAIN_ID, 1, &genesis_bytes).map_err(|e| anyhow::anyhow!("InitChain: {e}"))?;
    let init_time = t.elapsed();
    drop(genesis_bytes);
    let t = Instant::now();
    app.finalize_block(1, block_time(1), &[]).map_err(|e| anyhow::anyhow!("genesis block: {e}"))?;
    let genesis_finalize = t.elapsed();
    let t = Instant::now();
    app.commit().map_err(|e| anyhow::anyhow!("genesis commit: {e}"))?;
    let genesis_commit = t.elapsed();
    println!(
        "setup: genesis of {} accounts: JSON {} ms, InitChain {} ms, genesis block FinalizeBlock {} ms + Commit {} ms",
        accounts.len(),
        ms(json_time),
        ms(init_time),
        ms(genesis_finalize),
        ms(genesis_commit)
    );
    Ok(app)
}

/// Marks a finished genesis cache entry.
const CACHE_COMPLETE: &str = "complete";

/// Names what a cached genesis holds: the accounts, their funds, the chain id and the app's
/// genesis defaults and substores (a cache written by another version of the app is not reused).
fn genesis_fingerprint(accounts: usize, genesis_accounts: usize, payment: Payment) -> anyhow::Result<String> {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(b"paychain-bench app genesis v3 (compacted to the bottommost level)\0");
    h.update(format!("{CHAIN_ID}\0{FUNDS}\0{accounts}\0{payment:?}\0").as_bytes());
    if Growth::of(accounts, genesis_accounts).is_some() {
        // (Not for smaller states, so their cached stores stay valid.)
        h.update(
            format!("grown past {genesis_accounts} by {GROWTH_OUTPUTS} x {GROWTH_EACH} payouts, {GROWTH_TXS_PER_BLOCK} per block\0")
                .as_bytes(),
        );
    }
    h.update(serde_json::to_vec(&paychain_app::genesis::default_app_state(DENOM))?);
    for key in paychain_app::wire_modules().modules.store_keys() {
        h.update(key.as_bytes());
        h.update(b"\0");
    }
    Ok(hex::encode(&h.finalize()[..6]))
}

/// Copies a closed RocksDB directory: table files (`*.sst`, never modified in place) as hard
/// links where the file system allows, everything else (manifest, WAL, options) as copies.
fn copy_store(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            continue; // not RocksDB's (it keeps every file at the top level)
        }
        let target = to.join(entry.file_name());
        let is_table = entry.path().extension().is_some_and(|e| e == "sst");
        if !(is_table && std::fs::hard_link(entry.path(), &target).is_ok()) {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {} to {}", entry.path().display(), target.display()))?;
        }
    }
    Ok(())
}

fn block_time(height: u64) -> BlockTime {
    BlockTime { seconds: 1_700_000_000 + height as i64, nanos: 0 }
}

/// Every block's txs, signed in parallel. Block `b`'s tx `i` is sent by account
/// `(b * N + i) mod M` (so a block's senders are distinct while N <= M) to a random other account.
fn sign_blocks(accounts: &[crate::accounts::Account], args: &AppArgs) -> anyhow::Result<Vec<Vec<Vec<u8>>>> {
    let m = accounts.len();
    let n = args.txs_per_block;
    let total = args.blocks * n;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let recipients: Vec<usize> = (0..total)
        .map(|g| {
            let from = g % m;
            let to = rng.gen_range(0..m - 1);
            // Uniform over every account but the sender.
            if to >= from {
                to + 1
            } else {
                to
            }
        })
        .collect();
    let denom = if args.payment.issued() { issued_denom(accounts) } else { DENOM.to_string() };
    let amount: Coins = format!("1{denom}").parse()?;
    let fee_coins: Coins = match args.payment {
        Payment::IssuedTokenFeeInToken => format!("{FEE_AMOUNT}{denom}").parse()?,
        _ => format!("{FEE_AMOUNT}{DENOM}").parse()?,
    };
    let fee = fee(&fee_coins, GAS_LIMIT);
    let signed: Vec<Vec<u8>> = (0..total)
        .into_par_iter()
        .map(|g| {
            let from = g % m;
            Send {
                from: &accounts[from],
                to: &accounts[recipients[g]].address,
                amount: &amount,
                account_number: from as u64,
                sequence: (g / m) as u64,
            }
            .sign(CHAIN_ID, &fee)
        })
        .collect();
    let mut blocks = Vec::with_capacity(args.blocks);
    let mut rest = signed.into_iter();
    for _ in 0..args.blocks {
        blocks.push(rest.by_ref().take(n).collect());
    }
    Ok(blocks)
}

/// Runs CheckTx (when `check_tx`: one request at a time, or in bursts of `burst` as the
/// node's ABCI server does), then FinalizeBlock and Commit of `txs` at `height`.
fn run_block(app: &App, height: u64, txs: &[Vec<u8>], check_tx: bool, burst: usize) -> anyhow::Result<BlockRun> {
    let mut check_time = Duration::ZERO;
    let mut check_burst_pass = Duration::ZERO;
    if check_tx {
        let before = app.timings();
        let t = Instant::now();
        let size = burst.max(1);
        for (b, chunk) in txs.chunks(size).enumerate() {
            // As the node's ABCI server: each CheckTx takes the pass's decoding of its tx.
            let mut decoded = if burst > 0 {
                app.preverify_check_txs(&chunk.iter().map(Vec::as_slice).collect::<Vec<_>>()).into_iter()
            } else {
                Vec::new().into_iter()
            };
            for (i, tx) in chunk.iter().enumerate() {
                let outcome = app.check_tx_decoded(tx, false, decoded.next().flatten());
                if let Err(e) = &outcome.result {
                    bail!("CheckTx of tx {} for height {height} failed: {}", b * size + i, e.log);
                }
            }
        }
        check_time = t.elapsed();
        check_burst_pass = app.timings().since(&before).check_tx_preverify.duration();
    }
    // Read after CheckTx: its state reads and signature checks are not the block's.
    let app_before = app.timings();
    let store_before = app.store().timings().total();
    let t = Instant::now();
    let outcome = app
        .finalize_block(height, block_time(height), txs)
        .map_err(|e| anyhow::anyhow!("FinalizeBlock {height}: {e}"))?;
    let finalize = t.elapsed();
    let t = Instant::now();
    app.commit().map_err(|e| anyhow::anyhow!("Commit {height}: {e}"))?;
    let commit = t.elapsed();
    if let Some((i, e)) =
        outcome.tx_results.iter().enumerate().find_map(|(i, r)| r.result.as_ref().err().map(|e| (i, e)))
    {
        bail!("tx {i} of height {height} failed: {}", e.log);
    }
    ensure!(
        outcome.tx_results.len() == txs.len(),
        "height {height}: {} results for {} txs",
        outcome.tx_results.len(),
        txs.len()
    );
    Ok(BlockRun {
        height,
        txs: txs.len(),
        check_tx: check_time,
        check_burst_pass,
        finalize,
        commit,
        app: app.timings().since(&app_before),
        store: app.store().timings().total().since(&store_before),
    })
}

/// Per-phase averages over the measured blocks, as shares of FinalizeBlock + Commit.
fn print_breakdown(runs: &[BlockRun], args: &AppArgs) {
    let blocks = runs.len() as u32;
    let sum = |f: &dyn Fn(&BlockRun) -> Duration| runs.iter().map(f).sum::<Duration>();
    let count = |f: &dyn Fn(&BlockRun) -> u64| runs.iter().map(f).sum::<u64>();
    let txs = count(&|r| r.txs as u64);
    let finalize = sum(&|r| r.finalize);
    let commit = sum(&|r| r.commit);
    let total = finalize + commit;

    let begin = sum(&|r| r.app.begin_block.duration());
    let decode = sum(&|r| r.app.decode.duration());
    let sigs = sum(&|r| r.app.signature_prepass.duration());
    let execute = sum(&|r| r.app.execute.duration());
    let end = sum(&|r| r.app.end_block.duration());
    let merkle = sum(&|r| r.store.prepare.duration());
    let finalize_other = finalize.saturating_sub(begin + decode + sigs + execute + end + merkle);
    let batch = sum(&|r| r.store.commit_batch.duration());
    let write = sum(&|r| r.store.commit_write.duration());
    let commit_other = commit.saturating_sub(batch + write);

    let per_block = |d: Duration| ms(d / blocks);
    let per_tx = |d: Duration| us(average(d, txs));
    println!();
    println!("where the time goes (average per block of {} txs; share of FinalizeBlock + Commit):", args.txs_per_block);
    println!("  {:<44} {:>9} {:>7} {:>9}", "phase", "ms/block", "share", "us/tx");
    let line = |name: &str, d: Duration| {
        println!("  {:<44} {:>9} {:>7} {:>9}", name, per_block(d), percent(d, total), per_tx(d));
    };
    line("decode (parallel)", decode);
    line("signature checks (parallel pass, wall)", sigs);
    line("execution (ante + messages, in order)", execute);
    line("begin/end block, collecting writes", begin + end);
    line("Merkle update (store prepare)", merkle);
    line("other FinalizeBlock", finalize_other);
    line("RocksDB write: filling the batch", batch);
    line("RocksDB write: synced write", write);
    line("other Commit", commit_other);
    line("total FinalizeBlock + Commit", total);
    println!("  => {} tx/s over {} blocks ({} sends)", per_sec(txs, total), runs.len(), txs);

    let verifications = runs.iter().fold(timing::PhaseTotal::default(), |a, r| add(a, r.app.signature_verifications));
    let hits = count(&|r| r.app.signature_cache_hits.count);
    let value_reads = runs.iter().fold(timing::PhaseTotal::default(), |a, r| add(a, r.store.value_reads));
    let batch_bytes = count(&|r| r.store.batch_bytes);
    let batch_entries = count(&|r| r.store.batch_entries);
    println!();
    println!(
        "signatures in blocks: {} verified ({} ms CPU per block, {} us each; wall of the parallel pass {} ms), {} answered by the cache",
        verifications.count,
        per_block(verifications.duration()),
        us(average(verifications.duration(), verifications.count)),
        per_block(sigs),
        hits
    );
    let reads = |what: &str, from_db: timing::PhaseTotal, point: u64, cache_hits: u64, absent: u64| {
        println!(
            "{what}: {} per block ({} per tx) from RocksDB ({} of them point lookups of the entry the trees name), \
             {} us each, {} ms per block; {} per block from the cache, {} absent keys per block answered by the trees",
            from_db.count / u64::from(blocks),
            from_db.count / txs.max(1),
            point / u64::from(blocks),
            us(average(from_db.duration(), from_db.count)),
            per_block(from_db.duration()),
            cache_hits / u64::from(blocks),
            absent / u64::from(blocks)
        );
    };
    reads(
        "state reads (signature pass and execution)",
        value_reads,
        count(&|r| r.store.value_point_reads.count),
        count(&|r| r.store.value_cache_hits.count),
        count(&|r| r.store.value_absent_hits.count),
    );
    println!(
        "write batch: {} MiB and {} records per block ({} bytes and {} records per tx)",
        mib(batch_bytes / u64::from(blocks)),
        batch_entries / u64::from(blocks),
        batch_bytes / txs.max(1),
        batch_entries / txs.max(1)
    );
    if args.check_tx {
        let check = sum(&|r| r.check_tx);
        let bursts = match args.check_tx_burst {
            0 => String::new(),
            n => format!(
                " (in bursts of {n}: {} ms of parallel signature passes per block)",
                per_block(sum(&|r| r.check_burst_pass))
            ),
        };
        println!(
            "CheckTx beforehand (not in the totals): {} ms per block, {} tx/s{bursts}",
            per_block(check),
            per_sec(txs, check)
        );
    }
    println!();
    println!("docs/benchmarks.md row:");
    println!(
        "| {} | {} | {} × {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        today(),
        args.accounts,
        runs.len(),
        args.txs_per_block,
        if args.check_tx { "yes" } else { "no" },
        per_sec(txs, total),
        per_block(finalize),
        per_block(commit),
        per_block(decode),
        per_block(sigs),
        per_block(execute),
        per_block(merkle),
        per_block(batch + write),
    );
}

fn add(a: timing::PhaseTotal, b: timing::PhaseTotal) -> timing::PhaseTotal {
    timing::PhaseTotal { nanos: a.nanos + b.nanos, count: a.count + b.count }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The genesis of `payment`'s case over `accounts`, in `tmp`.
    fn test_genesis(tmp: &tempfile::TempDir, accounts: &[crate::accounts::Account], payment: Payment) -> App {
        build_genesis(&tmp.path().join("application.db"), accounts, payment, AppOptions::default()).unwrap()
    }

    #[test]
    fn a_state_grown_past_genesis_pays_new_accounts_and_serves_the_sends() {
        let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let accounts = derive_accounts(&secret_from_u64(1), 450);
        let app = test_genesis(&tmp, &accounts[..200], Payment::Upay);
        let growth = Growth::of(450, 200).unwrap();
        assert_eq!((growth.txs(), growth.first_payer()), (3, 197));
        growth.grow(&app, &accounts).unwrap();
        assert_eq!(app.info().0, 2, "three payouts make one block");

        let state = app.export_app_state().unwrap();
        let balance_of = |i: usize| {
            let address = accounts[i].address.to_string();
            state["bank"]["balances"].as_array().unwrap().iter().find(|b| b["address"] == address.as_str()).cloned()
        };
        for new in [200, 299, 300, 449] {
            assert_eq!(balance_of(new).unwrap()["coins"], serde_json::json!([{"denom": DENOM, "amount": "1000"}]));
        }
        assert!(state["auth"]["accounts"].as_array().unwrap().len() >= 450);
        // The payers paid 100 x 1000 and a fee; the earlier accounts are untouched.
        let funds: u128 = FUNDS.trim_end_matches(DENOM).parse().unwrap();
        let paid = funds - 100 * 1000 - FEE_AMOUNT * 100;
        assert_eq!(balance_of(197).unwrap()["coins"][0]["amount"], paid.to_string().as_str());
        assert_eq!(balance_of(0).unwrap()["coins"][0]["amount"], funds.to_string().as_str());

        // Sends from the first accounts, to any of the 450, at sequence 0.
        let args = AppArgs { accounts: 450, genesis_accounts: 200, txs_per_block: 150, blocks: 1, ..small_args() };
        let blocks = sign_blocks(&accounts, &args).unwrap();
        let run = run_block(&app, 3, &blocks[0], true, 0).unwrap();
        assert_eq!(run.txs, 150);
        app.check_invariants().unwrap();
    }

    #[test]
    fn the_whole_run_grows_a_cached_state_and_refuses_what_growth_cannot_serve() {
        let cache = tempfile::tempdir().unwrap();
        let args = AppArgs {
            accounts: 450,
            genesis_accounts: 200,
            txs_per_block: 90,
            blocks: 2,
            genesis_cache: Some(cache.path().to_path_buf()),
            ..small_args()
        };
        {
            let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
            run(&args).unwrap();
            run(&args).unwrap(); // from the cache
        }
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
        // The measured sends must not come from the accounts that paid (their sequence moved).
        let err = run(&AppArgs { blocks: 3, ..args.clone() }).unwrap_err().to_string();
        assert!(err.contains("at most 197"), "{err}");
        let err = run(&AppArgs { payment: Payment::IssuedToken, ..args.clone() }).unwrap_err().to_string();
        assert!(err.contains("only plain upay sends"), "{err}");
        // 29,800 new accounts need 298 payers; genesis has 200.
        let err = run(&AppArgs { accounts: 30_000, ..args }).unwrap_err().to_string();
        assert!(err.contains("more than 200 genesis accounts can pay"), "{err}");
    }

    fn small_args() -> AppArgs {
        AppArgs {
            accounts: 40,
            genesis_accounts: GENESIS_ACCOUNTS_MAX,
            txs_per_block: 30,
            blocks: 3,
            check_tx: false,
            check_tx_burst: 0,
            dir: None,
            genesis_cache: None,
            seed: 1,
            read_ahead: true,
            payment: Payment::Upay,
        }
    }

    #[test]
    fn a_small_run_measures_every_phase() {
        let args = small_args();
        let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let accounts = derive_accounts(&secret_from_u64(1), args.accounts);
        let app = test_genesis(&tmp, &accounts, Payment::Upay);
        let blocks = sign_blocks(&accounts, &args).unwrap();
        timing::set_enabled(true);
        let run = run_block(&app, 2, &blocks[0], false, 0).unwrap();
        assert_eq!(run.txs, 30);
        for (name, phase) in [
            ("decode", run.app.decode),
            ("signature pass", run.app.signature_prepass),
            ("execute", run.app.execute),
            ("end block", run.app.end_block),
            ("prepare", run.store.prepare),
            ("commit write", run.store.commit_write),
        ] {
            assert_eq!(phase.count, 1, "{name}");
        }
        assert_eq!(run.app.signature_verifications.count, 30);
        assert_eq!(run.app.signature_cache_hits.count, 30, "ante finds the pre-pass's verifications");
        assert!(run.store.value_reads.count > 0 && run.store.batch_entries > 0);

        // With CheckTx first, the block verifies nothing itself.
        let run = run_block(&app, 3, &blocks[1], true, 0).unwrap();
        assert_eq!(run.app.signature_verifications.count, 0);
        // In bursts of 8, as the node's ABCI server: one parallel pass per burst, then
        // every CheckTx in order.
        let before = app.timings();
        run_block(&app, 4, &blocks[2], true, 8).unwrap();
        let check = app.timings().since(&before);
        timing::set_enabled(false);
        assert_eq!((check.check_tx_preverify.count, check.check_tx.count), (4, 30));
        app.check_invariants().unwrap();
    }

    #[test]
    fn an_issued_token_run_sends_the_token_under_its_rules() {
        for payment in [Payment::IssuedToken, Payment::IssuedTokenFeeInToken] {
            let args = AppArgs {
                accounts: 20,
                txs_per_block: 10,
                blocks: 1,
                check_tx: true,
                check_tx_burst: 0,
                dir: None,
                genesis_cache: None,
                genesis_accounts: GENESIS_ACCOUNTS_MAX,
                seed: 2,
                read_ahead: true,
                payment,
            };
            let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
            let tmp = tempfile::tempdir().unwrap();
            let accounts = derive_accounts(&secret_from_u64(1), args.accounts);
            let app = test_genesis(&tmp, &accounts, payment);
            let blocks = sign_blocks(&accounts, &args).unwrap();
            // Every send is of the token (and run_block fails on any refused tx).
            let denom = issued_denom(&accounts);
            assert!(blocks[0].iter().all(|tx| tx.windows(denom.len()).any(|w| w == denom.as_bytes())));
            let collector = paychain_framework::Address::module("fee_collector").to_string();
            let collected_fees = |app: &App| -> u128 {
                let state = app.export_app_state().unwrap();
                let balances = state["bank"]["balances"].as_array().unwrap().clone();
                let of_collector = balances.iter().find(|b| b["address"] == collector.as_str());
                let coins = of_collector.map(|b| b["coins"].as_array().unwrap().clone()).unwrap_or_default();
                let coin = coins.iter().find(|c| c["denom"] == denom.as_str());
                coin.map_or(0, |c| c["amount"].as_str().unwrap().parse().unwrap())
            };
            let before = collected_fees(&app);
            run_block(&app, 2, &blocks[0], true, 0).unwrap();
            let collected = collected_fees(&app) - before;
            let want = if payment == Payment::IssuedTokenFeeInToken { 10 * FEE_AMOUNT } else { 0 };
            assert_eq!(collected, want, "{payment:?}: fees collected in the token");
            app.check_invariants().unwrap();
        }
    }

    #[test]
    fn a_credential_policy_run_checks_every_party_and_passes_the_credentialed() {
        let args = AppArgs {
            accounts: 20,
            txs_per_block: 10,
            blocks: 1,
            check_tx: true,
            check_tx_burst: 0,
            dir: None,
            genesis_cache: None,
            genesis_accounts: GENESIS_ACCOUNTS_MAX,
            seed: 3,
            read_ahead: true,
            payment: Payment::UpayUnderCredentialPolicy,
        };
        let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let accounts = derive_accounts(&secret_from_u64(1), args.accounts);
        let app = test_genesis(&tmp, &accounts, args.payment);
        let state = app.export_app_state().unwrap();
        assert_eq!(state["compliance"]["denom_policies"][0]["policy_id"], "1", "the global policy is in force");
        assert_eq!(state["compliance"]["credentials"].as_array().unwrap().len(), 20);
        // run_block fails on any refused tx: every credentialed party passes.
        let blocks = sign_blocks(&accounts, &args).unwrap();
        run_block(&app, 2, &blocks[0], true, 0).unwrap();
        app.check_invariants().unwrap();
    }

    #[test]
    fn a_payment_controls_run_counts_every_send_and_refuses_none() {
        let args = AppArgs {
            accounts: 20,
            txs_per_block: 10,
            blocks: 1,
            check_tx: true,
            check_tx_burst: 0,
            dir: None,
            genesis_cache: None,
            genesis_accounts: GENESIS_ACCOUNTS_MAX,
            seed: 3,
            read_ahead: true,
            payment: Payment::UpayUnderPaymentControls,
        };
        let _timing = crate::TIMING_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let accounts = derive_accounts(&secret_from_u64(1), args.accounts);
        let app = test_genesis(&tmp, &accounts, args.payment);
        let blocks = sign_blocks(&accounts, &args).unwrap();
        // run_block fails on any refused tx.
        run_block(&app, 2, &blocks[0], true, 0).unwrap();
        app.check_invariants().unwrap();
        let state = app.export_app_state().unwrap();
        assert_eq!(state["compliance"]["risk_rule_versions"][0]["version"], "1", "the rules are in force");
        assert!(!state["compliance"]["account_usage"].as_array().unwrap().is_empty(), "every send was counted");
    }
}
