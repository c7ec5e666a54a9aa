/* Requirement-matrix filters: the page's only behaviour. Without JavaScript the filters stay hidden and every
   row is shown. Before printing, folded sections are opened so that paper carries all the evidence. */
(function () {
  "use strict";
  var panel = document.getElementById("filters");
  var table = document.getElementById("matrix-table");
  if (panel && table) {
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (row) {
      return row.hasAttribute("data-status");
    });
    var count = document.getElementById("matrix-count");
    var empty = document.getElementById("matrix-empty");
    var selected = function (kind) {
      var values = {};
      panel.querySelectorAll('input[data-filter="' + kind + '"]').forEach(function (box) {
        if (box.checked) { values[box.value] = true; }
      });
      return values;
    };
    var apply = function () {
      var statuses = selected("status");
      var levels = selected("level");
      var shown = 0;
      rows.forEach(function (row) {
        var visible = statuses[row.getAttribute("data-status")] === true &&
          levels[row.getAttribute("data-level")] === true;
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      count.textContent = "Showing " + shown + " of " + rows.length + " requirements";
      empty.hidden = shown !== 0;
    };
    panel.addEventListener("change", apply);
    panel.querySelector("[data-filter-reset]").addEventListener("click", function () {
      panel.querySelectorAll("input[data-filter]").forEach(function (box) { box.checked = true; });
      apply();
    });
    panel.hidden = false;
    apply();
  }
  var reopened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.open = true;
      reopened.push(details);
    });
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (details) { details.open = false; });
    reopened = [];
  });
}());
