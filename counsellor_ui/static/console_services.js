/* The services directory on a chat (issue 19): in the referral form, "Services near the child"
 * lists the services of a kind for the child's municipality (its own first, then its county's,
 * then national ones), with their public contacts; also in the case view (the municipality of its
 * latest contact). Admins edit it by CSV or row by row (console_directory.js). */
(function () {
  'use strict';

  var C = window.HelplineConsole;
  var _ = C._;

  function line(label, value, href) {
    var item = document.createElement('span');
    item.className = 'svc-contact';
    item.appendChild(document.createTextNode(label + ': '));
    if (href) {
      var link = document.createElement('a');
      link.href = href;
      link.textContent = value;
      item.appendChild(link);
    } else {
      item.appendChild(document.createTextNode(value));
    }
    return item;
  }

  function draw(list, service) {
    var row = document.createElement('li');
    var name = document.createElement('strong');
    name.textContent = service.name;
    row.appendChild(name);
    if (service.phone) row.appendChild(line(_('Phone'), service.phone, 'tel:' + service.phone.replace(/\s+/g, '')));
    if (service.email) row.appendChild(line(_('Email'), service.email, 'mailto:' + service.email));
    if (service.address) row.appendChild(line(_('Address'), service.address));
    if (service.website) row.appendChild(line(_('Website'), service.website, service.website));
    if (service.hours) row.appendChild(line(_('Hours'), service.hours));
    list.appendChild(row);
  }

  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('.svc-find') : null;
    if (!button) return;
    var box = button.closest('.services-finder');
    var form = box.closest('form');
    var municipality = (form && form.getAttribute('data-municipality')) || '';
    var params = 'kind=' + encodeURIComponent(box.querySelector('.svc-kind').value) +
      (municipality ? '&municipality=' + encodeURIComponent(municipality) : '');
    var list = box.querySelector('.svc-list');
    var status = box.querySelector('.svc-status');
    status.textContent = '';
    C.get('/console/api/services?' + params).then(function (data) {
      list.textContent = '';
      data.services.forEach(function (service) { draw(list, service); });
      status.textContent = data.services.length ? '' : _('No service of this kind is listed here yet.');
    }).catch(function (error) { status.textContent = error.message; });
  });
})();
