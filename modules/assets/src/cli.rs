//! The assets module from the command line (feature `cli`; `paychaind` mounts
//! [`AssetsCli`]):
//!
//! * `paychaind tx assets issue|mint|burn|configure-minter|freeze|unfreeze|
//!   freeze-account|unfreeze-account|pause|unpause|clawback|set-allowed|set-role|
//!   propose-admin|accept-admin|renounce-admin|renounce-feature|update-params` build, sign and
//!   broadcast `paychain.assets.v1` messages (flags as for `tx bank send`; a role
//!   held by a multisig account signs with `--generate-only`, `tx sign`,
//!   `tx multisign`, `tx broadcast`). Every role holder's action takes `--reason`
//!   (a code such as `court_order`) and `--reference` (case number, legal basis).
//! * `paychaind query assets token|tokens|by-issuer|holder|minters|params`.

use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};
use paychain_client::cli::{
    any_msg, broadcast_with, msg_response_fields, parse_address, parse_positive_coins, show_query, tx_signer, Ctx,
    HeightArgs, ModuleCli, NoTools, NodeArgs, NoteArgs, PageArgs, TxFlags,
};

use crate::pb::{self, Feature, Role};
use crate::query;

/// The assets module's commands, as `paychaind` mounts them.
pub struct AssetsCli;

impl ModuleCli for AssetsCli {
    type Tx = AssetsTxCmd;
    type Query = AssetsQueryCmd;
    type Tools = NoTools;

    const TX_ABOUT: &'static str = "Issued tokens: issue, mint, burn, and the issuer's controls";
    const QUERY_ABOUT: &'static str = "Issued tokens: tokens, holders, minters, params";
    const TOOLS_ABOUT: &'static str = "";
    const HAS_TOOLS: bool = false;

    fn run_tx(ctx: &Ctx, home: &Path, cmd: AssetsTxCmd) -> anyhow::Result<()> {
        run_tx(ctx, home, cmd)
    }

    fn run_query(ctx: &Ctx, cmd: AssetsQueryCmd) -> anyhow::Result<()> {
        run_query(ctx, cmd)
    }

