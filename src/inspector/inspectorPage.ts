import { escapeXml } from "../viz/escapeXml.js";
import { inspectorClient } from "./inspectorClient.js";
import { pageScript } from "./pageKit.js";

const STYLE = `
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f1f5f9;
  --ok: #16a34a; --warn: #d97706; --bad: #dc2626; --accent: #2563eb;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: baseline; gap: 14px; padding: 12px 20px; background: #0f172a; color: #f8fafc; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .brand { color: #94a3b8; font-weight: 400; }
#connection { margin-left: auto; font-size: 12px; padding: 2px 10px; border-radius: 999px; background: #475569; }
#connection[data-connection="live"] { background: var(--ok); }
#connection[data-connection="down"] { background: var(--warn); }
#updated { font-size: 12px; color: #94a3b8; }
main { display: grid; grid-template-columns: minmax(260px, 340px) 1fr; gap: 16px; padding: 16px 20px; }
aside, .content { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
h3 { margin: 0 0 8px; font-size: 14px; display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
.muted { color: var(--muted); }
.node-name { font-weight: 600; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 16px; }
.tree { padding-left: 0; }
.tree li { position: relative; padding: 3px 0 3px 12px; }
.tree ul li::before { content: ""; position: absolute; left: -4px; top: 0; bottom: 50%; width: 12px;
  border-left: 1px solid #cbd5e1; border-bottom: 1px solid #cbd5e1; border-bottom-left-radius: 4px; }
.state { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 1px 7px; border-radius: 6px;
  background: #dcfce7; color: #166534; }
[data-status="failed"] .state, [data-status="stopped"] .state { background: #fee2e2; color: #991b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td[data-field="state"] { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
tr[data-status="failed"] td[data-field="state"] { color: var(--bad); font-weight: 600; }
.error-text { color: var(--bad); white-space: normal; max-width: 320px; }
.table-scroll { overflow-x: auto; }
.bump { animation: bump 1.2s ease-out; }
@keyframes bump { from { background: #fef08a; } to { background: transparent; } }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; }
.chart-body { overflow: auto; }
.chart-body svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.chart[data-status="failed"] { border-color: #fca5a5; }
#log { list-style: none; margin: 0; padding: 0; height: 320px; overflow-y: auto;
  font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#log li { display: flex; flex-wrap: wrap; column-gap: 8px; padding: 2px 0; border-bottom: 1px dashed #e2e8f0; }
#log time { color: var(--muted); }
#log .event-type { color: var(--accent); }
#log [data-event-type="part.failed"] .event-type, #log [data-event-type="server.escalated"] .event-type,
#log [data-event-type="part.error"] .event-type { color: var(--bad); font-weight: 600; }
#log [data-event-type="part.restarted"] .event-type { color: var(--warn); }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

/**
 * The inspector's single page: HTML, CSS and script inline, so it needs nothing but the inspector
 * server itself (no CDN, works offline). The page then follows `/events` for live updates.
 *
 * @internal
 */
export function renderInspectorPage(serverName: string): string {
  const name = escapeXml(serverName);
  const script = pageScript(inspectorClient);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · palm inspector</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1><span class="brand">palm inspector ·</span> <span id="server-name">${name}</span></h1>
  <span id="updated"></span>
  <span id="connection" data-connection="connecting">connecting…</span>
</header>
<main>
  <aside>
    <section class="card">
      <h2>Supervision tree</h2>
      <ul class="tree" id="tree">
        <li><span class="node-name" id="tree-server">${name}</span> <span class="muted">server</span>
          <ul><li><span class="node-name">router</span> <span class="muted">supervisor</span>
            <ul id="tree-parts"></ul></li></ul></li>
      </ul>
    </section>
    <section class="card">
      <h2>Routing table</h2>
      <table id="routes"><thead><tr><th>from</th><th>to</th><th>block</th><th>reroute</th></tr></thead>
        <tbody id="routes-body"></tbody></table>
    </section>
    <section class="card">
      <h2>Events</h2>
      <ol id="log"></ol>
    </section>
  </aside>
  <div class="content">
    <section class="card">
      <h2>Parts</h2>
      <div class="table-scroll">
      <table id="parts"><thead><tr><th>part</th><th>kind</th><th>type</th><th>state</th>
        <th>in</th><th>out</th><th>restarts</th><th>errors</th><th>last error</th></tr></thead>
        <tbody id="parts-body"></tbody></table>
      </div>
    </section>
    <div id="charts"></div>
  </div>
</main>
<script>
${script}
</script>
</body>
</html>
`;
}
