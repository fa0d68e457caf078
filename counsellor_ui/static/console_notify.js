/* Noticing a new child or a new message without watching the screen: the tab's title counts them, a
 * short tone (off until the counsellor switches it on; made with Web Audio, nothing downloaded) and
 * a desktop notification if she allows it. None of them ever carries a word of a message: only that
 * something is there. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var _ = C._;
  var _n = C._n;
  var $ = C.$;
  var TITLE = document.title;
  var SOUND_KEY = 'helpline.console.sound';

  var waiting = 0;        // children in the queue
  var unseen = 0;         // messages of the open chat that came while the page was not looked at
  var known = {};         // queued conversations already announced
  var audio = null;
  var OPENED = Date.now() - 5000;

  function looking() { return !document.hidden && document.hasFocus(); }

  function unread() {
    var total = unseen;
    Object.keys(C.chats).forEach(function (id) { total += C.chats[id].unread || 0; });
    return total;
  }

  function drawTitle() {
    var parts = [];
    if (waiting) parts.push(_('{count} waiting').replace('{count}', String(waiting)));
    var count = unread();
    if (count) parts.push(_n('{count} new message', '{count} new messages', count));
    var title = (parts.length ? '(' + parts.join(', ') + ') ' : '') + TITLE;
    if (document.title !== title) document.title = title;
  }

  function soundOn() {
    try { return localStorage.getItem(SOUND_KEY) === 'on'; } catch (e) { return false; }
  }

  /* Two soft notes, a quarter of a second in all. */
  function chime() {
    if (!soundOn()) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [660, 880].forEach(function (pitch, i) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        var start = audio.currentTime + i * 0.12;
        tone.frequency.value = pitch;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.11);
        tone.connect(gain).connect(audio.destination);
        tone.start(start);
        tone.stop(start + 0.12);
      });
    } catch (e) { /* no sound in this browser: the title still counts */ }
  }

  /* Fixed words only: never a message's text, nor anything the child answered. */
  function notify(title, tag) {
    chime();
    if (looking() || !window.Notification || Notification.permission !== 'granted') return;
    try {
      var shown = new Notification(title, { tag: tag, body: '', silent: soundOn() });
      shown.onclick = function () { window.focus(); shown.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }

  C.on('queue', function (frame) {
    waiting = frame.total || 0;
    var fresh = (frame.items || []).filter(function (item) { return !known[item.conv]; });
    (frame.items || []).forEach(function (item) { known[item.conv] = true; });
    if (fresh.length) notify(_('A new child is waiting'), 'helpline-queue');
    drawTitle();
  });

  /* A child's new message; what a reconnect or a reload replays (older than the page) is not news. */
  C.on('msg', function (frame) {
    var chat = C.chats[frame.conv];
    if (frame.from !== 'child' || !chat || frame.seq <= (chat.noticedSeq || 0) || frame.at < OPENED) return;
    chat.noticedSeq = frame.seq;
    if (!chat.panel.hidden && !looking()) unseen += 1;
    if (chat.panel.hidden || !looking()) notify(_('A new message in a chat'), 'helpline-msg');
    drawTitle();
  });

  function seen() { if (looking()) { unseen = 0; drawTitle(); } }
  document.addEventListener('visibilitychange', seen);
  window.addEventListener('focus', seen);
  setInterval(drawTitle, 1000);  // unread counts change when a chat is opened, too

  // -- the switches ------------------------------------------------------------------------------

  function drawSwitches() {
    var allowed = window.Notification ? Notification.permission : 'unsupported';
    $('notify-sound').checked = soundOn();
    $('notify-allow').hidden = allowed !== 'default';
    $('notify-state').textContent = allowed === 'granted' ? _('Desktop notifications are on. They never show what anyone wrote.')
      : allowed === 'denied' ? _('This browser blocks notifications from the console.') : '';
  }

  if ($('notify-sound')) {
    $('notify-sound').addEventListener('change', function () {
      try { localStorage.setItem(SOUND_KEY, $('notify-sound').checked ? 'on' : 'off'); } catch (e) { /* private mode */ }
      chime();
    });
    $('notify-allow').addEventListener('click', function () {
      Notification.requestPermission().then(drawSwitches, drawSwitches);
    });
    drawSwitches();
  }
}());
