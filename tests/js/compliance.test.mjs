// The compliance module (paychain.compliance.v1) through real CosmJS against a dev
// chain this test starts itself (devchain.mjs): a payment company's day.
//
//   1. The chain authority (the dev key) registers a KYC provider for kyc.tier2.
//   2. The provider credentials a customer; the customer accepts.
//   3. The company issues a token and, as its admin, attaches a compound policy
//      whose recipient rule needs the credential: a send to an uncredentialed
//      account is refused by CheckTx (compliance/16) and moves nothing, not even
//      its fee; a send to the customer lands.
//   4. The authority names a 2-member committee; the company makes the policy hold
//      instead of refuse (hold_seconds 3600): the same send lands as a tx but the
//      coins wait in the holds account (HOLD_STATUS_HELD) until both members vote
//      to release them.
//   5. An emergency sanction (one vote) of the customer: its sends, fees included,
//      are refused by CheckTx (compliance/22) until the sanction lapses unconfirmed.
//
// Every message is signed SIGN_MODE_DIRECT. A transfer a policy refuses, or a
// sanctioned sender's, is refused by CheckTx (the same checks as in the block), so
// those txs go through refusedByCheckTx with a fixed fee ("auto" would simulate them
// and throw). Other messages' refusals fail in the block (signAndBroadcast).
//
// The messages are compiled from /proto by protobufjs (`npm run gen` writes
// gen/assets.js and gen/compliance.js).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import { DirectSecp256k1HdWallet, Registry } from "@cosmjs/proto-signing";
import {
  createProtobufRpcClient,
  defaultRegistryTypes,
  GasPrice,
  QueryClient,
  SigningStargateClient,
} from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";

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

const PREFIX = "pay";
const FEE_DENOM = "upay";
const KYC = "kyc.tier2";
const url = (name) => `/paychain.compliance.v1.${name}`;
const LIST_SHA256 = "5f2b9cf3b1a7cbd4b2d4e0f1c6a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291";
const LAPSE_SECONDS = 4;

// Every message of the compliance tx.proto, and the token's MsgIssue.
const registry = new Registry(defaultRegistryTypes);
for (const name of [
  "MsgRegisterIssuer", "MsgRemoveIssuer", "MsgCreateCredential", "MsgAcceptCredential", "MsgRevokeCredential",
  "MsgCreatePolicy", "MsgUpdatePolicy", "MsgUpdatePolicyMembers", "MsgAttachPolicy", "MsgSetCommittee",
  "MsgProposeSanction", "MsgVoteSanction", "MsgExecuteSanction", "MsgDecideHold",
]) {
  registry.register(url(name), pb[name]);
}
registry.register("/paychain.assets.v1.MsgIssue", gen.assets.MsgIssue);

const clientOptions = { registry, gasPrice: GasPrice.fromString(MIN_GAS_PRICE), broadcastPollIntervalMs: 300 };
// For txs expected to fail (in the block, or in CheckTx): "auto" would simulate them and throw first.
const FIXED_FEE = { amount: [{ denom: FEE_DENOM, amount: "10000" }], gas: "400000" };

