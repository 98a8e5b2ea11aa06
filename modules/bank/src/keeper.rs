//! The bank keeper: balances, supply, send-enabled flags, denom metadata, and
//! the coin movements other modules use (send, module accounts, mint, burn).
//! Follows SDK v0.50 `x/bank/keeper` (send.go, keeper.go, msg_server.go).

use paychain_framework::state::{decode_tagged_proto, encode_tagged_proto};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use cosmos_sdk_proto::cosmos::bank::v1beta1::{Metadata, Params};
use paychain_auth::{AuthKeeper, BURNER, MINTER};
use paychain_framework::coins::parse_amount;
use paychain_framework::{sdk, Address, BlockTime, Coin, Coins, Context, SdkError, SetDigest, StateRead};
use prost::Message;

use crate::errors;
use crate::events;
use crate::keys::{self, STORE_KEY};
use crate::msgs::{validate_input_outputs, Input, MsgMultiSend, MsgSend, Output};
use crate::policy::{HoldRequest, Route, Transfer, TransferFee, TransferPolicy, Verdict};
use crate::types::{validate_metadata, BankParams, SendEnabled};

/// What bank needs from auth: creating accounts on first receipt, and module
/// accounts with their permissions. Implemented by [`AuthKeeper`].
pub trait AccountKeeper: Send + Sync {
    /// Creates an account for `addr` if none exists.
    fn ensure_account(&self, ctx: &mut Context, addr: &Address) -> Result<(), SdkError>;
    /// The address of the registered module account `name`, creating the
    /// account if missing (the SDK's `GetModuleAccount`).
    fn module_account_address(&self, ctx: &mut Context, name: &str) -> Result<Address, SdkError>;
    /// The address of the registered module account `name`, without state
    /// (the SDK's `GetModuleAddress`).
    fn registered_module_address(&self, name: &str) -> Option<Address>;
    fn has_permission(&self, module: &str, permission: &str) -> bool;
    /// Whether `addr` belongs to a registered module account.
    fn is_module_address(&self, addr: &Address) -> bool;
}

impl AccountKeeper for AuthKeeper {
    fn ensure_account(&self, ctx: &mut Context, addr: &Address) -> Result<(), SdkError> {
        AuthKeeper::ensure_account(self, ctx, addr)
    }
    fn module_account_address(&self, ctx: &mut Context, name: &str) -> Result<Address, SdkError> {
        self.module_account(ctx, name).map(|a| a.address)
    }
    fn registered_module_address(&self, name: &str) -> Option<Address> {
        self.module_permissions(name).map(|_| Address::module(name))
    }
    fn has_permission(&self, module: &str, permission: &str) -> bool {
        AuthKeeper::has_permission(self, module, permission)
    }
    fn is_module_address(&self, addr: &Address) -> bool {
        self.module_name_of(addr).is_some()
    }
}

pub struct BankKeeper {
    auth: Arc<dyn AccountKeeper>,
    /// Rules on transfers (issuers', compliance), added at wiring and consulted in
    /// that order; none = no rules. Written only while the app is wired, so the
    /// lock is never contended.
    policies: RwLock<Vec<Arc<dyn TransferPolicy>>>,
}

/// One movement of coins, as the policies are asked about it.
#[derive(Clone, Copy)]
struct Movement<'a> {
    from: &'a Address,
    to: &'a Address,
    amt: &'a Coins,
    route: Route<'a>,
    now: BlockTime,
    extensions: &'a [cosmos_sdk_proto::Any],
}

/// What the transfer policies answered for one transfer.
#[derive(Default)]
struct PolicyOutcome {
    /// Fees the sender owes on top.
    fees: Vec<TransferFee>,
    /// The sender's frozen amount of each governed denom moved.
    sender_locks: Vec<(String, u128)>,
    /// The first hold a policy asked for, and which policy (the whole transfer is held).
    hold: Option<(usize, HoldRequest)>,
    /// The policies that count the move once made, and of which coin (index in `amt`).
    track: Vec<(usize, usize, Vec<u8>)>,
}

/// Where a debit learns the frozen part of a balance.
#[derive(Clone, Copy)]
enum Locks<'a> {
    /// Clawback: frozen units may be taken.
    Ignore,
    /// Already answered by the policy for this transfer (denoms not listed: none).
    Known(&'a [(String, u128)]),
    /// Ask the policy.
    Lookup,
}

