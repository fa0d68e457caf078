/* The child's side of a voice call (issue 24, docs/adr/0033-voice-calls.md), in the voice_child
 * bundle (its strings in front, helpline/bundle.py) that child.js loads only when a call starts. The child asks for a call or answers the
 * counsellor's offer; the voice is disguised on this device before it is sent (on by default);
 * one tap ends the call; nothing is recorded. The counsellor's page always makes the offer. */
(function (root) {
  'use strict';

  var V = root.HelplineVoice;
  var DISGUISE = 0.75; // the pitch factor of the disguised voice: a quarter lower

  /* api (from child.js): W, _, send(frame, onReply), newId(), chat() -> {conv, key} or null,
   * note(text), box (the #voice element). */
  root.HelplineVoiceChild = function (api) {
    var W = api.W, box = api.box;
    var STRINGS = (root.HELPLINE_BUNDLE_STRINGS || {})[api.lang] || {}; // in front of this bundle (helpline/bundle.py)
    function _(text) { return STRINGS[text] || text; }
    var call = null, callId = null, ticket = null, early = [], disguise = true, stateLine = null;

    function el(tag, text, cls) {
      var node = document.createElement(tag);
      if (text) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    }

    function signal(body) {
      var c = api.chat();
      if (!c || !callId) return;
      var id = api.newId();
      body.call = callId;
      api.send({ type: 'signal', id: id, conv: c.conv, body: V.seal(W, c.key, c.conv, 'child', id, body) });
    }

    /* The call panel: what is happening, the disguise choice, that nothing is recorded, buttons. */
    function render(text, buttons) {
      box.textContent = '';
      stateLine = el('p', text, 'voice-state');
      stateLine.setAttribute('role', 'status');
      box.appendChild(stateLine);
      var label = el('label', '', 'voice-disguise');
      var check = el('input');
      check.type = 'checkbox';
      check.id = 'voice-disguise';
      check.checked = disguise;
      check.disabled = !!call;
      check.addEventListener('change', function () { disguise = check.checked; });
      label.appendChild(check);
      label.appendChild(document.createTextNode(' ' + _('Change my voice so it is harder to recognise')));
      box.appendChild(label);
      box.appendChild(el('p', _('Nothing is recorded. Only your counsellor hears you.'), 'hint'));
      buttons.forEach(function (b) {
        var button = el('button', b[0], b[2]);
        button.type = 'button';
        button.addEventListener('click', b[1]);
        box.appendChild(button);
      });
      box.hidden = false;
      api.askButton.hidden = true;
    }

    function close(text) {
      box.textContent = '';
      box.hidden = true;
      api.askButton.hidden = false;
      call = null;
      callId = null;
      ticket = null;
      early = [];
      if (text) api.note(text);
    }

    var ENDED = {
      fingerprint: _('This call was not safe, so we ended it. You can keep writing here.'),
      dropped: _('The call dropped. You can keep writing here.'),
      microphone: _('We could not use your microphone. You can keep writing here.'),
      failed: _('The call did not work. You can keep writing here.')
    };

    function onState(state, reason) {
      if (state === 'connected') stateLine.textContent = _('You are talking with your counsellor.');
      else if (state === 'retrying') stateLine.textContent = _('The call dropped. Trying again…');
      else if (state === 'ended') close(ENDED[reason] || _('The call has ended. You can keep writing here.'));
    }

    /* Credentials for the helpline's TURN server, then the call object; offers that came first wait. */
    function prepare(then) {
      var c = api.chat();
      if (!c) return;
      api.send({ type: 'turn', id: api.newId(), conv: c.conv, call: callId }, function (reply) {
        if (reply.type === 'error' || !callId) return close(ENDED.failed);
        ticket = reply;
        call = new V.Call({
          ticket: ticket, caller: false, send: signal, disguise: disguise ? DISGUISE : 0,
          onState: onState, onRemote: function (stream) { api.audio.srcObject = stream; api.audio.play().catch(function () {}); }
        });
        then();
        early.splice(0).forEach(function (s) { call.receive(s); });
      });
    }

    function hangup() {
      if (call) call.end('hangup');
      else { signal({ kind: 'hangup', reason: 'hangup' }); close(_('The call has ended. You can keep writing here.')); }
    }

    function ask() {
      callId = V.newCallId(W);
      render(_('Waiting for your counsellor to answer…'), [[_('End call'), hangup, 'danger']]);
      prepare(function () { signal({ kind: 'ask' }); });
    }

    function answer() {
      render(_('Connecting…'), [[_('End call'), hangup, 'danger']]);
      prepare(function () { signal({ kind: 'accept' }); });
    }

    function decline() {
      signal({ kind: 'decline' });
      close('');
    }

    function onSignal(frame) {
      var c = api.chat();
      var s = c && V.open(W, c.key, frame);
      if (!s) return;
      if (s.kind === 'invite' && !callId) {
        callId = s.call;
        render(_('Your counsellor would like to talk with you by voice.'),
          [[_('Answer'), answer, 'primary'], [_('Not now'), decline]]);
      } else if (s.call !== callId) {
        return;
      } else if (call) {
        call.receive(s);
      } else if (s.kind === 'hangup') {
        close(_('The call has ended. You can keep writing here.'));
      } else {
        early.push(s);
      }
    }

    return {
      ask: ask,
      signal: onSignal,
      /* Quick exit or the end of the chat: the call ends at once, the other side is told. */
      quit: function () { if (call) call.end('left'); else if (callId) signal({ kind: 'hangup', reason: 'left' }); }
    };
  };
}(window));
