// Payment controls of the compliance module (paychain.compliance.v1) through real
// CosmJS against a dev chain this test starts itself (devchain.mjs), with the
// dependency-free travel-rule library clients/js/travel-rule.mjs:
//
//   1. The library alone: the IVMS 101 hash of tests/fixtures/ivms101.json is the
//      recorded one (the Rust CLI's), the extension option decodes with the
//      generated TravelRuleRecord, memos keep their other keys.
//   2. Velocity, first half: the chain authority (the dev key) sets a 24 s window
//      limit on a token; a send within it lands, one beyond is refused by CheckTx
//      (compliance/28) and moves nothing, not even its fee; the usage query shows
//      used/remaining.
//   3. Travel rule: above the authority's threshold a send without a record is
//      refused by CheckTx (compliance/31); with one (signWithExtensions +
//      travelRuleExtension) it lands and its compliance_travel_rule event carries
//      the hash and the VASPs; a malformed record is refused by CheckTx (compliance/32).
//   4. Velocity, second half: once the first send's second is 24 s old, the send
//      refused in 2 lands. (3 runs while the window passes.)
//
// Txs expected to fail in the block go through signAndBroadcast with a fixed fee
// ("auto" would simulate them and throw); txs CheckTx refuses (a transfer the limits,
// the travel rule or the risk rules refuse: the same checks as in the block) through
// refusedByCheckTx or broadcastTxSync (CosmJS 0.39's broadcastTx leaves its poll
// timer running when the broadcast itself is refused).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeSignDoc, Registry } from "@cosmjs/proto-signing";
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

import {
  canonicalJson,
  encodeTravelRuleRecord,
  ivms101Sha256,
  memoWithTravelRule,
  sha256Js,
  signWithExtensions,
  TRAVEL_RULE_RECORD_TYPE_URL,
  travelRuleExtension,
  travelRuleRecord,
  validateIvms101,
} from "../../clients/js/travel-rule.mjs";
import { MIN_GAS_PRICE, refusedByCheckTx, startDevChain } from "./devchain.mjs";

const gen = {};
for (const name of ["assets", "compliance"]) {
  const file = new URL(`./gen/${name}.js`, import.meta.url);
  if (!existsSync(file)) {
    throw new Error(`tests/js/gen/${name}.js is missing: run \`npm run gen\` in tests/js (npm test and make clients do)`);
  }
  gen[name] = (await import(file.href)).paychain[name].v1;
}
const pb = gen.compliance;

const fixture = (name) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");
const IVMS101 = JSON.parse(fixture("ivms101.json"));
const IVMS101_SHA256 = fixture("ivms101.sha256").trim();
const ORIGINATOR_LEI = "5493001KJTIIGC8Y1R12";
const BENEFICIARY_LEI = "213800D1EI4B9WTWWD28";

const PREFIX = "pay";
const FEE_DENOM = "upay";
const url = (name) => `/paychain.compliance.v1.${name}`;
const WINDOW_SECONDS = 24;
const VELOCITY_LIMIT = 1000n;
const TRAVEL_RULE_THRESHOLD = 100_000n;

const registry = new Registry(defaultRegistryTypes);
for (const name of ["MsgSetVelocityLimit", "MsgSetTravelRuleThreshold"]) registry.register(url(name), pb[name]);
registry.register("/paychain.assets.v1.MsgIssue", gen.assets.MsgIssue);
const cosmjs = { makeAuthInfoBytes, makeSignDoc, encodePubkey, TxRaw };

const clientOptions = { registry, gasPrice: GasPrice.fromString(MIN_GAS_PRICE), broadcastPollIntervalMs: 300 };
const FIXED_FEE = { amount: [{ denom: FEE_DENOM, amount: "10000" }], gas: "400000" };

