//! The IBC messages a tx may carry: ibc-rs's core messages (decoded and checked statelessly by
//! ibc-rs's own domain conversions) and ICS-20's `MsgTransfer` (checked here, with ibc-go's
//! bounds on memo and receiver).

use std::any::Any as StdAny;

use cosmos_sdk_proto::Any;
use ibc::core::channel::types::msgs::{ChannelMsg, PacketMsg};
use ibc::core::client::types::msgs::ClientMsg;
use ibc::core::connection::types::msgs::ConnectionMsg;
use ibc::core::handler::types::msgs::MsgEnvelope;
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer as RawMsgTransfer;
use paychain_framework::{sdk, Address, Msg, SdkError};
use prost::Message;

pub const MSG_CREATE_CLIENT: &str = "/ibc.core.client.v1.MsgCreateClient";
pub const MSG_UPDATE_CLIENT: &str = "/ibc.core.client.v1.MsgUpdateClient";
pub const MSG_UPGRADE_CLIENT: &str = "/ibc.core.client.v1.MsgUpgradeClient";
pub const MSG_SUBMIT_MISBEHAVIOUR: &str = "/ibc.core.client.v1.MsgSubmitMisbehaviour";
pub const MSG_CONNECTION_OPEN_INIT: &str = "/ibc.core.connection.v1.MsgConnectionOpenInit";
pub const MSG_CONNECTION_OPEN_TRY: &str = "/ibc.core.connection.v1.MsgConnectionOpenTry";
pub const MSG_CONNECTION_OPEN_ACK: &str = "/ibc.core.connection.v1.MsgConnectionOpenAck";
pub const MSG_CONNECTION_OPEN_CONFIRM: &str = "/ibc.core.connection.v1.MsgConnectionOpenConfirm";
pub const MSG_CHANNEL_OPEN_INIT: &str = "/ibc.core.channel.v1.MsgChannelOpenInit";
pub const MSG_CHANNEL_OPEN_TRY: &str = "/ibc.core.channel.v1.MsgChannelOpenTry";
pub const MSG_CHANNEL_OPEN_ACK: &str = "/ibc.core.channel.v1.MsgChannelOpenAck";
pub const MSG_CHANNEL_OPEN_CONFIRM: &str = "/ibc.core.channel.v1.MsgChannelOpenConfirm";
pub const MSG_CHANNEL_CLOSE_INIT: &str = "/ibc.core.channel.v1.MsgChannelCloseInit";
pub const MSG_CHANNEL_CLOSE_CONFIRM: &str = "/ibc.core.channel.v1.MsgChannelCloseConfirm";
pub const MSG_RECV_PACKET: &str = "/ibc.core.channel.v1.MsgRecvPacket";
pub const MSG_ACKNOWLEDGEMENT: &str = "/ibc.core.channel.v1.MsgAcknowledgement";
pub const MSG_TIMEOUT: &str = "/ibc.core.channel.v1.MsgTimeout";
pub const MSG_TIMEOUT_ON_CLOSE: &str = "/ibc.core.channel.v1.MsgTimeoutOnClose";
pub const MSG_TRANSFER: &str = "/ibc.applications.transfer.v1.MsgTransfer";
pub const MSG_TRANSFER_RESPONSE: &str = "/ibc.applications.transfer.v1.MsgTransferResponse";

/// Core messages routed to ibc-rs's `dispatch`.
pub const CORE_MSGS: &[&str] = &[
    MSG_CREATE_CLIENT,
    MSG_UPDATE_CLIENT,
    MSG_UPGRADE_CLIENT,
    MSG_SUBMIT_MISBEHAVIOUR,
    MSG_CONNECTION_OPEN_INIT,
    MSG_CONNECTION_OPEN_TRY,
    MSG_CONNECTION_OPEN_ACK,
    MSG_CONNECTION_OPEN_CONFIRM,
    MSG_CHANNEL_OPEN_INIT,
    MSG_CHANNEL_OPEN_TRY,
    MSG_CHANNEL_OPEN_ACK,
    MSG_CHANNEL_OPEN_CONFIRM,
    MSG_CHANNEL_CLOSE_INIT,
    MSG_CHANNEL_CLOSE_CONFIRM,
    MSG_RECV_PACKET,
    MSG_ACKNOWLEDGEMENT,
    MSG_TIMEOUT,
    MSG_TIMEOUT_ON_CLOSE,
];

/// ibc-go's bounds (`MaximumMemoLength`, `MaximumReceiverLength`).
pub const MAX_MEMO_BYTES: usize = 32_768;
pub const MAX_RECEIVER_BYTES: usize = 2_048;

/// The codespace of IBC errors in tx results.
pub const IBC_CODESPACE: &str = "ibc";

/// An IBC core message, checked by ibc-rs's decoding.
#[derive(Debug)]
pub struct IbcCoreMsg {
    pub type_url: &'static str,
    pub envelope: MsgEnvelope,
    pub signer: Address,
}

