/* Following referrals through (issue 19), in both the portal and the console: the labels of plans,
 * reminders, escalation steps and support; in the portal, the officer's plan (what the agency will
 * do and by when) and the support the child received when closing; in the console, the
 * supervisors' list of everything overdue across agencies. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var $ = C.$;
  var _ = C._;
  var L = R.LABELS;

  L.support = {
    psychological: _('Psychological support'), social: _('Social support'), legal: _('Legal aid'),
    medical: _('Medical care'), police_investigation: _('Police investigation'), court: _('Court proceedings'),
    placement: _('Placement (care or shelter)'), none: _('None')
  };
  L.noneReason = {
    not_needed: _('Not needed'), family_refused: _('The family refused'), child_refused: _('The child refused'),
    child_not_found: _('Child not found'), no_service_available: _('No service available'), other: _('Other')
  };
  L.step = {
    agency: _('The agency’s fallback contact'), supervisors: _('The helpline’s supervisors'),
    state_agency: _('The State Agency')
  };
  L.waiting = { acknowledgement: _('Acknowledgement'), action: _('Action') };

  /* Words for the events this feature adds; null for the others. */
  R.describeMore = function (event) {
    var d = event.detail || {};
    if (event.kind === 'plan') {
      return (d.action ? _('Planned: {action}').replace('{action}', R.label('action', d.action)) : _('Action due'))
        + ' · ' + _('by {when}').replace('{when}', R.when(d.due));
    }
    if (event.kind === 'reminder') return _('Reminder sent: the action date is near');
    if (event.kind === 'escalation' && d.step) {
      return _('Action date missed; told: {whom}').replace('{whom}', R.label('step', d.step));
    }
    if (event.kind === 'support') {
      var kinds = (d.support || []).map(function (code) { return R.label('support', code); }).join(', ');
      return _('Support received: {kinds}').replace('{kinds}', kinds)
        + (d.reason ? ' (' + R.label('noneReason', d.reason) + ')' : '');
    }
    return null;
  };

  /* -- the portal ---------------------------------------------------------------------------- */

  function drawPlan(read) {
    var box = $('plan-box');
    if (!box) return;
    var working = read.state === 'acknowledged' || read.state === 'in_progress';
    box.hidden = !working;
    var plan = read.follow && read.follow.plan;
    $('plan-current').textContent = plan
      ? (plan.action ? R.label('action', plan.action) : _('No action planned yet')) + ' · '
        + _('by {when}').replace('{when}', R.when(plan.due_at))
      : '';
  }

  function checkedSupport() {
    return Array.prototype.filter.call(document.querySelectorAll('#support-kinds input'), function (box) {
      return box.checked;
    }).map(function (box) { return box.value; });
  }

  /* What the close form adds: the support, or null (with a message shown) when it is not complete. */
  function closeExtras() {
    var kinds = checkedSupport();
    var error = null;
    if (!kinds.length) error = _('Say which support the child received, or none and why.');
    else if (kinds.indexOf('none') >= 0 && (kinds.length > 1 || !$('support-none-reason').value)) {
      error = _('\'None\' goes alone, with the reason why.');
    }
    if (error) {
      $('referral-error').textContent = error;
      $('support-kinds').querySelector('input').focus();
      return null;
    }
    return { support: kinds, none_reason: kinds[0] === 'none' ? $('support-none-reason').value : null };
  }

  function fillSupport() {
    var list = $('support-kinds');
    if (!list || list.children.length) return;
    (C.CONFIG.support_kinds || []).forEach(function (code) {
      var item = document.createElement('li');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.value = code;
      box.id = 'support-' + code;
      var text = R.el('label', R.label('support', code));
      text.setAttribute('for', box.id);
      item.appendChild(box);
      item.appendChild(text);
      list.appendChild(item);
    });
    var reason = $('support-none-reason');
    reason.appendChild(new Option('–', ''));
    (C.CONFIG.none_reasons || []).forEach(function (code) { reason.appendChild(new Option(R.label('noneReason', code), code)); });
  }

  if ($('plan-form')) {
    $('plan-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var due = $('plan-due').value;
      if (!due) { $('referral-error').textContent = _('Choose the date.'); $('plan-due').focus(); return; }
      var text = $('plan-body').value.trim();
      var body = { kind: $('plan-kind').value, due: due, body: text ? R.sealText(C.portal.current().key, text) : null };
      C.portal.step('plan', body, _('The plan was recorded.')).then(function () { $('plan-body').value = ''; });
    });
    C.hook('working', function () {
      R.fillSelect($('plan-kind'), C.CONFIG.action_kinds, 'action');
      fillSupport();
    });
  }

  /* -- the console: the supervisors' overdue list --------------------------------------------- */

  function overdueRow(item) {
    var row = document.createElement('tr');
    row.setAttribute('data-overdue', item.id);
    var what = R.label('waiting', item.waiting_for) + (item.action ? ': ' + R.label('action', item.action) : '');
    [R.when(item.since), item.agency_name, what, item.escalated_to ? R.label('step', item.escalated_to) : _('The agency'),
      R.label('urgency', item.urgency)].forEach(function (text) { row.appendChild(R.el('td', text)); });
    var cell = document.createElement('td');
    var button = R.el('button', _('Open'));
    button.type = 'button';
    button.setAttribute('aria-label', _('Open the referral to {agency}').replace('{agency}', item.agency_name));
    button.addEventListener('click', function () { if (C.referralShow) C.referralShow(item.id, true); });
    cell.appendChild(button);
    row.appendChild(cell);
    return row;
  }

  function loadOverdue() {
    return C.get('/console/api/referral-overdue').then(function (data) {
      var body = $('overdue-list').tBodies[0];
      body.textContent = '';
      data.overdue.forEach(function (item) { body.appendChild(overdueRow(item)); });
      $('overdue-list').hidden = data.overdue.length === 0;
      $('overdue-empty').hidden = data.overdue.length > 0;
    }).catch(function (error) { $('overdue-empty').hidden = false; $('overdue-empty').textContent = error.message; });
  }

  if ($('overdue-area')) {
    $('referrals-refresh').addEventListener('click', function () {
      if (!$('overdue-area').hidden) loadOverdue();
    });
    C.hook('view', function (view) {
      var me = C.me && C.me();
      var supervisor = !!me && me.role === 'supervisor';
      $('overdue-area').hidden = !supervisor;
      if (view === 'referrals' && supervisor) loadOverdue();
    });
  }

  C.follow = { drawPlan: drawPlan, closeExtras: closeExtras, loadOverdue: loadOverdue };
}());
