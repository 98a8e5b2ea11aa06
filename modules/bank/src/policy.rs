//! The seam through which an issuer's rules reach every movement of coins.
//!
//! Bank knows nothing of issued tokens or compliance; the app gives it
//! [`TransferPolicy`]s (the assets module's issuer rules, the compliance module's
//! transfer policies) and bank consults every one that may govern a denom in
//! `send_coins`, `input_output_coins` and every path built on them: sends,
//! multi-sends, fees, escrow, IBC transfers, mints to accounts. A transfer passes
//! only if every policy passes it; the frozen part of a balance is the largest any
//! policy reports; every fee asked for is paid. A denom a policy does not govern
//! costs one string check.

use paychain_framework::{Address, BlockTime, Coins, Context, SdkError, StateRead};

/// Which way coins go. IBC transfers move coins between an account and a
/// channel's escrow address, which is no module account but must be treated as one:
/// it is never frozen, allowlisted or capped, and only the chain-side party's
/// rules apply.
/// The IBC routes name our end of the channel (`channel-0`; port `transfer`), for
/// limits per corridor, and the packet's memo (travel-rule data rides in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// Between two accounts of this chain (modules included).
    Local,
    /// From `from` out through a channel: into its escrow, or burnt (a voucher going home).
    IbcOut { channel: &'a str, memo: &'a str },
    /// To `to` in through a channel: from its escrow, or minted (a voucher arriving).
    /// `memo` is the received packet's; `None` for a refund of our own transfer
    /// (a timeout or an error acknowledgement), which is no new transfer.
    IbcIn { channel: &'a str, memo: Option<&'a str> },
}

impl<'a> Route<'a> {
    /// The route's name in events and rules: `local`, `ibc_out` or `ibc_in`.
    pub fn kind(self) -> &'static str {
        match self {
            Route::Local => "local",
            Route::IbcOut { .. } => "ibc_out",
            Route::IbcIn { .. } => "ibc_in",
        }
    }

    /// The channel an IBC route goes through (empty for a local move).
    pub fn channel(self) -> &'a str {
        match self {
            Route::Local => "",
            Route::IbcOut { channel, .. } | Route::IbcIn { channel, .. } => channel,
        }
    }

    pub fn is_ibc_out(self) -> bool {
        matches!(self, Route::IbcOut { .. })
    }

    pub fn is_ibc_in(self) -> bool {
        matches!(self, Route::IbcIn { .. })
    }
}

/// One coin about to move, as the policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct Transfer<'a> {
    pub from: &'a Address,
    pub to: &'a Address,
    pub denom: &'a str,
    pub amount: u128,
    pub route: Route<'a>,
    /// The block time (credentials and other rules that end at a time).
    pub now: BlockTime,
    /// The extension options of the tx the move is part of (a travel-rule record);
    /// empty outside a tx (end block, genesis).
    pub extensions: &'a [cosmos_sdk_proto::Any],
}

/// The policy's answer for one coin's move.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// A fee the sender owes on top.
    pub fee: Option<TransferFee>,
    /// The sender's frozen amount of the denom, which the move must leave in place
    /// (answered here so the move does not read the same records again).
    pub sender_locked: u128,
    /// Instead of reaching the recipient, the coins go into a hold for review
    /// ([`TransferPolicy::record_hold`]).
    pub hold: Option<HoldRequest>,
    /// The policy wants to see the move once it is made
    /// ([`TransferPolicy::record_transfer`]: velocity limits, logs), with a note of
    /// what its check found (so the record agrees with the check).
    pub track: Option<Vec<u8>>,
}

/// A policy's request to hold a transfer for review instead of refusing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRequest {
    pub policy_id: u64,
    pub policy_version: u64,
    /// Why (the refusal the hold stands in for).
    pub reason: String,
    pub hold_seconds: u64,
}

/// A fee the sender pays on top of a transfer, to `to` (an issuer's treasury).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferFee {
    pub to: Address,
    pub denom: String,
    pub amount: u128,
}

/// Rules on some denoms, enforced by bank on every ordinary movement of coins.
/// Implementations read state only; bank does the writing.
pub trait TransferPolicy: Send + Sync {
    /// Whether `denom` may have rules at all: a check of its shape, no state read,
    /// so plain denoms (the fee token, IBC vouchers) pay nothing for the seam.
    fn may_govern(&self, denom: &str) -> bool;

    /// The part of `addr`'s balance of `denom` that no ordinary spend may take
    /// (fees included); it may exceed the balance.
    fn locked(&self, state: &dyn StateRead, addr: &Address, denom: &str) -> Result<u128, SdkError>;

    /// Checks one coin's move. `to_balance` reads the recipient's balance before the
    /// move, for policies with balance caps (only they pay for the read).
    fn check_transfer(
        &self,
        state: &dyn StateRead,
        transfer: &Transfer<'_>,
        to_balance: &dyn Fn() -> Result<u128, SdkError>,
    ) -> Result<Verdict, SdkError>;

    /// Checks that `to` may receive `denom` at all (a module that holds coins for a
    /// later recipient, such as escrow, asks before it takes them).
    fn check_receiver(&self, state: &dyn StateRead, to: &Address, denom: &str, now: BlockTime) -> Result<(), SdkError>;

    /// Records a hold this policy asked for (`Verdict::hold`) of `amount` sent by
    /// `from` to `to`, and names the account bank must move the coins into.
    fn record_hold(
        &self,
        ctx: &mut Context,
        from: &Address,
        to: &Address,
        amount: &Coins,
        request: &HoldRequest,
    ) -> Result<Address, SdkError> {
        let _ = (ctx, from, to, amount, request);
        Err(SdkError::fatal("bank: a policy asked for a hold it cannot record"))
    }

    /// Records a move this policy passed with `Verdict::track`, once it is made
    /// (as asked: `transfer.to` is the recipient named, even when the coins went
    /// into a hold), with the check's `note`.
    fn record_transfer(&self, ctx: &mut Context, transfer: &Transfer<'_>, note: &[u8]) -> Result<(), SdkError> {
        let _ = (ctx, transfer, note);
        Err(SdkError::fatal("bank: a policy asked to track a move it cannot record"))
    }
}
