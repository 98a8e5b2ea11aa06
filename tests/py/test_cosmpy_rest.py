"""cosmpy, unchanged, against a real dev chain over REST (`rest+http://`):
balance, send with simulated gas (the deprecated `tx` JSON field), wait for the
tx, exact balance changes. Everything cosmpy parses is strict proto JSON, so
this also checks the REST server's JSON shape."""

import json
import re
import urllib.error
import urllib.request


from cosmpy.aerial.wallet import LocalWallet

from conftest import DENOM, ledger_client

AMOUNT = 23456


def fee_of(tx_response) -> int:
    """The fee the tx paid, from its `tx{fee}` event (e.g. "4321upay")."""
    fee = tx_response.events["tx"]["fee"]
    m = re.fullmatch(r"(\d+)" + DENOM, fee)
    assert m, f"unexpected fee attribute {fee!r}"
    return int(m.group(1))


def rest_get(chain, path):
    url = f"http://127.0.0.1:{chain.rest_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_cosmpy_rest_balance_send_wait(dev_chain):
    client = ledger_client(dev_chain, dev_chain.rest_url)

    dev = LocalWallet.from_mnemonic(dev_chain.mnemonic, prefix="pay")
    recipient = LocalWallet.generate(prefix="pay")

    sender_before = client.query_bank_balance(dev.address(), DENOM)
    assert sender_before > 0
    assert client.query_bank_balance(recipient.address(), DENOM) == 0
    assert any(c.denom == DENOM for c in client.query_bank_all_balances(dev.address()))

    # An unknown tx is a 404 whose body says "tx not found".
    status, body = rest_get(dev_chain, "/cosmos/tx/v1beta1/txs/" + "AB" * 32)
    assert status == 404 and "tx not found" in body["message"], body

    tx = client.send_tokens(recipient.address(), AMOUNT, DENOM, dev)
    tx.wait_to_complete()
    resp = tx.response
    assert resp is not None and resp.code == 0, resp
    assert resp.hash == tx.tx_hash

    fee = fee_of(resp)
    assert fee > 0
    assert client.query_bank_balance(recipient.address(), DENOM) == AMOUNT
    assert client.query_bank_balance(dev.address(), DENOM) == sender_before - AMOUNT - fee

    # The account's sequence moved, as cosmpy reads it.
    assert client.query_account(dev.address()).sequence >= 1

    # node_info over REST names the chain.
    status, body = rest_get(dev_chain, "/cosmos/base/tendermint/v1beta1/node_info")
    assert status == 200 and body["default_node_info"]["network"] == dev_chain.chain_id, body
