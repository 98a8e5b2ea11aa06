// Our own message types through real CosmJS: the paychain.escrow.v1 messages,
// compiled from /proto by protobufjs (`npm run gen` writes gen/escrow.js; the
// `pretest` script, `make clients` and scripts/setup.sh run it), registered in a
// CosmJS Registry and sent with signAndBroadcast against a dev chain this test
// starts itself (see devchain.mjs).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";

import { decodeTxRaw, DirectSecp256k1HdWallet, Registry } from "@cosmjs/proto-signing";
import {
  createProtobufRpcClient,
  defaultRegistryTypes,
  GasPrice,
  QueryClient,
  SigningStargateClient,
} from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";

import { MIN_GAS_PRICE, startDevChain } from "./devchain.mjs";

const GEN = new URL("./gen/escrow.js", import.meta.url);
if (!existsSync(GEN)) {
  throw new Error("tests/js/gen/escrow.js is missing: run `npm run gen` in tests/js (npm test and make clients do)");
}
const { paychain } = await import(GEN.href);
const pb = paychain.escrow.v1;

const DENOM = "upay";
const PREFIX = "pay";
const URL_CREATE = "/paychain.escrow.v1.MsgCreateEscrow";
const URL_RELEASE = "/paychain.escrow.v1.MsgReleaseEscrow";

// pbjs types have create/encode/decode: CosmJS's PbjsGeneratedType.
const registry = new Registry(defaultRegistryTypes);
registry.register(URL_CREATE, pb.MsgCreateEscrow);
registry.register(URL_RELEASE, pb.MsgReleaseEscrow);

const clientOptions = { registry, gasPrice: GasPrice.fromString(MIN_GAS_PRICE), broadcastPollIntervalMs: 300 };

