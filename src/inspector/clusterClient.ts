import type { TraceRecord } from "./TraceRecorder.js";
import type {
  ClusterProcess,
  ClusterSnapshot,
  InspectorEvent,
  InspectorLiveSnapshot,
  InspectorPart,
} from "./types.js";

/**
 * The cluster page's script. It runs in the browser, not in Node: the server sends its source text
 * (`clusterClient.toString()`), so it must not touch anything outside its own body; the type-only
 * imports above vanish at compile time. Live, it follows `/events`; replaying, it reads `/trace.json`
 * and rebuilds the page at the scrubber's position. Values are written with `textContent`, never as HTML.
 *
 * @internal
 */
export function clusterClient(): void {
  /** Events kept in memory (a ring): the page's memory stays bounded however long it runs. */
  const RING = 5000;
  const HOPS_SHOWN = 150;
  const LOG_SHOWN = 300;
  const LANE_WIDTH = 74;
  /** Width of the hop labels, left of the lanes. */
  const LABEL_WIDTH = 330;
  const ROW_HEIGHT = 20;
  const HEADER_HEIGHT = 44;
  const COUNTERS = ["messagesIn", "messagesOut", "restarts", "errors"] as const;
  const mode = document.body.getAttribute("data-mode") === "replay" ? "replay" : "live";

  interface Entry {
    readonly event: InspectorEvent;
    /** `redelivered` (an outbound part handed the same message again) or `duplicate` (received again). */
    readonly mark: string | undefined;
    /** Position in the trace, when replaying. */
    readonly index: number;
  }
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

  const byId = (id: string): HTMLElement => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`inspector page lacks #${id}`);
    return element;
  };
  const make = <K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attributes: Record<string, string> = {},
    text?: string,
  ): HTMLElementTagNameMap[K] => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const svg = (tag: string, attributes: Record<string, string | number> = {}, text?: string): SVGElement => {
    const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const setText = (element: Element | null | undefined, text: string): void => {
    if (element && element.textContent !== text) element.textContent = text;
  };
  const clock = (at: number): string => {
    const date = new Date(at);
    return `${date.toTimeString().slice(0, 8)}.${String(date.getMilliseconds()).padStart(3, "0")}`;
  };
  const activePaths = (state: string): Set<string> => {
    const paths = new Set<string>();
    for (const leaf of state.split(",")) {
      const segments = leaf.split(".");
      for (let end = 1; end <= segments.length; end++) paths.add(segments.slice(0, end).join("."));
    }
    return paths;
  };
  const statusOf = (part: InspectorPart): string => part.state.split(/[.,]/)[0] ?? "";
  const isFailure = (event: InspectorEvent): boolean =>
    event.type === "part.failed" ||
    event.type === "server.escalated" ||
    (event.type === "message.hop" && event.message?.error !== undefined);

  // ---- state: the processes' snapshots and a ring of events ----
  let processes: ClusterProcess[] = [];
  let ring: Entry[] = [];
  let seen = new Map<string, number>();
  let hopsDirty = true;
  let logDirty = true;
  let chartDirty = true;
  let selected: { process: string; part: string } | undefined;

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

  // ---- processes, supervision, parts ----
  const cells = new Map<string, Element>();
  const rows = new Map<string, HTMLElement>();
  const sections = new Map<string, HTMLElement>();
  let layoutKey = "";
  const rowKey = (process: string, part: string) => `${process}\u0000${part}`;
  const rebuildProcesses = (): void => {
    const root = byId("processes");
    root.replaceChildren();
    cells.clear();
    rows.clear();
    sections.clear();
    for (const entry of processes) {
      const section = make("section", { class: "process card", "data-process": entry.process });
      sections.set(entry.process, section);
      const title = make("h3");
      title.append(
        make("span", { "data-field": "process" }, entry.process),
        make("span", { class: "muted mono", "data-field": "url" }, entry.url),
      );
      const supervision = make("div", { class: "supervision" });
      for (const field of ["strategy", "intensity", "left", "backoff"]) {
        const span = make("span", { "data-field": field });
        supervision.append(span);
        cells.set(`${entry.process}\u0000~\u0000${field}`, span);
      }
      const table = make("table");
      const head = make("tr");
      for (const label of ["part", "state", "in", "out", "restarts", "err", "counted", "last failure"])
        head.append(make("th", {}, label));
      table.append(head);
      for (const part of entry.snapshot?.parts ?? []) {
        const row = make("tr", { "data-part": part.name, "data-process": entry.process });
        row.append(make("td", { "data-field": "name", title: `${part.kind} ${part.partType}` }, part.name));
        for (const field of ["state", ...COUNTERS, "since", "failure"]) {
          const cell = make("td", {
            "data-field": field,
            ...((COUNTERS as readonly string[]).includes(field) ? { class: "num" } : {}),
          });
          row.append(cell);
          cells.set(`${rowKey(entry.process, part.name)}\u0000${field}`, cell);
        }
        row.addEventListener("click", () => select(entry.process, part.name));
        rows.set(rowKey(entry.process, part.name), row);
        table.append(row);
      }
      for (const actor of entry.snapshot?.actors ?? []) {
        const row = make("tr", { "data-actor": actor.name, "data-process": entry.process });
        row.append(
          make("td", {}, actor.name),
          make("td", { "data-field": "state" }),
          make("td", { colspan: "6" }),
        );
        rows.set(rowKey(entry.process, `~${actor.name}`), row);
        table.append(row);
      }
      section.append(title, supervision, table);
      root.append(section);
    }
  };

  const renderProcesses = (): void => {
    const key = JSON.stringify(
      processes.map((p) => [
        p.process,
        (p.snapshot?.parts ?? []).map((part) => part.name),
        (p.snapshot?.actors ?? []).map((a) => a.name),
      ]),
    );
    if (key !== layoutKey) {
      layoutKey = key;
      rebuildProcesses();
    }
    let parts = 0;
    for (const entry of processes) {
      const section = sections.get(entry.process);
      if (section && section.getAttribute("data-connected") !== String(entry.connected))
        section.setAttribute("data-connected", String(entry.connected));
      const supervision = entry.snapshot?.supervision;
      const cell = (field: string) => cells.get(`${entry.process}\u0000~\u0000${field}`);
      if (supervision) {
        setText(cell("strategy"), supervision.strategy);
        setText(
          cell("intensity"),
          `restarts ${supervision.used}/${supervision.intensity} in ${supervision.withinMs / 1000} s`,
        );
        const left = Math.max(0, supervision.intensity - supervision.used);
        setText(cell("left"), `${left} left`);
        if (cell("left")?.getAttribute("data-low") !== String(left <= 1))
          cell("left")?.setAttribute("data-low", String(left <= 1));
        const { minMs, maxMs, factor } = supervision.backoff;
        setText(cell("backoff"), `backoff ${minMs}–${maxMs} ms ×${factor}`);
      } else if (!entry.snapshot) setText(cell("strategy"), entry.connected ? "" : "not reachable");
      for (const part of entry.snapshot?.parts ?? []) {
        parts++;
        const key = rowKey(entry.process, part.name);
        const row = rows.get(key);
        const status = statusOf(part);
        if (row && row.getAttribute("data-status") !== status) row.setAttribute("data-status", status);
        const at = (field: string) => cells.get(`${key}\u0000${field}`);
        setText(at("state"), part.state);
        for (const field of COUNTERS) setText(at(field), String(part[field]));
        setText(at("since"), part.restarts > 0 ? `since restart ${part.restarts}` : "since start");
        const failure = part.failures?.at(-1);
        setText(
          at("failure"),
          failure ? `${failure.reason} (restart ${failure.restart + 1})` : (part.lastError ?? ""),
        );
      }
      for (const actor of entry.snapshot?.actors ?? []) {
        const row = rows.get(rowKey(entry.process, `~${actor.name}`));
        if (!row) continue;
        setText(row.children[1], actor.state);
        setText(
          row.children[2],
          Object.entries(actor.facts)
            .map(([name, value]) => `${name} ${value}`)
            .join(" · "),
        );
      }
    }
    setText(byId("summary"), `${processes.length} processes · ${parts} parts`);
  };

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
  const renderHops = (): void => {
    const client = filters.client.value.trim();
    const fn = filters.fn.value.trim();
    const id = filters.id.value.trim();
    const hops: Entry[] = [];
    for (let i = ring.length - 1; i >= 0 && hops.length < HOPS_SHOWN; i--) {
      const entry = ring[i]!;
      const message = entry.event.message;
      if (entry.event.type !== "message.hop" || !message) continue;
      if (client && !message.client.includes(client)) continue;
      if (fn && !message.function.includes(fn)) continue;
      if (id && !message.id.includes(id)) continue;
      hops.push(entry);
    }
    hops.reverse();
    // Processes' events arrive relayed, each stream in its own order: draw them by time (stable).
    hops.sort((a, b) => a.event.at - b.event.at);
    const order = new Map<string, number>();
    for (const [p, entry] of processes.entries()) {
      for (const [k, part] of (entry.snapshot?.parts ?? []).entries()) {
        order.set(`${entry.process}/${part.name}`, p * 1000 + k);
      }
    }
    const lanes = [...new Set(hops.map((h) => `${h.event.process ?? ""}/${h.event.part ?? ""}`))].sort(
      (a, b) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9) || a.localeCompare(b),
    );
    const laneX = new Map(lanes.map((lane, i) => [lane, LABEL_WIDTH + i * LANE_WIDTH + LANE_WIDTH / 2]));
    const textX = 4;
    const root = byId("lanes");
    const children: SVGElement[] = [];
    // Links go under every hop, so a hop's circle is what a click lands on.
    const links: SVGElement[] = [];
    const dots: SVGElement[] = [];
    let group = "";
    lanes.forEach((lane, i) => {
      const slash = lane.indexOf("/");
      const process = lane.slice(0, slash);
      const part = lane.slice(slash + 1);
      const x = LABEL_WIDTH + i * LANE_WIDTH + LANE_WIDTH / 2;
      if (process !== group) {
        group = process;
        children.push(
          svg(
            "text",
            { x: LABEL_WIDTH + i * LANE_WIDTH + 4, y: 14, class: "group-title", "data-lane-group": process },
            process,
          ),
        );
      }
      children.push(
        svg("text", { x, y: 32, "text-anchor": "middle", class: "lane-title", "data-lane": lane }, part),
        svg("line", {
          x1: x,
          y1: HEADER_HEIGHT - 6,
          x2: x,
          y2: HEADER_HEIGHT + hops.length * ROW_HEIGHT,
          class: "lane-line",
        }),
      );
    });
    const last = new Map<string, { x: number; y: number; process: string }>();
    hops.forEach((entry, row) => {
      const { event, mark } = entry;
      const message = event.message!;
      const lane = `${event.process ?? ""}/${event.part ?? ""}`;
      const x = laneX.get(lane) ?? 0;
      const y = HEADER_HEIGHT + row * ROW_HEIGHT + ROW_HEIGHT / 2;
      const previous = last.get(message.id);
      if (previous) {
        const cross = previous.process !== (event.process ?? "");
        links.push(
          svg("path", {
            d: `M${previous.x},${previous.y} C${previous.x},${y} ${x},${previous.y} ${x},${y}`,
            class: cross ? "hop-link cross" : "hop-link",
            "data-link-id": message.id,
          }),
        );
      }
      last.set(message.id, { x, y, process: event.process ?? "" });
      const hop = svg("g", {
        class: `hop${message.error !== undefined ? " error" : ""}${selectedHop === `${entry.index}|${message.id}|${lane}` ? " selected" : ""}`,
        "data-hop-id": message.id,
        "data-lane": lane,
        "data-direction": message.direction,
        ...(mark ? { "data-mark": mark } : {}),
      });
      const shortId = message.id.length > 10 ? `…${message.id.slice(-9)}` : message.id;
      const label = `${clock(event.at).slice(3)} ${message.direction === "in" ? "⇢" : "⇠"} ${shortId} ${message.function}${message.stage ? ` @${message.stage}` : ""} ${message.size} B ${message.error !== undefined ? `✖ ${message.error}` : message.preview}${mark ? ` [${mark}]` : ""}`;
      hop.append(
        svg("circle", { cx: x, cy: y, r: 5 }),
        svg("text", { x: textX, y: y + 4 }, label.length > 62 ? `${label.slice(0, 61)}…` : label),
      );
      hop.addEventListener("click", () => {
        selectedHop = `${entry.index}|${message.id}|${lane}`;
        setText(
          byId("hop-detail"),
          [
            `${lane} ${message.direction === "in" ? "received" : "sent"} at ${clock(event.at)}${mark ? ` (${mark})` : ""}`,
            `id ${message.id} · client ${message.client} · function ${message.function} · stage ${message.stage}`,
            `payload ${message.size} B: ${message.preview}`,
            ...(message.error !== undefined ? [`error: ${message.error}`] : []),
          ].join("\n"),
        );
        hopsDirty = true;
        schedule();
      });
      dots.push(hop);
    });
    root.setAttribute("width", String(LABEL_WIDTH + lanes.length * LANE_WIDTH + 10));
    root.setAttribute("height", String(HEADER_HEIGHT + hops.length * ROW_HEIGHT + 8));
    root.replaceChildren(...children, ...links, ...dots);
    setText(byId("hop-count"), `${hops.length} hops shown`);
  };

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
    const shown: Entry[] = [];
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

  // ---- statechart: zoom, pan, active state, last transition ----
  const chartBody = byId("chart-body");
  const svgCache = new Map<string, Promise<string | null>>();
  let chartType = "";
  let view = { x: 0, y: 0, w: 1, h: 1 };
  let full = { x: 0, y: 0, w: 1, h: 1 };
  const applyView = () =>
    chartBody.querySelector("svg")?.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  const zoom = (factor: number, cx = view.x + view.w / 2, cy = view.y + view.h / 2) => {
    view = {
      x: cx - (cx - view.x) * factor,
      y: cy - (cy - view.y) * factor,
      w: view.w * factor,
      h: view.h * factor,
    };
    applyView();
  };
  byId("zoom-in").addEventListener("click", () => zoom(1 / 1.25));
  byId("zoom-out").addEventListener("click", () => zoom(1.25));
  byId("zoom-fit").addEventListener("click", () => {
    view = { ...full };
    applyView();
  });
  chartBody.addEventListener(
    "wheel",
    (wheel) => {
      wheel.preventDefault();
      const box = chartBody.getBoundingClientRect();
      const cx = view.x + ((wheel.clientX - box.left) / box.width) * view.w;
      const cy = view.y + ((wheel.clientY - box.top) / box.height) * view.h;
      zoom(wheel.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
    },
    { passive: false },
  );
  let drag: { x: number; y: number; view: typeof view } | undefined;
  chartBody.addEventListener("pointerdown", (down) => {
    drag = { x: down.clientX, y: down.clientY, view: { ...view } };
    chartBody.setPointerCapture(down.pointerId);
  });
  chartBody.addEventListener("pointermove", (move) => {
    if (!drag) return;
    const box = chartBody.getBoundingClientRect();
    view = {
      ...drag.view,
      x: drag.view.x - ((move.clientX - drag.x) / box.width) * drag.view.w,
      y: drag.view.y - ((move.clientY - drag.y) / box.height) * drag.view.h,
    };
    applyView();
  });
  chartBody.addEventListener("pointerup", () => {
    drag = undefined;
  });
  const loadSvg = (partType: string): Promise<string | null> => {
    let pending = svgCache.get(partType);
    if (!pending) {
      pending = fetch(`statechart/${encodeURIComponent(partType)}.svg`).then((r) => (r.ok ? r.text() : null));
      svgCache.set(partType, pending);
    }
    return pending;
  };
  const findPart = (process: string, name: string): InspectorPart | undefined =>
    processes.find((p) => p.process === process)?.snapshot?.parts.find((part) => part.name === name);
  const select = (process: string, part: string): void => {
    selected = { process, part };
    for (const [key, row] of rows) row.setAttribute("data-selected", String(key === rowKey(process, part)));
    chartDirty = true;
    schedule();
  };
  const highlight = (): void => {
    if (!selected) return;
    const part = findPart(selected.process, selected.part);
    const chart = chartBody.querySelector("svg");
    if (!part || !chart) return;
    let transition: InspectorEvent | undefined;
    for (let i = ring.length - 1; i >= 0; i--) {
      const { event } = ring[i]!;
      if (event.type === "part.state" && event.process === selected.process && event.part === selected.part) {
        transition = event;
        break;
      }
    }
    const active = activePaths(part.state);
    const before = transition?.from ? activePaths(transition.from) : new Set<string>();
    const beforeIds = new Set<string>();
    for (const node of chart.querySelectorAll("[data-state]")) {
      const path = node.getAttribute("data-state") ?? "";
      node.classList.toggle("active", active.has(path));
      const was = before.has(path) && !active.has(path);
      node.classList.toggle("previous", was);
      if (before.has(path)) beforeIds.add(node.getAttribute("data-id") ?? "");
    }
    for (const edge of chart.querySelectorAll("path.palm-edge")) {
      edge.classList.toggle(
        "last",
        transition?.cause !== undefined &&
          edge.getAttribute("data-event") === transition.cause &&
          beforeIds.has(edge.getAttribute("data-source") ?? ""),
      );
    }
    setText(
      byId("chart-transition"),
      transition
        ? `${clock(transition.at)} ${transition.from ? `${transition.from} ` : ""}→ ${transition.detail ?? part.state} on ${transition.cause ?? "?"}`
        : `now ${part.state}`,
    );
  };
  const renderChart = (): void => {
    if (!selected) {
      const first = processes.find((p) => (p.snapshot?.parts.length ?? 0) > 0);
      const part = first?.snapshot?.parts[0];
      if (!first || !part) return;
      select(first.process, part.name);
    }
    const current = selected!;
    const part = findPart(current.process, current.part);
    if (!part) return;
    setText(byId("chart-title"), `${current.process} / ${current.part} (${part.partType})`);
    if (chartType !== part.partType) {
      chartType = part.partType;
      chartBody.replaceChildren();
      void loadSvg(part.partType).then((text) => {
        if (chartType !== part.partType) return;
        if (text === null) {
          chartBody.replaceChildren(make("p", { class: "muted" }, `no statechart for ${part.partType}`));
          return;
        }
        chartBody.innerHTML = text.replace(/^<\?xml[^>]*>\s*/, "");
        const box = chartBody.querySelector("svg")?.getAttribute("viewBox")?.split(" ").map(Number) ?? [
          0, 0, 1, 1,
        ];
        full = { x: box[0] ?? 0, y: box[1] ?? 0, w: box[2] ?? 1, h: box[3] ?? 1 };
        view = { ...full };
        applyView();
        highlight();
      });
      return;
    }
    highlight();
  };

  // ---- rendering, at most once a frame ----
  let scheduled = false;
  const render = (): void => {
    scheduled = false;
    const started = performance.now();
    const timed = (name: string, run: () => void) => {
      const from = performance.now();
      run();
      const took = performance.now() - from;
      sectionMs[name] = Math.max(sectionMs[name] ?? 0, took);
    };
    timed("processes", renderProcesses);
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
  const status = byId("connection");

  if (mode === "live") {
    const events = new EventSource("events");
    events.addEventListener("open", () => {
      status.textContent = "live";
      status.setAttribute("data-connection", "live");
    });
    events.addEventListener("error", () => {
      status.textContent = "reconnecting…";
      status.setAttribute("data-connection", "down");
    });
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
    return;
  }

  // ---- replay: the page at the scrubber's position, rebuilt from the trace ----
  status.textContent = "replay";
  status.setAttribute("data-connection", "replay");
  const scrubber = byId("scrubber") as HTMLInputElement;
  let records: TraceRecord[] = [];
  let order: ClusterProcess[] = [];
  let cursor = -1;
  let applied = -1;
  let snapshots = new Map<string, InspectorLiveSnapshot>();
  const apply = (index: number): void => {
    const record = records[index];
    if (!record || record.type === "header" || record.type === "statecharts") return;
    if (record.type === "snapshot") snapshots.set(record.process, record.snapshot);
    else ingest({ ...record.event, process: record.process }, index);
  };
  const seek = (target: number): void => {
    cursor = Math.max(0, Math.min(records.length - 1, target));
    if (cursor < applied) {
      ring = [];
      seen = new Map();
      snapshots = new Map();
      applied = -1;
    }
    for (let i = applied + 1; i <= cursor; i++) apply(i);
    applied = cursor;
    processes = order.map((entry) => {
      const snapshot = snapshots.get(entry.process);
      return {
        process: entry.process,
        url: entry.url,
        connected: snapshot !== undefined,
        ...(snapshot ? { snapshot } : {}),
      };
    });
    scrubber.value = String(cursor);
    const record = records[cursor];
    const first = records[0]?.at ?? 0;
    setText(
      byId("replay-time"),
      record
        ? `${cursor + 1}/${records.length} · ${clock(record.at)} (+${((record.at - first) / 1000).toFixed(3)} s)`
        : "empty trace",
    );
    byId("replay-time").setAttribute("data-position", String(cursor));
    hopsDirty = logDirty = chartDirty = true;
    schedule();
  };
  let playing: ReturnType<typeof setInterval> | undefined;
  const pause = () => {
    if (playing) clearInterval(playing);
    playing = undefined;
    setText(byId("play"), "▶ play");
  };
  byId("play").addEventListener("click", () => {
    if (playing) return pause();
    let playhead = records[cursor]?.at ?? 0;
    setText(byId("play"), "❚❚ pause");
    playing = setInterval(() => {
      playhead += 100;
      let next = cursor;
      while (next + 1 < records.length && records[next + 1]!.at <= playhead) next++;
      if (next !== cursor) seek(next);
      if (cursor >= records.length - 1) pause();
    }, 100);
  });
  byId("step").addEventListener("click", () => {
    pause();
    seek(cursor + 1);
  });
  byId("step-back").addEventListener("click", () => {
    pause();
    seek(cursor - 1);
  });
  byId("jump-failure").addEventListener("click", () => {
    pause();
    const failing = (i: number) => {
      const record = records[i];
      return record?.type === "event" && isFailure(record.event);
    };
    let found = -1;
    for (let i = cursor + 1; i < records.length && found === -1; i++) if (failing(i)) found = i;
    for (let i = 0; i <= cursor && found === -1; i++) if (failing(i)) found = i;
    if (found !== -1) seek(found);
  });
  scrubber.addEventListener("input", () => {
    pause();
    seek(Number(scrubber.value));
  });
  void Promise.all([
    fetch("trace.json").then((r) => r.json() as Promise<TraceRecord[]>),
    fetch("snapshot.json").then((r) => r.json() as Promise<ClusterSnapshot>),
  ]).then(([trace, cluster]) => {
    records = trace;
    order = [...cluster.processes];
    scrubber.max = String(Math.max(0, records.length - 1));
    seek(0);
  });
}
