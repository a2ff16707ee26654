// The buffer's status page (GET / on --status_port): one HTML document with its CSS and script
// inline, nothing loaded from elsewhere. The script reads GET status and GET history every 1.5 s
// and draws the chart of intake rate and depth as inline SVG. Values from the stream (channel
// names, addresses) are set as text, never as HTML.

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sf_bsread_buffer</title>
<style>
  :root { --fg: #1d2733; --muted: #667386; --line: #dde3ea; --bg: #f4f6f9; --card: #fff; --rate: #1f6fd1; --depth: #d9822b; --ok: #1e8c4e; --warn: #c98a00; --bad: #c23b3b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 18px; padding: 12px 20px; background: #22303f; color: #fff; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header .sub { color: #b8c4d2; }
  #conn { margin-left: auto; padding: 2px 10px; border-radius: 10px; background: #2f6f4a; }
  #conn.down { background: var(--bad); }
  main { padding: 16px 20px; display: grid; gap: 14px; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
  .big { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .big.range { font-size: 19px; }
  .unit { font-size: 14px; color: var(--muted); font-weight: 400; margin-left: 3px; }
  .row { display: flex; gap: 18px; flex-wrap: wrap; }
  .kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
  .kv dt { color: var(--muted); }
  .kv dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: break-word; min-width: 0; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
  td.name { white-space: normal; overflow-wrap: break-word; }
  th { color: var(--muted); font-weight: 500; white-space: normal; vertical-align: bottom; }
  #worst-section { grid-column: span 2; }
  @media (max-width: 620px) { #worst-section { grid-column: auto; } }
  td.n, th.n { text-align: right; }
  .none { color: var(--muted); font-style: italic; }
  .badge { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff; font-weight: 600; }
  .badge.connected { background: var(--ok); } .badge.requesting { background: var(--warn); } .badge.waiting { background: var(--bad); }
  .nonzero { color: var(--bad); font-weight: 600; }
  #chart { width: 100%; height: auto; display: block; }
  #chart .grid { stroke: var(--line); stroke-width: 1; }
  #chart text { font-size: 11px; fill: var(--muted); }
  #chart-rate { fill: none; stroke: var(--rate); stroke-width: 1.6; }
  #chart-depth { fill: none; stroke: var(--depth); stroke-width: 1.6; }
  .legend span { margin-right: 16px; } .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>sf_bsread_buffer</h1>
  <span class="sub">input <span id="input-address">…</span> (<span id="input-mode">…</span>)</span>
  <span class="sub">up <span id="uptime">…</span></span>
  <span id="conn">loading…</span>
</header>
<main>
  <section>
    <h2>Depth</h2>
    <div class="row">
      <div><span class="big" id="depth-messages">–</span><span class="unit">messages</span></div>
      <div><span class="big" id="depth-seconds">–</span><span class="unit">s</span></div>
      <div><span class="big" id="depth-bytes">–</span></div>
    </div>
    <dl class="kv"><dt>limits</dt><dd id="depth-limits">–</dd><dt>evicted</dt><dd id="evicted">–</dd></dl>
  </section>
  <section>
    <h2>Pulse ids held</h2>
    <div class="big range" id="pulse-range">–</div>
    <dl class="kv"><dt>oldest</dt><dd id="pulse-oldest">–</dd><dt>newest</dt><dd id="pulse-newest">–</dd><dt>span</dt><dd id="pulse-span">–</dd><dt>last received</dt><dd id="last-pulse">–</dd></dl>
  </section>
  <section>
    <h2>Intake</h2>
    <div><span class="big" id="rate">–</span><span class="unit">Hz</span></div>
    <dl class="kv"><dt>received</dt><dd id="received">–</dd><dt>stored</dt><dd id="buffered">–</dd><dt>control messages</dt><dd id="not-data">–</dd></dl>
  </section>
  <section>
    <h2>Drops</h2>
    <div><span class="big" id="drops">–</span><span class="unit">messages</span></div>
    <dl class="kv" id="drops-detail"></dl>
  </section>
  <section class="wide">
    <h2>Rate and depth, last minutes</h2>
    <svg id="chart" viewBox="0 0 800 180" role="img" aria-label="intake rate and depth over time">
      <line class="grid" x1="40" y1="10" x2="760" y2="10"></line>
      <line class="grid" x1="40" y1="85" x2="760" y2="85"></line>
      <line class="grid" x1="40" y1="160" x2="760" y2="160"></line>
      <text x="36" y="14" text-anchor="end" id="chart-rate-max">0</text>
      <text x="36" y="164" text-anchor="end">0</text>
      <text x="764" y="14" id="chart-depth-max">0</text>
      <text x="764" y="164">0</text>
      <text x="40" y="176" id="chart-from">–</text>
      <text x="760" y="176" text-anchor="end">now</text>
      <polyline id="chart-rate" points=""></polyline>
      <polyline id="chart-depth" points=""></polyline>
    </svg>
    <div class="legend"><span><i style="background: var(--rate)"></i>intake rate (Hz, left)</span><span><i style="background: var(--depth)"></i>depth (messages, right)</span><span id="chart-samples" class="none"></span></div>
  </section>
  <section class="wide" id="dispatcher-section" hidden>
    <h2>Dispatcher stream</h2>
    <dl class="kv">
      <dt>state</dt><dd><span id="dispatcher-state" class="badge">–</span> <span id="dispatcher-since"></span></dd>
      <dt>dispatcher</dt><dd id="dispatcher-url">–</dd>
      <dt>stream</dt><dd id="dispatcher-stream">–</dd>
      <dt>requests</dt><dd><span id="dispatcher-requests">–</span> (<span id="dispatcher-failed">–</span> failed)</dd>
      <dt>re-requests</dt><dd id="dispatcher-re-requests">–</dd>
      <dt>quiet</dt><dd id="dispatcher-quiet">–</dd>
      <dt>last loss</dt><dd id="dispatcher-loss">–</dd>
      <dt>last error</dt><dd id="dispatcher-error">–</dd>
    </dl>
  </section>
  <section class="wide">
    <h2>Consumers</h2>
    <dl class="kv"><dt>compatible output</dt><dd id="output">–</dd><dt>replay service</dt><dd id="replay">–</dd></dl>
    <table>
      <thead><tr><th>replay consumer</th><th>stream</th><th class="n">from pulse</th><th class="n">queue</th><th class="n">sent</th><th class="n">dropped</th><th class="n">gap</th><th class="n">last sent pulse</th></tr></thead>
      <tbody id="consumers"></tbody>
    </table>
  </section>
  <section id="analyzer-section">
    <h2>Analyzer</h2>
    <p id="analyzer-off" class="none" hidden>off (start the buffer with --analyzer)</p>
    <table id="analyzer-table"><tbody id="analyzer-counters"></tbody></table>
  </section>
  <section id="worst-section">
    <h2>Channels with most missing values</h2>
    <table>
      <thead><tr><th>channel</th><th class="n">messages without a value</th></tr></thead>
      <tbody id="worst-channels"></tbody>
    </table>
  </section>
  <section class="wide" id="jetstream-section" hidden>
    <h2>JetStream</h2>
    <dl class="kv" id="jetstream"></dl>
  </section>
</main>
<script>
"use strict";
var REFRESH_MS = 1500;
var samples = [];
var lastSampleT = 0;

function $(id) { return document.getElementById(id); }
function setText(id, v) { var e = $(id); if (e) e.textContent = v; }
function num(v) { return v === null || v === undefined ? "–" : String(v); }
function bytes(n) {
  if (n === null || n === undefined) return "–";
  var u = ["B", "kB", "MB", "GB", "TB"], i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + " " + u[i];
}
function duration(s) {
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}
function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function fillKv(id, pairs) {
  var dl = $(id); dl.textContent = "";
  pairs.forEach(function (p) {
    var dt = document.createElement("dt"); dt.textContent = p[0];
    var dd = document.createElement("dd"); dd.textContent = p[1];
    if (p[2]) dd.className = "nonzero";
    dl.appendChild(dt); dl.appendChild(dd);
  });
}
function fillRows(id, rows, empty, cols) {
  var tb = $(id); tb.textContent = "";
  if (rows.length === 0) { var tr = document.createElement("tr"); var td = cell(tr, empty, "none"); td.colSpan = cols; tb.appendChild(tr); return; }
  rows.forEach(function (r) {
    var tr = document.createElement("tr");
    r.forEach(function (c, i) { var td = cell(tr, c.text !== undefined ? c.text : c, i === 0 ? "name" : "n"); if (c.bad) td.classList.add("nonzero"); });
    tb.appendChild(tr);
  });
}
function sum(o) { var t = 0; for (var k in o) t += o[k]; return t; }

function render(s) {
  setText("input-address", s.input.address);
  setText("input-mode", s.input.mode);
  setText("uptime", duration(s.uptime_s));
  var b = s.buffer;
  setText("depth-messages", num(b.depth));
  setText("depth-seconds", b.seconds.toFixed(1));
  setText("depth-bytes", bytes(b.bytes));
  setText("depth-limits", b.max_messages + " messages" + (b.max_seconds !== null ? ", " + b.max_seconds + " s" : "") + (b.max_bytes !== null ? ", " + bytes(b.max_bytes) : ""));
  setText("evicted", num(b.evicted));
  setText("pulse-range", b.oldest_pulse_id === null ? "empty" : b.oldest_pulse_id + " … " + b.newest_pulse_id);
  setText("pulse-oldest", num(b.oldest_pulse_id));
  setText("pulse-newest", num(b.newest_pulse_id));
  setText("pulse-span", b.oldest_pulse_id === null ? "–" : String(b.newest_pulse_id - b.oldest_pulse_id + 1) + " pulse ids");
  setText("last-pulse", num(s.input.last_pulse_id));
  setText("rate", s.input.rate_hz.toFixed(1));
  setText("received", num(s.input.received));
  setText("buffered", num(s.input.buffered));
  setText("not-data", num(s.input.not_data));

  // The total: messages lost for a reader. The compatible output skips what is evicted before it
  // is sent, also while nobody reads it: shown apart, and marked only while it has a reader.
  var drops = [["malformed", sum(s.input.malformed)], ["too big to keep", s.input.oversized], ["replay consumers", s.replay.dropped]];
  if (s.jetstream) drops.push(["JetStream given up", s.jetstream.given_up]);
  var total = drops.reduce(function (a, d) { return a + d[1]; }, 0);
  var detail = drops.map(function (d) { return [d[0], String(d[1]), d[1] > 0]; });
  for (var k in s.input.malformed) detail.push(["malformed: " + k, String(s.input.malformed[k]), true]);
  detail.push(["compatible output skipped", String(s.output.skipped) + (s.output.peers === 0 ? " (no reader)" : ""), s.output.skipped > 0 && s.output.peers > 0]);
  setText("drops", String(total));
  $("drops").className = "big" + (total > 0 ? " nonzero" : "");
  fillKv("drops-detail", detail);

  var o = s.output;
  setText("output", o.endpoint + ": " + o.peers + " reader(s), " + o.sent + " sent, " + o.lag + " behind, " + o.skipped + " skipped");
  setText("replay", s.replay.endpoint + ": " + s.replay.consumers.length + " consumer(s), " + s.replay.idle_released + " released idle, " + s.replay.bad_requests + " bad request(s)");
  fillRows("consumers", s.replay.consumers.map(function (c) {
    return [c.consumer_id, c.stream, num(c.from_pulse_id), String(c.queue_depth), String(c.sent), { text: String(c.dropped), bad: c.dropped > 0 }, { text: String(c.gap), bad: c.gap > 0 }, num(c.last_sent_pulse_id)];
  }), "no replay consumer", 8);
  $("consumers").querySelectorAll("tr").forEach(function (tr) { if (tr.children[1]) tr.children[1].className = "name"; });

  var a = s.analyzer;
  $("analyzer-off").hidden = a !== null;
  $("analyzer-table").hidden = a === null;
  $("worst-section").hidden = a === null;
  if (a !== null) {
    var rows = [["messages analyzed", a.messages], ["missing pulse ids", a.missing_pulses], ["gaps", a.gaps], ["duplicated pulse ids", a.duplicated], ["backward pulse ids", a.backward], ["pulse id 0", a.zero_pulse_id], ["timestamp off", a.timestamp_off], ["messages with missing values", a.messages_with_missing_channels], ["stream re-requests", a.stream_re_requests || 0]];
    for (var m in a.malformed) rows.push(["malformed: " + m, a.malformed[m]]);
    fillRows("analyzer-counters", rows.map(function (r, i) { return [r[0], { text: String(r[1]), bad: i > 0 && r[1] > 0 }]; }), "", 2);
    var worst = Object.keys(a.missing_channel_values).map(function (n) { return [n, a.missing_channel_values[n]]; });
    worst.sort(function (x, y) { return y[1] - x[1] || (x[0] < y[0] ? -1 : 1); });
    fillRows("worst-channels", worst.slice(0, 10).map(function (w) { return [w[0], String(w[1])]; }), "every channel had a value in every message", 2);
  }

  var d = s.dispatcher;
  $("dispatcher-section").hidden = !d;
  if (d) {
    setText("dispatcher-state", d.state);
    $("dispatcher-state").className = "badge " + d.state;
    setText("dispatcher-since", "since " + new Date(d.since).toLocaleTimeString() + (d.next_request_s !== null ? ", next request in " + d.next_request_s + " s" : ""));
    setText("dispatcher-url", d.url);
    setText("dispatcher-stream", d.stream);
    setText("dispatcher-requests", String(d.requests));
    setText("dispatcher-failed", String(d.failed_requests));
    setText("dispatcher-re-requests", String(d.re_requests));
    setText("dispatcher-quiet", d.quiet_s + " s without a message (lost after " + d.quiet_limit_s + " s, or when the stream's port refuses connections)");
    setText("dispatcher-loss", d.last_loss === null ? "–" : d.last_loss);
    setText("dispatcher-error", d.last_error === null ? "–" : d.last_error);
  }

  var j = s.jetstream;
  $("jetstream-section").hidden = !j;
  if (j) {
    fillKv("jetstream", [
      ["stream", j.stream + " (subject " + j.subject + ")"],
      ["server", (j.connected ? "connected to " + j.server : "not connected") + (j.ready ? ", stream ready" : ", stream not ready"), !(j.connected && j.ready)],
      ["published", j.published + " messages (" + j.duplicates + " duplicates, " + j.passed_over + " passed over)"],
      ["pending", j.pending_acks + " acks, " + bytes(j.pending_bytes) + "; " + j.lag + " messages behind"],
      ["failures", String(j.failures), j.failures > 0],
      ["given up", String(j.given_up), j.given_up > 0],
      ["stream holds", num(j.stream_messages) + " messages, " + bytes(j.stream_bytes)],
      ["stream pulse ids", num(j.first_pulse_id) + " … " + num(j.last_pulse_id)],
    ]);
  }
}

function drawChart() {
  var rate = $("chart-rate"), depth = $("chart-depth");
  setText("chart-samples", samples.length + " samples");
  if (samples.length === 0) { rate.setAttribute("points", ""); depth.setAttribute("points", ""); return; }
  var end = samples[samples.length - 1].t;
  var span = Math.min(600000, Math.max(60000, end - samples[0].t));
  var start = end - span;
  var maxRate = 1, maxDepth = 1;
  samples.forEach(function (p) { if (p.rate_hz > maxRate) maxRate = p.rate_hz; if (p.depth > maxDepth) maxDepth = p.depth; });
  maxRate = Math.ceil(maxRate * 1.1); maxDepth = Math.ceil(maxDepth * 1.1);
  var x = function (t) { return (40 + (720 * (t - start)) / span).toFixed(1); };
  var y = function (v, max) { return (160 - (150 * v) / max).toFixed(1); };
  var visible = samples.filter(function (p) { return p.t >= start; });
  rate.setAttribute("points", visible.map(function (p) { return x(p.t) + "," + y(p.rate_hz, maxRate); }).join(" "));
  depth.setAttribute("points", visible.map(function (p) { return x(p.t) + "," + y(p.depth, maxDepth); }).join(" "));
  setText("chart-rate-max", String(maxRate));
  setText("chart-depth-max", String(maxDepth));
  setText("chart-from", "-" + Math.round(span / 60000 * 10) / 10 + " min");
}

function getJson(url) {
  return fetch(url, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error(url + ": HTTP " + r.status); return r.json(); });
}

function refresh() {
  Promise.all([getJson("status"), getJson("history?since=" + lastSampleT)])
    .then(function (res) {
      render(res[0]);
      var fresh = res[1].samples;
      if (fresh.length > 0) { samples = samples.concat(fresh).slice(-600); lastSampleT = fresh[fresh.length - 1].t; }
      drawChart();
      setText("conn", "updated " + new Date().toLocaleTimeString());
      $("conn").className = "";
    })
    .catch(function (e) { setText("conn", "buffer not reachable: " + e.message); $("conn").className = "down"; })
    .then(function () { setTimeout(refresh, REFRESH_MS); });
}
refresh();
</script>
</body>
</html>
`;