    fn run_tools(_ctx: &Ctx, cmd: NoTools) -> anyhow::Result<()> {
        match cmd {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FeatureArg {
    Minting,
    Burning,
    Freezing,
    Pausing,
    Clawback,
    Allowlist,
    BalanceCap,
    TransferFee,
    Ibc,
}

impl FeatureArg {
    fn to_proto(self) -> Feature {
        match self {
            FeatureArg::Minting => Feature::Minting,
            FeatureArg::Burning => Feature::Burning,
            FeatureArg::Freezing => Feature::Freezing,
            FeatureArg::Pausing => Feature::Pausing,
            FeatureArg::Clawback => Feature::Clawback,
            FeatureArg::Allowlist => Feature::Allowlist,
            FeatureArg::BalanceCap => Feature::BalanceCap,
            FeatureArg::TransferFee => Feature::TransferFee,
            FeatureArg::Ibc => Feature::Ibc,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    MasterMinter,
    Freezer,
    Pauser,
    Clawback,
    Allowlister,
    Treasury,
}

impl RoleArg {
    fn to_proto(self) -> Role {
        match self {
            RoleArg::MasterMinter => Role::MasterMinter,
            RoleArg::Freezer => Role::Freezer,
            RoleArg::Pauser => Role::Pauser,
            RoleArg::Clawback => Role::Clawback,
            RoleArg::Allowlister => Role::Allowlister,
            RoleArg::Treasury => Role::Treasury,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum AssetsTxCmd {
    /// Issue a token `<subunit>-<issuer>` (MsgIssue); the issuer becomes its admin
    Issue(Box<IssueArgs>),
    /// Mint to a recipient within the minter's allowance (MsgMint)
    Mint {
        from: String,
        denom: String,
        recipient: String,
        amount: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Burn from the signer's own balance: admin, treasury or minter (MsgBurn)
    Burn {
        from: String,
        denom: String,
        amount: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Set a minter's allowance; 0 removes the minter (MsgConfigureMinter; master minter)
    ConfigureMinter {
        from: String,
        denom: String,
        minter: String,
        allowance: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Freeze an amount of an account's balance (MsgFreeze; freezer)
    Freeze {
        from: String,
        denom: String,
        account: String,
        amount: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Unfreeze part of an account's frozen amount (MsgUnfreeze; freezer)
    Unfreeze {
        from: String,
        denom: String,
        account: String,
        amount: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Freeze a whole account: it neither sends nor receives the token (freezer)
    FreezeAccount {
        from: String,
        denom: String,
        account: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Lift an account freeze (freezer)
    UnfreezeAccount {
        from: String,
        denom: String,
        account: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Stop every transfer, mint and burn of the token (pauser)
    Pause {
        from: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Resume the token (pauser)
    Unpause {
        from: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Take an amount from an account to the treasury, frozen units included (clawback authority)
    Clawback {
        from: String,
        denom: String,
        account: String,
        amount: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Approve (true) or remove (false) an account on the allowlist (allowlister)
    SetAllowed {
        from: String,
        denom: String,
        account: String,
        #[arg(action = clap::ArgAction::Set)]
        allowed: bool,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Assign a role; an empty address ("") unassigns it (admin)
    SetRole {
        from: String,
        denom: String,
        #[arg(value_enum)]
        role: RoleArg,
        address: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Propose a new admin, who must accept; "" withdraws the proposal (admin)
    ProposeAdmin {
        from: String,
        denom: String,
        new_admin: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Accept a proposed admin role
    AcceptAdmin {
        from: String,
        denom: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Give up the admin role for good (admin)
    RenounceAdmin {
        from: String,
        denom: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Remove a feature for good (admin)
    RenounceFeature {
        from: String,
        denom: String,
        #[arg(value_enum)]
        feature: FeatureArg,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Set the module's params (MsgUpdateParams), signed by the chain authority
    UpdateParams {
        /// The chain authority (key name or address)
        from: String,
        /// Fee for issuing a token, e.g. 1000000upay ("" = free)
        #[arg(long)]
        issue_fee: String,
        #[command(flatten)]
        note: NoteArgs,
        #[command(flatten)]
        flags: TxFlags,
    },
}

/// `tx assets issue` (boxed in [`AssetsTxCmd`]: it is much the largest).
#[derive(Args, Debug)]
pub struct IssueArgs {
    /// Key name (or address) of the issuer
    from: String,
    /// Base unit name: 3-40 characters of [a-z0-9]
    subunit: String,
    /// Display unit (ticker): 3-12 characters of [A-Za-z0-9]
    symbol: String,
    /// Full name
    name: String,
    /// Decimal places of the display unit
    #[arg(long, default_value_t = 6)]
    precision: u32,
    #[arg(long, default_value = "")]
    description: String,
    /// Where the legal terms are
    #[arg(long, default_value = "")]
    uri: String,
    /// SHA-256 of the legal terms (64 hex digits)
    #[arg(long, default_value = "")]
    uri_hash: String,
    /// Largest total supply in base units (0 = none)
    #[arg(long, default_value = "0")]
    max_supply: String,
    /// Features, fixed for good (they can be renounced, never added)
    #[arg(long, value_enum, value_delimiter = ',')]
    features: Vec<FeatureArg>,
    /// Minted to the treasury at issuance
    #[arg(long, default_value = "0")]
    initial_supply: String,
    /// With transfer-fee: basis points of each transfer, paid on top
    #[arg(long, default_value_t = 0)]
    transfer_fee_bps: u32,
    /// With balance-cap: the largest balance an account may hold
    #[arg(long, default_value = "0")]
    balance_cap: String,
    #[arg(long, default_value = "")]
    master_minter: String,
    #[arg(long, default_value = "")]
    freezer: String,
    #[arg(long, default_value = "")]
    pauser: String,
    #[arg(long, default_value = "")]
    clawback: String,
    #[arg(long, default_value = "")]
    allowlister: String,
    /// Receives transfer fees and clawbacks (default: the issuer)
    #[arg(long, default_value = "")]
    treasury: String,
    #[command(flatten)]
    flags: TxFlags,
}

pub fn run_tx(ctx: &Ctx, home: &Path, cmd: AssetsTxCmd) -> anyhow::Result<()> {
    use AssetsTxCmd as C;
    let address = |what: &str, s: &str| parse_address(what, s).map(|a| a.to_string());
    let opt_address = |what: &str, s: &str| if s.is_empty() { Ok(String::new()) } else { address(what, s) };
    let (from, flags, msg) = match cmd {
        C::Issue(args) => {
            let IssueArgs {
                from,
                subunit,
                symbol,
                name,
                precision,
                description,
                uri,
                uri_hash,
                max_supply,
                features,
                initial_supply,
                transfer_fee_bps,
                balance_cap,
                master_minter,
                freezer,
                pauser,
                clawback,
                allowlister,
                treasury,
                flags,
            } = *args;
            let issuer = tx_signer(&from, &flags, home)?.address.to_string();
            let m = pb::MsgIssue {
                issuer,
                subunit,
                symbol,
                name,
                precision,
                description,
                uri,
                uri_hash,
                max_supply,
                features: features.iter().map(|f| f.to_proto() as i32).collect(),
                initial_supply,
                transfer_fee_bps,
                balance_cap,
                master_minter: opt_address("master-minter", &master_minter)?,
                freezer: opt_address("freezer", &freezer)?,
                pauser: opt_address("pauser", &pauser)?,
                clawback: opt_address("clawback", &clawback)?,
                allowlister: opt_address("allowlister", &allowlister)?,
                treasury: opt_address("treasury", &treasury)?,
            };
            (from, flags, any_msg(&m))
        }
        C::Mint { from, denom, recipient, amount, note, flags } => {
            let m = pb::MsgMint {
                minter: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                recipient: address("recipient", &recipient)?,
                amount,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::Burn { from, denom, amount, note, flags } => {
            let holder = tx_signer(&from, &flags, home)?.address.to_string();
            let m = pb::MsgBurn { holder, denom, amount, reason: note.reason, reference: note.reference };
            (from, flags, any_msg(&m))
        }
        C::ConfigureMinter { from, denom, minter, allowance, note, flags } => {
            let m = pb::MsgConfigureMinter {
                master_minter: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                minter: address("minter", &minter)?,
                allowance,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::Freeze { from, denom, account, amount, note, flags } => {
            let m = pb::MsgFreeze {
                freezer: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                amount,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::Unfreeze { from, denom, account, amount, note, flags } => {
            let m = pb::MsgUnfreeze {
                freezer: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                amount,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::FreezeAccount { from, denom, account, note, flags } => {
            let m = pb::MsgFreezeAccount {
                freezer: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::UnfreezeAccount { from, denom, account, note, flags } => {
            let m = pb::MsgUnfreezeAccount {
                freezer: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::Pause { from, denom, note, flags } => {
            let pauser = tx_signer(&from, &flags, home)?.address.to_string();
            (from, flags, any_msg(&pb::MsgPause { pauser, denom, reason: note.reason, reference: note.reference }))
        }
        C::Unpause { from, denom, note, flags } => {
            let pauser = tx_signer(&from, &flags, home)?.address.to_string();
            (from, flags, any_msg(&pb::MsgUnpause { pauser, denom, reason: note.reason, reference: note.reference }))
        }
        C::Clawback { from, denom, account, amount, note, flags } => {
            let m = pb::MsgClawback {
                clawback: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                amount,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::SetAllowed { from, denom, account, allowed, note, flags } => {
            let m = pb::MsgSetAllowed {
                allowlister: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                account: address("account", &account)?,
                allowed,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::SetRole { from, denom, role, address: a, note, flags } => {
            let m = pb::MsgSetRole {
                admin: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                role: role.to_proto() as i32,
                address: opt_address("address", &a)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::ProposeAdmin { from, denom, new_admin, note, flags } => {
            let m = pb::MsgProposeAdmin {
                admin: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                new_admin: opt_address("new-admin", &new_admin)?,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::AcceptAdmin { from, denom, flags } => {
            let new_admin = tx_signer(&from, &flags, home)?.address.to_string();
            (from, flags, any_msg(&pb::MsgAcceptAdmin { new_admin, denom }))
        }
        C::RenounceAdmin { from, denom, note, flags } => {
            let admin = tx_signer(&from, &flags, home)?.address.to_string();
            (
                from,
                flags,
                any_msg(&pb::MsgRenounceAdmin { admin, denom, reason: note.reason, reference: note.reference }),
            )
        }
        C::RenounceFeature { from, denom, feature, note, flags } => {
            let m = pb::MsgRenounceFeature {
                admin: tx_signer(&from, &flags, home)?.address.to_string(),
                denom,
                feature: feature.to_proto() as i32,
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
        C::UpdateParams { from, issue_fee, note, flags } => {
            let issue_fee = if issue_fee.is_empty() { vec![] } else { parse_positive_coins(&issue_fee)?.to_proto() };
            let m = pb::MsgUpdateParams {
                authority: tx_signer(&from, &flags, home)?.address.to_string(),
                params: Some(pb::Params { issue_fee }),
                reason: note.reason,
                reference: note.reference,
            };
            (from, flags, any_msg(&m))
        }
    };
    let signer = tx_signer(&from, &flags, home)?;
    broadcast_with(ctx, home, &signer, vec![msg], &flags, &|data| msg_response_fields(&ctx.any_types, data))
}

#[derive(Subcommand, Debug)]
pub enum AssetsQueryCmd {
    /// One token: its features, roles, settings and supply
    Token {
        denom: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every issued token
    Tokens {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The tokens an address issued
    ByIssuer {
        issuer: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An account's standing with a token: balance, frozen amount, spendable, flags
    Holder {
        denom: String,
        address: String,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A token's minters and their remaining allowances
    Minters {
        denom: String,
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The module's parameters
    Params {
        #[command(flatten)]
        height: HeightArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub fn run_query(ctx: &Ctx, cmd: AssetsQueryCmd) -> anyhow::Result<()> {
    use AssetsQueryCmd as Q;
    match cmd {
        Q::Token { denom, height, node } => {
            show_query::<_, pb::QueryTokenResponse>(ctx, &node, &height, query::TOKEN, &pb::QueryTokenRequest { denom })
        }
        Q::Tokens { page, height, node } => {
            let req = pb::QueryTokensRequest { pagination: Some(page.request()?) };
            show_query::<_, pb::QueryTokensResponse>(ctx, &node, &height, query::TOKENS, &req)
        }
        Q::ByIssuer { issuer, page, height, node } => {
            let issuer = parse_address("issuer", &issuer)?.to_string();
            let req = pb::QueryTokensByIssuerRequest { issuer, pagination: Some(page.request()?) };
            show_query::<_, pb::QueryTokensResponse>(ctx, &node, &height, query::TOKENS_BY_ISSUER, &req)
        }
        Q::Holder { denom, address, height, node } => {
            let address = parse_address("address", &address)?.to_string();
            let req = pb::QueryHolderRequest { denom, address };
            show_query::<_, pb::QueryHolderResponse>(ctx, &node, &height, query::HOLDER, &req)
        }
        Q::Minters { denom, page, height, node } => {
            let req = pb::QueryMintersRequest { denom, pagination: Some(page.request()?) };
            show_query::<_, pb::QueryMintersResponse>(ctx, &node, &height, query::MINTERS, &req)
        }
        Q::Params { height, node } => {
            show_query::<_, pb::QueryParamsResponse>(ctx, &node, &height, query::PARAMS, &pb::QueryParamsRequest {})
        }
    }
}
