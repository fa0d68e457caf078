/* The counsellor console core: the socket, the queue and chats in tabs. Message text is decrypted
 * only here (docs/encryption.md, docs/protocol.md). Other console files (sign-in, cases,
 * supervision, admin) plug in through window.HelplineConsole, defined at the end. */
(function () {
  'use strict';

  var W = window.HelplineWire;
  var CONFIG = JSON.parse(document.getElementById('helpline-config').textContent);
  var ORG_KEY = W.b64uDecode(HELPLINE_ORG_KEY);
  var $ = function (id) { return document.getElementById(id); };

  function _(text) { return CONFIG.strings[text] || text; }

  var me = null;          // {id, name, role}
  var csrf = '';
  var secretKey = null;   // Uint8Array, memory only
  var socket = null;
  var retries = 0;
  var counter = 0;
  var pending = {};       // frame id -> {resolve, reject}
  var chats = {};         // conv -> {key, last, childKey, panel, tab, unread, outbox: []}
  var current = null;
  var pingTimer = null;

  // -- requests ------------------------------------------------------------------------------

  function post(path, body, method) {
    return fetch(path, {
      method: method || 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, 'x-helpline-lang': CONFIG.lang },
      body: JSON.stringify(body)
    }).then(answerOf);
  }

  function get(path) {
    return fetch(path, { credentials: 'same-origin', headers: { 'x-helpline-lang': CONFIG.lang } }).then(answerOf);
  }

  function answerOf(answer) {
    return answer.json().catch(function () { return {}; }).then(function (data) {
      if (!answer.ok) {
        var error = new Error(data.error || _('The server refused the request.'));
        error.status = answer.status;
        throw error;
      }
      return data;
    });
  }

  function show(name) {
    document.body.setAttribute('data-state', name === 'work' ? 'working' : 'signed-out');
    $('screen-login').hidden = name !== 'login';
    $('sign-out').hidden = name !== 'work';
    $('views').hidden = name !== 'work';
    if (name !== 'work') { showView(null); return; }
    var first = null;
    Array.prototype.forEach.call(document.querySelectorAll('#views [data-view]'), function (button) {
      var allowed = (button.getAttribute('data-roles') || '').split(' ').indexOf(me.role) >= 0;
      button.hidden = !allowed;
      if (allowed && !first) first = button.getAttribute('data-view');
    });
    showView(first);
  }

  /* One section at a time: chats, cases, referrals, supervision or admin. */
  function showView(view) {
    ['work', 'cases', 'casework', 'referrals', 'supervise', 'admin'].forEach(function (name) {
      var section = $('screen-' + name);
      if (section) section.hidden = name !== view;
    });
    var team = $('screen-team');
    if (team) team.hidden = !(view === 'work' && me && me.role !== 'admin');
    Array.prototype.forEach.call(document.querySelectorAll('#views [data-view]'), function (button) {
      if (button.getAttribute('data-view') === view) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    });
    runHooks('view', view);
  }

  document.getElementById('views').addEventListener('click', function (event) {
    var view = event.target.getAttribute && event.target.getAttribute('data-view');
    if (view) showView(view);
  });

  // -- socket --------------------------------------------------------------------------------

  function setConnection(text) { $('connection-state').textContent = text; }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(scheme + location.host + CONFIG.ws_path);
    setConnection(_('Connecting…'));
    socket.onopen = function () {
      retries = 0;
      setConnection(_('Connected'));
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { request({ type: 'ping' }).catch(function () {}); }, 25000);
    };
    socket.onmessage = function (event) { receive(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      clearInterval(pingTimer);
      Object.keys(pending).forEach(function (id) { pending[id].reject(new Error('closed')); });
      pending = {};
      if (!secretKey) return;
      // 4401: the session ended (signed out, timed out, account disabled or reset); 4403: the
      // account's role changed. Either way: sign in again (docs/protocol.md, Close codes).
      if (event.code === 4401 || event.code === 4403) { sessionEnded(event.code); return; }
      setConnection(_('Reconnecting…'));
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retries++)));
    };
  }

  /* The server closed the socket because this session may no longer work: the key and every
   * decrypted line leave the page, and the counsellor is told, in her language, to sign in again. */
  function sessionEnded(code) {
    secretKey = null;
    Object.keys(chats).forEach(function (id) { delete chats[id]; });
    $('tabs').textContent = '';
    $('panels').textContent = '';
    show('login');
    $('screen-login').hidden = true;  // a fresh page signs in: nothing of this one is kept
    if ($('screen-account')) $('screen-account').hidden = true;
    var text = code === 4403 ? _('Your role has changed. Sign in again.') : _('Your session has ended. Sign in again.');
    setConnection(text);
    $('ended-title').textContent = text;
    $('screen-ended').hidden = false;
    $('sign-in-again').focus();
  }

  if ($('sign-in-again')) {
    $('sign-in-again').addEventListener('click', function () {
      location.replace(location.pathname + '?lang=' + encodeURIComponent(CONFIG.lang || ''));
    });
  }

  function request(frame) {
    frame.id = frame.id || 'c' + Date.now().toString(36) + '-' + (counter++);
    return new Promise(function (resolve, reject) {
      if (!socket || socket.readyState !== 1) { reject(new Error('offline')); return; }
      pending[frame.id] = { resolve: resolve, reject: reject };
      socket.send(JSON.stringify(frame));
    });
  }

  function receive(frame) {
    if (frame.type === 'ack' || frame.type === 'error') {
      var waiter = pending[frame.id];
      delete pending[frame.id];
      if (!waiter) return;
      if (frame.type === 'ack') waiter.resolve(frame); else waiter.reject(frame);
      return;
    }
    var handler = handlers[frame.type];
    if (handler) handler(frame);
    (extraHandlers[frame.type] || []).forEach(function (fn) { fn(frame); });
  }

  var extraHandlers = {};   // frame type -> [fn], added by other console files
  var hooks = { panel: [], ended: [], working: [], hello: [], view: [], refused: [], earlier: [] };

  function runHooks(name, arg) { hooks[name].forEach(function (fn) { fn(arg); }); }

  var handlers = {
    hello: function (frame) {
      runHooks('hello', frame);
      frame.conversations.forEach(function (item) {
        var chat = openChat(item.conv, item.prechat);
        chat.granted = item.granted;
        chat.childKey = item.child_public_key;
        if (item.key) takeKey(item.conv, item.key, item.wrapper_public_key);
      });
    },
    queue: function (frame) { takeQueue(frame); },
    key: function (frame) { takeKey(frame.conv, frame.key, frame.wrapper_public_key); },
    msg: function (frame) { showMessage(frame); },
    typing: function (frame) {
      var chat = chats[frame.conv];
      if (!chat) return;
      var note = chat.panel.querySelector('.typing');
      note.hidden = false;
      clearTimeout(chat.typingTimer);
      chat.typingTimer = setTimeout(function () { note.hidden = true; }, 4000);
    },
    presence: function (frame) {
      var chat = chats[frame.conv];
      if (chat) {
        chat.panel.querySelector('.presence').textContent =
          frame.child === 'online' ? _('The child is connected.') : _('The child is offline.');
      }
    },
    ended: function (frame) {
      var chat = chats[frame.conv];
      if (!chat) return;
      chat.ended = true;
      note(chat, frame.by === 'child' ? _('The child ended the chat.') : _('The chat has ended.'));
      chat.panel.querySelector('.composer').hidden = true;
      chat.panel.querySelector('.chat-actions').hidden = true;
      if (frame.blocked) note(chat, _('The contact was blocked.'));
      runHooks('ended', chat);
    },
    reconnect: function () { if (socket) socket.close(); },
    transferred: function (frame) {
      var chat = chats[frame.conv];
      if (!chat) return;
      if (frame.from === me.id) {
        chat.ended = true;
        chat.handedOn = true;
        note(chat, frame.to === 'queue' ? _('You put this chat back in the queue.')
          : _('You handed this chat to {name}.').replace('{name}', frame.name || ''));
        chat.panel.querySelector('.composer').hidden = true;
        chat.panel.querySelector('.chat-actions').hidden = true;
      } else {
        note(chat, _('The chat was handed to {name}.').replace('{name}', frame.name || _('the queue')));
      }
    },
    handover: function (frame) {
      var chat = joinChat(frame);
      note(chat, _('{name} handed this chat to you.').replace('{name}', frame.from || ''));
      if (frame.note) chat.handoverNote = frame.note;
      showHandoverNote(chat);
    },
    granted: function (frame) {
      var chat = joinChat(frame);
      chat.granted = true;
      note(chat, _('{name} gave you access to this chat. The child sees that you joined.')
        .replace('{name}', frame.from || ''));
    },
    assigned_to_you: function (frame) {
      var chat = joinChat(frame);
      note(chat, _('{name} gave you this chat.').replace('{name}', frame.by || ''));
    },
    history: function (frame) {
      var chat = chats[frame.conv];
      if (!chat) return;
      var area = chat.panel.querySelector('.team-area');
      var when = HelplineL10n.dateTime(frame.at, CONFIG.lang, CONFIG.timezone, CONFIG.months);
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.setAttribute('data-earlier', frame.earlier);
      button.textContent = _('Read the earlier chat of {when}').replace('{when}', when);
      button.addEventListener('click', function () { openEarlier(frame, when); });
      area.appendChild(button);
      note(chat, _('This child came back. Their page shared an earlier chat with you.'));
    },
    joined: function (frame) {
      var chat = chats[frame.conv];
      if (chat && frame.id !== me.id) {
        note(chat, _('{name} (supervisor) joined the chat.').replace('{name}', frame.name || ''));
      }
    }
  };

  /* A returning child's earlier chat: read-only, in its own tab, with its case record. */
  function openEarlier(frame, when) {
    var chat = openChat(frame.earlier, {});
    chat.ended = true;
    chat.earlier = true;
    chat.tab.textContent = _('Earlier chat') + ' ' + when;
    chat.panel.querySelector('.composer').hidden = true;
    chat.panel.querySelector('.chat-actions').hidden = true;
    if (!chat.key) takeKey(frame.earlier, frame.key, frame.wrapper_public_key);
    select(frame.earlier);
    runHooks('earlier', chat);
  }

  /* A chat that became ours without an accept: by handover, grant or assignment. */
  function joinChat(frame) {
    var chat = openChat(frame.conv, frame.prechat || {});
    chat.childKey = frame.child_public_key;
    if (frame.key) {
      takeKey(frame.conv, frame.key, frame.wrapper_public_key);
    } else {
      note(chat, _('Waiting for the child’s page to share the conversation key…')).classList.add('waiting-key');
      recoverKey(chat, 3000);
    }
    if (!current || !chats[current] || chats[current].ended) select(frame.conv);
    return chat;
  }

  function showHandoverNote(chat) {
    if (!chat.key || !chat.handoverNote) return;
    try {
      var data = JSON.parse(new TextDecoder().decode(W.unpad(W.openSealed(chat.key, chat.handoverNote))));
      if (data.conv === chat.conv) note(chat, _('Handover note: {text}').replace('{text}', data.text));
    } catch (e) {
      note(chat, _('The handover note could not be opened.'));
    }
    chat.handoverNote = null;
  }

  // -- queue ---------------------------------------------------------------------------------

  var LABELS = {
    urgency: { 0: _('Normal'), 1: _('Urgent'), 2: _('In danger now') }
  };

  function label(kind, code) { return window.HelplineLines ? window.HelplineLines.label(kind, code) : code; }

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text == null || text === '' ? '–' : String(text);
    row.appendChild(td);
  }

  function minutes(seconds) {
    return _('{minutes} min').replace('{minutes}', String(Math.max(0, Math.round(seconds / 60))));
  }

  /* The server sends the head of the queue when it changes and otherwise only the total; each item
     says when it was queued (server clock), so the waits are counted here and redrawn each 15 s. */
  var queue = { items: [], total: 0, skew: 0 };

  function takeQueue(frame) {
    if (frame.items) {
      queue.items = frame.items;
      queue.skew = frame.at - Date.now();
    }
    queue.total = frame.total;
    if (frame.items) drawQueue(queue.items); else drawQueueStatus();
  }

  function waitedSeconds(item) { return (Date.now() + queue.skew - item.queued_at) / 1000; }

  setInterval(function () { if (queue.items.length) drawQueue(queue.items); }, 15000);

  function drawQueue(items) {
    var body = $('queue').tBodies[0];
    // Redrawing must not take the focus from a keyboard user: remember which button had it.
    var focused = document.activeElement && document.activeElement.getAttribute('data-accept');
    body.textContent = '';
    items.forEach(function (item) {
      var row = document.createElement('tr');
      if (item.urgency > 0) row.className = 'urgent';
      cell(row, LABELS.urgency[item.urgency]);
      cell(row, label('who', item.who));
      cell(row, label('age_band', item.age_band));
      cell(row, label('gender', item.gender));
      cell(row, item.municipality);
      cell(row, label('topic', item.topic));
      cell(row, minutes(waitedSeconds(item)));
      cell(row, item.returning ? _('Yes') : _('No'));
      var td = document.createElement('td');
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = _('Accept');
      button.setAttribute('data-accept', item.conv);
      button.addEventListener('click', function () { accept(item.conv, item); });
      td.appendChild(button);
      row.appendChild(td);
      body.appendChild(row);
    });
    if (focused) {
      var again = body.querySelector('button[data-accept="' + focused + '"]');
      if (again) again.focus(); else $('queue-title').focus();
    }
    $('queue-empty').hidden = items.length > 0;
    $('queue').hidden = items.length === 0;
    drawQueueStatus();
  }

  function drawQueueStatus() {
    $('queue-status').textContent = _('{count} waiting').replace('{count}', String(queue.total));
  }

  function accept(conv, item) {
    $('work-error').textContent = '';
    request({ type: 'accept', conv: conv }).then(function (ack) {
      var chat = openChat(conv, ack.prechat || item);
      chat.childKey = ack.child_public_key;
      select(conv);
      chat.panel.querySelector('.compose').focus();  // the counsellor writes at once, by keyboard
      if (ack.key) return takeKey(conv, ack.key, ack.wrapper_public_key); // a left message (ADR 0027)
      if (chat.key) return; // the child's page was quicker than the ack
      note(chat, _('Waiting for the child’s page to share the conversation key…')).classList.add('waiting-key');
      recoverKey(chat, 3000);
    }).catch(function (error) {
      var known = {
        busy: _('You already hold as many chats as you may. End one first.'),
        wrap_up: _('Record the case of your last chat before you take the next one.'),
        bad_state: _('Another counsellor has just taken this chat.')
      };
      $('work-error').textContent = known[error.code] || error.message || _('This chat could not be accepted.');
      runHooks('refused', error);
    });
  }

  // -- conversations ------------------------------------------------------------------------

  function openChat(conv, prechat) {
    if (chats[conv]) return chats[conv];
    var panel = $('panel-template').content.firstElementChild.cloneNode(true);
    panel.setAttribute('data-conv', conv);
    panel.id = 'panel-' + conv;
    var bits = [prechat.age_band, prechat.gender, prechat.municipality, prechat.topic]
      .filter(function (x) { return x; });
    panel.querySelector('.prechat').textContent = bits.join(' · ') || _('No pre-chat answers');
    panel.querySelector('.messages').setAttribute('aria-label', _('Messages'));
    var tab = document.createElement('button');
    tab.type = 'button';
    tab.setAttribute('role', 'tab');
    tab.setAttribute('data-tab', conv);
    tab.setAttribute('aria-controls', panel.id);
    tab.textContent = _('Chat') + ' ' + (Object.keys(chats).length + 1);
    tab.addEventListener('click', function () { select(conv); });
    $('tabs').appendChild(tab);
    $('panels').appendChild(panel);
    var chat = { conv: conv, key: null, last: 0, panel: panel, tab: tab, unread: 0, outbox: [], prechat: prechat };
    chats[conv] = chat;
    panel.querySelector('.composer').addEventListener('submit', function (event) {
      event.preventDefault();
      send(chat);
    });
    panel.querySelector('.compose').addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); send(chat); }
    });
    panel.querySelector('.compose').addEventListener('input', function () {
      if (Date.now() - (chat.typedAt || 0) > 3000) {
        chat.typedAt = Date.now();
        request({ type: 'typing', conv: conv }).catch(function () {});
      }
    });
    panel.querySelector('.end-chat').addEventListener('click', function () {
      if (window.confirm(_('End this chat?'))) request({ type: 'end', conv: conv }).catch(function () {});
    });
    select(current || conv);
    runHooks('panel', chat);
    return chat;
  }

  function select(conv) {
    current = conv;
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      var on = id === conv;
      chat.panel.hidden = !on;
      chat.tab.setAttribute('aria-selected', on ? 'true' : 'false');
      if (on) { chat.unread = 0; drawUnread(chat); }
    });
  }

  function drawUnread(chat) {
    var badge = chat.tab.querySelector('.unread');
    if (!chat.unread) { if (badge) badge.remove(); return; }
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'unread';
      chat.tab.appendChild(badge);
    }
    badge.textContent = chat.unread;
    badge.setAttribute('aria-label', chat.unread + ' ' + _('unread'));
  }

  function takeKey(conv, wrapped, wrapperPublic) {
    var chat = chats[conv] || openChat(conv, {});
    try {
      chat.key = W.unwrapKey(wrapped, W.sharedKey(W.b64uDecode(wrapperPublic), secretKey));
    } catch (e) {
      note(chat, _('The conversation key could not be opened.'));
      return;
    }
    var waiting = chat.panel.querySelector('.waiting-key');
    if (waiting) waiting.remove();
    showHandoverNote(chat);
    request({ type: 'sync', conv: conv, after: chat.last }).catch(function () {});
    flush(chat);
  }

  /* If the `key` notice was lost (another process, a broker outage), a sync ack repeats it. */
  function recoverKey(chat, delay) {
    setTimeout(function () {
      if (chat.key || chat.ended) return;
      request({ type: 'sync', conv: chat.conv, after: chat.last }).then(function (ack) {
        if (ack.key && !chat.key) takeKey(chat.conv, ack.key, ack.wrapper_public_key);
        else recoverKey(chat, Math.min(delay * 2, 30000));
      }).catch(function () { recoverKey(chat, Math.min(delay * 2, 30000)); });
    }, delay);
  }

  function showMessage(frame) {
    var chat = chats[frame.conv];
    if (!chat || !chat.key || frame.seq <= chat.last) return;
    chat.last = frame.seq;
    // Our own message, already on screen since it was typed: now stored (a resend is stored once).
    var shown = frame.from === me.id && chat.panel.querySelector('[data-cid="' + CSS.escape(frame.cid) + '"] .from-staff');
    if (shown) { shown.setAttribute('data-seq', frame.seq); mark(shown, 'stored'); return; }
    var text;
    try {
      text = W.decryptMessage(chat.key, frame.body,
        { conv: frame.conv, from: frame.from, cid: frame.cid }).text;
    } catch (e) {
      note(chat, _('A message could not be opened.'));
      return;
    }
    var kind = frame.from === 'child' ? 'from-child' : (frame.from === me.id ? 'from-staff' : 'from-colleague');
    addLine(chat, text, kind, frame.seq, { from: frame.from, at: frame.at, state: frame.from === me.id ? 'stored' : '' });
    if (frame.from === 'child' && current !== frame.conv) { chat.unread += 1; drawUnread(chat); }
  }

  /* A message line; with `meta` ({from, at, state, cid}) it also says who wrote it, when and its
   * state (console_lines.js). Notes (`kind` 'note') are the page's own words and carry none. */
  function addLine(chat, text, kind, seq, meta) {
    var line = document.createElement('p');
    line.className = kind;
    if (seq) line.setAttribute('data-seq', seq);
    line.textContent = text;
    var list = chat.panel.querySelector('.messages');
    var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(meta && window.HelplineLines ? window.HelplineLines.wrap(chat, line, meta) : line);
    if (stick) list.scrollTop = list.scrollHeight;
    return line;
  }

  function note(chat, text) { return addLine(chat, text, 'note'); }

  function mark(line, state) { if (window.HelplineLines) window.HelplineLines.mark(line, state); }

  function send(chat) {
    var box = chat.panel.querySelector('.compose');
    var text = box.value.trim();
    if (!text || chat.ended) return;
    box.value = '';
    var item = { id: 'm' + Date.now().toString(36) + '-' + (counter++), text: text, at: Date.now() };
    // On screen at once as "sending", even while the server is away; stored once it is acknowledged.
    item.line = addLine(chat, text, 'from-staff', 0, { from: me.id, at: item.at, state: 'sending', cid: item.id });
    chat.outbox.push(item);
    flush(chat);
  }

  var RETRY = ['rate_limited', 'unavailable', 'signed_out'];

  /* Sends queued messages in order; each keeps its id, so a resend after a reconnect is
   * stored once by the server. */
  function flush(chat) {
    if (!chat.key || chat.sending || !chat.outbox.length) return;
    var item = chat.outbox[0];
    chat.sending = true;
    var body = W.encryptMessage(chat.key, { conv: chat.conv, from: me.id, cid: item.id, text: item.text, at: item.at });
    request({ type: 'send', id: item.id, conv: chat.conv, body: body }).then(function (ack) {
      chat.outbox.shift();
      chat.sending = false;
      if (ack.seq === chat.last + 1) chat.last = ack.seq;
      item.line.setAttribute('data-seq', ack.seq);
      mark(item.line, 'stored');
      flush(chat);
    }).catch(function (error) {
      chat.sending = false;
      // The server refused this message (too long, too fast…): it stays on screen as not sent.
      if (!(error instanceof Error) && RETRY.indexOf(error.code) < 0) { chat.outbox.shift(); mark(item.line, 'failed'); }
      setTimeout(function () { flush(chat); }, 1000);
    });
  }

  document.addEventListener('keydown', function (event) {
    if (!event.altKey || !/^[1-9]$/.test(event.key)) return;
    var ids = Object.keys(chats);
    var id = ids[Number(event.key) - 1];
    if (id) { event.preventDefault(); select(id); chats[id].panel.querySelector('.compose').focus(); }
  });

  /* Called by the sign-in file once the staff key is open. */
  function startWork(profile, token, key) {
    me = profile;
    csrf = token;
    secretKey = key;
    show('work');
    if (me.role === 'counsellor' || me.role === 'supervisor') connect(); else setConnection(_('Signed in'));
    runHooks('working', me);
  }

  function stopWork() {
    secretKey = null;
    if (socket) socket.close();
  }

  window.HelplineConsole = {
    W: W, CONFIG: CONFIG, ORG_KEY: ORG_KEY, $: $, _: _,
    post: post, get: get, request: request, show: show, showView: showView,
    startWork: startWork, stopWork: stopWork,
    me: function () { return me; },
    secretKey: function () { return secretKey; },
    setCsrf: function (token) { csrf = token; },
    when: function (value) { return HelplineL10n.dateTime(value, CONFIG.lang, CONFIG.timezone, CONFIG.months); },
    _n: HelplineL10n.ngettext(CONFIG),
    chats: chats, openChat: openChat, select: select, note: note, takeKey: takeKey, accept: accept,
    on: function (type, fn) { (extraHandlers[type] = extraHandlers[type] || []).push(fn); },
    hook: function (name, fn) { hooks[name].push(fn); }
  };
  show('login');
}());
