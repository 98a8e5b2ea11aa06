// Starts a `paychaind dev` chain on free loopback ports for a test, and stops
// it (its whole process group) at the end or when the test process dies.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createMultisigThresholdPubkey, encodeSecp256k1Pubkey, pubkeyToAddress, Secp256k1HdWallet } from "@cosmjs/amino";
import { BroadcastTxError } from "@cosmjs/stargate";

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.PAYCHAIND_BIN ?? resolve(here, "../../target/debug/paychaind");
export const MIN_GAS_PRICE = "0.025upay";

// The kernel's ephemeral range: ports the tests must not use, since any
// outgoing connection on the host may take one of them as its local port.
function ephemeralLow() {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > 12000) return low;
  } catch {
    // not Linux: use Linux's default
  }
  return 32768;
}

function portIsFree(port) {
  return new Promise((ok) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", () => ok(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => ok(true)));
  });
}

// A free loopback port below the ephemeral range, not in `used`.
async function freePort(used) {
  const high = ephemeralLow();
  for (let i = 0; i < 1000; i++) {
    const port = 10000 + Math.floor(Math.random() * (high - 10000));
    if (!used.has(port) && (await portIsFree(port))) return port;
  }
  throw new Error(`no free port in 10000..${high}`);
}

const running = new Set();
function killGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}
process.on("exit", () => running.forEach(killGroup));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    running.forEach(killGroup);
    process.exit(130);
  });
}

// `minGasPrice`: the node's --minimum-gas-prices (default MIN_GAS_PRICE).
export async function startDevChain({ minGasPrice = MIN_GAS_PRICE } = {}) {
  if (!existsSync(BIN)) throw new Error(`paychaind binary not found at ${BIN} (set PAYCHAIND_BIN or run cargo build -p paychaind)`);
  const root = mkdtempSync(join(tmpdir(), "paychain-js-"));
  const home = join(root, "home");
  const ports = {};
  const used = new Set();
  for (const name of ["rpc", "cometbftRpc", "p2p", "abci", "grpc", "rest"]) {
    const p = await freePort(used);
    used.add(p);
    ports[name] = p;
  }
  const logPath = join(root, "dev.log");
  const log = openSync(logPath, "w");
  const env = { ...process.env };
  delete env.PAYCHAIN_HOME;
  const child = spawn(
    BIN,
    [
      "dev", "--home", home,
      // The node's RPC front (what wallets use), with CometBFT's own RPC behind it.
      "--rpc-port", String(ports.rpc), "--cometbft-rpc-port", String(ports.cometbftRpc),
      "--p2p-port", String(ports.p2p), "--abci-port", String(ports.abci),
      "--grpc-port", String(ports.grpc), "--rest-port", String(ports.rest),
      // No metrics server: its fixed default port would collide between test files run at once.
      "--metrics-port", "0",
      "--timeout-commit", "300ms", "--minimum-gas-prices", minGasPrice,
    ],
    { detached: true, stdio: ["ignore", log, log], env },
  );
  running.add(child);
  const rpc = `http://127.0.0.1:${ports.rpc}`;
  const logTail = () => {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-60).join("\n");
    } catch {
      return "";
    }
  };
  const chain = {
    rpc,
    rest: `http://127.0.0.1:${ports.rest}`,
    home,
    logTail,
    async stop() {
      killGroup(child);
      running.delete(child);
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((ok) => child.once("exit", ok));
      }
      if (!process.env.KEEP_CHAIN) rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`paychaind dev exited early (${child.exitCode})`);
      try {
        const r = await fetch(`${rpc}/status`);
        const s = await r.json();
        if (Number(s.result.sync_info.latest_block_height) >= 2) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error("no blocks within 60 s");
      await new Promise((ok) => setTimeout(ok, 200));
    }
    chain.mnemonic = readFileSync(join(home, "dev-mnemonic.txt"), "utf8").trim();
  } catch (e) {
    const tail = logTail();
    await chain.stop();
    throw new Error(`${e.message}\n--- paychaind dev log ---\n${tail}`);
  }
  return chain;
}

// A `threshold`-of-`n` multisig account (the SDK's LegacyAminoPubKey) of fresh amino-signing
// members: { members: [{ wallet, address, pubkey }], pubkey, address }.
export async function newMultisig(threshold, n, prefix = "pay") {
  const members = [];
  for (let i = 0; i < n; i++) {
    const wallet = await Secp256k1HdWallet.generate(12, { prefix });
    const [account] = await wallet.getAccounts();
    members.push({ wallet, address: account.address, pubkey: encodeSecp256k1Pubkey(account.pubkey) });
  }
  const pubkey = createMultisigThresholdPubkey(members.map((m) => m.pubkey), threshold);
  return { members, pubkey, address: pubkeyToAddress(pubkey, prefix) };
}

// Signs `msgs` of `account` ({ address, client }) with `fee` and expects CheckTx to refuse the
// broadcast with `codespace`/`code` (and a log matching `logPattern`): the tx never reaches a
// block, so the account's sequence and its balance of the fee denom stay as they were. Goes
// through signAndBroadcastSync, since CosmJS 0.39's broadcastTx leaves its poll timer running
// when the broadcast itself is refused. Returns the BroadcastTxError.
export async function refusedByCheckTx(account, msgs, fee, codespace, code, logPattern) {
  const { address, client } = account;
  const feeDenom = fee.amount[0].denom;
  const [seq, feeBalance] = [(await client.getAccount(address)).sequence, (await client.getBalance(address, feeDenom)).amount];
  let refusal;
  await assert.rejects(client.signAndBroadcastSync(address, msgs, fee), (e) => {
    assert.ok(e instanceof BroadcastTxError, `expected CheckTx to refuse the broadcast, got: ${e.stack ?? e}`);
    assert.deepEqual([e.codespace, e.code], [codespace, code], e.log);
    if (logPattern) assert.match(e.log, logPattern);
    refusal = e;
    return true;
  });
  assert.equal((await client.getAccount(address)).sequence, seq, "the refused tx did not run");
  assert.equal((await client.getBalance(address, feeDenom)).amount, feeBalance, "no fee was charged");
  return refusal;
}
