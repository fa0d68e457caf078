/* Numbers and names reach translated strings as placeholders, never inside them (ADR 0038):
 * HelplineFmt(_('Call %(helpline)s.'), CONFIG.numbers) is the sentence with the number in. The page
 * config carries the pack's numbers; a placeholder with no value stays as written, so a test sees it. */
(function (root) {
  'use strict';

  root.HelplineFmt = function (text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  };
}(typeof self !== 'undefined' ? self : this));
