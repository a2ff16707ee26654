// GET / of the writer's REST port: a status page for the DAQ operator. Plain HTML with inline CSS
// and JS, nothing loaded from elsewhere; it refreshes itself from /status and /statistics every
// second. Element ids (state, start-pulse-id, progress-text, ...) are what the browser test reads.

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sf_bsread_writer</title>
<style>
  :root { --ok: #1b7f3b; --warn: #a86400; --bad: #b3261e; --muted: #5f6368; --line: #dadce0; }
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #202124; background: #f6f7f9; }
  header { background: #24292f; color: #fff; padding: 12px 24px; display: flex; align-items: center; gap: 16px; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  #state { padding: 2px 10px; border-radius: 12px; font-weight: 600; background: #888; }
  #state.waiting { background: #5f6368; } #state.writing { background: #1a73e8; }
  #state.finished { background: var(--ok); } #state.error { background: var(--bad); }
  #connection { margin-left: auto; font-size: 13px; color: #c8d1da; }
  #connection.lost { color: #ffb4a9; }
  main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: 3px 0; vertical-align: top; } td:first-child { color: var(--muted); width: 45%; }
  td.num, span.num { font-variant-numeric: tabular-nums; }
  .bar { display: flex; align-items: center; gap: 12px; }
  progress { flex: 1; height: 22px; accent-color: #1a73e8; }
  #progress-text { font-size: 22px; font-weight: 600; min-width: 5em; text-align: right; }
  #last-error { color: var(--bad); white-space: pre-wrap; word-break: break-word; }
  #last-error.none { color: var(--muted); }
  #output-file { overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 13px; }
  #missing-ranges { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-word; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>sf_bsread_writer</h1>
  <span id="state" class="">loading</span>
  <span id="connection">connecting…</span>
</header>
<main>
  <section class="wide">
    <h2>Progress</h2>
    <div class="bar">
      <progress id="progress-bar" max="1"></progress>
      <span id="progress-text">–</span>
    </div>
    <p class="muted" id="progress-detail">–</p>
  </section>
  <section>
    <h2>Range</h2>
    <table>
      <tr><td>start pulse id</td><td class="num" id="start-pulse-id">–</td></tr>
      <tr><td>stop pulse id</td><td class="num" id="stop-pulse-id">–</td></tr>
      <tr><td>last pulse id received</td><td class="num" id="last-pulse-id">–</td></tr>
      <tr><td>start / stop time</td><td class="num" id="range-times">–</td></tr>
      <tr><td>time left (eta)</td><td class="num" id="eta">–</td></tr>
    </table>
  </section>
  <section>
    <h2>Rates</h2>
    <table>
      <tr><td>received</td><td class="num" id="received-rate">–</td></tr>
      <tr><td>written</td><td class="num" id="written-rate">–</td></tr>
      <tr><td>last flush</td><td class="num" id="last-flush">–</td></tr>
      <tr><td>flushes (total time)</td><td class="num" id="flushes">–</td></tr>
    </table>
  </section>
  <section>
    <h2>Counts</h2>
    <table>
      <tr><td>messages received</td><td class="num" id="received">–</td></tr>
      <tr><td>rows written</td><td class="num" id="written">–</td></tr>
      <tr><td>discarded (before / after / repeated)</td><td class="num" id="discarded">–</td></tr>
      <tr><td>malformed</td><td class="num" id="malformed">–</td></tr>
      <tr><td>missing pulse ids</td><td class="num" id="missing">–</td></tr>
      <tr><td>replay gap</td><td class="num" id="replay-gap">–</td></tr>
    </table>
  </section>
  <section>
    <h2>Output</h2>
    <table>
      <tr><td>file</td><td id="output-file">–</td></tr>
      <tr><td>source</td><td id="source">–</td></tr>
      <tr><td>last error</td><td id="last-error" class="none">none</td></tr>
    </table>
  </section>
  <section class="wide">
    <h2>Consistency summary (after the acquisition)</h2>
    <p id="summary" class="muted">not yet: written when the file is closed</p>
    <p id="missing-ranges"></p>
    <table id="channel-counts"></table>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const dash = "\\u2013";
const int = (v) => (v === null || v === undefined || v < 0 ? dash : String(v));
const rate = (v) => (v === null || v === undefined ? dash : v.toFixed(1) + " /s");
const secs = (v) => (v === null || v === undefined ? dash : v < 100 ? v.toFixed(1) + " s" : Math.round(v) + " s");
const stamp = (t) => (t === null || t === undefined ? dash : new Date(t * 1000).toISOString().replace("T", " ").replace("Z", " UTC"));
function set(id, text) { const e = $(id); if (e.textContent !== text) e.textContent = text; }

function render(status, s) {
  const state = $("state");
  state.textContent = status;
  state.className = status;
  set("start-pulse-id", s.start_pulse_id === null ? (s.start_timestamp === null ? "not set" : "time start") : String(s.start_pulse_id));
  set("stop-pulse-id", s.stop_pulse_id === null ? (s.stop_timestamp === null ? "not set" : "time stop") : String(s.stop_pulse_id));
  set("last-pulse-id", int(s.last_pulse_id));
  set("range-times", stamp(s.start_timestamp) + " / " + stamp(s.stop_timestamp));
  const p = s.progress;
  const bar = $("progress-bar");
  if (p.fraction === null) {
    bar.removeAttribute("value");
    set("progress-text", dash);
    set("progress-detail", status === "waiting" ? "waiting for a start" : "the range is not known yet (no start pulse or no stop yet)");
  } else {
    bar.value = p.fraction;
    bar.dataset.fraction = String(p.fraction);
    set("progress-text", (p.fraction * 100).toFixed(1) + " %");
    if (s.start_pulse_id !== null && s.stop_pulse_id !== null) {
      const total = s.stop_pulse_id - s.start_pulse_id + 1;
      set("progress-detail", Math.round(p.fraction * total) + " of " + total + " pulse ids of the range handled");
    } else {
      set("progress-detail", "last pulse id handled: " + int(s.last_pulse_id) + " (the start is the first pulse written)");
    }
  }
  set("eta", secs(p.eta_s));
  set("received-rate", rate(p.received_per_s));
  set("written-rate", rate(p.rows_per_s));
  set("last-flush", s.flushes.last_seconds === null ? dash : (s.flushes.last_seconds * 1000).toFixed(1) + " ms");
  set("flushes", s.flushes.count + " (" + s.flushes.total_seconds.toFixed(3) + " s)");
  set("received", String(s.messages_received));
  set("written", String(s.messages_written));
  set("discarded", s.discarded_before_start + " / " + s.discarded_after_stop + " / " + s.discarded_repeated);
  const kinds = Object.entries(s.malformed).map(([k, v]) => k + " " + v).join(", ");
  set("malformed", String(s.malformed_total) + (kinds ? " (" + kinds + ")" : ""));
  set("missing", String(s.missing_pulse_ids));
  set("replay-gap", String(s.replay_gap));
  set("output-file", s.output_file === null ? dash : s.output_file + (s.persistent ? " (persistent)" : ""));
  set("source", s.source === null ? dash : s.source);
  const err = $("last-error");
  err.className = s.last_error === null ? "none" : "";
  set("last-error", s.last_error === null ? "none" : s.last_error);
  renderSummary(s.summary);
}

function renderSummary(sum) {
  if (sum === null) {
    set("summary", "not yet: written when the file is closed");
    set("missing-ranges", "");
    $("channel-counts").replaceChildren();
    return;
  }
  set("summary", sum.rowsWritten + " rows, pulses " + int(sum.firstWrittenPulseId) + " .. " + int(sum.lastWrittenPulseId) +
    ", " + sum.missingPulseIds + " missing pulse ids in " + sum.missingPulseIdRangeCount + (sum.missingPulseIdRangeCount === 1 ? " range" : " ranges"));
  const listed = sum.missingPulseIdRanges.map(([a, b]) => (a === b ? String(a) : a + ".." + b));
  const more = sum.missingPulseIdRangeCount - listed.length;
  set("missing-ranges", listed.length === 0 ? "" : "missing: " + listed.join(", ") + (more > 0 ? " and " + more + " more ranges" : ""));
  const table = $("channel-counts");
  const counts = sum.channelRowsWithValue ?? {};
  const rows = Object.entries(counts).slice(0, 200).map(([name, n]) => {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    a.textContent = name;
    const b = document.createElement("td");
    b.className = "num";
    b.textContent = n + " of " + sum.rowsWritten + " rows with a value";
    tr.append(a, b);
    return tr;
  });
  table.replaceChildren(...rows);
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  return r.json();
}

async function refresh() {
  const conn = $("connection");
  try {
    const [st, stats] = await Promise.all([getJson("/status"), getJson("/statistics")]);
    render(st.status, stats.statistics);
    conn.className = "";
    conn.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    conn.className = "lost";
    conn.textContent = "no answer from the writer (a single acquisition ends the process): showing the last values";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