/// Which checks a movement of coins skips. Only issuer controls use anything but
/// [`Enforcement::Full`]; every user-reachable path is fully checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// The transfer policy and frozen amounts (every ordinary path).
    Full,
    /// Frozen amounts only: an issuer's own action (redeeming from its account)
    /// whose rules the issuing module already checked.
    LocksOnly,
    /// Nothing: clawback, which takes frozen units too.
    None,
}

/// Corrupt stored bytes are a failure of the node, never of the input.
fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("bank: corrupt {what} in store: {e}"))
}

fn stored_amount(what: impl std::fmt::Display, bytes: &[u8]) -> Result<u128, SdkError> {
    let s = std::str::from_utf8(bytes).map_err(|e| corrupt(&what, e))?;
    parse_amount(s).map_err(|e| corrupt(&what, e.log))
}

fn unknown_module(name: &str) -> SdkError {
    sdk::unknown_address(format!("module account {name} does not exist"))
}

impl BankKeeper {
    pub fn new(auth: Arc<dyn AccountKeeper>) -> Self {
        Self { auth, policies: RwLock::new(Vec::new()) }
    }

    /// Adds a transfer policy (at wiring, before the first block).
    pub fn add_transfer_policy(&self, policy: Arc<dyn TransferPolicy>) {
        self.policies.write().unwrap_or_else(|e| e.into_inner()).push(policy);
    }

