//! The assets keeper: tokens, roles, minters, holders, and the handlers of every
//! message. Coins move through bank's keeper; the rules that apply to every
//! movement of an issued token live in [`crate::policy`].

use std::sync::Arc;

use cosmos_sdk_proto::cosmos::bank::v1beta1::{DenomUnit, Metadata};
use paychain_auth::AuthKeeper;
use paychain_authority::AuthorityKeeper;
use paychain_bank::{BankKeeper, Enforcement};
use paychain_framework::coins::parse_amount;
use paychain_framework::state::{decode_tagged_proto, encode_tagged_proto};
use paychain_framework::{Address, Coin, Coins, Context, MsgResponse, SdkError, StateRead};
use prost::Message;

use crate::errors;
use crate::events::{self, Action};
use crate::keys::{self, STORE_KEY};
use crate::msgs::{check_separation, role_feature, token_denom, AssetsMsg, Body, Issue, Note};
use crate::pb::{self, Feature, Role};

/// The module account that mints and burns issued tokens (minter and burner).
pub const MODULE_ACCOUNT: &str = "assets";

/// Corrupt stored bytes are a failure of the node, never of the input.
pub(crate) fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SdkError {
    SdkError::fatal(format!("assets: corrupt {what} in store: {e}"))
}

/// A stored amount string ("" reads as 0).
pub(crate) fn stored_amount(what: &str, s: &str) -> Result<u128, SdkError> {
    if s.is_empty() {
        return Ok(0);
    }
    parse_amount(s).map_err(|e| corrupt(what, e.log))
}

pub fn has_feature(t: &pb::Token, f: Feature) -> bool {
    t.features.contains(&(f as i32))
}

// ---- reads (free functions: the transfer policy uses them too) ----

pub fn token(state: &dyn StateRead, denom: &str) -> Result<Option<pb::Token>, SdkError> {
    match state.get(STORE_KEY, &keys::token_key(denom))? {
        None => Ok(None),
        Some(b) => pb::Token::decode(b.as_slice()).map(Some).map_err(|e| corrupt(format_args!("token {denom}"), e)),
    }
}

/// An account's standing with a token (all defaults when nothing is stored).
pub fn holder(state: &dyn StateRead, denom: &str, addr: &Address) -> Result<pb::Holder, SdkError> {
    match state.get(STORE_KEY, &keys::holder_key(denom, addr))? {
        None => Ok(pb::Holder { denom: denom.into(), address: addr.to_string(), ..Default::default() }),
        Some(b) => pb::Holder::decode(b.as_slice()).map_err(|e| corrupt(format_args!("holder {denom}/{addr}"), e)),
    }
}

/// A minter's remaining allowance (`None`: not a minter).
pub fn minter_allowance(state: &dyn StateRead, denom: &str, addr: &Address) -> Result<Option<u128>, SdkError> {
    match state.get(STORE_KEY, &keys::minter_key(denom, addr))? {
        None => Ok(None),
        Some(b) => {
            let m = pb::Minter::decode(b.as_slice()).map_err(|e| corrupt(format_args!("minter {denom}/{addr}"), e))?;
            stored_amount("minter allowance", &m.allowance).map(Some)
        }
    }
}

pub fn default_params() -> pb::Params {
    pb::Params { issue_fee: vec![] }
}

pub struct AssetsKeeper {
    bank: Arc<BankKeeper>,
    auth: Arc<AuthKeeper>,
    authority: Arc<AuthorityKeeper>,
    fee_collector: String,
}

fn roles(t: &pb::Token) -> &pb::Roles {
    // Every stored token has roles (issue and genesis write them); a missing
    // field reads as all-unassigned, which refuses every role action.
    static NONE: pb::Roles = pb::Roles {
        admin: String::new(),
        pending_admin: String::new(),
        master_minter: String::new(),
        freezer: String::new(),
        pauser: String::new(),
        clawback: String::new(),
        allowlister: String::new(),
        treasury: String::new(),
    };
    t.roles.as_ref().unwrap_or(&NONE)
}

