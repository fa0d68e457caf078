/* Admin pages (staff accounts, canned replies, opening hours and limits) and, for counsellors,
 * canned replies in a chat's composer: type /shortcut and press Tab, or pick one from the list;
 * the text stays editable before it is sent. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var $ = C.$;
  var _ = C._;
  var ROLES = { counsellor: _('Counsellor'), supervisor: _('Supervisor'), officer: _('Officer'),
    manager: _('Manager'), admin: _('Admin') };
  var replies = [];   // canned replies, for the composer

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  /* The accessible name starts with the visible text (WCAG 2.5.3) and names what it acts on. */
  function button(text, what, onClick, kind) {
    var node = el('button', text, what ? { type: 'button', 'aria-label': text + ' (' + what + ')' } : { type: 'button' });
    node.className = kind || 'secondary';
    node.addEventListener('click', onClick);
    return node;
  }

  function say(text, kind) {
    var box = $('admin-result');
    box.textContent = '';
    box.className = 'result ' + (kind || '');
    (Array.isArray(text) ? text : [text]).forEach(function (line) { box.appendChild(el('p', line)); });
  }

  function failed(error) { say(error.message, 'error'); }

  function send(path, body, method) { return C.post(path, body || {}, method); }

  // -- staff accounts ------------------------------------------------------------------------

  var agencies = [];

  function fillSelect(select, options, current) {
    select.textContent = '';
    options.forEach(function (option) {
      var node = el('option', option[1], { value: option[0] });
      if (option[0] === current) node.selected = true;
      select.appendChild(node);
    });
  }

  function roleOptions(roles) { return roles.map(function (r) { return [r, ROLES[r] || r]; }); }

  function agencyOptions() {
    return [['', _('No agency')]].concat(agencies.map(function (a) { return [a.code, a.name]; }));
  }

  function loadStaff() {
    return C.get('/console/api/admin/staff').then(function (data) {
      agencies = data.agencies;
      fillSelect($('new-role'), roleOptions(data.roles), 'counsellor');
      fillSelect($('new-agency'), agencyOptions(), '');
      var body = $('staff-table').tBodies[0];
      body.textContent = '';
      data.staff.forEach(function (member) { body.appendChild(staffRow(member, data.roles)); });
    });
  }

  function staffRow(member, roles) {
    var row = el('tr');
    row.setAttribute('data-username', member.username);
    row.appendChild(el('td', member.username));
    row.appendChild(el('td', member.name));
    row.appendChild(el('td', member.child_name || _('(the word “Counsellor”)')));
    var roleCell = el('td');
    var roleId = 'role-' + member.id;
    var roleLabel = el('label', _('Role of {name}').replace('{name}', member.username), { for: roleId });
    roleLabel.className = 'visually-hidden';
    var role = el('select', null, { id: roleId });
    fillSelect(role, roleOptions(roles), member.role);
    var agencyLabel = el('label', _('Agency of {name}').replace('{name}', member.username), { for: 'agency-' + member.id });
    agencyLabel.className = 'visually-hidden';
    var agency = el('select', null, { id: 'agency-' + member.id });
    fillSelect(agency, agencyOptions(), member.agency || '');
    agency.hidden = member.role !== 'officer';
    role.addEventListener('change', function () { agency.hidden = role.value !== 'officer'; });
    roleCell.appendChild(roleLabel);
    roleCell.appendChild(role);
    roleCell.appendChild(agencyLabel);
    roleCell.appendChild(agency);
    row.appendChild(roleCell);
    var state = [member.disabled ? _('Disabled') : _('Active')];
    if (member.locked) state.push(_('Locked'));
    row.appendChild(el('td', state.join(', ')));
    row.appendChild(el('td', member.totp ? _('Set up') : _('Not yet')));
    row.appendChild(el('td', { none: _('None yet'), pending: _('Waiting for the org signature'),
      signed: _('Signed') }[member.key]));
    var actions = el('td');
    actions.className = 'row-actions';
    if (!member.self) {
      actions.appendChild(button(_('Save role'), member.username,
        function () {
          send('/console/api/admin/staff/' + member.id + '/role', { role: role.value, agency: agency.value || null })
            .then(function () { say(_('The role of {name} was changed.').replace('{name}', member.username)); })
            .then(loadStaff).catch(failed);
        }));
      actions.appendChild(button(_('Name for children'), member.username, function () {
        var name = window.prompt(_('The first name children see for {name} (empty: the word “Counsellor”):')
          .replace('{name}', member.username), member.child_name || '');
        if (name === null) return;
        send('/console/api/admin/staff/' + member.id + '/child-name', { child_name: name.trim() || null })
          .then(loadStaff).catch(failed);
      }));
      var disable = !member.disabled;
      actions.appendChild(button(disable ? _('Disable') : _('Enable'),
        member.username, function () {
          send('/console/api/admin/staff/' + member.id + '/disabled', { disabled: disable })
            .then(loadStaff).catch(failed);
        }));
      actions.appendChild(button(_('Reset'), member.username, function () {
        if (!window.confirm(_('Reset {name}? They get a one-time password, set up their authenticator app and key again, and lose access to their earlier conversations.').replace('{name}', member.username))) return;
        send('/console/api/admin/staff/' + member.id + '/reset').then(function (answer) {
          say([_('One-time password for {name} (shown once): {password}').replace('{name}', answer.username)
            .replace('{password}', answer.password), answer.notice]);
        }).then(loadStaff).catch(failed);
      }));
    }
    if (member.locked) {
      actions.appendChild(button(_('Lift lock'), member.username,
        function () {
          send('/console/api/admin/staff/' + member.id + '/unlock')
            .then(function () { say(_('{name} can sign in again.').replace('{name}', member.username)); })
            .then(loadStaff).catch(failed);
        }));
    }
    row.appendChild(actions);
    return row;
  }

  function createStaff(event) {
    event.preventDefault();
    $('staff-create-error').textContent = '';
    send('/console/api/admin/staff', {
      username: $('new-username').value.trim(), name: $('new-name').value.trim(), role: $('new-role').value,
      agency: $('new-agency').value || null, locale: $('new-locale').value,
      child_name: $('new-child-name').value.trim() || null
    }).then(function (answer) {
      $('new-username').value = '';
      $('new-name').value = '';
      $('new-child-name').value = '';
      say(_('Account {name} created. One-time password (shown once): {password}').replace('{name}', answer.username)
        .replace('{password}', answer.password));
      return loadStaff();
    }).catch(function (error) { $('staff-create-error').textContent = error.message; });
  }

  // -- canned replies ------------------------------------------------------------------------

  function loadCanned() {
    return C.get('/console/api/admin/canned').then(function (data) {
      var body = $('canned-table').tBodies[0];
      body.textContent = '';
      data.replies.forEach(function (reply) {
        var row = el('tr');
        row.appendChild(el('td', reply.locale));
        row.appendChild(el('td', '/' + reply.shortcut));
        row.appendChild(el('td', reply.title));
        row.appendChild(el('td', reply.body));
        var actions = el('td');
        actions.className = 'row-actions';
        actions.appendChild(button(_('Edit'), '/' + reply.shortcut,
          function () { editCanned(reply); }));
        actions.appendChild(button(_('Delete'), '/' + reply.shortcut,
          function () {
            if (!window.confirm(_('Delete this canned reply?'))) return;
            send('/console/api/admin/canned/' + reply.id, {}, 'DELETE').then(loadCanned).catch(failed);
          }));
        row.appendChild(actions);
        body.appendChild(row);
      });
    });
  }

  function editCanned(reply) {
    $('canned-id').value = reply ? reply.id : '';
    $('canned-locale').value = reply ? reply.locale : C.CONFIG.lang;
    $('canned-shortcut').value = reply ? reply.shortcut : '';
    $('canned-title-input').value = reply ? reply.title : '';
    $('canned-body').value = reply ? reply.body : '';
    $('canned-form-title').textContent = reply ? _('Edit canned reply') : _('New canned reply');
    $('canned-cancel').hidden = !reply;
    if (reply) $('canned-shortcut').focus();
  }

  function saveCanned(event) {
    event.preventDefault();
    $('canned-error').textContent = '';
    var id = $('canned-id').value;
    send('/console/api/admin/canned' + (id ? '/' + id : ''), {
      locale: $('canned-locale').value, shortcut: $('canned-shortcut').value.trim(),
      title: $('canned-title-input').value.trim(), body: $('canned-body').value
    }, id ? 'PUT' : 'POST').then(function () {
      say(_('The canned reply was saved.'));
      editCanned(null);
      return loadCanned();
    }).catch(function (error) { $('canned-error').textContent = error.message; });
  }

  // -- opening hours and limits --------------------------------------------------------------

  function showSettings(data) {
    var hours = data.overridden.indexOf('opening_hours') >= 0 ? data.opening_hours : '';
    var limit = data.overridden.indexOf('max_chats') >= 0 ? data.max_chats : '';
    $('setting-hours').value = hours;
    $('setting-max-chats').value = limit;
    $('settings-defaults').textContent = _('Now: open {hours} ({zone}), {count} chats at once. Server defaults: {default_hours}, {default_count}.')
      .replace('{hours}', data.opening_hours).replace('{zone}', data.timezone).replace('{count}', data.max_chats)
      .replace('{default_hours}', data.defaults.opening_hours).replace('{default_count}', data.defaults.max_chats);
  }

  function loadSettings() { return C.get('/console/api/admin/settings').then(showSettings); }

  function saveSettings(event) {
    event.preventDefault();
    $('settings-error').textContent = '';
    var limit = $('setting-max-chats').value.trim();
    send('/console/api/admin/settings', {
      opening_hours: $('setting-hours').value.trim() || null, max_chats: limit ? Number(limit) : null
    }).then(function (data) {
      showSettings(data);
      say(_('The settings were saved.'));
    }).catch(function (error) { $('settings-error').textContent = error.message; });
  }

  // -- canned replies in a chat's composer ---------------------------------------------------

  function pick(shortcut) {
    var order = [C.CONFIG.lang].concat(C.CONFIG.languages || []);
    var found = replies.filter(function (r) { return r.shortcut === shortcut; });
    found.sort(function (a, b) { return order.indexOf(a.locale) - order.indexOf(b.locale); });
    return found[0] || null;
  }

  function insert(box, reply, from) {
    var end = box.selectionEnd;
    var start = from == null ? box.selectionStart : from;
    box.value = box.value.slice(0, start) + reply.body + box.value.slice(end);
    var caret = start + reply.body.length;
    box.setSelectionRange(caret, caret);
    box.focus();
  }

  function addComposerHelp(chat) {
    var box = chat.panel.querySelector('.compose');
    var composer = chat.panel.querySelector('.composer');
    if (!box || !composer || !replies.length || composer.querySelector('.canned-pick')) return;
    box.addEventListener('keydown', function (event) {
      if (event.key !== 'Tab' || event.shiftKey || box.selectionStart !== box.selectionEnd) return;
      var before = box.value.slice(0, box.selectionStart);
      var match = /(^|\s)\/([a-z0-9][a-z0-9_-]*)$/.exec(before);
      var reply = match && pick(match[2]);
      if (!reply) return;   // an ordinary Tab moves the focus on
      event.preventDefault();
      insert(box, reply, box.selectionStart - match[2].length - 1);
    });
    var id = 'canned-' + chat.conv;
    var wrap = el('div');
    wrap.className = 'canned-pick';
    var label = el('label', _('Canned reply'), { for: id });
    var select = el('select', null, { id: id });
    select.appendChild(el('option', _('Choose…'), { value: '' }));
    replies.forEach(function (reply, index) {
      select.appendChild(el('option', '/' + reply.shortcut + ' — ' + reply.title + ' (' + reply.locale + ')',
        { value: String(index) }));
    });
    var add = button(_('Insert'), null, function () {
      if (select.value === '') return;
      insert(box, replies[Number(select.value)]);
      select.value = '';
    });
    wrap.appendChild(label);
    wrap.appendChild(select);
    wrap.appendChild(add);
    wrap.appendChild(el('p', _('Tip: type /shortcut and press Tab.'), { class: 'hint' }));
    composer.appendChild(wrap);
  }

  C.hook('panel', addComposerHelp);

  C.hook('working', function (me) {
    if (me.role === 'admin') {
      if (!C.showView) $('screen-admin').hidden = false;  // a console without section tabs
      Promise.all([loadStaff(), loadCanned(), loadSettings()]).catch(failed);
    } else {
      C.get('/console/api/canned').then(function (data) {
        replies = data.replies;
        Object.keys(C.chats).forEach(function (conv) { addComposerHelp(C.chats[conv]); });
      }).catch(function () {});
    }
  });

  $('staff-create').addEventListener('submit', createStaff);
  $('canned-form').addEventListener('submit', saveCanned);
  $('canned-cancel').addEventListener('click', function () { editCanned(null); });
  $('settings-form').addEventListener('submit', saveSettings);
}());
