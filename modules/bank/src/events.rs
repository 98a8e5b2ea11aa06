//! Events the bank keeper emits, with SDK v0.50 types and attribute names.
//! (The `message{action, sender, module}` event of a message is the app's.)

use paychain_framework::{Address, Coins, Event};

pub const COIN_SPENT: &str = "coin_spent";
pub const COIN_RECEIVED: &str = "coin_received";
pub const TRANSFER: &str = "transfer";
pub const MESSAGE: &str = "message";
pub const COINBASE: &str = "coinbase";
pub const BURN: &str = "burn";

pub fn coin_spent(spender: &Address, amount: &Coins) -> Event {
    Event::new(COIN_SPENT).attr("spender", spender.to_string()).attr("amount", amount.to_string())
}

pub fn coin_received(receiver: &Address, amount: &Coins) -> Event {
    Event::new(COIN_RECEIVED).attr("receiver", receiver.to_string()).attr("amount", amount.to_string())
}

/// `SendCoins`'s transfer event.
pub fn transfer(recipient: &Address, sender: &Address, amount: &Coins) -> Event {
    Event::new(TRANSFER)
        .attr("recipient", recipient.to_string())
        .attr("sender", sender.to_string())
        .attr("amount", amount.to_string())
}

/// `InputOutputCoins`'s per-output transfer event: v0.50 has no sender here
/// (the input's sender is in the `message{sender}` event before it).
pub fn transfer_output(recipient: &Address, amount: &Coins) -> Event {
    Event::new(TRANSFER).attr("recipient", recipient.to_string()).attr("amount", amount.to_string())
}

/// `message{sender}`, which the SDK's send paths add next to the app's message event.
pub fn message_sender(sender: &Address) -> Event {
    Event::new(MESSAGE).attr("sender", sender.to_string())
}

pub fn coinbase(minter: &Address, amount: &Coins) -> Event {
    Event::new(COINBASE).attr("minter", minter.to_string()).attr("amount", amount.to_string())
}

pub fn burn(burner: &Address, amount: &Coins) -> Event {
    Event::new(BURN).attr("burner", burner.to_string()).attr("amount", amount.to_string())
}
