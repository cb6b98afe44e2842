import type { PageKit } from "./pageKit.js";
import type { ClusterProcess, InspectorEvent } from "./types.js";

/** One event the cluster page keeps. @internal */
export interface PageEntry {
  readonly event: InspectorEvent;
  /** `redelivered` (an outbound part handed the same message again) or `duplicate` (received again). */
  readonly mark: string | undefined;
  /** Position in the trace, when replaying (-1 live). */
  readonly index: number;
}

/** What {@link drawLanes} draws. @internal */
export interface LaneInput {
  /** The page's events, oldest first. */
  readonly ring: readonly PageEntry[];
  readonly processes: readonly ClusterProcess[];
  /** Substrings a hop's client, function and id must contain (empty: any). */
  readonly filter: { readonly client: string; readonly fn: string; readonly id: string };
  /** The key of the hop clicked last, drawn selected. */
  readonly selectedHop: string | undefined;
  /** A hop was clicked (its detail is shown already). */
  readonly onSelect: (key: string) => void;
}

/**
 * The cluster page's sequence lanes: the newest hops that pass the filter, one lane per part that a
 * message passed, grouped by process, the hops of one message linked (across processes in violet). Runs
 * in the browser, sent as source text with the page's script (see `pageScript`).
 *
 * @internal
 */
export function drawLanes(kit: PageKit, input: LaneInput): void {
  const HOPS_SHOWN = 150;
  const LANE_WIDTH = 74;
  /** Width of the hop labels, left of the lanes. */
  const LABEL_WIDTH = 330;
  const ROW_HEIGHT = 20;
  const HEADER_HEIGHT = 44;
  const { byId, svg, setText, clock } = kit;
  const { ring, processes, filter } = input;
  const hops: PageEntry[] = [];
  for (let i = ring.length - 1; i >= 0 && hops.length < HOPS_SHOWN; i--) {
    const entry = ring[i]!;
    const message = entry.event.message;
    if (entry.event.type !== "message.hop" || !message) continue;
    if (filter.client && !message.client.includes(filter.client)) continue;
    if (filter.fn && !message.function.includes(filter.fn)) continue;
    if (filter.id && !message.id.includes(filter.id)) continue;
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
  const children: SVGElement[] = [];
  // Links go under every hop, so a hop's circle is what a click lands on.
  const links: SVGElement[] = [];
  const dots: SVGElement[] = [];
  let group = "";
  lanes.forEach((lane, i) => {
    const slash = lane.indexOf("/");
    const process = lane.slice(0, slash);
    const x = LABEL_WIDTH + i * LANE_WIDTH + LANE_WIDTH / 2;
    if (process !== group) {
      group = process;
      const title = {
        x: LABEL_WIDTH + i * LANE_WIDTH + 4,
        y: 14,
        class: "group-title",
        "data-lane-group": process,
      };
      children.push(svg("text", title, process));
    }
    children.push(
      svg(
        "text",
        { x, y: 32, "text-anchor": "middle", class: "lane-title", "data-lane": lane },
        lane.slice(slash + 1),
      ),
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
    const key = `${entry.index}|${message.id}|${lane}`;
    const hop = svg("g", {
      class: `hop${message.error !== undefined ? " error" : ""}${input.selectedHop === key ? " selected" : ""}`,
      "data-hop-id": message.id,
      "data-lane": lane,
      "data-direction": message.direction,
      ...(mark ? { "data-mark": mark } : {}),
    });
    const shortId = message.id.length > 10 ? `…${message.id.slice(-9)}` : message.id;
    const label = `${clock(event.at).slice(3)} ${message.direction === "in" ? "⇢" : "⇠"} ${shortId} ${message.function}${message.stage ? ` @${message.stage}` : ""} ${message.size} B ${message.error !== undefined ? `✖ ${message.error}` : message.preview}${mark ? ` [${mark}]` : ""}`;
    hop.append(
      svg("circle", { cx: x, cy: y, r: 5 }),
      svg("text", { x: 4, y: y + 4 }, label.length > 62 ? `${label.slice(0, 61)}…` : label),
    );
    hop.addEventListener("click", () => {
      setText(
        byId("hop-detail"),
        [
          `${lane} ${message.direction === "in" ? "received" : "sent"} at ${clock(event.at)}${mark ? ` (${mark})` : ""}`,
          `id ${message.id} · client ${message.client} · function ${message.function} · stage ${message.stage}`,
          `payload ${message.size} B: ${message.preview}`,
          ...(message.error !== undefined ? [`error: ${message.error}`] : []),
        ].join("\n"),
      );
      input.onSelect(key);
    });
    dots.push(hop);
  });
  const root = byId("lanes");
  root.setAttribute("width", String(LABEL_WIDTH + lanes.length * LANE_WIDTH + 10));
  root.setAttribute("height", String(HEADER_HEIGHT + hops.length * ROW_HEIGHT + 8));
  root.replaceChildren(...children, ...links, ...dots);
  setText(byId("hop-count"), `${hops.length} hops shown`);
}
