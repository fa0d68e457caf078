// wire.js against the vectors that helpline/crypto.py wrote (tests/vectors/wire.json), both
// directions: what Python made opens here, and what wire.js makes is byte for byte Python's.
// Run: node --test tests/js/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const root = path.join(__dirname, '..', '..');
const vectors = JSON.parse(fs.readFileSync(path.join(root, 'tests', 'vectors', 'wire.json'), 'utf8'));

// Load the same files the page bundle concatenates, as classic scripts in this realm (so typed
// arrays made here pass tweetnacl's instanceof checks). tweetnacl finds its PRNG on `self`.
globalThis.self = globalThis;
for (const file of ['node_modules/tweetnacl/nacl.min.js', 'helpline/static/js/wire.js']) {
  vm.runInThisContext(fs.readFileSync(path.join(root, file), 'utf8'), { filename: file });
}
const W = globalThis.HelplineWire;
const nacl = globalThis.nacl;

const hex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (bytes) => Buffer.from(bytes).toString('hex');

test('b64u round trip', () => {
  for (const row of vectors.b64u.valid) {
    assert.equal(W.b64uEncode(hex(row.hex)), row.b64u);
    assert.equal(toHex(W.b64uDecode(row.b64u)), row.hex);
  }
});

test('b64u refuses what is not strict base64url', () => {
  for (const text of [...vectors.b64u.invalid, ...vectors.b64u.invalid_strict, null, 42]) {
    assert.throws(() => W.b64uDecode(text), /not base64url/, JSON.stringify(text));
  }
});

test('resume code format and parse', () => {
  for (const row of vectors.resume.codes) {
    assert.equal(W.formatResumeCode(hex(row.secret)), row.code);
    for (const typed of [row.code, ...row.typed]) {
      assert.equal(toHex(W.parseResumeCode(typed)), row.secret, typed);
    }
  }
  assert.equal(toHex(W.parseResumeCode(vectors.resume.aliases.input)), vectors.resume.aliases.secret);
});

test('resume code refuses malformed codes and secrets', () => {
  for (const code of vectors.resume.invalid) {
    assert.throws(() => W.parseResumeCode(code), /16 letters/, code);
  }
  assert.throws(() => W.formatResumeCode(new Uint8Array(9)), /10 bytes/);
});

test('a new resume secret round-trips through its code', () => {
  const secret = W.newResumeSecret();
  assert.equal(secret.length, 10);
  assert.deepEqual(W.parseResumeCode(W.formatResumeCode(secret)), secret);
});

test('child key pair and token', () => {
  for (const row of vectors.child) {
    const secret = W.parseResumeCode(row.code);
    assert.equal(toHex(secret), row.secret);
    const keys = W.childKeyPair(secret);
    assert.equal(toHex(keys.secretKey), row.secret_key);
    assert.equal(W.b64uEncode(keys.publicKey), row.public_key);
    assert.equal(W.b64uEncode(W.childToken(secret)), row.token);
  }
});

test('pad and unpad', () => {
  for (const row of vectors.pad.valid) {
    const padded = W.pad(hex(row.data));
    assert.equal(toHex(padded), row.padded);
    assert.equal(toHex(W.unpad(padded)), row.data);
  }
  for (const bad of vectors.pad.invalid) {
    assert.throws(() => W.unpad(hex(bad)), /bad padding/, bad);
  }
});

test('sealed boxes match Python byte for byte and open', () => {
  for (const row of vectors.sealed) {
    assert.equal(W.seal(hex(row.key), hex(row.plaintext), hex(row.nonce)), row.wire);
    assert.equal(toHex(W.openSealed(hex(row.key), row.wire)), row.plaintext);
  }
});

test('openSealed refuses a wrong key, tampering and short input', () => {
  const row = vectors.sealed[1];
  const raw = W.b64uDecode(row.wire);
  raw[raw.length - 1] ^= 1;
  assert.throws(() => W.openSealed(new Uint8Array(32), row.wire), /does not open/);
  assert.throws(() => W.openSealed(hex(row.key), W.b64uEncode(raw)), /does not open/);
  assert.throws(() => W.openSealed(hex(row.key), W.b64uEncode(new Uint8Array(39))), /too short/);
});

