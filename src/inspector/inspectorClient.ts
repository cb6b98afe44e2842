import type { PageKit } from "./pageKit.js";
import type { InspectorEvent, InspectorLiveSnapshot } from "./types.js";

/**
 * The inspector page's script. It runs in the browser, not in Node: the server sends its source
 * text (see `pageScript`), so it must not touch anything outside its own body and the kit it is given;
 * the type-only imports above vanish at compile time. It follows `/events` (server-sent events),
 * patching the page in place and writing every value with `textContent`, never as HTML.
 *
 * @internal
 */
export function inspectorClient(kit: PageKit): void {
  const MAX_LOG_ENTRIES = 300;
  const COUNTERS = ["messagesIn", "messagesOut", "restarts", "errors"] as const;
  const { byId, make, clock, activePaths, statusOf, loadSvg } = kit;
  const setText = (element: Element | null, text: string): void => {
    if (!kit.setText(element, text) || !element) return;
    element.classList.remove("bump");
    void (element as HTMLElement).offsetWidth; // restarts the highlight animation
    element.classList.add("bump");
    element.addEventListener("animationend", () => element.classList.remove("bump"), { once: true });
  };
  const highlight = (chart: Element, state: string): void => {
    const active = activePaths(state);
    for (const node of chart.querySelectorAll("[data-state]")) {
      const path = node.getAttribute("data-state") ?? "";
      node.classList.toggle("active", path !== "" && active.has(path));
    }
  };

  let layoutKey = "";
  const rebuild = (snapshot: InspectorLiveSnapshot): void => {
    const tree = byId("tree-parts");
    const rows = byId("parts-body");
    const charts = byId("charts");
    tree.replaceChildren();
    rows.replaceChildren();
    charts.replaceChildren();
    for (const part of snapshot.parts) {
      const item = make("li", { "data-tree-part": part.name });
      item.append(
        make("span", { class: "node-name" }, part.name),
        make("span", { class: "muted" }, ` ${part.kind} ${part.partType} `),
        make("span", { class: "state", "data-field": "state" }, part.state),
      );
      tree.append(item);

      const row = make("tr", { "data-part": part.name });
      row.append(
        make("td", { "data-field": "name" }, part.name),
        make("td", { "data-field": "kind" }, part.kind),
        make("td", { "data-field": "partType" }, part.partType),
        make("td", { "data-field": "state" }, part.state),
        ...COUNTERS.map((field) => make("td", { "data-field": field, class: "num" }, String(part[field]))),
        make("td", { "data-field": "lastError", class: "error-text" }, part.lastError ?? ""),
      );
      rows.append(row);

      const chart = make("section", { class: "chart card", "data-part-chart": part.name });
      const title = make("h3");
      title.append(
        make("span", {}, part.name),
        make("span", { class: "muted" }, ` ${part.partType} `),
        make("span", { class: "state", "data-field": "state" }, part.state),
      );
      const body = make("div", { class: "chart-body" });
      chart.append(title, body);
      charts.append(chart);
      void loadSvg(part.partType).then((svg) => {
        if (svg === null) {
          body.append(make("p", { class: "muted" }, `no statechart for ${part.partType}`));
          return;
        }
        body.innerHTML = svg.replace(/^<\?xml[^>]*>\s*/, "");
        highlight(body, chart.getAttribute("data-current-state") ?? part.state);
      });
    }
    const routes = byId("routes-body");
    routes.replaceChildren();
    for (const route of snapshot.routes) {
      const row = make("tr", { "data-route": `${route.from}->${route.to}` });
      row.append(
        make("td", {}, route.from),
        make("td", {}, route.to),
        make("td", {}, route.block ? "block" : ""),
        make("td", {}, route.reroute ?? ""),
      );
      routes.append(row);
    }
  };

  const render = (snapshot: InspectorLiveSnapshot): void => {
    byId("server-name").textContent = snapshot.server;
    byId("tree-server").textContent = snapshot.server;
    document.title = `${snapshot.server} · palm inspector`;
    const key = JSON.stringify([snapshot.parts.map((part) => [part.name, part.partType]), snapshot.routes]);
    if (key !== layoutKey) {
      layoutKey = key;
      rebuild(snapshot);
    }
    for (const part of snapshot.parts) {
      const selector = `[data-part="${CSS.escape(part.name)}"]`;
      const row = document.querySelector(`tr${selector}`);
      const treeItem = document.querySelector(`[data-tree-part="${CSS.escape(part.name)}"]`);
      const chart = document.querySelector(`[data-part-chart="${CSS.escape(part.name)}"]`);
      for (const element of [row, treeItem, chart]) element?.setAttribute("data-status", statusOf(part));
      setText(row?.querySelector('[data-field="state"]') ?? null, part.state);
      for (const field of COUNTERS)
        setText(row?.querySelector(`[data-field="${field}"]`) ?? null, String(part[field]));
      setText(row?.querySelector('[data-field="lastError"]') ?? null, part.lastError ?? "");
      setText(treeItem?.querySelector('[data-field="state"]') ?? null, part.state);
      if (chart && chart.getAttribute("data-current-state") !== part.state) {
        chart.setAttribute("data-current-state", part.state);
        setText(chart.querySelector('h3 [data-field="state"]'), part.state);
        highlight(chart, part.state);
      }
    }
    byId("updated").textContent = `last change ${clock(Date.now()).slice(0, 8)}`;
  };

  const log = byId("log");
  const appendLog = (type: string, part: string, detail: string, at: number): void => {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const time = clock(at);
    const entry = make("li", { "data-event-type": type });
    entry.append(
      make("time", {}, time),
      make("span", { class: "event-type" }, type),
      make("span", { class: "node-name" }, part),
      make("span", { class: "muted" }, detail),
    );
    log.append(entry);
    while (log.childElementCount > MAX_LOG_ENTRIES) log.firstElementChild?.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  };

  const events = kit.follow();
  events.addEventListener("snapshot", (message) =>
    render(JSON.parse((message as MessageEvent<string>).data)),
  );
  events.addEventListener("gap", (message) => {
    const { missed } = JSON.parse((message as MessageEvent<string>).data) as { missed: number };
    appendLog("gap", "", `${missed} events not shown (page too slow)`, Date.now());
  });
  events.addEventListener("message", (message) => {
    const event = JSON.parse(message.data as string) as InspectorEvent;
    // Message hops are drawn as lanes by the cluster page (`palm inspect URL`), not listed here.
    if (event.type === "message.hop") return;
    appendLog(event.type, event.part ?? "", event.detail ?? "", event.at);
  });
}
