// Travel-rule records for paychain transfers, from JavaScript (CosmJS users).
//
// A transfer above a denom's travel-rule threshold must carry a
// paychain.compliance.v1.TravelRuleRecord: the SHA-256 of the transfer's IVMS 101
// payload (canonical JSON) and both VASPs' identifiers; no personal data goes on
// chain. A transaction carries the record as an extension option
// (TxBody.extension_options); an IBC transfer carries it in its memo under
// "travel_rule".
//
// Dependency-free: SHA-256 comes from globalThis.crypto.subtle (Node >= 19, or 18
// with --experimental-global-webcrypto; browsers in a secure context), else from
// a plain-JS fallback (sha256Js); the record's protobuf is encoded by hand; and
// signWithExtensions takes the CosmJS functions it needs from its caller. The canonical JSON and the
// checks match the chain's (modules/compliance/src/travel_rule.rs) and
// `paychaind tx ... --travel-rule FILE`.

export const TRAVEL_RULE_RECORD_TYPE_URL = "/paychain.compliance.v1.TravelRuleRecord";
/** The memo key an IBC transfer carries its record under. */
export const MEMO_KEY = "travel_rule";
export const MAX_VASP_LEN = 128;
export const MAX_ENVELOPE_BYTES = 4096;
export const MAX_LOCATOR_LEN = 256;

const utf8 = new TextEncoder();