test('messages encrypt to the Python bytes and decrypt with the envelope check', () => {
  const key = hex(vectors.message.key);
  for (const row of vectors.message.messages) {
    const fields = { conv: row.conv, from: row.from, cid: row.cid, text: row.text, at: row.at };
    assert.equal(W.encryptMessage(key, fields, hex(row.nonce)), row.wire);
    const payload = W.decryptMessage(key, row.wire, { conv: row.conv, from: row.from, cid: row.cid });
    assert.deepEqual({ ...payload }, { v: 1, ...fields });
  }
});

test('a fresh nonce each time: the same message never encrypts twice the same', () => {
  const key = W.newConversationKey();
  const fields = { conv: 'c', from: 'child', cid: 'm', text: 'po', at: 1 };
  assert.notEqual(W.encryptMessage(key, fields), W.encryptMessage(key, fields));
});

test('a message moved to another conversation, sender or id is refused', () => {
  const key = hex(vectors.message.key);
  for (const envelope of vectors.message.moved.envelopes) {
    assert.throws(() => W.decryptMessage(key, vectors.message.moved.wire, envelope), /moved/);
  }
});

test('decryptMessage refuses what is not a v1 text message', () => {
  const key = W.newConversationKey();
  const envelope = { conv: 'c', from: 'child', cid: 'm' };
  const cases = [
    'not json',
    '["a list"]',
    '{"v":2,"conv":"c","from":"child","cid":"m","text":"x"}',
    '{"v":1,"conv":"c","from":"child","cid":"m","text":7}',
    '\ufeff{"v":1,"conv":"c","from":"child","cid":"m","text":"x"}'
  ];
  for (const text of cases) {
    assert.throws(() => W.decryptMessage(key, W.seal(key, W.pad(W.utf8(text))), envelope), text);
  }
  assert.throws(() => W.decryptMessage(key, W.seal(key, W.pad(hex('fffe'))), envelope), /not JSON/);
  assert.throws(() => W.decryptMessage(key, W.seal(key, W.utf8('{"v":1}')), envelope), /bad padding/);
});

test('wrapped keys match Python and unwrap with the precomputed shared key', () => {
  for (const row of vectors.wrapped) {
    const wrapper = nacl.box.keyPair.fromSecretKey(hex(row.wrapper_secret));
    const recipient = nacl.box.keyPair.fromSecretKey(hex(row.recipient_secret));
    assert.equal(W.b64uEncode(recipient.publicKey), row.recipient_public);
    const wrapperShared = W.sharedKey(recipient.publicKey, wrapper.secretKey);
    assert.equal(toHex(wrapperShared), row.shared_key);
    assert.equal(W.wrapKey(hex(row.conv_key), wrapperShared, hex(row.nonce)), row.wire);
    const recipientShared = W.sharedKey(W.b64uDecode(row.wrapper_public), recipient.secretKey);
    assert.equal(toHex(W.unwrapKey(row.wire, recipientShared)), row.conv_key);
  }
});

test('sharedKey computes one agreement per peer and caches it', () => {
  const me = nacl.box.keyPair();
  const peer = nacl.box.keyPair();
  const first = W.sharedKey(peer.publicKey, me.secretKey);
  assert.equal(W.sharedKey(Uint8Array.from(peer.publicKey), me.secretKey), first);
  assert.notEqual(W.sharedKey(nacl.box.keyPair().publicKey, me.secretKey), first);
});