    /// The policies, in wiring order.
    fn policies(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<dyn TransferPolicy>>> {
        self.policies.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The frozen part of `addr`'s `denom` balance: the largest any policy reports
    /// (0 for ungoverned denoms).
    pub fn locked(&self, state: &dyn StateRead, addr: &Address, denom: &str) -> Result<u128, SdkError> {
        let mut locked = 0;
        for p in self.policies().iter().filter(|p| p.may_govern(denom)) {
            locked = locked.max(p.locked(state, addr, denom)?);
        }
        Ok(locked)
    }

    /// Whether `to` may receive every denom of `amt` at block time `now` (escrow
    /// asks before it takes coins meant for `to`).
    pub fn check_receiver(
        &self,
        state: &dyn StateRead,
        to: &Address,
        amt: &Coins,
        now: BlockTime,
    ) -> Result<(), SdkError> {
        let policies = self.policies();
        for c in amt {
            for p in policies.iter().filter(|p| p.may_govern(&c.denom)) {
                p.check_receiver(state, to, &c.denom, now)?;
            }
        }
        Ok(())
    }

    /// Runs every governing policy over one transfer of `amt`.
    fn check_policy(&self, state: &dyn StateRead, t: Movement<'_>) -> Result<PolicyOutcome, SdkError> {
        let mut out = PolicyOutcome::default();
        let policies = self.policies();
        for (ci, c) in t.amt.iter().enumerate() {
            let mut governed = false;
            let mut locked = 0;
            for (i, p) in policies.iter().enumerate().filter(|(_, p)| p.may_govern(&c.denom)) {
                let tr = Transfer {
                    from: t.from,
                    to: t.to,
                    denom: &c.denom,
                    amount: c.amount,
                    route: t.route,
                    now: t.now,
                    extensions: t.extensions,
                };
                let Verdict { fee, sender_locked, hold, track } =
                    p.check_transfer(state, &tr, &|| self.balance(state, t.to, &c.denom))?;
                if let Some(note) = track {
                    out.track.push((i, ci, note));
                }
                out.fees.extend(fee);
                if out.hold.is_none() {
                    out.hold = hold.map(|h| (i, h));
                }
                locked = locked.max(sender_locked);
                governed = true;
            }
            if governed {
                out.sender_locks.push((c.denom.clone(), locked));
            }
        }
        Ok(out)
    }

    /// Lets the policies that asked count a move just made.
    fn record_tracked(
        &self,
        ctx: &mut Context,
        t: Movement<'_>,
        track: &[(usize, usize, Vec<u8>)],
    ) -> Result<(), SdkError> {
        if track.is_empty() {
            return Ok(());
        }
        let policies: Vec<Arc<dyn TransferPolicy>> = self.policies().iter().cloned().collect();
        for (i, ci, note) in track {
            let (Some(p), Some(c)) = (policies.get(*i), t.amt.iter().nth(*ci)) else {
                return Err(SdkError::fatal("bank: a tracked move names no policy or coin"));
            };
            let tr = Transfer {
                from: t.from,
                to: t.to,
                denom: &c.denom,
                amount: c.amount,
                route: t.route,
                now: t.now,
                extensions: t.extensions,
            };
            p.record_transfer(ctx, &tr, note)?;
        }
        Ok(())
    }

    /// Pays transfer fees from `payer` (after the transfer they belong to).
    fn pay_transfer_fees(
        &self,
        ctx: &mut Context,
        payer: &Address,
        fees: Vec<TransferFee>,
        locks: Locks<'_>,
    ) -> Result<(), SdkError> {
        for fee in fees {
            let amt = Coins::new(vec![Coin::new(fee.amount, fee.denom)])?;
            self.move_coins(ctx, payer, &fee.to, &amt, locks)?;
        }
        Ok(())
    }

    // ---- reads ----

    /// The balance of one denom (0 when none is stored).
    pub fn balance(&self, state: &dyn StateRead, addr: &Address, denom: &str) -> Result<u128, SdkError> {
        match state.get(STORE_KEY, &keys::balance_key(addr, denom))? {
            None => Ok(0),
            Some(b) => stored_amount(format_args!("balance {addr}/{denom}"), &b),
        }
    }

    /// All balances of `addr`, sorted by denom (one prefix scan).
    pub fn all_balances(&self, state: &dyn StateRead, addr: &Address) -> Result<Coins, SdkError> {
        let prefix = keys::balances_prefix(addr);
        let mut coins = Vec::new();
        for entry in state.prefix(STORE_KEY, &prefix, false)? {
            let (key, value) = entry?;
            let denom = String::from_utf8(key[prefix.len()..].to_vec()).map_err(|e| corrupt("balance key", e))?;
            let amount = stored_amount(format_args!("balance {addr}/{denom}"), &value)?;
            coins.push(Coin { denom, amount });
        }
        Coins::new(coins).map_err(|e| corrupt(format_args!("balances of {addr}"), e.log))
    }

    /// Spendable coins: all balances less their frozen parts (paychain has no vesting).
    pub fn spendable_coins(&self, state: &dyn StateRead, addr: &Address) -> Result<Coins, SdkError> {
        let mut out = Vec::new();
        for c in self.all_balances(state, addr)?.into_vec() {
            let free = c.amount.saturating_sub(self.locked(state, addr, &c.denom)?);
            if free > 0 {
                out.push(Coin::new(free, c.denom));
            }
        }
        Coins::new(out)
    }

    /// Every non-empty account balance, sorted by address bytes (for export).
    pub fn all_account_balances(&self, state: &dyn StateRead) -> Result<Vec<(Address, Coins)>, SdkError> {
        let mut by_addr: BTreeMap<Vec<u8>, Vec<Coin>> = BTreeMap::new();
        for entry in state.prefix(STORE_KEY, keys::BALANCES_PREFIX, false)? {
            let (key, value) = entry?;
            let (addr, denom) = keys::split_balance_key(&key).ok_or_else(|| corrupt("balance key", "bad layout"))?;
            let denom = String::from_utf8(denom.to_vec()).map_err(|e| corrupt("balance key", e))?;
            let amount = stored_amount("balance", &value)?;
            by_addr.entry(addr.to_vec()).or_default().push(Coin { denom, amount });
        }
        by_addr
            .into_iter()
            .map(|(addr, coins)| {
                let addr = Address::from_bytes(addr).map_err(|e| corrupt("balance key", e.log))?;
                let coins = Coins::new(coins).map_err(|e| corrupt(format_args!("balances of {addr}"), e.log))?;
                Ok((addr, coins))
            })
            .collect()
    }

    pub fn supply_of(&self, state: &dyn StateRead, denom: &str) -> Result<u128, SdkError> {
        match state.get(STORE_KEY, &keys::supply_key(denom))? {
            None => Ok(0),
            Some(b) => stored_amount(format_args!("supply of {denom}"), &b),
        }
    }

    pub fn total_supply(&self, state: &dyn StateRead) -> Result<Coins, SdkError> {
        let mut coins = Vec::new();
        for entry in state.prefix(STORE_KEY, keys::SUPPLY_PREFIX, false)? {
            let (key, value) = entry?;
            let denom =
                String::from_utf8(key[keys::SUPPLY_PREFIX.len()..].to_vec()).map_err(|e| corrupt("supply key", e))?;
            let amount = stored_amount(format_args!("supply of {denom}"), &value)?;
            coins.push(Coin { denom, amount });
        }
        Coins::new(coins).map_err(|e| corrupt("supply", e.log))
    }

    /// Stored params, or the defaults before genesis wrote any.
    pub fn params(&self, state: &dyn StateRead) -> Result<BankParams, SdkError> {
        match state.get(STORE_KEY, keys::PARAMS_KEY)? {
            None => Ok(BankParams::default()),
            Some(b) => {
                decode_tagged_proto::<Params>(&b).map(|p| BankParams::from_proto(&p)).map_err(|e| corrupt("params", e))
            }
        }
    }

    pub fn set_params(&self, ctx: &mut Context, params: &BankParams) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, keys::PARAMS_KEY.to_vec(), encode_tagged_proto(&params.to_proto()))
    }