/** The attributes of each event of `type`, as objects. */
function attrs(events, type) {
  return events
    .filter((e) => e.type === type)
    .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

describe("travel-rule library (clients/js/travel-rule.mjs), offline", () => {
  test("the fixture's IVMS 101 hash is the recorded one (the Rust CLI's); order and whitespace do not matter", async () => {
    validateIvms101(IVMS101);
    assert.equal(await ivms101Sha256(IVMS101), IVMS101_SHA256);
    assert.equal(
      createHash("sha256").update(canonicalJson(IVMS101), "utf8").digest("hex"),
      IVMS101_SHA256,
      "the hash is SHA-256 of the canonical text",
    );
    // The plain-JS fallback (no crypto.subtle: Node 18 without the flag, an insecure page) agrees.
    assert.equal(Buffer.from(sha256Js(new TextEncoder().encode(canonicalJson(IVMS101)))).toString("hex"), IVMS101_SHA256);
    // Keys sorted by UTF-8 bytes (U+E000 before U+1F600, unlike JS's UTF-16 sort), no whitespace, non-ASCII as is.
    assert.equal(canonicalJson({ b: 1, "😀": [true, null], "\ue000": "é\n", a: { y: [1, 2], x: "" } }),
      '{"a":{"x":"","y":[1,2]},"b":1,"\ue000":"é\\n","😀":[true,null]}');
    assert.equal(await ivms101Sha256(JSON.parse(JSON.stringify(IVMS101, null, 4))), IVMS101_SHA256);
    assert.throws(() => canonicalJson({ a: 1.5 }), /integers/);
    assert.equal(canonicalJson({ n: 18446744073709551615n }), '{"n":18446744073709551615}');

    const broken = structuredClone(IVMS101);
    broken.beneficiary.beneficiaryPersons = [];
    assert.throws(() => validateIvms101(broken), /beneficiary\.beneficiaryPersons must name at least one person/);
    delete broken.beneficiary;
    assert.throws(() => validateIvms101(broken), /beneficiary\.beneficiaryPersons is missing/);
    const unnamed = structuredClone(IVMS101);
    unnamed.originator.originatorPersons[0] = { naturalPerson: {} };
    assert.throws(() => validateIvms101(unnamed), /originator\.originatorPersons\[0\] must be a naturalPerson or legalPerson with a name/);
    await assert.rejects(travelRuleRecord(unnamed), /originatorPersons\[0\]/);
  });

  test("the extension option decodes with the generated TravelRuleRecord to the same fields", async () => {
    const envelope = new Uint8Array([1, 2, 3, 250]);
    const record = await travelRuleRecord(IVMS101, { envelopeLocator: "https://vasp.example/tr/1", envelope });
    assert.deepEqual(
      [record.ivms101Sha256, record.originatorVasp, record.beneficiaryVasp],
      [IVMS101_SHA256, ORIGINATOR_LEI, BENEFICIARY_LEI],
      "the VASPs default to the payload's national identifiers",
    );
    const ext = travelRuleExtension(record);
    assert.equal(ext.typeUrl, TRAVEL_RULE_RECORD_TYPE_URL);
    assert.ok(ext.value instanceof Uint8Array);
    const d = pb.TravelRuleRecord.decode(ext.value);
    assert.deepEqual(
      [d.ivms101Sha256, d.originatorVasp, d.beneficiaryVasp, d.envelopeLocator, Array.from(d.envelope)],
      [IVMS101_SHA256, ORIGINATOR_LEI, BENEFICIARY_LEI, "https://vasp.example/tr/1", [1, 2, 3, 250]],
    );
    // Byte for byte what protobufjs writes (proto3: empty fields left out).
    assert.deepEqual(Array.from(ext.value), Array.from(pb.TravelRuleRecord.encode(d).finish()));
    const named = await travelRuleRecord(IVMS101, { originatorVasp: "LEI:A", beneficiaryVasp: "LEI:B" });
    const bare = travelRuleExtension(named).value;
    assert.deepEqual(Array.from(bare), Array.from(pb.TravelRuleRecord.encode({
      ivms101Sha256: IVMS101_SHA256, originatorVasp: "LEI:A", beneficiaryVasp: "LEI:B",
    }).finish()));
    // The library checks what the chain checks.
    assert.throws(() => travelRuleExtension({ ...named, ivms101Sha256: IVMS101_SHA256.toUpperCase() }), /64 lowercase hex/);
    assert.throws(() => travelRuleExtension({ ...named, beneficiaryVasp: "x".repeat(129) }), /beneficiaryVasp must be 1 to 128 bytes/);
    assert.throws(() => travelRuleExtension({ ...named, envelope: new Uint8Array(4097) }), /at most 4096/);
    await assert.rejects(travelRuleRecord(IVMS101, { envelopeLocator: "a\nb" }), /envelopeLocator/);
  });

  test("memoWithTravelRule keeps a JSON memo's other keys and refuses other text", async () => {
    const record = await travelRuleRecord(IVMS101);
    const entry = { ivms101_sha256: IVMS101_SHA256, originator_vasp: ORIGINATOR_LEI, beneficiary_vasp: BENEFICIARY_LEI };
    assert.deepEqual(JSON.parse(memoWithTravelRule("", record)), { travel_rule: entry });
    assert.deepEqual(JSON.parse(memoWithTravelRule('{"forward": {"port": "transfer"}, "note": 7}', record)), {
      forward: { port: "transfer" },
      note: 7,
      travel_rule: entry,
    });
    const located = { ...record, envelopeLocator: "https://vasp.example/tr/1" };
    assert.deepEqual(JSON.parse(memoWithTravelRule(" ", located)).travel_rule, { ...entry, envelope_locator: "https://vasp.example/tr/1" });
    for (const memo of ["invoice 7", "[1]", '"text"', "{not json"]) {
      assert.throws(() => memoWithTravelRule(memo, record), /memo must be empty or a JSON object/, memo);
    }
  });
});

describe("payment controls (velocity limits, travel rule) from CosmJS", { timeout: 180_000 }, () => {
  let chain;
  let comet;
  let query; // Protobuf RPC over ABCI query
  const clients = [];
  const acct = {}; // name -> { address, client }: dev (the authority), payer, alice, bob
  let token; // the token under the velocity limit
  let firstSendSecond; // block time (s) of the velocity test's first send

  const connect = async (wallet) => {
    const c = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, clientOptions);
    clients.push(c);
    return c;
  };
  const restJson = async (path) => {
    const r = await fetch(`${chain.rest}${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${r.status} ${await r.clone().text()}`);
    return r.json();
  };
  const balance = async (address, denom) => BigInt((await acct.dev.client.getBalance(address, denom)).amount);
  const send = (from, to, amount, denom) => ({
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: { fromAddress: acct[from].address, toAddress: acct[to]?.address ?? to, amount: [{ denom, amount: String(amount) }] },
  });
  const velocityUsage = async (address, denom) =>
    pb.QueryVelocityUsageResponse.decode(
      await query.request("paychain.compliance.v1.Query", "VelocityUsage", pb.QueryVelocityUsageRequest.encode({ address, denom }).finish()),
    );
  const blockSecond = async (height) => {
    const { block } = await comet.block(height);
    return Math.floor(block.header.time.getTime() / 1000);
  };

  async function ok(name, msgs) {
    const res = await acct[name].client.signAndBroadcast(acct[name].address, msgs, "auto");
    assert.equal(res.code, 0, res.rawLog);
    return res;
  }

  /** `name` sends `msg` with a fixed fee; it must fail in the block with `codespace`/`code`. */
  async function refused(name, msg, codespace, code, logPattern) {
    const res = await acct[name].client.signAndBroadcast(acct[name].address, [msg], FIXED_FEE);
    assert.equal(res.code, code, `${msg.typeUrl} should fail with ${codespace}/${code}: ${res.rawLog}`);
    if (logPattern) assert.match(res.rawLog ?? "", logPattern);
    const r = await restJson(`/cosmos/tx/v1beta1/txs/${res.transactionHash}`);
    assert.deepEqual([r.tx_response.codespace, r.tx_response.code], [codespace, code], r.tx_response.raw_log);
    return res;
  }

  before(async () => {
    chain = await startDevChain();
    try {
      const devWallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
      acct.dev = { address: (await devWallet.getAccounts())[0].address, client: await connect(devWallet) };
      comet = await connectComet(chain.rpc);
      query = createProtobufRpcClient(new QueryClient(comet));
      for (const name of ["payer", "alice", "bob"]) {
        const wallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
        acct[name] = { address: (await wallet.getAccounts())[0].address, client: await connect(wallet) };
      }
      // The dev key issues the token the velocity limit is about (so upay, under the
      // travel-rule threshold, stays free of it), and funds everyone in one tx.
      const issued = await ok("dev", [{
        typeUrl: "/paychain.assets.v1.MsgIssue",
        value: { issuer: acct.dev.address, subunit: "uvel", symbol: "VEL", name: "Velocity Dollar", precision: 6, initialSupply: "1000000" },
      }]);
      token = gen.assets.MsgIssueResponse.decode(issued.msgResponses[0].value).denom;
      await ok("dev", [
        ...["payer", "alice", "bob"].map((name) => send("dev", name, 2_000_000, FEE_DENOM)),
        send("dev", "payer", 10_000, token),
      ]);
    } catch (e) {
      throw new Error(`${e.stack}\n--- paychaind dev log ---\n${chain.logTail()}`);
    }
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    comet?.disconnect();
    await chain?.stop();
  });

  test("velocity: the authority sets a 24 s limit; a send within it lands, one beyond is refused (compliance/28)", async () => {
    const setLimit = {
      typeUrl: url("MsgSetVelocityLimit"),
      value: {
        signer: acct.dev.address,
        limit: { denom: token, windowSeconds: WINDOW_SECONDS, limit: String(VELOCITY_LIMIT), tiers: [] },
        remove: false,
        reason: "velocity_control",
        reference: "risk memo 7",
      },
    };
    await refused("payer", { ...setLimit, value: { ...setLimit.value, signer: acct.payer.address } }, "compliance", 7);
    const set = await ok("dev", [setLimit]);
    assert.equal(String(pb.MsgSetVelocityLimitResponse.decode(set.msgResponses[0].value).version), "1");
    const [ev] = attrs(set.events, "compliance_limit");
    assert.deepEqual([ev.action, ev.denom, ev.window_seconds, ev.limit], ["set_velocity_limit", token, "24", "1000"]);

    const first = await ok("payer", [send("payer", "bob", 600, token)]);
    firstSendSecond = await blockSecond(first.height);
    assert.deepEqual([await balance(acct.payer.address, token), await balance(acct.bob.address, token)], [9_400n, 600n]);

    await refusedByCheckTx(acct.payer, [send("payer", "bob", 500, token)], FIXED_FEE, "compliance", 28, /600\S* sent in the window, 400\S* remaining/);
    assert.deepEqual([await balance(acct.payer.address, token), await balance(acct.bob.address, token)], [9_400n, 600n], "nothing moved");

    const u = await velocityUsage(acct.payer.address, token);
    assert.deepEqual([u.limit, u.tier, String(u.windowSeconds), u.used, u.remaining], ["1000", "", "24", "600", "400"]);
    const rest = await restJson(`/paychain/compliance/v1/accounts/${acct.payer.address}/velocity?denom=${encodeURIComponent(token)}`);
    assert.deepEqual([rest.limit, rest.used, rest.remaining], ["1000", "600", "400"], JSON.stringify(rest));
    // Another account has its own window.
    assert.equal((await velocityUsage(acct.bob.address, token)).used, "0");
  });

  test("travel rule: above the threshold a send needs a record (compliance/31); with one it lands and is in the event", async () => {
    const setThreshold = {
      typeUrl: url("MsgSetTravelRuleThreshold"),
      value: {
        signer: acct.dev.address,
        threshold: { denom: FEE_DENOM, threshold: String(TRAVEL_RULE_THRESHOLD) },
        remove: false,
        reason: "travel_rule",
        reference: "FATF R.16",
      },
    };
    const set = await ok("dev", [setThreshold]);
    const [ev] = attrs(set.events, "compliance_limit");
    assert.deepEqual([ev.action, ev.denom, ev.limit], ["set_travel_rule_threshold", FEE_DENOM, String(TRAVEL_RULE_THRESHOLD)]);
    const { thresholds } = await restJson("/paychain/compliance/v1/travel_rule_thresholds");
    assert.deepEqual(thresholds.map((t) => [t.denom, t.threshold]), [[FEE_DENOM, String(TRAVEL_RULE_THRESHOLD)]]);

    // At the threshold: no record needed.
    await ok("alice", [send("alice", "bob", TRAVEL_RULE_THRESHOLD, FEE_DENOM)]);

    const [a0, b0] = [await balance(acct.alice.address, FEE_DENOM), await balance(acct.bob.address, FEE_DENOM)];
    await refusedByCheckTx(acct.alice, [send("alice", "bob", 200_000, FEE_DENOM)], FIXED_FEE, "compliance", 31, /needs a travel-rule record/);
    assert.equal(await balance(acct.bob.address, FEE_DENOM), b0, "nothing reached bob");

    const envelope = new TextEncoder().encode("encrypted-for-beta-bank");
    const record = await travelRuleRecord(IVMS101, { envelopeLocator: "https://alpha.example/tr/42", envelope });
    const txBytes = await signWithExtensions(
      acct.alice.client, acct.alice.address, [send("alice", "bob", 200_000, FEE_DENOM)], FIXED_FEE, "invoice 42",
      [travelRuleExtension(record)], cosmjs,
    );
    const res = await acct.alice.client.broadcastTx(txBytes, 30_000, 300);
    assert.equal(res.code, 0, res.rawLog);
    const events = attrs(res.events, "compliance_travel_rule");
    assert.equal(events.length, 1, JSON.stringify(events));
    const [tr] = events;
    assert.deepEqual(
      [tr.sender, tr.recipient, tr.amount, tr.route, tr.ivms101_sha256, tr.originator_vasp, tr.beneficiary_vasp, tr.envelope_locator],
      [acct.alice.address, acct.bob.address, "200000upay", "local", IVMS101_SHA256, ORIGINATOR_LEI, BENEFICIARY_LEI, "https://alpha.example/tr/42"],
    );
    assert.equal(tr.envelope_sha256, createHash("sha256").update(envelope).digest("hex"));
    assert.deepEqual(
      [await balance(acct.alice.address, FEE_DENOM), await balance(acct.bob.address, FEE_DENOM)],
      [a0 - 10_000n - 200_000n, b0 + 200_000n],
    );
    // The committed tx carries the record as its extension option, and the memo.
    const { tx } = await restJson(`/cosmos/tx/v1beta1/txs/${res.transactionHash}`);
    assert.equal(tx.body.memo, "invoice 42");
    assert.deepEqual(tx.body.extension_options.map((e) => [e["@type"], e.ivms101_sha256]), [[TRAVEL_RULE_RECORD_TYPE_URL, IVMS101_SHA256]]);
  });

  test("travel rule: a malformed record is refused by CheckTx (compliance/32)", async () => {
    const record = await travelRuleRecord(IVMS101);
    const seq = (await acct.dev.client.getAccount(acct.alice.address)).sequence;
    const upay = await balance(acct.alice.address, FEE_DENOM);
    // Bypassing the library's checks: encoded by hand / by protobufjs.
    const malformed = {
      "an uppercase hash": pb.TravelRuleRecord.encode({ ...record, ivms101Sha256: IVMS101_SHA256.toUpperCase(), envelope: undefined }).finish(),
      "a short hash": encodeTravelRuleRecord({ ...record, ivms101Sha256: IVMS101_SHA256.slice(0, 62) }),
      "no beneficiary VASP": encodeTravelRuleRecord({ ...record, beneficiaryVasp: "" }),
    };
    for (const [what, value] of Object.entries(malformed)) {
      const txBytes = await signWithExtensions(
        acct.alice.client, acct.alice.address, [send("alice", "bob", 200_000, FEE_DENOM)], FIXED_FEE, "",
        [{ typeUrl: TRAVEL_RULE_RECORD_TYPE_URL, value: Uint8Array.from(value) }], cosmjs,
      );
      await assert.rejects(acct.alice.client.broadcastTxSync(txBytes), (e) => {
        assert.ok(e instanceof BroadcastTxError, `${what}: expected CheckTx to refuse the broadcast, got: ${e.stack ?? e}`);
        assert.deepEqual([e.codespace, e.code], ["compliance", 32], `${what}: ${e.log}`);
        assert.match(e.log, /ivms101_sha256|beneficiary_vasp/);
        return true;
      });
    }
    assert.equal((await acct.dev.client.getAccount(acct.alice.address)).sequence, seq, "no tx of alice's ran");
    assert.equal(await balance(acct.alice.address, FEE_DENOM), upay, "no fee charged");
  });

  test("velocity: after the window, the send refused before lands", async () => {
    assert.ok(firstSendSecond, "the first velocity test ran");
    // The 600 counts while the block time is within 24 s (24 one-second buckets) of its block's second.
    const deadline = Date.now() + 60_000;
    while ((await blockSecond()) < firstSendSecond + WINDOW_SECONDS) {
      assert.ok(Date.now() < deadline, "the chain's block time did not pass the window within 60 s");
      await sleep(500);
    }
    const u = await velocityUsage(acct.payer.address, token);
    assert.deepEqual([u.used, u.remaining], ["0", "1000"], "the first send left the window");
    await ok("payer", [send("payer", "bob", 500, token)]);
    assert.deepEqual([await balance(acct.payer.address, token), await balance(acct.bob.address, token)], [8_900n, 1_100n]);
    const after = await velocityUsage(acct.payer.address, token);
    assert.deepEqual([after.used, after.remaining], ["500", "500"]);
  });
});
