// fmt.js: a translated sentence gets the pack's numbers in its `%(name)s` placeholders (ADR 0038).
// Run: node --test tests/js/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const root = path.join(__dirname, '..', '..');
globalThis.self = globalThis;
vm.runInThisContext(fs.readFileSync(path.join(root, 'helpline/static/js/fmt.js'), 'utf8'), { filename: 'fmt.js' });
const fmt = globalThis.HelplineFmt;

test('placeholders take the numbers the page config carries', () => {
  const numbers = { helpline: '116 123', police: '192', brand: 'Linja 116 123' };
  assert.equal(fmt('Telefono %(helpline)s ose policinë në %(police)s.', numbers),
    'Telefono 116 123 ose policinë në 192.');
  assert.equal(fmt('%(brand)s: %(helpline)s, %(helpline)s', numbers), 'Linja 116 123: 116 123, 116 123');
});

test('a placeholder without a value stays visible, and other text is left alone', () => {
  assert.equal(fmt('Call %(emergency)s.', {}), 'Call %(emergency)s.');
  assert.equal(fmt('Call %(emergency)s.', undefined), 'Call %(emergency)s.');
  assert.equal(fmt('100% sure, {n} left, %s', { n: 1 }), '100% sure, {n} left, %s');
  assert.equal(fmt('%(toString)s', {}), '%(toString)s');
});
