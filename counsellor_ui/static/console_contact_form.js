/* The one contact form: a chat's wrap-up and a call, e-mail, visit, letter or report recorded by
 * hand are the same form, with the same fields and rules (counsellor_ui/contact_form.py on the
 * server). Keyboard first: the timer starts and stops with one key (Space on its button, or Alt+T
 * anywhere in the form), every list answers to its first letters, Ctrl+Enter in the note saves.
 * The note is sealed here exactly as a chat's case note (C.sealNote, console_cases.js). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var taxonomy = null;

  function loadTaxonomy() {
    if (taxonomy) return Promise.resolve(taxonomy);
    return C.get('/console/api/taxonomy').then(function (data) { taxonomy = data; return data; });
  }

  function fill(select, items, blank) {
    select.textContent = '';
    if (blank) select.appendChild(new Option(blank, ''));
    items.forEach(function (item) { select.appendChild(new Option(item.label, item.code)); });
  }

  function selected(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; })
      .map(function (o) { return o.value; });
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function hhmm(date) { return pad(date.getHours()) + ':' + pad(date.getMinutes()); }

  /* A typed "HH:MM" as today's moment, or yesterday's if that would be in the future. */
  function moment(text, after) {
    var parts = /^(\d{2}):(\d{2})$/.exec(text || '');
    if (!parts) return null;
    var date = new Date(after || Date.now());
    date.setHours(Number(parts[1]), Number(parts[2]), 0, 0);
    if (!after && date.getTime() > Date.now() + 60000) date.setDate(date.getDate() - 1);
    if (after && date.getTime() < after.getTime()) date.setDate(date.getDate() + 1);
    return date;
  }

  /* 16 random bytes in base64url: the contact's id, chosen before the note is sealed to it. */
  function newRef() { return W.b64uEncode(nacl.randomBytes(16)); }

  function Timer(form) {
    var button = form.querySelector('.contact-timer');
    var clock = form.querySelector('.contact-clock');
    var started = null;
    var tick = null;
    function show() {
      var seconds = Math.floor((Date.now() - started.getTime()) / 1000);
      clock.textContent = Math.floor(seconds / 60) + ':' + pad(seconds % 60);
    }
    function toggle() {
      if (tick === null) {
        started = new Date();
        form.elements.started.value = hhmm(started);
        form.elements.ended.value = '';
        tick = setInterval(show, 1000);
        show();
        button.textContent = _('Stop the timer');
        this.startedAt = started;
      } else {
        clearInterval(tick);
        tick = null;
        show();
        form.elements.ended.value = hhmm(new Date());
        this.seconds = Math.round((Date.now() - started.getTime()) / 1000);
        button.textContent = _('Start the timer');
      }
    }
    this.toggle = toggle.bind(this);
    this.running = function () { return tick !== null; };
    this.stop = function () { if (tick !== null) this.toggle(); };
    button.addEventListener('click', this.toggle);
    form.addEventListener('keydown', function (event) {
      if (event.altKey && (event.key === 't' || event.key === 'T')) { event.preventDefault(); this.toggle(); }
    }.bind(this));
  }

  /* When the contact began and how long it lasted: from the timer, else from the typed times. */
  function when(form, timer) {
    var typedStart = moment(form.elements.started.value);
    if (!typedStart) return null;
    var fromTimer = timer.startedAt && hhmm(timer.startedAt) === form.elements.started.value;
    var start = fromTimer ? timer.startedAt : typedStart;
    var end = moment(form.elements.ended.value, start);
    var seconds = fromTimer && timer.seconds != null && form.elements.ended.value ? timer.seconds
      : (end ? Math.round((end.getTime() - start.getTime()) / 1000) : null);
    return { started_at: start.toISOString(), duration_seconds: seconds };
  }

  function body(form) {
    var f = form.elements;
    var subs = selected(f.sub_category).concat(selected(f.secondary_categories));
    return {
      contact_type: f.contact_type.value, primary_category: f.primary_category.value || null,
      secondary_categories: subs.filter(function (code, i) { return subs.indexOf(code) === i; }).slice(0, 8),
      risk: f.risk.value, outcome: f.outcome.value, age_band: f.age_band.value || null,
      gender: f.gender.value || null, contact_by: f.contact_by.value || null,
      municipality: f.municipality.value || null, follow_up: f.follow_up.checked
    };
  }

  function setUp(form, tax, prefill) {
    var f = form.elements;
    // Chats and their voice calls (ADR 0033) are recorded from the chat, never by hand.
    if (f.channel) fill(f.channel, tax.channels.filter(function (c) { return c.code !== 'chat' && c.code !== 'voice'; }));
    fill(f.contact_by, tax.contact_by, _('(not given)'));
    fill(f.contact_type, tax.contact_types);
    fill(f.primary_category, tax.categories, _('(none)'));
    fill(f.sub_category, [], _('(none)'));
    var subs = [];
    tax.categories.forEach(function (cat) { subs = subs.concat(cat.sub); });
    fill(f.secondary_categories, subs);
    fill(f.age_band, tax.age_bands, _('(not given)'));
    fill(f.gender, tax.genders, _('(not given)'));
    fill(f.municipality, tax.municipalities.map(function (m) { return { code: m, label: m }; }), _('(not given)'));
    fill(f.risk, tax.risk_levels);
    fill(f.outcome, tax.outcomes);
    f.primary_category.addEventListener('change', function () {
      var cat = tax.categories.filter(function (c) { return c.code === f.primary_category.value; })[0];
      fill(f.sub_category, cat ? cat.sub : [], _('(none)'));
    });
    ['age_band', 'gender', 'municipality', 'contact_by'].forEach(function (name) {
      var value = prefill[name === 'contact_by' ? 'who' : name];
      if (value) f[name].value = value;
    });
    // Most calls come from a child: one key less for the usual case, one letter to change it.
    if (f.channel && !f.contact_by.value) f.contact_by.value = 'child';
  }

  /* Builds the form in `area`. options: conv (a chat's id: its wrap-up) or none (a contact on
   * another channel); prechat; onSaved(record). Returns the form. */
  function contactForm(area, options) {
    var chat = !!options.conv;
    var form = $('contact-form-template').content.firstElementChild.cloneNode(true);
    Array.prototype.forEach.call(form.querySelectorAll('[data-only]'), function (part) {
      if (part.getAttribute('data-only') !== (chat ? 'chat' : 'contact')) part.parentNode.removeChild(part);
    });
    area.appendChild(form);
    var timer = chat ? null : new Timer(form);
    var ref = chat ? null : newRef();
    var ready = loadTaxonomy().then(function (tax) { setUp(form, tax, options.prechat || {}); });
    form.elements.note.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var error = form.querySelector('.case-error');
      error.textContent = '';
      var data = body(form);
      if (data.contact_type === 'counselling' && !data.primary_category) {
        error.textContent = _('Choose the main category of a counselling contact.');
        form.elements.primary_category.focus();
        return;
      }
      if (!chat) {
        if (timer.running()) timer.stop();
        var times = when(form, timer);
        if (!times) {
          error.textContent = _('Start the timer, or type when the contact started.');
          form.elements.started.focus();
          return;
        }
        data.channel = form.elements.channel.value;
        data.started_at = times.started_at;
        data.duration_seconds = times.duration_seconds;
      }
      var bound = chat ? options.conv : 'contact:' + ref;
      var path = chat ? '/console/api/cases/' + encodeURIComponent(options.conv)
        : '/console/api/contacts/' + encodeURIComponent(ref);
      var text = form.elements.note.value.trim();
      var sealed = text ? C.noteReaders().then(function (cards) {
        var note = C.sealNote(bound, text, cards);
        data.note = note.note;
        data.note_keys = note.note_keys;
      }) : Promise.resolve();
      sealed.then(function () { return C.post(path, data, 'PUT'); })
        .then(function (record) { options.onSaved(record, form, data); })
        .catch(function (e) { error.textContent = e.message; });
    });
    form.ready = ready;
    form.timer = timer;
    return form;
  }

  function actionButton(text, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  /* Once a contact is saved: open a case from it, or link it to one of the open cases I am on
   * (console_casework.js does the keys: the note key is sealed under the case key, here). */
  function offerCase(box, saved, data) {
    if (!C.casework) return;
    var record = { record: saved.id, note: data.note || null, note_keys: data.note_keys || null };
    var offer = document.createElement('div');
    offer.className = 'contact-case';
    var text = document.createElement('p');
    text.textContent = _('Open a case from this contact, or link it to an open case.');
    var error = document.createElement('p');
    error.className = 'error';
    error.setAttribute('role', 'alert');
    function done(promise) {
      error.textContent = '';
      promise.then(function (caseId) {
        if (offer.parentNode) offer.parentNode.removeChild(offer);
        C.casework.openCase(caseId);
      }).catch(function (e) { error.textContent = e.message; });
    }
    offer.appendChild(text);
    offer.appendChild(actionButton(_('Open a case'), function () { done(C.casework.createCase(record)); }));
    box.appendChild(offer);
    C.get('/console/api/casework').then(function (list) {
      var open = list.cases.filter(function (c) { return c.status === 'open'; });
      if (!open.length) return;
      var label = document.createElement('label');
      label.textContent = _('Link to') + ' ';
      var select = document.createElement('select');
      open.forEach(function (c) {
        select.appendChild(new Option(C.casework.caseName(c.id) + ' (' + c.owner_name + ')', c.id));
      });
      label.appendChild(select);
      offer.appendChild(label);
      offer.appendChild(actionButton(_('Link'), function () {
        var caseId = Number(select.value);
        done(C.casework.attachRecord(caseId, record).then(function () { return caseId; }));
      }));
    }).catch(function () {}).then(function () { offer.appendChild(error); });
  }

  /* "Record a contact" in the cases view: the form for a call, e-mail, visit, letter or report. */
  function openRecordForm() {
    var box = $('record-contact');
    var existing = box.querySelector('form');
    if (existing) { existing.querySelector('.contact-timer').focus(); return; }
    var form = contactForm(box, {
      onSaved: function (saved, _form, data) {
        box.removeChild(form);
        var done = box.querySelector('.case-saved') || document.createElement('p');
        done.className = 'case-saved';
        done.setAttribute('role', 'status');
        done.textContent = _('Contact recorded.');
        box.appendChild(done);
        offerCase(box, saved, data);
        $('record-contact-open').focus();
        var search = $('case-search');
        if (search && search.requestSubmit) search.requestSubmit();
      }
    });
    ['.case-saved', '.contact-case'].forEach(function (selector) {
      var old = box.querySelector(selector);
      if (old) box.removeChild(old);
    });
    form.ready.then(function () { form.querySelector('.contact-timer').focus(); });
  }

  $('record-contact-open').addEventListener('click', openRecordForm);

  C.contactForm = contactForm;
  C.loadTaxonomy = loadTaxonomy;
}());
