/* Case records: the wrap-up form after a chat ends, and the case list. The case note is sealed
 * here under a fresh key, wrapped for its author and the supervisors (ADR 0026). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var _n = C._n;
  var taxonomy = null;

  function loadTaxonomy() {
    return C.loadTaxonomy().then(function (data) { taxonomy = data; return data; });
  }

  function fill(select, items, blank) {
    select.textContent = '';
    if (blank) select.appendChild(new Option(blank, ''));
    items.forEach(function (item) { select.appendChild(new Option(item.label, item.code)); });
  }

  /* Every reader's key must be signed by the pinned org key for a helpline role that reads case
   * notes (counsellor, supervisor); one that is not stops the save before anything is encrypted.
   * Need to know (ADR 0026): the note is wrapped for its author and the supervisors (as the org key
   * signed them) only; once the contact is linked to a case, the case's team reads it too. */
  function readers() {
    return C.get('/console/api/colleagues').then(function (data) {
      return data.staff.filter(function (card) {
        var publicKey = null;
        try { publicKey = W.b64uDecode(card.public_key); } catch (e) { /* refused below */ }
        if (!publicKey || !W.verifyStaffKey(C.ORG_KEY, card.id, publicKey, card.signature, W.CHAT_ROLES)) {
          throw new Error(_('The key of {name} is not signed by the helpline for case notes. Nothing was saved: ask an admin.')
            .replace('{name}', card.name || card.id));
        }
        return card.id === C.me().id || W.staffKeyRole(C.ORG_KEY, card.id, publicKey, card.signature) === 'supervisor';
      });
    });
  }

  function sealNote(conv, text, cards) {
    var noteKey = W.newConversationKey();
    var sealed = W.seal(noteKey, W.pad(W.utf8(JSON.stringify({ v: 1, conv: conv, kind: 'case-note', text: text }))));
    var ephemeral = nacl.box.keyPair();
    var keys = {};
    cards.forEach(function (card) {
      keys[card.id] = W.wrapKey(noteKey, W.sharedKey(W.b64uDecode(card.public_key), ephemeral.secretKey));
    });
    return { note: sealed, note_keys: { epk: W.b64uEncode(ephemeral.publicKey), keys: keys } };
  }

  function openNote(conv, note, noteKeys) {
    var mine = noteKeys.keys[C.me().id];
    if (!mine) return null;
    var noteKey = W.unwrapKey(mine, W.sharedKey(W.b64uDecode(noteKeys.epk), C.secretKey()));
    var data = JSON.parse(new TextDecoder().decode(W.unpad(W.openSealed(noteKey, note))));
    return data.conv === conv ? data.text : null;
  }

  /* A chat's wrap-up: the one contact form (console_contact_form.js), bound to this chat. */
  function caseForm(chat) {
    var area = chat.panel.querySelector('.case-area');
    if (area.querySelector('.case-form')) return;
    var focusBefore = document.activeElement;
    var form = C.contactForm(area, {
      conv: chat.conv, prechat: chat.prechat,
      onSaved: function () {
        chat.recorded = true;
        area.textContent = '';
        var done = document.createElement('p');
        done.className = 'case-saved';
        done.setAttribute('role', 'status');
        done.textContent = _('Case recorded. You can take the next chat.');
        area.appendChild(done);
      }
    });
    form.ready.then(function () {
      // Take the focus only if it has not moved meanwhile (a keyboard user may be elsewhere already).
      if (document.activeElement === focusBefore || document.activeElement === document.body) {
        form.elements.contact_type.focus();
      }
    });
  }

  C.hook('ended', function (chat) { if (!chat.handedOn) caseForm(chat); });

  /* An earlier chat a returning child shared: show how it was recorded, and the note if it opens. */
  C.hook('earlier', function (chat) {
    C.get('/console/api/cases/' + encodeURIComponent(chat.conv)).then(function (found) {
      return loadTaxonomy().then(function (tax) {
        var area = chat.panel.querySelector('.case-area');
        var item = found.case;
        var summary = document.createElement('p');
        summary.className = 'earlier-case';
        if (!item) {
          summary.textContent = _('This earlier chat has no case record.');
        } else {
          summary.textContent = [labelOf(tax.contact_types, item.contact_type),
            labelOf(tax.categories, item.primary_category), labelOf(tax.risk_levels, item.risk),
            labelOf(tax.outcomes, item.outcome)].filter(function (x) { return x; }).join(' · ');
          if (item.note) {
            var text = null;
            try { text = openNote(chat.conv, item.note, item.note_keys); } catch (e) { text = null; }
            var note = document.createElement('p');
            note.textContent = text ? _('Case note: {text}').replace('{text}', text)
              : _('The case note was written before your key existed, so it does not open for you.');
            area.appendChild(note);
          }
        }
        area.insertBefore(summary, area.firstChild);
      });
    }).catch(function () {});
  });

  /* After a reload: a chat that ended without its record opens again for wrap-up. */
  C.hook('hello', function () {
    C.get('/console/api/cases/pending').then(function (data) {
      if (!data.conv || C.chats[data.conv]) return;
      C.get('/console/api/cases/' + encodeURIComponent(data.conv)).then(function (found) {
        var chat = C.openChat(data.conv, found.prechat || {});
        chat.prechat = found.prechat;
        chat.ended = true;
        chat.panel.querySelector('.composer').hidden = true;
        chat.panel.querySelector('.chat-actions').hidden = true;
        C.note(chat, _('This chat has ended. Record it before you take the next one.'));
        caseForm(chat);
      });
    }).catch(function () {});
  });
  C.hook('refused', function (error) {
    if (error.code !== 'wrap_up') return;
    Object.keys(C.chats).forEach(function (id) {
      var chat = C.chats[id];
      if (chat.ended && !chat.recorded && !chat.handedOn) { C.select(id); caseForm(chat); }
    });
  });

  // -- case list ------------------------------------------------------------------------------

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text == null || text === '' ? '–' : String(text);
    row.appendChild(td);
  }

  function labelOf(list, code) {
    var found = (list || []).filter(function (item) { return item.code === code; })[0];
    return found ? found.label : code;
  }

  function search(event) {
    if (event) event.preventDefault();
    var params = [];
    [['from', 'case-from'], ['to', 'case-to'], ['category', 'case-category'], ['risk', 'case-risk'],
      ['status', 'case-status']].forEach(function (pair) {
      var value = $(pair[1]).value;
      if (value) params.push(pair[0] + '=' + encodeURIComponent(value));
    });
    C.get('/console/api/cases?' + params.join('&')).then(function (data) {
      var body = $('case-list').tBodies[0];
      body.textContent = '';
      data.cases.forEach(function (item) {
        var row = document.createElement('tr');
        cell(row, C.when(item.started_at || item.created_at));
        cell(row, labelOf(taxonomy.channels, item.channel || 'chat'));
        cell(row, item.recorded ? labelOf(taxonomy.contact_types, item.contact_type) : '');
        cell(row, item.recorded ? labelOf(taxonomy.categories, item.primary_category) : '');
        cell(row, item.recorded ? labelOf(taxonomy.risk_levels, item.risk) : '');
        cell(row, item.recorded ? labelOf(taxonomy.outcomes, item.outcome) : '');
        cell(row, item.recorded ? _('Recorded') : _('Waiting for wrap-up'));
        body.appendChild(row);
      });
      $('case-list-status').textContent = _n('{count} case found.', '{count} cases found.', data.cases.length);
    }).catch(function (error) { $('case-list-status').textContent = error.message; });
  }

  $('case-search').addEventListener('submit', search);
  C.hook('view', function (view) {
    if (view !== 'cases') return;
    loadTaxonomy().then(function (tax) {
      if (!$('case-category').options.length) {
        fill($('case-category'), tax.categories, _('All'));
        fill($('case-risk'), tax.risk_levels, _('All'));
      }
      search();
    });
  });

  C.openNote = openNote;
  C.sealNote = sealNote;
  C.noteReaders = readers;
}());
