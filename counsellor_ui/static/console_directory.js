/* Admins: the agency directory (each agency's name, fallback contact, whether it takes referrals,
 * and its officers) and the notices of the mail outbox. The APIs are referral/admin_directory.py
 * and /admin/api/outbox (referral/portal.py); the markup is templates/console/_directory.html. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var $ = C.$;
  var _ = C._;
  var BASE = '/admin/api/agencies';
  var DELIVERY = { pending: _('Waiting to be sent'), sending: _('Sending'), sent: _('Delivered'),
    failed: _('Failed') };
  var agencies = [];
  var accounts = [];
  var current = null;   // the code of the agency being edited

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function when(iso) {
    return C.when(iso);
  }

  // -- the list ---------------------------------------------------------------------------------

  function load() {
    return C.get(BASE).then(function (data) {
      agencies = data.agencies;
      accounts = data.officer_accounts;
      draw();
      if (current) fillOfficers(find(current));
    });
  }

  function find(code) {
    return agencies.filter(function (a) { return a.code === code; })[0] || null;
  }

  function draw() {
    var words = $('directory-filter').value.trim().toLowerCase();
    var body = $('directory-table').tBodies[0];
    body.textContent = '';
    var shown = agencies.filter(function (a) {
      return !words || (a.name + ' ' + (a.county || '') + ' ' + a.code).toLowerCase().indexOf(words) >= 0;
    });
    shown.forEach(function (agency) {
      var row = el('tr', null, { 'data-code': agency.code });
      row.appendChild(el('td', agency.name));
      row.appendChild(el('td', agency.county || '–'));
      row.appendChild(el('td', agency.fallback_email || '–'));
      row.appendChild(el('td', String(agency.officers.length)));
      row.appendChild(el('td', agency.active ? _('Yes') : _('No')));
      var cell = el('td');
      var edit = el('button', _('Edit'), { type: 'button', 'aria-label': _('Edit') + ' (' + agency.name + ')' });
      edit.className = 'secondary';
      edit.addEventListener('click', function () { open(agency.code); });
      cell.appendChild(edit);
      row.appendChild(cell);
      body.appendChild(row);
    });
    $('directory-status').textContent = _('{shown} of {all} agencies shown.')
      .replace('{shown}', String(shown.length)).replace('{all}', String(agencies.length));
  }

  // -- one agency -------------------------------------------------------------------------------

  function open(code) {
    var agency = find(code);
    if (!agency) return;
    current = code;
    $('agency-form-title').textContent = _('Edit {name}').replace('{name}', agency.name);
    $('agency-name').value = agency.name;
    $('agency-email').value = agency.fallback_email || '';
    $('agency-active').checked = agency.active;
    contactInputs().forEach(function (input) {   // the service's public contacts (issue 19)
      input.value = (agency.contacts || {})[input.getAttribute('data-contact')] || '';
    });
    $('agency-error').textContent = '';
    $('officer-error').textContent = '';
    $('agency-form').hidden = false;
    fillOfficers(agency);
    $('agency-officers').hidden = false;
    $('agency-form-title').focus();
  }

  function close() {
    var code = current;
    current = null;
    $('agency-form').hidden = true;
    $('agency-officers').hidden = true;
    var back = code && document.querySelector('#directory-table tr[data-code="' + code + '"] button');
    if (back) back.focus();
  }

  function fillOfficers(agency) {
    if (!agency) return;
    var list = $('officers-list');
    list.textContent = '';
    agency.officers.forEach(function (officer) {
      var item = el('li', null, { 'data-username': officer.username });
      item.appendChild(el('span', officer.name + ' (' + officer.username + ')' +
        (officer.email ? ' · ' + officer.email : '') + (officer.disabled ? ' · ' + _('Disabled') : '')));
      var remove = el('button', _('Remove'), { type: 'button',
        'aria-label': _('Remove') + ' (' + officer.username + ')' });
      remove.className = 'secondary';
      remove.addEventListener('click', function () {
        C.post(BASE + '/' + encodeURIComponent(agency.code) + '/officers/' + encodeURIComponent(officer.id),
          {}, 'DELETE').then(load).then(function () {
          $('officer-error').textContent = '';
          $('directory-status').textContent = _('{name} no longer belongs to this agency.')
            .replace('{name}', officer.username);
          $('officer-username').focus();
        }).catch(function (e) {
          $('officer-error').textContent = e.message;
        });
      });
      item.appendChild(document.createTextNode(' '));
      item.appendChild(remove);
      list.appendChild(item);
    });
    $('officers-empty').hidden = agency.officers.length > 0;
    var select = $('officer-username');
    select.textContent = '';
    accounts.filter(function (a) { return a.agency !== agency.code; }).forEach(function (account) {
      var other = account.agency ? ' · ' + _('now in {agency}').replace('{agency}', account.agency) : '';
      select.appendChild(el('option', account.name + ' (' + account.username + ')' + other,
        { value: account.username }));
    });
    $('officer-add').querySelector('button[type=submit]').disabled = !select.options.length;
  }

  function contactInputs() {
    return Array.prototype.slice.call(document.querySelectorAll('#agency-contacts input[data-contact]'));
  }

  function save(event) {
    event.preventDefault();
    var code = current;
    $('agency-error').textContent = '';
    var contacts = {};
    contactInputs().forEach(function (input) { contacts[input.getAttribute('data-contact')] = input.value.trim() || null; });
    C.post(BASE + '/' + encodeURIComponent(code), {
      name: $('agency-name').value.trim(), fallback_email: $('agency-email').value.trim() || null,
      active: $('agency-active').checked, contacts: contacts
    }, 'PUT').then(load).then(function () {
      close();
      $('directory-status').textContent = _('The agency was saved.');
    }).catch(function (e) { $('agency-error').textContent = e.message; });
  }

  function addOfficer(event) {
    event.preventDefault();
    var code = current;
    $('officer-error').textContent = '';
    C.post(BASE + '/' + encodeURIComponent(code) + '/officers', {
      username: $('officer-username').value, email: $('officer-email').value.trim() || null
    }).then(function (answer) {
      return load().then(function () {
        $('officer-email').value = '';
        $('directory-status').textContent = _('{name} is now an officer of this agency.')
          .replace('{name}', answer.username);
      });
    }).catch(function (e) { $('officer-error').textContent = e.message; });
  }

  // -- notices ----------------------------------------------------------------------------------

  function loadOutbox() {
    return C.get('/admin/api/outbox').then(function (data) {
      $('outbox-mode').textContent = data.mode === 'smtp'
        ? _('Notices go out through the mail server.')
        : _('No mail server is set: notices are written to the outbox folder on the server ({count} files).')
          .replace('{count}', String(data.outbox_files.length));
      var body = $('outbox-table').tBodies[0];
      body.textContent = '';
      data.notices.forEach(function (notice) {
        var row = el('tr');
        row.appendChild(el('td', when(notice.created_at)));
        row.appendChild(el('td', notice.to));
        row.appendChild(el('td', notice.subject));
        row.appendChild(el('td', (DELIVERY[notice.status] || notice.status) +
          (notice.last_error ? ' · ' + notice.last_error : '')));
        row.appendChild(el('td', String(notice.attempts)));
        row.appendChild(el('td', when(notice.sent_at)));
        body.appendChild(row);
      });
      $('outbox-empty').hidden = data.notices.length > 0;
      $('outbox-table').hidden = !data.notices.length;
    });
  }

  function failed(e) { $('directory-status').textContent = e.message; }

  C.hook('working', function (me) {
    if (me.role !== 'admin') return;
    Promise.all([load(), loadOutbox()]).catch(failed);
  });

  $('directory-filter').addEventListener('input', draw);
  $('agency-form').addEventListener('submit', save);
  $('agency-cancel').addEventListener('click', close);
  $('officer-add').addEventListener('submit', addOfficer);
  $('outbox-refresh').addEventListener('click', function () { loadOutbox().catch(failed); });
}());
