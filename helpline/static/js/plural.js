/* Plural forms in the page, by the locale's CLDR rule (ADR 0039). Our CSP forbids eval and new Function,
 * so the server sends the rule as data (helpline/plural_rule.py): "n", a whole number, or
 * [operator, operand, …] with the operators of C that gettext uses. */
var HelplinePlural = (function () {
  'use strict';

  /* The form's index for n: evaluate(["?", ["==", "n", 1], 0, 1], 5) is 1. */
  function evaluate(node, n) {
    if (node === 'n') return n;
    if (typeof node === 'number') return node;
    var op = node[0];
    var a = evaluate(node[1], n);
    if (op === '?') return evaluate(a ? node[2] : node[3], n);
    if (op === '!') return +!a;
    var b = evaluate(node[2], n);
    switch (op) {
      case '||': return +!!(a || b);
      case '&&': return +!!(a && b);
      case '==': return +(a === b);
      case '!=': return +(a !== b);
      case '<': return +(a < b);
      case '<=': return +(a <= b);
      case '>': return +(a > b);
      case '>=': return +(a >= b);
    }
    return a % b;
  }

  /* ngettext for a page: `config` is its config block ({plural: {rule}, plurals: {singular: [forms]}});
   * without forms for a message (not translated), English's: the singular for 1. */
  function translator(config) {
    var rule = ((config || {}).plural || {}).rule;
    var table = (config || {}).plurals || {};
    return function (singular, plural, n) {
      var forms = table[singular];
      if (!forms || rule == null) return +n === 1 ? singular : plural;
      return forms[evaluate(rule, Math.abs(Math.floor(+n)))] || forms[forms.length - 1];
    };
  }

  return { evaluate: evaluate, translator: translator };
}());
