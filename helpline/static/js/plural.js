/* Plural forms in the page, by the locale's CLDR rule (ADR 0039). Our CSP forbids eval and new Function,
 * so the server sends the rule's answer for n = 0…199 (helpline/i18n.py plural_indexes); past that, CLDR's
 * rules for whole numbers depend only on n % 100 and thresholds below 100, so n reads as 100 + n % 100. */
var HelplinePlural = (function () {
  'use strict';

  /* The form's index for n: index([1, 0, 1, …], 5) is 1. */
  function index(table, n) {
    n = Math.abs(Math.floor(+n));
    return table[n < table.length ? n : 100 + n % 100];
  }

  /* ngettext for a page: `config` is its config block ({plural: {table}, plurals: {singular: [forms]}});
   * without forms for a message (not translated), English's: the singular for 1. */
  function translator(config) {
    var table = ((config || {}).plural || {}).table;
    var known = (config || {}).plurals || {};
    return function (singular, plural, n) {
      var forms = known[singular];
      if (!forms || !table) return +n === 1 ? singular : plural;
      return forms[index(table, n)] || forms[forms.length - 1];
    };
  }

  return { index: index, translator: translator };
}());
