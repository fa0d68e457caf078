/* Dates, times and plural forms for the staff pages (console, portal, cases), in the page's language
 * and the helpline's time zone. The pattern is ours, not the browser's default: "12/5/2026" reads as
 * 12 May to an Albanian officer and 5 December to an English one, so a date always spells its month
 * ("5 dhj 2026, 10:30"). The same pattern is used on the server (helpline/l10n_dates.py, Babel). */
var HelplineL10n = (function () {
  'use strict';

  var LOCALES = { sq: 'sq-AL', en: 'en-GB' };
  var cache = {};

  function formatter(lang, zone, withDate) {
    var name = lang + '|' + zone + '|' + withDate;
    if (!cache[name]) {
      var options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
      if (withDate) { options.day = 'numeric'; options.month = 'short'; options.year = 'numeric'; }
      try {
        if (zone) options.timeZone = zone;
        cache[name] = new Intl.DateTimeFormat(LOCALES[lang] || lang, options);
      } catch (e) {
        delete options.timeZone;  // an unknown zone: the browser's own rather than nothing
        cache[name] = new Intl.DateTimeFormat(LOCALES[lang] || lang, options);
      }
    }
    return cache[name];
  }

  function parts(value, lang, zone, withDate) {
    var date = value instanceof Date ? value : new Date(value);
    if (isNaN(date.getTime())) return null;
    var found = {};
    formatter(lang, zone, withDate).formatToParts(date).forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  /* "d MMM y, HH:mm": the day, the month's short name in the language, the year, a 24-hour time. */
  function dateTime(value, lang, zone) {
    var p = value == null || value === '' ? null : parts(value, lang, zone, true);
    if (!p) return '–';
    return p.day + ' ' + p.month.replace(/\.$/, '') + ' ' + p.year + ', ' + p.hour + ':' + p.minute;
  }

  /* "HH:mm" for a message of today's conversation. */
  function time(value, lang, zone) {
    var p = value == null ? null : parts(value, lang, zone, false);
    return p ? p.hour + ':' + p.minute : '';
  }

  /* The plural form for a count, by the language's rules: plural(2, 'sq', '{count} referim',
   * '{count} referime'). Albanian and English both have one form for 1 and another for the rest. */
  function plural(count, lang, one, other) {
    var form = 'other';
    try { form = new Intl.PluralRules(LOCALES[lang] || lang).select(Number(count)); } catch (e) { form = count === 1 ? 'one' : 'other'; }
    return (form === 'one' ? one : other).replace('{count}', String(count));
  }

  return { dateTime: dateTime, time: time, plural: plural };
}());
