// plural.js: the page's plural forms by CLDR's rule, sent as a table (helpline/i18n.py, ADR 0039).
// The rules below are what the server sends for Serbian and Albanian; the browser test
// (tests/browser/test_plurals_page.py) checks every language Babel knows against Python's gettext.
// Run: node --test tests/js/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const root = path.join(__dirname, '..', '..');
vm.runInThisContext(fs.readFileSync(path.join(root, 'helpline/static/js/plural.js'), 'utf8'));
const P = globalThis.HelplinePlural;

// What the server sends (helpline/i18n.py plural_indexes): the form for n = 0…199.
const SERBIAN = Array.from({ length: 200 }, (_, n) =>
  (n % 10 === 1 && n % 100 !== 11 ? 0 : n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 10 || n % 100 >= 20) ? 1 : 2));
const ALBANIAN = Array.from({ length: 200 }, (_, n) => (n === 1 ? 0 : 1));
const FORMS = ['{count} nova poruka', '{count} nove poruke', '{count} novih poruka'];

test('Serbian: one for 1 and 21, few for 2-4 and 22, other for 5, 11-14 and 25, past the table too', () => {
  const counts = [1, 2, 5, 21, 22, 25, 11, 12, 14, 101, 111, 201, 212, 1021, 1000];
  assert.deepEqual(counts.map((n) => P.index(SERBIAN, n)), [0, 1, 2, 0, 1, 2, 2, 2, 2, 0, 2, 0, 2, 0, 2]);
  const _n = P.translator({ plural: { table: SERBIAN }, plurals: { '{count} new message': FORMS } });
  assert.equal(_n('{count} new message', '{count} new messages', 22), '{count} nove poruke');
  assert.equal(_n('{count} new message', '{count} new messages', 25), '{count} novih poruka');
});

test('a message without forms in the catalog falls back to the English ones', () => {
  const _n = P.translator({ plural: { table: ALBANIAN }, plurals: {} });
  assert.equal(_n('one', 'many', 1), 'one');
  assert.equal(_n('one', 'many', 0), 'many');
  assert.deepEqual([0, 1, 2, 301].map((n) => P.index(ALBANIAN, n)), [1, 0, 1, 1]);
});