function attrs(events, type) {
  return events
    .filter((e) => e.type === type)
    .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

async function feeOf(client, hash) {
  const tx = await client.getTx(hash);
  assert.ok(tx, `tx ${hash} not found`);
  return decodeTxRaw(tx.tx).authInfo.fee.amount.filter((c) => c.denom === DENOM).reduce((s, c) => s + BigInt(c.amount), 0n);
}

describe("escrow messages from CosmJS with pbjs-generated types", { timeout: 180_000 }, () => {
  let chain;
  let comet;
  let query; // the escrow Query service over ABCI query, by hand
  let client;
  let recipientClient;
  let dev;
  let recipient;
  const secret = randomBytes(32);
  const hashLock = createHash("sha256").update(secret).digest();
  let id; // the escrow id, a decimal string
  let recipientFunds = 0n; // what the recipient holds besides the escrow payments

  const queryEscrow = async (escrowId) => {
    const bytes = await query.request("paychain.escrow.v1.Query", "Escrow", pb.QueryEscrowRequest.encode({ id: escrowId }).finish());
    return pb.QueryEscrowResponse.decode(bytes).escrow;
  };
  const balance = async (addr) => BigInt((await client.getBalance(addr, DENOM)).amount);

  before(async () => {
    chain = await startDevChain();
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
    dev = (await wallet.getAccounts())[0].address;
    client = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, clientOptions);
    const rwallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
    recipient = (await rwallet.getAccounts())[0].address;
    recipientClient = await SigningStargateClient.connectWithSigner(chain.rpc, rwallet, clientOptions);
    comet = await connectComet(chain.rpc);
    query = createProtobufRpcClient(new QueryClient(comet));
    // The recipient pays its own fees when it releases with the secret.
    const funded = await client.sendTokens(dev, recipient, [{ denom: DENOM, amount: "1000000" }], "auto");
    assert.equal(funded.code, 0, funded.rawLog);
    recipientFunds = 1_000_000n;
  });

  after(async () => {
    client?.disconnect();
    recipientClient?.disconnect();
    comet?.disconnect();
    await chain?.stop();
  });

  test("signAndBroadcast MsgCreateEscrow; the id comes back in msgResponses", async () => {
    const devBefore = await balance(dev);
    // int64/uint64 fields as numbers or decimal strings: protobufjs encodes a BigInt as 0.
    const refundAfter = { seconds: Math.floor(Date.now() / 1000) + 3600, nanos: 0 };
    const msg = {
      typeUrl: URL_CREATE,
      value: {
        sender: dev,
        recipient,
        amount: [{ denom: DENOM, amount: "250000" }],
        refundAfter,
        hashLock,
        reference: "invoice 2024-0042",
      },
    };
    const res = await client.signAndBroadcast(dev, [msg], "auto", "escrow from cosmjs");
    assert.equal(res.code, 0, res.rawLog);
    assert.deepEqual(res.msgResponses.map((r) => r.typeUrl), ["/paychain.escrow.v1.MsgCreateEscrowResponse"]);
    id = pb.MsgCreateEscrowResponse.decode(res.msgResponses[0].value).id.toString();
    assert.match(id, /^[1-9][0-9]*$/);

    const [created] = attrs(res.events, "escrow_created");
    assert.ok(created, `escrow_created event in ${JSON.stringify(res.events.map((e) => e.type))}`);
    assert.equal(created.id, id);
    assert.equal(created.sender, dev);
    assert.equal(created.recipient, recipient);
    assert.equal(created.amount, "250000upay");
    assert.equal(created.reference, "invoice 2024-0042");
    assert.equal(created.hash_lock, hashLock.toString("hex"));

    const fee = await feeOf(client, res.transactionHash);
    assert.equal(await balance(dev), devBefore - 250000n - fee);
    // The registry decodes what it encoded, inside the committed tx.
    const tx = await client.getTx(res.transactionHash);
    const sent = registry.decode(decodeTxRaw(tx.tx).body.messages[0]);
    assert.equal(sent.recipient, recipient);
    assert.deepEqual(Buffer.from(sent.hashLock), hashLock);
    assert.equal(Number(sent.refundAfter.seconds), refundAfter.seconds);
  });

  test("the escrow, by ABCI query (hand-made protobuf RPC client) and over REST", async () => {
    const e = await queryEscrow(id);
    assert.equal(e.id.toString(), id);
    assert.equal(e.status, pb.EscrowStatus.ESCROW_STATUS_OPEN);
    assert.equal(e.sender, dev);
    assert.equal(e.recipient, recipient);
    assert.deepEqual(e.remaining.map((c) => [c.denom, c.amount]), [[DENOM, "250000"]]);
    assert.deepEqual(Buffer.from(e.hashLock), hashLock);

    const r = await fetch(`${chain.rest}/paychain/escrow/v1/escrows/${id}`);
    assert.equal(r.status, 200);
    const j = (await r.json()).escrow;
    assert.equal(j.id, id);
    assert.equal(j.status, "ESCROW_STATUS_OPEN");
    assert.equal(j.hash_lock, hashLock.toString("base64"));
    assert.deepEqual(j.remaining, [{ denom: DENOM, amount: "250000" }]);

    const list = await (await fetch(`${chain.rest}/paychain/escrow/v1/escrows/by_recipient/${recipient}`)).json();
    assert.deepEqual(list.escrows.map((x) => x.id), [id]);
    const missing = await fetch(`${chain.rest}/paychain/escrow/v1/escrows/999999`);
    assert.equal(missing.status, 404);
  });

  test("MsgReleaseEscrow: a partial release by the sender, then the rest with the secret by the recipient", async () => {
    const part = await client.signAndBroadcast(
      dev,
      [{ typeUrl: URL_RELEASE, value: { signer: dev, id, amount: [{ denom: DENOM, amount: "50000" }] } }],
      "auto",
    );
    assert.equal(part.code, 0, part.rawLog);
    assert.equal(part.msgResponses[0].typeUrl, "/paychain.escrow.v1.MsgReleaseEscrowResponse");
    const partResp = pb.MsgReleaseEscrowResponse.decode(part.msgResponses[0].value);
    assert.deepEqual(
      [partResp.released.map((c) => c.amount), partResp.remaining.map((c) => c.amount)].flat(),
      ["50000", "200000"],
    );
    assert.equal(await balance(recipient), recipientFunds + 50000n);
    assert.equal((await queryEscrow(id)).status, pb.EscrowStatus.ESCROW_STATUS_OPEN);

    const before = await balance(recipient);
    const res = await recipientClient.signAndBroadcast(
      recipient,
      [{ typeUrl: URL_RELEASE, value: { signer: recipient, id, secret } }],
      "auto",
    );
    assert.equal(res.code, 0, res.rawLog);
    const fee = await feeOf(client, res.transactionHash);
    assert.equal(await balance(recipient), before - fee + 200000n, "the recipient got the remaining 200000upay");
    const [released] = attrs(res.events, "escrow_released");
    assert.equal(released.id, id);
    assert.equal(released.secret, secret.toString("hex"));
    assert.equal(released.released_by, "secret");
    assert.equal(released.amount, "200000upay");

    const e = await queryEscrow(id);
    assert.equal(e.status, pb.EscrowStatus.ESCROW_STATUS_RELEASED);
    assert.deepEqual(e.remaining, []);
  });

  test("a release with a wrong secret fails in the block with the escrow codespace", async () => {
    const fee = { amount: [{ denom: DENOM, amount: "6000" }], gas: "240000" };
    const create = await client.signAndBroadcast(
      dev,
      [{ typeUrl: URL_CREATE, value: { sender: dev, recipient, amount: [{ denom: DENOM, amount: "10" }], hashLock } }],
      "auto",
    );
    assert.equal(create.code, 0, create.rawLog);
    const other = pb.MsgCreateEscrowResponse.decode(create.msgResponses[0].value).id.toString();
    const before = await balance(recipient);
    const res = await recipientClient.signAndBroadcast(
      recipient,
      [{ typeUrl: URL_RELEASE, value: { signer: recipient, id: other, secret: randomBytes(32) } }],
      fee,
    );
    assert.equal(res.code, 18, res.rawLog);
    assert.match(res.rawLog ?? "", /secret does not match the hash lock/);
    assert.equal(await balance(recipient), before - 6000n, "only the fee is charged");
    assert.equal((await queryEscrow(other)).status, pb.EscrowStatus.ESCROW_STATUS_OPEN);
    // The REST tx endpoint: the codespace, and the escrow message rendered as JSON.
    const r = await (await fetch(`${chain.rest}/cosmos/tx/v1beta1/txs/${res.transactionHash}`)).json();
    assert.equal(r.tx_response.codespace, "escrow");
    assert.equal(r.tx_response.code, 18);
    const [msg] = r.tx.body.messages;
    assert.equal(msg["@type"], URL_RELEASE);
    assert.equal(msg.signer, recipient);
    assert.equal(msg.id, other);
    assert.equal(Buffer.from(msg.secret, "base64").length, 32);
  });
});