test('unwrapKey refuses a stranger, tampering and a key of the wrong length', () => {
  const row = vectors.wrapped[1];
  const stranger = nacl.box.keyPair();
  const wrongShared = W.sharedKey(W.b64uDecode(row.wrapper_public), stranger.secretKey);
  assert.throws(() => W.unwrapKey(row.wire, wrongShared), /does not open/);
  assert.throws(() => W.unwrapKey(W.b64uEncode(new Uint8Array(10)), wrongShared), /does not open/);
  const me = nacl.box.keyPair();
  const mine = W.sharedKey(me.publicKey, me.secretKey);
  assert.throws(() => W.unwrapKey(W.wrapKey(new Uint8Array(16), mine), mine), /wrong length/);
});

test('staff key statement and signature verify under the org key', () => {
  const s = vectors.staff_key;
  const publicKey = W.b64uDecode(s.public_key);
  assert.equal(toHex(W.staffKeyStatement(s.staff_id, publicKey, s.role)), s.statement);
  assert.equal(W.verifyStaffKey(W.b64uDecode(s.org_public), s.staff_id, publicKey, s.signature, W.CHAT_ROLES), true);
  // The org key in the vectors comes from a fixed seed: signing here gives Python's signature.
  const org = nacl.sign.keyPair.fromSeed(hex(s.org_seed));
  const signature = nacl.sign.detached(W.staffKeyStatement(s.staff_id, publicKey, s.role), org.secretKey);
  assert.equal(W.b64uEncode(signature), s.signature);
});

test('the role in the statement decides who may read: officers and admins are not counsellors', () => {
  const s = vectors.staff_key;
  const orgPublic = W.b64uDecode(s.org_public);
  const publicKey = W.b64uDecode(s.public_key);
  assert.deepEqual([...W.CHAT_ROLES].sort(), s.allowed.chat);
  assert.deepEqual([...W.REFERRAL_ROLES].sort(), s.allowed.referral);
  assert.deepEqual([...W.REPORT_ROLES].sort(), s.allowed.report);
  for (const row of s.roles) {
    assert.equal(toHex(W.staffKeyStatement(s.staff_id, publicKey, row.role)), row.statement, row.role);
    assert.equal(W.staffKeyRole(orgPublic, s.staff_id, publicKey, row.signature), row.role);
    for (const roles of [W.CHAT_ROLES, W.REFERRAL_ROLES, W.REPORT_ROLES]) {
      assert.equal(W.verifyStaffKey(orgPublic, s.staff_id, publicKey, row.signature, roles),
        roles.includes(row.role), row.role);
    }
  }
  // No roles named, nothing verifies; an unknown role has no statement.
  assert.equal(W.verifyStaffKey(orgPublic, s.staff_id, publicKey, s.signature), false);
  assert.throws(() => W.staffKeyStatement(s.staff_id, publicKey, 'child'), /unknown staff role/);
  // The old statement without a role is never accepted.
  assert.equal(W.staffKeyRole(orgPublic, s.staff_id, publicKey, s.legacy_signature), null);
});

test('a bad staff key signature is refused, never thrown', () => {
  const s = vectors.staff_key;
  const orgPublic = W.b64uDecode(s.org_public);
  for (const bad of s.bad) {
    assert.equal(W.staffKeyRole(orgPublic, bad.staff_id, W.b64uDecode(bad.public_key), bad.signature), null, bad.why);
  }
  const publicKey = W.b64uDecode(s.public_key);
  assert.equal(W.verifyStaffKey(new Uint8Array(31), s.staff_id, publicKey, s.signature, W.CHAT_ROLES), false);
  assert.equal(W.verifyStaffKey(undefined, s.staff_id, publicKey, s.signature, W.CHAT_ROLES), false);
  assert.equal(W.verifyStaffKey(orgPublic, s.staff_id, publicKey.subarray(1), s.signature, W.CHAT_ROLES), false);
});

test('a key fingerprint equals Python', () => {
  for (const row of vectors.fingerprint) {
    assert.equal(W.keyFingerprint(W.b64uDecode(row.public_key)), row.fingerprint);
  }
  assert.throws(() => W.keyFingerprint(new Uint8Array(31)), /32 bytes/);
});