/// Refuses unless `signer` holds the role (an unassigned role refuses everyone).
fn require_role(holder: &str, signer: &Address, role: &str, denom: &str) -> Result<(), SdkError> {
    if holder.is_empty() || holder != signer.to_string() {
        return Err(errors::unauthorized(format!("{signer} is not the {role} of {denom}")));
    }
    Ok(())
}

fn require_feature(t: &pb::Token, f: Feature) -> Result<(), SdkError> {
    if !has_feature(t, f) {
        return Err(errors::feature_disabled(format!("{} is not enabled for {}", f.as_str_name(), t.denom)));
    }
    Ok(())
}

fn require_unpaused(t: &pb::Token) -> Result<(), SdkError> {
    if t.paused {
        return Err(errors::paused(format!("{} is paused", t.denom)));
    }
    Ok(())
}

fn one_coin(denom: &str, amount: u128) -> Result<Coins, SdkError> {
    Coins::new(vec![Coin::new(amount, denom)])
}

fn response<T: Message + paychain_framework::TypeUrl>(msg: &T) -> MsgResponse {
    MsgResponse { type_url: T::TYPE_URL.to_string(), value: msg.encode_to_vec() }
}

impl AssetsKeeper {
    /// `fee_collector` is the module account that receives issuance fees.
    pub fn new(
        bank: Arc<BankKeeper>,
        auth: Arc<AuthKeeper>,
        authority: Arc<AuthorityKeeper>,
        fee_collector: &str,
    ) -> Self {
        Self { bank, auth, authority, fee_collector: fee_collector.to_string() }
    }

    pub fn bank(&self) -> &Arc<BankKeeper> {
        &self.bank
    }

    pub fn auth(&self) -> &Arc<AuthKeeper> {
        &self.auth
    }

    pub fn params(&self, state: &dyn StateRead) -> Result<pb::Params, SdkError> {
        match state.get(STORE_KEY, keys::PARAMS_KEY)? {
            None => Ok(default_params()),
            Some(b) => decode_tagged_proto::<pb::Params>(&b).map_err(|e| corrupt("params", e)),
        }
    }

