/* "My follow-ups" and the shift handover, always in view while working (ADR 0026). A task that
 * falls due arrives pushed (`task_due`, within the job's interval) and is announced; supervisors
 * get overdue ones (`task_overdue`). Handover notes are sealed here for every colleague whose key
 * the org key signed, opened here, and marked read by the next shift. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var K = C.casework;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var timer = null;

  function taskLine(task) {
    var text = '';
    if (task.text && task.key) {
      try { text = K.openText(K.openWrapped(task.key), task.text).text; } catch (e) { text = ''; }
    }
    var li = document.createElement('li');
    li.className = task.overdue ? 'followup overdue' : 'followup';
    var state = task.overdue ? _('Overdue') : _('Due');
    li.textContent = _('{state} {date} ({case}, {who}): {text}').replace('{state}', state)
      .replace('{date}', K.when(task.due_at)).replace('{case}', K.caseName(task['case']))
      .replace('{who}', task.owner_name).replace('{text}', text || '–') + ' ';
    li.appendChild(K.button(_('Show {case}').replace('{case}', K.caseName(task['case'])), function () {
      K.openCase(task['case']);
    }));
    return { li: li, text: text };
  }

  function refresh(announce) {
    return C.get('/console/api/followups').then(function (data) {
      var due = data.mine.filter(function (t) { return t.due; });
      var list = $('followups');
      list.textContent = '';
      var spoken = [];
      due.forEach(function (task) {
        var line = taskLine(task);
        list.appendChild(line.li);
        if (announce && announce.task === task.id) spoken.push(line.text || K.caseName(task['case']));
      });
      $('followups-empty').hidden = due.length > 0;
      var supervisor = C.me().role === 'supervisor';
      $('overdue-title').hidden = !supervisor;
      var overdue = $('overdue-followups');
      overdue.hidden = !supervisor;
      overdue.textContent = '';
      data.overdue.forEach(function (task) { overdue.appendChild(taskLine(task).li); });
      if (announce && announce.type === 'task_due') {
        $('followups-status').textContent = _('A follow-up is due: {text}').replace('{text}', spoken.join(', '));
      } else if (announce && announce.type === 'task_overdue') {
        $('followups-status').textContent = _('A follow-up of {who} is overdue.').replace('{who}', announce.owner_name);
      }
    }).catch(function () {});
  }

  // -- handover ---------------------------------------------------------------------------------

  function handover() {
    return C.get('/console/api/handover').then(function (data) {
      var list = $('handover-notes');
      list.textContent = '';
      data.notes.forEach(function (note) {
        var text = null;
        try { text = note.key ? K.openText(K.openWrapped(note.key), note.note).text : null; } catch (e) { text = null; }
        var li = document.createElement('li');
        li.textContent = _('{who}, {date}: {text}').replace('{who}', note.author).replace('{date}', K.when(note.created_at))
          .replace('{text}', text || _('This note is not shared with you.')) + ' ';
        if (note.read_at) {
          li.appendChild(document.createTextNode(_('Read by {name}.').replace('{name}', note.read_by)));
        } else {
          li.appendChild(K.button(_('Mark as read'), function () {
            C.post('/console/api/handover/' + note.id + '/read', {}).then(handover).catch(function () {});
          }));
        }
        list.appendChild(li);
      });
      $('handover-empty').hidden = data.notes.length > 0;
    }).catch(function () {});
  }

  $('handover-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('handover-text').value.trim();
    if (!text) return;
    K.signedColleagues().then(function (cards) {
      var readers = cards.filter(function (c) { return c.id !== C.me().id; });
      if (!readers.length) throw new Error(_('No colleague has a key the helpline signed yet.'));
      var key = W.newConversationKey();
      var wrapped = K.wrapFor(key, readers);
      return C.post('/console/api/handover', {
        note: K.sealText(key, { v: 1, kind: 'handover', text: text }), note_keys: wrapped
      });
    }).then(function () {
      $('handover-text').value = '';
      $('handover-status').textContent = _('Note left for the next shift.');
    }).catch(function (e) { $('handover-status').textContent = e.message; });
  });

  C.on('task_due', function (frame) { refresh(frame); });
  C.on('task_overdue', function (frame) { refresh(frame); });
  C.hook('working', function (me) {
    var works = me.role === 'counsellor' || me.role === 'supervisor';
    $('followups-bar').hidden = !works;
    if (!works) return;
    refresh();
    handover();
    if (timer) clearInterval(timer);
    timer = setInterval(function () { refresh(); handover(); }, 60000);
  });
  C.runFollowups = function () { refresh(); };
}());
