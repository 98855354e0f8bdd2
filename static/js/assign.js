// 交办: show only the unit pickers of the chosen handling mode (单办: the unit; 分办: the
// units; 会办: the lead and the co-handling units). Without JavaScript every picker stays
// visible and the server still checks that the choice fits the mode.
(function () {
  "use strict";
  var PICKERS = { single: ["lead"], joint: ["lead", "co_units"], split: ["split_units"] };
  var ALL = ["lead", "co_units", "split_units"];

  function update(form) {
    var checked = form.querySelector("input[name=mode]:checked");
    var shown = checked ? PICKERS[checked.value] || ALL : [];
    ALL.forEach(function (name) {
      var field = form.querySelector(".field-" + name);
      if (field) field.hidden = shown.indexOf(name) === -1;
    });
  }

  document.querySelectorAll("form[data-handling-mode]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "mode") update(form);
    });
    update(form);
  });
})();
