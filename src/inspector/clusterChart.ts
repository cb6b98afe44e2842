import type { PageKit } from "./pageKit.js";
import type { InspectorEvent, InspectorPart } from "./types.js";

/** What {@link statechartView} reads from the page. @internal */
export interface ChartAccess {
  /** A process's part, as its latest snapshot has it. */
  readonly findPart: (process: string, part: string) => InspectorPart | undefined;
  /** The latest `part.state` event of a part. */
  readonly lastTransition: (process: string, part: string) => InspectorEvent | undefined;
}

/**
 * The cluster page's statechart of the selected part: zoom (wheel, buttons) and pan (drag), the active
 * state outlined, the state it left and the transition taken highlighted, and the line saying when and on
 * which event. Runs in the browser, sent as source text with the page's script (see `pageScript`).
 *
 * @internal
 */
export function statechartView(kit: PageKit, access: ChartAccess) {
  const { byId, make, setText, clock, activePaths, loadSvg } = kit;
  const chartBody = byId("chart-body");
  let selected: { process: string; part: string } | undefined;
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

  const highlight = (): void => {
    if (!selected) return;
    const part = access.findPart(selected.process, selected.part);
    const chart = chartBody.querySelector("svg");
    if (!part || !chart) return;
    const transition = access.lastTransition(selected.process, selected.part);
    const active = activePaths(part.state);
    const before = transition?.from ? activePaths(transition.from) : new Set<string>();
    const beforeIds = new Set<string>();
    for (const node of chart.querySelectorAll("[data-state]")) {
      const path = node.getAttribute("data-state") ?? "";
      node.classList.toggle("active", active.has(path));
      node.classList.toggle("previous", before.has(path) && !active.has(path));
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

  const render = (): void => {
    if (!selected) return;
    const current = selected;
    const part = access.findPart(current.process, current.part);
    if (!part) return;
    setText(byId("chart-title"), `${current.process} / ${current.part} (${part.partType})`);
    if (chartType === part.partType) {
      highlight();
      return;
    }
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
  };

  return {
    /** The part drawn, if one is. */
    selected: () => selected,
    /** Draws this part's statechart from the next render on. */
    select: (process: string, part: string) => {
      selected = { process, part };
    },
    render,
  };
}
