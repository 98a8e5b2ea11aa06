// A 2-of-3 multisig account with CosmJS against a dev chain: the SDK's
// LegacyAminoPubKey and address, amino signatures by two members,
// makeMultisignedTxBytes, broadcast; one signature is refused.
// (package.json pins @scure/base to 2.0.0: CosmJS 0.39 calls its bech32 decode with an
// Infinity limit, which @scure/base 2.4 refuses, breaking makeMultisignedTxBytes.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { createMultisigThresholdPubkey, pubkeyToAddress } from "@cosmjs/amino";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { BroadcastTxError, makeMultisignedTxBytes, SigningStargateClient, StargateClient } from "@cosmjs/stargate";

import { newMultisig, startDevChain } from "./devchain.mjs";

const PREFIX = "pay";
const DENOM = "upay";
const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };

describe("multisig accounts with CosmJS", { timeout: 180_000 }, () => {
  let chain;
  let client;
  let members; // [{ wallet, address, pubkey }]
  let multisig;
  let msAddress;
  const to = "pay1qyqszqgpqyqszqgpqyqszqgpqyqszqgp9ztdnl";

  before(async () => {
    chain = await startDevChain();
    client = await StargateClient.connect(chain.rpc);
    ({ members, pubkey: multisig, address: msAddress } = await newMultisig(2, 3, PREFIX));
    // Fund the multisig from the dev key.
    const devWallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
    const [dev] = await devWallet.getAccounts();
    const funder = await SigningStargateClient.connectWithSigner(chain.rpc, devWallet);
    const res = await funder.sendTokens(dev.address, msAddress, [{ denom: DENOM, amount: "1000000" }], FEE);
    assert.equal(res.code, 0, res.rawLog);
    funder.disconnect();
  });

  after(async () => {
    client?.disconnect();
    await chain?.stop();
  });

  /** Each member's amino signature of a send of `amount` from the multisig. */
  async function signatures(signers, amount) {
    const account = await client.getAccount(msAddress);
    const chainId = await client.getChainId();
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgSend",
      value: { fromAddress: msAddress, toAddress: to, amount: [{ denom: DENOM, amount }] },
    };
    const signerData = { accountNumber: account.accountNumber, sequence: account.sequence, chainId };
    let bodyBytes;
    const sigs = new Map();
    for (const m of signers) {
      const offline = await SigningStargateClient.offline(m.wallet);
      const signed = await offline.sign(m.address, [msg], FEE, "multisig test", signerData);
      bodyBytes = signed.bodyBytes;
      sigs.set(m.address, signed.signatures[0]);
    }
    return { bodyBytes, sigs, sequence: account.sequence };
  }

  test("the multisig address is the SDK's", async () => {
    assert.match(msAddress, /^pay1/);
    // Re-creating the key in another order gives the same (sorted) key and address.
    const again = createMultisigThresholdPubkey([...members].reverse().map((m) => m.pubkey), 2);
    assert.equal(pubkeyToAddress(again, PREFIX), msAddress);
  });

  test("one signature of three is refused", async () => {
    const { bodyBytes, sigs, sequence } = await signatures([members[0]], "111");
    const tx = makeMultisignedTxBytes(multisig, sequence, FEE, bodyBytes, sigs);
    // broadcastTxSync: CheckTx's refusal is the whole answer (broadcastTx would
    // leave its 60 s poll timer running after the refusal).
    await assert.rejects(client.broadcastTxSync(tx), (e) => {
      assert.ok(e instanceof BroadcastTxError, String(e));
      assert.equal(e.code, 4, e.message);
      assert.equal(e.codespace, "sdk", e.message);
      return true;
    });
    assert.equal((await client.getBalance(msAddress, DENOM)).amount, "1000000");
  });

  test("two of three signatures send, and the account shows the multisig key", async () => {
    const { bodyBytes, sigs, sequence } = await signatures([members[0], members[2]], "12345");
    const tx = makeMultisignedTxBytes(multisig, sequence, FEE, bodyBytes, sigs);
    const res = await client.broadcastTx(tx);
    assert.equal(res.code, 0, res.rawLog);
    assert.equal((await client.getBalance(to, DENOM)).amount, "12345");
    assert.equal((await client.getBalance(msAddress, DENOM)).amount, String(1000000 - 12345 - 5000));
    const account = await client.getAccount(msAddress);
    assert.equal(account.sequence, 1);
    assert.equal(account.pubkey.type, "tendermint/PubKeyMultisigThreshold");
    assert.equal(account.pubkey.value.threshold, "2");
    assert.deepEqual(account.pubkey.value.pubkeys, multisig.value.pubkeys);
  });
});
