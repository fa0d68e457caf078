/* A message in a chat panel: who wrote it, when (the helpline's time zone, the console's language)
 * and, for the counsellor's own words, whether it is sending, stored or failed. The text stays in its
 * own paragraph (`.from-child`, `.from-staff`, `.from-colleague`); the line around it carries the rest. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var _ = C._;

  var STATES = {
    sending: _('Sending…'),
    stored: _('Stored'),
    failed: _('Not sent')
  };

  function writer(chat, from) {
    if (from === 'child') return chat.prechat && chat.prechat.who === 'adult' ? _('Adult') : _('Child');
    if (C.me() && from === C.me().id) return _('You');
    return _('Colleague');
  }

  function wrap(chat, text, meta) {
    var line = document.createElement('div');
    line.className = 'line';
    if (meta.cid) line.setAttribute('data-cid', meta.cid);
    var head = document.createElement('p');
    head.className = 'line-meta';
    var who = document.createElement('span');
    who.className = 'line-who';
    who.textContent = writer(chat, meta.from);
    var at = document.createElement('time');
    at.className = 'line-time';
    var date = new Date(meta.at || Date.now());
    at.setAttribute('datetime', date.toISOString());
    at.textContent = HelplineL10n.time(date, C.CONFIG.lang, C.CONFIG.timezone);
    at.title = C.when(date);
    head.appendChild(who);
    head.appendChild(document.createTextNode(' · '));
    head.appendChild(at);
    line.appendChild(head);
    line.appendChild(text);
    if (meta.state) mark(text, meta.state);
    return line;
  }

  /* Sets a line's state; the words are there for everyone, not only the colour. */
  function mark(text, state) {
    var line = text.parentNode;
    if (!line || !line.classList.contains('line')) return;
    line.setAttribute('data-state', state);
    var label = line.querySelector('.line-state');
    if (!label) {
      label = document.createElement('span');
      label.className = 'line-state';
      line.querySelector('.line-meta').appendChild(label);
    }
    label.textContent = ' · ' + STATES[state];
  }

  /* The pre-chat answers' codes in words (the queue, the chat's context). A question left unanswered
   * says so: it is not "child" nor a dash that could mean anything. */
  var LABELS = {
    who: { child: _('Child'), adult: _('Adult about a child') },
    gender: { girl: _('Girl'), boy: _('Boy'), other: _('Other'), unsaid: _('Did not say') },
    age_band: { under10: _('Under 10'), '10-12': _('10 to 12'), '13-15': _('13 to 15'), '16-17': _('16 to 17'),
      '18plus': _('18 or older') },
    topic: { online: _('Something that happened online'), bullying: _('Bullying'), family: _('Family'),
      relationships: _('Friends or relationships'), school: _('School'), feelings: _('Feelings'),
      health: _('Body and health'), violence: _('Violence or abuse'), other: _('Something else') },
    danger: { 'true': _('Yes'), 'false': _('No') }
  };

  function label(kind, code) {
    if (code == null || code === '') return _('Not answered');
    var known = LABELS[kind] && LABELS[kind][String(code)];
    return known || String(code);
  }

  window.HelplineLines = { wrap: wrap, mark: mark, label: label };
}());
