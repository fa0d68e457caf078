/* Console sign-in: password, key enrolment or unlock, sign-out. */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var W = C.W;
  var $ = C.$;
  var _ = C._;
  var post = C.post;

  function signIn(event) {
    event.preventDefault();
    var password = $('login-password').value;
    $('login-error').textContent = '';
    $('login-submit').disabled = true;
    post('/console/api/login', { username: $('login-username').value, password: password })
      .then(function (info) {
        C.setCsrf(info.csrf);
        return W.deriveWrappingKey(password, W.b64uDecode(info.kdf_salt)).then(function (wrapping) {
          if (info.needs_key) return enrol(wrapping);
          return W.openPrivateKey(wrapping, info.encrypted_private_key);
        }).then(function (secretKey) {
          $('login-password').value = '';
          C.startWork(info.staff, info.csrf, secretKey);
        });
      })
      .catch(function (error) {
        $('login-error').textContent = error.message;
      })
      .then(function () { $('login-submit').disabled = false; });
  }

  function enrol(wrapping) {
    var pair = nacl.box.keyPair();
    return post('/console/api/keys', {
      public_key: W.b64uEncode(pair.publicKey),
      encrypted_private_key: W.sealPrivateKey(wrapping, pair.secretKey)
    }).then(function () { return pair.secretKey; });
  }

  function signOut() {
    post('/console/api/logout', {}).catch(function () {}).then(function () {
      C.stopWork();
      location.replace('/console');
    });
  }

  $('login-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
}());
