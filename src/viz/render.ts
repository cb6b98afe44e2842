import { invalidOption } from "../errors.js";
import type { StateGraph } from "./StateGraph.js";
import { toDot } from "./toDot.js";
import { toJson } from "./toJson.js";
import { toMermaid } from "./toMermaid.js";
import { toSvg } from "./toSvg.js";

/** The formats `palm viz` draws in. */
export type VizFormat = "mermaid" | "dot" | "json" | "svg";

export const VIZ_FORMATS: readonly VizFormat[] = ["mermaid", "dot", "json", "svg"];

/** Checks a `--format` value. */
export function checkFormat(value: unknown): VizFormat {
  if (typeof value === "string" && (VIZ_FORMATS as readonly string[]).includes(value))
    return value as VizFormat;
  throw invalidOption("--format", VIZ_FORMATS.map((f) => `"${f}"`).join(", "), value);
}

/** Renders one graph in one format. */
export function renderGraph(graph: StateGraph, format: VizFormat): Promise<string> | string {
  switch (format) {
    case "mermaid":
      return toMermaid(graph);
    case "dot":
      return toDot(graph);
    case "json":
      return toJson(graph);
    case "svg":
      return toSvg(graph);
  }
}
