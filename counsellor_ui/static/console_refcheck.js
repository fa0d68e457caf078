/* Before a referral is sent (issue 19): an agency where no officer can read it would get a referral
 * nobody opens. The form says so as soon as that agency is chosen, offers the agency's fallback
 * (one button) or another agency, and does not send; the server refuses it as well. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var R = C.referrals;
  var _ = C._;

  function refusal(info) {
    var name = info.agency ? info.agency.name : '';
    return info.fallback
      ? _('Nobody at {agency} can read referrals yet. Send it to {fallback} or choose another agency.')
        .replace('{agency}', name).replace('{fallback}', info.fallback.name)
      : _('Nobody at {agency} can read referrals yet. Choose another agency.').replace('{agency}', name);
  }

  function notice(form) {
    var box = form.querySelector('.agency-unreadable');
    if (box) return box;
    box = R.el('div', null, 'agency-unreadable notice');
    box.setAttribute('role', 'alert');
    box.hidden = true;
    form.elements.agency.insertAdjacentElement('afterend', box);
    return box;
  }

  /* Shows or hides the notice for what the readers call answered; false when nobody can read. */
  function show(form, info) {
    var box = notice(form);
    box.textContent = '';
    if (info.officers) { box.hidden = true; return true; }
    box.appendChild(R.el('p', refusal(info)));
    if (info.fallback) {
      var button = R.el('button', _('Send to {agency} instead').replace('{agency}', info.fallback.name), 'secondary');
      button.type = 'button';
      button.setAttribute('data-fallback', info.fallback.code);
      button.addEventListener('click', function () {
        form.elements.agency.value = info.fallback.code;
        check(form).then(function () { form.elements.agency.focus(); });
      });
      box.appendChild(button);
    }
    box.hidden = false;
    return false;
  }

  function check(form) {
    var code = form.elements.agency.value;
    if (!code) return Promise.resolve(null);
    return C.get('/console/api/referral-readers?agency=' + encodeURIComponent(code)).then(function (info) {
      if (form.elements.agency.value === code) show(form, info);
      return info;
    }).catch(function () { return null; });
  }

  /* Checks the agency now and each time another is chosen. */
  function watch(form) {
    if (!form.hasAttribute('data-checked')) {
      form.setAttribute('data-checked', '');
      form.elements.agency.addEventListener('change', function () { check(form); });
    }
    return check(form);
  }

  C.referralCheck = { watch: watch, show: show, refusal: refusal };
}());