    /// The explicit flag of `denom`, if one is set.
    pub fn send_enabled_entry(&self, state: &dyn StateRead, denom: &str) -> Result<Option<bool>, SdkError> {
        match state.get(STORE_KEY, &keys::send_enabled_key(denom))?.as_deref() {
            None => Ok(None),
            Some([1]) => Ok(Some(true)),
            Some([0]) => Ok(Some(false)),
            Some(other) => Err(corrupt(format_args!("send_enabled of {denom}"), format_args!("{other:?}"))),
        }
    }

    pub fn send_enabled_entries(&self, state: &dyn StateRead) -> Result<Vec<SendEnabled>, SdkError> {
        let mut out = Vec::new();
        for entry in state.prefix(STORE_KEY, keys::SEND_ENABLED_PREFIX, false)? {
            let (key, value) = entry?;
            let denom = String::from_utf8(key[1..].to_vec()).map_err(|e| corrupt("send_enabled key", e))?;
            let enabled = match value.as_slice() {
                [1] => true,
                [0] => false,
                other => return Err(corrupt(format_args!("send_enabled of {denom}"), format_args!("{other:?}"))),
            };
            out.push(SendEnabled { denom, enabled });
        }
        Ok(out)
    }

    pub fn is_send_enabled(&self, state: &dyn StateRead, denom: &str) -> Result<bool, SdkError> {
        match self.send_enabled_entry(state, denom)? {
            Some(flag) => Ok(flag),
            None => Ok(self.params(state)?.default_send_enabled),
        }
    }

    /// The SDK's `IsSendEnabledCoins`: bank/5 for the first disabled denom.
    pub fn is_send_enabled_coins(&self, state: &dyn StateRead, coins: &Coins) -> Result<(), SdkError> {
        if coins.is_empty() {
            return Ok(());
        }
        let default = self.params(state)?.default_send_enabled;
        for c in coins {
            if !self.send_enabled_entry(state, &c.denom)?.unwrap_or(default) {
                return Err(errors::send_disabled(format!("{} transfers are currently disabled", c.denom)));
            }
        }
        Ok(())
    }

    pub fn set_send_enabled(&self, ctx: &mut Context, denom: &str, enabled: bool) -> Result<(), SdkError> {
        paychain_framework::coins::validate_denom(denom)?;
        ctx.set(STORE_KEY, keys::send_enabled_key(denom), vec![u8::from(enabled)])
    }

