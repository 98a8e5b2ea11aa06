// Fee tokens (the paychain.fees.v1 module) through real CosmJS against a dev chain
// this test starts itself (devchain.mjs) with a minimum gas price of 0.01upay: an
// account holding only an issued stablecoin (no upay, ever) sends it with CosmJS's
// "auto" fee and a gas price in the token. While the token is not listed its fee
// counts for nothing and CheckTx refuses the tx (sdk/13); a non-authority cannot
// list it (authority/3); once the chain authority (the dev key) lists it at rate 2,
// the same "auto" send lands, paying its fee in the token. The rate is applied
// (a fee worth one upay too little is refused) and rounds down (floor(amount ×
// rate), checked at rate 1.5), and delisting the token refuses its fees again.
//
// Txs that CheckTx is expected to refuse go through broadcastTxSync (directly or
// by signAndBroadcastSync): CosmJS 0.39's broadcastTx leaves its 60 s poll timer
// running when the broadcast itself is refused, which would hold the test open.
//
// The messages are compiled from /proto by protobufjs (`npm run gen` writes
// gen/assets.js, gen/fees.js and gen/authority.js).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import { decodeTxRaw, DirectSecp256k1HdWallet, Registry } from "@cosmjs/proto-signing";
import {
  BroadcastTxError,
  createProtobufRpcClient,
  defaultRegistryTypes,
  GasPrice,
  QueryClient,
  SigningStargateClient,
} from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

import { startDevChain } from "./devchain.mjs";

const gen = {};
for (const name of ["assets", "fees", "authority"]) {
  const file = new URL(`./gen/${name}.js`, import.meta.url);
  if (!existsSync(file)) {
    throw new Error(`tests/js/gen/${name}.js is missing: run \`npm run gen\` in tests/js (npm test and make clients do)`);
  }
  gen[name] = (await import(file.href)).paychain[name].v1;
}

const PREFIX = "pay";
const BASE_DENOM = "upay";
// The node's minimum gas price, and the holder's gas price in the token: at rate 2
// a fee of ceil(gas × 0.005) token units is worth at least ceil(gas × 0.01) upay,
// exactly what the node asks.
const MIN_GAS_PRICE = "0.01upay";
const TOKEN_GAS_PRICE = "0.005";
const RATE = "2";
// A fixed gas limit for the txs that must be refused or must hit a boundary exactly:
// the node asks ceil(200000 × 0.01) = 2000 upay for it.
const FIXED_GAS = "200000";
const REQUIRED_UPAY = 2000n;
const HELD = 1_000_000n; // the token units the holder gets
const SENT = 1000n; // what each of the holder's sends moves

const registry = new Registry(defaultRegistryTypes);
registry.register("/paychain.assets.v1.MsgIssue", gen.assets.MsgIssue);
registry.register("/paychain.fees.v1.MsgSetFeeTokens", gen.fees.MsgSetFeeTokens);

