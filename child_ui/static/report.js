/* The public report page (/report): a report of illegal content, encrypted in this page to the
 * police cybercrime officers' keys (each checked against the pinned org key) before it leaves,
 * and a check of its status with the code. No account, no storage, no cookie. The formats are in
 * docs/referrals.md; the page is child_ui/templates/report.html. */
(function () {
  'use strict';

  var W = window.HelplineWire;
  var CONFIG = JSON.parse(document.getElementById('helpline-config').textContent);
  var STRINGS = CONFIG.strings || {};
  var ORG_KEY = W.b64uDecode(window.HELPLINE_ORG_KEY);
  var ESCAPE_WINDOW = 1500;
  var escapes = [];
  var sending = false;

  function _(msg) { return STRINGS[msg] || msg; }
  /* A sentence with the pack's numbers in its placeholders (fmt.js, ADR 0038). */
  function withNumbers(text) { return window.HelplineFmt(text, CONFIG.numbers || {}); }
  function $(id) { return document.getElementById(id); }

  function api(path, options) {
    var sep = path.indexOf('?') < 0 ? '?' : '&';
    return fetch(path + sep + 'lang=' + encodeURIComponent(CONFIG.lang), Object.assign({
      credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer'
    }, options || {})).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = new Error(body.error || withNumbers(_('Something went wrong. Please try again, or call %(helpline)s.')));
          error.status = response.status;
          error.body = body;
          throw error;
        }
        return body;
      });
    }, function () {
      throw new Error(_('There is no connection. Check your internet and try again.'));
    });
  }

  function when(iso) {
    var lang = { sq: 'sq-AL', en: 'en-GB', qps: 'en-GB' }[CONFIG.lang] || CONFIG.lang_tag || 'sq-AL';
    return new Date(iso).toLocaleString(lang, { dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23' });
  }

  // -- sending a report -------------------------------------------------------------------------

  /* A fresh report key sealed over the words; wrapped for every reader whose key the pinned org
   * key signed, with a key pair made for this report only. Nothing is sent if one key fails. */
  function encrypt(readers, report) {
    if (!readers.length) throw new Error(withNumbers(_('Reports cannot be sent right now. Please call %(helpline)s.')));
    var key = W.newConversationKey();
    var mine = nacl.box.keyPair();
    try {
      var keys;
      try {
        keys = W.wrapForReaders(ORG_KEY, readers, key, mine.secretKey, W.REPORT_ROLES);
      } catch (e) {
        throw new Error(withNumbers(_('We could not check the police keys, so nothing was sent. Please call %(helpline)s.')));
      }
      keys.forEach(function (item) { item.wrapper_public_key = W.b64uEncode(mine.publicKey); });
      return { content: W.seal(key, W.pad(W.utf8(JSON.stringify(report)))), keys: keys };
    } finally {
      key.fill(0);
      mine.secretKey.fill(0);
    }
  }

  /* Every report carries a small proof of work, harder when many reports arrive (ADR 0020),
   * found by W.solveProof in short slices so the page stays responsive. */
  function solve(challenge) {
    return W.solveProof(challenge.seed, challenge.bits).then(function (nonce) {
      return { seed: challenge.seed, nonce: nonce };
    });
  }

  function post(body, proof, tries) {
    return api('/report/api/reports', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.assign({ pow: proof }, body))
    }).catch(function (exc) {
      // The price rose while we solved: solve the new puzzle and send again.
      if (tries > 0 && exc.body && exc.body.code === 'pow_required' && exc.body.challenge) {
        return solve(exc.body.challenge).then(function (again) { return post(body, again, tries - 1); });
      }
      throw exc;
    });
  }

  function field(name) { return $('report-' + name).value.trim(); }

  function send(event) {
    event.preventDefault();
    if (sending) return;
    var error = $('report-error');
    var checked = document.querySelector('#report-form input[name=kind]:checked');
    var missing = !checked ? ['kind', _('Choose what you saw.')]
      : !field('platform') ? ['platform', _('Write where you saw it.')]
        : !field('link') ? ['link', _('Write the link or the name of the account.')] : null;
    if (missing) {
      error.textContent = missing[1];
      (missing[0] === 'kind' ? document.querySelector('#report-form input[name=kind]') : $('report-' + missing[0])).focus();
      return;
    }
    var report = { v: 1, platform: field('platform'), link: field('link'), what: field('what'),
      contact: field('contact') };
    sending = true;
    error.textContent = '';
    $('report-submit').disabled = true;
    var proof = api('/report/api/challenge').then(solve);
    proof.catch(function () {}); // a failure is reported once, by the chain below
    api('/report/api/readers').then(function (found) {
      var sealed = encrypt(found.readers || [], report);
      return proof.then(function (solved) {
        return post({ kind: checked.value, content: sealed.content, keys: sealed.keys }, solved, 2);
      });
    }).then(function (made) {
      $('report-form').reset();
      $('report-form').hidden = true;
      $('report-code').textContent = made.code;
      $('status-code').value = made.code;
      $('report-sent').hidden = false;
      $('sent-title').focus();
    }).catch(function (exc) {
      error.textContent = exc.message;
    }).then(function () {
      sending = false;
      $('report-submit').disabled = false;
    });
  }

  // -- checking its status ----------------------------------------------------------------------

  function check(event) {
    event.preventDefault();
    var code = $('status-code').value.toUpperCase().replace(/[^A-Z0-9]/g, '');
    var result = $('status-result');
    if (code.length !== 12) {
      result.textContent = _('A code has 12 letters and numbers, like K7QM-4XPD-9RTA.');
      return;
    }
    result.textContent = _('Checking…');
    api('/report/api/reports/' + code.slice(0, 4) + '-' + code.slice(4, 8) + '-' + code.slice(8)).then(function (status) {
      if (status.closed) {
        result.textContent = _('The police saw your report on {date} and have finished their work on it. Thank you.')
          .replace('{date}', when(status.acknowledged_at || status.received_at));
      } else if (status.acknowledged) {
        result.textContent = _('Yes. The police saw your report on {date}.').replace('{date}', when(status.acknowledged_at));
      } else {
        result.textContent = _('Not yet. Your report arrived on {date}. The police will see it soon.')
          .replace('{date}', when(status.received_at));
      }
    }, function (exc) {
      result.textContent = exc.message;
    });
  }

  // -- quick exit -------------------------------------------------------------------------------

  /* Leaves at once: the page is blanked, storage cleared, and this history entry replaced. */
  function quickExit(event) {
    if (event) event.preventDefault();
    document.title = '';
    document.documentElement.textContent = '';
    try {
      sessionStorage.clear();
      localStorage.clear();
    } catch (e) { /* storage disabled: nothing to clear */ }
    location.replace(CONFIG.quick_exit_url);
  }

  function onKey(event) {
    if (event.key !== 'Escape') return;
    var now = Date.now();
    escapes = escapes.filter(function (t) { return now - t < ESCAPE_WINDOW; });
    escapes.push(now);
    if (escapes.length >= 3) quickExit();
  }

  function init() {
    $('quick-exit').addEventListener('click', quickExit);
    document.addEventListener('keydown', onKey);
    document.addEventListener('click', function (event) {
      var link = event.target.closest && event.target.closest('a[data-replace]');
      if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      location.replace(link.href);
    });
    $('report-form').addEventListener('submit', send);
    $('status-form').addEventListener('submit', check);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
