/* Helpline wire cryptography for the browser: the twin of helpline/crypto.py.
 * Byte layouts are in docs/encryption.md and both sides are held to tests/vectors/.
 * Needs the global `nacl` (tweetnacl); exposes `HelplineWire`. No UI here: the child
 * page and the counsellor console share this file. */
(function (root) {
  'use strict';

  var nacl = root.nacl;
  var NONCE_BYTES = 24;
  var MAC_BYTES = 16;
  var KEY_BYTES = 32;
  var PAD_BUCKET = 256;
  var RESUME_SECRET_BYTES = 10;
  var PBKDF2_ITERATIONS = 600000;
  var B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  var CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  var CROCKFORD_ALIASES = { O: '0', I: '1', L: '1' };
  var encoder = new TextEncoder();
  // Refuse what Python's strict decode() and json.loads() refuse: bad UTF-8, a leading BOM.
  var decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  function WireError(message) {
    var error = new Error(message);
    error.name = 'WireError';
    return error;
  }

  function utf8(text) {
    return encoder.encode(text);
  }

  function concat() {
    var total = 0, offset = 0, i, out;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    out = new Uint8Array(total);
    for (i = 0; i < arguments.length; i++) {
      out.set(arguments[i], offset);
      offset += arguments[i].length;
    }
    return out;
  }

  // Domain separators end in a NUL byte so no prefix of one is another.
  var CHILD_BOX = utf8('helpline/child-box/v1\u0000');
  var CHILD_TOKEN = utf8('helpline/child-token/v1\u0000');
  var STAFF_KEY = utf8('helpline/staff-key/v2\u0000');
  var FINGERPRINT = utf8('helpline/key-fingerprint/v1\u0000');
  // Every role a staff key is signed for, and who may read what (docs/encryption.md).
  var STAFF_ROLES = ['counsellor', 'supervisor', 'officer', 'manager', 'admin'];
  var CHAT_ROLES = ['counsellor', 'supervisor'];       // a child wraps only for these; case notes too
  var REFERRAL_ROLES = ['counsellor', 'supervisor', 'officer'];
  var REPORT_ROLES = ['supervisor', 'officer'];

  // -- base64url without padding -----------------------------------------------------------

  function b64uEncode(bytes) {
    var out = '', i, n;
    for (i = 0; i + 2 < bytes.length; i += 3) {
      n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += B64U[n >> 18] + B64U[(n >> 12) & 63] + B64U[(n >> 6) & 63] + B64U[n & 63];
    }
    if (i < bytes.length) {
      n = (bytes[i] << 16) | (i + 1 < bytes.length ? bytes[i + 1] << 8 : 0);
      out += B64U[n >> 18] + B64U[(n >> 12) & 63];
      if (i + 1 < bytes.length) out += B64U[(n >> 6) & 63];
    }
    return out;
  }

  /* Strict: only the url-safe alphabet, no padding, no whitespace, and the unused low
   * bits of the last character must be zero so every byte string has one spelling. */
  function b64uDecode(text) {
    if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      throw WireError('not base64url');
    }
    var out = new Uint8Array(Math.floor((text.length * 3) / 4));
    var acc = 0, bits = 0, j = 0;
    for (var i = 0; i < text.length; i++) {
      acc = (acc << 6) | B64U.indexOf(text[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 255;
        acc &= (1 << bits) - 1;
      }
    }
    if (acc !== 0) throw WireError('not base64url');
    return out;
  }

  // -- resume code and child keys ------------------------------------------------------------

  function newResumeSecret() {
    return nacl.randomBytes(RESUME_SECRET_BYTES);
  }

  /* 80 bits read as a big-endian bit stream, five at a time: 16 Crockford characters. */
  function formatResumeCode(secret) {
    if (!secret || secret.length !== RESUME_SECRET_BYTES) {
      throw WireError('resume secret must be 10 bytes');
    }
    var code = '', acc = 0, bits = 0;
    for (var i = 0; i < secret.length; i++) {
      acc = (acc << 8) | secret[i];
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        code += CROCKFORD[(acc >> bits) & 31];
      }
      acc &= (1 << bits) - 1;
    }
    return code.match(/.{4}/g).join('-');
  }

  /* Reads a code typed by a person: case, spaces and dashes do not matter; O, I, L are
   * read as the digits they look like. */
  function parseResumeCode(code) {
    var cleaned = String(code).toUpperCase().replace(/[ \t-]/g, '');
    cleaned = cleaned.replace(/[OIL]/g, function (c) { return CROCKFORD_ALIASES[c]; });
    if (!/^[0-9A-HJKMNP-TV-Z]{16}$/.test(cleaned)) {
      throw WireError('a resume code has 16 letters and digits');
    }
    var out = new Uint8Array(RESUME_SECRET_BYTES), acc = 0, bits = 0, j = 0;
    for (var i = 0; i < cleaned.length; i++) {
      acc = (acc << 5) | CROCKFORD.indexOf(cleaned[i]);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 255;
        acc &= (1 << bits) - 1;
      }
    }
    return out;
  }

  function domainHash(domain, secret) {
    return nacl.hash(concat(domain, secret)).subarray(0, KEY_BYTES);
  }

  /* The child's X25519 key pair: a domain-separated SHA-512 of the resume secret. */
  function childKeyPair(secret) {
    return nacl.box.keyPair.fromSecretKey(domainHash(CHILD_BOX, secret));
  }

  /* What the child shows the server to prove it holds the secret (32 bytes). */
  function childToken(secret) {
    return domainHash(CHILD_TOKEN, secret);
  }

  // -- padding and sealed boxes ------------------------------------------------------------

  /* ISO/IEC 7816-4 padding to whole buckets, so the ciphertext size says little. */
  function pad(data, bucket) {
    var size = bucket || PAD_BUCKET;
    var out = new Uint8Array(Math.ceil((data.length + 1) / size) * size);
    out.set(data);
    out[data.length] = 0x80;
    return out;
  }

  function unpad(data) {
    var end = data.length;
    while (end > 0 && data[end - 1] === 0) end--;
    if (end === 0 || data[end - 1] !== 0x80) throw WireError('bad padding');
    return data.subarray(0, end - 1);
  }

  function newNonce(nonce) {
    return nonce || nacl.randomBytes(NONCE_BYTES);
  }

  /* `b64u(nonce[24] || secretbox)`. tweetnacl returns only the box, so the nonce is put in
   * front here. `nonce` is for test vectors only; leave it out everywhere else. */
  function seal(key, plaintext, nonce) {
    var n = newNonce(nonce);
    return b64uEncode(concat(n, nacl.secretbox(plaintext, n, key)));
  }

  function openSealed(key, wire) {
    var raw = b64uDecode(wire);
    if (raw.length < NONCE_BYTES + MAC_BYTES) throw WireError('ciphertext too short');
    var opened = nacl.secretbox.open(raw.subarray(NONCE_BYTES), raw.subarray(0, NONCE_BYTES), key);
    if (!opened) throw WireError('ciphertext does not open with this key');
    return opened;
  }

  /* Encrypts one chat message. The envelope fields travel inside too, in the same order as
   * crypto.py writes them, so the receiver can check where the ciphertext came from. */
  function encryptMessage(key, fields, nonce) {
    var payload = {
      v: 1, conv: fields.conv, from: fields.from, cid: fields.cid, text: fields.text, at: fields.at
    };
    return seal(key, pad(utf8(JSON.stringify(payload))), nonce);
  }

  /* Opens a message and refuses it unless it names the conversation, sender and client id
   * of the envelope the server delivered it in: a moved ciphertext must not show. */
  function decryptMessage(key, wire, envelope) {
    var payload;
    var data = unpad(openSealed(key, wire));
    try {
      payload = JSON.parse(decoder.decode(data));
    } catch (e) {
      throw WireError('message is not JSON');
    }
    if (!payload || typeof payload !== 'object' || payload.v !== 1) {
      throw WireError('unknown message version');
    }
    if (payload.conv !== envelope.conv || payload.from !== envelope.from ||
        payload.cid !== envelope.cid) {
      throw WireError('message was moved from another conversation or sender');
    }
    if (typeof payload.text !== 'string') throw WireError('message has no text');
    return payload;
  }

  // -- key wrapping ----------------------------------------------------------------------------

  function newConversationKey() {
    return nacl.randomBytes(KEY_BYTES);
  }

  // One X25519 agreement per peer: shared keys are cached per own secret key object.
  var sharedCache = new WeakMap();

  /* The precomputed box key between our secret key and a peer's public key. */
  function sharedKey(peerPublic, ownSecret) {
    var perSecret = sharedCache.get(ownSecret);
    if (!perSecret) {
      perSecret = new Map();
      sharedCache.set(ownSecret, perSecret);
    }
    var id = b64uEncode(peerPublic);
    if (!perSecret.has(id)) perSecret.set(id, nacl.box.before(peerPublic, ownSecret));
    return perSecret.get(id);
  }

  /* `b64u(nonce || box(conv_key))` with a key from sharedKey(); box.after is secretbox. */
  function wrapKey(convKey, shared, nonce) {
    var n = newNonce(nonce);
    return b64uEncode(concat(n, nacl.box.after(convKey, n, shared)));
  }

  function unwrapKey(wire, shared) {
    var raw = b64uDecode(wire);
    if (raw.length < NONCE_BYTES + MAC_BYTES) throw WireError('wrapped key does not open');
    var key = nacl.box.open.after(raw.subarray(NONCE_BYTES), raw.subarray(0, NONCE_BYTES), shared);
    if (!key) throw WireError('wrapped key does not open');
    if (key.length !== KEY_BYTES) throw WireError('wrapped key has the wrong length');
    return key;
  }

  // -- staff keys ------------------------------------------------------------------------------

  /* The bytes the org key signs (v2): domain, role, NUL, staff id, NUL, the 32-byte X25519
   * public key. The role says what the key is for; v1 statements (no role) are never accepted. */
  function staffKeyStatement(staffId, publicKey, role) {
    if (STAFF_ROLES.indexOf(role) < 0) throw WireError('unknown staff role');
    if (typeof staffId !== 'string' || staffId.indexOf('\u0000') >= 0) throw WireError('bad staff id');
    return concat(STAFF_KEY, utf8(role), new Uint8Array([0]), utf8(staffId), new Uint8Array([0]), publicKey);
  }

  /* The role the pinned org key signed this staff id and public key for, or null. Never throws:
   * anything malformed is simply not verified. */
  function staffKeyRole(orgPublic, staffId, publicKey, signature) {
    try {
      var sig = b64uDecode(signature);
      if (orgPublic.length !== 32 || publicKey.length !== 32 || sig.length !== 64) return null;
      if (typeof staffId !== 'string') return null;
      for (var i = 0; i < STAFF_ROLES.length; i++) {
        var statement = staffKeyStatement(staffId, publicKey, STAFF_ROLES[i]);
        if (nacl.sign.detached.verify(statement, sig, orgPublic)) return STAFF_ROLES[i];
      }
    } catch (e) { /* not verified */ }
    return null;
  }

  /* True only if the pinned org key signed exactly this staff id and public key for one of
   * `roles` (an array: CHAT_ROLES, REFERRAL_ROLES, ...). No roles given, nothing verifies. */
  function verifyStaffKey(orgPublic, staffId, publicKey, signature, roles) {
    var role = staffKeyRole(orgPublic, staffId, publicKey, signature);
    return role !== null && Array.isArray(roles) && roles.indexOf(role) >= 0;
  }

  /* Proof of work (helpline/security/pow.py, ADR 0020): the first nonce, counting from 0, such
   * that SHA-512(seed ":" nonce) starts with `bits` zero bits, found in short slices so the page
   * stays responsive. The browser's own SHA-512 (https pages) is several times faster than
   * tweetnacl's on a phone; tweetnacl is the fallback, and both hash the same bytes, so the answer
   * is the same. Resolves to the nonce as a string, or to null once isAlive() says stop. */
  var POW_CHUNK = 2000; // tweetnacl hashes per slice
  var POW_BATCH = 256; // digests asked of crypto.subtle at once

  function zeroBits(digest) {
    for (var i = 0, count = 0; i < digest.length; i++, count += 8) {
      if (digest[i]) return count + Math.clz32(digest[i]) - 24;
    }
    return count;
  }

  function asciiBytes(text) {
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function solveProof(seed, bits, isAlive) {
    var prefix = seed + ':';
    var nonce = 0;
    var subtle = root.crypto && root.crypto.subtle;
    function alive() { return !isAlive || isAlive(); }
    return new Promise(function (resolve) {
      function sliceNative() {
        if (!alive()) return resolve(null);
        var tries = [];
        for (var k = 0; k < POW_BATCH; k++) tries.push(subtle.digest('SHA-512', asciiBytes(prefix + (nonce + k))));
        Promise.all(tries).then(function (digests) {
          for (var k = 0; k < digests.length; k++) {
            if (zeroBits(new Uint8Array(digests[k])) >= bits) return resolve(String(nonce + k));
          }
          nonce += POW_BATCH;
          sliceNative();
        }, function () { subtle = null; slice(); });
      }
      function slice() {
        if (!alive()) return resolve(null);
        for (var end = nonce + POW_CHUNK; nonce < end; nonce++) {
          if (zeroBits(root.nacl.hash(asciiBytes(prefix + nonce))) >= bits) return resolve(String(nonce));
        }
        setTimeout(slice, 0);
      }
      if (subtle && subtle.digest) sliceNative(); else slice();
    });
  }

  root.HelplineWire = {
    NONCE_BYTES: NONCE_BYTES,
    KEY_BYTES: KEY_BYTES,
    PAD_BUCKET: PAD_BUCKET,
    utf8: utf8,
    b64uEncode: b64uEncode,
    b64uDecode: b64uDecode,
    newResumeSecret: newResumeSecret,
    formatResumeCode: formatResumeCode,
    parseResumeCode: parseResumeCode,
    childKeyPair: childKeyPair,
    childToken: childToken,
    pad: pad,
    unpad: unpad,
    seal: seal,
    openSealed: openSealed,
    encryptMessage: encryptMessage,
    decryptMessage: decryptMessage,
    newConversationKey: newConversationKey,
    sharedKey: sharedKey,
    wrapKey: wrapKey,
    unwrapKey: unwrapKey,
    STAFF_ROLES: STAFF_ROLES,
    CHAT_ROLES: CHAT_ROLES,
    REFERRAL_ROLES: REFERRAL_ROLES,
    REPORT_ROLES: REPORT_ROLES,
    staffKeyStatement: staffKeyStatement,
    staffKeyRole: staffKeyRole,
    verifyStaffKey: verifyStaffKey,
    zeroBits: zeroBits,
    solveProof: solveProof
  };

  // staff only: from here to "end of staff only" the child pages' bundles leave out (helpline/bundle.py)
  /* A short, readable name of a public key that staff compare with `helpline keys sign`:
   * SHA-512(domain || key)[0:10] in four groups of four Crockford characters. */
  function keyFingerprint(publicKey) {
    if (!publicKey || publicKey.length !== KEY_BYTES) throw WireError('a public key has 32 bytes');
    return formatResumeCode(nacl.hash(concat(FINGERPRINT, publicKey)).subarray(0, RESUME_SECRET_BYTES));
  }

  /* PBKDF2-HMAC-SHA256 through WebCrypto (needs a secure context). Resolves to 32 bytes. */
  function deriveWrappingKey(password, salt, iterations) {
    var subtle = root.crypto && root.crypto.subtle;
    if (!subtle) return Promise.reject(WireError('WebCrypto is only available over https'));
    return subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits'])
      .then(function (base) {
        var params = {
          name: 'PBKDF2', hash: 'SHA-256', salt: salt, iterations: iterations || PBKDF2_ITERATIONS
        };
        return subtle.deriveBits(params, base, KEY_BYTES * 8);
      })
      .then(function (bits) { return new Uint8Array(bits); });
  }

  /* The sign-in derivation (ADR 0021), the twin of helpline/crypto.py's derive_signin: one slow
   * PBKDF2-SHA256 of the password with the account's salt, then two HMAC-SHA256 under different
   * labels. Resolves to {auth, unwrap} (32 bytes each): auth signs in (the server keeps only an
   * Argon2id of it); unwrap seals the private key and never leaves the page. */
  var SIGNIN_SALT = utf8('helpline/staff-signin/v1\u0000');
  var SIGNIN_AUTH = utf8('helpline/signin-auth/v1');
  var SIGNIN_UNWRAP = utf8('helpline/key-unwrap/v1');

  function deriveSignin(password, salt, iterations) {
    var subtle = root.crypto && root.crypto.subtle;
    if (!subtle) return Promise.reject(WireError('WebCrypto is only available over https'));
    return subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits'])
      .then(function (base) {
        var params = {
          name: 'PBKDF2', hash: 'SHA-256', salt: concat(SIGNIN_SALT, salt), iterations: iterations || PBKDF2_ITERATIONS
        };
        return subtle.deriveBits(params, base, KEY_BYTES * 8);
      })
      .then(function (master) {
        return subtle.importKey('raw', master, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      })
      .then(function (hmacKey) {
        return Promise.all([subtle.sign('HMAC', hmacKey, SIGNIN_AUTH), subtle.sign('HMAC', hmacKey, SIGNIN_UNWRAP)]);
      })
      .then(function (both) {
        return { auth: new Uint8Array(both[0]), unwrap: new Uint8Array(both[1]) };
      });
  }

  /* A staff member's X25519 secret key, stored on the server only in this sealed form. */
  function sealPrivateKey(wrappingKey, secretKey, nonce) {
    return seal(wrappingKey, secretKey, nonce);
  }

  function openPrivateKey(wrappingKey, wire) {
    var key = openSealed(wrappingKey, wire);
    if (key.length !== KEY_BYTES) throw WireError('private key has the wrong length');
    return key;
  }

  var wire = root.HelplineWire;
  wire.PBKDF2_ITERATIONS = PBKDF2_ITERATIONS;
  wire.keyFingerprint = keyFingerprint;
  wire.deriveWrappingKey = deriveWrappingKey;
  wire.deriveSignin = deriveSignin;
  wire.sealPrivateKey = sealPrivateKey;
  wire.openPrivateKey = openPrivateKey;
  // end of staff only
})(typeof window !== 'undefined' ? window : globalThis);
