// The run page's search box: hides the tests whose name does not contain the text, and the
// suites left without a shown test. Without this script the form asks the server instead.
(function () {
  function filter(input) {
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll('li.test').forEach(function (li) {
      var hit = !q || (li.getAttribute('data-name') || '').indexOf(q) >= 0;
      li.classList.toggle('hidden', !hit);
      if (hit) shown++;
    });
    var suites = Array.prototype.slice.call(document.querySelectorAll('li.suite')).reverse();
    suites.forEach(function (li) {
      li.classList.toggle('hidden', !!q && !li.querySelector('li.test:not(.hidden)'));
    });
    var count = document.getElementById('search-count');
    if (count) count.textContent = q ? shown + ' shown' : '';
  }
  document.addEventListener('DOMContentLoaded', function () {
    var input = document.getElementById('search');
    if (!input) return;
    input.addEventListener('input', function () { filter(input); });
    var form = document.getElementById('search-form');
    if (form) form.addEventListener('submit', function (e) { e.preventDefault(); filter(input); });
  });
})();
