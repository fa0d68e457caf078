/* Referrals in the browser, shared by the console (console_referrals.js) and the officers'
 * portal (console_portal.js): labels, the referral key (unwrapped with the reader's own key),
 * opening and sealing content and thread bodies, and drawing a referral's history. The
 * formats are in docs/referrals.md; the server only ever sees the ciphertext. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var _ = C._;

  var LABELS = {
    urgency: { emergency: _('Emergency'), urgent: _('Urgent'), routine: _('Routine') },
    state: {
      draft: _('Draft'), sent: _('Sent, waiting for acknowledgement'), acknowledged: _('Acknowledged'),
      in_progress: _('In progress'), closed: _('Closed'), returned: _('Returned')
    },
    outcome: {
      child_protected: _('Child protected'), family_supported: _('Family supported'),
      services_provided: _('Services provided'), investigation_opened: _('Investigation opened'),
      referred_onward: _('Referred onward'), no_action_needed: _('No action needed'),
      child_not_found: _('Child not found'), other: _('Other')
    },
    action: {
      contact_child: _('Contacted the child'), contact_family: _('Contacted the family'),
      home_visit: _('Home visit'), school_contact: _('Contacted the school'), assessment: _('Assessment'),
      police_report: _('Police report'), medical_care: _('Medical care'), shelter: _('Shelter'),
      meeting: _('Meeting'), other: _('Other')
    },
    reason: {
      not_our_area: _('Not our area'), not_our_competence: _('Not our competence'),
      duplicate: _('Duplicate'), not_enough_information: _('Not enough information')
    },
    consentItem: {
      identity: _('Identity'), contact: _('Contact details'), location: _('Where the child is'),
      family: _('Family'), school: _('School'), health: _('Health'), account_of_events: _('What happened')
    },
    consentBasis: {
      child_consented: _('shared with the child’s consent'),
      shared_without_consent_for_safety: _('shared without consent, for the child’s safety'),
      not_shared: _('not shared')
    },
    field: {
      child: _('Child'), place: _('Where'), contact: _('Contact'), family: _('Family'), school: _('School'),
      health: _('Health'), concern: _('What happened'), requested_action: _('Requested action'),
      platform: _('Platform'), link: _('Link or account'), what: _('What they saw')
    }
  };

  LABELS.category = C.CONFIG.categories || {};   // the portal gets them in its config; the console from taxonomy

  function label(kind, code) { return (LABELS[kind] && LABELS[kind][code]) || code || '–'; }

  function setCategories(taxonomy) {
    taxonomy.categories.forEach(function (cat) {
      cat.sub.forEach(function (sub) { LABELS.category[sub.code] = sub.label; });
    });
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString(document.documentElement.lang) : '–';
  }

  function myPublicKey() { return nacl.box.keyPair.fromSecretKey(C.secretKey()).publicKey; }

  /* The referral key from a read; null if this reader holds none. Throws if it does not open. */
  function keyOf(read) {
    if (!read.key) return null;
    return W.unwrapKey(read.key.wrapped_key,
      W.sharedKey(W.b64uDecode(read.key.wrapper_public_key), C.secretKey()));
  }

  function sealText(key, text) { return W.seal(key, W.pad(W.utf8(text))); }

  function openText(key, wire) {
    return new TextDecoder('utf-8', { fatal: true }).decode(W.unpad(W.openSealed(key, wire)));
  }

  /* Readers' keys are checked against the pinned org key before anything is wrapped for them:
   * each must be signed for a role that reads referrals (agency officers, supervisors and the
   * counsellor who writes it; never a manager's or an admin's). All are checked before any is wrapped. */
  function checkReaders(readers) {
    return readers.map(function (reader) {
      var publicKey = null;
      try { publicKey = W.b64uDecode(reader.public_key); } catch (e) { /* refused below */ }
      var role = publicKey ? W.staffKeyRole(C.ORG_KEY, reader.id, publicKey, reader.signature) : null;
      if (role === null) {
        throw new Error(_('The key of {name} is not signed by the helpline. Nothing was sent.')
          .replace('{name}', reader.name || reader.id));
      }
      if (W.REFERRAL_ROLES.indexOf(role) < 0) {
        throw new Error(_('The key of {name} is not signed for reading referrals. Nothing was sent.')
          .replace('{name}', reader.name || reader.id));
      }
      return publicKey;
    });
  }

  function wrapFor(readers, key) {
    var mine = W.b64uEncode(myPublicKey());
    var publicKeys = checkReaders(readers);
    return readers.map(function (reader, i) {
      var publicKey = publicKeys[i];
      return { reader: reader.id, wrapper_public_key: mine,
        wrapped_key: W.wrapKey(key, W.sharedKey(publicKey, C.secretKey())) };
    });
  }

  /* Readers who enrolled after the referral was sent get the key from whoever reads it next. */
  function passOnKey(read, key, base) {
    if (!key || !read.missing_readers || !read.missing_readers.length) return Promise.resolve();
    var keys;
    try { keys = wrapFor(read.missing_readers, key); } catch (e) { return Promise.resolve(); }
    return C.post(base + '/keys', { keys: keys }).catch(function () {});
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function describe(event) {
    var more = C.referrals.describeMore && C.referrals.describeMore(event);  // console_follow.js (issue 19)
    if (more) return more;
    if (event.kind === 'created') return _('Referral written');
    if (event.kind === 'transition') {
      var to = event.to;
      if (to === 'sent') return _('Sent to the agency');
      if (to === 'acknowledged') return _('Acknowledged by the agency');
      if (to === 'in_progress') return _('Work started');
      if (to === 'closed') return _('Closed: {outcome}').replace('{outcome}', label('outcome', event.detail.outcome));
      if (to === 'returned') return _('Returned: {reason}').replace('{reason}', label('reason', event.detail.reason));
      if (to === 'draft') return _('Re-routed to another agency');
      return label('state', to);
    }
    if (event.kind === 'action') return _('Action: {action}').replace('{action}', label('action', event.detail.action));
    if (event.kind === 'question') return _('Question from the agency');
    if (event.kind === 'answer') return _('Answer from the helpline');
    if (event.kind === 'keys') return _('The key was passed on to a new reader');
    if (event.kind === 'escalation') return _('Escalated: not acknowledged in time');
    return event.kind;
  }

  /* Draws the history into a list: when, who, what, and the decrypted text if there is one. */
  function drawEvents(list, read, key) {
    list.textContent = '';
    read.events.forEach(function (event) {
      var item = el('li', null, 'event event-' + event.kind + (event.to ? ' to-' + event.to : ''));
      item.setAttribute('data-kind', event.kind);
      item.appendChild(el('span', when(event.at), 'when'));
      item.appendChild(document.createTextNode(' · '));
      var who = event.actor_name;
      if (event.actor === 'system:deadlines') who = _('the helpline system');
      if (event.actor === 'public:report') who = _('an anonymous reporter');
      item.appendChild(el('span', who, 'who'));
      item.appendChild(document.createTextNode(' · '));
      item.appendChild(el('strong', describe(event), 'what'));
      if (event.body) {
        var text;
        try { text = key ? openText(key, event.body) : null; } catch (e) { text = null; }
        item.appendChild(el('p', text == null ? _('This text does not open with your key.') : text, 'body'));
      }
      list.appendChild(item);
    });
  }

  function drawContent(dl, key, content) {
    dl.textContent = '';
    var data;
    try {
      data = JSON.parse(openText(key, content));
    } catch (e) {
      dl.appendChild(el('dd', _('The referral does not open with your key.'), 'error'));
      return false;
    }
    Object.keys(data).forEach(function (name) {
      if (name === 'v' || data[name] === '' || data[name] == null) return;
      dl.appendChild(el('dt', label('field', name)));
      dl.appendChild(el('dd', String(data[name])));
    });
    return true;
  }

  function drawMeta(dl, read) {
    dl.textContent = '';
    [[_('Agency'), read.agency_name], [_('Urgency'), label('urgency', read.urgency)],
      [_('State'), label('state', read.state)], [_('Category'), label('category', read.chi_category)],
      [_('Sent'), when(read.sent_at)], [_('Acknowledge by'), when(read.ack_deadline_at)],
      [_('Acknowledged'), when(read.acknowledged_at)],
      [_('Outcome'), read.outcome ? label('outcome', read.outcome) : '–'],
      [_('Reference'), read.id]].forEach(function (pair) {
      dl.appendChild(el('dt', pair[0]));
      dl.appendChild(el('dd', pair[1] || '–'));
    });
  }

  function drawConsent(list, consent) {
    list.textContent = '';
    Object.keys(consent || {}).forEach(function (item) {
      list.appendChild(el('li', label('consentItem', item) + ': ' + label('consentBasis', consent[item])));
    });
  }

  function fillSelect(select, codes, kind) {
    if (select.options.length) return;
    codes.forEach(function (code) { select.appendChild(new Option(label(kind, code), code)); });
  }

  C.referrals = {
    LABELS: LABELS, label: label, when: when, keyOf: keyOf, sealText: sealText, openText: openText,
    wrapFor: wrapFor, passOnKey: passOnKey, drawEvents: drawEvents, drawContent: drawContent,
    drawMeta: drawMeta, drawConsent: drawConsent, setCategories: setCategories, describe: describe,
    fillSelect: fillSelect, el: el
  };
}());
