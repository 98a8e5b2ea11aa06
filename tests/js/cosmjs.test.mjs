// The real @cosmjs/stargate client, unchanged, against a paychaind dev chain
// this test starts itself (see devchain.mjs). Run: `node --test` in tests/js.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { Secp256k1HdWallet } from "@cosmjs/amino";
import { decodeTxRaw, DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

import { MIN_GAS_PRICE, startDevChain } from "./devchain.mjs";

const DENOM = "upay";
const PREFIX = "pay";
const SIGN_MODE_DIRECT = 1;
const SIGN_MODE_LEGACY_AMINO_JSON = 127;
const clientOptions = {
  gasPrice: GasPrice.fromString(MIN_GAS_PRICE),
  // Only how often CosmJS polls tx_search for inclusion (blocks are 300 ms here).
  broadcastPollIntervalMs: 300,
};

async function freshAddress() {
  const w = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
  return (await w.getAccounts())[0].address;
}

/** The fee a committed tx paid, in upay, read back from the chain. */
async function feeOf(client, hash) {
  const tx = await client.getTx(hash);
  assert.ok(tx, `tx ${hash} not found`);
  const coins = decodeTxRaw(tx.tx).authInfo.fee.amount;
  return coins.filter((c) => c.denom === DENOM).reduce((s, c) => s + BigInt(c.amount), 0n);
}

function attr(events, type, key) {
  return events.filter((e) => e.type === type).flatMap((e) => e.attributes.filter((a) => a.key === key).map((a) => a.value));
}

describe("CosmJS against paychaind", { timeout: 180_000 }, () => {
  let chain;
  let client; // direct signer
  let amino; // amino (LEGACY_AMINO_JSON) signer
  let dev; // the funded dev address
  let startBalance;
  // What the tests expect the chain to report at the end.
  let spent = 0n; // amounts sent out of dev + fees paid
  const received = new Map();
  const hashes = {};

  const expectReceived = (addr, amount) => received.set(addr, (received.get(addr) ?? 0n) + BigInt(amount));

  before(async () => {
    chain = await startDevChain();
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
    dev = (await wallet.getAccounts())[0].address;
    client = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, clientOptions);
    const aminoWallet = await Secp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
    assert.equal((await aminoWallet.getAccounts())[0].address, dev);
    amino = await SigningStargateClient.connectWithSigner(chain.rpc, aminoWallet, clientOptions);
  });

  after(async () => {
    client?.disconnect();
    amino?.disconnect();
    await chain?.stop();
  });

  test("connects: chain id, height", async () => {
    assert.equal(await client.getChainId(), "paychain-dev-1");
    assert.ok((await client.getHeight()) >= 2);
  });

  test("getAccount: existing and new", async () => {
    const acc = await client.getAccount(dev);
    assert.ok(acc, "dev account exists");
    assert.equal(acc.address, dev);
    assert.equal(typeof acc.accountNumber, "bigint");
    assert.equal(acc.sequence, 0);
    assert.equal(await client.getAccount(await freshAddress()), null);
  });

  test("getBalance and getAllBalances", async () => {
    const b = await client.getBalance(dev, DENOM);
    assert.equal(b.denom, DENOM);
    assert.ok(BigInt(b.amount) > 0n);
    startBalance = BigInt(b.amount);
    const all = await client.getAllBalances(dev);
    assert.deepEqual(all.find((c) => c.denom === DENOM), b);
    const none = await client.getBalance(await freshAddress(), DENOM);
    assert.deepEqual(none, { denom: DENOM, amount: "0" });
    assert.deepEqual(await client.getAllBalances(await freshAddress()), []);
  });

  test("sendTokens with fee auto", async () => {
    const to = await freshAddress();
    const res = await client.sendTokens(dev, to, [{ denom: DENOM, amount: "12345" }], "auto", "auto fee");
    assert.equal(res.code, 0, res.rawLog);
    assert.ok(res.gasUsed > 0n && res.gasUsed <= res.gasWanted);
    hashes.auto = res.transactionHash;
    assert.match(hashes.auto, /^[0-9A-F]{64}$/);
    const fee = await feeOf(client, hashes.auto);
    assert.ok(fee > 0n);
    spent += 12345n + fee;
    expectReceived(to, 12345);
    // The new account now exists, without a public key.
    const acc = await client.getAccount(to);
    assert.ok(acc);
    assert.equal(acc.pubkey, null);
    assert.equal(acc.sequence, 0);
    assert.equal((await client.getAccount(dev)).sequence, 1);
    hashes.autoRecipient = to;
  });

  test("sendTokens with an explicit fee", async () => {
    const to = await freshAddress();
    const fee = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };
    const res = await client.sendTokens(dev, to, [{ denom: DENOM, amount: "777" }], fee);
    assert.equal(res.code, 0, res.rawLog);
    assert.equal(res.gasWanted, 200000n);
    assert.equal(await feeOf(client, res.transactionHash), 5000n);
    spent += 777n + 5000n;
    expectReceived(to, 777);
    assert.deepEqual(await client.getBalance(to, DENOM), { denom: DENOM, amount: "777" });
  });

  test("signAndBroadcast of a MsgMultiSend", async () => {
    const a = await freshAddress();
    const b = await freshAddress();
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgMultiSend",
      value: {
        inputs: [{ address: dev, coins: [{ denom: DENOM, amount: "3000" }] }],
        outputs: [
          { address: a, coins: [{ denom: DENOM, amount: "1000" }] },
          { address: b, coins: [{ denom: DENOM, amount: "2000" }] },
        ],
      },
    };
    const res = await client.signAndBroadcast(dev, [msg], "auto");
    assert.equal(res.code, 0, res.rawLog);
    spent += 3000n + (await feeOf(client, res.transactionHash));
    expectReceived(a, 1000);
    expectReceived(b, 2000);
    const transfers = attr(res.events, "transfer", "recipient");
    assert.ok(transfers.includes(a) && transfers.includes(b));
  });

  test("getTx of the send: result, events, msg responses", async () => {
    const tx = await client.getTx(hashes.auto);
    assert.ok(tx);
    assert.equal(tx.code, 0);
    assert.equal(tx.hash, hashes.auto);
    assert.ok(tx.height > 0);
    const decoded = decodeTxRaw(tx.tx);
    assert.equal(decoded.body.memo, "auto fee");
    assert.equal(decoded.body.messages[0].typeUrl, "/cosmos.bank.v1beta1.MsgSend");
    assert.equal(decoded.authInfo.signerInfos[0].modeInfo.single.mode, SIGN_MODE_DIRECT);
    assert.deepEqual(tx.msgResponses.map((r) => r.typeUrl), ["/cosmos.bank.v1beta1.MsgSendResponse"]);
    // The SDK v0.50 sequence: fee transfer, tx{fee}, tx{acc_seq}, tx{signature}, then the message's events.
    const types = tx.events.map((e) => e.type);
    assert.deepEqual(types, [
      "coin_spent", "coin_received", "transfer", "message", "tx", "tx", "tx",
      "message", "coin_spent", "coin_received", "transfer", "message",
    ]);
    const msgEvent = tx.events[7];
    assert.deepEqual(
      msgEvent.attributes.map((a) => [a.key, a.value]),
      [["action", "/cosmos.bank.v1beta1.MsgSend"], ["sender", dev], ["module", "bank"], ["msg_index", "0"]],
    );
    assert.deepEqual(attr(tx.events, "tx", "acc_seq"), [`${dev}/0`]);
    assert.deepEqual(attr(tx.events, "tx", "fee_payer"), [dev]);
    assert.ok(tx.events.slice(7).every((e) => e.attributes.some((a) => a.key === "msg_index" && a.value === "0")));
  });

  test("searchTx by sender and by recipient", async () => {
    const bySender = await client.searchTx(`message.sender='${dev}'`);
    assert.ok(bySender.some((t) => t.hash === hashes.auto), "string query finds the send");
    const byArray = await client.searchTx([{ key: "message.sender", value: dev }]);
    assert.deepEqual(byArray.map((t) => t.hash).sort(), bySender.map((t) => t.hash).sort());
    assert.ok(bySender.length >= 3);
    const byRecipient = await client.searchTx(`transfer.recipient='${hashes.autoRecipient}'`);
    assert.deepEqual(byRecipient.map((t) => t.hash), [hashes.auto]);
    const byAccSeq = await client.searchTx(`tx.acc_seq='${dev}/0'`);
    assert.deepEqual(byAccSeq.map((t) => t.hash), [hashes.auto]);
  });

  test("a send beyond the balance fails with a non-zero code and still pays its fee", async () => {
    const balance = BigInt((await client.getBalance(dev, DENOM)).amount);
    const fee = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };
    const res = await client.sendTokens(dev, await freshAddress(), [{ denom: DENOM, amount: balance.toString() }], fee);
    assert.equal(res.code, 5, res.rawLog);
    assert.match(res.rawLog ?? "", /insufficient funds/);
    spent += 5000n;
    // Simulation (fee "auto") reports the failure by throwing.
    await assert.rejects(
      client.sendTokens(dev, await freshAddress(), [{ denom: DENOM, amount: (balance * 2n).toString() }], "auto"),
      /insufficient funds/,
    );
  });

  test("amino (SIGN_MODE_LEGACY_AMINO_JSON) send and multi-send", async () => {
    const to = await freshAddress();
    // HTML characters in the memo: both sides must escape them the same way.
    const res = await amino.sendTokens(dev, to, [{ denom: DENOM, amount: "4242" }], "auto", "amino <&> memo");
    assert.equal(res.code, 0, res.rawLog);
    const tx = await amino.getTx(res.transactionHash);
    assert.equal(decodeTxRaw(tx.tx).authInfo.signerInfos[0].modeInfo.single.mode, SIGN_MODE_LEGACY_AMINO_JSON);
    spent += 4242n + (await feeOf(client, res.transactionHash));
    expectReceived(to, 4242);

    const fee = { amount: [{ denom: DENOM, amount: "6000" }], gas: "240000" };
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgMultiSend",
      value: {
        inputs: [{ address: dev, coins: [{ denom: DENOM, amount: "10" }] }],
        outputs: [{ address: to, coins: [{ denom: DENOM, amount: "10" }] }],
      },
    };
    const multi = await amino.signAndBroadcast(dev, [msg], fee, "");
    assert.equal(multi.code, 0, multi.rawLog);
    spent += 10n + 6000n;
    expectReceived(to, 10);
  });

  test("an amino signature for another chain id is rejected", async () => {
    const aminoWallet = await Secp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
    const acc = await client.getAccount(dev);
    const fee = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgSend",
      value: { fromAddress: dev, toAddress: await freshAddress(), amount: [{ denom: DENOM, amount: "1" }] },
    };
    const offline = await SigningStargateClient.offline(aminoWallet);
    const raw = await offline.sign(dev, [msg], fee, "", {
      accountNumber: acc.accountNumber,
      sequence: acc.sequence,
      chainId: "other-chain-1",
    });
    
    // A short timeout: CosmJS leaves its poll timer running when CheckTx rejects.
    await assert.rejects(client.broadcastTx(TxRaw.encode(raw).finish(), 5_000, 300), (e) => {
      assert.equal(e.code, 4, e.message);
      assert.match(e.message, /signature verification failed/);
      return true;
    });
  });

  test("balances match what was sent minus fees, to the unit", async () => {
    const end = BigInt((await client.getBalance(dev, DENOM)).amount);
    assert.equal(end, startBalance - spent);
    for (const [addr, amount] of received) {
      assert.deepEqual(await client.getAllBalances(addr), [{ denom: DENOM, amount: amount.toString() }], addr);
    }
    // And through a read-only client too.
    const ro = await StargateClient.connect(chain.rpc);
    assert.equal(BigInt((await ro.getBalance(dev, DENOM)).amount), end);
    ro.disconnect();
  });
});
