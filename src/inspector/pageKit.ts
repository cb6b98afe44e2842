import type { InspectorPart } from "./types.js";

/**
 * The helpers both inspector pages' scripts use. Like the scripts, it runs in the browser: it is sent as
 * source text (see {@link pageScript}) and must not touch anything outside its own body.
 *
 * @internal
 */
export function pageKit() {
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
  /** Writes `text` unless it is there already; true when it changed. */
  const setText = (element: Element | null | undefined, text: string): boolean => {
    if (!element || element.textContent === text) return false;
    element.textContent = text;
    return true;
  };
  /** Local wall-clock time as `HH:MM:SS.mmm`. */
  const clock = (at: number): string => {
    const date = new Date(at);
    return `${date.toTimeString().slice(0, 8)}.${String(date.getMilliseconds()).padStart(3, "0")}`;
  };
  /** Every active node of a dotted state: `a.b,c` → `a`, `a.b`, `c`. */
  const activePaths = (state: string): Set<string> => {
    const paths = new Set<string>();
    for (const leaf of state.split(",")) {
      const segments = leaf.split(".");
      for (let end = 1; end <= segments.length; end++) paths.add(segments.slice(0, end).join("."));
    }
    return paths;
  };
  const statusOf = (part: InspectorPart): string => part.state.split(/[.,]/)[0] ?? "";
  const svgCache = new Map<string, Promise<string | null>>();
  /** A part type's statechart SVG, fetched once. */
  const loadSvg = (partType: string): Promise<string | null> => {
    let pending = svgCache.get(partType);
    if (!pending) {
      pending = fetch(`statechart/${encodeURIComponent(partType)}.svg`).then((r) => (r.ok ? r.text() : null));
      svgCache.set(partType, pending);
    }
    return pending;
  };
  /** Follows `/events`, showing the connection's state in `#connection`. */
  const follow = (): EventSource => {
    const status = byId("connection");
    const events = new EventSource("events");
    events.addEventListener("open", () => {
      status.textContent = "live";
      status.setAttribute("data-connection", "live");
    });
    events.addEventListener("error", () => {
      status.textContent = "reconnecting…";
      status.setAttribute("data-connection", "down");
    });
    return events;
  };
  return { byId, make, svg, setText, clock, activePaths, statusOf, loadSvg, follow };
}

/** What {@link pageKit} gives a page's script. @internal */
export type PageKit = ReturnType<typeof pageKit>;

/**
 * A page's script as text: `main` called with the kit and the other pieces (each sent as its source), so
 * a script can be written as several functions in several files.
 *
 * @internal
 */
export function pageScript(main: (...args: never[]) => void, pieces: Record<string, unknown> = {}): string {
  const text = (fn: unknown) => String(fn).replace(/<\/script/gi, "<\\/script");
  const args = Object.entries(pieces)
    .map(([name, fn]) => `${JSON.stringify(name)}: ${text(fn)}`)
    .join(",\n");
  // Under tsx, esbuild's keepNames wraps named functions in `__name(fn, "fn")`; defining it
  // makes the serialised script run whether it was compiled by tsc or by esbuild.
  return `"use strict";\nconst __name = (target) => target;\n(${text(main)})((${text(pageKit)})(), {\n${args}\n});`;
}
