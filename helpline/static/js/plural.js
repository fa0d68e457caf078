/* Plural forms in the page, by the locale's CLDR rule (ADR 0039). The server sends the rule as gettext
 * writes it (Babel's to_gettext: "(n % 10 == 1 && n % 100 != 11) ? 0 : …") and the catalog's forms; our
 * CSP forbids eval and new Function, so this reads the expression with a small parser of its own:
 * n, whole numbers, ( ), ! % * / + - < <= > >= == != && || and ?:. */
var HelplinePlural = (function () {
  'use strict';

  var TOKEN = /\s*(\d+|n|&&|\|\||[=!<>]=|[()?:!%*\/+\-<>])/g;
  var BINARY = {
    '||': [1, function (a, b) { return a || b; }], '&&': [2, function (a, b) { return a && b; }],
    '==': [3, function (a, b) { return a === b; }], '!=': [3, function (a, b) { return a !== b; }],
    '<': [4, function (a, b) { return a < b; }], '<=': [4, function (a, b) { return a <= b; }],
    '>': [4, function (a, b) { return a > b; }], '>=': [4, function (a, b) { return a >= b; }],
    '+': [5, function (a, b) { return a + b; }], '-': [5, function (a, b) { return a - b; }],
    '*': [6, function (a, b) { return a * b; }], '/': [6, function (a, b) { return Math.floor(a / b); }],
    '%': [6, function (a, b) { return a % b; }]
  };

  function tokens(text) {
    var found = [];
    var at = 0;
    var match;
    TOKEN.lastIndex = 0;
    while (at < text.length && (match = TOKEN.exec(text)) && match.index === at) {
      found.push(match[1]);
      at = TOKEN.lastIndex;
    }
    if (text.slice(at).trim()) throw new Error('plural rule: cannot read ' + text.slice(at));
    return found;
  }

  /* Returns a function of n; a rule it cannot read gives the English one (1 → 0, else 1). */
  function compile(expr) {
    var list;
    var pos = 0;
    try { list = tokens(String(expr)); } catch (e) { return english; }
    function peek() { return list[pos]; }
    function next() { return list[pos++]; }
    function primary() {
      var token = next();
      if (token === '(') { var inner = ternary(); next(); return inner; }
      if (token === '!') { var operand = primary(); return function (n) { return !operand(n); }; }
      if (token === '-') { var negated = primary(); return function (n) { return -negated(n); }; }
      if (token === 'n') return function (n) { return n; };
      var value = Number(token);
      if (isNaN(value)) throw new Error('plural rule: unexpected ' + token);
      return function () { return value; };
    }
    function binary(level) {
      var left = primary();
      while (BINARY[peek()] && BINARY[peek()][0] >= level) {
        var op = BINARY[next()];
        var right = binary(op[0] + 1);
        left = (function (l, r, f) { return function (n) { return f(l(n), r(n)); }; }(left, right, op[1]));
      }
      return left;
    }
    function ternary() {
      var test = binary(1);
      if (peek() !== '?') return test;
      next();
      var yes = ternary();
      next();
      var no = ternary();
      return function (n) { return test(n) ? yes(n) : no(n); };
    }
    try {
      var rule = ternary();
      if (pos !== list.length) return english;
      return function (n) { return Number(rule(Math.abs(Math.floor(Number(n))))); };
    } catch (e) {
      return english;
    }
  }

  function english(n) { return Number(n) === 1 ? 0 : 1; }

  /* ngettext for a page: `config` is its config block ({plural: {expr}, plurals: {singular: forms}}). */
  function translator(config) {
    var rule = compile(((config || {}).plural || {}).expr || '');
    var table = (config || {}).plurals || {};
    return function (singular, plural, n) {
      var forms = table[singular];
      if (!forms) return english(n) === 0 ? singular : plural;
      return forms[rule(n)] || forms[forms.length - 1];
    };
  }

  return { compile: compile, translator: translator };
}());
