import type { StateGraph } from "./StateGraph.js";

/** Renders a graph as pretty-printed JSON (the {@link StateGraph} shape, two-space indent). */
export function toJson(graph: StateGraph): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}
