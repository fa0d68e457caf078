/* Dates, times and plural forms for the staff pages (console, portal, cases), in the page's language
 * and the helpline's time zone. The pattern is ours, not the browser's default: "12/5/2026" reads as
 * 12 May to an Albanian officer and 5 December to an English one, so a date always spells its month
 * ("5 dhj 2026, 10:30"). Babel spells it "d MMM y, HH:mm" (a test pins both). */
var HelplineL10n = (function () {
  'use strict';

  /* Our codes are Babel's ("sr_Latn"); Intl wants BCP 47 ("sr-Latn"). The pseudo-locale dates as English. */
  var LOCALES = { sq: 'sq-AL', en: 'en-GB', qps: 'en-GB' };
  function tag(lang) { return LOCALES[lang] || String(lang || 'sq').replace(/_/g, '-'); }
  var cache = {};

  /* Numbers only from Intl (a browser may lack a language's names: Chromium builds without Albanian
   * month names exist); the month's name comes from the server's Babel (`months`), else from Intl. */
  function formatter(lang, zone, withDate, named) {
    var name = lang + '|' + zone + '|' + withDate + '|' + named;
    if (!cache[name]) {
      var options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
      if (withDate) { options.day = 'numeric'; options.month = named ? 'short' : 'numeric'; options.year = 'numeric'; }
      try {
        if (zone) options.timeZone = zone;
        cache[name] = new Intl.DateTimeFormat(tag(lang), options);
      } catch (e) {
        delete options.timeZone;  // an unknown zone: the browser's own rather than nothing
        cache[name] = new Intl.DateTimeFormat(tag(lang), options);
      }
    }
    return cache[name];
  }

  function parts(value, lang, zone, withDate, named) {
    var date = value instanceof Date ? value : new Date(value);
    if (isNaN(date.getTime())) return null;
    var found = {};
    formatter(lang, zone, withDate, named).formatToParts(date).forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  /* "d MMM y, HH:mm": the day, the month's short name in the language, the year, a 24-hour time.
   * `months`: the twelve short names (Babel's, from the page's config). */
  function dateTime(value, lang, zone, months) {
    var named = !(months && months.length === 12);
    var p = value == null || value === '' ? null : parts(value, lang, zone, true, named);
    if (!p) return '–';
    var month = named ? p.month.replace(/\.$/, '') : months[Number(p.month) - 1];
    return Number(p.day) + ' ' + month + ' ' + p.year + ', ' + p.hour + ':' + p.minute;
  }

  /* "HH:mm" for a message of today's conversation. */
  function time(value, lang, zone) {
    var p = value == null ? null : parts(value, lang, zone, false, false);
    return p ? p.hour + ':' + p.minute : '';
  }

  /* ngettext for a staff page, by the locale's CLDR plural rule (plural.js, ADR 0039):
   * var _n = HelplineL10n.ngettext(CONFIG); _n('{count} referral.', '{count} referrals.', 3). */
  function ngettext(config) {
    var form = HelplinePlural.translator(config);
    return function (singular, plural, count) { return form(singular, plural, count).replace('{count}', String(count)); };
  }

  return { dateTime: dateTime, time: time, ngettext: ngettext };
}());
