/* Cases (ADR 0026): open a case from a contact, link later contacts, the case view (timeline,
 * team, follow-ups), add a colleague. The case key is made here and wrapped here, for the team
 * only: the owner, the supervisors (as the org key signed them) and each colleague the owner adds.
 * A linked contact's note key is sealed under the case key, so the team reads the note; the server
 * never sees a key. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var taxonomy = null;
  var current = null;   // the case on screen: its view, and its key if it opens for us

  // -- keys -------------------------------------------------------------------------------------

  /* Colleagues whose key the pinned org key signed for a chat role; each with the role it signed. */
  function signedColleagues() {
    return C.get('/console/api/colleagues').then(function (data) {
      return data.staff.filter(function (card) {
        var publicKey = null;
        try { publicKey = W.b64uDecode(card.public_key); } catch (e) { return false; }
        card.signedRole = W.staffKeyRole(C.ORG_KEY, card.id, publicKey, card.signature);
        return W.CHAT_ROLES.indexOf(card.signedRole) >= 0;
      });
    });
  }

  function wrapFor(key, cards) {
    var ephemeral = nacl.box.keyPair();
    var keys = {};
    cards.forEach(function (card) {
      keys[card.id] = W.wrapKey(key, W.sharedKey(W.b64uDecode(card.public_key), ephemeral.secretKey));
    });
    return { epk: W.b64uEncode(ephemeral.publicKey), keys: keys };
  }

  function openWrapped(found) {
    return W.unwrapKey(found.wrapped, W.sharedKey(W.b64uDecode(found.epk), C.secretKey()));
  }

  function sealText(key, data) { return W.seal(key, W.pad(W.utf8(JSON.stringify(data)))); }

  function openText(key, wire) {
    return JSON.parse(new TextDecoder().decode(W.unpad(W.openSealed(key, wire))));
  }

  /* The note key of one of my own contact records (wrapped for its author), or null. */
  function myNoteKey(record) {
    var mine = record.note_keys && record.note_keys.keys[C.me().id];
    if (!mine) return null;
    return openWrapped({ epk: record.note_keys.epk, wrapped: mine });
  }

  function caseKeyOf(view) { return view.key ? openWrapped(view.key) : null; }

  // -- labels -----------------------------------------------------------------------------------

  function loadTaxonomy() {
    if (taxonomy) return Promise.resolve(taxonomy);
    return C.get('/console/api/taxonomy').then(function (data) { taxonomy = data; return data; });
  }

  function labelOf(list, code) {
    var found = (list || []).filter(function (item) { return item.code === code; })[0];
    return found ? found.label : (code || '');
  }

  function when(iso) { return C.when(iso); }

  function cell(row, content) {
    var td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content == null || content === '' ? '–' : String(content);
    row.appendChild(td);
  }

  function button(text, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  function fail(error) { $('casework-error').textContent = error.message; }

  function caseName(id) { return _('Case {number}').replace('{number}', id); }

  // -- lists ------------------------------------------------------------------------------------

  function refresh() {
    $('casework-error').textContent = '';
    return Promise.all([loadTaxonomy(), C.get('/console/api/casework')]).then(function (both) {
      var data = both[1];
      var body = $('casework-list').tBodies[0];
      body.textContent = '';
      data.cases.forEach(function (item) {
        var row = document.createElement('tr');
        cell(row, caseName(item.id));
        cell(row, item.owner_name);
        cell(row, item.status === 'open' ? _('Open') : _('Closed'));
        cell(row, item.contacts);
        cell(row, when(item.updated_at));
        cell(row, button(_('Show {case}').replace('{case}', caseName(item.id)), function () { openCase(item.id); }));
        body.appendChild(row);
      });
      $('casework-empty').hidden = data.cases.length > 0;
      $('unlinked-empty').hidden = data.unlinked.length > 0;
      renderUnlinked(data.unlinked, data.cases);
    }).catch(fail);
  }

  function renderUnlinked(records, cases) {
    var body = $('unlinked-list').tBodies[0];
    body.textContent = '';
    var open = cases.filter(function (c) { return c.status === 'open'; });
    records.forEach(function (record) {
      var row = document.createElement('tr');
      cell(row, when(record.created_at));
      cell(row, labelOf(taxonomy.contact_types, record.contact_type));
      cell(row, labelOf(taxonomy.categories, record.primary_category));
      cell(row, labelOf(taxonomy.risk_levels, record.risk));
      var actions = document.createElement('div');
      actions.appendChild(button(_('Open a case'), function () { openNewCase(record); }));
      if (open.length) {
        var label = document.createElement('label');
        label.textContent = _('Link to') + ' ';
        var select = document.createElement('select');
        open.forEach(function (c) { select.appendChild(new Option(caseName(c.id) + ' (' + c.owner_name + ')', c.id)); });
        label.appendChild(select);
        actions.appendChild(label);
        var offered = record.earlier_cases.filter(function (id) { return open.some(function (c) { return c.id === id; }); });
        if (offered.length) {
          select.value = String(offered[0]);
          var hint = document.createElement('p');
          hint.textContent = _("The same child's earlier chat is in {case}. Link this contact to it?")
            .replace('{case}', caseName(offered[0]));
          actions.appendChild(hint);
        }
        actions.appendChild(button(_('Link'), function () { linkRecord(Number(select.value), record); }));
      } else if (record.earlier_cases.length) {
        var note = document.createElement('p');
        note.textContent = _("The same child's earlier chat is in {case}, which is not shared with you: ask its owner to add you.")
          .replace('{case}', caseName(record.earlier_cases[0]));
        actions.appendChild(note);
      }
      cell(row, actions);
      body.appendChild(row);
    });
  }

  // -- open, link, add a colleague ---------------------------------------------------------------

  /* Opens a case from one of my records ({record, note, note_keys}), for me and the supervisors:
   * resolves to the new case's id. The contact form uses it too, right after a call is saved. */
  function createCase(record) {
    return signedColleagues().then(function (cards) {
      var team = cards.filter(function (c) { return c.id === C.me().id || c.signedRole === 'supervisor'; });
      if (!team.some(function (c) { return c.id === C.me().id; })) throw new Error(_('Your key is not signed by the helpline yet.'));
      var caseKey = W.newConversationKey();
      var noteKey = record.note ? myNoteKey(record) : null;
      var wrapped = wrapFor(caseKey, team);
      return C.post('/console/api/casework', {
        record: record.record, epk: wrapped.epk, keys: wrapped.keys,
        case_note_key: noteKey ? W.wrapKey(noteKey, caseKey) : null
      });
    }).then(function (answer) { return answer['case']; });
  }

  /* Links one of my records to a case I am on, its note key sealed under the case key. */
  function attachRecord(caseId, record) {
    return C.get('/console/api/casework/' + caseId).then(function (view) {
      var caseKey = caseKeyOf(view);
      if (!caseKey) throw new Error(_('The key of this case is not wrapped for you: ask its owner to add you.'));
      var noteKey = record.note ? myNoteKey(record) : null;
      return C.post('/console/api/casework/' + caseId + '/contacts', {
        record: record.record, case_note_key: noteKey ? W.wrapKey(noteKey, caseKey) : null
      });
    });
  }

  function openNewCase(record) {
    createCase(record).then(function (id) { return refresh().then(function () { openCase(id); }); }).catch(fail);
  }

  function linkRecord(caseId, record) {
    attachRecord(caseId, record).then(function () { return refresh().then(function () { openCase(caseId); }); }).catch(fail);
  }

  function addMember(event) {
    event.preventDefault();
    var id = $('case-member').value;
    if (!current || !id) return;
    signedColleagues().then(function (cards) {
      var colleague = cards.filter(function (c) { return c.id === id; })[0];
      if (!colleague) throw new Error(_('This colleague has no key the helpline signed.'));
      if (!current.key) throw new Error(_('The key of this case is not wrapped for you: ask its owner to add you.'));
      var wrapped = wrapFor(current.key, [colleague]);
      return C.post('/console/api/casework/' + current.view.id + '/members',
        { staff: id, epk: wrapped.epk, wrapped_key: wrapped.keys[id] });
    }).then(function () {
      $('case-detail-status').textContent = _('Colleague added. They can now read this case.');
      openCase(current.view.id);
    }).catch(function (e) { $('case-detail-status').textContent = e.message; });
  }

  // -- the case view ----------------------------------------------------------------------------

  function openCase(id) {
    if ($('screen-casework').hidden) C.showView('casework');
    return Promise.all([loadTaxonomy(), C.get('/console/api/casework/' + id), signedColleagues()]).then(function (all) {
      var view = all[1];
      var key = null;
      try { key = caseKeyOf(view); } catch (e) { key = null; }
      current = { view: view, key: key };
      renderCase(view, key, all[2]);
      $('case-detail').hidden = false;
      $('case-detail-title').focus();
    }).catch(fail);
  }

  function renderCase(view, key, cards) {
    $('case-detail-title').textContent = caseName(view.id);
    $('case-summary').textContent = _('Owner: {name}. Status: {status}. Opened {date}.')
      .replace('{name}', view.owner_name).replace('{status}', view.status === 'open' ? _('Open') : _('Closed'))
      .replace('{date}', when(view.created_at));
    $('case-status-toggle').textContent = view.status === 'open' ? _('Close the case') : _('Reopen the case');
    var team = $('case-team');
    team.textContent = '';
    var onTeam = {};
    view.team.forEach(function (member) {
      onTeam[member.id] = true;
      var li = document.createElement('li');
      li.textContent = member.name + (member.owner ? ' – ' + _('owner') : member.role === 'supervisor' ? ' – ' + _('supervisor') : '');
      team.appendChild(li);
    });
    var mayAdd = view.owner === C.me().id || C.me().role === 'supervisor';
    $('case-add-member').hidden = !mayAdd || !key;
    var select = $('case-member');
    select.textContent = '';
    cards.filter(function (c) { return !onTeam[c.id]; }).forEach(function (c) { select.appendChild(new Option(c.name, c.id)); });
    var owners = $('task-owner');
    owners.textContent = '';
    view.team.forEach(function (m) { owners.appendChild(new Option(m.name, m.id)); });
    owners.value = C.me().id;
    $('case-add-task').hidden = !key;
    renderTimeline(view.contacts, key);
    renderTasks(view.tasks, key);
    // Services near the child (console_services.js), for the municipality of the latest contact that names one.
    var places = view.contacts.map(function (c) { return c.municipality; }).filter(function (m) { return m; });
    $('case-services').setAttribute('data-municipality', places.length ? places[places.length - 1] : '');
    $('case-services').querySelector('.svc-list').textContent = '';
    $('case-services').querySelector('.svc-status').textContent = '';
  }

  function noteText(contact, key) {
    var noteKey = null;
    try {
      if (contact.case_note_key && key) noteKey = W.unwrapKey(contact.case_note_key, key);
      else if (contact.note_key) noteKey = openWrapped(contact.note_key);
      if (!noteKey) return null;
      var data = openText(noteKey, contact.note);
      return (contact.conv && data.conv && data.conv !== contact.conv) ? null : data.text;
    } catch (e) { return null; }
  }

  function renderTimeline(contacts, key) {
    var list = $('case-timeline');
    list.textContent = '';
    contacts.forEach(function (contact) {
      var li = document.createElement('li');
      var head = document.createElement('p');
      head.textContent = [when(contact.created_at), contact.author, labelOf(taxonomy.channels, contact.channel),
        labelOf(taxonomy.contact_types, contact.contact_type),
        labelOf(taxonomy.categories, contact.primary_category), labelOf(taxonomy.risk_levels, contact.risk),
        labelOf(taxonomy.outcomes, contact.outcome)].filter(function (x) { return x; }).join(' · ');
      li.appendChild(head);
      if (C.voice) (contact.voice_calls || []).forEach(function (call) { li.appendChild(C.voice.line(call)); });
      if (contact.note) {
        var text = noteText(contact, key);
        var note = document.createElement('p');
        note.className = text ? 'case-note' : 'case-note-closed';
        note.textContent = text ? _('Case note: {text}').replace('{text}', text)
          : _('This note is not shared with you.');
        li.appendChild(note);
      }
      list.appendChild(li);
    });
  }

  function taskText(task, key) {
    if (!task.text || !key) return '';
    try { return openText(key, task.text).text; } catch (e) { return ''; }
  }

  function renderTasks(tasks, key) {
    var list = $('case-tasks');
    list.textContent = '';
    tasks.forEach(function (task) {
      var li = document.createElement('li');
      li.textContent = _('{who}, due {date}: {text}').replace('{who}', task.owner_name)
        .replace('{date}', when(task.due_at)).replace('{text}', taskText(task, key) || '–') + ' ';
      if (task.done_at) {
        li.appendChild(document.createTextNode(_('Done')));
      } else {
        li.appendChild(button(_('Mark as done'), function () {
          C.post('/console/api/followups/' + task.id, { done: true }, 'PUT').then(function () {
            openCase(task['case']);
            C.runFollowups();
          }).catch(fail);
        }));
      }
      list.appendChild(li);
    });
  }

  function addTask(event) {
    event.preventDefault();
    if (!current || !current.key) return;
    var due = new Date($('task-due').value);
    if (isNaN(due.getTime())) { $('case-detail-status').textContent = _('Give the due date and time.'); return; }
    var text = $('task-text').value.trim();
    C.post('/console/api/casework/' + current.view.id + '/tasks', {
      owner: $('task-owner').value, due_at: due.toISOString(),
      text: text ? sealText(current.key, { v: 1, kind: 'follow-up', 'case': current.view.id, text: text }) : null
    }).then(function () {
      $('task-text').value = '';
      $('case-detail-status').textContent = _('Follow-up added.');
      openCase(current.view.id);
      C.runFollowups();
    }).catch(function (e) { $('case-detail-status').textContent = e.message; });
  }

  function toggleStatus() {
    if (!current) return;
    var status = current.view.status === 'open' ? 'closed' : 'open';
    C.post('/console/api/casework/' + current.view.id, { status: status }, 'PUT').then(function () {
      openCase(current.view.id);
      refresh();
    }).catch(fail);
  }

  /* Once a chat's record is saved: if the same child's earlier contact is in a case, offer to link
   * this one to it, in the chat's own panel (a returning child, ADR 0009 and 0026). */
  function offerAfterWrapUp(chat) {
    var area = chat.panel.querySelector('.case-area');
    var watcher = new MutationObserver(function () {
      if (!area.querySelector('.case-saved')) return;
      watcher.disconnect();
      C.get('/console/api/casework').then(function (data) {
        var record = data.unlinked.filter(function (r) { return r.conv === chat.conv; })[0];
        if (!record || !record.earlier_cases.length) return;
        var id = record.earlier_cases[0];
        var readable = data.cases.filter(function (c) { return c.id === id; })[0];
        if (readable && readable.status !== 'open') return;
        var offer = document.createElement('p');
        offer.className = 'case-offer';
        if (readable) {
          offer.textContent = _("The same child's earlier chat is in {case}. Link this contact to it?")
            .replace('{case}', caseName(id)) + ' ';
          offer.appendChild(button(_('Link'), function () { linkRecord(id, record); }));
        } else {
          offer.textContent = _("The same child's earlier chat is in {case}, which is not shared with you: ask its owner to add you.")
            .replace('{case}', caseName(id));
        }
        area.appendChild(offer);
      }).catch(function () {});
    });
    watcher.observe(area, { childList: true, subtree: true });
  }

  C.hook('ended', function (chat) { if (!chat.handedOn) offerAfterWrapUp(chat); });
  $('case-add-member').addEventListener('submit', addMember);
  $('case-add-task').addEventListener('submit', addTask);
  $('case-status-toggle').addEventListener('click', toggleStatus);
  C.hook('view', function (view) { if (view === 'casework') refresh(); });

  C.casework = {
    openCase: openCase, createCase: createCase, attachRecord: attachRecord, signedColleagues: signedColleagues, wrapFor: wrapFor, openWrapped: openWrapped,
    sealText: sealText, openText: openText, when: when, button: button, caseName: caseName
  };
  C.runFollowups = function () {};
}());
