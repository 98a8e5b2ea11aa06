// Issued tokens (the paychain.assets.v1 module) through real CosmJS against a dev
// chain this test starts itself (devchain.mjs): issue, mint within an allowance,
// bank sends of the token, a frozen amount and a partial unfreeze, a pause and an
// unpause decided by a 2-of-3 multisig pauser, a clawback to the treasury.
//
// The messages are compiled from /proto by protobufjs (`npm run gen` writes
// gen/assets.js) and registered in a CosmJS Registry. Some role holders sign
// SIGN_MODE_DIRECT, others SIGN_MODE_LEGACY_AMINO_JSON through AminoTypes
// converters written here from the chain's amino form (modules/assets/src/msgs.rs,
// `amino_json`): type `paychain/assets/<MsgName>`, proto (snake_case) field names,
// zero values omitted, enums and uint32 as numbers. A converter that differs from
// the chain's form by one byte makes the signature fail (sdk/4), so every amino
// tx that lands checks its converter.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import { Secp256k1HdWallet } from "@cosmjs/amino";
import { decodeTxRaw, DirectSecp256k1HdWallet, Registry } from "@cosmjs/proto-signing";
import {
  AminoTypes,
  createDefaultAminoConverters,
  createProtobufRpcClient,
  defaultRegistryTypes,
  GasPrice,
  makeMultisignedTxBytes,
  QueryClient,
  SigningStargateClient,
} from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";

import { MIN_GAS_PRICE, newMultisig, refusedByCheckTx, startDevChain } from "./devchain.mjs";

const GEN = new URL("./gen/assets.js", import.meta.url);
if (!existsSync(GEN)) {
  throw new Error("tests/js/gen/assets.js is missing: run `npm run gen` in tests/js (npm test and make clients do)");
}
const { paychain } = await import(GEN.href);
const pb = paychain.assets.v1;

const PREFIX = "pay";
const FEE_DENOM = "upay";
const url = (name) => `/paychain.assets.v1.${name}`;

// Every message of tx.proto in the Registry (DIRECT signing needs only this).
const registry = new Registry(defaultRegistryTypes);
for (const name of [
  "MsgIssue", "MsgMint", "MsgBurn", "MsgConfigureMinter", "MsgFreeze", "MsgUnfreeze", "MsgFreezeAccount",
  "MsgUnfreezeAccount", "MsgPause", "MsgUnpause", "MsgClawback", "MsgSetAllowed", "MsgSetRole",
  "MsgProposeAdmin", "MsgAcceptAdmin", "MsgRenounceAdmin", "MsgRenounceFeature",
]) {
  registry.register(url(name), pb[name]);
}

// Amino converters of the messages this test signs with amino: each field by its
// proto name and kind, in tx.proto's order. Strings (amounts included) stay strings;
// "u32" (uint32 and enums) is a JSON number; "enums" a list of numbers.
const AMINO_FIELDS = {
  MsgIssue: [
    "issuer", "subunit", "symbol", "name", ["precision", "u32"], "description", "uri", "uri_hash", "max_supply",
    ["features", "enums"], "initial_supply", ["transfer_fee_bps", "u32"], "balance_cap", "master_minter",
    "freezer", "pauser", "clawback", "allowlister", "treasury",
  ],
  MsgMint: ["minter", "denom", "recipient", "amount", "reason", "reference"],
  MsgConfigureMinter: ["master_minter", "denom", "minter", "allowance", "reason", "reference"],
  MsgFreeze: ["freezer", "denom", "account", "amount", "reason", "reference"],
  MsgUnfreeze: ["freezer", "denom", "account", "amount", "reason", "reference"],
  MsgPause: ["pauser", "denom", "reason", "reference"],
  MsgUnpause: ["pauser", "denom", "reason", "reference"],
  MsgClawback: ["clawback", "denom", "account", "amount", "reason", "reference"],
};
const camel = (snake) => snake.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const isZero = (v) => v === undefined || v === null || v === "" || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
function aminoConverter(name, fields) {
  const spec = fields.map((f) => (Array.isArray(f) ? f : [f, "string"]));
  return {
    aminoType: `paychain/assets/${name}`,
    toAmino: (value) => {
      const out = {};
      for (const [field, kind] of spec) {
        const v = value[camel(field)];
        if (isZero(v)) continue;
        out[field] = kind === "enums" ? v.map(Number) : kind === "u32" ? Number(v) : String(v);
      }
      return out;
    },
    fromAmino: (json) => {
      const out = {};
      for (const [field, kind] of spec) {
        const v = json[field];
        out[camel(field)] = kind === "enums" ? (v ?? []).map(Number) : kind === "u32" ? Number(v ?? 0) : (v ?? "");
      }
      return out;
    },
  };
}
const aminoTypes = new AminoTypes({
  ...createDefaultAminoConverters(),
  ...Object.fromEntries(Object.entries(AMINO_FIELDS).map(([name, fields]) => [url(name), aminoConverter(name, fields)])),
});

