/* Console sign-in: password, second factor (TOTP enrolment with a QR code, or a code / recovery
 * code), key enrolment or unlock; then the account section: password change (the private key is
 * sealed again here, under the new password) and sign-out everywhere. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var post = C.post;
  var lang = '?lang=' + encodeURIComponent(C.CONFIG.lang || '');
  var password = '';   // kept between the two steps only, to open the private key afterwards

  function step(name) {
    $('login-form').hidden = name !== 'password';
    $('mfa-enrol').hidden = name !== 'enrol';
    $('mfa-verify').hidden = name !== 'verify';
    $('mfa-recovery').hidden = name !== 'recovery';
    var focus = { password: 'login-username', enrol: 'mfa-enrol-code', verify: 'mfa-code', recovery: 'recovery-title' };
    if (name === 'password') return;
    $(focus[name]).focus();
  }

  function busy(button, on) { $(button).disabled = on; }

  function signIn(event) {
    event.preventDefault();
    password = $('login-password').value;
    $('login-error').textContent = '';
    busy('login-submit', true);
    post('/console/api/login' + lang, { username: $('login-username').value, password: password })
      .then(function (info) {
        C.setCsrf(info.csrf);
        $('login-password').value = '';
        if (info.next === 'enrol') return startEnrol();
        step('verify');
      })
      .catch(function (error) { $('login-error').textContent = error.message; })
      .then(function () { busy('login-submit', false); });
  }

  function startEnrol() {
    return post('/console/api/mfa/enrol' + lang, {}).then(function (info) {
      $('mfa-qr').src = info.qr;
      $('mfa-secret').textContent = info.secret.replace(/(.{4})/g, '$1 ').trim();
      step('enrol');
    });
  }

  function confirmEnrol(event) {
    event.preventDefault();
    $('mfa-enrol-error').textContent = '';
    busy('mfa-enrol-submit', true);
    post('/console/api/mfa/confirm' + lang, { code: $('mfa-enrol-code').value })
      .then(function (profile) {
        $('mfa-enrol-code').value = '';
        C.setCsrf(profile.csrf);
        var list = $('recovery-list');
        list.textContent = '';
        profile.recovery_codes.forEach(function (code) {
          var item = document.createElement('li');
          item.textContent = code;
          list.appendChild(item);
        });
        step('recovery');
        $('recovery-done').onclick = function () {
          list.textContent = '';
          finish(profile, $('login-error'));
        };
      })
      .catch(function (error) { $('mfa-enrol-error').textContent = error.message; })
      .then(function () { busy('mfa-enrol-submit', false); });
  }

  function verify(event) {
    event.preventDefault();
    $('mfa-error').textContent = '';
    busy('mfa-submit', true);
    post('/console/api/mfa/verify' + lang, { code: $('mfa-code').value })
      .then(function (profile) {
        $('mfa-code').value = '';
        return finish(profile, $('mfa-error'));
      })
      .catch(function (error) {
        $('mfa-error').textContent = error.message;
        if (error.status === 401) step('password');  // the half-signed-in session ended
      })
      .then(function () { busy('mfa-submit', false); });
  }

  /* The second factor is done: open (or make) the private key with the password, then work. */
  function finish(profile, errorLine) {
    C.setCsrf(profile.csrf);
    return W.deriveWrappingKey(password, W.b64uDecode(profile.kdf_salt)).then(function (wrapping) {
      if (profile.needs_key) return enrolKey(wrapping);
      return W.openPrivateKey(wrapping, profile.encrypted_private_key);
    }).then(function (secretKey) {
      password = '';
      step('password');
      showAccount(profile);
      C.startWork(profile.staff, profile.csrf, secretKey);
    }).catch(function (error) {
      step('password');
      errorLine.textContent = error.message || _('Your key could not be opened.');
      $('login-error').textContent = errorLine.textContent;
    });
  }

  function enrolKey(wrapping) {
    var pair = nacl.box.keyPair();
    return post('/console/api/keys' + lang, {
      public_key: W.b64uEncode(pair.publicKey),
      encrypted_private_key: W.sealPrivateKey(wrapping, pair.secretKey)
    }).then(function () { return pair.secretKey; });
  }

  function showAccount(profile) {
    $('screen-account').hidden = false;
    var notice = $('key-reset-notice');
    notice.hidden = !profile.key_reset;
    notice.textContent = profile.key_reset
      ? _('An admin reset your account, so this browser made you a new key. Your earlier conversations stay readable only through their other participants.')
      : '';
    $('recovery-left').textContent = _('Recovery codes left: {count}').replace('{count}', profile.recovery_left);
  }

  /* A new salt and wrapping key; the same private key, sealed again, travels with the change. */
  function changePassword(event) {
    event.preventDefault();
    var status = $('password-status');
    var fresh = $('password-new').value;
    status.className = '';
    if (fresh.length < 12) { fail(_('A password needs at least 12 characters.')); return; }
    if (fresh !== $('password-again').value) { fail(_('The two new passwords differ.')); return; }
    var salt = nacl.randomBytes(16);
    var key = C.secretKey();
    busy('password-submit', true);
    status.textContent = _('Sealing your key under the new password…');
    W.deriveWrappingKey(fresh, salt).then(function (wrapping) {
      return post('/console/api/password' + lang, {
        old_password: $('password-old').value, new_password: fresh, kdf_salt: W.b64uEncode(salt),
        encrypted_private_key: key ? W.sealPrivateKey(wrapping, key) : null
      });
    }).then(function () {
      ['password-old', 'password-new', 'password-again'].forEach(function (id) { $(id).value = ''; });
      status.textContent = _('Your password was changed. Other sessions were signed out.');
    }).catch(function (error) { fail(error.message); })
      .then(function () { busy('password-submit', false); });

    function fail(text) { status.className = 'error'; status.textContent = text; }
  }

  function signOut(everywhere) {
    C.stopWork();  // first: the server closes this session's socket too, and that is no surprise here
    post(everywhere ? '/console/api/logout-everywhere' : '/console/api/logout', {})
      .catch(function () {}).then(function () {
        location.replace(location.pathname + lang);  // the console or the officers' portal
      });
  }

  $('login-form').addEventListener('submit', signIn);
  $('mfa-enrol').addEventListener('submit', confirmEnrol);
  $('mfa-verify').addEventListener('submit', verify);
  $('password-form').addEventListener('submit', changePassword);
  $('sign-out').addEventListener('click', function () { signOut(false); });
  $('sign-out-everywhere').addEventListener('click', function () {
    if (window.confirm(_('Sign out on every device and browser?'))) signOut(true);
  });
}());
