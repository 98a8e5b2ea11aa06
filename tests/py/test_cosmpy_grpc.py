"""cosmpy, unchanged, against a real dev chain over gRPC (`grpc+http://`):
balance, send with simulated gas, wait for the tx, exact balance changes."""

import re


from cosmpy.aerial.wallet import LocalWallet

from conftest import DENOM, ledger_client

AMOUNT = 12345


def fee_of(tx_response) -> int:
    """The fee the tx paid, from its `tx{fee}` event (e.g. "4321upay")."""
    fee = tx_response.events["tx"]["fee"]
    m = re.fullmatch(r"(\d+)" + DENOM, fee)
    assert m, f"unexpected fee attribute {fee!r}"
    return int(m.group(1))


def test_cosmpy_grpc_balance_send_wait(dev_chain):
    client = ledger_client(dev_chain, dev_chain.grpc_url)

    # The dev key (m/44'/118'/0'/0/0 of the dev mnemonic) with the chain's prefix.
    dev = LocalWallet.from_mnemonic(dev_chain.mnemonic, prefix="pay")
    recipient = LocalWallet.generate(prefix="pay")
    assert str(dev.address()).startswith("pay1")

    assert client.query_chain_id() == dev_chain.chain_id
    assert client.query_height() >= 1

    sender_before = client.query_bank_balance(dev.address(), DENOM)
    assert sender_before > 0
    assert client.query_bank_balance(recipient.address(), DENOM) == 0

    tx = client.send_tokens(recipient.address(), AMOUNT, DENOM, dev)
    tx.wait_to_complete()
    resp = tx.response
    assert resp is not None and resp.code == 0, resp
    assert resp.height >= 1
    assert resp.hash == tx.tx_hash

    fee = fee_of(resp)
    assert fee > 0
    assert client.query_bank_balance(recipient.address(), DENOM) == AMOUNT
    assert client.query_bank_balance(dev.address(), DENOM) == sender_before - AMOUNT - fee

    # The tx is found again by hash.
    again = client.query_tx(tx.tx_hash)
    assert again.hash == tx.tx_hash and again.code == 0
