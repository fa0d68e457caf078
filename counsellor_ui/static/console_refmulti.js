/* One referral to several agencies (issue 19, ADR 0035), so the child tells her story once. The
 * referral form's first agency gets every detail marked as shared; each further agency gets only
 * the details ticked for it (by default what happened and the requested action). Each agency's
 * part is sealed here under a key of its own, wrapped only for that agency's readers (and the
 * helpline's); one thread key, wrapped for everyone on every part, carries the shared thread. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var W = C.W;
  var _ = C._;
  var DEFAULT_ITEMS = ['account_of_events'];   // the minimum another agency gets unless more is ticked
  var counter = 0;

  function items(form) {
    return Array.prototype.map.call(form.querySelectorAll('.share-item'), function (block) {
      return { item: block.getAttribute('data-item'), field: block.getAttribute('data-field'),
        text: block.querySelector('label').firstChild.textContent.trim() };
    });
  }

  /* A nearby police directorate for the first agency's county, else the first police agency. */
  function proposal(form) {
    var list = form.agencyList || [];
    var first = list.filter(function (a) { return a.code === form.elements.agency.value; })[0];
    var police = list.filter(function (a) { return a.kind === 'police'; });
    var near = police.filter(function (a) { return first && a.county && a.county === first.county; })[0];
    return (near || police[0] || list[0] || {}).code;
  }

  function addLeg(form) {
    var box = form.querySelector('.extra-legs');
    counter += 1;
    var n = counter;
    var leg = R.el('fieldset', null, 'extra-leg');
    leg.appendChild(R.el('legend', _('Another agency')));
    var label = R.el('label', _('Agency'));
    var select = document.createElement('select');
    select.name = 'extra-agency-' + n;
    select.className = 'extra-agency';
    (form.agencyList || []).forEach(function (agency) { select.appendChild(new Option(agency.name, agency.code)); });
    select.value = proposal(form) || '';
    label.appendChild(select);
    leg.appendChild(label);
    var checks = R.el('fieldset', null, 'extra-items');
    checks.appendChild(R.el('legend', _('Details this agency reads')));
    items(form).forEach(function (it) {
      var line = R.el('label');
      var box2 = document.createElement('input');
      box2.type = 'checkbox';
      box2.name = 'extra-' + n + '-' + it.item;
      box2.value = it.item;
      box2.checked = DEFAULT_ITEMS.indexOf(it.item) >= 0;
      line.appendChild(box2);
      line.appendChild(document.createTextNode(' ' + it.text));
      checks.appendChild(line);
    });
    leg.appendChild(checks);
    var remove = R.el('button', _('Remove this agency'), 'secondary');
    remove.type = 'button';
    remove.addEventListener('click', function () {
      leg.parentNode.removeChild(leg);
      form.querySelector('.add-agency').focus();
    });
    leg.appendChild(remove);
    box.appendChild(leg);
    select.focus();
  }

  /* The further agencies the form names: [{agency, items}] (none: a referral to one agency). */
  function extras(form) {
    return Array.prototype.map.call(form.querySelectorAll('.extra-leg'), function (leg) {
      var ticked = Array.prototype.filter.call(leg.querySelectorAll('input[type=checkbox]'), function (c) {
        return c.checked;
      }).map(function (c) { return c.value; });
      return { agency: leg.querySelector('select').value, items: ticked };
    });
  }

  /* One agency's part: only the ticked details that the main form shares, with its consent record. */
  function share(form, content, consent, ticked) {
    var part = { v: 1, requested_action: content.requested_action };
    var record = {};
    items(form).forEach(function (it) {
      var shared = ticked.indexOf(it.item) >= 0 && consent[it.item] !== 'not_shared';
      record[it.item] = shared ? consent[it.item] : 'not_shared';
      if (shared && content[it.field] != null) part[it.field] = content[it.field];
    });
    if (consent.tell_child_status) record.tell_child_status = consent.tell_child_status;
    return { content: part, consent: record };
  }

  function readersOf(code) {
    return C.get('/console/api/referral-readers?agency=' + encodeURIComponent(code)).then(function (info) {
      if (!info.officers) throw new Error(C.referralCheck.refusal(info));
      return info;
    });
  }

  /* Seals each part for its agency and the thread for everyone, and sends them in one request. */
  function send(form, base) {
    var parts = [{ agency: base.agency, content: base.content, consent: base.consent }].concat(
      extras(form).map(function (extra) {
        var made = share(form, base.content, base.consent, extra.items);
        return { agency: extra.agency, content: made.content, consent: made.consent };
      }));
    return Promise.all(parts.map(function (part) { return readersOf(part.agency); })).then(function (infos) {
      var everyone = {};
      var legs = parts.map(function (part, i) {
        infos[i].readers.forEach(function (reader) { everyone[reader.id] = reader; });
        var key = W.newConversationKey();
        return { agency: part.agency, consent: part.consent, content: R.sealText(key, JSON.stringify(part.content)),
          keys: R.wrapFor(infos[i].readers, key) };
      });
      var threadKey = W.newConversationKey();
      var readers = Object.keys(everyone).map(function (id) { return everyone[id]; });
      return C.post('/console/api/referral-groups', {
        urgency: base.urgency, chi_category: base.chi_category, conversation: base.conversation,
        legs: legs, thread_keys: R.wrapFor(readers, threadKey)
      });
    });
  }

  function sentText(made) {
    var names = made.referrals.map(function (r) { return r.agency_name; }).join(', ');
    return _('Referral sent to {agencies}. They share one thread. Follow it under Referrals.')
      .replace('{agencies}', names);
  }

  /* Called by the referral form once it has the directory (console_referrals.js). */
  function watch(form, agencies) {
    form.agencyList = agencies;
    var add = form.querySelector('.add-agency');
    if (add && !add.hasAttribute('data-ready')) {
      add.setAttribute('data-ready', '');
      add.addEventListener('click', function () { addLeg(form); });
    }
  }

  C.referralMulti = { watch: watch, extras: extras, send: send, sentText: sentText };
}());