    pub fn set_params(&self, ctx: &mut Context, params: &pb::Params) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, keys::PARAMS_KEY.to_vec(), encode_tagged_proto(params))
    }

    fn require_token(&self, state: &dyn StateRead, denom: &str) -> Result<pb::Token, SdkError> {
        token(state, denom)?.ok_or_else(|| errors::token_not_found(format!("no issued token {denom}")))
    }

    pub(crate) fn set_token(&self, ctx: &mut Context, t: &pb::Token) -> Result<(), SdkError> {
        ctx.set(STORE_KEY, keys::token_key(&t.denom), t.encode_to_vec())
    }

    /// Stores a holder record, or deletes it when it says nothing (all defaults).
    pub(crate) fn set_holder(&self, ctx: &mut Context, addr: &Address, h: &pb::Holder) -> Result<(), SdkError> {
        let key = keys::holder_key(&h.denom, addr);
        let empty = (h.frozen_amount.is_empty() || h.frozen_amount == "0") && !h.account_frozen && !h.allowed;
        if empty {
            ctx.delete(STORE_KEY, key)
        } else {
            ctx.set(STORE_KEY, key, h.encode_to_vec())
        }
    }

    pub(crate) fn set_minter(
        &self,
        ctx: &mut Context,
        denom: &str,
        addr: &Address,
        allowance: u128,
    ) -> Result<(), SdkError> {
        let m = pb::Minter { denom: denom.into(), address: addr.to_string(), allowance: allowance.to_string() };
        ctx.set(STORE_KEY, keys::minter_key(denom, addr), m.encode_to_vec())
    }

    /// Issuer controls never reach module accounts: the fee collector, the IBC and
    /// escrow module accounts must always work.
    fn require_user_account(&self, addr: &Address) -> Result<(), SdkError> {
        match self.auth.module_name_of(addr) {
            Some(name) => Err(errors::module_account(format!("{addr} is the {name} module account"))),
            None => Ok(()),
        }
    }

    fn emit(&self, ctx: &mut Context, a: Action<'_>) {
        ctx.emit(events::action(a));
    }

    /// Executes any assets message.
    pub fn handle(&self, ctx: &mut Context, msg: &AssetsMsg) -> Result<MsgResponse, SdkError> {
        let s = &msg.signer;
        match &msg.body {
            Body::Issue(i) => self.issue(ctx, s, i),
            Body::Mint { denom, recipient, amount, note } => self.mint(ctx, s, denom, recipient, *amount, note),
            Body::Burn { denom, amount, note } => self.burn(ctx, s, denom, *amount, note),
            Body::ConfigureMinter { denom, minter, allowance, note } => {
                self.configure_minter(ctx, s, denom, minter, *allowance, note)
            }
            Body::Freeze { denom, account, amount, note } => self.freeze(ctx, s, denom, account, *amount, true, note),
            Body::Unfreeze { denom, account, amount, note } => {
                self.freeze(ctx, s, denom, account, *amount, false, note)
            }
            Body::FreezeAccount { denom, account, note } => self.freeze_account(ctx, s, denom, account, true, note),
            Body::UnfreezeAccount { denom, account, note } => self.freeze_account(ctx, s, denom, account, false, note),
            Body::Pause { denom, note } => self.pause(ctx, s, denom, true, note),
            Body::Unpause { denom, note } => self.pause(ctx, s, denom, false, note),
            Body::Clawback { denom, account, amount, note } => self.clawback(ctx, s, denom, account, *amount, note),
            Body::SetAllowed { denom, account, allowed, note } => {
                self.set_allowed(ctx, s, denom, account, *allowed, note)
            }
            Body::SetRole { denom, role, address, note } => self.set_role(ctx, s, denom, *role, address.as_ref(), note),
            Body::ProposeAdmin { denom, new_admin, note } => {
                self.propose_admin(ctx, s, denom, new_admin.as_ref(), note)
            }
            Body::AcceptAdmin { denom } => self.accept_admin(ctx, s, denom),
            Body::RenounceAdmin { denom, note } => self.renounce_admin(ctx, s, denom, note),
            Body::RenounceFeature { denom, feature, note } => self.renounce_feature(ctx, s, denom, *feature, note),
            Body::UpdateParams { params, note } => self.update_params(ctx, s, params, note),
        }
    }

    /// The chain authority replaces the params (the issuance fee).
    fn update_params(
        &self,
        ctx: &mut Context,
        signer: &Address,
        params: &pb::Params,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        self.authority.require(&*ctx, signer)?;
        self.set_params(ctx, params)?;
        let fee = Coins::from_proto(&params.issue_fee)?;
        ctx.emit(events::action(Action {
            action: "update_params",
            denom: "",
            actor: signer,
            target: None,
            amount: None,
            detail: format!("issue_fee={fee}"),
            note: Some(note),
        }));
        Ok(response(&pb::MsgUpdateParamsResponse {}))
    }

    fn issue(&self, ctx: &mut Context, issuer: &Address, i: &Issue) -> Result<MsgResponse, SdkError> {
        let denom = token_denom(&i.subunit, issuer);
        if token(ctx, &denom)?.is_some()
            || self.bank.supply_of(ctx, &denom)? > 0
            || self.bank.denom_metadata(ctx, &denom)?.is_some()
        {
            return Err(errors::denom_exists(format!("{denom} is already in use")));
        }
        let show = |a: &Option<Address>| a.as_ref().map(Address::to_string).unwrap_or_default();
        let treasury = i.treasury.clone().unwrap_or_else(|| issuer.clone());
        let roles = pb::Roles {
            admin: issuer.to_string(),
            pending_admin: String::new(),
            master_minter: show(&i.master_minter),
            freezer: show(&i.freezer),
            pauser: show(&i.pauser),
            clawback: show(&i.clawback),
            allowlister: show(&i.allowlister),
            treasury: treasury.to_string(),
        };
        for a in
            [&i.master_minter, &i.freezer, &i.pauser, &i.clawback, &i.allowlister, &i.treasury].into_iter().flatten()
        {
            self.require_user_account(a)?;
        }
        self.require_user_account(issuer)?;
        check_separation(&roles)?;
        let fee = Coins::from_proto(&self.params(ctx)?.issue_fee)?;
        if !fee.is_empty() {
            self.bank.send_coins_from_account_to_module(ctx, issuer, &self.fee_collector, &fee)?;
        }
        let t = pb::Token {
            denom: denom.clone(),
            issuer: issuer.to_string(),
            subunit: i.subunit.clone(),
            symbol: i.symbol.clone(),
            name: i.name.clone(),
            precision: i.precision,
            description: i.description.clone(),
            uri: i.uri.clone(),
            uri_hash: i.uri_hash.clone(),
            max_supply: i.max_supply.to_string(),
            features: i.features.iter().map(|f| *f as i32).collect(),
            roles: Some(roles),
            transfer_fee_bps: i.transfer_fee_bps,
            balance_cap: i.balance_cap.to_string(),
            paused: false,
            minted: i.initial_supply.to_string(),
            burned: "0".into(),
        };
        self.set_token(ctx, &t)?;
        ctx.set(STORE_KEY, keys::issuer_key(issuer, &denom), keys::INDEX_MARKER.to_vec())?;
        self.bank.set_denom_metadata(ctx, &bank_metadata(&t))?;
        if i.initial_supply > 0 {
            let coins = one_coin(&denom, i.initial_supply)?;
            self.bank.mint_coins(ctx, MODULE_ACCOUNT, &coins)?;
            self.bank.send_coins_from_module_to_account(ctx, MODULE_ACCOUNT, &treasury, &coins)?;
        }
        let features: Vec<&str> = i.features.iter().map(|f| f.as_str_name()).collect();
        self.emit(
            ctx,
            Action {
                action: "issue",
                denom: &denom,
                actor: issuer,
                target: Some(&treasury),
                amount: Some(i.initial_supply),
                detail: format!("features={}", features.join(",")),
                note: None,
            },
        );
        Ok(response(&pb::MsgIssueResponse { denom }))
    }

    fn mint(
        &self,
        ctx: &mut Context,
        minter: &Address,
        denom: &str,
        recipient: &Address,
        amount: u128,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Minting)?;
        require_unpaused(&t)?;
        let allowance = minter_allowance(ctx, denom, minter)?
            .ok_or_else(|| errors::unauthorized(format!("{minter} is not a minter of {denom}")))?;
        let Some(remaining) = allowance.checked_sub(amount) else {
            return Err(errors::allowance_exceeded(format!("minting {amount} with an allowance of {allowance}")));
        };
        let supply = self.bank.supply_of(ctx, denom)?;
        let new_supply = supply
            .checked_add(amount)
            .ok_or_else(|| errors::invalid_amount(format!("minting {amount} overflows the supply {supply}")))?;
        let max = stored_amount("max_supply", &t.max_supply)?;
        if max > 0 && new_supply > max {
            return Err(errors::max_supply_exceeded(format!("supply would be {new_supply}, the maximum is {max}")));
        }
        let minted = stored_amount("minted", &t.minted)?
            .checked_add(amount)
            .ok_or_else(|| errors::invalid_amount("minted total overflows"))?;
        t.minted = minted.to_string();
        self.set_token(ctx, &t)?;
        self.set_minter(ctx, denom, minter, remaining)?;
        let coins = one_coin(denom, amount)?;
        self.bank.mint_coins(ctx, MODULE_ACCOUNT, &coins)?;
        // An ordinary transfer from the module: the recipient's rules apply
        // (frozen account, allowlist, balance cap).
        self.bank.send_coins_from_module_to_account(ctx, MODULE_ACCOUNT, recipient, &coins)?;
        self.emit(
            ctx,
            Action {
                action: "mint",
                denom,
                actor: minter,
                target: Some(recipient),
                amount: Some(amount),
                detail: format!("remaining_allowance={remaining}"),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgMintResponse { remaining_allowance: remaining.to_string() }))
    }

    fn burn(
        &self,
        ctx: &mut Context,
        holder_addr: &Address,
        denom: &str,
        amount: u128,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Burning)?;
        let r = roles(&t);
        let me = holder_addr.to_string();
        let issuer_side = me == r.admin || me == r.treasury;
        if !issuer_side && minter_allowance(ctx, denom, holder_addr)?.is_none() {
            return Err(errors::unauthorized(format!(
                "{holder_addr} may not burn {denom}: only its admin, treasury and minters may"
            )));
        }
        // While paused only the issuer redeems, from its own account.
        if !issuer_side {
            require_unpaused(&t)?;
        }
        if has_feature(&t, Feature::Freezing) && holder(ctx, denom, holder_addr)?.account_frozen {
            return Err(errors::account_frozen(format!("{holder_addr} is frozen for {denom}")));
        }
        let coins = one_coin(denom, amount)?;
        let module = self.auth.module_account(ctx, MODULE_ACCOUNT)?.address;
        // Frozen units stay frozen; the pause and recipient rules were checked here.
        self.bank.send_coins_enforced(ctx, holder_addr, &module, &coins, Enforcement::LocksOnly)?;
        self.bank.burn_coins(ctx, MODULE_ACCOUNT, &coins)?;
        let burned = stored_amount("burned", &t.burned)?
            .checked_add(amount)
            .ok_or_else(|| SdkError::fatal(format!("assets: burned total of {denom} overflows")))?;
        t.burned = burned.to_string();
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "burn",
                denom,
                actor: holder_addr,
                target: Some(holder_addr),
                amount: Some(amount),
                detail: String::new(),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgBurnResponse {}))
    }

    fn configure_minter(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        minter: &Address,
        allowance: u128,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Minting)?;
        require_role(&roles(&t).master_minter, signer, "master minter", denom)?;
        self.require_user_account(minter)?;
        if allowance == 0 {
            ctx.delete(STORE_KEY, keys::minter_key(denom, minter))?;
        } else {
            self.set_minter(ctx, denom, minter, allowance)?;
        }
        self.emit(
            ctx,
            Action {
                action: "configure_minter",
                denom,
                actor: signer,
                target: Some(minter),
                amount: Some(allowance),
                detail: if allowance == 0 { "removed".into() } else { format!("allowance={allowance}") },
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgConfigureMinterResponse {}))
    }

    #[allow(clippy::too_many_arguments)]
    fn freeze(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        account: &Address,
        amount: u128,
        freeze: bool,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Freezing)?;
        require_role(&roles(&t).freezer, signer, "freezer", denom)?;
        self.require_user_account(account)?;
        let mut h = holder(ctx, denom, account)?;
        let frozen = stored_amount("frozen amount", &h.frozen_amount)?;
        let frozen = if freeze {
            frozen.checked_add(amount).ok_or_else(|| errors::invalid_amount("frozen amount overflows"))?
        } else {
            frozen.checked_sub(amount).ok_or_else(|| {
                errors::frozen_amount_exceeded(format!("unfreezing {amount} of a frozen amount of {frozen}"))
            })?
        };
        h.frozen_amount = frozen.to_string();
        self.set_holder(ctx, account, &h)?;
        self.emit(
            ctx,
            Action {
                action: if freeze { "freeze" } else { "unfreeze" },
                denom,
                actor: signer,
                target: Some(account),
                amount: Some(amount),
                detail: format!("frozen_amount={frozen}"),
                note: Some(note),
            },
        );
        let frozen_amount = frozen.to_string();
        Ok(if freeze {
            response(&pb::MsgFreezeResponse { frozen_amount })
        } else {
            response(&pb::MsgUnfreezeResponse { frozen_amount })
        })
    }

    fn freeze_account(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        account: &Address,
        freeze: bool,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Freezing)?;
        require_role(&roles(&t).freezer, signer, "freezer", denom)?;
        self.require_user_account(account)?;
        let mut h = holder(ctx, denom, account)?;
        h.account_frozen = freeze;
        self.set_holder(ctx, account, &h)?;
        self.emit(
            ctx,
            Action {
                action: if freeze { "freeze_account" } else { "unfreeze_account" },
                denom,
                actor: signer,
                target: Some(account),
                amount: None,
                detail: format!("account_frozen={freeze}"),
                note: Some(note),
            },
        );
        Ok(if freeze {
            response(&pb::MsgFreezeAccountResponse {})
        } else {
            response(&pb::MsgUnfreezeAccountResponse {})
        })
    }

    fn pause(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        pause: bool,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Pausing)?;
        require_role(&roles(&t).pauser, signer, "pauser", denom)?;
        t.paused = pause;
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: if pause { "pause" } else { "unpause" },
                denom,
                actor: signer,
                target: None,
                amount: None,
                detail: format!("paused={pause}"),
                note: Some(note),
            },
        );
        Ok(if pause { response(&pb::MsgPauseResponse {}) } else { response(&pb::MsgUnpauseResponse {}) })
    }

    fn clawback(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        account: &Address,
        amount: u128,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Clawback)?;
        let r = roles(&t);
        require_role(&r.clawback, signer, "clawback authority", denom)?;
        self.require_user_account(account)?;
        let treasury =
            Address::from_bech32(&r.treasury).map_err(|e| corrupt(format_args!("treasury of {denom}"), e.log))?;
        if *account == treasury {
            return Err(errors::invalid_role(format!("{account} is the treasury of {denom}")));
        }
        // Frozen units, a frozen account and a pause do not stop a clawback.
        let coins = one_coin(denom, amount)?;
        self.bank.send_coins_enforced(ctx, account, &treasury, &coins, Enforcement::None)?;
        self.emit(
            ctx,
            Action {
                action: "clawback",
                denom,
                actor: signer,
                target: Some(account),
                amount: Some(amount),
                detail: format!("to={treasury}"),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgClawbackResponse {}))
    }

    fn set_allowed(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        account: &Address,
        allowed: bool,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let t = self.require_token(ctx, denom)?;
        require_feature(&t, Feature::Allowlist)?;
        require_role(&roles(&t).allowlister, signer, "allowlister", denom)?;
        self.require_user_account(account)?;
        let mut h = holder(ctx, denom, account)?;
        h.allowed = allowed;
        self.set_holder(ctx, account, &h)?;
        self.emit(
            ctx,
            Action {
                action: "set_allowed",
                denom,
                actor: signer,
                target: Some(account),
                amount: None,
                detail: format!("allowed={allowed}"),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgSetAllowedResponse {}))
    }

    fn admin_token(&self, state: &dyn StateRead, signer: &Address, denom: &str) -> Result<pb::Token, SdkError> {
        let t = self.require_token(state, denom)?;
        require_role(&roles(&t).admin, signer, "admin", denom)?;
        Ok(t)
    }

    fn set_role(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        role: Role,
        address: Option<&Address>,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.admin_token(ctx, signer, denom)?;
        if let Some(f) = role_feature(role) {
            require_feature(&t, f)?;
        }
        if let Some(a) = address {
            self.require_user_account(a)?;
        }
        let value = address.map(Address::to_string).unwrap_or_default();
        let r = t.roles.get_or_insert_with(Default::default);
        let slot = match role {
            Role::MasterMinter => &mut r.master_minter,
            Role::Freezer => &mut r.freezer,
            Role::Pauser => &mut r.pauser,
            Role::Clawback => &mut r.clawback,
            Role::Allowlister => &mut r.allowlister,
            Role::Treasury if value.is_empty() => {
                return Err(errors::invalid_role("the treasury cannot be unassigned"));
            }
            Role::Treasury => &mut r.treasury,
            Role::Unspecified => return Err(errors::invalid_role("unknown role")),
        };
        *slot = value.clone();
        check_separation(r)?;
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "set_role",
                denom,
                actor: signer,
                target: address,
                amount: None,
                detail: format!("{}={value}", role.as_str_name()),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgSetRoleResponse {}))
    }

    fn propose_admin(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        new_admin: Option<&Address>,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.admin_token(ctx, signer, denom)?;
        if let Some(a) = new_admin {
            self.require_user_account(a)?;
            // Refused now rather than at acceptance: the new admin would hold two roles.
            let r = pb::Roles { admin: a.to_string(), ..roles(&t).clone() };
            check_separation(&r)?;
        }
        t.roles.get_or_insert_with(Default::default).pending_admin =
            new_admin.map(Address::to_string).unwrap_or_default();
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "propose_admin",
                denom,
                actor: signer,
                target: new_admin,
                amount: None,
                detail: String::new(),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgProposeAdminResponse {}))
    }

    fn accept_admin(&self, ctx: &mut Context, signer: &Address, denom: &str) -> Result<MsgResponse, SdkError> {
        let mut t = self.require_token(ctx, denom)?;
        let r = t.roles.get_or_insert_with(Default::default);
        if r.pending_admin.is_empty() {
            return Err(errors::no_pending_admin(format!("no admin transfer of {denom} is pending")));
        }
        require_role(&r.pending_admin, signer, "proposed admin", denom)?;
        let previous = std::mem::take(&mut r.admin);
        r.admin = std::mem::take(&mut r.pending_admin);
        check_separation(r)?;
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "accept_admin",
                denom,
                actor: signer,
                target: Some(signer),
                amount: None,
                detail: format!("previous_admin={previous}"),
                note: None,
            },
        );
        Ok(response(&pb::MsgAcceptAdminResponse {}))
    }

    fn renounce_admin(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.admin_token(ctx, signer, denom)?;
        let r = t.roles.get_or_insert_with(Default::default);
        r.admin.clear();
        r.pending_admin.clear();
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "renounce_admin",
                denom,
                actor: signer,
                target: None,
                amount: None,
                detail: String::new(),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgRenounceAdminResponse {}))
    }

    fn renounce_feature(
        &self,
        ctx: &mut Context,
        signer: &Address,
        denom: &str,
        feature: Feature,
        note: &Note,
    ) -> Result<MsgResponse, SdkError> {
        let mut t = self.admin_token(ctx, signer, denom)?;
        require_feature(&t, feature)?;
        t.features.retain(|f| *f != feature as i32);
        // What the feature's role and settings did ends with it.
        let r = t.roles.get_or_insert_with(Default::default);
        match feature {
            Feature::Minting => r.master_minter.clear(),
            Feature::Freezing => r.freezer.clear(),
            Feature::Pausing => {
                r.pauser.clear();
                t.paused = false;
            }
            Feature::Clawback => r.clawback.clear(),
            Feature::Allowlist => r.allowlister.clear(),
            Feature::BalanceCap => t.balance_cap = "0".into(),
            Feature::TransferFee => t.transfer_fee_bps = 0,
            Feature::Burning | Feature::Ibc | Feature::Unspecified => {}
        }
        if feature == Feature::Minting {
            let prefix = keys::minters_prefix(denom);
            let keys: Vec<Vec<u8>> =
                ctx.prefix(STORE_KEY, &prefix, false)?.map(|e| e.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in keys {
                ctx.delete(STORE_KEY, k)?;
            }
        }
        self.set_token(ctx, &t)?;
        self.emit(
            ctx,
            Action {
                action: "renounce_feature",
                denom,
                actor: signer,
                target: None,
                amount: None,
                detail: feature.as_str_name().to_string(),
                note: Some(note),
            },
        );
        Ok(response(&pb::MsgRenounceFeatureResponse {}))
    }

    // ---- invariants ----

    /// Per token: minted − burned = bank's total supply; every minter and holder
    /// record names an existing token; the issuer index matches the tokens.
    pub fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        let mut tokens = 0u64;
        for entry in state.prefix(STORE_KEY, keys::TOKEN_PREFIX, false).map_err(|e| e.log)? {
            let (key, value) = entry.map_err(|e| e.log)?;
            let t = pb::Token::decode(value.as_slice()).map_err(|e| format!("assets: undecodable token: {e}"))?;
            if key != keys::token_key(&t.denom) {
                return Err(format!("assets: token {} stored under another key", t.denom));
            }
            let minted = stored_amount("minted", &t.minted).map_err(|e| e.log)?;
            let burned = stored_amount("burned", &t.burned).map_err(|e| e.log)?;
            let supply = self.bank.supply_of(state, &t.denom).map_err(|e| e.log)?;
            if minted.checked_sub(burned) != Some(supply) {
                return Err(format!("assets: {} minted {minted} - burned {burned} != supply {supply}", t.denom));
            }
            let issuer =
                Address::from_bech32(&t.issuer).map_err(|e| format!("assets: issuer of {}: {}", t.denom, e.log))?;
            if state.get(STORE_KEY, &keys::issuer_key(&issuer, &t.denom)).map_err(|e| e.log)?.is_none() {
                return Err(format!("assets: issuer index lacks {}", t.denom));
            }
            tokens += 1;
        }
        let indexed = state.prefix(STORE_KEY, keys::ISSUER_PREFIX, false).map_err(|e| e.log)?.count() as u64;
        if indexed != tokens {
            return Err(format!("assets: {indexed} issuer index entries for {tokens} tokens"));
        }
        for (prefix, what) in [(keys::MINTER_PREFIX, "minter"), (keys::HOLDER_PREFIX, "holder")] {
            for entry in state.prefix(STORE_KEY, prefix, false).map_err(|e| e.log)? {
                let (key, _) = entry.map_err(|e| e.log)?;
                let len = usize::from(*key.get(1).ok_or_else(|| format!("assets: short {what} key"))?);
                let denom = key.get(2..2 + len).ok_or_else(|| format!("assets: short {what} key"))?;
                let denom = std::str::from_utf8(denom).map_err(|e| format!("assets: {what} key: {e}"))?;
                if token(state, denom).map_err(|e| e.log)?.is_none() {
                    return Err(format!("assets: {what} record for unknown token {denom}"));
                }
            }
        }
        Ok(())
    }
}

/// The bank metadata of a token: the base unit, and the display unit (the
/// symbol) `precision` decimals up, so wallets show amounts as issued.
pub fn bank_metadata(t: &pb::Token) -> Metadata {
    let mut units = vec![DenomUnit { denom: t.denom.clone(), exponent: 0, aliases: vec![] }];
    let display = if t.precision > 0 {
        units.push(DenomUnit { denom: t.symbol.clone(), exponent: t.precision, aliases: vec![] });
        t.symbol.clone()
    } else {
        t.denom.clone()
    };
    Metadata {
        description: t.description.clone(),
        denom_units: units,
        base: t.denom.clone(),
        display,
        name: t.name.clone(),
        symbol: t.symbol.clone(),
        uri: t.uri.clone(),
        uri_hash: t.uri_hash.clone(),
    }
}
