import { statechartView } from "./clusterChart.js";
import { drawLanes, type PageEntry } from "./clusterLanes.js";
import { processTables } from "./clusterProcesses.js";
import { replayControls } from "./clusterReplay.js";
import type { PageKit } from "./pageKit.js";
import type { ClusterProcess, ClusterSnapshot, InspectorEvent } from "./types.js";

/** The pieces of the cluster page's script, each sent as its own source text. @internal */
export const CLUSTER_PIECES = { drawLanes, statechartView, processTables, replayControls };

/**
 * The cluster page's script. It runs in the browser, not in Node: the server sends its source text with
 * its pieces' (see `pageScript`), so it must not touch anything outside its own body, the kit and the
 * pieces it is given; the type-only imports above vanish at compile time. Live, it follows `/events`;
 * replaying, it reads `/trace.json` and rebuilds the page at the scrubber's position. Values are written
 * with `textContent`, never as HTML.
 *
 * @internal
 */
export function clusterClient(kit: PageKit, pieces: typeof CLUSTER_PIECES): void {
  /** Events kept in memory (a ring): the page's memory stays bounded however long it runs. */
  const RING = 5000;
  const LOG_SHOWN = 300;
  const mode = document.body.getAttribute("data-mode") === "replay" ? "replay" : "live";
  const { byId, make, clock } = kit;

  /** The longest each section of the page took to draw, in milliseconds. */
  const sectionMs: Record<string, number> = {};
  const stats = {
    sectionMs,
    ring: 0,
    renders: 0,
    totalRenderMs: 0,
    lastRenderMs: 0,
    maxRenderMs: 0,
    snapshots: 0,
    events: 0,
    firstRenderAt: 0,
  };
  (window as unknown as { __palmInspector: typeof stats }).__palmInspector = stats;
  const isFailure = (event: InspectorEvent): boolean =>
    event.type === "part.failed" ||
    event.type === "server.escalated" ||
    (event.type === "message.hop" && event.message?.error !== undefined);

  // ---- state: the processes' snapshots and a ring of events ----
  let processes: ClusterProcess[] = [];
  let ring: PageEntry[] = [];
  let seen = new Map<string, number>();
  let hopsDirty = true;
  let logDirty = true;
  let chartDirty = true;

  const ingest = (event: InspectorEvent, index: number): void => {
    stats.events++;
    let mark: string | undefined;
    if (event.type === "message.hop" && event.message) {
      const key = `${event.message.id}|${event.process ?? ""}|${event.part ?? ""}|${event.message.direction}`;
      const count = seen.get(key) ?? 0;
      seen.set(key, count + 1);
      if (count > 0) mark = event.message.direction === "out" ? "redelivered" : "duplicate";
      if (seen.size > RING * 4) seen = new Map();
      hopsDirty = true;
    } else if (event.type === "part.state") chartDirty = true;
    else logDirty = true;
    ring.push({ event, mark, index });
    if (ring.length > RING * 1.2) ring = ring.slice(-RING);
    stats.ring = ring.length;
  };

  const chart = pieces.statechartView(kit, {
    findPart: (process, name) =>
      processes.find((p) => p.process === process)?.snapshot?.parts.find((part) => part.name === name),
    lastTransition: (process, part) => {
      for (let i = ring.length - 1; i >= 0; i--) {
        const { event } = ring[i]!;
        if (event.type === "part.state" && event.process === process && event.part === part) return event;
      }
      return undefined;
    },
  });
  const select = (process: string, part: string): void => {
    chart.select(process, part);
    tables.markSelected(process, part);
    chartDirty = true;
    schedule();
  };
  const tables = pieces.processTables(kit, select);

  // ---- sequence lanes ----
  const filters = {
    client: byId("filter-client") as HTMLInputElement,
    fn: byId("filter-function") as HTMLInputElement,
    id: byId("filter-id") as HTMLInputElement,
  };
  for (const input of Object.values(filters)) {
    input.addEventListener("input", () => {
      hopsDirty = true;
      schedule();
    });
  }
  let selectedHop: string | undefined;
  const renderHops = (): void =>
    pieces.drawLanes(kit, {
      ring,
      processes,
      filter: {
        client: filters.client.value.trim(),
        fn: filters.fn.value.trim(),
        id: filters.id.value.trim(),
      },
      selectedHop,
      onSelect: (key) => {
        selectedHop = key;
        hopsDirty = true;
        schedule();
      },
    });

  // ---- events log ----
  // Read on scroll, not while drawing: reading layout right after the tables changed would force a reflow.
  let logAtBottom = true;
  byId("log").addEventListener("scroll", () => {
    const log = byId("log");
    logAtBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  });
  const renderLog = (): void => {
    const log = byId("log");
    const atBottom = logAtBottom;
    const shown: PageEntry[] = [];
    for (let i = ring.length - 1; i >= 0 && shown.length < LOG_SHOWN; i--) {
      const entry = ring[i]!;
      if (entry.event.type !== "message.hop" && entry.event.type !== "part.state") shown.push(entry);
    }
    shown.reverse();
    log.replaceChildren(
      ...shown.map(({ event }) => {
        const item = make("li", { "data-event-type": event.type, "data-process": event.process ?? "" });
        item.append(
          make("time", {}, clock(event.at)),
          make("span", { class: "node-name" }, event.process ?? ""),
          make("span", { class: "event-type" }, event.type),
          make("span", { class: "node-name" }, event.part ?? ""),
          make("span", { class: "muted" }, event.detail ?? ""),
        );
        return item;
      }),
    );
    if (atBottom || mode === "replay") log.scrollTop = log.scrollHeight;
  };

  const renderChart = (): void => {
    if (!chart.selected()) {
      const first = processes.find((p) => (p.snapshot?.parts.length ?? 0) > 0);
      const part = first?.snapshot?.parts[0];
      if (!first || !part) return;
      chart.select(first.process, part.name);
      tables.markSelected(first.process, part.name);
    }
    chart.render();
  };

  // ---- rendering, at most once a frame ----
  let scheduled = false;
  const render = (): void => {
    scheduled = false;
    const started = performance.now();
    const timed = (name: string, run: () => void) => {
      const from = performance.now();
      run();
      sectionMs[name] = Math.max(sectionMs[name] ?? 0, performance.now() - from);
    };
    timed("processes", () => tables.render(processes));
    if (hopsDirty) timed("hops", renderHops);
    if (logDirty) timed("log", renderLog);
    if (chartDirty) timed("chart", renderChart);
    hopsDirty = logDirty = chartDirty = false;
    stats.renders++;
    stats.lastRenderMs = performance.now() - started;
    stats.totalRenderMs += stats.lastRenderMs;
    stats.maxRenderMs = Math.max(stats.maxRenderMs, stats.lastRenderMs);
    if (stats.firstRenderAt === 0 && processes.length > 0) stats.firstRenderAt = performance.now();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  };

  if (mode === "replay") {
    pieces.replayControls(kit, {
      reset: () => {
        ring = [];
        seen = new Map();
      },
      ingest,
      show: (shown) => {
        processes = shown;
        hopsDirty = logDirty = chartDirty = true;
        schedule();
      },
      isFailure,
    });
    return;
  }
  const events = kit.follow();
  events.addEventListener("snapshot", (message) => {
    stats.snapshots++;
    processes = [...(JSON.parse((message as MessageEvent<string>).data) as ClusterSnapshot).processes];
    chartDirty = true;
    schedule();
  });
  events.addEventListener("gap", (message) => {
    const { missed } = JSON.parse((message as MessageEvent<string>).data) as { missed: number };
    ingest(
      { type: "messages.sampled", at: Date.now(), detail: `${missed} events not shown (page too slow)` },
      -1,
    );
    schedule();
  });
  events.addEventListener("message", (message) => {
    ingest(JSON.parse(message.data as string) as InspectorEvent, -1);
    schedule();
  });
}
