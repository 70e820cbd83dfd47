// gpushare/k8s/cluster_view.hpp — the cluster view: one self-contained HTML page (no external
// scripts, fonts or styles) that draws an inspect document (k8s/inspect.hpp): every node and
// GPU as bars of allocated/total compute and memory, each node coloured by its FGD
// fragmentation, the pending and unschedulable pods with why they wait, and the totals.
//
// Two ways to feed it:
//  - live: served by gpushare-extender at `GET /`, it polls `inspect` (relative to the page,
//    so it works behind a URL prefix) every 2 s (`?interval=SECONDS` changes that, 0 stops);
//  - embedded: `cluster_view_html(doc)` puts an inspect document into the page (what
//    `gpushare inspect --html FILE` writes), which then draws it and does not poll.
// The page marks each GPU row with data-node/data-gpu/data-milli-used/... attributes and the
// body with data-rendered (draws so far), data-render-ms (time to build and lay out the node
// grid, last draw) and, in ms from navigation start, data-script-ms (the script starts),
// data-fetched-ms (the first /inspect answer is parsed) and data-first-render-ms (the first
// draw is laid out), for tests and measuring.
//
// @code
//   svr.Get("/", [](auto&, auto& res) { res.set_content(gpushare::k8s::cluster_view_html(), "text/html"); });
//   std::ofstream("view.html") << gpushare::k8s::cluster_view_html(svc.inspect());
// @endcode
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace gpushare {
namespace k8s {

namespace detail {
// The page; the snapshot goes between the two parts.
inline const char* cluster_view_head() {
  return R"GSVIEW(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gpushare cluster view</title>
<style>
:root { --fg:#1d2430; --muted:#5d6675; --line:#d8dde6; --bg:#f5f7fa; --card:#fff; --cpu:#7aa0ea; --mem:#b497e6; }
* { box-sizing: border-box; }
body { margin:0; font:13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; align-items:baseline; gap:12px; padding:10px 16px; background:#1d2430; color:#fff; }
header h1 { font-size:16px; margin:0; font-weight:600; }
header .src { color:#b9c2d0; }
header .status { margin-left:auto; color:#b9c2d0; }
header .status.err { color:#ff9b9b; font-weight:600; }
main { padding:12px 16px; }
section { margin-bottom:14px; }
h2 { font-size:14px; margin:0 0 6px; }
h2 .count { color:var(--muted); font-weight:400; }
.list { max-height:230px; overflow:auto; border:1px solid var(--line); }
.list table { border:0; }
.list th { position:sticky; top:0; }
.totals { display:flex; flex-wrap:wrap; gap:8px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:6px 10px; min-width:140px; }
.stat b { display:block; font-size:17px; }
.stat span { color:var(--muted); }
table { border-collapse:collapse; background:var(--card); width:100%; }
th, td { border:1px solid var(--line); padding:4px 6px; text-align:left; vertical-align:top; }
th { background:#eef1f6; }
td.reason { font-family:ui-monospace, monospace; font-size:12px; }
details summary { cursor:pointer; color:var(--muted); }
.none { color:var(--muted); margin:4px 6px; }
.tools { display:flex; flex-wrap:wrap; gap:12px; align-items:center; margin-bottom:8px; }
.legend { display:flex; align-items:center; gap:6px; color:var(--muted); }
.legend i { display:inline-block; width:120px; height:10px; border-radius:3px;
  background:linear-gradient(90deg, hsl(130,55%,45%), hsl(60,75%,48%), hsl(0,70%,50%)); }
.legend .sw { display:inline-block; width:12px; height:10px; border-radius:2px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(230px, 1fr)); gap:8px; }
.node { background:var(--card); border:1px solid var(--line); border-left:6px solid #aab; border-radius:6px; padding:5px 7px;
  content-visibility:auto; contain-intrinsic-size:auto 120px; }
.node .hd { display:flex; justify-content:space-between; gap:6px; }
.node .nm { font-weight:600; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.node .fr { color:var(--muted); white-space:nowrap; font-size:11.5px; }
.gpu { position:relative; padding-left:50px; margin-top:3px; }
.gpu .lb { position:absolute; left:0; top:0; width:46px; font-size:11px; line-height:14px; color:var(--muted); overflow:hidden; white-space:nowrap;
  text-overflow:ellipsis; }
.gpu.bad .lb { color:#c0392b; font-weight:600; }
.bar { height:14px; margin-bottom:1px; border-radius:3px; overflow:hidden; font-size:10.5px; line-height:14px; padding-left:4px;
  white-space:nowrap; color:#111; }
.bar.na { background:repeating-linear-gradient(45deg, #eef0f4 0 4px, #e2e5eb 4px 8px); color:var(--muted); }
.pods { color:var(--muted); font-size:11px; margin-top:3px; }
</style>
</head>
<body>
<header><h1>gpushare cluster view</h1><span class="src" id="src"></span><span class="status" id="status">loading…</span></header>
<main>
<section><div class="totals" id="totals"></div></section>
<section><h2>Pending pods <span class="count" id="pending-count"></span></h2><div class="list" id="pending"></div></section>
<section><h2>Recently unschedulable <span class="count" id="unschedulable-count"></span></h2><div class="list" id="unschedulable"></div></section>
<section>
<h2>Nodes and GPUs</h2>
<div class="tools">
<label>Sort <select id="sort"><option value="name">by name</option><option value="frag">by fragmentation</option><option value="used">by compute used</option></select></label>
<label>Filter <input id="filter" placeholder="node name"></label>
<span class="legend">fragmentation (FGD, share of idle GPU compute) 0% <i></i> 100%</span>
<span class="legend"><span class="sw" style="background:var(--cpu)"></span>compute <span class="sw" style="background:var(--mem)"></span>memory</span>
</div>
<div class="grid" id="nodes"></div>
</section>
</main>
<script type="application/json" id="gpushare-snapshot">)GSVIEW";
}

inline const char* cluster_view_tail() {
  return R"GSVIEW(</script>
<script>
"use strict";
(function () {
  document.body.setAttribute("data-script-ms", performance.now().toFixed(1));
  var doc = null;
  var esc = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  var pct = function (u, t) { return t > 0 ? (100 * u / t).toFixed(1) + "%" : "–"; };
  // Thousands separators by hand: toLocaleString is slow when called 50,000 times.
  var num = function (n) {
    var v = Math.round(Number(n)), neg = v < 0, s = String(Math.abs(v)), out = "";
    while (s.length > 3) { out = "," + s.slice(-3) + out; s = s.slice(0, -3); }
    return (neg ? "-" : "") + s + out;
  };
  var $ = function (id) { return document.getElementById(id); };
  // Fragmentation share of idle compute -> green (0) .. yellow .. red (1); grey without idle GPUs.
  var fragColour = function (n) {
    if (!(n.idle_milli > 0)) return "hsl(220,8%,70%)";
    var r = Math.max(0, Math.min(1, n.frag_milli / n.idle_milli));
    return "hsl(" + (130 - 130 * r).toFixed(0) + "," + (55 + 15 * r).toFixed(0) + "%," + (45 + 5 * Math.sin(Math.PI * r)).toFixed(0) + "%)";
  };
  // One element per bar: the filled part is a background gradient, the numbers its text.
  var colours = { c: "#7aa0ea", m: "#b497e6" };
  var bar = function (cls, used, total, unit) {
    if (!(total > 0)) return '<div class="bar na">no ' + (unit === "MiB" ? "memory" : "compute") + " data</div>";
    var w = Math.min(100, 100 * used / total).toFixed(1);
    return '<div class="bar" style="background:linear-gradient(90deg,' + colours[cls] + " " + w + "%,#e7eaf0 " + w + '%)">' +
      num(used) + "/" + num(total) + " " + unit + "</div>";
  };
  var stat = function (label, big, small, key) {
    return '<div class="stat" data-stat="' + key + '"><span>' + esc(label) + "</span><b>" + big + "</b><span>" + small + "</span></div>";
  };
  var renderTotals = function (d) {
    var t = d.total || {}, nodes = d.nodes || [], gpus = 0, bad = 0;
    nodes.forEach(function (n) { (n.gpus || []).forEach(function (g) { gpus++; if (g.healthy === false) bad++; }); });
    var f = d.fragmentation || {};
    $("totals").innerHTML =
      stat("nodes / GPUs", num(nodes.length) + " / " + num(gpus), bad ? bad + " unhealthy GPUs" : "all GPUs healthy", "gpus") +
      stat("GPU compute allocated", pct(t.milli_used, t.milli_total), num(t.milli_used) + " / " + num(t.milli_total) + " milli-GPU", "compute") +
      (t.mib_total > 0 ? stat("GPU memory allocated", pct(t.mib_used, t.mib_total), num(t.mib_used) + " / " + num(t.mib_total) + " MiB", "memory")
                       : stat("GPU memory allocated", "–", "no GPU memory data", "memory")) +
      stat("fragmented (FGD)", t.idle_milli > 0 ? pct(t.frag_milli, t.idle_milli) + " of idle" : "–",
           num(t.frag_milli || 0) + " of " + num(t.idle_milli || 0) + " idle milli-GPU" +
           (f.target_shapes !== undefined ? "; target: " + f.target_shapes + " shapes" +
            (f.pods_counted !== undefined ? " of " + num(f.pods_counted) + " pods" : "") : ""), "frag") +
      (d.snapshot ? stat("pods (replay)", num(d.snapshot.pods_placed) + " placed", num(d.snapshot.pods_failed) + " of " +
                         num(d.snapshot.pods_submitted) + " submitted found no node", "pods")
                  : stat("pending pods", num((d.pending_pods || []).length), num((d.unschedulable || []).length) + " recently unschedulable", "pending"));
  };
  var renderPending = function (d) {
    var rows = d.pending || (d.pending_pods || []).map(function (p) { return { pod: p, reason: "" }; });
    $("pending-count").textContent = "(" + rows.length + ")";
    $("unschedulable-count").textContent = "(" + (d.unschedulable || []).length + ")";
    $("pending").innerHTML = rows.length === 0 ? '<p class="none">none</p>' :
      "<table><tr><th>pod</th><th>why it waits</th></tr>" + rows.map(function (p) {
        return '<tr data-pending="' + esc(p.pod) + '"><td>' + esc(p.pod) + '</td><td class="reason">' + esc(p.reason) + "</td></tr>";
      }).join("") + "</table>";
    var u = d.unschedulable || [];
    $("unschedulable").innerHTML = u.length === 0 ? '<p class="none">none</p>' :
      "<table><tr><th>pod</th><th>reason</th><th>attempts</th><th>last seen</th></tr>" + u.map(function (p) {
        var nodes = Object.keys(p.failed_nodes || {});
        var detail = nodes.length === 0 ? "" : "<details><summary>" + nodes.length + " node" + (nodes.length > 1 ? "s" : "") +
          "</summary>" + nodes.map(function (k) { return esc(p.failed_nodes[k]); }).join("<br>") + "</details>";
        var when = p.last_seen_unix ? new Date(p.last_seen_unix * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
        return '<tr data-unschedulable="' + esc(p.pod) + '"><td>' + esc(p.pod) + '</td><td class="reason">' + esc(p.reason) + detail +
          "</td><td>" + esc(p.attempts || "") + "</td><td>" + esc(when) + "</td></tr>";
      }).join("") + "</table>";
  };
  var renderNodes = function (d) {
    var t0 = performance.now();
    var nodes = (d.nodes || []).slice(), q = $("filter").value.trim().toLowerCase(), by = $("sort").value;
    if (q) nodes = nodes.filter(function (n) { return n.name.toLowerCase().indexOf(q) >= 0; });
    var used = function (n) { return (n.gpus || []).reduce(function (s, g) { return s + g.milli_used; }, 0); };
    var ratio = function (n) { return n.idle_milli > 0 ? n.frag_milli / n.idle_milli : -1; };
    if (by === "frag") nodes.sort(function (a, b) { return ratio(b) - ratio(a) || b.frag_milli - a.frag_milli; });
    else if (by === "used") nodes.sort(function (a, b) { return used(b) - used(a); });
    else nodes.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    var html = new Array(nodes.length);
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i], gs = n.gpus || [], parts = [];
      var fr = n.frag_milli === undefined ? "" : (n.idle_milli > 0 ? "frag " + num(n.frag_milli) + "/" + num(n.idle_milli) : "full");
      var frTitle = n.idle_milli > 0 ? num(n.frag_milli) + " of " + num(n.idle_milli) + " idle milli-GPU fragmented (FGD)" : "no idle GPU compute";
      parts.push('<div class="node" data-node="' + esc(n.name) + '" data-frag-milli="' + (n.frag_milli === undefined ? "" : n.frag_milli) +
        '" style="border-left-color:' + fragColour(n) + '"><div class="hd"><span class="nm" title="' + esc(n.name) + '">' + esc(n.name) +
        '</span><span class="fr" title="' + frTitle + '">' + fr + "</span></div>");
      if (gs.length === 0) parts.push('<div class="pods">no GPUs</div>');
      for (var k = 0; k < gs.length; k++) {
        var g = gs[k];
        parts.push('<div class="gpu' + (g.healthy === false ? " bad" : "") + '" data-node="' + esc(n.name) + '" data-gpu="' + g.index +
          '" data-milli-used="' + g.milli_used + '" data-milli-total="' + g.milli_total + '" data-mib-used="' + g.mib_used +
          '" data-mib-total="' + g.mib_total + '"><span class="lb" title="' + esc(g.model) + '">GPU' + g.index + (g.healthy === false ? " ✕" : "") +
          (g.mib_total > 0 ? "<br>" + esc(g.model || "") : " " + esc(g.model || "")) + "</span>" + bar("c", g.milli_used, g.milli_total, "m") +
          (g.mib_total > 0 ? bar("m", g.mib_used, g.mib_total, "MiB") : "") + "</div>");
      }
      var pods = n.pods || [];
      if (pods.length) parts.push('<div class="pods" title="' + esc(pods.join(", ")) + '">' + pods.length + " pod" + (pods.length > 1 ? "s" : "") + "</div>");
      parts.push("</div>");
      html[i] = parts.join("");
    }
    var grid = $("nodes");
    grid.innerHTML = nodes.length ? html.join("") : '<p class="none">no nodes</p>';
    void grid.offsetHeight;  // lay out now, so the time below includes it
    document.body.setAttribute("data-render-ms", (performance.now() - t0).toFixed(1));
  };
  var render = function (d) {
    doc = d;
    renderTotals(d);
    renderPending(d);
    renderNodes(d);
    var body = document.body;
    if (!body.hasAttribute("data-first-render-ms")) body.setAttribute("data-first-render-ms", performance.now().toFixed(1));
    body.setAttribute("data-rendered", String(Number(body.getAttribute("data-rendered") || 0) + 1));
  };
  $("sort").addEventListener("change", function () { if (doc) renderNodes(doc); });
  $("filter").addEventListener("input", function () { if (doc) renderNodes(doc); });
  var status = function (text, err) { var s = $("status"); s.textContent = text; s.className = err ? "status err" : "status"; };
  var embedded = $("gpushare-snapshot").textContent.trim();
  if (embedded) {
    var d;
    try { d = JSON.parse(embedded); } catch (e) { status("the embedded snapshot is not JSON: " + e.message, true); return; }
    $("src").textContent = "snapshot" + (d.snapshot && d.snapshot.title ? ": " + d.snapshot.title : "");
    render(d);
    status("static snapshot (not refreshed)");
    return;
  }
  var params = new URLSearchParams(location.search);
  var interval = params.has("interval") ? Number(params.get("interval")) : 2;
  var url = new URL("inspect", location.href).href;
  $("src").textContent = "live: " + url;
  var poll = function () {
    fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (d) {
      if (!document.body.hasAttribute("data-fetched-ms")) document.body.setAttribute("data-fetched-ms", performance.now().toFixed(1));
      render(d);
      status("updated " + new Date().toLocaleTimeString() + (interval > 0 ? ", every " + interval + " s" : ""));
    }).catch(function (e) {
      status("cannot read " + url + ": " + e.message + (doc ? " (showing the last good state)" : ""), true);
    }).then(function () {
      if (interval > 0) setTimeout(poll, interval * 1000);
    });
  };
  poll();
})();
</script>
</body>
</html>
)GSVIEW";
}
}  // namespace detail

/// @brief The live page: it polls `inspect` next to its own URL.
inline std::string cluster_view_html() { return std::string(detail::cluster_view_head()) + detail::cluster_view_tail(); }

/// @brief The page with `inspect_doc` embedded: it draws that document and does not poll.
/// Every "<" in the JSON (only possible inside strings) is written as \u003c, so no value can
/// close or open a script element.
inline std::string cluster_view_html(const nlohmann::json& inspect_doc) {
  const std::string j = inspect_doc.dump();
  std::string safe;
  safe.reserve(j.size() + 64);
  for (char ch : j) {
    if (ch == '<') safe += "\\u003c";
    else safe += ch;
  }
  return std::string(detail::cluster_view_head()) + safe + detail::cluster_view_tail();
}

}  // namespace k8s
}  // namespace gpushare
