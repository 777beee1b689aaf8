(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-status]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
  function apply() {
    var hidden = {};
    boxes.forEach(function (box) {
      if (!box.checked) { hidden[box.getAttribute("data-status")] = true; }
    });
    rows.forEach(function (row) {
      row.hidden = Boolean(hidden[row.getAttribute("data-status")]);
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  apply();
  document.documentElement.setAttribute("data-ready", "1");
}());
