// Progressive enhancement: while the import runs, poll how many rows are saved.
// Without JavaScript the form posts the same and the next page gives the count.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-confirm");
    if (!form) return;
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var url = form.getAttribute("data-progress-url");
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      // One import per click: a second submit would only wait for the first.
      setTimeout(function () { button.disabled = true; }, 0);
      bar.hidden = false;
      text.textContent = bar.max ? "0 / " + bar.max : "";
      var poll = function () {
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (state) {
            if (state && state.total) {
              bar.max = state.total;
              bar.value = state.done;
              text.textContent = state.done + " / " + state.total;
            }
            if (!state || !state.finished) setTimeout(poll, 700);
          })
          .catch(function () { setTimeout(poll, 1500); });
      };
      setTimeout(poll, 500);
    });
  });
})();
