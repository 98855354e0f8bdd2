// While the compendium is being made, show its progress; reload the page when it is done.
// Without JavaScript the page says to reload it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("compendium");
    if (!card || card.getAttribute("data-state") !== "running") return;
    var url = card.getAttribute("data-status-url");
    var bar = document.getElementById("compendium-progress");
    var text = document.getElementById("compendium-progress-text");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { setTimeout(poll, 2000); return; }
          if (state.finished) { window.location.reload(); return; }
          if (state.stage === "letters") {
            bar.max = state.letters;
            bar.value = state.done;
            text.textContent = state.stage_label + ": " + state.done + " / " + state.letters;
          } else {
            bar.removeAttribute("value");
            text.textContent = state.stage_label + (state.pages ? ": " + state.pages + " 页" : "");
          }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 500);
  });
})();
