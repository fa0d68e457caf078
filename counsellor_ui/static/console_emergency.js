/* When a life is in danger (issue 9, docs/emergencies.md): one button alerts every supervisor and
 * keeps the counsellor in the chat with the helpline's protocol; an emergency referral is one step
 * away; sharing without the child's consent waits for a second person, a supervisor, whose
 * decision comes back here. Supervisors decide from their alert bar and record the debrief;
 * admins edit the protocol. The server enforces the rule (referral/disclosures.py). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var $ = C.$;
  var _ = C._;
  var protocol = null;

  function loadProtocol() {
    if (protocol) return Promise.resolve(protocol);
    return C.get('/console/api/emergency/protocol').then(function (data) { protocol = data; return data; });
  }

  function clone(id) { return $(id).content.firstElementChild.cloneNode(true); }

  function showProtocol(box, text) {
    box.textContent = '';
    text.split('\n').filter(function (line) { return line.trim(); }).forEach(function (line) {
      box.appendChild(R.el('p', line));
    });
  }

  // -- the counsellor's side ---------------------------------------------------------------------

  function openEmergency(chat) {
    var area = chat.panel.querySelector('.emergency-area');
    var section = area.querySelector('.emergency');
    if (!section) {
      section = clone('emergency-template');
      area.appendChild(section);
      wire(chat, section);
    }
    section.querySelector('.emergency-title').focus();
    var status = section.querySelector('.emergency-status');
    status.textContent = _('Alerting the supervisors…');
    C.request({ type: 'ask_supervisor', conv: chat.conv, kind: 'emergency' }).then(function () {
      status.textContent = _('Every supervisor on duty was alerted. Stay in the chat with the child.');
      C.note(chat, _('Emergency raised. The child was told that a senior colleague is helping.'));
    }).catch(function (error) { status.textContent = error.message || _('That did not work. Try again.'); });
  }

  function wire(chat, section) {
    loadProtocol().then(function (data) {
      showProtocol(section.querySelector('.protocol'), data.protocol);
      var items = section.querySelector('.disclosure-items');
      data.items.forEach(function (code) {
        var label = R.el('label');
        var box = document.createElement('input');
        box.type = 'checkbox';
        box.name = 'items';
        box.value = code;
        label.appendChild(box);
        label.appendChild(document.createTextNode(' ' + R.label('consentItem', code)));
        items.appendChild(label);
      });
    }).catch(function (error) { section.querySelector('.emergency-status').textContent = error.message; });

    section.querySelector('.emergency-referral').addEventListener('click', function () {
      chat.referralUrgency = 'emergency';
      if (C.referralForm) C.referralForm(chat);
    });
    section.querySelector('.emergency-close').addEventListener('click', function () {
      section.remove();
      chat.panel.querySelector('.emergency-button').focus();
    });
    var form = section.querySelector('.disclosure-form');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var chosen = Array.prototype.filter.call(form.querySelectorAll('input[name=items]'), function (box) {
        return box.checked;
      }).map(function (box) { return box.value; });
      var status = form.querySelector('.disclosure-status');
      if (!chosen.length) { status.textContent = _('Choose what would be shared.'); return; }
      var button = form.querySelector('button[type=submit]');
      button.disabled = true;
      C.post('/console/api/conversations/' + encodeURIComponent(chat.conv) + '/disclosures',
        { items: chosen, reason: form.elements.reason.value }).then(function (made) {
        chat.disclosureStatus = status;
        status.textContent = _('Waiting for a supervisor’s decision (request {id}).').replace('{id}', made.id);
      }).catch(function (error) {
        button.disabled = false;
        status.textContent = error.message;
      });
    });
  }

  C.on('disclosure_decided', function (frame) {
    var chat = C.chats[frame.conv];
    if (!chat) return;
    var text = frame.state === 'approved'
      ? _('{name} approved sharing without consent: {items}. Prepare the referral now.')
      : _('{name} refused sharing without consent. Keep working with the child’s consent.');
    text = text.replace('{name}', frame.decided_by).replace('{items}', frame.items.map(function (code) {
      return R.label('consentItem', code);
    }).join(', '));
    if (chat.disclosureStatus) chat.disclosureStatus.textContent = text;
    C.note(chat, text);
  });

  C.hook('panel', function (chat) {
    var actions = chat.panel.querySelector('.chat-actions');
    var button = R.el('button', _('Emergency'), 'emergency-button');
    button.type = 'button';
    actions.insertBefore(button, actions.firstChild);
    var area = R.el('div', null, 'emergency-area');
    chat.panel.insertBefore(area, chat.panel.querySelector('.team-area'));
    button.addEventListener('click', function () { openEmergency(chat); });
  });

  // -- the supervisor's side ---------------------------------------------------------------------

  var requests = {};
  var REASONS = {
    child_life_at_risk: _('the child’s life is at risk'),
    other_life_at_risk: _('someone else’s life is at risk'),
    serious_harm_now: _('the child is being seriously harmed now')
  };

  function addRequest(frame) {
    if (requests[frame.id] || frame.state !== 'pending') return;
    var item = clone('disclosure-alert-template');
    item.setAttribute('data-disclosure', String(frame.id));
    var items = frame.items.map(function (code) { return R.label('consentItem', code); }).join(', ');
    item.querySelector('.what').textContent = _('{name} asks to share without consent ({items}) because {reason}.')
      .replace('{name}', frame.asked_by).replace('{items}', items).replace('{reason}', REASONS[frame.asked_reason] || '');
    var select = item.querySelector('select');
    select.id = 'decision-' + frame.id;
    item.querySelector('.decide').addEventListener('click', function () {
      var parts = select.value.split(':');
      C.post('/console/api/disclosures/' + frame.id + '/decision',
        { approve: parts[0] === 'approve', reason: parts[1] }).catch(function (error) {
        $('alerts-status').textContent = error.message;
      });
    });
    requests[frame.id] = item;
    $('alerts').appendChild(item);
    $('alerts-empty').hidden = true;
    $('alerts-status').textContent = item.querySelector('.what').textContent;
  }

  C.on('disclosure', addRequest);
  C.on('disclosure_decided', function (frame) {
    var item = requests[frame.id];
    if (!item) return;
    item.remove();
    delete requests[frame.id];
    $('alerts-status').textContent = frame.state === 'approved' ? _('Approved.') : _('Refused.');
  });

  function loadRequests() {
    C.get('/console/api/disclosures').then(function (data) { data.disclosures.forEach(addRequest); })
      .catch(function () {});
  }

  function debriefForm() {
    if ($('debrief')) return;
    $('screen-supervise').appendChild(clone('debrief-template'));
    var form = $('debrief-form');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      C.post('/console/api/debriefs', {
        counsellor: form.elements.counsellor.value, wellbeing: form.elements.wellbeing.value
      }).then(function () { $('debrief-status').textContent = _('Recorded. Thank you for checking.'); })
        .catch(function (error) { $('debrief-status').textContent = error.message; });
    });
  }

  /* Colleagues change during a shift (a key enrolled, an account added): re-read on each visit. */
  function fillCounsellors() {
    C.get('/console/api/colleagues').then(function (data) {
      var select = $('debrief-counsellor');
      var chosen = select.value;
      select.textContent = '';
      data.staff.forEach(function (card) {
        if (card.id !== C.me().id) select.appendChild(new Option(card.name, card.id));
      });
      if (chosen) select.value = chosen;
    }).catch(function () {});
  }

  C.hook('view', function (view) { if (view === 'supervise' && $('debrief')) fillCounsellors(); });

  // -- the admin's protocol editor ---------------------------------------------------------------

  function protocolEditor() {
    if ($('protocol-editor')) return;
    $('screen-admin').appendChild(clone('protocol-editor-template'));
    var form = $('protocol-form');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      C.post('/console/api/admin/emergency-protocol', {
        locale: form.elements.locale.value, text: form.elements.text.value
      }).then(function (saved) {
        protocol = null;
        $('protocol-status').textContent = saved.custom ? _('Saved.') : _('Saved: the default text applies.');
      }).catch(function (error) { $('protocol-status').textContent = error.message; });
    });
  }

  C.hook('working', function (me) {
    if (me.role === 'supervisor') { loadRequests(); debriefForm(); }
    if (me.role === 'admin') protocolEditor();
  });
}());
