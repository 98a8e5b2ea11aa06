//! ICS-20 over our bank: native tokens are escrowed at a per-channel escrow address,
//! vouchers are minted as `ibc/<SHA256(trace)>` by the `transfer` module account (and burned
//! when they go back), and every voucher's trace is stored so `ibc/<HASH>` can be resolved.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use ibc::apps::transfer::context::{TokenTransferExecutionContext, TokenTransferValidationContext};
use ibc::apps::transfer::module as ics20;
use ibc::apps::transfer::types::error::TokenTransferError;
use ibc::apps::transfer::types::{Memo, PrefixedCoin, PrefixedDenom};
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module as IbcModule;
use ibc::core::router::router::Router;
use ibc::core::router::types::event::ModuleEvent;
use ibc::core::router::types::module::{ModuleExtras, ModuleId};
use ibc::primitives::Signer;
use paychain_auth::AuthKeeper;
use paychain_bank::{BankKeeper, Route};
use paychain_framework::{Address, Coin, Coins, SdkError, StateRead};
use sha2::{Digest, Sha256};

use crate::host::IbcHost;
use crate::keys::{self, TRANSFER_STORE};
use crate::types::{DenomTrace, TransferParams};

pub const PORT_ID: &str = "transfer";
/// Name of the module account that mints and burns vouchers.
pub const MODULE_ACCOUNT: &str = "transfer";
pub const VOUCHER_PREFIX: &str = "ibc/";

/// ibc-go's escrow address of a channel: the first 20 bytes of
/// sha256("ics20-1" || 0x00 || "{port}/{channel}").
pub fn escrow_address(port: &str, channel: &str) -> Address {
    let mut h = Sha256::new();
    h.update(b"ics20-1");
    h.update([0u8]);
    h.update(format!("{port}/{channel}").as_bytes());
    Address::from_bytes(h.finalize()[..20].to_vec()).expect("20 bytes is a valid address")
}

pub fn denom_hash(full_path: &str) -> [u8; 32] {
    Sha256::digest(full_path.as_bytes()).into()
}

/// The bank denom of an ICS-20 denom: itself when it has no trace, else `ibc/<HASH>`.
pub fn bank_denom(full_path: &str) -> String {
    if DenomTrace::parse(full_path).is_ok_and(|t| t.path.is_empty()) {
        full_path.to_string()
    } else {
        format!("{VOUCHER_PREFIX}{}", hex::encode_upper(denom_hash(full_path)))
    }
}

fn params(state: &dyn StateRead) -> Result<TransferParams, SdkError> {
    match state.get(TRANSFER_STORE, keys::TRANSFER_PARAMS)? {
        None => Ok(TransferParams::default()),
        Some(b) if b.len() == 2 => Ok(TransferParams { send_enabled: b[0] == 1, receive_enabled: b[1] == 1 }),
        Some(b) => Err(SdkError::fatal(format!("transfer: corrupt params {}", hex::encode(b)))),
    }
}

pub fn read_params(state: &dyn StateRead) -> Result<TransferParams, SdkError> {
    params(state)
}

pub fn params_value(p: &TransferParams) -> Vec<u8> {
    vec![u8::from(p.send_enabled), u8::from(p.receive_enabled)]
}

/// The full trace of `ibc/<HASH>`, if known.
pub fn denom_trace(state: &dyn StateRead, hash_hex: &str) -> Result<Option<DenomTrace>, SdkError> {
    let Ok(bytes) = hex::decode(hash_hex) else { return Ok(None) };
    let Ok(hash) = <[u8; 32]>::try_from(bytes) else { return Ok(None) };
    match state.get(TRANSFER_STORE, &keys::denom_trace(&hash))? {
        None => Ok(None),
        Some(b) => {
            let full = String::from_utf8(b).map_err(|e| SdkError::fatal(format!("transfer: corrupt trace: {e}")))?;
            DenomTrace::parse(&full).map(Some).map_err(|e| SdkError::fatal(format!("transfer: corrupt trace: {e}")))
        }
    }
}

pub fn total_escrow(state: &dyn StateRead, denom: &str) -> Result<u128, SdkError> {
    match state.get(TRANSFER_STORE, &keys::total_escrow(denom))? {
        None => Ok(0),
        Some(b) => std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| SdkError::fatal(format!("transfer: corrupt total escrow of {denom}"))),
    }
}

