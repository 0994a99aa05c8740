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
// The analyst's loop on the arena page: what-if, levers, questions (JSON endpoints, docs/loop.md).
window.tawazun.loop = function () {
  function esc(t) { var d = document.createElement("div"); d.textContent = String(t); return d.innerHTML; }
  function num(x, sign) { return x === null || x === undefined ? "" : (sign && x >= 0 ? "+" : "") + x.toFixed(2); }
  function show(out, r, body) {
    if (!r.ok) { out.innerHTML = '<div class="errors" role="alert"><ul>' +
      (body.errors || ["request failed"]).map(function (l) { return "<li><code>" + esc(l) + "</code></li>"; }).join("") +
      "</ul></div>"; return false; }
    return true;
  }
  var wf = document.getElementById("whatif-form");
  if (wf) wf.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var out = document.getElementById("whatif-out"), f = wf.elements;
    var body = {set: [f.stance.value + "." + f.field.value + "=" + f.value.value.trim()], draws: +f.paired_draws.value};
    if (f.fix && f.fix.value) body.fix = [f.fix.value];
    if (f.dynamics && f.dynamics.checked) body.dynamics = true;
    out.textContent = "running…";
    fetch("/api/arenas/" + encodeURIComponent(wf.dataset.arena) + "/whatif",
          {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
           body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        var r = rb[0], d = rb[1];
        if (!show(out, r, d)) return;
        var rows = d.delta.map(function (x) {
          var b = d.baseline[x.issue][x.engine], v = d.variant[x.issue][x.engine];
          var shift = Object.keys(x.bands).filter(function (k) { return Math.abs(x.bands[k]) >= 0.005; })
            .map(function (k) { return esc(k) + " " + num(x.bands[k], true); }).join(", ");
          return '<tr class="' + (x.moved ? "moved" : "still") + '"><td>' + esc(x.issue) + "</td><td>" + esc(x.engine) +
            '</td><td class="num">' + num(b.value) + '</td><td class="num">' + num(v.value) +
            '</td><td class="num delta">' + num(x.mean, true) + '</td><td class="num">' + num(x.q10, true) + " … " +
            num(x.q90, true) + "</td><td>" + shift + "</td></tr>";
        }).join("");
        var html = '<table class="list" id="whatif-table"><tr><th>issue</th><th>engine</th><th>baseline</th><th>variant</th>' +
          "<th>Δ mean</th><th>Δ 80% interval</th><th>band shift</th></tr>" + rows + "</table>";
        if (d.dynamics) {  // the arena's dynamics, paired: each regime's shift at the horizon
          var dy = d.dynamics;
          html += '<table class="list" id="whatif-regimes"><caption>Regimes at ' + esc(dy.steps[dy.steps.length - 1]) +
            " (" + dy.paths + " paired paths)</caption><tr><th>regime</th><th>baseline</th><th>variant</th><th>Δ</th></tr>" +
            dy.regimes.map(function (g) {
              return '<tr class="' + (g.delta ? "moved" : "still") + '"><td>' + esc(g.regime) + '</td><td class="num">' +
                g.baseline.toFixed(3) + '</td><td class="num">' + g.variant.toFixed(3) + '</td><td class="num delta">' +
                (g.delta >= 0 ? "+" : "") + g.delta.toFixed(3) + "</td></tr>";
            }).join("") + "</table>";
        }
        if (d.fix) {
          html += "<p>Consistent completions with " + esc(JSON.stringify(d.fix.fixed)) + ": " + d.fix.completions.length + "</p><ul>" +
            d.fix.completions.map(function (c) { return "<li>" + esc(Object.keys(c.variants).map(function (k) { return k + "=" + c.variants[k]; }).join(", ")) + "</li>"; }).join("") + "</ul>";
        }
        out.innerHTML = html;
      })
      .catch(function () { out.textContent = "request failed"; });
  });
  var lf = document.getElementById("levers-form");
  if (lf) lf.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var out = document.getElementById("levers-out"), f = lf.elements;
    var q = "actor=" + encodeURIComponent(f.actor.value) + "&issue=" + encodeURIComponent(f.issue.value) +
      "&engine=" + encodeURIComponent(f.engine.value);
    out.textContent = "ranking…";
    fetch("/api/arenas/" + encodeURIComponent(lf.dataset.arena) + "/levers?" + q, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        var d = rb[1];
        if (!show(out, rb[0], d)) return;
        var span = Math.max.apply(null, d.levers.map(function (l) { return Math.abs(l.effect); }).concat([1e-9]));
        out.innerHTML = "<p>forecast " + num(d.baseline) + ", goal " + num(d.goal) + "</p>" +
          '<table class="list" id="levers-table"><tr><th>#</th><th>lever</th><th>move</th><th>effect</th><th></th><th>80% interval</th><th>what-if</th></tr>' +
          d.levers.map(function (l) {
            var w = Math.round(80 * Math.abs(l.effect) / span);
            return "<tr><td>" + l.rank + "</td><td>" + (l.kind === "own" ? "own " + esc(l.field) : "persuade " + esc(l.actor)) +
              "</td><td>" + l.from + " → " + l.to + '</td><td class="num">' + num(l.effect, true) +
              '</td><td><span class="bar" style="display:inline-block;height:10px;width:' + w + "px;background:" +
              (l.kind === "own" ? "#2b6cb0" : "#c05621") + '"></span></td><td class="num">' + num(l.q10, true) + " … " + num(l.q90, true) +
              "</td><td><code>--set " + esc(l.apply) + "</code></td></tr>";
          }).join("") + "</table>";
      })
      .catch(function () { out.textContent = "request failed"; });
  });
  var qt = document.getElementById("questions");
  if (qt) fetch("/api/arenas/" + encodeURIComponent(qt.dataset.arena) + "/questions", {headers: {"Accept": "application/json"}})
    .then(function (r) { return r.json(); })
    .then(function (qs) {
      (Array.isArray(qs) ? qs : []).forEach(function (q) {
        var cell = qt.querySelector('td.qf[data-q="' + q.id + '"]');
        if (!cell) return;
        cell.innerHTML = q.forecasts.length ? q.forecasts.map(function (f) {
          var t = f.probability !== undefined ? "p = " + f.probability.toFixed(2)
            : f.probabilities ? Object.keys(f.probabilities).map(function (k) { return esc(k) + " " + f.probabilities[k].toFixed(2); }).join(", ")
            : f.quantiles ? f.quantiles["50"].toFixed(1) + " (" + f.quantiles["10"].toFixed(1) + "–" + f.quantiles["90"].toFixed(1) + ")" : "";
          return esc(f.engine) + ": " + t;
        }).join("<br>") : esc(q.note || "");
      });
    });
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
