/* Console sign-in: password, second factor (TOTP enrolment with a QR code, or a code / recovery
 * code), key enrolment or unlock; then the account section: password change (the private key is
 * sealed again here, under the new password) and sign-out everywhere.
 *
 * The password never leaves this page (ADR 0021): with the account's salt it derives `auth`, which
 * signs in (the server keeps an Argon2id of it), and `unwrap`, which seals the private key and is
 * never sent. Only an account from before that change sends its password one last time. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var post = C.post;
  var lang = '?lang=' + encodeURIComponent(C.CONFIG.lang || '');
  var password = '';   // kept between the two steps only, for a legacy key (see finish)
  var unwrap = null;   // the derived key-unwrapping value, between the two steps
  var salt = null;     // the account's salt, for the password change
  var keySignature = null;   // the org signature of this staff member's key, if there is one yet

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
    var username = $('login-username').value;
    password = $('login-password').value;
    $('login-error').textContent = '';
    busy('login-submit', true);
    post('/console/api/login/salt' + lang, { username: username })
      .then(function (answer) {
        salt = W.b64uDecode(answer.salt);
        return W.deriveSignin(password, salt).then(function (derived) {
          unwrap = derived.unwrap;
          var body = { username: username, auth: W.b64uEncode(derived.auth) };
          if (answer.legacy) body.password = password;  // once: the server then keeps a hash of auth
          return post('/console/api/login' + lang, body);
        });
      })
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

  /* The second factor is done: open (or make) the private key with the unwrap value, then work.
   * A key still sealed the legacy way (PBKDF2 of the password itself) is opened with that once and
   * sealed again under the unwrap value. */
  function finish(profile, errorLine) {
    C.setCsrf(profile.csrf);
    keySignature = profile.key_signature;
    return Promise.resolve().then(function () {
      if (profile.needs_key) return enrolKey(unwrap);
      if (profile.key_sealing !== 'legacy') return W.openPrivateKey(unwrap, profile.encrypted_private_key);
      return W.deriveWrappingKey(password, W.b64uDecode(profile.kdf_salt)).then(function (wrapping) {
        var secretKey = W.openPrivateKey(wrapping, profile.encrypted_private_key);
        return post('/console/api/keys/reseal' + lang, {
          encrypted_private_key: W.sealPrivateKey(unwrap, secretKey)
        }).then(function () { return secretKey; });
      });
    }).then(function (secretKey) {
      password = '';
      unwrap = null;
      salt = W.b64uDecode(profile.kdf_salt);
      step('password');
      showAccount(profile);
      showKey(profile.staff, secretKey);
      C.startWork(profile.staff, profile.csrf, secretKey);
    }).catch(function (error) {
      step('password');
      errorLine.textContent = error.message || _('Your key could not be opened.');
      $('login-error').textContent = errorLine.textContent;
    });
  }

  function enrolKey(wrapping) {  // wrapping: the unwrap value
    var pair = nacl.box.keyPair();
    return post('/console/api/keys' + lang, {
      public_key: W.b64uEncode(pair.publicKey),
      encrypted_private_key: W.sealPrivateKey(wrapping, pair.secretKey)
    }).then(function (reply) { keySignature = reply.key_signature; return pair.secretKey; });
  }

  /* The key's fingerprint, the same one `helpline keys sign` shows the admin who signs it: while
   * the key waits for the org signature (for this role), say so and show it where it is seen. */
  function showKey(staff, secretKey) {
    var publicKey = nacl.box.keyPair.fromSecretKey(secretKey).publicKey;
    var fingerprint = W.keyFingerprint(publicKey);
    $('key-fingerprint').textContent = _('Your key’s fingerprint: {fingerprint}').replace('{fingerprint}', fingerprint);
    var signed = W.verifyStaffKey(C.ORG_KEY, staff.id, publicKey, keySignature || '', [staff.role]);
    var pending = $('key-pending');
    pending.hidden = signed;
    pending.textContent = signed ? '' : _('Your key waits for the helpline’s signature. When an admin signs it, check together that they see this fingerprint: {fingerprint}')
      .replace('{fingerprint}', fingerprint);
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

  /* A new salt; the auth values of the old and the new password, and the same private key sealed
   * under the new unwrap value, travel with the change. Neither password leaves the page, so the
   * length rule is checked here only. */
  function changePassword(event) {
    event.preventDefault();
    var status = $('password-status');
    var fresh = $('password-new').value;
    status.className = '';
    if (fresh.length < 12) { fail(_('A password needs at least 12 characters.')); return; }
    if (fresh !== $('password-again').value) { fail(_('The two new passwords differ.')); return; }
    var newSalt = nacl.randomBytes(16);
    var key = C.secretKey();
    busy('password-submit', true);
    status.textContent = _('Sealing your key under the new password…');
    Promise.all([W.deriveSignin($('password-old').value, salt), W.deriveSignin(fresh, newSalt)]).then(function (both) {
      return post('/console/api/password' + lang, {
        old_auth: W.b64uEncode(both[0].auth), new_auth: W.b64uEncode(both[1].auth), kdf_salt: W.b64uEncode(newSalt),
        encrypted_private_key: key ? W.sealPrivateKey(both[1].unwrap, key) : null
      });
    }).then(function (profile) {
      salt = W.b64uDecode(profile.kdf_salt);
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