/// The ICS-20 application, sharing the message's state with the core host.
pub struct TransferApp<'a, 'b> {
    host: IbcHost<'a, 'b>,
    bank: Arc<BankKeeper>,
    auth: Arc<AuthKeeper>,
    /// The memo of the packet being received (the token-transfer callbacks do not
    /// pass it); `None` outside a receive, i.e. while refunding our own transfer.
    recv_memo: Option<String>,
    /// The first refusal of a module underneath (a transfer policy, bank), so that a
    /// refused MsgTransfer fails with that module's code rather than ibc-rs's wrapper.
    refusal: RefCell<Option<SdkError>>,
}

impl fmt::Debug for TransferApp<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransferApp")
    }
}

fn host_err(e: SdkError) -> HostError {
    HostError::invalid_state(e.log)
}

/// ibc-rs 0.57 writes an ICS-20 error acknowledgement as `{"error":"<reason>"}`
/// with the reason pasted in unescaped (`format!`): a reason holding a `"` or a
/// `\` (a receiver string is echoed in it) is not JSON, ibc-go cannot decode it,
/// and the sender's coins stay in its escrow for good. This is that reason, if
/// `ack` is such an error acknowledgement.
fn recv_error_text(ack: &Acknowledgement) -> Option<String> {
    let inner = ack.as_bytes().strip_prefix(br#"{"error":""#)?.strip_suffix(br#""}"#)?;
    Some(String::from_utf8_lossy(inner).into_owned())
}

/// The ABCI code in our ICS-20 error acknowledgements. ibc-rs's transfer errors
/// carry no registered codes, so one fixed code; the reason is in the event.
pub const RECV_ERROR_ACK_CODE: u32 = 1;

/// The error acknowledgement exactly as ibc-go writes it
/// (`channeltypes.NewErrorAcknowledgement`): valid JSON of
/// `ibc.core.channel.v1.Acknowledgement` whose text holds only the code, since
/// the acknowledgement's commitment is consensus state on both chains and an
/// error's wording may change between versions.
pub fn ibc_go_error_ack(code: u32) -> Acknowledgement {
    let text = format!("ABCI code: {code}: error handling packet: see events for details");
    let json = serde_json::json!({ "error": text }).to_string();
    Acknowledgement::try_from(json.into_bytes()).expect("a non-empty acknowledgement")
}

fn app_err(e: TokenTransferError) -> ChannelError {
    ChannelError::AppSpecific { description: e.to_string() }
}

impl<'a, 'b> TransferApp<'a, 'b> {
    pub fn new(host: IbcHost<'a, 'b>, bank: Arc<BankKeeper>, auth: Arc<AuthKeeper>) -> Self {
        Self { host, bank, auth, recv_memo: None, refusal: RefCell::new(None) }
    }

    /// Runs `f` with the message's context; a failure of the state itself is kept aside by the
    /// host (see [`IbcHost::take_state_failure`]).
    fn with_ctx<T>(
        &self,
        f: impl FnOnce(&mut paychain_framework::Context<'b>) -> Result<T, SdkError>,
    ) -> Result<T, HostError> {
        let mut guard = self.host.ctx.borrow_mut();
        let result = f(&mut guard);
        drop(guard);
        result.map_err(|e| self.fail(e))
    }

    fn fail(&self, e: SdkError) -> HostError {
        if e.fatal || e.code == 11 {
            self.host.state_err(e)
        } else {
            self.refusal.borrow_mut().get_or_insert_with(|| e.clone());
            host_err(e)
        }
    }

    /// The module refusal that `error` (what ibc-rs made of it) reports, if it is one.
    pub fn refusal_behind(&self, error: &str) -> Option<SdkError> {
        self.refusal.borrow_mut().take().filter(|r| !r.log.is_empty() && error.contains(&r.log))
    }

    fn read_state<T>(&self, f: impl FnOnce(&dyn StateRead) -> Result<T, SdkError>) -> Result<T, HostError> {
        let guard = self.host.ctx.borrow();
        let result = f(&**guard);
        drop(guard);
        result.map_err(|e| self.fail(e))
    }

    /// Asks bank's transfer policies about a move at this block's time.
    fn check_send(&self, from: &Address, to: &Address, coins: &Coins, route: Route<'_>) -> Result<(), HostError> {
        let guard = self.host.ctx.borrow();
        let result = self.bank.check_send(&guard, from, to, coins, route);
        drop(guard);
        result.map_err(|e| self.fail(e))
    }

    fn coins(&self, coin: &PrefixedCoin) -> Result<(String, Coins), HostError> {
        let denom = bank_denom(&coin.denom.to_string());
        let limbs: [u64; 4] = *coin.amount;
        if limbs[2] != 0 || limbs[3] != 0 {
            return Err(HostError::invalid_state(format!("amount of {} does not fit in 128 bits", coin.denom)));
        }
        let amount = (u128::from(limbs[1]) << 64) | u128::from(limbs[0]);
        if amount == 0 {
            return Err(HostError::invalid_state("amount must be positive"));
        }
        let coins = Coins::new(vec![Coin::new(amount, denom.clone())]).map_err(host_err)?;
        Ok((denom, coins))
    }

    fn has_balance(&self, account: &Address, coins: &Coins) -> Result<(), HostError> {
        let bank = self.bank.clone();
        self.read_state(|state| {
            for c in coins.iter() {
                let have = bank.balance(state, account, &c.denom)?;
                if have < c.amount {
                    return Err(paychain_framework::sdk::insufficient_funds(format!(
                        "spendable balance {have}{} is smaller than {c}",
                        c.denom
                    )));
                }
            }
            Ok(())
        })
    }

    fn not_module_account(&self, account: &Address) -> Result<(), HostError> {
        if self.bank.blocked_addr(account) {
            return Err(HostError::invalid_state(format!("{account} is not allowed to receive funds")));
        }
        Ok(())
    }

    fn add_total_escrow(&self, denom: &str, delta: i128) -> Result<(), HostError> {
        self.with_ctx(|ctx| {
            let now = total_escrow(ctx, denom)?;
            let next = if delta >= 0 { now.checked_add(delta as u128) } else { now.checked_sub(delta.unsigned_abs()) }
                .ok_or_else(|| SdkError::fatal(format!("transfer: total escrow of {denom} out of range")))?;
            if next == 0 {
                ctx.delete(TRANSFER_STORE, keys::total_escrow(denom))
            } else {
                ctx.set(TRANSFER_STORE, keys::total_escrow(denom), next.to_string().into_bytes())
            }
        })
    }
}

/// Our end of the channel a voucher moves through: the first hop of its trace
/// (`transfer/channel-3/uatom` came in, and goes home, by `channel-3`).
fn voucher_channel(coin: &PrefixedCoin) -> Result<String, HostError> {
    let full = coin.denom.to_string();
    let mut hops = full.split('/');
    match (hops.next(), hops.next()) {
        (Some(_port), Some(channel)) if channel.starts_with("channel-") => Ok(channel.to_string()),
        _ => Err(HostError::invalid_state(format!("{full} names no channel it moves through"))),
    }
}

fn signed_delta(coins: &Coins) -> i128 {
    coins.iter().next().map_or(0, |c| c.amount as i128)
}

impl TokenTransferValidationContext for TransferApp<'_, '_> {
    type AccountId = Address;

    fn sender_account(&self, sender: &Signer) -> Result<Address, HostError> {
        Address::from_bech32(sender.as_ref()).map_err(|e| HostError::invalid_state(format!("sender: {}", e.log)))
    }

    fn receiver_account(&self, receiver: &Signer) -> Result<Address, HostError> {
        Address::from_bech32(receiver.as_ref()).map_err(|e| HostError::invalid_state(format!("receiver: {}", e.log)))
    }

    fn get_port(&self) -> Result<PortId, HostError> {
        Ok(PortId::transfer())
    }

    fn can_send_coins(&self) -> Result<(), HostError> {
        if self.read_state(params)?.send_enabled {
            Ok(())
        } else {
            Err(HostError::invalid_state("fungible token transfers from this chain are disabled"))
        }
    }

    fn can_receive_coins(&self) -> Result<(), HostError> {
        if self.read_state(params)?.receive_enabled {
            Ok(())
        } else {
            Err(HostError::invalid_state("fungible token transfers to this chain are disabled"))
        }
    }

    fn escrow_coins_validate(
        &self,
        from: &Address,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
        memo: &Memo,
    ) -> Result<(), HostError> {
        let (_, coins) = self.coins(coin)?;
        let bank = self.bank.clone();
        let escrow = escrow_address(port_id.as_str(), channel_id.as_str());
        self.read_state(|s| bank.is_send_enabled_coins(s, &coins))?;
        // An issuer's rules (the IBC feature, a pause, a frozen sender) and the
        // compliance policies on the sender.
        self.check_send(from, &escrow, &coins, Route::IbcOut { channel: channel_id.as_str(), memo: memo.as_ref() })?;
        self.has_balance(from, &coins)
    }

    fn unescrow_coins_validate(
        &self,
        to: &Address,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        let (_, coins) = self.coins(coin)?;
        self.not_module_account(to)?;
        let escrow = escrow_address(port_id.as_str(), channel_id.as_str());
        // An issuer's rules on our token coming home (a pause, a frozen or not
        // allowlisted receiver) and the compliance policies on the receiver: refused
        // here, the sender gets an error acknowledgement and its refund.
        let route = Route::IbcIn { channel: channel_id.as_str(), memo: self.recv_memo.as_deref() };
        self.check_send(&escrow, to, &coins, route)?;
        self.has_balance(&escrow, &coins)
    }

    fn mint_coins_validate(&self, to: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        let (denom, coins) = self.coins(coin)?;
        self.not_module_account(to)?;
        // A voucher arriving passes the compliance policies on its receiver, as
        // our own tokens coming home do.
        let channel = voucher_channel(coin)?;
        let route = Route::IbcIn { channel: &channel, memo: self.recv_memo.as_deref() };
        self.check_send(&Address::module(MODULE_ACCOUNT), to, &coins, route)?;
        let bank = self.bank.clone();
        self.read_state(|s| {
            let supply = bank.supply_of(s, &denom)?;
            supply.checked_add(signed_delta(&coins) as u128).map(|_| ()).ok_or_else(|| {
                paychain_framework::sdk::invalid_coins(format!("minting {coins:?} overflows the supply"))
            })
        })
    }

    fn burn_coins_validate(&self, from: &Address, coin: &PrefixedCoin, memo: &Memo) -> Result<(), HostError> {
        let (_, coins) = self.coins(coin)?;
        // A voucher going home leaves through the channel it came in by.
        let channel = voucher_channel(coin)?;
        let route = Route::IbcOut { channel: &channel, memo: memo.as_ref() };
        self.check_send(from, &Address::module(MODULE_ACCOUNT), &coins, route)?;
        self.has_balance(from, &coins)
    }

    fn denom_hash_string(&self, denom: &PrefixedDenom) -> Option<String> {
        Some(hex::encode_upper(denom_hash(&denom.to_string())))
    }
}

impl TokenTransferExecutionContext for TransferApp<'_, '_> {
    fn escrow_coins_execute(
        &mut self,
        from: &Address,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
        memo: &Memo,
    ) -> Result<(), HostError> {
        let (denom, coins) = self.coins(coin)?;
        let escrow = escrow_address(port_id.as_str(), channel_id.as_str());
        let bank = self.bank.clone();
        let route = Route::IbcOut { channel: channel_id.as_str(), memo: memo.as_ref() };
        self.with_ctx(|ctx| bank.send_coins_routed(ctx, from, &escrow, &coins, route))?;
        self.add_total_escrow(&denom, signed_delta(&coins))
    }

    fn unescrow_coins_execute(
        &mut self,
        to: &Address,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        let (denom, coins) = self.coins(coin)?;
        let escrow = escrow_address(port_id.as_str(), channel_id.as_str());
        let bank = self.bank.clone();
        let route = Route::IbcIn { channel: channel_id.as_str(), memo: self.recv_memo.as_deref() };
        self.with_ctx(|ctx| bank.send_coins_routed(ctx, &escrow, to, &coins, route))?;
        self.add_total_escrow(&denom, -signed_delta(&coins))
    }

    fn mint_coins_execute(&mut self, to: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        let (_, coins) = self.coins(coin)?;
        let channel = voucher_channel(coin)?;
        let full = coin.denom.to_string();
        let trace = DenomTrace::parse(&full).map_err(HostError::invalid_state)?;
        let (bank, auth, recv_memo) = (self.bank.clone(), self.auth.clone(), self.recv_memo.clone());
        self.with_ctx(|ctx| {
            if !trace.path.is_empty() {
                let key = keys::denom_trace(&denom_hash(&full));
                if ctx.get(TRANSFER_STORE, &key)?.is_none() {
                    ctx.set(TRANSFER_STORE, key, full.clone().into_bytes())?;
                }
            }
            auth.module_account(ctx, MODULE_ACCOUNT)?;
            bank.mint_coins(ctx, MODULE_ACCOUNT, &coins)?;
            bank.ensure_not_blocked(to)?;
            let route = Route::IbcIn { channel: &channel, memo: recv_memo.as_deref() };
            bank.send_coins_routed(ctx, &Address::module(MODULE_ACCOUNT), to, &coins, route)
        })
    }

    fn burn_coins_execute(&mut self, from: &Address, coin: &PrefixedCoin, memo: &Memo) -> Result<(), HostError> {
        let (_, coins) = self.coins(coin)?;
        let (bank, auth) = (self.bank.clone(), self.auth.clone());
        let channel = voucher_channel(coin)?;
        let route = Route::IbcOut { channel: &channel, memo: memo.as_ref() };
        self.with_ctx(|ctx| {
            auth.module_account(ctx, MODULE_ACCOUNT)?;
            bank.send_coins_routed(ctx, from, &Address::module(MODULE_ACCOUNT), &coins, route)?;
            bank.burn_coins(ctx, MODULE_ACCOUNT, &coins)
        })
    }
}

impl IbcModule for TransferApp<'_, '_> {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_init_validate(self, order, connection_hops, port_id, channel_id, counterparty, version)
            .map_err(app_err)?;
        Ok(Version::new(ibc::apps::transfer::types::VERSION.to_string()))
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_init_execute(self, order, connection_hops, port_id, channel_id, counterparty, version)
            .map_err(app_err)
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_try_validate(
            self,
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(app_err)?;
        Ok(Version::new(ibc::apps::transfer::types::VERSION.to_string()))
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_try_execute(
            self,
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(app_err)
    }

    fn on_chan_open_ack_validate(
        &self,
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<(), ChannelError> {
        ics20::on_chan_open_ack_validate(self, port_id, channel_id, counterparty_version).map_err(app_err)
    }

    fn on_chan_open_ack_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<ModuleExtras, ChannelError> {
        ics20::on_chan_open_ack_execute(self, port_id, channel_id, counterparty_version).map_err(app_err)
    }

    fn on_chan_open_confirm_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ics20::on_chan_open_confirm_validate(self, port_id, channel_id).map_err(app_err)
    }

    fn on_chan_open_confirm_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        ics20::on_chan_open_confirm_execute(self, port_id, channel_id).map_err(app_err)
    }

    fn on_chan_close_init_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ics20::on_chan_close_init_validate(self, port_id, channel_id).map_err(app_err)
    }

    fn on_chan_close_init_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        ics20::on_chan_close_init_execute(self, port_id, channel_id).map_err(app_err)
    }

    fn on_chan_close_confirm_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ics20::on_chan_close_confirm_validate(self, port_id, channel_id).map_err(app_err)
    }

    fn on_chan_close_confirm_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        ics20::on_chan_close_confirm_execute(self, port_id, channel_id).map_err(app_err)
    }

    fn on_recv_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        // The memo rides in the packet data; the callbacks that move the coins see it here.
        self.recv_memo = Some(
            serde_json::from_slice::<ibc::apps::transfer::types::packet::PacketData>(&packet.data)
                .map(|d| d.memo.as_ref().to_string())
                .unwrap_or_default(),
        );
        let (mut extras, ack) = ics20::on_recv_packet_execute(self, packet);
        self.recv_memo = None;
        let ack = match recv_error_text(&ack) {
            None => ack,
            Some(reason) => {
                // The reason goes where ibc-go puts it: the `error` attribute of a `fungible_token_packet` event.
                extras.events.push(ModuleEvent {
                    kind: "fungible_token_packet".into(),
                    attributes: vec![("error", reason).into()],
                });
                ibc_go_error_ack(RECV_ERROR_ACK_CODE)
            }
        };
        (extras, Some(ack))
    }

    fn on_acknowledgement_packet_validate(
        &self,
        packet: &Packet,
        acknowledgement: &Acknowledgement,
        relayer: &Signer,
    ) -> Result<(), ChannelError> {
        ics20::on_acknowledgement_packet_validate(self, packet, acknowledgement, relayer).map_err(app_err)
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        packet: &Packet,
        acknowledgement: &Acknowledgement,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, result) = ics20::on_acknowledgement_packet_execute(self, packet, acknowledgement, relayer);
        (extras, result.map_err(app_err))
    }

    fn on_timeout_packet_validate(&self, packet: &Packet, relayer: &Signer) -> Result<(), ChannelError> {
        ics20::on_timeout_packet_validate(self, packet, relayer).map_err(app_err)
    }

    fn on_timeout_packet_execute(
        &mut self,
        packet: &Packet,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, result) = ics20::on_timeout_packet_execute(self, packet, relayer);
        (extras, result.map_err(app_err))
    }
}