/** The attributes of each event of `type`, as objects. */
function attrs(events, type) {
  return events
    .filter((e) => e.type === type)
    .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

describe("compliance (credentials, policies, holds, sanctions) from CosmJS", { timeout: 240_000 }, () => {
  let chain;
  let comet;
  let query; // Protobuf RPC over ABCI query
  const clients = [];
  const acct = {}; // name -> { address, client }: dev (the authority), kyc, customer, company, officer
  let stranger; // an address without credentials; it only receives
  let denom; // the company's token
  let p1; // the credentials policy (kyc.tier2 from the provider)
  let p2; // the compound policy attached to the token: { recipient_policy: p1 }
  let holdsAccount; // where held coins wait (from the held send's transfer event)
  let holdId;
  let proposalId;

  const connect = async (wallet) => {
    const c = await SigningStargateClient.connectWithSigner(chain.rpc, wallet, clientOptions);
    clients.push(c);
    return c;
  };
  const abci = async (method, Req, Resp, req) =>
    Resp.decode(await query.request("paychain.compliance.v1.Query", method, Req.encode(req).finish()));
  const queryIssuer = (address) => abci("Issuer", pb.QueryIssuerRequest, pb.QueryIssuerResponse, { address });
  const queryCredential = (subject) =>
    abci("Credential", pb.QueryCredentialRequest, pb.QueryCredentialResponse, { subject, issuer: acct.kyc.address, type: KYC });
  const queryPolicy = (policyId) => abci("Policy", pb.QueryPolicyRequest, pb.QueryPolicyResponse, { policyId });
  const queryDenomPolicy = (d) => abci("DenomPolicy", pb.QueryDenomPolicyRequest, pb.QueryDenomPolicyResponse, { denom: d });
  const queryCommittee = () => abci("Committee", pb.QueryCommitteeRequest, pb.QueryCommitteeResponse, {});
  const queryHoldsByParty = (address) =>
    abci("HoldsByParty", pb.QueryHoldsByPartyRequest, pb.QueryHoldsResponse, { address });
  const queryHold = (id) => abci("Hold", pb.QueryHoldRequest, pb.QueryHoldResponse, { holdId: id });
  const querySanction = (address) => abci("Sanction", pb.QuerySanctionRequest, pb.QuerySanctionResponse, { address });
  const queryProposal = (id) =>
    abci("SanctionProposal", pb.QuerySanctionProposalRequest, pb.QuerySanctionProposalResponse, { proposalId: id });
  const restJson = async (path) => {
    const r = await fetch(`${chain.rest}${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return r.json();
  };
  const balance = async (address, d = denom) => BigInt((await acct.dev.client.getBalance(address, d)).amount);
  const balances = async (...addresses) => Promise.all(addresses.map((a) => balance(a)));
  const send = (from, to, amount, d = denom) => ({
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: { fromAddress: acct[from].address, toAddress: to, amount: [{ denom: d, amount: String(amount) }] },
  });

  /** `name` sends one message; it must succeed. */
  async function ok(name, msg) {
    const res = await acct[name].client.signAndBroadcast(acct[name].address, [msg], "auto");
    assert.equal(res.code, 0, `${msg.typeUrl}: ${res.rawLog}`);
    return res;
  }

  /** `name` sends one message with a fixed fee; it must fail in the block with `codespace`/`code`. */
  async function refused(name, msg, codespace, code, logPattern) {
    const res = await acct[name].client.signAndBroadcast(acct[name].address, [msg], FIXED_FEE);
    assert.equal(res.code, code, `${msg.typeUrl} should fail with ${codespace}/${code}: ${res.rawLog}`);
    if (logPattern) assert.match(res.rawLog ?? "", logPattern);
    const r = await restJson(`/cosmos/tx/v1beta1/txs/${res.transactionHash}`);
    assert.deepEqual([r.tx_response.codespace, r.tx_response.code], [codespace, code], r.tx_response.raw_log);
    return res;
  }

  /** The decoded response of a tx's only message. */
  const response = (res, Type) => {
    assert.deepEqual(res.msgResponses.map((r) => r.typeUrl), [Type.getTypeUrl("")]);
    return Type.decode(res.msgResponses[0].value);
  };

  before(async () => {
    chain = await startDevChain();
    try {
      const devWallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.mnemonic, { prefix: PREFIX });
      acct.dev = { address: (await devWallet.getAccounts())[0].address, client: await connect(devWallet) };
      comet = await connectComet(chain.rpc);
      query = createProtobufRpcClient(new QueryClient(comet));
      for (const name of ["kyc", "customer", "company", "officer"]) {
        const wallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
        acct[name] = { address: (await wallet.getAccounts())[0].address, client: await connect(wallet) };
      }
      const strangerWallet = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
      stranger = (await strangerWallet.getAccounts())[0].address;
      // upay for everyone who signs (the customer's upay is also what it sends in step 5).
      const funded = ["kyc", "customer", "company", "officer"].map((name) => send("dev", acct[name].address, 5_000_000, FEE_DENOM));
      const res = await acct.dev.client.signAndBroadcast(acct.dev.address, funded, "auto");
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

  test("1. the authority registers a KYC provider for kyc.tier2; nobody else may (authority/3)", async () => {
    const register = (authority) => ({
      typeUrl: url("MsgRegisterIssuer"),
      value: {
        authority,
        issuer: acct.kyc.address,
        types: [KYC],
        name: "Example KYC",
        uri: "https://kyc.example/policy",
        reason: "onboarding",
        reference: "board decision 2026-12",
      },
    });
    await refused("company", register(acct.company.address), "authority", 3);
    await assert.rejects(queryIssuer(acct.kyc.address), /no credential issuer/, "not registered yet");

    const res = await ok("dev", register(acct.dev.address));
    response(res, pb.MsgRegisterIssuerResponse);
    const [ev] = attrs(res.events, "compliance_action");
    assert.deepEqual([ev.action, ev.actor, ev.issuer, ev.detail, ev.reason, ev.reference], [
      "register_issuer", acct.dev.address, acct.kyc.address, KYC, "onboarding", "board decision 2026-12",
    ]);
    const { issuer } = await queryIssuer(acct.kyc.address);
    assert.deepEqual([issuer.address, issuer.types, issuer.name], [acct.kyc.address, [KYC], "Example KYC"]);
  });

  test("2. the provider credentials the customer, who accepts; an unregistered issuer is refused (compliance/2)", async () => {
    const create = (issuer) => ({
      typeUrl: url("MsgCreateCredential"),
      value: { issuer, subject: acct.customer.address, type: KYC, uri: "https://kyc.example/cases/17", uriHash: "ab".repeat(32) },
    });
    await refused("company", create(acct.company.address), "compliance", 2);
    const created = await ok("kyc", create(acct.kyc.address));
    assert.equal(attrs(created.events, "compliance_action")[0].action, "create_credential");
    let { credential } = await queryCredential(acct.customer.address);
    assert.deepEqual([credential.subject, credential.issuer, credential.type, credential.accepted, credential.uriHash], [
      acct.customer.address, acct.kyc.address, KYC, false, "ab".repeat(32),
    ]);

    const accept = { typeUrl: url("MsgAcceptCredential"), value: { subject: acct.customer.address, issuer: acct.kyc.address, type: KYC } };
    const accepted = await ok("customer", accept);
    const [ev] = attrs(accepted.events, "compliance_action");
    assert.deepEqual([ev.action, ev.actor, ev.subject], ["accept_credential", acct.customer.address, acct.customer.address]);
    ({ credential } = await queryCredential(acct.customer.address));
    assert.equal(credential.accepted, true);
    assert.equal(credential.revokedAt, null);
    // Accepting twice is refused.
    await refused("customer", accept, "compliance", 13);
  });

  test("3. the company's token under a recipient-KYC policy: an uncredentialed recipient is refused (compliance/16)", async () => {
    const issued = await ok("company", {
      typeUrl: "/paychain.assets.v1.MsgIssue",
      value: { issuer: acct.company.address, subunit: "usdp", symbol: "USDP", name: "Pay Dollar", precision: 6, initialSupply: "1000000" },
    });
    denom = gen.assets.MsgIssueResponse.decode(issued.msgResponses[0].value).denom;
    assert.equal(denom, `usdp-${acct.company.address}`);
    assert.equal(await balance(acct.company.address), 1_000_000n, "the initial supply is in the treasury (the issuer)");

    const createPolicy = (name, rule) => ({
      typeUrl: url("MsgCreatePolicy"),
      value: { creator: acct.company.address, name, rule, reason: "kyc_required", reference: "compliance memo 12", holdSeconds: 0 },
    });
    const r1 = await ok("company", createPolicy("kyc-tier2", { credentials: { allOf: [{ issuer: acct.kyc.address, type: KYC }] } }));
    p1 = Number(response(r1, pb.MsgCreatePolicyResponse).policyId);
    const r2 = await ok("company", createPolicy("recipients-kyc", { compound: { recipientPolicy: p1 } }));
    p2 = Number(response(r2, pb.MsgCreatePolicyResponse).policyId);
    assert.ok(p1 > 0 && p2 === p1 + 1, `policy ids ${p1}, ${p2}`);
    const [ev] = attrs(r2.events, "compliance_policy");
    assert.deepEqual([ev.action, ev.policy_id, ev.version, ev.detail], ["create_policy", String(p2), "1", "compound"]);
    const { policy } = await queryPolicy(p2);
    assert.deepEqual(
      [policy.name, String(policy.version), policy.admin, String(policy.rule.compound.recipientPolicy), String(policy.holdSeconds)],
      ["recipients-kyc", "1", acct.company.address, String(p1), "0"],
    );

    const attach = (signer) => ({
      typeUrl: url("MsgAttachPolicy"),
      value: { signer, denom, policyId: p2, reason: "kyc_required", reference: "compliance memo 12" },
    });
    // Only the token's admin (or the authority) attaches a policy to the token.
    await refused("customer", attach(acct.customer.address), "compliance", 7);
    const attached = await ok("company", attach(acct.company.address));
    const [at] = attrs(attached.events, "compliance_policy");
    assert.deepEqual([at.action, at.denom, at.policy_id, at.version], ["attach_policy", denom, String(p2), "1"]);
    const dp = await queryDenomPolicy(denom);
    assert.deepEqual([String(dp.globalPolicyId), String(dp.denomPolicyId)], ["0", String(p2)]);

    await refusedByCheckTx(acct.company, [send("company", stranger, 100)], FIXED_FEE, "compliance", 16, /holds no kyc\.tier2 credential/);
    assert.deepEqual(await balances(acct.company.address, stranger), [1_000_000n, 0n], "nothing moved");
    assert.deepEqual((await queryHoldsByParty(stranger)).holds, [], "hold_seconds 0: refused, not held");

    const res = await ok("company", send("company", acct.customer.address, 500));
    assert.deepEqual(attrs(res.events, "compliance_hold"), []);
    assert.deepEqual(await balances(acct.company.address, acct.customer.address), [999_500n, 500n]);
  });

  test("4. the policy holds instead: a held send waits in the holds account until the committee releases it", async () => {
    const [dev, officer] = [acct.dev.address, acct.officer.address];
    const committee = {
      members: [dev, officer].sort(),
      threshold: 2,
      emergencyThreshold: 1,
      timelockSeconds: 0,
      emergencyLapseSeconds: LAPSE_SECONDS,
      votingPeriodSeconds: 600,
      seizureAccount: acct.company.address,
    };
    const setCommittee = (authority) => ({
      typeUrl: url("MsgSetCommittee"),
      value: { authority, committee, reason: "board_resolution", reference: "BR-2026-44" },
    });
    await refused("officer", setCommittee(officer), "authority", 3);
    const set = await ok("dev", setCommittee(dev));
    const [sc] = attrs(set.events, "compliance_sanction");
    assert.deepEqual([sc.step, sc.members, sc.threshold, sc.emergency_threshold], ["set_committee", committee.members.join(","), "2", "1"]);
    const c = (await queryCommittee()).committee;
    assert.deepEqual(
      [c.members, c.threshold, c.emergencyThreshold, String(c.emergencyLapseSeconds), String(c.votingPeriodSeconds)],
      [committee.members, 2, 1, String(LAPSE_SECONDS), "600"],
    );

    const updated = await ok("company", {
      typeUrl: url("MsgUpdatePolicy"),
      value: {
        admin: acct.company.address,
        policyId: p2,
        name: "recipients-kyc",
        rule: { compound: { recipientPolicy: p1 } },
        reason: "hold_for_review",
        reference: "compliance memo 13",
        holdSeconds: 3600,
      },
    });
    assert.equal(String(response(updated, pb.MsgUpdatePolicyResponse).version), "2");
    const { policy } = await queryPolicy(p2);
    assert.deepEqual([String(policy.version), String(policy.holdSeconds)], ["2", "3600"]);

    // The send lands as a tx, but the coins are neither the stranger's nor the company's.
    const held = await ok("company", send("company", stranger, 250));
    assert.deepEqual(await balances(acct.company.address, stranger), [999_250n, 0n]);
    const holdEvents = attrs(held.events, "compliance_hold");
    assert.equal(holdEvents.length, 1, "one compliance_hold event");
    const [he] = holdEvents;
    assert.deepEqual(
      [he.step, he.sender, he.recipient, he.amount, he.policy_id, he.policy_version, he.status],
      ["hold", acct.company.address, stranger, `250${denom}`, String(p2), "2", "HOLD_STATUS_HELD"],
    );
    assert.match(he.reason, /holds no kyc\.tier2 credential/);
    holdId = Number(he.hold_id);
    // Bank moved the coins to the holds account (a module account), not to the stranger.
    const transfers = attrs(held.events, "transfer").filter((t) => t.amount === `250${denom}`);
    assert.equal(transfers.length, 1, JSON.stringify(attrs(held.events, "transfer")));
    holdsAccount = transfers[0].recipient;
    assert.equal(transfers[0].sender, acct.company.address);
    assert.notEqual(holdsAccount, stranger);
    assert.equal(await balance(holdsAccount), 250n);
    const account = (await restJson(`/cosmos/auth/v1beta1/accounts/${holdsAccount}`)).account;
    assert.equal(account["@type"], "/cosmos.auth.v1beta1.ModuleAccount", JSON.stringify(account));
    assert.equal(account.name, "compliance_holds", JSON.stringify(account));

    const { holds } = await queryHoldsByParty(stranger);
    assert.equal(holds.length, 1);
    const [h] = holds;
    assert.deepEqual(
      [Number(h.id), h.sender, h.recipient, h.status, String(h.policyId), String(h.policyVersion)],
      [holdId, acct.company.address, stranger, pb.HoldStatus.HOLD_STATUS_HELD, String(p2), "2"],
    );
    assert.deepEqual(h.amount.map((x) => [x.denom, x.amount]), [[denom, "250"]]);
    assert.equal(Number(h.deadline.seconds) - Number(h.createdAt.seconds), 3600);
    assert.deepEqual((await queryHoldsByParty(acct.company.address)).holds.map((x) => Number(x.id)), [holdId], "the sender's view");

    const decide = (signer) => ({
      typeUrl: url("MsgDecideHold"),
      value: { signer, holdId, decision: pb.HoldDecision.HOLD_DECISION_RELEASE, reason: "review_done", reference: "case 2026-311" },
    });
    // Neither a member nor the token's admin: refused.
    await refused("customer", decide(acct.customer.address), "compliance", 7);
    // Seizing needs a sanctioned party.
    await refused("dev", { ...decide(dev), value: { ...decide(dev).value, decision: pb.HoldDecision.HOLD_DECISION_SEIZE } }, "compliance", 27);

    const first = await ok("dev", decide(dev));
    assert.equal(response(first, pb.MsgDecideHoldResponse).status, pb.HoldStatus.HOLD_STATUS_HELD, "one vote of two");
    assert.equal(attrs(first.events, "compliance_hold")[0].step, "vote");
    let hold = (await queryHold(holdId)).hold;
    assert.equal(hold.status, pb.HoldStatus.HOLD_STATUS_HELD);
    assert.deepEqual(hold.votes.map((v) => [v.member, v.decision]), [[dev, pb.HoldDecision.HOLD_DECISION_RELEASE]]);
    assert.deepEqual(await balances(stranger, holdsAccount), [0n, 250n]);
    await refused("dev", decide(dev), "compliance", 18);

    const second = await ok("officer", decide(officer));
    assert.equal(response(second, pb.MsgDecideHoldResponse).status, pb.HoldStatus.HOLD_STATUS_RELEASED);
    const [de] = attrs(second.events, "compliance_hold");
    assert.deepEqual([de.step, de.status, de.actor, de.reference], ["decide", "HOLD_STATUS_RELEASED", officer, "case 2026-311"]);
    hold = (await queryHold(holdId)).hold;
    assert.deepEqual([hold.status, hold.decidedBy, hold.decisionReason], [pb.HoldStatus.HOLD_STATUS_RELEASED, officer, "review_done"]);
    assert.deepEqual(await balances(stranger, holdsAccount, acct.company.address), [250n, 0n, 999_250n]);
    // Decided once.
    await refused("dev", { ...decide(dev), value: { ...decide(dev).value, decision: pb.HoldDecision.HOLD_DECISION_RETURN } }, "compliance", 26);
  });

  test("5. an emergency sanction stops the customer's sends, fees included (compliance/22), until it lapses", async () => {
    const propose = {
      typeUrl: url("MsgProposeSanction"),
      value: {
        proposer: acct.officer.address,
        action: pb.SanctionAction.SANCTION_ACTION_SANCTION,
        addresses: [acct.customer.address],
        emergency: true,
        source: { name: "OFAC SDN", sha256: LIST_SHA256, version: "2026-12-01" },
        reason: "sanctions_list_update",
        reference: "SDN 2026-12-01",
      },
    };
    // Only a committee member proposes.
    await refused("company", { ...propose, value: { ...propose.value, proposer: acct.company.address } }, "compliance", 17);
    const res = await ok("officer", propose);
    const r = response(res, pb.MsgProposeSanctionResponse);
    proposalId = Number(r.proposalId);
    assert.equal(r.status, pb.ProposalStatus.PROPOSAL_STATUS_EMERGENCY, "in effect at the emergency quorum (1)");
    assert.deepEqual(attrs(res.events, "compliance_sanction").map((e) => e.step), ["propose", "emergency_effective"]);

    const { proposal } = await queryProposal(proposalId);
    assert.deepEqual([proposal.status, proposal.votes, proposal.addresses], [
      pb.ProposalStatus.PROPOSAL_STATUS_EMERGENCY, [acct.officer.address], [acct.customer.address],
    ]);
    assert.equal(Number(proposal.lapsesAt.seconds) - Number(proposal.submittedAt.seconds), LAPSE_SECONDS);
    const s = await querySanction(acct.customer.address);
    assert.equal(s.sanctioned, true);
    assert.deepEqual([Number(s.sanction.proposalId), s.sanction.source.sha256, s.sanction.source.name], [proposalId, LIST_SHA256, "OFAC SDN"]);
    assert.ok(s.sanction.lapsesAt, "an emergency entry carries its lapse time");

    // CheckTx refuses the fee itself: the customer can move nothing.
    const upayBefore = await balance(acct.customer.address, FEE_DENOM);
    await refusedByCheckTx(acct.customer, [send("customer", acct.company.address, 1000, FEE_DENOM)], FIXED_FEE, "compliance", 22, /sanctioned/);

    // Not confirmed (one vote of the threshold 2): it lapses in end block LAPSE_SECONDS later.
    const deadline = Date.now() + 30_000;
    let status;
    for (;;) {
      status = (await queryProposal(proposalId)).proposal.status;
      if (status === pb.ProposalStatus.PROPOSAL_STATUS_LAPSED) break;
      assert.equal(status, pb.ProposalStatus.PROPOSAL_STATUS_EMERGENCY);
      assert.ok(Date.now() < deadline, `proposal ${proposalId} did not lapse within 30 s (status ${status})`);
      await sleep(500);
    }
    const lapsed = await querySanction(acct.customer.address);
    assert.equal(lapsed.sanctioned, false);
    // End block deletes the lapsed entry (sanctions.rs, and its unit tests); query.proto's
    // comments still say a lapsed entry stays listed, marked by lapses_at.
    assert.equal(lapsed.sanction, null, "the lapsed entry is removed");
    assert.deepEqual((await abci("Sanctions", pb.QuerySanctionsRequest, pb.QuerySanctionsResponse, {})).sanctions, []);
    // A lapsed proposal takes no more votes.
    await refused("dev", { typeUrl: url("MsgVoteSanction"), value: { voter: acct.dev.address, proposalId } }, "compliance", 20);

    const sent = await ok("customer", send("customer", acct.company.address, 1000, FEE_DENOM));
    assert.equal(sent.code, 0);
    assert.ok(
      (await balance(acct.customer.address, FEE_DENOM)) < upayBefore - 1000n,
      "the send and its fee left the customer's account",
    );
  });
});
