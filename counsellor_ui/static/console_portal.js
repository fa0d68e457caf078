/* The officers' portal at /referrals: after the console's sign-in (console_auth.js), the agency's
 * referrals by urgency and deadline; one referral read and decrypted here, then acknowledged,
 * acted on, asked about, returned or closed. Every text the officer writes is sealed here under
 * the referral key. A print view shows one referral with no navigation (console.css, @media print). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var $ = C.$;
  var _ = C._;
  var _n = C._n;
  var API = '/referrals/api/referrals';
  var open = null;   // {id, read, key}

  function showList(focus) {
    $('referral-view').hidden = true;
    document.body.classList.remove('print-view');
    $('screen-referrals').hidden = false;
    open = null;
    return C.get(API).then(function (data) {
      var body = $('portal-list').tBodies[0];
      body.textContent = '';
      data.referrals.forEach(function (item) {
        var row = document.createElement('tr');
        row.setAttribute('data-referral', item.id);
        row.className = 'urgency-' + item.urgency + (item.state === 'closed' ? ' closed' : '');
        var overdue = item.state === 'sent' && item.ack_deadline_at && new Date(item.ack_deadline_at) < new Date();
        [R.label('urgency', item.urgency), R.label('state', item.state), R.when(item.sent_at),
          R.when(item.ack_deadline_at) + (overdue ? ' · ' + _('overdue') : ''), R.label('category', item.chi_category)]
          .forEach(function (text) { row.appendChild(R.el('td', text)); });
        var cell = document.createElement('td');
        var button = R.el('button', _('Open'));
        button.type = 'button';
        button.setAttribute('data-open', item.id);
        button.setAttribute('aria-label', _('Open the {urgency} referral sent {when}')
          .replace('{urgency}', R.label('urgency', item.urgency).toLowerCase()).replace('{when}', R.when(item.sent_at)));
        button.addEventListener('click', function () { openReferral(item.id, false); });
        cell.appendChild(button);
        row.appendChild(cell);
        body.appendChild(row);
      });
      $('portal-empty').hidden = data.referrals.length > 0;
      $('portal-list').hidden = data.referrals.length === 0;
      $('portal-status').textContent = _n('{count} referral.', '{count} referrals.', data.referrals.length);
      if (focus) $('portal-title').focus();
    }).catch(function (error) { $('portal-status').textContent = error.message; });
  }

  function openReferral(id, print) {
    $('referral-error').textContent = '';
    return C.get(API + '/' + encodeURIComponent(id) + (print ? '?purpose=print' : '')).then(function (read) {
      var key = null;
      try { key = R.keyOf(read); } catch (e) { key = null; }
      open = { id: id, read: read, key: key };
      $('screen-referrals').hidden = true;
      $('referral-view').hidden = false;
      $('referral-title').textContent = _('{urgency} referral').replace('{urgency}', R.label('urgency', read.urgency));
      R.drawMeta($('referral-meta'), read);
      if (key) R.drawContent($('referral-content'), key, read.content);
      else {
        $('referral-content').textContent = '';
        $('referral-content').appendChild(R.el('dd', _('Your key was added after this referral was sent. Ask the helpline to open it once so that it is passed on to you.')));
      }
      R.drawConsent($('referral-consent'), read.consent);
      R.drawEvents($('referral-events'), read, key);
      var base = API + '/' + encodeURIComponent(id);
      // Other agencies on the referral and the thread they share (console_refthread.js).
      var thread = C.refThread.draw($('referral-events'), read, base, 'portal',
        function () { return openReferral(id, false); });
      drawActions(read.state, !!key);
      C.follow.drawPlan(read);
      document.body.classList.toggle('print-view', !!print);
      $('referral-print').textContent = print ? _('Print') : _('Print view');
      $('referral-back').textContent = print ? _('Leave the print view') : _('Back to the list');
      $('referral-title').focus();
      return Promise.all([R.passOnKey(read, key, base), thread]);
    }).catch(function (error) { $('referral-error').textContent = error.message; });
  }

  function drawActions(state, haveKey) {
    var working = state === 'acknowledged' || state === 'in_progress';
    $('referral-acknowledge').hidden = state !== 'sent';
    $('action-form').hidden = !working || !haveKey;
    $('close-form').hidden = !working;
    $('question-form').hidden = !haveKey || state === 'closed' || state === 'returned';
    $('return-form').hidden = state !== 'sent' && state !== 'acknowledged';
  }

  /* Runs one step, then reads the referral again so its history shows the step. */
  function step(path, body, done) {
    $('referral-error').textContent = '';
    var id = open.id;
    return C.post(API + '/' + encodeURIComponent(id) + '/' + path, body).then(function () {
      return openReferral(id, false);
    }).then(function () {
      $('referral-status').textContent = done;
    }).catch(function (error) { $('referral-error').textContent = error.message; });
  }

  function sealed(id) {
    var text = $(id).value.trim();
    return text ? R.sealText(open.key, text) : null;
  }

  $('referral-acknowledge').addEventListener('click', function () {
    step('acknowledge', {}, _('You acknowledged the referral. The helpline sees it.'));
  });
  $('action-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var body = sealed('action-body');
    if (!body) { $('referral-error').textContent = _('Write what was done.'); $('action-body').focus(); return; }
    step('actions', { kind: $('action-kind').value, body: body }, _('The action was recorded.'))
      .then(function () { $('action-body').value = ''; });
  });
  $('question-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var body = sealed('question-body');
    if (!body) { $('referral-error').textContent = _('Write your question.'); $('question-body').focus(); return; }
    step('questions', { body: body }, _('Your question was sent to the helpline.'))
      .then(function () { $('question-body').value = ''; });
  });
  $('close-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var body = open.key ? sealed('close-body') : null;
    var support = C.follow.closeExtras();  // which support the child received (issue 19)
    if (!support) return;
    step('close', { outcome: $('close-outcome').value, body: body, support: support.support,
      none_reason: support.none_reason }, _('The referral is closed.'))
      .then(function () { $('close-body').value = ''; });
  });
  $('return-form').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!window.confirm(_('Return this referral to the helpline as not yours?'))) return;
    var body = open.key ? sealed('return-body') : null;
    step('return', { reason: $('return-reason').value, body: body }, _('The referral went back to the helpline.'));
  });
  $('referral-back').addEventListener('click', function () {
    if (document.body.classList.contains('print-view')) openReferral(open.id, false);
    else showList(true);
  });
  $('referral-print').addEventListener('click', function () {
    if (document.body.classList.contains('print-view')) window.print();
    else openReferral(open.id, true);
  });

  C.hook('working', function (me) {
    $('portal-wrong-role').hidden = me.role === 'officer';
    R.fillSelect($('action-kind'), C.CONFIG.action_kinds, 'action');
    R.fillSelect($('close-outcome'), C.CONFIG.outcomes, 'outcome');
    R.fillSelect($('return-reason'), C.CONFIG.return_reasons, 'reason');
  });
  C.hook('view', function (view) {
    if (view === 'referrals') showList(false);
    else $('referral-view').hidden = true;
  });
  // The list refreshes by itself while the officer looks at it; a focused Open button keeps the focus.
  setInterval(function () {
    if (!C.me() || C.me().role !== 'officer' || $('screen-referrals').hidden || document.hidden) return;
    var focused = document.activeElement && document.activeElement.getAttribute('data-open');
    showList(false).then(function () {
      var again = focused && document.querySelector('#portal-list button[data-open="' + focused + '"]');
      if (again) again.focus();
    });
  }, 30000);
  C.portal = { showList: showList, openReferral: openReferral, step: step,
    current: function () { return open; } };
}());
