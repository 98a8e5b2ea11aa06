// One ICS-20 MsgTransfer signed and broadcast by real CosmJS
// (SigningStargateClient.sendIbcTokens). A standalone script, not a
// `node --test` file (its name matches none of node's default test
// patterns): the Rust IBC end-to-end test (app/paychaind/tests/e2e_ibc.rs) runs
// it and relays the packet with Hermes.
//
//   node ibc_transfer.mjs --rpc http://127.0.0.1:26657 --mnemonic-file dev-mnemonic.txt \
//     --channel channel-0 --receiver pay1... --denom upay --amount 1000
//
// Every flag can also come from the environment: IBC_RPC, IBC_MNEMONIC (the
// phrase itself) or IBC_MNEMONIC_FILE, IBC_CHANNEL, IBC_RECEIVER, IBC_DENOM,
// IBC_AMOUNT, IBC_PORT (default transfer), IBC_TIMEOUT_SECONDS (default
// 600), IBC_GAS_PRICE (default 0.025upay), IBC_MEMO.
// Prints one JSON line with the result; exits non-zero on any failure
// (including a transaction the chain rejects).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient } from "@cosmjs/stargate";

const flags = {
  rpc: "IBC_RPC",
  mnemonic: "IBC_MNEMONIC",
  "mnemonic-file": "IBC_MNEMONIC_FILE",
  channel: "IBC_CHANNEL",
  receiver: "IBC_RECEIVER",
  denom: "IBC_DENOM",
  amount: "IBC_AMOUNT",
  port: "IBC_PORT",
  "timeout-seconds": "IBC_TIMEOUT_SECONDS",
  "gas-price": "IBC_GAS_PRICE",
  memo: "IBC_MEMO",
};

function fail(message, extra = {}) {
  console.log(JSON.stringify({ ok: false, error: message, ...extra }));
  process.exit(1);
}

async function main() {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(flags).map((k) => [k, { type: "string" }])),
    strict: true,
  });
  const opt = (name, dflt) => values[name] ?? process.env[flags[name]] ?? dflt;
  const need = (name) => opt(name) ?? fail(`missing --${name} (or $${flags[name]})`);

  const rpc = need("rpc");
  let mnemonic = opt("mnemonic");
  if (!mnemonic) {
    const file = opt("mnemonic-file") ?? fail("missing --mnemonic or --mnemonic-file (or $IBC_MNEMONIC / $IBC_MNEMONIC_FILE)");
    mnemonic = readFileSync(file, "utf8");
  }
  mnemonic = mnemonic.trim();
  const channel = need("channel");
  const receiver = need("receiver");
  const denom = need("denom");
  const amount = need("amount");
  if (!/^[1-9][0-9]*$/.test(amount)) fail(`--amount ${JSON.stringify(amount)}: expected a positive integer`);
  const port = opt("port", "transfer");
  const timeoutSeconds = Number(opt("timeout-seconds", "600"));
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) fail("--timeout-seconds: expected a positive integer");
  const gasPrice = GasPrice.fromString(opt("gas-price", "0.025upay"));
  const memo = opt("memo", "");

  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "pay" });
  const [account] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(rpc, wallet, { gasPrice });
  try {
    const chainId = await client.getChainId();
    // Absolute timeout in seconds since the epoch (CosmJS turns it into nanoseconds); no height timeout.
    const timeoutTimestamp = Math.floor(Date.now() / 1000) + timeoutSeconds;
    const res = await client.sendIbcTokens(
      account.address,
      receiver,
      { denom, amount },
      port,
      channel,
      undefined,
      timeoutTimestamp,
      1.5, // fee from a simulation, times 1.5
      memo,
    );
    const sendPacket = res.events.find((e) => e.type === "send_packet");
    const attr = (k) => sendPacket?.attributes.find((a) => a.key === k)?.value;
    const out = {
      ok: res.code === 0,
      chainId,
      sender: account.address,
      code: res.code,
      height: res.height,
      transactionHash: res.transactionHash,
      gasUsed: String(res.gasUsed),
      gasWanted: String(res.gasWanted),
      rawLog: res.rawLog,
      packetSequence: attr("packet_sequence") ?? null,
      packetSrcChannel: attr("packet_src_channel") ?? null,
    };
    if (res.code !== 0) fail(`transaction failed with code ${res.code}: ${res.rawLog}`, out);
    console.log(JSON.stringify(out));
  } finally {
    client.disconnect();
  }
}

main().catch((e) => fail(String(e?.stack ?? e)));