/// The router: one application, ICS-20 on port `transfer`.
pub struct TransferRouter<'a, 'b> {
    pub app: TransferApp<'a, 'b>,
}

fn transfer_module_id() -> ModuleId {
    ModuleId::new(MODULE_ACCOUNT.to_string())
}

impl Router for TransferRouter<'_, '_> {
    fn get_route(&self, module_id: &ModuleId) -> Option<&dyn IbcModule> {
        (*module_id == transfer_module_id()).then_some(&self.app as &dyn IbcModule)
    }

    fn get_route_mut(&mut self, module_id: &ModuleId) -> Option<&mut dyn IbcModule> {
        if *module_id == transfer_module_id() {
            Some(&mut self.app)
        } else {
            None
        }
    }

    fn lookup_module(&self, port_id: &PortId) -> Option<ModuleId> {
        (port_id.as_str() == PORT_ID).then(transfer_module_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escrow_address_and_voucher_denom_match_ibc_go() {
        // ibc-go's GetEscrowAddress("transfer", "channel-0") is cosmos1a53udazy8ayufvy0s434pfwjcedzqv34kvz9tw
        // (the same 20 bytes under our prefix).
        let addr = escrow_address("transfer", "channel-0");
        assert_eq!(hex::encode(addr.as_bytes()), "ed23c6f4443f49c4b08f856350a5d2c65a203235");
        // The voucher of uatom over transfer/channel-0, as on every Cosmos chain.
        assert_eq!(
            bank_denom("transfer/channel-0/uatom"),
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
        assert_eq!(bank_denom("upay"), "upay");
    }

    #[test]
    fn error_acks_are_what_ibc_go_writes_whatever_the_reason_holds() {
        use ibc::core::channel::types::acknowledgement::{AcknowledgementStatus, StatusValue};
        let reason = r#"invalid receiver "pay1 \"bad\"" \ ✓"#;
        let from_ibc_rs: Acknowledgement = AcknowledgementStatus::error(StatusValue::new(reason).unwrap()).into();
        // Why we re-encode: ibc-rs's own bytes are not JSON for such a reason.
        assert!(serde_json::from_slice::<serde_json::Value>(from_ibc_rs.as_bytes()).is_err());
        assert_eq!(recv_error_text(&from_ibc_rs).as_deref(), Some(reason));

        let ours = ibc_go_error_ack(RECV_ERROR_ACK_CODE);
        // Byte for byte what ibc-go v8's NewErrorAcknowledgement writes for ABCI code 1.
        assert_eq!(ours.as_bytes(), br#"{"error":"ABCI code: 1: error handling packet: see events for details"}"#);
        // And ibc-rs (our own ack handling) reads it back as an error.
        let status: AcknowledgementStatus = serde_json::from_slice(ours.as_bytes()).unwrap();
        assert!(!status.is_successful());

        let success: Acknowledgement = AcknowledgementStatus::success(StatusValue::new("AQ==").unwrap()).into();
        assert_eq!(success.as_bytes(), br#"{"result":"AQ=="}"#);
        assert_eq!(recv_error_text(&success), None);
    }
}
