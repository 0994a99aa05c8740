// tawazun workbench: the little JavaScript the pages need (no framework, no network beyond this server).
"use strict";
window.tawazun = {
  // Poll the run's status endpoint; reload the page when the run has finished or failed.
  pollRun: function (id) {
    var bar = document.getElementById("bar"), pct = document.getElementById("pct"),
        phase = document.getElementById("phase"), status = document.getElementById("status");
    function tick() {
      fetch("/api/runs/" + id + "/status", {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (bar) bar.value = s.progress;
          if (pct) pct.textContent = Math.round(s.progress * 100) + "%";
          if (phase) phase.textContent = s.phase;
          if (status) status.textContent = s.status;
          if (s.status === "done" || s.status === "failed") { window.location.reload(); }
          else { setTimeout(tick, 400); }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    setTimeout(tick, 300);
  },
  // Bring the first cited paragraph of a source into view.
  scrollToCited: function () {
    var el = document.querySelector("li.cited");
    if (el) { el.scrollIntoView({block: "center"}); }
  }
};
// Resize the report iframe to its content so the page scrolls as one.
document.addEventListener("DOMContentLoaded", function () {
  var frame = document.getElementById("report");
  if (!frame) return;
  frame.addEventListener("load", function () {
    try { frame.style.height = (frame.contentDocument.documentElement.scrollHeight + 20) + "px"; }
    catch (e) { /* same origin only */ }
  });
});