    pub fn denom_metadata(&self, state: &dyn StateRead, denom: &str) -> Result<Option<Metadata>, SdkError> {
        match state.get(STORE_KEY, &keys::denom_metadata_key(denom))? {
            None => Ok(None),
            Some(b) => {
                Metadata::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("metadata of {denom}"), e))
            }
        }
    }

    pub fn all_denom_metadata(&self, state: &dyn StateRead) -> Result<Vec<Metadata>, SdkError> {
        let mut out = Vec::new();
        for entry in state.prefix(STORE_KEY, keys::DENOM_METADATA_PREFIX, false)? {
            let (_, value) = entry?;
            out.push(Metadata::decode(value.as_slice()).map_err(|e| corrupt("denom metadata", e))?);
        }
        Ok(out)
    }

    /// Stores metadata under its base denom, after the SDK's validation.
    pub fn set_denom_metadata(&self, ctx: &mut Context, metadata: &Metadata) -> Result<(), SdkError> {
        validate_metadata(metadata).map_err(|e| sdk::invalid_request(format!("invalid denom metadata: {e}")))?;
        ctx.set(STORE_KEY, keys::denom_metadata_key(&metadata.base), metadata.encode_to_vec())
    }

    /// Module accounts may not receive user sends (the SDK app's blocked
    /// addresses are its module accounts).
    pub fn blocked_addr(&self, addr: &Address) -> bool {
        self.auth.is_module_address(addr)
    }

    pub fn ensure_not_blocked(&self, addr: &Address) -> Result<(), SdkError> {
        if self.blocked_addr(addr) {
            return Err(sdk::unauthorized(format!("{addr} is not allowed to receive funds")));
        }
        Ok(())
    }

    // ---- writes ----

    /// Writes a balance that was `old` and becomes `new`, keeping the reverse
    /// index in step; zero balances are deleted, never stored.
    fn set_balance(
        &self,
        ctx: &mut Context,
        addr: &Address,
        denom: &str,
        old: u128,
        new: u128,
    ) -> Result<(), SdkError> {
        if new == 0 {
            ctx.delete(STORE_KEY, keys::balance_key(addr, denom))?;
            if old != 0 {
                ctx.delete(STORE_KEY, keys::denom_owner_key(denom, addr))?;
            }
        } else {
            ctx.set(STORE_KEY, keys::balance_key(addr, denom), new.to_string().into_bytes())?;
            if old == 0 {
                ctx.set(STORE_KEY, keys::denom_owner_key(denom, addr), keys::INDEX_MARKER.to_vec())?;
            }
        }
        Ok(())
    }

    fn set_supply(&self, ctx: &mut Context, denom: &str, amount: u128) -> Result<(), SdkError> {
        if amount == 0 {
            ctx.delete(STORE_KEY, keys::supply_key(denom))
        } else {
            ctx.set(STORE_KEY, keys::supply_key(denom), amount.to_string().into_bytes())
        }
    }

    /// Takes `amt` from `addr`, all or nothing, then emits `coin_spent`. Frozen
    /// units cannot be taken unless `locks` is [`Locks::Ignore`].
    fn sub_unlocked_coins(
        &self,
        ctx: &mut Context,
        addr: &Address,
        amt: &Coins,
        locks: Locks<'_>,
    ) -> Result<(), SdkError> {
        let mut updates = Vec::with_capacity(amt.len());
        for coin in amt {
            let have = self.balance(ctx, addr, &coin.denom)?;
            let locked = match locks {
                Locks::Ignore => 0,
                Locks::Known(known) => known.iter().find(|(d, _)| *d == coin.denom).map_or(0, |(_, l)| *l),
                Locks::Lookup => self.locked(ctx, addr, &coin.denom)?,
            };
            let spendable = have.saturating_sub(locked);
            if spendable < coin.amount {
                return Err(sdk::insufficient_funds(format!(
                    "spendable balance {} is smaller than {coin}",
                    Coin::new(spendable, coin.denom.clone())
                )));
            }
            let left = have - coin.amount;
            updates.push((coin.denom.as_str(), have, left));
        }
        for (denom, have, left) in updates {
            self.set_balance(ctx, addr, denom, have, left)?;
        }
        ctx.emit(events::coin_spent(addr, amt));
        Ok(())
    }

    /// Adds `amt` to `addr`, then emits `coin_received`.
    fn add_coins(&self, ctx: &mut Context, addr: &Address, amt: &Coins) -> Result<(), SdkError> {
        for coin in amt {
            let have = self.balance(ctx, addr, &coin.denom)?;
            let new = have
                .checked_add(coin.amount)
                .ok_or_else(|| sdk::invalid_coins(format!("balance of {addr} in {} overflows", coin.denom)))?;
            self.set_balance(ctx, addr, &coin.denom, have, new)?;
        }
        ctx.emit(events::coin_received(addr, amt));
        Ok(())
    }

    /// The SDK's `SendCoins`: `coin_spent`, `coin_received`, then
    /// `transfer{recipient, sender, amount}` and `message{sender}`. Creates the
    /// recipient's account if missing. Insufficient funds: sdk/5 with the SDK's
    /// text, and nothing written.
    /// The transfer policy applies; a transfer fee it asks for follows as a second
    /// transfer from the sender to the issuer's treasury.
    pub fn send_coins(&self, ctx: &mut Context, from: &Address, to: &Address, amt: &Coins) -> Result<(), SdkError> {
        self.send_coins_routed(ctx, from, to, amt, Route::Local)
    }

    /// [`BankKeeper::send_coins`] for an IBC transfer's escrow and unescrow (see [`Route`]).
    pub fn send_coins_routed(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amt: &Coins,
        route: Route<'_>,
    ) -> Result<(), SdkError> {
        let (now, extensions) = (ctx.block.time, ctx.tx_extensions());
        let movement = Movement { from, to, amt, route, now, extensions };
        let checked = self.check_policy(ctx, movement)?;
        let dest = match &checked.hold {
            Some(hold) => &self.record_hold(ctx, from, to, amt, hold)?,
            None => to,
        };
        self.move_coins(ctx, from, dest, amt, Locks::Known(&checked.sender_locks))?;
        self.record_tracked(ctx, movement, &checked.track)?;
        self.pay_transfer_fees(ctx, from, checked.fees, Locks::Known(&checked.sender_locks))
    }

    /// Has the policy that asked for a hold record it; returns the account the
    /// coins go to instead of the recipient.
    fn record_hold(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amt: &Coins,
        (policy, request): &(usize, HoldRequest),
    ) -> Result<Address, SdkError> {
        let p = self.policies().get(*policy).cloned().ok_or_else(|| SdkError::fatal("bank: hold of unknown policy"))?;
        p.record_hold(ctx, from, to, amt, request)
    }

    /// The policies' verdict on a transfer in `ctx` (its block time, its tx's extensions), without making it
    /// (IBC validates a packet before it executes it).
    pub fn check_send(
        &self,
        ctx: &Context,
        from: &Address,
        to: &Address,
        amt: &Coins,
        route: Route<'_>,
    ) -> Result<(), SdkError> {
        let (now, extensions) = (ctx.block.time, ctx.tx_extensions());
        self.check_policy(ctx, Movement { from, to, amt, route, now, extensions }).map(|_| ())
    }

    /// [`BankKeeper::send_coins`] with fewer checks, for issuer controls only (see
    /// [`Enforcement`]); the events are the same.
    pub fn send_coins_enforced(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amt: &Coins,
        enforcement: Enforcement,
    ) -> Result<(), SdkError> {
        match enforcement {
            Enforcement::Full => self.send_coins_routed(ctx, from, to, amt, Route::Local),
            Enforcement::LocksOnly => self.move_coins(ctx, from, to, amt, Locks::Lookup),
            Enforcement::None => self.move_coins(ctx, from, to, amt, Locks::Ignore),
        }
    }

    fn move_coins(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amt: &Coins,
        locks: Locks<'_>,
    ) -> Result<(), SdkError> {
        self.sub_unlocked_coins(ctx, from, amt, locks)?;
        self.add_coins(ctx, to, amt)?;
        self.auth.ensure_account(ctx, to)?;
        ctx.emit(events::transfer(to, from, amt));
        ctx.emit(events::message_sender(from));
        Ok(())
    }

    /// The SDK's `InputOutputCoins`: `coin_spent` and `message{sender}` for the
    /// input, then per output `coin_received` and `transfer{recipient, amount}`.
    pub fn input_output_coins(&self, ctx: &mut Context, input: &Input, outputs: &[Output]) -> Result<(), SdkError> {
        validate_input_outputs(input, outputs)?;
        self.sub_unlocked_coins(ctx, &input.address, &input.coins, Locks::Lookup)?;
        ctx.emit(events::message_sender(&input.address));
        let mut fees = Vec::new();
        for out in outputs {
            // Checked one output at a time, after the ones before it landed: two outputs
            // to one account must not pass a balance cap that their sum exceeds.
            let (now, extensions) = (ctx.block.time, ctx.tx_extensions());
            let movement = Movement {
                from: &input.address,
                to: &out.address,
                amt: &out.coins,
                route: Route::Local,
                now,
                extensions,
            };
            let checked = self.check_policy(ctx, movement)?;
            fees.extend(checked.fees);
            let to = match &checked.hold {
                Some(hold) => &self.record_hold(ctx, &input.address, &out.address, &out.coins, hold)?,
                None => &out.address,
            };
            self.add_coins(ctx, to, &out.coins)?;
            ctx.emit(events::transfer_output(to, &out.coins));
            self.auth.ensure_account(ctx, to)?;
            self.record_tracked(ctx, movement, &checked.track)?;
        }
        self.pay_transfer_fees(ctx, &input.address, fees, Locks::Lookup)
    }

    pub fn send_coins_from_account_to_module(
        &self,
        ctx: &mut Context,
        from: &Address,
        module: &str,
        amt: &Coins,
    ) -> Result<(), SdkError> {
        let to = self.auth.module_account_address(ctx, module)?;
        self.send_coins(ctx, from, &to, amt)
    }

    /// Refuses module-account recipients, as the SDK does.
    pub fn send_coins_from_module_to_account(
        &self,
        ctx: &mut Context,
        module: &str,
        to: &Address,
        amt: &Coins,
    ) -> Result<(), SdkError> {
        let from = self.auth.registered_module_address(module).ok_or_else(|| unknown_module(module))?;
        self.ensure_not_blocked(to)?;
        self.send_coins(ctx, &from, to, amt)
    }

    pub fn send_coins_from_module_to_module(
        &self,
        ctx: &mut Context,
        from_module: &str,
        to_module: &str,
        amt: &Coins,
    ) -> Result<(), SdkError> {
        let from = self.auth.registered_module_address(from_module).ok_or_else(|| unknown_module(from_module))?;
        let to = self.auth.module_account_address(ctx, to_module)?;
        self.send_coins(ctx, &from, &to, amt)
    }

    /// Creates coins in a module account with the `minter` permission:
    /// `coin_received`, then `coinbase{minter, amount}`.
    pub fn mint_coins(&self, ctx: &mut Context, module: &str, amt: &Coins) -> Result<(), SdkError> {
        if self.auth.registered_module_address(module).is_none() {
            return Err(unknown_module(module));
        }
        if !self.auth.has_permission(module, MINTER) {
            return Err(sdk::unauthorized(format!("module account {module} does not have permissions to mint tokens")));
        }
        // Supply bounds every balance, so checking it first also rules out
        // balance overflow.
        let mut supplies = Vec::with_capacity(amt.len());
        for c in amt {
            let s = self.supply_of(ctx, &c.denom)?;
            let s = s
                .checked_add(c.amount)
                .ok_or_else(|| sdk::invalid_coins(format!("minting {c} overflows the supply of {}", c.denom)))?;
            supplies.push((c.denom.as_str(), s));
        }
        let addr = self.auth.module_account_address(ctx, module)?;
        self.add_coins(ctx, &addr, amt)?;
        for (denom, s) in supplies {
            self.set_supply(ctx, denom, s)?;
        }
        ctx.emit(events::coinbase(&addr, amt));
        Ok(())
    }

    /// Destroys coins held by a module account with the `burner` permission:
    /// `coin_spent`, then `burn{burner, amount}`.
    pub fn burn_coins(&self, ctx: &mut Context, module: &str, amt: &Coins) -> Result<(), SdkError> {
        if self.auth.registered_module_address(module).is_none() {
            return Err(unknown_module(module));
        }
        if !self.auth.has_permission(module, BURNER) {
            return Err(sdk::unauthorized(format!("module account {module} does not have permissions to burn tokens")));
        }
        let addr = self.auth.module_account_address(ctx, module)?;
        self.sub_unlocked_coins(ctx, &addr, amt, Locks::Lookup)?;
        for c in amt {
            let s = self.supply_of(ctx, &c.denom)?;
            // A balance exceeding the supply means the invariant is already broken.
            let s = s
                .checked_sub(c.amount)
                .ok_or_else(|| SdkError::fatal(format!("bank: burning {c} exceeds the supply {s}{}", c.denom)))?;
            self.set_supply(ctx, &c.denom, s)?;
        }
        ctx.emit(events::burn(&addr, amt));
        Ok(())
    }

    // ---- message handlers (the SDK's msg_server.go) ----

    pub fn handle_send(&self, ctx: &mut Context, msg: &MsgSend) -> Result<(), SdkError> {
        self.is_send_enabled_coins(ctx, &msg.amount)?;
        self.ensure_not_blocked(&msg.to_address)?;
        self.send_coins(ctx, &msg.from_address, &msg.to_address, &msg.amount)
    }

    pub fn handle_multi_send(&self, ctx: &mut Context, msg: &MsgMultiSend) -> Result<(), SdkError> {
        self.is_send_enabled_coins(ctx, &msg.input.coins)?;
        for out in &msg.outputs {
            self.ensure_not_blocked(&out.address)?;
        }
        self.input_output_coins(ctx, &msg.input, &msg.outputs)
    }

    // ---- genesis helpers ----

    /// Writes a genesis balance into an empty slot (no events, no supply).
    pub(crate) fn init_balance(&self, ctx: &mut Context, addr: &Address, coin: &Coin) -> Result<(), SdkError> {
        let old = self.balance(ctx, addr, &coin.denom)?;
        self.set_balance(ctx, addr, &coin.denom, old, coin.amount)
    }

    pub(crate) fn init_supply(&self, ctx: &mut Context, coin: &Coin) -> Result<(), SdkError> {
        self.set_supply(ctx, &coin.denom, coin.amount)
    }

    pub(crate) fn ensure_account(&self, ctx: &mut Context, addr: &Address) -> Result<(), SdkError> {
        self.auth.ensure_account(ctx, addr)
    }

    // ---- invariants ----

    /// Total supply per denom equals the sum of balances; no zero balance is
    /// stored; the denom -> owner index matches the balances exactly.
    pub fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        // One sequential scan of each side (no lookup per balance: at 10M accounts those are
        // random reads); only a mismatch pays for the search that names it.
        let mut sums: BTreeMap<String, u128> = BTreeMap::new();
        let mut balances = SetDigest::default();
        for entry in state.prefix(STORE_KEY, keys::BALANCES_PREFIX, false).map_err(|e| e.log)? {
            let (key, value) = entry.map_err(|e| e.log)?;
            let (addr, denom) =
                keys::split_balance_key(&key).ok_or_else(|| format!("bank: malformed balance key {key:?}"))?;
            let addr =
                Address::from_bytes(addr.to_vec()).map_err(|e| format!("bank: balance key address: {}", e.log))?;
            let denom = std::str::from_utf8(denom).map_err(|e| format!("bank: balance key denom: {e}"))?;
            let amount = stored_amount("balance", &value).map_err(|e| e.log)?;
            if amount == 0 {
                return Err(format!("bank: zero balance stored for {addr} in {denom}"));
            }
            balances.add(&[denom.as_bytes(), addr.as_bytes()]);
            // (A key is allocated only for a denom's first balance.)
            match sums.get_mut(denom) {
                Some(sum) => {
                    *sum = sum.checked_add(amount).ok_or_else(|| format!("bank: sum of {denom} balances overflows"))?
                }
                None => {
                    sums.insert(denom.to_string(), amount);
                }
            }
        }
        let mut indexed = SetDigest::default();
        for entry in state.prefix(STORE_KEY, keys::DENOM_ADDRESS_PREFIX, false).map_err(|e| e.log)? {
            let (key, _) = entry.map_err(|e| e.log)?;
            let (denom, addr) = keys::split_denom_owner_key(&key)
                .ok_or_else(|| format!("bank: malformed denom owner index key {key:?}"))?;
            indexed.add(&[denom, addr]);
        }
        if indexed != balances {
            return Err(self.locate_owner_index_mismatch(state, balances.count(), indexed.count()));
        }
        let supply = self.total_supply(state).map_err(|e| e.log)?;
        for c in &supply {
            let sum = sums.remove(&c.denom).unwrap_or(0);
            if sum != c.amount {
                return Err(format!(
                    "bank: total supply invariant broken for {}: supply {} != sum of balances {sum}",
                    c.denom, c.amount
                ));
            }
        }
        if let Some((denom, sum)) = sums.into_iter().next() {
            return Err(format!("bank: total supply invariant broken for {denom}: supply 0 != sum of balances {sum}"));
        }
        Ok(())
    }

    /// Names what differs between the balances and the denom→owner index (they hold
    /// `balances` and `indexed` entries and their digests differ).
    fn locate_owner_index_mismatch(&self, state: &dyn StateRead, balances: u64, indexed: u64) -> String {
        let search = || -> Result<Option<String>, SdkError> {
            for entry in state.prefix(STORE_KEY, keys::BALANCES_PREFIX, false)? {
                let (key, _) = entry?;
                let Some((addr, denom)) = keys::split_balance_key(&key) else { continue };
                let (Ok(addr), Ok(denom)) = (Address::from_bytes(addr.to_vec()), std::str::from_utf8(denom)) else {
                    continue;
                };
                if state.get(STORE_KEY, &keys::denom_owner_key(denom, &addr))?.is_none() {
                    return Ok(Some(format!("bank: denom owner index lacks {addr} for {denom}")));
                }
            }
            for entry in state.prefix(STORE_KEY, keys::DENOM_ADDRESS_PREFIX, false)? {
                let (key, _) = entry?;
                let Some((denom, addr)) = keys::split_denom_owner_key(&key) else { continue };
                let (Ok(addr), Ok(denom)) = (Address::from_bytes(addr.to_vec()), std::str::from_utf8(denom)) else {
                    continue;
                };
                if state.get(STORE_KEY, &keys::balance_key(&addr, denom))?.is_none() {
                    return Ok(Some(format!("bank: denom owner index names {addr} for {denom}, which holds none")));
                }
            }
            Ok(None)
        };
        match search() {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => format!("bank: {indexed} denom owner index entries for {balances} balances"),
        }
    }
}
