/* Referrals in the console: the referral form on a chat (agency suggested from the child's
 * municipality and the kind of concern; content sealed here under a fresh referral key wrapped
 * for every reader the server names, each checked against the pinned org key), and the tracking
 * list where the counsellor sees every step and answers the agency's questions. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var _n = C._n;
  var taxonomy = null;
  var current = null;   // the referral open in the tracking list: {id, read, key}

  function loadTaxonomy() {
    if (taxonomy) return Promise.resolve(taxonomy);
    return C.get('/console/api/taxonomy').then(function (data) { taxonomy = data; R.setCategories(data); return data; });
  }

  function agencies(municipality, concern) {
    var params = [];
    if (municipality) params.push('municipality=' + encodeURIComponent(municipality));
    if (concern) params.push('concern=' + encodeURIComponent(concern));
    return C.get('/console/api/referral-agencies?' + params.join('&'));
  }

  function fillAgencies(select, list, chosen) {
    select.textContent = '';
    list.forEach(function (agency) {
      var option = new Option(agency.name, agency.code);
      select.appendChild(option);
    });
    if (chosen) select.value = chosen;
  }

  // -- the form on a chat ------------------------------------------------------------------------

  function referralForm(chat) {
    var area = chat.panel.querySelector('.referral-area');
    if (area.querySelector('.referral-form')) { area.querySelector('select').focus(); return; }
    var form = $('referral-form-template').content.firstElementChild.cloneNode(true);
    area.appendChild(form);
    var f = form.elements;
    var municipality = (chat.prechat || {}).municipality || '';
    form.setAttribute('data-municipality', municipality);  // the services finder (console_services.js)

    function suggest() {
      return agencies(municipality, f.concern.value).then(function (data) {
        fillAgencies(f.agency, data.agencies, data.suggested);
        form.querySelector('.suggestion').textContent = data.suggested
          ? _('Suggested: {agency}').replace('{agency}', f.agency.options[f.agency.selectedIndex].text)
          : _('No agency to suggest: choose one.');
        if (C.referralCheck) C.referralCheck.watch(form);  // nobody there to read it? (console_refcheck.js)
        if (C.referralMulti) C.referralMulti.watch(form, data.agencies);  // more agencies (console_refmulti.js)
        return data;
      });
    }

    Promise.all([suggest(), loadTaxonomy()]).then(function (both) {
      var data = both[0];
      var tax = both[1];
      // Nothing chosen for the counsellor: urgency and category are her decision (the emergency flow's is 'emergency').
      f.urgency.appendChild(new Option(_('Choose…'), ''));
      f.chi_category.appendChild(new Option(_('Choose…'), ''));
      data.urgencies.forEach(function (code) { f.urgency.appendChild(new Option(R.label('urgency', code), code)); });
      f.urgency.value = chat.referralUrgency || '';
      tax.categories.forEach(function (cat) {
        var group = document.createElement('optgroup');
        group.label = cat.label;
        cat.sub.forEach(function (sub) { group.appendChild(new Option(sub.label, sub.code)); });
        f.chi_category.appendChild(group);
      });
      Array.prototype.forEach.call(form.querySelectorAll('.share-item select'), function (select) {
        data.consent_bases.forEach(function (code) { select.appendChild(new Option(R.label('consentBasis', code), code)); });
        select.value = 'not_shared';
      });
      f.concern.focus();
    }).catch(function (error) { form.querySelector('.referral-error').textContent = error.message; });
    f.concern.addEventListener('change', suggest);

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var error = form.querySelector('.referral-error');
      var status = form.querySelector('.referral-status');
      error.textContent = '';
      var content = { v: 1 };
      var consent = {};
      var problem = null;
      Array.prototype.forEach.call(form.querySelectorAll('.share-item'), function (block) {
        var item = block.getAttribute('data-item');
        var text = block.querySelector('textarea').value.trim();
        var basis = block.querySelector('select').value;
        consent[item] = basis;
        if (text && basis === 'not_shared' && !problem) problem = block.querySelector('textarea');
        if (text && basis !== 'not_shared') content[block.getAttribute('data-field')] = text;
      });
      if (problem) {
        error.textContent = _('You wrote something that is marked as not shared. Choose how it is shared, or delete it.');
        problem.focus();
        return;
      }
      if (f.tell_child.checked) consent.tell_child_status = 'child_consented';  // issue 19: status for the child
      content.requested_action = f.requested_action.value.trim();
      if (!content.requested_action) {
        error.textContent = _('Write what you ask the agency to do.');
        f.requested_action.focus();
        return;
      }
      var agency = f.agency.value;
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      status.textContent = _('Encrypting and sending…');
      var conversation = chat.earlier ? null : chat.conv;
      var several = C.referralMulti && C.referralMulti.extras(form).length > 0;
      (several ? C.referralMulti.send(form, {
        agency: agency, urgency: f.urgency.value, chi_category: f.chi_category.value, consent: consent,
        content: content, conversation: conversation
      }) : C.get('/console/api/referral-readers?agency=' + encodeURIComponent(agency)).then(function (info) {
        if (C.referralCheck && !C.referralCheck.show(form, info)) throw new Error(C.referralCheck.refusal(info));
        var key = W.newConversationKey();
        return C.post('/console/api/referrals', {
          agency: agency, urgency: f.urgency.value, chi_category: f.chi_category.value, consent: consent,
          content: R.sealText(key, JSON.stringify(content)), keys: R.wrapFor(info.readers, key),
          conversation: conversation
        });
      })).then(function (made) {
        var text = several ? C.referralMulti.sentText(made)
          : _('Referral sent to {agency}. Follow it under Referrals.').replace('{agency}', made.agency_name);
        var done = R.el('p', text, 'referral-sent');
        done.setAttribute('role', 'status');
        done.setAttribute('data-referral', several ? made.referrals[0].id : made.id);
        done.setAttribute('tabindex', '-1');
        area.textContent = '';
        area.appendChild(done);
        area.appendChild(referButton(chat));
        done.focus();
      }).catch(function (e) {
        status.textContent = '';
        error.textContent = e.message;
        button.disabled = false;
      });
    });
  }

  function referButton(chat) {
    var button = R.el('button', _('Refer this case'), 'secondary refer');
    button.type = 'button';
    button.addEventListener('click', function () { referralForm(chat); });
    return button;
  }

  C.hook('panel', function (chat) {
    if (C.me().role !== 'counsellor' && C.me().role !== 'supervisor') return;
    var area = R.el('div', null, 'referral-area');
    area.appendChild(referButton(chat));
    chat.panel.appendChild(area);
  });

  // -- tracking ----------------------------------------------------------------------------------

  function list() {
    return C.get('/console/api/referrals').then(function (data) {
      var body = $('referral-list').tBodies[0];
      body.textContent = '';
      data.referrals.forEach(function (item) {
        var row = document.createElement('tr');
        row.setAttribute('data-referral', item.id);
        [R.when(item.sent_at), item.agency_name, R.label('urgency', item.urgency), R.label('state', item.state)
          + (item.outcome ? ': ' + R.label('outcome', item.outcome) : ''), R.when(item.ack_deadline_at)]
          .forEach(function (text) { row.appendChild(R.el('td', text)); });
        var cell = document.createElement('td');
        var button = R.el('button', _('Open'));
        button.type = 'button';
        button.setAttribute('data-open', item.id);
        button.setAttribute('aria-label', _('Open the referral to {agency}').replace('{agency}', item.agency_name));
        button.addEventListener('click', function () { show(item.id, true); });
        cell.appendChild(button);
        row.appendChild(cell);
        body.appendChild(row);
      });
      $('referrals-empty').hidden = data.referrals.length > 0;
      $('referral-list').hidden = data.referrals.length === 0;
      $('referrals-status').textContent = _n('{count} referral.', '{count} referrals.', data.referrals.length);
    }).catch(function (error) { $('referrals-status').textContent = error.message; });
  }

  function show(id, focus) {
    var base = '/console/api/referrals/' + encodeURIComponent(id);
    $('ref-error').textContent = '';
    return C.get(base).then(function (read) {
      var key = null;
      try { key = R.keyOf(read); } catch (e) { key = null; }
      current = { id: id, read: read, key: key };
      $('ref-detail').hidden = false;
      $('ref-detail-title').textContent = _('Referral to {agency}').replace('{agency}', read.agency_name);
      R.drawMeta($('ref-meta'), read);
      if (key) R.drawContent($('ref-content'), key, read.content);
      else $('ref-content').textContent = _('Your key was added after this referral was sent.');
      R.drawConsent($('ref-consent'), read.consent);
      R.drawEvents($('ref-events'), read, key);
      // Other agencies on the referral and the thread they share (console_refthread.js).
      var thread = C.refThread.draw($('ref-events'), read, base, 'console', function () { return show(id, false); });
      drawAudit(read.audit);
      $('answer-form').hidden = !key || read.state === 'draft';
      $('reroute-form').hidden = read.state !== 'returned';
      if (read.state === 'returned') {
        agencies('', '').then(function (data) {
          fillAgencies($('reroute-agency'), data.agencies.filter(function (a) { return a.code !== read.agency; }));
        });
      }
      if (focus) $('ref-detail-title').focus();
      return Promise.all([R.passOnKey(read, key, base), thread]);
    }).catch(function (error) { $('ref-error').textContent = error.message; });
  }

  function drawAudit(rows) {
    $('ref-audit-area').hidden = !rows;
    var target = $('ref-audit');
    target.textContent = '';
    (rows || []).forEach(function (row) {
      target.appendChild(R.el('li', R.when(row.at) + ' · ' + row.actor_name + ' · ' + row.action));
    });
  }

  $('answer-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('answer-body').value.trim();
    if (!text || !current || !current.key) return;
    var id = current.id;
    C.post('/console/api/referrals/' + encodeURIComponent(id) + '/answers', { body: R.sealText(current.key, text) })
      .then(function () {
        $('answer-body').value = '';
        return show(id, false);
      }).then(function () { $('ref-status').textContent = _('Your answer was sent.'); })
      .catch(function (error) { $('ref-error').textContent = error.message; });
  });

  $('reroute-form').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!current || !current.key) { $('ref-error').textContent = _('Your key was added after this referral was sent.'); return; }
    var id = current.id;
    var agency = $('reroute-agency').value;
    var key = current.key;
    C.get('/console/api/referral-readers?agency=' + encodeURIComponent(agency)).then(function (info) {
      var readers = info.readers.slice();
      // The counsellor who made the referral keeps a key (a supervisor may be re-routing it).
      var sender = current.read.sender;
      if (sender && !readers.some(function (r) { return r.id === sender.id; })) readers.push(sender);
      return C.post('/console/api/referrals/' + encodeURIComponent(id) + '/reroute',
        { agency: agency, keys: R.wrapFor(readers, key) });
    }).then(function () { return Promise.all([list(), show(id, false)]); })
      .then(function () { $('ref-status').textContent = _('The referral was sent to the other agency.'); })
      .catch(function (error) { $('ref-error').textContent = error.message; });
  });

  $('referrals-refresh').addEventListener('click', function () {
    list();
    if (current) show(current.id, false);
  });

  C.hook('working', function (me) { $('officer-hint').hidden = me.role !== 'officer'; });
  C.hook('view', function (view) {
    if (view !== 'referrals') return;
    loadTaxonomy().catch(function () {}).then(function () {
      list();
      if (current) show(current.id, false);
    });
  });
  C.referralForm = referralForm;
  C.referralShow = show;  // the supervisors' overdue list opens a referral here (console_follow.js)
}());
