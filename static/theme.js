// Theme: "auto" follows prefers-color-scheme; "light"/"dark" set data-theme on <html>.
// A classic (non-module) script loaded in <head>, so a stored choice applies before first paint.
(function () {
  'use strict';
  var KEY = 'cors-lab-theme';
  var ORDER = ['auto', 'light', 'dark'];

  function stored() {
    try {
      var v = localStorage.getItem(KEY);
      return ORDER.indexOf(v) >= 0 ? v : 'auto';
    } catch (e) {
      return 'auto';
    }
  }

  function apply(mode) {
    var root = document.documentElement;
    if (mode === 'auto') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', mode);
  }

  var current = stored();
  apply(current);

  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('theme-toggle');
    if (!button) return;
    function label(mode) {
      button.textContent = 'Theme: ' + mode;
      button.title = 'Colour theme: ' + mode + ' (click to switch: auto → light → dark)';
    }
    label(current);
    button.addEventListener('click', function () {
      current = ORDER[(ORDER.indexOf(current) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, current); } catch (e) { /* storage blocked: not remembered */ }
      apply(current);
      label(current);
    });
  });
})();
