/* While a child waits (ADR 0027): when nobody can answer soon, our number and a message left for the
 * team; and "I am in danger now". child.js loads this bundle only when it is needed, so the first
 * load stays small; its strings come with it (HELPLINE_BUNDLE_STRINGS, helpline/bundle.py). The
 * message is written in the chat's own box and encrypted with the chat's key, which is wrapped
 * here for every counsellor and supervisor whose key the pinned org key signed (readers.js, as
 * the report page does for officers): whoever comes next can read it, the server cannot. */
(function (root) {
  'use strict';

  var W = root.HelplineWire;

  /* `page`: what child.js shares: lang, numbers (the pack's, from the page config), $, org (the pinned
   * key), deliver(build, onDone), note(text), chat(), session(). */
  root.HelplineWaiting = function (page) {
    var STRINGS = (root.HELPLINE_BUNDLE_STRINGS || {})[page.lang] || {};
    var NUMBERS = page.numbers || {};
    var $ = page.$;
    var box = null;
    var left = false;
    var leaving = false;

    function _(text) { return STRINGS[text] || text; }

    /* A sentence whose `%(name)s` placeholders become tel: links to the page's numbers (ADR 0038). */
    function withNumbers(el, text) {
      el.textContent = '';
      text.split(/(%\(\w+\)s)/).forEach(function (part) {
        var name = /^%\((\w+)\)s$/.exec(part);
        if (!name || !NUMBERS[name[1]]) return el.appendChild(document.createTextNode(part));
        if (name[1] === 'brand') return el.appendChild(document.createTextNode(NUMBERS.brand));
        var link = document.createElement('a');
        link.href = 'tel:' + NUMBERS[name[1]].replace(/\s/g, '');
        link.textContent = NUMBERS[name[1]];
        el.appendChild(link);
      });
      return el;
    }

    function part(tag, id, text) {
      var el = document.createElement(tag);
      if (id) el.id = id;
      if (text) withNumbers(el, text);
      return el;
    }

    function ensureBox() {
      if (box) return box;
      box = part('div', 'waiting-offer');
      box.className = 'notice';
      box.appendChild(part('p', 'waiting-why'));
      box.appendChild(part('p', null, _('You can call %(helpline)s for free. Or leave a message here: a counsellor will answer it, and you read the answer with your resume code.')));
      var button = part('button', 'leave-message');
      button.type = 'button';
      button.textContent = _('Leave a message');
      button.addEventListener('click', leave);
      box.appendChild(button);
      var status = part('p', 'leave-status');
      status.setAttribute('role', 'status');
      box.appendChild(status);
      $('waiting-help').appendChild(box);
      return box;
    }

    /* A `position` frame: nobody on duty, or a wait beyond the limit, brings the offer. */
    function position(p) {
      if (left) return;
      if (!p.offer_message) {
        if (box) box.hidden = true;
        return;
      }
      ensureBox().hidden = false;
      var why = p.on_duty === false ? _('Nobody can answer in the chat right now.')
        : _('The wait is long right now.');
      if ($('waiting-why').textContent !== why) $('waiting-why').textContent = why;
    }

    function say(text) { withNumbers($('leave-status'), text); }

    function leave() {
      if (leaving || left) return;
      leaving = true;
      var chat = page.chat();
      var session = page.session();
      page.deliver(function (id) { return { type: 'readers', id: id, conv: chat.conv }; }, function (reply) {
        var keys;
        try {
          if (reply.type !== 'ack' || !reply.readers.length) throw new Error('no readers');
          keys = W.wrapForReaders(page.org, reply.readers, chat.key, session.keys.secretKey, W.CHAT_ROLES);
        } catch (e) {
          leaving = false;
          return say(_('The message could not be left. Please call %(helpline)s.'));
        }
        page.deliver(function (id) {
          return { type: 'leave_message', id: id, conv: chat.conv,
            keys: keys.map(function (k) { return { for: k.reader, key: k.wrapped_key }; }) };
        }, function (answer) {
          leaving = false;
          if (answer.type === 'ack') return saved();
          if (answer.code === 'bad_state') {
            say(_('First write your message in the box below and send it. Then press “Leave a message”.'));
            return $('message-input').focus();
          }
          say(_('The message could not be left. Please call %(helpline)s.'));
        });
      });
    }

    /* The message is left (now, or before this page was opened with the resume code). */
    function saved() {
      left = true;
      ensureBox().hidden = false;
      $('leave-message').hidden = true;
      $('waiting-why').textContent = '';
      $('queue-position').textContent = ''; // no place in the queue: the message waits for the team
      say(_('Your message is saved. A counsellor will answer it. Keep your resume code: come back with it to read the answer.'));
    }

    /* The emergency and police numbers as links at the top of the queue screen (page.emergency). */
    function danger() {
      page.emergency();
      var chat = page.chat();
      $('in-danger').disabled = true;
      page.deliver(function (id) { return { type: 'danger', id: id, conv: chat.conv }; }, function (reply) {
        if (reply.type !== 'ack') return ($('in-danger').disabled = false);
        $('in-danger').hidden = true;
        page.note(_('We told the team. A counsellor will answer you first.'));
      });
    }

    return { position: position, saved: saved, danger: danger };
  };
}(typeof self !== 'undefined' ? self : this));