/** The attributes of each event of `type`, as objects. */
function attrs(events, type) {
  return events
    .filter((e) => e.type === type)
    .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

describe("fee tokens (fees module) from CosmJS", { timeout: 240_000 }, () => {
  let chain;
  let comet;
  let query; // Protobuf RPC over ABCI query
  const clients = [];
  let dev; // the chain authority, the token's issuer
  let devClient;
  let denom; // the issued token
  let holder; // { address, client }: holds only the token
  let mallory; // { address, client }: holds upay, is not the authority
  const recipient = "pay1qyqszqgpqyqszqgpqyqszqgpqyqszqgp9ztdnl";

  const connect = async (wallet, gasPrice) => {
    const c = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, {
      registry,
      gasPrice: GasPrice.fromString(gasPrice),
      broadcastPollIntervalMs: 300,
    });
    clients.push(c);
    return c;
  };
  const restJson = async (path) => {
    const r = await fetch(`${chain.rest}${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return r.json();
  };
  const queryFeeTokens = async () =>
    gen.fees.QueryFeeTokensResponse.decode(
      await query.request("paychain.fees.v1.Query", "FeeTokens", gen.fees.QueryFeeTokensRequest.encode({}).finish()),
    );
  const queryAuthority = async () =>
    gen.authority.QueryAuthorityResponse.decode(
      await query.request("paychain.authority.v1.Query", "Authority", gen.authority.QueryAuthorityRequest.encode({}).finish()),
    );
  /** Every balance of `address`, as { denom: bigint }. */
  const balances = async (address) =>
    Object.fromEntries((await devClient.getAllBalances(address)).map((c) => [c.denom, BigInt(c.amount)]));
  /** The holder holds `amount` of the token and nothing else (no upay). */
  async function holderHoldsOnly(amount, why) {
    assert.deepEqual(await balances(holder.address), { [denom]: amount }, why);
    assert.equal((await devClient.getBalance(holder.address, BASE_DENOM)).amount, "0");
  }
  const sendToken = (amount = SENT) => ({
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: { fromAddress: holder.address, toAddress: recipient, amount: [{ denom, amount: String(amount) }] },
  });
  const setFeeTokens = (authority, feeTokens) => ({
    typeUrl: "/paychain.fees.v1.MsgSetFeeTokens",
    value: { authority, feeTokens, reason: "treasury_review", reference: "ALCO 2026-12" },
  });
  /** The authority replaces the fee-token list; it must land. */
  async function listFeeTokens(feeTokens) {
    const res = await devClient.signAndBroadcast(dev, [setFeeTokens(dev, feeTokens)], "auto");
    assert.equal(res.code, 0, res.rawLog);
    const evs = attrs(res.events, "fee_tokens_set");
    assert.equal(evs.length, 1, "one fee_tokens_set event");
    assert.equal(evs[0].actor, dev);
    assert.equal(evs[0].fee_tokens, feeTokens.map((t) => `${t.denom}:${t.rate}`).join(","));
    return res;
  }

  /** The rejection of a broadcast CheckTx refused for too low a fee (sdk/13). */
  function insufficientFee(e) {
    assert.ok(e instanceof BroadcastTxError, `expected CheckTx to refuse the broadcast, got: ${e.stack ?? e}`);
    assert.equal(e.code, 13, e.log);
    assert.equal(e.codespace, "sdk", e.log);
    assert.match(e.log, /insufficient fees/);
    return true;
  }

  /** The holder's send of SENT with a fixed fee in the token; CheckTx must refuse it (sdk/13). */
  async function refusedTokenFee(feeAmount) {
    const fee = { amount: [{ denom, amount: String(feeAmount) }], gas: FIXED_GAS };
    const raw = await holder.client.sign(holder.address, [sendToken()], fee, "");
    await assert.rejects(holder.client.broadcastTxSync(TxRaw.encode(raw).finish()), insufficientFee);
  }

  /** The holder's send of SENT with a fixed fee in the token; it must land. */
  async function acceptedTokenFee(feeAmount) {
    const fee = { amount: [{ denom, amount: String(feeAmount) }], gas: FIXED_GAS };
    const res = await holder.client.signAndBroadcast(holder.address, [sendToken()], fee);
    assert.equal(res.code, 0, res.rawLog);
    return res;
  }

  before(async () => {
    chain = await startDevChain({ minGasPrice: MIN_GAS_PRICE });
    try {
      const devWallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
      dev = (await devWallet.getAccounts())[0].address;
      devClient = await connect(devWallet, MIN_GAS_PRICE);
      comet = await connectComet(chain.rpc);
      query = createProtobufRpcClient(new QueryClient(comet));

      // The stablecoin, issued by the dev key (its treasury).
      const issued = await devClient.signAndBroadcast(
        dev,
        [
          {
            typeUrl: "/paychain.assets.v1.MsgIssue",
            value: { issuer: dev, subunit: "usdf", symbol: "USDF", name: "Fee Dollar", precision: 6, initialSupply: "100000000" },
          },
        ],
        "auto",
      );
      assert.equal(issued.code, 0, issued.rawLog);
      denom = gen.assets.MsgIssueResponse.decode(issued.msgResponses[0].value).denom;
      assert.equal(denom, `usdf-${dev}`);

      const holderWallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
      const malloryWallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
      holder = { address: (await holderWallet.getAccounts())[0].address };
      mallory = { address: (await malloryWallet.getAccounts())[0].address };
      holder.client = await connect(holderWallet, `${TOKEN_GAS_PRICE}${denom}`);
      mallory.client = await connect(malloryWallet, MIN_GAS_PRICE);
      // The holder gets only the token; mallory gets upay for her fees.
      const funded = await devClient.signAndBroadcast(
        dev,
        [
          {
            typeUrl: "/cosmos.bank.v1beta1.MsgSend",
            value: { fromAddress: dev, toAddress: holder.address, amount: [{ denom, amount: String(HELD) }] },
          },
          {
            typeUrl: "/cosmos.bank.v1beta1.MsgSend",
            value: { fromAddress: dev, toAddress: mallory.address, amount: [{ denom: BASE_DENOM, amount: "1000000" }] },
          },
        ],
        "auto",
      );
      assert.equal(funded.code, 0, funded.rawLog);
    } catch (e) {
      throw new Error(`${e.stack}\n--- paychaind dev log ---\n${chain.logTail()}`);
    }
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    comet?.disconnect();
    await chain?.stop();
  });

  test("the dev key is the chain authority; fees are quoted in upay and no token is listed (ABCI and REST)", async () => {
    const { authority, pendingAuthority } = await queryAuthority();
    assert.equal(authority, dev);
    assert.equal(pendingAuthority, "");
    const { baseDenom, feeTokens } = await queryFeeTokens();
    assert.equal(baseDenom, BASE_DENOM);
    assert.deepEqual(feeTokens, []);
    const rest = await restJson("/paychain/fees/v1/fee_tokens");
    assert.equal(rest.base_denom, BASE_DENOM);
    assert.deepEqual(rest.fee_tokens ?? [], []);
    await holderHoldsOnly(HELD, "the holder starts with the token only");
  });

  test('an unlisted token pays nothing: the "auto" send is refused in CheckTx (sdk/13), nothing moves', async () => {
    const before = await devClient.getAccount(holder.address);
    // signAndBroadcastSync: the same "auto" (simulate, gas × 1.4, the gas price in
    // the token) as signAndBroadcast, without its poll timer.
    await assert.rejects(holder.client.signAndBroadcastSync(holder.address, [sendToken()], "auto"), insufficientFee);
    await holderHoldsOnly(HELD, "neither the send nor a fee was taken");
    assert.equal((await devClient.getBalance(recipient, denom)).amount, "0");
    assert.equal((await devClient.getAccount(holder.address)).sequence, before.sequence, "no tx of the holder's ran");
    // A fee worth many times the minimum, were the token listed, is refused the same way.
    await refusedTokenFee(100_000n);
    await holderHoldsOnly(HELD);
  });

  test("a non-authority's MsgSetFeeTokens fails in the block: authority/3; the list is unchanged", async () => {
    const fee = { amount: [{ denom: BASE_DENOM, amount: String(REQUIRED_UPAY) }], gas: FIXED_GAS };
    const res = await mallory.client.signAndBroadcast(mallory.address, [setFeeTokens(mallory.address, [{ denom, rate: RATE }])], fee);
    assert.equal(res.code, 3, res.rawLog);
    assert.match(res.rawLog ?? "", /not the chain authority/);
    const r = await restJson(`/cosmos/tx/v1beta1/txs/${res.transactionHash}`);
    assert.equal(r.tx_response.codespace, "authority", r.tx_response.raw_log);
    assert.equal(r.tx_response.code, 3);
    assert.deepEqual((await queryFeeTokens()).feeTokens, []);
    // Naming the authority in the message without its key is refused in CheckTx: the
    // signer the message names (dev) is not the key that signed (sdk/8, as the SDK).
    await assert.rejects(
      mallory.client.signAndBroadcastSync(mallory.address, [setFeeTokens(dev, [{ denom, rate: RATE }])], fee),
      (e) => {
        assert.ok(e instanceof BroadcastTxError, String(e));
        assert.deepEqual([e.codespace, e.code], ["sdk", 8], e.log);
        assert.match(e.log, new RegExp(`pubKey does not match signer address ${dev}`));
        return true;
      },
    );
    assert.deepEqual((await queryFeeTokens()).feeTokens, []);
  });

  test(`the authority lists the token at rate ${RATE}: ABCI and REST show it`, async () => {
    await listFeeTokens([{ denom, rate: RATE }]);
    const { baseDenom, feeTokens } = await queryFeeTokens();
    assert.equal(baseDenom, BASE_DENOM);
    assert.deepEqual(feeTokens.map((t) => [t.denom, t.rate]), [[denom, RATE]]);
    const rest = await restJson("/paychain/fees/v1/fee_tokens");
    assert.deepEqual(rest, { base_denom: BASE_DENOM, fee_tokens: [{ denom, rate: RATE }] });
  });

  test("a listed token's fee worth less than the minimum gas price at the rate is still refused (sdk/13)", async () => {
    // 999 × 2 = 1998 upay < 2000.
    await refusedTokenFee(REQUIRED_UPAY / 2n - 1n);
    await holderHoldsOnly(HELD);
  });

  test('the token-only holder sends with the "auto" fee, paid in the token', async () => {
    const res = await holder.client.signAndBroadcast(holder.address, [sendToken()], "auto");
    assert.equal(res.code, 0, res.rawLog);
    const { authInfo } = decodeTxRaw((await devClient.getTx(res.transactionHash)).tx);
    const gas = authInfo.fee.gasLimit;
    assert.equal(authInfo.fee.amount.length, 1);
    const [{ denom: feeDenom, amount }] = authInfo.fee.amount;
    assert.equal(feeDenom, denom, "the fee is in the token");
    const fee = BigInt(amount);
    assert.equal(fee, (gas * 5n + 999n) / 1000n, "ceil(gas × 0.005)");
    assert.ok(fee * 2n >= (gas + 99n) / 100n, "worth at least ceil(gas × 0.01) upay at rate 2");
    assert.ok(res.gasUsed <= gas, `gas used ${res.gasUsed} within the "auto" limit ${gas}`);
    const [txEvent] = attrs(res.events, "tx").filter((a) => a.fee !== undefined);
    assert.equal(txEvent?.fee, `${fee}${denom}`);
    assert.equal(txEvent.fee_payer, holder.address);
    await holderHoldsOnly(HELD - SENT - fee, "the send and the fee, both in the token, and still no upay");
    assert.equal((await devClient.getBalance(recipient, denom)).amount, String(SENT));
  });

  test("floor(amount × rate): at rate 1.5, 1333 units (1999.5) are refused, 1334 (2001) land; delisted, refused again", async () => {
    await listFeeTokens([{ denom, rate: "1.5" }]);
    assert.deepEqual((await queryFeeTokens()).feeTokens.map((t) => [t.denom, t.rate]), [[denom, "1.5"]]);
    const start = (await balances(holder.address))[denom];
    await refusedTokenFee(1333n);
    await holderHoldsOnly(start);
    await acceptedTokenFee(1334n);
    await holderHoldsOnly(start - SENT - 1334n);

    // An empty list: only upay again.
    await listFeeTokens([]);
    assert.deepEqual((await queryFeeTokens()).feeTokens, []);
    assert.deepEqual((await restJson("/paychain/fees/v1/fee_tokens")).fee_tokens ?? [], []);
    await assert.rejects(holder.client.signAndBroadcastSync(holder.address, [sendToken()], "auto"), insufficientFee);
    await holderHoldsOnly(start - SENT - 1334n);
  });
});