const clientOptions = { registry, aminoTypes, gasPrice: GasPrice.fromString(MIN_GAS_PRICE), broadcastPollIntervalMs: 300 };
// For txs expected to fail in the block ("auto" would simulate them and throw first).
const FIXED_FEE = { amount: [{ denom: FEE_DENOM, amount: "10000" }], gas: "400000" };
// The multisig's txs: the gas covers two signature verifications.
const MULTISIG_FEE = { amount: [{ denom: FEE_DENOM, amount: "7500" }], gas: "300000" };

/** The attributes of each event of `type`, as objects. */
function attrs(events, type) {
  return events
    .filter((e) => e.type === type)
    .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

describe("issued tokens (assets module) from CosmJS", { timeout: 480_000 }, () => {
  let chain;
  let comet;
  let query; // the assets Query service over ABCI query
  const clients = [];
  let dev; // issuer, admin and treasury
  let devClient; // DIRECT
  let devAmino; // the same key, amino signing
  const acct = {}; // name -> { address, client }
  let members; // the pauser multisig's three members: [{ wallet, address, pubkey }]
  let multisig; // its LegacyAminoPubKey (2 of 3)
  let pauser; // its address
  let denom;

  const connect = async (wallet) => {
    const c = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, clientOptions);
    clients.push(c);
    return c;
  };
  const abci = async (method, Req, Resp, req) =>
    Resp.decode(await query.request("paychain.assets.v1.Query", method, Req.encode(req).finish()));
  const queryToken = (d = denom) => abci("Token", pb.QueryTokenRequest, pb.QueryTokenResponse, { denom: d });
  const queryHolder = (address) => abci("Holder", pb.QueryHolderRequest, pb.QueryHolderResponse, { denom, address });
  const queryMinters = () => abci("Minters", pb.QueryMintersRequest, pb.QueryMintersResponse, { denom });
  const restJson = async (path) => {
    const r = await fetch(`${chain.rest}${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return r.json();
  };
  const balance = async (address, d = denom) => BigInt((await devClient.getBalance(address, d)).amount);
  const balances = async (...addresses) => Promise.all(addresses.map((a) => balance(a)));

  /** Sends one message; it must succeed. */
  async function ok(client, signer, msg, memo = "") {
    const res = await client.signAndBroadcast(signer, [msg], "auto", memo);
    assert.equal(res.code, 0, `${msg.typeUrl}: ${res.rawLog}`);
    return res;
  }

  /** Sends one message with a fixed fee; it must fail in the block with `codespace`/`code`. */
  async function refused(client, signer, msg, codespace, code, logPattern) {
    const res = await client.signAndBroadcast(signer, [msg], FIXED_FEE);
    assert.equal(res.code, code, `${msg.typeUrl} should fail with ${codespace}/${code}: ${res.rawLog}`);
    if (logPattern) assert.match(res.rawLog ?? "", logPattern);
    const r = await restJson(`/cosmos/tx/v1beta1/txs/${res.transactionHash}`);
    assert.equal(r.tx_response.codespace, codespace, r.tx_response.raw_log);
    assert.equal(r.tx_response.code, code);
    return res;
  }

  /** A tx of `msg` from the multisig pauser, signed (amino JSON) by `signers`. */
  async function multisigned(signers, msg, memo) {
    const account = await devClient.getAccount(pauser);
    const chainId = await devClient.getChainId();
    const signerData = { accountNumber: account.accountNumber, sequence: account.sequence, chainId };
    let bodyBytes;
    const sigs = new Map();
    for (const m of signers) {
      const offline = await SigningStargateClient.offline(m.wallet, { registry, aminoTypes });
      clients.push(offline);
      const signed = await offline.sign(m.address, [msg], MULTISIG_FEE, memo, signerData);
      if (bodyBytes) assert.deepEqual(signed.bodyBytes, bodyBytes, "every member signs the same body");
      bodyBytes = signed.bodyBytes;
      sigs.set(m.address, signed.signatures[0]);
    }
    return makeMultisignedTxBytes(multisig, account.sequence, MULTISIG_FEE, bodyBytes, sigs);
  }

  before(async () => {
    chain = await startDevChain();
    try {
      const devWallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
      dev = (await devWallet.getAccounts())[0].address;
      devClient = await connect(devWallet);
      devAmino = await connect(await Secp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX }));
      comet = await connectComet(chain.rpc);
      query = createProtobufRpcClient(new QueryClient(comet));
      // DIRECT signers: the minter and two holders; amino signers: the master
      // minter, the freezer and the clawback authority.
      for (const [name, Wallet] of [
        ["alice", DirectSecp256k1HdWallet],
        ["bob", DirectSecp256k1HdWallet],
        ["carol", DirectSecp256k1HdWallet],
        ["master", Secp256k1HdWallet],
        ["freezer", Secp256k1HdWallet],
        ["claw", Secp256k1HdWallet],
      ]) {
        const wallet = await Wallet.generate(12, { prefix: PREFIX });
        const [{ address }] = await wallet.getAccounts();
        acct[name] = { address, client: await connect(wallet) };
      }
      ({ members, pubkey: multisig, address: pauser } = await newMultisig(2, 3, PREFIX));
      // Fees for everyone who signs, in one tx of several bank sends.
      const funded = [...Object.values(acct).map((a) => a.address), pauser].map((toAddress) => ({
        typeUrl: "/cosmos.bank.v1beta1.MsgSend",
        value: { fromAddress: dev, toAddress, amount: [{ denom: FEE_DENOM, amount: "2000000" }] },
      }));
      const res = await devClient.signAndBroadcast(dev, funded, "auto");
      assert.equal(res.code, 0, res.rawLog);
    } catch (e) {
      throw new Error(`${e.stack}\n--- paychaind dev log ---\n${chain.logTail()}`);
    }
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    comet?.disconnect();
    await chain?.stop();
  });

  test("MsgIssue (DIRECT): the token, its roles and initial supply, by ABCI and REST", async () => {
    const issue = {
      typeUrl: url("MsgIssue"),
      value: {
        issuer: dev,
        subunit: "usdx",
        symbol: "USDX",
        name: "X Dollar",
        precision: 6,
        uri: "https://example.com/terms",
        uriHash: "ab".repeat(32),
        features: [
          pb.Feature.FEATURE_MINTING,
          pb.Feature.FEATURE_BURNING,
          pb.Feature.FEATURE_FREEZING,
          pb.Feature.FEATURE_PAUSING,
          pb.Feature.FEATURE_CLAWBACK,
        ],
        initialSupply: "1000000",
        masterMinter: acct.master.address,
        freezer: acct.freezer.address,
        pauser,
        clawback: acct.claw.address,
      },
    };
    const res = await ok(devClient, dev, issue);
    assert.deepEqual(res.msgResponses.map((r) => r.typeUrl), [url("MsgIssueResponse")]);
    denom = pb.MsgIssueResponse.decode(res.msgResponses[0].value).denom;
    assert.equal(denom, `usdx-${dev}`);
    const [ev] = attrs(res.events, "assets_action");
    assert.deepEqual([ev.action, ev.denom, ev.actor, ev.target, ev.amount], ["issue", denom, dev, dev, "1000000"]);

    const { token, supply } = await queryToken();
    assert.equal(supply, "1000000");
    assert.deepEqual(token.features, [1, 2, 3, 4, 5]);
    assert.equal(token.paused, false);
    assert.deepEqual(
      [token.roles.admin, token.roles.treasury, token.roles.masterMinter, token.roles.freezer, token.roles.pauser, token.roles.clawback],
      [dev, dev, acct.master.address, acct.freezer.address, pauser, acct.claw.address],
    );
    assert.equal(await balance(dev), 1_000_000n, "the initial supply went to the treasury (the issuer)");

    const rest = await restJson(`/paychain/assets/v1/tokens/${denom}`);
    assert.equal(rest.token.denom, denom);
    assert.equal(rest.token.roles.pauser, pauser);
    assert.deepEqual(rest.token.features, [
      "FEATURE_MINTING", "FEATURE_BURNING", "FEATURE_FREEZING", "FEATURE_PAUSING", "FEATURE_CLAWBACK",
    ]);
    const byIssuer = await restJson(`/paychain/assets/v1/issuers/${dev}/tokens`);
    assert.deepEqual(byIssuer.tokens.map((t) => t.denom), [denom]);
    // Wallets read the display unit from bank's metadata.
    const md = await restJson(`/cosmos/bank/v1beta1/denoms_metadata/${denom}`);
    assert.equal(md.metadata.display, "USDX");
    assert.deepEqual(md.metadata.denom_units.map((u) => [u.denom, u.exponent]), [[denom, 0], ["USDX", 6]]);
  });

  test("MsgIssue (amino JSON) with one address in two separated roles is refused: assets/10", async () => {
    const res = await refused(
      devAmino,
      dev,
      {
        typeUrl: url("MsgIssue"),
        value: {
          issuer: dev,
          subunit: "eurx",
          symbol: "EURX",
          name: "X Euro",
          precision: 2,
          features: [pb.Feature.FEATURE_FREEZING, pb.Feature.FEATURE_PAUSING],
          initialSupply: "5",
          freezer: acct.carol.address,
          pauser: acct.carol.address,
        },
      },
      "assets",
      10,
      /must be different addresses/,
    );
    // The tx went through ante, so the amino signature (precision and features as numbers) verified.
    const tx = decodeTxRaw((await devClient.getTx(res.transactionHash)).tx);
    assert.equal(tx.authInfo.signerInfos[0].modeInfo.single.mode, 127, "SIGN_MODE_LEGACY_AMINO_JSON");
    const r = await fetch(`${chain.rest}/paychain/assets/v1/tokens/eurx-${dev}`);
    assert.equal(r.status, 404, "no token was created");
  });

  test("mint: the master minter (amino) sets an allowance; the minter mints within it, not beyond (assets/11)", async () => {
    const configured = await ok(acct.master.client, acct.master.address, {
      typeUrl: url("MsgConfigureMinter"),
      value: {
        masterMinter: acct.master.address,
        denom,
        minter: acct.alice.address,
        allowance: "500",
        reason: "reserve_deposit",
        reference: "attestation 2026-12",
      },
    });
    const [cfg] = attrs(configured.events, "assets_action");
    assert.deepEqual([cfg.action, cfg.actor, cfg.target, cfg.reference], [
      "configure_minter", acct.master.address, acct.alice.address, "attestation 2026-12",
    ]);
    const minters = await queryMinters();
    assert.deepEqual(minters.minters.map((m) => [m.address, m.allowance]), [[acct.alice.address, "500"]]);

    const mint = (amount) => ({
      typeUrl: url("MsgMint"),
      value: { minter: acct.alice.address, denom, recipient: acct.bob.address, amount, reason: "reserve_deposit" },
    });
    const minted = await ok(acct.alice.client, acct.alice.address, mint("300"));
    assert.equal(pb.MsgMintResponse.decode(minted.msgResponses[0].value).remainingAllowance, "200");
    const [ev] = attrs(minted.events, "assets_action");
    assert.deepEqual([ev.action, ev.actor, ev.target, ev.amount], ["mint", acct.alice.address, acct.bob.address, "300"]);
    assert.equal(await balance(acct.bob.address), 300n);
    assert.equal((await queryToken()).supply, "1000300");

    await refused(acct.alice.client, acct.alice.address, mint("201"), "assets", 11, /exceeds the minter's allowance/);
    assert.equal(await balance(acct.bob.address), 300n);
    assert.equal((await queryToken()).supply, "1000300");
    assert.deepEqual((await queryMinters()).minters.map((m) => m.allowance), ["200"]);
    // Only a minter mints: the master minter itself is refused.
    await refused(
      acct.master.client,
      acct.master.address,
      { typeUrl: url("MsgMint"), value: { ...mint("1").value, minter: acct.master.address } },
      "assets",
      9,
    );
  });

  const send = (from, to, amount, fee = "auto") =>
    acct[from].client.sendTokens(acct[from].address, acct[to].address, [{ denom, amount: String(amount) }], fee);

  test("MsgSend moves the token", async () => {
    const res = await send("bob", "carol", 40);
    assert.equal(res.code, 0, res.rawLog);
    assert.deepEqual(await balances(acct.bob.address, acct.carol.address), [260n, 40n]);
  });

  const freezeMsg = (name, amount) => ({
    typeUrl: url(name),
    value: {
      freezer: acct.freezer.address,
      denom,
      account: acct.bob.address,
      amount: String(amount),
      reason: "court_order",
      reference: "case 17/2026",
    },
  });

  test("freeze (amino): a send above the spendable amount is refused (sdk/5) and moves nothing", async () => {
    const res = await ok(acct.freezer.client, acct.freezer.address, freezeMsg("MsgFreeze", 150));
    assert.equal(pb.MsgFreezeResponse.decode(res.msgResponses[0].value).frozenAmount, "150");
    const [ev] = attrs(res.events, "assets_action");
    assert.deepEqual([ev.action, ev.target, ev.amount, ev.detail, ev.reason, ev.reference], [
      "freeze", acct.bob.address, "150", "frozen_amount=150", "court_order", "case 17/2026",
    ]);
    const h = await queryHolder(acct.bob.address);
    assert.deepEqual([h.balance, h.holder.frozenAmount, h.spendable], ["260", "150", "110"]);
    const rest = await restJson(`/paychain/assets/v1/tokens/${denom}/holders/${acct.bob.address}`);
    assert.deepEqual([rest.balance, rest.holder.frozen_amount, rest.spendable], ["260", "150", "110"]);

    const bobFee = await devClient.getBalance(acct.bob.address, FEE_DENOM);
    const sent = await send("bob", "carol", 111, FIXED_FEE);
    assert.equal(sent.code, 5, sent.rawLog);
    const r = await restJson(`/cosmos/tx/v1beta1/txs/${sent.transactionHash}`);
    assert.deepEqual([r.tx_response.codespace, r.tx_response.code], ["sdk", 5]);
    assert.deepEqual(await balances(acct.bob.address, acct.carol.address), [260n, 40n]);
    assert.equal(
      BigInt((await devClient.getBalance(acct.bob.address, FEE_DENOM)).amount),
      BigInt(bobFee.amount) - 10000n,
      "only the fee was charged",
    );
  });

  test("partial unfreeze (amino): a send within the new spendable amount succeeds", async () => {
    const res = await ok(acct.freezer.client, acct.freezer.address, freezeMsg("MsgUnfreeze", 100));
    assert.equal(pb.MsgUnfreezeResponse.decode(res.msgResponses[0].value).frozenAmount, "50");
    const h = await queryHolder(acct.bob.address);
    assert.deepEqual([h.balance, h.holder.frozenAmount, h.spendable], ["260", "50", "210"]);
    // Unfreezing more than is frozen is refused.
    await refused(acct.freezer.client, acct.freezer.address, freezeMsg("MsgUnfreeze", 51), "assets", 22);
    assert.equal((await queryHolder(acct.bob.address)).holder.frozenAmount, "50");

    const sent = await send("bob", "carol", 200);
    assert.equal(sent.code, 0, sent.rawLog);
    assert.deepEqual(await balances(acct.bob.address, acct.carol.address), [60n, 240n]);
    assert.equal((await queryHolder(acct.bob.address)).spendable, "10");
  });

  const pauseMsg = (name, reference = "") => ({
    typeUrl: url(name),
    value: { pauser, denom, reason: "incident", reference },
  });

  test("the 2-of-3 multisig pauser pauses with two amino signatures; sends and mints are refused (assets/13)", async () => {
    // Anyone else is refused, the admin included.
    await refused(devClient, dev, { typeUrl: url("MsgPause"), value: { ...pauseMsg("MsgPause").value, pauser: dev } }, "assets", 9);
    assert.equal((await queryToken()).token.paused, false);

    const tx = await multisigned([members[0], members[2]], pauseMsg("MsgPause", "INC-42"), "pause from CosmJS");
    const res = await devClient.broadcastTx(tx);
    assert.equal(res.code, 0, res.rawLog);
    const [ev] = attrs(res.events, "assets_action");
    assert.deepEqual([ev.action, ev.actor, ev.reason, ev.reference], ["pause", pauser, "incident", "INC-42"]);
    assert.equal((await queryToken()).token.paused, true);
    assert.equal((await restJson(`/paychain/assets/v1/tokens/${denom}`)).token.paused, true);
    const account = await devClient.getAccount(pauser);
    assert.equal(account.pubkey.type, "tendermint/PubKeyMultisigThreshold");
    assert.equal((await queryHolder(acct.bob.address)).spendable, "0");

    // The issuer's rules decide in CheckTx as in the block: the send never enters a block.
    const sendOne = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: acct.bob.address, toAddress: acct.carol.address, amount: [{ denom, amount: "1" }] } };
    await refusedByCheckTx(acct.bob, [sendOne], FIXED_FEE, "assets", 13, /paused/);
    assert.deepEqual(await balances(acct.bob.address, acct.carol.address), [60n, 240n]);

    await refused(
      acct.alice.client,
      acct.alice.address,
      {
        typeUrl: url("MsgMint"),
        value: { minter: acct.alice.address, denom, recipient: acct.carol.address, amount: "1", reason: "reserve_deposit" },
      },
      "assets",
      13,
    );
    assert.equal((await queryToken()).supply, "1000300");
    assert.deepEqual((await queryMinters()).minters.map((m) => m.allowance), ["200"]);
  });

  test("unpause: one member's signature is refused (sdk/4), two others' unpause; sends resume", async () => {
    const one = await multisigned([members[1]], pauseMsg("MsgUnpause"), "");
    // Refused by CheckTx. broadcastTxSync, not broadcastTx: CosmJS 0.39's broadcastTx
    // leaves its 60 s poll timer running when CheckTx refuses, holding the process open.
    await assert.rejects(devClient.broadcastTxSync(one), (e) => {
      assert.deepEqual([e.codespace, e.code], ["sdk", 4], e.message);
      return true;
    });
    assert.equal((await queryToken()).token.paused, true);

    // No reference: the amino form omits the empty field, as the chain's does.
    const res = await devClient.broadcastTx(await multisigned([members[1], members[2]], pauseMsg("MsgUnpause"), ""));
    assert.equal(res.code, 0, res.rawLog);
    assert.equal(attrs(res.events, "assets_action")[0].action, "unpause");
    assert.equal((await queryToken()).token.paused, false);

    const sent = await send("bob", "carol", 10);
    assert.equal(sent.code, 0, sent.rawLog);
    assert.deepEqual(await balances(acct.bob.address, acct.carol.address), [50n, 250n]);
    const h = await queryHolder(acct.bob.address);
    assert.deepEqual([h.balance, h.holder.frozenAmount, h.spendable], ["50", "50", "0"]);
  });

  test("clawback (amino): the holder's balance, frozen units included, goes to the treasury", async () => {
    const [devBefore, bobBefore] = await balances(dev, acct.bob.address);
    assert.equal(bobBefore, 50n);
    const res = await ok(acct.claw.client, acct.claw.address, {
      typeUrl: url("MsgClawback"),
      value: {
        clawback: acct.claw.address,
        denom,
        account: acct.bob.address,
        amount: String(bobBefore),
        reason: "court_order",
        reference: "case 17/2026",
      },
    });
    const [ev] = attrs(res.events, "assets_action");
    assert.deepEqual([ev.action, ev.actor, ev.target, ev.amount, ev.detail], [
      "clawback", acct.claw.address, acct.bob.address, "50", `to=${dev}`,
    ]);
    assert.deepEqual(await balances(dev, acct.bob.address), [devBefore + 50n, 0n]);
    assert.equal((await queryToken()).supply, "1000300", "a clawback moves units, it burns none");
  });
});
