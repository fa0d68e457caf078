/* The child's chat page. Screens, frames and storage are described in docs/child-page.md;
 * frames follow docs/protocol.md and all cryptography goes through HelplineWire (wire.js). */
(function () {
  'use strict';

  var W = window.HelplineWire;
  var CONFIG = JSON.parse(document.getElementById('helpline-config').textContent);
  var STRINGS = CONFIG.strings || {};
  var pluralForm = window.HelplinePlural.translator(CONFIG); // the locale's CLDR rule (plural.js)
  var STORE_SECRET = 'helpline.secret';
  var STORE_SEQ = 'helpline.seq';
  var STORE_DEVICE = 'helpline.device';
  var STORE_LOCKED = 'helpline.locked'; // while locked: a one-way check of the resume secret, nothing that decrypts
  var STORE_ACTIVE = 'helpline.active'; // when the child last touched the page, for a tab restored later
  var DEVICE_DAYS = 7;
  var PING_EVERY = 25000;
  var ACK_WITHIN = 10000;
  var BACKOFF_MIN = 500;
  var BACKOFF_MAX = 10000;
  var TYPING_EVERY = 3000;
  var TYPING_SHOWN = 5000;
  var ESCAPE_WINDOW = 1500;
  var TRANSIENT = { rate_limited: true, unavailable: true };
  var EVENTS = {
    position: onPosition, assigned: onAssigned, msg: onMessage, typing: onTyping, ended: onEnded,
    reconnect: onReconnect, transferred: onTransferred, joined: onJoined, safety_help: onSafetyHelp
  };
  var SCREEN_OF = {
    welcome: 'screen-welcome', prechat: 'screen-prechat', queue: 'screen-chat', chat: 'screen-chat',
    ended: 'screen-chat', resume: 'screen-resume', closed: 'screen-closed', lock: 'screen-lock'
  };

  function _(text) {
    return STRINGS[text] || text;
  }

  /* A translated sentence with the pack's numbers and brand in its placeholders (as fmt.js does for the other pages, ADR 0038). */
  function withNumbers(text) {
    var numbers = CONFIG.numbers || {};
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return numbers.hasOwnProperty(name) ? numbers[name] : whole;
    });
  }

  /* The catalog's form for n by the locale's plural rule; {n} becomes the number in the locale's style. */
  function _n(singular, plural, n) {
    return pluralForm(singular, plural, n).replace('{n}', formatNumber(n));
  }

  /* Whole numbers with the group separator Babel gives for the locale (sq_AL: "1 234"). */
  function formatNumber(n) {
    var group = (CONFIG.number || {}).group || ',';
    return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  }

  function $(id) {
    return document.getElementById(id);
  }

  /* The org key comes only from the bundle (its hash is published), never from the page. */
  var ORG_KEY = (function () {
    try {
      return W.b64uDecode(window.HELPLINE_ORG_KEY);
    } catch (e) {
      return null;
    }
  })();

  var session = null;   // { secret, keys, token, self }: who this child is
  var chat = newChat(); // the conversation on this page
  var outbox = [];      // frames that must be delivered, in order, until their reply
  var pending = {};     // frame id -> reply handler, for the current socket
  var socket = null;
  var ready = false;    // the start/resume of this socket was acknowledged
  var stopped = true;   // no reconnecting (before start, after a refusal, on quick exit)
  var attempts = 0;
  var timers = {};
  var lastTyping = 0;
  var escapes = [];
  var copied = false;
  var seenBefore = 0;   // messages up to this seq were shown before a reload: not announced again
  var locked = null;    // while the chat is locked: the screen to show again after unlocking
  var lastActive = Date.now();
  var puzzleFor = null; // the start frame whose proof of work is being computed
  var puzzleRuns = 0; // counts puzzles begun, so only the newest keeps solving
  var pin = null;       // { salt, hash, tries }: a PIN the child chose, in memory only
  var draft = '';       // what the child was typing when the chat locked, given back on unlocking
  var heldNotes = [];   // notes that came while locked, shown after the history is fetched again
  var notesAfter = -1;  // the seq the history must reach before the held notes are shown

  function newChat() {
    return { conv: null, key: null, state: null, lastSeq: 0, startFrame: null, wrapped: {}, mine: {} };
  }

  function newId() {
    return W.b64uEncode(window.nacl.randomBytes(12));
  }

  function store(name, value) {
    try {
      if (value === null) sessionStorage.removeItem(name);
      else sessionStorage.setItem(name, value);
    } catch (e) { /* storage can be disabled; the chat still works in this tab */ }
  }

  /* A random device token, kept a week, never tied to an address: lets a block reach this
   * browser too (chat/abuse.py). Quick exit wipes it with everything else. */
  function deviceToken() {
    var now = Date.now();
    try {
      var kept = (localStorage.getItem(STORE_DEVICE) || '').split('.');
      if (kept.length === 2 && Number(kept[1]) > now) return kept[0];
      var token = W.b64uEncode(window.nacl.randomBytes(32));
      localStorage.setItem(STORE_DEVICE, token + '.' + (now + DEVICE_DAYS * 864e5));
      return token;
    } catch (e) {
      return undefined; // storage disabled: the server goes by the resume identity alone
    }
  }

  // -- discreet mode and the lock -----------------------------------------------------------------

  /* Once a chat is open the tab says nothing about us (the icon is already blank), and the page
   * never asks for notifications. */
  function discreet() {
    document.title = _('Notes');
  }

  function active() {
    lastActive = Date.now();
  }

  /* After CONFIG.autolock_minutes without a touch or key, the chat hides until the resume code. */
  function checkIdle() {
    clearTimeout(timers.idle);
    var limit = (CONFIG.autolock_minutes || 5) * 60000;
    var left = lastActive + limit - Date.now();
    if (left <= 0 && session && !locked && chat.state !== 'refused') lock();
    timers.idle = setTimeout(checkIdle, Math.max(500, Math.min(left, 30000)));
  }

  /* Hides the chat and keeps nothing that decrypts where a reload, a restored tab or Back could
   * find it: the resume secret leaves the tab's storage (a one-way check stays, so a reload shows
   * this screen again), and every decrypted word, the code and the draft leave the page. The keys
   * stay in memory only, for the PIN; unlocking fetches the history again. */
  function lock() {
    var now = document.body.getAttribute('data-state');
    show('lock');
    locked = now;
    if (session) store(STORE_LOCKED, lockCheck(session.secret));
    store(STORE_SECRET, null);
    store(STORE_ACTIVE, null);
    draft = $('message-input').value;
    ['messages', 'resume-code', 'counsellor', 'message-input', 'copy-status', 'case-status-list']
      .forEach(function (id) { $(id).textContent = ''; });
    $('case-status').hidden = true;
    caseStatusAsked = false;  // asked again on unlock
    $('message-input').value = '';
    $('typing').hidden = true;
    seenBefore = Math.max(seenBefore, chat.lastSeq);
    chat.lastSeq = 0;
    chat.mine = {};
    $('code-box').open = false;
    $('unlock-input').value = '';
    $('unlock-error').textContent = '';
  }

  /* What the lock screen keeps to know the right code after a reload: a hash, not the secret. */
  function lockCheck(secret) {
    var label = 'helpline-lock:';
    var bytes = new Uint8Array(label.length + secret.length);
    for (var i = 0; i < label.length; i++) bytes[i] = label.charCodeAt(i);
    bytes.set(secret, label.length);
    return W.b64uEncode(window.nacl.hash(bytes).subarray(0, 16));
  }

  function storedLock() {
    try {
      return sessionStorage.getItem(STORE_LOCKED);
    } catch (e) {
      return null;
    }
  }

  function pinHash(salt, text) {
    var bytes = new Uint8Array(salt.length + text.length);
    bytes.set(salt);
    for (var i = 0; i < text.length; i++) bytes[salt.length + i] = text.charCodeAt(i);
    return W.b64uEncode(window.nacl.hash(bytes));
  }

  function savePin(event) {
    event.preventDefault();
    var value = $('pin-input').value.trim();
    $('pin-input').value = '';
    if (!/^[0-9]{4,8}$/.test(value)) {
      $('pin-status').textContent = _('A PIN has 4 to 8 digits.');
      return;
    }
    var salt = window.nacl.randomBytes(16);
    pin = { salt: salt, hash: pinHash(salt, value), tries: 0 };
    $('pin-status').textContent = _('PIN saved. It works only until you close this page.');
  }

  /* The resume code of this chat always unlocks; a PIN only for its first five tries, and only
   * on this page (after a reload only the code: the page kept nothing else). */
  function unlock(event) {
    event.preventDefault();
    var typed = $('unlock-input').value.trim();
    var secret = null;
    var ok = false;
    var wrong = _('This is not the code of this chat. Check it and try again.');
    if (pin && /^[0-9]{4,8}$/.test(typed)) {
      ok = pinHash(pin.salt, typed) === pin.hash;
      if (!ok && ++pin.tries >= 5) {
        pin = null;
        wrong = _('Too many wrong tries. Please type your resume code.');
      }
    } else {
      try {
        secret = W.parseResumeCode(typed);
      } catch (e) {
        if (!session && /^[0-9]{4,8}$/.test(typed)) {
          wrong = _('The PIN no longer works, because the page was opened again. Please type your resume code.');
        }
      }
      ok = !!secret && (session ? W.b64uEncode(secret) === W.b64uEncode(session.secret)
        : lockCheck(secret) === storedLock());
    }
    if (!ok) {
      $('unlock-error').textContent = wrong;
      return;
    }
    if (pin) pin.tries = 0;
    var back = locked;
    locked = null;
    store(STORE_LOCKED, null);
    $('unlock-input').value = '';
    active();
    if (!session) {
      // After a reload: the code is the chat's only key; open it as a reload would.
      useSecret(secret);
      if (seenBefore) announce(false);
      show('chat');
      return connect();
    }
    store(STORE_SECRET, W.b64uEncode(session.secret));
    $('resume-code').textContent = W.formatResumeCode(session.secret);
    $('message-input').value = draft;
    draft = '';
    show(back);
    if ((chat.conv || chat.startFrame) && chat.state !== 'refused') reopen();
    else flushNotes();
  }

  /* A new socket that resumes after 0: the history wiped by the lock comes back, decrypted again. */
  function reopen() {
    announce(false);
    notesAfter = heldNotes.length ? Infinity : -1;
    stopped = true;
    dropped();
    connect();
  }

  function flushNotes() {
    var notes = heldNotes;
    heldNotes = [];
    notesAfter = -1;
    notes.forEach(function (text) { addMessage('note', text); });
  }

  /* The child has no code after a reload, or wants to start over: this page forgets the chat
   * (the code still opens it anywhere). */
  function lockedNewChat() {
    if (session) [session.secret, session.keys.secretKey, session.self].forEach(function (b) { b.fill(0); });
    if (chat.key) chat.key.fill(0);
    forget();
    store(STORE_LOCKED, null);
    session = null;
    pin = null;
    draft = '';
    heldNotes = [];
    locked = null;
    resetChat();
    show(CONFIG.open ? 'welcome' : 'closed');
  }

  // -- screens --------------------------------------------------------------------------------

  function show(name) {
    if (locked && name !== 'lock') {
      locked = name; // shown after the child unlocks
      return;
    }
    if (name !== 'welcome' && name !== 'prechat' && name !== 'closed') discreet();
    var sectionId = SCREEN_OF[name];
    var appearing = $(sectionId).hidden;
    var previous = document.body.getAttribute('data-state');
    document.body.setAttribute('data-state', name);
    Array.prototype.forEach.call(document.querySelectorAll('main > section'), function (s) {
      s.hidden = s.id !== sectionId;
    });
    $('queue-panel').hidden = name !== 'queue';
    $('ended-panel').hidden = name !== 'ended';
    $('message-form').hidden = $('end-box').hidden = name === 'ended' || chat.state === 'refused';
    if (name === 'chat' && previous !== 'chat') $('code-box').open = false;
    // Move focus only when a new section appears, never while the child is typing in the chat.
    if (appearing) $(sectionId).querySelector('h1').focus();
    afterShow(name, previous);
  }

  function setConnection(state) {
    var el = $('connection-state');
    if (el.getAttribute('data-connection') === state) return;
    el.setAttribute('data-connection', state);
    el.textContent = state === 'online' ? _('Connected')
      : state === 'offline' ? _('No connection. Trying again…') : _('Connecting…');
  }

  function showError(text) {
    $('chat-error').textContent = text;
  }

  // -- messages -------------------------------------------------------------------------------

  function timeOf(at) {
    return new Date(at).toLocaleTimeString(CONFIG.lang, { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function line(className, text) {
    var p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }

  /* Adds a message bubble; scrolls only if the child was already at the bottom. */
  function addMessage(kind, text, at, status) {
    if (locked) { // nothing is written into a hidden chat; notes wait for the unlock
      if (kind === 'note') heldNotes.push(text);
      return null;
    }
    var log = $('messages');
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var item = document.createElement('div');
    item.className = 'msg ' + kind;
    if (kind !== 'note') item.appendChild(line('who', kind === 'me' ? _('You') : _('Counsellor')));
    item.appendChild(line('text', text));
    if (kind !== 'note') item.appendChild(line('meta', timeOf(at) + (status ? ' · ' + status : '')));
    log.appendChild(item);
    if (atBottom) log.scrollTop = log.scrollHeight;
    return item;
  }

  function markSent(item, at, status) {
    item.lastChild.textContent = timeOf(at) + (status ? ' · ' + status : '');
  }

  /* History replayed after a reload or a resume is shown without being read out again. */
  function announce(on) {
    $('messages').setAttribute('aria-live', on ? 'polite' : 'off');
  }

  /* While locked nothing is decrypted: the history is fetched again on unlocking. */
  function onMessage(m) {
    if (locked || m.conv !== chat.conv || !(m.seq > chat.lastSeq)) return;
    chat.lastSeq = m.seq;
    if (m.seq > seenBefore) store(STORE_SEQ, String(m.seq));
    if (m.seq > seenBefore) announce(true);
    var own = m.from === 'child' && chat.mine[m.cid];
    if (own) markSent(own.el, own.at, _('Sent'));
    else renderIncoming(m);
    if (m.seq >= seenBefore) announce(true);
    if (notesAfter >= 0 && chat.lastSeq >= notesAfter) flushNotes();
  }

  function renderIncoming(m) {
    var payload = null;
    try {
      payload = W.decryptMessage(chat.key, m.body, { conv: m.conv, from: m.from, cid: m.cid });
    } catch (e) { /* shown below as a neutral line: nothing to act on for the child */ }
    if (!payload) addMessage('note', _('A message could not be opened.'));
    else addMessage(m.from === 'child' ? 'me' : 'them', payload.text, payload.at);
    if (m.from !== 'child') $('typing').hidden = true;
  }

  // -- socket ---------------------------------------------------------------------------------

  function connect() {
    clearTimeout(timers.reconnect);
    stopped = false;
    ready = false;
    pending = {};
    setConnection('connecting');
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(scheme + location.host + CONFIG.ws_path);
    socket = ws;
    ws.onopen = function () {
      setConnection('online');
      timers.ping = setInterval(ping, PING_EVERY);
      if (session) greet(); // an early socket (see preconnect) waits for the start frame
    };
    ws.onmessage = function (event) {
      if (socket === ws) onFrame(event.data);
    };
    ws.onclose = function () {
      if (socket === ws) dropped();
    };
  }

  /* Forgets the socket and, unless stopped, tries again with exponential backoff. */
  function dropped() {
    var ws = socket;
    socket = null;
    ready = false;
    pending = {};
    clearInterval(timers.ping);
    clearTimeout(timers.ack);
    if (ws) ws.close();
    if (stopped) return;
    setConnection('offline');
    var delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempts++));
    timers.reconnect = setTimeout(connect, delay * (0.8 + Math.random() * 0.2));
  }

  function send(frame, onReply) {
    if (!socket || socket.readyState !== 1) return false;
    pending[frame.id] = onReply || function () {};
    socket.send(JSON.stringify(frame));
    return true;
  }

  function ping() {
    send({ type: 'ping', id: newId() }, function () { clearTimeout(timers.ack); });
    clearTimeout(timers.ack);
    timers.ack = setTimeout(dropped, ACK_WITHIN);
  }

  function onFrame(data) {
    var frame;
    try {
      frame = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (frame.type === 'ack' || frame.type === 'error') {
      var handler = pending[frame.id];
      delete pending[frame.id];
      if (handler) handler(frame);
      return;
    }
    if (EVENTS.hasOwnProperty(frame.type)) EVENTS[frame.type](frame);
  }

  /* The first frame on every socket: start a new chat, or resume it after the last seq seen.
   * The start frame keeps its id, so a start that reached the server before a drop is not doubled. */
  function greet() {
    if (chat.startFrame && !chat.conv) {
      send(chat.startFrame, onStartReply);
    } else {
      send({ type: 'resume', id: newId(), token: session.token, after: chat.lastSeq, device: deviceToken() },
        onResumeReply);
    }
  }

  function onStartReply(reply) {
    if (reply.type === 'error' && reply.code === 'pow_required' && chat.startFrame) return solvePuzzle(reply.challenge);
    if (reply.type === 'error') return onGreetError(reply);
    chat.conv = reply.conv;
    chat.startFrame = null;
    // An idempotent start may return a chat that already has a counsellor: resume to learn who.
    if (reply.state !== 'queued') return greet();
    chat.state = reply.state;
    becomeReady();
  }

  function onResumeReply(reply) {
    if (reply.type === 'error') return onGreetError(reply);
    if (!chat.key) {
      try {
        // Unwrap with our own public key, whatever the server names as wrapper: a key wrapped
        // by anyone else (the server, say) must not become this chat's key.
        chat.key = W.unwrapKey(reply.self_key, session.self);
      } catch (e) {
        return giveUp(withNumbers(_('We could not open this chat. Please start a new one or call %(helpline)s.')));
      }
    }
    chat.conv = reply.conv;
    chat.state = reply.state;
    // Resumed with a code: the history is not news. After a reload: only what came since is.
    if (!chat.lastSeq && !seenBefore) seenBefore = reply.last_seq || 0;
    seenBefore = Math.min(seenBefore, reply.last_seq || 0);
    announce(seenBefore <= chat.lastSeq);
    if (notesAfter === Infinity) notesAfter = reply.last_seq || 0;
    if (notesAfter >= 0 && chat.lastSeq >= notesAfter) flushNotes();
    if (reply.state === 'ended' || reply.state === 'abandoned') show('ended');
    else if (reply.counsellor) onAssigned({ conv: reply.conv, counsellor: reply.counsellor });
    else show('queue');
    if (reply.state === 'message') withWaiting(function (w) { w.saved(); });
    if (chat.state !== 'refused') becomeReady();
    askCaseStatus();
  }

  /* Issue 19: where her case stands, if she agreed to be told. Asked once with the resume token
   * (never by conversation id); the server sends the sentences already in her language. */
  var caseStatusAsked = false;
  function askCaseStatus() {
    if (caseStatusAsked || !session || !window.fetch) return;
    caseStatusAsked = true;
    fetch('/api/child/status?lang=' + encodeURIComponent(CONFIG.lang || 'sq'), {
      method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'omit',
      cache: 'no-store', body: JSON.stringify({ token: session.token })
    }).then(function (answer) { return answer.ok ? answer.json() : { cases: [] }; }).then(function (found) {
      var list = $('case-status-list');
      list.textContent = '';
      (found.cases || []).forEach(function (item) {
        var block = document.createElement('p');
        block.textContent = item.lines.join(' ');
        list.appendChild(block);
      });
      $('case-status').hidden = !list.firstChild;
    }, function () { caseStatusAsked = false; });
  }

  /* Under a flood the server asks for a little work first (chat/abuse.py): W.solveProof finds a
   * nonce in short slices so the page stays responsive. The price follows pressure (ADR 0020):
   * when it rose while we solved, the server sends a new puzzle and the old answer is dropped, so
   * a reconnect meanwhile does not send it again. */
  function solvePuzzle(challenge) {
    var frame = chat.startFrame;
    if (puzzleFor === frame && !frame.pow) return; // already working on it; the answer is sent when found
    puzzleFor = frame;
    delete frame.pow;
    var run = ++puzzleRuns; // a newer puzzle stops this one
    showError(_('Many children are writing right now. We are getting your chat ready…'));
    function alive() { return chat.startFrame === frame && puzzleRuns === run; } // else the child left or started over
    W.solveProof(challenge.seed, challenge.bits, alive).then(function (nonce) {
      if (nonce === null) return;
      frame.pow = { seed: challenge.seed, nonce: nonce };
      showError('');
      if (socket && ready === false && socket.readyState === 1) greet();
    });
  }

  function onGreetError(reply) {
    var byCode = document.body.getAttribute('data-state') === 'resume';
    if (reply.code === 'rate_limited' && reply.scope) {
      showError(reply.scope === 'device'
        ? _('You started many chats in a short time. Please wait a little. We will try again by ourselves.')
        : _('Many children are writing right now. Please wait a little. We will try again by ourselves.'));
      clearTimeout(timers.retry);
      timers.retry = setTimeout(function () {
        showError('');
        if (socket && socket.readyState === 1) greet();
      }, 1000 * Math.min(reply.retry_after || 15, 600));
      return;
    }
    if (reply.code === 'unavailable' || (reply.code === 'rate_limited' && !byCode)) return dropped();
    forget();
    if (byCode) {
      $('resume-submit').disabled = false;
      $('resume-error').textContent = reply.code === 'not_found'
        ? _('We could not find a chat with this code. Check it and try again.')
        : reply.code === 'rate_limited' ? _('Too many tries. Please wait a little and try again.')
          : _('Something went wrong. Please try again.');
      return;
    }
    if (reply.code === 'closed') return show('closed');
    if (reply.code === 'not_found') return show('welcome');
    if (reply.code === 'blocked') return giveUp(withNumbers(_('This chat is closed. If you need help, you can call %(helpline)s for free.')));
    giveUp(_('Something went wrong. Please try again.'));
  }

  function becomeReady() {
    ready = true;
    attempts = 0;
    outbox.forEach(transmit);
  }

  function onReconnect() {
    attempts = 0;
    dropped();
  }

  // -- the outbox: everything that must arrive, in order, exactly once ---------------------------

  /* build(id) makes the frame once the conversation is known; it is then kept, so a resend
   * after a reconnect carries the same id and body and the server stores it once. */
  function deliver(build, onDone) {
    var item = { id: newId(), build: build, frame: null, onDone: onDone, socket: null };
    outbox.push(item);
    transmit(item);
    return item;
  }

  function transmit(item) {
    if (!ready || item.socket === socket) return;
    if (!item.frame) item.frame = item.build(item.id);
    item.socket = socket;
    send(item.frame, function (reply) { settle(item, reply); });
  }

  function settle(item, reply) {
    if (reply.type === 'error' && TRANSIENT[reply.code]) {
      item.socket = null;
      clearTimeout(timers.retry);
      timers.retry = setTimeout(function () { outbox.forEach(transmit); }, 1000 * (reply.retry_after || 2));
      return;
    }
    outbox.splice(outbox.indexOf(item), 1);
    if (item.onDone) item.onDone(reply);
  }

  // -- starting, resuming, ending ---------------------------------------------------------------

  function useSecret(secret) {
    var keys = W.childKeyPair(secret);
    session = {
      secret: secret, keys: keys, token: W.b64uEncode(W.childToken(secret)),
      self: W.sharedKey(keys.publicKey, keys.secretKey)
    };
    store(STORE_SECRET, W.b64uEncode(secret));
    $('resume-code').textContent = W.formatResumeCode(secret);
  }

  function prechatAnswers() {
    var form = $('prechat-form');
    var answers = {};
    ['who', 'age_band', 'gender', 'municipality', 'topic'].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) answers[name] = value;
    });
    var danger = form.elements.danger.value;
    if (danger) answers.danger = danger === 'yes';
    return answers;
  }

  /* "Start a chat" opens the socket while the child reads the questions: on slow mobile data the
   * handshake is one round trip (seconds on 3G) that need not come after the second tap. */
  function preconnect() {
    if (!socket && !session && CONFIG.open) connect();
  }

  var returning = null;  // the resume secret of a child who came back and starts a new chat

  function startChat(event) {
    event.preventDefault();
    var fromTop = event.submitter && event.submitter.id === 'prechat-start-now';
    var early = socket && !session && socket.readyState <= 1 ? socket : null;
    socket = null; // so resetChat keeps the early socket open
    resetChat();
    useSecret(returning || W.newResumeSecret());
    session.fromCode = !!returning;
    returning = null;
    chat.key = W.newConversationKey();
    chat.startFrame = {
      type: 'start', id: newId(), token: session.token, public_key: W.b64uEncode(session.keys.publicKey),
      self_key: W.wrapKey(chat.key, session.self), prechat: prechatAnswers(), device: deviceToken()
    };
    if (chat.startFrame.prechat.danger) showEmergencyNumbers();
    if (fromTop) questionsWhileWaiting();
    if (!CONFIG.open) chat.startFrame.message = true; // out of hours: a chat to leave a message in (ADR 0027)
    show('queue');
    if (!early) return connect();
    socket = early;
    stopped = false;
    if (early.readyState === 1) greet();
  }

  function resumeWithCode(event) {
    event.preventDefault();
    var secret;
    try {
      secret = W.parseResumeCode($('resume-input').value);
    } catch (e) {
      $('resume-error').textContent =
        _('This code does not look right. A resume code has 16 letters and numbers.');
      return;
    }
    $('resume-error').textContent = _('Opening your chat…');
    $('resume-submit').disabled = true;
    resetChat();
    useSecret(secret);
    session.fromCode = true;
    connect();
  }

  function resetChat() {
    stopped = true;
    if (socket) dropped();
    chat = newChat();
    outbox = [];
    seenBefore = 0;
    store(STORE_SEQ, null);
    ['messages', 'chat-error', 'counsellor', 'queue-wait', 'feedback-thanks', 'copy-status']
      .forEach(function (id) { $(id).textContent = ''; });
    $('queue-position').textContent = _('Finding your place in the queue…');
    setFeedbackDisabled(false);
    resetPhoneParts();
  }

  /* Ends this page's hold on the chat: no more reconnects, nothing kept in the tab. */
  function forget() {
    stopped = true;
    dropped();
    store(STORE_SECRET, null);
    store(STORE_SEQ, null);
  }

  function giveUp(message) {
    forget();
    chat.state = 'refused';
    show('chat');
    showError(message);
  }

  function onPosition(p) {
    if (p.conv !== chat.conv) return;
    // "You are next!" only when someone is on duty to answer: with nobody, it would promise a reply.
    var position = p.position <= 1 ? (p.on_duty === false ? _('You are first in the queue.') : _('You are next!'))
      : _('Your place in the queue: {n}').replace('{n}', formatNumber(p.position));
    var seconds = Math.max(0, Number(p.wait_seconds) || 0);
    var minutes = Math.round(seconds / 60);
    var wait = p.wait_seconds === null ? '' : seconds < 60 ? _('Expected wait: less than a minute')
      : _n('Expected wait: about {n} minute', 'Expected wait: about {n} minutes', minutes);
    if (p.offer_message || waiting) withWaiting(function (w) { w.position(p); });
    // Rewrite only what changed, so the live region does not repeat itself.
    if ($('queue-position').textContent !== position) $('queue-position').textContent = position;
    if ($('queue-wait').textContent !== wait) $('queue-wait').textContent = wait;
  }

  // -- while waiting: the helpline's number, a left message, "in danger now" (child_waiting.js, ADR 0027)

  var waiting = null;
  var waitingWanted = [];

  /* Loads the waiting bundle once, when a waiting child first needs it. */
  function withWaiting(then) {
    if (waiting) return then(waiting);
    if (waitingWanted.push(then) > 1) return;
    var script = document.createElement('script');
    script.src = CONFIG.waiting.src;
    script.integrity = CONFIG.waiting.integrity;
    script.onload = function () {
      waiting = window.HelplineWaiting({ lang: CONFIG.lang, numbers: CONFIG.numbers || {}, $: $, org: ORG_KEY,
        deliver: deliver, note: function (text) { addMessage('note', text); }, emergency: showEmergencyNumbers,
        chat: function () { return chat; }, session: function () { return session; } });
      waitingWanted.forEach(function (fn) { fn(waiting); });
    };
    document.head.appendChild(script);
  }

  /* A counsellor took the chat. Wrap the conversation key for them only if the pinned org key
   * signed their key as a counsellor's or a supervisor's: otherwise the server could be slipping
   * in a key of its own, or an officer's or an admin's (docs/encryption.md, staff keys). */
  function onAssigned(a) {
    if (a.conv !== chat.conv) return;
    var c = a.counsellor || {};
    var publicKey = null;
    try {
      publicKey = W.b64uDecode(c.public_key);
    } catch (e) { /* not verified below */ }
    var role = ORG_KEY && publicKey ? W.staffKeyRole(ORG_KEY, c.id, publicKey, c.signature) : null;
    if (role === null) {
      refuseCounsellor(withNumbers(_('We could not check this counsellor. For your safety the chat stops here. Call %(helpline)s.')));
      return;
    }
    if (W.CHAT_ROLES.indexOf(role) < 0) {
      refuseCounsellor(withNumbers(_('The person who joined is not one of our counsellors. For your safety the chat stops here. Call %(helpline)s.')));
      return;
    }
    if (!chat.wrapped[c.id]) {
      chat.wrapped[c.id] = true;
      deliver(function (id) {
        var shared = W.sharedKey(publicKey, session.keys.secretKey);
        return { type: 'wrap', id: id, conv: chat.conv, for: c.id, key: W.wrapKey(chat.key, shared) };
      });
      shareEarlier(c.id, publicKey);
    }
    chat.state = 'active';
    // The name the counsellor chose to be called by children; a neutral word if she chose none.
    var joined = c.name ? _('A counsellor has joined the chat: {name}').replace('{name}', c.name)
      : _('A counsellor has joined the chat.');
    if (!locked && $('counsellor').textContent !== joined) $('counsellor').textContent = joined;
    show('chat');
  }

  /* A returning child: earlier answered chats are opened here, with the child's own key, and
   * wrapped for the counsellor now, so the child need not tell everything again. */
  function shareEarlier(counsellorId, publicKey) {
    deliver(function (id) { return { type: 'earlier', id: id, conv: chat.conv }; }, function (reply) {
      if (reply.type !== 'ack' || !reply.items || !reply.items.length) return;
      var shared = W.sharedKey(publicKey, session.keys.secretKey);
      reply.items.forEach(function (item) {
        var key;
        try { key = W.unwrapKey(item.self_key, session.self); } catch (e) { return; }
        deliver(function (id) {
          return { type: 'share', id: id, conv: chat.conv, earlier: item.conv, for: counsellorId,
            key: W.wrapKey(key, shared) };
        });
      });
      addMessage('note', _('Your counsellor can read your earlier chats with us. You do not have to tell everything again.'));
    });
  }

  function refuseCounsellor(message) {
    outbox = [];
    var conv = chat.conv;
    // Only the server hears of it: the chat ends, and nothing is wrapped for that key.
    if (conv) send({ type: 'leave', id: newId(), conv: conv });
    giveUp(message);
  }

  function onTyping(t) {
    if (t.conv !== chat.conv || t.from === 'child') return;
    $('typing').hidden = false;
    clearTimeout(timers.typing);
    timers.typing = setTimeout(function () { $('typing').hidden = true; }, TYPING_SHOWN);
  }

  function onEnded(e) {
    if (e.conv !== chat.conv) return;
    if (e.blocked) {
      giveUp(withNumbers(_('This chat is closed. If you need help, you can call %(helpline)s for free.')));
      return;
    }
    chat.state = e.state;
    $('typing').hidden = true;
    if (voice) voice.quit();
    show('ended');
  }

  /* A counsellor handed the chat on: say so plainly; nothing is lost. */
  function onTransferred(e) {
    if (e.conv !== chat.conv) return;
    if (e.to === 'queue') {
      chat.state = 'queued';
      addMessage('note', _('Your counsellor asked a colleague to continue. Please wait a little. Your messages are safe.'));
    } else {
      addMessage('note', _('Another counsellor will continue with you. They can read what you wrote before.'));
    }
  }

  function onJoined(e) {
    if (e.conv !== chat.conv) return;
    addMessage('note', _('A supervisor has joined to help your counsellor. They can read this chat too.'));
  }

  // The counsellor raised an emergency: the child reads, in the helpline's reviewed words, what happens.
  function onSafetyHelp(e) {
    if (e.conv !== chat.conv) return;
    addMessage('note', _('Your counsellor is asking a more experienced colleague for help, to keep you safe. You are not alone, and the chat goes on.'));
  }

  function sendMessage(event) {
    event.preventDefault();
    var input = $('message-input');
    var text = input.value.trim();
    if (!text || chat.state === 'refused') return;
    input.value = '';
    var at = Date.now();
    var el = addMessage('me', text, at, _('Sending…'));
    var item = deliver(function (id) {
      var fields = { conv: chat.conv, from: 'child', cid: id, text: text, at: at };
      return { type: 'send', id: id, conv: chat.conv, body: W.encryptMessage(chat.key, fields) };
    }, function (reply) {
      var status = reply.type === 'ack' ? _('Sent') : _('Not sent');
      if (el.isConnected) return markSent(el, at, status);
      // Wiped by the lock: shown again unless the history fetched after unlocking had it.
      if (reply.type !== 'ack' || reply.seq > chat.lastSeq) addMessage('me', text, at, status);
    });
    chat.mine[item.id] = { el: el, at: at };
  }

  function sendTyping() {
    var now = Date.now();
    if (!ready || chat.state !== 'active' || now - lastTyping < TYPING_EVERY) return;
    lastTyping = now;
    send({ type: 'typing', id: newId(), conv: chat.conv });
  }

  function endChat() {
    if (!chat.conv) {
      forget();
      return show('welcome');
    }
    deliver(function (id) {
      return { type: 'leave', id: id, conv: chat.conv };
    }, function (reply) {
      if (reply.type === 'ack') onEnded({ conv: chat.conv, state: reply.state });
    });
  }

  function sendFeedback(event) {
    var helped = event.target.getAttribute('data-helped');
    if (!helped) return;
    setFeedbackDisabled(true);
    deliver(function (id) {
      return { type: 'feedback', id: id, conv: chat.conv, helped: helped };
    }, function () {
      $('feedback-thanks').textContent = _('Thank you for telling us!');
      forget();
    });
  }

  function setFeedbackDisabled(disabled) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-helped]'), function (b) {
      b.disabled = disabled;
    });
  }

  function copyCode() {
    var code = $('resume-code').textContent;
    var done = function () {
      copied = true;
      $('copy-status').textContent = _('Copied!');
    };
    var manual = function () {
      window.getSelection().selectAllChildren($('resume-code'));
      $('copy-status').textContent = _('Select the code and copy it.');
    };
    if (navigator.clipboard) navigator.clipboard.writeText(code).then(done, manual);
    else manual();
  }

  // -- voice calls (issue 24, ADR 0033): the call is child_ui/static/voice_child.js, loaded on first use --
  var voice = null, voiceWaiting = [];
  function withVoice(run) {
    if (voice) return run(voice);
    voiceWaiting.push(run);
    if (voiceWaiting.length > 1 || !CONFIG.voice) return;
    var script = document.createElement('script');
    script.src = CONFIG.voice.src;
    script.integrity = CONFIG.voice.integrity;
    script.onload = function () {
      voice = window.HelplineVoiceChild({
        W: W, lang: CONFIG.lang, send: send, newId: newId, box: $('voice'), askButton: $('voice-ask'), audio: $('voice-audio'),
        note: function (text) { addMessage('note', text); },
        chat: function () { return chat.key && chat.conv && chat.state !== 'ended' ? chat : null; }
      });
      voiceWaiting.splice(0).forEach(function (fn) { fn(voice); });
    };
    document.head.appendChild(script);
  }
  EVENTS.signal = function (frame) {
    if (chat.key && frame.conv === chat.conv) withVoice(function (v) { v.signal(frame); });
  };

  // -- a cheap phone: danger numbers, starting first, the end where the child is looking --------

  /* The emergency and police numbers (and ours) as tel: links at the top of the chat screen, for a
   * child in danger now: shown at once from the pre-chat answer, and by the waiting screen's "I am in
   * danger now".
   * Returns the block, so a caller can move focus to it. */
  function showEmergencyNumbers() {
    var box = $('emergency-numbers');
    box.hidden = false;
    return box;
  }

  /* What each screen shows beyond its section: an ended chat says so at the top of the page, where
   * the child is looking, asks "did it help?" only if a counsellor talked with her, and no longer
   * says "Connected"; the questions answered while waiting belong to the queue only. */
  function afterShow(name, previous) {
    $('connection-state').hidden = name === 'ended';
    $('later-questions').hidden = name !== 'queue' || !$('later-questions').contains($('prechat-questions'));
    $('feedback').hidden = chat.state !== 'ended';
    if (name !== 'ended' || previous === 'ended') return;
    keepChatting();
    $('ended-title').focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  /* "End chat" asks once; "No" gives the chat back as it was. */
  function askToEnd() {
    $('end-chat').hidden = true;
    $('end-confirm').hidden = false;
    $('end-yes').focus();
  }

  function keepChatting() {
    var asking = !$('end-confirm').hidden;
    $('end-confirm').hidden = true;
    $('end-chat').hidden = false;
    if (asking && document.body.getAttribute('data-state') !== 'ended') $('end-chat').focus();
  }

  /* Started from the top of the questions: they move below the message box, and each answer
   * chosen while waiting is sent at once (the `prechat` frame, docs/protocol.md). */
  function questionsWhileWaiting() {
    $('later-questions').appendChild($('prechat-questions'));
  }

  function answerLater() {
    if (!$('later-questions').contains($('prechat-questions')) || !session) return;
    var answers = prechatAnswers();
    if (answers.danger) showEmergencyNumbers();
    // Through the outbox: built once the start is acknowledged, sent once, in order.
    deliver(function (id) { return { type: 'prechat', id: id, conv: chat.conv, prechat: answers }; });
  }

  function resetPhoneParts() {
    $('emergency-numbers').hidden = true;
    keepChatting();
    if ($('prechat-questions').parentNode !== $('prechat-form')) {
      $('prechat-form').insertBefore($('prechat-questions'), $('prechat-submit'));
    }
  }

  // -- quick exit -------------------------------------------------------------------------------

  /* Leaves at once and leaves little behind: the socket, the tab's storage, the page itself,
   * and this history entry (replace, so Back cannot return; the page never adds entries). */
  function quickExit(event) {
    if (event) event.preventDefault();
    stopped = true;
    if (voice) voice.quit(); // the call ends with the page (ADR 0033)
    if (socket) socket.close();
    socket = null;
    Object.keys(timers).forEach(function (k) { clearTimeout(timers[k]); clearInterval(timers[k]); });
    if (copied && navigator.clipboard) navigator.clipboard.writeText('').catch(function () {});
    if (session) [session.secret, session.keys.secretKey, session.self].forEach(function (b) { b.fill(0); });
    if (chat.key) chat.key.fill(0);
    session = null;
    document.title = '';
    document.documentElement.textContent = '';
    var leave = function () { location.replace(CONFIG.quick_exit_url); };
    // Everything this site could have left on the device: the keys, the resume secret, the device
    // token (in storage), and any database or cache. The page is already blank; the wipe is short.
    try {
      sessionStorage.clear();
      localStorage.clear();
    } catch (e) { /* storage disabled: nothing to clear */ }
    var wipes = [];
    try {
      if (window.indexedDB && indexedDB.databases) {
        wipes.push(indexedDB.databases().then(function (list) {
          return Promise.all(list.map(function (db) {
            return new Promise(function (done) {
              var request = indexedDB.deleteDatabase(db.name);
              request.onsuccess = request.onerror = request.onblocked = done;
            });
          }));
        }));
      }
      if (window.caches) {
        wipes.push(caches.keys().then(function (names) { return Promise.all(names.map(function (n) { return caches.delete(n); })); }));
      }
    } catch (e) { /* nothing more to wipe */ }
    if (!wipes.length) return leave();
    Promise.all(wipes).then(leave, leave);
    setTimeout(leave, 400);
  }

  function onKey(event) {
    if (event.key !== 'Escape') return;
    var now = Date.now();
    escapes = escapes.filter(function (t) { return now - t < ESCAPE_WINDOW; });
    escapes.push(now);
    if (escapes.length >= 3) quickExit();
  }

  // -- wiring -----------------------------------------------------------------------------------

  function on(id, type, handler) {
    $(id).addEventListener(type, handler);
  }

  /* On every child page: quick exit (button, or Esc three times), and links between our own pages
   * (language, safety pages, start) replace the history entry instead of adding one, so the site
   * only ever holds one entry and quick exit leaves no way back. */
  function initEveryPage() {
    on('quick-exit', 'click', quickExit);
    if ($('voice-ask')) on('voice-ask', 'click', function () { withVoice(function (v) { v.ask(); }); });
    document.addEventListener('keydown', onKey);
    document.addEventListener('click', function (event) {
      var link = event.target.closest && event.target.closest('a[data-replace]');
      if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      location.replace(link.href);
    });
  }

  function init() {
    initEveryPage();
    if (!$('screen-welcome')) return; // a safety page: nothing else to run
    ['keydown', 'pointerdown', 'touchstart', 'input'].forEach(function (type) {
      document.addEventListener(type, active, true);
    });
    document.addEventListener('visibilitychange', checkIdle);
    // A page kept for Back/Forward counts the time it was away; a closing tab notes when it was
    // last touched, so a tab restored later locks at once (resumeStoredChat).
    window.addEventListener('pageshow', function (event) { if (event.persisted) checkIdle(); });
    window.addEventListener('pagehide', function () {
      if (session && !locked) store(STORE_ACTIVE, String(lastActive));
    });
    on('unlock-form', 'submit', unlock);
    on('lock-new', 'click', lockedNewChat);
    on('pin-form', 'submit', savePin);
    checkIdle();
    on('start-chat', 'click', function () {
      show('prechat');
      preconnect();
    });
    on('prechat-form', 'submit', startChat);
    on('closed-message', 'click', function () { show('prechat'); preconnect(); });
    on('resume-link', 'click', function () {
      $('resume-error').textContent = '';
      $('resume-submit').disabled = false;
      show('resume');
    });
    on('resume-back', 'click', function () { show('welcome'); });
    on('resume-form', 'submit', resumeWithCode);
    on('in-danger', 'click', function () { withWaiting(function (w) { w.danger(); }); });
    on('message-form', 'submit', sendMessage);
    on('message-input', 'input', sendTyping);
    // Enter sends on computers; on phones it makes a new line and the Send button sends.
    var enterSends = window.matchMedia('(pointer: fine)').matches;
    on('message-input', 'keydown', function (event) {
      if (enterSends && event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        sendMessage(event);
      }
    });
    // A phone back on the network need not wait out the backoff.
    window.addEventListener('online', function () {
      if (!stopped && !socket) connect();
    });
    on('end-chat', 'click', askToEnd);
    on('end-yes', 'click', endChat);
    on('end-no', 'click', keepChatting);
    on('prechat-questions', 'change', answerLater);
    on('ended-panel', 'click', sendFeedback);
    on('copy-code', 'click', copyCode);
    on('new-chat', 'click', function () {
      // A child who came back with their code keeps it: the new chat counts as returning, and the
      // page shares the earlier chats with the new counsellor (ADR 0009).
      returning = session && session.fromCode ? session.secret.slice() : null;
      forget();
      resetChat();
      show('prechat');
    });
    resumeStoredChat();
  }

  /* A reload in the same tab continues the chat. Nothing decrypted was kept, so the whole
   * history is fetched again (after 0); what was already seen is not announced again. A chat
   * that was locked stays locked: only its code opens it. A tab restored after the idle time
   * (closed before its lock could engage) locks at once. */
  function resumeStoredChat() {
    var stored = null;
    var lastSeen = 0;
    try {
      stored = sessionStorage.getItem(STORE_SECRET);
      seenBefore = Number(sessionStorage.getItem(STORE_SEQ)) || 0;
      lastSeen = Number(sessionStorage.getItem(STORE_ACTIVE)) || 0;
    } catch (e) { /* no storage: nothing to resume */ }
    var idle = lastSeen && Date.now() - lastSeen >= (CONFIG.autolock_minutes || 5) * 60000;
    if (stored && idle) {
      try {
        store(STORE_LOCKED, lockCheck(W.b64uDecode(stored)));
      } catch (e) { /* not a secret: forgotten below */ }
      store(STORE_SECRET, null);
      stored = null;
    }
    store(STORE_ACTIVE, null);
    if (!stored && storedLock()) {
      show('lock');
      locked = 'chat';
      return;
    }
    if (!stored) {
      if (!CONFIG.open) show('closed');
      return;
    }
    try {
      useSecret(W.b64uDecode(stored));
    } catch (e) {
      return forget();
    }
    if (seenBefore) announce(false);
    show('chat');
    connect();
  }

  init();
})();
