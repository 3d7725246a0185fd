// The login page: comes back to the page that asked for it (served with status 401 in its place).
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const here = location.pathname === '/login' ? (params.get('next') || '/') : location.pathname;
  document.getElementById('next').value = here;
  if (params.get('failed')) document.getElementById('failed').hidden = false;
})();