function compareUtf8(a, b) {
  // UTF-8 byte order is code point order (not JS's UTF-16 code unit order).
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

// A lone UTF-16 surrogate has no UTF-8 form: the chain's JSON cannot hold it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function jsonString(s, path) {
  if (LONE_SURROGATE.test(s)) throw new Error(`canonical JSON: a lone UTF-16 surrogate is not Unicode text, at ${path}`);
  return JSON.stringify(s);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function writeCanonical(value, path, out) {
  if (value !== null && typeof value === "object" && typeof value.toJSON === "function") value = value.toJSON();
  if (value === null) {
    out.push("null");
  } else if (typeof value === "string") {
    out.push(jsonString(value, path));
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (typeof value === "number") {
    // As the chain: integers only. Beyond 2^53 a JS number is no longer exact: use a BigInt.
    if (!Number.isSafeInteger(value)) {
      throw new Error(`canonical JSON: numbers must be integers (within ±2^53-1, else BigInt), got ${value} at ${path}`);
    }
    out.push(String(Object.is(value, -0) ? 0 : value));
  } else if (typeof value === "bigint") {
    if (value < INT64_MIN || value > UINT64_MAX) {
      throw new Error(`canonical JSON: integer ${value} at ${path} is outside the 64-bit range`);
    }
    out.push(value.toString());
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((x, i) => {
      if (i > 0) out.push(",");
      if (x === undefined || typeof x === "function" || typeof x === "symbol") {
        throw new Error(`canonical JSON: ${typeof x} is not JSON, at ${path}[${i}]`);
      }
      writeCanonical(x, `${path}[${i}]`, out);
    });
    out.push("]");
  } else if (typeof value === "object") {
    // Properties that are undefined (or functions) are left out, as JSON.stringify does.
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined && typeof value[k] !== "function" && typeof value[k] !== "symbol")
      .sort(compareUtf8);
    out.push("{");
    keys.forEach((k, i) => {
      if (i > 0) out.push(",");
      out.push(jsonString(k, `${path} (a key)`), ":");
      writeCanonical(value[k], `${path}.${k}`, out);
    });
    out.push("}");
  } else {
    throw new Error(`canonical JSON: ${typeof value} is not JSON, at ${path}`);
  }
}

/**
 * IVMS 101's canonical form, as the chain and `paychaind --travel-rule` write it:
 * object keys sorted by their UTF-8 bytes, no whitespace, strings escaped as JSON
 * requires, integers only (a fraction throws).
 */
export function canonicalJson(value) {
  const out = [];
  writeCanonical(value, "$", out);
  return out.join("");
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const has = (v, k) => isObject(v) && Object.prototype.hasOwnProperty.call(v, k) && v[k] !== undefined;

/**
 * Checks an IVMS 101 payload against the field set a travel-rule record needs:
 * originator.originatorPersons, beneficiary.beneficiaryPersons,
 * originatingVASP.originatingVASP and beneficiaryVASP.beneficiaryVASP, each a
 * non-empty array of persons (or one person), each person a naturalPerson or a
 * legalPerson with a name. Throws an Error naming the path at fault.
 */
export function validateIvms101(payload) {
  const persons = (path) => {
    let v = payload;
    for (const p of path) {
      if (!has(v, p)) throw new Error(`IVMS 101 payload: ${path.join(".")} is missing`);
      v = v[p];
    }
    let list;
    if (Array.isArray(v) && v.length > 0) list = v;
    else if (isObject(v)) list = [v];
    else throw new Error(`IVMS 101 payload: ${path.join(".")} must name at least one person`);
    list.forEach((person, n) => {
      const named = ["naturalPerson", "legalPerson"]
        .filter((k) => has(person, k))
        .some((k) => has(person[k], "name") && person[k].name !== null);
      if (!named) {
        throw new Error(`IVMS 101 payload: ${path.join(".")}[${n}] must be a naturalPerson or legalPerson with a name`);
      }
    });
  };
  persons(["originator", "originatorPersons"]);
  persons(["beneficiary", "beneficiaryPersons"]);
  persons(["originatingVASP", "originatingVASP"]);
  persons(["beneficiaryVASP", "beneficiaryVASP"]);
}

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 in plain JS (FIPS 180-4), used where globalThis.crypto.subtle is not:
 * Node 18 without --experimental-global-webcrypto, a browser page not in a
 * secure context.
 */
export function sha256Js(bytes) {
  const bitLen = bytes.length * 8;
  const padded = new Uint8Array((((bytes.length + 8) >> 6) + 1) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((x, i) => outView.setUint32(i * 4, x));
  return out;
}

async function sha256(bytes) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256Js(bytes);
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

/** The SHA-256 of the payload's canonical JSON (UTF-8), lowercase hex. Hashes what it is given: call validateIvms101 first. */
export async function ivms101Sha256(payload) {
  return toHex(await sha256(utf8.encode(canonicalJson(payload))));
}

// A control character as Rust's char::is_control: Unicode Cc (U+0000-001F, U+007F-009F).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkText(value, what, min, max) {
  if (typeof value !== "string") throw new Error(`travel-rule record: ${what} must be a string, got ${typeof value}`);
  const len = utf8.encode(value).length;
  if (len < min || len > max || CONTROL.test(value)) {
    throw new Error(`travel-rule record: ${what} must be ${min} to ${max} bytes without control characters, got ${len} bytes`);
  }
}

/** Checks a record's fields as the chain does (else compliance/32); throws an Error. */
export function validateRecord(record) {
  const h = record.ivms101Sha256;
  if (typeof h !== "string" || !/^[0-9a-f]{64}$/.test(h)) {
    throw new Error(`travel-rule record: ivms101Sha256 must be 64 lowercase hex characters, got ${JSON.stringify(h)}`);
  }
  checkText(record.originatorVasp, "originatorVasp", 1, MAX_VASP_LEN);
  checkText(record.beneficiaryVasp, "beneficiaryVasp", 1, MAX_VASP_LEN);
  checkText(record.envelopeLocator ?? "", "envelopeLocator", 0, MAX_LOCATOR_LEN);
  const envelope = record.envelope ?? new Uint8Array();
  if (!(envelope instanceof Uint8Array)) throw new Error("travel-rule record: envelope must be a Uint8Array");
  if (envelope.length > MAX_ENVELOPE_BYTES) {
    throw new Error(`travel-rule record: envelope is ${envelope.length} bytes, at most ${MAX_ENVELOPE_BYTES}`);
  }
}

const nationalIdentifier = (payload, key) => {
  const v = payload?.[key]?.[key]?.legalPerson?.nationalIdentification?.nationalIdentifier;
  return typeof v === "string" ? v : undefined;
};

/**
 * The travel-rule record of an IVMS 101 payload: checked (validateIvms101),
 * hashed (ivms101Sha256), the VASPs named by the options or else by the payload's
 * originatingVASP/beneficiaryVASP legalPerson.nationalIdentification.nationalIdentifier.
 * `envelope`: the payload encrypted for the beneficiary VASP (Uint8Array, at most
 * 4096 bytes); `envelopeLocator`: where that VASP fetches it (at most 256 bytes).
 */
export async function travelRuleRecord(payload, { originatorVasp, beneficiaryVasp, envelopeLocator, envelope } = {}) {
  validateIvms101(payload);
  const vasp = (given, key, option) => {
    if (given !== undefined && given !== null) return given;
    const id = nationalIdentifier(payload, key);
    if (id === undefined) throw new Error(`travel-rule record: ${option} not given, and the payload's ${key} has no nationalIdentifier`);
    return id;
  };
  const record = {
    ivms101Sha256: await ivms101Sha256(payload),
    originatorVasp: vasp(originatorVasp, "originatingVASP", "originatorVasp"),
    beneficiaryVasp: vasp(beneficiaryVasp, "beneficiaryVASP", "beneficiaryVasp"),
    envelopeLocator: envelopeLocator ?? "",
    envelope: envelope ?? new Uint8Array(),
  };
  validateRecord(record);
  return record;
}

// --- protobuf, by hand: TravelRuleRecord is five length-delimited fields ---

function varint(n, out) {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

function lengthDelimited(field, bytes, out) {
  if (bytes.length === 0) return; // proto3: an empty string or bytes field is not written
  varint((field << 3) | 2, out);
  varint(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/**
 * The proto encoding of a paychain.compliance.v1.TravelRuleRecord (fields
 * 1 ivms101_sha256, 2 originator_vasp, 3 beneficiary_vasp, 4 envelope, 5
 * envelope_locator), without checking it: travelRuleExtension checks first.
 */
export function encodeTravelRuleRecord(record) {
  const out = [];
  lengthDelimited(1, utf8.encode(record.ivms101Sha256 ?? ""), out);
  lengthDelimited(2, utf8.encode(record.originatorVasp ?? ""), out);
  lengthDelimited(3, utf8.encode(record.beneficiaryVasp ?? ""), out);
  lengthDelimited(4, record.envelope ?? new Uint8Array(), out);
  lengthDelimited(5, utf8.encode(record.envelopeLocator ?? ""), out);
  return Uint8Array.from(out);
}

/** The record as a tx extension option (an Any for TxBody.extension_options). Checks the record first. */
export function travelRuleExtension(record) {
  validateRecord(record);
  return { typeUrl: TRAVEL_RULE_RECORD_TYPE_URL, value: encodeTravelRuleRecord(record) };
}

/**
 * An IBC transfer's memo carrying the record under "travel_rule" (the envelope
 * itself does not go in a memo; its locator does, when set). An empty memo
 * becomes a new JSON object; a JSON-object memo keeps its other keys; any other
 * memo throws.
 */
export function memoWithTravelRule(memo, record) {
  validateRecord(record);
  let m = {};
  const text = (memo ?? "").trim();
  if (text !== "") {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) throw new Error("memo must be empty or a JSON object to carry a travel-rule record");
    m = parsed;
  }
  const entry = {
    ivms101_sha256: record.ivms101Sha256,
    originator_vasp: record.originatorVasp,
    beneficiary_vasp: record.beneficiaryVasp,
  };
  if (record.envelopeLocator) entry.envelope_locator = record.envelopeLocator;
  return JSON.stringify({ ...m, [MEMO_KEY]: entry });
}

// --- signing a tx with extension options (SIGN_MODE_DIRECT) ---

function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Signs `messages` with `extensionOptions` in the tx body (SIGN_MODE_DIRECT), as
 * SigningStargateClient.sign does without them, and returns the TxRaw bytes for
 * client.broadcastTx / broadcastTxSync.
 *
 * client: a connected SigningStargateClient whose signer is an offline direct
 *   signer (e.g. DirectSecp256k1HdWallet) holding signerAddress; fee: a StdFee
 *   ({amount, gas}; "auto" is not supported, simulate yourself if needed).
 * cosmjs: { makeAuthInfoBytes, makeSignDoc, encodePubkey } from
 *   "@cosmjs/proto-signing" and { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
 *   optionally `signer` (else client.signer), `timeoutHeight` (bigint) and
 *   `signerData` ({accountNumber, sequence, chainId}, else asked from the chain).
 */
export async function signWithExtensions(client, signerAddress, messages, fee, memo, extensionOptions, cosmjs) {
  const { makeAuthInfoBytes, makeSignDoc, encodePubkey, TxRaw } = cosmjs ?? {};
  for (const [name, f] of Object.entries({ makeAuthInfoBytes, makeSignDoc, encodePubkey, TxRaw })) {
    if (!f) throw new Error(`signWithExtensions: cosmjs.${name} is missing`);
  }
  const signer = cosmjs.signer ?? client.signer;
  if (!signer || typeof signer.signDirect !== "function") {
    throw new Error("signWithExtensions: the client's signer is not an offline direct signer (signDirect)");
  }
  if (typeof fee !== "object" || fee === null) throw new Error('signWithExtensions: fee must be a StdFee ({amount, gas}), not "auto"');
  const account = (await signer.getAccounts()).find((a) => a.address === signerAddress);
  if (!account) throw new Error("Failed to retrieve account from signer");
  const eth = account.algo === "eth_secp256k1" || account.algo === "ethsecp256k1";
  const pubkey = encodePubkey({
    type: eth ? "os/PubKeyEthSecp256k1" : "tendermint/PubKeySecp256k1",
    value: toBase64(account.pubkey),
  });

  let signerData = cosmjs.signerData;
  if (!signerData) {
    const { accountNumber, sequence } = await client.getSequence(signerAddress);
    signerData = { accountNumber, sequence, chainId: await client.getChainId() };
  }
  const bodyBytes = client.registry.encodeTxBody({
    messages,
    memo: memo ?? "",
    extensionOptions: extensionOptions ?? [],
    ...(cosmjs.timeoutHeight !== undefined ? { timeoutHeight: cosmjs.timeoutHeight } : {}),
  });
  const gasLimit = Number(fee.gas);
  if (!Number.isSafeInteger(gasLimit) || gasLimit < 0) throw new Error(`signWithExtensions: bad fee.gas ${fee.gas}`);
  const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: signerData.sequence }], fee.amount, gasLimit, fee.granter, fee.payer);
  const signDoc = makeSignDoc(bodyBytes, authInfoBytes, signerData.chainId, signerData.accountNumber);
  const { signature, signed } = await signer.signDirect(signerAddress, signDoc);
  const txRaw = TxRaw.fromPartial({
    bodyBytes: signed.bodyBytes,
    authInfoBytes: signed.authInfoBytes,
    signatures: [fromBase64(signature.signature)],
  });
  return Uint8Array.from(TxRaw.encode(txRaw).finish());
}
