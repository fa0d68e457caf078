/* Voice calls in the console (issue 24, docs/adr/0033-voice-calls.md): the counsellor offers a
 * call or answers the child's request; the WebRTC part (helpline/static/js/voice.js) loads only
 * when the first call starts. This page always makes the offer. The child's voice arrives already
 * disguised by the child's page; nothing is recorded. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var _ = C._;
  var loaded = null;

  function loadVoice() {
    if (loaded) return loaded;
    loaded = new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = C.CONFIG.voice.src;
      script.integrity = C.CONFIG.voice.integrity;
      script.onload = function () { resolve(window.HelplineVoice); };
      script.onerror = function () { loaded = null; reject(new Error('voice')); };
      document.head.appendChild(script);
    });
    return loaded;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  var ENDED = {
    fingerprint: function () { return _('The call was ended: the connection was not the child\'s own (its key did not match). Keep writing.'); },
    dropped: function () { return _('The call dropped and could not be restored. Keep writing.'); },
    microphone: function () { return _('The call could not use your microphone.'); },
    left: function () { return _('The child left the call.'); },
    remote: function () { return _('The child ended the call.'); },
    declined: function () { return _('The child does not want a call now.'); }
  };

  function setup(chat) {
    var actions = chat.panel.querySelector('.chat-actions');
    if (!C.CONFIG.voice || !actions) return;
    var offer = el('button', _('Offer a voice call'), 'voice-offer');
    offer.type = 'button';
    actions.appendChild(offer);
    var area = el('div', '', 'voice-area');
    area.hidden = true;
    var state = el('p', '', 'voice-state');
    state.setAttribute('role', 'status');
    var audio = el('audio');
    audio.className = 'voice-audio';
    var hang = el('button', _('End call'), 'voice-end');
    hang.type = 'button';
    var answer = el('button', _('Start the call'), 'voice-answer');
    answer.type = 'button';
    area.appendChild(state);
    area.appendChild(el('p', _('Nothing of the call is recorded.'), 'hint'));
    area.appendChild(answer);
    area.appendChild(hang);
    area.appendChild(audio);
    actions.parentNode.insertBefore(area, actions);
    var v = chat.voice = { id: null, call: null, area: area, state: state, audio: audio, offer: offer };

    function signal(body) {
      if (!chat.key || !v.id) return;
      var id = 'v' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
      body.call = v.id;
      C.request({ type: 'signal', id: id, conv: chat.conv, body: window.HelplineVoice.seal(C.W, chat.key, chat.conv, C.me().id, id, body) })
        .catch(function () { /* the other side learns of a lost call from the drop */ });
    }
    v.signal = signal;

    function show(text, canAnswer) {
      area.hidden = false;
      offer.hidden = true;
      state.textContent = text;
      answer.hidden = !canAnswer;
    }

    function done(text) {
      area.hidden = true;
      offer.hidden = !!chat.ended;
      v.id = null;
      v.call = null;
      audio.srcObject = null;
      if (text) C.note(chat, text);
    }
    v.done = done;

    function start() {
      show(_('Connecting…'), false);
      loadVoice().then(function (V) {
        return C.request({ type: 'turn', conv: chat.conv, call: v.id }).then(function (ticket) {
          v.call = new V.Call({
            ticket: ticket, caller: true, send: signal, disguise: 0,
            onRemote: function (stream) { audio.srcObject = stream; audio.play().catch(function () {}); },
            onState: function (s, reason, seconds) {
              if (s === 'connected') state.textContent = _('On a call with the child.');
              else if (s === 'retrying') state.textContent = _('The call dropped. Trying once more…');
              else if (s === 'ended') {
                // The call is a contact of the chat: its length is recorded, nothing else (ADR 0033).
                if (seconds > 0) C.request({ type: 'voice_record', conv: chat.conv, call: v.id, seconds: seconds }).catch(function () {});
                runEnded(chat, seconds);
                done((ENDED[reason] || function () { return _('The call has ended.'); })());
              }
            }
          });
          return v.call.start();
        });
      }).catch(function () { done(_('The call could not start.')); });
    }
    v.start = start;

    offer.addEventListener('click', function () {
      v.id = C.W.b64uEncode(window.nacl.randomBytes(12));
      show(_('Waiting for the child to answer…'), false);
      signal({ kind: 'invite' });
    });
    answer.addEventListener('click', start);
    hang.addEventListener('click', function () {
      if (v.call) v.call.end('hangup');
      else { signal({ kind: 'hangup', reason: 'hangup' }); done(_('The call has ended.')); }
    });
  }

  /* Other console files may record the call (a contact of the chat: channel voice, its length). */
  var endedListeners = [];
  function runEnded(chat, seconds) { endedListeners.forEach(function (fn) { fn(chat, seconds); }); }

  function onSignal(frame) {
    var chat = C.chats[frame.conv];
    if (!chat || !chat.voice || !chat.key) return;
    var v = chat.voice;
    var handle = function (Voice) {
      var s = Voice.open(C.W, chat.key, frame);
      if (!s) return;
      if (s.kind === 'ask' && !v.id) {
        v.id = s.call;
        v.area.hidden = false;
        v.offer.hidden = true;
        v.state.textContent = _('The child asks for a voice call.');
        v.area.querySelector('.voice-answer').hidden = false;
        return;
      }
      if (s.call !== v.id) return;
      if (s.kind === 'accept' && !v.call) return v.start();
      if (s.kind === 'decline') return v.done(ENDED.declined());
      if (v.call) return v.call.receive(s);
      if (s.kind === 'hangup') v.done(s.reason === 'left' ? ENDED.left() : ENDED.remote());
    };
    loadVoice().then(handle);
  }

  C.hook('panel', setup);
  C.hook('ended', function (chat) {
    if (chat.voice && chat.voice.call) chat.voice.call.end('hangup');
    if (chat.voice) chat.voice.offer.hidden = true;
  });
  C.on('signal', onSignal);
  C.voice = {
    onCallEnded: function (fn) { endedListeners.push(fn); },
    /* A voice call in the case timeline (console_casework.js): a contact of the chat, its length only. */
    line: function (call) {
      var minutes = String(Math.max(1, Math.round(call.seconds / 60)));
      return el('p', _('Voice call, {n} min').replace('{n}', minutes), 'case-voice');
    }
  };
}());
