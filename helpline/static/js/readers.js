/* Sealing for a team of readers, shared by the pages that write to people they cannot see: the
 * report page (the police cybercrime officers) and a child's left message (the counsellors, ADR
 * 0027). Loaded after wire.js, and only by the bundles that need it, so the child page's first
 * load does not carry it. */
(function (root) {
  'use strict';

  var W = root.HelplineWire;

  /* `key` wrapped for every reader ({id, public_key, signature}) whose key the pinned org key
   * signed for one of `roles`, with our own secret key: [{reader, wrapped_key}]. All or nothing:
   * one key that does not verify throws, with `unsigned` set, and nothing is wrapped for anyone. */
  function wrapForReaders(orgPublic, readers, key, ownSecret, roles) {
    var checked = readers.map(function (reader) {
      var publicKey = W.b64uDecode(reader.public_key);
      if (!W.verifyStaffKey(orgPublic, reader.id, publicKey, reader.signature, roles)) {
        var error = new Error('a reader key is not signed by the org key');
        error.unsigned = true;
        throw error;
      }
      return { id: reader.id, publicKey: publicKey };
    });
    return checked.map(function (reader) {
      return { reader: reader.id, wrapped_key: W.wrapKey(key, W.sharedKey(reader.publicKey, ownSecret)) };
    });
  }

  W.wrapForReaders = wrapForReaders;
}(typeof self !== 'undefined' ? self : this));
