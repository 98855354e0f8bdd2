/* 适老化: a large-text mode for the public pages and the receipt form.
 *
 * Loaded (not deferred) in <head>: the remembered choice is put on <html> before the page is
 * drawn, so it never flickers. Kept in localStorage, not a cookie: the public pages are served
 * from a cache keyed on cookies, and the text size is the reader's business alone.
 */
(function () {
  "use strict";
  var KEY = "tian-large-text";
  var root = document.documentElement;

  function remembered() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function apply(on) {
    root.classList.toggle("large-text", on);
    var switches = document.querySelectorAll("[data-large-text-switch]");
    for (var i = 0; i < switches.length; i++) {
      switches[i].setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  apply(remembered());

  document.addEventListener("DOMContentLoaded", function () {
    apply(remembered());
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-large-text-switch]");
      if (!button) { return; }
      var on = !root.classList.contains("large-text");
      try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
      apply(on);
    });
  });
})();
