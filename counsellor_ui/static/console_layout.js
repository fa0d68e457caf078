/* The console for a shift (docs/console.md, "A screen for a shift"): the waiting children on top, my
 * chats in a list on the left (unread count, how long the child has waited for an answer), the
 * conversation with its composer always in view, and beside it the chat's context: the pre-chat
 * answers, earlier chats of a returning child, the case form and the referral. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var _ = C._;
  var _n = C._n;
  var $ = C.$;
  var L = window.HelplineLines;

  // The conversation's own column; every other part of a panel goes to the context beside it,
  // including what other console files add later (emergency, referral, supervision, case form).
  var MAIN = ['presence', 'messages', 'typing', 'composer', 'chat-actions', 'close-chat', 'chat-context'];

  function isMain(node) {
    return node.nodeType !== 1 || MAIN.some(function (name) { return node.classList.contains(name); });
  }

  function prechatList(chat) {
    var answers = chat.prechat || {};
    var list = document.createElement('dl');
    list.className = 'prechat';
    [['who', _('Who')], ['age_band', _('Age')], ['gender', _('Gender')], ['municipality', _('Municipality')],
      ['topic', _('Topic')], ['danger', _('In danger now')]].forEach(function (pair) {
      var term = document.createElement('dt');
      term.textContent = pair[1];
      var value = document.createElement('dd');
      value.textContent = pair[0] === 'municipality' ? (answers.municipality || _('Not answered'))
        : L.label(pair[0], answers[pair[0]]);
      list.appendChild(term);
      list.appendChild(value);
    });
    return list;
  }

  function layOut(chat) {
    var panel = chat.panel;
    var aside = document.createElement('aside');
    aside.className = 'chat-context';
    aside.setAttribute('aria-label', _('About this chat'));
    var title = document.createElement('h3');
    title.className = 'context-title';
    title.textContent = _('Pre-chat answers');
    aside.appendChild(title);
    var old = panel.querySelector('.prechat');
    if (old && !chat.earlier) aside.appendChild(prechatList(chat));
    if (old) old.remove();
    Array.prototype.slice.call(panel.children).forEach(function (node) {
      if (!isMain(node)) aside.appendChild(node);
    });
    panel.appendChild(aside);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (node) {
          if (node.parentNode === panel && !isMain(node)) aside.appendChild(node);
        });
      });
    }).observe(panel, { childList: true });
    watchAnswers(chat);
    panel.querySelector('.close-chat').addEventListener('click', function () { closeChat(chat); });
  }

  // -- how long each child has waited for an answer ----------------------------------------------

  /* The last line decides: the child's words not yet answered start the clock, ours stop it. */
  function watchAnswers(chat) {
    var list = chat.panel.querySelector('.messages');
    new MutationObserver(function () {
      var lines = list.querySelectorAll('.line');
      var last = lines[lines.length - 1];
      if (!last) return;
      var at = last.querySelector('time');
      chat.waitingSince = last.querySelector('.from-child') && at ? new Date(at.getAttribute('datetime')).getTime() : null;
      drawWait(chat);
    }).observe(list, { childList: true });
  }

  function drawWait(chat) {
    var span = chat.tab.querySelector('.waited');
    if (!span) {
      span = document.createElement('span');
      span.className = 'waited';
      chat.tab.appendChild(span);
    }
    if (!chat.waitingSince || chat.ended) { span.textContent = ''; return; }
    var minutes = Math.max(0, Math.floor((Date.now() - chat.waitingSince) / 60000));
    span.textContent = _n('waiting for an answer for {count} minute',
      'waiting for an answer for {count} minutes', minutes);
  }

  setInterval(function () {
    Object.keys(C.chats).forEach(function (id) { drawWait(C.chats[id]); });
  }, 15000);

  // -- an ended chat: it says so, and its tab can be closed ------------------------------------------

  function canClose(chat) {
    chat.panel.querySelector('.presence').textContent = chat.earlier ? '' : _('The chat has ended.');
    if (chat.earlier) {  // an earlier chat has no pre-chat answers of its own here
      var context = chat.panel.querySelector('.chat-context');
      Array.prototype.forEach.call(context.querySelectorAll('.prechat, .context-title'), function (node) { node.remove(); });
    }
    chat.panel.querySelector('.close-chat').hidden = false;
    drawWait(chat);
  }

  function closeChat(chat) {
    var form = chat.panel.querySelector('.case-form');
    if (form && !chat.recorded && !chat.handedOn && !chat.earlier && !chat.granted) {
      C.note(chat, _('Record this chat before you close it.'));
      var first = form.querySelector('select, textarea, input');
      if (first) first.focus();
      return;
    }
    chat.tab.remove();
    chat.panel.remove();
    delete C.chats[chat.conv];
    var next = Object.keys(C.chats)[0];
    if (next) { C.select(next); C.chats[next].tab.focus(); } else { $('queue-title').focus(); }
  }

  C.hook('panel', layOut);
  C.hook('ended', canClose);
  C.hook('earlier', canClose);
  C.on('presence', function (frame) {  // an ended chat never says the child is connected
    var chat = C.chats[frame.conv];
    if (chat && chat.ended) chat.panel.querySelector('.presence').textContent = chat.earlier ? '' : _('The chat has ended.');
  });
  C.on('transferred', function (frame) {
    var chat = C.chats[frame.conv];
    if (chat && chat.handedOn) canClose(chat);
  });

  // -- the screen: the work area fills the window below the header, so the composer stays in view --

  function fit() {
    var work = $('screen-work');
    if (!work || work.hidden) return;
    var top = work.getBoundingClientRect().top + window.scrollY;
    document.documentElement.style.setProperty('--work-top', Math.round(top) + 'px');
  }

  window.addEventListener('resize', fit);
  C.hook('view', function () { setTimeout(fit, 0); });
  C.hook('working', function (me) {
    setTimeout(fit, 0);
    // The statistics open in the console's language; a manager, who has nothing else here, goes there.
    var link = $('stats-link');
    var allowed = link && link.getAttribute('data-roles').split(' ').indexOf(me.role) >= 0;
    if (link) link.hidden = !allowed;
    var next = new URLSearchParams(location.search).get('next');
    if (allowed && (next === '/stats' || me.role === 'manager')) location.replace(link.href);
  });
  // Whatever stands above the work area (the header, my account, a bar another file shows) moves it.
  if (window.ResizeObserver && $('screen-work')) {
    var watched = new ResizeObserver(fit);
    watched.observe(document.querySelector('.bar'));
    for (var node = $('screen-work').previousElementSibling; node; node = node.previousElementSibling) {
      watched.observe(node);
    }
  }
}());
