/* A referral to several agencies (issue 19, ADR 0035), shared by the console and the officers'
 * portal: the agencies on the referral with their state, and the one thread they share with the
 * helpline. The thread key arrives wrapped for this reader, as the referral key does; messages are
 * sealed and opened here, so the server sees ciphertext only. Each agency's details stay in its own
 * part of the referral, which no other agency holds a key to. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var W = C.W;
  var _ = C._;

  function keyOf(thread) {
    if (!thread || !thread.key) return null;
    return W.unwrapKey(thread.key.wrapped_key,
      W.sharedKey(W.b64uDecode(thread.key.wrapper_public_key), C.secretKey()));
  }

  /* Readers who came later (an officer who enrolled, a part re-routed) get the thread key from
   * whoever holds it and reads the referral next. */
  function passOn(thread, key, base) {
    if (!key || !thread.missing_readers || !thread.missing_readers.length) return Promise.resolve();
    var keys;
    try { keys = R.wrapFor(thread.missing_readers, key); } catch (e) { return Promise.resolve(); }
    return C.post(base + '/thread-keys', { keys: keys }).catch(function () {});
  }

  function legLine(leg) {
    var text = leg.agency_name + ' · ' + R.label('state', leg.state)
      + (leg.outcome ? ': ' + R.label('outcome', leg.outcome) : '');
    return leg.this ? _('{agency} (this part)').replace('{agency}', text) : text;
  }

  function drawMessages(list, thread, key) {
    list.textContent = '';
    thread.messages.forEach(function (message) {
      var item = R.el('li', null, 'thread-message');
      item.setAttribute('data-message', message.id);
      item.appendChild(R.el('span', R.when(message.at), 'when'));
      item.appendChild(document.createTextNode(' · '));
      item.appendChild(R.el('strong', message.agency || _('Helpline'), 'agency'));
      item.appendChild(document.createTextNode(' · '));
      item.appendChild(R.el('span', message.actor_name, 'who'));
      var text;
      try { text = key ? R.openText(key, message.body) : null; } catch (e) { text = null; }
      item.appendChild(R.el('p', text == null ? _('This text does not open with your key.') : text, 'body'));
      list.appendChild(item);
    });
    if (!thread.messages.length) list.appendChild(R.el('li', _('No messages yet.'), 'empty'));
  }

  function form(prefix, key, base, reload) {
    var box = R.el('form', null, 'thread-form no-print');
    var label = R.el('label', _('Message to everyone on this referral (encrypted)'));
    label.setAttribute('for', prefix + '-thread-body');
    var area = document.createElement('textarea');
    area.id = prefix + '-thread-body';
    area.rows = 2;
    area.maxLength = 4000;
    var button = R.el('button', _('Send to the thread'));
    button.type = 'submit';
    var error = R.el('p', null, 'error thread-error');
    error.setAttribute('role', 'alert');
    box.appendChild(label);
    box.appendChild(area);
    box.appendChild(button);
    box.appendChild(error);
    box.addEventListener('submit', function (event) {
      event.preventDefault();
      var text = area.value.trim();
      if (!text) { error.textContent = _('Write your message.'); area.focus(); return; }
      button.disabled = true;
      C.post(base + '/thread', { body: R.sealText(key, text) }).then(function () {
        return reload();
      }).then(function () {
        var again = document.getElementById(prefix + '-thread-body');
        if (again) again.focus();
      }).catch(function (e) {
        error.textContent = e.message;
        button.disabled = false;
      });
    });
    return box;
  }

  /* Draws the agencies and the thread after `anchor` (replacing an earlier drawing); nothing for a
   * referral to one agency. `reload` reads the referral again after a message is sent. */
  function draw(anchor, read, base, prefix, reload) {
    var old = anchor.parentNode.querySelector('.ref-thread');
    if (old) old.parentNode.removeChild(old);
    var thread = read.thread;
    if (!thread) return Promise.resolve();
    var key = null;
    try { key = keyOf(thread); } catch (e) { key = null; }
    var section = R.el('section', null, 'ref-thread');
    var legsTitle = R.el('h2', _('Agencies on this referral'));
    legsTitle.id = prefix + '-legs-title';
    section.setAttribute('aria-labelledby', legsTitle.id);
    section.appendChild(legsTitle);
    var legs = R.el('ul', null, 'ref-legs');
    thread.legs.forEach(function (leg) {
      var item = R.el('li', legLine(leg));
      item.setAttribute('data-agency', leg.agency);
      legs.appendChild(item);
    });
    section.appendChild(legs);
    section.appendChild(R.el('h2', _('Shared thread')));
    section.appendChild(R.el('p', _('Every agency on this referral and the helpline read this thread. The details above stay with the agency they were shared with.'), 'hint'));
    var list = R.el('ol', null, 'thread-messages');
    drawMessages(list, thread, key);
    section.appendChild(list);
    if (!key) {
      section.appendChild(R.el('p', _('Your key to the thread was added after this referral was sent.'), 'hint'));
    } else if (read.state !== 'returned' && read.state !== 'draft') {
      section.appendChild(form(prefix, key, base, reload));
    }
    anchor.insertAdjacentElement('afterend', section);
    return passOn(thread, key, base);
  }

  C.refThread = { draw: draw, keyOf: keyOf };
}());
