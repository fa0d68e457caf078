/* Messages children left when nobody could answer (ADR 0027): listed under the queue as "messages
 * waiting"; answering one takes it like a chat from the queue. The key of a left message was
 * wrapped for every counsellor's signed key by the child's page, so it comes with the accept. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var $ = C.$;
  var _ = C._;
  var WHO = { child: _('Child'), adult: _('Adult about a child') };

  function section() {
    var box = $('messages-waiting');
    if (box) return box;
    box = document.createElement('section');
    box.id = 'messages-waiting';
    box.setAttribute('aria-labelledby', 'messages-waiting-title');
    var title = document.createElement('h2');
    title.id = 'messages-waiting-title';
    title.textContent = _('Messages waiting');
    box.appendChild(title);
    box.appendChild(document.createElement('ul'));
    $('work-error').parentNode.insertBefore(box, $('work-error'));
    return box;
  }

  function draw(items, skew) {
    var box = section();
    box.hidden = items.length === 0;
    var list = box.querySelector('ul');
    list.textContent = '';
    items.forEach(function (item) {
      var row = document.createElement('li');
      var left = Math.max(0, Math.round((Date.now() + skew - item.queued_at) / 60000));
      var bits = [WHO[item.who] || item.who, item.age_band, item.topic].filter(function (x) { return x; });
      bits.push(_('{minutes} min').replace('{minutes}', String(left)));
      row.appendChild(document.createTextNode(bits.join(' · ') + ' '));
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = _('Answer');
      button.setAttribute('data-answer', item.conv);
      button.addEventListener('click', function () { C.accept(item.conv, item); });
      row.appendChild(button);
      list.appendChild(row);
    });
  }

  C.on('queue', function (frame) {
    if (frame.messages) draw(frame.messages, (frame.at || Date.now()) - Date.now());
  });
}());