#[allow(deprecated)] // MsgSubmitMisbehaviour's signer: still the signer of that message
fn signer_of(envelope: &MsgEnvelope) -> &str {
    match envelope {
        MsgEnvelope::Client(m) => match m {
            ClientMsg::CreateClient(m) => m.signer.as_ref(),
            ClientMsg::UpdateClient(m) => m.signer.as_ref(),
            ClientMsg::Misbehaviour(m) => m.signer.as_ref(),
            ClientMsg::UpgradeClient(m) => m.signer.as_ref(),
            ClientMsg::RecoverClient(m) => m.signer.as_ref(),
        },
        MsgEnvelope::Connection(m) => match m {
            ConnectionMsg::OpenInit(m) => m.signer.as_ref(),
            ConnectionMsg::OpenTry(m) => m.signer.as_ref(),
            ConnectionMsg::OpenAck(m) => m.signer.as_ref(),
            ConnectionMsg::OpenConfirm(m) => m.signer.as_ref(),
        },
        MsgEnvelope::Channel(m) => match m {
            ChannelMsg::OpenInit(m) => m.signer.as_ref(),
            ChannelMsg::OpenTry(m) => m.signer.as_ref(),
            ChannelMsg::OpenAck(m) => m.signer.as_ref(),
            ChannelMsg::OpenConfirm(m) => m.signer.as_ref(),
            ChannelMsg::CloseInit(m) => m.signer.as_ref(),
            ChannelMsg::CloseConfirm(m) => m.signer.as_ref(),
        },
        MsgEnvelope::Packet(m) => match m {
            PacketMsg::Recv(m) => m.signer.as_ref(),
            PacketMsg::Ack(m) => m.signer.as_ref(),
            PacketMsg::Timeout(m) => m.signer.as_ref(),
            PacketMsg::TimeoutOnClose(m) => m.signer.as_ref(),
        },
    }
}

fn signer_address(signer: &str, what: &str) -> Result<Address, SdkError> {
    Address::from_bech32(signer).map_err(|e| sdk::invalid_address(format!("{what} {signer:?}: {}", e.log)))
}

impl IbcCoreMsg {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        let type_url = CORE_MSGS
            .iter()
            .find(|u| **u == any.type_url)
            .copied()
            .ok_or_else(|| sdk::unknown_request(format!("unrecognized ibc message type: {}", any.type_url)))?;
        let raw = ibc_proto::google::protobuf::Any { type_url: any.type_url.clone(), value: any.value.clone() };
        let envelope =
            MsgEnvelope::try_from(raw).map_err(|e| sdk::tx_decode(format!("invalid {}: {e}", &type_url[1..])))?;
        let signer = signer_address(signer_of(&envelope), "signer")?;
        Ok(Self { type_url, envelope, signer })
    }
}

impl Msg for IbcCoreMsg {
    fn type_url(&self) -> &'static str {
        self.type_url
    }

    fn signers(&self) -> Vec<Address> {
        vec![self.signer.clone()]
    }

    fn as_any(&self) -> &dyn StdAny {
        self
    }
}

/// ICS-20 `MsgTransfer`, kept raw: its `ibc/<HASH>` denom is resolved to the full trace
/// against state before ibc-rs sees it.
#[derive(Debug)]
pub struct TransferMsg {
    pub raw: RawMsgTransfer,
    pub sender: Address,
}

impl TransferMsg {
    pub fn decode(any: &Any) -> Result<Self, SdkError> {
        let raw = RawMsgTransfer::decode(any.value.as_slice())
            .map_err(|e| sdk::tx_decode(format!("invalid MsgTransfer: {e}")))?;
        let sender = signer_address(&raw.sender, "sender")?;
        if raw.receiver.trim().is_empty() {
            return Err(sdk::invalid_address("missing receiver address"));
        }
        if raw.receiver.len() > MAX_RECEIVER_BYTES {
            return Err(sdk::invalid_address(format!(
                "receiver address must not exceed {MAX_RECEIVER_BYTES} bytes, got {}",
                raw.receiver.len()
            )));
        }
        if raw.memo.len() > MAX_MEMO_BYTES {
            return Err(sdk::invalid_request(format!(
                "memo must not exceed {MAX_MEMO_BYTES} bytes, got {}",
                raw.memo.len()
            )));
        }
        let token = raw.token.as_ref().ok_or_else(|| sdk::invalid_coins("missing token"))?;
        let amount = paychain_framework::coins::parse_amount(&token.amount)?;
        if amount == 0 {
            return Err(sdk::invalid_coins(format!("token amount must be positive: {}{}", token.amount, token.denom)));
        }
        crate::types::DenomTrace::parse(&token.denom)
            .map_err(|e| sdk::invalid_coins(format!("invalid token denom: {e}")))?;
        if raw.timeout_height.as_ref().is_none_or(|h| h.revision_height == 0) && raw.timeout_timestamp == 0 {
            return Err(sdk::invalid_request("a transfer needs a timeout height or a timeout timestamp"));
        }
        Ok(Self { raw, sender })
    }
}

impl Msg for TransferMsg {
    fn type_url(&self) -> &'static str {
        MSG_TRANSFER
    }

    fn signers(&self) -> Vec<Address> {
        vec![self.sender.clone()]
    }

    fn as_any(&self) -> &dyn StdAny {
        self
    }
}