test('PBKDF2 wrapping key equals hashlib', async () => {
  for (const row of vectors.wrapping_key.derive) {
    const iterations = row.iterations === W.PBKDF2_ITERATIONS ? undefined : row.iterations;
    const key = await W.deriveWrappingKey(row.password, hex(row.salt), iterations);
    assert.equal(toHex(key), row.key);
  }
});

test('sign-in derivation (auth, unwrap) equals helpline/crypto.py', async () => {
  for (const row of vectors.signin) {
    const iterations = row.iterations === W.PBKDF2_ITERATIONS ? undefined : row.iterations;
    const derived = await W.deriveSignin(row.password, W.b64uDecode(row.salt), iterations);
    assert.equal(W.b64uEncode(derived.auth), row.auth);
    assert.equal(toHex(derived.unwrap), row.unwrap);
    assert.notEqual(toHex(derived.auth), toHex(derived.unwrap));
  }
});

test('a staff private key seals to the Python bytes and opens', () => {
  const row = vectors.wrapping_key.private_key;
  const wrappingKey = hex(row.wrapping_key);
  assert.equal(W.sealPrivateKey(wrappingKey, hex(row.secret_key), hex(row.nonce)), row.wire);
  assert.equal(toHex(W.openPrivateKey(wrappingKey, row.wire)), row.secret_key);
  assert.throws(() => W.openPrivateKey(wrappingKey, W.seal(wrappingKey, new Uint8Array(31))), /wrong length/);
});

// The proof-of-work solver both pages use (child.js, report.js) against helpline/security/pow.py:
// the same first nonce as Python's solve(), whose SHA-512(seed ":" nonce) has the zero bits
// solves() counts, by the browser's SHA-512 and by the tweetnacl fallback alike.
const { createHash } = require('node:crypto');

function pythonZeroBits(digest) { // helpline/security/pow.py leading_zero_bits, independently
  let count = 0;
  for (const byte of digest) {
    if (byte === 0) { count += 8; continue; }
    return count + 8 - byte.toString(2).length;
  }
  return count;
}

async function withoutSubtle(run) {
  const own = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  try { return await run(); } finally { Object.defineProperty(globalThis, 'crypto', own); }
}

test('proof of work: the nonce Python finds and accepts, natively and with tweetnacl', async () => {
  assert.ok(globalThis.crypto && globalThis.crypto.subtle, 'node has WebCrypto');
  for (const row of vectors.pow) {
    const nonce = await W.solveProof(row.seed, row.bits);
    assert.equal(nonce, row.nonce, row.seed);
    const digest = createHash('sha512').update(`${row.seed}:${nonce}`, 'ascii').digest();
    assert.ok(pythonZeroBits(digest) >= row.bits);
    assert.equal(W.zeroBits(new Uint8Array(digest)), pythonZeroBits(digest));
    assert.equal(await withoutSubtle(() => W.solveProof(row.seed, row.bits)), row.nonce, row.seed);
  }
});

test('proof of work: 8 bits on a fresh seed, and zero bits counted as Python does', async () => {
  const seed = W.b64uEncode(nacl.randomBytes(33));
  const nonce = await W.solveProof(seed, 8);
  assert.match(nonce, /^\d+$/);
  const digest = createHash('sha512').update(`${seed}:${nonce}`, 'ascii').digest();
  assert.ok(pythonZeroBits(digest) >= 8);
  assert.equal(digest[0], 0);
  for (const bytes of [[0, 0], [0, 1], [0x80], [0x7f, 0], [0, 0, 0x10], [1]]) {
    assert.equal(W.zeroBits(Uint8Array.from(bytes)), pythonZeroBits(bytes), JSON.stringify(bytes));
  }
});

test('proof of work stops with null once the caller no longer wants it', async () => {
  const seed = W.b64uEncode(nacl.randomBytes(33));
  let slices = 0;
  assert.equal(await W.solveProof(seed, 512, () => ++slices < 3), null);
  assert.equal(slices, 3);
  slices = 0;
  assert.equal(await withoutSubtle(() => W.solveProof(seed, 512, () => ++slices < 3)), null);
  assert.equal(slices, 3);
});
