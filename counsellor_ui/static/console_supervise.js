/* Working together: transfer, ask a supervisor, grant a supervisor the key, block, status, and
 * the supervisor's view. Keys are wrapped here, in the browser, and only for colleagues whose key
 * the pinned org key signed (docs/encryption.md). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var _n = C._n;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function verifiedKey(card) {
    var publicKey;
    try { publicKey = W.b64uDecode(card.public_key); } catch (e) { return null; }
    return W.verifyStaffKey(C.ORG_KEY, card.id, publicKey, card.signature, W.CHAT_ROLES) ? publicKey : null;
  }

  function wrapFor(chat, card) {
    var publicKey = verifiedKey(card);
    if (!publicKey) throw new Error(_('This colleague’s key could not be checked. Nothing was shared.'));
    return W.wrapKey(chat.key, W.sharedKey(publicKey, C.secretKey()));
  }

  function sealNote(chat, text) {
    return W.seal(chat.key, W.pad(W.utf8(JSON.stringify({ v: 1, conv: chat.conv, kind: 'handover', text: text }))));
  }

  function failed(chat, error) {
    C.note(chat, (error && error.message) || _('That did not work. Try again.'));
  }

  // -- chat actions --------------------------------------------------------------------------

  function transferForm(chat) {
    var area = chat.panel.querySelector('.team-area');
    area.textContent = '';
    var form = el('form', { 'class': 'transfer-form' });
    var id = 'transfer-to-' + chat.conv;
    form.appendChild(el('label', { 'for': id }, _('Hand this chat to')));
    var select = el('select', { id: id });
    select.appendChild(el('option', { value: 'queue' }, _('Back to the queue')));
    form.appendChild(select);
    var noteId = 'transfer-note-' + chat.conv;
    form.appendChild(el('label', { 'for': noteId }, _('Handover note (only staff can read it)')));
    var noteBox = el('textarea', { id: noteId, rows: '2', maxlength: '2000' });
    form.appendChild(noteBox);
    var go = el('button', { type: 'submit' }, _('Transfer'));
    var cancel = el('button', { type: 'button', 'class': 'secondary' }, _('Cancel'));
    form.appendChild(go);
    form.appendChild(cancel);
    area.appendChild(form);
    var cards = {};
    C.get('/console/api/colleagues').then(function (data) {
      data.staff.forEach(function (card) {
        if (card.id === C.me().id || card.role !== 'counsellor' && card.role !== 'supervisor') return;
        cards[card.id] = card;
        var label = card.name + ' (' + card.held + '/' + card.max + ')';
        select.appendChild(el('option', { value: card.id }, label));
      });
    }).catch(function (error) { failed(chat, error); });
    select.focus();
    cancel.addEventListener('click', function () { area.textContent = ''; chat.panel.querySelector('.transfer').focus(); });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!chat.key) { failed(chat, new Error(_('The conversation key is not open yet.'))); return; }
      var frame = { type: 'transfer', conv: chat.conv, to: select.value };
      try {
        if (select.value !== 'queue') frame.key = wrapFor(chat, cards[select.value]);
        if (noteBox.value.trim()) frame.note = sealNote(chat, noteBox.value.trim());
      } catch (error) { failed(chat, error); return; }
      go.disabled = true;
      C.request(frame).then(function () { area.textContent = ''; }).catch(function (error) {
        go.disabled = false;
        failed(chat, error);
      });
    });
  }

  function blockForm(chat) {
    var area = chat.panel.querySelector('.team-area');
    area.textContent = '';
    var form = el('form', { 'class': 'block-form' });
    var id = 'block-reason-' + chat.conv;
    form.appendChild(el('label', { 'for': id }, _('Why block this contact?')));
    var select = el('select', { id: id });
    [['abusive', _('Abusive language')], ['threats', _('Threats')], ['sexual', _('Sexual messages')],
      ['prank', _('Repeated pranks')], ['other', _('Other')]].forEach(function (pair) {
      select.appendChild(el('option', { value: pair[0] }, pair[1]));
    });
    form.appendChild(select);
    form.appendChild(el('p', {}, window.HelplineFmt(
      _('The chat ends and this resume code cannot start new chats. The child is told calmly and given %(helpline)s.'),
      C.CONFIG.numbers)));
    form.appendChild(el('button', { type: 'submit' }, _('Block and end')));
    var cancel = el('button', { type: 'button', 'class': 'secondary' }, _('Cancel'));
    form.appendChild(cancel);
    area.appendChild(form);
    select.focus();
    cancel.addEventListener('click', function () { area.textContent = ''; });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      C.request({ type: 'block', conv: chat.conv, reason: select.value })
        .then(function () { area.textContent = ''; }).catch(function (error) { failed(chat, error); });
    });
  }

  C.hook('panel', function (chat) {
    var panel = chat.panel;
    panel.querySelector('.transfer').addEventListener('click', function () { transferForm(chat); });
    panel.querySelector('.block').addEventListener('click', function () { blockForm(chat); });
    panel.querySelector('.ask-supervisor').addEventListener('click', function () {
      C.request({ type: 'ask_supervisor', conv: chat.conv, kind: 'help' }).then(function () {
        C.note(chat, _('Supervisors were asked to help. You stay in the chat.'));
      }).catch(function (error) { failed(chat, error); });
    });
  });

  /* A supervisor answered our alert: wrap the key for them, once their key checks out. */
  C.on('join_request', function (frame) {
    var chat = C.chats[frame.conv];
    if (!chat || !chat.key) return;
    var wrapped;
    try { wrapped = wrapFor(chat, frame.supervisor); } catch (error) { failed(chat, error); return; }
    C.request({ type: 'grant', conv: chat.conv, to: frame.supervisor.id, key: wrapped }).then(function () {
      C.note(chat, _('{name} (supervisor) can now read and write in this chat.').replace('{name}', frame.supervisor.name));
    }).catch(function (error) { failed(chat, error); });
  });

  // -- status --------------------------------------------------------------------------------

  $('my-status').addEventListener('change', function () {
    C.request({ type: 'status', status: $('my-status').value }).catch(function () {});
  });
  C.hook('hello', function (frame) {
    if (frame.staff && frame.staff.status) $('my-status').value = frame.staff.status;
    $('alerts-bar').hidden = !frame.staff || frame.staff.role !== 'supervisor';
    (frame.alerts || []).forEach(addAlert);
  });

  // -- supervisor view -------------------------------------------------------------------------

  var alerts = {};
  var team = [];

  function addAlert(frame) {
    if (alerts[frame.alert]) return;
    var item = el('li', { 'data-alert': String(frame.alert), 'class': 'alert-' + frame.kind });
    var what = frame.kind === 'emergency' ? _('Emergency') : _('Help asked');
    var who = frame.from || (frame.waiting ? _('A waiting child') : '');
    item.appendChild(el('span', {}, what + ': ' + who + ' '));
    var join = el('button', { type: 'button', 'data-join': String(frame.alert) },
      frame.waiting ? _('Accept') : _('Join the chat'));
    join.addEventListener('click', function () {
      // A waiting child said "I am in danger now" (ADR 0027): nobody holds the chat yet, take it.
      if (frame.waiting) { C.showView('work'); return C.accept(frame.conv, {}); }
      join.disabled = true;
      C.request({ type: 'join', alert: frame.alert }).catch(function (error) {
        join.disabled = false;
        $('alerts-status').textContent = error.message || '';
      });
    });
    item.appendChild(join);
    alerts[frame.alert] = item;
    $('alerts').appendChild(item);
    $('alerts-empty').hidden = true;
    $('alerts-status').textContent = what + ': ' + (frame.from || '');
  }

  C.on('alert', addAlert);
  C.on('alert_handled', function (frame) {
    var item = alerts[frame.alert];
    if (!item) return;
    item.remove();
    delete alerts[frame.alert];
    $('alerts-empty').hidden = Object.keys(alerts).length > 0;
  });

  function cell(row, text) { row.appendChild(el('td', {}, text == null || text === '' ? '–' : String(text))); }
  function minutes(seconds) { return seconds == null ? '' : _('{minutes} min').replace('{minutes}', Math.round(seconds / 60)); }

  function drawLive(chats) {
    var body = $('live-chats').tBodies[0];
    body.textContent = '';
    chats.forEach(function (chat) {
      var row = el('tr', chat.long_wait ? { 'class': 'long-wait' } : {});
      cell(row, chat.state === 'queued' ? (chat.long_wait ? _('Waiting long') : _('Waiting')) : _('Active'));
      cell(row, chat.urgency === 2 ? _('In danger now') : chat.urgency === 1 ? _('Urgent') : _('Normal'));
      cell(row, chat.counsellor);
      cell(row, minutes(chat.waited_seconds));
      cell(row, minutes(chat.active_seconds));
      var td = el('td');
      if (chat.state === 'queued') {
        var id = 'assign-' + chat.conv;
        var select = el('select', { id: id, 'aria-label': _('Assign to') });
        team.filter(function (m) { return m.has_key && m.held < m.max; }).forEach(function (m) {
          select.appendChild(el('option', { value: m.id }, m.name));
        });
        var button = el('button', { type: 'button' }, _('Assign'));
        button.addEventListener('click', function () {
          C.request({ type: 'assign', conv: chat.conv, to: select.value }).then(refresh).catch(function (error) {
            $('alerts-status').textContent = error.message || '';
          });
        });
        td.appendChild(select);
        td.appendChild(button);
      } else if (chat.holder_gone) {
        // The counsellor's console has been gone a while: take the chat, or give it back to the queue
        // (ADR 0027); the child's page wraps the key for whoever answers next.
        [['me', _('Take over')], ['queue', _('Return to the queue')]].forEach(function (pair) {
          var act = el('button', { type: 'button', 'data-take-over': pair[0] }, pair[1]);
          act.addEventListener('click', function () {
            C.request({ type: 'take_over', conv: chat.conv, to: pair[0] }).then(refresh).catch(function (error) {
              $('alerts-status').textContent = error.message || '';
            });
          });
          td.appendChild(act);
        });
      }
      row.appendChild(td);
      body.appendChild(row);
    });
  }

  var STATUS = { available: _('Available'), busy: _('Busy'), 'break': _('On a break') };

  function drawTeam(members) {
    var body = $('team').tBodies[0];
    body.textContent = '';
    members.forEach(function (member) {
      var row = el('tr');
      cell(row, member.name);
      cell(row, STATUS[member.status] || member.status);
      cell(row, member.held);
      var td = el('td');
      var input = el('input', { type: 'number', min: '1', max: '10', value: String(member.max),
        'aria-label': _('Most chats at once for {name}').replace('{name}', member.name) });
      var save = el('button', { type: 'button' }, _('Save'));
      save.addEventListener('click', function () {
        C.post('/console/api/staff/' + member.staff_id + '/max-chats', { max_chats: Number(input.value) })
          .then(refresh).catch(function (error) { $('alerts-status').textContent = error.message; });
      });
      td.appendChild(input);
      td.appendChild(save);
      row.appendChild(td);
      body.appendChild(row);
    });
  }

  var timer = null;

  function refresh() {
    return C.get('/console/api/supervise').then(function (data) {
      team = data.team;
      drawTeam(data.team);
      drawLive(data.chats);
      drawLongWaits(data);
    }).catch(function () {});
  }

  /* Long waits are an alert too, shown in the alert bar whatever the supervisor is looking at. */
  function drawLongWaits(data) {
    var waiting = data.chats.filter(function (chat) { return chat.long_wait; }).length;
    var line = $('long-waits');
    var text = waiting ? _n('{count} child has waited longer than {minutes} minutes.',
      '{count} children have waited longer than {minutes} minutes.', waiting).replace('{minutes}', data.long_wait_minutes) : '';
    if (line.textContent !== text) line.textContent = text;
  }

  /* A flood leaves many chats in which nobody wrote: one action ends those that waited a minute
   * or more (a child who just arrived is left alone); they would leave by themselves later. */
  $('clear-empty').addEventListener('click', function () {
    var button = $('clear-empty');
    button.disabled = true;
    C.post('/console/api/supervise/clear-empty', { waited_seconds: 60 }).then(function (data) {
      $('clear-empty-status').textContent = _n('{count} waiting chat with no message was closed.',
        '{count} waiting chats with no message were closed.', data.cleared);
      return refresh();
    }).catch(function (error) {
      $('clear-empty-status').textContent = error.message || '';
    }).then(function () { button.disabled = false; });
  });

  var watchTimer = null;
  C.hook('hello', function (frame) {
    clearInterval(watchTimer);
    if (frame.staff && frame.staff.role === 'supervisor') {
      refresh();
      watchTimer = setInterval(refresh, 15000);
    }
  });

  C.hook('view', function (view) {
    clearInterval(timer);
    if (view === 'supervise') { refresh(); timer = setInterval(refresh, 5000); }
  });
  C.on('team_changed', function () { if (!$('screen-supervise').hidden) refresh(); });
  C.on('queue', function () { if (!$('screen-supervise').hidden) refresh(); });
}());
