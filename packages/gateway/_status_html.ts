// Internal: the status page's HTML, one self-contained document (inline CSS and script, no framework, no build
// step). The page holds no data itself: its script polls `/status.json` every second with the admin token as a
// Bearer header. The token comes from the `#token=` fragment (which never reaches a server or a log; the script
// removes it from the address bar at once and keeps it in sessionStorage) or from the sign-in field.
//
// Elements carry `data-*` attributes (`data-member`, `data-state`, `data-era`) so that a browser test reads states
// without depending on wording or layout.

/** The script of the page (its SHA-256 goes into the Content-Security-Policy). */
export const STATUS_SCRIPT = `
"use strict";
const KEY = "federated-mcp.status.token";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(KEY) || "";
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.has("token")) {
  token = hash.get("token") || "";
  sessionStorage.setItem(KEY, token);
  history.replaceState(null, "", location.pathname + location.search);
}
let previous;
let timer;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function ms(value) {
  return typeof value === "number" ? (value < 10 ? value.toFixed(2) : value.toFixed(0)) + " ms" : "–";
}

function rate(now, before, seconds) {
  if (before === undefined || seconds <= 0) return "–";
  return Math.max(0, (now - before) / seconds).toFixed(1) + "/s";
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 90 ? s + " s ago" : Math.round(s / 60) + " min ago";
}

function channels(member) {
  const cell = el("td", { class: "channels" });
  for (const [name, ch] of Object.entries(member.channels || {})) {
    cell.append(el("span", { class: "chan " + ch.state, "data-channel": name, "data-channel-state": ch.state },
      name + " " + ch.state + (ch.deferred ? " (connects on first use)" : "") + " " + ms(ch.latencyMs) +
        (ch.state !== "up" && ch.reconnectAttempts ? " attempt " + ch.reconnectAttempts : "")));
  }
  return cell;
}

function render(feed, seconds) {
  const before = previous ? previous.feed : undefined;
  const g = feed.gateway;
  $("sessions").textContent = g.sessions;
  $("mcp-rate").textContent = rate(g.mcp.requests, before && before.gateway.mcp.requests, seconds);
  $("http-rate").textContent = rate(g.http.total, before && before.gateway.http.total, seconds);
  $("mcp-failed").textContent = g.mcp.failed;
  $("auth-failures").textContent = g.http.authFailures;
  $("http-classes").textContent = Object.entries(g.http.byClass).map(([k, v]) => k + " " + v).join("  ") || "–";
  $("usable").textContent = feed.members.filter((m) => m.up).length + " / " + feed.members.length;
  const rows = feed.members.map((m) => {
    const old = before && before.members.find((b) => b.serverId === m.serverId);
    const error = m.lastError ? m.lastError.code + ": " + m.lastError.message : "";
    return el("tr", { "data-member": m.serverId, "data-state": m.state, "data-era": m.era, class: m.up ? "up" : "down" },
      el("td", {}, el("b", {}, m.serverId), m.source === "config" ? el("small", {}, " (configured)") : ""),
      el("td", {}, el("span", { class: "badge " + m.state }, m.state), " ", el("small", {}, ago(m.since))),
      el("td", {}, m.era || "–"),
      channels(m),
      el("td", { class: "num" }, m.tools === null ? "–" : m.tools),
      el("td", { class: "num" }, rate(m.requests, old && old.requests, seconds)),
      el("td", { class: "num" }, m.inFlight),
      el("td", { class: "num" }, ms(m.lastMs)),
      el("td", { class: "error", title: error }, error));
  });
  $("members").replaceChildren(...rows);
  $("events").replaceChildren(...feed.events.slice().reverse().map((e) =>
    el("li", { "data-event": e.type, "data-member": e.serverId },
      el("time", {}, e.at.slice(11, 19)), " ", el("b", {}, e.serverId), " ", e.type,
      e.channel ? " (" + e.channel + ")" : "", e.message ? ": " + e.message : "", e.count > 1 ? " ×" + e.count : "")));
  $("updated").textContent = "updated " + feed.time.slice(11, 19) + " UTC";
  $("updated").dataset.time = feed.time;
}

async function poll() {
  clearTimeout(timer);
  if (!token) {
    $("login").hidden = false;
    return;
  }
  try {
    const response = await fetch("status.json", { headers: { authorization: "Bearer " + token }, cache: "no-store" });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => ({}));
      $("problem").textContent = "Refused (" + response.status + "): " + ((body.error && body.error.message) || "");
      $("login").hidden = false;
      return;
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    const feed = await response.json();
    const at = Date.parse(feed.time);
    render(feed, previous ? (at - previous.at) / 1000 : 0);
    previous = { at, feed };
    $("problem").textContent = "";
    document.body.dataset.live = "true";
  } catch (error) {
    document.body.dataset.live = "false";
    $("problem").textContent = "Gateway unreachable: " + error.message;
  }
  timer = setTimeout(poll, 1000);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  sessionStorage.setItem(KEY, token);
  $("login").hidden = true;
  poll();
});
poll();
`;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f7f8fa}
h1{font-size:1.3rem;margin:0 0 .2rem}header p{margin:0 0 1rem;color:#5a6275}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin-bottom:1rem}
.card{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:.5rem .8rem;min-width:8rem}
.card b{display:block;font-size:1.2rem}.card span{color:#5a6275;font-size:.8rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dfe3ea}
th,td{padding:.35rem .6rem;border-bottom:1px solid #eef0f4;text-align:left;vertical-align:top}
th{font-size:.8rem;color:#5a6275;background:#f0f2f6}.num{text-align:right}
tr.down{background:#fff5f5}.error{color:#a32020;max-width:28rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tr.up .error{color:#8a8f9c}
.badge{padding:0 .4rem;border-radius:4px;background:#e3e7ee}
.badge.connected{background:#d4f2dc}.badge.degraded{background:#fff0c2}
.badge.reconnecting,.badge.retrying,.badge.connecting{background:#ffe1c2}
.badge.disconnected,.badge.refused,.badge.closed{background:#ffd3d3}
.chan{display:inline-block;margin-right:.5rem;font-size:.85rem}.chan.up{color:#17692d}.chan.down{color:#a32020}
#events{font-size:.85rem;max-height:16rem;overflow:auto;background:#fff;border:1px solid #dfe3ea;padding:.5rem 1.5rem}
#problem{color:#a32020}form[hidden]{display:none}
`;

/** The status page: an HTML document without data. */
export const STATUS_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>federated-mcp status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>federated-mcp gateway</h1><p><span id="updated">waiting for the first update</span>
<span id="problem"></span></p></header>
<form id="login" hidden><label>Admin token <input id="token" type="password" autocomplete="off"></label>
<button>Show status</button></form>
<section class="cards">
<div class="card"><b id="usable">–</b><span>members usable</span></div>
<div class="card"><b id="sessions">–</b><span>client sessions</span></div>
<div class="card"><b id="mcp-rate">–</b><span>MCP requests</span></div>
<div class="card"><b id="mcp-failed">–</b><span>MCP requests failed</span></div>
<div class="card"><b id="http-rate">–</b><span>HTTP requests</span></div>
<div class="card"><b id="auth-failures">–</b><span>auth failures</span></div>
<div class="card"><b id="http-classes">–</b><span>HTTP answers</span></div>
</section>
<table>
<thead><tr><th>member</th><th>state</th><th>era</th><th>channels (latency)</th><th>tools</th><th>requests</th>
<th>in flight</th><th>last call</th><th>last error</th></tr></thead>
<tbody id="members"></tbody>
</table>
<h2>Recent events</h2>
<ul id="events"></ul>
<script>${STATUS_SCRIPT}</script>
</body>
</html>
`;
