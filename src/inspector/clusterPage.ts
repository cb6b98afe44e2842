import { CLUSTER_PIECES, clusterClient } from "./clusterClient.js";
import { pageScript } from "./pageKit.js";

const STYLE = `
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f1f5f9;
  --ok: #16a34a; --warn: #d97706; --bad: #dc2626; --accent: #2563eb;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 14px; padding: 10px 20px; background: #0f172a; color: #f8fafc; flex-wrap: wrap; }
header h1 { margin: 0; font-size: 17px; font-weight: 600; }
header .brand { color: #94a3b8; font-weight: 400; }
#connection { margin-left: auto; font-size: 12px; padding: 2px 10px; border-radius: 999px; background: #475569; }
#connection[data-connection="live"] { background: var(--ok); }
#connection[data-connection="down"] { background: var(--warn); }
#connection[data-connection="replay"] { background: #7c3aed; }
#replay { display: none; align-items: center; gap: 8px; padding: 8px 20px; background: #1e293b; color: #e2e8f0; }
body[data-mode="replay"] #replay { display: flex; }
#replay button { font: inherit; padding: 3px 10px; border-radius: 6px; border: 1px solid #475569; background: #334155; color: #f8fafc; cursor: pointer; }
#replay input[type=range] { flex: 1; }
#replay-time { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; min-width: 250px; }
main { display: grid; grid-template-columns: minmax(420px, 540px) 1fr; gap: 14px; padding: 14px 20px; }
.column { display: flex; flex-direction: column; gap: 14px; min-width: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; }
h2 { margin: 0 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); display: flex; gap: 8px; align-items: center; }
.muted { color: var(--muted); }
.mono { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.process { border-left: 4px solid var(--accent); }
.process[data-connected="false"] { border-left-color: var(--warn); opacity: .8; }
.process h3 { margin: 0 0 4px; font-size: 14px; display: flex; gap: 8px; align-items: baseline; }
.supervision { font-size: 12px; color: var(--muted); margin-bottom: 6px; display: flex; flex-wrap: wrap; gap: 4px 12px; }
.supervision [data-field="left"][data-low="true"] { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 5px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 11px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td[data-field="state"] { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
tr[data-part] { cursor: pointer; }
tr[data-selected="true"] { background: #eff6ff; }
tr[data-status="failed"] td[data-field="state"], tr[data-status="down"] td[data-field="state"] { color: var(--bad); font-weight: 600; }
td[data-field="since"] { font-size: 11px; color: var(--muted); }
td[data-field="failure"] { color: var(--bad); white-space: normal; font-size: 11px; min-width: 140px; max-width: 220px; }
.process { overflow-x: auto; }
tr[data-actor] td { color: #6d28d9; }
.filters { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
.filters input { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; width: 150px; }
#lanes-scroll { overflow: auto; max-height: 520px; }
#lanes text { font: 10.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; fill: var(--ink); }
#lanes .lane-line { stroke: #cbd5e1; stroke-dasharray: 3 3; }
#lanes .group-title { font-weight: 600; fill: var(--accent); }
#lanes .lane-title { fill: var(--muted); }
#lanes .hop circle { fill: var(--accent); }
#lanes .hop[data-direction="out"] circle { fill: #0891b2; }
#lanes .hop.error circle { fill: var(--bad); }
#lanes .hop.error text { fill: var(--bad); }
#lanes .hop[data-mark] circle { fill: var(--warn); stroke: #92400e; stroke-width: 1.5; }
#lanes .hop-link { stroke: #94a3b8; fill: none; pointer-events: none; }
#lanes .hop-link.cross { stroke: #6366f1; stroke-width: 1.5; }
#lanes .hop.selected circle { stroke: #0f172a; stroke-width: 2; }
#lanes .hop { cursor: pointer; }
#hop-detail { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; min-height: 1.5em; color: var(--muted); }
#chart-body { height: 360px; overflow: hidden; border: 1px solid var(--line); border-radius: 8px; cursor: grab; background: #fcfcfd; }
#chart-body svg { width: 100%; height: 100%; display: block; }
#chart-body .palm-state.active > rect { stroke: var(--ok); stroke-width: 3; }
#chart-body .palm-state.previous > rect { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 4 2; }
#chart-body path.palm-edge.last { stroke: var(--warn); stroke-width: 3; }
.chart-tools { display: flex; gap: 6px; align-items: center; }
.chart-tools button { font: inherit; padding: 1px 8px; border-radius: 6px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
#chart-transition { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 6px 0 0; }
#log { list-style: none; margin: 0; padding: 0; height: 260px; overflow-y: auto; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#log li { display: flex; flex-wrap: wrap; column-gap: 8px; padding: 1px 0; border-bottom: 1px dashed #e2e8f0; }
#log time { color: var(--muted); }
#log .event-type { color: var(--accent); }
#log [data-event-type="part.failed"] .event-type, #log [data-event-type="server.escalated"] .event-type { color: var(--bad); font-weight: 600; }
#log [data-event-type="part.restarted"] .event-type { color: var(--warn); }
#log li.current { background: #fef9c3; }
@media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
`;

/**
 * The cluster page (`palm inspect URL…`, `palm inspect --replay FILE`): HTML, CSS and script inline, so it
 * needs nothing but the server that sends it (no CDN, works offline).
 *
 * @internal
 */
export function renderClusterPage(mode: "live" | "replay"): string {
  const script = pageScript(clusterClient, CLUSTER_PIECES);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>palm inspector · cluster</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body data-mode="${mode}">
<header>
  <h1><span class="brand">palm inspector ·</span> <span id="title">cluster</span></h1>
  <span id="summary" class="muted"></span>
  <span id="connection" data-connection="connecting">connecting…</span>
</header>
<div id="replay">
  <button id="play" type="button">▶ play</button>
  <button id="step-back" type="button">◀ step</button>
  <button id="step" type="button">step ▶</button>
  <button id="jump-failure" type="button">jump to failure</button>
  <input id="scrubber" type="range" min="0" max="0" value="0" aria-label="position in the trace">
  <span id="replay-time"></span>
</div>
<main>
  <div class="column">
    <section class="card">
      <h2>Processes · supervision</h2>
      <div id="processes"></div>
    </section>
    <section class="card">
      <h2>Events</h2>
      <ol id="log"></ol>
    </section>
  </div>
  <div class="column">
    <section class="card">
      <h2>Message lanes <span id="hop-count" class="muted"></span></h2>
      <div class="filters">
        <input id="filter-client" placeholder="client" aria-label="filter by client">
        <input id="filter-function" placeholder="function" aria-label="filter by function">
        <input id="filter-id" placeholder="message id" aria-label="filter by message id">
      </div>
      <div id="lanes-scroll"><svg id="lanes" xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg></div>
      <div id="hop-detail">click a hop to see the message</div>
    </section>
    <section class="card">
      <h2>Statechart <span id="chart-title" class="muted"></span>
        <span class="chart-tools"><button id="zoom-in" type="button">+</button><button id="zoom-out" type="button">−</button><button id="zoom-fit" type="button">fit</button></span></h2>
      <div id="chart-body"></div>
      <p id="chart-transition" class="muted"></p>
    </section>
  </div>
</main>
<script>
${script}
</script>
</body>
</html>
`;
}
