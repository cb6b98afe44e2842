import type { PageKit } from "./pageKit.js";
import type { ClusterProcess } from "./types.js";

/**
 * The cluster page's processes column: one card per process with its supervisor (strategy, restart
 * intensity used and left, backoff) and one row per part (state, counters since which restart, last
 * failure) and per other actor. Runs in the browser, sent as source text with the page's script (see
 * `pageScript`).
 *
 * @internal
 */
export function processTables(kit: PageKit, onSelect: (process: string, part: string) => void) {
  const COUNTERS = ["messagesIn", "messagesOut", "restarts", "errors"] as const;
  const { byId, make, setText, statusOf } = kit;
  const cells = new Map<string, Element>();
  const rows = new Map<string, HTMLElement>();
  const sections = new Map<string, HTMLElement>();
  let layoutKey = "";
  const rowKey = (process: string, part: string) => `${process}\u0000${part}`;

  const rebuild = (processes: readonly ClusterProcess[]): void => {
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
          const numeric = (COUNTERS as readonly string[]).includes(field);
          const cell = make("td", { "data-field": field, ...(numeric ? { class: "num" } : {}) });
          row.append(cell);
          cells.set(`${rowKey(entry.process, part.name)}\u0000${field}`, cell);
        }
        row.addEventListener("click", () => onSelect(entry.process, part.name));
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

  const renderSupervision = (entry: ClusterProcess): void => {
    const supervision = entry.snapshot?.supervision;
    const cell = (field: string) => cells.get(`${entry.process}\u0000~\u0000${field}`);
    if (!supervision) {
      if (!entry.snapshot) setText(cell("strategy"), entry.connected ? "" : "not reachable");
      return;
    }
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
  };

  const render = (processes: readonly ClusterProcess[]): void => {
    const key = JSON.stringify(
      processes.map((p) => [
        p.process,
        (p.snapshot?.parts ?? []).map((part) => part.name),
        (p.snapshot?.actors ?? []).map((a) => a.name),
      ]),
    );
    if (key !== layoutKey) {
      layoutKey = key;
      rebuild(processes);
    }
    let parts = 0;
    for (const entry of processes) {
      const section = sections.get(entry.process);
      if (section && section.getAttribute("data-connected") !== String(entry.connected))
        section.setAttribute("data-connected", String(entry.connected));
      renderSupervision(entry);
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
        const facts = Object.entries(actor.facts).map(([name, value]) => `${name} ${value}`);
        setText(row.children[2], facts.join(" · "));
      }
    }
    setText(byId("summary"), `${processes.length} processes · ${parts} parts`);
  };

  return {
    render,
    /** Marks the row of the part whose statechart is drawn. */
    markSelected: (process: string, part: string) => {
      for (const [key, row] of rows) row.setAttribute("data-selected", String(key === rowKey(process, part)));
    },
  };
}
